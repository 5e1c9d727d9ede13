//! Writers that race on one session, and DynamoDB calls that outlast the invocation.
//!
//! - A write replaces the item only at the version it read: the loser of a race gets
//!   [`Error::Conflict`] (a `409` from the wrappers) and the winner's write stands.
//! - A write the SDK retried after DynamoDB had applied it (its answer lost) finds its own
//!   version and succeeds.
//! - A DynamoDB that does not answer is given up on before the invocation's deadline: a `503`
//!   with the cause logged, never a timed-out invocation.
//!
//! Against dynalite, so these tests are `#[ignore]`d (`scripts/test` starts it, sets
//! `ARC_TEST_DYNAMODB=1` and runs them with `--include-ignored`; without it they fail), but the
//! deadline test, whose DynamoDB is a socket that never answers.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::support::dynamodb::{Calls, LoseAnswer, require_dynamodb};
use crate::support::session_of;
use arc_functions::config::Config;
use arc_functions::http::session::{Error, Session, SessionStore};
use arc_functions::http::{self, Handler, Request, Response};
use arc_functions::testing::{TestRequest, TestResponse};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use lambda_http::RequestExt;
use serde_json::json;

const SECRET: &str = "races test secret of 32+ bytes!!";

/// A DynamoDB-mode store on a table of its own, its client, and the calls it makes.
struct Dynamo {
    store: Arc<SessionStore>,
    client: Client,
    table: String,
    calls: Calls,
}

async fn dynamo(name: &str, extra: Option<LoseAnswer>) -> Dynamo {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let calls = Calls::default();
    let shared = aws_config::load_from_env().await;
    let mut sdk = aws_sdk_dynamodb::config::Builder::from(&shared).interceptor(calls.clone());
    if let Some(extra) = extra {
        sdk = sdk.interceptor(extra);
    }
    let client = Client::from_conf(sdk.build());
    let table = format!("races-{name}-{}", std::process::id());
    crate::support::dynamodb::create_session_table(&client, &table).await;
    calls.take();
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("SESSION_TABLE_NAME", table.as_str()),
    ])
    .expect("config");
    let store = SessionStore::with_dynamodb_client(&config, client.clone()).expect("DynamoDB");
    Dynamo {
        store: Arc::new(store),
        client,
        table,
        calls,
    }
}

/// [`dynamo`]'s store, and one on its table as a deployed route builds it (`SessionStore::new`:
/// the items' calls without the SDK, uncounted).
async fn both(name: &str) -> [Dynamo; 2] {
    let d = dynamo(name, None).await;
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("SESSION_TABLE_NAME", d.table.as_str()),
    ])
    .expect("config");
    let without_sdk = Dynamo {
        store: Arc::new(SessionStore::new(&config)),
        client: d.client.clone(),
        table: d.table.clone(),
        calls: Calls::default(),
    };
    [d, without_sdk]
}

