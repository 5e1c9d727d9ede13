//! The axum layer's cost per request beside `async_handler`'s (feature `axum`): the same API
//! Gateway v2 event with a session cookie, read by lambda_http's parse, through
//! - `layer/handler`: `Handler::handle` of a handler that reads the count and writes
//!   `{user, count + 1}` with a redirect;
//! - `layer/axum`: an axum `Router` with a `SessionLayer`, whose handler does the same through
//!   the `Session` extractor, its body collected.

use std::hint::black_box;
use std::sync::Arc;

use arc_functions::axum::{Error, Session, SessionLayer};
use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Handler, Request, Response};
use axum::response::Redirect;
use axum::routing::post;
use criterion::{Criterion, criterion_group, criterion_main};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

const SECRET: &str = "benchmark secret: at least thirty-two bytes long";
const V2: &str = include_str!("../tests/fixtures/apigw_v2_request.json");

async fn count(req: Request) -> http::Result<Response> {
    let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
    Ok(Response::redirect("/").session(json!({"user": "ann", "count": count})))
}

async fn count_axum(session: Session) -> Result<Redirect, Error> {
    let count = session.get::<u64>("count")?.unwrap_or(0) + 1;
    session.insert("user", "ann")?;
    session.insert("count", count)?;
    Ok(Redirect::to("/"))
}

fn layer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_APP_SECRET", SECRET)])
        .expect("valid config");
    let store = Arc::new(SessionStore::new(&config));
    let session = json!({"user": "ann", "count": 41});
    let session = arc_functions::http::session::Session::try_from(session).expect("an object");
    let set_cookie = rt.block_on(store.write(&session)).expect("write");
    let mut event: Value = serde_json::from_str(V2).expect("fixture is JSON");
    event["rawPath"] = "/count".into();
    event["cookies"]
        .as_array_mut()
        .expect("cookies array")
        .push(set_cookie.split(';').next().unwrap_or_default().into());
    let event = event.to_string();

    let handler = Handler::with_store(Arc::clone(&store), count);
    let router = axum::Router::new()
        .route("/count", post(count_axum))
        .layer(SessionLayer::new(Arc::clone(&store)));
    let via_axum = || async {
        let request = lambda_http::request::from_str(&event).expect("event");
        let response = router.clone().oneshot(request).await.expect("infallible");
        let (parts, body) = response.into_parts();
        (parts, body.collect().await.expect("body").to_bytes())
    };
    let (parts, _) = rt.block_on(via_axum());
    assert_eq!(parts.status, 303);
    assert!(parts.headers.contains_key("set-cookie"));

    let mut group = c.benchmark_group("layer");
    group.bench_function("handler", |b| {
        b.iter(|| {
            rt.block_on(async {
                let request = lambda_http::request::from_str(&event).expect("event");
                black_box(handler.handle(request).await)
            })
        });
    });
    group.bench_function("axum", |b| b.iter(|| black_box(rt.block_on(via_axum()))));
    group.finish();
}

criterion_group!(benches, layer);
criterion_main!(benches);
