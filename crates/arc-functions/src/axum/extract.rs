//! The extractors: [`Session`], [`Flash`], [`CsrfToken`], [`CsrfForm`] and [`CsrfHeader`].

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum_core::extract::{FromRequest, FromRequestParts};
use axum_core::response::{IntoResponse, Response};
use lambda_http::http::StatusCode;
use lambda_http::http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::page;
use crate::http::csrf;
use crate::keys;
use crate::runtime::{GENERIC_500, Params};
use crate::session::{self, SessionStore};

/// What the layer shares with the extractors of one request.
#[derive(Clone)]
pub(crate) struct Shared {
    store: Arc<SessionStore>,
    state: Arc<Mutex<State>>,
    /// This request's flash messages, taken out of the session as it was read.
    flash: Arc<Map<String, Value>>,
}

struct State {
    session: session::Session,
    changed: bool,
}

impl Shared {
    /// `session` with its `flash` messages already taken out (the turn writes it back
    /// without them when no handler changes it).
    pub(crate) fn new(
        store: Arc<SessionStore>,
        session: session::Session,
        flash: Map<String, Value>,
    ) -> Self {
        Self {
            store,
            state: Arc::new(Mutex::new(State {
                session,
                changed: false,
            })),
            flash: Arc::new(flash),
        }
    }

    /// The session to write back, when a handler changed it.
    pub(crate) fn changed(&self) -> Option<session::Session> {
        let state = self.lock();
        state.changed.then(|| state.session.clone())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The lock is never held across an await or a handler's code; a panic while it was
        // held left the session as whole as the last completed change.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn of(parts: &Parts) -> Result<Self, Rejection> {
        parts
            .extensions
            .get::<Self>()
            .cloned()
            .ok_or(Rejection::NoLayer)
    }
}

/// Why an extractor refused a request.
///
/// # Examples
///
/// ```
/// use arc_functions::axum::Rejection;
/// use arc_functions::http::csrf;
/// use axum::response::IntoResponse;
///
/// let refused = Rejection::Csrf(csrf::Error::Missing);
/// assert_eq!(refused.to_string(), "CSRF check failed: no CSRF token in the _csrf form field or the x-csrf-token header");
/// assert_eq!(refused.into_response().status(), 403);
/// assert_eq!(Rejection::Form.into_response().status(), 400);
/// // A router without the layer is the program's fault, not the client's.
/// assert_eq!(Rejection::NoLayer.into_response().status(), 500);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// The router has no [`SessionLayer`](super::SessionLayer): a programming error, answered
    /// with a generic 500 and logged.
    #[error(
        "no SessionLayer wraps this route: add .layer(SessionLayer::from_env()?) to the router"
    )]
    NoLayer,
    /// A CSRF token was missing or did not verify: a 403.
    #[error("CSRF check failed: {0}")]
    Csrf(csrf::Error),
    /// A form body that does not parse: a 400.
    #[error("the form body cannot be read")]
    Form,
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Self::NoLayer => {
                tracing::error!("{self}");
                page(StatusCode::INTERNAL_SERVER_ERROR, GENERIC_500)
            }
            Self::Csrf(e) => {
                tracing::warn!(reason = %e, "request refused by the CSRF check");
                page(StatusCode::FORBIDDEN, FORBIDDEN)
            }
            Self::Form => page(StatusCode::BAD_REQUEST, crate::runtime::GENERIC_400),
        }
    }
}

const FORBIDDEN: &str =
    "This form has expired or did not come from this site; reload the page and try again.";

/// The request's session, to read and change: the layer writes it back after the handler when
/// a change was made. Clones share the one session of the request.
///
/// # Examples
///
/// ```
/// use arc_functions::axum::{Error, Session};
/// use axum::response::Redirect;
///
/// async fn login(session: Session) -> Result<Redirect, Error> {
///     session.regenerate(); // a new id after a login
///     session.insert("user", "ann")?;
///     session.flash("notice", "Welcome back")?;
///     Ok(Redirect::to("/"))
/// }
/// ```
#[derive(Clone)]
pub struct Session(Shared);

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Session")
            .field(&self.0.lock().session)
            .finish()
    }
}

