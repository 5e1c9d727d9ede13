//! Users, not only sessions: signing in and out, the device list kept beside the sessions in
//! DynamoDB mode, ending one device or all the others (their sockets told, then closed), the
//! credential stamp that ends sessions issued before a password change (both modes), races
//! with requests in flight, and the DynamoDB calls each costs.
//!
//! Against dynalite (`scripts/test` starts it and sets `ARC_TEST_DYNAMODB=1`), but the cookie
//! mode half of the stamp test; the WebSocket management API is the suite's stand-in on
//! loopback.

use std::sync::{Arc, Mutex};

use arc_functions::http::session::{BoxError, Error, Session, SessionStore};
use arc_functions::http::{self, Handler, Request, Response};
use arc_functions::testing::{TestRequest, TestResponse};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::support::dynamodb::{Calls, create_session_table, item_id, require_dynamodb};
use crate::support::http::{config, set_cookies};
use crate::support::session_of;
use crate::support::stores::{sdk_client, unique_table};
use crate::support::ws::{
    ManagementApi, call, calls_of, connect_with, echo, handler_via, management_api, reply_of,
};

/// What a page that ends sessions pushes to their sockets.
const NOTICE: &str = "signed out on another device";

/// One route doing what `op` says, for the signed-in user of the request.
async fn route(mut req: Request) -> http::Result<Response> {
    let q = |name: &str| req.query.get(name).unwrap_or_default().to_owned();
    let (op, user, stamp, handle) = (q("op"), q("user"), q("stamp"), q("handle"));
    let notice = json!({ "signedOut": NOTICE });
    Ok(match op.as_str() {
        "signin" => {
            req.session.sign_in(&user, &stamp)?;
            Response::text(user).session(req.session)
        }
        "whoami" => Response::text(req.session.user().unwrap_or("nobody").to_owned()),
        "count" => {
            let n = req.session.get::<u64>("n")?.unwrap_or(0) + 1;
            req.session.insert("n", n)?;
            Response::text(n.to_string()).session(req.session)
        }
        "devices" => {
            let devices: Vec<Value> = req
                .devices()
                .await?
                .into_iter()
                .map(|d| {
                    json!({
                        "handle": d.handle, "agent": d.user_agent, "current": d.current,
                        "created": d.created, "seen": d.last_seen,
                    })
                })
                .collect();
            Response::json(&json!(devices))
        }
        "end" => Response::text(req.sign_out_device(&handle, notice).await?.to_string()),
        "others" => Response::text(req.sign_out_others(notice).await?.to_string()),
        "everywhere" => {
            let ended = req.sign_out_everywhere(notice).await?;
            Response::text(ended.to_string()).session(req.session)
        }
        "signout" => {
            req.session.sign_out();
            Response::text("bye").session(req.session)
        }
        _ => Response::text("?").status(404),
    })
}

/// A DynamoDB-mode app on a fresh table: the store, the handler (its sockets through `api`
/// when given), the raw client and its calls, and the table.
struct App {
    store: Arc<SessionStore>,
    handler: Routes,
    client: Client,
    calls: Calls,
    table: String,
}

/// The handler of [`route`], named.
type Routes = Handler<fn(Request) -> RouteFuture>;

type RouteFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = http::Result<Response>> + Send>>;

fn boxed(req: Request) -> RouteFuture {
    Box::pin(route(req))
}

async fn app(api: Option<&ManagementApi>) -> App {
    let calls = Calls::default();
    let client = sdk_client(None, &calls).await;
    let table = unique_table();
    create_session_table(&client, &table).await;
    calls.take();
    let wss = api.map(|api| api.url.replace("http://", "ws://"));
    let mut vars = vec![("SESSION_TABLE_NAME", table.as_str())];
    if let Some(wss) = &wss {
        vars.push(("ARC_WSS_URL", wss.as_str()));
    }
    let config = config(&vars);
    let store =
        Arc::new(SessionStore::with_dynamodb_client(&config, client.clone()).expect("DynamoDB"));
    let handler = Handler::with_store(Arc::clone(&store), boxed as fn(Request) -> RouteFuture)
        .with_config(&config);
    App {
        store,
        handler,
        client,
        calls,
        table,
    }
}

