//! The whole login flow through the handler wrapper, on real API Gateway v2 events.

use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Handler, csrf};
use example_login::{Users, app, require_login, with_users};
use lambda_http::Body as LambdaBody;
use lambda_http::http::header::{LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use std::sync::Arc;

const EVENT: &str =
    include_str!("../../../crates/arc-functions/tests/fixtures/apigw_v2_request.json");

fn event(method: &str, path: &str, cookie: &str, form: &str) -> lambda_http::Request {
    let mut e: Value = serde_json::from_str(EVENT).expect("fixture");
    e["requestContext"]["http"]["method"] = json!(method);
    e["rawPath"] = json!(path);
    e["rawQueryString"] = json!("");
    e["cookies"] = json!([cookie]);
    e["headers"]["content-type"] = json!("application/x-www-form-urlencoded");
    e["body"] = json!(form);
    lambda_http::request::from_str(&e.to_string()).expect("event")
}

fn text(r: &lambda_http::Response<LambdaBody>) -> String {
    match r.body() {
        LambdaBody::Text(t) => t.clone(),
        _ => String::new(),
    }
}

/// The `_idx=...` pair the response sets, or `keep` when it sets none.
fn cookie(r: &lambda_http::Response<LambdaBody>, keep: &str) -> String {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("_idx="))
        .and_then(|c| c.split(';').next())
        .map_or_else(|| keep.to_owned(), str::to_owned)
}

/// The whole `Set-Cookie` of the session cookie.
fn set_cookie(r: &lambda_http::Response<LambdaBody>) -> String {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("_idx="))
        .unwrap_or_default()
        .to_owned()
}

fn token(page: &str) -> String {
    let start = page.find("name=_csrf value=\"").expect("a CSRF field") + 18;
    page[start..].split('"').next().expect("quoted").to_owned()
}

/// What `http::chain` returns: one handler function for the whole chain.
type Chained = std::pin::Pin<
    Box<dyn std::future::Future<Output = http::Result<arc_functions::http::Response>> + Send>,
>;

