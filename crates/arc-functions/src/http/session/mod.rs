//! Sessions: read from the `_idx` cookie, written back as a `Set-Cookie` value.
//!
//! The provider is chosen once, at cold start, from `SESSION_TABLE_NAME`: unset or `jwe` seals
//! the session inside the cookie; any other value names a
//! DynamoDB table and the cookie then carries only a signed id. [`read`] and [`write()`] use the
//! process-wide [`SessionStore`] built from the environment on first use;
//! [`SessionStore::new`] builds one from an explicit [`Config`] for tests or several stores.
//!
//! A missing, garbled, tampered, expired or foreign cookie reads as an empty session, never as
//! an error: only a broken configuration or an unreachable DynamoDB table is an [`Error`].

mod cookie;
pub(crate) use cookie::all as cookies;
mod dynamo;
mod sealed_cookie;

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::csrf::CsrfKeys;
use crate::config::{self, Config, Provider};
use cookie::CookieAttributes;
use dynamo::DynamoStore;
use sealed_cookie::SealedCookie;

/// The session key under which flash messages wait for the next request.
pub const FLASH_KEY: &str = "_flash";

/// What can go wrong reading or writing a session.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The environment holds an invalid configuration.
    #[error("invalid session configuration: {0}")]
    Config(#[from] config::Error),
    /// The `Set-Cookie` value would be larger than browsers keep.
    #[error(
        "the session cookie would be {size} bytes, over the {limit}-byte limit browsers keep; store less in the session or use DynamoDB sessions (SESSION_TABLE_NAME)"
    )]
    TooLarge {
        /// The size of the whole `Set-Cookie` value, in bytes.
        size: usize,
        /// The limit, 4,096 bytes.
        limit: usize,
    },
    /// A value could not be converted to or from JSON.
    #[error("session value: {0}")]
    Json(#[source] serde_json::Error),
    /// A session must be a JSON object.
    #[error("a session must be a JSON object, got {0}")]
    NotAnObject(&'static str),
    /// Sealing failed (it cannot for inputs under 256 GiB).
    #[error("sealing the session failed")]
    Seal,
    /// The operating system's random source failed.
    #[error("the OS random source failed: {0}")]
    Random(String),
    /// A DynamoDB item could not be converted.
    #[error("session item conversion: {0}")]
    Item(String),
    /// A DynamoDB call failed.
    #[error("DynamoDB {operation} on table {table:?} failed: {cause}")]
    DynamoDb {
        /// The operation, e.g. `GetItem`.
        operation: &'static str,
        /// The table's name.
        table: String,
        /// True when retrying later may work: unreachable, timed out, throttled.
        unavailable: bool,
        /// What DynamoDB or the connection said.
        cause: String,
    },
}

impl Error {
    /// Whether the failure is passing (DynamoDB unreachable or throttled): a 503, not a 500.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::session::Error;
    ///
    /// assert!(!Error::NotAnObject("an array").is_unavailable());
    /// ```
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::DynamoDb {
                unavailable: true,
                ..
            }
        )
    }
}

/// A session: a JSON object with typed accessors, plus what the store needs to write it back.
///
/// Two sessions are equal when their data are; the id and flags are not compared.
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
#[derive(Clone, Debug, Default)]
pub struct Session {
    data: Map<String, Value>,
    /// The DynamoDB id this session was read from.
    id: Option<String>,
    /// The per-session random `_secret` @architect/functions keeps beside DynamoDB sessions.
    item_secret: Option<String>,
    /// When the session began (epoch seconds), for `ARC_SESSION_MAX_AGE`.
    created: Option<u64>,
    regenerate: bool,
    destroy: bool,
}

