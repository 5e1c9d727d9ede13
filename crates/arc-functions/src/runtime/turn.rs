//! The session turn every wrapper takes around its handler, HTTP, WebSocket and axum alike:
//! note what the session arrived as, call the handler with panics caught, then write back
//! what it left by one rule, and tell the session's sockets.
//!
//! The rule, in the order it is applied:
//!
//! - a handler's `Err` or panic is logged and answered 500; a response of 5xx writes nothing,
//!   renews nothing and pushes nothing: a failed request's half-done work must not become the
//!   next request's state;
//! - a session the response carries is written, as the continuation of the one the request
//!   arrived with ([`Session::adopt`]); one that cannot be converted or written is answered
//!   500, or 503 when retrying may help; one that lost a race to another write is answered
//!   409; one that another request ended meanwhile is answered as if there were none;
//! - with no session in the response, flash messages that were read are cleared (losing that
//!   race is harmless: they may show again), or the session is renewed when half its idle
//!   lifetime has passed (best effort);
//! - a session written away from its record (regenerated, destroyed) has that record's other
//!   sockets closed, and a push goes to the sockets of the record the session is left in.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;

use super::{Error, Fault, panic_text};
use crate::deadline::Deadline;
use crate::gateway::{self, Client, Payload};
use crate::session::{self, Expiry, Origin, Outcome, Session, SessionStore, record_id};

/// What the session goes back through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via<'a> {
    /// A `Set-Cookie` header: HTTP and axum. Flash messages are cleared and the session
    /// renewed here.
    Cookie,
    /// Nothing but the store, from a WebSocket event on `connection` (no cookie can be set on
    /// a socket): cookie mode refuses the write.
    Socket {
        /// The event's connection, which hears nothing of its own session's close.
        connection: &'a str,
    },
}

/// One turn: what the session arrived as, kept until the handler's response is written back.
pub(crate) struct Turn<'a> {
    store: Arc<SessionStore>,
    via: Via<'a>,
    /// The client pushes and closes go through; `None` where the wrapper has none.
    client: Option<Client>,
    deadline: Deadline,
    origin: Option<Origin>,
    expiry: Expiry,
    /// The record the session was read from.
    record: Option<String>,
    /// What is written when the response carries no session.
    unchanged: Unchanged,
}

/// What a response without a session may still write.
enum Unchanged {
    Nothing,
    /// The session without the flash messages the request read: they show once.
    ClearFlash(Session),
    /// The session, for a sliding renewal: cloned only when one is due, which is at most once
    /// per half its lifetime.
    Renew(Session),
}

/// A turn written back.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Finished {
    /// The response is a 5xx: nothing written, nothing pushed.
    Failed,
    /// No session written; the cookie a renewal gives, if one was due and succeeded.
    Kept {
        /// The renewed cookie.
        set_cookie: Option<String>,
    },
    /// Written.
    Written {
        /// The cookie to send ([`Via::Cookie`]).
        set_cookie: Option<String>,
        /// The record the session now lives in (`None` once destroyed, or sealed).
        record: Option<String>,
    },
    /// Ended by another request meanwhile, or the flash clearing lost a race: answered as if
    /// there were no session, without a cookie.
    Ended,
}

impl Finished {
    /// The `Set-Cookie` value to send, if any.
    pub(crate) fn set_cookie(&self) -> Option<&str> {
        match self {
            Self::Kept { set_cookie } | Self::Written { set_cookie, .. } => set_cookie.as_deref(),
            Self::Failed | Self::Ended => None,
        }
    }
}

impl<'a> Turn<'a> {
    /// Notes what `session` arrived as. `flash_read` says the request took its flash
    /// messages out of it ([`Via::Cookie`] only).
    pub(crate) fn begin(
        store: &Arc<SessionStore>,
        session: &Session,
        flash_read: bool,
        via: Via<'a>,
        client: Option<Client>,
        deadline: Deadline,
    ) -> Self {
        let unchanged = match via {
            Via::Socket { .. } => Unchanged::Nothing,
            Via::Cookie if flash_read => Unchanged::ClearFlash(session.clone()),
            Via::Cookie if store.renewal_due(session) => Unchanged::Renew(session.clone()),
            Via::Cookie => Unchanged::Nothing,
        };
        Self {
            store: Arc::clone(store),
            via,
            client,
            deadline,
            origin: session.origin().cloned(),
            expiry: session.expiry(),
            record: record_id(session).map(str::to_owned),
            unchanged,
        }
    }

    /// The record the session was read from.
    pub(crate) fn record(&self) -> Option<&str> {
        self.record.as_deref()
    }

