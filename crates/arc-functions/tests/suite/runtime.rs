//! The runtime loops against a stand-in Lambda Runtime API on loopback: [`http::start`],
//! [`ws::start`] and [`arc_functions::axum::run`] each poll it for an event, hand the event to
//! the handler and post the reply back, as on Lambda.
//!
//! A loop reads `AWS_LAMBDA_RUNTIME_API` from its environment and serves until the process
//! ends, so each one runs in a child process: this test binary again, running one of the
//! `child_*` tests, which do nothing unless their parent started them. The stand-in serves the
//! real fixture, then an event without a readable deadline, which `lambda_runtime` cannot take:
//! the loop returns that error and the child exits.

use std::collections::VecDeque;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Handler};
use arc_functions::ws;
use serde_json::Value;

const HTTP_EVENT: &str = include_str!("../fixtures/apigw_v2_request.json");
const WS_EVENT: &str = include_str!("../fixtures/websocket_message_request.json");

fn store() -> Arc<SessionStore> {
    let config = Config::from_vars([("ARC_ENV", "testing")]).expect("config");
    Arc::new(SessionStore::new(&config))
}

/// What the stand-in received from the function: `(request id, "response" or "error", body)`.
type Posted = Arc<Mutex<Vec<(String, String, String)>>>;

/// What the stand-ins saw happen, in order: each poll of the Runtime API, and what the tests add.
type Seen = Arc<Mutex<Vec<&'static str>>>;

/// A stand-in Runtime API: hands out `events` in turn, then one that ends the loop.
struct RuntimeApi {
    address: String,
    posted: Posted,
    seen: Seen,
}