impl Session {
    /// The value at `key`, as a `T`; `None` when absent.
    ///
    /// # Errors
    ///
    /// [`session::Error::Json`] when the value is not a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arc_functions::axum::SessionLayer;
    /// # use arc_functions::{config::Config, http::session::SessionStore, testing::TestRequest};
    /// # use axum::{Router, routing::{get, post}};
    /// use arc_functions::axum::{Error, Session};
    ///
    /// async fn visits(session: Session) -> Result<String, Error> {
    ///     Ok(format!("visits: {}", session.get::<u64>("visits")?.unwrap_or(0)))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let app = Router::new().route("/", get(visits)).layer(SessionLayer::new(Arc::clone(&store)));
    /// // A browser whose session already holds a count.
    /// let mut saved = arc_functions::http::session::Session::new();
    /// saved.insert("visits", 3)?;
    /// let set_cookie = store.write(&saved).await?;
    /// let cookie = set_cookie.split(';').next().unwrap_or_default();
    /// assert_eq!(TestRequest::get("/").cookie(cookie).send_to(app.clone()).await?.text(), "visits: 3");
    /// assert_eq!(TestRequest::get("/").send_to(app).await?.text(), "visits: 0");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, session::Error> {
        self.0.lock().session.get(key)
    }

    /// Sets `key` to `value`.
    ///
    /// # Errors
    ///
    /// [`session::Error::Json`] when `value` is not representable as JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arc_functions::axum::SessionLayer;
    /// # use arc_functions::{config::Config, http::session::SessionStore, testing::TestRequest};
    /// # use axum::{Router, routing::{get, post}};
    /// use arc_functions::axum::{Error, Session};
    ///
    /// async fn count(session: Session) -> Result<String, Error> {
    ///     let count = session.get::<u64>("count")?.unwrap_or(0) + 1;
    ///     session.insert("count", count)?;
    ///     Ok(count.to_string())
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let app = Router::new().route("/count", post(count)).layer(SessionLayer::new(Arc::clone(&store)));
    /// let response = TestRequest::post("/count").send_to(app).await?;
    /// assert_eq!(response.session(&store).await?.get::<u64>("count")?, Some(1));
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn insert<T: Serialize>(
        &self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), session::Error> {
        self.change(|s| s.insert(key, value))
    }

    /// Removes `key`, returning its value.
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
    /// async fn checkout(session: Session) -> String {
    ///     match session.remove("cart") {
    ///         Some(cart) => format!("bought {cart}"),
    ///         None => "nothing to buy".into(),
    ///     }
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let app = Router::new().route("/checkout", post(checkout)).layer(SessionLayer::new(Arc::clone(&store)));
    /// // A browser whose session already holds a cart.
    /// let mut saved = arc_functions::http::session::Session::new();
    /// saved.insert("cart", ["tea"])?;
    /// let set_cookie = store.write(&saved).await?;
    /// let cookie = set_cookie.split(';').next().unwrap_or_default();
    /// let response = TestRequest::post("/checkout").cookie(cookie).send_to(app).await?;
    /// assert_eq!(response.text(), r#"bought ["tea"]"#);
    /// assert_eq!(response.session(&store).await?.get::<Vec<String>>("cart")?, None);
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn remove(&self, key: &str) -> Option<Value> {
        let mut state = self.0.lock();
        let removed = state.session.remove(key);
        state.changed |= removed.is_some();
        removed
    }

    /// Empties the session; its id and CSRF binding stay (as `Session::clear`).
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
    /// async fn reset(session: Session) -> &'static str {
    ///     session.clear();
    ///     "cleared"
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let app = Router::new().route("/reset", post(reset)).layer(SessionLayer::new(Arc::clone(&store)));
    /// // A browser whose session already holds preferences.
    /// let mut saved = arc_functions::http::session::Session::new();
    /// saved.insert("theme", "dark")?;
    /// saved.insert("lang", "en")?;
    /// let set_cookie = store.write(&saved).await?;
    /// let cookie = set_cookie.split(';').next().unwrap_or_default();
    /// let response = TestRequest::post("/reset").cookie(cookie).send_to(app).await?;
    /// assert!(response.session(&store).await?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn clear(&self) {
        self.change(session::Session::clear);
    }

    /// A new id on this request's write (call it after a login): see
    /// [`session::Session::regenerate`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arc_functions::axum::SessionLayer;
    /// # use arc_functions::{config::Config, http::session::SessionStore, testing::TestRequest};
    /// # use axum::{Router, routing::{get, post}};
    /// use arc_functions::axum::{Error, Session};
    ///
    /// async fn login(session: Session) -> Result<&'static str, Error> {
    ///     session.regenerate();
    ///     session.insert("user", "ann")?;
    ///     Ok("signed in")
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let app = Router::new().route("/login", post(login)).layer(SessionLayer::new(Arc::clone(&store)));
    /// // A browser whose session already holds a preference and a CSRF binding.
    /// let mut saved = arc_functions::http::session::Session::new();
    /// saved.insert("theme", "dark")?;
    /// saved.insert("_csrf", "planted before the login")?;
    /// let set_cookie = store.write(&saved).await?;
    /// let cookie = set_cookie.split(';').next().unwrap_or_default();
    /// let after = TestRequest::post("/login").cookie(cookie).send_to(app).await?.session(&store).await?;
    /// assert_eq!(after.get::<String>("theme")?.as_deref(), Some("dark"));
    /// assert_eq!(after.get::<String>("user")?.as_deref(), Some("ann"));
    /// // Tokens issued before the login no longer verify.
    /// assert_eq!(after.get::<String>("_csrf")?, None);
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn regenerate(&self) {
        self.change(session::Session::regenerate);
    }

    /// Ends the session: the cookie is expired and a DynamoDB item deleted.
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
    /// async fn logout(session: Session) -> &'static str {
    ///     session.destroy();
    ///     "signed out"
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let app = Router::new().route("/logout", post(logout)).layer(SessionLayer::new(Arc::clone(&store)));
    /// // A browser whose session already holds a user.
    /// let mut saved = arc_functions::http::session::Session::new();
    /// saved.insert("user", "ann")?;
    /// let set_cookie = store.write(&saved).await?;
    /// let cookie = set_cookie.split(';').next().unwrap_or_default();
    /// let response = TestRequest::post("/logout").cookie(cookie).send_to(app).await?;
    /// assert!(response.header("set-cookie").is_some_and(|c| c.contains("Max-Age=0")));
    /// assert!(response.session(&store).await?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn destroy(&self) {
        self.change(session::Session::destroy);
    }

    /// A message for the next request only, read there with [`Flash`].
    ///
    /// # Errors
    ///
    /// [`session::Error::Json`] when `value` is not representable as JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arc_functions::axum::SessionLayer;
    /// # use arc_functions::{config::Config, http::session::SessionStore, testing::TestRequest};
    /// # use axum::{Router, routing::{get, post}};
    /// use arc_functions::axum::{Error, Flash, Session};
    ///
    /// async fn save(session: Session) -> Result<&'static str, Error> {
    ///     session.flash("notice", "Saved")?;
    ///     Ok("saved")
    /// }
    ///
    /// async fn show(flash: Flash) -> String {
    ///     flash.get::<String>("notice").unwrap_or_default()
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let app = Router::new()
    ///     .route("/save", post(save))
    ///     .route("/", get(show))
    ///     .layer(SessionLayer::new(Arc::clone(&store)));
    /// let saved = TestRequest::post("/save").send_to(app.clone()).await?;
    /// let shown = TestRequest::get("/").cookie(&saved.session_cookie().expect("a session")).send_to(app.clone()).await?;
    /// assert_eq!(shown.text(), "Saved");
    /// // Read once: the session written back no longer holds it.
    /// let again = TestRequest::get("/").cookie(&shown.session_cookie().expect("a session")).send_to(app).await?;
    /// assert_eq!(again.text(), "");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn flash<T: Serialize>(
        &self,
        key: impl Into<String>,
        value: T,
    ) -> Result<(), session::Error> {
        self.change(|s| s.flash(key, value))
    }

    /// Signs `user` in with their credential `stamp`: a new id on this request's write, and in
    /// DynamoDB mode the session listed under the user. See [`session::Session::sign_in`].
    ///
    /// # Errors
    ///
    /// As [`session::Session::sign_in`].
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::axum::{Error, Session};
    ///
    /// async fn sign_in(session: Session) -> Result<&'static str, Error> {
    ///     session.sign_in("ann", "stamp-1")?;
    ///     assert_eq!(session.user().as_deref(), Some("ann"));
    ///     Ok("signed in")
    /// }
    /// # let _ = sign_in;
    /// ```
    pub fn sign_in(&self, user: &str, stamp: &str) -> Result<(), session::Error> {
        self.change(|s| s.sign_in(user, stamp))
    }

    /// Signs out: the session ends on this request's write and leaves its user's list. See
    /// [`session::Session::sign_out`].
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::axum::Session;
    ///
    /// async fn log_out(session: Session) -> &'static str {
    ///     session.sign_out();
    ///     assert_eq!(session.user(), None);
    ///     "signed out"
    /// }
    /// # let _ = log_out;
    /// ```
    pub fn sign_out(&self) {
        self.change(session::Session::sign_out);
    }

    /// The signed-in user, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::axum::Session;
    ///
    /// async fn greet(session: Session) -> String {
    ///     format!("hello, {}", session.user().unwrap_or_else(|| "stranger".into()))
    /// }
    /// # let _ = greet;
    /// ```
    pub fn user(&self) -> Option<String> {
        self.0.lock().session.user().map(str::to_owned)
    }

    /// The signed-in user's sessions: see [`SessionStore::devices`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::devices`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arc_functions::axum::SessionLayer;
    /// # use arc_functions::{config::Config, http::session::SessionStore, testing::TestRequest};
    /// # use axum::{Router, routing::{get, post}};
    /// use arc_functions::axum::Session;
    /// use arc_functions::http::session::Error;
    ///
    /// async fn devices(session: Session) -> String {
    ///     match session.devices().await {
    ///         Ok(devices) => format!("signed in on {} devices", devices.len()),
    ///         Err(Error::CookieSessions) => "sessions live in the cookie: no list".into(),
    ///         Err(e) => e.to_string(),
    ///     }
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// // Sessions sealed in the cookie leave nothing server-side to list.
    /// let app = Router::new().route("/devices", get(devices)).layer(SessionLayer::new(Arc::clone(&store)));
    /// let response = TestRequest::get("/devices").send_to(app).await?;
    /// assert_eq!(response.text(), "sessions live in the cookie: no list");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub async fn devices(&self) -> Result<Vec<session::Device>, session::Error> {
        self.0.store.devices(&self.snapshot()).await
    }

    /// Ends the user's other session `handle` names: see [`SessionStore::end_device`]. The
    /// axum layer has no WebSocket client, so that session's sockets are not told; they read
    /// no session from now on.
    ///
    /// # Errors
    ///
    /// As [`SessionStore::devices`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arc_functions::axum::SessionLayer;
    /// # use arc_functions::{config::Config, http::session::SessionStore, testing::TestRequest};
    /// # use axum::{Router, routing::{get, post}};
    /// use arc_functions::axum::Session;
    /// use arc_functions::http::session::Error;
    ///
    /// async fn end(session: Session) -> String {
    ///     match session.sign_out_device("d1").await {
    ///         Ok(true) => "signed out".into(),
    ///         Ok(false) => "no such device".into(),
    ///         Err(Error::CookieSessions) => "sessions live in the cookie".into(),
    ///         Err(e) => e.to_string(),
    ///     }
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// // Sessions sealed in the cookie leave nothing server-side to end.
    /// let app = Router::new().route("/devices/end", post(end)).layer(SessionLayer::new(Arc::clone(&store)));
    /// let response = TestRequest::post("/devices/end").send_to(app).await?;
    /// assert_eq!(response.text(), "sessions live in the cookie");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub async fn sign_out_device(&self, handle: &str) -> Result<bool, session::Error> {
        self.0.store.end_device(&self.snapshot(), handle).await
    }

    /// Ends every other session of the user: see [`SessionStore::end_other_devices`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::devices`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arc_functions::axum::SessionLayer;
    /// # use arc_functions::{config::Config, http::session::SessionStore, testing::TestRequest};
    /// # use axum::{Router, routing::{get, post}};
    /// use arc_functions::axum::Session;
    /// use arc_functions::http::session::Error;
    ///
    /// async fn others(session: Session) -> String {
    ///     match session.sign_out_others().await {
    ///         Ok(ended) => format!("signed out of {ended} other devices"),
    ///         Err(Error::CookieSessions) => "sessions live in the cookie".into(),
    ///         Err(e) => e.to_string(),
    ///     }
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// // Sessions sealed in the cookie leave nothing server-side to end.
    /// let app = Router::new().route("/devices/others", post(others)).layer(SessionLayer::new(Arc::clone(&store)));
    /// let response = TestRequest::post("/devices/others").send_to(app).await?;
    /// assert_eq!(response.text(), "sessions live in the cookie");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub async fn sign_out_others(&self) -> Result<usize, session::Error> {
        self.0.store.end_other_devices(&self.snapshot()).await
    }

    /// "Sign out everywhere": [`Session::sign_out_others`], then this session signed out.
    ///
    /// # Errors
    ///
    /// As [`SessionStore::devices`].
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::axum::{Error, Session};
    ///
    /// // POST /account/everywhere. Also `devices()` to list them, `sign_out_device(handle)` and
    /// // `sign_out_others()`; all need sessions kept in DynamoDB.
    /// async fn everywhere(session: Session) -> Result<String, Error> {
    ///     let ended = session.sign_out_everywhere().await?;
    ///     Ok(format!("signed out of {} other devices", ended))
    /// }
    /// # let _ = everywhere;
    /// ```
    pub async fn sign_out_everywhere(&self) -> Result<usize, session::Error> {
        let ended = self.sign_out_others().await?;
        self.sign_out();
        Ok(ended)
    }

    /// A copy of the whole session as it is now.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arc_functions::axum::SessionLayer;
    /// # use arc_functions::{config::Config, http::session::SessionStore, testing::TestRequest};
    /// # use axum::{Router, routing::{get, post}};
    /// use arc_functions::axum::{Error, Session};
    ///
    /// async fn compare(session: Session) -> Result<String, Error> {
    ///     let before = session.snapshot();
    ///     session.insert("count", 2)?;
    ///     Ok(format!("{:?} then {:?}", before.get::<u64>("count")?, session.get::<u64>("count")?))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let app = Router::new().route("/", post(compare)).layer(SessionLayer::new(Arc::clone(&store)));
    /// assert_eq!(TestRequest::post("/").send_to(app).await?.text(), "None then Some(2)");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn snapshot(&self) -> session::Session {
        self.0.lock().session.clone()
    }

    fn change<R>(&self, f: impl FnOnce(&mut session::Session) -> R) -> R {
        let mut state = self.0.lock();
        state.changed = true;
        f(&mut state.session)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        Shared::of(parts).map(Self)
    }
}