    /// Writes back what the handler left: `server_error` says the response is a 5xx,
    /// `session` is the one it carries. See the [module docs](self) for the rule.
    pub(crate) async fn finish(
        &mut self,
        server_error: bool,
        session: Option<Result<Session, session::Error>>,
    ) -> Result<Finished, Fault> {
        if server_error {
            return Ok(Finished::Failed);
        }
        let (session, what, clearing_flash) = match (
            session,
            std::mem::replace(&mut self.unchanged, Unchanged::Nothing),
        ) {
            (Some(Err(e)), _) => return Err(Fault::of(&e, "the response's session")),
            (Some(Ok(mut session)), _) => {
                session.adopt(self.origin.take(), self.expiry);
                (session, "writing the session", false)
            }
            (None, Unchanged::ClearFlash(session)) => {
                (session, "clearing the flash messages", true)
            }
            (None, Unchanged::Renew(session)) => {
                return Ok(Finished::Kept {
                    set_cookie: renew(&self.store, &session).await,
                });
            }
            (None, Unchanged::Nothing) => return Ok(Finished::Kept { set_cookie: None }),
        };
        let written = match self.via {
            Via::Cookie => self
                .store
                .write_tracked(&session)
                .await
                .map(|w| (Some(w.set_cookie), w.record, w.left)),
            Via::Socket { .. } => self
                .store
                .save_from_websocket(&session)
                .await
                .map(|m| (None, m.record, m.left)),
        };
        match Outcome::of(written, what) {
            Outcome::Written((set_cookie, record, left)) => {
                if let Some(left) = left {
                    self.close(&left).await;
                }
                Ok(Finished::Written { set_cookie, record })
            }
            Outcome::Ended => Ok(Finished::Ended),
            // One that wrote it meanwhile wins over clearing the flash (which may then show
            // again).
            Outcome::Conflict if clearing_flash => Ok(Finished::Ended),
            Outcome::Conflict => Err(Fault::Conflict),
            Outcome::Failed { unavailable } => Err(Fault::unavailable_if(unavailable)),
        }
    }

    /// Closes the sockets of a record the session left, so none hears about the new one (but
    /// the event's own, which the handler's answer reaches). Best effort.
    async fn close(&self, left: &str) {
        let Some(client) = self.client.as_ref().filter(|c| c.endpoint().is_some()) else {
            return;
        };
        let except = match self.via {
            Via::Socket { connection } => Some(connection),
            Via::Cookie => None,
        };
        gateway::close_session(&self.store, client, left, except, self.deadline).await;
    }

    /// Sends `payload` to the sockets of the session the turn left behind (none after a 5xx,
    /// or a session that ended), but `except`. Best effort: a failure is logged.
    pub(crate) async fn push(&self, finished: &Finished, payload: Payload, except: Option<&str>) {
        let record = match finished {
            Finished::Kept { .. } => self.record.as_deref(),
            Finished::Written { record, .. } => record.as_deref(),
            Finished::Failed | Finished::Ended => return,
        };
        let Some(client) = &self.client else {
            return;
        };
        gateway::push_logged(&self.store, client, record, except, payload, self.deadline).await;
    }
}

/// Runs a handler's future with its panics caught: a panic is logged and gives `None`, and the
/// process, with its warm state, lives on.
pub(crate) async fn catch<T>(who: &str, handler: impl Future<Output = T>) -> Option<T> {
    match AssertUnwindSafe(handler).catch_unwind().await {
        Ok(answer) => Some(answer),
        Err(panic) => {
            let message = panic_text(&*panic);
            tracing::error!(panic = %message, "{who} panicked");
            None
        }
    }
}

/// [`catch`] for a handler that returns a `Result`: its error is logged and gives `None`
/// too, answered 500 without detail.
pub(crate) async fn call<R>(
    who: &str,
    handler: impl Future<Output = Result<R, Error>>,
) -> Option<R> {
    match catch(who, handler).await? {
        Ok(response) => Some(response),
        Err(e) => {
            tracing::error!(error = %e, detail = ?e, "{who} returned an error");
            None
        }
    }
}

