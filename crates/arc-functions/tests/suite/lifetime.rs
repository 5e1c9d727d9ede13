//! How long sessions last, in both providers: browser-session and remember-me cookies (their
//! attributes and their server-side expiry) and sliding renewal (renewed when due, not on every
//! read), through the handler wrapper and the axum layer, on API Gateway v2 events.
//!
//! Each case runs in both modes, `cookie::` and `dynamodb::`. The DynamoDB half needs a local
//! DynamoDB, so its tests are `#[ignore]`d: `scripts/test` starts dynalite, sets
//! `ARC_TEST_DYNAMODB=1` and runs them with `--include-ignored`; without dynalite they fail.
//! The clock is the real one, with lifetimes of a few seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use arc_functions::config::Config;
use arc_functions::http::session::{Expiry, SessionStore};
use arc_functions::http::{self, Handler, Request, Response};
use arc_functions::testing::{TestRequest, TestResponse};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::json;

use crate::support::dynamodb::{Calls, require_dynamodb};

const SECRET: &str = "lifetime-suite secret: 32 bytes or more";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Cookie,
    DynamoDb,
}

struct Env {
    store: Arc<SessionStore>,
    calls: Calls,
    client: Option<(Client, String)>,
}

async fn env(mode: Mode, ttl: u64, max_age: Option<u64>) -> Env {
    let ttl = ttl.to_string();
    let max_age = max_age.map(|m| m.to_string());
    let mut vars = vec![
        ("ARC_ENV".to_owned(), "testing".to_owned()),
        ("ARC_APP_SECRET".to_owned(), SECRET.to_owned()),
        ("ARC_SESSION_TTL".to_owned(), ttl),
    ];
    if let Some(max_age) = max_age {
        vars.push(("ARC_SESSION_MAX_AGE".to_owned(), max_age));
    }
    let calls = Calls::default();
    match mode {
        Mode::Cookie => Env {
            store: Arc::new(SessionStore::new(&Config::from_vars(vars).expect("config"))),
            calls,
            client: None,
        },
        Mode::DynamoDb => {
            require_dynamodb();
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let table = format!(
                "lifetime-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::SeqCst)
            );
            vars.push(("SESSION_TABLE_NAME".to_owned(), table.clone()));
            let shared = aws_config::load_from_env().await;
            let sdk = aws_sdk_dynamodb::config::Builder::from(&shared)
                .interceptor(calls.clone())
                .build();
            let client = Client::from_conf(sdk);
            crate::support::dynamodb::create_session_table(&client, &table).await;
            calls.take();
            let config = Config::from_vars(vars).expect("config");
            let store = SessionStore::with_dynamodb_client(&config, client.clone()).expect("mode");
            Env {
                store: Arc::new(store),
                calls,
                client: Some((client, table)),
            }
        }
    }
}

/// `/login?remember=browser|<seconds>` signs in with that expiry; `/count` counts; anything
/// else reads the session and writes nothing.
async fn route(req: Request) -> http::Result<Response> {
    let mut session = req.session.clone();
    match req.path.as_str() {
        "/login" => {
            session.regenerate();
            session.insert("user", "ann")?;
            match req.query.get("remember") {
                Some("browser") => session.set_expiry(Expiry::BrowserSession),
                Some(secs) => {
                    let secs = secs.parse::<u64>().map_err(|e| e.to_string())?;
                    session.set_expiry(Expiry::Idle(Duration::from_secs(secs)));
                }
                None => {}
            }
            Ok(Response::text("in").session(session))
        }
        "/count" => {
            let n = session.get::<u64>("n")?.unwrap_or(0) + 1;
            // A fresh object, as the guide's handlers return: the expiry must carry over.
            Ok(Response::text(n.to_string()).session(json!({ "user": "ann", "n": n })))
        }
        _ => Ok(Response::json(&json!({ "session": req.session }))),
    }
}

async fn get(env: &Env, path: &str, cookie: Option<&str>) -> TestResponse {
    let mut request = TestRequest::get(path);
    if let Some(cookie) = cookie {
        request = request.cookie(cookie);
    }
    let handler = Handler::with_store(Arc::clone(&env.store), route);
    request.send(&handler).await.expect("served")
}

