//! Shared by the end-to-end tests: the example app served by `cargo lambda watch` on a free
//! loopback port, and the process-tree bookkeeping that stops everything a test started;
//! [`answer`] reads what a function invoked through [`Functions`] answered.

use std::{
    collections::BTreeSet,
    env,
    ffi::OsString,
    fs::{self, File},
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Stdio},
    sync::Once,
    thread,
    time::{Duration, Instant},
};

use nix::{
    sys::signal::{Signal, killpg},
    unistd::{Pid, getpgrp},
};
use serde_json::json;
use ureq::{Agent, http::Response};

pub(crate) mod answer;

/// At least 32 bytes like staging and production demand, and no commas.
pub(crate) const TEST_SECRET: &str = "e2e-only-secret-not-for-use-0123456789abcdef";
/// The first request may wait on `cargo run` compiling a route.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
const STARTUP_TIMEOUT: Duration = Duration::from_secs(300);
#[allow(dead_code, reason = "scaffold.rs starts a copy of the app instead")]
const ROUTES: [&str; 6] = [
    "get-index",
    "post-count",
    "post-reset",
    "ws-connect",
    "ws-disconnect",
    "ws-default",
];

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

/// The app at `root` run by `cargo arc dev` with `args` on free ports, its functions built into
/// `target` when given; stopped with everything it started on drop.
#[allow(dead_code, reason = "dev.rs and init.rs only")]
pub(crate) struct Dev {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    /// `ws://localhost:<port>`.
    pub(crate) ws_base: String,
    pub(crate) process: ProcessTree,
    _one: OneAppAtATime,
}

#[allow(dead_code, reason = "dev.rs and init.rs only")]
impl Dev {
    /// Starts `cargo arc dev` with `args` in `root` and waits until it says where the app is;
    /// its output goes to `target/tmp/dev-<label>.log`.
    pub(crate) fn start(root: &Path, target: Option<&Path>, args: &[&str], label: &str) -> Self {
        static BUILT: Once = Once::new();
        BUILT.call_once(|| cargo_build(&["-p", "cargo-arc", "--bin", "cargo-arc"]));
        let mut command = Command::new(target_dir().join("debug").join("cargo-arc"));
        command.arg("dev").args(args).current_dir(root);
        if let Some(target) = target {
            command.env("CARGO_TARGET_DIR", target);
        }
        Self::launch(command, label)
    }

    /// `scripts/run` with `args`, as the README has a developer run it.
    pub(crate) fn scripts_run(args: &[&str], label: &str) -> Self {
        let mut command = Command::new("bash");
        command
            .arg(workspace_root().join("scripts/run"))
            .args(args)
            .current_dir(workspace_root());
        Self::launch(command, label)
    }

    /// Runs `command` with free ports in `PORT` and `WS_PORT` until it says where the app is.
    fn launch(mut command: Command, label: &str) -> Self {
        let one = OneAppAtATime::lock();
        let (port, ws_port) = (free_port(), free_port());
        let log = tmp_dir().join(format!("dev-{label}.log"));
        let log_file = File::create(&log).expect("create the dev log");
        command
            .env("PORT", port.to_string())
            .env("WS_PORT", ws_port.to_string())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("share the dev log"))
            .stderr(log_file);
        // What the developer's shell may hold must not reach the functions.
        for key in [
            "ARC_SESSION_TTL",
            "ARC_SESSION_DOMAIN",
            "SESSION_DOMAIN",
            "ARC_WSS_URL",
        ] {
            command.env_remove(key);
        }
        let process = ProcessTree::spawn(&mut command, log, "cargo arc dev", "see its log");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while !process.log().contains(&format!("open {base}/ (")) {
            process.assert_running();
            assert!(
                Instant::now() < deadline,
                "cargo arc dev did not say where the app is"
            );
            thread::sleep(Duration::from_millis(100));
        }
        Self {
            base,
            ws_base: format!("ws://localhost:{ws_port}"),
            process,
            _one: one,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
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
        for route in ROUTES {
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

/// A child process in a process group of its own, with everything it starts. Dropping it, also
/// while a failed assertion unwinds, stops the child and every process below it.
pub(crate) struct ProcessTree {
    child: Child,
    name: &'static str,
    log: PathBuf,
    /// Set once the child is reaped: from then on its pid may belong to someone else.
    exited: Option<ExitStatus>,
}

impl ProcessTree {
    /// Spawns `command`, whose output goes to `log`; `hint` says what to check if it can't start.
    pub(crate) fn spawn(
        command: &mut Command,
        log: PathBuf,
        name: &'static str,
        hint: &str,
    ) -> Self {
        use std::os::unix::process::CommandExt as _;
        // A group of its own, so the whole tree can be signalled without touching the test's.
        let child = command
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| panic!("start {name} ({hint}): {error}"));
        Self {
            child,
            name,
            log,
            exited: None,
        }
    }

    fn assert_running(&self) {
        let pid = self.child.id();
        let leader_alive = processes().iter().any(|p| p.pid == pid as i32 && !p.zombie);
        assert!(
            leader_alive,
            "{} exited early; see its log below",
            self.name
        );
    }

    /// Waits for the child to exit, at most `timeout`; `None` if it is still running then.
    #[allow(dead_code, reason = "browser.rs only")]
    pub(crate) fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the child") {
                self.exited = Some(status);
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The child's pid.
    #[allow(dead_code, reason = "dev.rs only")]
    pub(crate) fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("a pid fits"))
    }

