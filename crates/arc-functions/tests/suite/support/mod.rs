//! Shared by the integration tests, each of which declares `mod support;` and uses its part.
//!
//! - [`dynamodb`]: the session table, whether a local DynamoDB is there, SDK interceptors that
//!   count or break calls (the DynamoDB bench and the library's unit tests include this file
//!   alone, by `#[path]`: it is the one free of `arc_functions`).
//! - [`http`]: real API Gateway events and what a handler's response holds.
//! - [`stores`]: the session-store suite's harness, one store per provider.
//! - [`ws`]: real WebSocket events, a DynamoDB-mode store, and a stand-in management API.
//! - Here: log capture, and a tower service that must be made ready.
#![allow(dead_code, reason = "each test binary uses a part of it")]

pub(crate) mod dynamodb;
pub(crate) mod http;
pub(crate) mod stores;
pub(crate) mod ws;

use std::sync::{Arc, Mutex};

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
