//! The handler wrapper: [`async_handler`] wraps an `async fn(Request) -> Result<Response, E>`
//! for [`start`](super::start), reading the session before and writing it after.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::FutureExt;
use lambda_http::Body as LambdaBody;
use lambda_http::http::StatusCode;

use super::compress::Accepted;
use super::event::panic_text;
use super::fault::{GENERIC_400, GENERIC_500, conflict, error_page, failure, fault};
use super::{Error, Request, Response};
use crate::config::{Config, Provider};
use crate::deadline::Deadline;
use crate::session::{self, Outcome, SessionStore};
use crate::ws;

/// The handler wrapper: what [`start`](super::start) serves (also a `tower` service, for
/// `lambda_http::run`). Build it with
/// [`async_handler`].
pub struct Handler<F> {
    store: Arc<SessionStore>,
    options: Options,
    handler: Arc<F>,
}

/// What the wrapper takes from the configuration beside the store.
#[derive(Clone, Debug)]
struct Options {
    compression: bool,
    stage: Option<Arc<str>>,
    /// The WebSocket API requests push through ([`Request::push`]).
    ws: ws::Client,
    /// `ARC_WSS_URL` when sessions are kept server-side ([`Request::socket_url`]).
    socket_url: Option<Arc<str>>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            compression: true,
            stage: None,
            ws: ws::Client::unset(),
            socket_url: None,
        }
    }
}

impl<F> Clone for Handler<F> {
    fn clone(&self) -> Self {
        Self {
            store: Arc::clone(&self.store),
            options: self.options.clone(),
            handler: Arc::clone(&self.handler),
        }
    }
}

impl<F> std::fmt::Debug for Handler<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler")
            .field("store", &self.store)
            .field("compression", &self.options.compression)
            .field("stage", &self.options.stage)
            .finish_non_exhaustive()
    }
}

/// Wraps `handler` for [`start`](super::start): the architect `arc.http.async`.
///
/// Before calling `handler` it normalizes the request ([`Request`]) and reads its session;
/// after, it writes the session back when the [`Response`] sets one and turns the shorthand
/// into an HTTP response. A malformed JSON or form body is answered 400 without calling the
/// handler. An `Err` from the handler (or a panic, when built with `panic = "unwind"`), or a
/// session that cannot be written, is answered with a
/// generic 500 page (503 when DynamoDB is unreachable or throttled); the cause goes to the log
/// through `tracing`, never to the client, and no new session cookie is sent.
///
/// Logs go through `tracing`: when the program installed no subscriber, this installs
/// lambda_runtime's default one (level from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG`, JSON when
/// `AWS_LAMBDA_LOG_FORMAT=JSON`).
///
/// The configuration is read here, at cold start. When it is invalid this logs the reason and
/// exits the process with status 1, so the function fails to start with a message saying what
/// to set. Use [`try_async_handler`] to handle that yourself.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::http::{self, Request, Response};
///
/// async fn counter(req: Request) -> http::Result<Response> {
///     let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
///     Ok(Response::redirect("/").session(serde_json::json!({ "count": count })))
/// }
///
/// fn main() -> Result<(), lambda_http::Error> {
///     http::start(http::async_handler(counter))
/// }
/// ```
pub fn async_handler<F, Fut, E>(handler: F) -> Handler<F>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response, E>>,
    E: Into<Error>,
{
    build_or_exit(|| try_async_handler(handler))
}

/// What every handler wrapper does at cold start: install lambda_runtime's log subscriber
/// unless the program installed one, then build; on a configuration error, log it and exit
/// with status 1, so that the function fails to start with a message saying what to set.
pub(crate) fn build_or_exit<T, E: std::fmt::Display>(build: impl FnOnce() -> Result<T, E>) -> T {
    // Without a subscriber the 500s' causes and the start-up warnings would vanish; this is
    // lambda_runtime's own (AWS_LAMBDA_LOG_LEVEL or RUST_LOG, JSON with AWS_LAMBDA_LOG_FORMAT).
    if !tracing::dispatcher::has_been_set() {
        lambda_http::tracing::init_default_subscriber();
    }
    match build() {
        Ok(built) => built,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("arc-functions: cannot start: {e}");
            std::process::exit(1);
        }
    }
}