/// A cookie-mode app.
fn cookie_app() -> (Arc<SessionStore>, Routes) {
    let config = config(&[]);
    let store = Arc::new(SessionStore::new(&config));
    let handler = Handler::with_store(Arc::clone(&store), boxed as fn(Request) -> RouteFuture)
        .with_config(&config);
    (store, handler)
}

/// `GET /?<query>` from a browser called `agent`, with a session cookie (`_idx=...`) or none,
/// served through `handler` as the runtime serves it.
async fn get(handler: &Routes, query: &str, cookie: Option<&str>, agent: &str) -> TestResponse {
    let mut request = TestRequest::get(&format!("/?{query}")).header("user-agent", agent);
    if let Some(cookie) = cookie {
        request = request.cookie(cookie);
    }
    request.send(handler).await.expect("served")
}

/// The session cookie a response sets (`_idx=...`), `None` when it sets none; `Some("_idx=")`
/// when it expires it.
fn cookie_of(response: &TestResponse) -> Option<String> {
    set_cookies(response)
        .into_iter()
        .find(|c| c.starts_with("_idx="))
        .and_then(|c| c.split(';').next().map(str::to_owned))
}

async fn ask(handler: &Routes, query: &str, cookie: Option<&str>) -> (String, Option<String>) {
    let response = get(handler, query, cookie, "test").await;
    assert!(
        (200..300).contains(&response.status()),
        "{query}: {}",
        response.status()
    );
    (response.text(), cookie_of(&response))
}

/// Signs `user` in from a browser called `agent`; returns the session cookie.
async fn sign_in(app: &App, user: &str, agent: &str) -> String {
    let response = get(
        &app.handler,
        &format!("op=signin&user={user}&stamp=s1"),
        None,
        agent,
    )
    .await;
    assert_eq!(response.status(), 200);
    cookie_of(&response).expect("a session cookie")
}

async fn whoami(handler: &Routes, cookie: &str) -> String {
    ask(handler, "op=whoami", Some(cookie)).await.0
}

async fn devices(app: &App, cookie: &str) -> Vec<Value> {
    let body = ask(&app.handler, "op=devices", Some(cookie)).await.0;
    serde_json::from_str::<Vec<Value>>(&body).expect("a JSON list")
}

