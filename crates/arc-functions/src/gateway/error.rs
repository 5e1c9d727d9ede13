//! What can go wrong talking to WebSocket connections.

use crate::session;

/// What can go wrong sending to, closing or asking about a WebSocket connection, or serving a
/// WebSocket event.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use arc_functions::config::Config;
/// use arc_functions::http::session::{self, SessionStore};
/// use arc_functions::testing::TestRequest;
/// use arc_functions::ws::{self, Error, Handler, Request, Response};
///
/// async fn default(_req: Request) -> ws::Result<Response> {
///     Ok(Response::new())
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
/// let handler = Handler::with_store(store, default);
/// // An HTTP API's event, delivered to a WebSocket route by mistake.
/// let err = handler.invoke(&TestRequest::get("/").event()).await.unwrap_err();
/// assert!(matches!(err, Error::NotWebSocket(_)));
/// assert!(err.to_string().starts_with("the event is not an API Gateway WebSocket event"));
///
/// // A session error passes through as it is.
/// let err = Error::from(session::Error::Ended);
/// assert_eq!(err.to_string(), session::Error::Ended.to_string());
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The connection is closed (API Gateway answered 410 `GoneException`): the client left,
    /// or the connection never existed. Expected in normal operation; forget the id.
    #[error("WebSocket connection {connection_id:?} is gone")]
    Gone {
        /// The connection that is gone.
        connection_id: String,
    },
    /// No management API endpoint: outside a WebSocket handler, `ARC_WSS_URL` names it.
    #[error(
        "no WebSocket API to send through: outside a WebSocket handler set ARC_WSS_URL to the WebSocket API's URL (wss://<api-id>.execute-api.<region>.amazonaws.com/<stage>)"
    )]
    NoEndpoint,
    /// The management API call failed for another reason: no permission
    /// (`execute-api:ManageConnections`), throttled, unreachable.
    #[error("API Gateway {operation} failed: {source}")]
    Api {
        /// The operation, e.g. `PostToConnection`.
        operation: &'static str,
        /// What went wrong: API Gateway's error type and message (`ForbiddenException:
        /// Forbidden`), no answer in time, or no credentials to sign with.
        #[source]
        source: crate::session::BoxError,
    },
    /// This build of the library has no management API client: the function was built
    /// without arc-functions' `ws` feature (which `dynamodb` turns on).
    #[error(
        "this function was built without arc-functions' `ws` feature, which reaching WebSocket connections needs: add `features = [\"ws\"]` (or `\"dynamodb\"`, which brings it) to its arc-functions dependency"
    )]
    NotBuilt,
    /// Pushing to a session's connections did not finish within the invocation's time (less
    /// a margin to answer in); some may have received it.
    #[error(
        "pushing to the session's connections ran out of the invocation's time ({budget_ms} ms)"
    )]
    OutOfTime {
        /// The time it had, in milliseconds.
        budget_ms: u128,
    },
    /// A payload could not be written as JSON.
    #[error("the WebSocket payload cannot be written as JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The session store failed (or the configuration is invalid).
    #[error(transparent)]
    Session(#[from] session::Error),
    /// The Lambda payload is not an API Gateway WebSocket event.
    #[error("the event is not an API Gateway WebSocket event ({0})")]
    NotWebSocket(String),
}
