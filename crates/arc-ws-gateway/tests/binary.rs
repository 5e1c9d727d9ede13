//! The `arc-ws-gateway` binary as `scripts/run` starts it: configuration, app.arc, signals.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};

use futures_util::SinkExt;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::json;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use support::{Answer, StandIn, finish, open, receive, receive_text, script, within};

const BIN: &str = env!("CARGO_BIN_EXE_arc-ws-gateway");

/// The binary with none of the variables it reads inherited from the test's environment.
fn gateway(args: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("WS_PORT")
        .env_remove("PORT")
        .envs(vars.iter().copied());
    command
}

fn write_arc(dir: &Path, text: &str) -> String {
    let path = dir.join("app.arc");
    std::fs::write(&path, text).unwrap_or_else(|err| panic!("{err}"));
    path.to_string_lossy().into_owned()
}

/// A running binary, killed if the test fails before it exits; its stderr, line by line.
struct Running {
    child: Child,
    stderr: mpsc::UnboundedReceiver<String>,
}

impl Running {
    fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|err| panic!("{BIN}: {err}"));
        let (lines, stderr) = mpsc::unbounded_channel();
        let pipe = child.stderr.take().unwrap_or_else(|| panic!("no stderr"));
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                eprintln!("arc-ws-gateway| {line}");
                let _ = lines.send(line);
            }
        });
        Self { child, stderr }
    }

    /// The next stderr line containing `text`.
    async fn line_with(&mut self, text: &str) -> String {
        loop {
            match within(text, self.stderr.recv()).await {
                Some(line) if line.contains(text) => return line,
                Some(_) => {}
                None => panic!("stderr ended before a line with {text:?}"),
            }
        }
    }

    fn signal(&self, signal: Signal) {
        let pid = i32::try_from(self.child.id()).unwrap_or_else(|err| panic!("{err}"));
        kill(Pid::from_raw(pid), signal).unwrap_or_else(|err| panic!("kill: {err}"));
    }

    async fn exit(mut self) -> ExitStatus {
        let mut child = std::mem::replace(
            &mut self.child,
            Command::new("true")
                .spawn()
                .unwrap_or_else(|err| panic!("{err}")),
        );
        let waited = tokio::task::spawn_blocking(move || child.wait());
        within("the gateway to exit", waited)
            .await
            .unwrap_or_else(|err| panic!("{err}"))
            .unwrap_or_else(|err| panic!("{err}"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn serves_the_ws_routes_of_app_arc_until_sigterm() {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let arc = write_arc(
        dir.path(),
        "@app\nchat\n\n@ws\njoin-room # a custom route\n",
    );
    let mut lambda = StandIn::start(script(|invocation| async move {
        let body = invocation.event["body"].as_str().map(|_| "joined");
        Answer::Reply(json!({ "statusCode": 200, "body": body }))
    }))
    .await;
    let mut gateway = Running::spawn(gateway(
        &["--arc", &arc, "--invoke-url", &lambda.url],
        &[("WS_PORT", "0")],
    ));

    // One line: where it listens, which functions it invokes, through which watch.
    let line = gateway.line_with("listening on ws://").await;
    for expected in [
        "$connect → ws-connect",
        "$disconnect → ws-disconnect",
        "$default → ws-default",
        "join-room → ws-join_room",
        lambda.url.as_str(),
    ] {
        assert!(line.contains(expected), "{expected:?} in {line}");
    }
    let address = line
        .split("ws://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line}"));

    let mut socket = open(&format!("ws://{address}/"), &[]).await;
    let id = lambda.expect("ws-connect").await.connection_id();
    gateway.line_with(&format!("$connect {id}: accepted")).await;
    socket
        .send(Message::text(r#"{"action":"join-room","room":"lobby"}"#))
        .await
        .unwrap_or_else(|err| panic!("send: {err}"));
    let message = lambda.expect("ws-join_room").await;
    assert_eq!(message.context()["routeKey"], "join-room");
    assert_eq!(receive_text(&mut socket).await, "joined");

    // SIGTERM: every connection is closed with 1001 and gets its $disconnect, then exit 0.
    gateway.signal(Signal::SIGTERM);
    match receive(&mut socket).await {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Away),
        other => panic!("expected a close frame, got {other:?}"),
    }
    finish(&mut socket).await;
    let disconnect = lambda.expect("ws-disconnect").await;
    assert_eq!(disconnect.connection_id(), id);
    assert_eq!(disconnect.context()["disconnectStatusCode"], 1001);
    gateway
        .line_with(&format!("$disconnect {id}: 1001 Going away"))
        .await;
    let status = gateway.exit().await;
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn refused_and_failed_connects_are_logged() {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let arc = write_arc(dir.path(), "@app\nchat\n@ws\n");
    let lambda = StandIn::start(script(|_| async {
        Answer::Reply(json!({ "statusCode": 401 }))
    }))
    .await;
    let mut gateway = Running::spawn(gateway(
        &["--arc", &arc, "--invoke-url", &lambda.url],
        &[("WS_PORT", "0")],
    ));
    let line = gateway.line_with("listening on ws://").await;
    let address = line
        .split("ws://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no address in {line}"))
        .to_owned();
    match support::connect(&format!("ws://{address}/"), &[]).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("expected a 401 refusal, got {other:?}"),
    }
    gateway
        .line_with(": refused: ws-connect answered 401 Unauthorized")
        .await;
    // Another site's page, and a page under a rebound name: refused before ws-connect, and
    // logged with what was wrong (the query string, where a ticket travels, is not logged).
    let url = format!("ws://{address}/?ticket=t1.secret");
    match support::connect(&url, &[("origin", "https://evil.example")]).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected a 403 refusal, got {other:?}"),
    }
    let line = gateway
        .line_with("$connect: refused with 403: Origin https://evil.example is not one of the app's (--origin)")
        .await;
    assert!(!line.contains("t1.secret"), "{line}");
    let port = address.rsplit(':').next().unwrap_or_default();
    let rebound = format!("rebound.example:{port}");
    match support::connect(&url, &[("host", &rebound)]).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!("expected a 403 refusal, got {other:?}"),
    }
    gateway
        .line_with(&format!(
            "refused with 403: Host {rebound} is not localhost, 127.0.0.1 or [::1]"
        ))
        .await;
    // A request that is no upgrade is refused without invoking anything, and serving goes on.
    let plain = support::request(http::Method::GET, &format!("http://{address}/"), "").await;
    assert!(plain.status.is_client_error(), "{plain:?}");
    let gone = format!("http://{address}/@connections/x");
    support::request(http::Method::GET, &gone, "")
        .await
        .assert_gone();
    gateway.signal(Signal::SIGINT);
    assert!(gateway.exit().await.success());
}

