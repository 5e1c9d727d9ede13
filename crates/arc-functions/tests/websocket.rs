//! The WebSocket handler wrapper against real API Gateway WebSocket events (tests/fixtures),
//! in both session modes; then what only DynamoDB mode has: connections tied to sessions,
//! and pushing to them.
//!
//! The DynamoDB half needs dynalite, as `tests/stores.rs` does (`scripts/test` starts it and
//! sets `ARC_TEST_DYNAMODB=1` and the AWS variables); without it those tests print that they
//! skipped. Sends go to a stand-in management API on loopback that answers 200, or 410
//! `GoneException` for the ids it is told are gone: the emulator's own tests and the
//! end-to-end tests in `tests/` cover the real emulator.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arc_functions::config::Config;
use arc_functions::http::session::{Session, SessionStore};
use arc_functions::http::{self, Handler as HttpHandler};
use arc_functions::ws::{self, EventType, Handler, Request, Response};
use serde_json::{Value, json};

mod support;

use support::{capture_logs, logged};

const CONNECT: &str = include_str!("fixtures/websocket_connect_request.json");
const CONNECT_WITHOUT_METHOD: &str =
    include_str!("fixtures/websocket_connect_without_method_request.json");
const DISCONNECT: &str = include_str!("fixtures/websocket_disconnect_request.json");
const MESSAGE: &str = include_str!("fixtures/websocket_message_request.json");
const SECRET: &str = "websocket-test secret of 32+ bytes";

const HTTP_FIXTURES: [(&str, &str); 9] = [
    ("apigw_v2", include_str!("fixtures/apigw_v2_request.json")),
    (
        "apigw_v2_minimal",
        include_str!("fixtures/apigw_v2_minimal_request.json"),
    ),
    (
        "apigw_v2_sam_local",
        include_str!("fixtures/apigw_v2_sam_local_request.json"),
    ),
    ("apigw_v1", include_str!("fixtures/apigw_v1_request.json")),
    (
        "apigw_v1_multi",
        include_str!("fixtures/apigw_v1_multi_value_request.json"),
    ),
    (
        "function_url",
        include_str!("fixtures/function_url_request.json"),
    ),
    ("alb", include_str!("fixtures/alb_request.json")),
    (
        "alb_multi",
        include_str!("fixtures/alb_multi_value_request.json"),
    ),
    ("sqs", include_str!("fixtures/sqs_event.json")),
];

fn config(vars: &[(&str, &str)]) -> Config {
    Config::from_vars(
        [("ARC_ENV", "testing"), ("ARC_APP_SECRET", SECRET)]
            .into_iter()
            .chain(vars.iter().copied()),
    )
    .expect("valid config")
}

fn cookie_store() -> Arc<SessionStore> {
    Arc::new(SessionStore::new(&config(&[])))
}

/// A real event, changed by `edit`.
fn event(fixture: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(fixture).expect("fixture is JSON");
    edit(&mut value);
    value.to_string()
}

/// The fixture's event for connection `id`.
fn on(fixture: &str, id: &str) -> String {
    event(fixture, |e| e["requestContext"]["connectionId"] = json!(id))
}

/// The fixtures' WebSocket API host, and so the socket's own origin.
const SOCKET_ORIGIN: &str = "https://asdfasdf.execute-api.us-west-2.amazonaws.com";

/// `$connect` for connection `id`, carrying `cookie` as the browser would from a page of the
/// socket's own origin.
fn connect_with(cookie: Option<&str>, id: &str) -> String {
    connect_from(Some(SOCKET_ORIGIN), cookie, None, id)
}

/// `$connect` for connection `id` from a page of `origin` (none: no `Origin` header), with
/// `cookie` and a socket `ticket` in the query string.
fn connect_from(
    origin: Option<&str>,
    cookie: Option<&str>,
    ticket: Option<&str>,
    id: &str,
) -> String {
    event(CONNECT_WITHOUT_METHOD, |e| {
        e["requestContext"]["connectionId"] = json!(id);
        let mut set = |name: &str, value: &str| {
            e["headers"][name] = json!(value);
            e["multiValueHeaders"][name] = json!([value]);
        };
        if let Some(cookie) = cookie {
            set("Cookie", cookie);
        }
        if let Some(origin) = origin {
            set("Origin", origin);
        }
        if let Some(ticket) = ticket {
            e["queryStringParameters"] = json!({ "ticket": ticket });
            e["multiValueQueryStringParameters"] = json!({ "ticket": [ticket] });
        }
    })
}

/// Echoes what the wrapper made of the event, and the session's `count`.
async fn echo(req: Request) -> ws::Result<Response> {
    let count = req.session.get::<u64>("count")?;
    Ok(Response::ok().reply(json!({
        "connection": req.connection_id,
        "route": req.route_key,
        "type": format!("{:?}", req.event_type),
        "body": format!("{:?}", req.body),
        "cookie": req.header("cookie"),
        "query": req.query.get("token"),
        "count": count,
    })))
}

async fn reply_of<F, Fut, E>(handler: &Handler<F>, payload: &str) -> Value
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response, E>>,
    E: Into<http::Error>,
{
    let text = handler.invoke(payload).await.expect("a WebSocket event");
    serde_json::from_str(&text).expect("the reply is JSON")
}

/// The JSON the handler put in its reply.
fn replied(reply: &Value) -> Value {
    serde_json::from_str(reply["body"].as_str().expect("a reply body")).expect("JSON reply")
}

/// A session cookie (`name=value`) for `data`, written by `store`.
async fn cookie_for(store: &SessionStore, data: Value) -> String {
    let session = Session::try_from(data).expect("an object");
    let set_cookie = store.write(&session).await.expect("written");
    set_cookie.split(';').next().expect("a pair").to_owned()
}

// ---------------------------------------------------------------------------------------------
// Both modes: events

#[tokio::test]
async fn every_websocket_fixture_is_read_as_its_event_type_and_route() {
    let handler = Handler::with_store(cookie_store(), echo);
    for (fixture, route, kind) in [
        (CONNECT, "$connect", "Connect"),
        (CONNECT_WITHOUT_METHOD, "$connect", "Connect"),
        (DISCONNECT, "$disconnect", "Disconnect"),
        (MESSAGE, "$default", "Message"),
    ] {
        let reply = reply_of(&handler, fixture).await;
        assert_eq!(reply["statusCode"], 200, "{route}");
        let seen = replied(&reply);
        assert_eq!(seen["route"], route);
        assert_eq!(seen["type"], kind);
        let expected: Value = serde_json::from_str(fixture).expect("JSON");
        assert_eq!(
            seen["connection"],
            expected["requestContext"]["connectionId"]
        );
    }
    let message = replied(&reply_of(&handler, MESSAGE).await);
    assert_eq!(
        message["body"],
        r#"Json(Object {"first_name": String("Jane"), "last_name": String("Doe")})"#
    );
}

#[tokio::test]
async fn a_websocket_event_is_never_taken_for_http_nor_the_reverse() {
    let ws = Handler::with_store(cookie_store(), echo);
    async fn page(_: http::Request) -> http::Result<http::Response> {
        Ok(http::Response::text("page"))
    }
    let http = HttpHandler::with_store(cookie_store(), page);
    for fixture in [CONNECT, CONNECT_WITHOUT_METHOD, DISCONNECT, MESSAGE] {
        assert!(http.invoke(fixture).await.is_err(), "HTTP took {fixture}");
        assert!(ws.invoke(fixture).await.is_ok());
    }
    for (name, fixture) in HTTP_FIXTURES {
        match ws.invoke(fixture).await {
            Err(ws::Error::NotWebSocket(why)) => {
                assert!(why.contains("requestContext"), "{name}: {why}")
            }
            other => panic!("{name} was taken for a WebSocket event: {other:?}"),
        }
    }
    for junk in [
        "[]",
        "null",
        "{}",
        r#"{"requestContext":{"connectionId":"a","routeKey":"$default","eventType":"GET"}}"#,
    ] {
        assert!(
            matches!(ws.invoke(junk).await, Err(ws::Error::NotWebSocket(_))),
            "{junk}"
        );
    }
}