/// The raw item under `key`, or `None`.
async fn raw(app: &App, key: &str) -> Option<std::collections::HashMap<String, AttributeValue>> {
    app.client
        .get_item()
        .table_name(&app.table)
        .key("_idx", AttributeValue::S(key.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
}

/// The `device#` attributes of `user`'s index item.
async fn index_entries(app: &App, user: &str) -> Vec<String> {
    let mut entries: Vec<String> = raw(app, &format!("user#{user}"))
        .await
        .unwrap_or_default()
        .into_keys()
        .filter(|k| k.starts_with("device#"))
        .collect();
    entries.sort();
    entries
}

fn number(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> u64 {
    match item.get(name) {
        Some(AttributeValue::N(n)) => n.parse().expect("a number"),
        other => panic!("{name} is {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_signing_in_makes_a_planted_id_worthless() {
    require_dynamodb();
    let app = app(None).await;
    // The attacker's session, planted in the victim's browser.
    let (_, planted) = ask(&app.handler, "op=count", None).await;
    let planted = planted.expect("a session");
    let (_, signed_in) = ask(&app.handler, "op=signin&user=ann&stamp=s1", Some(&planted)).await;
    let signed_in = signed_in.expect("a new cookie");
    assert_ne!(item_id(&signed_in), item_id(&planted), "a new id");
    assert_eq!(whoami(&app.handler, &signed_in).await, "ann");
    assert_eq!(
        whoami(&app.handler, &planted).await,
        "nobody",
        "the planted id opens nothing after the sign-in"
    );
    assert!(
        raw(&app, &item_id(&planted)).await.is_none(),
        "its record is gone"
    );
    let (n, _) = ask(&app.handler, "op=count", Some(&signed_in)).await;
    assert_eq!(n, "2", "the data came along (one count before the sign-in)");
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_the_device_list_marks_this_one_and_ending_one_leaves_the_others() {
    require_dynamodb();
    let app = app(None).await;
    let a = sign_in(&app, "ann", "Browser A").await;
    let b = sign_in(&app, "ann", "Browser B").await;
    let c = sign_in(&app, "ann", "Browser C").await;
    let bob = sign_in(&app, "bob", "Browser D").await;
    let listed = devices(&app, &b).await;
    let agents: Vec<&str> = listed.iter().filter_map(|d| d["agent"].as_str()).collect();
    let mut sorted = agents.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["Browser A", "Browser B", "Browser C"],
        "ann's only"
    );
    let current: Vec<&Value> = listed.iter().filter(|d| d["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["agent"], "Browser B");
    for device in &listed {
        let handle = device["handle"].as_str().expect("a handle");
        for cookie in [&a, &b, &c] {
            assert!(!cookie.contains(handle) && !handle.contains(&item_id(cookie)));
        }
        assert!(device["created"].as_u64().is_some() && device["seen"].as_u64().is_some());
    }
    let handle_of = |agent: &str| {
        listed.iter().find(|d| d["agent"] == agent).expect("listed")["handle"]
            .as_str()
            .expect("a handle")
            .to_owned()
    };
    let (ended, _) = ask(
        &app.handler,
        &format!("op=end&handle={}", handle_of("Browser A")),
        Some(&b),
    )
    .await;
    assert_eq!(ended, "true");
    assert_eq!(
        whoami(&app.handler, &a).await,
        "nobody",
        "A's cookie opens nothing"
    );
    assert!(raw(&app, &item_id(&a)).await.is_none());
    assert_eq!(whoami(&app.handler, &c).await, "ann", "C is untouched");
    assert_eq!(
        whoami(&app.handler, &bob).await,
        "bob",
        "another user is untouched"
    );
    let left: Vec<Value> = devices(&app, &c).await;
    assert_eq!(left.len(), 2);
    assert!(left.iter().all(|d| d["agent"] != "Browser A"));
    assert_eq!(
        index_entries(&app, "ann").await.len(),
        2,
        "its entry removed"
    );
    // Unknown handles, and the asking session's own, end nothing.
    let own = handle_of("Browser B");
    for handle in ["nope", own.as_str()] {
        let (ended, _) = ask(&app.handler, &format!("op=end&handle={handle}"), Some(&b)).await;
        assert_eq!(ended, "false", "{handle}");
    }
    assert_eq!(whoami(&app.handler, &b).await, "ann");
    // Bob cannot end Ann's sessions by their handle.
    let (ended, _) = ask(
        &app.handler,
        &format!("op=end&handle={}", handle_of("Browser C")),
        Some(&bob),
    )
    .await;
    assert_eq!(ended, "false");
    assert_eq!(whoami(&app.handler, &c).await, "ann");
    // All but this one.
    let (ended, _) = ask(&app.handler, "op=others", Some(&b)).await;
    assert_eq!(ended, "1");
    assert_eq!(whoami(&app.handler, &c).await, "nobody");
    assert_eq!(whoami(&app.handler, &b).await, "ann");
    // Signing out takes the last one off the list.
    let (_, expired) = ask(&app.handler, "op=signout", Some(&b)).await;
    assert_eq!(expired.as_deref(), Some("_idx="));
    assert!(index_entries(&app, "ann").await.is_empty());
    assert_eq!(whoami(&app.handler, &b).await, "nobody");
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_an_expired_session_leaves_the_list_and_the_index_outlives_the_live_ones() {
    require_dynamodb();
    let app = app(None).await;
    let a = sign_in(&app, "ann", "Browser A").await;
    let b = sign_in(&app, "ann", "Browser B").await;
    let index = raw(&app, "user#ann").await.expect("an index");
    let session_b = raw(&app, &item_id(&b)).await.expect("B's record");
    assert!(
        number(&index, "_ttl") >= number(&session_b, "_ttl"),
        "the index expires no sooner than the sessions it lists"
    );
    // A lapses (DynamoDB deletes expired items days late: its record is still there).
    app.client
        .update_item()
        .table_name(&app.table)
        .key("_idx", AttributeValue::S(item_id(&a)))
        .update_expression("SET #ttl = :past")
        .expression_attribute_names("#ttl", "_ttl")
        .expression_attribute_values(":past", AttributeValue::N("1000".into()))
        .send()
        .await
        .expect("UpdateItem");
    assert_eq!(index_entries(&app, "ann").await.len(), 2);
    let listed = devices(&app, &b).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["agent"], "Browser B");
    assert_eq!(
        index_entries(&app, "ann").await.len(),
        1,
        "the lapsed entry is pruned"
    );
    // A session whose record was deleted outright is pruned too.
    app.client
        .delete_item()
        .table_name(&app.table)
        .key("_idx", AttributeValue::S(item_id(&b)))
        .send()
        .await
        .expect("DeleteItem");
    let c = sign_in(&app, "ann", "Browser C").await;
    assert_eq!(devices(&app, &c).await.len(), 1);
    assert_eq!(index_entries(&app, "ann").await.len(), 1);
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_session_sliding_past_its_index_keeps_the_index_longer() {
    require_dynamodb();
    let app = app(None).await;
    let a = sign_in(&app, "ann", "Browser A").await;
    // The index is due to go before the session's next expiry (as after a lifetime of use).
    app.client
        .update_item()
        .table_name(&app.table)
        .key("_idx", AttributeValue::S("user#ann".into()))
        .update_expression("SET #ttl = :soon")
        .expression_attribute_names("#ttl", "_ttl")
        .expression_attribute_values(":soon", AttributeValue::N("2000".into()))
        .send()
        .await
        .expect("UpdateItem");
    app.client
        .update_item()
        .table_name(&app.table)
        .key("_idx", AttributeValue::S(item_id(&a)))
        .update_expression("SET #i = :soon")
        .expression_attribute_names("#i", "_index_ttl")
        .expression_attribute_values(":soon", AttributeValue::N("2000".into()))
        .send()
        .await
        .expect("UpdateItem");
    ask(&app.handler, "op=count", Some(&a)).await;
    let index = raw(&app, "user#ann").await.expect("an index");
    let session = raw(&app, &item_id(&a)).await.expect("a record");
    assert!(number(&index, "_ttl") >= number(&session, "_ttl"));
    assert_eq!(number(&session, "_index_ttl"), number(&index, "_ttl"));
    // And while the index is known to outlast it, a write costs no index call.
    app.calls.take();
    ask(&app.handler, "op=count", Some(&a)).await;
    assert_eq!(app.calls.take(), ["GetItem", "PutItem"]);
}

/// A resolver whose stamp the test changes, as a password change would.
fn stamps(
    current: &Arc<Mutex<Option<String>>>,
) -> impl Fn(String) -> std::future::Ready<Result<Option<String>, BoxError>> + Send + Sync + 'static
{
    let current = Arc::clone(current);
    move |user: String| {
        let stamp = current.lock().expect("stamp").clone();
        std::future::ready(Ok((user == "ann").then_some(stamp).flatten()))
    }
}

#[tokio::test]
async fn a_password_change_ends_sessions_signed_in_before_it_in_cookie_mode() {
    let (store, handler) = cookie_app();
    let current = Arc::new(Mutex::new(Some("s1".to_owned())));
    assert!(store.check_stamps(stamps(&current)));
    let (_, cookie) = ask(&handler, "op=signin&user=ann&stamp=s1", None).await;
    let cookie = cookie.expect("a cookie");
    assert_eq!(whoami(&handler, &cookie).await, "ann");
    *current.lock().expect("stamp") = Some("s2".into());
    assert_eq!(
        whoami(&handler, &cookie).await,
        "nobody",
        "the sealed cookie no longer opens"
    );
    let (_, fresh) = ask(&handler, "op=signin&user=ann&stamp=s2", None).await;
    assert_eq!(whoami(&handler, &fresh.expect("a cookie")).await, "ann");
    *current.lock().expect("stamp") = None;
    let (_, gone) = ask(&handler, "op=signin&user=ann&stamp=s2", None).await;
    assert_eq!(
        whoami(&handler, &gone.expect("a cookie")).await,
        "nobody",
        "a deleted user"
    );
    // The device list is DynamoDB's: cookie mode says so.
    let response = get(&handler, "op=devices", Some(&cookie), "test").await;
    assert_eq!(response.status(), 500);
    let refused = store.devices(&Session::new()).await;
    assert!(matches!(refused, Err(Error::CookieSessions)), "{refused:?}");
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_password_change_ends_sessions_signed_in_before_it_and_their_records() {
    require_dynamodb();
    let app = app(None).await;
    let current = Arc::new(Mutex::new(Some("s1".to_owned())));
    assert!(app.store.check_stamps(stamps(&current)));
    let a = sign_in(&app, "ann", "Browser A").await;
    let b = sign_in(&app, "ann", "Browser B").await;
    assert_eq!(whoami(&app.handler, &a).await, "ann");
    *current.lock().expect("stamp") = Some("s2".into());
    assert_eq!(whoami(&app.handler, &a).await, "nobody");
    assert!(
        raw(&app, &item_id(&a)).await.is_none(),
        "the stale record is deleted"
    );
    assert_eq!(
        index_entries(&app, "ann").await.len(),
        1,
        "and leaves the list"
    );
    assert_eq!(whoami(&app.handler, &b).await, "nobody");
    assert!(index_entries(&app, "ann").await.is_empty());
    let (_, c) = ask(&app.handler, "op=signin&user=ann&stamp=s2", None).await;
    assert_eq!(whoami(&app.handler, &c.expect("a cookie")).await, "ann");
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_sign_out_racing_a_request_in_flight_never_resurrects_the_session_or_its_entry()
{
    require_dynamodb();
    let app = app(None).await;
    let a = sign_in(&app, "ann", "Browser A").await;
    let b = sign_in(&app, "ann", "Browser B").await;
    let read = |cookie: String| {
        let store = Arc::clone(&app.store);
        async move { session_of(&store, &cookie).await }
    };
    // 1. A request of A's is in flight when A signs out.
    let mut in_flight = read(a.clone()).await;
    assert_eq!(in_flight.user(), Some("ann"));
    ask(&app.handler, "op=signout", Some(&a)).await;
    in_flight.insert("n", 1).expect("insert");
    let written = app.store.write(&in_flight).await;
    assert!(matches!(written, Err(Error::Ended)), "{written:?}");
    assert!(raw(&app, &item_id(&a)).await.is_none(), "not brought back");
    // 2. A request of B's is in flight when another device ends B.
    let c = sign_in(&app, "ann", "Browser C").await;
    let mut in_flight = read(b.clone()).await;
    let (ended, _) = ask(&app.handler, "op=others", Some(&c)).await;
    assert_eq!(ended, "1");
    in_flight.insert("n", 1).expect("insert");
    assert!(matches!(
        app.store.write(&in_flight).await,
        Err(Error::Ended)
    ));
    // The same request regenerating (a second sign-in on B) loses nothing either: that is a
    // new session, listed as one; B's old id stays dead.
    assert!(raw(&app, &item_id(&b)).await.is_none());
    assert_eq!(whoami(&app.handler, &b).await, "nobody");
    let listed = devices(&app, &c).await;
    assert_eq!(listed.len(), 1, "only C: {listed:?}");
    assert_eq!(
        index_entries(&app, "ann").await.len(),
        1,
        "no entry came back"
    );
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_sign_out_everywhere_tells_every_other_page_then_closes_its_sockets() {
    require_dynamodb();
    let api = management_api(&[]).await;
    let app = app(Some(&api)).await;
    let a = sign_in(&app, "ann", "Browser A").await;
    let b = sign_in(&app, "ann", "Browser B").await;
    let other_user = sign_in(&app, "bob", "Browser D").await;
    let sockets = handler_via(
        &app.store,
        &api,
        &[("SESSION_TABLE_NAME", &app.table)],
        echo,
    );
    for (cookie, id) in [(&a, "a-1"), (&a, "a-2"), (&b, "b-1"), (&other_user, "d-1")] {
        reply_of(&sockets, &connect_with(Some(cookie), id)).await;
    }
    let response = get(&app.handler, "op=everywhere", Some(&b), "test").await;
    assert_eq!(response.text(), "1");
    assert_eq!(
        cookie_of(&response).as_deref(),
        Some("_idx="),
        "this one signed out too"
    );
    let received = api.calls.lock().expect("calls").clone();
    for id in ["a-1", "a-2"] {
        let path = format!("/@connections/{id}");
        let pushed = received
            .iter()
            .position(|(m, p, body)| m == "POST" && *p == path && body.contains(NOTICE))
            .unwrap_or_else(|| panic!("{id} was told: {received:?}"));
        let closed = received
            .iter()
            .position(|(m, p, _)| m == "DELETE" && *p == path)
            .unwrap_or_else(|| panic!("{id} was closed: {received:?}"));
        assert!(pushed < closed, "told before closed");
    }
    let mut calls = calls_of(&api);
    calls.retain(|(m, _)| m == "DELETE");
    assert_eq!(
        calls,
        [
            call("DELETE", "a-1"),
            call("DELETE", "a-2"),
            call("DELETE", "b-1")
        ],
        "bob's socket is untouched"
    );
    assert_eq!(whoami(&app.handler, &a).await, "nobody");
    assert_eq!(whoami(&app.handler, &b).await, "nobody");
    assert_eq!(whoami(&app.handler, &other_user).await, "bob");
    assert!(index_entries(&app, "ann").await.is_empty());
}

/// The DynamoDB calls of one request of `app`'s handler.
async fn calls_of_request(app: &App, query: &str, cookie: Option<&str>) -> Vec<String> {
    app.calls.take();
    let response = get(&app.handler, query, cookie, "test").await;
    assert!((200..300).contains(&response.status()), "{query}");
    app.calls.take()
}

/// The counts BENCHMARKS.md ("Users: DynamoDB calls") quotes:
/// `cargo test -p arc-functions --features axum --test suite users::dynamodb_calls -- --nocapture`
/// with dynalite (see that section).
#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_calls_per_sign_in_per_request_and_per_sign_out_everywhere() {
    require_dynamodb();
    let api = management_api(&[]).await;
    for n in [1usize, 2, 5] {
        let app = app(Some(&api)).await;
        let fresh = calls_of_request(&app, "op=signin&user=ann&stamp=s1", None).await;
        assert_eq!(
            fresh,
            ["PutItem", "UpdateItem"],
            "sign-in without a session"
        );
        let (_, visitor) = ask(&app.handler, "op=count", None).await;
        let over = calls_of_request(&app, "op=signin&user=ann&stamp=s1", visitor.as_deref()).await;
        // The read, the old record deleted, the new one put and listed, the old one's sockets
        // listed to close them (only with ARC_WSS_URL).
        assert_eq!(
            over,
            ["GetItem", "DeleteItem", "PutItem", "UpdateItem", "GetItem"],
            "sign-in over a session"
        );
        let mut cookies = Vec::new();
        for i in 0..n {
            cookies.push(sign_in(&app, "ann", &format!("Browser {i}")).await);
        }
        let me = cookies.last().expect("one").clone();
        let read = calls_of_request(&app, "op=whoami", Some(&me)).await;
        assert_eq!(read, ["GetItem"], "a signed-in page");
        let write = calls_of_request(&app, "op=count", Some(&me)).await;
        assert_eq!(write, ["GetItem", "PutItem"], "a signed-in write");
        let listed = calls_of_request(&app, "op=devices", Some(&me)).await;
        assert_eq!(
            listed,
            ["GetItem", "GetItem", "BatchGetItem"],
            "the device list"
        );
        let everywhere = calls_of_request(&app, "op=everywhere", Some(&me)).await;
        // Ann has n + 2 sessions: the two signed in above and the n of the loop; this one
        // ends the n + 1 others, then itself.
        let others = n + 1;
        let mut expected = vec!["GetItem", "GetItem", "BatchWriteItem", "UpdateItem"];
        expected.extend(std::iter::repeat_n("GetItem", others));
        expected.extend(["DeleteItem", "UpdateItem", "GetItem"]);
        assert_eq!(
            everywhere,
            expected,
            "sign out everywhere, {} devices",
            n + 2
        );
        println!(
            "n={n} sign-in {fresh:?}; over a session {over:?}; read {read:?}; write {write:?}; devices {listed:?}; sign out everywhere {everywhere:?} ({} calls)",
            everywhere.len()
        );
    }
}

/// The axum layer: the same sign-in, list and sign-out, by the extractor's names.
#[cfg(feature = "axum")]
#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_the_axum_session_signs_in_lists_and_ends_devices_as_per_route_handlers_do() {
    use arc_functions::axum::{Error as AxumError, Session as AxumSession, SessionLayer};
    use axum::routing::{get, post};

    require_dynamodb();
    let app = app(None).await;
    async fn sign_in(session: AxumSession) -> Result<&'static str, AxumError> {
        session.sign_in("ann", "s1")?;
        Ok("in")
    }
    async fn who(session: AxumSession) -> String {
        session.user().unwrap_or_else(|| "nobody".into())
    }
    async fn devices(session: AxumSession) -> Result<String, AxumError> {
        let devices = session.devices().await?;
        let agents: Vec<String> = devices
            .iter()
            .map(|d| {
                format!(
                    "{}{}",
                    d.user_agent.as_deref().unwrap_or("?"),
                    if d.current { "*" } else { "" }
                )
            })
            .collect();
        Ok(agents.join(","))
    }
    async fn others(session: AxumSession) -> Result<String, AxumError> {
        Ok(session.sign_out_others().await?.to_string())
    }
    async fn everywhere(session: AxumSession) -> Result<String, AxumError> {
        Ok(session.sign_out_everywhere().await?.to_string())
    }
    let router = axum::Router::new()
        .route("/in", post(sign_in))
        .route("/who", get(who))
        .route("/devices", get(devices))
        .route("/others", post(others))
        .route("/everywhere", post(everywhere))
        .layer(SessionLayer::new(Arc::clone(&app.store)));
    let send = |request: TestRequest| {
        let router = router.clone();
        async move { request.send_to(router).await.expect("a response") }
    };
    let mut cookies = Vec::new();
    for agent in ["A", "B", "C"] {
        let r = send(TestRequest::post("/in").header("user-agent", agent)).await;
        cookies.push(r.session_cookie().expect("a session"));
    }
    let (a, b, c) = (&cookies[0], &cookies[1], &cookies[2]);
    let listed = send(TestRequest::get("/devices").cookie(b)).await.text();
    let mut agents: Vec<&str> = listed.split(',').collect();
    agents.sort();
    assert_eq!(agents, ["A", "B*", "C"], "this one marked");
    assert_eq!(index_entries(&app, "ann").await.len(), 3);
    assert_eq!(
        send(TestRequest::post("/others").cookie(c)).await.text(),
        "2"
    );
    assert_eq!(
        send(TestRequest::get("/who").cookie(a)).await.text(),
        "nobody"
    );
    assert_eq!(
        send(TestRequest::get("/who").cookie(b)).await.text(),
        "nobody"
    );
    assert_eq!(send(TestRequest::get("/who").cookie(c)).await.text(), "ann");
    let r = send(TestRequest::post("/everywhere").cookie(c)).await;
    assert_eq!(r.text(), "0");
    assert_eq!(
        send(TestRequest::get("/who").cookie(c)).await.text(),
        "nobody"
    );
    assert!(
        index_entries(&app, "ann").await.is_empty(),
        "signing out left the list"
    );
}
