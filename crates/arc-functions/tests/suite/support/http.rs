//! Real API Gateway events (`tests/fixtures`), the configuration and stores the HTTP tests
//! build, and what a handler's response holds. For `handler_*.rs`, `parity_*.rs`, the
//! store suite and the WebSocket tests.

use std::sync::Arc;

use arc_functions::config::Config;
use arc_functions::http::session::SessionStore;
use arc_functions::http::{self, Handler, Request, Response};
use lambda_http::Body as LambdaBody;
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

/// A real event, changed by `edit`, as lambda_http hands it to a handler.
pub(crate) fn event(fixture: &str, edit: impl FnOnce(&mut Value)) -> lambda_http::Request {
    let mut value: Value = serde_json::from_str(fixture).expect("fixture is JSON");
    edit(&mut value);
    lambda_http::request::from_str(&value.to_string()).expect("lambda_http parses the event")
}

/// A response's body as text (a binary one read as UTF-8, lossily; none as "").
pub(crate) fn text(response: &lambda_http::Response<LambdaBody>) -> String {
    match response.body() {
        LambdaBody::Text(t) => t.clone(),
        LambdaBody::Binary(b) => String::from_utf8_lossy(b).into_owned(),
        _ => String::new(),
    }
}

/// The value of header `name` ("" when absent).
pub(crate) fn header<'a>(response: &'a lambda_http::Response<LambdaBody>, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Every `Set-Cookie` of a response.
pub(crate) fn set_cookies(response: &lambda_http::Response<LambdaBody>) -> Vec<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(String::from))
        .collect()
}

/// The `name=value` part of the session's `Set-Cookie`, which the response must have.
pub(crate) fn session_pair(response: &lambda_http::Response<LambdaBody>) -> String {
    set_cookies(response)
        .into_iter()
        .find(|c| c.starts_with("_idx="))
        .and_then(|c| c.split(';').next().map(String::from))
        .expect("a session cookie")
}
