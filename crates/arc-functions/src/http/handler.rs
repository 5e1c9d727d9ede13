//! The handler wrapper: [`async_handler`] wraps an `async fn(Request) -> Result<Response, E>`
//! for [`start`](super::start), reading the session before and writing it after.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use lambda_http::Body as LambdaBody;
use lambda_http::http::StatusCode;

use super::compress::Accepted;
use super::request::Attached;
use super::{Error, Request, Response};
use crate::config::{Config, Storage};
use crate::gateway::Client;
use crate::runtime::turn::{self, Turn, Via};
use crate::runtime::{self, BodyError, Fault, GENERIC_400, GENERIC_500, Process, error_page};
use crate::session::{self, SessionStore};

/// The handler wrapper: what [`start`](super::start) serves (also a `tower` service, for
/// `lambda_http::run`). Build it with
/// [`async_handler`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use arc_functions::config::Config;
/// use arc_functions::http::{self, Handler, Request, Response, session::SessionStore};
/// use tower::ServiceExt;
///
/// async fn home(req: Request) -> http::Result<Response> {
///     Ok(Response::text(format!("hello from {}", req.path)))
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
/// let handler = Handler::with_store(store, home);
/// // As a tower service, the way `lambda_http::run` calls it.
/// let event = lambda_http::http::Request::builder().uri("/hi").body(lambda_http::Body::Empty)?;
/// let response = handler.oneshot(event).await?;
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.body(), &lambda_http::Body::from("hello from /hi"));
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub struct Handler<F> {
    /// What every request gets: the store, and the configuration's stage, WebSocket API and
    /// socket URL.
    attached: Attached,
    /// Whether responses may be compressed.
    compression: bool,
    handler: Arc<F>,
}

impl<F> Clone for Handler<F> {
    fn clone(&self) -> Self {
        Self {
            attached: self.attached.clone(),
            compression: self.compression,
            handler: Arc::clone(&self.handler),
        }
    }
}

impl<F> std::fmt::Debug for Handler<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handler")
            .field("store", &self.attached.store)
            .field("compression", &self.compression)
            .field("stage", &self.attached.stage)
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
    runtime::build_or_exit(|| try_async_handler(handler))
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
    let (store, config) = Process::get().parts()?;
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
            attached: Attached {
                store,
                stage: None,
                ws: Client::unset(),
                socket_url: None,
            },
            compression: true,
            handler: Arc::new(handler),
        }
    }

    /// Checks every signed-in session this handler reads against its user's current
    /// credential stamp: [`SessionStore::check_stamps`] on its store (the process's, shared
    /// with the other wrappers of the process, when built by [`async_handler`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response};
    /// use arc_functions::http::session::{BoxError, SessionStore};
    ///
    /// async fn home(_req: Request) -> http::Result<Response> {
    ///     Ok(Response::text("hi"))
    /// }
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let _handler = Handler::with_store(Arc::clone(&store), home)
    ///     .check_stamps(|_user: String| async { Ok::<_, BoxError>(Some("stamp".into())) });
    /// assert!(!store.check_stamps(|_user: String| async { Ok::<_, BoxError>(None) }), "one per store");
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn check_stamps(self, stamps: impl session::Stamps) -> Self {
        if !self.attached.store.check_stamps(stamps) {
            tracing::warn!("a credential stamp resolver was registered twice; the first stands");
        }
        self
    }

    /// The store this handler reads and writes sessions with.
    pub(crate) fn store(&self) -> &SessionStore {
        &self.attached.store
    }

    /// Takes the HTTP settings of `config`: whether to compress responses
    /// ([`Http::compression`](crate::config::Http::compression)) and the stage [`Request::url`] may add ([`Http::stage`](crate::config::Http::stage)).
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
        self.compression = config.http.compression;
        self.attached = Attached {
            store: self.attached.store,
            stage: config.http.stage.as_deref().map(Arc::from),
            ws: Client::from_config(config),
            // Only a session kept server-side can follow a socket.
            socket_url: match config.storage {
                Storage::DynamoDb { .. } => config.ws.url.as_deref().map(Arc::from),
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
        self.serve(Request::from_lambda(event)).await
    }

    /// Handles a request as [`Request::read`] or [`Request::from_lambda`] made it.
    pub(crate) async fn serve(
        &self,
        read: Result<Request, BodyError>,
    ) -> lambda_http::Response<LambdaBody> {
        match read {
            // Every AWS call of the turn is bounded by the invocation's deadline, when the
            // event came with Lambda's context.
            Ok(request) => request.deadline().scope(self.turn(request)).await,
            Err(e) => {
                // The parser's words may echo the body back: they go to the log only.
                tracing::warn!(error = %e, "the request body does not match its content type");
                error_page(StatusCode::BAD_REQUEST, GENERIC_400)
            }
        }
    }

    async fn turn(&self, mut request: Request) -> lambda_http::Response<LambdaBody> {
        let store = &self.attached.store;
        match store.read_headers(request.headers()).await {
            Ok(session) => request.attach(self.attached.clone(), session),
            Err(e) => return Fault::of(&e, "reading the session").page(),
        }
        // Read now: the request moves into the handler.
        let accepted = self
            .compression
            .then(|| Accepted::parse(request.header("accept-encoding")));
        let accepted = accepted.as_ref();
        let mut turn = Turn::begin(
            store,
            &request.session,
            request.had_flash(),
            Via::Cookie,
            Some(self.attached.ws.clone()),
            request.deadline(),
        );
        let handler = &*self.handler;
        // Into `Error` at once: `E` need not be `Send`, and the response future must be.
        let called = turn::call("the handler", async move {
            handler(request).await.map_err(Into::into)
        });
        let Some(mut response) = called.await else {
            return error_page(StatusCode::INTERNAL_SERVER_ERROR, GENERIC_500);
        };
        let push = response.take_push();
        let session = response.take_session();
        match turn.finish(response.is_server_error(), session).await {
            Ok(finished) => {
                if let Some(payload) = push {
                    turn.push(&finished, payload, None).await;
                }
                response.into_http_or_500(finished.set_cookie(), accepted)
            }
            Err(fault) => fault.page(),
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
