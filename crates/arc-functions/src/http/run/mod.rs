//! How an HTTP route is served: [`start`], or [`run`] on a runtime of the caller's, over the
//! runtime loop every route runs.

use std::future::Future;

use lambda_http::LambdaEvent;
use lambda_http::http::StatusCode;
#[cfg(feature = "axum")]
use lambda_http::{Body as LambdaBody, BoxFuture};
use serde_json::value::RawValue;

use super::event::{self, EventReply};
use super::{Error, Handler, Request, Response};
use crate::runtime::{self, GENERIC_400, block_on, error_page};

/// Serves `handler` on the Lambda Runtime API until the process ends, on a Tokio runtime
/// built for how Lambda calls the function: what a route's `main` runs.
///
/// - **One invocation at a time** (`AWS_LAMBDA_MAX_CONCURRENCY` unset or 1: classic Lambda):
///   a runtime on the main thread alone. With one event in flight, worker threads only cost:
///   starting them, and handing every awaited read (the Runtime API's, DynamoDB's) from the
///   thread that saw it to the thread waiting for it. On this 2-core machine that is 0.4 ms
///   of a cookie-mode cold start and 0.8 ms of a DynamoDB-mode one (BENCHMARKS.md, "Start-up,
///   one change at a time"); a Lambda function below 1,769 MB has less than one vCPU anyway.
/// - **Several at once** (above 1: Lambda Managed Instances, `cargo lambda watch`): Tokio's
///   multi-thread runtime, a worker per core, so concurrent invocations share the cores.
///
/// Everything else is [`run`]'s, which serves on a runtime of your own instead.
///
/// # Errors
///
/// When the Runtime API cannot be reached, as [`run`]; when the runtime cannot be built (the
/// system refused a thread or an epoll instance).
///
/// # Panics
///
/// When called on a Tokio runtime's thread (inside `#[tokio::main]`): await [`run`] there.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::http::{self, Request, Response};
///
/// async fn home(_req: Request) -> http::Result<Response> {
///     Ok(Response::html("<p>hi</p>"))
/// }
///
/// fn main() -> Result<(), lambda_http::Error> {
///     http::start(http::async_handler(home))
/// }
/// ```
pub fn start<F, Fut, E>(handler: Handler<F>) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, E>> + Send + 'static,
    E: Into<Error> + 'static,
{
    block_on(run(handler))
}

/// Serves `handler` on the Lambda Runtime API until the process ends, on the Tokio runtime it
/// is awaited on: for a `main` that does more on its runtime first. [`start`] builds the
/// runtime that suits Lambda and is what a route's `main` usually runs.
///
/// - **Concurrency.** Invocations run concurrently up to `AWS_LAMBDA_MAX_CONCURRENCY` (set by
///   Lambda Managed Instances, and by `cargo lambda watch`), one at a time when it is unset,
///   as on classic Lambda: the same binary suits both. Nothing on a request's path takes a
///   lock, and one DynamoDB client (with its connection pool) serves every invocation.
/// - **Cold start.** In DynamoDB mode the client is built and its connection opened beside the
///   first poll ([`SessionStore::prepare`]): the handshake goes on while the event is awaited
///   and read, and the first request takes that connection. Cookie mode touches none of it.
///   Neither can fail the start.
/// - **The event** is read once, as the one type its distinguishing fields name (REST API,
///   HTTP API or function URL, load balancer), where `lambda_http::run` tries each type in
///   turn. An HTTP event that cannot be read (a URI API Gateway would never send) is answered
///   400 rather than failing the invocation, which API Gateway would turn into a 502. A
///   payload that is no HTTP event at all (a WebSocket or queue event) fails the invocation.
///
/// Serving with `lambda_http::run(handler)` also works, one invocation at a time and without
/// the rest.
///
/// [`SessionStore::prepare`]: crate::http::session::SessionStore::prepare
///
/// # Errors
///
/// When the Runtime API cannot be reached, as `lambda_http::run`.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::http::{self, Request, Response};
///
/// async fn home(_req: Request) -> http::Result<Response> {
///     Ok(Response::html("<p>hi</p>"))
/// }
///
/// #[tokio::main]
/// async fn main() -> Result<(), lambda_http::Error> {
///     // ...something else of the program's on this runtime first...
///     http::run(http::async_handler(home)).await
/// }
/// ```
pub async fn run<F, Fut, E>(handler: Handler<F>) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, E>> + Send + 'static,
    E: Into<Error> + 'static,
{
    let preparing = handler.clone();
    runtime::serve_prepared(
        preparing.store(),
        move |event: LambdaEvent<Box<RawValue>>| {
            let handler = handler.clone();
            async move { handler.answer(event.payload.into(), event.context).await }
        },
    )
    .await
}

