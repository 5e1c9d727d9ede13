//! Sealed-cookie sessions, measured three ways (see BENCHMARKS.md for the figures):
//!
//! - `roundtrip/sealed/<size>`: `SessionStore::write` then `SessionStore::read` of a request
//!   carrying the cookie, for sessions of 100 B, 1 KB and 2.8 KB of JSON (2.8 KB is about the
//!   largest that still fits the 4,096-byte cookie limit once sealed and base64-encoded);
//! - `floor/xchacha20poly1305/<size>`: the raw AEAD seal plus open of a plaintext of the same
//!   length, the cost no sealed cookie can go below;
//! - `handler/v2`: one API Gateway v2 event with a session cookie in and a new cookie out, from
//!   the event's JSON text to the response's, as `http::run` serves it (`Handler::invoke`);
//!   `handler/v2-lambda_http` is the same request read by lambda_http's own parse (what
//!   `lambda_http::run` does), `handler/v2-event-parse` that parse alone, and
//!   `handler/v2-event-read` the event read as `http::run` reads it (`testing::read_request`:
//!   the request a handler is given, its lambda_http request made only when asked for), set
//!   beside Node's `JSON.parse` of the text,
//!   and `handler/v2-event-value` serde_json's `Value` of it, the generic tree `JSON.parse` makes.
//!
//! `benches/counts.rs` counts the allocations of the same operations (`benches/support`).
//! `bench/compare.sh` runs the same measurements on `@architect/functions` and prints both.

mod support;

use arc_functions::http::Handler;
use arc_functions::http::session::Session;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lambda_http::http::header::SET_COOKIE;
use serde_json::Value;
use std::hint::black_box;
use std::sync::Arc;
use support::{Floor, SIZES, count, read_v2, request_with, round_trip, runtime, session_of, store};

fn roundtrip(c: &mut Criterion) {
    let rt = runtime();
    let store = store();
    let mut group = c.benchmark_group("roundtrip");
    for (name, len) in SIZES {
        let session = Session::try_from(session_of(len)).expect("an object");
        // Checked once outside the loop: the cookie opens to the session that was written.
        assert_eq!(rt.block_on(round_trip(&store, &session)), session);

        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("sealed", name), &session, |b, session| {
            b.iter(|| black_box(rt.block_on(round_trip(&store, session))));
        });
    }
    group.finish();
}

fn floor(c: &mut Criterion) {
    let floor = Floor::new();
    let mut group = c.benchmark_group("floor");
    for (name, len) in SIZES {
        let plaintext = Floor::plaintext(len);
        assert_eq!(floor.seal_open(&plaintext), plaintext);
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(
            BenchmarkId::new("xchacha20poly1305", name),
            &plaintext,
            |b, plaintext| b.iter(|| black_box(floor.seal_open(plaintext))),
        );
    }
    group.finish();
}

fn handler(c: &mut Criterion) {
    let rt = runtime();
    let store = store();
    let handler = Handler::with_store(Arc::clone(&store), count);
    let event = support::v2_event(&rt, &store);

    let response = rt.block_on(async {
        let request = lambda_http::request::from_str(&event).expect("lambda_http parses it");
        handler.handle(request).await
    });
    assert_eq!(response.status(), 302);
    let cookie = response.headers()[SET_COOKIE].to_str().expect("text");
    let written = rt
        .block_on(store.read(&request_with(cookie)))
        .expect("read");
    assert_eq!(written.get::<u64>("count").expect("a number"), Some(42));

    let mut group = c.benchmark_group("handler");
    // lambda_http's part alone, so the library's share is the difference.
    group.bench_function("v2-event-parse", |b| {
        b.iter(|| black_box(lambda_http::request::from_str(&event).expect("event")));
    });
    // The library's own read of the same text, to set beside Node's `JSON.parse`.
    assert_eq!(
        read_v2(event.as_str()).raw.uri(),
        lambda_http::request::from_str(&event).expect("event").uri()
    );
    // The payload is the runtime's, which `http::run` hands on: copied outside the timing.
    group.bench_function("v2-event-read", |b| {
        b.iter_batched(
            || event.clone(),
            |event| black_box(read_v2(event)),
            BatchSize::SmallInput,
        );
    });
    // serde_json's own tree of the same text, Rust's nearest to what `JSON.parse` makes: the
    // cost of the allocations any owned reading of this event makes, without a request.
    group.bench_function("v2-event-value", |b| {
        b.iter(|| black_box(serde_json::from_str::<Value>(black_box(&event)).expect("JSON")));
    });
    group.bench_function("v2-lambda_http", |b| {
        b.iter(|| {
            rt.block_on(async {
                let request = lambda_http::request::from_str(&event).expect("event");
                black_box(handler.handle(request).await)
            })
        });
    });
    let reply: Value = serde_json::from_str(&rt.block_on(handler.invoke(&event)).expect("invoke"))
        .expect("JSON reply");
    assert_eq!(reply["statusCode"], 302);
    group.bench_function("v2", |b| {
        b.iter(|| rt.block_on(async { black_box(handler.invoke(&event).await.expect("reply")) }));
    });
    group.finish();
}

criterion_group!(benches, roundtrip, floor, handler);
criterion_main!(benches);