fn set_cookie(response: &TestResponse) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("_idx="))
        .unwrap_or_default()
        .to_owned()
}

fn user(response: &TestResponse) -> Option<String> {
    let body: serde_json::Value = serde_json::from_slice(response.body()).expect("json");
    body["session"]["user"].as_str().map(str::to_owned)
}

async fn item_attribute(env: &Env, cookie: &str, name: &str) -> Option<AttributeValue> {
    let (client, table) = env.client.as_ref()?;
    let id = crate::support::dynamodb::item_id(cookie);
    let item = client
        .get_item()
        .table_name(table)
        .key("_idx", AttributeValue::S(id))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item?;
    item.get(name).cloned()
}

fn seconds(value: Option<AttributeValue>) -> u64 {
    match value {
        Some(AttributeValue::N(n)) => n.parse().expect("a number"),
        other => panic!("not a number: {other:?}"),
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn browser_session(mode: Mode) {
    let env = env(mode, 2, None).await;
    let login = get(&env, "/login?remember=browser", None).await;
    let set = set_cookie(&login);
    assert!(!set.is_empty(), "{mode:?}: signed in");
    assert!(
        !set.contains("Max-Age") && !set.contains("Expires"),
        "{mode:?}: a browser-session cookie: {set}"
    );
    let cookie = login.session_cookie().expect("cookie");
    if mode == Mode::DynamoDb {
        assert_eq!(
            item_attribute(&env, &cookie, "_expiry").await,
            Some(AttributeValue::S("browser".into()))
        );
    }
    // A later write keeps the choice, though the handler built its session afresh.
    let counted = get(&env, "/count", Some(&cookie)).await;
    let set = set_cookie(&counted);
    assert!(
        !set.is_empty() && !set.contains("Max-Age"),
        "{mode:?}: {set}"
    );
    assert_eq!(
        user(&get(&env, "/", Some(&cookie)).await).as_deref(),
        Some("ann")
    );
    // Server-side it still ends ARC_SESSION_TTL after the last write: a browser that never
    // closes does not keep it alive.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        user(&get(&env, "/", Some(&cookie)).await),
        None,
        "{mode:?}: lapsed at the TTL"
    );
}

async fn remember_me(mode: Mode) {
    // TTL 1 s, remember me for 4 s, at most 3 s in all.
    let env = env(mode, 1, Some(3)).await;
    let login = get(&env, "/login?remember=4", None).await;
    let set = set_cookie(&login);
    let max_age: u64 = set
        .split("Max-Age=")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{mode:?}: a Max-Age in {set}"));
    assert!(
        (2..=3).contains(&max_age),
        "{mode:?}: the remaining maximum age, not 4 s: {set}"
    );
    let cookie = login.session_cookie().expect("cookie");
    if mode == Mode::DynamoDb {
        assert_eq!(
            item_attribute(&env, &cookie, "_expiry").await,
            Some(AttributeValue::N("4".into()))
        );
        let ttl = seconds(item_attribute(&env, &cookie, "_ttl").await);
        assert!(ttl <= now() + 3, "_ttl capped at the maximum age: {ttl}");
    }
    // Past the configured TTL, the session of its own lifetime is still open.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        user(&get(&env, "/", Some(&cookie)).await).as_deref(),
        Some("ann"),
        "{mode:?}: remember me outlives ARC_SESSION_TTL"
    );
    // And the maximum age ends it, however it was used.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    assert_eq!(
        user(&get(&env, "/", Some(&cookie)).await),
        None,
        "{mode:?}: ended at ARC_SESSION_MAX_AGE"
    );

    // A default session of the same app lapses at the TTL.
    let plain = get(&env, "/login", None).await;
    let cookie = plain.session_cookie().expect("cookie");
    assert!(set_cookie(&plain).contains("Max-Age=1"), "{mode:?}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(user(&get(&env, "/", Some(&cookie)).await), None, "{mode:?}");
}

