//! Shared by the end-to-end tests: the example app served by `cargo lambda watch` on a free
//! loopback port; [`process`] stops everything a test started; [`dev`] runs `cargo arc dev`;
//! [`answer`] reads what a function invoked through [`Functions`] answered.

use std::{
    env,
    ffi::OsString,
    fs::File,
    net::TcpListener,
    path::Path,
    process::{Command, Stdio},
    sync::Once,
    thread,
    time::{Duration, Instant},
};

use serde_json::json;
use ureq::{Agent, http::Response};

pub(crate) mod answer;
mod dev;
mod process;

#[allow(unused_imports, reason = "dev.rs and init.rs only")]
pub(crate) use dev::{Dev, cargo_arc};
pub(crate) use process::ProcessTree;
#[allow(unused_imports, reason = "dev.rs only")]
pub(crate) use process::running_in;

/// At least 32 bytes like staging and production demand, and no commas.
pub(crate) const TEST_SECRET: &str = "e2e-only-secret-not-for-use-0123456789abcdef";
/// The first request may wait on `cargo run` compiling a route.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
const STARTUP_TIMEOUT: Duration = Duration::from_secs(300);

/// The example app served by `cargo lambda watch`, with its WebSocket gateway, stopped with
/// everything it started on drop.
pub(crate) struct App {
    pub(crate) base: String,
    /// `ws://localhost:<port>`, what the page opens (`ARC_WSS_URL`), when the gateway runs: a
    /// host name of its own, as API Gateway gives the WebSocket API, so the page's cookie for
    /// `127.0.0.1` never reaches it.
    #[allow(dead_code, reason = "live.rs and browser.rs only")]
    pub(crate) ws_base: Option<String>,
    /// Dropped first: its `$disconnect`s still reach watch.
    gateway: Option<ProcessTree>,
    /// Dropped before `_one`, so the next app starts only once this one's processes are gone.
    watch: ProcessTree,
    _one: OneAppAtATime,
}

impl App {
    /// Builds the routes, starts watch with `route_env` set for the routes, and waits until
    /// `GET /` answers. `label` names the log, `target/tmp/watch-<label>.log`.
    #[allow(dead_code, reason = "scaffold.rs starts a copy of the app instead")]
    pub(crate) fn start(label: &str, route_env: &[(&str, &str)]) -> Self {
        Self::start_with_gateway(label, route_env, &[])
    }

    /// [`App::start`], with `gateway_env` set for the WebSocket gateway (`WS_IDLE_TIMEOUT`,
    /// say, to see sockets closed for idleness in seconds rather than ten minutes).
    #[allow(dead_code, reason = "scaffold.rs starts a copy of the app instead")]
    pub(crate) fn start_with_gateway(
        label: &str,
        route_env: &[(&str, &str)],
        gateway_env: &[(&str, &str)],
    ) -> Self {
        let one = OneAppAtATime::lock();
        build_routes();
        Self::serve(
            one,
            workspace_root(),
            None,
            label,
            route_env,
            gateway_env,
            "/",
        )
    }

    /// Like [`App::start`], for the workspace at `root` building into `target` (its routes
    /// built beforehand), waiting until `GET ready_path` answers 200.
    #[allow(dead_code, reason = "scaffold.rs only")]
    pub(crate) fn start_in(root: &Path, target: &Path, label: &str, ready_path: &str) -> Self {
        let one = OneAppAtATime::lock();
        Self::serve(one, root, Some(target), label, &[], &[], ready_path)
    }

    fn serve(
        one: OneAppAtATime,
        root: &Path,
        target: Option<&Path>,
        label: &str,
        route_env: &[(&str, &str)],
        gateway_env: &[(&str, &str)],
        ready_path: &str,
    ) -> Self {
        let port = free_port();
        // The workspace's own app gets the WebSocket gateway; a scaffolded copy has no @ws.
        let ws_port = target.is_none().then(free_port);
        let watch = start_watch(root, target, port, ws_port, label, route_env);

        let gateway = ws_port.map(|ws_port| start_gateway(root, label, port, ws_port, gateway_env));
        let app = Self {
            base: format!("http://127.0.0.1:{port}"),
            ws_base: ws_port.map(|ws_port| format!("ws://localhost:{ws_port}")),
            gateway,
            watch,
            _one: one,
        };
        app.wait_until_serving(ready_path);
        app
    }

