//! Stage-aware URLs: Architect's `arc.http.helpers.url`.
//!
//! A REST API reached through its default address,
//! `https://{id}.execute-api.{region}.amazonaws.com/{stage}/`, sees paths without the stage, so
//! a link to `/login` must be written `/{stage}/login`. Architect's helper
//! (`src/http/helpers/url.js`) decides from the environment alone: it adds `/{ARC_ENV}` when
//! `ARC_ENV` is `staging` or `production` and `ARC_LOCAL` is not set. [`url`] does exactly
//! that.
//!
//! That rule cannot see the request, so it also prefixes links on HTTP APIs (whose `$default`
//! stage is not in the path), function URLs and custom domains, where the prefix breaks them;
//! Architect's own HTTP API apps simply do not call it. [`Request::url`] applies the same
//! environment rule and then only prefixes requests that came through a REST API on its
//! execute-api address, with the stage the request names. Prefer it inside a handler.

use lambda_http::request::RequestContext;

use super::Request;
use crate::runtime::Process;

/// `path` with the API Gateway stage in front when Architect's helper would add one: `ARC_ENV`
/// is `staging` or `production` and `ARC_LOCAL` is not set. The environment is read on the
/// first call only.
///
/// It cannot see the request: on an HTTP API, a function URL or a custom domain deployed with
/// `ARC_ENV=production` it still adds `/production`, as the original does. Inside a handler use
/// [`Request::url`], which adds a stage only where the request shows one is needed.
///
/// # Examples
///
/// ```
/// // In a test run ARC_ENV is unset or `testing`: paths come back unchanged.
/// # if !matches!(std::env::var("ARC_ENV").as_deref(), Ok("staging" | "production")) {
/// assert_eq!(arc_functions::http::url("/login"), "/login");
/// # }
/// ```
pub fn url(path: &str) -> String {
    with_stage(Process::get().stage(), path)
}

/// `path` behind `/{stage}` when there is one.
pub(crate) fn with_stage(stage: Option<&str>, path: &str) -> String {
    match stage {
        Some(stage) => format!("/{stage}{path}"),
        None => path.to_owned(),
    }
}

/// The stage [`Request::url`] adds for a request, given the environment's [`url`] stage: the
/// REST API stage the request came through, when it came through the API's execute-api
/// address; `None` for HTTP APIs, function URLs, ALBs, custom domains and local runs.
pub(crate) fn request_stage<'a>(
    environment: Option<&'a str>,
    context: Option<&'a RequestContext>,
    host: Option<&'a str>,
) -> Option<&'a str> {
    environment?;
    let Some(RequestContext::ApiGatewayV1(context)) = context else {
        return None;
    };
    let domain = context.domain_name.as_deref().or(host)?;
    // `{id}.execute-api.{region}.amazonaws.com`, `.amazonaws.com.cn` in the China regions.
    let default_address = domain.contains(".execute-api.")
        && (domain.ends_with(".amazonaws.com") || domain.ends_with(".amazonaws.com.cn"));
    if !default_address {
        return None;
    }
    context.stage.as_deref().or(environment)
}

impl Request {
    /// `path` as a link or redirect target that works where this request came from: behind the
    /// REST API stage (`/production/login`) when the request came through a REST API's own
    /// execute-api address and [`url`]'s environment rule holds (`ARC_ENV` is `staging` or
    /// `production`, `ARC_LOCAL` unset); else unchanged. The environment is the handler's
    /// configuration, read at cold start.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response, session::SessionStore};
    ///
    /// async fn logout(req: Request) -> http::Result<Response> {
    ///     Ok(Response::redirect(req.url("/login")))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let config = Config::from_vars([("ARC_ENV", "testing")])?;
    /// let app = Handler::with_store(Arc::new(SessionStore::new(&config)), logout).with_config(&config);
    /// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
    /// let response = app.handle(event).await;
    /// assert_eq!(response.headers()["location"], "/login", "testing: no stage");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn url(&self, path: &str) -> String {
        // The context is asked for only when it could matter: making it is most of the cost of
        // a request read from an HTTP API event (see `Raw`), whose context never has a stage to
        // add.
        let stage = match self.environment_stage() {
            Some(_) if self.raw.is_http_api_event() => None,
            Some(environment) => {
                request_stage(Some(environment), self.context(), self.header("host"))
            }
            None => None,
        };
        with_stage(stage, path)
    }
}