impl PartialEq for Session {
    fn eq(&self, other: &Self) -> bool {
        self.data == other.data
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

    /// Removes every key; the session keeps its id.
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
    /// assert!(arc_functions::http::session::Session::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
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

    /// Starts a new session on the next write, keeping the data: a new id (the old DynamoDB
    /// item is deleted) and a new creation time for `ARC_SESSION_MAX_AGE`. Call it after a
    /// login, so an id planted before the login is worthless after it.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut session = arc_functions::http::session::Session::new();
    /// session.insert("user", "ann")?;
    /// session.regenerate();
    /// assert_eq!(session.get::<String>("user")?.as_deref(), Some("ann"));
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn regenerate(&mut self) {
        self.regenerate = true;
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
        self.destroy = true;
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
    /// assert!(!session.is_empty());
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn flash<T: Serialize>(&mut self, key: impl Into<String>, value: T) -> Result<(), Error> {
        let value = serde_json::to_value(value).map_err(Error::Json)?;
        match self.data.entry(FLASH_KEY) {
            serde_json::map::Entry::Occupied(mut e) => match e.get_mut() {
                Value::Object(map) => {
                    map.insert(key.into(), value);
                }
                other => *other = Value::Object(Map::from_iter([(key.into(), value)])),
            },
            serde_json::map::Entry::Vacant(e) => {
                e.insert(Value::Object(Map::from_iter([(key.into(), value)])));
            }
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

    /// The same session's identity (id, per-item secret, creation time) without its data.
    pub(crate) fn identity(&self) -> Session {
        Session {
            data: Map::new(),
            id: self.id.clone(),
            item_secret: self.item_secret.clone(),
            created: self.created,
            regenerate: false,
            destroy: false,
        }
    }

    /// Carries the identity of `from` (the session the request arrived with) into a session
    /// built afresh by a handler, so that writing `{count}` updates the same DynamoDB item
    /// instead of creating one per write.
    pub(crate) fn inherit_identity(&mut self, from: &Session) {
        if self.id.is_none() && !self.regenerate && !self.destroy {
            self.id.clone_from(&from.id);
            self.item_secret.clone_from(&from.item_secret);
            self.created = from.created;
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

enum Backend {
    Sealed(SealedCookie),
    Dynamo(DynamoStore),
}

/// A configured session store: the provider, its keys and the cookie's attributes, built
/// once at cold start. Reading and writing neither derive keys nor take locks.
///
/// # Examples
///
/// ```
/// use arc_functions::config::Config;
/// use arc_functions::http::session::{Session, SessionStore};
///
/// # tokio_test_block_on(async {
/// let store = SessionStore::new(&Config::from_vars([("ARC_APP_SECRET", "s")])?);
/// let mut session = Session::new();
/// session.insert("count", 1)?;
/// let set_cookie = store.write(&session).await?;
/// assert!(set_cookie.starts_with("_idx="));
///
/// let cookie = set_cookie.split(';').next().unwrap_or_default();
/// let request = lambda_http::http::Request::builder()
///     .header("cookie", cookie)
///     .body(lambda_http::Body::Empty)?;
/// assert_eq!(store.read(&request).await?, session);
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
pub struct SessionStore {
    backend: Backend,
    cookie: CookieAttributes,
    csrf: CsrfKeys,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let provider = match &self.backend {
            Backend::Sealed(_) => "sealed cookie".to_owned(),
            Backend::Dynamo(d) => format!("DynamoDB table {:?}", d.table()),
        };
        f.debug_struct("SessionStore")
            .field("provider", &provider)
            .finish_non_exhaustive()
    }
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Tells operators when a key rotation is done: once no session arrives under a previous
/// secret, these lines stop. Writes always use the current secret, so nothing else needs it.
fn note_previous_secret(key_index: usize) {
    if key_index > 0 {
        tracing::debug!(
            previous_secret = key_index,
            "session sealed or signed with a previous secret"
        );
    }
}

static GLOBAL: OnceLock<Result<SessionStore, config::Error>> = OnceLock::new();

impl SessionStore {
    /// Builds a store: derives the keys, and in DynamoDB mode prepares a client that is built
    /// from the standard AWS environment on first use. In cookie mode no AWS configuration is
    /// ever loaded.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::SessionStore;
    ///
    /// let store = SessionStore::new(&Config::from_vars([("SESSION_TABLE_NAME", "sessions")])?);
    /// assert!(format!("{store:?}").contains("sessions"));
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn new(config: &Config) -> Self {
        let backend = match &config.provider {
            Provider::DynamoDb { table } => {
                Backend::Dynamo(DynamoStore::new(config, table.clone()))
            }
            _ => Backend::Sealed(SealedCookie::new(config)),
        };
        Self {
            backend,
            cookie: CookieAttributes::new(config),
            csrf: CsrfKeys::new(config),
        }
    }

    pub(crate) fn csrf(&self) -> &CsrfKeys {
        &self.csrf
    }

    /// Like [`SessionStore::new`] in DynamoDB mode, with a client you built (a local
    /// endpoint, an interceptor that counts calls). In cookie mode the client is unused.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::SessionStore;
    ///
    /// let sdk = aws_sdk_dynamodb::Config::builder()
    ///     .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
    ///     .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
    ///     .endpoint_url("http://127.0.0.1:4567")
    ///     .build();
    /// let config = Config::from_vars([("SESSION_TABLE_NAME", "sessions")])?;
    /// let store = SessionStore::with_dynamodb_client(&config, aws_sdk_dynamodb::Client::from_conf(sdk));
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn with_dynamodb_client(config: &Config, client: aws_sdk_dynamodb::Client) -> Self {
        let mut store = Self::new(config);
        if let Backend::Dynamo(d) = store.backend {
            store.backend = Backend::Dynamo(d.with_client(client));
        }
        store
    }

    /// The process-wide store, built from the environment on first call.
    ///
    /// When `ARC_APP_SECRET` is unset in `testing`, a warning is logged here, once.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when the environment is invalid (the same error on every call).
    ///
    /// # Examples
    ///
    /// ```
    /// let store = arc_functions::http::session::SessionStore::global()?;
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn global() -> Result<&'static SessionStore, Error> {
        GLOBAL
            .get_or_init(|| {
                let config = Config::from_env()?;
                if config.development_secret {
                    tracing::warn!(
                        "ARC_APP_SECRET is not set: sessions use the public development secret; set ARC_APP_SECRET before deploying"
                    );
                }
                Ok(Self::new(&config))
            })
            .as_ref()
            .map_err(|e| Error::Config(e.clone()))
    }

    /// Reads the session of a request: an empty session when there is no valid cookie.
    ///
    /// # Errors
    ///
    /// [`Error::DynamoDb`] when the table cannot be read. A bad cookie is never an error.
    ///
    /// # Examples
    ///
    /// See [`SessionStore`].
    pub async fn read(&self, request: &lambda_http::Request) -> Result<Session, Error> {
        self.read_headers(request.headers()).await
    }

    pub(crate) async fn read_headers(
        &self,
        headers: &lambda_http::http::HeaderMap,
    ) -> Result<Session, Error> {
        let Some(value) = cookie::session_value(headers) else {
            return Ok(Session::new());
        };
        let now = now();
        match &self.backend {
            Backend::Sealed(sealer) => Ok(sealer
                .open(&value, now)
                .inspect(|opened| note_previous_secret(opened.key_index))
                .map(|opened| Session {
                    data: opened.data,
                    created: Some(opened.created),
                    ..Session::default()
                })
                .unwrap_or_default()),
            Backend::Dynamo(store) => {
                let Some((id, key_index)) = store.verify(&value) else {
                    return Ok(Session::new());
                };
                note_previous_secret(key_index);
                Ok(match store.load(&id, now).await? {
                    Some(loaded) => Session {
                        data: loaded.data,
                        id: Some(loaded.id),
                        item_secret: loaded.secret,
                        created: Some(loaded.created),
                        ..Session::default()
                    },
                    None => Session::new(),
                })
            }
        }
    }

    /// Writes the session and returns the whole `Set-Cookie` value to send.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] when a sealed cookie would pass 4,096 bytes; [`Error::DynamoDb`]
    /// when the table cannot be written.
    ///
    /// # Examples
    ///
    /// See [`SessionStore`].
    pub async fn write(&self, session: &Session) -> Result<String, Error> {
        let now = now();
        let created = match session.created {
            Some(created) if !session.regenerate => created,
            _ => now,
        };
        match &self.backend {
            Backend::Sealed(_) if session.destroy => Ok(self.cookie.expired()),
            Backend::Sealed(sealer) => {
                let token = sealer.seal(&session.data, created, now)?;
                self.cookie.set_cookie(&token)
            }
            Backend::Dynamo(store) => {
                if session.destroy || session.regenerate {
                    if let Some(id) = &session.id {
                        store.delete(id).await?;
                    }
                    if session.destroy {
                        return Ok(self.cookie.expired());
                    }
                }
                let id = match &session.id {
                    Some(id) if !session.regenerate => id.clone(),
                    _ => DynamoStore::new_id()?,
                };
                let item_secret = session
                    .item_secret
                    .as_deref()
                    .filter(|_| !session.regenerate);
                store
                    .save(&id, &session.data, created, item_secret, now)
                    .await?;
                self.cookie.set_cookie(&store.cookie_value(&id))
            }
        }
    }
}

/// Reads the session of a request with the process-wide store ([`SessionStore::global`]).
///
/// # Errors
///
/// [`Error::Config`] for an invalid environment, [`Error::DynamoDb`] when the table cannot be
/// read. A missing or bad cookie is an empty session, not an error.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let request = lambda_http::http::Request::builder()
///     .header("cookie", "_idx=garbage")
///     .body(lambda_http::Body::Empty)?;
/// let session = arc_functions::http::session::read(&request).await?;
/// assert!(session.is_empty());
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # });
/// ```
pub async fn read(request: &lambda_http::Request) -> Result<Session, Error> {
    SessionStore::global()?.read(request).await
}

/// Writes a session with the process-wide store and returns the `Set-Cookie` value.
///
/// # Errors
///
/// As [`SessionStore::write`], plus [`Error::Config`] for an invalid environment.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let session = arc_functions::http::session::Session::try_from(serde_json::json!({"count": 1}))?;
/// let set_cookie = arc_functions::http::session::write(&session).await?;
/// assert!(set_cookie.contains("HttpOnly"));
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # });
/// ```
pub async fn write(session: &Session) -> Result<String, Error> {
    SessionStore::global()?.write(session).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use serde_json::json;

    const SECRET: &str = "bad-cookie test secret, 32+ bytes";

    fn store() -> SessionStore {
        SessionStore::new(&Config::from_vars([("ARC_APP_SECRET", SECRET)]).expect("config"))
    }

    fn sealer(store: &SessionStore) -> &SealedCookie {
        match &store.backend {
            Backend::Sealed(s) => s,
            Backend::Dynamo(_) => unreachable!("cookie mode"),
        }
    }

    fn data() -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("user".into(), json!("ann"));
        m
    }

    /// Reads a request carrying `cookie` as its Cookie header: must be empty and not an error.
    async fn assert_empty(store: &SessionStore, cookie: &str) {
        let request = lambda_http::http::Request::builder()
            .header("cookie", cookie)
            .body(lambda_http::Body::Empty)
            .expect("request");
        let session = store
            .read(&request)
            .await
            .expect("a bad cookie is never an error");
        assert!(session.is_empty(), "{cookie:?} opened to {session:?}");
    }

    #[tokio::test]
    async fn a_good_cookie_opens() {
        // The control for every bad-cookie test below: the same path with a good cookie.
        let store = store();
        let token = sealer(&store).seal(&data(), now(), now()).expect("seal");
        let request = lambda_http::http::Request::builder()
            .header("cookie", format!("_idx={token}"))
            .body(lambda_http::Body::Empty)
            .expect("request");
        assert_eq!(store.read(&request).await.expect("read").as_map(), &data());
    }

    #[tokio::test]
    async fn missing_cookie() {
        assert_empty(&store(), "other=1").await;
    }

    #[tokio::test]
    async fn empty_cookie() {
        assert_empty(&store(), "_idx=").await;
    }

    #[tokio::test]
    async fn garbled_cookie() {
        for garbage in [
            "_idx=garbage",
            "_idx=a.b.c.d.e",
            "_idx=....",
            "_idx=%%%",
            "_idx=é",
        ] {
            assert_empty(&store(), garbage).await;
        }
    }

    #[tokio::test]
    async fn truncated_cookie() {
        let store = store();
        let token = sealer(&store).seal(&data(), now(), now()).expect("seal");
        for len in [1, token.len() / 2, token.len() - 1] {
            assert_empty(&store, &format!("_idx={}", &token[..len])).await;
        }
    }

    #[tokio::test]
    async fn tampered_cookie_any_byte() {
        let store = store();
        let token = sealer(&store).seal(&data(), now(), now()).expect("seal");
        for i in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).expect("ascii");
            assert_empty(&store, &format!("_idx={tampered}")).await;
        }
    }

    #[tokio::test]
    async fn wrong_key_cookie() {
        let other = SessionStore::new(
            &Config::from_vars([("ARC_APP_SECRET", "some other secret of 32+ bytes!!")])
                .expect("config"),
        );
        let token = sealer(&other).seal(&data(), now(), now()).expect("seal");
        assert_empty(&store(), &format!("_idx={token}")).await;
    }

    #[tokio::test]
    async fn expired_cookie() {
        let store = store();
        let week_and_a_bit = config::DEFAULT_TTL + 1;
        let token = sealer(&store)
            .seal(&data(), now() - week_and_a_bit, now() - week_and_a_bit)
            .expect("seal");
        assert_empty(&store, &format!("_idx={token}")).await;
    }

    #[tokio::test]
    async fn future_iat_cookie() {
        let store = store();
        let later = now() + sealed_cookie::CLOCK_SKEW + 5;
        let token = sealer(&store).seal(&data(), later, later).expect("seal");
        assert_empty(&store, &format!("_idx={token}")).await;
    }

    #[tokio::test]
    async fn other_header_cookie() {
        let store = store();
        let token = sealer(&store).seal(&data(), now(), now()).expect("seal");
        let (_, rest) = token.split_once('.').expect("compact JWE");
        for header in [
            r#"{"alg":"dir","enc":"A256GCM"}"#,
            r#"{"alg":"dir","enc":"XC20P"}"#,
            r#"{"alg":"none","enc":"XC20P"}"#,
        ] {
            assert_empty(&store, &format!("_idx={}.{rest}", B64.encode(header))).await;
        }
    }

    #[tokio::test]
    async fn destroy_expires_the_cookie_and_regenerate_restarts_creation() {
        let store = store();
        let mut session = Session::from(data());
        session.created = Some(now() - 100);
        let kept = store.write(&session).await.expect("write");
        session.regenerate();
        let fresh = store.write(&session).await.expect("write");
        let open = |set_cookie: &str| {
            let token = set_cookie
                .strip_prefix("_idx=")
                .and_then(|v| v.split(';').next())
                .expect("cookie");
            sealer(&store).open(token, now()).expect("opens")
        };
        assert!(
            open(&kept).created <= now() - 100,
            "writes keep the creation time"
        );
        assert!(
            open(&fresh).created >= now() - 1,
            "regenerate starts a new session"
        );
        session.destroy();
        let gone = store.write(&session).await.expect("write");
        assert!(
            gone.starts_with("_idx=;") && gone.contains("Max-Age=0"),
            "{gone}"
        );
    }
}