    /// Everything the WebSocket gateway printed so far.
    #[allow(dead_code, reason = "live.rs only")]
    pub(crate) fn gateway_log(&self) -> String {
        self.gateway
            .as_ref()
            .map(ProcessTree::log)
            .unwrap_or_default()
    }

    /// Everything watch and the routes printed so far.
    #[allow(dead_code, reason = "counter.rs only")]
    pub(crate) fn log(&self) -> String {
        self.watch.log()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Waits for watch to listen and for the route at `path` to answer; watch starts each route
    /// on its first request, so this also takes that route's start-up off the scenario.
    fn wait_until_serving(&self, path: &str) {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            self.watch.assert_running();
            match agent(0).get(self.url(path)).call() {
                Ok(response) if response.status().as_u16() == 200 => return,
                Ok(response) => {
                    let status = response.status();
                    panic!("GET {path} answered {status}: {}", body(response));
                }
                Err(error) if Instant::now() > deadline => {
                    panic!(
                        "{} not serving after {STARTUP_TIMEOUT:?}: {error}",
                        self.base
                    )
                }
                Err(_) => thread::sleep(Duration::from_millis(250)),
            }
        }
    }
}

/// Starts `cargo lambda watch` for the workspace at `root` on `port`, the routes getting
/// `route_env` on top of a clean session environment (and `ARC_WSS_URL` for a gateway on
/// `ws_port`). `label` names the log, `target/tmp/watch-<label>.log`.
fn start_watch(
    root: &Path,
    target: Option<&Path>,
    port: u16,
    ws_port: Option<u16>,
    label: &str,
    route_env: &[(&str, &str)],
) -> ProcessTree {
    let log = tmp_dir().join(format!("watch-{label}.log"));
    let log_file = File::create(&log).expect("create the watch log");

    let mut command = Command::new(cargo());
    command
        .args(["lambda", "watch", "--invoke-address", "127.0.0.1"])
        .args(["--invoke-port", &port.to_string()])
        // Edits made while the test runs must not restart the routes under it.
        .arg("--ignore-changes");
    // The routes inherit this environment: keep the developer's session settings out of it,
    // so the scenario always meets the defaults (testing, one week, Lax, cookie sessions).
    for key in [
        "ARC_ENV",
        "SESSION_TABLE_NAME",
        "ARC_SESSION_TABLE_NAME",
        "ARC_SESSION_TTL",
        "ARC_SESSION_DOMAIN",
        "SESSION_DOMAIN",
        "ARC_SESSION_SAME_SITE",
        "ARC_SESSION_HOST_COOKIE",
        "ARC_WS_ORIGINS",
        "ARC_WS_MAX_CONNECTIONS",
    ] {
        command.env_remove(key);
    }
    // Inherited by the routes. Not `--env-var`: flags replace the environment the
    // workspace's cargo-lambda configuration gives watch (`ARC_ENV=testing`), and these
    // tests must run with exactly what a developer's bare `cargo lambda watch` gets.
    command.env("ARC_APP_SECRET", TEST_SECRET);
    if let Some(ws_port) = ws_port {
        command.env("ARC_WSS_URL", format!("ws://localhost:{ws_port}"));
    }
    command.envs(route_env.iter().copied());
    // A local DynamoDB ignores these, but the AWS SDK will not sign a request without them.
    for (key, default) in [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
    ] {
        if env::var_os(key).is_none() {
            command.env(key, default);
        }
    }
    if let Some(target) = target {
        command.env("CARGO_TARGET_DIR", target);
    }
    command
        .current_dir(root)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("share the watch log"))
        .stderr(log_file);
    ProcessTree::spawn(
        &mut command,
        log,
        "`cargo lambda watch`",
        "is cargo-lambda installed? scripts/test installs it",
    )
}

/// Functions served by `cargo lambda watch` alone, without a gateway, invoked by name through
/// its Lambda Invoke API with the API Gateway events a test writes (so the test chooses, say,
/// the client address). Each one runs function processes of its own.
#[allow(dead_code, reason = "throttle.rs and races.rs only")]
pub(crate) struct Functions {
    base: String,
    watch: ProcessTree,
}

