use std::sync::atomic::Ordering;

use std::time::SystemTime;

use http_body_util::BodyExt;

use super::*;
use crate::aws::env::table;
use crate::aws::test_server::{LAMBDA, Server, assert_signed_call, nobody_listening, server};

fn target(id: &str, vars: &[(&str, &str)]) -> Result<Target, String> {
    Target::read(id, table(vars))
}

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    LAMBDA.iter().chain(extra).copied().collect()
}

#[test]
fn lambdas_environment_is_the_regional_endpoint_with_its_credentials() {
    assert_eq!(
        target("app/secret", LAMBDA),
        Ok(Target {
            endpoint: "https://secretsmanager.eu-west-1.amazonaws.com/".into(),
            region: "eu-west-1".into(),
            credentials: Credentials::read(table(LAMBDA)).expect("credentials"),
        })
    );
}

#[test]
fn the_region_is_aws_region_then_aws_default_region_then_the_arns() {
    let arn = "arn:aws:secretsmanager:ap-south-1:123456789012:secret:app-AbCdEf";
    let keys = &[("AWS_ACCESS_KEY_ID", "k"), ("AWS_SECRET_ACCESS_KEY", "s")];
    let region = |vars: &[(&str, &str)], id: &str| {
        let all: Vec<_> = keys.iter().chain(vars).copied().collect();
        target(id, &all).map(|t| (t.region, t.endpoint))
    };
    assert_eq!(
        region(&[("AWS_DEFAULT_REGION", "us-west-2")], arn),
        Ok((
            "us-west-2".into(),
            "https://secretsmanager.us-west-2.amazonaws.com/".into()
        ))
    );
    assert_eq!(
        region(
            &[
                ("AWS_REGION", "eu-north-1"),
                ("AWS_DEFAULT_REGION", "us-west-2")
            ],
            arn
        )
        .map(|(r, _)| r),
        Ok("eu-north-1".into())
    );
    assert_eq!(region(&[], arn).map(|(r, _)| r), Ok("ap-south-1".into()));
    assert_eq!(
        region(&[("AWS_REGION", "")], arn).map(|(r, _)| r),
        Ok("ap-south-1".into()),
        "an empty variable is unset"
    );
    let named = region(&[], "app/secret").expect_err("no region anywhere");
    assert!(named.contains("AWS_REGION"), "{named}");
    assert_eq!(
        region(&[], "arn:aws:secretsmanager::1:secret:x").map(|(r, _)| r),
        Err(named),
        "an ARN with an empty region names none"
    );
}

#[test]
fn china_and_fips_have_endpoints_of_their_own() {
    let cn = target("s", &with(&[("AWS_REGION", "cn-north-1")])).expect("target");
    assert_eq!(
        cn.endpoint,
        "https://secretsmanager.cn-north-1.amazonaws.com.cn/"
    );
    let fips = target("s", &with(&[("AWS_USE_FIPS_ENDPOINT", "true")])).expect("target");
    assert_eq!(
        fips.endpoint,
        "https://secretsmanager-fips.eu-west-1.amazonaws.com/"
    );
    let not = target("s", &with(&[("AWS_USE_FIPS_ENDPOINT", "false")])).expect("target");
    assert_eq!(
        not.endpoint,
        "https://secretsmanager.eu-west-1.amazonaws.com/"
    );
}

#[test]
fn an_endpoint_given_is_used_the_services_before_the_general_one() {
    let endpoint = |extra: &[(&'static str, &'static str)]| {
        target("s", &with(extra)).expect("target").endpoint
    };
    assert_eq!(
        endpoint(&[("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")]),
        "http://127.0.0.1:4566/"
    );
    assert_eq!(
        endpoint(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:4566"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:5000/")
        ]),
        "http://127.0.0.1:5000/"
    );
    assert_eq!(
        endpoint(&[
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:5000"),
            ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE")
        ]),
        "https://secretsmanager.eu-west-1.amazonaws.com/"
    );
}

#[test]
fn without_both_keys_in_the_environment_nothing_is_asked() {
    let error = target(
        "s",
        &[("AWS_ACCESS_KEY_ID", "k"), ("AWS_REGION", "us-east-1")],
    )
    .expect_err("no credentials");
    assert!(error.contains("AWS_SECRET_ACCESS_KEY"), "{error}");
}

