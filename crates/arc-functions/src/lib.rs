#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod aws;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod config;
mod deadline;
mod gateway;
pub mod http;
mod keys;
mod runtime;
mod session;
pub mod testing;
pub mod throttle;
pub mod ws;

#[cfg(test)]
mod test_log;

/// The AWS SDK configuration the library's own clients are built from: its HTTP client (the SDK
/// is built here without one of its own), retries and timeouts made for a function that has
/// seconds to answer, credentials and region from the environment as on Lambda, and endpoint
/// URLs such as `AWS_ENDPOINT_URL_DYNAMODB` as `aws_config` reads them. Build the clients of
/// your own tables from it (a users table), once, at cold start.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let config = arc_functions::aws_sdk_config().await;
/// assert!(config.http_client().is_some(), "the library's HTTP client");
/// let _users = aws_sdk_dynamodb::Client::new(&config);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    aws::sdk_config().await
}