/// This request's flash messages, set by the previous request with [`Session::flash`]; they
/// are gone from the session once this request is answered.
///
/// # Examples
///
/// ```
/// use arc_functions::axum::Flash;
///
/// async fn home(flash: Flash) -> String {
///     flash.get::<String>("notice").unwrap_or_default()
/// }
/// ```
#[derive(Clone, Debug)]
pub struct Flash(Arc<Map<String, Value>>);

impl Flash {
    /// The message at `key`, when there is one and it is a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use std::sync::Arc;
    /// # use arc_functions::axum::SessionLayer;
    /// # use arc_functions::{config::Config, http::session::SessionStore, testing::TestRequest};
    /// # use axum::{Router, routing::{get, post}};
    /// use arc_functions::axum::{Error, Flash, Session};
    ///
    /// async fn fail(session: Session) -> Result<&'static str, Error> {
    ///     session.flash("error", "Wrong password")?;
    ///     session.flash("attempts", 3)?;
    ///     Ok("try again")
    /// }
    ///
    /// async fn form(flash: Flash) -> String {
    ///     // A message of another type reads as none.
    ///     format!("{:?} {:?} {:?}", flash.get::<String>("error"), flash.get::<u32>("attempts"), flash.get::<u32>("error"))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// # let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let app = Router::new()
    ///     .route("/login", get(form).post(fail))
    ///     .layer(SessionLayer::new(Arc::clone(&store)));
    /// let failed = TestRequest::post("/login").send_to(app.clone()).await?;
    /// let shown = TestRequest::get("/login").cookie(&failed.session_cookie().expect("a session")).send_to(app).await?;
    /// assert_eq!(shown.text(), r#"Some("Wrong password") Some(3) None"#);
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.0.get(key).and_then(|v| T::deserialize(v).ok())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Flash {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        Shared::of(parts).map(|shared| Self(shared.flash))
    }
}

