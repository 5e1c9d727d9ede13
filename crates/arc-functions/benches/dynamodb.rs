//! `roundtrip/dynamodb`: one request's worth of DynamoDB session work against a local dynalite:
//! read the session of a request carrying a signed cookie (a `GetItem`), add one to `count` and
//! write it back (a `PutItem`). The figure is dominated by dynalite and loopback HTTP, which is
//! the point: it is compared with `@architect/functions` on the same server.
//!
//! Needs `AWS_ENDPOINT_URL_DYNAMODB` (`bench/compare.sh` starts dynalite with `scripts/lib.sh`);
//! without it the bench says so and measures nothing. The table `bigsesh-session` is created
//! when missing.

use arc_functions::config::Config;
use arc_functions::http::session::{Session, SessionStore};
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use std::hint::black_box;
use std::sync::Arc;

#[path = "../tests/support/mod.rs"]
mod support;

const SECRET: &str = "benchmark secret: at least thirty-two bytes long";
/// The table `scripts/lib.sh` creates and the Node side of `bench/compare.sh` uses.
const TABLE: &str = "bigsesh-session";

fn client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    // Explicit region and dummy credentials: dynalite ignores signatures, and this way the SDK
    // never looks for real AWS configuration.
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "bench"))
        .endpoint_url(endpoint)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

fn roundtrip(c: &mut Criterion) {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") else {
        eprintln!(
            "SKIPPED roundtrip/dynamodb: set AWS_ENDPOINT_URL_DYNAMODB to a local DynamoDB (bench/compare.sh starts dynalite)"
        );
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let client = client(&endpoint);
    rt.block_on(support::create_session_table(&client, TABLE));
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("SESSION_TABLE_NAME", TABLE),
    ])
    .expect("valid config");
    let store: Arc<SessionStore> =
        Arc::new(SessionStore::with_dynamodb_client(&config, client).expect("DynamoDB mode"));

    // The session every iteration reads: written once, its cookie kept.
    let first = Session::try_from(json!({"user": "ann", "count": 0})).expect("an object");
    let set_cookie = rt.block_on(store.write(&first)).expect("PutItem");
    let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
    let request = || {
        lambda_http::http::Request::builder()
            .header("cookie", &cookie)
            .body(lambda_http::Body::Empty)
            .expect("request")
    };

    let mut group = c.benchmark_group("roundtrip");
    group.bench_function("dynamodb", |b| {
        b.iter(|| {
            rt.block_on(async {
                let mut session = store.read(&request()).await.expect("GetItem");
                let count = session.get::<u64>("count").expect("a number").unwrap_or(0);
                session.insert("count", count + 1).expect("insert");
                black_box(store.write(&session).await.expect("PutItem"))
            })
        });
    });
    group.finish();

    // The loop really read and wrote one item: its count went up on every iteration.
    let last = rt.block_on(store.read(&request())).expect("GetItem");
    assert!(last.get::<u64>("count").expect("a number") > Some(1));
}

criterion_group!(benches, roundtrip);
criterion_main!(benches);
