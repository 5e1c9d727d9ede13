//! The one seam between the store and where sessions are kept: a small trait each provider
//! implements, and the values that cross it.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};

use super::{Error, Expiry};
use crate::config::Config;

/// The future a provider's operation returns.
pub(crate) type ProviderFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, Error>> + Send + 'a>>;

/// Where sessions are kept. Each provider turns a cookie value into a session and back; the
/// store around it owns everything else.
pub(crate) trait Provider: Send + Sync {
    /// What the store's `Debug` shows, e.g. `DynamoDB table "sessions"`.
    fn describe(&self) -> String;

    /// The live session behind a cookie value; `None` when the value does not open to one
    /// (garbled, forged, foreign, expired, deleted).
    fn load<'a>(&'a self, value: &'a str, now: u64) -> ProviderFuture<'a, Option<Loaded>>;

    /// Saves a session and returns the cookie value to send.
    fn save<'a>(&'a self, write: Write<'a>) -> ProviderFuture<'a, String>;

    /// Renews a session read and not written (sliding expiry): a new expiry from `write.now`,
    /// its data as they are. Returns the cookie value to send. By default a whole save; a
    /// provider that keeps records updates only the expiry, so a concurrent write survives.
    fn touch<'a>(&'a self, write: Write<'a>) -> ProviderFuture<'a, String> {
        self.save(write)
    }

    /// Forgets the record a session was read from, so its cookie opens nothing any more
    /// (where the provider keeps records: a sealed cookie cannot be recalled).
    fn forget<'a>(&'a self, origin: &'a Origin) -> ProviderFuture<'a, ()>;

    /// Does at cold start what the first request would otherwise wait for; never fails.
    fn prepare(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async {})
    }

    /// The WebSocket connection records this provider keeps, if any: only a provider that
    /// stores sessions server-side can tie a connection to one (a sealed cookie keeps nothing).
    fn records(&self) -> Option<&dyn ConnectionRecords> {
        None
    }

    /// The index of users' sessions this provider keeps, if any (only DynamoDB: a sealed
    /// cookie keeps nothing to list or end).
    fn users(&self) -> Option<&dyn UserRecords> {
        None
    }
}

/// Each user's sessions, indexed beside them: what a provider that keeps records server-side
/// adds for the device list ([`Provider::users`]).
pub(crate) trait UserRecords: Send + Sync {
    /// Lists the session `record` under `user`, signed in at `created` from `agent`, and keeps
    /// the index at least until `until`.
    fn enter<'a>(
        &'a self,
        user: &'a str,
        record: &'a str,
        created: u64,
        agent: Option<&'a str>,
        until: u64,
    ) -> ProviderFuture<'a, ()>;

    /// Takes `records` off `user`'s index.
    fn leave<'a>(&'a self, user: &'a str, records: &'a [String]) -> ProviderFuture<'a, ()>;

    /// Keeps `user`'s index at least until `until` (a session of theirs slid past it).
    fn extend<'a>(&'a self, user: &'a str, until: u64) -> ProviderFuture<'a, ()>;

    /// `user`'s index as written, live or not.
    fn entries<'a>(&'a self, user: &'a str) -> ProviderFuture<'a, Vec<Listed>>;

    /// `user`'s live sessions with their last writes; the others are pruned.
    fn devices<'a>(&'a self, user: &'a str, now: u64) -> ProviderFuture<'a, Vec<Listed>>;

    /// Deletes the sessions `records` and takes them off `user`'s index.
    fn end<'a>(&'a self, user: &'a str, records: &'a [String]) -> ProviderFuture<'a, ()>;
}

/// An entry of a user's index.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    pub(crate) handle: String,
    pub(crate) record: String,
    pub(crate) created: u64,
    pub(crate) agent: Option<String>,
    /// The session's last write, once its record was read.
    pub(crate) last_seen: Option<u64>,
}

/// Connections tied to stored sessions, and the socket tickets that name them: what a
/// provider that keeps records server-side adds ([`Provider::records`]).
pub(crate) trait ConnectionRecords: Send + Sync {
    /// The record id behind a cookie value the provider wrote.
    fn id_of(&self, value: &str) -> Option<String>;

    /// Records an open connection, tied to the session record `session` (none yet: `None`),
    /// and untied from any session it was tied to before. Returns the session's oldest
    /// connections past `cap`, which the caller closes.
    fn tie<'a>(
        &'a self,
        connection: &'a str,
        session: Option<&'a str>,
        now: u64,
        cap: usize,
    ) -> ProviderFuture<'a, Vec<String>>;

    /// The live session stored under the record id `record` (a socket ticket's, which the
    /// library sealed, so no signature to check).
    fn load_record<'a>(&'a self, record: &'a str, now: u64) -> ProviderFuture<'a, Option<Loaded>>;

    /// Marks the socket ticket `id` spent, until `expires`; false when it already was.
    fn spend_ticket<'a>(&'a self, id: &'a str, expires: u64) -> ProviderFuture<'a, bool>;

    /// The live session a connection is tied to.
    fn load_for_connection<'a>(
        &'a self,
        connection: &'a str,
        now: u64,
    ) -> ProviderFuture<'a, Option<Loaded>>;

    /// Forgets a connection's records; a connection not recorded is not an error.
    fn untie<'a>(&'a self, connection: &'a str) -> ProviderFuture<'a, ()>;

    /// The open connections tied to the session record `session`, sorted.
    fn open_connections<'a>(
        &'a self,
        session: &'a str,
        now: u64,
    ) -> ProviderFuture<'a, Vec<String>>;
}

