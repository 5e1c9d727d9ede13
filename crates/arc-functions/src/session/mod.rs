//! Sessions, beneath every wrapper: the value ([`Session`]), the store that reads and writes it
//! ([`SessionStore`]) and its providers. Public as [`http::session`](crate::http::session),
//! whose documentation says what they do.

mod connections;
#[cfg(feature = "dynamodb")]
mod dynamodb;
mod error;
mod provider;
mod sealed_cookie;
mod session_cookie;
mod store;
mod ticket;
mod users;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub(crate) use connections::record_id;
pub use error::Error;
pub(crate) use provider::Origin;
pub(crate) use session_cookie::{all_cookies, last_cookie};
pub(crate) use store::Outcome;
pub use store::SessionStore;
pub use ticket::{Refusal, TICKET_LIFETIME};
pub(crate) use users::Which;
#[cfg(feature = "dynamodb")]
pub(crate) use users::device_handle;
pub use users::{BoxError, Device, StampFuture, Stamps, new_stamp};

/// The session key under which flash messages wait for the next request.
pub(crate) const FLASH_KEY: &str = "_flash";
/// The session key holding the random value CSRF tokens are bound to.
pub(crate) const CSRF_BINDING_KEY: &str = "_csrf";

/// How long a session lasts, chosen per session with [`Session::set_expiry`]: the cookie's
/// `Max-Age` and the server-side expiry both follow it, in either provider, and neither ever
/// passes `ARC_SESSION_MAX_AGE` from the session's beginning.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use arc_functions::http::session::{Expiry, Session};
///
/// let mut session = Session::new();
/// assert_eq!(session.expiry(), Expiry::Default);
/// // "Remember me": thirty days after the last visit instead of ARC_SESSION_TTL.
/// session.set_expiry(Expiry::Idle(Duration::from_secs(30 * 86_400)));
/// assert_eq!(session.expiry(), Expiry::Idle(Duration::from_secs(2_592_000)));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expiry {
    /// `ARC_SESSION_TTL` after the last write, and a cookie with the same `Max-Age`.
    #[default]
    Default,
    /// Until the browser closes: a cookie without `Max-Age` or `Expires`. Server-side it still
    /// lapses `ARC_SESSION_TTL` after the last write. (A browser that restores the previous
    /// session's tabs restores such cookies too.)
    BrowserSession,
    /// Its own idle lifetime, longer or shorter than `ARC_SESSION_TTL` ("remember me"):
    /// this long after the last write, in the cookie's `Max-Age` and server-side. Whole
    /// seconds, at least one.
    Idle(std::time::Duration),
}

/// What the next write does with the session: keep it, move it to a new id, or end it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    /// Written under the id it was read with (a new one if it had none).
    #[default]
    Kept,
    /// Written under a new id; the old record is forgotten ([`Session::regenerate`]).
    Regenerated,
    /// Forgotten, and the cookie expired ([`Session::destroy`]).
    Destroyed,
}

/// A session: a JSON object with typed accessors. It also remembers where it was read from,
/// so that writing it back updates the same record, and what its next write should do.
///
/// Two sessions are equal when their data are; where they came from is not compared.
///
/// # Examples
///
/// ```
/// use arc_functions::http::session::Session;
///
/// let mut session = Session::new();
/// session.insert("count", 1u64)?;
/// assert_eq!(session.get::<u64>("count")?, Some(1));
/// assert_eq!(session.remove("count"), Some(serde_json::json!(1)));
/// assert!(session.is_empty());
/// # Ok::<(), arc_functions::http::session::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Session {
    data: Map<String, Value>,
    /// Where the session was read from; `None` for a new one.
    origin: Option<Origin>,
    lifecycle: Lifecycle,
    expiry: Expiry,
    /// The request's `User-Agent`, for the device list a sign-in enters it in; never stored.
    agent: Option<String>,
}

impl PartialEq for Session {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
    }
}