async fn sliding_renewal(mode: Mode) {
    // Four seconds: the clock counts whole seconds, so a lifetime of n lasts n - 1 to n.
    let env = env(mode, 4, None).await;
    let login = get(&env, "/login", None).await;
    let cookie = login.session_cookie().expect("cookie");
    env.calls.take();
    // Fresh: a read writes nothing, and sends no cookie.
    let read = get(&env, "/", Some(&cookie)).await;
    assert_eq!(user(&read).as_deref(), Some("ann"));
    assert!(read.session_cookie().is_none(), "{mode:?}: not due yet");
    if mode == Mode::DynamoDb {
        assert_eq!(env.calls.take(), ["GetItem"], "a read costs one call");
    }
    // Past half the TTL: the next read renews.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let before = match mode {
        Mode::DynamoDb => seconds(item_attribute(&env, &cookie, "_ttl").await),
        Mode::Cookie => 0,
    };
    env.calls.take();
    let read = get(&env, "/", Some(&cookie)).await;
    let renewed = read.session_cookie().expect("renewed: a new cookie");
    assert!(set_cookie(&read).contains("Max-Age=4"), "{mode:?}");
    if mode == Mode::DynamoDb {
        assert_eq!(
            env.calls.take(),
            ["GetItem", "UpdateItem"],
            "renewal updates the expiry only"
        );
        assert_eq!(renewed, cookie, "the same id");
        let after = seconds(item_attribute(&env, &cookie, "_ttl").await);
        assert!(after > before, "_ttl moved on: {before} -> {after}");
    }
    // Right after, not due again.
    let again = get(&env, "/", Some(&renewed)).await;
    assert!(
        again.session_cookie().is_none(),
        "{mode:?}: once per half TTL"
    );
    // Renewed at ~2.1 s, it outlives the 4 s it had without renewal.
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let alive = get(&env, "/", Some(&renewed)).await;
    assert_eq!(
        user(&alive).as_deref(),
        Some("ann"),
        "{mode:?}: an active session does not lapse"
    );
    // Left alone for the whole TTL, it lapses.
    let last = alive.session_cookie().unwrap_or(renewed);
    tokio::time::sleep(Duration::from_millis(4100)).await;
    assert_eq!(user(&get(&env, "/", Some(&last)).await), None, "{mode:?}");
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn renewal_never_undoes_a_write_made_since_the_read() {
    require_dynamodb();
    let env = env(Mode::DynamoDb, 4, None).await;
    let cookie = get(&env, "/login", None)
        .await
        .session_cookie()
        .expect("cookie");
    // Due (two seconds of four gone) and surely alive: the clock counts whole seconds.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // Read (renewal due), and while that request runs, another counts.
    let store = Arc::clone(&env.store);
    let stale = TestRequest::get("/").cookie(&cookie);
    let slow = Handler::with_store(store, move |req: Request| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok::<_, http::Error>(Response::json(&json!({ "session": req.session })))
    });
    let (read, counted) = tokio::join!(stale.send(&slow), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        get(&env, "/count", Some(&cookie)).await
    });
    assert!(read.expect("served").session_cookie().is_some(), "renewed");
    assert_eq!(counted.text(), "1");
    let body: serde_json::Value =
        serde_json::from_slice(get(&env, "/", Some(&cookie)).await.body()).expect("json");
    assert_eq!(body["session"]["n"], 1, "the count survives the renewal");
}

