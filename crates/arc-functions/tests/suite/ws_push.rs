//! Pushing to a session's WebSocket connections (DynamoDB mode): `push` reaches every
//! connection of the session and forgets gone ones, `send` goes through the event's own API, a
//! failed push never fails the request, the old session's sockets are closed on regenerate or
//! destroy, a session keeps its cap of connections, a push from a socket reaches every tab, and
//! a server error over the socket writes and pushes nothing.
//!
//! Needs dynalite, so every test here is `#[ignore]`d: `scripts/test` starts it, sets
//! `ARC_TEST_DYNAMODB=1` and the AWS variables, and runs them with `--include-ignored`; without
//! it they fail. Sends go to a stand-in
//! management API on loopback (`crate::support::ws::management_api`) that answers 200, or 410
//! `GoneException` for the ids it is told are gone: the emulator's own tests and the
//! end-to-end tests in `tests/` cover the real emulator.

use std::sync::Arc;

use arc_functions::http::{self, Handler as HttpHandler};
use arc_functions::testing::TestRequest;
use arc_functions::ws::{self, EventType, Handler, Request, Response};
use serde_json::{Value, json};

use crate::support::dynamodb::require_dynamodb;
use crate::support::http::config;
use crate::support::ws::{
    MESSAGE, call, calls_of, connect_with, connections_of, cookie_for, dynamodb_store, echo,
    handler_via, management_api, on, replied, reply_of,
};
use crate::support::{capture_logs, event, logged, session_of};

// ---------------------------------------------------------------------------------------------
// Pushing and sending

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_push_reaches_every_connection_of_the_session_and_forgets_gone_ones() {
    require_dynamodb();
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
    let request = event(include_str!("../fixtures/apigw_v2_request.json"), |e| {
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_send_goes_through_the_events_own_api_and_gone_is_typed() {
    require_dynamodb();
    let api = management_api(&["gone-one"]).await;
    let (store, _, _) = dynamodb_store(&[]).await;
    async fn fan_out(req: Request) -> ws::Result<Response> {
        req.send("to myself").await?;
        ws::send("someone-else", json!({"hello": 1})).await?;
        let gone = ws::send("gone-one", "anyone?").await;
        let typed =
            matches!(&gone, Err(ws::Error::Gone { connection_id }) if connection_id == "gone-one");
        Ok(Response::new().reply(json!({"gone is typed": typed})))
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn push_without_arc_wss_url_says_what_to_set() {
    require_dynamodb();
    let (store, _, _) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    Handler::with_store(Arc::clone(&store), echo)
        .invoke(&connect_with(Some(&cookie), "w1"))
        .await
        .expect("connected");
    async fn push(req: http::Request) -> http::Result<http::Response> {
        match req.push("x").await {
            Err(e @ ws::Error::NoEndpoint) => Ok(http::Response::text(e.to_string())),
            other => Ok(http::Response::text(format!("unexpected: {other:?}"))),
        }
    }
    let text = TestRequest::get("/")
        .cookie(&cookie)
        .send(&HttpHandler::with_store(store, push))
        .await
        .expect("served")
        .text();
    assert!(text.contains("ARC_WSS_URL"), "{text}");
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_failed_push_never_fails_the_click_and_push_now_reports_it() {
    require_dynamodb();
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
    let request = event(include_str!("../fixtures/apigw_v2_request.json"), |e| {
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_push_from_a_socket_reaches_every_tab_of_the_session() {
    require_dynamodb();
    let api = management_api(&[]).await;
    let (store, _, _) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    let other = cookie_for(&store, json!({"count": 1})).await;
    async fn count(req: Request) -> ws::Result<Response> {
        if req.event_type != EventType::Message {
            return Ok(Response::new());
        }
        let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
        Ok(Response::new()
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_server_error_over_the_socket_writes_no_session() {
    require_dynamodb();
    let api = management_api(&[]).await;
    let (store, _, _) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 1})).await;
    async fn half_done(req: Request) -> ws::Result<Response> {
        let status = req
            .body
            .json()
            .and_then(|b| b["status"].as_u64())
            .unwrap_or(200);
        Ok(Response::new()
            .status(u16::try_from(status).unwrap_or(200))
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

// ---------------------------------------------------------------------------------------------
// Sockets closed: the old session's, and the oldest past the cap

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_after_regenerate_or_destroy_the_old_sessions_sockets_are_closed_and_hear_nothing()
{
    require_dynamodb();
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
        let request = event(include_str!("../fixtures/apigw_v2_request.json"), |e| {
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_session_keeps_its_cap_of_connections_closing_the_oldest() {
    require_dynamodb();
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
