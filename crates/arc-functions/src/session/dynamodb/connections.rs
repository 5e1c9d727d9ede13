//! WebSocket connection records, kept in the session table beside the sessions.
//!
//! Two kinds of item, so that neither a session write nor a connection ever rewrites the other:
//!
//! - **`ws#<connection id>`**, one per open connection: `_session` (the id of the session it is
//!   tied to, absent while the browser has none) and `_ttl`. Every event of the connection
//!   after `$connect` finds its session through it, since API Gateway forwards the cookie only
//!   on `$connect`.
//! - **`ws-session#<session id>`**, one per session with open connections: an attribute
//!   `ws#<connection id>` per connection, holding when it expires, and `_ttl`, the latest of
//!   those. An HTTP handler lists the connections to push to from it with one read.
//!
//! Sessions are written whole (`PutItem`), so a list kept inside the session item would be
//! lost to any write racing a `$connect`; the second item takes single-attribute updates that
//! cannot clash. A connection lives at most two hours (API Gateway closes it then) and
//! `$disconnect` is not guaranteed, so every record expires on its own: `_ttl` lets DynamoDB
//! delete it, and reads skip what has expired, since DynamoDB deletes days late.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::{DynamoDb, KEY, TTL};
use crate::session::Error;
use crate::session::provider::Loaded;

/// API Gateway closes every WebSocket connection after two hours.
const CONNECTION_LIFETIME: u64 = 2 * 60 * 60;

const SESSION: &str = "_session";
const CONNECTION_PREFIX: &str = "ws#";
const INDEX_PREFIX: &str = "ws-session#";

fn connection_key(connection: &str) -> AttributeValue {
    AttributeValue::S(format!("{CONNECTION_PREFIX}{connection}"))
}

fn index_key(session: &str) -> AttributeValue {
    AttributeValue::S(format!("{INDEX_PREFIX}{session}"))
}

fn number(value: Option<&AttributeValue>) -> Option<u64> {
    match value {
        Some(AttributeValue::N(n)) => n.parse().ok(),
        _ => None,
    }
}

impl DynamoDb {
    pub(super) async fn tie_connection(
        &self,
        connection: &str,
        session: Option<&str>,
        now: u64,
    ) -> Result<(), Error> {
        let expires = AttributeValue::N((now + CONNECTION_LIFETIME).to_string());
        let client = self.client().await;
        let mut put = client
            .put_item()
            .table_name(&self.table)
            .item(KEY, connection_key(connection))
            .item(TTL, expires.clone());
        if let Some(session) = session {
            put = put.item(SESSION, AttributeValue::S(session.to_owned()));
        }
        put.send().await.map_err(|e| self.fault("PutItem", e))?;
        let Some(session) = session else {
            return Ok(());
        };
        // Creates the list when it is the session's first connection.
        client
            .update_item()
            .table_name(&self.table)
            .key(KEY, index_key(session))
            .update_expression("SET #connection = :expires, #ttl = :expires")
            .expression_attribute_names("#connection", format!("{CONNECTION_PREFIX}{connection}"))
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":expires", expires)
            .send()
            .await
            .map_err(|e| self.fault("UpdateItem", e))?;
        Ok(())
    }

    pub(super) async fn load_connection_session(
        &self,
        connection: &str,
        now: u64,
    ) -> Result<Option<Loaded>, Error> {
        let out = self
            .client()
            .await
            .get_item()
            .table_name(&self.table)
            .key(KEY, connection_key(connection))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.fault("GetItem", e))?;
        let Some(item) = out.item else {
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
            .await
            .map_err(|e| self.fault("DeleteItem", e))?;
        let Some(AttributeValue::S(session)) = old.attributes.and_then(|mut a| a.remove(SESSION))
        else {
            return Ok(());
        };
        let removed = client
            .update_item()
            .table_name(&self.table)
            .key(KEY, index_key(&session))
            .update_expression("REMOVE #connection")
            // Else the update would create an empty list item that never expires.
            .condition_expression("attribute_exists(#key)")
            .expression_attribute_names("#connection", format!("{CONNECTION_PREFIX}{connection}"))
            .expression_attribute_names("#key", KEY)
            .send()
            .await;
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

    pub(super) async fn session_connections(
        &self,
        session: &str,
        now: u64,
    ) -> Result<Vec<String>, Error> {
        let out = self
            .client()
            .await
            .get_item()
            .table_name(&self.table)
            .key(KEY, index_key(session))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.fault("GetItem", e))?;
        let mut connections: Vec<String> = out
            .item
            .unwrap_or_default()
            .iter()
            .filter(|(_, expires)| number(Some(expires)).is_some_and(|at| at > now))
            .filter_map(|(name, _)| name.strip_prefix(CONNECTION_PREFIX).map(str::to_owned))
            .collect();
        connections.sort();
        Ok(connections)
    }
}
