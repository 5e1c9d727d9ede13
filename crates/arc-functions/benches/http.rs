//! The cost of middleware chains and response compression per request (BENCHMARKS.md,
//! "Middleware and compression"); `bench/node-http.js` measures the same in Node.
//!
//! Every iteration is one `Handler::handle` of the API Gateway v2 fixture, parsed beforehand
//! (outside the timing), with a session cookie in:
//!
//! - `chain/single`: one handler reads the session and answers a redirect with a new one;
//! - `chain/three-step`: the same handler behind two steps that each pass the request on, the
//!   first with a typed value for the second;
//! - `compression/<body>/<coding>`: a handler answering the counter example's page (171 bytes)
//!   or a 100 KB JSON array, to a request accepting nothing (`identity`), `gzip` or `br`
//!   (`gzip, deflate, br`, a browser's header). The page is below the threshold, so `-forced`
//!   adds `identity;q=0` to compress it anyway.

use arc_functions::config::Config;
use arc_functions::http::session::{Session, SessionStore};
use arc_functions::http::{self, Flow, Handler, Request, Response};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use lambda_http::http::header::CONTENT_ENCODING;
use serde_json::{Value, json};
use std::hint::black_box;
use std::sync::Arc;

const SECRET: &str = "benchmark secret: at least thirty-two bytes long";
const V2: &str = include_str!("../tests/fixtures/apigw_v2_request.json");

/// The counter example's page (crates/get-index) at count 7.
const PAGE: &str = "<!doctype html>\n<html>\n<body>\n<form method=post action=/count>\n  <button>Count 7</button>\n</form>\n<form method=post action=/reset>\n  <button>Reset</button>\n</form>\n</body>\n</html>\n";

/// About 100 KB of JSON: 840 user records, keys in the order serde_json and Node both write
/// (sorted, as `bench/node-http.js` builds them).
fn json_100k() -> Value {
    let users: Vec<Value> = (0..840)
        .map(|i| {
            json!({
                "active": i % 3 == 0,
                "email": format!("user{i}@example.com"),
                "id": i,
                "name": format!("User Number {i}"),
                "score": (i * 7919) % 1000,
                "tags": ["customer", if i % 2 == 0 { "even" } else { "odd" }],
            })
        })
        .collect();
    Value::Array(users)
}

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

/// The v2 fixture with `cookie` and `accept-encoding`, as JSON text.
fn event_text(cookie: &str, accept: Option<&str>) -> String {
    let mut event: Value = serde_json::from_str(V2).expect("fixture is JSON");
    event["cookies"]
        .as_array_mut()
        .expect("cookies array")
        .push(cookie.into());
    if let Some(accept) = accept {
        event["headers"]["accept-encoding"] = accept.into();
    }
    event.to_string()
}

fn parse(text: &str) -> lambda_http::Request {
    lambda_http::request::from_str(text).expect("lambda_http parses it")
}

async fn count(req: Request) -> http::Result<Response> {
    let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
    Ok(Response::redirect("/").session(json!({"user": "ann", "count": count})))
}

/// What the first step hands the second.
#[derive(Clone)]
struct User(String);

async fn load_user(mut req: Request) -> http::Result<Flow> {
    let user = req.session.get::<String>("user")?.unwrap_or_default();
    req.extensions.insert(User(user));
    Ok(Flow::Continue(req))
}

async fn check_user(req: Request) -> http::Result<Flow> {
    match req.extensions.get::<User>() {
        Some(User(name)) if !name.is_empty() => Ok(Flow::Continue(req)),
        _ => Ok(Flow::Break(Response::redirect("/login"))),
    }
}

fn chain(c: &mut Criterion) {
    let rt = runtime();
    let store = store();
    let session = Session::try_from(json!({"user": "ann", "count": 41})).expect("an object");
    let set_cookie = rt.block_on(store.write(&session)).expect("write");
    let event = event_text(set_cookie.split(';').next().unwrap_or_default(), None);

    let single = Handler::with_store(Arc::clone(&store), count);
    let three = Handler::with_store(
        Arc::clone(&store),
        http::chain((load_user, check_user, count)),
    );
    let single_status = rt.block_on(single.handle(parse(&event))).status();
    let three_status = rt.block_on(three.handle(parse(&event))).status();
    assert_eq!((single_status.as_u16(), three_status.as_u16()), (302, 302));

    let mut group = c.benchmark_group("chain");
    group.bench_function("single", |b| {
        b.iter_batched(
            || parse(&event),
            |request| black_box(rt.block_on(single.handle(request))),
            BatchSize::SmallInput,
        );
    });
    group.bench_function("three-step", |b| {
        b.iter_batched(
            || parse(&event),
            |request| black_box(rt.block_on(three.handle(request))),
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

fn compression(c: &mut Criterion) {
    let rt = runtime();
    let store = store();
    let json = Arc::new(json_100k());
    let page = Handler::with_store(Arc::clone(&store), |_req: Request| async {
        Ok::<_, http::Error>(Response::html(PAGE))
    });
    let big = Handler::with_store(Arc::clone(&store), move |_req: Request| {
        let json = Arc::clone(&json);
        async move { Ok::<_, http::Error>(Response::json(&*json)) }
    });
    let browser = "gzip, deflate, br";
    let cases = [
        ("page", "identity", None),
        ("page", "br", Some(browser)),
        ("page", "gzip-forced", Some("gzip, identity;q=0")),
        ("page", "br-forced", Some("br, identity;q=0")),
        ("json100k", "identity", None),
        ("json100k", "gzip", Some("gzip")),
        ("json100k", "br", Some(browser)),
    ];
    let mut group = c.benchmark_group("compression");
    for (body, coding, accept) in cases {
        let event = event_text("a=b", accept);
        let name = format!("{body}/{coding}");
        if body == "page" {
            case(&mut group, &rt, &name, &event, &page);
        } else {
            case(&mut group, &rt, &name, &event, &big);
        }
    }
    group.finish();
}

/// Measures `handler` on `event`, after printing the size of what it sends (BENCHMARKS.md
/// quotes them).
fn case<F, Fut, E>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &tokio::runtime::Runtime,
    name: &str,
    event: &str,
    handler: &Handler<F>,
) where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response, E>>,
    E: Into<http::Error>,
{
    let response = rt.block_on(handler.handle(parse(event)));
    let size = match response.body() {
        lambda_http::Body::Text(t) => t.len(),
        lambda_http::Body::Binary(b) => b.len(),
        _ => 0,
    };
    let encoding = response
        .headers()
        .get(CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity");
    eprintln!("compression/{name}: {size} bytes sent as {encoding}");
    group.bench_function(name, |b| {
        b.iter_batched(
            || parse(event),
            |request| black_box(rt.block_on(handler.handle(request))),
            BatchSize::SmallInput,
        );
    });
}

criterion_group!(benches, chain, compression);
criterion_main!(benches);