#[allow(dead_code, reason = "throttle.rs and races.rs only")]
impl Functions {
    /// Builds `binaries`, then starts watch with `route_env` for them and waits until it
    /// listens. Take [`one_app_at_a_time`] first.
    pub(crate) fn start(label: &str, route_env: &[(&str, &str)], binaries: &[&str]) -> Self {
        let mut args = Vec::new();
        for binary in binaries {
            args.extend(["--bin", binary]);
        }
        if !args.is_empty() {
            cargo_build(&args);
        }
        let port = free_port();
        let watch = start_watch(workspace_root(), None, port, None, label, route_env);
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            watch.assert_running();
            assert!(Instant::now() < deadline, "watch not listening on {port}");
            thread::sleep(Duration::from_millis(100));
        }
        Self {
            base: format!("http://127.0.0.1:{port}"),
            watch,
        }
    }

    /// Invokes `function` with `event` (its JSON text) and returns what it answered.
    pub(crate) fn invoke(&self, function: &str, event: &str) -> serde_json::Value {
        let url = format!("{}/2015-03-31/functions/{function}/invocations", self.base);
        let response = agent(0)
            .post(&url)
            .header("content-type", "application/json")
            .send(event)
            .unwrap_or_else(|error| panic!("invoke {function}: {error}\n{}", self.watch.log()));
        let text = body(response);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{function} answered {text:?}: {e}"))
    }

    /// Everything watch and the functions printed so far.
    pub(crate) fn log(&self) -> String {
        self.watch.log()
    }
}

/// Holds off every other app of this crate's tests until dropped: each starts processes of its
/// own, and two at once would fight over the CPU.
#[allow(dead_code, reason = "throttle.rs and races.rs only")]
pub(crate) fn one_app_at_a_time() -> OneAppAtATime {
    OneAppAtATime::lock()
}

/// Starts `arc-ws-gateway` (built by [`build_routes`]) on `ws_port`, invoking the `@ws`
/// functions of `root`'s app.arc through the watch on `port`, and waits until it listens.
fn start_gateway(
    root: &Path,
    label: &str,
    port: u16,
    ws_port: u16,
    gateway_env: &[(&str, &str)],
) -> ProcessTree {
    let log = tmp_dir().join(format!("gateway-{label}.log"));
    let log_file = File::create(&log).expect("create the gateway log");
    let binary = target_dir().join("debug").join("arc-ws-gateway");
    let mut command = Command::new(&binary);
    command
        .args(["--invoke-url", &format!("http://127.0.0.1:{port}")])
        .arg("--arc")
        .arg(root.join("app.arc"))
        .env("WS_PORT", ws_port.to_string())
        .envs(gateway_env.iter().copied())
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("share the gateway log"))
        .stderr(log_file);
    let gateway = ProcessTree::spawn(&mut command, log, "arc-ws-gateway", "built by build_routes");
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    while std::net::TcpStream::connect(("127.0.0.1", ws_port)).is_err() {
        gateway.assert_running();
        assert!(
            Instant::now() < deadline,
            "arc-ws-gateway not listening on {ws_port}"
        );
        thread::sleep(Duration::from_millis(50));
    }
    gateway
}

/// The target directory this test was built into (`target/tmp` is inside it).
fn target_dir() -> &'static Path {
    tmp_dir()
        .parent()
        .expect("CARGO_TARGET_TMPDIR sits in the target directory")
}

/// One app at a time: each starts its own route processes, and two would fight over the CPU.
///
/// A lock on a file in `target/tmp`, so it orders the tests of one binary (each takes it through
/// a descriptor of its own) and the test binaries of this crate too, should a runner start them
/// side by side (`cargo test` runs them one after another; nextest would not).
pub(crate) struct OneAppAtATime {
    /// Closing it on drop releases the lock.
    _file: File,
}