/// [`async_handler`], returning the configuration error instead of exiting.
///
/// # Errors
///
/// [`session::Error::Config`] when the environment holds an invalid configuration.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::http::{self, Request, Response};
///
/// async fn home(_req: Request) -> http::Result<Response> {
///     Ok(Response::html("<p>hi</p>"))
/// }
/// // With ARC_ENV=testing, or ARC_APP_SECRET, in the environment:
/// let handler = http::try_async_handler(home)?;
/// # Ok::<(), arc_functions::http::session::Error>(())
/// ```
pub fn try_async_handler<F, Fut, E>(handler: F) -> Result<Handler<F>, session::Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response, E>>,
    E: Into<Error>,
{
    let (store, config) = SessionStore::global_with_config()?;
    Ok(Handler::with_store(store, handler).with_config(&config))
}

impl<F, Fut, E> Handler<F>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = Result<Response, E>>,
    E: Into<Error>,
{
    /// A handler using `store` instead of the one built from the environment: for tests, or a
    /// process serving several configurations.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response, session::SessionStore};
    ///
    /// async fn home(_req: Request) -> http::Result<Response> {
    ///     Ok(Response::text("hi"))
    /// }
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let handler = Handler::with_store(store, home);
    /// assert!(format!("{handler:?}").contains("sealed cookie"));
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn with_store(store: Arc<SessionStore>, handler: F) -> Self {
        Self {
            store,
            options: Options::default(),
            handler: Arc::new(handler),
        }
    }

    /// The store this handler reads and writes sessions with.
    pub(crate) fn store(&self) -> &SessionStore {
        &self.store
    }

    /// Takes the HTTP settings of `config`: whether to compress responses
    /// ([`Config::compression`]) and the stage [`Request::url`] may add ([`Config::stage`]).
    /// [`Handler::with_store`] alone compresses and adds no stage; [`async_handler`] reads both
    /// from the environment.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response, session::SessionStore};
    ///
    /// async fn home(_req: Request) -> http::Result<Response> {
    ///     Ok(Response::text("hi"))
    /// }
    /// let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_HTTP_COMPRESSION", "off")])?;
    /// let handler = Handler::with_store(Arc::new(SessionStore::new(&config)), home).with_config(&config);
    /// assert!(format!("{handler:?}").contains("compression: false"));
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn with_config(mut self, config: &Config) -> Self {
        self.options = Options {
            compression: config.compression,
            stage: config.stage.as_deref().map(Arc::from),
            ws: ws::Client::from_config(config),
            // Only a session kept server-side can follow a socket.
            socket_url: match config.provider {
                Provider::DynamoDb { .. } => config.ws_url.as_deref().map(Arc::from),
                _ => None,
            },
        };
        self
    }

    /// Handles one request end to end; never fails: every fault is a response.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response, session::SessionStore};
    ///
    /// async fn home(req: Request) -> http::Result<Response> {
    ///     Ok(Response::text(format!("you asked for {}", req.path)))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let config = Config::from_vars([("ARC_ENV", "testing")])?;
    /// let handler = Handler::with_store(std::sync::Arc::new(SessionStore::new(&config)), home);
    /// let event = lambda_http::http::Request::builder()
    ///     .uri("/hello")
    ///     .body(lambda_http::Body::Empty)?;
    /// let response = handler.handle(event).await;
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.body(), &lambda_http::Body::from("you asked for /hello"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn handle(&self, event: lambda_http::Request) -> lambda_http::Response<LambdaBody> {
        // Every AWS call of the turn is bounded by the invocation's deadline, when the event
        // came with Lambda's context.
        Deadline::of(&event).scope(self.turn(event)).await
    }

    async fn turn(&self, event: lambda_http::Request) -> lambda_http::Response<LambdaBody> {
        let store = &self.store;
        let mut request = match Request::from_lambda(event) {
            Ok(request) => request,
            Err(e) => {
                // The parser's words may echo the body back: they go to the log only.
                tracing::warn!(error = %e, "the request body does not match its content type");
                return error_page(StatusCode::BAD_REQUEST, GENERIC_400);
            }
        };
        match store.read_headers(request.headers()).await {
            Ok(session) => request.attach(
                Arc::clone(store),
                session,
                self.options.ws.clone(),
                self.options.socket_url.clone(),
            ),
            Err(e) => return fault(&e, "reading the session"),
        }
        request.set_stage(self.options.stage.clone());
        let deadline = request.deadline();
        // Read now: the request moves into the handler.
        let accepted = self
            .options
            .compression
            .then(|| Accepted::parse(request.header("accept-encoding")));
        let accepted = accepted.as_ref();
        // Without its flash messages: those are read once, here, and must not be written back.
        // Only where it came from is kept for later, unless the flash must be cleared: cloning
        // the whole session on every request would cost more than the rest of the bookkeeping.
        let origin = request.session.origin().cloned();
        let expiry = request.session.expiry();
        let without_flash = request.had_flash().then(|| request.session.clone());
        // Sliding renewal, for a response that writes no session: decided now, and the session
        // cloned only then, which is at most once per half its lifetime.
        let due = (without_flash.is_none() && store.renewal_due(&request.session))
            .then(|| request.session.clone());
        // A panic is answered like an error: the process, and its warm state, live on.
        let handler = &*self.handler;
        // Into `Error` at once: `E` need not be `Send`, and the response future must be.
        let outcome = AssertUnwindSafe(async move { handler(request).await.map_err(Into::into) })
            .catch_unwind()
            .await;
        let mut response = match outcome {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => {
                tracing::error!(error = %e, detail = ?e, "the handler returned an error");
                return error_page(StatusCode::INTERNAL_SERVER_ERROR, GENERIC_500);
            }
            Err(panic) => {
                let message = panic_text(&*panic);
                tracing::error!(panic = %message, "the handler panicked");
                return error_page(StatusCode::INTERNAL_SERVER_ERROR, GENERIC_500);
            }
        };
        // A request that failed changes no session and tells no socket, as in the axum layer:
        // its half-done work must not become the next request's state.
        if response.is_server_error() {
            return response.into_http_or_500(None, accepted);
        }
        // Pushed after the write, to the session the response leaves behind.
        let push = response.take_push();
        let arrived_with = origin
            .as_ref()
            .and_then(|o| o.record.as_ref())
            .map(|r| r.id.clone());
        let clearing_flash = without_flash.is_some();
        let (written, what) = match (response.take_session(), without_flash) {
            (None, Some(without_flash)) => (
                store.write_tracked(&without_flash).await,
                "clearing the flash messages",
            ),
            (None, None) => {
                self.follow(push, arrived_with, None, deadline).await;
                let renewed = match due {
                    Some(session) => renew(store, &session).await,
                    None => None,
                };
                return response.into_http_or_500(renewed.as_deref(), accepted);
            }
            (Some(Err(e)), _) => return fault(&e, "the response's session"),
            (Some(Ok(mut session)), _) => {
                session.adopt(origin, expiry);
                (store.write_tracked(&session).await, "writing the session")
            }
        };
        match Outcome::of(written, what) {
            Outcome::Written(written) => {
                self.follow(push, written.record, written.left, deadline)
                    .await;
                response.into_http_or_500(Some(&written.set_cookie), accepted)
            }
            // Another request ended the session meanwhile: answer as if there were none. One
            // that wrote it meanwhile wins over clearing the flash (which may then show again).
            Outcome::Ended => response.into_http_or_500(None, accepted),
            Outcome::Conflict if clearing_flash => response.into_http_or_500(None, accepted),
            Outcome::Conflict => conflict(),
            Outcome::Failed { unavailable } => failure(unavailable),
        }
    }

    /// What the session's WebSocket connections learn once the session is written: those of
    /// a session it `left` (regenerated or destroyed) are closed, so none hears about the new
    /// one, and [`Response::push`] goes to the connections of the session it is now (`record`).
    /// Best effort: a failure is logged and nothing else.
    async fn follow(
        &self,
        push: Option<ws::Payload>,
        record: Option<String>,
        left: Option<String>,
        deadline: Deadline,
    ) {
        let client = &self.options.ws;
        if let Some(left) = left
            && client.endpoint().is_some()
        {
            ws::close_session(&self.store, client, &left, None, deadline).await;
        }
        let Some(payload) = push else {
            return;
        };
        ws::push_logged(
            &self.store,
            client,
            record.as_deref(),
            None,
            payload,
            deadline,
        )
        .await;
    }
}

/// Renews a session the response did not write ([`SessionStore::renew`]) and returns the
/// `Set-Cookie` to send. Best effort: the request already succeeded, so a failure is logged and
/// the response goes out without the cookie; the next request tries again.
pub(crate) async fn renew(store: &SessionStore, session: &session::Session) -> Option<String> {
    match store.renew(session).await {
        Ok(set_cookie) => set_cookie,
        Err(session::Error::Ended) => None,
        Err(e) => {
            tracing::warn!(error = %e, "renewing the session failed; the next request tries again");
            None
        }
    }
}

impl<F, Fut, E> lambda_http::Service<lambda_http::Request> for Handler<F>
where
    F: Fn(Request) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Response, E>> + Send + 'static,
    E: Into<Error> + 'static,
{
    type Response = lambda_http::Response<LambdaBody>;
    type Error = lambda_http::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, event: lambda_http::Request) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.handle(event).await) })
    }
}
