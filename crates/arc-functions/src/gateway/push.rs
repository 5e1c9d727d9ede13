//! Reaching every open connection of a session from the handler wrappers: pushing to them,
//! and closing those of a session that ended.
//!
//! Both are bounded: at most [`CONCURRENCY`] management API calls at a time (a session has at
//! most `ARC_WS_MAX_CONNECTIONS` connections anyway), and all of them within the invocation's
//! remaining time, less a margin to answer in ([`Deadline`]).

use futures_util::stream::{self, StreamExt};

use super::{Client, Error, Payload};
use crate::deadline::Deadline;
use crate::session::SessionStore;

/// Management API calls in flight at once for one push or close.
const CONCURRENCY: usize = 8;
/// Sends `payload` to every open connection of the session stored under `record` (none: a
/// session never stored, so no connections) but `except`, and returns how many received it.
/// Connections found gone are forgotten; they are expected (a tab closed without
/// `$disconnect`), so they are not an error.
pub(crate) async fn push(
    store: &SessionStore,
    client: &Client,
    record: Option<&str>,
    except: Option<&str>,
    payload: Payload,
    deadline: Deadline,
) -> Result<usize, Error> {
    let Some(record) = record else {
        return Ok(0);
    };
    let sends = async {
        let mut connections = store.connections_of_record(record).await?;
        connections.retain(|c| Some(c.as_str()) != except);
        // Collected first: a stream over a closure trips rustc's check that the future is Send.
        let sends: Vec<_> = connections
            .into_iter()
            .map(|connection| send_one(client, connection, payload.clone()))
            .collect();
        let results: Vec<_> = stream::iter(sends)
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut delivered = 0;
        let mut failure = None;
        for (connection, sent) in results {
            match sent {
                Ok(()) => delivered += 1,
                Err(Error::Gone { .. }) => forget(store, &connection).await,
                Err(e) => failure = failure.or(Some(e)),
            }
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(delivered),
        }
    };
    let budget = deadline.budget();
    tokio::time::timeout(budget, sends)
        .await
        .unwrap_or(Err(Error::OutOfTime {
            budget_ms: budget.as_millis(),
        }))
}

/// [`push`] for a response's `push`: best effort, so what happened is logged and nothing else.
pub(crate) async fn push_logged(
    store: &SessionStore,
    client: &Client,
    record: Option<&str>,
    except: Option<&str>,
    payload: Payload,
    deadline: Deadline,
) {
    match push(store, client, record, except, payload, deadline).await {
        Ok(delivered) => tracing::debug!(delivered, "pushed to the session's connections"),
        Err(e) => {
            tracing::warn!(error = %e, "pushing to the session's WebSocket connections failed");
        }
    }
}

/// Closes the open connections of a session that ended (regenerated or destroyed) but `except`
/// (the connection of the event that ended it, which its own answer reaches), and forgets
/// them. Best effort, within the deadline: a failure is logged, and the records expire on
/// their own.
pub(crate) async fn close_session(
    store: &SessionStore,
    client: &Client,
    record: &str,
    except: Option<&str>,
    deadline: Deadline,
) {
    end(
        store,
        client,
        std::slice::from_ref(&record.to_owned()),
        None,
        except,
        deadline,
    )
    .await;
}

/// Tells the open connections of each ended session record in `records` `notice` ("signed
/// out on another device"), then closes them and forgets them: the page shows why before its
/// socket goes. One listing per record. Best effort, within the deadline: a failure is
/// logged, and a socket that stays open reads no session any more.
pub(crate) async fn end_sessions(
    store: &SessionStore,
    client: &Client,
    records: &[String],
    notice: Payload,
    deadline: Deadline,
) {
    end(store, client, records, Some(notice), None, deadline).await;
}

/// What [`close_session`] and [`end_sessions`] do: for each record, list its connections, tell
/// them `notice` when there is one, then close them, all but `except`.
async fn end(
    store: &SessionStore,
    client: &Client,
    records: &[String],
    notice: Option<Payload>,
    except: Option<&str>,
    deadline: Deadline,
) {
    let ending = async {
        for record in records {
            let connections: Vec<String> = match store.connections_of_record(record).await {
                Ok(connections) => connections
                    .into_iter()
                    .filter(|c| Some(c.as_str()) != except)
                    .collect(),
                Err(e) => {
                    tracing::warn!(error = %e, "listing an ended session's connections failed; they read no session and expire on their own");
                    continue;
                }
            };
            if let Some(notice) = &notice {
                let sends: Vec<_> = connections
                    .iter()
                    .map(|connection| send_one(client, connection.clone(), notice.clone()))
                    .collect();
                for (connection, sent) in stream::iter(sends)
                    .buffer_unordered(CONCURRENCY)
                    .collect::<Vec<_>>()
                    .await
                {
                    if let Err(e) = sent {
                        tracing::debug!(error = %e, connection, "telling a connection its session ended failed");
                    }
                }
            }
            close_all(store, client, &connections).await;
        }
    };
    if tokio::time::timeout(deadline.budget(), ending)
        .await
        .is_err()
    {
        tracing::warn!(
            "closing ended sessions' connections ran out of time; they read no session and expire on their own"
        );
    }
}

/// Closes `connections` and forgets their records, at most [`CONCURRENCY`] at a time.
pub(crate) async fn close_all(store: &SessionStore, client: &Client, connections: &[String]) {
    let closes: Vec<_> = connections
        .iter()
        .map(|connection| close_one(store, client, connection.clone()))
        .collect();
    stream::iter(closes)
        .buffer_unordered(CONCURRENCY)
        .collect::<Vec<()>>()
        .await;
}

async fn send_one(
    client: &Client,
    connection: String,
    payload: Payload,
) -> (String, Result<(), Error>) {
    let sent = client.send(&connection, payload).await;
    (connection, sent)
}

async fn close_one(store: &SessionStore, client: &Client, connection: String) {
    match client.close(&connection).await {
        Ok(()) | Err(Error::Gone { .. }) => {}
        Err(e) => tracing::warn!(error = %e, "closing a connection failed"),
    }
    forget(store, &connection).await;
}

async fn forget(store: &SessionStore, connection: &str) {
    if let Err(e) = store.untie(connection).await {
        tracing::warn!(error = %e, "forgetting a connection failed; its records expire on their own");
    }
}
