//! The session-store suite's harness: a store of either provider (a DynamoDB one on a fresh
//! table, through a client that counts its calls), one route that does what its `op` query
//! parameter says, and what its answers hold. For `stores_*.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use arc_functions::config::Config;
use arc_functions::http::session::{Session, SessionStore};
use arc_functions::http::{self, Handler, Request, Response};
use arc_functions::testing::TestResponse;
use aws_sdk_dynamodb::Client;
use lambda_http::http::header::SET_COOKIE;
use serde_json::{Value, json};

use super::dynamodb::{Calls, create_session_table, require_dynamodb};
use super::http::{SECRET, V2, invoke};

/// Which session provider a store of the suite uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Provider {
    SealedCookie,
    /// Through an SDK client that counts its calls (`SessionStore::with_dynamodb_client`).
    DynamoDb,
    /// As a deployed route builds it (`SessionStore::new`): its items' calls without the SDK,
    /// to the DynamoDB the environment names. Its calls are not counted.
    DynamoDbWithoutSdk,
}

impl Provider {
    pub(crate) fn is_dynamodb(self) -> bool {
        self != Self::SealedCookie
    }

    /// The store of `config`: through `client` for [`Provider::DynamoDb`].
    pub(crate) fn store(self, config: &Config, client: Option<&Client>) -> SessionStore {
        match (self, client) {
            (Self::DynamoDb, Some(client)) => {
                SessionStore::with_dynamodb_client(config, client.clone()).expect("DynamoDB mode")
            }
            _ => SessionStore::new(config),
        }
    }
}

/// A store of one provider with extra environment, plus what the DynamoDB tests inspect.
pub(crate) struct Env {
    pub(crate) store: Arc<SessionStore>,
    pub(crate) calls: Calls,
    pub(crate) client: Option<Client>,
    pub(crate) table: String,
}

/// A client counting its calls; with `endpoint` (a dynalite the test will stop) it fails fast
/// instead of retrying for seconds, else it keeps the SDK's defaults.
pub(crate) async fn sdk_client(endpoint: Option<&str>, calls: &Calls) -> Client {
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

/// A table name no other store of this run has.
pub(crate) fn unique_table() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "sessions-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    )
}

/// A store of `provider` configured by `vars` over `ARC_ENV=testing` and [`SECRET`]; in
/// DynamoDB mode on a fresh table, its calls counted from after the table was made.
pub(crate) async fn env(provider: Provider, vars: &[(&str, &str)]) -> Env {
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
        Provider::DynamoDb | Provider::DynamoDbWithoutSdk => {
            require_dynamodb();
            let table = unique_table();
            all.push(("SESSION_TABLE_NAME".into(), table.clone()));
            let config = Config::from_vars(all).expect("config");
            let client = sdk_client(None, &calls).await;
            create_session_table(&client, &table).await;
            calls.take();
            Env {
                store: Arc::new(provider.store(&config, Some(&client))),
                calls,
                client: Some(client),
                table,
            }
        }
    }
}

/// The API Gateway v2 fixture asking for `op` and carrying the session cookie
/// `_idx=<cookie>`, or none.
pub(crate) fn event(op: &str, cookie: Option<&str>) -> String {
    super::event(V2, |e| {
        e["rawQueryString"] = json!(format!("op={op}"));
        e["cookies"] = match cookie {
            Some(c) => json!([format!("_idx={c}")]),
            None => json!([]),
        };
    })
}

/// The value of the `_idx` cookie the response sets: `Some("")` when it expires it.
pub(crate) fn idx(response: &TestResponse) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("_idx="))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

/// One route that does what the `op` query parameter says, and answers the session as JSON.
pub(crate) async fn route(req: Request) -> http::Result<Response> {
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

/// [`route`] doing `op`, on `env`'s store, for a browser with `cookie`.
pub(crate) async fn call(env: &Env, op: &str, cookie: Option<&str>) -> TestResponse {
    let handler = Handler::with_store(Arc::clone(&env.store), route);
    invoke(&handler, &event(op, cookie)).await
}

/// The session's `n` as [`route`] answered it.
pub(crate) fn n(response: &TestResponse) -> Option<u64> {
    let v: Value = serde_json::from_slice(response.body()).expect("json answer");
    v["n"].as_u64()
}
