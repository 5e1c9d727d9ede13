//! Shared by the integration tests and the DynamoDB bench (`#[path]`-included there).
#![allow(
    dead_code,
    reason = "each test binary, and the bench, uses a part of it"
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

/// A `tracing` subscriber that writes plain text into the buffer it returns, for [`logged`].
pub(crate) fn buffered_subscriber() -> (
    Arc<Mutex<Vec<u8>>>,
    impl tracing::Subscriber + Send + Sync + 'static,
) {
    #[derive(Clone)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log buffer").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let writer = Buffer(Arc::clone(&buffer));
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    (buffer, subscriber)
}

/// Captures what `tracing` logs on this thread while the guard lives.
pub(crate) fn capture_logs() -> (Arc<Mutex<Vec<u8>>>, tracing::subscriber::DefaultGuard) {
    let (buffer, subscriber) = buffered_subscriber();
    (buffer, tracing::subscriber::set_default(subscriber))
}

/// What [`capture_logs`] captured so far.
pub(crate) fn logged(buffer: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buffer.lock().expect("log buffer")).into_owned()
}

/// Which DynamoDB operations left the SDK (after its retries would be counted again), by their
/// `X-Amz-Target` (`GetItem`), or by HTTP method for a request without one (the health check,
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
        let request = context.request();
        let target = request
            .headers()
            .get("x-amz-target")
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or(request.method())
            .to_owned();
        if let Ok(mut calls) = self.0.lock() {
            calls.push(target);
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
        let target = context.request().headers().get("x-amz-target");
        if target.is_some_and(|t| t.rsplit('.').next() == Some(self.0)) {
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
        let target = context.request().headers().get("x-amz-target");
        let losing = target.is_some_and(|t| t.rsplit('.').next() == Some(self.operation))
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

/// The DynamoDB item id in a session cookie's `_idx=<id>.<signature>`.
pub(crate) fn item_id(cookie: &str) -> String {
    cookie
        .trim_start_matches("_idx=")
        .split('.')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A service that must be made ready before each call, as tower's contract has it (a
/// concurrency limit, a buffer): `poll_ready` readies this value, `call` spends the readiness,
/// and a clone starts unready. A layer that calls it without asking first panics the test.
#[derive(Debug)]
pub(crate) struct MustBeReady<S> {
    inner: S,
    ready: bool,
}

impl<S> MustBeReady<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            ready: false,
        }
    }
}

impl<S: Clone> Clone for MustBeReady<S> {
    fn clone(&self) -> Self {
        Self::new(self.inner.clone())
    }
}

impl<S, R> tower_service::Service<R> for MustBeReady<S>
where
    S: tower_service::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        let polled = self.inner.poll_ready(cx);
        self.ready = matches!(polled, std::task::Poll::Ready(Ok(())));
        polled
    }

    fn call(&mut self, request: R) -> S::Future {
        assert!(
            std::mem::take(&mut self.ready),
            "called without poll_ready having answered ready"
        );
        self.inner.call(request)
    }
}
