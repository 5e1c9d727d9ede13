//! `cargo arc init` as a new user meets it: a new app in a directory outside this repository
//! (arc-functions from this checkout, while the crates are unpublished), run by `cargo arc dev`
//! as its README says, and its page fetched.
//!
//! The app builds into a target directory of its own (in this crate's `target/tmp`): its route
//! crate is called `get-index` like this repository's, and sharing a target would swap one
//! binary for the other.

mod common;

use std::fs;

use std::time::Duration;

use cargo_arc::{Library, check, init, new_ws_route};
use tungstenite::client::IntoClientRequest as _;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, http::HeaderValue};

#[test]
fn a_new_app_builds_and_serves_its_page() {
    let outside = tempfile::tempdir().expect("a temporary directory");
    let root = outside.path().join("hello-app");
    let app = init(
        &root,
        &Library::Checkout(common::workspace_root().to_owned()),
    )
    .expect("init");
    assert_eq!(
        check(&app).expect("checked"),
        [],
        "app.arc and the crates agree"
    );
    for file in [
        "Cargo.toml",
        "app.arc",
        "README.md",
        ".gitignore",
        "crates/get-index/src/main.rs",
    ] {
        assert!(root.join(file).is_file(), "{file}");
    }
    let readme = fs::read_to_string(root.join("README.md")).expect("README");
    assert!(
        readme.contains("cargo arc dev") && readme.contains("cargo test"),
        "{readme}"
    );
    // Refused over anything already there, and nothing written.
    let before = fs::read_to_string(root.join("app.arc")).expect("app.arc");
    assert!(init(&root, &Library::Version("0.1".into())).is_err());
    assert_eq!(
        fs::read_to_string(root.join("app.arc")).expect("app.arc"),
        before
    );

    // This repository's lock file, so the new app builds the versions this one was tested with.
    fs::copy(
        common::workspace_root().join("Cargo.lock"),
        root.join("Cargo.lock"),
    )
    .expect("copy Cargo.lock");
    let target = common::tmp_dir().join("init-app-target");
    // What the new app's README says to run; it builds the app's function first. Cookie
    // sessions: the visits are sealed in the cookie.
    let dev = common::Dev::start(&root, Some(&target), &[], "init");
    let browser = common::agent(0);
    assert!(visit(&dev, &browser).contains("Visit 1 of this browser"));
    assert!(visit(&dev, &browser).contains("Visit 2 of this browser"));
    drop(dev);

    // A WebSocket route, scaffolded with the three every `@ws` has; then sessions in the local
    // DynamoDB `--dynamodb` starts, with app.arc's session table, and the WebSocket API.
    let created = new_ws_route(&app, "echo").expect("cargo arc new ws echo");
    assert_eq!(created.len(), 4, "echo, connect, disconnect, default");
    assert_eq!(check(&app).expect("checked"), [], "still in step");
    let dev = common::Dev::start(&root, Some(&target), &["--dynamodb"], "init-dynamodb");
    let endpoint = dev
        .process
        .log()
        .lines()
        .find_map(|line| {
            let rest = line.split_once("DynamoDB: ")?.1;
            Some(rest.split(',').next()?.to_owned())
        })
        .expect("the DynamoDB endpoint on the line saying where the app is");
    let browser = common::agent(0);
    for visits in 1..=3 {
        let page = visit(&dev, &browser);
        assert!(
            page.contains(&format!("Visit {visits} of this browser")),
            "{page}\n{}",
            dev.process.log()
        );
    }
    let (status, scan) = common::dynamodb(
        &endpoint,
        "Scan",
        &serde_json::json!({ "TableName": "hello-app-session" }),
    );
    let scan: serde_json::Value = serde_json::from_str(&scan).expect("JSON");
    assert_eq!(status, 200, "{scan}");
    assert_eq!(scan["Count"], 1, "one session, kept in the table: {scan}");
    assert_eq!(scan["Items"][0]["visits"]["N"], "3", "{scan}");

    // The scaffolded routes behind the WebSocket API: a page of the app's origin connects, and
    // a message with `"action": "echo"` reaches ws-echo, which answers it.
    let mut request = dev
        .ws_base
        .as_str()
        .into_client_request()
        .expect("a request");
    request.headers_mut().insert(
        "origin",
        HeaderValue::from_str(&dev.base).expect("an origin"),
    );
    let (mut socket, response) = tungstenite::connect(request)
        .unwrap_or_else(|e| panic!("the socket opens: {e}\n{}", dev.process.log()));
    assert_eq!(response.status(), 101);
    if let MaybeTlsStream::Plain(stream) = socket.get_mut() {
        stream
            .set_read_timeout(Some(Duration::from_secs(120)))
            .expect("a read timeout");
    }
    socket
        .send(Message::text(r#"{"action":"echo"}"#))
        .expect("send");
    let reply = loop {
        match socket.read().expect("a reply before the timeout") {
            Message::Text(text) => break text.to_string(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected frame {other:?}"),
        }
    };
    assert!(
        reply.starts_with("echo on "),
        "{reply}\n{}",
        dev.process.log()
    );
}

/// `GET /` as `browser`; the page.
fn visit(dev: &common::Dev, browser: &ureq::Agent) -> String {
    let response = browser
        .get(&dev.url("/"))
        .call()
        .unwrap_or_else(|e| panic!("GET /: {e}\n{}", dev.process.log()));
    assert_eq!(response.status(), 200, "{}", dev.process.log());
    common::body(response)
}
