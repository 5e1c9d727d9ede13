//! A user's sessions, indexed in the session table beside the sessions.
//!
//! One item per signed-in user, **`user#<user id>`**: an attribute `device#<handle>` per
//! session signed in as that user, a map `{record, created, agent}` (the session's record id,
//! when it was signed in, the browser's `User-Agent`), and `_ttl`, kept at least as late as the
//! latest of those sessions' expiry. The handle is a hash of the record id
//! ([`crate::session::device_handle`]), so pages name a device without ever seeing a session
//! id.
//!
//! Why this shape, as for the connection records: sessions are written whole (`PutItem`), so a
//! list kept inside a session item would be lost to a racing write, while one attribute per
//! device takes single-attribute updates that cannot clash; no second table and no GSI, so the
//! app's `@tables` stays what Architect declares and Node's `@architect/functions` reads and
//! writes its own session items exactly as before (it never looks at `user#` items, and the
//! `_user`, `_stamp` and `_index_ttl` keys of a signed-in session are ordinary session keys to
//! it). The key holds the user id itself, not a keyed hash of it: the session items beside it
//! hold `_user` in the clear anyway, and a key derived from `ARC_APP_SECRET` would orphan every
//! index when the secret is rotated.
//!
//! Liveness is the sessions' own: an entry whose session is gone or expired is pruned when the
//! list is read. The item's `_ttl` only lets DynamoDB delete an index nobody uses any more.

use crate::deadline::Bounded as _;
use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, KeysAndAttributes, WriteRequest};

use super::{BROWSER, CREATED, DynamoDb, EXPIRY, KEY, TTL, WRITTEN};
use crate::session::provider::{Listed, ProviderFuture, UserRecords};
use crate::session::{Error, Expiry, device_handle};

const USER_PREFIX: &str = "user#";
const DEVICE_PREFIX: &str = "device#";
const RECORD: &str = "record";
const SINCE: &str = "created";
const AGENT: &str = "agent";
/// BatchGetItem takes at most 100 keys, BatchWriteItem 25 requests.
const BATCH_GET: usize = 100;
const BATCH_WRITE: usize = 25;
/// Unprocessed keys are sent again this many times before giving up.
const BATCH_TRIES: usize = 5;

fn user_key(user: &str) -> AttributeValue {
    AttributeValue::S(format!("{USER_PREFIX}{user}"))
}

fn device_attribute(record: &str) -> String {
    format!("{DEVICE_PREFIX}{}", device_handle(record))
}

fn number(value: Option<&AttributeValue>) -> Option<u64> {
    match value {
        Some(AttributeValue::N(n)) => n.parse::<f64>().ok().map(|f| f as u64),
        _ => None,
    }
}

fn text(value: Option<&AttributeValue>) -> Option<String> {
    match value {
        Some(AttributeValue::S(s)) => Some(s.clone()),
        _ => None,
    }
}

/// Whether a conditional update failed its condition.
fn unmet<E: aws_sdk_dynamodb::error::ProvideErrorMetadata>(e: &E) -> bool {
    e.code() == Some("ConditionalCheckFailedException")
}

