//! Users, not only sessions: signing in and out ([`Session::sign_in`], [`Session::sign_out`]),
//! the credential stamp every read of a signed-in session checks ([`SessionStore::check_stamps`]),
//! and, in DynamoDB mode, each user's sessions as a device list ([`SessionStore::devices`]).
//!
//! A signed-in session holds two reserved keys beside the handler's: `_user`, the user id, and
//! `_stamp`, the user's credential stamp when they signed in. In DynamoDB mode it also holds
//! `_index_ttl`, how long its user's index is known to be kept, so that a session sliding past
//! it extends the index once per lifetime rather than on every write. The rule of the write
//! path, for every wrapper alike (it lives in [`SessionStore`]'s write): a session regenerated
//! with a `_user` is listed under that user; a record a session leaves (regenerated,
//! destroyed) leaves its user's list.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use sha2::Digest;
use subtle::ConstantTimeEq;

use super::provider::Listed;
use super::store::Moved;
use super::{Error, Lifecycle, Session, SessionStore, record_id};
use crate::keys;

/// The session key holding the signed-in user's id.
pub(crate) const USER_KEY: &str = "_user";
/// The session key holding the user's credential stamp at sign-in.
pub(crate) const STAMP_KEY: &str = "_stamp";
/// The session key holding how long its user's index is known to be kept (DynamoDB mode).
pub(crate) const INDEX_TTL_KEY: &str = "_index_ttl";

/// The error a [`Stamps`] resolver may return: the cause of a failed lookup, kept as
/// [`Error::Stamp`]'s source.
///
/// # Examples
///
/// ```
/// use arc_functions::http::session::BoxError;
///
/// let failed: BoxError = "the users table is unreachable".into();
/// assert_eq!(failed.to_string(), "the users table is unreachable");
/// ```
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a [`Stamps`] resolver returns.
///
/// # Examples
///
/// ```
/// use arc_functions::http::session::StampFuture;
///
/// // A resolver written as a plain function: every user's stamp is "s1".
/// fn stamp_of(_user: String) -> StampFuture {
///     Box::pin(async { Ok(Some("s1".to_owned())) })
/// }
/// # tokio::runtime::Builder::new_current_thread().build()?.block_on(async {
/// assert_eq!(stamp_of("ann".into()).await?, Some("s1".to_owned()));
/// # Ok::<(), arc_functions::http::session::BoxError>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub type StampFuture = Pin<Box<dyn Future<Output = Result<Option<String>, BoxError>> + Send>>;

/// Resolves a user id to the user's current credential stamp: a value that changes whenever
/// their credentials do (a random value stored with the user and drawn anew on every password
/// change, or a hash of the password hash, as Django's session auth hash). `None` when the
/// user no longer exists. Any `Fn(String) -> impl Future<Output = Result<Option<String>,
/// BoxError>>` is one.
///
/// # Examples
///
/// ```
/// use arc_functions::http::session::{BoxError, Stamps};
///
/// fn takes(_: impl Stamps) {}
/// takes(|user: String| async move {
///     Ok::<_, BoxError>((user == "ann").then(|| "stamp-1".to_owned()))
/// });
/// ```
pub trait Stamps: Send + Sync + 'static {
    /// The current stamp of `user`, `None` when there is no such user.
    fn stamp(&self, user: &str) -> StampFuture;
}

impl<F, Fut> Stamps for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<String>, BoxError>> + Send + 'static,
{
    fn stamp(&self, user: &str) -> StampFuture {
        Box::pin(self(user.to_owned()))
    }
}

/// One of a user's signed-in sessions, as [`SessionStore::devices`] lists it.
///
/// # Examples
///
/// ```
/// use arc_functions::http::session::Device;
///
/// fn describe(device: &Device) -> String {
///     let agent = device.user_agent.as_deref().unwrap_or("an unknown browser");
///     format!("{agent}{}", if device.current { " (this one)" } else { "" })
/// }
/// # let _ = describe;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Device {
    /// Names the session to [`SessionStore::end_device`] (and the wrappers' `sign_out_device`)
    /// without being its id: a hash of it, safe to put in a page.
    pub handle: String,
    /// When it signed in (epoch seconds).
    pub created: u64,
    /// When it was last written or renewed (epoch seconds; a session renews once per half its
    /// idle lifetime, so reads in between do not show), when known.
    pub last_seen: Option<u64>,
    /// The `User-Agent` of the browser that signed in.
    pub user_agent: Option<String>,
    /// Whether it is the session of the request that asked.
    pub current: bool,
}

