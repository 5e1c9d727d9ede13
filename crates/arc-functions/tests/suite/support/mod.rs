//! Shared by the integration tests, each of which declares `mod support;` and uses its part.
//!
//! - [`dynamodb`]: the session table, whether a local DynamoDB is there, SDK interceptors that
//!   count or break calls (the DynamoDB bench and the library's unit tests include this file
//!   alone, by `#[path]`: it is the one free of `arc_functions`).
//! - [`http`]: real API Gateway events served as `http::run` serves them, and what the reply
//!   holds.
//! - [`stores`]: the session-store suite's harness, one store per provider.
//! - [`ws`]: real WebSocket events, a DynamoDB-mode store, and a stand-in management API.
//! - Here: a real event changed for a test, the session a cookie opens, log capture, a tower
//!   service that must be made ready, and what a test needing moto checks first.
#![allow(dead_code, reason = "each test binary uses a part of it")]

pub(crate) mod dynamodb;
pub(crate) mod http;
pub(crate) mod stores;
pub(crate) mod ws;

use std::sync::{Arc, Mutex};

use arc_functions::http::session::{Session, SessionStore};
use serde_json::Value;

/// A real event (`tests/fixtures`), changed by `edit`: the Lambda payload a function is
/// invoked with.
pub(crate) fn event(fixture: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(fixture).expect("fixture is JSON");
    edit(&mut value);
    value.to_string()
}

/// The session a cookie (`name=value`) opens in `store`, read as `SessionStore::read` reads
/// a request's.
pub(crate) async fn session_of(store: &SessionStore, cookie: &str) -> Session {
    let request = lambda_http::http::Request::builder()
        .header("cookie", cookie)
        .body(lambda_http::Body::Empty)
        .expect("request");
    store.read(&request).await.expect("read")
}

/// Fails the test unless moto's server, the local Secrets Manager and SSM `scripts/test`
/// starts, is there (`ARC_TEST_SECRETS_MANAGER=1`). Every test that calls it is `#[ignore]`d,
/// so it runs only when asked for (by name, or with `--include-ignored`): without the server it
/// fails, rather than pass having checked nothing.
pub(crate) fn require_moto() {
    assert!(
        std::env::var("ARC_TEST_SECRETS_MANAGER").is_ok_and(|v| v == "1"),
        "this test needs moto's server (Secrets Manager and SSM): run scripts/test, or start \
         moto and set ARC_TEST_SECRETS_MANAGER=1 with AWS_ENDPOINT_URL_SECRETS_MANAGER, \
         AWS_ENDPOINT_URL_SSM, AWS_REGION and credentials"
    );
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
        .with_max_level(tracing::Level::DEBUG)
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

/// The name the test harness gives `test` of the module at `module_path` (from `module_path!()`):
/// the path without this binary's crate name, to run that one test again in a child process.
pub(crate) fn test_name(module_path: &str, test: &str) -> String {
    match module_path.split_once("::") {
        Some((_, module)) => format!("{module}::{test}"),
        None => test.to_owned(),
    }
}