impl std::fmt::Debug for Session {
    /// The data and the lifecycle; never the record's id or secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("data", &self.data)
            .field("lifecycle", &self.lifecycle)
            .field("expiry", &self.expiry)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// An empty session.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(arc_functions::http::session::Session::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A session a provider loaded.
    pub(crate) fn loaded(data: Map<String, Value>, origin: Origin, expiry: Expiry) -> Self {
        Self {
            data,
            origin: Some(origin),
            lifecycle: Lifecycle::Kept,
            expiry,
            agent: None,
        }
    }

    /// Chooses how long the session lasts from its next write on: a browser-session cookie,
    /// or a lifetime of its own ("remember me"). The choice is kept with the session, so
    /// later writes, and [`regenerate`](Self::regenerate), keep it.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::session::{Expiry, Session};
    ///
    /// let mut session = Session::new();
    /// session.set_expiry(Expiry::BrowserSession);
    /// session.regenerate();
    /// assert_eq!(session.expiry(), Expiry::BrowserSession);
    /// ```
    pub fn set_expiry(&mut self, expiry: Expiry) {
        self.expiry = expiry;
    }

    /// How long the session lasts: what [`set_expiry`](Self::set_expiry) chose, for this
    /// session or one of its earlier requests.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::session::{Expiry, Session};
    ///
    /// assert_eq!(Session::new().expiry(), Expiry::Default);
    /// ```
    pub fn expiry(&self) -> Expiry {
        self.expiry
    }

