//! The session items' calls (GetItem, PutItem, UpdateItem, DeleteItem, and the connection
//! opened at cold start; GetItem reads connection records and device lists too), each written
//! once and sent through the client the store has:
//! DynamoDB without the SDK ([`crate::aws::dynamodb`]) when the environment allows it, which
//! is always so on Lambda; else the SDK's, given to the store
//! ([`SessionStore::with_dynamodb_client`]) or built from the AWS configuration on first use.
//! The writes, queries and batches of connection records, users and devices go through the
//! SDK's client, built when they are first used.
//!
//! [`SessionStore::with_dynamodb_client`]: crate::http::session::SessionStore::with_dynamodb_client

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use super::{DynamoDb, Error, KEY, WARM_UP_ID, WARM_UP_LIMIT, connect_only};
use crate::aws::dynamodb::{self as signed, Item, expression_map, wire, wire_item};
use crate::aws::signed::Fault;
use crate::deadline::Bounded as _;

/// A condition or an update: its text, and the names and values it refers to.
pub(super) struct Expression<'a> {
    pub(super) text: &'a str,
    pub(super) names: &'a [(&'a str, &'a str)],
    pub(super) values: Vec<(&'a str, AttributeValue)>,
}

/// What a conditional write came to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Written {
    Done,
    /// Its condition did not hold: nothing was written.
    Unmet,
}

impl DynamoDb {
    /// The client without the SDK, read from the environment on first use; `None` when the
    /// store was given the SDK's client, or the environment needs the SDK's (a profile's
    /// credentials, say), which the log says once.
    pub(super) fn signed(&self) -> Option<&signed::Client> {
        self.signed
            .get_or_init(
                || match signed::Client::from_env(|name| std::env::var(name).ok()) {
                    Ok(client) => Some(client),
                    Err(why) => {
                        tracing::debug!(why, "DynamoDB is called through the AWS SDK's client");
                        None
                    }
                },
            )
            .as_ref()
    }

    /// The item under `key`, read consistently (a write just acknowledged is seen): the whole
    /// item, or with `only` that one attribute. `None` when there is none. Every read of an
    /// item of the table goes through here.
    pub(super) async fn get(
        &self,
        key: AttributeValue,
        only: Option<&str>,
    ) -> Result<Option<Item>, Error> {
        if let Some(client) = self.signed() {
            let mut input = json!({
                "TableName": self.table,
                "Key": { KEY: wire(&key) },
                "ConsistentRead": true,
            });
            if let Some(name) = only {
                input["ProjectionExpression"] = json!("#a");
                input["ExpressionAttributeNames"] = json!({ "#a": name });
            }
            let mut answer = client
                .call("GetItem", &input)
                .await
                .map_err(|e| self.signed_fault("GetItem", e))?;
            return match answer.get_mut("Item").map(Value::take) {
                None | Some(Value::Null) => Ok(None),
                Some(item) => signed::item(item).map(Some).ok_or_else(|| {
                    self.signed_fault(
                        "GetItem",
                        Fault::Unavailable("DynamoDB answered an item it cannot have".into()),
                    )
                }),
            };
        }
        let mut get = self
            .client()
            .await
            .get_item()
            .table_name(&self.table)
            .key(KEY, key)
            .consistent_read(true);
        if let Some(name) = only {
            get = get
                .projection_expression("#a")
                .expression_attribute_names("#a", name);
        }
        Ok(get
            .send()
            .bounded()
            .await
            .map_err(|e| self.fault("GetItem", e))?
            .item)
    }

