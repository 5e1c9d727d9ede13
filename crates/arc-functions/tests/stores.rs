//! One behaviour suite, run against every session provider (as tower-sessions runs its route
//! tests against every store), so a backend cannot quietly behave differently; then what only
//! DynamoDB has: call counts, item layout and faults.
//!
//! The DynamoDB half needs a local DynamoDB (dynalite). `scripts/test` starts one and sets
//! `ARC_TEST_DYNAMODB=1`, `AWS_ENDPOINT_URL_DYNAMODB`, `AWS_REGION` and credentials; without
//! them those tests print that they skipped, and with `ARC_TEST_DYNAMODB=1` but no server they
//! fail.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_functions::config::Config;
use arc_functions::http::session::{Session, SessionStore};
use arc_functions::http::{self, Handler, Request, Response};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::Body as LambdaBody;
use lambda_http::http::header::SET_COOKIE;
use serde_json::{Value, json};

mod support;

use support::{Calls, capture_logs, logged};

const V2: &str = include_str!("fixtures/apigw_v2_request.json");
const SECRET: &str = "store-suite secret: 32 bytes or more";
const OLD_SECRET: &str = "the previous secret: 32 bytes or more";

// ---------------------------------------------------------------------------------------------
// Harness

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Provider {
    SealedCookie,
    DynamoDb,
}

/// A store of one provider with extra environment, plus what the DynamoDB tests inspect.
struct Env {
    store: Arc<SessionStore>,
    calls: Calls,
    client: Option<Client>,
    table: String,
}

fn dynamodb_available() -> bool {
    if std::env::var("ARC_TEST_DYNAMODB").is_ok_and(|v| v == "1") {
        return true;
    }
    eprintln!("SKIPPED: DynamoDB tests need a local DynamoDB; run scripts/test");
    false
}

/// A client counting its calls; with `endpoint` (a dynalite the test will stop) it fails fast
/// instead of retrying for seconds, else it keeps the SDK's defaults.
async fn sdk_client(endpoint: Option<&str>, calls: &Calls) -> Client {
    // The wrapper logs each failure's cause; print it when a test fails.
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let shared = aws_config::load_from_env().await;
    let mut builder = aws_sdk_dynamodb::config::Builder::from(&shared).interceptor(calls.clone());
    if let Some(endpoint) = endpoint {
        builder = builder
            .endpoint_url(endpoint)
            .retry_config(
                aws_sdk_dynamodb::config::retry::RetryConfig::standard().with_max_attempts(2),
            )
            .timeout_config(
                aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                    .operation_timeout(Duration::from_secs(5))
                    .build(),
            );
    }
    Client::from_conf(builder.build())
}

fn unique_table() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "sessions-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