    /// The value under `key`, converted to `T`; `None` when absent or `null` (as JavaScript's
    /// `session.key || fallback` treats both).
    ///
    /// # Errors
    ///
    /// [`Error::Json`] when the value is not a `T`.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::session::Session;
    ///
    /// let session = Session::try_from(serde_json::json!({"count": 2, "user": null}))?;
    /// assert_eq!(session.get::<u64>("count")?, Some(2));
    /// assert_eq!(session.get::<u64>("missing")?, None);
    /// assert_eq!(session.get::<String>("user")?, None);
    /// assert!(session.get::<String>("count").is_err());
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        self.data
            .get(key)
            .filter(|v| !v.is_null())
            .map(|v| T::deserialize(v).map_err(Error::Json))
            .transpose()
    }

    /// Sets `key` to `value`.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] when `value` cannot be represented as JSON (a map with non-string keys).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut session = arc_functions::http::session::Session::new();
    /// session.insert("user", "ann")?;
    /// assert_eq!(session.get::<String>("user")?.as_deref(), Some("ann"));
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn insert<T: Serialize>(&mut self, key: impl Into<String>, value: T) -> Result<(), Error> {
        let value = serde_json::to_value(value).map_err(Error::Json)?;
        self.data.insert(key.into(), value);
        Ok(())
    }

    /// Removes `key`, returning its value.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut session = arc_functions::http::session::Session::new();
    /// session.insert("a", 1)?;
    /// assert_eq!(session.remove("a"), Some(serde_json::json!(1)));
    /// assert_eq!(session.remove("a"), None);
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        self.data.remove(key)
    }

    /// Removes every key, the CSRF binding with them; the session keeps its id.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut session = arc_functions::http::session::Session::new();
    /// session.insert("a", 1)?;
    /// session.clear();
    /// assert!(session.is_empty());
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn clear(&mut self) {
        self.data.clear();
    }

    /// Whether the session holds no keys.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut session = arc_functions::http::session::Session::new();
    /// assert!(session.is_empty());
    /// session.insert("a", 1)?;
    /// assert!(!session.is_empty());
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// True when no cookie brought this session: a first visit, or a cookie that opened
    /// nothing (forged, expired, destroyed). A session emptied and written back (a Reset) is
    /// not new: its cookie still opens it. A WebSocket handler uses this on `$connect` to tell
    /// a browser with a session to follow from one without.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::{Session, SessionStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// assert!(Session::new().is_new());
    /// let store = SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?);
    /// let set_cookie = store.write(&Session::new()).await?;
    /// let request = lambda_http::http::Request::builder()
    ///     .header("cookie", set_cookie.split(';').next().unwrap_or_default())
    ///     .body(lambda_http::Body::Empty)?;
    /// let read = store.read(&request).await?;
    /// assert!(read.is_empty() && !read.is_new());
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn is_new(&self) -> bool {
        self.origin.is_none()
    }

    /// The session as a JSON object.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::session::Session;
    ///
    /// let session = Session::try_from(serde_json::json!({"a": 1}))?;
    /// assert_eq!(session.as_map().len(), 1);
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.data
    }

    /// Starts a new session on the next write, keeping the data: a new id (the request's
    /// DynamoDB item is deleted), a new creation time for `ARC_SESSION_MAX_AGE`, and a new CSRF
    /// binding, so tokens issued before are refused after. Call it after a login, so an id or a
    /// token planted before the login is worthless after it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut session = arc_functions::http::session::Session::new();
    /// session.insert("user", "ann")?;
    /// session.insert("_csrf", "binding")?;
    /// session.regenerate();
    /// assert_eq!(session.get::<String>("user")?.as_deref(), Some("ann"));
    /// assert_eq!(session.get::<String>("_csrf")?, None);
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn regenerate(&mut self) {
        self.data.remove(CSRF_BINDING_KEY);
        self.lifecycle = Lifecycle::Regenerated;
    }

    /// Ends the session on the next write: its data are cleared, the DynamoDB item deleted and
    /// the cookie expired in the browser.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut session = arc_functions::http::session::Session::new();
    /// session.insert("user", "ann")?;
    /// session.destroy();
    /// assert!(session.is_empty());
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn destroy(&mut self) {
        self.data.clear();
        self.lifecycle = Lifecycle::Destroyed;
    }

    /// Sets a flash message: `value` is readable exactly once, with [`Request::flash`] in the
    /// next request, and gone after it (the handler wrapper writes the session back without
    /// it even when that handler returns no session). Return this session from the handler
    /// that sets it.
    ///
    /// [`Request::flash`]: crate::http::Request::flash
    ///
    /// # Errors
    ///
    /// [`Error::Json`] when `value` cannot be represented as JSON.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut session = arc_functions::http::session::Session::new();
    /// session.flash("error", "Wrong password")?;
    /// session.flash("hint", "Check caps lock")?;
    /// assert_eq!(
    ///     session.as_map()["_flash"],
    ///     serde_json::json!({"error": "Wrong password", "hint": "Check caps lock"})
    /// );
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn flash<T: Serialize>(&mut self, key: impl Into<String>, value: T) -> Result<(), Error> {
        let value = serde_json::to_value(value).map_err(Error::Json)?;
        let flash = self
            .data
            .entry(FLASH_KEY)
            .or_insert_with(|| Value::Object(Map::new()));
        if !flash.is_object() {
            *flash = Value::Object(Map::new());
        }
        if let Value::Object(map) = flash {
            map.insert(key.into(), value);
        }
        Ok(())
    }

    /// Removes and returns the flash messages set by the previous request.
    pub(crate) fn take_flash(&mut self) -> Map<String, Value> {
        match self.data.remove(FLASH_KEY) {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }

    /// Where the session was read from.
    pub(crate) fn origin(&self) -> Option<&Origin> {
        self.origin.as_ref()
    }

    pub(crate) fn lifecycle(&self) -> Lifecycle {
        self.lifecycle
    }

    /// Makes a session a handler built afresh (`json!({ "count": 1 })`, `Session::new()`) the
    /// continuation of the one the request arrived with: writing it updates the same record
    /// instead of creating one per write, and `destroy()` or `regenerate()` on it ends the
    /// request's record, so a stolen cookie cannot outlive a logout. The one place that rule
    /// lives; a session that already has an origin keeps its own.
    pub(crate) fn adopt(&mut self, origin: Option<Origin>, expiry: Expiry) {
        if self.origin.is_none() {
            self.origin = origin;
            if self.expiry == Expiry::Default {
                self.expiry = expiry;
            }
        }
    }
}