/// A CSRF token for the request's session, for a form's hidden [`csrf::FIELD`] field or the
/// [`csrf::HEADER`] header. The first token of a session stores a random binding in it, which
/// the layer writes back.
///
/// # Examples
///
/// ```
/// use arc_functions::axum::CsrfToken;
/// use axum::response::Html;
///
/// async fn form(CsrfToken(token): CsrfToken) -> Html<String> {
///     Html(format!("<form method=post><input type=hidden name=_csrf value=\"{token}\"></form>"))
/// }
/// ```
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for CsrfToken {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        let shared = Shared::of(parts)?;
        let mut state = shared.lock();
        let before = state.session.as_map().len();
        let token =
            csrf::issue(&shared.store, &mut state.session, keys::now()).map_err(Rejection::Csrf)?;
        // Only a new binding changes the session.
        state.changed |= state.session.as_map().len() != before;
        Ok(Self(token))
    }
}

/// Checks the [`csrf::HEADER`] header against the session; refuses the request with a 403
/// otherwise. For `fetch` calls; forms use [`CsrfForm`].
///
/// # Examples
///
/// ```
/// use arc_functions::axum::CsrfHeader;
///
/// async fn delete_note(_: CsrfHeader) -> &'static str {
///     "deleted"
/// }
/// ```
#[derive(Clone, Copy, Debug)]
pub struct CsrfHeader;

