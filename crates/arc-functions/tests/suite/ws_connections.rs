//! DynamoDB mode's WebSocket connections, tied to sessions: a connection sees the live session
//! and HTTP sees what it writes; each session keeps its own connections, and a refused one is
//! kept by none; which writes tie a connection; a session regenerated or destroyed over the
//! socket; connection records that expire on their own; and what `$disconnect` cleans up.
//!
//! Needs dynalite, so every test here is `#[ignore]`d: `scripts/test` starts it, sets
//! `ARC_TEST_DYNAMODB=1` and the AWS variables, and runs them with `--include-ignored`; without
//! it they fail.

use std::sync::Arc;

use arc_functions::ws::{self, EventType, Handler, Request, Response};
use serde_json::{Value, json};

use crate::support::dynamodb::require_dynamodb;
use crate::support::ws::{
    DISCONNECT, MESSAGE, connect_with, connections_of, cookie_for, dynamodb_store, echo, on,
    replied, reply_of,
};
use crate::support::{capture_logs, event, logged, session_of};

/// Counts over the socket, as the example's `ws-default` does.
async fn count_over_socket(req: Request) -> ws::Result<Response> {
    match req.event_type {
        EventType::Message => {
            let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
            let mut session = req.session;
            session.insert("count", count)?;
            Ok(Response::new()
                .reply(json!({ "count": count }))
                .session(session))
        }
        _ => Ok(Response::new()),
    }
}

// ---------------------------------------------------------------------------------------------
// Connections tied to sessions

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_connection_sees_the_live_session_and_http_sees_what_it_writes() {
    require_dynamodb();
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_sessions_keep_their_own_connections_and_refused_ones_are_not_kept() {
    require_dynamodb();
    let (store, _, _) = dynamodb_store(&[]).await;
    let alice = cookie_for(&store, json!({"count": 10})).await;
    let bob = cookie_for(&store, json!({"count": 20})).await;
    async fn only_with_session(req: Request) -> ws::Result<Response> {
        if req.event_type == EventType::Connect && req.session.is_empty() {
            return Ok(Response::new().status(403));
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_connection_without_a_session_is_tied_to_the_first_one_it_writes() {
    require_dynamodb();
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_session_destroyed_or_regenerated_over_the_socket_moves_the_tie() {
    require_dynamodb();
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
                Ok(Response::new().session(session))
            }
            Some("destroy") => {
                session.destroy();
                Ok(Response::new().session(session))
            }
            _ => Ok(Response::new().reply(json!({"count": session.get::<u64>("count")?}))),
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_connect_ties_only_when_accepted_and_follows_a_session_it_writes() {
    require_dynamodb();
    let (store, _, _) = dynamodb_store(&[]).await;
    let cookie = cookie_for(&store, json!({"count": 4})).await;
    async fn gatekeeper(req: Request) -> ws::Result<Response> {
        match (req.event_type, req.query.get("door")) {
            // Refused, though the browser has a session.
            (EventType::Connect, Some("shut")) => Ok(Response::new().status(401)),
            // Accepted, starting a session for a browser that had none.
            (EventType::Connect, Some("new")) => Ok(Response::new().session(json!({"count": 40}))),
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
// Which writes tie a connection

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_refused_connect_that_writes_a_session_is_not_tied_to_it() {
    require_dynamodb();
    let (store, _, _) = dynamodb_store(&[]).await;
    async fn refuses_after_writing(req: Request) -> ws::Result<Response> {
        match req.event_type {
            EventType::Connect => Ok(Response::new().status(403).session(json!({"count": 7}))),
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_message_answered_outside_2xx_still_ties_the_session_it_writes() {
    require_dynamodb();
    let (store, _, _) = dynamodb_store(&[]).await;
    async fn starts_with_a_warning(req: Request) -> ws::Result<Response> {
        match req.body.json().and_then(|b| b["action"].as_str()) {
            // A message refused (a 400 to the sender) that still starts a session.
            Some("start") => Ok(Response::new().status(400).session(json!({"count": 9}))),
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

// ---------------------------------------------------------------------------------------------
// Expiry and `$disconnect`

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_connection_records_expire_on_their_own() {
    require_dynamodb();
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

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_disconnect_after_the_sessions_list_expired_is_quiet() {
    require_dynamodb();
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
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_failure_to_leave_a_sessions_list_is_reported_not_swallowed() {
    require_dynamodb();
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
