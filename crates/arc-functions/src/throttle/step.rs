//! The throttle as a [`chain`](crate::http::chain()) step, for per-route handlers.

use crate::http::chain::Step;
use crate::http::{Flow, NO_CACHE, Request};
use crate::runtime::{Body, Error as HttpError, Fault, error_body};

use super::{Admission, Throttle};

/// A chain step that counts each sign-in attempt before the handler sees it: built by
/// [`Throttle::step`]. A locked count is answered `429` with `Retry-After` and the handler
/// never runs; an attempt let through reaches the handler with its [`Attempt`](super::Attempt)
/// in [`Request::extensions`], on which the handler calls
/// [`succeeded`](super::Attempt::succeeded) when the password is right.
///
/// # Examples
///
/// ```
/// use arc_functions::config::Config;
/// use arc_functions::throttle::Throttle;
///
/// let config = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "sessions")])?;
/// let guard = Throttle::new(&config)?.step("/login", "email");
/// let shown = format!("{guard:?}");
/// assert!(shown.contains(r#"path: "/login""#) && shown.contains(r#"user_field: "email""#), "{shown}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Guard {
    throttle: Throttle,
    path: String,
    user_field: String,
}

/// Tells [`Guard`]'s [`Step`] implementation from the one for functions.
#[derive(Debug)]
pub enum GuardStep {}

impl Throttle {
    /// A chain step counting the `POST`s to `path` (other requests pass untouched), keyed by
    /// the form or JSON field `user_field` and the request's
    /// [`source_ip`](Request::source_ip).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use arc_functions::http::{self, Request, Response, csrf};
    /// use arc_functions::throttle::{Attempt, Throttle};
    ///
    /// async fn login(req: Request) -> http::Result<Response> {
    ///     let form = req.body.form();
    ///     let right = form.and_then(|f| f.get("password")) == Some("correct horse");
    ///     if right {
    ///         if let Some(attempt) = req.extensions.get::<Attempt>() {
    ///             attempt.succeeded().await?;
    ///         }
    ///         return Ok(Response::redirect("/"));
    ///     }
    ///     Ok(Response::redirect("/login"))
    /// }
    ///
    /// fn main() -> Result<(), lambda_http::Error> {
    ///     let throttle = Throttle::from_env()?;
    ///     http::start(http::async_handler(http::chain((
    ///         csrf::require,
    ///         throttle.step("/login", "user"),
    ///         login,
    ///     ))))
    /// }
    /// ```
    pub fn step(&self, path: &str, user_field: &str) -> Guard {
        Guard {
            throttle: self.clone(),
            path: path.to_owned(),
            user_field: user_field.to_owned(),
        }
    }
}

impl Guard {
    /// Counts `req` when it is a sign-in, then passes it on or answers it.
    async fn check(&self, mut req: Request) -> Flow {
        if req.method != "POST" || req.path != self.path {
            return Flow::Continue(req);
        }
        let user = user_of(&req.body, &self.user_field);
        let address = req.source_ip().map(str::to_owned);
        match self.throttle.attempt(&user, address.as_deref()).await {
            Ok(Admission::Allowed(attempt)) => {
                req.extensions.insert(attempt);
                Flow::Continue(req)
            }
            Ok(Admission::Locked(locked)) => {
                tracing::info!(retry_after = ?locked.retry_after(), "sign-in attempt refused: locked");
                Flow::Break(locked.response())
            }
            Err(e) => {
                tracing::error!(error = %e, "counting a sign-in attempt failed");
                let (status, message) = Fault::unavailable_if(e.is_unavailable()).reply();
                Flow::Break(
                    crate::http::Response::html(error_body(status, message))
                        .status(status.as_u16())
                        .cache_control(NO_CACHE),
                )
            }
        }
    }
}

impl Step<GuardStep> for Guard {
    async fn run(&self, req: Request) -> Result<Flow, HttpError> {
        Ok(self.check(req).await)
    }
}

/// The user name a sign-in names: the form field, or the JSON body's string field.
pub(crate) fn user_of(body: &Body, field: &str) -> String {
    if let Some(form) = body.form() {
        return form.get(field).unwrap_or_default().to_owned();
    }
    body.json()
        .and_then(|json| json.get(field))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