/// A users table of the test's own in the local DynamoDB `scripts/test` starts, with ann
/// signed up; `None` (the test skips) without one.
async fn users() -> Option<Users> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    if std::env::var("ARC_TEST_DYNAMODB").as_deref() != Ok("1") {
        eprintln!("SKIPPED: the users table needs a local DynamoDB; run scripts/test");
        return None;
    }
    let table = format!(
        "users-flow-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let client = aws_sdk_dynamodb::Client::new(&arc_functions::config::aws_sdk_config().await);
    client
        .create_table()
        .table_name(&table)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("name")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("attribute"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("name")
                .key_type(KeyType::Hash)
                .build()
                .expect("key"),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("CreateTable");
    // dynalite turns a table ACTIVE on a timer.
    for _ in 0..200 {
        let active = client
            .describe_table()
            .table_name(&table)
            .send()
            .await
            .ok()
            .and_then(|t| t.table)
            .and_then(|t| t.table_status)
            == Some(aws_sdk_dynamodb::types::TableStatus::Active);
        if active {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let users = Users::new(&table, Some(client)).expect("users");
    let ann = users
        .sign_up("ann", "correct horse")
        .await
        .expect("sign-up");
    assert!(ann.is_some(), "a new name");
    assert_eq!(
        users.sign_up("ann", "another").await.expect("sign-up"),
        None,
        "a taken name"
    );
    Some(users)
}

/// The example's chain without the throttle, which needs DynamoDB (`tests/tests/throttle.rs`
/// at the workspace root runs it), with sessions in the cookie.
async fn login_app() -> Option<Handler<impl Fn(arc_functions::http::Request) -> Chained>> {
    let users = users().await?;
    let config = Config::from_vars([
        ("ARC_ENV", "testing"),
        ("ARC_APP_SECRET", "example secret of 32 bytes or more"),
    ])
    .expect("config");
    let store = Arc::new(SessionStore::new(&config));
    Some(Handler::with_store(
        store,
        http::chain((csrf::require, with_users(users), require_login, app)),
    ))
}

#[tokio::test]
async fn login_flash_regenerate_and_logout() {
    let Some(app) = login_app().await else {
        return;
    };

    let r = app.handle(event("GET", "/", "", "")).await;
    assert!(
        text(&r).contains("<a href=/login>Log in</a>"),
        "{}",
        text(&r)
    );

    // Only signed-in users see the account page; others are sent to log in, with a word why.
    let r = app.handle(event("GET", "/account", "", "")).await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()[LOCATION].to_str().unwrap_or_default()
        ),
        (302, "/login")
    );
    let r = app
        .handle(event("GET", "/login", &cookie(&r, ""), ""))
        .await;
    assert!(
        text(&r).contains("Log in to see that page."),
        "{}",
        text(&r)
    );

    let r = app.handle(event("GET", "/login", "", "")).await;
    let (c, t) = (cookie(&r, ""), token(&text(&r)));

    let r = app
        .handle(event(
            "POST",
            "/login",
            &c,
            "user=ann&password=correct+horse",
        ))
        .await;
    assert_eq!(r.status(), 403, "no token, no login");

    let r = app
        .handle(event(
            "POST",
            "/login",
            &c,
            &format!("_csrf={t}&user=ann&password=nope"),
        ))
        .await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()[LOCATION].to_str().unwrap_or_default()
        ),
        (302, "/login")
    );
    let c = cookie(&r, &c);

    let r = app.handle(event("GET", "/login", &c, "")).await;
    assert!(
        text(&r).contains("Wrong user or password."),
        "the flash shows once"
    );
    let (c, t) = (cookie(&r, &c), token(&text(&r)));
    let r = app.handle(event("GET", "/login", &c, "")).await;
    assert!(!text(&r).contains("Wrong user"), "and only once");
    let c = cookie(&r, &c);

    let r = app
        .handle(event(
            "POST",
            "/login",
            &c,
            &format!("_csrf={t}&user=ann&password=correct+horse"),
        ))
        .await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()[LOCATION].to_str().unwrap_or_default()
        ),
        (302, "/account")
    );
    let signed_in = cookie(&r, "");
    assert!(!signed_in.is_empty() && signed_in != c);
    assert!(
        !set_cookie(&r).contains("Max-Age"),
        "without remember me, a browser-session cookie: {}",
        set_cookie(&r)
    );

    // The token of the login form was issued to the session before the login: regenerate()
    // dropped its binding, so it is refused now.
    let r = app
        .handle(event("POST", "/logout", &signed_in, &format!("_csrf={t}")))
        .await;
    assert_eq!(r.status(), 403, "a pre-login token is refused after login");

    let r = app.handle(event("GET", "/account", &signed_in, "")).await;
    assert!(text(&r).contains("Signed in as ann."), "{}", text(&r));

    let r = app.handle(event("GET", "/", &signed_in, "")).await;
    assert!(text(&r).contains("Hello, ann."), "{}", text(&r));
    let (c, t) = (cookie(&r, &signed_in), token(&text(&r)));

    let r = app
        .handle(event("POST", "/logout", &c, &format!("_csrf={t}")))
        .await;
    assert_eq!(r.status(), 302);
    assert_eq!(cookie(&r, "kept"), "_idx=", "logout expires the cookie");
    let r = app.handle(event("GET", "/", "_idx=", "")).await;
    assert!(text(&r).contains("Log in"));
}

#[tokio::test]
async fn remember_me_keeps_the_cookie_for_thirty_days() {
    let Some(app) = login_app().await else {
        return;
    };
    let r = app.handle(event("GET", "/login", "", "")).await;
    assert!(text(&r).contains("name=remember"), "the form offers it");
    let (c, t) = (cookie(&r, ""), token(&text(&r)));
    let r = app
        .handle(event(
            "POST",
            "/login",
            &c,
            &format!("_csrf={t}&user=ann&password=correct+horse&remember=1"),
        ))
        .await;
    assert_eq!(r.status(), 302);
    assert!(
        set_cookie(&r).contains("Max-Age=2592000"),
        "{}",
        set_cookie(&r)
    );
}
