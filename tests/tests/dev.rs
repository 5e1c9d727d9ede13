//! `scripts/run --dynamodb` (a call of `cargo arc dev --dynamodb`) on this repository's app, as
//! the README has a developer run it: the routes under watch on `127.0.0.1`, the WebSocket API on
//! `localhost`, a DynamoDB of its own with the `@tables` table created, and the environment a
//! deployed function gets. A count reaches a socket opened with the page's ticket; then SIGTERM
//! stops everything it started.
//!
//! Needs Node (dynalite is installed into `.tools/` when missing, as `cargo arc dev` does).

mod common;

use std::net::TcpStream;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use serde_json::{Value, json};
use tungstenite::client::IntoClientRequest as _;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, http::HeaderValue};

use common::{Dev, agent, body, cargo_arc, running_in, workspace_root};

const MESSAGE_TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn dev_serves_pages_sockets_and_dynamodb_and_sigterm_stops_all_of_it() {
    let dev = Dev::scripts_run(&["--dynamodb"], "dynamodb");
    let log = || dev.process.log();
    let line = log()
        .lines()
        .find(|line| line.starts_with("open "))
        .map(str::to_owned)
        .expect("the line saying where the app is");
    assert!(
        line.contains(&format!("WebSockets: {}", dev.ws_base))
            && line.contains("tables bigsesh-session"),
        "{line}"
    );

    // Sessions in dynalite: the cookie holds a key, not the session sealed.
    let browser = agent(10);
    let count = |path: &str| {
        let response = browser
            .post(dev.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .send("")
            .expect("POST");
        assert_eq!(response.status().as_u16(), 200, "POST {path}\n{}", log());
        body(response)
    };
    assert!(count("/count").contains("Count 1"), "{}", log());
    let state: Value = serde_json::from_str(&body(
        browser
            .get(dev.url("/"))
            .header("accept", "application/json")
            .call()
            .expect("GET / as JSON"),
    ))
    .expect("JSON");
    let socket_url = state["socket"]
        .as_str()
        .unwrap_or_else(|| panic!("a socket URL needs DynamoDB sessions and ARC_WSS_URL: {state}"));
    assert!(
        socket_url.starts_with(&format!("{}/?ticket=t1.", dev.ws_base)),
        "{socket_url}"
    );

    // The gateway in `cargo arc dev`'s process, on the other host name, invoking ws-connect,
    // which checks the ticket in the session table.
    let mut request = socket_url.into_client_request().expect("a request");
    request.headers_mut().insert(
        "origin",
        HeaderValue::from_str(&dev.base).expect("an origin"),
    );
    let (mut socket, response) = tungstenite::connect(request).expect("the socket opens");
    assert_eq!(response.status(), 101);
    if let MaybeTlsStream::Plain(stream) = socket.get_mut() {
        stream
            .set_read_timeout(Some(MESSAGE_TIMEOUT))
            .expect("a read timeout");
    }
    assert!(count("/count").contains("Count 2"));
    let pushed = loop {
        match socket.read().expect("a message before the timeout") {
            Message::Text(text) => break serde_json::from_str::<Value>(&text).expect("JSON"),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    };
    assert_eq!(pushed, json!({"count": 2}), "the count reaches the socket");

    // SIGTERM to the process scripts/run became (bash and `cargo run` exec cargo-arc), as a
    // service manager sends it: it stops what it started (watch, the functions watch runs,
    // dynalite, the gateway) and exits 0.
    let groups = dev.process.groups();
    assert!(
        groups.len() >= 3,
        "dev, watch, a function and dynalite: {groups:?}"
    );
    let mut dev = dev;
    kill(dev.process.pid(), Signal::SIGTERM).expect("signal cargo arc dev");
    let status = dev
        .process
        .wait_timeout(Duration::from_secs(60))
        .unwrap_or_else(|| panic!("cargo arc dev still running a minute after SIGTERM"));
    assert!(status.success(), "{status}\n{}", dev.process.log());
    assert!(
        !running_in(&groups),
        "a process cargo arc dev started outlived it"
    );
    // The gateway closed the socket on its way out (1001, Going away).
    let closed = loop {
        match socket.read() {
            Ok(Message::Close(frame)) => break frame.map(|f| u16::from(f.code)),
            Ok(_) => {}
            Err(_) => break None,
        }
    };
    assert_eq!(closed, Some(1001), "{}", dev.process.log());
    for base in [&dev.base, &dev.ws_base] {
        let port: u16 = base
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("a port");
        assert!(
            TcpStream::connect(("127.0.0.1", port)).is_err(),
            "still listening on {port}"
        );
    }
}

/// scripts/test installs the same tools for the tests as `cargo arc dev` for a developer: one
/// version of each, whichever installs it first.
#[test]
fn the_scripts_pin_the_versions_cargo_arc_dev_installs() {
    let lib = std::fs::read_to_string(workspace_root().join("scripts/lib.sh")).expect("lib.sh");
    for (name, version) in [
        ("CARGO_LAMBDA_VERSION", cargo_arc::CARGO_LAMBDA_VERSION),
        ("DYNALITE_VERSION", cargo_arc::DYNALITE_VERSION),
    ] {
        assert!(
            lib.contains(&format!("\n{name}=\"{version}\"\n")),
            "scripts/lib.sh pins another {name} than cargo arc dev's {version}"
        );
    }
}

/// Something else on the HTTP port would answer for watch, which neither says nor fails when it
/// cannot listen: `cargo arc dev` refuses before it starts anything.
#[test]
fn a_taken_port_is_refused_before_anything_starts() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = taken.local_addr().expect("its address").port().to_string();
    let output = std::process::Command::new(cargo_arc())
        .args(["dev", "--port", &port, "--ws-port", "1"])
        .current_dir(workspace_root())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("cargo arc dev runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cargo lambda watch: cannot listen on 127.0.0.1:{port}"
        )) && stderr.contains("--port"),
        "{stderr}"
    );
    assert!(
        !String::from_utf8_lossy(&output.stdout).contains("open http"),
        "it said where the app is"
    );
}