/// The device handle of a session record: the first 128 bits of SHA-256 over a label and the
/// id, base64url. Unkeyed on purpose: the id is 192 random bits, so its hash reveals nothing of
/// it, and a handle that does not depend on `ARC_APP_SECRET` still names the device after the
/// secret is rotated.
#[cfg_attr(
    not(feature = "dynamodb"),
    expect(dead_code, reason = "DynamoDB records only")
)]
pub(crate) fn device_handle(record: &str) -> String {
    let digest = sha2::Sha256::new()
        .chain_update(b"arc-functions device handle v1\0")
        .chain_update(record.as_bytes())
        .finalize();
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

/// A new credential stamp: 128 random bits, base64url. Store it with the user and draw a new
/// one whenever their credentials change (or to sign them out everywhere, cookie mode
/// included).
///
/// # Errors
///
/// [`Error::Random`] when the OS random source fails.
///
/// # Examples
///
/// ```
/// let a = arc_functions::http::session::new_stamp()?;
/// assert_eq!(a.len(), 22);
/// assert_ne!(a, arc_functions::http::session::new_stamp()?);
/// # Ok::<(), arc_functions::http::session::Error>(())
/// ```
pub fn new_stamp() -> Result<String, Error> {
    Ok(URL_SAFE_NO_PAD.encode(keys::random::<16>()?))
}

/// Which of a user's other sessions to end.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Which<'a> {
    /// The one with this handle (never the asking session itself).
    One(&'a str),
    /// All but the asking session.
    Others,
}

impl Session {
    /// Signs `user` in: [`regenerate`](Self::regenerate)s the session (a new id on the next
    /// write, so an id planted before is worthless after) and records the user and their
    /// credential `stamp` (checked on every read when the store has a [`Stamps`] resolver).
    /// In DynamoDB mode the write also lists the session under the user, for
    /// [`SessionStore::devices`].
    ///
    /// # Errors
    ///
    /// [`Error::Json`] never in practice (two strings are always JSON).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut session = arc_functions::http::session::Session::new();
    /// session.insert("cart", 3)?;
    /// session.sign_in("ann", "stamp-1")?;
    /// assert_eq!(session.user(), Some("ann"));
    /// assert_eq!(session.get::<u64>("cart")?, Some(3), "the data stay");
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn sign_in(&mut self, user: &str, stamp: &str) -> Result<(), Error> {
        self.regenerate();
        self.data.remove(INDEX_TTL_KEY);
        self.insert(USER_KEY, user)?;
        self.insert(STAMP_KEY, stamp)
    }

    /// Signs out: [`destroy`](Self::destroy)s the session, and in DynamoDB mode its write takes
    /// it off its user's device list.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut session = arc_functions::http::session::Session::new();
    /// session.sign_in("ann", "stamp-1")?;
    /// session.sign_out();
    /// assert_eq!(session.user(), None);
    /// # Ok::<(), arc_functions::http::session::Error>(())
    /// ```
    pub fn sign_out(&mut self) {
        self.destroy();
    }

    /// The signed-in user's id, set by [`sign_in`](Self::sign_in).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(arc_functions::http::session::Session::new().user(), None);
    /// ```
    pub fn user(&self) -> Option<&str> {
        self.data.get(USER_KEY).and_then(Value::as_str)
    }

    /// Notes the browser's `User-Agent`, for the device list (never stored in the session).
    pub(crate) fn set_agent(&mut self, agent: Option<&str>) {
        self.agent = agent.map(str::to_owned);
    }
}

impl SessionStore {
    /// Registers the resolver every read of a signed-in session checks its `_stamp` against:
    /// a session signed in before the user's credentials changed reads as an empty session,
    /// and in DynamoDB mode its record is deleted and leaves the device list. Every wrapper
    /// reading through this store checks it (HTTP, WebSocket, axum). Once per store: returns
    /// false, keeping the first, when one was registered already.
    ///
    /// Cost: one call of the resolver per request that carries a signed-in session (the
    /// example's is one GetItem on its users table), nothing for other requests. In cookie
    /// mode this check is the only way to recall a sealed cookie before it expires.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::{BoxError, Session, SessionStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?);
    /// assert!(store.check_stamps(|_user: String| async { Ok::<_, BoxError>(Some("new".into())) }));
    /// let mut session = Session::new();
    /// session.sign_in("ann", "old")?;
    /// let cookie = store.write(&session).await?;
    /// let request = lambda_http::http::Request::builder()
    ///     .header("cookie", cookie.split(';').next().unwrap_or_default())
    ///     .body(lambda_http::Body::Empty)?;
    /// assert!(store.read(&request).await?.is_empty(), "signed in before the change");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn check_stamps(&self, stamps: impl Stamps) -> bool {
        self.stamps.set(Arc::new(stamps)).is_ok()
    }

    /// A session as read, admitted: its user noted in its origin (the index it leaves when it
    /// ends), and its stamp checked against the resolver's. A stale one reads as empty, and
    /// its record is ended (best effort).
    pub(crate) async fn admit(&self, mut session: Session) -> Result<Session, Error> {
        let user = session.user().map(str::to_owned);
        if let Some(origin) = session.origin.as_mut() {
            origin.user.clone_from(&user);
        }
        let (Some(stamps), Some(user)) = (self.stamps.get(), user) else {
            return Ok(session);
        };
        let current = stamps.stamp(&user).await.map_err(Error::Stamp)?;
        let held = session.data.get(STAMP_KEY).and_then(Value::as_str);
        if let (Some(current), Some(held)) = (current.as_deref(), held)
            && bool::from(current.as_bytes().ct_eq(held.as_bytes()))
        {
            return Ok(session);
        }
        tracing::info!("a session signed in before its user's credentials changed was refused");
        if let Some(origin) = session.origin() {
            if let Err(e) = self.provider().forget(origin).await {
                tracing::warn!(error = %e, "deleting a stale session failed; it stays refused");
            }
            if let (Some(users), Some(record)) = (self.provider().users(), record_id(&session)) {
                let ended = [record.to_owned()];
                if let Err(e) = users.leave(&user, &ended).await {
                    tracing::warn!(error = %e, "taking a stale session off the device list failed; the list prunes it");
                }
            }
        }
        Ok(Session::new())
    }

    /// The sessions of the signed-in user of `session`, oldest sign-in first, the asking one
    /// marked [`Device::current`]; entries whose session ended or expired are pruned. Empty
    /// when `session` is not signed in.
    ///
    /// # Errors
    ///
    /// [`Error::CookieSessions`] in cookie mode, which keeps no sessions server-side to list;
    /// [`Error::DynamoDb`] when the table cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::{Error, Session, SessionStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let cookie_mode = SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?);
    /// let refused = cookie_mode.devices(&Session::new()).await;
    /// assert!(matches!(refused, Err(Error::CookieSessions)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn devices(&self, session: &Session) -> Result<Vec<Device>, Error> {
        let users = self.provider().users().ok_or(Error::CookieSessions)?;
        let Some(user) = session.user() else {
            return Ok(Vec::new());
        };
        let current = record_id(session);
        let listed = users.devices(user, keys::now()).await?;
        Ok(listed
            .into_iter()
            .map(
                |Listed {
                     handle,
                     record,
                     created,
                     agent,
                     last_seen,
                 }| Device {
                    handle,
                    created,
                    last_seen,
                    user_agent: agent,
                    current: Some(record.as_str()) == current,
                },
            )
            .collect())
    }

    /// Ends the session `handle` names among the user's other sessions: deletes its record,
    /// so its cookie opens nothing, and takes it off the list. False when no other session
    /// has that handle. Its open sockets are not told here:
    /// [`http::Request::sign_out_device`](crate::http::Request::sign_out_device) and the axum
    /// `Session` also push a notice to them and close them.
    ///
    /// # Errors
    ///
    /// As [`SessionStore::devices`].
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::{Error, Session, SessionStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let cookie_mode = SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?);
    /// let refused = cookie_mode.end_device(&Session::new(), "handle").await;
    /// assert!(matches!(refused, Err(Error::CookieSessions)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn end_device(&self, session: &Session, handle: &str) -> Result<bool, Error> {
        Ok(!self.end(session, Which::One(handle)).await?.is_empty())
    }

    /// Ends every other session of the user of `session` (all but this one) and returns how
    /// many: each record deleted and taken off the list. Sockets as for
    /// [`SessionStore::end_device`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::devices`].
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::http::session::{Error, Session, SessionStore};
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let cookie_mode = SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?);
    /// let refused = cookie_mode.end_other_devices(&Session::new()).await;
    /// assert!(matches!(refused, Err(Error::CookieSessions)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn end_other_devices(&self, session: &Session) -> Result<usize, Error> {
        Ok(self.end(session, Which::Others).await?.len())
    }

    /// Ends `which` of the user's other sessions; returns their records, whose sockets the
    /// caller tells and closes.
    pub(crate) async fn end(
        &self,
        session: &Session,
        which: Which<'_>,
    ) -> Result<Vec<String>, Error> {
        let users = self.provider().users().ok_or(Error::CookieSessions)?;
        let Some(user) = session.user() else {
            return Ok(Vec::new());
        };
        let current = record_id(session);
        let records: Vec<String> = users
            .entries(user)
            .await?
            .into_iter()
            .filter(|e| Some(e.record.as_str()) != current)
            .filter(|e| match which {
                Which::One(handle) => bool::from(e.handle.as_bytes().ct_eq(handle.as_bytes())),
                Which::Others => true,
            })
            .map(|e| e.record)
            .collect();
        if !records.is_empty() {
            users.end(user, &records).await?;
        }
        Ok(records)
    }

    /// The session to save in place of `session` when its user's index must be kept longer:
    /// with `_index_ttl` moved on, and that time. `None` when nothing is due (cookie mode, not
    /// signed in, destroyed, or the index is known to outlast the session).
    pub(super) fn index_due(&self, session: &Session, now: u64) -> Option<(Session, u64)> {
        self.provider().users()?;
        session.user()?;
        let created = match session.lifecycle() {
            Lifecycle::Destroyed => return None,
            Lifecycle::Regenerated => now,
            Lifecycle::Kept => session.origin().map_or(now, |o| o.created),
        };
        let until = self.index_until(session, created, now)?;
        let mut session = session.clone();
        session.data.insert(INDEX_TTL_KEY.into(), until.into());
        Some((session, until))
    }

    /// When a signed-in session begun at `created` and written now needs its index kept
    /// until; `None` when a kept session's `_index_ttl` already covers its expiry. One idle
    /// lifetime of slack, so a session in use extends it about once per lifetime.
    fn index_until(&self, session: &Session, created: u64, now: u64) -> Option<u64> {
        let expires = self.lifetime().expiry_of(session.expiry(), created, now);
        let known = session.data.get(INDEX_TTL_KEY).and_then(Value::as_u64);
        if session.lifecycle() == Lifecycle::Kept && known.is_some_and(|k| k >= expires) {
            return None;
        }
        Some(expires.saturating_add(self.lifetime().ttl_of(session.expiry())))
    }

    /// After a write: the record left leaves its user's list (best effort: the list prunes
    /// what it misses); a regenerated signed-in session is listed under its user (an error:
    /// a session missing from the list would escape "sign out everywhere"); a kept one whose
    /// expiry slid past the index's keeps the index longer (best effort).
    pub(super) async fn reindex(
        &self,
        session: &Session,
        moved: &Moved,
        until: Option<u64>,
        now: u64,
    ) -> Result<(), Error> {
        let Some(users) = self.provider().users() else {
            return Ok(());
        };
        let left_user = session.origin().and_then(|o| o.user.as_deref());
        if let (Some(left), Some(user)) = (&moved.left, left_user) {
            let left = [left.clone()];
            if let Err(e) = users.leave(user, &left).await {
                tracing::warn!(error = %e, "taking an ended session off the device list failed; the list prunes it");
            }
        }
        match (session.lifecycle(), &moved.record, session.user(), until) {
            (Lifecycle::Regenerated, Some(record), Some(user), Some(until)) => {
                users
                    .enter(user, record, now, session.agent.as_deref(), until)
                    .await?;
            }
            (Lifecycle::Kept, Some(_), Some(user), Some(until)) => {
                if let Err(e) = users.extend(user, until).await {
                    tracing::warn!(error = %e, "keeping the device list longer failed; the next write tries again");
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// After a sliding renewal of a signed-in session: keeps its user's index at least as long
    /// (best effort; at most once per renewal, which is once per half a lifetime).
    pub(super) async fn reindex_renewed(&self, session: &Session, now: u64) {
        let (Some(users), Some(user), Some(origin)) =
            (self.provider().users(), session.user(), session.origin())
        else {
            return;
        };
        if let Some(until) = self.index_until(session, origin.created, now)
            && let Err(e) = users.extend(user, until).await
        {
            tracing::warn!(error = %e, "keeping the device list longer failed; the next renewal tries again");
        }
    }
}
