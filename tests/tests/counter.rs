//! The example counter app, served by `cargo lambda watch` and driven like a browser.
//!
//! Builds the three route binaries, starts `cargo lambda watch` on a free loopback port with the
//! workspace router, and checks that sessions count per client, reset, and treat a tampered
//! cookie as no session. Runs with sessions sealed in the cookie, and again with sessions in
//! DynamoDB when `ARC_TEST_DYNAMODB=1` and `AWS_ENDPOINT_URL_DYNAMODB` point at a local server
//! (`scripts/test` starts dynalite and sets both).

use std::{
    collections::BTreeSet,
    env,
    ffi::OsString,
    fs::{self, File},
    io::Write as _,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Mutex, Once, PoisonError},
    thread,
    time::{Duration, Instant},
};

use nix::{
    sys::signal::{Signal, killpg},
    unistd::{Pid, getpgrp},
};
use serde_json::json;
use ureq::{Agent, ResponseExt as _, http::Response};

/// The session table of `app.arc`, the name `scripts/test` creates in dynalite.
const SESSION_TABLE: &str = "bigsesh-session";
/// At least 32 bytes like staging and production demand, and no commas: `--env-var` splits on them.
const TEST_SECRET: &str = "e2e-only-secret-not-for-use-0123456789abcdef";
/// The first request may wait on `cargo run` compiling a route.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
const STARTUP_TIMEOUT: Duration = Duration::from_secs(300);
const ROUTES: [&str; 3] = ["get-index", "post-count", "post-reset"];

/// One app at a time: each starts its own route processes, and two would fight over the CPU.
static ONE_APP_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn counter_with_cookie_sessions() {
    let _one = ONE_APP_AT_A_TIME
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let app = App::start("cookie", &[]);
    counter_scenario(&app);
}

#[test]
fn counter_with_dynamodb_sessions() {
    if env::var("ARC_TEST_DYNAMODB").as_deref() != Ok("1") {
        // Straight to stderr: the test harness would swallow `eprintln!` from a passing test.
        let _ = writeln!(
            std::io::stderr(),
            "skipping counter_with_dynamodb_sessions: set ARC_TEST_DYNAMODB=1 and \
             AWS_ENDPOINT_URL_DYNAMODB (scripts/test does both)"
        );
        return;
    }
    let endpoint = env::var("AWS_ENDPOINT_URL_DYNAMODB")
        .expect("ARC_TEST_DYNAMODB=1 promises a local DynamoDB in AWS_ENDPOINT_URL_DYNAMODB");
    let _one = ONE_APP_AT_A_TIME
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    create_session_table(&endpoint);
    let app = App::start("dynamodb", &[("SESSION_TABLE_NAME", SESSION_TABLE)]);
    counter_scenario(&app);
}

/// The seed guide's counter, clicked through by two visitors and one forger.
fn counter_scenario(app: &App) {
    let alice = Browser::new(app);
    assert_eq!(alice.get("/"), 0, "a first visit has an empty session");
    for expected in 1..=3 {
        assert_eq!(
            alice.post("/count"),
            expected,
            "Count goes up by one per click"
        );
    }
    assert_eq!(alice.post("/reset"), 0, "Reset empties the session");
    alice.post("/count");
    assert_eq!(alice.post("/count"), 2);

    let bob = Browser::new(app);
    assert_eq!(
        bob.get("/"),
        0,
        "a client without cookies gets a session of its own"
    );
    assert_eq!(bob.post("/count"), 1);
    assert_eq!(
        alice.get("/"),
        2,
        "bob's clicks do not touch alice's session"
    );
    assert_eq!(alice.post("/count"), 3);

    let cookie = alice.session_cookie();
    let page = app.get_with_cookie(&format!("_idx={}", tamper(&cookie)));
    assert_eq!(
        page.status().as_u16(),
        200,
        "a tampered cookie is no session, not an error"
    );
    assert_eq!(
        count_on(&body(page)),
        0,
        "a tampered cookie must not open the session"
    );
    // The same request with the untouched value shows the count, so the zero above is the
    // tampering's doing and not the way the cookie was sent.
    let page = app.get_with_cookie(&format!("_idx={cookie}"));
    assert_eq!(count_on(&body(page)), 3);

    assert_session_cookie_attributes(app);
}