/// Renews a session the response did not write ([`SessionStore::renew`]) and returns the
/// `Set-Cookie` to send. Best effort: the request already succeeded, so a failure is logged
/// and the response goes out without the cookie; the next request tries again.
async fn renew(store: &SessionStore, session: &Session) -> Option<String> {
    match store.renew(session).await {
        Ok(set_cookie) => set_cookie,
        Err(session::Error::Ended) => None,
        Err(e) => {
            tracing::warn!(error = %e, "renewing the session failed; the next request tries again");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use lambda_http::http::{HeaderMap, HeaderValue, header::COOKIE};
    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::test_log::Log;

    fn store() -> Arc<SessionStore> {
        let config = Config::from_vars([("ARC_ENV", "testing")]).expect("config");
        Arc::new(SessionStore::new(&config))
    }

    fn session(value: serde_json::Value) -> Session {
        Session::try_from(value).expect("an object")
    }

    /// The session a `Set-Cookie` value opens.
    async fn opened(store: &SessionStore, set_cookie: &str) -> Session {
        let pair = set_cookie.split(';').next().expect("a pair");
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(pair).expect("a header"));
        store.read_headers(&headers).await.expect("read")
    }

    fn turn<'a>(
        store: &Arc<SessionStore>,
        read: &Session,
        flash_read: bool,
        via: Via<'a>,
    ) -> Turn<'a> {
        Turn::begin(store, read, flash_read, via, None, Deadline::default())
    }

    #[tokio::test]
    async fn a_server_error_writes_nothing_even_a_session_it_carries() {
        let store = store();
        let mut t = turn(&store, &Session::new(), true, Via::Cookie);
        let finished = t.finish(true, Some(Ok(session(json!({"n": 1}))))).await;
        assert_eq!(finished, Ok(Finished::Failed));
        assert_eq!(finished.expect("finished").set_cookie(), None);
    }

    #[tokio::test]
    async fn a_session_the_response_carries_is_written_and_its_cookie_opens_it() {
        let store = store();
        let mut t = turn(&store, &Session::new(), false, Via::Cookie);
        let finished = t
            .finish(false, Some(Ok(session(json!({"n": 2})))))
            .await
            .expect("written");
        let Finished::Written { set_cookie, record } = &finished else {
            panic!("{finished:?}");
        };
        assert_eq!(*record, None, "a sealed session has no record");
        let cookie = set_cookie.as_deref().expect("a cookie");
        assert_eq!(finished.set_cookie(), Some(cookie));
        let back = opened(&store, cookie).await;
        assert_eq!(back.get::<u64>("n").expect("n"), Some(2));
    }

    #[tokio::test]
    async fn a_session_that_cannot_be_one_is_an_internal_fault_and_logged() {
        let store = store();
        let log = Log::capture();
        let mut t = turn(&store, &Session::new(), false, Via::Cookie);
        let bad = Session::try_from(json!(3))
            .map(|_| ())
            .expect_err("not an object");
        assert_eq!(t.finish(false, Some(Err(bad))).await, Err(Fault::Internal));
        assert!(
            log.text().contains("the response's session failed"),
            "{}",
            log.text()
        );
    }

    #[tokio::test]
    async fn read_flash_messages_are_cleared_when_the_response_writes_no_session() {
        let store = store();
        let mut read = session(json!({"kept": true}));
        read.flash("notice", "saved").expect("flash");
        read.take_flash();
        let mut t = turn(&store, &read, true, Via::Cookie);
        let finished = t.finish(false, None).await.expect("written");
        let cookie = finished.set_cookie().expect("the cleared session's cookie");
        let back = opened(&store, cookie).await;
        assert_eq!(back.get::<bool>("kept").expect("kept"), Some(true));
        assert!(back.clone().take_flash().is_empty(), "{back:?}");
    }

    #[tokio::test]
    async fn a_response_without_a_session_keeps_the_one_read_without_a_cookie() {
        let store = store();
        let read = session(json!({"n": 1}));
        let mut t = turn(&store, &read, false, Via::Cookie);
        assert_eq!(
            t.finish(false, None).await,
            Ok(Finished::Kept { set_cookie: None })
        );
    }

    #[tokio::test]
    async fn a_socket_cannot_write_a_cookie_session() {
        let store = store();
        let log = Log::capture();
        let mut t = turn(
            &store,
            &Session::new(),
            true,
            Via::Socket { connection: "c" },
        );
        let finished = t.finish(false, Some(Ok(session(json!({"n": 1}))))).await;
        assert_eq!(finished, Err(Fault::Internal));
        assert!(
            log.text().contains("writing the session failed"),
            "{}",
            log.text()
        );
        // Flash messages are never cleared over a socket: nothing is written.
        let mut t = turn(
            &store,
            &Session::new(),
            true,
            Via::Socket { connection: "c" },
        );
        assert_eq!(
            t.finish(false, None).await,
            Ok(Finished::Kept { set_cookie: None })
        );
    }

    #[test]
    fn only_kept_and_written_turns_send_a_cookie() {
        let cookie = Some("_idx=x".to_owned());
        assert_eq!(Finished::Failed.set_cookie(), None);
        assert_eq!(Finished::Ended.set_cookie(), None);
        assert_eq!(
            Finished::Kept {
                set_cookie: cookie.clone()
            }
            .set_cookie(),
            Some("_idx=x")
        );
        assert_eq!(
            Finished::Written {
                set_cookie: cookie,
                record: None
            }
            .set_cookie(),
            Some("_idx=x")
        );
    }

    #[tokio::test]
    async fn a_panic_or_an_error_is_logged_and_gives_nothing() {
        let log = Log::capture();
        assert_eq!(catch("the handler", async { 7 }).await, Some(7));
        let panicked: Option<u8> = catch("the handler", async { panic!("boom") }).await;
        assert_eq!(panicked, None);
        assert!(
            log.text().contains("the handler panicked"),
            "{}",
            log.text()
        );
        assert_eq!(
            call("the handler", async { Ok::<_, Error>(8) }).await,
            Some(8)
        );
        let failed: Option<u8> = call("the handler", async { Err::<u8, Error>("no".into()) }).await;
        assert_eq!(failed, None);
        assert!(
            log.text().contains("the handler returned an error"),
            "{}",
            log.text()
        );
    }

    #[tokio::test]
    async fn the_record_read_is_where_a_kept_turn_pushes() {
        let store = store();
        let t = turn(&store, &Session::new(), false, Via::Cookie);
        assert_eq!(t.record(), None);
    }
}
