//! Faults of the DynamoDB store, and preparing a store at start-up. A fault is a generic 5xx
//! for the client and its cause in the log, and nobody gets a new cookie: a missing table, a
//! write failing after the read, DynamoDB stopped mid-run. `prepare` sends one health check
//! through a client of the caller's, never fails when DynamoDB is out of reach, and does
//! nothing for sealed cookies.
//!
//! The DynamoDB tests need a local DynamoDB (dynalite), so they are `#[ignore]`d: `scripts/test`
//! starts one, sets `ARC_TEST_DYNAMODB=1`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_REGION` and
//! credentials, and runs them with `--include-ignored`; without them they fail. Those that stop
//! DynamoDB start a dynalite of their own (`node crates/cargo-arc/src/dev/dynalite.js`, with
//! `.tools/node_modules`).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Handler, Request, Response};
use serde_json::json;

use crate::support::dynamodb::{Calls, require_dynamodb};
use crate::support::http::{SECRET, invoke};
use crate::support::stores::{Env, Provider, call, env, event, idx, n, sdk_client, unique_table};
use crate::support::{capture_logs, logged};

// ---------------------------------------------------------------------------------------------
// Faults: the client gets a generic 5xx, the log gets the cause, nobody gets a new cookie.

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_missing_table_is_a_500_naming_the_table_in_the_log() {
    require_dynamodb();
    let calls = Calls::default();
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("SESSION_TABLE_NAME", "no-such-session-table"),
    ])
    .expect("config");
    let store = SessionStore::with_dynamodb_client(&config, sdk_client(None, &calls).await)
        .expect("DynamoDB mode");
    let env = Env {
        store: Arc::new(store),
        calls,
        client: None,
        table: String::new(),
    };
    let (logs, _guard) = capture_logs();
    let r = call(&env, "inc", None).await;
    assert_eq!(r.status(), 500);
    assert_eq!(idx(&r), None, "no cookie when the write failed");
    assert!(
        !r.text().contains("no-such-session-table"),
        "no detail for the client"
    );
    let log = logged(&logs);
    assert!(log.contains("no-such-session-table"), "{log}");
    assert!(log.contains("ResourceNotFoundException"), "{log}");
}

/// A dynalite of the test's own, so it can be stopped mid-run without harming other tests.
struct OwnDynalite(Child);