/// What a browser is told on the redirect: the cookie attributes the design fixes for testing.
fn assert_session_cookie_attributes(app: &App) {
    let response = agent(0)
        .post(app.url("/count"))
        .header("content-type", "application/x-www-form-urlencoded")
        .send("")
        .expect("POST /count");
    assert_eq!(
        response.status().as_u16(),
        302,
        "a form post answers with a redirect"
    );
    assert_eq!(header(&response, "location"), Some("/"));
    let session = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("_idx="))
        .unwrap_or_else(|| panic!("no _idx cookie set: {:?}", response.headers()));
    let attributes: Vec<String> = session
        .split(';')
        .skip(1)
        .map(|attribute| attribute.trim().to_ascii_lowercase())
        .collect();
    for expected in ["httponly", "path=/", "samesite=lax", "max-age=604800"] {
        assert!(
            attributes.iter().any(|attribute| attribute == expected),
            "{expected} missing from {session}"
        );
    }
    assert!(
        !attributes.iter().any(|attribute| attribute == "secure"),
        "ARC_ENV unset means testing, where the cookie must work over plain http: {session}"
    );
}

/// A cookie-keeping client that follows redirects, as a browser submitting the page's forms.
struct Browser<'a> {
    app: &'a App,
    agent: Agent,
}

impl<'a> Browser<'a> {
    fn new(app: &'a App) -> Self {
        Self {
            app,
            agent: agent(10),
        }
    }

    /// Loads `path` and returns the count on the page.
    fn get(&self, path: &str) -> u64 {
        let response = self.agent.get(self.app.url(path)).call().expect("GET");
        self.count_on_page(response, path)
    }

