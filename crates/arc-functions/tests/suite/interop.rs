//! Sessions shared with Node: the real `@architect/functions` (pinned in tests/interop) and
//! these routes read and write the same DynamoDB table, both ways.
//!
//! `@architect/sandbox` provides the table and the service discovery `@architect/functions`
//! needs. The test is `#[ignore]`d: `scripts/test` installs the Node packages, sets
//! `ARC_TEST_INTEROP=1` and runs it with `--include-ignored`; without them it fails saying so.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Handler, Request, Response};
use arc_functions::testing::TestResponse;
use serde_json::{Value, json};

use crate::support::event;
use crate::support::http::{V2, invoke, session_pair};

const SECRET: &str = "interop secret shared by Node and Rust";

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/interop")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// `node harness.js start`: sandbox with the session table, stopped when this drops.
struct Sandbox {
    child: Child,
    endpoint: String,
    table: String,
    arc_port: String,
}

impl Sandbox {
    fn start() -> Self {
        let mut child = Command::new("node")
            .current_dir(interop_dir())
            .args(["harness.js", "start", "--exit-on-eof", "--secret", SECRET])
            .args(["--tables-port", &free_port().to_string()])
            .args(["--arc-port", &free_port().to_string()])
            .args(["--http-port", &free_port().to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs tests/interop/harness.js");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("harness prints a JSON line");
        let ready: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("{line:?}"));
        assert_eq!(ready["ready"], true, "{ready}");
        Self {
            child,
            endpoint: ready["endpoint"].as_str().expect("endpoint").to_owned(),
            table: ready["table"].as_str().expect("table").to_owned(),
            arc_port: ready["arc_port"].to_string(),
        }
    }

    /// Runs a harness command against this sandbox and returns its JSON answer.
    fn node(&self, command: &str, extra: &[&str]) -> Value {
        let out = Command::new("node")
            .current_dir(interop_dir())
            .args(["harness.js", command, "--secret", SECRET])
            .args(["--endpoint", &self.endpoint, "--table", &self.table])
            .args(["--arc-port", &self.arc_port])
            .args(extra)
            .stderr(Stdio::inherit())
            .output()
            .expect("node runs");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "harness {command} failed: {text}");
        serde_json::from_str(text.trim()).unwrap_or_else(|_| panic!("{text:?}"))
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        // Closing stdin asks the harness to stop sandbox cleanly; kill if it does not.
        drop(self.child.stdin.take());
        for _ in 0..100 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn rust_store(sandbox: &Sandbox) -> Arc<SessionStore> {
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("SESSION_TABLE_NAME", sandbox.table.as_str()),
    ])
    .expect("config");
    let shared = aws_config::load_from_env().await;
    let sdk = aws_sdk_dynamodb::config::Builder::from(&shared)
        .endpoint_url(&sandbox.endpoint)
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(sdk);
    Arc::new(SessionStore::with_dynamodb_client(&config, client).expect("DynamoDB mode"))
}

/// The guide's counter, plus the session's `user`, answered as JSON.
async fn counter(req: Request) -> http::Result<Response> {
    let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
    let user = req.session.get::<String>("user")?;
    Ok(Response::json(&json!({ "count": count, "user": user }))
        .session(json!({ "count": count, "user": user })))
}

/// The API Gateway v2 fixture carrying `cookie`.
fn with_cookie(cookie: &str) -> String {
    event(V2, |e| e["cookies"] = json!([cookie]))
}

fn body(response: &TestResponse) -> Value {
    let text = response.text();
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

#[tokio::test]
#[ignore = "needs Node and tests/interop installed: scripts/test installs them (ARC_TEST_INTEROP=1)"]
async fn sessions_are_shared_with_architect_functions_both_ways() {
    assert_eq!(
        std::env::var("ARC_TEST_INTEROP").as_deref(),
        Ok("1"),
        "this test needs Node interop: `npm ci --prefix tests/interop`, then ARC_TEST_INTEROP=1 \
         (scripts/test does both)"
    );
    // The wrapper logs a failure's cause; show it when this test fails.
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let sandbox = Sandbox::start();
    let handler = Handler::with_store(rust_store(&sandbox).await, counter);

    // Node creates, Rust reads and updates.
    let created = sandbox.node("create", &["--json", r#"{"count":5,"user":"ann"}"#]);
    let node_cookie = created["cookie"]
        .as_str()
        .and_then(|c| c.split(';').next())
        .expect("Node's Set-Cookie")
        .to_owned();
    let r = invoke(&handler, &with_cookie(&node_cookie)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        body(&r),
        json!({"count": 6, "user": "ann"}),
        "Rust read Node's session"
    );
    let updated = session_pair(&r);

    // Node reads what Rust updated: same session, new count.
    let seen = sandbox.node("read", &["--cookie", &updated]);
    assert_eq!(seen["count"], 6, "{seen}");
    assert_eq!(seen["user"], "ann");
    assert_eq!(
        seen["_idx"], created["session"]["_idx"],
        "the same item, not a new one"
    );

    // Rust creates, Node reads.
    let r = invoke(&handler, &with_cookie("other=1")).await;
    let rust_cookie = session_pair(&r);
    let seen = sandbox.node("read", &["--cookie", &rust_cookie]);
    assert_eq!(seen["count"], 1, "Node read Rust's session: {seen}");
    let rust_id = rust_cookie
        .trim_start_matches("_idx=")
        .rsplit_once('.')
        .map(|(id, _)| id.to_owned())
        .expect("id.signature");
    assert_eq!(
        seen["_idx"], rust_id,
        "Node accepted the cookie instead of starting afresh"
    );

    // Node updates Rust's session, Rust reads it.
    let bumped = sandbox.node(
        "create",
        &["--cookie", &rust_cookie, "--json", r#"{"count":41}"#],
    );
    assert_eq!(bumped["session"]["_idx"], rust_id);
    let r = invoke(&handler, &with_cookie(&rust_cookie)).await;
    assert_eq!(body(&r)["count"], 42, "Rust read Node's update");
}
