//! [`SessionLayer`]: the session read before the router's handler and written after it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum_core::response::Response;
use lambda_http::http::header::{CACHE_CONTROL, SET_COOKIE};
use lambda_http::http::{HeaderValue, Request, StatusCode};

use super::extract::Shared;
use super::{into_axum, page};
use crate::deadline::Deadline;
use crate::http::{PRIVATE, private_cache_control};
use crate::runtime::turn::{self, Turn, Via};
use crate::runtime::{Fault, GENERIC_500, Process};
use crate::session::{self, SessionStore};

/// A tower layer that gives every request of an axum router its session: read once before
/// the handler, written back after it only when a handler changed it. See the [module
/// docs](super).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use arc_functions::axum::{Session, SessionLayer};
/// use arc_functions::{config::Config, http::session::SessionStore};
/// use axum::{Router, routing::get};
///
/// async fn home(session: Session) -> String {
///     format!("count: {}", session.get::<u64>("count").ok().flatten().unwrap_or(0))
/// }
///
/// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
/// let app: Router = Router::new().route("/", get(home)).layer(SessionLayer::new(store));
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct SessionLayer {
    store: Arc<SessionStore>,
}

impl SessionLayer {
    /// A layer using `store`: for tests, or several configurations in one process.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::axum::SessionLayer;
    /// use arc_functions::{config::Config, http::session::SessionStore};
    ///
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let layer = SessionLayer::new(Arc::clone(&store));
    /// // The same store, not a copy: sessions the layer writes, `store` reads.
    /// assert!(Arc::ptr_eq(layer.store(), &store));
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn new(store: Arc<SessionStore>) -> Self {
        Self { store }
    }

    /// A layer using the process-wide store, built from the environment once, as
    /// [`http::async_handler`](crate::http::async_handler) builds it: per-route binaries and
    /// an axum app of the same application, given the same environment, share sessions.
    ///
    /// # Errors
    ///
    /// [`session::Error::Config`] when the environment holds an invalid configuration (no
    /// `ARC_APP_SECRET` outside `ARC_ENV=testing`, say): fail the start with it.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use arc_functions::axum::SessionLayer;
    ///
    /// let app: axum::Router = axum::Router::new().layer(SessionLayer::from_env()?);
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn from_env() -> Result<Self, session::Error> {
        Ok(Self::new(Process::get().store()?))
    }

    /// The store this layer reads and writes sessions with: for [`SessionStore::prepare`] at
    /// start-up, or to read a session outside a request.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arc_functions::axum::SessionLayer;
    /// # use arc_functions::{config::Config, http::session::SessionStore, testing::TestRequest};
    /// # use axum::{Router, routing::{get, post}};
    /// use arc_functions::axum::Session;
    ///
    /// async fn show(session: Session) -> String {
    ///     session.get::<String>("user").ok().flatten().unwrap_or_default()
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let layer = SessionLayer::new(store);
    /// // A session written outside a request (a test's fixture, say) with the layer's own store.
    /// let mut session = arc_functions::http::session::Session::new();
    /// session.insert("user", "ann")?;
    /// let set_cookie = layer.store().write(&session).await?;
    /// let app = Router::new().route("/", get(show)).layer(layer);
    /// let cookie = set_cookie.split(';').next().unwrap_or_default();
    /// assert_eq!(TestRequest::get("/").cookie(cookie).send_to(app).await?.text(), "ann");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn store(&self) -> &Arc<SessionStore> {
        &self.store
    }
}

impl<S> tower_layer::Layer<S> for SessionLayer {
    type Service = SessionService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SessionService {
            inner,
            store: Arc::clone(&self.store),
        }
    }
}

/// The service [`SessionLayer`] wraps around a router or handler.
///
/// # Examples
///
/// ```
/// # use std::sync::Arc;
/// # use arc_functions::axum::SessionLayer;
/// # use arc_functions::{config::Config, http::session::SessionStore, testing::TestRequest};
/// # use axum::{Router, routing::{get, post}};
/// use arc_functions::axum::Session;
/// use tower::Layer;
///
/// async fn count(session: Session) -> Result<String, arc_functions::axum::Error> {
///     let count = session.get::<u64>("count")?.unwrap_or(0) + 1;
///     session.insert("count", count)?;
///     Ok(count.to_string())
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
/// // What `Router::layer` builds, made by hand.
/// let service = SessionLayer::new(Arc::clone(&store)).layer(Router::new().route("/count", post(count)));
/// let response = TestRequest::post("/count").send_to(service).await?;
/// assert_eq!(response.text(), "1");
/// assert_eq!(response.session(&store).await?.get::<u64>("count")?, Some(1));
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Clone, Debug)]
pub struct SessionService<S> {
    inner: S,
    store: Arc<SessionStore>,
}

impl<S, B, ResBody> tower_service::Service<Request<B>> for SessionService<S>
where
    S: tower_service::Service<Request<B>, Response = lambda_http::http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Send + 'static,
    ResBody: http_body::Body<Data = bytes::Bytes> + Send + 'static,
    ResBody::Error: Into<axum_core::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        // The clone that was made ready is the one to call; the fresh clone stays behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let store = Arc::clone(&self.store);
        // Every AWS call of the turn is bounded by the invocation's deadline, when the request
        // came with Lambda's context.
        let deadline = Deadline::of(&request);
        Box::pin(deadline.scope(async move {
            let mut session = match store.read_headers(request.headers()).await {
                Ok(session) => session,
                Err(e) => return Ok(into_axum(Fault::of(&e, "reading the session").page())),
            };
            // Flash messages are read once.
            let flash = session.take_flash();
            let mut turn = Turn::begin(
                &store,
                &session,
                !flash.is_empty(),
                Via::Cookie,
                None,
                deadline,
            );
            let shared = Shared::new(Arc::clone(&store), session, flash);
            request.extensions_mut().insert(shared.clone());
            let Some(response) = turn::catch("the handler", inner.call(request)).await else {
                return Ok(page(StatusCode::INTERNAL_SERVER_ERROR, GENERIC_500));
            };
            let response = response?.map(axum_core::body::Body::new);
            let changed = shared.changed().map(Ok);
            Ok(
                match turn
                    .finish(response.status().is_server_error(), changed)
                    .await
                {
                    Ok(finished) => match finished.set_cookie() {
                        Some(cookie) => with_cookie(response, cookie),
                        None => response,
                    },
                    Err(fault) => into_axum(fault.page()),
                },
            )
        }))
    }
}

/// `response` with the session cookie, made private to caches as async_handler makes it.
fn with_cookie(mut response: Response, cookie: &str) -> Response {
    match HeaderValue::from_str(cookie) {
        Ok(value) => {
            let headers = response.headers_mut();
            headers.append(SET_COOKIE, value);
            let chosen = headers.get(CACHE_CONTROL).and_then(|v| v.to_str().ok());
            let private = private_cache_control(chosen);
            match HeaderValue::from_str(&private) {
                Ok(private) => headers.insert(CACHE_CONTROL, private),
                Err(_) => headers.insert(CACHE_CONTROL, HeaderValue::from_static(PRIVATE)),
            };
            response
        }
        Err(e) => {
            tracing::error!(error = %e, "the session cookie is not a header value");
            page(StatusCode::INTERNAL_SERVER_ERROR, GENERIC_500)
        }
    }
}
