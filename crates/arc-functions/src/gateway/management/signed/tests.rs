use super::*;

#[test]
fn the_region_comes_from_an_execute_api_address() {
    assert_eq!(
        execute_api_region("https://abc.execute-api.eu-west-2.amazonaws.com/prod"),
        Some("eu-west-2")
    );
    assert_eq!(
        execute_api_region("https://abc.execute-api.cn-north-1.amazonaws.com.cn/prod"),
        Some("cn-north-1")
    );
    assert_eq!(execute_api_region("https://ws.example.com/prod"), None);
    assert_eq!(execute_api_region("http://127.0.0.1:9001"), None);
    assert_eq!(
        execute_api_region("https://abc.execute-api.eu-west-2.example.com/prod"),
        None
    );
}

#[test]
fn calls_are_signed_for_the_apis_region_else_the_environments() {
    let env = crate::aws::env::table;
    let deployed = "https://abc.execute-api.eu-west-2.amazonaws.com/prod";
    assert_eq!(
        region(deployed, env(&[("AWS_REGION", "us-west-1")])),
        "eu-west-2"
    );
    let local = "http://127.0.0.1:9001";
    assert_eq!(
        region(
            local,
            env(&[
                ("AWS_REGION", "us-west-1"),
                ("AWS_DEFAULT_REGION", "ap-east-1")
            ])
        ),
        "us-west-1"
    );
    assert_eq!(
        region(
            local,
            env(&[("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "ap-east-1")])
        ),
        "ap-east-1",
        "an empty variable is unset"
    );
    assert_eq!(region(local, env(&[])), "us-east-1");
}

#[test]
fn a_connection_id_is_one_encoded_segment_under_the_stage() {
    assert_eq!(
        connection_url(
            "https://abc.execute-api.eu-west-2.amazonaws.com/prod",
            "L0SM9cOFvHcCIhw="
        ),
        "https://abc.execute-api.eu-west-2.amazonaws.com/prod/@connections/L0SM9cOFvHcCIhw%3D"
    );
    assert_eq!(
        connection_url("http://127.0.0.1:9001/", "a/b+c d~e-f_g.h"),
        "http://127.0.0.1:9001/@connections/a%2Fb%2Bc%20d~e-f_g.h"
    );
}

#[test]
fn get_connection_is_read_with_its_rfc_3339_times() {
    let body =
        br#"{"connectedAt":"2026-12-05T12:00:00.000Z","lastActiveAt":"2026-12-05T12:00:01.5Z",
        "identity":{"sourceIp":"203.0.113.7","userAgent":"Mozilla/5.0"}}"#;
    let at = |secs: u64, millis: u64| {
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(millis))
    };
    assert_eq!(
        info(body).expect("read"),
        Info {
            connected_at: at(1_796_472_000, 0),
            last_active_at: at(1_796_472_001, 500),
            source_ip: Some("203.0.113.7".into()),
            user_agent: Some("Mozilla/5.0".into()),
        }
    );
    assert_eq!(
        info(br#"{"connectedAt":"yesterday"}"#).expect("read"),
        Info {
            connected_at: None,
            last_active_at: None,
            source_ip: None,
            user_agent: None,
        },
        "a time that is none is left out, as the SDK leaves it"
    );
    assert!(info(b"<html>").is_err());
}

#[test]
fn a_410_or_a_gone_exception_is_a_closed_connection() {
    let refused = |status: u16, kind: &str| Fault::Refused {
        status: StatusCode::from_u16(status).expect("a status"),
        kind: kind.to_owned(),
        message: String::new(),
    };
    assert!(gone(&refused(410, "GoneException")));
    assert!(gone(&refused(410, "HTTP 410")), "the status alone");
    assert!(gone(&refused(400, "GoneException")), "the type alone");
    assert!(!gone(&refused(403, "ForbiddenException")));
    assert!(!gone(&Fault::Unavailable("GoneException".into())));
}
