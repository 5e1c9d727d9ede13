//! The session store: the provider chosen at cold start, the session cookie, and the rules
//! every provider shares (what `regenerate()` and `destroy()` do, which creation time a write
//! keeps).

use lambda_http::http::HeaderMap;

#[cfg(feature = "dynamodb")]
use super::dynamodb::DynamoDb;
use super::provider::{Lifetime, Provider, Write};
use super::sealed_cookie::SealedCookie;
use super::session_cookie::SessionCookie;
use super::ticket::Tickets;
use super::{Error, Lifecycle, Session, record_id};
use crate::config::Config;
#[cfg(feature = "dynamodb")]
use crate::config::Storage;
use crate::keys::{self, Keyring};

/// A configured session store: the provider, its keys and the cookie's attributes, built
/// once at cold start. Reading and writing neither derive keys nor take locks; share it
/// between handlers in an `Arc`.
///
/// # Examples
///
/// ```
/// use arc_functions::config::Config;
/// use arc_functions::http::session::{Session, SessionStore};
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?);
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
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub struct SessionStore {
    provider: Box<dyn Provider>,
    cookie: SessionCookie,
    keyring: Keyring,
    lifetime: Lifetime,
    /// Socket tickets, sealed and opened with keys of their own.
    pub(super) tickets: Tickets,
    /// How many WebSocket connections a session keeps (`ARC_WS_MAX_CONNECTIONS`).
    pub(super) max_connections: usize,
    /// The credential stamps signed-in sessions are checked against, once registered.
    pub(super) stamps: std::sync::OnceLock<std::sync::Arc<dyn super::Stamps>>,
}

/// What a write did, for the handler wrappers: the `Set-Cookie` value, the record the session
/// now lives in, and the record it left (`regenerate()`, `destroy()`), whose WebSocket
/// connections must not hear about the new one.
#[derive(Debug)]
pub(crate) struct Written {
    pub(crate) set_cookie: String,
    pub(crate) record: Option<String>,
    pub(crate) left: Option<String>,
}

