use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

use crate::config::Config;
use crate::http::{self, Handler, Request, Response};
use crate::session::SessionStore;

fn store() -> Arc<SessionStore> {
    let config = Config::from_vars([("ARC_ENV", "testing")]).expect("config");
    Arc::new(SessionStore::new(&config))
}

fn raw(payload: &str) -> String {
    payload.to_owned()
}

fn context(trace: Option<&str>) -> lambda_http::Context {
    let mut context = lambda_http::Context::default();
    context.xray_trace_id = trace.map(str::to_owned);
    context
}

async fn echo(req: Request) -> http::Result<Response> {
    let trace = req
        .headers()
        .get("x-amzn-trace-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned();
    Ok(Response::text(format!(
        "{} {} {trace}",
        req.method, req.path
    )))
}

#[tokio::test]
async fn an_http_api_event_is_handled_and_answered_in_its_format() {
    let handler = Handler::with_store(store(), echo);
    let payload = raw(include_str!(
        "../../../tests/fixtures/apigw_v2_request.json"
    ));
    let reply = handler
        .answer(payload.as_str().into(), context(Some("Root=1-abc")))
        .await;
    let v = serde_json::to_value(reply.expect("a reply")).expect("JSON");
    assert_eq!(v["statusCode"], 200);
    assert_eq!(v["body"], "POST /my/path Root=1-abc");
    // The HTTP API format: cookies apart, no multi-value headers.
    assert!(v["cookies"].is_array());
    assert_eq!(v["multiValueHeaders"], Value::Object(Default::default()));
}

#[tokio::test]
async fn a_rest_event_is_answered_in_the_rest_format() {
    let handler = Handler::with_store(store(), echo);
    let payload = raw(include_str!(
        "../../../tests/fixtures/apigw_v1_request.json"
    ));
    let v = serde_json::to_value(
        handler
            .answer(payload.as_str().into(), context(None))
            .await
            .expect("reply"),
    )
    .expect("JSON");
    assert_eq!(v["body"], "GET /hello none");
    assert_eq!(v["headers"], Value::Object(Default::default()));
    assert_eq!(
        v["multiValueHeaders"]["content-type"][0],
        "text/plain; charset=utf8"
    );
}

#[tokio::test]
async fn an_unreadable_event_is_a_400_without_calling_the_handler() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    let handler = Handler::with_store(store(), move |req: Request| {
        counted.fetch_add(1, Ordering::SeqCst);
        echo(req)
    });
    let mut event: Value = serde_json::from_str(include_str!(
        "../../../tests/fixtures/apigw_v1_request.json"
    ))
    .expect("fixture");
    // lambda_http's conversion panics on a forwarded protocol that is no URL scheme.
    event["headers"]["X-Forwarded-Proto"] = "no scheme".into();
    event["multiValueHeaders"]["X-Forwarded-Proto"] = serde_json::json!(["no scheme"]);
    let payload = raw(&event.to_string());
    let v = serde_json::to_value(
        handler
            .answer(payload.as_str().into(), context(None))
            .await
            .expect("reply"),
    )
    .expect("JSON");
    assert_eq!(v["statusCode"], 400);
    assert!(
        v["body"]
            .as_str()
            .expect("body")
            .contains("could not be read")
    );
    // The REST format, the event's own.
    assert!(v.get("cookies").is_none());
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    let fine = raw(include_str!(
        "../../../tests/fixtures/apigw_v1_request.json"
    ));
    handler
        .answer(fine.as_str().into(), context(None))
        .await
        .expect("reply");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_websocket_event_fails_the_invocation() {
    let handler = Handler::with_store(store(), echo);
    let payload = raw(include_str!(
        "../../../tests/fixtures/websocket_connect_request.json"
    ));
    let error = handler
        .answer(payload.as_str().into(), context(None))
        .await
        .expect_err("not an HTTP event");
    assert!(error.to_string().contains("a WebSocket event"), "{error}");
}