impl DynamoDb {
    /// Adds `record` to `user`'s index and keeps the index's `_ttl` at least `until`: one
    /// UpdateItem when `until` is the latest (the usual case: the session just signed in), a
    /// second without touching `_ttl` when another session already holds it later.
    async fn enter_index(
        &self,
        user: &str,
        record: &str,
        created: u64,
        agent: Option<&str>,
        until: u64,
    ) -> Result<(), Error> {
        let mut entry = HashMap::from([
            (RECORD.to_owned(), AttributeValue::S(record.to_owned())),
            (SINCE.to_owned(), AttributeValue::N(created.to_string())),
        ]);
        if let Some(agent) = agent {
            // A header is at most a few hundred bytes in practice; the item's 400 KB are
            // shared by every device, so keep each entry small.
            let agent: String = agent.chars().take(256).collect();
            entry.insert(AGENT.to_owned(), AttributeValue::S(agent));
        }
        let client = self.client().await;
        let update = |with_ttl: bool| {
            let mut update = client
                .update_item()
                .table_name(&self.table)
                .key(KEY, user_key(user))
                .expression_attribute_names("#device", device_attribute(record))
                .expression_attribute_values(":entry", AttributeValue::M(entry.clone()));
            if with_ttl {
                update = update
                    .update_expression("SET #device = :entry, #ttl = :until")
                    .condition_expression("attribute_not_exists(#ttl) OR #ttl <= :until")
                    .expression_attribute_names("#ttl", TTL)
                    .expression_attribute_values(":until", AttributeValue::N(until.to_string()));
            } else {
                update = update.update_expression("SET #device = :entry");
            }
            update
        };
        match update(true).send().bounded().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(unmet) => update(false)
                .send()
                .bounded()
                .await
                .map(|_| ())
                .map_err(|e| self.fault("UpdateItem", e)),
            Err(e) => Err(self.fault("UpdateItem", e)),
        }
    }

    /// Takes `records` off `user`'s index in one update; an index already gone is not an
    /// error (and is not created).
    async fn leave_index_of(&self, user: &str, records: &[String]) -> Result<(), Error> {
        if records.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = (0..records.len()).map(|i| format!("#d{i}")).collect();
        let mut update = self
            .client()
            .await
            .update_item()
            .table_name(&self.table)
            .key(KEY, user_key(user))
            .update_expression(format!("REMOVE {}", names.join(", ")))
            .condition_expression("attribute_exists(#key)")
            .expression_attribute_names("#key", KEY);
        for (name, record) in names.iter().zip(records) {
            update = update.expression_attribute_names(name, device_attribute(record));
        }
        match update.send().bounded().await {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(unmet) => Ok(()),
            Err(e) => Err(self.fault("UpdateItem", e)),
        }
    }

    /// Moves `user`'s index `_ttl` on to `until` when it is earlier; an index that is gone
    /// stays gone.
    async fn extend_index(&self, user: &str, until: u64) -> Result<(), Error> {
        let updated = self
            .client()
            .await
            .update_item()
            .table_name(&self.table)
            .key(KEY, user_key(user))
            .update_expression("SET #ttl = :until")
            .condition_expression("attribute_exists(#key) AND #ttl < :until")
            .expression_attribute_names("#key", KEY)
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":until", AttributeValue::N(until.to_string()))
            .send()
            .bounded()
            .await;
        match updated {
            Ok(_) => Ok(()),
            Err(e) if e.as_service_error().is_some_and(unmet) => Ok(()),
            Err(e) => Err(self.fault("UpdateItem", e)),
        }
    }

    /// The entries of `user`'s index, as written: no liveness checked.
    async fn index_entries(&self, user: &str) -> Result<Vec<Listed>, Error> {
        let mut entries: Vec<Listed> = self
            .get(user_key(user), None)
            .await?
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(name, value)| {
                let handle = name.strip_prefix(DEVICE_PREFIX)?.to_owned();
                let AttributeValue::M(entry) = value else {
                    return None;
                };
                Some(Listed {
                    handle,
                    record: text(entry.get(RECORD))?,
                    created: number(entry.get(SINCE)).unwrap_or(0),
                    agent: text(entry.get(AGENT)),
                    last_seen: None,
                })
            })
            .collect();
        entries.sort_by(|a, b| a.created.cmp(&b.created).then(a.handle.cmp(&b.handle)));
        Ok(entries)
    }

    /// The live sessions of `user`'s index, oldest sign-in first, each with its last write;
    /// entries whose session is gone or expired are pruned (one more update, only when there
    /// are some).
    async fn live_devices(&self, user: &str, now: u64) -> Result<Vec<Listed>, Error> {
        let mut entries = self.index_entries(user).await?;
        let records: Vec<String> = entries.iter().map(|e| e.record.clone()).collect();
        let written = self.last_writes(&records, now).await?;
        let mut gone = Vec::new();
        entries.retain_mut(|entry| match written.get(&entry.record) {
            Some(last) => {
                entry.last_seen = *last;
                true
            }
            None => {
                gone.push(entry.record.clone());
                false
            }
        });
        self.leave_index_of(user, &gone).await?;
        Ok(entries)
    }

    /// The live ones of the session `records`, with when each was last written (if it says):
    /// BatchGetItem, 100 at a time, only the attributes liveness needs.
    async fn last_writes(
        &self,
        records: &[String],
        now: u64,
    ) -> Result<HashMap<String, Option<u64>>, Error> {
        let mut live = HashMap::new();
        for chunk in records.chunks(BATCH_GET) {
            let keys: Vec<HashMap<String, AttributeValue>> = chunk
                .iter()
                .map(|r| HashMap::from([(KEY.to_owned(), AttributeValue::S(r.clone()))]))
                .collect();
            let mut request = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .projection_expression("#idx, #ttl, #iat, #created, #expiry")
                .expression_attribute_names("#idx", KEY)
                .expression_attribute_names("#ttl", TTL)
                .expression_attribute_names("#iat", WRITTEN)
                .expression_attribute_names("#created", CREATED)
                .expression_attribute_names("#expiry", EXPIRY)
                .build()
                .expect("keys are all KeysAndAttributes needs");
            for _ in 0..BATCH_TRIES {
                let out = self
                    .client()
                    .await
                    .batch_get_item()
                    .request_items(&self.table, request.clone())
                    .send()
                    .bounded()
                    .await
                    .map_err(|e| self.fault("BatchGetItem", e))?;
                for item in out
                    .responses
                    .unwrap_or_default()
                    .remove(&self.table)
                    .unwrap_or_default()
                {
                    if let Some((id, written)) = self.liveness(&item, now) {
                        live.insert(id, written);
                    }
                }
                match out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                    Some(rest) if !rest.keys().is_empty() => request = rest,
                    _ => break,
                }
            }
        }
        Ok(live)
    }

    /// A session item's id and last write when it is live, by the rules a read applies.
    fn liveness(
        &self,
        item: &HashMap<String, AttributeValue>,
        now: u64,
    ) -> Option<(String, Option<u64>)> {
        let id = text(item.get(KEY))?;
        if number(item.get(TTL)).is_none_or(|ttl| ttl <= now) {
            return None;
        }
        let written = number(item.get(WRITTEN));
        let created = number(item.get(CREATED)).unwrap_or(now);
        let expiry = match item.get(EXPIRY) {
            Some(AttributeValue::S(s)) if s == BROWSER => Expiry::BrowserSession,
            Some(AttributeValue::N(n)) => n.parse::<u64>().map_or(Expiry::Default, |secs| {
                Expiry::Idle(std::time::Duration::from_secs(secs))
            }),
            _ => Expiry::Default,
        };
        self.lifetime
            .is_live(written, created, now, expiry)
            .then_some((id, written))
    }

    /// Deletes the session `records` (BatchWriteItem, 25 at a time), so their cookies open
    /// nothing, then takes them off `user`'s index.
    async fn end_records(&self, user: &str, records: &[String]) -> Result<(), Error> {
        for chunk in records.chunks(BATCH_WRITE) {
            let mut requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|record| {
                    let delete = DeleteRequest::builder()
                        .key(KEY, AttributeValue::S(record.clone()))
                        .build()
                        .expect("a key is all a DeleteRequest needs");
                    WriteRequest::builder().delete_request(delete).build()
                })
                .collect();
            for _ in 0..BATCH_TRIES {
                let out = self
                    .client()
                    .await
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .bounded()
                    .await
                    .map_err(|e| self.fault("BatchWriteItem", e))?;
                match out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                {
                    Some(rest) if !rest.is_empty() => requests = rest,
                    _ => break,
                }
            }
        }
        self.leave_index_of(user, records).await
    }
}

impl UserRecords for DynamoDb {
    fn enter<'a>(
        &'a self,
        user: &'a str,
        record: &'a str,
        created: u64,
        agent: Option<&'a str>,
        until: u64,
    ) -> ProviderFuture<'a, ()> {
        Box::pin(self.enter_index(user, record, created, agent, until))
    }

    fn leave<'a>(&'a self, user: &'a str, records: &'a [String]) -> ProviderFuture<'a, ()> {
        Box::pin(self.leave_index_of(user, records))
    }

    fn extend<'a>(&'a self, user: &'a str, until: u64) -> ProviderFuture<'a, ()> {
        Box::pin(self.extend_index(user, until))
    }

    fn entries<'a>(&'a self, user: &'a str) -> ProviderFuture<'a, Vec<Listed>> {
        Box::pin(self.index_entries(user))
    }

    fn devices<'a>(&'a self, user: &'a str, now: u64) -> ProviderFuture<'a, Vec<Listed>> {
        Box::pin(self.live_devices(user, now))
    }

    fn end<'a>(&'a self, user: &'a str, records: &'a [String]) -> ProviderFuture<'a, ()> {
        Box::pin(self.end_records(user, records))
    }
}