/// What the store asks a provider to save.
pub(crate) struct Write<'a> {
    pub(crate) data: &'a Map<String, Value>,
    /// Where the session was read from; `None` for a new session (or a regenerated one).
    #[cfg_attr(
        not(feature = "dynamodb"),
        expect(dead_code, reason = "the DynamoDB provider's version check reads it")
    )]
    pub(crate) origin: Option<&'a Origin>,
    /// When the session began.
    pub(crate) created: u64,
    pub(crate) now: u64,
    /// How long this session lasts.
    pub(crate) expiry: Expiry,
}

/// A session a provider loaded.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) data: Map<String, Value>,
    pub(crate) origin: Origin,
    /// Which secret opened it: 0 is the current one, 1.. the previous ones.
    pub(crate) key_index: usize,
    /// How long it lasts, as its last write chose.
    pub(crate) expiry: Expiry,
}

/// Where a session was read from: when it began and, for a provider that keeps sessions
/// server-side, its record. Only the provider that wrote it looks inside the record.
#[derive(Clone)]
pub(crate) struct Origin {
    /// When the session began (epoch seconds), for `ARC_SESSION_MAX_AGE`.
    pub(crate) created: u64,
    /// When it was last written, when the provider knows (an item Node wrote does not say):
    /// sliding renewal counts from here.
    pub(crate) written: Option<u64>,
    pub(crate) record: Option<Record>,
    /// The user the session was signed in as when read (its `_user`): the index it leaves
    /// when it is regenerated or destroyed, even when the handler's session is built afresh.
    pub(crate) user: Option<String>,
}

/// A session kept server-side: its id, the random per-record secret stored beside it, and the
/// version it was read at.
#[derive(Clone)]
pub(crate) struct Record {
    pub(crate) id: String,
    #[cfg_attr(
        not(feature = "dynamodb"),
        expect(dead_code, reason = "DynamoDB records only")
    )]
    pub(crate) secret: Option<String>,
    /// The record's version when read: a write replaces it only while it is still this one
    /// (`None`: a record no version was written to, as Node's).
    pub(crate) version: Option<String>,
}

impl Origin {
    /// A session that lives in its cookie only.
    pub(crate) fn sealed(created: u64, written: u64) -> Self {
        Self {
            created,
            written: Some(written),
            record: None,
            user: None,
        }
    }

    /// A session kept server-side under `id`.
    #[cfg_attr(
        not(feature = "dynamodb"),
        expect(dead_code, reason = "DynamoDB records only")
    )]
    pub(crate) fn stored(
        id: String,
        secret: Option<String>,
        created: u64,
        written: Option<u64>,
    ) -> Self {
        Self {
            created,
            written,
            record: Some(Record {
                id,
                secret,
                version: None,
            }),
            user: None,
        }
    }

    /// This, read at `version` of its record.
    #[cfg_attr(
        not(feature = "dynamodb"),
        expect(dead_code, reason = "DynamoDB records only")
    )]
    pub(crate) fn at_version(mut self, version: Option<String>) -> Self {
        if let Some(record) = &mut self.record {
            record.version = version;
        }
        self
    }
}

impl std::fmt::Debug for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Origin")
            .field("created", &self.created)
            .field("stored", &self.record.is_some())
            .finish()
    }
}

/// How long a session lives under the current configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Lifetime {
    /// Idle lifetime: seconds after the last write.
    pub(crate) ttl: u64,
    /// Absolute lifetime: seconds after the session began.
    pub(crate) max_age: Option<u64>,
}

impl Lifetime {
    pub(crate) fn of(config: &Config) -> Self {
        Self {
            ttl: config.lifetime.ttl,
            max_age: config.lifetime.max_age,
        }
    }

    /// When something written now with the configured TTL expires (a CSRF token).
    pub(crate) fn expiry(self, now: u64) -> u64 {
        now.saturating_add(self.ttl)
    }

    /// A session's idle lifetime: its own ([`Expiry::Idle`]) or the configured one.
    pub(crate) fn ttl_of(self, expiry: Expiry) -> u64 {
        match expiry {
            Expiry::Idle(ttl) => ttl.as_secs().max(1),
            Expiry::Default | Expiry::BrowserSession => self.ttl,
        }
    }

    /// When a session begun at `created` and written now expires: its idle lifetime from now,
    /// but never past `ARC_SESSION_MAX_AGE` from its beginning.
    pub(crate) fn expiry_of(self, expiry: Expiry, created: u64, now: u64) -> u64 {
        let idle = now.saturating_add(self.ttl_of(expiry));
        match self.max_age {
            Some(max) => idle.min(created.saturating_add(max)),
            None => idle,
        }
    }