#[tokio::test]
async fn message_bodies_are_json_text_or_bytes_and_connect_carries_headers_and_query() {
    let handler = Handler::with_store(cookie_store(), echo);
    let body = |b: Value, base64: bool| {
        event(MESSAGE, |e| {
            e["body"] = b;
            e["isBase64Encoded"] = json!(base64);
        })
    };
    let seen = |payload: String| {
        let handler = &handler;
        async move { replied(&reply_of(handler, &payload).await)["body"].clone() }
    };
    assert_eq!(
        seen(body(json!("not json"), false)).await,
        r#"Text("not json")"#
    );
    assert_eq!(seen(body(json!("AAE="), true)).await, "Binary([0, 1])");
    assert_eq!(seen(body(Value::Null, false)).await, "Empty");
    assert_eq!(seen(body(json!("42"), false)).await, "Json(Number(42))");

    let connect = event(CONNECT_WITHOUT_METHOD, |e| {
        e["headers"]["Cookie"] = json!("a=b");
        e["queryStringParameters"] = json!({"token": "t1"});
        e["multiValueQueryStringParameters"] = json!({"token": ["t1", "t2"]});
    });
    let seen = replied(&reply_of(&handler, &connect).await);
    assert_eq!(seen["cookie"], "a=b");
    assert_eq!(seen["query"], "t1");
}

#[tokio::test]
async fn connect_is_refused_by_any_status_outside_2xx_and_replies_are_delivered_as_given() {
    async fn choose(req: Request) -> ws::Result<Response> {
        Ok(match req.header("sec-websocket-key") {
            Some(_) => Response::status(401),
            _ => Response::ok().reply(vec![0u8, 255]),
        })
    }
    let handler = Handler::with_store(cookie_store(), choose);
    let refused = reply_of(&handler, CONNECT).await;
    assert_eq!(refused, json!({"statusCode": 401}));
    let binary = reply_of(&handler, MESSAGE).await;
    assert_eq!(
        binary,
        json!({"statusCode": 200, "body": "AP8=", "isBase64Encoded": true})
    );
}

#[tokio::test]
async fn handler_errors_and_panics_are_a_bare_500_and_the_handler_lives_on() {
    async fn fails(req: Request) -> ws::Result<Response> {
        match req.event_type {
            EventType::Connect => Err("secret detail".into()),
            EventType::Message => panic!("secret panic"),
            EventType::Disconnect => Ok(Response::ok()),
        }
    }
    let handler = Handler::with_store(cookie_store(), fails);
    assert_eq!(
        reply_of(&handler, CONNECT).await,
        json!({"statusCode": 500})
    );
    assert_eq!(
        reply_of(&handler, MESSAGE).await,
        json!({"statusCode": 500})
    );
    assert_eq!(
        reply_of(&handler, DISCONNECT).await,
        json!({"statusCode": 200})
    );
}

// ---------------------------------------------------------------------------------------------
// Cookie mode: the session on `$connect` only

#[tokio::test]
async fn cookie_mode_reads_the_session_on_connect_only_and_cannot_write_one() {
    let store = cookie_store();
    let cookie = cookie_for(&store, json!({"count": 3})).await;
    let handler = Handler::with_store(Arc::clone(&store), echo);
    let connect = reply_of(&handler, &connect_with(Some(&cookie), "c1")).await;
    assert_eq!(connect["statusCode"], 200);
    assert_eq!(replied(&connect)["count"], 3);
    // API Gateway sends no cookie after the upgrade, and nothing is kept server-side.
    let message = reply_of(&handler, &on(MESSAGE, "c1")).await;
    assert_eq!(replied(&message)["count"], Value::Null);
    assert!(!store.keeps_connections());
    assert!(
        store
            .connections(&Session::new())
            .await
            .expect("none")
            .is_empty()
    );

    async fn writes(_: Request) -> ws::Result<Response> {
        Ok(Response::ok().session(json!({"count": 9})))
    }
    let writer = Handler::with_store(store, writes);
    assert_eq!(
        reply_of(&writer, &on(MESSAGE, "c1")).await,
        json!({"statusCode": 500})
    );
    assert_eq!(
        reply_of(&writer, &connect_with(Some(&cookie), "c2")).await,
        json!({"statusCode": 500}),
        "a connection whose session cannot be written is refused"
    );
}

// ---------------------------------------------------------------------------------------------
// DynamoDB mode: connections tied to sessions

fn dynamodb_available() -> bool {
    if std::env::var("ARC_TEST_DYNAMODB").is_ok_and(|v| v == "1") {
        return true;
    }
    eprintln!("SKIPPED: DynamoDB tests need a local DynamoDB; run scripts/test");
    false
}

/// A DynamoDB-mode store on a fresh table, and the raw client to look at the table.
async fn dynamodb_store(
    vars: &[(&str, &str)],
) -> (Arc<SessionStore>, aws_sdk_dynamodb::Client, String) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let table = format!(
        "ws-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let client = aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await);
    support::create_session_table(&client, &table).await;
    let vars: Vec<(&str, &str)> = [("SESSION_TABLE_NAME", table.as_str())]
        .into_iter()
        .chain(vars.iter().copied())
        .collect();
    let store =
        SessionStore::with_dynamodb_client(&config(&vars), client.clone()).expect("DynamoDB mode");
    (Arc::new(store), client, table)
}

/// The session a cookie opens.
async fn session_of(store: &SessionStore, cookie: &str) -> Session {
    let request = lambda_http::http::Request::builder()
        .header("cookie", cookie)
        .body(lambda_http::Body::Empty)
        .expect("request");
    store.read(&request).await.expect("read")
}

/// The connections tied to the session `cookie` brings.
async fn connections_of(store: &SessionStore, cookie: &str) -> Vec<String> {
    let session = session_of(store, cookie).await;
    store.connections(&session).await.expect("listed")
}

/// Counts over the socket, as the example's `ws-default` does.
async fn count_over_socket(req: Request) -> ws::Result<Response> {
    match req.event_type {
        EventType::Message => {
            let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
            let mut session = req.session;
            session.insert("count", count)?;
            Ok(Response::ok()
                .reply(json!({ "count": count }))
                .session(session))
        }
        _ => Ok(Response::ok()),
    }
}

#[tokio::test]
async fn dynamodb_a_connection_sees_the_live_session_and_http_sees_what_it_writes() {
    if !dynamodb_available() {
        return;
    }
    let (store, _, _) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    let echo = Handler::with_store(Arc::clone(&store), echo);
    let counter = Handler::with_store(Arc::clone(&store), count_over_socket);

    assert_eq!(
        reply_of(&echo, &connect_with(Some(&cookie), "c1")).await["statusCode"],
        200
    );
    assert_eq!(connections_of(&store, &cookie).await, ["c1"]);
    assert_eq!(
        replied(&reply_of(&echo, &on(MESSAGE, "c1")).await)["count"],
        1
    );

    // HTTP writes; the socket's next event reads it, not a copy taken at `$connect`.
    let mut session = session_of(&store, &cookie).await;
    session.insert("count", 5).expect("insert");
    store.write(&session).await.expect("written");
    assert_eq!(
        replied(&reply_of(&echo, &on(MESSAGE, "c1")).await)["count"],
        5
    );

    // The socket writes; HTTP's next read sees it.
    assert_eq!(
        replied(&reply_of(&counter, &on(MESSAGE, "c1")).await)["count"],
        6
    );
    assert_eq!(
        session_of(&store, &cookie)
            .await
            .get::<u64>("count")
            .expect("n"),
        Some(6)
    );

    // `$disconnect` forgets the connection.
    assert_eq!(
        reply_of(&echo, &on(DISCONNECT, "c1")).await["statusCode"],
        200
    );
    assert!(connections_of(&store, &cookie).await.is_empty());
    assert_eq!(
        replied(&reply_of(&echo, &on(MESSAGE, "c1")).await)["count"],
        Value::Null
    );
}

