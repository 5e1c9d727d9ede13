//! WebSockets: the handler wrapper [`async_handler`] for API Gateway WebSocket routes, and
//! [`send`], [`close`] and [`info`] to reach connections from any function, as `arc.ws` does.
//! Reaching connections takes the `ws` feature (API Gateway's management API client), which
//! `dynamodb` turns on; without it [`send`], [`close`] and [`info`] answer [`Error::NotBuilt`].
//! An HTTP function built without it still builds its pushes, which find no socket to reach in
//! cookie mode.
//!
//! # Sessions
//!
//! API Gateway forwards the browser's headers once, on `$connect`, and deployed the WebSocket
//! API has a host of its own, so the page's cookie does not even reach that: the browser sends
//! a cookie only to the host it belongs to. So:
//!
//! - **Socket tickets** (DynamoDB mode). The page's own request mints one
//!   ([`http::Request::socket_url`](crate::http::Request::socket_url): `ARC_WSS_URL` with
//!   `?ticket=`), and `$connect` redeems it: sealed under a key derived for tickets alone, it
//!   names the session record and the page's origin, opens for
//!   [`TICKET_LIFETIME`](crate::http::session::TICKET_LIFETIME) seconds, only from that origin, and
//!   once (a conditional write). A refused ticket ([`session::Refusal`]) gives the handler an
//!   empty session and logs why, never the ticket, which is also taken out of
//!   [`Request::query`].
//! - **The cookie** is read on a `$connect` without a ticket only when its `Origin` is the
//!   socket's own (its `Host`) or one of `ARC_WS_ORIGINS`: browsers send cookies on an upgrade
//!   whatever page opened it, and `Origin` is what a page cannot forge (cross-site WebSocket
//!   hijacking).
//! - **DynamoDB mode**: an accepted connection is tied to its session. Every later event of the
//!   connection reads the *live* session through that tie (not a copy taken at `$connect`), a
//!   session a WebSocket handler writes is what the browser's next HTTP request reads, and the
//!   reverse. Handlers reach the session's connections
//!   ([`http::Request::connections`](crate::http::Request::connections),
//!   [`http::Request::push`](crate::http::Request::push), [`Response::push`] here and in
//!   [`http`](crate::http::Response::push)); a push goes to the session the response leaves
//!   behind, and a session regenerated or destroyed has its other connections closed, so they
//!   hear nothing of the new one (a page reconnects with a fresh ticket). A session keeps at
//!   most `ARC_WS_MAX_CONNECTIONS` connections; tying one more closes its oldest. The records
//!   live in the session table and expire on their own after two hours (API Gateway's limit on
//!   a connection), since `$disconnect` is not guaranteed; `$disconnect`, and a send that finds
//!   the connection gone, remove them sooner. A browser without a session at `$connect` gets
//!   its connection tied to the first session a WebSocket handler writes for it, which its HTTP
//!   requests never see (no cookie can be set over a WebSocket): give it a session before it
//!   connects.
//! - **Cookie mode**: `$connect` reads the session from the cookie (when it arrives, and
//!   `Origin` passes); every later event sees an empty session, and writing one fails
//!   ([`session::Error::CookieOverWebSocket`]): the session lives only in the browser's cookie,
//!   which API Gateway does not forward after the upgrade, and there is no server-side store to
//!   keep a copy in, nor a record for a ticket to name. Pushing to a session's connections
//!   needs DynamoDB mode too.
//!
//! # Endpoints
//!
//! Inside a WebSocket handler the management API is the event's own
//! (`https://{domainName}/{stage}` from its `requestContext`; `http` for a loopback domain,
//! a local emulator). Anywhere else it comes from `ARC_WSS_URL`, the WebSocket API's URL
//! (`wss://` read as `https://`). `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI` overrides both.
//! The function's role needs `execute-api:ManageConnections` on the API.
//!
//! [`session::Error::CookieOverWebSocket`]: crate::http::session::Error::CookieOverWebSocket
//! [`session::Refusal`]: crate::http::session::Refusal