impl TryFrom<Value> for Session {
    type Error = Error;

    /// A session from a JSON object; `null` is the empty session.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::session::Session;
    ///
    /// assert!(Session::try_from(serde_json::Value::Null)?.is_empty());
    /// assert!(Session::try_from(serde_json::json!([1])).is_err());
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    fn try_from(value: Value) -> Result<Self, Error> {
        match value {
            Value::Object(data) => Ok(data.into()),
            Value::Null => Ok(Self::new()),
            Value::Array(_) => Err(Error::NotAnObject("an array")),
            Value::String(_) => Err(Error::NotAnObject("a string")),
            Value::Number(_) => Err(Error::NotAnObject("a number")),
            Value::Bool(_) => Err(Error::NotAnObject("a boolean")),
        }
    }
}

impl From<Map<String, Value>> for Session {
    /// # Examples
    ///
    /// ```
    /// let mut map = serde_json::Map::new();
    /// map.insert("a".into(), 1.into());
    /// let session = arc_functions::http::session::Session::from(map);
    /// assert_eq!(session.get::<i32>("a")?, Some(1));
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    fn from(data: Map<String, Value>) -> Self {
        Self {
            data,
            ..Self::default()
        }
    }
}

impl Serialize for Session {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.data.serialize(serializer)
    }
}

/// What a response's `session` takes ([`http::Response::session`](crate::http::Response::session),
/// [`ws::Response::session`](crate::ws::Response::session)): a [`Session`] or a JSON value.
///
/// # Examples
///
/// ```
/// use arc_functions::http::session::{IntoSession, Session};
///
/// fn user(session: impl IntoSession) -> Option<String> {
///     session.into_session().ok()?.get("user").ok()?
/// }
/// let mut session = Session::new();
/// session.insert("user", "ann")?;
/// assert_eq!(user(session), Some("ann".to_owned()));
/// assert_eq!(user(serde_json::json!({"user": "bo"})), Some("bo".to_owned()));
/// assert_eq!(user(serde_json::json!("not an object")), None);
/// # Ok::<(), arc_functions::http::session::Error>(())
/// ```
pub trait IntoSession {
    /// Converts into a session, or says why it cannot be one.
    ///
    /// # Errors
    ///
    /// [`Error::NotAnObject`] for JSON that is not an object or null.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::session::IntoSession;
    /// assert_eq!(serde_json::json!({"a": 1}).into_session()?.get::<i32>("a")?, Some(1));
    /// assert!(serde_json::json!(null).into_session()?.is_empty());
    /// assert!(serde_json::json!(3).into_session().is_err());
    /// # Ok::<(), arc_functions::http::Error>(())
    /// ```
    fn into_session(self) -> Result<Session, Error>;
}

impl IntoSession for Session {
    fn into_session(self) -> Result<Session, Error> {
        Ok(self)
    }
}

impl IntoSession for serde_json::Value {
    fn into_session(self) -> Result<Session, Error> {
        Session::try_from(self)
    }
}

/// # Examples
///
/// ```
/// use arc_functions::http::session::IntoSession;
///
/// let mut map = serde_json::Map::new();
/// map.insert("count".into(), 3.into());
/// assert_eq!(map.into_session()?.get::<u64>("count")?, Some(3));
/// # Ok::<(), arc_functions::http::Error>(())
/// ```
impl IntoSession for serde_json::Map<String, serde_json::Value> {
    fn into_session(self) -> Result<Session, Error> {
        Ok(Session::from(self))
    }
}

#[cfg(test)]
mod tests;
