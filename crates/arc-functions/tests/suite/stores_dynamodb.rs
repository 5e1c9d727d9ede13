//! What only the DynamoDB store has: how many calls a request and a socket ticket cost, the
//! item layout (natural types, a fresh `_ttl`), an expired item DynamoDB still keeps, deleting
//! the request's item on destroy or regenerate, a write in flight during a logout, and items
//! written by `@architect/functions` (no `_created`, binary attributes).
//!
//! Needs a local DynamoDB (dynalite), so every test here is `#[ignore]`d: `scripts/test` starts
//! one, sets `ARC_TEST_DYNAMODB=1`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_REGION` and credentials,
//! and runs them with `--include-ignored`; without them they fail.

use std::collections::HashMap;
use std::sync::Arc;

use arc_functions::config::Config;
use arc_functions::http::{self, Handler, Request, Response};
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};

use crate::support::dynamodb::{item_id, require_dynamodb};
use crate::support::event;
use crate::support::http::{SECRET, invoke};
use crate::support::stores::{self, Env, Provider, call, env, idx, n};

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_calls_per_request() {
    require_dynamodb();
    let env = env(Provider::DynamoDb, &[]).await;
    let calls = || env.calls.take().len();

    call(&env, "read", None).await;
    assert_eq!(calls(), 0, "a cookieless GET costs nothing");
    let c = idx(&call(&env, "inc", None).await).expect("written");
    assert_eq!(calls(), 1, "a first write is one PutItem");
    call(&env, "read", Some(&c)).await;
    assert_eq!(calls(), 1, "a read-only request is one GetItem");
    call(&env, "inc", Some(&c)).await;
    assert_eq!(calls(), 2, "read plus write is GetItem + PutItem");
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_calls_per_socket_ticket() {
    require_dynamodb();
    let env = env(
        Provider::DynamoDb,
        &[("ARC_WSS_URL", "wss://ws.example.com/production")],
    )
    .await;
    let calls = || env.calls.take().len();
    let cookie = idx(&call(&env, "inc", None).await).expect("written");
    calls();

    // The page: its GET reads the session, and minting the ticket costs nothing more.
    async fn page(req: Request) -> http::Result<Response> {
        Ok(Response::text(req.socket_url().unwrap_or_default()))
    }
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("SESSION_TABLE_NAME", env.table.as_str()),
        ("ARC_WSS_URL", "wss://ws.example.com/production"),
    ])
    .expect("config");
    let http = Handler::with_store(Arc::clone(&env.store), page).with_config(&config);
    let request = event(&stores::event("read", Some(&cookie)), |e| {
        e["headers"]["host"] = json!("app.example.com");
    });
    let url = invoke(&http, &request).await.text();
    let ticket = url
        .split_once("?ticket=")
        .map(|(_, t)| t.to_owned())
        .unwrap_or_else(|| panic!("a ticket in {url:?}"));
    assert_eq!(calls(), 1, "the page is one GetItem; the ticket is free");

    // $connect: spend the ticket (PutItem), read its session (GetItem), tie the connection
    // (PutItem) and list it in the session's index (UpdateItem).
    async fn connect(
        req: arc_functions::ws::Request,
    ) -> arc_functions::ws::Result<arc_functions::ws::Response> {
        let status = if req.session.is_new() { 403 } else { 200 };
        Ok(arc_functions::ws::Response::new().status(status))
    }
    let sockets = arc_functions::ws::Handler::with_store(Arc::clone(&env.store), connect);
    let upgrade = |origin: &str, id: &str| {
        json!({
            "headers": {"Host": "ws.example.com", "Origin": origin},
            "queryStringParameters": {"ticket": ticket},
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT",
                "connectionId": id, "connectedAt": 1, "requestTimeEpoch": 2,
                "domainName": "ws.example.com", "stage": "production"}
        })
        .to_string()
    };
    let reply = sockets
        .invoke(&upgrade("https://evil.example", "c-0"))
        .await
        .expect("served");
    assert!(reply.contains("403"), "{reply}");
    assert_eq!(
        calls(),
        0,
        "a ticket from another origin is refused without a call"
    );
    let reply = sockets
        .invoke(&upgrade("https://app.example.com", "c-1"))
        .await
        .expect("served");
    assert!(reply.contains("200"), "{reply}");
    assert_eq!(calls(), 4, "PutItem, GetItem, PutItem, UpdateItem");
    let reply = sockets
        .invoke(&upgrade("https://app.example.com", "c-2"))
        .await
        .expect("served");
    assert!(reply.contains("403"), "{reply}");
    assert_eq!(calls(), 1, "a replayed ticket stops at its spent marker");
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_items_use_natural_types_and_a_fresh_ttl() {
    require_dynamodb();
    let env = env(Provider::DynamoDb, &[("ARC_SESSION_TTL", "600")]).await;
    let c = idx(&call(&env, "inc", None).await).expect("written");
    let c = idx(&call(&env, "set", Some(&c)).await).expect("written");
    let id = c
        .rsplit_once('.')
        .map(|(id, _)| id.to_owned())
        .expect("id.sig");
    assert!(id.len() >= 22, "at least 128 bits of id: {id}");
    let item = item(&env, &id).await.expect("item exists");
    let now = epoch();
    assert_eq!(item["_idx"], AttributeValue::S(id));
    let ttl: u64 = item["_ttl"].as_n().expect("N").parse().expect("number");
    assert!(
        (now + 598..=now + 601).contains(&ttl),
        "_ttl {ttl} is now + 600"
    );
    assert!(item["_secret"].as_s().is_ok_and(|s| !s.is_empty()));
    assert_eq!(item["n"], AttributeValue::N("2".into()));
    let kinds = item["kinds"].as_m().expect("a map attribute");
    assert_eq!(kinds["s"], AttributeValue::S("x".into()));
    assert_eq!(kinds["b"], AttributeValue::Bool(true));
    assert_eq!(kinds["z"], AttributeValue::Null(true));
    assert_eq!(
        kinds["l"],
        AttributeValue::L(vec![
            AttributeValue::N("1".into()),
            AttributeValue::S("a".into())
        ])
    );
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_expired_item_is_missing_even_though_dynamodb_keeps_it() {
    require_dynamodb();
    let env = env(Provider::DynamoDb, &[]).await;
    let c = idx(&call(&env, "inc", None).await).expect("written");
    let id = c
        .rsplit_once('.')
        .map(|(id, _)| id.to_owned())
        .expect("id.sig");
    let client = env.client.as_ref().expect("client");
    let past = HashMap::from([
        ("_idx".to_owned(), AttributeValue::S(id)),
        ("_ttl".to_owned(), AttributeValue::N("1000".into())),
        ("n".to_owned(), AttributeValue::N("41".into())),
    ]);
    client
        .put_item()
        .table_name(&env.table)
        .set_item(Some(past))
        .send()
        .await
        .expect("put");
    let r = call(&env, "read", Some(&c)).await;
    assert_eq!(n(&r), None, "a past _ttl counts as missing");
}

async fn item(env: &Env, id: &str) -> Option<HashMap<String, AttributeValue>> {
    env.client
        .as_ref()
        .expect("client")
        .get_item()
        .table_name(&env.table)
        .key("_idx", AttributeValue::S(id.to_owned()))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item
}

async fn put(env: &Env, item: HashMap<String, AttributeValue>) {
    env.client
        .as_ref()
        .expect("client")
        .put_item()
        .table_name(&env.table)
        .set_item(Some(item))
        .send()
        .await
        .expect("put");
}

fn epoch() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_destroy_or_regenerate_on_a_fresh_session_deletes_the_requests_item() {
    require_dynamodb();
    let env = env(Provider::DynamoDb, &[]).await;
    for op in ["destroy-fresh", "regenerate-fresh"] {
        let c = idx(&call(&env, "inc", None).await).expect("written");
        assert!(item(&env, &item_id(&c)).await.is_some());
        let r = call(&env, op, Some(&c)).await;
        assert!(
            item(&env, &item_id(&c)).await.is_none(),
            "{op}: the request's item is deleted"
        );
        assert_eq!(n(&call(&env, "read", Some(&c)).await), None, "{op}");
        let after = idx(&r).expect("a cookie");
        if op == "regenerate-fresh" {
            assert_ne!(item_id(&after), item_id(&c));
            assert_eq!(n(&call(&env, "read", Some(&after)).await), Some(7));
        } else {
            assert_eq!(after, "", "destroy expires the cookie");
        }
    }
}

/// A request that read the session before another request ended it must not bring it back.
/// Request A reads, then waits; request B destroys or regenerates the session; then A writes.
#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_write_in_flight_during_logout_does_not_resurrect_the_session() {
    require_dynamodb();
    use tokio::sync::Notify;
    let env = env(Provider::DynamoDb, &[]).await;
    for ending in ["destroy", "regenerate"] {
        let c = idx(&call(&env, "inc", None).await).expect("written");
        let (read_done, go) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        let slow = {
            let (read_done, go) = (Arc::clone(&read_done), Arc::clone(&go));
            move |req: Request| {
                let (read_done, go) = (Arc::clone(&read_done), Arc::clone(&go));
                async move {
                    let n = req.session.get::<u64>("n")?.unwrap_or(0) + 1;
                    read_done.notify_one();
                    go.notified().await;
                    Ok::<_, http::Error>(
                        Response::redirect("/").session(json!({ "user": "ann", "n": n })),
                    )
                }
            }
        };
        let handler = Handler::with_store(Arc::clone(&env.store), slow);
        let request = stores::event("read", Some(&c));
        let (a, b) = tokio::join!(invoke(&handler, &request), async {
            read_done.notified().await;
            let b = call(&env, ending, Some(&c)).await;
            go.notify_one();
            b
        });
        assert_eq!(a.status(), 302, "{ending}: the slow request still answers");
        assert_eq!(idx(&a), None, "{ending}: with no session cookie");
        assert!(
            item(&env, &item_id(&c)).await.is_none(),
            "{ending}: the old item stays gone"
        );
        assert_eq!(n(&call(&env, "read", Some(&c)).await), None);
        if ending == "regenerate" {
            let new = idx(&b).expect("regenerated");
            assert_eq!(
                n(&call(&env, "read", Some(&new)).await),
                Some(1),
                "the regenerated session is untouched by the late write"
            );
        }
    }
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_a_node_item_without_created_starts_its_lifetime_at_the_first_rust_write() {
    require_dynamodb();
    let env = env(Provider::DynamoDb, &[("ARC_SESSION_MAX_AGE", "600")]).await;
    let c = idx(&call(&env, "inc", None).await).expect("written");
    let id = item_id(&c);
    // As @architect/functions writes it: no _created, no _iat.
    let future_ttl = (epoch() + 3600).to_string();
    put(
        &env,
        HashMap::from([
            ("_idx".to_owned(), AttributeValue::S(id.clone())),
            ("_ttl".to_owned(), AttributeValue::N(future_ttl)),
            (
                "_secret".to_owned(),
                AttributeValue::S("node-secret".into()),
            ),
            ("n".to_owned(), AttributeValue::N("5".into())),
        ]),
    )
    .await;
    assert_eq!(n(&call(&env, "read", Some(&c)).await), Some(5));
    let stored = item(&env, &id).await.expect("item");
    assert!(!stored.contains_key("_created"), "reading writes nothing");
    let before = epoch();
    call(&env, "inc", Some(&c)).await;
    let stored = item(&env, &id).await.expect("item");
    let created: u64 = stored["_created"]
        .as_n()
        .expect("N")
        .parse()
        .expect("number");
    assert!(
        (before.saturating_sub(1)..=epoch()).contains(&created),
        "_created {created} is the first Rust write ({before})"
    );
    assert_eq!(stored["_secret"], AttributeValue::S("node-secret".into()));
    assert_eq!(stored["n"], AttributeValue::N("6".into()));
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn dynamodb_node_items_with_binary_attributes_read_without_error() {
    require_dynamodb();
    use aws_sdk_dynamodb::primitives::Blob;
    let env = env(Provider::DynamoDb, &[]).await;
    let c = idx(&call(&env, "inc", None).await).expect("written");
    put(
        &env,
        HashMap::from([
            ("_idx".to_owned(), AttributeValue::S(item_id(&c))),
            (
                "_ttl".to_owned(),
                AttributeValue::N((epoch() + 3600).to_string()),
            ),
            ("n".to_owned(), AttributeValue::N("3".into())),
            (
                "avatar".to_owned(),
                AttributeValue::B(Blob::new(b"\x00\xffhi".to_vec())),
            ),
            (
                "nested".to_owned(),
                AttributeValue::M(HashMap::from([(
                    "raw".to_owned(),
                    AttributeValue::B(Blob::new(b"abc".to_vec())),
                )])),
            ),
            ("tags".to_owned(), AttributeValue::Ss(vec!["a".into()])),
            ("sizes".to_owned(), AttributeValue::Ns(vec!["1.5".into()])),
            (
                "blobs".to_owned(),
                AttributeValue::Bs(vec![Blob::new(b"x".to_vec())]),
            ),
        ]),
    )
    .await;
    let r = call(&env, "read", Some(&c)).await;
    assert_eq!(r.status(), 200, "{}", r.text());
    let v: Value = serde_json::from_slice(r.body()).expect("json");
    assert_eq!(v["n"], 3);
    assert_eq!(v["session"]["avatar"], "AP9oaQ==");
    assert_eq!(v["session"]["nested"]["raw"], "YWJj");
    assert_eq!(v["session"]["tags"], json!(["a"]));
    assert_eq!(v["session"]["sizes"], json!([1.5]));
    assert_eq!(v["session"]["blobs"], json!(["eA=="]));
}