/// Signature Version 4 of a fixed request, worked out apart from this crate and its signer
/// (Python's `hmac` and `hashlib`, following AWS's description of the process): the canonical
/// request signs the body, the target, the session token and the host.
#[test]
fn the_request_is_signed_as_secrets_manager_in_the_region() {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_472_000); // 2026-12-05 12:00Z
    let target = target("s", LAMBDA).expect("target");
    let request = target
        .call("app/secret", "AWSCURRENT")
        .request(&target.credentials, now)
        .expect("signed");
    assert_eq!(request.method(), "POST");
    assert_eq!(
        request.uri(),
        "https://secretsmanager.eu-west-1.amazonaws.com/"
    );
    let header = |name: &str| request.headers()[name].to_str().expect("text").to_owned();
    assert_eq!(header("x-amz-target"), "secretsmanager.GetSecretValue");
    assert_eq!(header("content-type"), "application/x-amz-json-1.1");
    assert_eq!(header("host"), "secretsmanager.eu-west-1.amazonaws.com");
    assert_eq!(header("x-amz-date"), "20261205T120000Z");
    assert_eq!(header("x-amz-security-token"), "the-session-token");
    assert_eq!(
        header("authorization"),
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261205/eu-west-1/secretsmanager/aws4_request, \
         SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
         Signature=0ec666b212dc941431329dd68a10c36e98437a70905db89089bcfcfc4f38d154"
    );
    let body = futures_util::FutureExt::now_or_never(request.into_body().collect())
        .expect("a full body is ready")
        .expect("no error")
        .to_bytes();
    assert_eq!(
        &body[..],
        br#"{"SecretId":"app/secret","VersionStage":"AWSCURRENT"}"#
    );
}

fn local(server: &Server) -> Target {
    let mut vars = LAMBDA.to_vec();
    let endpoint: &'static str = server.endpoint.clone().leak();
    vars.push(("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint));
    target("app/secret", &vars).expect("target")
}

const FOUND: &str = r#"{"SecretString":"the current one"}"#;
const NOT_FOUND: &str = r#"{"__type":"ResourceNotFoundException","Message":"no such version"}"#;

#[tokio::test]
async fn both_versions_are_asked_for_at_once_signed_as_the_environment_says() {
    // One request per version; which comes first is the client's to choose, so both answer
    // the same way here and the not-found case is its own test below.
    let server = server(vec![(200, FOUND)]).await;
    let versions = versions(&local(&server), "app/secret").await.expect("read");
    assert_eq!(versions.current, "the current one");
    assert_eq!(versions.previous.as_deref(), Some("the current one"));
    let requests = server.requests.lock().expect("lock").clone();
    assert_eq!(requests.len(), 2);
    let stages: Vec<_> = requests
        .iter()
        .map(|r| r.contains(r#""VersionStage":"AWSPREVIOUS""#))
        .collect();
    assert!(
        stages.contains(&true) && stages.contains(&false),
        "{requests:?}"
    );
    for request in &requests {
        assert_signed_call(request, "secretsmanager.getsecretvalue", "secretsmanager");
    }
}

#[tokio::test]
async fn a_missing_previous_version_is_none_and_a_missing_current_one_an_error() {
    let server = server(vec![(400, NOT_FOUND)]).await;
    let target = local(&server);
    let client = signed::client(RETRY.attempt_limit);
    assert_eq!(
        version(&client, &target, "app/secret", "AWSPREVIOUS").await,
        Ok(None)
    );
    let current = version(&client, &target, "app/secret", "AWSCURRENT")
        .await
        .expect_err("no current version");
    assert_eq!(
        current,
        "GetSecretValue (AWSCURRENT) failed: ResourceNotFoundException: no such version"
    );
    assert_eq!(
        server.served.load(Ordering::SeqCst),
        2,
        "refusals are not retried"
    );
}

#[tokio::test]
async fn failures_on_awss_side_are_retried_and_then_reported() {
    let flaky = server(vec![
        (500, "{}"),
        (400, r#"{"__type":"ThrottlingException"}"#),
        (200, FOUND),
    ])
    .await;
    let target = local(&flaky);
    let client = signed::client(RETRY.attempt_limit);
    assert_eq!(
        version(&client, &target, "app/secret", "AWSCURRENT").await,
        Ok(Some("the current one".into())),
        "the third attempt"
    );
    assert_eq!(flaky.served.load(Ordering::SeqCst), 3);

    let down = server(vec![(
        503,
        r#"{"__type":"ServiceUnavailable","message":"later"}"#,
    )])
    .await;
    let error = version(&client, &local(&down), "app/secret", "AWSCURRENT")
        .await
        .expect_err("down");
    assert_eq!(
        error,
        "GetSecretValue (AWSCURRENT) failed: ServiceUnavailable: later"
    );
    assert_eq!(down.served.load(Ordering::SeqCst), RETRY.attempts as usize);
}

#[tokio::test]
async fn a_binary_secret_is_refused() {
    let server = server(vec![(200, r#"{"SecretBinary":"AAEC"}"#)]).await;
    let error = versions(&local(&server), "app/secret")
        .await
        .expect_err("binary");
    assert_eq!(
        error,
        "GetSecretValue (AWSCURRENT) failed: its AWSCURRENT version holds binary data, not a SecretString"
    );
}

#[tokio::test]
async fn an_endpoint_nobody_listens_on_fails_after_every_attempt() {
    let mut vars = LAMBDA.to_vec();
    vars.push(("AWS_ENDPOINT_URL", nobody_listening()));
    let error = versions(&target("app/secret", &vars).expect("target"), "app/secret")
        .await
        .expect_err("refused");
    assert!(
        error.starts_with("GetSecretValue (AWSCURRENT) failed: ") && error.contains("onnect"),
        "{error}"
    );
}