#[tokio::test]
async fn dynamodb_sessions_keep_their_own_connections_and_refused_ones_are_not_kept() {
    if !dynamodb_available() {
        return;
    }
    let (store, _, _) = dynamodb_store(&[]).await;
    let alice = cookie_for(&store, json!({"count": 10})).await;
    let bob = cookie_for(&store, json!({"count": 20})).await;
    async fn only_with_session(req: Request) -> ws::Result<Response> {
        if req.event_type == EventType::Connect && req.session.is_empty() {
            return Ok(Response::status(403));
        }
        echo(req).await
    }
    let handler = Handler::with_store(Arc::clone(&store), only_with_session);
    for (cookie, id) in [(&alice, "a1"), (&alice, "a2"), (&bob, "b1")] {
        assert_eq!(
            reply_of(&handler, &connect_with(Some(cookie), id)).await["statusCode"],
            200
        );
    }
    assert_eq!(
        reply_of(&handler, &connect_with(None, "x1")).await["statusCode"],
        403
    );
    assert_eq!(
        reply_of(&handler, &connect_with(Some("_idx=forged.sig"), "x2")).await["statusCode"],
        403
    );

    assert_eq!(connections_of(&store, &alice).await, ["a1", "a2"]);
    assert_eq!(connections_of(&store, &bob).await, ["b1"]);
    assert_eq!(
        replied(&reply_of(&handler, &on(MESSAGE, "a2")).await)["count"],
        10
    );
    assert_eq!(
        replied(&reply_of(&handler, &on(MESSAGE, "b1")).await)["count"],
        20
    );
    // A refused connection reads no session later on either.
    assert_eq!(
        replied(&reply_of(&handler, &on(MESSAGE, "x1")).await)["count"],
        Value::Null
    );

    reply_of(&handler, &on(DISCONNECT, "a1")).await;
    assert_eq!(connections_of(&store, &alice).await, ["a2"]);
    assert_eq!(connections_of(&store, &bob).await, ["b1"]);
}

#[tokio::test]
async fn dynamodb_a_connection_without_a_session_is_tied_to_the_first_one_it_writes() {
    if !dynamodb_available() {
        return;
    }
    let (store, _, _) = dynamodb_store(&[]).await;
    let counter = Handler::with_store(Arc::clone(&store), count_over_socket);
    assert_eq!(
        reply_of(&counter, &connect_with(None, "n1")).await["statusCode"],
        200
    );
    assert_eq!(
        replied(&reply_of(&counter, &on(MESSAGE, "n1")).await)["count"],
        1
    );
    assert_eq!(
        replied(&reply_of(&counter, &on(MESSAGE, "n1")).await)["count"],
        2
    );
    // Another connection without a session starts its own.
    reply_of(&counter, &connect_with(None, "n2")).await;
    assert_eq!(
        replied(&reply_of(&counter, &on(MESSAGE, "n2")).await)["count"],
        1
    );
    assert_eq!(
        replied(&reply_of(&counter, &on(MESSAGE, "n1")).await)["count"],
        3
    );
}

#[tokio::test]
async fn dynamodb_a_session_destroyed_or_regenerated_over_the_socket_moves_the_tie() {
    if !dynamodb_available() {
        return;
    }
    let (store, client, table) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    async fn act(req: Request) -> ws::Result<Response> {
        let action = req
            .body
            .json()
            .and_then(|b| b["action"].as_str())
            .map(str::to_owned);
        let mut session = req.session;
        match action.as_deref() {
            Some("regenerate") => {
                session.regenerate();
                Ok(Response::ok().session(session))
            }
            Some("destroy") => {
                session.destroy();
                Ok(Response::ok().session(session))
            }
            _ => Ok(Response::ok().reply(json!({"count": session.get::<u64>("count")?}))),
        }
    }
    let handler = Handler::with_store(Arc::clone(&store), act);
    let say = |action: &str| {
        event(MESSAGE, |e| {
            e["requestContext"]["connectionId"] = json!("r1");
            e["body"] = json!(json!({"action": action}).to_string());
        })
    };
    reply_of(&handler, &connect_with(Some(&cookie), "r1")).await;
    assert_eq!(
        reply_of(&handler, &say("regenerate")).await["statusCode"],
        200
    );
    // The old cookie opens nothing; the connection follows the session to its new record, and
    // has left the old session's list, so a push to the old id cannot reach it.
    assert!(session_of(&store, &cookie).await.is_empty());
    let old_id = cookie
        .split_once('=')
        .and_then(|(_, value)| value.split_once('.'))
        .map(|(id, _)| id.to_owned())
        .expect("an id.signature cookie");
    let old_index = client
        .get_item()
        .table_name(&table)
        .key(
            "_idx",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("ws-session#{old_id}")),
        )
        .send()
        .await
        .expect("read")
        .item
        .unwrap_or_default();
    assert!(!old_index.contains_key("ws#r1"), "{old_index:?}");
    assert_eq!(replied(&reply_of(&handler, &say("read")).await)["count"], 1);
    assert_eq!(reply_of(&handler, &say("destroy")).await["statusCode"], 200);
    assert_eq!(
        replied(&reply_of(&handler, &say("read")).await)["count"],
        Value::Null
    );
}

#[tokio::test]
async fn dynamodb_connection_records_expire_on_their_own() {
    if !dynamodb_available() {
        return;
    }
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    let (store, client, table) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 7})).await;
    let handler = Handler::with_store(Arc::clone(&store), echo);
    reply_of(&handler, &connect_with(Some(&cookie), "e1")).await;
    reply_of(&handler, &connect_with(Some(&cookie), "e2")).await;

    let record = client
        .get_item()
        .table_name(&table)
        .key("_idx", S("ws#e1".into()))
        .send()
        .await
        .expect("read")
        .item
        .expect("a connection record");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let N(ttl) = &record["_ttl"] else {
        panic!("_ttl is a number")
    };
    let ttl: u64 = ttl.parse().expect("seconds");
    assert!(
        (now + 7100..=now + 7300).contains(&ttl),
        "two hours, API Gateway's limit: {ttl}"
    );

    // DynamoDB deletes expired items days late: reads must not wait for it.
    let past = now - 1;
    set_number(&client, &table, "ws#e1", "_ttl", past).await;
    assert_eq!(
        replied(&reply_of(&handler, &on(MESSAGE, "e1")).await)["count"],
        Value::Null
    );
    assert_eq!(
        replied(&reply_of(&handler, &on(MESSAGE, "e2")).await)["count"],
        7
    );

    assert_eq!(connections_of(&store, &cookie).await, ["e1", "e2"]);
    let items = client
        .scan()
        .table_name(&table)
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    let index_key = items
        .iter()
        .filter_map(|item| match &item["_idx"] {
            S(key) if key.starts_with("ws-session#") => Some(key.clone()),
            _ => None,
        })
        .next()
        .expect("the session's connection list");
    set_number(&client, &table, &index_key, "ws#e2", past).await;
    assert_eq!(connections_of(&store, &cookie).await, ["e1"]);

    // An entry of a connection that ended without $disconnect is cleared from the item by the
    // next connection tied to the session, so the item does not grow with them.
    reply_of(&handler, &connect_with(Some(&cookie), "e3")).await;
    let index = client
        .get_item()
        .table_name(&table)
        .key("_idx", S(index_key.clone()))
        .send()
        .await
        .expect("read")
        .item
        .expect("the index");
    assert!(!index.contains_key("ws#e2"), "{index:?}");
    assert!(
        index.contains_key("ws#e1") && index.contains_key("ws#e3"),
        "{index:?}"
    );
    assert_eq!(connections_of(&store, &cookie).await, ["e1", "e3"]);
}

/// Sets the number attribute `name` of the item `key`, as time passing would matter to it.
async fn set_number(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &str,
    name: &str,
    value: u64,
) {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    client
        .update_item()
        .table_name(table)
        .key("_idx", S(key.to_owned()))
        .update_expression("SET #name = :value")
        .expression_attribute_names("#name", name)
        .expression_attribute_values(":value", N(value.to_string()))
        .send()
        .await
        .expect("updated");
}

