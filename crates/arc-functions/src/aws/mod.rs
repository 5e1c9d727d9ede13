//! What the library asks of AWS: the SDK's configuration for its DynamoDB and SSM clients
//! (`sdk`, with the HTTP client it hands them, `http_client`); the app secret (`secrets`), the
//! session store's calls on its items (`dynamodb`) and the WebSocket management API's calls,
//! made without the SDK (`signed`); and under all of
//! them the TLS (`tls`) and the environment's variables as AWS reads them (`env`).

#[cfg(feature = "architect")]
pub(crate) mod discovery;
#[cfg(feature = "dynamodb")]
pub(crate) mod dynamodb;
pub(crate) mod env;
#[cfg(feature = "aws")]
mod http_client;
#[cfg(feature = "aws")]
mod sdk;
#[cfg(feature = "secrets-manager")]
pub(crate) mod secrets;
#[cfg(any(feature = "secrets-manager", feature = "ws"))]
pub(crate) mod signed;
#[cfg(all(test, any(feature = "secrets-manager", feature = "dynamodb")))]
pub(crate) mod test_server;
mod tls;

#[cfg(feature = "dynamodb")]
pub(crate) use http_client::{CONNECT_ONLY, connected};
#[cfg(feature = "dynamodb")]
pub(crate) use sdk::is_unavailable;
#[cfg(feature = "aws")]
pub(crate) use sdk::sdk_config;

/// Runs what the configuration needs from AWS at cold start (the secret, Architect's table
/// names) to its end, in at most `limit`. Blocks the calling thread: the configuration is read
/// before any runtime of the function's runs, or inside one that must not be blocked, so the
/// calls run on a thread and runtime of their own.
#[cfg(any(feature = "secrets-manager", feature = "architect"))]
pub(crate) fn at_cold_start<T, F, Fut>(limit: std::time::Duration, calls: F) -> Result<T, String>
where
    T: Send,
    F: FnOnce() -> Fut + Send,
    Fut: std::future::Future<Output = Result<T, String>>,
{
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| format!("no runtime for the calls: {e}"))?;
                runtime.block_on(async {
                    tokio::time::timeout(limit, calls())
                        .await
                        .map_err(|_| format!("no answer within {limit:?}"))?
                })
            })
            .join()
            .unwrap_or_else(|_| Err("the calls panicked".to_owned()))
    })
}