impl OwnDynalite {
    fn start(table: &str) -> (Self, String) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut child = Command::new("node")
            .arg(root.join("crates/cargo-arc/src/dev/dynalite.js"))
            .arg(table)
            .env("NODE_PATH", root.join(".tools/node_modules"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs dynalite.js");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("READY line");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("dynalite said {line:?}"))
            .to_owned();
        (Self(child), format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for OwnDynalite {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A DynamoDB store on a dynalite of the test's own, which the test may stop.
async fn own_dynalite_env() -> (OwnDynalite, Env) {
    let table = unique_table();
    let (dynalite, endpoint) = OwnDynalite::start(&table);
    let calls = Calls::default();
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("SESSION_TABLE_NAME", &table),
    ])
    .expect("config");
    let store =
        SessionStore::with_dynamodb_client(&config, sdk_client(Some(&endpoint), &calls).await)
            .expect("DynamoDB mode");
    let env = Env {
        store: Arc::new(store),
        calls,
        client: None,
        table,
    };
    (dynalite, env)
}

/// A write that fails for any reason but "the item is gone" is a fault, never a quiet skip.
#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_write_failing_after_the_read_is_a_503_not_a_skip() {
    require_dynamodb();
    let (dynalite, env) = own_dynalite_env().await;
    let c = idx(&call(&env, "inc", None).await).expect("works while the server runs");
    let server = Arc::new(Mutex::new(Some(dynalite)));
    let stops_the_server = {
        let server = Arc::clone(&server);
        move |req: Request| {
            let server = Arc::clone(&server);
            async move {
                let n = req.session.get::<u64>("n")?.unwrap_or(0) + 1;
                // The read went through; the write will find nobody there.
                drop(server.lock().ok().and_then(|mut s| s.take()));
                Ok::<_, http::Error>(Response::redirect("/").session(json!({ "n": n })))
            }
        }
    };
    let r = invoke(
        &Handler::with_store(Arc::clone(&env.store), stops_the_server),
        &event("inc", Some(&c)),
    )
    .await;
    assert_eq!(r.status(), 503, "{}", r.text());
    assert_eq!(idx(&r), None);
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_stopped_mid_run_is_a_503_with_the_cause_in_the_log() {
    require_dynamodb();
    let (mut dynalite, env) = own_dynalite_env().await;
    let c = idx(&call(&env, "inc", None).await).expect("works while the server runs");

    let _ = dynalite.0.kill();
    let _ = dynalite.0.wait();
    let (logs, _guard) = capture_logs();
    for (op, cookie) in [("read", Some(c.as_str())), ("inc", None)] {
        let r = call(&env, op, cookie).await;
        assert_eq!(r.status(), 503, "{op}: {}", r.text());
        assert_eq!(
            idx(&r),
            None,
            "{op}: no new cookie, so the browser keeps its last good one"
        );
    }
    let log = logged(&logs);
    assert!(log.contains("DynamoDB GetItem"), "{log}");
    assert!(log.contains("DynamoDB PutItem"), "{log}");
    assert!(
        log.to_lowercase().contains("connect"),
        "the cause is logged: {log}"
    );
}

// ---------------------------------------------------------------------------------------------
// Preparing the store at start-up

/// These tests hand the store a client of their own (the SDK's own HTTP client), which sends
/// the start-up request as DynamoDB's health check; the library's own client only connects
/// (`dynamodb_prepare_connects_without_a_request_and_the_first_request_uses_it`, in
/// `src/aws/http_client/tests.rs`).
#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_prepare_with_a_client_of_the_callers_sends_one_health_check() {
    require_dynamodb();
    let env = env(Provider::DynamoDb, &[]).await;
    let (logs, _guard) = capture_logs();
    env.store.prepare().await;
    assert_eq!(env.calls.count(), 1, "one request at start-up");
    let log = logged(&logs);
    assert!(
        log.contains("DynamoDB client ready")
            && !log.contains("not reached")
            && !log.contains("did not answer"),
        "dynalite answered the health check: {log}"
    );
    let r = call(&env, "inc", None).await;
    assert_eq!(n(&r), Some(1));
    assert_eq!(env.calls.count(), 2, "then only the request's PutItem");
    assert_eq!(
        env.calls.names(),
        ["GET", "PutItem"],
        "DynamoDB's health check (GET /) at start-up, no table read"
    );
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_prepare_never_fails_when_dynamodb_is_out_of_reach() {
    require_dynamodb();
    let (mut dynalite, env) = own_dynalite_env().await;
    let _ = dynalite.0.kill();
    let _ = dynalite.0.wait();
    let (logs, _guard) = capture_logs();
    env.store.prepare().await;
    let log = logged(&logs);
    assert!(
        log.contains("DynamoDB was not reached at start-up; the first request will try again")
            && !log.contains("ready"),
        "{log}"
    );
    // And the request after it meets the fault itself.
    let r = call(&env, "read", Some("x.y")).await;
    assert_eq!(
        r.status(),
        200,
        "a cookie that fails its signature is no DynamoDB call"
    );
    let r = call(&env, "inc", None).await;
    assert_eq!(r.status(), 503, "{}", r.text());
}

#[tokio::test]
async fn sealed_cookie_prepare_does_nothing() {
    let env = env(Provider::SealedCookie, &[]).await;
    let (logs, _guard) = capture_logs();
    env.store.prepare().await;
    assert_eq!(logged(&logs), "", "no client, no log");
}