// ---------------------------------------------------------------------------------------------
// Pushing to connections

/// Every call the stand-in received: method, decoded path, body.
type Calls = Arc<Mutex<Vec<(String, String, String)>>>;

/// A stand-in management API on loopback: records every call, answers 410 `GoneException`
/// for the ids in `gone`, 403 for ids starting `denied` (a role without
/// `execute-api:ManageConnections`), 200 otherwise.
struct ManagementApi {
    url: String,
    calls: Calls,
}

async fn management_api(gone: &[&str]) -> ManagementApi {
    use axum::extract::State;
    use axum::response::IntoResponse;
    let gone: Arc<HashSet<String>> = Arc::new(gone.iter().map(|s| s.to_string()).collect());
    let calls: Calls = Arc::default();
    let state = (Arc::clone(&calls), gone);
    let app = axum::Router::new().fallback(
        |State((calls, gone)): State<(Calls, Arc<HashSet<String>>)>,
         method: axum::http::Method,
         uri: axum::http::Uri,
         body: String| async move {
            let path = percent_encoding::percent_decode_str(uri.path())
                .decode_utf8_lossy()
                .into_owned();
            calls
                .lock()
                .expect("calls")
                .push((method.to_string(), path.clone(), body));
            let id = path.rsplit('/').next().unwrap_or_default();
            if gone.contains(id) {
                let gone = [("x-amzn-ErrorType", "GoneException")];
                (axum::http::StatusCode::GONE, gone, r#"{"message":null}"#).into_response()
            } else if id.starts_with("denied") {
                let denied = [("x-amzn-ErrorType", "ForbiddenException")];
                (
                    axum::http::StatusCode::FORBIDDEN,
                    denied,
                    r#"{"message":"Forbidden"}"#,
                )
                    .into_response()
            } else {
                axum::http::StatusCode::OK.into_response()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app.with_state(state)).await });
    ManagementApi { url, calls }
}

#[tokio::test]
async fn dynamodb_push_reaches_every_connection_of_the_session_and_forgets_gone_ones() {
    if !dynamodb_available() {
        return;
    }
    let api = management_api(&["p2"]).await;
    let (store, _, table) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    let other = cookie_for(&store, json!({"count": 1})).await;
    let handler = Handler::with_store(Arc::clone(&store), echo);
    for (cookie, id) in [
        (&cookie, "p1"),
        (&cookie, "p2"),
        (&cookie, "p3"),
        (&other, "q1"),
    ] {
        reply_of(&handler, &connect_with(Some(cookie), id)).await;
    }

    async fn count(req: http::Request) -> http::Result<http::Response> {
        let listed = req.connections().await?;
        let delivered = req.push(json!({"count": 2})).await?;
        Ok(http::Response::json(
            &json!({"listed": listed, "delivered": delivered}),
        ))
    }
    // As a deployed function has it: the WebSocket API's URL, `ws://` for the loopback one.
    let wss_url = api.url.replace("http://", "ws://");
    let config = config(&[("SESSION_TABLE_NAME", &table), ("ARC_WSS_URL", &wss_url)]);
    let http = HttpHandler::with_store(Arc::clone(&store), count).with_config(&config);
    let request = event(include_str!("fixtures/apigw_v2_request.json"), |e| {
        e["cookies"] = json!([cookie]);
    });
    let reply: Value =
        serde_json::from_str(&http.invoke(&request).await.expect("served")).expect("JSON");
    let body: Value = serde_json::from_str(reply["body"].as_str().expect("body")).expect("JSON");
    assert_eq!(body, json!({"listed": ["p1", "p2", "p3"], "delivered": 2}));
    let mut calls = api.calls.lock().expect("calls").clone();
    calls.sort();
    let posted: Vec<_> = calls
        .iter()
        .map(|(m, p, b)| (m.as_str(), p.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        posted,
        [
            ("POST", "/@connections/p1", r#"{"count":2}"#),
            ("POST", "/@connections/p2", r#"{"count":2}"#),
            ("POST", "/@connections/p3", r#"{"count":2}"#),
        ]
    );
    // The gone one is forgotten; the other session's connection was never touched.
    assert_eq!(connections_of(&store, &cookie).await, ["p1", "p3"]);
    assert_eq!(connections_of(&store, &other).await, ["q1"]);
}

#[tokio::test]
async fn dynamodb_send_goes_through_the_events_own_api_and_gone_is_typed() {
    if !dynamodb_available() {
        return;
    }
    let api = management_api(&["gone-one"]).await;
    let (store, _, _) = dynamodb_store(&[]).await;
    async fn fan_out(req: Request) -> ws::Result<Response> {
        req.send("to myself").await?;
        ws::send("someone-else", json!({"hello": 1})).await?;
        let gone = ws::send("gone-one", "anyone?").await;
        let typed =
            matches!(&gone, Err(ws::Error::Gone { connection_id }) if connection_id == "gone-one");
        Ok(Response::ok().reply(json!({"gone is typed": typed})))
    }
    let handler = Handler::with_store(store, fan_out);
    let domain = api.url.trim_start_matches("http://").to_owned();
    let message = event(MESSAGE, |e| {
        e["requestContext"]["domainName"] = json!(domain);
        e["requestContext"]["stage"] = json!("local");
    });
    let reply = reply_of(&handler, &message).await;
    assert_eq!(replied(&reply), json!({"gone is typed": true}));
    let calls = api.calls.lock().expect("calls").clone();
    let posted: Vec<_> = calls
        .iter()
        .map(|(m, p, b)| (m.as_str(), p.as_str(), b.as_str()))
        .collect();
    assert_eq!(
        posted,
        [
            ("POST", "/local/@connections/SOqGjdZioAMCEeg=", "to myself"),
            ("POST", "/local/@connections/someone-else", r#"{"hello":1}"#),
            ("POST", "/local/@connections/gone-one", "anyone?"),
        ]
    );
}

#[tokio::test]
async fn push_without_arc_wss_url_says_what_to_set() {
    if !dynamodb_available() {
        return;
    }
    let (store, _, _) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    Handler::with_store(Arc::clone(&store), echo)
        .invoke(&connect_with(Some(&cookie), "w1"))
        .await
        .expect("connected");
    let request = lambda_http::http::Request::builder()
        .header("cookie", &cookie)
        .body(lambda_http::Body::Empty)
        .expect("request");
    async fn push(req: http::Request) -> http::Result<http::Response> {
        match req.push("x").await {
            Err(e @ ws::Error::NoEndpoint) => Ok(http::Response::text(e.to_string())),
            other => Ok(http::Response::text(format!("unexpected: {other:?}"))),
        }
    }
    let response = HttpHandler::with_store(store, push).handle(request).await;
    let lambda_http::Body::Text(text) = response.body() else {
        panic!("text")
    };
    assert!(text.contains("ARC_WSS_URL"), "{text}");
}

#[tokio::test]
async fn dynamodb_a_failed_push_never_fails_the_click_and_push_now_reports_it() {
    if !dynamodb_available() {
        return;
    }
    let api = management_api(&[]).await;
    let (store, _, table) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    let sockets = Handler::with_store(Arc::clone(&store), echo);
    for id in ["denied-1", "ok-1"] {
        sockets
            .invoke(&connect_with(Some(&cookie), id))
            .await
            .expect("connected");
    }
    let wss_url = api.url.replace("http://", "ws://");
    let config = config(&[("SESSION_TABLE_NAME", &table), ("ARC_WSS_URL", &wss_url)]);
    let request = event(include_str!("fixtures/apigw_v2_request.json"), |e| {
        e["cookies"] = json!([cookie]);
    });

    // After the write, best effort: the response is the handler's, the failure is logged.
    async fn count(req: http::Request) -> http::Result<http::Response> {
        let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
        Ok(http::Response::redirect("/")
            .session(json!({ "count": count }))
            .push(json!({ "count": count })))
    }
    let (logs, _guard) = capture_logs();
    let http = HttpHandler::with_store(Arc::clone(&store), count).with_config(&config);
    let reply: Value =
        serde_json::from_str(&http.invoke(&request).await.expect("served")).expect("JSON");
    assert_eq!(reply["statusCode"], 302);
    assert_eq!(
        session_of(&store, &cookie)
            .await
            .get::<u64>("count")
            .expect("n"),
        Some(2)
    );
    let log = logged(&logs);
    assert!(
        log.contains("pushing to the session's WebSocket connections failed"),
        "{log}"
    );
    assert!(log.contains("PostToConnection"), "{log}");
    let posted: Vec<_> = api
        .calls
        .lock()
        .expect("calls")
        .iter()
        .map(|(_, p, b)| (p.clone(), b.clone()))
        .collect();
    assert!(
        posted.contains(&("/@connections/ok-1".into(), r#"{"count":2}"#.into())),
        "{posted:?}"
    );

    // Now: the error comes back, the healthy connection still got it, and neither is forgotten.
    async fn push_now(req: http::Request) -> http::Result<http::Response> {
        Ok(match req.push("now").await {
            Err(ws::Error::Api { operation, .. }) => http::Response::text(operation),
            other => http::Response::text(format!("unexpected: {other:?}")),
        })
    }
    let http = HttpHandler::with_store(Arc::clone(&store), push_now).with_config(&config);
    let reply: Value =
        serde_json::from_str(&http.invoke(&request).await.expect("served")).expect("JSON");
    assert_eq!(reply["body"], "PostToConnection");
    assert!(
        api.calls
            .lock()
            .expect("calls")
            .iter()
            .any(|(_, p, b)| p == "/@connections/ok-1" && b == "now")
    );
    assert_eq!(connections_of(&store, &cookie).await, ["denied-1", "ok-1"]);
}

#[tokio::test]
async fn dynamodb_disconnect_after_the_sessions_list_expired_is_quiet() {
    if !dynamodb_available() {
        return;
    }
    use aws_sdk_dynamodb::types::AttributeValue::S;
    let (store, client, table) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    let handler = Handler::with_store(Arc::clone(&store), echo);
    handler
        .invoke(&connect_with(Some(&cookie), "x1"))
        .await
        .expect("connected");
    // DynamoDB's TTL deleted the session's connection list, not yet the connection's record.
    let items = client
        .scan()
        .table_name(&table)
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    for item in items {
        if let Some(S(key)) = item.get("_idx")
            && key.starts_with("ws-session#")
        {
            client
                .delete_item()
                .table_name(&table)
                .key("_idx", S(key.clone()))
                .send()
                .await
                .expect("deleted");
        }
    }
    let (logs, _guard) = capture_logs();
    assert_eq!(
        reply_of(&handler, &on(DISCONNECT, "x1")).await["statusCode"],
        200
    );
    let log = logged(&logs);
    assert!(!log.contains("failed"), "{log}");
    // And no list item was brought back empty, to outlive its session forever.
    let items = client
        .scan()
        .table_name(&table)
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    let keys: Vec<_> = items
        .iter()
        .filter_map(|i| match i.get("_idx") {
            Some(S(k)) => Some(k.clone()),
            _ => None,
        })
        .collect();
    assert!(keys.iter().all(|k| !k.starts_with("ws")), "{keys:?}");
}

#[tokio::test]
async fn dynamodb_connect_ties_only_when_accepted_and_follows_a_session_it_writes() {
    if !dynamodb_available() {
        return;
    }
    let (store, _, _) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 4})).await;
    async fn gatekeeper(req: Request) -> ws::Result<Response> {
        match (req.event_type, req.query.get("door")) {
            // Refused, though the browser has a session.
            (EventType::Connect, Some("shut")) => Ok(Response::status(401)),
            // Accepted, starting a session for a browser that had none.
            (EventType::Connect, Some("new")) => Ok(Response::ok().session(json!({"count": 40}))),
            _ => echo(req).await,
        }
    }
    let handler = Handler::with_store(Arc::clone(&store), gatekeeper);
    let knock = |id: &str, cookie: Option<&str>, door: &str| {
        let connect = connect_with(cookie, id);
        let mut value: Value = serde_json::from_str(&connect).expect("JSON");
        value["queryStringParameters"] = json!({ "door": door });
        value["multiValueQueryStringParameters"] = json!({ "door": [door] });
        value.to_string()
    };
    assert_eq!(
        reply_of(&handler, &knock("s1", Some(&cookie), "shut")).await["statusCode"],
        401
    );
    assert!(connections_of(&store, &cookie).await.is_empty());
    assert_eq!(
        replied(&reply_of(&handler, &on(MESSAGE, "s1")).await)["count"],
        Value::Null
    );

    assert_eq!(
        reply_of(&handler, &knock("n1", None, "new")).await["statusCode"],
        200
    );
    assert_eq!(
        replied(&reply_of(&handler, &on(MESSAGE, "n1")).await)["count"],
        40
    );
}

// ---------------------------------------------------------------------------------------------
// Socket tickets, Origin, a session's cap, and sockets that follow the session they are about

const PAGE_ORIGIN: &str = "https://app.example.com";

/// The socket URL a page of `PAGE_ORIGIN` gets for the session behind `cookie` (an HTTP
/// handler's `req.socket_url()`, through an API Gateway v2 event), and its ticket.
async fn ticket_for(store: &Arc<SessionStore>, table: &str, cookie: &str) -> (String, String) {
    async fn page(req: http::Request) -> http::Result<http::Response> {
        Ok(http::Response::text(req.socket_url().unwrap_or_default()))
    }
    let config = config(&[
        ("SESSION_TABLE_NAME", table),
        ("ARC_WSS_URL", "wss://ws.example.com/production"),
    ]);
    let http = HttpHandler::with_store(Arc::clone(store), page).with_config(&config);
    let request = event(include_str!("fixtures/apigw_v2_request.json"), |e| {
        e["cookies"] = json!([cookie]);
        e["headers"]["host"] = json!("app.example.com");
        e["headers"]["x-forwarded-proto"] = json!("https");
    });
    let reply: Value =
        serde_json::from_str(&http.invoke(&request).await.expect("served")).expect("JSON");
    let url = reply["body"].as_str().expect("a body").to_owned();
    let ticket = url
        .strip_prefix("wss://ws.example.com/production?ticket=")
        .unwrap_or_else(|| panic!("a socket URL with a ticket: {url:?}"))
        .to_owned();
    (url, ticket)
}

/// A WebSocket handler whose endpoint is the stand-in management API at `api`.
fn handler_via<F, Fut>(
    store: &Arc<SessionStore>,
    api: &ManagementApi,
    vars: &[(&str, &str)],
    f: F,
) -> Handler<F>
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = ws::Result<Response>>,
{
    let vars: Vec<(&str, &str)> = [("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", api.url.as_str())]
        .into_iter()
        .chain(vars.iter().copied())
        .collect();
    Handler::with_store(Arc::clone(store), f).with_config(&config(&vars))
}

/// The management API calls received, as (method, path), sorted.
fn calls_of(api: &ManagementApi) -> Vec<(String, String)> {
    let mut calls: Vec<_> = api
        .calls
        .lock()
        .expect("calls")
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    calls.sort();
    calls
}

fn call(method: &str, connection: &str) -> (String, String) {
    (method.to_owned(), format!("/@connections/{connection}"))
}

#[tokio::test]
async fn dynamodb_a_ticket_ties_the_socket_once_and_only_from_its_origin() {
    if !dynamodb_available() {
        return;
    }
    let (store, _, table) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 5})).await;
    let handler = Handler::with_store(Arc::clone(&store), echo);
    let (logs, _guard) = capture_logs();

    // No cookie reaches the socket's host; the ticket alone names the session.
    let (url, ticket) = ticket_for(&store, &table, &cookie).await;
    assert!(
        ticket.starts_with("t1.") && !ticket.contains(['&', '#', '+', '/']),
        "{url}"
    );
    let reply = reply_of(
        &handler,
        &connect_from(Some(PAGE_ORIGIN), None, Some(&ticket), "t-1"),
    )
    .await;
    assert_eq!(reply["statusCode"], 200);
    let seen = replied(&reply);
    assert_eq!(seen["count"], 5);
    assert_eq!(
        seen["query"],
        Value::Null,
        "the ticket is not handed to the handler"
    );
    assert_eq!(connections_of(&store, &cookie).await, ["t-1"]);

    // Replayed: spent on first use.
    let replayed = reply_of(
        &handler,
        &connect_from(Some(PAGE_ORIGIN), None, Some(&ticket), "t-2"),
    )
    .await;
    assert_eq!(replied(&replayed)["count"], Value::Null);
    assert!(
        logged(&logs).contains("the ticket was already used"),
        "{}",
        logged(&logs)
    );

    // Another origin, or none: refused, and the ticket is not spent by it.
    let (_, fresh) = ticket_for(&store, &table, &cookie).await;
    for origin in [Some("https://evil.example"), None] {
        let reply = reply_of(&handler, &connect_from(origin, None, Some(&fresh), "t-3")).await;
        assert_eq!(replied(&reply)["count"], Value::Null, "{origin:?}");
    }
    assert!(logged(&logs).contains("the ticket was issued for another origin"));
    let reply = reply_of(
        &handler,
        &connect_from(Some(PAGE_ORIGIN), None, Some(&fresh), "t-4"),
    )
    .await;
    assert_eq!(
        replied(&reply)["count"],
        5,
        "the rightful page still connects"
    );

    // Tampered: one character changed.
    let (_, another) = ticket_for(&store, &table, &cookie).await;
    let mut tampered = another.into_bytes();
    let last = tampered.len() - 5;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).expect("ASCII");
    let reply = reply_of(
        &handler,
        &connect_from(Some(PAGE_ORIGIN), None, Some(&tampered), "t-5"),
    )
    .await;
    assert_eq!(replied(&reply)["count"], Value::Null);

    // A refused ticket never falls back to the cookie, even a good one of the socket's origin.
    let other = cookie_for(&store, json!({"count": 9})).await;
    let (_, bad_origin) = ticket_for(&store, &table, &cookie).await;
    let reply = reply_of(
        &handler,
        &connect_from(Some(SOCKET_ORIGIN), Some(&other), Some(&bad_origin), "t-6"),
    )
    .await;
    assert_eq!(replied(&reply)["count"], Value::Null);
    // A good ticket wins over another session's cookie: the socket follows the ticket's.
    let (_, good) = ticket_for(&store, &table, &cookie).await;
    let reply = reply_of(
        &handler,
        &connect_from(Some(PAGE_ORIGIN), Some(&other), Some(&good), "t-7"),
    )
    .await;
    assert_eq!(replied(&reply)["count"], 5);

    assert_eq!(connections_of(&store, &cookie).await, ["t-1", "t-4", "t-7"]);
    assert!(connections_of(&store, &other).await.is_empty());
    let log = logged(&logs);
    assert!(
        !log.contains(&ticket) && !log.contains(&fresh),
        "tickets stay out of logs"
    );
}

#[tokio::test]
async fn dynamodb_a_session_this_request_ends_gets_no_ticket() {
    if !dynamodb_available() {
        return;
    }
    let (store, _, table) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    async fn page(mut req: http::Request) -> http::Result<http::Response> {
        match req.query.get("then") {
            Some("regenerate") => req.session.regenerate(),
            Some("destroy") => req.session.destroy(),
            _ => {}
        }
        Ok(http::Response::text(
            req.socket_url().unwrap_or_else(|| "none".into()),
        ))
    }
    let config = config(&[
        ("SESSION_TABLE_NAME", &table),
        ("ARC_WSS_URL", "wss://ws.example.com/production"),
    ]);
    let http = HttpHandler::with_store(Arc::clone(&store), page).with_config(&config);
    for (then, ticket) in [("keep", true), ("regenerate", false), ("destroy", false)] {
        let request = event(include_str!("fixtures/apigw_v2_request.json"), |e| {
            e["cookies"] = json!([cookie]);
            e["headers"]["host"] = json!("app.example.com");
            e["rawQueryString"] = json!(format!("then={then}"));
            e["queryStringParameters"] = json!({ "then": then });
        });
        let reply: Value =
            serde_json::from_str(&http.invoke(&request).await.expect("served")).expect("JSON");
        let body = reply["body"].as_str().expect("a body");
        assert_eq!(body.contains("?ticket=t1."), ticket, "{then}: {body}");
    }
}

#[tokio::test]
async fn dynamodb_tickets_work_with_the_host_cookie_that_never_crosses_hosts() {
    if !dynamodb_available() {
        return;
    }
    let (store, _, table) = dynamodb_store(&[("ARC_SESSION_HOST_COOKIE", "true")]).await;
    let cookie = cookie_for(&store, json!({"count": 4})).await;
    assert!(cookie.starts_with("__Host-_idx="), "{cookie}");
    let (_, ticket) = ticket_for(&store, &table, &cookie).await;
    let handler = Handler::with_store(Arc::clone(&store), echo);
    let reply = reply_of(
        &handler,
        &connect_from(Some(PAGE_ORIGIN), None, Some(&ticket), "h-1"),
    )
    .await;
    assert_eq!(replied(&reply)["count"], 4);
    assert_eq!(connections_of(&store, &cookie).await, ["h-1"]);
}

#[tokio::test]
async fn dynamodb_a_ticket_of_a_session_that_ended_opens_nothing() {
    if !dynamodb_available() {
        return;
    }
    let (store, _, table) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    let (_, ticket) = ticket_for(&store, &table, &cookie).await;
    // Logged in meanwhile: the session moved to a new id.
    let mut session = session_of(&store, &cookie).await;
    session.regenerate();
    store.write(&session).await.expect("regenerated");
    let (logs, _guard) = capture_logs();
    let handler = Handler::with_store(Arc::clone(&store), echo);
    let reply = reply_of(
        &handler,
        &connect_from(Some(PAGE_ORIGIN), None, Some(&ticket), "e-1"),
    )
    .await;
    assert_eq!(replied(&reply)["count"], Value::Null);
    assert!(
        logged(&logs).contains("the ticket's session has ended"),
        "{}",
        logged(&logs)
    );

    // Cookie sessions: there is no record for a ticket to name.
    async fn page(req: http::Request) -> http::Result<http::Response> {
        Ok(http::Response::text(
            req.socket_url().unwrap_or_else(|| "none".into()),
        ))
    }
    let cookie_config = config(&[("ARC_WSS_URL", "wss://ws.example.com/production")]);
    let sealed = cookie_store();
    let sealed_cookie = cookie_for(&sealed, json!({"count": 1})).await;
    let request = lambda_http::http::Request::builder()
        .header("cookie", sealed_cookie)
        .header("host", "app.example.com")
        .body(lambda_http::Body::Empty)
        .expect("request");
    let response = HttpHandler::with_store(sealed, page)
        .with_config(&cookie_config)
        .handle(request)
        .await;
    assert_eq!(response.body(), &lambda_http::Body::from("none"));
}

#[tokio::test]
async fn dynamodb_a_foreign_origin_with_a_valid_cookie_is_never_tied_nor_pushed_to() {
    if !dynamodb_available() {
        return;
    }
    let api = management_api(&[]).await;
    let (store, _, table) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 3})).await;
    let (logs, _guard) = capture_logs();
    let sockets = handler_via(
        &store,
        &api,
        &[("ARC_WS_ORIGINS", "https://app.example.com")],
        echo,
    );
    for (origin, id) in [
        (Some("https://evil.example"), "f-evil"),
        (Some("https://app.example.com.evil.example"), "f-lookalike"),
        (None, "f-none"),
        (Some(SOCKET_ORIGIN), "f-own"),
        (Some(PAGE_ORIGIN), "f-listed"),
    ] {
        let reply = reply_of(&sockets, &connect_from(origin, Some(&cookie), None, id)).await;
        let expected = if id == "f-own" || id == "f-listed" {
            json!(3)
        } else {
            Value::Null
        };
        assert_eq!(replied(&reply)["count"], expected, "{id}");
    }
    assert_eq!(connections_of(&store, &cookie).await, ["f-listed", "f-own"]);
    let log = logged(&logs);
    assert!(
        log.contains("its cookie is not trusted: Origin https://evil.example is neither the socket's own nor one of ARC_WS_ORIGINS"),
        "{log}"
    );
    assert!(
        log.contains("its cookie is not trusted: the upgrade has no Origin"),
        "{log}"
    );
    assert!(!log.contains(&cookie), "the cookie stays out of logs");

    // A Count pushes to the session's connections: never to the foreign ones.
    async fn count(_req: http::Request) -> http::Result<http::Response> {
        Ok(http::Response::redirect("/")
            .session(json!({ "count": 4 }))
            .push(json!({ "count": 4 })))
    }
    let wss_url = api.url.replace("http://", "ws://");
    let http = HttpHandler::with_store(Arc::clone(&store), count).with_config(&config(&[
        ("SESSION_TABLE_NAME", &table),
        ("ARC_WSS_URL", &wss_url),
    ]));
    let request = event(include_str!("fixtures/apigw_v2_request.json"), |e| {
        e["cookies"] = json!([cookie]);
    });
    http.invoke(&request).await.expect("served");
    assert_eq!(
        calls_of(&api),
        [call("POST", "f-listed"), call("POST", "f-own")]
    );
}

