//! The WebSocket handler wrapper against real API Gateway WebSocket events (tests/fixtures),
//! in both session modes: each event read as its type and route and never taken for HTTP (nor
//! the reverse), message bodies, replies, refusals and errors; cookie mode's session, read on
//! `$connect` only; closing a connection; and what a handler shows of itself.
//!
//! Needs nothing outside, but the closing test: it signs its calls with the AWS environment
//! `scripts/test` sets with `ARC_TEST_DYNAMODB=1`, so it is `#[ignore]`d, run there with
//! `--include-ignored`, and fails without it. Its calls go to a stand-in management API on
//! loopback (`crate::support::ws::management_api`).

use std::sync::Arc;

use arc_functions::http::session::Session;
use arc_functions::http::{self, Handler as HttpHandler};
use arc_functions::ws::{self, EventType, Handler, Request, Response};
use serde_json::{Value, json};

use crate::support::dynamodb::require_dynamodb;
use crate::support::event;
use crate::support::http::{SECRET, config};
use crate::support::ws::{
    CONNECT, CONNECT_WITHOUT_METHOD, DISCONNECT, MESSAGE, connect_with, cookie_for, cookie_store,
    echo, management_api, on, replied, reply_of,
};

const HTTP_FIXTURES: [(&str, &str); 9] = [
    (
        "apigw_v2",
        include_str!("../fixtures/apigw_v2_request.json"),
    ),
    (
        "apigw_v2_minimal",
        include_str!("../fixtures/apigw_v2_minimal_request.json"),
    ),
    (
        "apigw_v2_sam_local",
        include_str!("../fixtures/apigw_v2_sam_local_request.json"),
    ),
    (
        "apigw_v1",
        include_str!("../fixtures/apigw_v1_request.json"),
    ),
    (
        "apigw_v1_multi",
        include_str!("../fixtures/apigw_v1_multi_value_request.json"),
    ),
    (
        "function_url",
        include_str!("../fixtures/function_url_request.json"),
    ),
    ("alb", include_str!("../fixtures/alb_request.json")),
    (
        "alb_multi",
        include_str!("../fixtures/alb_multi_value_request.json"),
    ),
    ("sqs", include_str!("../fixtures/sqs_event.json")),
];

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
            Some(_) => Response::new().status(401),
            _ => Response::new().reply(vec![0u8, 255]),
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
            EventType::Disconnect => Ok(Response::new()),
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
        Ok(Response::new().session(json!({"count": 9})))
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
// Closing connections, and what a handler shows of itself

#[tokio::test]
#[ignore = "needs the AWS environment scripts/test sets with dynalite (ARC_TEST_DYNAMODB=1)"]
async fn close_goes_through_the_events_own_api_and_gone_is_typed() {
    // The free `ws::close` signs its calls with the process's AWS environment (region and
    // credentials), which the DynamoDB tests have.
    require_dynamodb();
    let api = management_api(&["gone-one"]).await;
    async fn closer(req: Request) -> ws::Result<Response> {
        ws::close("someone-else").await?;
        let gone = req.client()?.close("gone-one").await;
        let gone =
            matches!(&gone, Err(ws::Error::Gone { connection_id }) if connection_id == "gone-one");
        let denied = ws::close("denied-one").await;
        let denied = matches!(&denied, Err(ws::Error::Api { operation, .. }) if *operation == "DeleteConnection");
        Ok(Response::new().reply(json!({"gone is typed": gone, "denied is typed": denied})))
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