/// The runtime loop for a service that answers a lambda_http request (the axum layer's):
/// every invocation is read once into that request and answered in its format by `handle`.
#[cfg(feature = "axum")]
pub(crate) async fn serve<H>(handle: H) -> Result<(), lambda_http::Error>
where
    H: Fn(lambda_http::Request) -> BoxFuture<'static, lambda_http::Response<LambdaBody>>
        + Clone
        + Send
        + Sync
        + 'static,
{
    runtime::serve(move |event: LambdaEvent<Box<RawValue>>| {
        let handle = handle.clone();
        async move { invoke(event.payload.get(), event.context, handle).await }
    })
    .await
}

impl<F, Fut, E> Handler<F>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response, E>>,
    E: Into<Error>,
{
    /// Serves one Lambda payload, the event's JSON text, exactly as [`run`] does, and returns
    /// the JSON text [`run`] would send back: to test a handler on a real event, or to
    /// measure it.
    ///
    /// # Errors
    ///
    /// When the payload is not an HTTP event (as [`run`] fails such an invocation).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response, session::SessionStore};
    ///
    /// async fn home(req: Request) -> http::Result<Response> {
    ///     Ok(Response::text(format!("hello from {}", req.path)))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let handler = Handler::with_store(store, home);
    /// let event = r#"{"version": "2.0", "rawPath": "/hi", "headers": {},
    ///     "requestContext": {"http": {"method": "GET", "path": "/hi"}}}"#;
    /// let reply: serde_json::Value = serde_json::from_str(&handler.invoke(event).await?)?;
    /// assert_eq!(reply["statusCode"], 200);
    /// assert_eq!(reply["body"], "hello from /hi");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub async fn invoke(&self, payload: &str) -> Result<String, lambda_http::Error> {
        let reply = self
            .answer(payload.into(), lambda_http::Context::default())
            .await?;
        Ok(serde_json::to_string(&reply)?)
    }

    /// One invocation, as [`run`] serves it: the payload read ([`Request::read`]), handled,
    /// answered in its sender's format.
    async fn answer(
        &self,
        payload: Box<str>,
        context: lambda_http::Context,
    ) -> Result<EventReply, lambda_http::Error> {
        match Request::read(payload, context) {
            Ok((sender, request)) => Ok(event::reply(sender, self.serve(request).await)),
            Err(e) => unread(e),
        }
    }
}

/// One invocation of [`serve`]: the payload read as its event type, handled, answered in its
/// format.
#[cfg(feature = "axum")]
async fn invoke<Fut>(
    payload: &str,
    context: lambda_http::Context,
    handle: impl FnOnce(lambda_http::Request) -> Fut,
) -> Result<EventReply, lambda_http::Error>
where
    Fut: Future<Output = lambda_http::Response<LambdaBody>>,
{
    match event::parse(payload) {
        Ok((sender, request)) => {
            let response = handle(event::invoked(request, context)).await;
            Ok(event::reply(sender, response))
        }
        Err(e) => unread(e),
    }
}

/// The answer to a payload that is no request: 400 in its sender's format for an HTTP event
/// that cannot be read, a failed invocation for anything else.
fn unread(error: event::Error) -> Result<EventReply, lambda_http::Error> {
    match error {
        event::Error::Unreadable { sender, reason } => {
            // The reason may quote the event: the log only.
            tracing::warn!(%reason, "the event cannot be read as a request");
            Ok(event::reply(
                sender,
                error_page(StatusCode::BAD_REQUEST, GENERIC_400),
            ))
        }
        e @ event::Error::NotHttp(_) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests;