    /// The process groups of the child and of everything below it, now.
    #[allow(dead_code, reason = "dev.rs only")]
    pub(crate) fn groups(&self) -> BTreeSet<i32> {
        process_groups_below(self.child.id())
    }

    /// Everything the child wrote so far.
    #[allow(dead_code, reason = "browser.rs only")]
    pub(crate) fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(80)..].join("\n")
    }
}

impl Drop for ProcessTree {
    fn drop(&mut self) {
        if self.exited.is_none() {
            // watchexec starts each route's `cargo run` in a process group of its own (and
            // Playwright its browser), so signalling our group alone would orphan them: collect
            // every group below the child first.
            let groups = process_groups_below(self.child.id());
            signal(&groups, Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                // Reap the child itself; other zombies belong to init and don't count as running.
                let _ = self.child.try_wait();
                let running = processes()
                    .iter()
                    .any(|p| groups.contains(&p.pgrp) && !p.zombie);
                if !running {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
            signal(&groups, Signal::SIGKILL);
            let _ = self.child.wait();
        }
        if thread::panicking() {
            eprintln!(
                "--- last lines of {} ---\n{}",
                self.log.display(),
                self.log_tail()
            );
        }
    }
}

fn signal(groups: &BTreeSet<i32>, signal: Signal) {
    for &group in groups {
        // Gone already is fine: that is the point.
        let _ = killpg(Pid::from_raw(group), signal);
    }
}

struct Process {
    pid: i32,
    ppid: i32,
    pgrp: i32,
    zombie: bool,
}

/// Every process on the machine, from /proc (the routes only run on Linux anyway).
fn processes() -> Vec<Process> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
            let (_, fields) = stat.rsplit_once(')')?;
            let mut fields = fields.split_whitespace();
            let zombie = fields.next()? == "Z";
            let ppid = fields.next()?.parse().ok()?;
            let pgrp = fields.next()?.parse().ok()?;
            Some(Process {
                pid,
                ppid,
                pgrp,
                zombie,
            })
        })
        .collect()
}

/// The process groups of `root` and all its descendants, never the test's own.
fn process_groups_below(root: u32) -> BTreeSet<i32> {
    let all = processes();
    let root = root as i32;
    let mut groups = BTreeSet::from([root]);
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for process in all.iter().filter(|p| p.ppid == parent) {
            groups.insert(process.pgrp);
            parents.push(process.pid);
        }
    }
    groups.remove(&getpgrp().as_raw());
    groups
}

/// Whether any process of `groups` is still running.
#[allow(dead_code, reason = "dev.rs only")]
pub(crate) fn running_in(groups: &BTreeSet<i32>) -> bool {
    processes()
        .iter()
        .any(|p| groups.contains(&p.pgrp) && !p.zombie)
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

/// Creates a table keyed like Architect's session table (`_idx` string) in the local DynamoDB
/// at `endpoint`, unless it exists, and waits until it is ACTIVE.
///
/// Raw DynamoDB JSON rather than the AWS SDK: local servers (dynalite, DynamoDB Local) accept any
/// signature, and the SDK would bring an async runtime into an otherwise blocking test.
#[allow(dead_code, reason = "counter.rs and throttle.rs only")]
pub(crate) fn create_table(endpoint: &str, table: &str) {
    let (status, answer) = dynamodb(
        endpoint,
        "CreateTable",
        &json!({
            "TableName": table,
            "AttributeDefinitions": [{ "AttributeName": "_idx", "AttributeType": "S" }],
            "KeySchema": [{ "AttributeName": "_idx", "KeyType": "HASH" }],
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
