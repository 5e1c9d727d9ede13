//! `roundtrip/dynamodb`: one request's worth of DynamoDB session work against a local dynalite:
//! read the session of a request carrying a signed cookie (a `GetItem`), add one to `count` and
//! write it back (a `PutItem`). The figure is dominated by dynalite and loopback HTTP, which is
//! the point: it is compared with `@architect/functions` on the same server. The store is a
//! route's (`SessionStore::new`, its items' calls without the SDK); `roundtrip/dynamodb-sdk` is
//! the same through the SDK's client (`SessionStore::with_dynamodb_client`).
//!
//! `ticket/*`: socket tickets. `mint` is what `req.socket_url()` adds to a page (no I/O);
//! `connect-without-ticket` and `connect-foreign-origin` are a `$connect` event through
//! `ws::Handler::invoke` with no ticket, and with a ticket refused for its origin, neither
//! touching DynamoDB: their difference is what opening a ticket costs. `connect` redeems a
//! fresh ticket, its four DynamoDB calls included (spend, read, tie, index).
//!
//! `throttle/*`: sign-in throttling. `attempt` is one attempt let through and then cleared as a
//! success (a consistent `GetItem`, the conditional `PutItem`, the `DeleteItem`); `refused` an
//! attempt on a locked count (one `GetItem`).
//!
//! `renewal/*`: a page view through `http::Handler::invoke` whose handler only reads the
//! session. `read` is not due for renewal (a `GetItem`); `renewed` is due on every request (its
//! item's `_iat` is removed before each, outside the timing, as in an item Node wrote, which is
//! always due), so it adds the `UpdateItem` of `_ttl` and `_iat` and the `Set-Cookie`.
//!
//! Needs `AWS_ENDPOINT_URL_DYNAMODB` (`bench/compare.sh` starts dynalite with `scripts/lib.sh`);
//! without it the bench says so and measures nothing. The table `bigsesh-session` is created
//! when missing.

use arc_functions::config::Config;
use arc_functions::http::session::{Session, SessionStore};
use arc_functions::http::{self, Handler, Request, Response};
use arc_functions::testing::TestRequest;
use arc_functions::throttle::{Admission, Throttle};
use arc_functions::ws;
use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;
use std::hint::black_box;
use std::sync::Arc;

// The integration tests' DynamoDB helpers (the session table, a cookie's item id).
#[path = "../tests/suite/support/dynamodb.rs"]
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

fn config() -> Config {
    Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("SESSION_TABLE_NAME", TABLE),
    ])
    .expect("valid config")
}

/// A runtime, and a DynamoDB-mode store on `TABLE` (created at `endpoint` when missing) as a
/// route builds it from the environment: its session items' calls without the SDK.
fn dynamodb(endpoint: &str) -> (tokio::runtime::Runtime, Arc<SessionStore>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(support::create_session_table(&client(endpoint), TABLE));
    (rt, Arc::new(SessionStore::new(&config())))
}

/// The store through the SDK's client at `endpoint`.
fn through_the_sdk(endpoint: &str) -> Arc<SessionStore> {
    let store = SessionStore::with_dynamodb_client(&config(), client(endpoint));
    Arc::new(store.expect("DynamoDB mode"))
}

fn roundtrip(c: &mut Criterion) {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") else {
        eprintln!(
            "SKIPPED roundtrip/dynamodb: set AWS_ENDPOINT_URL_DYNAMODB to a local DynamoDB (bench/compare.sh starts dynalite)"
        );
        return;
    };
    let (rt, store) = dynamodb(&endpoint);
    let mut group = c.benchmark_group("roundtrip");
    for (name, store) in [
        ("dynamodb", store),
        ("dynamodb-sdk", through_the_sdk(&endpoint)),
    ] {
        roundtrip_of(&rt, &mut group, name, &store);
    }
    group.finish();
}

/// A session read and written back by `store`, as `roundtrip/<name>`.
fn roundtrip_of(
    rt: &tokio::runtime::Runtime,
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    store: &SessionStore,
) {
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

    let ran = std::cell::Cell::new(false);
    group.bench_function(name, |b| {
        ran.set(true);
        b.iter(|| {
            rt.block_on(async {
                let mut session = store.read(&request()).await.expect("GetItem");
                let count = session.get::<u64>("count").expect("a number").unwrap_or(0);
                session.insert("count", count + 1).expect("insert");
                black_box(store.write(&session).await.expect("PutItem"))
            })
        });
    });

    // The loop really read and wrote one item: its count went up on every iteration (unless a
    // filter left this bench out).
    if ran.get() {
        let last = rt.block_on(store.read(&request())).expect("GetItem");
        assert!(last.get::<u64>("count").expect("a number") > Some(1));
    }
}

async fn connect(req: ws::Request) -> ws::Result<ws::Response> {
    Ok(ws::Response::new().status(if req.session.is_new() { 403 } else { 200 }))
}

/// A `$connect` event from a page of `origin`, with `ticket`.
fn upgrade(origin: &str, ticket: Option<&str>, id: u64) -> String {
    json!({
        "headers": {"Host": "ws.example.com", "Origin": origin},
        "queryStringParameters": ticket.map(|t| json!({"ticket": t})),
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT",
            "connectionId": format!("bench-{id}"), "connectedAt": 1, "requestTimeEpoch": 2,
            "domainName": "ws.example.com", "stage": "production"}
    })
    .to_string()
}