#[tokio::test]
async fn dynamodb_after_regenerate_or_destroy_the_old_sessions_sockets_are_closed_and_hear_nothing()
{
    if !dynamodb_available() {
        return;
    }
    for action in ["regenerate", "destroy"] {
        let api = management_api(&[]).await;
        let (store, _, table) = dynamodb_store(&[]).await;
        let cookie = cookie_for(&store, json!({"count": 1})).await;
        let sockets = handler_via(&store, &api, &[], echo);
        for id in ["old-1", "old-2"] {
            reply_of(&sockets, &connect_with(Some(&cookie), id)).await;
        }
        assert_eq!(connections_of(&store, &cookie).await, ["old-1", "old-2"]);

        async fn login(mut req: http::Request) -> http::Result<http::Response> {
            let destroy = req.query.get("action") == Some("destroy");
            if destroy {
                req.session.destroy();
            } else {
                req.session.regenerate();
                req.session.insert("user", "ann")?;
            }
            // Pushed now: the old session's sockets must not hear it, the new one has none.
            let now = req.push(json!({"welcome": "ann"})).await?;
            Ok(http::Response::text(now.to_string())
                .session(req.session)
                .push(json!({"count": 0})))
        }
        let wss_url = api.url.replace("http://", "ws://");
        let http = HttpHandler::with_store(Arc::clone(&store), login).with_config(&config(&[
            ("SESSION_TABLE_NAME", &table),
            ("ARC_WSS_URL", &wss_url),
        ]));
        let request = event(include_str!("fixtures/apigw_v2_request.json"), |e| {
            e["cookies"] = json!([cookie]);
            e["rawQueryString"] = json!(format!("action={action}"));
            e["queryStringParameters"] = json!({ "action": action });
        });
        let reply: Value =
            serde_json::from_str(&http.invoke(&request).await.expect("served")).expect("JSON");
        assert_eq!(
            reply["body"], "0",
            "{action}: nothing pushed to the old session's sockets"
        );
        assert_eq!(
            calls_of(&api),
            [call("DELETE", "old-1"), call("DELETE", "old-2")],
            "{action}: the old sockets are closed, and hear nothing"
        );
        // Their records are gone: a late event of theirs reads no session.
        let late = reply_of(&sockets, &on(MESSAGE, "old-1")).await;
        assert_eq!(replied(&late)["count"], Value::Null, "{action}");
    }
}