    /// Submits the button's empty form to `path`, follows the redirect, returns the count.
    fn post(&self, path: &str) -> u64 {
        let response = self
            .agent
            .post(self.app.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .send("")
            .expect("POST");
        assert_eq!(
            response.get_uri().path(),
            "/",
            "POST {path} should redirect to the counter page"
        );
        self.count_on_page(response, path)
    }

    fn count_on_page(&self, response: Response<ureq::Body>, path: &str) -> u64 {
        let status = response.status().as_u16();
        let page = body(response);
        assert_eq!(status, 200, "{path} on {}: {page}", self.app.base);
        count_on(&page)
    }

    /// The value of the `_idx` cookie this browser holds.
    fn session_cookie(&self) -> String {
        let jar = self.agent.cookie_jar_lock();
        let value = jar
            .iter()
            .find(|cookie| cookie.name() == "_idx")
            .map(|cookie| cookie.value().to_owned());
        value.expect("the browser holds an _idx cookie")
    }
}

/// An agent that reports every status as a response and follows up to `redirects` redirects.
fn agent(redirects: u32) -> Agent {
    Agent::new_with_config(
        Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(redirects)
            .max_redirects_will_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build(),
    )
}

fn body(response: Response<ureq::Body>) -> String {
    response
        .into_body()
        .read_to_string()
        .expect("read the response body")
}

fn header<'r>(response: &'r Response<ureq::Body>, name: &str) -> Option<&'r str> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// The number in the page's `Count N` button.
fn count_on(page: &str) -> u64 {
    page.match_indices("Count ")
        .find_map(|(at, label)| {
            let digits: String = page[at + label.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .unwrap_or_else(|| panic!("no `Count N` on the page:\n{page}"))
}

/// `value` with one character near the middle changed. Separators and the character before one
/// are skipped: a segment's last base64 character may carry only padding bits, and changing
/// those would leave the decoded bytes, and so the cookie, as they were.
fn tamper(value: &str) -> String {
    let mut chars: Vec<char> = value.chars().collect();
    let mut at = chars.len() / 2;
    while at + 1 < chars.len()
        && !(chars[at].is_ascii_alphanumeric() && chars[at + 1].is_ascii_alphanumeric())
    {
        at += 1;
    }
    assert!(at + 1 < chars.len(), "nothing to tamper with in {value:?}");
    chars[at] = if chars[at] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// The example app served by `cargo lambda watch`, stopped with everything it started on drop.
struct App {
    base: String,
    watch: Watch,
}

impl App {
    /// Builds the routes, starts watch with `route_env` set for the routes, and waits until
    /// `GET /` answers. `label` names the log, `target/tmp/watch-<label>.log`.
    fn start(label: &str, route_env: &[(&str, &str)]) -> Self {
        build_routes();
        let port = free_port();
        let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("watch-{label}.log"));
        let log_file = File::create(&log).expect("create the watch log");

        let mut command = Command::new(cargo());
        command
            .args(["lambda", "watch", "--invoke-address", "127.0.0.1"])
            .args(["--invoke-port", &port.to_string()])
            // Edits made while the test runs must not restart the routes under it.
            .arg("--ignore-changes")
            .args(["--env-var", &format!("ARC_APP_SECRET={TEST_SECRET}")]);
        for (key, value) in route_env {
            command.args(["--env-var", &format!("{key}={value}")]);
        }
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
        ] {
            command.env_remove(key);
        }
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
        command
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("share the watch log"))
            .stderr(log_file);
        let watch = Watch::spawn(&mut command, log);

        let app = Self {
            base: format!("http://127.0.0.1:{port}"),
            watch,
        };
        app.wait_until_serving();
        app
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A cookie-less client's `GET /` with a `Cookie` header of our choosing.
    fn get_with_cookie(&self, cookie: &str) -> Response<ureq::Body> {
        agent(0)
            .get(self.url("/"))
            .header("cookie", cookie)
            .call()
            .expect("GET / with a cookie")
    }

    /// Waits for watch to listen and for `get-index` to answer; watch starts each route on its
    /// first request, so this also takes that route's start-up off the scenario.
    fn wait_until_serving(&self) {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            self.watch.assert_running();
            match agent(0).get(self.url("/")).call() {
                Ok(response) if response.status().as_u16() == 200 => return,
                Ok(response) => {
                    let status = response.status();
                    panic!("GET / answered {status}: {}", body(response));
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

/// Builds the routes once per test run, so watch's `cargo run --bin NAME` finds them up to date
/// rather than compiling under a request's timeout. `--bin` without `-p` resolves features over
/// the whole workspace exactly as that `cargo run` does; with `-p` they could differ and force a
/// second build.
fn build_routes() {
    static BUILT: Once = Once::new();
    BUILT.call_once(|| {
        let mut command = Command::new(cargo());
        command.arg("build");
        for route in ROUTES {
            command.args(["--bin", route]);
        }
        let output = command
            .current_dir(workspace_root())
            .stdin(Stdio::null())
            .output()
            .expect("run cargo build");
        assert!(
            output.status.success(),
            "building the routes failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    });
}

/// A running `cargo lambda watch`. Dropping it, also while a failed assertion unwinds, stops
/// watch and every route process it started.
struct Watch {
    child: Child,
    log: PathBuf,
}

impl Watch {
    fn spawn(command: &mut Command, log: PathBuf) -> Self {
        use std::os::unix::process::CommandExt as _;
        // A group of its own, so the whole tree can be signalled without touching the test's.
        let child = command.process_group(0).spawn().expect(
            "start `cargo lambda watch` (is cargo-lambda installed? scripts/test installs it)",
        );
        Self { child, log }
    }

    fn assert_running(&self) {
        let pid = self.child.id();
        let leader_alive = processes().iter().any(|p| p.pid == pid as i32 && !p.zombie);
        assert!(
            leader_alive,
            "`cargo lambda watch` exited early; see its log below"
        );
    }

    fn log_tail(&self) -> String {
        let log = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(80)..].join("\n")
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // watchexec starts each route's `cargo run` in a process group of its own, so signalling
        // our group alone would orphan the routes: collect every group below watch first.
        let groups = process_groups_below(self.child.id());
        signal(&groups, Signal::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            // Reap watch itself; other zombies belong to init and don't count as running.
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

/// Creates the session table unless it exists, and waits until it is ACTIVE.
///
/// Raw DynamoDB JSON rather than the AWS SDK: local servers (dynalite, DynamoDB Local) accept any
/// signature, and the SDK would bring an async runtime into an otherwise blocking test.
fn create_session_table(endpoint: &str) {
    let (status, answer) = dynamodb(
        endpoint,
        "CreateTable",
        &json!({
            "TableName": SESSION_TABLE,
            "AttributeDefinitions": [{ "AttributeName": "_idx", "AttributeType": "S" }],
            "KeySchema": [{ "AttributeName": "_idx", "KeyType": "HASH" }],
            "BillingMode": "PAY_PER_REQUEST",
        }),
    );
    assert!(
        status == 200 || answer.contains("ResourceInUseException"),
        "CreateTable {SESSION_TABLE} at {endpoint}: {status} {answer}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, answer) = dynamodb(
            endpoint,
            "DescribeTable",
            &json!({ "TableName": SESSION_TABLE }),
        );
        let table: serde_json::Value = serde_json::from_str(&answer).unwrap_or_default();
        if table["Table"]["TableStatus"] == "ACTIVE" {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{SESSION_TABLE} never became ACTIVE: {answer}"
        );
        thread::sleep(Duration::from_millis(200));
    }
}

fn dynamodb(endpoint: &str, operation: &str, request: &serde_json::Value) -> (u16, String) {
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

fn free_port() -> u16 {
    // The OS picks a port nobody listens on; another process could take it before watch binds
    // it, which on loopback during a test run is rare enough to accept.
    TcpListener::bind(("127.0.0.1", 0))
        .and_then(|listener| listener.local_addr())
        .expect("bind a loopback port")
        .port()
}

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
}

/// The cargo running this test, so nested builds use the same toolchain.
fn cargo() -> OsString {
    env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}
