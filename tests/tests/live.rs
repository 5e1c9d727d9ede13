//! Live updates: the counter's WebSockets through `arc-ws-gateway` and `cargo lambda watch`,
//! with sessions in DynamoDB (dynalite, as `scripts/test` starts it).
//!
//! A blocking WebSocket client stands in for the page's socket and ureq for its forms. The page
//! is on `127.0.0.1` and the socket on `localhost`, two host names as API Gateway has two
//! hosts, so the page's cookie never reaches the socket: a socket ticket from the page's own
//! request does. A Count over HTTP reaches the session's sockets as `{"count": N}`, a count
//! sent on a socket reaches every tab of the session and is what the page then shows, another
//! browser's session stays apart, a browser without a session, a cookie without a ticket, a
//! foreign page and a replayed ticket are refused, a Reset closes the old session's sockets,
//! and `ws::info`, `ws::close` and `ws::send` reach the gateway's management API, a closed
//! connection being `Gone`.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::client::IntoClientRequest as _;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};
use ureq::Agent;

use common::{App, agent, body};

const SESSION_TABLE: &str = "bigsesh-session";
/// Long enough for a route's first start under load; a message normally takes milliseconds.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(60);

type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

#[test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
fn live_counter_over_websockets_with_dynamodb_sessions() {
    common::require_dynamodb();
    let app = App::start("live", &[("SESSION_TABLE_NAME", SESSION_TABLE)]);
    let ws = app.ws_base.clone().expect("the app runs with its gateway");
    // As deployed: the page on one host, the socket on another.
    assert!(app.base.starts_with("http://127.0.0.1:") && ws.starts_with("ws://localhost:"));
    let page_origin = app.base.clone();

    let alice = agent(10);
    assert_eq!(post(&app, &alice, "/count"), 1);
    let page = body(alice.get(app.url("/")).call().expect("GET /"));
    assert!(
        page.contains(&format!("follow(\"{ws}/?ticket=t1.")),
        "{page}"
    );

    // No session, nothing to follow: ws-connect's 403 refuses the upgrade itself.
    assert_refused(&ws, &page_origin, None, 403, "a browser without a session");
    // The page's cookie is for 127.0.0.1 and never goes to localhost; sent anyway, it is not
    // trusted from the page's origin, which is not the socket's own: the cookie alone
    // connects nothing, exactly as on two API Gateway hosts.
    let cookie = format!("_idx={}", session_cookie(&alice));
    assert_refused(
        &ws,
        &page_origin,
        Some(&cookie),
        403,
        "a cookie without a ticket",
    );
    // A page of another origin never reaches $connect: the gateway refuses it first.
    let (_, url) = state(&app, &alice);
    let url = url.expect("a socket URL");
    assert_refused(&url, "https://evil.example", None, 403, "a foreign page");

    let mut alice_socket = open(&url, &page_origin);
    // The ticket was spent by that connect: the same URL again opens nothing.
    assert_refused(&url, &page_origin, None, 403, "a replayed ticket");
    assert_eq!(post(&app, &alice, "/count"), 2);
    assert_eq!(
        next(&mut alice_socket),
        json!({"count": 2}),
        "a Count reaches the socket"
    );

    // A second tab of alice's follows too, and a count sent on either socket reaches both.
    let mut alice_tab = open_for(&app, &alice, &page_origin);
    send(&mut alice_socket, &json!({"action": "count"}));
    assert_eq!(next(&mut alice_socket), json!({"count": 3}));
    assert_eq!(
        next(&mut alice_tab),
        json!({"count": 3}),
        "the other tab hears it"
    );
    assert_eq!(state(&app, &alice).0, 3, "and it is what the page shows");

    // A second browser: its own session, its own socket.
    let bob = agent(10);
    assert_eq!(post(&app, &bob, "/count"), 1);
    let mut bob_socket = open_for(&app, &bob, &page_origin);
    assert_eq!(post(&app, &alice, "/count"), 4);
    assert_eq!(next(&mut alice_socket), json!({"count": 4}));
    assert_eq!(next(&mut alice_tab), json!({"count": 4}));
    assert_eq!(post(&app, &bob, "/count"), 2);
    assert_eq!(
        next(&mut bob_socket),
        json!({"count": 2}),
        "bob's socket saw alice's count first"
    );

    // Something that is not a count is answered, not obeyed.
    send(&mut bob_socket, &json!({"action": "explode"}));
    assert_eq!(
        next(&mut bob_socket),
        json!({"error": "send {\"action\": \"count\"}"})
    );
    assert_eq!(state(&app, &bob).0, 2);

    // Reset starts alice's session over under a new id: her old sockets are closed, hear
    // nothing of the new session, and a fresh ticket follows the new one.
    assert_eq!(post(&app, &alice, "/reset"), 0);
    for socket in [&mut alice_socket, &mut alice_tab] {
        assert_closed(socket);
    }
    let mut alice_socket = open_for(&app, &alice, &page_origin);
    let alice_tab = open_for(&app, &alice, &page_origin);
    assert_eq!(post(&app, &alice, "/count"), 1);
    assert_eq!(next(&mut alice_socket), json!({"count": 1}));

    info_close_and_gone(&ws, &alice, alice_socket, alice_tab);
    let log = app.gateway_log();
    assert!(
        log.contains("$disconnect"),
        "the gateway logs its disconnects:\n{log}"
    );
    assert!(
        !log.contains("ticket=t1."),
        "tickets stay out of the gateway's log:\n{log}"
    );
}