async fn runtime_api(events: &[&str]) -> RuntimeApi {
    use axum::extract::{Path, State};
    use axum::http::{HeaderMap, HeaderValue, StatusCode};
    use axum::response::IntoResponse;
    use axum::routing::{get, post};

    type Queue = Arc<Mutex<VecDeque<(usize, String)>>>;
    let queue: Queue = Arc::new(Mutex::new(
        events.iter().map(|e| (*e).to_owned()).enumerate().collect(),
    ));
    let posted: Posted = Arc::default();
    let seen: Seen = Arc::default();

    async fn next(State((queue, _, seen)): State<(Queue, Posted, Seen)>) -> impl IntoResponse {
        seen.lock().expect("seen").push("poll");
        let mut headers = HeaderMap::new();
        let arn = "arn:aws:lambda:us-east-1:123456789012:function:runtime-test";
        headers.insert(
            "lambda-runtime-invoked-function-arn",
            HeaderValue::from_static(arn),
        );
        let next = queue.lock().expect("queue").pop_front();
        let Some((n, event)) = next else {
            // No more events: a deadline that is not a number, which lambda_runtime refuses.
            headers.insert(
                "lambda-runtime-aws-request-id",
                HeaderValue::from_static("end"),
            );
            headers.insert(
                "lambda-runtime-deadline-ms",
                HeaderValue::from_static("never"),
            );
            return (StatusCode::OK, headers, "{}".to_owned());
        };
        let id = HeaderValue::from_str(&format!("request-{n}")).expect("an id");
        headers.insert("lambda-runtime-aws-request-id", id);
        // A minute from now: a real deadline, as Lambda sends.
        let deadline = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis()
            + 60_000;
        let deadline = HeaderValue::from_str(&deadline.to_string()).expect("a number");
        headers.insert("lambda-runtime-deadline-ms", deadline);
        headers.insert(
            "lambda-runtime-trace-id",
            HeaderValue::from_static("Root=1-runtime-test"),
        );
        (StatusCode::OK, headers, event)
    }

    async fn answer(
        State((_, posted, _)): State<(Queue, Posted, Seen)>,
        Path((id, kind)): Path<(String, String)>,
        body: String,
    ) -> StatusCode {
        posted.lock().expect("posted").push((id, kind, body));
        StatusCode::ACCEPTED
    }

    let app = axum::Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/{kind}", post(answer))
        .with_state((queue, Arc::clone(&posted), Arc::clone(&seen)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    tokio::spawn(async move { axum::serve(listener, app).await });
    RuntimeApi {
        address,
        posted,
        seen,
    }
}

/// Set by [`child`] for the `child_*` test it runs. Elsewhere, a plain run or one with
/// `--include-ignored` (as `scripts/test` makes), those tests return at once: a loop with no
/// Runtime API to poll would only fail. They are not `#[ignore]`d, which here marks the tests
/// that need a service.
const CHILD: &str = "ARC_TEST_RUNTIME_CHILD";

/// Whether this process is a child [`child`] started, to run the loop of a `child_*` test.
fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs the test `name` of this binary in a child process polling `api`, to its end.
async fn child(name: &str, api: &RuntimeApi) -> Output {
    child_with(name, api, &[]).await
}

/// [`child`], with `vars` added to the child's environment.
async fn child_with(name: &str, api: &RuntimeApi, vars: &[(&str, &str)]) -> Output {
    let mut command = Command::new(std::env::current_exe().expect("this test binary"));
    command
        .args([
            &crate::support::test_name(module_path!(), name),
            "--exact",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", "runtime-test")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        // One invocation at a time, as classic Lambda: the loop ends with the first error.
        .env_remove("AWS_LAMBDA_MAX_CONCURRENCY")
        .env("ARC_ENV", "testing")
        .envs(vars.iter().copied())
        .stdin(Stdio::null());
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("joined")
        .expect("the child runs")
}

/// The one answer the function posted, as JSON, after checking the child ran its loop to the
/// stand-in's end.
fn the_reply(api: &RuntimeApi, out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the child: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let posted = api.posted.lock().expect("posted").clone();
    let [(id, kind, body)] = posted.as_slice() else {
        panic!("one answer, for the one event: {posted:?}");
    };
    assert_eq!((id.as_str(), kind.as_str()), ("request-0", "response"));
    serde_json::from_str(body).expect("a JSON reply")
}

/// The loop of a child ends only with the stand-in's unreadable event.
fn ended_by_the_stand_in(ended: Result<(), lambda_http::Error>) {
    let error = ended.expect_err("the loop ends only when it cannot go on");
    assert!(error.to_string().contains("invalid digit"), "{error}");
}

async fn page(req: http::Request) -> http::Result<http::Response> {
    let trace = req
        .headers()
        .get("x-amzn-trace-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .to_owned();
    Ok(http::Response::text(format!(
        "{} {} {trace}",
        req.method, req.path
    )))
}

/// Run by `http_start_serves_the_runtime_apis_events`, in a child process.
#[test]
fn child_http_start() {
    if !in_child() {
        return;
    }
    ended_by_the_stand_in(http::start(Handler::with_store(store(), page)));
}

#[tokio::test]
async fn http_start_serves_the_runtime_apis_events() {
    let api = runtime_api(&[HTTP_EVENT]).await;
    let out = child("child_http_start", &api).await;
    let reply = the_reply(&api, &out);
    assert_eq!(reply["statusCode"], 200);
    // The invocation's trace id reaches the handler as the header.
    assert_eq!(reply["body"], "POST /my/path Root=1-runtime-test");
    assert!(reply["cookies"].is_array(), "the HTTP API format: {reply}");
}

/// Run by `dynamodb_mode_polls_while_its_connection_is_still_opening`, in a child process: a
/// DynamoDB-mode store, from the environment the parent gives.
#[test]
fn child_http_start_dynamodb() {
    if !in_child() {
        return;
    }
    let config = Config::from_env().expect("config");
    let store = Arc::new(SessionStore::new(&config));
    ended_by_the_stand_in(http::start(Handler::with_store(store, page)));
}

#[tokio::test]
async fn dynamodb_mode_polls_while_its_connection_is_still_opening() {
    // "DynamoDB" accepts the connection and never answers its TLS handshake, which the
    // start-up preparation gives up on after two seconds, closing it. The first poll must
    // come before that: the preparation runs beside the poll, not before it. (The event
    // carries no session cookie, so nothing else asks DynamoDB for anything.)
    let api = runtime_api(&[HTTP_EVENT]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("https://{}", listener.local_addr().expect("address"));
    let seen = Arc::clone(&api.seen);
    let dynamodb = tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let (mut socket, _) = listener.accept().await.expect("the connection");
        seen.lock().expect("seen").push("connected");
        let mut buf = [0u8; 4096];
        while socket.read(&mut buf).await.is_ok_and(|n| n > 0) {}
        seen.lock().expect("seen").push("closed");
    });
    let out = child_with(
        "child_http_start_dynamodb",
        &api,
        &[
            ("SESSION_TABLE_NAME", "sessions"),
            ("AWS_ENDPOINT_URL_DYNAMODB", &endpoint),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
        ],
    )
    .await;
    assert_eq!(the_reply(&api, &out)["statusCode"], 200);
    dynamodb
        .await
        .expect("the stand-in ends when the child does");
    let seen = api.seen.lock().expect("seen").clone();
    let at = |what| seen.iter().position(|s| *s == what);
    assert!(
        at("connected").is_some(),
        "the preparation connected: {seen:?}"
    );
    assert!(at("poll") < at("closed"), "{seen:?}");
}

async fn socket(req: ws::Request) -> ws::Result<ws::Response> {
    Ok(ws::Response::new().reply(format!("{} on {}", req.route_key, req.connection_id)))
}

/// Run by `ws_start_serves_the_runtime_apis_events`, in a child process.
#[test]
fn child_ws_start() {
    if !in_child() {
        return;
    }
    ended_by_the_stand_in(ws::start(ws::Handler::with_store(store(), socket)));
}

#[tokio::test]
async fn ws_start_serves_the_runtime_apis_events() {
    let api = runtime_api(&[WS_EVENT]).await;
    let out = child("child_ws_start", &api).await;
    let reply = the_reply(&api, &out);
    assert_eq!(reply["statusCode"], 200);
    assert_eq!(reply["body"], "$default on SOqGjdZioAMCEeg=");
}

#[cfg(feature = "axum")]
mod axum_run {
    use arc_functions::axum::{Session, SessionLayer};
    use axum::routing::post;

    use super::*;

    async fn count(session: Session) -> String {
        let count = session.get::<u64>("count").ok().flatten().unwrap_or(0) + 1;
        let _ = session.insert("count", count);
        format!("count={count}")
    }

    /// Run by `axum_run_serves_the_runtime_apis_events`, in a child process.
    #[test]
    fn child_axum_run() {
        if !in_child() {
            return;
        }
        let app = axum::Router::new()
            .route("/my/path", post(count))
            .layer(SessionLayer::new(store()));
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        ended_by_the_stand_in(runtime.block_on(arc_functions::axum::run(app)));
    }

    #[tokio::test]
    async fn axum_run_serves_the_runtime_apis_events() {
        let api = runtime_api(&[HTTP_EVENT]).await;
        let out = child("axum_run::child_axum_run", &api).await;
        let reply = the_reply(&api, &out);
        assert_eq!(reply["statusCode"], 200);
        assert_eq!(reply["body"], "count=1");
        // The session the router wrote, in the HTTP API's cookies field.
        let cookies = reply["cookies"].as_array().expect("cookies");
        assert!(
            cookies
                .iter()
                .any(|c| c.as_str().is_some_and(|c| c.starts_with("_idx="))),
            "{reply}"
        );
    }
}