impl OneAppAtATime {
    fn lock() -> Self {
        let path = tmp_dir().join("one-app-at-a-time.lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .unwrap_or_else(|error| panic!("open {}: {error}", path.display()));
        file.lock()
            .unwrap_or_else(|error| panic!("lock {}: {error}", path.display()));
        Self { _file: file }
    }
}

/// Builds the routes once per test run, so watch's `cargo run --bin NAME` finds them up to date
/// rather than compiling under a request's timeout. `--bin` without `-p` resolves features over
/// the whole workspace exactly as that `cargo run` does; with `-p` they could differ and force a
/// second build.
#[allow(dead_code, reason = "scaffold.rs starts a copy of the app instead")]
fn build_routes() {
    static BUILT: Once = Once::new();
    BUILT.call_once(|| {
        let mut args = vec!["--bin", "arc-ws-gateway"];
        let routes = cargo_arc::Workspace::find(workspace_root())
            .and_then(|workspace| workspace.manifest())
            .expect("this repository's app.arc")
            .functions();
        for route in &routes {
            args.extend(["--bin", route]);
        }
        cargo_build(&args);
        // And the axum example, which the same watch serves at /lambda-url/axum-counter/.
        cargo_build(&["--bin", "axum-counter"]);
    });
}

/// Runs `cargo build` with `args` in the workspace; fails the test with cargo's words.
fn cargo_build(args: &[&str]) {
    let output = Command::new(cargo())
        .arg("build")
        .args(args)
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .output()
        .expect("run cargo build");
    assert!(
        output.status.success(),
        "cargo build {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// An agent that reports every status as a response and follows up to `redirects` redirects.
pub(crate) fn agent(redirects: u32) -> Agent {
    Agent::new_with_config(
        Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(redirects)
            .max_redirects_will_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build(),
    )
}

pub(crate) fn body(response: Response<ureq::Body>) -> String {
    response
        .into_body()
        .read_to_string()
        .expect("read the response body")
}

fn free_port() -> u16 {
    // The OS picks a port nobody listens on; another process could take it before watch binds
    // it, which on loopback during a test run is rare enough to accept.
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// `target/tmp`: logs, locks and screenshots of the tests.
pub(crate) fn tmp_dir() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
}

pub(crate) fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
}

/// The cargo running this test, so nested builds use the same toolchain.
pub(crate) fn cargo() -> OsString {
    env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The local DynamoDB's URL, from `AWS_ENDPOINT_URL_DYNAMODB`: `scripts/test` starts dynalite
/// and sets it with `ARC_TEST_DYNAMODB=1`. Every test that calls it is `#[ignore]`d, so it runs
/// only when asked for (by name, or with `--include-ignored`): without the server it fails,
/// rather than pass having checked nothing.
#[allow(dead_code, reason = "the DynamoDB tests only")]
pub(crate) fn require_dynamodb() -> String {
    assert!(
        env::var("ARC_TEST_DYNAMODB").as_deref() == Ok("1"),
        "this test needs a local DynamoDB: run scripts/test, or start dynalite and set \
         ARC_TEST_DYNAMODB=1 and AWS_ENDPOINT_URL_DYNAMODB"
    );
    env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("ARC_TEST_DYNAMODB=1 promises a local DynamoDB in AWS_ENDPOINT_URL_DYNAMODB")
}

/// Creates a table keyed like Architect's session table (`_idx` string) in the local DynamoDB
/// at `endpoint`, unless it exists, and waits until it is ACTIVE.
///
/// Raw DynamoDB JSON rather than the AWS SDK: local servers (dynalite, DynamoDB Local) accept any
/// signature, and the SDK would bring an async runtime into an otherwise blocking test.
#[allow(dead_code, reason = "counter.rs and throttle.rs only")]
pub(crate) fn create_table(endpoint: &str, table: &str) {
    create_table_keyed(endpoint, table, "_idx");
}

/// [`create_table`] with a partition key (a string) of another name: the login example's
/// users table is keyed by `name`.
#[allow(dead_code, reason = "counter.rs, throttle.rs and browser.rs only")]
pub(crate) fn create_table_keyed(endpoint: &str, table: &str, key: &str) {
    let (status, answer) = dynamodb(
        endpoint,
        "CreateTable",
        &json!({
            "TableName": table,
            "AttributeDefinitions": [{ "AttributeName": key, "AttributeType": "S" }],
            "KeySchema": [{ "AttributeName": key, "KeyType": "HASH" }],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    );
    assert!(
        status == 200 || answer.contains("ResourceInUseException"),
        "CreateTable {table} at {endpoint}: {status} {answer}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, answer) = dynamodb(endpoint, "DescribeTable", &json!({ "TableName": table }));
        let table: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
        if table["Table"]["TableStatus"] == "ACTIVE" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{table} never became ACTIVE: {answer}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

/// Calls the local DynamoDB at `endpoint`, which takes any signature: the status and body.
#[allow(dead_code, reason = "counter.rs and throttle.rs only")]
pub(crate) fn dynamodb(
    endpoint: &str,
    operation: &str,
    request: &serde_json::Value,
) -> (u16, String) {
    let response = agent(0)
        .post(endpoint)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amz-target", format!("DynamoDB_20120810.{operation}"))
        .header("x-amz-date", "20240101T000000Z")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=0",
        )
        .send(request.to_string())
        .unwrap_or_else(|error| panic!("{operation} at {endpoint}: {error}"));
    (response.status().as_u16(), body(response))
}