impl std::fmt::Debug for SessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStore")
            .field("provider", &self.provider.describe())
            .finish_non_exhaustive()
    }
}

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
    /// let config = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "sessions")])?;
    /// let store = SessionStore::new(&config);
    /// assert_eq!(format!("{store:?}"), r#"SessionStore { provider: "DynamoDB table \"sessions\"", .. }"#);
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn new(config: &Config) -> Self {
        Self::build(
            config,
            #[cfg(feature = "dynamodb")]
            None,
        )
    }

    /// Like [`SessionStore::new`] in DynamoDB mode, with a client you built (a local
    /// endpoint, an interceptor that counts calls), which then makes every call of the store,
    /// the session items' included (which [`SessionStore::new`] makes without the SDK).
    ///
    /// # Errors
    ///
    /// [`Error::NotDynamoDb`] when the configuration keeps sessions in the cookie.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::{Error, SessionStore};
    ///
    /// let sdk = aws_sdk_dynamodb::Config::builder()
    ///     .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
    ///     .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
    ///     .endpoint_url("http://127.0.0.1:4567")
    ///     .build();
    /// let client = aws_sdk_dynamodb::Client::from_conf(sdk);
    /// let config = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "sessions")])?;
    /// assert!(SessionStore::with_dynamodb_client(&config, client.clone()).is_ok());
    ///
    /// let cookie_mode = Config::from_vars([("ARC_ENV", "testing")])?;
    /// let refused = SessionStore::with_dynamodb_client(&cookie_mode, client);
    /// assert!(matches!(refused, Err(Error::NotDynamoDb)));
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    #[cfg(feature = "dynamodb")]
    #[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
    pub fn with_dynamodb_client(
        config: &Config,
        client: aws_sdk_dynamodb::Client,
    ) -> Result<Self, Error> {
        match config.storage {
            Storage::DynamoDb { .. } => Ok(Self::build(config, Some(client))),
            Storage::SealedCookie => Err(Error::NotDynamoDb),
        }
    }

    fn build(
        config: &Config,
        #[cfg(feature = "dynamodb")] client: Option<aws_sdk_dynamodb::Client>,
    ) -> Self {
        let keyring = Keyring::new(config);
        let lifetime = Lifetime::of(config);
        let provider: Box<dyn Provider> = match &config.storage {
            #[cfg(feature = "dynamodb")]
            Storage::DynamoDb { table } => {
                Box::new(DynamoDb::new(&keyring, lifetime, table.clone(), client))
            }
            // Without the feature a configuration read from the environment cannot name a
            // table (`config::Error::NotBuilt`); one changed by hand afterwards still keeps its
            // sessions sealed rather than failing every request.
            _ => Box::new(SealedCookie::new(&keyring, lifetime)),
        };
        Self {
            provider,
            cookie: SessionCookie::new(config),
            tickets: Tickets::new(&keyring),
            keyring,
            lifetime,
            max_connections: config.ws.max_connections,
            stamps: std::sync::OnceLock::new(),
        }
    }

    /// The keys, for CSRF tokens.
    pub(crate) fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// How long sessions live, for CSRF tokens.
    pub(crate) fn lifetime(&self) -> Lifetime {
        self.lifetime
    }

    /// Does at cold start what the first request would otherwise wait for. In DynamoDB mode:
    /// reads the credentials and endpoint, and opens the connection to DynamoDB (TCP and TLS,
    /// but no request: the first request takes it; given at most two seconds). Through the
    /// SDK's client (one given, or one the environment needs) it loads the AWS configuration
    /// and builds that client first; a client of the caller's sends DynamoDB's health check,
    /// `GET /`, instead of only connecting. In cookie mode: nothing, so
    /// cookie mode never loads AWS configuration. Never fails: when DynamoDB is out of reach
    /// this logs it and returns, and the first request meets the fault itself. [`http::run`]
    /// (and so [`http::start`]) runs it beside its first poll for an event: a request that
    /// comes before the connection is open waits for it rather than opening another.
    ///
    /// [`http::run`]: crate::http::run
    /// [`http::start`]: crate::http::start
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::SessionStore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?);
    /// store.prepare().await; // cookie mode: returns at once
    /// # Ok::<(), arc_functions::config::Error>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn prepare(&self) {
        self.provider.prepare().await;
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

    /// Whether the headers carry a session cookie at all.
    pub(crate) fn has_session_cookie(&self, headers: &HeaderMap) -> bool {
        self.cookie.session_value(headers).is_some()
    }

    pub(crate) async fn read_headers(&self, headers: &HeaderMap) -> Result<Session, Error> {
        let loaded = match self.cookie.session_value(headers) {
            Some(value) => self.provider.load(value, keys::now()).await?,
            None => None,
        };
        let mut session = match loaded {
            Some(loaded) => {
                keys::note_previous_secret(loaded.key_index);
                self.admit(Session::loaded(loaded.data, loaded.origin, loaded.expiry))
                    .await?
            }
            None => Session::new(),
        };
        let agent = headers.get(lambda_http::http::header::USER_AGENT);
        session.set_agent(agent.and_then(|a| a.to_str().ok()));
        Ok(session)
    }

    /// Writes the session and returns the whole `Set-Cookie` value to send.
    ///
    /// # Errors
    ///
    /// [`Error::TooLarge`] when a sealed cookie would pass 4,096 bytes; [`Error::DynamoDb`]
    /// when the table cannot be written; [`Error::Ended`] when the session was read from the
    /// table and has been destroyed or regenerated since.
    ///
    /// # Examples
    ///
    /// See [`SessionStore`].
    pub async fn write(&self, session: &Session) -> Result<String, Error> {
        Ok(self.write_tracked(session).await?.set_cookie)
    }

    /// [`SessionStore::write`], saying which record the session now lives in and which it
    /// left.
    pub(crate) async fn write_tracked(&self, session: &Session) -> Result<Written, Error> {
        let moved = self.save_moved(session).await?;
        let set_cookie = match &moved.value {
            Some(saved) => self.cookie.set_cookie(&saved.value, saved.max_age)?,
            None => self.cookie.expired(),
        };
        Ok(Written {
            set_cookie,
            record: moved.record,
            left: moved.left,
        })
    }

    /// [`SessionStore::save`], with the records it moved between.
    pub(super) async fn save_moved(&self, session: &Session) -> Result<Moved, Error> {
        let now = keys::now();
        let due = self.index_due(session, now);
        let session = due.as_ref().map_or(session, |(s, _)| s);
        let left = match session.lifecycle() {
            Lifecycle::Kept => None,
            Lifecycle::Regenerated | Lifecycle::Destroyed => record_id(session).map(str::to_owned),
        };
        let value = self.save(session).await?;
        let record = value
            .as_ref()
            .zip(self.provider.records())
            .and_then(|(v, records)| records.id_of(&v.value));
        let moved = Moved {
            value,
            record,
            left,
        };
        self.reindex(session, &moved, due.as_ref().map(|(_, until)| *until), now)
            .await?;
        Ok(moved)
    }

    /// Writes the session and returns the cookie value that now opens it; `None` when it was
    /// destroyed.
    pub(super) async fn save(&self, session: &Session) -> Result<Option<Saved>, Error> {
        let now = keys::now();
        let origin = session.origin();
        let lifecycle = session.lifecycle();
        if let Some(origin) = origin.filter(|_| lifecycle != Lifecycle::Kept) {
            self.provider.forget(origin).await?;
        }
        let (origin, created) = match lifecycle {
            Lifecycle::Destroyed => return Ok(None),
            Lifecycle::Regenerated => (None, now),
            Lifecycle::Kept => (origin, origin.map_or(now, |o| o.created)),
        };
        let expiry = session.expiry();
        let value = self
            .provider
            .save(Write {
                data: session.as_map(),
                origin,
                created,
                now,
                expiry,
            })
            .await?;
        Ok(Some(Saved {
            value,
            max_age: self.lifetime.cookie_max_age(expiry, created, now),
        }))
    }

    /// Whether a session read and not written is due for sliding renewal: read from a cookie,
    /// not regenerated or destroyed, and written more than half its idle lifetime ago.
    pub(crate) fn renewal_due(&self, session: &Session) -> bool {
        session.lifecycle() == Lifecycle::Kept
            && session.origin().is_some_and(|origin| {
                self.lifetime
                    .renewal_due(origin.written, session.expiry(), keys::now())
            })
    }

    /// Renews a session read and not written: a new expiry server-side and a new `Set-Cookie`
    /// with it, its data untouched (in DynamoDB mode only `_ttl` and `_iat` are updated, so a
    /// write another request made meanwhile is never undone). `None` for a session no cookie
    /// brought.
    ///
    /// # Errors
    ///
    /// As [`SessionStore::write`]; [`Error::Ended`] when the record is gone.
    pub(crate) async fn renew(&self, session: &Session) -> Result<Option<String>, Error> {
        let Some(origin) = session.origin() else {
            return Ok(None);
        };
        let now = keys::now();
        let expiry = session.expiry();
        let value = self
            .provider
            .touch(Write {
                data: session.as_map(),
                origin: Some(origin),
                created: origin.created,
                now,
                expiry,
            })
            .await?;
        self.reindex_renewed(session, now).await;
        let max_age = self.lifetime.cookie_max_age(expiry, origin.created, now);
        self.cookie.set_cookie(&value, max_age).map(Some)
    }

    pub(super) fn provider(&self) -> &dyn Provider {
        &*self.provider
    }
}

