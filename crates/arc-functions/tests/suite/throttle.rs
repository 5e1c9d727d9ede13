//! Sign-in throttling against a local DynamoDB: the limit, the growing lockout, the key, races,
//! and the chain step and axum layer on API Gateway v2 events. The tests that need dynalite are
//! `#[ignore]`d: `scripts/test` starts it, sets `ARC_TEST_DYNAMODB=1` and runs them with
//! `--include-ignored`; without it they fail.
//! Two separate function processes sharing one table: `tests/tests/throttle.rs` at the
//! workspace root.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Handler, Request, Response};
use arc_functions::testing::TestRequest;
use arc_functions::throttle::{Admission, Attempt, Key, Rule, Throttle};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;

use crate::support::dynamodb::{Calls, require_dynamodb};

const ATTACKER: &str = "198.51.100.7";
const OWNER: &str = "203.0.113.9";

struct Env {
    config: Config,
    client: Client,
    table: String,
    calls: Calls,
}

impl Env {
    fn throttle(&self, rule: Rule) -> Throttle {
        Throttle::with_dynamodb_client(&self.config, self.client.clone())
            .expect("a table")
            .rule(rule)
    }
}

/// A fresh table, in cookie mode with `ARC_THROTTLE_TABLE_NAME`: the setup cookie mode needs.
async fn env() -> Env {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let table = format!(
        "throttle-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let calls = Calls::default();
    let shared = aws_config::load_from_env().await;
    let client = Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&shared)
            .interceptor(calls.clone())
            .build(),
    );
    crate::support::dynamodb::create_session_table(&client, &table).await;
    calls.take();
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_THROTTLE_TABLE_NAME", table.as_str()),
    ])
    .expect("config");
    Env {
        config,
        client,
        table,
        calls,
    }
}