#[cfg(feature = "axum")]
async fn sliding_renewal_in_axum(mode: Mode) {
    use arc_functions::axum::{Session, SessionLayer};
    use axum::Router;
    use axum::routing::get as on_get;

    async fn read(session: Session) -> String {
        session
            .get::<String>("user")
            .ok()
            .flatten()
            .unwrap_or_default()
    }
    let env = env(mode, 4, None).await;
    let cookie = get(&env, "/login", None)
        .await
        .session_cookie()
        .expect("cookie");
    let app = Router::new()
        .route("/", on_get(read))
        .layer(SessionLayer::new(Arc::clone(&env.store)));
    let fresh = TestRequest::get("/")
        .cookie(&cookie)
        .send_to(app.clone())
        .await
        .expect("served");
    assert_eq!(fresh.text(), "ann");
    assert!(fresh.session_cookie().is_none(), "{mode:?}: not due");
    // Due (two seconds of four gone) and surely alive: the clock counts whole seconds.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let due = TestRequest::get("/")
        .cookie(&cookie)
        .send_to(app)
        .await
        .expect("served");
    assert!(due.session_cookie().is_some(), "{mode:?}: renewed");
    assert!(
        due.header("cache-control")
            .is_some_and(|c| c.contains("private")),
        "{mode:?}: a response with a cookie is private"
    );
}

/// The write budget, measured: reads every 50 ms for 6 s with `ARC_SESSION_TTL=2` renew at
/// most once per second (half the TTL), so about 50 writes per 1,000 reads here; at the
/// default week, a read a minute costs 1000 × 60 s / 3.5 days ≈ 0.2 writes per 1,000 reads.
async fn renewal_budget(mode: Mode) {
    let env = env(mode, 2, None).await;
    let mut cookie = get(&env, "/login", None)
        .await
        .session_cookie()
        .expect("cookie");
    env.calls.take();
    let started = std::time::Instant::now();
    let (mut reads, mut renewals) = (0u32, 0u32);
    while started.elapsed() < Duration::from_secs(6) {
        let read = get(&env, "/", Some(&cookie)).await;
        assert_eq!(
            user(&read).as_deref(),
            Some("ann"),
            "{mode:?}: never lapses"
        );
        reads += 1;
        if let Some(renewed) = read.session_cookie() {
            renewals += 1;
            cookie = renewed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if mode == Mode::DynamoDb {
        let calls = env.calls.take();
        let updates = calls.iter().filter(|c| *c == "UpdateItem").count();
        assert_eq!(updates, renewals as usize, "one UpdateItem per renewal");
        assert_eq!(calls.len(), (reads + renewals) as usize, "{calls:?}");
    }
    // Whole seconds: at most one renewal per second boundary crossed, plus one.
    assert!((5..=8).contains(&renewals), "{mode:?}: {renewals} renewals");
    eprintln!(
        "{mode:?}: {reads} reads, {renewals} renewals: {:.0} writes per 1,000 reads",
        f64::from(renewals) * 1000.0 / f64::from(reads)
    );
}

/// A renewal that finds its session ended says nothing and sends no cookie; one that fails
/// logs why, and the page is served all the same, without the cookie.
#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_renewal_that_cannot_happen_never_fails_the_page() {
    require_dynamodb();
    let env = env(Mode::DynamoDb, 4, None).await;
    let (client, table) = env.client.clone().expect("DynamoDB mode");
    let cookie = get(&env, "/login", None)
        .await
        .session_cookie()
        .expect("cookie");
    // Due, and surely alive, as above.
    tokio::time::sleep(Duration::from_millis(2100)).await;

    // The item is deleted while the request runs (a sign-out elsewhere).
    let id = crate::support::dynamodb::item_id(&cookie);
    let deleting = Handler::with_store(Arc::clone(&env.store), move |req: Request| {
        let (client, table, id) = (client.clone(), table.clone(), id.clone());
        async move {
            client
                .delete_item()
                .table_name(table)
                .key("_idx", AttributeValue::S(id))
                .send()
                .await?;
            Ok::<_, http::Error>(Response::text(
                req.session.get::<String>("user")?.unwrap_or_default(),
            ))
        }
    });
    let (logs, guard) = crate::support::capture_logs();
    let r = TestRequest::get("/")
        .cookie(&cookie)
        .send(&deleting)
        .await
        .expect("served");
    assert_eq!((r.status(), r.text().as_str()), (200, "ann"));
    assert!(
        r.session_cookie().is_none(),
        "an ended session is not renewed"
    );
    assert!(
        !crate::support::logged(&logs).contains("renewing the session failed"),
        "an ended session is no fault: {}",
        crate::support::logged(&logs)
    );
    drop(guard);

    // A fresh session, renewed through a client whose updates fail.
    let cookie = get(&env, "/login", None)
        .await
        .session_cookie()
        .expect("cookie");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (client, table) = env.client.clone().expect("DynamoDB mode");
    let failing = Client::from_conf(
        client
            .config()
            .to_builder()
            .interceptor(crate::support::dynamodb::Fail("UpdateItem"))
            .build(),
    );
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("ARC_SESSION_TTL", "4"),
        ("SESSION_TABLE_NAME", table.as_str()),
    ])
    .expect("config");
    let store = SessionStore::with_dynamodb_client(&config, failing).expect("DynamoDB mode");
    let (logs, _guard) = crate::support::capture_logs();
    let r = TestRequest::get("/")
        .cookie(&cookie)
        .send(&Handler::with_store(Arc::new(store), route))
        .await
        .expect("served");
    assert_eq!(r.status(), 200);
    assert_eq!(user(&r).as_deref(), Some("ann"));
    assert!(r.session_cookie().is_none(), "not renewed");
    assert!(
        crate::support::logged(&logs).contains("renewing the session failed"),
        "{}",
        crate::support::logged(&logs)
    );
}

