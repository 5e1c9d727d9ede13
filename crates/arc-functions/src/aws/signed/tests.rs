use super::*;
use crate::aws::env::table as vars;

#[test]
fn credentials_are_both_keys_and_the_token_when_there_is_one() {
    let lambda = Credentials::read(vars(&[
        ("AWS_ACCESS_KEY_ID", "ASIA1"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "token"),
    ]))
    .expect("credentials");
    assert_eq!(
        lambda,
        Credentials {
            access_key_id: "ASIA1".into(),
            secret_access_key: "secret".into(),
            session_token: Some("token".into()),
            key: sigv4::KeyCache::default(),
        }
    );
    let shown = format!("{lambda:?}");
    assert!(shown.contains("ASIA1"), "{shown}");
    assert!(
        !shown.contains("secret") && !shown.contains("token"),
        "the keys that sign stay out of logs: {shown}"
    );

    let long_term = Credentials::read(vars(&[
        ("AWS_ACCESS_KEY_ID", "AKIA1"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", ""),
    ]))
    .expect("no token needed");
    assert_eq!(long_term.session_token, None);

    for half in [
        &[("AWS_ACCESS_KEY_ID", "k")][..],
        &[("AWS_SECRET_ACCESS_KEY", "s")],
        &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "s")],
        &[],
    ] {
        let pairs: &'static [(&str, &str)] = half.to_vec().leak();
        let error = Credentials::read(vars(pairs)).expect_err("half a pair");
        assert!(
            error.contains("AWS_ACCESS_KEY_ID") && error.contains("export"),
            "{error}"
        );
    }
}

#[test]
fn errors_are_read_as_the_aws_json_protocols_write_them() {
    let missing = br#"{"__type":"ResourceNotFoundException","Message":"can't find the secret."}"#;
    assert_eq!(
        fault(StatusCode::BAD_REQUEST, None, missing),
        Fault::Refused {
            status: StatusCode::BAD_REQUEST,
            kind: "ResourceNotFoundException".into(),
            message: "can't find the secret.".into()
        }
    );
    let namespaced = br#"{"__type":"com.amazonaws.secretsmanager#AccessDeniedException:details","message":"no"}"#;
    assert_eq!(
        fault(StatusCode::BAD_REQUEST, None, namespaced).to_string(),
        "AccessDeniedException: no"
    );
    assert_eq!(
        fault(
            StatusCode::GONE,
            Some("GoneException:http://internal"),
            br#"{"__type":"Other","message":null}"#
        ),
        Fault::Refused {
            status: StatusCode::GONE,
            kind: "GoneException".into(),
            message: String::new()
        },
        "the header's type comes first"
    );
    assert_eq!(
        fault(StatusCode::FORBIDDEN, None, b"<html>").to_string(),
        "HTTP 403",
        "an answer that is not JSON"
    );
}

#[test]
fn aws_failing_or_throttling_is_unavailable_and_retried() {
    for (status, kind) in [
        (StatusCode::BAD_REQUEST, "ThrottlingException"),
        (StatusCode::BAD_REQUEST, "Throttling"),
        (StatusCode::BAD_REQUEST, "TooManyRequestsException"),
        (StatusCode::BAD_REQUEST, "RequestLimitExceeded"),
        (StatusCode::TOO_MANY_REQUESTS, "LimitExceededException"),
        (StatusCode::TOO_MANY_REQUESTS, "SomethingElse"),
        (StatusCode::INTERNAL_SERVER_ERROR, "InternalServiceError"),
        (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable"),
    ] {
        let body = format!(r#"{{"__type":"{kind}","message":"later"}}"#);
        assert_eq!(
            fault(status, None, body.as_bytes()),
            Fault::Unavailable(format!("{kind}: later")),
            "{status} {kind}"
        );
    }
    assert_eq!(
        fault(StatusCode::BAD_GATEWAY, None, b""),
        Fault::Unavailable("HTTP 502".into())
    );
    assert!(matches!(
        fault(
            StatusCode::PAYLOAD_TOO_LARGE,
            Some("PayloadTooLargeException"),
            b""
        ),
        Fault::Refused { .. }
    ));
}

#[test]
fn waits_double_from_the_first_up_to_the_longest() {
    let retry = Retry {
        attempts: 10,
        first_wait: Duration::from_millis(25),
        max_wait: Duration::from_millis(150),
        jitter: false,
        attempt_limit: Duration::from_secs(1),
    };
    let waits: Vec<_> = (1..7).map(|attempt| retry.wait(attempt, || 0)).collect();
    assert_eq!(
        waits,
        [25, 50, 100, 150, 150, 150].map(Duration::from_millis),
        "after the first to the sixth attempt, no jitter whatever is drawn"
    );
    assert_eq!(
        retry.wait_after(u32::MAX),
        Duration::from_millis(150),
        "no overflow"
    );
}

#[test]
fn a_jittered_wait_is_the_drawn_part_of_the_doubled_one() {
    let retry = Retry {
        attempts: 10,
        first_wait: Duration::from_millis(40),
        max_wait: Duration::from_secs(1),
        jitter: true,
        attempt_limit: Duration::from_secs(1),
    };
    assert_eq!(retry.wait(3, || u32::MAX), Duration::from_millis(160));
    assert_eq!(retry.wait(3, || 0), Duration::ZERO);
    let half = retry.wait(3, || u32::MAX / 2);
    assert!(
        half.abs_diff(Duration::from_millis(80)) < Duration::from_micros(1),
        "{half:?}"
    );
}

#[test]
fn credentials_are_equal_when_their_keys_and_token_are_whatever_their_signing_key() {
    let read = |id: &'static str, secret: &'static str, token: &'static str| {
        Credentials::read(vars(
            [
                ("AWS_ACCESS_KEY_ID", id),
                ("AWS_SECRET_ACCESS_KEY", secret),
                ("AWS_SESSION_TOKEN", token),
            ]
            .to_vec()
            .leak(),
        ))
        .expect("credentials")
    };
    let one = read("ASIA1", "secret", "token");
    let same = read("ASIA1", "secret", "token");
    same.key
        .derive("secret", SystemTime::now(), "us-east-1", "dynamodb");
    assert_eq!(one, same, "a derived signing key is no difference");
    for other in [
        read("ASIA2", "secret", "token"),
        read("ASIA1", "other", "token"),
        read("ASIA1", "secret", "other"),
        read("ASIA1", "secret", ""),
    ] {
        assert_ne!(one, other);
    }
}