#[tokio::test]
async fn dynamodb_a_session_keeps_its_cap_of_connections_closing_the_oldest() {
    if !dynamodb_available() {
        return;
    }
    let api = management_api(&[]).await;
    let (store, _, _) = dynamodb_store(&[("ARC_WS_MAX_CONNECTIONS", "2")]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    let other = cookie_for(&store, json!({"count": 1})).await;
    let sockets = handler_via(&store, &api, &[], echo);
    let (logs, _guard) = capture_logs();
    for id in ["cap-1", "cap-2"] {
        reply_of(&sockets, &connect_with(Some(&cookie), id)).await;
    }
    reply_of(&sockets, &connect_with(Some(&other), "cap-other")).await;
    assert!(
        calls_of(&api).is_empty(),
        "within the cap, nothing is closed"
    );
    let past_the_cap = "past ARC_WS_MAX_CONNECTIONS";
    assert!(!logged(&logs).contains(past_the_cap), "nor said to be");
    reply_of(&sockets, &connect_with(Some(&cookie), "cap-3")).await;
    assert_eq!(calls_of(&api), [call("DELETE", "cap-1")], "the oldest goes");
    assert!(logged(&logs).contains(past_the_cap), "and the log says why");
    assert_eq!(connections_of(&store, &cookie).await, ["cap-2", "cap-3"]);
    reply_of(&sockets, &connect_with(Some(&cookie), "cap-4")).await;
    assert_eq!(
        calls_of(&api),
        [call("DELETE", "cap-1"), call("DELETE", "cap-2")]
    );
    assert_eq!(connections_of(&store, &cookie).await, ["cap-3", "cap-4"]);
    assert_eq!(
        connections_of(&store, &other).await,
        ["cap-other"],
        "per session"
    );
    let closed = reply_of(&sockets, &on(MESSAGE, "cap-1")).await;
    assert_eq!(
        replied(&closed)["count"],
        Value::Null,
        "a closed one is forgotten"
    );
}

#[tokio::test]
async fn dynamodb_a_push_from_a_socket_reaches_every_tab_of_the_session() {
    if !dynamodb_available() {
        return;
    }
    let api = management_api(&[]).await;
    let (store, _, _) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    let other = cookie_for(&store, json!({"count": 1})).await;
    async fn count(req: Request) -> ws::Result<Response> {
        if req.event_type != EventType::Message {
            return Ok(Response::ok());
        }
        let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
        Ok(Response::ok()
            .session(json!({ "count": count }))
            .push(json!({ "count": count })))
    }
    let sockets = handler_via(&store, &api, &[], count);
    for (cookie, id) in [(&cookie, "tab-1"), (&cookie, "tab-2"), (&other, "tab-x")] {
        reply_of(&sockets, &connect_with(Some(cookie), id)).await;
    }
    let sent = event(MESSAGE, |e| {
        e["requestContext"]["connectionId"] = json!("tab-1");
        e["body"] = json!(r#"{"action":"count"}"#);
    });
    assert_eq!(reply_of(&sockets, &sent).await["statusCode"], 200);
    let posted: Vec<_> = api
        .calls
        .lock()
        .expect("calls")
        .iter()
        .map(|(m, p, b)| (m.clone(), p.clone(), b.clone()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        posted,
        [
            (
                "POST".into(),
                "/@connections/tab-1".into(),
                r#"{"count":2}"#.into()
            ),
            (
                "POST".into(),
                "/@connections/tab-2".into(),
                r#"{"count":2}"#.into()
            ),
        ]
    );
    assert_eq!(
        session_of(&store, &cookie)
            .await
            .get::<u64>("count")
            .expect("n"),
        Some(2)
    );
}

#[tokio::test]
async fn dynamodb_a_server_error_over_the_socket_writes_no_session() {
    if !dynamodb_available() {
        return;
    }
    let api = management_api(&[]).await;
    let (store, _, _) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    async fn half_done(req: Request) -> ws::Result<Response> {
        let status = req
            .body
            .json()
            .and_then(|b| b["status"].as_u64())
            .unwrap_or(200);
        Ok(Response::status(u16::try_from(status).unwrap_or(200))
            .session(json!({ "count": 100 }))
            .push(json!({ "count": 100 })))
    }
    let sockets = handler_via(&store, &api, &[], half_done);
    reply_of(&sockets, &connect_with(Some(&cookie), "x-1")).await;
    assert_eq!(
        session_of(&store, &cookie)
            .await
            .get::<u64>("count")
            .expect("n"),
        Some(100),
        "the control: $connect's 200 wrote it"
    );
    let mut stored = session_of(&store, &cookie).await;
    stored.clear();
    stored.insert("count", 1).expect("insert");
    store.write(&stored).await.expect("written back");
    api.calls.lock().expect("calls").clear();
    for status in [500, 503] {
        let sent = event(MESSAGE, |e| {
            e["requestContext"]["connectionId"] = json!("x-1");
            e["body"] = json!(json!({ "status": status }).to_string());
        });
        assert_eq!(reply_of(&sockets, &sent).await["statusCode"], status);
        assert_eq!(
            session_of(&store, &cookie)
                .await
                .get::<u64>("count")
                .expect("n"),
            Some(1),
            "{status} wrote the session"
        );
    }
    assert!(calls_of(&api).is_empty(), "and pushed nothing");
}

#[tokio::test]
async fn dynamodb_a_ticket_spent_against_an_unreachable_table_is_a_fault_not_a_replay() {
    if !dynamodb_available() {
        return;
    }
    let (store, _, table) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    let (_, ticket) = ticket_for(&store, &table, &cookie).await;
    // The same secret, a table that does not exist: the spend fails for real.
    let client = aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await);
    let missing = SessionStore::with_dynamodb_client(
        &config(&[("SESSION_TABLE_NAME", "no-such-table")]),
        client,
    )
    .expect("DynamoDB mode");
    let (logs, _guard) = capture_logs();
    let handler = Handler::with_store(Arc::new(missing), echo);
    let reply = reply_of(
        &handler,
        &connect_from(Some(PAGE_ORIGIN), None, Some(&ticket), "m-1"),
    )
    .await;
    assert_eq!(reply["statusCode"], 500, "{reply}");
    let log = logged(&logs);
    assert!(!log.contains("already used"), "{log}");
    assert!(log.contains("no-such-table"), "{log}");
}

#[tokio::test]
async fn dynamodb_a_failure_to_leave_a_sessions_list_is_reported_not_swallowed() {
    if !dynamodb_available() {
        return;
    }
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    let (store, client, table) = dynamodb_store(&[]).await;
    // A connection record naming a session whose list DynamoDB cannot address: its key would
    // pass the 2,048-byte limit on partition keys, so the update that leaves it fails.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    client
        .put_item()
        .table_name(&table)
        .item("_idx", S("ws#big-1".into()))
        .item("_session", S("s".repeat(2100)))
        .item("_ttl", N((now + 600).to_string()))
        .send()
        .await
        .expect("planted");
    let (logs, _guard) = capture_logs();
    let handler = Handler::with_store(Arc::clone(&store), echo);
    // Reading that session fails on the same limit (a 500); the connection is forgotten
    // whatever the handler answered, and that is what must report its failure.
    reply_of(&handler, &on(DISCONNECT, "big-1")).await;
    let log = logged(&logs);
    assert!(
        log.contains("forgetting a closed connection failed"),
        "{log}"
    );
}

// ---------------------------------------------------------------------------------------------
// Closing connections, and what a handler shows of itself

#[tokio::test]
async fn close_goes_through_the_events_own_api_and_gone_is_typed() {
    // The management API calls are signed with the AWS environment the DynamoDB tests have.
    if !dynamodb_available() {
        return;
    }
    let api = management_api(&["gone-one"]).await;
    async fn closer(req: Request) -> ws::Result<Response> {
        ws::close("someone-else").await?;
        let gone = req.client()?.close("gone-one").await;
        let gone =
            matches!(&gone, Err(ws::Error::Gone { connection_id }) if connection_id == "gone-one");
        let denied = ws::close("denied-one").await;
        let denied = matches!(&denied, Err(ws::Error::Api { operation, .. }) if *operation == "DeleteConnection");
        Ok(Response::ok().reply(json!({"gone is typed": gone, "denied is typed": denied})))
    }
    // Cookie mode: closing needs no session store.
    let handler = Handler::with_store(cookie_store(), closer);
    let domain = api.url.trim_start_matches("http://").to_owned();
    let message = event(MESSAGE, |e| {
        e["requestContext"]["domainName"] = json!(domain);
        e["requestContext"]["stage"] = json!("local");
    });
    let reply = reply_of(&handler, &message).await;
    assert_eq!(
        replied(&reply),
        json!({"gone is typed": true, "denied is typed": true})
    );
    let calls: Vec<_> = api
        .calls
        .lock()
        .expect("calls")
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    let deleted = |id: &str| ("DELETE".to_owned(), format!("/local/@connections/{id}"));
    assert_eq!(
        calls,
        [
            deleted("someone-else"),
            deleted("gone-one"),
            deleted("denied-one")
        ]
    );
}

#[test]
fn a_handler_shows_its_store_and_endpoint_but_no_secret() {
    let handler = Handler::with_store(cookie_store(), echo).with_config(&config(&[(
        "ARC_WSS_URL",
        "wss://abc123.execute-api.us-east-1.amazonaws.com/production",
    )]));
    let shown = format!("{handler:?}");
    assert!(shown.starts_with("Handler"), "{shown}");
    assert!(shown.contains("sealed cookie"), "{shown}");
    assert!(
        shown.contains("https://abc123.execute-api.us-east-1.amazonaws.com/production"),
        "{shown}"
    );
    assert!(!shown.contains(SECRET), "{shown}");
}

// ---------------------------------------------------------------------------------------------
// Which writes tie a connection

#[tokio::test]
async fn dynamodb_a_refused_connect_that_writes_a_session_is_not_tied_to_it() {
    if !dynamodb_available() {
        return;
    }
    let (store, _, _) = dynamodb_store(&[]).await;
    async fn refuses_after_writing(req: Request) -> ws::Result<Response> {
        match req.event_type {
            EventType::Connect => Ok(Response::status(403).session(json!({"count": 7}))),
            _ => echo(req).await,
        }
    }
    let handler = Handler::with_store(Arc::clone(&store), refuses_after_writing);
    let refused = reply_of(&handler, &connect_with(None, "refused-1")).await;
    assert_eq!(refused["statusCode"], 403);
    // Its messages (were API Gateway to deliver any) read no session.
    let later = reply_of(&handler, &on(MESSAGE, "refused-1")).await;
    assert_eq!(replied(&later)["count"], Value::Null);
}

#[tokio::test]
async fn dynamodb_a_message_answered_outside_2xx_still_ties_the_session_it_writes() {
    if !dynamodb_available() {
        return;
    }
    let (store, _, _) = dynamodb_store(&[]).await;
    async fn starts_with_a_warning(req: Request) -> ws::Result<Response> {
        match req.body.json().and_then(|b| b["action"].as_str()) {
            // A message refused (a 400 to the sender) that still starts a session.
            Some("start") => Ok(Response::status(400).session(json!({"count": 9}))),
            _ => echo(req).await,
        }
    }
    let handler = Handler::with_store(Arc::clone(&store), starts_with_a_warning);
    // Accepted without a session: tied to none yet.
    assert_eq!(
        reply_of(&handler, &connect_with(None, "w-1")).await["statusCode"],
        200
    );
    let start = event(MESSAGE, |e| {
        e["requestContext"]["connectionId"] = json!("w-1");
        e["body"] = json!(json!({"action": "start"}).to_string());
    });
    assert_eq!(reply_of(&handler, &start).await["statusCode"], 400);
    // The connection is open whatever the message's answer: it follows the new session.
    let later = reply_of(&handler, &on(MESSAGE, "w-1")).await;
    assert_eq!(replied(&later)["count"], 9);
}