/// A new session of `count`, and its cookie (`name=value`).
async fn started(store: &SessionStore, count: u64) -> String {
    let mut session = Session::new();
    session.insert("count", count).expect("insert");
    let set_cookie = store.write(&session).await.expect("first write");
    set_cookie.split(';').next().expect("a pair").to_owned()
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_write_that_lost_a_race_is_refused_and_the_winners_stands() {
    require_dynamodb();
    for d in both("lost").await {
        let cookie = started(&d.store, 1).await;
        // Two requests read the session at once: each sees count 1.
        let mut first = session_of(&d.store, &cookie).await;
        let mut second = session_of(&d.store, &cookie).await;
        first.insert("count", 2).expect("insert");
        first.insert("by", "first").expect("insert");
        d.store.write(&first).await.expect("the first write lands");
        second.insert("count", 2).expect("insert");
        second.insert("by", "second").expect("insert");
        let lost = d.store.write(&second).await;
        assert!(matches!(lost, Err(Error::Conflict)), "{lost:?}");
        assert!(!Error::Conflict.is_unavailable(), "a 409, not a 503");

        let now = session_of(&d.store, &cookie).await;
        assert_eq!(
            now.get::<String>("by").expect("by").as_deref(),
            Some("first")
        );
        assert_eq!(now.get::<u64>("count").expect("count"), Some(2));
        // Sent again, the loser applies to the session as it now is.
        let mut again = now.clone();
        again.insert("count", 3).expect("insert");
        d.store
            .write(&again)
            .await
            .expect("a write from a fresh read");
        let last = session_of(&d.store, &cookie).await;
        assert_eq!(last.get::<u64>("count").expect("count"), Some(3));
        // The version is the store's own: never part of the session's data.
        assert_eq!(last.get::<serde_json::Value>("_v").expect("read"), None);
    }
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_session_written_without_a_version_is_guarded_all_the_same() {
    require_dynamodb();
    for d in both("unversioned").await {
        let cookie = started(&d.store, 1).await;
        // As Node's @architect/functions leaves an item: no `_v`.
        d.client
            .update_item()
            .table_name(&d.table)
            .key(
                "_idx",
                AttributeValue::S(crate::support::dynamodb::item_id(&cookie)),
            )
            .update_expression("REMOVE #v")
            .expression_attribute_names("#v", "_v")
            .send()
            .await
            .expect("remove the version");
        let mut first = session_of(&d.store, &cookie).await;
        let mut second = session_of(&d.store, &cookie).await;
        first.insert("count", 2).expect("insert");
        d.store.write(&first).await.expect("the first write lands");
        second.insert("count", 5).expect("insert");
        assert!(matches!(d.store.write(&second).await, Err(Error::Conflict)));
        let now = session_of(&d.store, &cookie).await;
        assert_eq!(now.get::<u64>("count").expect("count"), Some(2));
    }
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_destroyed_session_is_still_ended_not_a_conflict() {
    require_dynamodb();
    for d in both("ended").await {
        let cookie = started(&d.store, 1).await;
        let mut kept = session_of(&d.store, &cookie).await;
        let mut ending = session_of(&d.store, &cookie).await;
        ending.destroy();
        d.store.write(&ending).await.expect("destroyed");
        kept.insert("count", 2).expect("insert");
        let out = d.store.write(&kept).await;
        assert!(matches!(out, Err(Error::Ended)), "{out:?}");
    }
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_retried_write_that_finds_its_own_version_succeeds() {
    require_dynamodb();
    // A PutItem applied and its answer lost: a new session's, then an update's. The SDK
    // retries each, the retry fails its condition, and the write finds its own version in the
    // item.
    let lose = LoseAnswer::new("PutItem", 1);
    let d = dynamo("retried", Some(lose.clone())).await;
    let cookie = started(&d.store, 1).await;
    assert_eq!(d.calls.take(), ["PutItem", "PutItem", "GetItem"]);
    let mut session = session_of(&d.store, &cookie).await;
    assert_eq!(session.get::<u64>("count").expect("count"), Some(1));
    session.insert("count", 2).expect("insert");
    lose.arm(1);
    d.store.write(&session).await.expect("its own write stands");
    assert_eq!(d.calls.take(), ["GetItem", "PutItem", "PutItem", "GetItem"]);
    let now = session_of(&d.store, &cookie).await;
    assert_eq!(now.get::<u64>("count").expect("count"), Some(2));
}

/// Adds one to the count once both requests of a race have read it, so the two always race.
fn counter(
    gate: Arc<tokio::sync::Barrier>,
) -> impl Fn(Request) -> std::pin::Pin<Box<dyn Future<Output = http::Result<Response>> + Send>>
+ Send
+ Sync
+ 'static {
    move |req: Request| {
        let gate = Arc::clone(&gate);
        Box::pin(async move {
            let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
            gate.wait().await;
            Ok(Response::redirect("/")
                .session(json!({ "count": count }))
                .push(json!({ "count": count })))
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn the_handler_answers_the_loser_409_and_saves_nothing_of_it() {
    require_dynamodb();
    let d = dynamo("handler", None).await;
    let pair = started(&d.store, 1).await;
    let (logs, _guard) = crate::support::capture_logs();
    let handler = Handler::with_store(
        Arc::clone(&d.store),
        counter(Arc::new(tokio::sync::Barrier::new(2))),
    );
    let send = |handler: Handler<_>, pair: String| async move {
        TestRequest::post("/count")
            .cookie(&pair)
            .send(&handler)
            .await
            .expect("answered")
    };
    let (a, b) = tokio::join!(
        send(handler.clone(), pair.clone()),
        send(handler.clone(), pair.clone())
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort_unstable();
    assert_eq!(statuses, [302, 409]);
    let (won, lost): (&TestResponse, &TestResponse) = if a.status() == 302 {
        (&a, &b)
    } else {
        (&b, &a)
    };
    assert!(won.session_cookie().is_some());
    assert_eq!(lost.session_cookie(), None, "the loser sets no cookie");
    assert!(lost.text().contains("nothing was saved"), "{}", lost.text());
    assert!(
        lost.header("cache-control")
            .is_some_and(|c| c.contains("no-store")),
        "{:?}",
        lost.headers()
    );
    let now = won.session(&d.store).await.expect("read");
    assert_eq!(now.get::<u64>("count").expect("count"), Some(2));
    assert!(
        crate::support::logged(&logs).contains("writing the session refused"),
        "{}",
        crate::support::logged(&logs)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_page_whose_flash_clearing_loses_to_a_write_is_served_all_the_same() {
    require_dynamodb();
    let d = dynamo("flash", None).await;
    let mut session = Session::new();
    session.insert("count", 1).expect("insert");
    session.flash("notice", "saved").expect("flash");
    let cookie = d.store.write(&session).await.expect("written");
    let pair = cookie.split(';').next().expect("pair").to_owned();
    // The page reads the session (consuming its flash), then waits while a write lands.
    let release = Arc::new(tokio::sync::Notify::new());
    let waiting = Arc::clone(&release);
    let page = Handler::with_store(Arc::clone(&d.store), move |req: Request| {
        let waiting = Arc::clone(&waiting);
        async move {
            let notice: Option<String> = req.flash("notice");
            waiting.notified().await;
            Ok::<_, http::Error>(Response::text(notice.unwrap_or_default()))
        }
    });
    let reading = tokio::spawn({
        let pair = pair.clone();
        async move { TestRequest::get("/").cookie(&pair).send(&page).await }
    });
    // Until the page has read the session, a write could land before its read.
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.calls.names().iter().filter(|c| *c == "GetItem").count() < 1 {
        assert!(Instant::now() < deadline, "the page never read the session");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let writer = Handler::with_store(
        Arc::clone(&d.store),
        counter(Arc::new(tokio::sync::Barrier::new(1))),
    );
    let wrote = TestRequest::post("/count")
        .cookie(&pair)
        .send(&writer)
        .await
        .expect("answered");
    assert_eq!(wrote.status(), 302, "{}", wrote.text());
    release.notify_one();
    let page = reading.await.expect("joined").expect("answered");
    assert_eq!(page.status(), 200, "the page is served: {}", page.text());
    assert_eq!(page.text(), "saved");
    assert_eq!(
        page.session_cookie(),
        None,
        "and writes nothing over the count"
    );
    let now = wrote.session(&d.store).await.expect("read");
    assert_eq!(now.get::<u64>("count").expect("count"), Some(2));
}

#[cfg(feature = "axum")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn the_axum_layer_answers_the_loser_409() {
    use arc_functions::axum::{Session as AxumSession, SessionLayer};
    use axum::Router;
    use axum::routing::post;
    require_dynamodb();
    let d = dynamo("axum", None).await;
    let pair = started(&d.store, 1).await;
    let gate = Arc::new(tokio::sync::Barrier::new(2));
    let app = Router::new()
        .route(
            "/count",
            post(move |session: AxumSession| {
                let gate = Arc::clone(&gate);
                async move {
                    let count = session.get::<u64>("count").ok().flatten().unwrap_or(0) + 1;
                    gate.wait().await;
                    session.insert("count", count).expect("insert");
                    "counted"
                }
            }),
        )
        .layer(SessionLayer::new(Arc::clone(&d.store)));
    let send = |app: Router, pair: String| async move {
        TestRequest::post("/count")
            .cookie(&pair)
            .send_to(app)
            .await
            .expect("answered")
    };
    let (a, b) = tokio::join!(send(app.clone(), pair.clone()), send(app, pair.clone()));
    let mut statuses = [a.status(), b.status()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let won = if a.status() == 200 { &a } else { &b };
    let now = won.session(&d.store).await.expect("read");
    assert_eq!(now.get::<u64>("count").expect("count"), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn over_a_socket_the_loser_is_refused_409_and_the_winners_count_stands() {
    use arc_functions::ws;
    require_dynamodb();
    let d = dynamo("ws", None).await;
    let pair = started(&d.store, 1).await;
    let gate = Arc::new(tokio::sync::Barrier::new(2));
    let handler = ws::Handler::with_store(Arc::clone(&d.store), move |req: ws::Request| {
        let gate = Arc::clone(&gate);
        async move {
            if req.event_type != ws::EventType::Message {
                return Ok::<_, ws::Error>(ws::Response::new());
            }
            let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
            gate.wait().await;
            let mut session = req.session;
            session.insert("count", count)?;
            Ok(ws::Response::new().session(session))
        }
    });
    // As a browser sends it from a page of the socket's own origin.
    let connect = crate::support::ws::connect_with(Some(&pair), "c1");
    let reply: serde_json::Value =
        serde_json::from_str(&handler.invoke(&connect).await.expect("connect")).expect("JSON");
    assert_eq!(reply["statusCode"], 200, "{reply}");
    let message = crate::support::ws::on(crate::support::ws::MESSAGE, "c1");
    let (a, b) = tokio::join!(handler.invoke(&message), handler.invoke(&message));
    let status = |text: Result<String, ws::Error>| -> u64 {
        let reply: serde_json::Value = serde_json::from_str(&text.expect("a reply")).expect("JSON");
        reply["statusCode"].as_u64().expect("a status")
    };
    let mut statuses = [status(a), status(b)];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
    let now = session_of(&d.store, &pair).await;
    assert_eq!(now.get::<u64>("count").expect("count"), Some(2));
}

/// A DynamoDB endpoint that accepts connections and never answers: a stall longer than any
/// invocation.
async fn silent_endpoint() -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            open.push(socket);
        }
    });
    (format!("http://{address}"), held)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dynamodb_that_never_answers_is_a_503_before_the_deadline_with_the_cause_logged() {
    let (endpoint, held) = silent_endpoint().await;
    let calls = Calls::default();
    // The SDK's own settings, which set no attempt timeout: only the deadline ends the wait.
    let sdk = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::for_tests())
        .endpoint_url(&endpoint)
        .interceptor(calls.clone())
        .build();
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", SECRET),
        ("SESSION_TABLE_NAME", "stalled"),
    ])
    .expect("config");
    let store =
        SessionStore::with_dynamodb_client(&config, Client::from_conf(sdk)).expect("DynamoDB");
    // A cookie this store signed, so the read goes to DynamoDB.
    let signed = sign("an-id");
    let handler = Handler::with_store(Arc::new(store), |_req: Request| async {
        Ok::<_, http::Error>(Response::text("never reached"))
    });
    let (logs, _guard) = crate::support::capture_logs();
    let mut context = lambda_http::Context::default();
    let timeout = Duration::from_millis(1500);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("time");
    context.deadline = u64::try_from((now + timeout).as_millis()).expect("ms");
    // `Handler::invoke` gives no deadline (its context is empty), so the request is made here
    // as `http::run` hands it on, with the invocation's context.
    let request = lambda_http::http::Request::builder()
        .uri("/")
        .header("cookie", format!("_idx={signed}"))
        .body(lambda_http::Body::Empty)
        .expect("request")
        .with_lambda_context(context);
    let started = Instant::now();
    // Bounded here too, so that a broken bound fails the test rather than hanging it.
    let response = tokio::time::timeout(Duration::from_secs(20), handler.handle(request))
        .await
        .expect("an answer, not a hang");
    let took = started.elapsed();
    assert_eq!(response.status(), 503);
    assert!(
        took < timeout,
        "answered {took:?} after the event came, past its {timeout:?} deadline"
    );
    assert_eq!(calls.names(), ["GetItem"], "the read was attempted");
    let logged = crate::support::logged(&logs);
    assert!(
        logged.contains("reading the session failed") && logged.contains("remaining time"),
        "{logged}"
    );
    held.abort();
}

/// The cookie value of a DynamoDB session id under [`SECRET`], as the store signs it.
fn sign(id: &str) -> String {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).expect("key");
    mac.update(id.as_bytes());
    let signature =
        base64::engine::general_purpose::STANDARD_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{id}.{signature}")
}