/// `ws::info`, `ws::close` and `ws::send` through the gateway's real management API, as the
/// HTTP routes reach it (`ARC_WSS_URL`): a connection's details, a close the socket sees, and
/// `Error::Gone` for a connection that has closed.
fn info_close_and_gone(ws: &str, browser: &Agent, mut first: Socket, mut second: Socket) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let client = arc_functions::ws::Client::new(ws.replace("ws://", "http://"));
    let connections = |browser: &Agent| {
        let cookie = session_cookie(browser);
        runtime.block_on(connections_of(&cookie))
    };
    let before = connections(browser);
    assert_eq!(
        before.len(),
        2,
        "alice's two sockets are recorded: {before:?}"
    );
    for id in &before {
        let info = runtime
            .block_on(client.info(id))
            .expect("an open connection's info");
        assert_eq!(info.source_ip.as_deref(), Some("127.0.0.1"), "{info:?}");
        assert!(info.connected_at.is_some(), "{info:?}");
    }

    second.close(None).expect("close");
    // Drain until the gateway answers the close.
    while second.read().is_ok() {}
    let closed = wait_for(|| {
        let now = connections(browser);
        (now.len() == 1).then(|| before.iter().find(|id| !now.contains(id)).cloned())?
    });
    let sent = runtime.block_on(client.send(&closed, "anyone there?"));
    assert!(
        matches!(&sent, Err(arc_functions::ws::Error::Gone { connection_id }) if *connection_id == closed),
        "{sent:?}"
    );

    // The other one, closed from the server side: the socket sees the close, and its records go.
    let open = before
        .into_iter()
        .find(|id| *id != closed)
        .expect("one left");
    runtime.block_on(client.close(&open)).expect("closed");
    loop {
        match first.read() {
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        }
    }
    wait_for(|| connections(browser).is_empty().then_some(()));
    assert!(matches!(
        runtime.block_on(client.info(&open)),
        Err(arc_functions::ws::Error::Gone { .. })
    ));
}

/// Polls `ready` until it has a value: the gateway's `$disconnect` runs after the close.
fn wait_for<T>(mut ready: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + MESSAGE_TIMEOUT;
    loop {
        if let Some(value) = ready() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "still waiting after {MESSAGE_TIMEOUT:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The connections dynalite holds for the session behind `cookie`, read as a function would.
async fn connections_of(cookie: &str) -> Vec<String> {
    use arc_functions::config::Config;
    use arc_functions::http::session::SessionStore;
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", common::TEST_SECRET),
        ("SESSION_TABLE_NAME", SESSION_TABLE),
    ])
    .expect("config");
    let store = SessionStore::new(&config);
    let request = lambda_http_request(cookie);
    let session = store.read(&request).await.expect("read");
    store.connections(&session).await.expect("listed")
}

