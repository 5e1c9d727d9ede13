//! Real API Gateway WebSocket events (`tests/fixtures`) and what the WebSocket tests build on
//! them: `$connect` from a page of some origin, a handler that echoes what it saw, a
//! DynamoDB-mode store on a fresh table, and a stand-in management API on loopback. For
//! `ws_*.rs`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use arc_functions::http;
use arc_functions::http::session::{Session, SessionStore};
use arc_functions::ws::{self, Handler, Request, Response};
use serde_json::{Value, json};

use super::http::config;
use super::{event, session_of};

pub(crate) const CONNECT: &str = include_str!("../../fixtures/websocket_connect_request.json");
pub(crate) const CONNECT_WITHOUT_METHOD: &str =
    include_str!("../../fixtures/websocket_connect_without_method_request.json");
pub(crate) const DISCONNECT: &str =
    include_str!("../../fixtures/websocket_disconnect_request.json");
pub(crate) const MESSAGE: &str = include_str!("../../fixtures/websocket_message_request.json");

/// A sealed-cookie store of [`config`]`(&[])`.
pub(crate) fn cookie_store() -> Arc<SessionStore> {
    Arc::new(SessionStore::new(&config(&[])))
}

/// The fixture's event for connection `id`.
pub(crate) fn on(fixture: &str, id: &str) -> String {
    event(fixture, |e| e["requestContext"]["connectionId"] = json!(id))
}

/// The fixtures' WebSocket API host, and so the socket's own origin.
pub(crate) const SOCKET_ORIGIN: &str = "https://asdfasdf.execute-api.us-west-2.amazonaws.com";

/// `$connect` for connection `id`, carrying `cookie` as the browser would from a page of the
/// socket's own origin.
pub(crate) fn connect_with(cookie: Option<&str>, id: &str) -> String {
    connect_from(Some(SOCKET_ORIGIN), cookie, None, id)
}

/// `$connect` for connection `id` from a page of `origin` (none: no `Origin` header), with
/// `cookie` and a socket `ticket` in the query string.
pub(crate) fn connect_from(
    origin: Option<&str>,
    cookie: Option<&str>,
    ticket: Option<&str>,
    id: &str,
) -> String {
    event(CONNECT_WITHOUT_METHOD, |e| {
        e["requestContext"]["connectionId"] = json!(id);
        let mut set = |name: &str, value: &str| {
            e["headers"][name] = json!(value);
            e["multiValueHeaders"][name] = json!([value]);
        };
        if let Some(cookie) = cookie {
            set("Cookie", cookie);
        }
        if let Some(origin) = origin {
            set("Origin", origin);
        }
        if let Some(ticket) = ticket {
            e["queryStringParameters"] = json!({ "ticket": ticket });
            e["multiValueQueryStringParameters"] = json!({ "ticket": [ticket] });
        }
    })
}

/// Echoes what the wrapper made of the event, and the session's `count`.
pub(crate) async fn echo(req: Request) -> ws::Result<Response> {
    let count = req.session.get::<u64>("count")?;
    Ok(Response::new().reply(json!({
        "connection": req.connection_id,
        "route": req.route_key,
        "type": format!("{:?}", req.event_type),
        "body": format!("{:?}", req.body),
        "cookie": req.header("cookie"),
        "query": req.query.get("token"),
        "count": count,
    })))
}

/// The handler's reply to `payload`, as JSON.
pub(crate) async fn reply_of<F, Fut, E>(handler: &Handler<F>, payload: &str) -> Value
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response, E>>,
    E: Into<http::Error>,
{
    let text = handler.invoke(payload).await.expect("a WebSocket event");
    serde_json::from_str(&text).expect("the reply is JSON")
}

/// The JSON the handler put in its reply.
pub(crate) fn replied(reply: &Value) -> Value {
    serde_json::from_str(reply["body"].as_str().expect("a reply body")).expect("JSON reply")
}

/// A session cookie (`name=value`) for `data`, written by `store`.
pub(crate) async fn cookie_for(store: &SessionStore, data: Value) -> String {
    let session = Session::try_from(data).expect("an object");
    let set_cookie = store.write(&session).await.expect("written");
    set_cookie.split(';').next().expect("a pair").to_owned()
}

