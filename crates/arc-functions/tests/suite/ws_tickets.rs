//! Socket tickets and `Origin` (DynamoDB mode): the ticket in `req.socket_url()` ties the
//! socket once, only from its page's origin, and never falls back to the cookie; a session
//! that ends gets no ticket and its tickets open nothing; the host-only cookie works through
//! tickets; a foreign origin with a valid cookie is never tied nor pushed to; and a ticket
//! spent against an unreachable table is a fault, not a replay.
//!
//! The DynamoDB tests need dynalite, so they are `#[ignore]`d: `scripts/test` starts it, sets
//! `ARC_TEST_DYNAMODB=1` and the AWS variables, and runs them with `--include-ignored`; without
//! it they fail. The foreign-origin test's pushes go to a stand-in management API on loopback
//! (`crate::support::ws::management_api`).

use std::sync::Arc;

use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Handler as HttpHandler};
use arc_functions::testing::TestRequest;
use arc_functions::ws::Handler;
use serde_json::{Value, json};

use crate::support::dynamodb::require_dynamodb;
use crate::support::http::config;
use crate::support::ws::{
    SOCKET_ORIGIN, call, calls_of, connect_from, connections_of, cookie_for, cookie_store,
    dynamodb_store, echo, handler_via, management_api, replied, reply_of,
};
use crate::support::{capture_logs, event, logged, session_of};

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
    let request = event(include_str!("../fixtures/apigw_v2_request.json"), |e| {
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

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_ticket_ties_the_socket_once_and_only_from_its_origin() {
    require_dynamodb();
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_session_this_request_ends_gets_no_ticket() {
    require_dynamodb();
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
        let request = event(include_str!("../fixtures/apigw_v2_request.json"), |e| {
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_tickets_work_with_the_host_cookie_that_never_crosses_hosts() {
    require_dynamodb();
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_ticket_of_a_session_that_ended_opens_nothing() {
    require_dynamodb();
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
}

/// Cookie sessions: there is no record for a ticket to name, so a page gets no socket URL.
#[tokio::test]
async fn a_cookie_session_gets_no_ticket() {
    async fn page(req: http::Request) -> http::Result<http::Response> {
        Ok(http::Response::text(
            req.socket_url().unwrap_or_else(|| "none".into()),
        ))
    }
    let cookie_config = config(&[("ARC_WSS_URL", "wss://ws.example.com/production")]);
    let sealed = cookie_store();
    let sealed_cookie = cookie_for(&sealed, json!({"count": 1})).await;
    let handler = HttpHandler::with_store(sealed, page).with_config(&cookie_config);
    // The event has a Host, so the page has an origin a ticket could be minted for.
    let response = TestRequest::get("/")
        .cookie(&sealed_cookie)
        .send(&handler)
        .await
        .expect("served");
    assert_eq!(response.text(), "none");
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_foreign_origin_with_a_valid_cookie_is_never_tied_nor_pushed_to() {
    require_dynamodb();
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
    let request = event(include_str!("../fixtures/apigw_v2_request.json"), |e| {
        e["cookies"] = json!([cookie]);
    });
    http.invoke(&request).await.expect("served");
    assert_eq!(
        calls_of(&api),
        [call("POST", "f-listed"), call("POST", "f-own")]
    );
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_ticket_spent_against_an_unreachable_table_is_a_fault_not_a_replay() {
    require_dynamodb();
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