mod handler;
mod origin;
mod request;
mod response;
mod run;

pub use crate::gateway::{Client, Error, Info, Payload};
pub use handler::{Handler, async_handler, try_async_handler};
pub use request::{EventType, Request};
pub use response::Response;
pub use run::{run, start};

/// The result of a WebSocket handler: any error `?` can box.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use arc_functions::config::Config;
/// use arc_functions::http::session::SessionStore;
/// use arc_functions::ws::{self, Handler, Request, Response};
///
/// async fn play(req: Request) -> ws::Result<Response> {
///     let x = req.body.json().and_then(|body| body["x"].as_u64()).ok_or("a move needs x")?;
///     Ok(Response::new().reply(format!("x={x}")))
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
/// let handler = Handler::with_store(store, play);
/// let message = |body: &str| {
///     serde_json::json!({
///         "requestContext": {"routeKey": "$default", "eventType": "MESSAGE",
///             "connectionId": "L0SM9cOFvHcCIhw=", "connectedAt": 1, "requestTimeEpoch": 2},
///         "body": body,
///     })
///     .to_string()
/// };
/// let played: serde_json::Value = serde_json::from_str(&handler.invoke(&message(r#"{"x": 3}"#)).await?)?;
/// assert_eq!(played["body"], "x=3");
/// let refused: serde_json::Value = serde_json::from_str(&handler.invoke(&message("{}")).await?)?;
/// assert_eq!(refused["statusCode"], 500);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub type Result<T, E = crate::runtime::Error> = std::result::Result<T, E>;

tokio::task_local! {
    /// The client of the WebSocket API whose event is being handled.
    static CURRENT: Client;
}

/// The client for the free functions: the current event's API inside a WebSocket handler,
/// else the configuration's (`ARC_WSS_URL`), made once per process.
fn current() -> std::result::Result<Client, Error> {
    if let Ok(client) = CURRENT.try_with(Client::clone) {
        return Ok(client);
    }
    Ok(crate::runtime::Process::get()
        .client()
        .map_err(crate::session::Error::Config)?)
}

/// Sends `payload` to a connection: `arc.ws.send`. Inside a WebSocket handler it goes through
/// the event's API; elsewhere through `ARC_WSS_URL`'s.
///
/// # Errors
///
/// [`Error::Gone`] when the connection is closed, [`Error::NoEndpoint`] outside a WebSocket
/// handler without `ARC_WSS_URL`, [`Error::Api`] for other failures, [`Error::Session`] for an
/// invalid configuration.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::ws;
///
/// # async fn f() -> Result<(), ws::Error> {
/// ws::send("L0SM9cOFvHcCIhw=", serde_json::json!({"count": 3})).await?;
/// # Ok(()) }
/// ```
pub async fn send(
    connection_id: &str,
    payload: impl Into<Payload>,
) -> std::result::Result<(), Error> {
    current()?.send(connection_id, payload).await
}

/// Closes a connection: `arc.ws.close`. As [`send`] for the endpoint.
///
/// # Errors
///
/// As [`send`].
///
/// # Examples
///
/// ```no_run
/// # async fn f() -> Result<(), arc_functions::ws::Error> {
/// arc_functions::ws::close("L0SM9cOFvHcCIhw=").await?;
/// # Ok(()) }
/// ```
pub async fn close(connection_id: &str) -> std::result::Result<(), Error> {
    current()?.close(connection_id).await
}

/// What API Gateway knows of a connection: `arc.ws.info`. As [`send`] for the endpoint.
///
/// # Errors
///
/// As [`send`].
///
/// # Examples
///
/// ```no_run
/// # async fn f() -> Result<(), arc_functions::ws::Error> {
/// let info = arc_functions::ws::info("L0SM9cOFvHcCIhw=").await?;
/// println!("last active {:?}", info.last_active_at);
/// # Ok(()) }
/// ```
pub async fn info(connection_id: &str) -> std::result::Result<Info, Error> {
    current()?.info(connection_id).await
}