    /// Writes `item` if `condition` holds.
    pub(super) async fn put(
        &self,
        item: Item,
        condition: Expression<'_>,
    ) -> Result<Written, Error> {
        if let Some(client) = self.signed() {
            let mut input = json!({
                "TableName": self.table,
                "Item": wire_item(&item),
                "ConditionExpression": condition.text,
            });
            add_expression_maps(&mut input, &condition);
            return self.signed_write(client, "PutItem", &input).await;
        }
        let put = self
            .client()
            .await
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition.text);
        let put = condition
            .names
            .iter()
            .fold(put, |put, (k, v)| put.expression_attribute_names(*k, *v));
        let put = condition
            .values
            .into_iter()
            .fold(put, |put, (k, v)| put.expression_attribute_values(k, v));
        match put.send().bounded().await {
            Ok(_) => Ok(Written::Done),
            Err(e) if unmet(&e) => Ok(Written::Unmet),
            Err(e) => Err(self.fault("PutItem", e)),
        }
    }

    /// Applies `update` to the item under `id` if `condition` holds; `condition` carries the
    /// names and values of both.
    pub(super) async fn update(
        &self,
        id: &str,
        update: &str,
        condition: Expression<'_>,
    ) -> Result<Written, Error> {
        if let Some(client) = self.signed() {
            let mut input = json!({
                "TableName": self.table,
                "Key": { KEY: { "S": id } },
                "UpdateExpression": update,
                "ConditionExpression": condition.text,
            });
            add_expression_maps(&mut input, &condition);
            return self.signed_write(client, "UpdateItem", &input).await;
        }
        let call = self
            .client()
            .await
            .update_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(id.to_owned()))
            .update_expression(update)
            .condition_expression(condition.text);
        let call = condition
            .names
            .iter()
            .fold(call, |call, (k, v)| call.expression_attribute_names(*k, *v));
        let call = condition
            .values
            .into_iter()
            .fold(call, |call, (k, v)| call.expression_attribute_values(k, v));
        match call.send().bounded().await {
            Ok(_) => Ok(Written::Done),
            Err(e) if unmet(&e) => Ok(Written::Unmet),
            Err(e) => Err(self.fault("UpdateItem", e)),
        }
    }

    /// Deletes the item under `id`; a missing item is not an error.
    pub(super) async fn delete(&self, id: &str) -> Result<(), Error> {
        if let Some(client) = self.signed() {
            let input = json!({ "TableName": self.table, "Key": { KEY: { "S": id } } });
            client
                .call("DeleteItem", &input)
                .await
                .map_err(|e| self.signed_fault("DeleteItem", e))?;
            return Ok(());
        }
        self.client()
            .await
            .delete_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(id.to_owned()))
            .send()
            .bounded()
            .await
            .map_err(|e| self.fault("DeleteItem", e))?;
        Ok(())
    }

    /// Makes the client ready and opens a connection to DynamoDB, so the first request finds
    /// them ready. Bounded and never failing: DynamoDB briefly out of reach must not stop the
    /// function starting, and the first request would meet the same fault and answer it.
    ///
    /// Without the SDK this opens the connection (TCP, and TLS on AWS) and keeps it for the
    /// first call: no round trip to DynamoDB at start-up. Through the SDK, the request goes as a
    /// GetItem, so it resolves its endpoint and is signed exactly as the requests after it
    /// will be, but [`connect_only`] marks it for the library's HTTP client, which opens and
    /// keeps the connection the same way and sends nothing. A client of the caller's sends it
    /// as DynamoDB's health check, `GET /`, whose answer the SDK then fails to read as a
    /// GetItem's, which is expected: any answer means the connection is open.
    pub(super) async fn warm_up(&self) {
        let started = std::time::Instant::now();
        if let Some(client) = self.signed() {
            match tokio::time::timeout(WARM_UP_LIMIT, client.connect()).await {
                Ok(Ok(())) => {
                    tracing::debug!(elapsed = ?started.elapsed(), "connected to DynamoDB");
                }
                Ok(Err(why)) => tracing::info!(
                    endpoint = client.endpoint(),
                    why,
                    "DynamoDB was not reached at start-up; the first request will try again"
                ),
                Err(_) => tracing::info!(
                    "DynamoDB did not answer within {WARM_UP_LIMIT:?} at start-up; the first request will try again"
                ),
            }
            return;
        }
        let asked = async {
            self.client()
                .await
                .get_item()
                .table_name(&self.table)
                // Ids are 32 base64url characters; this one is shorter, so never a session's.
                .key(KEY, AttributeValue::S(WARM_UP_ID.to_owned()))
                .customize()
                .mutate_request(connect_only)
                .send()
                .await
        };
        match tokio::time::timeout(WARM_UP_LIMIT, asked).await {
            Ok(Err(e)) if crate::aws::connected(&e) => {
                tracing::debug!(elapsed = ?started.elapsed(), "DynamoDB client ready, connected");
            }
            // An error with no answer: the request never reached DynamoDB.
            Ok(Err(e)) if e.raw_response().is_none() => tracing::info!(
                error = %aws_sdk_dynamodb::Error::from(e),
                "DynamoDB was not reached at start-up; the first request will try again"
            ),
            Ok(_) => tracing::debug!(elapsed = ?started.elapsed(), "DynamoDB client ready"),
            Err(_) => tracing::info!(
                "DynamoDB did not answer within {WARM_UP_LIMIT:?} at start-up; the first request will try again"
            ),
        }
    }

    /// A conditional write without the SDK.
    async fn signed_write(
        &self,
        client: &signed::Client,
        operation: &'static str,
        input: &Value,
    ) -> Result<Written, Error> {
        match client.call(operation, input).await {
            Ok(_) => Ok(Written::Done),
            Err(fault) if signed::unmet(&fault) => Ok(Written::Unmet),
            Err(fault) => Err(self.signed_fault(operation, fault)),
        }
    }

    /// A failed call without the SDK as an [`Error::DynamoDb`], keeping the fault as its source.
    fn signed_fault(&self, operation: &'static str, fault: Fault) -> Error {
        Error::DynamoDb {
            operation,
            table: self.table.clone(),
            unavailable: matches!(fault, Fault::Unavailable(_)),
            source: Box::new(fault),
        }
    }
}

/// Whether the SDK's error is DynamoDB refusing a write whose condition did not hold.
fn unmet<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> bool {
    error
        .as_service_error()
        .is_some_and(|e| e.code() == Some("ConditionalCheckFailedException"))
}

/// The `ExpressionAttributeNames` and `ExpressionAttributeValues` of `expression`, those it has.
fn add_expression_maps(input: &mut Value, expression: &Expression<'_>) {
    if let Some(names) = expression_map(expression.names, |name| json!(name)) {
        input["ExpressionAttributeNames"] = names;
    }
    if let Some(values) = expression_map(&expression.values, wire) {
        input["ExpressionAttributeValues"] = values;
    }
}
