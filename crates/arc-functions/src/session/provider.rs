//! The one seam between the store and where sessions are kept: a small trait each provider
//! implements, and the values that cross it.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Map, Value};

use super::Error;
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

    /// Forgets the record a session was read from, so its cookie opens nothing any more
    /// (where the provider keeps records: a sealed cookie cannot be recalled).
    fn forget<'a>(&'a self, origin: &'a Origin) -> ProviderFuture<'a, ()>;

    /// Does at cold start what the first request would otherwise wait for; never fails.
    fn prepare(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async {})
    }

    /// Whether the provider keeps WebSocket connection records, and so can tie a connection
    /// to a session: a sealed cookie keeps nothing server-side.
    fn keeps_connections(&self) -> bool {
        false
    }

    /// The record id behind a cookie value this provider wrote, for tying connections.
    fn id_of(&self, _value: &str) -> Option<String> {
        None
    }

    /// Records an open connection, tied to the session record `session` (none yet: `None`),
    /// and untied from any session it was tied to before. Returns the session's oldest
    /// connections past `cap`, which the caller closes.
    fn tie<'a>(
        &'a self,
        _connection: &'a str,
        _session: Option<&'a str>,
        _now: u64,
        _cap: usize,
    ) -> ProviderFuture<'a, Vec<String>> {
        Box::pin(async { Ok(Vec::new()) })
    }

    /// The live session stored under the record id `record` (a socket ticket's, which the
    /// library sealed, so no signature to check).
    fn load_record<'a>(
        &'a self,
        _record: &'a str,
        _now: u64,
    ) -> ProviderFuture<'a, Option<Loaded>> {
        Box::pin(async { Ok(None) })
    }

    /// Marks the socket ticket `id` spent, until `expires`; false when it already was.
    fn spend_ticket<'a>(&'a self, _id: &'a str, _expires: u64) -> ProviderFuture<'a, bool> {
        Box::pin(async { Ok(false) })
    }

    /// The live session a connection is tied to.
    fn load_for_connection<'a>(
        &'a self,
        _connection: &'a str,
        _now: u64,
    ) -> ProviderFuture<'a, Option<Loaded>> {
        Box::pin(async { Ok(None) })
    }

    /// Forgets a connection's records; a connection not recorded is not an error.
    fn untie<'a>(&'a self, _connection: &'a str) -> ProviderFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    /// The open connections tied to the session record `session`, sorted.
    fn connections<'a>(&'a self, _session: &'a str, _now: u64) -> ProviderFuture<'a, Vec<String>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// What the store asks a provider to save.
pub(crate) struct Write<'a> {
    pub(crate) data: &'a Map<String, Value>,
    /// Where the session was read from; `None` for a new session (or a regenerated one).
    pub(crate) origin: Option<&'a Origin>,
    /// When the session began.
    pub(crate) created: u64,
    pub(crate) now: u64,
}

/// A session a provider loaded.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) data: Map<String, Value>,
    pub(crate) origin: Origin,
    /// Which secret opened it: 0 is the current one, 1.. the previous ones.
    pub(crate) key_index: usize,
}

/// Where a session was read from: when it began and, for a provider that keeps sessions
/// server-side, its record. Only the provider that wrote it looks inside the record.
#[derive(Clone)]
pub(crate) struct Origin {
    /// When the session began (epoch seconds), for `ARC_SESSION_MAX_AGE`.
    pub(crate) created: u64,
    pub(crate) record: Option<Record>,
}

/// A session kept server-side: its id and the random per-record secret stored beside it.
#[derive(Clone)]
pub(crate) struct Record {
    pub(crate) id: String,
    pub(crate) secret: Option<String>,
}

impl Origin {
    /// A session that lives in its cookie only.
    pub(crate) fn sealed(created: u64) -> Self {
        Self {
            created,
            record: None,
        }
    }

    /// A session kept server-side under `id`.
    pub(crate) fn stored(id: String, secret: Option<String>, created: u64) -> Self {
        Self {
            created,
            record: Some(Record { id, secret }),
        }
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
            ttl: config.ttl,
            max_age: config.max_age,
        }
    }

    /// When a session written now expires.
    pub(crate) fn expiry(self, now: u64) -> u64 {
        now.saturating_add(self.ttl)
    }

    /// Whether a session last written at `written` (when known) and begun at `created` is
    /// still live under today's settings: a lowered TTL or a new maximum age applies at once.
    pub(crate) fn is_live(self, written: Option<u64>, created: u64, now: u64) -> bool {
        written.is_none_or(|written| now < self.expiry(written))
            && self
                .max_age
                .is_none_or(|max| now < created.saturating_add(max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_debug_shows_neither_id_nor_secret() {
        let stored = Origin::stored("the-id".into(), Some("the-secret".into()), 5);
        assert_eq!(format!("{stored:?}"), "Origin { created: 5, stored: true }");
        assert_eq!(
            format!("{:?}", Origin::sealed(7)),
            "Origin { created: 7, stored: false }"
        );
    }

    #[test]
    fn lifetime_counts_idle_from_the_last_write_and_age_from_creation() {
        let life = Lifetime {
            ttl: 100,
            max_age: Some(1000),
        };
        assert_eq!(life.expiry(50), 150);
        assert!(life.is_live(Some(0), 0, 99));
        assert!(
            !life.is_live(Some(0), 0, 100),
            "idle TTL over at written + ttl"
        );
        assert!(
            life.is_live(None, 0, 500),
            "no last write known: only the age counts"
        );
        assert!(life.is_live(Some(950), 0, 999));
        assert!(
            !life.is_live(Some(950), 0, 1000),
            "max age over at created + max_age"
        );
        let no_max = Lifetime {
            ttl: 100,
            max_age: None,
        };
        assert!(no_max.is_live(Some(10_000), 0, 10_050));
    }
}