/// `_expiry` holds `browser` or a number of seconds; anything else (written by hand, or by a
/// later version) is the default lifetime, not a browser-session cookie.
#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn an_unknown_expiry_attribute_reads_as_the_default() {
    require_dynamodb();
    let env = env(Mode::DynamoDb, 600, None).await;
    let (client, table) = env.client.clone().expect("DynamoDB mode");
    for (stored, max_age) in [
        (AttributeValue::S("weekly".into()), Some("Max-Age=600")),
        (AttributeValue::S("browser".into()), None),
        (AttributeValue::N("900".into()), Some("Max-Age=900")),
    ] {
        let cookie = get(&env, "/login", None)
            .await
            .session_cookie()
            .expect("cookie");
        let id = crate::support::dynamodb::item_id(&cookie);
        client
            .update_item()
            .table_name(&table)
            .key("_idx", AttributeValue::S(id))
            .update_expression("SET #e = :e")
            .expression_attribute_names("#e", "_expiry")
            .expression_attribute_values(":e", stored.clone())
            .send()
            .await
            .expect("set _expiry");
        let written = set_cookie(&get(&env, "/count", Some(&cookie)).await);
        match max_age {
            Some(max_age) => assert!(written.contains(max_age), "{stored:?}: {written}"),
            None => assert!(!written.contains("Max-Age"), "{stored:?}: {written}"),
        }
    }
}

/// The cases of both modes, as `cookie::` and `dynamodb::` (`$needs`: what the mode needs).
macro_rules! lifetime_suite {
    ($name:ident, $mode:expr $(, #[$needs:meta])?) => {
        mod $name {
            use super::*;

            #[tokio::test]
            $(#[$needs])?
            async fn a_browser_session_cookie_has_no_max_age_and_lapses_server_side_at_the_ttl() {
                browser_session($mode).await;
            }

            #[tokio::test]
            $(#[$needs])?
            async fn remember_me_outlives_the_ttl_within_the_maximum_age() {
                remember_me($mode).await;
            }

            #[tokio::test]
            $(#[$needs])?
            async fn sliding_renewal_renews_when_due_and_not_on_every_read() {
                sliding_renewal($mode).await;
            }

            #[cfg(feature = "axum")]
            #[tokio::test]
            $(#[$needs])?
            async fn sliding_renewal_through_the_axum_layer() {
                sliding_renewal_in_axum($mode).await;
            }

            #[tokio::test]
            $(#[$needs])?
            async fn renewal_writes_stay_within_one_per_half_ttl() {
                renewal_budget($mode).await;
            }
        }
    };
}

lifetime_suite!(cookie, Mode::Cookie);

// `env` checks for the server first, so that without it these fail saying so.
lifetime_suite!(
    dynamodb,
    Mode::DynamoDb,
    #[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
);