    /// The cookie's `Max-Age` for a session written now: the seconds to its expiry, or `None`
    /// for a browser-session cookie, which carries none.
    pub(crate) fn cookie_max_age(self, expiry: Expiry, created: u64, now: u64) -> Option<u64> {
        (expiry != Expiry::BrowserSession)
            .then(|| self.expiry_of(expiry, created, now).saturating_sub(now))
    }

    /// Whether a session last written at `written` (when known) and begun at `created` is
    /// still live under today's settings: a lowered TTL or a new maximum age applies at once.
    pub(crate) fn is_live(
        self,
        written: Option<u64>,
        created: u64,
        now: u64,
        expiry: Expiry,
    ) -> bool {
        let ttl = self.ttl_of(expiry);
        written.is_none_or(|written| now < written.saturating_add(ttl))
            && self
                .max_age
                .is_none_or(|max| now < created.saturating_add(max))
    }

    /// Whether a session read now and not written is due for sliding renewal: more than half
    /// its idle lifetime has passed since its last write (or the provider cannot say when that
    /// was). So a session someone keeps using never lapses, and renewal costs at most one
    /// write per half lifetime however many pages are read.
    pub(crate) fn renewal_due(self, written: Option<u64>, expiry: Expiry, now: u64) -> bool {
        written.is_none_or(|written| now >= written.saturating_add(self.ttl_of(expiry) / 2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_session_of_its_own_lifetime_lives_by_it_within_the_maximum_age() {
        let life = Lifetime {
            ttl: 100,
            max_age: Some(1000),
        };
        let remember = Expiry::Idle(Duration::from_secs(400));
        assert_eq!(life.ttl_of(remember), 400);
        assert_eq!(life.ttl_of(Expiry::BrowserSession), 100);
        assert_eq!(life.ttl_of(Expiry::Idle(Duration::ZERO)), 1, "never zero");
        assert!(life.is_live(Some(0), 0, 399, remember));
        assert!(!life.is_live(Some(0), 0, 400, remember));
        assert!(!life.is_live(Some(0), 0, 100, Expiry::BrowserSession));
        assert!(
            !life.is_live(Some(900), 0, 1000, remember),
            "the maximum age still ends it"
        );
        assert_eq!(life.expiry_of(remember, 0, 10), 410);
        assert_eq!(life.expiry_of(remember, 0, 800), 1000, "capped at max age");
        assert_eq!(life.expiry_of(Expiry::Default, 0, 10), 110);
        assert_eq!(life.cookie_max_age(remember, 0, 10), Some(400));
        assert_eq!(life.cookie_max_age(remember, 0, 800), Some(200));
        assert_eq!(life.cookie_max_age(Expiry::Default, 0, 10), Some(100));
        assert_eq!(life.cookie_max_age(Expiry::BrowserSession, 0, 10), None);
        let unbounded = Lifetime {
            ttl: 100,
            max_age: None,
        };
        assert_eq!(unbounded.expiry_of(remember, 0, 10_000), 10_400);
    }

    #[test]
    fn renewal_is_due_after_half_the_idle_lifetime() {
        let life = Lifetime {
            ttl: 100,
            max_age: None,
        };
        assert!(!life.renewal_due(Some(1000), Expiry::Default, 1049));
        assert!(life.renewal_due(Some(1000), Expiry::Default, 1050));
        assert!(life.renewal_due(None, Expiry::Default, 0), "unknown: due");
        let remember = Expiry::Idle(Duration::from_secs(400));
        assert!(!life.renewal_due(Some(1000), remember, 1199));
        assert!(life.renewal_due(Some(1000), remember, 1200));
    }

    #[test]
    fn origin_debug_shows_neither_id_nor_secret() {
        let stored = Origin::stored("the-id".into(), Some("the-secret".into()), 5, None);
        assert_eq!(format!("{stored:?}"), "Origin { created: 5, stored: true }");
        assert_eq!(
            format!("{:?}", Origin::sealed(7, 8)),
            "Origin { created: 7, stored: false }"
        );
    }

    #[test]
    fn lifetime_counts_idle_from_the_last_write_and_age_from_creation() {
        let life = Lifetime {
            ttl: 100,
            max_age: Some(1000),
        };
        let d = Expiry::Default;
        assert_eq!(life.expiry(50), 150);
        assert!(life.is_live(Some(0), 0, 99, d));
        assert!(
            !life.is_live(Some(0), 0, 100, d),
            "idle TTL over at written + ttl"
        );
        assert!(
            life.is_live(None, 0, 500, d),
            "no last write known: only the age counts"
        );
        assert!(life.is_live(Some(950), 0, 999, d));
        assert!(
            !life.is_live(Some(950), 0, 1000, d),
            "max age over at created + max_age"
        );
        let no_max = Lifetime {
            ttl: 100,
            max_age: None,
        };
        assert!(no_max.is_live(Some(10_000), 0, 10_050, d));
    }
}