fn run(command: &mut Command) -> Output {
    command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("{BIN}: {err}"))
}

/// Arguments, variables, and what stderr must say.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);

#[test]
fn bad_configuration_exits_with_2_and_says_why() {
    let dir = tempfile::tempdir().unwrap_or_else(|err| panic!("{err}"));
    let arc = write_arc(dir.path(), "@app\nchat\n@ws\n");
    let no_ws = dir.path().join("site.arc");
    std::fs::write(&no_ws, "@app\nsite\n@http\nget /\n").unwrap_or_else(|err| panic!("{err}"));
    let no_ws = no_ws.to_string_lossy().into_owned();
    let missing = dir
        .path()
        .join("missing.arc")
        .to_string_lossy()
        .into_owned();

    let cases: [Case<'_>; 7] = [
        (
            &["--arc", &arc],
            &[("WS_PORT", "ninety")],
            "WS_PORT: expected a port number",
        ),
        (
            &["--arc", &arc],
            &[("PORT", "0")],
            "PORT: expected a port number from 1",
        ),
        (
            &["--arc", &arc, "--invoke-url", "https://127.0.0.1:9000"],
            &[],
            "--invoke-url: expected watch's invoke address",
        ),
        (
            &["--arc", &arc, "--invoke-url"],
            &[],
            "--invoke-url: expected a value",
        ),
        (
            &["--arc", &arc, "--verbose"],
            &[],
            "unknown argument `--verbose`",
        ),
        (&["--arc", &missing], &[], "missing.arc: could not read it"),
        (&["--arc", &no_ws], &[], "site.arc: no @ws section"),
    ];
    for (args, vars, expected) in cases {
        let output = run(&mut gateway(args, vars));
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?} {vars:?}: {stderr}");
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }

    // A taken port is not a bad value, but it stops the gateway all the same.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap_or_else(|err| panic!("{err}"));
    let port = taken
        .local_addr()
        .unwrap_or_else(|err| panic!("{err}"))
        .port()
        .to_string();
    let output = run(&mut gateway(&["--arc", &arc], &[("WS_PORT", &port)]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("can't listen on 127.0.0.1:{port}")),
        "{stderr}"
    );

    let output = run(&mut gateway(&["--help"], &[("WS_PORT", "bad")]));
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("Usage: arc-ws-gateway"));
}
