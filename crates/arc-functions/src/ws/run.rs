//! How a WebSocket route is served: [`start`], or [`run`] on a runtime of the caller's, over
//! the runtime loop every route runs; and [`Handler::invoke`], the same for one payload.

use std::future::Future;

use lambda_http::LambdaEvent;
use lambda_http::aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;
use serde_json::value::RawValue;

use super::response::SocketReply;
use super::{Error, EventType, Handler, Request, Response};
use crate::deadline::Deadline;
use crate::runtime::event::{self, Kind};
use crate::runtime::{self};

impl<F, Fut, E> Handler<F>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response, E>>,
    E: Into<runtime::Error>,
{
    /// Serves one Lambda payload, the event's JSON text, exactly as [`run`] does, and returns
    /// the JSON text [`run`] would send back: to test a handler on a real event.
    ///
    /// # Errors
    ///
    /// [`Error::NotWebSocket`] when the payload is not an API Gateway WebSocket event (as
    /// [`run`] fails such an invocation).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::ws::{self, Handler, Request, Response};
    ///
    /// async fn default(req: Request) -> ws::Result<Response> {
    ///     Ok(Response::new().reply(format!("{} on {}", req.route_key, req.connection_id)))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let handler = Handler::with_store(store, default);
    /// let event = r#"{"requestContext": {"routeKey": "$default", "eventType": "MESSAGE",
    ///     "connectionId": "L0SM9cOFvHcCIhw=", "connectedAt": 1, "requestTimeEpoch": 2},
    ///     "body": "hi"}"#;
    /// let reply: serde_json::Value = serde_json::from_str(&handler.invoke(event).await?)?;
    /// assert_eq!(reply["statusCode"], 200);
    /// assert_eq!(reply["body"], "$default on L0SM9cOFvHcCIhw=");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub async fn invoke(&self, payload: &str) -> Result<String, Error> {
        let reply = self.reply(payload, Deadline::default()).await?;
        serde_json::to_string(&reply).map_err(Error::Json)
    }

    async fn reply(&self, payload: &str, deadline: Deadline) -> Result<SocketReply, Error> {
        match event::kind(payload) {
            Ok(Kind::WebSocket) => {}
            Ok(other) => {
                return Err(Error::NotWebSocket(format!(
                    "no requestContext.connectionId: a {other:?} event"
                )));
            }
            Err(unknown) => return Err(Error::NotWebSocket(unknown.to_string())),
        }
        let event: ApiGatewayWebsocketProxyRequest =
            serde_json::from_str(payload).map_err(|e| Error::NotWebSocket(e.to_string()))?;
        let request = Request::from_event(event)?;
        let connection = request.connection_id.clone();
        let disconnect = request.event_type == EventType::Disconnect;
        // Every AWS call of the turn is bounded by the invocation's deadline.
        let reply = deadline.scope(self.respond(request, deadline)).await;
        // Whatever the handler did: the connection is closed.
        if disconnect && let Err(e) = deadline.scope(self.store().untie(&connection)).await {
            tracing::warn!(error = %e, "forgetting a closed connection failed; its records expire on their own");
        }
        Ok(reply)
    }
}

/// Serves `handler` on the Lambda Runtime API until the process ends, on a Tokio runtime
/// built for how Lambda calls the function (one thread when invocations come one at a time,
/// a worker per core when `AWS_LAMBDA_MAX_CONCURRENCY` is above 1): what a WebSocket route's
/// `main` runs. The WebSocket counterpart of [`http::start`](crate::http::start), which says
/// why.
///
/// # Errors
///
/// When the Runtime API cannot be reached, or the runtime cannot be built.
///
/// # Panics
///
/// When called on a Tokio runtime's thread (inside `#[tokio::main]`): await [`run`] there.
///
/// # Examples
///
/// See [`async_handler`](super::async_handler).
pub fn start<F, Fut, E>(handler: Handler<F>) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, E>> + Send + 'static,
    E: Into<runtime::Error> + 'static,
{
    runtime::block_on(run(handler))
}

/// Serves `handler` on the Lambda Runtime API until the process ends, on the Tokio runtime it
/// is awaited on ([`start`] builds one that suits Lambda). Like
/// [`http::run`](crate::http::run): invocations run concurrently up to
/// `AWS_LAMBDA_MAX_CONCURRENCY`, DynamoDB is made ready before the first event, and a payload
/// that is not a WebSocket event (an HTTP one included) fails the invocation.
///
/// # Errors
///
/// When the Runtime API cannot be reached.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::ws::{self, Request, Response};
///
/// async fn connect(_req: Request) -> ws::Result<Response> {
///     Ok(Response::new())
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), lambda_http::Error> {
///     // ...something else of the program's on this runtime first...
///     ws::run(ws::async_handler(connect)).await
/// }
/// ```
pub async fn run<F, Fut, E>(handler: Handler<F>) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, E>> + Send + 'static,
    E: Into<runtime::Error> + 'static,
{
    let preparing = handler.clone();
    runtime::serve_prepared(
        preparing.store(),
        move |event: LambdaEvent<Box<RawValue>>| {
            let handler = handler.clone();
            async move {
                handler
                    .reply(event.payload.get(), Deadline(Some(event.context.deadline)))
                    .await
                    .map_err(lambda_http::Error::from)
            }
        },
    )
    .await
}
