//! DynamoDB helpers: the session table, whether a local DynamoDB is there, and SDK interceptors
//! that count or break calls. Free of `arc_functions`, so the DynamoDB bench and the library's
//! own unit tests include this file by `#[path]` too.
#![allow(
    dead_code,
    reason = "each test binary, the bench and the unit tests use a part of it"
)]

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::interceptors::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
};

/// Fails the test unless the local DynamoDB `scripts/test` starts is there
/// (`ARC_TEST_DYNAMODB=1`). Every test that calls it is `#[ignore]`d, so it runs only when asked
/// for (by name, or with `--include-ignored`): without the server it fails, rather than pass
/// having checked nothing.
pub(crate) fn require_dynamodb() {
    assert!(
        std::env::var("ARC_TEST_DYNAMODB").is_ok_and(|v| v == "1"),
        "this test needs a local DynamoDB: run scripts/test, or start dynalite and set \
         ARC_TEST_DYNAMODB=1 with AWS_ENDPOINT_URL_DYNAMODB, AWS_REGION and credentials"
    );
}

/// Creates a session table as Architect declares it (`_idx *String`); an existing table is
/// fine.
pub(crate) async fn create_session_table(client: &Client, table: &str) {
    let created = client
        .create_table()
        .table_name(table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("_idx")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("_idx")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await;
    if let Err(e) = created {
        let exists = e
            .as_service_error()
            .is_some_and(|e| e.is_resource_in_use_exception());
        assert!(exists, "creating {table}: {e:?}");
    }
    // dynalite turns a table ACTIVE on a timer, even with --createTableMs 0; on a busy machine
    // a write can arrive first and meet ResourceNotFoundException. Wait, boundedly.
    for _ in 0..200 {
        let status = client
            .describe_table()
            .table_name(table)
            .send()
            .await
            .ok()
            .and_then(|out| out.table)
            .and_then(|t| t.table_status);
        if status == Some(TableStatus::Active) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{table} did not become ACTIVE within 10 s");
}

/// The DynamoDB item id in a session cookie's `_idx=<id>.<signature>`.
pub(crate) fn item_id(cookie: &str) -> String {
    cookie
        .trim_start_matches("_idx=")
        .split('.')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The DynamoDB operation a request about to be sent calls (`GetItem`), from its
/// `X-Amz-Target` (`DynamoDB_20120810.GetItem`); `None` for a request without one (the health
/// check, `GET /`). What the interceptors below match on.
fn operation<'a>(context: &'a BeforeTransmitInterceptorContextRef<'_>) -> Option<&'a str> {
    context
        .request()
        .headers()
        .get("x-amz-target")
        .and_then(|t| t.rsplit('.').next())
}

/// Which DynamoDB operations left the SDK (after its retries would be counted again), by their
/// [`operation`] (`GetItem`), or by HTTP method for a request without one (the health check,
/// `GET`): share it with a client as its interceptor, then look at what was called.
#[derive(Debug, Default, Clone)]
pub(crate) struct Calls(Arc<Mutex<Vec<String>>>);

impl Calls {
    /// The calls so far, forgotten.
    pub(crate) fn take(&self) -> Vec<String> {
        self.0
            .lock()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    }

    /// The calls so far.
    pub(crate) fn names(&self) -> Vec<String> {
        self.0.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// How many calls so far.
    pub(crate) fn count(&self) -> usize {
        self.names().len()
    }
}

impl Intercept for Calls {
    fn name(&self) -> &'static str {
        "Calls"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let called = operation(context)
            .unwrap_or(context.request().method())
            .to_owned();
        if let Ok(mut calls) = self.0.lock() {
            calls.push(called);
        }
        Ok(())
    }
}

/// Fails every call of one DynamoDB operation (`PutItem`) before it is sent: a fault dynalite
/// cannot be made to give for one operation while the others go on working.
#[derive(Debug)]
pub(crate) struct Fail(pub(crate) &'static str);

impl Intercept for Fail {
    fn name(&self) -> &'static str {
        "Fail"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        if operation(context) == Some(self.0) {
            return Err(format!("the {} fault of this test", self.0).into());
        }
        Ok(())
    }
}

/// Loses DynamoDB's answer to the first `times` calls of one operation (`PutItem`): each is
/// applied, and its answer replaced by a `500 InternalServerError`, which the SDK retries. An
/// answer lost on the way back, as a stalled connection the SDK gave up on loses it; dynalite
/// cannot be made to lose one. For one call at a time.
#[derive(Debug, Clone)]
pub(crate) struct LoseAnswer {
    operation: &'static str,
    /// How many answers are still to lose; shared by the clones, so a test can [arm] again.
    ///
    /// [arm]: LoseAnswer::arm
    times: Arc<std::sync::atomic::AtomicUsize>,
    /// Whether the request in flight is one to lose the answer of: the answer no longer says.
    losing: Arc<std::sync::atomic::AtomicBool>,
}

impl LoseAnswer {
    pub(crate) fn new(operation: &'static str, times: usize) -> Self {
        Self {
            operation,
            times: Arc::new(std::sync::atomic::AtomicUsize::new(times)),
            losing: Arc::default(),
        }
    }

    /// Loses the next `times` answers.
    pub(crate) fn arm(&self, times: usize) {
        self.times.store(times, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Intercept for LoseAnswer {
    fn name(&self) -> &'static str {
        "LoseAnswer"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        use std::sync::atomic::Ordering;
        let losing = operation(context) == Some(self.operation)
            && self
                .times
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        self.losing.store(losing, Ordering::SeqCst);
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        context: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        if !self.losing.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return Ok(());
        }
        let response = context.response_mut();
        *response.status_mut() = 500.try_into().expect("a status");
        response
            .headers_mut()
            .insert("x-amzn-errortype", "InternalServerError");
        *response.body_mut() = aws_smithy_types::body::SdkBody::from(
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"the answer was lost"}"#,
        );
        Ok(())
    }
}