impl<S: Send + Sync> FromRequestParts<S> for CsrfHeader {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Rejection> {
        let shared = Shared::of(parts)?;
        let token = parts
            .headers
            .get(csrf::HEADER)
            .and_then(|v| v.to_str().ok())
            .ok_or(Rejection::Csrf(csrf::Error::Missing))?;
        check(&shared, token)?;
        Ok(Self)
    }
}

/// A URL-encoded form whose [`csrf::FIELD`] field verifies against the session, deserialized
/// into `T`; a 403 otherwise, before the handler runs.
///
/// # Examples
///
/// ```
/// use arc_functions::axum::{CsrfForm, Session};
///
/// #[derive(serde::Deserialize)]
/// struct Login {
///     user: String,
/// }
///
/// async fn login(session: Session, CsrfForm(form): CsrfForm<Login>) -> String {
///     session.regenerate();
///     let _ = session.insert("user", &form.user);
///     form.user
/// }
/// ```
#[derive(Clone, Debug)]
pub struct CsrfForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(
        request: axum_core::extract::Request,
        state: &S,
    ) -> Result<Self, Response> {
        let shared = request
            .extensions()
            .get::<Shared>()
            .cloned()
            .ok_or_else(|| Rejection::NoLayer.into_response())?;
        let bytes = bytes::Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let text = std::str::from_utf8(&bytes).map_err(|_| Rejection::Form.into_response())?;
        let token = Params::parse(text).get(csrf::FIELD).map(str::to_owned);
        let token = token.ok_or_else(|| Rejection::Csrf(csrf::Error::Missing).into_response())?;
        check(&shared, &token).map_err(IntoResponse::into_response)?;
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            tracing::warn!(error = %e, "the form does not match its type");
            Rejection::Form.into_response()
        })?;
        Ok(Self(form))
    }
}

fn check(shared: &Shared, token: &str) -> Result<(), Rejection> {
    let state = shared.lock();
    csrf::check(&shared.store, &state.session, token, keys::now()).map_err(Rejection::Csrf)
}