fn lambda_http_request(cookie: &str) -> lambda_http::Request {
    lambda_http::http::Request::builder()
        .header("cookie", format!("_idx={cookie}"))
        .body(lambda_http::Body::Empty)
        .expect("a request")
}

/// Submits the form at `path` as the page does and returns the count on the page it lands on.
fn post(app: &App, browser: &Agent, path: &str) -> u64 {
    let response = browser
        .post(app.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .send("")
        .expect("POST");
    assert_eq!(response.status().as_u16(), 200, "POST {path}");
    count_on(&body(response))
}

/// What the page asks its own URL for to reconnect: the count now and a socket URL with a
/// fresh ticket (none without a session).
fn state(app: &App, browser: &Agent) -> (u64, Option<String>) {
    let response = browser
        .get(app.url("/"))
        .header("accept", "application/json")
        .call()
        .expect("GET / as JSON");
    let state: Value = serde_json::from_str(&body(response)).expect("JSON");
    let count = state["count"].as_u64().expect("a count");
    (count, state["socket"].as_str().map(str::to_owned))
}

/// A socket for `browser`'s session, opened as the page does: a fresh socket URL, from the
/// page's origin.
fn open_for(app: &App, browser: &Agent, origin: &str) -> Socket {
    let (_, url) = state(app, browser);
    open(&url.expect("a session has a socket URL"), origin)
}

/// The upgrade a page of `origin` makes to `url`, with `cookie` when given.
fn upgrade(
    url: &str,
    origin: &str,
    cookie: Option<&str>,
) -> tungstenite::handshake::client::Request {
    let mut request = url.into_client_request().expect("a WebSocket request");
    let headers = request.headers_mut();
    headers.insert("origin", origin.parse().expect("a header value"));
    if let Some(cookie) = cookie {
        headers.insert("cookie", cookie.parse().expect("a header value"));
    }
    request
}

/// A socket to `url` from a page of `origin`, as the page's `new WebSocket(url)` opens it:
/// no cookie, since the socket is on another host than the page.
fn open(url: &str, origin: &str) -> Socket {
    let (mut socket, response) =
        tungstenite::connect(upgrade(url, origin, None)).expect("connected");
    assert_eq!(response.status(), 101);
    if let MaybeTlsStream::Plain(stream) = socket.get_mut() {
        stream
            .set_read_timeout(Some(MESSAGE_TIMEOUT))
            .expect("a read timeout");
    }
    socket
}

fn assert_refused(url: &str, origin: &str, cookie: Option<&str>, status: u16, what: &str) {
    match tungstenite::connect(upgrade(url, origin, cookie)) {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), status, "{what}");
        }
        other => panic!("{what} was not refused: {:?}", other.map(|_| ())),
    }
}

/// Reads until the server's close frame: the socket was closed from the server side.
fn assert_closed(socket: &mut Socket) {
    loop {
        match socket.read() {
            Ok(Message::Close(_)) => return,
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(other) => panic!("a closing socket heard {other:?}"),
            Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => return,
            Err(e) => panic!("no close frame: {e}"),
        }
    }
}

fn send(socket: &mut Socket, message: &Value) {
    socket
        .send(Message::text(message.to_string()))
        .expect("sent");
}

/// The next text frame, as JSON.
fn next(socket: &mut Socket) -> Value {
    loop {
        match socket.read().expect("a message before the timeout") {
            Message::Text(text) => return serde_json::from_str(&text).expect("JSON"),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected frame {other:?}"),
        }
    }
}

fn session_cookie(browser: &Agent) -> String {
    let jar = browser.cookie_jar_lock();
    let value = jar
        .iter()
        .find(|cookie| cookie.name() == "_idx")
        .map(|cookie| cookie.value().to_owned());
    value.expect("the browser holds an _idx cookie")
}

/// The number in the page's `Count N` button.
fn count_on(page: &str) -> u64 {
    let at = page.find("Count ").expect("a Count button") + "Count ".len();
    page[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .expect("a number")
}