fn tickets(c: &mut Criterion) {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") else {
        eprintln!("SKIPPED ticket/*: set AWS_ENDPOINT_URL_DYNAMODB to a local DynamoDB");
        return;
    };
    let (rt, store) = dynamodb(&endpoint);
    const PAGE: &str = "https://app.example.com";
    // A session written to the table and read back, as a page's request has it.
    let stored = || {
        let first = Session::try_from(json!({"user": "ann", "count": 0})).expect("an object");
        let set_cookie = rt.block_on(store.write(&first)).expect("PutItem");
        let request = lambda_http::http::Request::builder()
            .header("cookie", set_cookie.split(';').next().unwrap_or_default())
            .body(lambda_http::Body::Empty)
            .expect("request");
        rt.block_on(store.read(&request)).expect("GetItem")
    };
    let ticket_for = |session: &Session| {
        store
            .socket_ticket(session, PAGE)
            .expect("minted")
            .expect("a stored session has a ticket")
    };
    let session = stored();
    let mint = || ticket_for(&session);
    let handler = ws::Handler::with_store(Arc::clone(&store), connect);
    let mut next = 0u64;

    let mut group = c.benchmark_group("ticket");
    group.bench_function("mint", |b| b.iter(|| black_box(mint())));
    group.bench_function("connect-without-ticket", |b| {
        b.iter(|| {
            next += 1;
            rt.block_on(handler.invoke(&upgrade(PAGE, None, next)))
                .expect("served")
        })
    });
    let foreign = mint();
    group.bench_function("connect-foreign-origin", |b| {
        b.iter(|| {
            next += 1;
            let reply = rt
                .block_on(handler.invoke(&upgrade("https://evil.example", Some(&foreign), next)))
                .expect("served");
            assert!(reply.contains("403"), "{reply}");
        })
    });
    // Each iteration a session of its own, made outside the timing: one session would reach
    // its cap of connections and close the oldest through a management API that is not here.
    let fresh = || ticket_for(&stored());
    group.bench_function("connect", |b| {
        b.iter_batched(
            fresh,
            |ticket| {
                next += 1;
                let reply = rt
                    .block_on(handler.invoke(&upgrade(PAGE, Some(&ticket), next)))
                    .expect("served");
                assert!(reply.contains("200"), "{reply}");
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn throttle(c: &mut Criterion) {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") else {
        eprintln!("SKIPPED throttle/*: set AWS_ENDPOINT_URL_DYNAMODB to a local DynamoDB");
        return;
    };
    let (rt, _) = dynamodb(&endpoint);
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("SESSION_TABLE_NAME", TABLE),
    ])
    .expect("valid config");
    let throttle = Throttle::with_dynamodb_client(&config, client(&endpoint)).expect("a table");
    let mut group = c.benchmark_group("throttle");
    group.bench_function("attempt", |b| {
        b.iter(|| {
            rt.block_on(async {
                match throttle.attempt("ann", Some("192.0.2.1")).await {
                    Ok(Admission::Allowed(attempt)) => attempt.succeeded().await.expect("cleared"),
                    other => panic!("let through and cleared each time: {other:?}"),
                }
            })
        })
    });
    // A count locked for the next hour and more.
    rt.block_on(async {
        while let Admission::Allowed(_) = throttle
            .attempt("bob", Some("198.51.100.7"))
            .await
            .expect("counted")
        {}
    });
    group.bench_function("refused", |b| {
        b.iter(|| {
            let refused = rt.block_on(throttle.attempt("bob", Some("198.51.100.7")));
            assert!(matches!(refused, Ok(Admission::Locked(_))));
        })
    });
    group.finish();
}

async fn page(req: Request) -> http::Result<Response> {
    Ok(Response::text(
        req.session.get::<String>("user")?.unwrap_or_default(),
    ))
}

fn renewal(c: &mut Criterion) {
    let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL_DYNAMODB") else {
        eprintln!("SKIPPED renewal/*: set AWS_ENDPOINT_URL_DYNAMODB to a local DynamoDB");
        return;
    };
    let (rt, store) = dynamodb(&endpoint);
    let first = Session::try_from(json!({"user": "ann"})).expect("an object");
    let set_cookie = rt.block_on(store.write(&first)).expect("PutItem");
    let cookie = set_cookie.split(';').next().unwrap_or_default().to_owned();
    let id = support::item_id(&cookie);
    let event = TestRequest::get("/").cookie(&cookie).event();
    let handler = Handler::with_store(store, page);
    let client = client(&endpoint);
    let forget_last_write = || {
        rt.block_on(
            client
                .update_item()
                .table_name(TABLE)
                .key(
                    "_idx",
                    aws_sdk_dynamodb::types::AttributeValue::S(id.clone()),
                )
                .update_expression("REMOVE #iat")
                .expression_attribute_names("#iat", "_iat")
                .send(),
        )
        .expect("UpdateItem");
    };
    let mut group = c.benchmark_group("renewal");
    for (name, due) in [("read", false), ("renewed", true)] {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    if due {
                        forget_last_write();
                    }
                },
                |()| {
                    let reply = rt.block_on(handler.invoke(&event)).expect("served");
                    // Only a renewal answers with a cookie; both still see the user.
                    assert_eq!(reply.contains("_idx="), due, "{reply}");
                    assert!(reply.contains("ann"), "{reply}");
                },
                // One setup per run: a batch would forget the last write once for many reads.
                criterion::BatchSize::PerIteration,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, roundtrip, tickets, throttle, renewal);
criterion_main!(benches);
