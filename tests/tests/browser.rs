//! The counter page in a real browser: headless Chromium, driven by `tests/browser/counter.js`
//! (playwright-core), clicks the page's own forms on the app served by `cargo lambda watch`;
//! and the login example's "Sign out everywhere" across two devices, driven by
//! `tests/browser/devices.js`.
//!
//! Every test here is `#[ignore]`d: it needs Chromium and `tests/browser`'s npm packages
//! (`ARC_TEST_BROWSER=1`, which `scripts/test` sets after installing both), and the two with
//! sessions in DynamoDB need dynalite too. `scripts/test` runs them with `--include-ignored`;
//! run without what they need, they fail saying what is missing, never pass unrun. The
//! screenshots end up in `target/tmp/`.

mod common;

use std::{
    env, fs,
    process::{Command, Stdio},
    time::Duration,
};

use common::{App, ProcessTree, tmp_dir, workspace_root};

/// counter.js and devices.js give up by themselves after 280 s; this is the backstop should Node itself hang.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(300);
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

#[test]
#[ignore = "needs Chromium: scripts/test installs it (ARC_TEST_BROWSER=1)"]
fn counter_page_in_chromium() {
    require_browser();
    let app = App::start("browser", &[]);
    drive(&app, "counter.png", None);
}

/// Two tabs of one browser with sessions in DynamoDB, the page on `127.0.0.1` and its socket on
/// `localhost` (two hosts, as deployed): a Count or Reset in one changes the number in the other,
/// over the page's WebSocket, without a reload; and after the gateway closes the idle socket
/// (after 4 s here, API Gateway's 10 minutes shortened) the page reconnects and still follows.
#[test]
#[ignore = "needs Chromium and dynalite: scripts/test installs and starts them"]
fn live_counter_in_two_tabs_of_chromium() {
    require_browser();
    common::require_dynamodb();
    let app = App::start_with_gateway(
        "browser-live",
        &[("SESSION_TABLE_NAME", "bigsesh-session")],
        &[("WS_IDLE_TIMEOUT", "4")],
    );
    let output = drive(&app, "counter-live.png", Some("--live"));
    for action in ["/count", "/reset"] {
        assert!(
            output.contains(&format!("{action} in the first tab: the second tab shows")),
            "{output}"
        );
    }
    assert!(
        output.contains("the idle socket was closed and the page reconnected by itself"),
        "{output}"
    );
    assert!(
        output.contains("after the reconnect, /count in the first tab: the second tab shows"),
        "{output}"
    );
    let gateway = app.gateway_log();
    assert!(
        gateway.contains("1001 Going away"),
        "the gateway closed an idle socket:\n{gateway}"
    );
}

/// Fails the test unless Chromium and the driver's npm packages are in place.
fn require_browser() {
    assert_eq!(
        env::var("ARC_TEST_BROWSER").as_deref(),
        Ok("1"),
        "this test needs Chromium: set ARC_TEST_BROWSER=1 with /usr/bin/chromium and \
         `npm ci --prefix tests/browser` in place (scripts/test does all three)"
    );
}

/// Two devices (two browser contexts) signed in as one user of the login example, sessions in
/// DynamoDB, the page on `127.0.0.1` and its socket on `localhost`: "Sign out everywhere" on
/// the first makes the second's open account page show it was signed out within a second,
/// without a reload (its socket gets the notice, then is closed), and the second's next
/// request is signed out (`tests/browser/devices.js` says each step).
#[test]
#[ignore = "needs Chromium and dynalite: scripts/test installs and starts them"]
fn sign_out_everywhere_reaches_the_other_devices_open_page_in_chromium() {
    require_browser();
    let endpoint = common::require_dynamodb();
    common::create_table(&endpoint, "bigsesh-session");
    common::create_table_keyed(&endpoint, "bigsesh-users", "name");
    let app = App::start_with_gateway(
        "browser-devices",
        &[
            ("SESSION_TABLE_NAME", "bigsesh-session"),
            ("USERS_TABLE_NAME", "bigsesh-users"),
        ],
        &[],
    );
    let output = drive_script(&app, "devices.js", "devices.png", None);
    for step in [
        "device A lists both devices",
        "without a reload",
        "device B's socket was closed after the notice",
        "device B's next request is signed out",
    ] {
        assert!(output.contains(step), "{step:?} in\n{output}");
    }
}

/// Runs counter.js on `app` and checks it passed and left a screenshot; returns its output.
fn drive(app: &App, screenshot: &str, mode: Option<&str>) -> String {
    drive_script(app, "counter.js", screenshot, mode)
}

/// Runs `tests/browser/<script>` on `app` and checks it passed and left a screenshot; returns
/// its output.
fn drive_script(app: &App, script: &str, screenshot: &str, mode: Option<&str>) -> String {
    let screenshot = tmp_dir().join(screenshot);
    // A screenshot left by an earlier run must not pass for this one's.
    let _ = fs::remove_file(&screenshot);
    let log = tmp_dir().join(format!("browser-{script}{}.log", mode.unwrap_or_default()));
    let log_file = fs::File::create(&log).expect("create the browser log");
    let mut command = Command::new("node");
    command
        .arg(workspace_root().join("tests/browser").join(script))
        .arg(app.url("/"))
        .arg(&screenshot)
        .args(mode)
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("share the browser log"))
        .stderr(log_file);
    // Dropped before `app`: Chromium goes first, then watch and the routes.
    let mut node = ProcessTree::spawn(
        &mut command,
        log,
        "node tests/browser/<script>",
        "is Node 20+ on PATH?",
    );
    let status = node
        .wait_timeout(BROWSER_TIMEOUT)
        .unwrap_or_else(|| panic!("{script} still running after {BROWSER_TIMEOUT:?}"));
    let output = node.log();
    assert!(status.success(), "{script} failed ({status}):\n{output}");
    assert!(
        output
            .lines()
            .any(|line| line.trim() == "browser: 1 passed, 0 failed"),
        "{script} exited 0 without passing:\n{output}"
    );

    let png = fs::read(&screenshot)
        .unwrap_or_else(|error| panic!("no screenshot at {}: {error}", screenshot.display()));
    assert!(
        png.starts_with(PNG_SIGNATURE) && png.get(12..16) == Some(b"IHDR".as_slice()),
        "{} is not a PNG",
        screenshot.display()
    );
    let dimension = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().expect("4 bytes"));
    let (width, height) = (dimension(16), dimension(20));
    assert!(
        width > 0 && height > 0,
        "{} is an empty {width}x{height} image",
        screenshot.display()
    );
    output
}
