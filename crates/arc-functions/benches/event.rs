//! Reading an API Gateway v2 event: from the payload's JSON text to the `lambda_http::Request`
//! a handler is given (see BENCHMARKS.md for the figures).
//!
//! - `event/v2/arc-functions`: the library's reader, as `http::run` reads every invocation
//!   (`testing::read_event`): HTTP API events in one pass;
//! - `event/v2/general`: the library's general path, which reads every other kind of event
//!   and read HTTP API events too until the one-pass reader (`testing::read_event_general`:
//!   a skim to classify the event, lambda_http's type for its kind, lambda_http's conversion);
//! - `event/v2/lambda_http`: `lambda_http::request::from_str`, what `lambda_http::run` does.
//!
//! The event is `handler/v2`'s in `benches/sessions.rs`: the v2 fixture with a sealed session
//! cookie added, the same text `bench/node.js` hands `JSON.parse` for `handler/v2-event-parse`.
//!
//! With `EVENT_READS=<n>` set the bench only reads the event `n` times with the reader named by
//! `EVENT_READER` (`arc-functions`, the default, `general` or `lambda_http`) and exits: run that twice
//! under `valgrind --tool=callgrind` (or `--tool=dhat`), with two values of `n`, and the
//! difference of the totals divided by the difference of `n` is the instructions (or the
//! allocations) one read takes, set-up excluded.

use std::hint::black_box;

use arc_functions::config::Config;
use arc_functions::http::session::{Session, SessionStore};
use arc_functions::testing::{read_event, read_event_general};
use criterion::{Criterion, criterion_group};
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

type Reader = fn(&str) -> lambda_http::Request;

fn ours(event: &str) -> lambda_http::Request {
    read_event(event).expect("the library reads the event")
}

fn general(event: &str) -> lambda_http::Request {
    read_event_general(event).expect("the general path reads the event")
}

fn theirs(event: &str) -> lambda_http::Request {
    lambda_http::request::from_str(event).expect("lambda_http reads the event")
}

const READERS: [(&str, Reader); 3] = [
    ("arc-functions", ours),
    ("general", general),
    ("lambda_http", theirs),
];

fn reading(c: &mut Criterion) {
    let event = event();
    let mut group = c.benchmark_group("event");
    for (name, read) in READERS {
        group.bench_function(format!("v2/{name}"), |b| {
            b.iter(|| read(black_box(&event)));
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
        let event = event();
        for _ in 0..reads {
            drop(black_box(read(black_box(&event))));
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