/// What became of a handler's session write, by the one rule every wrapper answers by.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    /// Written: send what the write gave.
    Written(T),
    /// The session ended meanwhile (another request destroyed or regenerated it): answer as if
    /// there were none, without a cookie.
    Ended,
    /// Another request wrote it since this one read it: nothing was written, answer `409`.
    Conflict,
    /// The write failed: `503` when retrying may help, else `500`.
    Failed {
        /// DynamoDB throttled, unreachable or out of the invocation's time.
        unavailable: bool,
    },
}

impl<T> Outcome<T> {
    /// Sorts a write's result, and logs what was not written: an ended session or a lost race
    /// as information (both are expected), a failure as an error with its cause.
    pub(crate) fn of(written: Result<T, Error>, what: &str) -> Self {
        match written {
            Ok(written) => Self::Written(written),
            Err(e @ Error::Ended) => {
                tracing::info!("{what} skipped: {e}");
                Self::Ended
            }
            Err(e @ Error::Conflict) => {
                tracing::info!("{what} refused: {e}");
                Self::Conflict
            }
            Err(e) => {
                tracing::error!(error = %e, "{what} failed");
                Self::Failed {
                    unavailable: e.is_unavailable(),
                }
            }
        }
    }
}

/// A saved session's cookie value and the `Max-Age` it goes out with.
pub(crate) struct Saved {
    pub(crate) value: String,
    /// `None` for a browser-session cookie.
    pub(crate) max_age: Option<u64>,
}

/// A save, and the records it moved between.
pub(crate) struct Moved {
    /// The cookie value that now opens the session; `None` once destroyed.
    pub(crate) value: Option<Saved>,
    /// The record the session now lives in (DynamoDB mode).
    pub(crate) record: Option<String>,
    /// The record it was read from and left: regenerated or destroyed.
    pub(crate) left: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::super::provider::Origin;
    use super::super::{Expiry, sealed_cookie};
    use super::*;
    use crate::config;
    use crate::keys::now;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use serde_json::json;
    use serde_json::{Map, Value};

    const SECRET: &str = "bad-cookie test secret: 32+ bytes";

    fn store() -> SessionStore {
        SessionStore::new(
            &Config::from_vars([("ARC_ENV", "testing"), ("ARC_APP_SECRET", SECRET)])
                .expect("config"),
        )
    }

    /// A sealed-cookie provider with the same keys as `store()`, to make cookies for it.
    fn sealer(_store: &SessionStore) -> SealedCookie {
        let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_APP_SECRET", SECRET)])
            .expect("config");
        SealedCookie::new(&Keyring::new(&config), Lifetime::of(&config))
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
        let config = Config::from_vars([
            ("ARC_ENV", "testing"),
            ("ARC_APP_SECRET", "some other secret of 32+ bytes!!"),
        ])
        .expect("config");
        let other = SealedCookie::new(&Keyring::new(&config), Lifetime::of(&config));
        let token = other.seal(&data(), now(), now()).expect("seal");
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
        session.adopt(
            Some(Origin::sealed(now() - 100, now() - 100)),
            Expiry::Default,
        );
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
            open(&kept).origin.created <= now() - 100,
            "writes keep the creation time"
        );
        assert!(
            open(&fresh).origin.created >= now() - 1,
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
