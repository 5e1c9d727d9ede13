//! Pushing to every open connection of a session, for HTTP handlers.

use futures_util::future::join_all;

use super::{Client, Error, Payload};
use crate::session::SessionStore;

/// Sends `payload` to every open connection of the session stored under `record` (none: a
/// session never stored, so no connections) and returns how many received it.
/// Connections found gone are forgotten; they are expected (a tab closed without
/// `$disconnect`), so they are not an error.
pub(crate) async fn push(
    store: &SessionStore,
    client: &Client,
    record: Option<&str>,
    payload: Payload,
) -> Result<usize, Error> {
    let connections = match record {
        Some(record) => store.connections_of_record(record).await?,
        None => return Ok(0),
    };
    let sends = connections
        .iter()
        .map(|connection| client.send(connection, payload.clone()));
    let mut delivered = 0;
    let mut failure = None;
    for (connection, sent) in connections.iter().zip(join_all(sends).await) {
        match sent {
            Ok(()) => delivered += 1,
            Err(Error::Gone { .. }) => {
                if let Err(e) = store.untie(connection).await {
                    tracing::warn!(error = %e, "forgetting a gone connection failed; its records expire on their own");
                }
            }
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(delivered),
    }
}
