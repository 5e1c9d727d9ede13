//! Real API Gateway events (`tests/fixtures`), the configuration and stores the HTTP tests
//! build, each event served as `http::run` serves it (`Handler::invoke`), and what the reply
//! holds. For `handler_*.rs`, `parity_*.rs`, the store suite and the WebSocket tests.

use std::sync::Arc;

use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Handler, Request, Response};
use arc_functions::testing::TestResponse;
use lambda_http::http::header::SET_COOKIE;
use serde_json::Value;

pub(crate) const V2: &str = include_str!("../../fixtures/apigw_v2_request.json");
pub(crate) const V2_BARE_COOKIES: &str =
    include_str!("../../fixtures/apigw_v2_bare_cookies_request.json");
pub(crate) const V2_SAM_LOCAL: &str =
    include_str!("../../fixtures/apigw_v2_sam_local_request.json");
pub(crate) const V1: &str = include_str!("../../fixtures/apigw_v1_request.json");
pub(crate) const V1_MULTI: &str = include_str!("../../fixtures/apigw_v1_multi_value_request.json");
pub(crate) const FUNCTION_URL: &str = include_str!("../../fixtures/function_url_request.json");
pub(crate) const ALB: &str = include_str!("../../fixtures/alb_request.json");

/// The secret [`config`] gives, unless the test names another.
pub(crate) const SECRET: &str = "integration-test secret of 32+ bytes";

/// A configuration of `vars` over `ARC_ENV=testing` and [`SECRET`], either of which `vars` may
/// override.
pub(crate) fn config(vars: &[(&str, &str)]) -> Config {
    Config::from_vars(
        [("ARC_ENV", "testing"), ("ARC_APP_SECRET", SECRET)]
            .into_iter()
            .chain(vars.iter().copied()),
    )
    .expect("valid config")
}

/// A sealed-cookie store of [`config`]`(vars)`.
pub(crate) fn store(vars: &[(&str, &str)]) -> Arc<SessionStore> {
    Arc::new(SessionStore::new(&config(vars)))
}

/// A sealed-cookie store with [`SECRET`].
pub(crate) fn default_store() -> Arc<SessionStore> {
    store(&[])
}

/// A handler for `f` on a sealed-cookie store, both configured by [`config`]`(vars)`.
pub(crate) fn app<F, Fut, E>(vars: &[(&str, &str)], f: F) -> Handler<F>
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response, E>>,
    E: Into<http::Error>,
{
    let config = config(vars);
    Handler::with_store(Arc::new(SessionStore::new(&config)), f).with_config(&config)
}

/// `payload` served by `handler` as `http::run` serves it, and the reply read back.
pub(crate) async fn invoke<F, Fut, E>(handler: &Handler<F>, payload: &str) -> TestResponse
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response, E>>,
    E: Into<http::Error>,
{
    invoke_raw(handler, payload).await.1
}

/// As [`invoke`], with the reply's JSON beside it, for what only the wire shows
/// (`isBase64Encoded`).
pub(crate) async fn invoke_raw<F, Fut, E>(
    handler: &Handler<F>,
    payload: &str,
) -> (Value, TestResponse)
where
    F: Fn(Request) -> Fut,
    Fut: std::future::Future<Output = Result<Response, E>>,
    E: Into<http::Error>,
{
    let reply = handler.invoke(payload).await.expect("an HTTP event");
    let json = serde_json::from_str(&reply).expect("the reply is JSON");
    let response = TestResponse::from_reply(&reply).expect("a reply in the event's format");
    (json, response)
}

/// The value of header `name` ("" when absent).
pub(crate) fn header<'a>(response: &'a TestResponse, name: &str) -> &'a str {
    response.header(name).unwrap_or_default()
}

/// Every `Set-Cookie` of a response, whichever field of the reply carried it.
pub(crate) fn set_cookies(response: &TestResponse) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect()
}

/// The `name=value` part of the session's `Set-Cookie`, which the response must have.
pub(crate) fn session_pair(response: &TestResponse) -> String {
    set_cookies(response)
        .into_iter()
        .find(|c| c.starts_with("_idx="))
        .and_then(|c| c.split(';').next().map(String::from))
        .expect("a session cookie")
}
