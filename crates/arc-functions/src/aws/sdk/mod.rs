//! The AWS SDK configuration of the library's SDK clients: DynamoDB's (connection records,
//! users and devices, throttling, and a session's own calls when the environment needs the
//! SDK's client: `super::dynamodb` makes them otherwise) and SSM's (Architect's table names).
//! Each builds its own, once, on first use. Not shared, since they talk to different
//! endpoints, so a shared connection pool would hold nothing of the other's.
//!
//! `aws_config::load_from_env` is correct everywhere but slow to start: it builds every
//! credential and region source it might need (an STS client for web identity, an IMDS client)
//! and its HTTP client reads and decodes every certificate of the system's trust store. On
//! Lambda the credentials and the region are always in the environment, and the trust store is
//! a fixed set of public roots, so this skips what cannot be used: about 8 ms of the first
//! response in DynamoDB mode here (BENCHMARKS.md, "Start-up, one change at a time").

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use std::time::Duration;

use super::env::Env;
use super::http_client;
use super::tls::TrustStore;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// What of the environment decides how the SDK is configured, read once when a client is built.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Sources {
    /// Both `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` are set, as on Lambda.
    env_credentials: bool,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`: the first two places the default chain looks.
    region: Option<String>,
    /// [`TrustStore::FromEnvironment`] when `SSL_CERT_FILE` or `SSL_CERT_DIR` is set: somebody
    /// chose the trust store, which is then trusted instead of the compiled-in roots.
    trust_store: TrustStore,
    /// `AWS_MAX_ATTEMPTS` or `AWS_RETRY_MODE` is set: somebody chose how calls are retried,
    /// which then stands instead of [`retries`].
    retries_chosen: bool,
}

impl Sources {
    fn read(var: impl Fn(&str) -> Option<String>) -> Self {
        let env = Env(var);
        Self {
            env_credentials: env.key_pair().is_some(),
            region: env.region(),
            trust_store: TrustStore::read(&env.0),
            retries_chosen: env.is_set("AWS_MAX_ATTEMPTS") || env.is_set("AWS_RETRY_MODE"),
        }
    }
}

/// The shared SDK configuration, as `aws_config::load_from_env` would give it, built faster.
///
/// - Credentials: the environment's when it has them. The default chain tries the environment
///   first and stops there, so naming that provider changes nothing but the cost of building
///   the rest of the chain. Without them (a profile, SSO, a container), the default chain.
/// - Region: the environment's when set, for the same reason; else the default chain.
/// - HTTP: [`http_client::client`], whose trust store is compiled in (the webpki-roots
///   crate, Mozilla's roots), unless `SSL_CERT_FILE` or `SSL_CERT_DIR` names another, which is
///   then read as the SDK's own client reads it.
///
/// - Retries and timeouts: [`retries`] and [`timeouts`], made for a function that has seconds
///   to answer; retries as `AWS_MAX_ATTEMPTS` and `AWS_RETRY_MODE` say when either is set.
///
/// Everything else (endpoint URLs such as `AWS_ENDPOINT_URL_DYNAMODB`, profiles) is still read
/// by `aws_config`. Whatever the settings, no call outlives the invocation's deadline
/// ([`crate::deadline`]).
pub(crate) async fn sdk_config() -> SdkConfig {
    loader(&Sources::read(|name| std::env::var(name).ok()))
        .load()
        .await
}

pub(super) fn loader(sources: &Sources) -> aws_config::ConfigLoader {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if sources.env_credentials {
        loader = loader.credentials_provider(EnvironmentVariableCredentialsProvider::new());
    }
    if let Some(region) = &sources.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if !sources.retries_chosen {
        loader = loader.retry_config(retries());
    }
    loader
        .timeout_config(timeouts())
        .http_client(http_client::client(sources.trust_store))
}

/// How a failed call is retried. The SDK's default suits a batch job: three attempts, and
/// after a throttling error a first wait of up to a second, doubling, where a function has
/// seconds in all. DynamoDB answers in milliseconds and throttles a partition for moments, so,
/// as the other AWS SDKs do for DynamoDB, waits start at 25 ms (with full jitter, doubling to
/// at most a second) and more attempts fit: up to ten, always cut short by the invocation's
/// deadline ([`crate::deadline`]), which is the real bound.
fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(25))
        .with_max_backoff(Duration::from_secs(1))
}

/// At most this many attempts per call.
const MAX_ATTEMPTS: u32 = 10;

/// How long one attempt (connecting included) may take before it is abandoned and retried on
/// a new connection. A DynamoDB call takes milliseconds, and a new TLS connection tens of
/// them, so an attempt still unanswered after a second is stalled: waiting it out would spend
/// the invocation's time on the one connection least likely to answer. The SDK sets no limit
/// by default.
pub(crate) const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(1);

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(ATTEMPT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .build()
}

/// Whether a failed DynamoDB call may succeed later: throttled, unreachable, timed out or
/// failing on AWS's side (answered 503), as opposed to a mistake of ours (access, table,
/// request).
#[cfg(feature = "dynamodb")]
pub(crate) fn is_unavailable<E, R>(err: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    use aws_sdk_dynamodb::error::SdkError;
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => true,
        SdkError::ServiceError(e) => matches!(
            e.err().code(),
            Some(
                "ProvisionedThroughputExceededException"
                    | "RequestLimitExceeded"
                    | "ThrottlingException"
                    | "InternalServerError"
                    | "ServiceUnavailable"
            )
        ),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