async fn env(provider: Provider, vars: &[(&str, &str)]) -> Env {
    let calls = Calls::default();
    let mut all: Vec<(String, String)> = vec![
        ("ARC_ENV".into(), "testing".into()),
        ("ARC_APP_SECRET".into(), SECRET.into()),
    ];
    all.extend(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    match provider {
        Provider::SealedCookie => {
            let config = Config::from_vars(all).expect("config");
            Env {
                store: Arc::new(SessionStore::new(&config)),
                calls,
                client: None,
                table: String::new(),
            }
        }
        Provider::DynamoDb => {
            let table = unique_table();
            all.push(("SESSION_TABLE_NAME".into(), table.clone()));
            let config = Config::from_vars(all).expect("config");
            let client = sdk_client(None, &calls).await;
            support::create_session_table(&client, &table).await;
            calls.take();
            let store =
                SessionStore::with_dynamodb_client(&config, client.clone()).expect("DynamoDB mode");
            Env {
                store: Arc::new(store),
                calls,
                client: Some(client),
                table,
            }
        }
    }
}

fn event(cookie: Option<&str>) -> lambda_http::Request {
    let mut value: Value = serde_json::from_str(V2).expect("fixture");
    value["cookies"] = match cookie {
        Some(c) => json!([format!("_idx={c}")]),
        None => json!([]),
    };
    lambda_http::request::from_str(&value.to_string()).expect("event")
}

fn text(response: &lambda_http::Response<LambdaBody>) -> String {
    match response.body() {
        LambdaBody::Text(t) => t.clone(),
        LambdaBody::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

/// The value of the `_idx` cookie the response sets: `Some("")` when it expires it.
fn idx(response: &lambda_http::Response<LambdaBody>) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("_idx="))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

/// One route that does what the `op` query parameter says, and answers the session as JSON.
async fn route(req: Request) -> http::Result<Response> {
    let mut session = req.session.clone();
    let answer = |s: &Session| {
        Response::json(&json!({ "session": s, "n": s.get::<u64>("n").ok().flatten() }))
    };
    Ok(match req.query.get("op") {
        Some("inc") => {
            let n = session.get::<u64>("n")?.unwrap_or(0) + 1;
            session.insert("n", n)?;
            answer(&session).session(session)
        }
        Some("set") => {
            // A fresh object, as the guide's handlers return: the id must survive.
            let n = session.get::<u64>("n")?.unwrap_or(0) + 1;
            answer(&session).session(
                json!({ "n": n, "kinds": { "s": "x", "b": true, "l": [1, "a"], "z": null } }),
            )
        }
        Some("regenerate") => {
            session.regenerate();
            answer(&session).session(session)
        }
        Some("destroy") => {
            session.destroy();
            answer(&session).session(session)
        }
        // A session built afresh, not a clone of req.session: it must still end the request's.
        Some("destroy-fresh") => {
            let mut fresh = Session::new();
            fresh.destroy();
            answer(&session).session(fresh)
        }
        Some("regenerate-fresh") => {
            let mut fresh = Session::try_from(json!({ "n": 7 }))?;
            fresh.regenerate();
            answer(&session).session(fresh)
        }
        _ => answer(&session),
    })
}

async fn call(env: &Env, op: &str, cookie: Option<&str>) -> lambda_http::Response<LambdaBody> {
    let mut event = event(cookie);
    *event.uri_mut() = format!("/?op={op}").parse().expect("uri");
    Handler::with_store(Arc::clone(&env.store), route)
        .handle(event)
        .await
}

fn n(response: &lambda_http::Response<LambdaBody>) -> Option<u64> {
    let v: Value = serde_json::from_str(&text(response)).expect("json answer");
    v["n"].as_u64()
}

// ---------------------------------------------------------------------------------------------
// The suite every provider must pass

async fn lifecycle(provider: Provider) {
    let env = env(provider, &[]).await;

    let r = call(&env, "read", None).await;
    assert_eq!((r.status().as_u16(), n(&r)), (200, None), "starts empty");
    assert_eq!(idx(&r), None, "reading only sets no cookie");

    let r = call(&env, "inc", None).await;
    assert_eq!(n(&r), Some(1));
    let c1 = idx(&r).expect("written");

    let r = call(&env, "read", Some(&c1)).await;
    assert_eq!(n(&r), Some(1), "reads back");

    let r = call(&env, "set", Some(&c1)).await;
    assert_eq!(n(&r), Some(1), "answers what it read");
    let c2 = idx(&r).expect("updated");
    let r = call(&env, "read", Some(&c2)).await;
    assert_eq!(n(&r), Some(2), "update kept");
    if provider == Provider::DynamoDb {
        assert_eq!(c1, c2, "a handler's fresh object updates the same item");
    }

    let r = call(&env, "regenerate", Some(&c2)).await;
    let c3 = idx(&r).expect("regenerated");
    assert_ne!(c3, c2);
    let r = call(&env, "read", Some(&c3)).await;
    assert_eq!(n(&r), Some(2), "regenerate keeps the data");
    if provider == Provider::DynamoDb {
        let r = call(&env, "read", Some(&c2)).await;
        assert_eq!(n(&r), None, "the old id is gone after regenerate");
    }

    let r = call(&env, "destroy", Some(&c3)).await;
    assert_eq!(idx(&r).as_deref(), Some(""), "destroy expires the cookie");
    let set_cookie = r.headers()[SET_COOKIE].to_str().expect("ascii").to_owned();
    assert!(set_cookie.contains("Max-Age=0"), "{set_cookie}");
    let r = call(&env, "read", None).await;
    assert_eq!(n(&r), None, "empty after destroy");
    if provider == Provider::DynamoDb {
        let r = call(&env, "read", Some(&c3)).await;
        assert_eq!(n(&r), None, "the destroyed item is deleted");
    }
}

async fn idle_expiry(provider: Provider) {
    let env = env(provider, &[("ARC_SESSION_TTL", "1")]).await;
    let c = idx(&call(&env, "inc", None).await).expect("written");
    assert_eq!(n(&call(&env, "read", Some(&c)).await), Some(1));
    // Whole seconds: after two of them the one-second lifetime is surely over.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = call(&env, "read", Some(&c)).await;
    assert_eq!(
        (r.status().as_u16(), n(&r)),
        (200, None),
        "expired reads as empty"
    );
}

async fn absolute_expiry(provider: Provider) {
    let env = env(provider, &[("ARC_SESSION_MAX_AGE", "3")]).await;
    let c = idx(&call(&env, "inc", None).await).expect("written");
    // Whole seconds: one second in, the session is surely live; it is renewed by a write...
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let r = call(&env, "inc", Some(&c)).await;
    assert_eq!(n(&r), Some(2), "live within ARC_SESSION_MAX_AGE");
    let c = idx(&r).expect("written");
    // ...yet three seconds after its creation it is over, though the idle TTL is a week.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = call(&env, "read", Some(&c)).await;
    assert_eq!(n(&r), None, "past ARC_SESSION_MAX_AGE the session is empty");
}

async fn tampered_cookie(provider: Provider) {
    let env = env(provider, &[]).await;
    let c = idx(&call(&env, "inc", None).await).expect("written");
    let calls_before = env.calls.count();
    for i in [0, c.len() / 2, c.len() - 1] {
        let mut bytes = c.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        let r = call(&env, "read", Some(&tampered)).await;
        assert_eq!((r.status().as_u16(), n(&r)), (200, None), "byte {i}");
    }
    assert_eq!(
        env.calls.count(),
        calls_before,
        "a forged cookie costs no DynamoDB call"
    );
}

async fn key_rotation(provider: Provider) {
    let old = env(provider, &[("ARC_APP_SECRET", OLD_SECRET)]).await;
    let c_old = idx(&call(&old, "inc", None).await).expect("written");

    let mut vars = vec![("ARC_APP_SECRET_PREVIOUS", OLD_SECRET)];
    let table;
    if provider == Provider::DynamoDb {
        table = old.table.clone();
        vars.push(("SESSION_TABLE_NAME", table.as_str()));
    }
    let rotated = rotated_env(provider, &vars, &old).await;
    let r = call(&rotated, "inc", Some(&c_old)).await;
    assert_eq!(n(&r), Some(2), "an old-key cookie still opens");
    let c_new = idx(&r).expect("re-written");
    assert_ne!(c_new, c_old);

    // Which key sealed or signed it: only the current secret opens the new cookie.
    let current_only = rotated_env(provider, &vars[1..], &old).await;
    assert_eq!(n(&call(&current_only, "read", Some(&c_new)).await), Some(2));
    assert_eq!(n(&call(&current_only, "read", Some(&c_old)).await), None);
    assert_eq!(
        n(&call(&old, "read", Some(&c_new)).await),
        None,
        "never the old key"
    );
}

async fn lowered_ttl(provider: Provider) {
    let long = env(provider, &[("ARC_SESSION_TTL", "1000")]).await;
    let c = idx(&call(&long, "inc", None).await).expect("written");
    let mut vars = vec![("ARC_SESSION_TTL", "1")];
    if provider == Provider::DynamoDb {
        vars.push(("SESSION_TABLE_NAME", long.table.as_str()));
    }
    let short = rotated_env(provider, &vars, &long).await;
    // Whole seconds: after two of them the new one-second lifetime is surely over.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        n(&call(&long, "read", Some(&c)).await),
        Some(1),
        "alive under 1000 s"
    );
    assert_eq!(
        n(&call(&short, "read", Some(&c)).await),
        None,
        "the lowered TTL ends it"
    );
}

/// A store with the current SECRET (and `vars`), sharing `old`'s table in DynamoDB mode.
async fn rotated_env(provider: Provider, vars: &[(&str, &str)], old: &Env) -> Env {
    let mut all = vec![("ARC_ENV", "testing"), ("ARC_APP_SECRET", SECRET)];
    all.extend_from_slice(vars);
    let config = Config::from_vars(all.iter().copied()).expect("config");
    let store = match (provider, &old.client) {
        (Provider::DynamoDb, Some(client)) => {
            SessionStore::with_dynamodb_client(&config, client.clone()).expect("DynamoDB mode")
        }
        _ => SessionStore::new(&config),
    };
    Env {
        store: Arc::new(store),
        calls: old.calls.clone(),
        client: old.client.clone(),
        table: old.table.clone(),
    }
}

/// 64 sessions served at once through one `Handler` on a multi-threaded runtime, as
/// `http::run` serves concurrent invocations: each request must see its own session, and each
/// write must land in its own.
async fn concurrency(provider: Provider) {
    const SESSIONS: usize = 64;
    let env = env(provider, &[]).await;
    let handler = Handler::with_store(Arc::clone(&env.store), route);
    let request = |op: &str, cookie: Option<&str>| {
        let mut event = event(cookie);
        *event.uri_mut() = format!("/?op={op}").parse().expect("uri");
        event
    };

    let started = (0..SESSIONS).map(|_| {
        let (handler, event) = (handler.clone(), request("inc", None));
        tokio::spawn(async move { idx(&handler.handle(event).await).expect("written") })
    });
    let mut cookies = Vec::new();
    for task in started.collect::<Vec<_>>() {
        cookies.push(task.await.expect("task"));
    }
    let distinct: std::collections::HashSet<_> = cookies.iter().collect();
    assert_eq!(
        distinct.len(),
        SESSIONS,
        "every new session has its own cookie"
    );

    // Session i is counted up i % 5 more times, all sessions at once.
    let counted = cookies.iter().enumerate().map(|(i, cookie)| {
        let (handler, mut cookie) = (handler.clone(), cookie.clone());
        tokio::spawn(async move {
            for _ in 0..i % 5 {
                let r = handler.handle(request("inc", Some(&cookie))).await;
                cookie = idx(&r).expect("rewritten");
            }
            let r = handler.handle(request("read", Some(&cookie))).await;
            (i, n(&r))
        })
    });
    for task in counted.collect::<Vec<_>>() {
        let (i, n) = task.await.expect("task");
        assert_eq!(n, Some(1 + (i % 5) as u64), "session {i}");
    }
}

macro_rules! store_suite {
    ($name:ident, $provider:expr) => {
        mod $name {
            use super::*;

            async fn enabled() -> bool {
                $provider == Provider::SealedCookie || dynamodb_available()
            }

            #[tokio::test]
            async fn empty_write_read_update_regenerate_destroy() {
                if enabled().await {
                    lifecycle($provider).await;
                }
            }

            #[tokio::test]
            async fn idle_expiry_empties_the_session() {
                if enabled().await {
                    idle_expiry($provider).await;
                }
            }

            #[tokio::test]
            async fn absolute_lifetime_ends_an_active_session() {
                if enabled().await {
                    absolute_expiry($provider).await;
                }
            }

            #[tokio::test]
            async fn a_tampered_cookie_is_an_empty_session() {
                if enabled().await {
                    tampered_cookie($provider).await;
                }
            }

            #[tokio::test]
            async fn lowering_the_ttl_shortens_live_sessions() {
                if enabled().await {
                    lowered_ttl($provider).await;
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sixty_four_concurrent_requests_keep_their_own_sessions() {
                if enabled().await {
                    concurrency($provider).await;
                }
            }

            #[tokio::test]
            async fn rotated_keys_open_old_cookies_and_reseal_with_the_new() {
                if enabled().await {
                    key_rotation($provider).await;
                }
            }
        }
    };
}

store_suite!(sealed_cookie, Provider::SealedCookie);
store_suite!(dynamodb, Provider::DynamoDb);

// ---------------------------------------------------------------------------------------------
// DynamoDB only

#[tokio::test]
async fn dynamodb_calls_per_request() {
    if !dynamodb_available() {
        return;
    }
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
async fn dynamodb_calls_per_socket_ticket() {
    if !dynamodb_available() {
        return;
    }
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
    let mut request = event(Some(&cookie));
    request
        .headers_mut()
        .insert("host", "app.example.com".parse().expect("a header"));
    let url = text(&http.handle(request).await);
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
        Ok(arc_functions::ws::Response::status(status))
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
async fn dynamodb_items_use_natural_types_and_a_fresh_ttl() {
    if !dynamodb_available() {
        return;
    }
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
async fn dynamodb_expired_item_is_missing_even_though_dynamodb_keeps_it() {
    if !dynamodb_available() {
        return;
    }
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

fn id_of(cookie: &str) -> String {
    cookie
        .rsplit_once('.')
        .map(|(id, _)| id.to_owned())
        .expect("id.sig")
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
async fn dynamodb_destroy_or_regenerate_on_a_fresh_session_deletes_the_requests_item() {
    if !dynamodb_available() {
        return;
    }
    let env = env(Provider::DynamoDb, &[]).await;
    for op in ["destroy-fresh", "regenerate-fresh"] {
        let c = idx(&call(&env, "inc", None).await).expect("written");
        assert!(item(&env, &id_of(&c)).await.is_some());
        let r = call(&env, op, Some(&c)).await;
        assert!(
            item(&env, &id_of(&c)).await.is_none(),
            "{op}: the request's item is deleted"
        );
        assert_eq!(n(&call(&env, "read", Some(&c)).await), None, "{op}");
        let after = idx(&r).expect("a cookie");
        if op == "regenerate-fresh" {
            assert_ne!(id_of(&after), id_of(&c));
            assert_eq!(n(&call(&env, "read", Some(&after)).await), Some(7));
        } else {
            assert_eq!(after, "", "destroy expires the cookie");
        }
    }
}

/// A request that read the session before another request ended it must not bring it back.
/// Request A reads, then waits; request B destroys or regenerates the session; then A writes.
#[tokio::test]
async fn dynamodb_a_write_in_flight_during_logout_does_not_resurrect_the_session() {
    if !dynamodb_available() {
        return;
    }
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
        let (a, b) = tokio::join!(handler.handle(event(Some(&c))), async {
            read_done.notified().await;
            let b = call(&env, ending, Some(&c)).await;
            go.notify_one();
            b
        });
        assert_eq!(a.status(), 302, "{ending}: the slow request still answers");
        assert_eq!(idx(&a), None, "{ending}: with no session cookie");
        assert!(
            item(&env, &id_of(&c)).await.is_none(),
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
async fn dynamodb_a_node_item_without_created_starts_its_lifetime_at_the_first_rust_write() {
    if !dynamodb_available() {
        return;
    }
    let env = env(Provider::DynamoDb, &[("ARC_SESSION_MAX_AGE", "600")]).await;
    let c = idx(&call(&env, "inc", None).await).expect("written");
    let id = id_of(&c);
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
async fn dynamodb_node_items_with_binary_attributes_read_without_error() {
    if !dynamodb_available() {
        return;
    }
    use aws_sdk_dynamodb::primitives::Blob;
    let env = env(Provider::DynamoDb, &[]).await;
    let c = idx(&call(&env, "inc", None).await).expect("written");
    put(
        &env,
        HashMap::from([
            ("_idx".to_owned(), AttributeValue::S(id_of(&c))),
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
    assert_eq!(r.status(), 200, "{}", text(&r));
    let v: Value = serde_json::from_str(&text(&r)).expect("json");
    assert_eq!(v["n"], 3);
    assert_eq!(v["session"]["avatar"], "AP9oaQ==");
    assert_eq!(v["session"]["nested"]["raw"], "YWJj");
    assert_eq!(v["session"]["tags"], json!(["a"]));
    assert_eq!(v["session"]["sizes"], json!([1.5]));
    assert_eq!(v["session"]["blobs"], json!(["eA=="]));
}

// ---------------------------------------------------------------------------------------------
// Faults: the client gets a generic 5xx, the log gets the cause, nobody gets a new cookie.

/// Captures what `tracing` logs on this thread while the guard lives.

#[tokio::test]
async fn dynamodb_missing_table_is_a_500_naming_the_table_in_the_log() {
    if !dynamodb_available() {
        return;
    }
    let calls = Calls::default();
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("SESSION_TABLE_NAME", "no-such-session-table"),
    ])
    .expect("config");
    let store = SessionStore::with_dynamodb_client(&config, sdk_client(None, &calls).await)
        .expect("DynamoDB mode");
    let env = Env {
        store: Arc::new(store),
        calls,
        client: None,
        table: String::new(),
    };
    let (logs, _guard) = capture_logs();
    let r = call(&env, "inc", None).await;
    assert_eq!(r.status(), 500);
    assert_eq!(idx(&r), None, "no cookie when the write failed");
    assert!(
        !text(&r).contains("no-such-session-table"),
        "no detail for the client"
    );
    let log = logged(&logs);
    assert!(log.contains("no-such-session-table"), "{log}");
    assert!(log.contains("ResourceNotFoundException"), "{log}");
}

/// A dynalite of the test's own, so it can be stopped mid-run without harming other tests.
struct OwnDynalite(Child);

impl OwnDynalite {
    fn start(table: &str) -> (Self, String) {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut child = Command::new("node")
            .arg(root.join("crates/cargo-arc/src/dev/dynalite.js"))
            .arg(table)
            .env("NODE_PATH", root.join(".tools/node_modules"))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs dynalite.js");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("READY line");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .unwrap_or_else(|| panic!("dynalite said {line:?}"))
            .to_owned();
        (Self(child), format!("http://127.0.0.1:{port}"))
    }
}

impl Drop for OwnDynalite {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A DynamoDB store on a dynalite of the test's own, which the test may stop.
async fn own_dynalite_env() -> (OwnDynalite, Env) {
    let table = unique_table();
    let (dynalite, endpoint) = OwnDynalite::start(&table);
    let calls = Calls::default();
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("SESSION_TABLE_NAME", &table),
    ])
    .expect("config");
    let store =
        SessionStore::with_dynamodb_client(&config, sdk_client(Some(&endpoint), &calls).await)
            .expect("DynamoDB mode");
    let env = Env {
        store: Arc::new(store),
        calls,
        client: None,
        table,
    };
    (dynalite, env)
}

/// A write that fails for any reason but "the item is gone" is a fault, never a quiet skip.
#[tokio::test]
async fn dynamodb_a_write_failing_after_the_read_is_a_503_not_a_skip() {
    if !dynamodb_available() {
        return;
    }
    let (dynalite, env) = own_dynalite_env().await;
    let c = idx(&call(&env, "inc", None).await).expect("works while the server runs");
    let server = Arc::new(Mutex::new(Some(dynalite)));
    let stops_the_server = {
        let server = Arc::clone(&server);
        move |req: Request| {
            let server = Arc::clone(&server);
            async move {
                let n = req.session.get::<u64>("n")?.unwrap_or(0) + 1;
                // The read went through; the write will find nobody there.
                drop(server.lock().ok().and_then(|mut s| s.take()));
                Ok::<_, http::Error>(Response::redirect("/").session(json!({ "n": n })))
            }
        }
    };
    let r = Handler::with_store(Arc::clone(&env.store), stops_the_server)
        .handle(event(Some(&c)))
        .await;
    assert_eq!(r.status(), 503, "{}", text(&r));
    assert_eq!(idx(&r), None);
}

#[tokio::test]
async fn dynamodb_stopped_mid_run_is_a_503_with_the_cause_in_the_log() {
    if !dynamodb_available() {
        return;
    }
    let (mut dynalite, env) = own_dynalite_env().await;
    let c = idx(&call(&env, "inc", None).await).expect("works while the server runs");

    let _ = dynalite.0.kill();
    let _ = dynalite.0.wait();
    let (logs, _guard) = capture_logs();
    for (op, cookie) in [("read", Some(c.as_str())), ("inc", None)] {
        let r = call(&env, op, cookie).await;
        assert_eq!(r.status(), 503, "{op}: {}", text(&r));
        assert_eq!(
            idx(&r),
            None,
            "{op}: no new cookie, so the browser keeps its last good one"
        );
    }
    let log = logged(&logs);
    assert!(log.contains("DynamoDB GetItem"), "{log}");
    assert!(log.contains("DynamoDB PutItem"), "{log}");
    assert!(
        log.to_lowercase().contains("connect"),
        "the cause is logged: {log}"
    );
}

/// These tests hand the store a client of their own (the SDK's own HTTP client), which sends
/// the start-up request as DynamoDB's health check; the library's own client only connects
/// (`dynamodb_prepare_connects_without_a_request_and_the_first_request_uses_it`, in
/// `src/aws/http_client/tests.rs`).
#[tokio::test]
async fn dynamodb_prepare_with_a_client_of_the_callers_sends_one_health_check() {
    if !dynamodb_available() {
        return;
    }
    let env = env(Provider::DynamoDb, &[]).await;
    let (logs, _guard) = capture_logs();
    env.store.prepare().await;
    assert_eq!(env.calls.count(), 1, "one request at start-up");
    let log = logged(&logs);
    assert!(
        !log.contains("not reached") && !log.contains("did not answer"),
        "dynalite answered the health check: {log}"
    );
    let r = call(&env, "inc", None).await;
    assert_eq!(n(&r), Some(1));
    assert_eq!(env.calls.count(), 2, "then only the request's PutItem");
    assert_eq!(
        env.calls.names(),
        ["GET", "PutItem"],
        "DynamoDB's health check (GET /) at start-up, no table read"
    );
}

#[tokio::test]
async fn dynamodb_prepare_never_fails_when_dynamodb_is_out_of_reach() {
    if !dynamodb_available() {
        return;
    }
    let (mut dynalite, env) = own_dynalite_env().await;
    let _ = dynalite.0.kill();
    let _ = dynalite.0.wait();
    let (logs, _guard) = capture_logs();
    env.store.prepare().await;
    let log = logged(&logs);
    assert!(log.contains("the first request will try again"), "{log}");
    // And the request after it meets the fault itself.
    let r = call(&env, "read", Some("x.y")).await;
    assert_eq!(
        r.status(),
        200,
        "a cookie that fails its signature is no DynamoDB call"
    );
    let r = call(&env, "inc", None).await;
    assert_eq!(r.status(), 503, "{}", text(&r));
}

#[tokio::test]
async fn sealed_cookie_prepare_does_nothing() {
    let env = env(Provider::SealedCookie, &[]).await;
    let (logs, _guard) = capture_logs();
    env.store.prepare().await;
    assert_eq!(logged(&logs), "", "no client, no log");
}
