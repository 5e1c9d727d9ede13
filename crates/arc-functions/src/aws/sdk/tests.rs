use super::*;

fn sources(vars: &[(&str, &str)]) -> Sources {
    Sources::read(crate::aws::env::table(vars))
}

#[test]
fn lambdas_environment_names_credentials_region_and_no_trust_store() {
    let lambda = sources(&[
        ("AWS_ACCESS_KEY_ID", "ASIA..."),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_SESSION_TOKEN", "token"),
        ("AWS_REGION", "eu-west-1"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
    ]);
    assert_eq!(
        lambda,
        Sources {
            env_credentials: true,
            region: Some("eu-west-1".into()),
            trust_store: TrustStore::CompiledIn,
            retries_chosen: false,
        }
    );
}

#[test]
fn half_a_key_pair_or_empty_values_leave_the_default_chains() {
    assert!(!sources(&[("AWS_ACCESS_KEY_ID", "AKIA...")]).env_credentials);
    assert!(!sources(&[("AWS_SECRET_ACCESS_KEY", "secret")]).env_credentials);
    assert!(!sources(&[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "s")]).env_credentials);
    assert_eq!(sources(&[("AWS_REGION", "")]).region, None);
    assert_eq!(sources(&[]), Sources::default());
}

#[test]
fn aws_region_comes_before_aws_default_region() {
    let both = sources(&[
        ("AWS_REGION", "us-west-2"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ]);
    assert_eq!(both.region.as_deref(), Some("us-west-2"));
    let default_only = sources(&[("AWS_REGION", ""), ("AWS_DEFAULT_REGION", "us-east-1")]);
    assert_eq!(default_only.region.as_deref(), Some("us-east-1"));
}

#[test]
fn either_ssl_variable_names_the_trust_store() {
    let chosen = |vars: &[(&str, &str)]| sources(vars).trust_store;
    assert_eq!(
        chosen(&[("SSL_CERT_FILE", "/etc/corp.pem")]),
        TrustStore::FromEnvironment
    );
    assert_eq!(
        chosen(&[("SSL_CERT_DIR", "/etc/corp")]),
        TrustStore::FromEnvironment
    );
    assert_eq!(chosen(&[("SSL_CERT_FILE", "")]), TrustStore::CompiledIn);
}

#[tokio::test]
async fn the_loader_takes_what_the_environment_gave() {
    let lambda = Sources {
        env_credentials: true,
        region: Some("ap-south-1".into()),
        trust_store: TrustStore::CompiledIn,
        retries_chosen: false,
    };
    let config = loader(&lambda).load().await;
    assert_eq!(config.region().map(|r| r.as_ref()), Some("ap-south-1"));
    let client = format!("{:?}", config.http_client().expect("ours"));
    assert!(client.contains("CompiledIn"), "{client}");
    let credentials = format!("{:?}", config.credentials_provider().expect("a provider"));
    assert!(credentials.contains("EnvironmentVariable"), "{credentials}");
}

#[tokio::test]
async fn without_them_the_sdks_default_chains_stay() {
    let elsewhere = Sources {
        env_credentials: false,
        region: None,
        trust_store: TrustStore::FromEnvironment,
        retries_chosen: true,
    };
    let config = loader(&elsewhere).load().await;
    let client = format!("{:?}", config.http_client().expect("ours, still"));
    assert!(client.contains("FromEnvironment"), "{client}");
    let credentials = format!("{:?}", config.credentials_provider().expect("a provider"));
    assert!(
        !credentials.contains("EnvironmentVariable"),
        "{credentials}"
    );
}

#[tokio::test]
async fn calls_are_retried_quickly_and_attempts_are_cut_short_unless_retries_were_chosen() {
    let ours = loader(&Sources::default()).load().await;
    let retry = ours.retry_config().expect("set");
    assert_eq!(retry.max_attempts(), MAX_ATTEMPTS);
    assert_eq!(retry.initial_backoff(), Duration::from_millis(25));
    assert_eq!(retry.max_backoff(), Duration::from_secs(1));
    let timeouts = ours.timeout_config().expect("set");
    assert_eq!(timeouts.operation_attempt_timeout(), Some(ATTEMPT_TIMEOUT));
    assert_eq!(timeouts.connect_timeout(), Some(ATTEMPT_TIMEOUT));

    // AWS_MAX_ATTEMPTS or AWS_RETRY_MODE: the SDK reads them, and this leaves it to.
    let chosen = Sources {
        retries_chosen: true,
        ..Sources::default()
    };
    let theirs = loader(&chosen).load().await;
    let retry = theirs.retry_config().expect("the SDK's");
    assert_ne!(retry.max_attempts(), MAX_ATTEMPTS);
    assert_eq!(
        theirs
            .timeout_config()
            .and_then(|t| t.operation_attempt_timeout()),
        Some(ATTEMPT_TIMEOUT)
    );
}

#[test]
fn either_retry_variable_means_retries_were_chosen() {
    assert!(sources(&[("AWS_MAX_ATTEMPTS", "2")]).retries_chosen);
    assert!(sources(&[("AWS_RETRY_MODE", "adaptive")]).retries_chosen);
    assert!(!sources(&[("AWS_MAX_ATTEMPTS", "")]).retries_chosen);
}
