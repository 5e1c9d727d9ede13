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
//!   `lambda_http::run` does), and `handler/v2-event-parse` that parse alone.
//!
//! `bench/compare.sh` runs the same measurements on `@architect/functions` and prints both.

use arc_functions::config::Config;
use arc_functions::http::session::{Session, SessionStore};
use arc_functions::http::{self, Handler, Request, Response};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use lambda_http::http::header::SET_COOKIE;
use serde_json::{Value, json};
use std::hint::black_box;
use std::sync::Arc;

const SECRET: &str = "benchmark secret: at least thirty-two bytes long";
const V2: &str = include_str!("../tests/fixtures/apigw_v2_request.json");

/// `{user, count, pad}` whose JSON text is exactly `len` bytes: the same object the Node side
/// builds, so both seal the same plaintext.
fn session_of(len: usize) -> Value {
    let base = json!({"user": "ann", "count": 42, "pad": ""})
        .to_string()
        .len();
    json!({"user": "ann", "count": 42, "pad": "x".repeat(len - base)})
}

const SIZES: [(&str, usize); 3] = [("100B", 100), ("1KB", 1_000), ("2.8KB", 2_800)];

fn store() -> Arc<SessionStore> {
    let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_APP_SECRET", SECRET)])
        .expect("valid config");
    Arc::new(SessionStore::new(&config))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The `_idx=...` pair of a `Set-Cookie` value, as a browser sends it back.
fn cookie_pair(set_cookie: &str) -> &str {
    set_cookie.split(';').next().unwrap_or_default()
}

fn roundtrip(c: &mut Criterion) {
    let rt = runtime();
    let store = store();
    let mut group = c.benchmark_group("roundtrip");
    for (name, len) in SIZES {
        let session = Session::try_from(session_of(len)).expect("an object");
        // Checked once outside the loop: the cookie opens to the session that was written.
        let set_cookie = rt.block_on(store.write(&session)).expect("fits a cookie");
        let request = lambda_http::http::Request::builder()
            .header("cookie", cookie_pair(&set_cookie))
            .body(lambda_http::Body::Empty)
            .expect("request");
        assert_eq!(rt.block_on(store.read(&request)).expect("read"), session);

        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("sealed", name), &session, |b, session| {
            b.iter(|| {
                rt.block_on(async {
                    let set_cookie = store.write(session).await.expect("write");
                    let request = lambda_http::http::Request::builder()
                        .header("cookie", cookie_pair(&set_cookie))
                        .body(lambda_http::Body::Empty)
                        .expect("request");
                    black_box(store.read(&request).await.expect("read"))
                })
            });
        });
    }
    group.finish();
}

fn floor(c: &mut Criterion) {
    let cipher = XChaCha20Poly1305::new(&[7u8; 32].into());
    // Fixed nonce: the floor is the AEAD alone, not the OS random source the store also calls.
    let nonce = XNonce::from([9u8; 24]);
    // The same additional data length as the store's protected header.
    let aad = [b'h'; 62];
    let mut group = c.benchmark_group("floor");
    for (name, len) in SIZES {
        // The plaintext the store seals: the claims around the session's JSON.
        let plaintext = json!({"iat": 1_790_000_000u64, "exp": 1_790_604_800u64,
            "ctm": 1_790_000_000u64, "ses": session_of(len)})
        .to_string()
        .into_bytes();
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(
            BenchmarkId::new("xchacha20poly1305", name),
            &plaintext,
            |b, plaintext| {
                b.iter(|| {
                    let sealed = cipher
                        .encrypt(
                            &nonce,
                            Payload {
                                msg: plaintext,
                                aad: &aad,
                            },
                        )
                        .expect("seal");
                    let opened = cipher
                        .decrypt(
                            &nonce,
                            Payload {
                                msg: &sealed,
                                aad: &aad,
                            },
                        )
                        .expect("open");
                    black_box(opened)
                });
            },
        );
    }
    group.finish();
}

/// The Node benchmark's handler too: read the count, write `{user, count + 1}`, redirect.
async fn count(req: Request) -> http::Result<Response> {
    let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
    Ok(Response::redirect("/").session(json!({"user": "ann", "count": count})))
}

fn handler(c: &mut Criterion) {
    let rt = runtime();
    let store = store();
    let handler = Handler::with_store(Arc::clone(&store), count);
    let session = Session::try_from(json!({"user": "ann", "count": 41})).expect("an object");
    let set_cookie = rt.block_on(store.write(&session)).expect("write");
    // The fixture's cookies plus ours, as API Gateway v2 sends them.
    let mut event: Value = serde_json::from_str(V2).expect("fixture is JSON");
    event["cookies"]
        .as_array_mut()
        .expect("cookies array")
        .push(cookie_pair(&set_cookie).into());
    let event = event.to_string();

    let response = rt.block_on(async {
        let request = lambda_http::request::from_str(&event).expect("lambda_http parses it");
        handler.handle(request).await
    });
    assert_eq!(response.status(), 302);
    let cookie = response.headers()[SET_COOKIE].to_str().expect("text");
    let back = lambda_http::http::Request::builder()
        .header("cookie", cookie_pair(cookie))
        .body(lambda_http::Body::Empty)
        .expect("request");
    let written = rt.block_on(store.read(&back)).expect("read");
    assert_eq!(written.get::<u64>("count").expect("a number"), Some(42));

    let mut group = c.benchmark_group("handler");
    // lambda_http's part alone, so the library's share is the difference.
    group.bench_function("v2-event-parse", |b| {
        b.iter(|| black_box(lambda_http::request::from_str(&event).expect("event")));
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