/// A DynamoDB-mode store on a fresh table, and the raw client to look at the table.
pub(crate) async fn dynamodb_store(
    vars: &[(&str, &str)],
) -> (Arc<SessionStore>, aws_sdk_dynamodb::Client, String) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let table = format!(
        "ws-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let client = aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await);
    super::dynamodb::create_session_table(&client, &table).await;
    let vars: Vec<(&str, &str)> = [("SESSION_TABLE_NAME", table.as_str())]
        .into_iter()
        .chain(vars.iter().copied())
        .collect();
    let store =
        SessionStore::with_dynamodb_client(&config(&vars), client.clone()).expect("DynamoDB mode");
    (Arc::new(store), client, table)
}

/// The connections tied to the session `cookie` brings.
pub(crate) async fn connections_of(store: &SessionStore, cookie: &str) -> Vec<String> {
    let session = session_of(store, cookie).await;
    store.connections(&session).await.expect("listed")
}

/// Every call the stand-in received: method, decoded path, body.
pub(crate) type ApiCalls = Arc<Mutex<Vec<(String, String, String)>>>;

/// A stand-in management API on loopback: records every call, answers 410 `GoneException`
/// for the ids in `gone`, 403 for ids starting `denied` (a role without
/// `execute-api:ManageConnections`), 200 otherwise.
pub(crate) struct ManagementApi {
    pub(crate) url: String,
    pub(crate) calls: ApiCalls,
}

/// Starts a [`ManagementApi`] on a free loopback port.
pub(crate) async fn management_api(gone: &[&str]) -> ManagementApi {
    use axum::extract::State;
    use axum::response::IntoResponse;
    let gone: Arc<HashSet<String>> = Arc::new(gone.iter().map(|s| s.to_string()).collect());
    let calls: ApiCalls = Arc::default();
    let state = (Arc::clone(&calls), gone);
    let app = axum::Router::new().fallback(
        |State((calls, gone)): State<(ApiCalls, Arc<HashSet<String>>)>,
         method: axum::http::Method,
         uri: axum::http::Uri,
         body: String| async move {
            let path = percent_encoding::percent_decode_str(uri.path())
                .decode_utf8_lossy()
                .into_owned();
            calls
                .lock()
                .expect("calls")
                .push((method.to_string(), path.clone(), body));
            let id = path.rsplit('/').next().unwrap_or_default();
            if gone.contains(id) {
                let gone = [("x-amzn-ErrorType", "GoneException")];
                (axum::http::StatusCode::GONE, gone, r#"{"message":null}"#).into_response()
            } else if id.starts_with("denied") {
                let denied = [("x-amzn-ErrorType", "ForbiddenException")];
                (
                    axum::http::StatusCode::FORBIDDEN,
                    denied,
                    r#"{"message":"Forbidden"}"#,
                )
                    .into_response()
            } else {
                axum::http::StatusCode::OK.into_response()
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app.with_state(state)).await });
    ManagementApi { url, calls }
}

/// A WebSocket handler whose endpoint is the stand-in management API at `api`.
pub(crate) fn handler_via<F, Fut>(
    store: &Arc<SessionStore>,
    api: &ManagementApi,
    vars: &[(&str, &str)],
    f: F,
) -> Handler<F>
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = ws::Result<Response>>,
{
    let vars: Vec<(&str, &str)> = [("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", api.url.as_str())]
        .into_iter()
        .chain(vars.iter().copied())
        .collect();
    Handler::with_store(Arc::clone(store), f).with_config(&config(&vars))
}

/// The management API calls received, as (method, path), sorted.
pub(crate) fn calls_of(api: &ManagementApi) -> Vec<(String, String)> {
    let mut calls: Vec<_> = api
        .calls
        .lock()
        .expect("calls")
        .iter()
        .map(|(m, p, _)| (m.clone(), p.clone()))
        .collect();
    calls.sort();
    calls
}

/// A call of `method` on `connection`, as [`calls_of`] lists it.
pub(crate) fn call(method: &str, connection: &str) -> (String, String) {
    (method.to_owned(), format!("/@connections/{connection}"))
}