async fn allowed(throttle: &Throttle, user: &str, address: &str) -> Option<Attempt> {
    match throttle
        .attempt(user, Some(address))
        .await
        .expect("counted")
    {
        Admission::Allowed(attempt) => Some(attempt),
        Admission::Locked(_) => None,
    }
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn five_attempts_then_a_lockout_that_spares_the_owner_elsewhere() {
    require_dynamodb();
    let env = env().await;
    let throttle = env.throttle(Rule::default());
    for n in 1..=5 {
        let attempt = allowed(&throttle, "ann", ATTACKER)
            .await
            .unwrap_or_else(|| panic!("attempt {n} goes through"));
        assert_eq!(attempt.number(), n);
    }
    env.calls.take();
    match throttle
        .attempt("Ann", Some(ATTACKER))
        .await
        .expect("counted")
    {
        Admission::Locked(locked) => {
            let secs = locked.retry_after().as_secs();
            assert!((59..=60).contains(&secs), "the first lockout: {secs}");
        }
        Admission::Allowed(a) => panic!("the sixth went through: {a:?}"),
    }
    assert_eq!(env.calls.take(), ["GetItem"], "a refusal costs one read");
    // The owner, from another address, signs in; and that clears only their own count.
    let owner = allowed(&throttle, "ann", OWNER).await.expect("not locked");
    assert_eq!(
        env.calls.take(),
        ["GetItem", "PutItem"],
        "an attempt: two calls"
    );
    owner.succeeded().await.expect("cleared");
    assert_eq!(env.calls.take(), ["DeleteItem"]);
    assert!(allowed(&throttle, "ann", ATTACKER).await.is_none());
    // Another account at the attacker's address is counted apart.
    assert!(allowed(&throttle, "bob", ATTACKER).await.is_some());
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn the_lockout_ends_and_doubles() {
    require_dynamodb();
    let env = env().await;
    // The clock counts whole seconds, so a lockout of two lasts one at least, and surely
    // ends after three.
    let throttle = env.throttle(Rule::default().attempts(2).lockout(Duration::from_secs(2)));
    for _ in 0..2 {
        assert!(allowed(&throttle, "ann", ATTACKER).await.is_some());
    }
    assert!(allowed(&throttle, "ann", ATTACKER).await.is_none());
    tokio::time::sleep(Duration::from_millis(3050)).await;
    let third = allowed(&throttle, "ann", ATTACKER)
        .await
        .expect("lockout over");
    assert_eq!(third.number(), 3);
    match throttle
        .attempt("ann", Some(ATTACKER))
        .await
        .expect("counted")
    {
        Admission::Locked(locked) => {
            let left = locked.retry_after().as_secs();
            assert!((3..=4).contains(&left), "doubled to 4 s: {left} s left");
        }
        Admission::Allowed(a) => panic!("went through: {a:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn racing_attempts_never_check_more_passwords_than_the_limit() {
    require_dynamodb();
    let env = env().await;
    let throttle = env.throttle(Rule::default());
    // All spawned before any is awaited, so they run at once.
    let attempts: Vec<_> = (0..24)
        .map(|_| {
            let throttle = throttle.clone();
            tokio::spawn(async move { allowed(&throttle, "ann", ATTACKER).await })
        })
        .collect();
    let mut numbers = Vec::new();
    for attempt in attempts {
        if let Some(attempt) = attempt.await.expect("joined") {
            numbers.push(attempt.number());
        }
    }
    numbers.sort_unstable();
    assert_eq!(
        numbers,
        [1, 2, 3, 4, 5],
        "each number once, none past the limit"
    );
    let calls = env.calls.take();
    let puts = calls.iter().filter(|c| *c == "PutItem").count();
    assert!(
        puts > 5,
        "some writes lost a race and their attempts read again: {calls:?}"
    );
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_count_past_its_ttl_starts_again_and_keys_behave_as_documented() {
    require_dynamodb();
    let env = env().await;
    let forgetful = env.throttle(Rule::default().attempts(1).forget_after(Duration::ZERO));
    assert!(allowed(&forgetful, "ann", ATTACKER).await.is_some());
    // Locked for a minute; then the item is past `_ttl`, which DynamoDB deletes late.
    assert!(allowed(&forgetful, "ann", ATTACKER).await.is_none());
    let scan = env
        .client
        .scan()
        .table_name(&env.table)
        .send()
        .await
        .expect("scan");
    let items = scan.items.unwrap_or_default();
    assert_eq!(items.len(), 1);
    let id = items[0]["_idx"].clone();
    assert!(
        matches!(&id, AttributeValue::S(s) if s.starts_with("throttle#")),
        "{id:?}"
    );
    let expired = env
        .client
        .update_item()
        .table_name(&env.table)
        .key("_idx", id)
        .update_expression("SET #ttl = :past")
        .expression_attribute_names("#ttl", "_ttl")
        .expression_attribute_values(":past", AttributeValue::N("1".into()))
        .send()
        .await;
    expired.expect("expire it");
    let again = allowed(&forgetful, "ann", ATTACKER)
        .await
        .expect("forgotten");
    assert_eq!(again.number(), 1);

    // Per address: a success (on the guesser's own account) does not clear the count.
    let per_address = env.throttle(Rule::default().attempts(2).key(Key::Address));
    allowed(&per_address, "ann", ATTACKER).await.expect("1");
    let own = allowed(&per_address, "mallory", ATTACKER).await.expect("2");
    own.succeeded().await.expect("no-op");
    assert!(allowed(&per_address, "bob", ATTACKER).await.is_none());
    // Per user: the owner is locked out too, from anywhere.
    let per_user = env.throttle(Rule::default().attempts(1).key(Key::User));
    allowed(&per_user, "ann", ATTACKER).await.expect("1");
    assert!(allowed(&per_user, "ann", OWNER).await.is_none());
}

/// A sign-in route: `ann` / `correct horse`.
async fn login(req: Request) -> http::Result<Response> {
    let form = req.body.form();
    let user = form.and_then(|f| f.get("user")).unwrap_or_default();
    let password = form.and_then(|f| f.get("password")).unwrap_or_default();
    if (user, password) == ("ann", "correct horse") {
        if let Some(attempt) = req.extensions.get::<Attempt>() {
            attempt.succeeded().await?;
        }
        return Ok(Response::text("signed in"));
    }
    Ok(Response::text("wrong").status(401))
}

fn sign_in(address: &str, password: &str) -> TestRequest {
    TestRequest::post("/login")
        .source_ip(address)
        .form(&[("user", "ann"), ("password", password)])
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn the_chain_step_answers_429_and_lets_the_owner_in() {
    require_dynamodb();
    let env = env().await;
    let throttle = env.throttle(Rule::default().attempts(3));
    let store = Arc::new(SessionStore::new(&env.config));
    let handler = Handler::with_store(store, http::chain((throttle.step("/login", "user"), login)));
    for _ in 0..3 {
        let r = sign_in(ATTACKER, "guess")
            .send(&handler)
            .await
            .expect("served");
        assert_eq!(r.status(), 401);
    }
    let r = sign_in(ATTACKER, "correct horse")
        .send(&handler)
        .await
        .expect("served");
    assert_eq!(r.status(), 429, "locked, though the password is right");
    // A minute, less the second the clock may have turned since the lock began.
    let retry_after = r.header("retry-after").and_then(|v| v.parse::<u64>().ok());
    assert!(
        matches!(retry_after, Some(59 | 60)),
        "Retry-After {retry_after:?}"
    );
    let r = sign_in(OWNER, "correct horse")
        .send(&handler)
        .await
        .expect("served");
    assert_eq!((r.status(), r.text().as_str()), (200, "signed in"));
    // The user comes from the body, a form's field or a JSON string: another account at the
    // locked address is counted apart.
    let bob = TestRequest::post("/login")
        .source_ip(ATTACKER)
        .json(&serde_json::json!({ "user": "bob", "password": "guess" }));
    assert_eq!(
        bob.send(&handler).await.expect("served").status(),
        401,
        "bob is not locked"
    );
    let ann = TestRequest::post("/login")
        .source_ip(ATTACKER)
        .json(&serde_json::json!({ "user": "ann", "password": "guess" }));
    assert_eq!(
        ann.send(&handler).await.expect("served").status(),
        429,
        "ann is, in JSON too"
    );
    // Other paths and methods pass untouched and uncounted.
    env.calls.take();
    let r = TestRequest::get("/login")
        .source_ip(ATTACKER)
        .send(&handler)
        .await;
    assert_eq!(r.expect("served").status(), 401);
    assert!(env.calls.take().is_empty(), "a GET is not an attempt");
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn the_step_answers_503_when_dynamodb_is_out_of_reach() {
    require_dynamodb();
    let env = env().await;
    let unreachable = Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws_config::load_from_env().await)
            .endpoint_url("http://127.0.0.1:9")
            .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
            .build(),
    );
    let throttle = Throttle::with_dynamodb_client(&env.config, unreachable).expect("table");
    let store = Arc::new(SessionStore::new(&env.config));
    let handler = Handler::with_store(store, http::chain((throttle.step("/login", "user"), login)));
    let r = sign_in(OWNER, "correct horse")
        .send(&handler)
        .await
        .expect("served");
    assert_eq!(r.status(), 503, "never let through uncounted");
}

#[cfg(feature = "axum")]
#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn the_axum_layer_throttles_its_route() {
    use arc_functions::axum::ThrottleLayer;
    use axum::routing::post;
    use axum::{Extension, Form, Router};

    require_dynamodb();
    #[derive(serde::Deserialize)]
    struct Login {
        user: String,
        password: String,
    }
    async fn axum_login(
        Extension(attempt): Extension<Attempt>,
        Form(login): Form<Login>,
    ) -> Result<(axum::http::StatusCode, String), arc_functions::axum::Error> {
        if (login.user.as_str(), login.password.as_str()) == ("ann", "correct horse") {
            attempt.succeeded().await?;
            return Ok((axum::http::StatusCode::OK, "signed in".into()));
        }
        Ok((
            axum::http::StatusCode::UNAUTHORIZED,
            format!("attempt {}", attempt.number()),
        ))
    }
    let env = env().await;
    let throttle = env.throttle(Rule::default().attempts(2));
    let app: Router = Router::new().route(
        "/login",
        post(axum_login).route_layer(ThrottleLayer::new(throttle, "user")),
    );
    for n in 1..=2 {
        let r = sign_in(ATTACKER, "guess")
            .send_to(app.clone())
            .await
            .expect("served");
        assert_eq!(
            (r.status(), r.text()),
            (401, format!("attempt {n}")),
            "the body reaches the handler"
        );
    }
    let r = sign_in(ATTACKER, "correct horse")
        .send_to(app.clone())
        .await
        .expect("served");
    assert_eq!(r.status(), 429);
    assert!(r.header("retry-after").is_some());
    let r = sign_in(OWNER, "correct horse")
        .send_to(app.clone())
        .await
        .expect("served");
    assert_eq!((r.status(), r.text().as_str()), (200, "signed in"));
    // A long form still reaches the handler whole; one past 64 KiB is refused unread.
    let padding = "x".repeat(8 * 1024);
    let long = TestRequest::post("/login").source_ip(OWNER).form(&[
        ("user", "ann"),
        ("password", "correct horse"),
        ("padding", padding.as_str()),
    ]);
    let r = long.send_to(app.clone()).await.expect("served");
    assert_eq!(r.status(), 200, "{}", r.text());
    let padding = "x".repeat(64 * 1024);
    let huge = TestRequest::post("/login").source_ip(OWNER).form(&[
        ("user", "ann"),
        ("password", "correct horse"),
        ("padding", padding.as_str()),
    ]);
    assert_eq!(huge.send_to(app).await.expect("served").status(), 413);
}

/// The layer asks the route it wraps whether it is ready before calling it, as tower
/// services with a limit or a queue need.
#[cfg(feature = "axum")]
#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn the_axum_layer_readies_its_route_before_calling_it() {
    use arc_functions::axum::ThrottleLayer;
    use axum::Router;
    use axum::routing::post;
    use tower_layer::Layer;

    require_dynamodb();
    async fn counted(axum::Extension(attempt): axum::Extension<Attempt>) -> String {
        format!("attempt {}", attempt.number())
    }
    let env = env().await;
    let throttle = env.throttle(Rule::default().attempts(5));
    let route = crate::support::MustBeReady::new(post(counted));
    let app: Router =
        Router::new().route_service("/login", ThrottleLayer::new(throttle, "user").layer(route));
    for n in 1..=2 {
        let r = sign_in(ATTACKER, "guess")
            .send_to(app.clone())
            .await
            .expect("served");
        assert_eq!((r.status(), r.text()), (200, format!("attempt {n}")));
    }
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_missing_table_is_a_500_not_a_503() {
    require_dynamodb();
    let env = env().await;
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_THROTTLE_TABLE_NAME", "no-such-throttle-table"),
    ])
    .expect("config");
    let throttle = Throttle::with_dynamodb_client(&config, env.client.clone()).expect("named");
    let e = throttle
        .attempt("ann", Some(OWNER))
        .await
        .expect_err("no table");
    assert!(!e.is_unavailable(), "retrying will not make a table: {e}");
    assert!(e.to_string().contains("no-such-throttle-table"), "{e}");
    let store = Arc::new(SessionStore::new(&config));
    let handler = Handler::with_store(store, http::chain((throttle.step("/login", "user"), login)));
    let r = sign_in(OWNER, "correct horse")
        .send(&handler)
        .await
        .expect("served");
    assert_eq!(r.status(), 500);
}

/// The address the throttle keys on, as each API Gateway format delivers it.
#[tokio::test]
async fn the_client_address_comes_from_the_request_context_of_either_api() {
    use arc_functions::testing::Format;

    async fn address(req: Request) -> http::Result<Response> {
        Ok(Response::text(req.source_ip().unwrap_or("none").to_owned()))
    }
    let config = Config::from_vars([("ARC_ENV", "testing")]).expect("config");
    let handler = Handler::with_store(Arc::new(SessionStore::new(&config)), address);
    for format in [Format::HttpApi, Format::RestApi, Format::FunctionUrl] {
        let r = TestRequest::get("/")
            .format(format)
            .source_ip(OWNER)
            .header("x-forwarded-for", ATTACKER)
            .send(&handler)
            .await
            .expect("served");
        assert_eq!(r.text(), OWNER, "{format:?}");
    }
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_failed_write_is_an_error_not_a_race_lost() {
    require_dynamodb();
    let env = env().await;
    let failing = Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws_config::load_from_env().await)
            .interceptor(crate::support::dynamodb::Fail("PutItem"))
            .interceptor(env.calls.clone())
            .build(),
    );
    let throttle = Throttle::with_dynamodb_client(&env.config, failing).expect("table");
    env.calls.take();
    let e = throttle
        .attempt("ann", Some(OWNER))
        .await
        .expect_err("the write failed");
    assert!(e.to_string().contains("PutItem"), "{e}");
    assert_eq!(
        env.calls.take(),
        ["GetItem", "PutItem"],
        "tried once, not read again as after a lost race"
    );
}
