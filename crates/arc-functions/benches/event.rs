//! Reading an API Gateway v2 event: from the payload's JSON text to the `lambda_http::Request`
//! a handler is given (see BENCHMARKS.md for the figures).
//!
//! - `event/v2/arc-functions`: the library's reader, as `http::run` reads every invocation
//!   (`testing::read_request`): an HTTP API event's parts a handler reads, in one pass, the
//!   lambda_http request left to be made when asked for (`Request::raw`);
//! - `event/v2/lambda_http-request`: the lambda_http request as the library makes it
//!   (`testing::read_event`): HTTP API events in one pass, request context and all;
//! - `event/v2/general`: the library's general path, which reads every other kind of event
//!   and read HTTP API events too until the one-pass reader (`testing::read_event_general`:
//!   a skim to classify the event, lambda_http's type for its kind, lambda_http's conversion);
//! - `event/v2/lambda_http`: `lambda_http::request::from_str`, what `lambda_http::run` does;
//! - `event/v2/value`: serde_json's generic `Value` of the text, the tree `JSON.parse` makes.
//!
//! The event is `handler/v2`'s in `benches/sessions.rs`: the v2 fixture with a sealed session
//! cookie added, the same text `bench/node.js` hands `JSON.parse` for `handler/v2-event-parse`.
//!
//! With `EVENT_READS=<n>` set the bench only reads the event `n` times with the reader named by
//! `EVENT_READER` (`arc-functions`, the default, `lambda_http-request`, `general`,
//! `lambda_http` or `value`) and exits. Under callgrind, counting inside the readers only
//! (their copy of the payload, the runtime's part, is made outside them), the total divided by
//! `n` is the instructions one read takes:
//!
//! ```sh
//! EVENT_READS=1000 valgrind --tool=callgrind --collect-atstart=no \
//!     --toggle-collect='event::by_*' target/release/deps/event-<hash>
//! ```
//!
//! `EVENT_FIXTURE=<file>` reads a fixture of `tests/fixtures` instead (`apigw_v1_request.json`,
//! `alb_request.json`: the kinds of event the library reads the general way).

use std::hint::black_box;

use arc_functions::config::Config;
use arc_functions::http::session::{Session, SessionStore};
use arc_functions::testing::{read_event, read_event_general, read_request};
use criterion::{BatchSize, Criterion, criterion_group};
use serde_json::{Value, json};

const V2: &str = include_str!("../tests/fixtures/apigw_v2_request.json");
const SECRET: &str = "benchmark secret: at least thirty-two bytes long";

/// The v2 fixture with a session cookie, as `handler/v2` sends it.
fn event() -> String {
    let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_APP_SECRET", SECRET)])
        .expect("valid config");
    let store = SessionStore::new(&config);
    let session = Session::try_from(json!({"user": "ann", "count": 41})).expect("an object");
    let set_cookie = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(store.write(&session))
        .expect("write");
    let pair = set_cookie.split(';').next().unwrap_or_default();
    let mut event: Value = serde_json::from_str(V2).expect("fixture is JSON");
    event["cookies"]
        .as_array_mut()
        .expect("cookies array")
        .push(pair.into());
    event.to_string()
}

/// A read of the event, given its text as `http::run` is given a payload; what the read made
/// is dropped in the timing too, as a handler's turn drops it. Named `by_*` for callgrind's
/// `--toggle-collect`.
type Reader = fn(Box<str>);

fn by_request(event: Box<str>) {
    drop(black_box(
        read_request(event).expect("the library reads the event"),
    ));
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "a `Reader`, given the payload"
)]
fn by_event(event: Box<str>) {
    drop(black_box(
        read_event(&event).expect("the library reads the event"),
    ));
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "a `Reader`, given the payload"
)]
fn by_general(event: Box<str>) {
    drop(black_box(
        read_event_general(&event).expect("the general path reads the event"),
    ));
}

#[expect(
    clippy::needless_pass_by_value,
    reason = "a `Reader`, given the payload"
)]
fn by_lambda_http(event: Box<str>) {
    drop(black_box(
        lambda_http::request::from_str(&event).expect("lambda_http reads the event"),
    ));
}

/// serde_json's generic tree of the text, the nearest to what Node's `JSON.parse` makes.
#[expect(
    clippy::needless_pass_by_value,
    reason = "a `Reader`, given the payload"
)]
fn by_value(event: Box<str>) {
    drop(black_box(
        serde_json::from_str::<Value>(&event).expect("JSON"),
    ));
}

const READERS: [(&str, Reader); 5] = [
    ("arc-functions", by_request),
    ("lambda_http-request", by_event),
    ("general", by_general),
    ("lambda_http", by_lambda_http),
    ("value", by_value),
];

fn reading(c: &mut Criterion) {
    let event = event();
    let mut group = c.benchmark_group("event");
    for (name, read) in READERS {
        // The payload's copy is the runtime's, not the reader's: made outside the timing.
        group.bench_function(format!("v2/{name}"), |b| {
            b.iter_batched(|| event.as_str().into(), read, BatchSize::SmallInput);
        });
    }
    group.finish();
}

criterion_group!(benches, reading);

fn main() {
    if let Some(reads) = std::env::var("EVENT_READS")
        .ok()
        .and_then(|n| n.parse::<u64>().ok())
    {
        let name = std::env::var("EVENT_READER").unwrap_or_else(|_| "arc-functions".into());
        let (_, read) = READERS
            .into_iter()
            .find(|(n, _)| *n == name)
            .expect("EVENT_READER names a reader");
        let event = match std::env::var("EVENT_FIXTURE") {
            Ok(file) => std::fs::read_to_string(
                std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures")
                    .join(file),
            )
            .expect("EVENT_FIXTURE names a fixture"),
            Err(_) => event(),
        };
        for _ in 0..reads {
            read(black_box(event.as_str().into()));
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
