//! WebSocket connection records, kept in the session table beside the sessions.
//!
//! Three kinds of item, so that neither a session write nor a connection ever rewrites the
//! other:
//!
//! - **`ws#<connection id>`**, one per open connection: `_session` (the id of the session it is
//!   tied to, absent while the browser has none) and `_ttl`. Every event of the connection
//!   after `$connect` finds its session through it, since API Gateway forwards the cookie only
//!   on `$connect`.
//! - **`ws-session#<session id>`**, one per session with open connections: an attribute
//!   `ws#<connection id>` per connection, holding when it expires (to the millisecond, which
//!   orders them by age), and `_ttl`, the latest of those. An HTTP handler lists the
//!   connections to push to from it with one read. Tying a connection returns the whole list,
//!   so a session past its cap of connections (`ARC_WS_MAX_CONNECTIONS`) learns its oldest
//!   ones without another read, and the caller closes them.
//! - **`ticket#<ticket id>`**, one per socket ticket redeemed, until the ticket expires: the
//!   conditional write that creates it is what makes a ticket single use.
//!
//! Sessions are written whole (`PutItem`), so a list kept inside the session item would be
//! lost to any write racing a `$connect`; the second item takes single-attribute updates that
//! cannot clash. A connection lives at most two hours (API Gateway closes it then) and
//! `$disconnect` is not guaranteed, so every record expires on its own: `_ttl` lets DynamoDB
//! delete it, and reads skip what has expired, since DynamoDB deletes days late.

use crate::deadline::Bounded as _;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::{DynamoDb, KEY, TTL};
use crate::session::Error;
use crate::session::provider::Loaded;

/// API Gateway closes every WebSocket connection after two hours.
const CONNECTION_LIFETIME: u64 = 2 * 60 * 60;

const SESSION: &str = "_session";
const CONNECTION_PREFIX: &str = "ws#";
const INDEX_PREFIX: &str = "ws-session#";
/// A spent socket ticket: `ticket#<its id>`, kept until the ticket expires.
const TICKET_PREFIX: &str = "ticket#";

fn connection_key(connection: &str) -> AttributeValue {
    AttributeValue::S(format!("{CONNECTION_PREFIX}{connection}"))
}

fn index_key(session: &str) -> AttributeValue {
    AttributeValue::S(format!("{INDEX_PREFIX}{session}"))
}

/// A number attribute in whole seconds (an index entry holds milliseconds as a fraction).
fn number(value: Option<&AttributeValue>) -> Option<u64> {
    match value {
        Some(AttributeValue::N(n)) => n.parse::<f64>().ok().map(|f| f as u64),
        _ => None,
    }
}

/// The time in seconds since the Unix epoch, with its fraction: orders connections opened
/// within one second.
fn precise_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The connections of a session index whose entries have expired: ended without
/// `$disconnect`, since API Gateway closes every connection within its lifetime.
fn expired(index: &std::collections::HashMap<String, AttributeValue>, now: u64) -> Vec<String> {
    let mut ids: Vec<String> = index
        .iter()
        .filter(|(name, value)| {
            name.starts_with(CONNECTION_PREFIX) && number(Some(value)).is_some_and(|at| at <= now)
        })
        .filter_map(|(name, _)| name.strip_prefix(CONNECTION_PREFIX).map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

/// The live connections of a session index past the first `cap`, oldest first: the ones to
/// close. `newest` (the connection just tied) is never one of them.
fn past_cap(
    index: &std::collections::HashMap<String, AttributeValue>,
    newest: &str,
    now: u64,
    cap: usize,
) -> Vec<String> {
    let mut live: Vec<(f64, &str)> = index
        .iter()
        .filter_map(|(name, value)| {
            let id = name.strip_prefix(CONNECTION_PREFIX)?;
            let AttributeValue::N(expires) = value else {
                return None;
            };
            let expires = expires.parse::<f64>().ok()?;
            (expires > now as f64).then_some((expires, id))
        })
        .collect();
    let excess = live.len().saturating_sub(cap.max(1));
    live.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(b.1)));
    live.into_iter()
        .map(|(_, id)| id)
        .filter(|id| *id != newest)
        .take(excess)
        .map(str::to_owned)
        .collect()
}

impl DynamoDb {
    /// Records `connection` as tied to `session` and lists it in the session's index. A
    /// connection tied before to another session (a WebSocket handler regenerated it) leaves
    /// that session's index, so the old id's pushes no longer reach it. Returns the session's
    /// oldest connections past `cap`, for the caller to close and forget.
    pub(super) async fn tie_connection(
        &self,
        connection: &str,
        session: Option<&str>,
        now: u64,
        cap: usize,
    ) -> Result<Vec<String>, Error> {
        let expires = AttributeValue::N((now + CONNECTION_LIFETIME).to_string());
        let client = self.client().await;
        let mut put = client
            .put_item()
            .table_name(&self.table)
            .item(KEY, connection_key(connection))
            .item(TTL, expires.clone())
            .return_values(ReturnValue::AllOld);
        if let Some(session) = session {
            put = put.item(SESSION, AttributeValue::S(session.to_owned()));
        }
        let old = put
            .send()
            .bounded()
            .await
            .map_err(|e| self.fault("PutItem", e))?;
        if let Some(AttributeValue::S(before)) = old.attributes.and_then(|mut a| a.remove(SESSION))
            && Some(before.as_str()) != session
        {
            self.leave_index(&before, connection).await?;
        }
        let Some(session) = session else {
            return Ok(Vec::new());
        };
        // Creates the list when it is the session's first connection. Each entry holds when
        // its connection expires, to the millisecond, which also orders them by age.
        let opened =
            AttributeValue::N(format!("{:.3}", precise_now() + CONNECTION_LIFETIME as f64));
        let index = client
            .update_item()
            .table_name(&self.table)
            .key(KEY, index_key(session))
            .update_expression("SET #connection = :opened, #ttl = :expires")
            .expression_attribute_names("#connection", format!("{CONNECTION_PREFIX}{connection}"))
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":opened", opened)
            .expression_attribute_values(":expires", expires)
            .return_values(ReturnValue::AllNew)
            .send()
            .bounded()
            .await
            .map_err(|e| self.fault("UpdateItem", e))?;
        let index = index.attributes.unwrap_or_default();
        // Entries of connections that ended without `$disconnect` would pile up in the item
        // (DynamoDB's limit is 400 KB): whoever ties the next connection clears them.
        let stale = expired(&index, now);
        if !stale.is_empty() {
            self.leave_index_all(session, &stale).await?;
        }
        Ok(past_cap(&index, connection, now, cap))
    }

    /// Spends the socket ticket `id`: a conditional put that fails when it was spent before.
    /// The marker expires with the ticket.
    pub(super) async fn spend(&self, id: &str, expires: u64) -> Result<bool, Error> {
        let put = self
            .client()
            .await
            .put_item()
            .table_name(&self.table)
            .item(KEY, AttributeValue::S(format!("{TICKET_PREFIX}{id}")))
            .item(TTL, AttributeValue::N(expires.to_string()))
            .condition_expression("attribute_not_exists(#key)")
            .expression_attribute_names("#key", KEY)
            .send()
            .bounded()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.fault("PutItem", e)),
        }
    }

    /// Takes `connection` off `session`'s index; an index already gone is not an error.
    async fn leave_index(&self, session: &str, connection: &str) -> Result<(), Error> {
        self.leave_index_all(session, &[connection.to_owned()])
            .await
    }

    /// Takes `connections` off `session`'s index in one update; an index already gone is not
    /// an error.
    async fn leave_index_all(&self, session: &str, connections: &[String]) -> Result<(), Error> {
        let names: Vec<String> = (0..connections.len()).map(|i| format!("#c{i}")).collect();
        let mut update = self
            .client()
            .await
            .update_item()
            .table_name(&self.table)
            .key(KEY, index_key(session))
            .update_expression(format!("REMOVE {}", names.join(", ")))
            // Else the update would create an empty list item that never expires.
            .condition_expression("attribute_exists(#key)")
            .expression_attribute_names("#key", KEY);
        for (name, connection) in names.iter().zip(connections) {
            update =
                update.expression_attribute_names(name, format!("{CONNECTION_PREFIX}{connection}"));
        }
        let removed = update.send().bounded().await;
        match removed {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(self.fault("UpdateItem", e)),
        }
    }

    pub(super) async fn load_connection_session(
        &self,
        connection: &str,
        now: u64,
    ) -> Result<Option<Loaded>, Error> {
        let Some(item) = self.get(connection_key(connection), None).await? else {
            return Ok(None);
        };
        if number(item.get(TTL)).is_none_or(|ttl| ttl <= now) {
            return Ok(None);
        }
        match item.get(SESSION) {
            // The record was written by this library, so the id needs no signature check.
            Some(AttributeValue::S(session)) => self.load_item(session.clone(), 0, now).await,
            _ => Ok(None),
        }
    }

    pub(super) async fn untie_connection(&self, connection: &str) -> Result<(), Error> {
        let client = self.client().await;
        let old = client
            .delete_item()
            .table_name(&self.table)
            .key(KEY, connection_key(connection))
            .return_values(ReturnValue::AllOld)
            .send()
            .bounded()
            .await
            .map_err(|e| self.fault("DeleteItem", e))?;
        let Some(AttributeValue::S(session)) = old.attributes.and_then(|mut a| a.remove(SESSION))
        else {
            return Ok(());
        };
        self.leave_index(&session, connection).await
    }

    pub(super) async fn session_connections(
        &self,
        session: &str,
        now: u64,
    ) -> Result<Vec<String>, Error> {
        let mut connections: Vec<String> = self
            .get(index_key(session), None)
            .await?
            .unwrap_or_default()
            .iter()
            .filter(|(_, expires)| number(Some(expires)).is_some_and(|at| at > now))
            .filter_map(|(name, _)| name.strip_prefix(CONNECTION_PREFIX).map(str::to_owned))
            .collect();
        connections.sort();
        Ok(connections)
    }
}

#[cfg(test)]
mod tests;
