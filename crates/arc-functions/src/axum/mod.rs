//! Sessions for one axum app per Lambda: a tower layer and extractors (feature `axum`).
//!
//! [`SessionLayer`] reads the session once per request with the same configuration, providers
//! and rules as [`http::async_handler`](crate::http::async_handler): the same cookie, so a
//! per-route binary and an axum app of one application share sessions; the same faults (a
//! generic 500, or 503 when DynamoDB is unreachable, the cause in the log). After the handler
//! it writes the session back only when a handler changed it, and never on a 5xx response.
//! A panicking handler is a generic 500, as in `async_handler`.
//!
//! The extractors: [`Session`] (read and change the session), [`Flash`] (this request's flash
//! messages, read once), [`CsrfToken`] (a token for a form), and [`CsrfForm`] / [`CsrfHeader`]
//! (refuse a request whose token does not verify, with a 403). Handlers may return
//! `Result<_, `[`Error`]`>` to answer any error with a generic 500 and log its cause.
//!
//! The layer needs no Lambda: the same router runs under `lambda_http::run` (or
//! `run_concurrent`) and under a plain `axum::serve` on a developer's machine.
//!
//! # Examples
//!
//! ```no_run
//! use arc_functions::axum::{Session, SessionLayer};
//! use axum::{Router, routing::post, response::Redirect};
//!
//! async fn count(session: Session) -> Result<Redirect, arc_functions::axum::Error> {
//!     let count = session.get::<u64>("count")?.unwrap_or(0) + 1;
//!     session.insert("count", count)?;
//!     Ok(Redirect::to("/"))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_http::Error> {
//!     // The configuration from the environment, read once, as async_handler reads it.
//!     let app = Router::new().route("/count", post(count)).layer(SessionLayer::from_env()?);
//!     lambda_http::run(app).await // or axum::serve(listener, app) on a developer's machine
//! }
//! ```

mod extract;
mod layer;
#[cfg(feature = "dynamodb")]
mod throttle;

pub use extract::{CsrfForm, CsrfHeader, CsrfToken, Flash, Rejection, Session};
pub use layer::{SessionLayer, SessionService};
#[cfg(feature = "dynamodb")]
#[cfg_attr(docsrs, doc(cfg(feature = "dynamodb")))]
pub use throttle::{ThrottleLayer, ThrottleService};

use std::convert::Infallible;

use axum_core::response::{IntoResponse, Response};
use lambda_http::http::StatusCode;

use crate::runtime::{GENERIC_500, error_page};

/// Serves an axum router (with a [`SessionLayer`]) on the Lambda Runtime API as
/// [`http::run`](crate::http::run) serves a handler: invocations concurrent up to
/// `AWS_LAMBDA_MAX_CONCURRENCY`, each event read once as its own type, one lambda_http cannot
/// read answered 400.
///
/// `lambda_http::run(router)` works too, one invocation at a time; `lambda_http::run_concurrent`
/// does not take a router, whose response body is not `Sync`: this collects the body first,
/// as Lambda does anyway for a response that is not streamed.
///
/// # Errors
///
/// When the Runtime API cannot be reached.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::axum::SessionLayer;
///
/// #[tokio::main]
/// async fn main() -> Result<(), lambda_http::Error> {
///     let layer = SessionLayer::from_env()?;
///     layer.store().prepare().await;
///     let app = axum::Router::new().layer(layer);
///     arc_functions::axum::run(app).await
/// }
/// ```
pub async fn run<S, R>(service: S) -> Result<(), lambda_http::Error>
where
    S: tower_service::Service<lambda_http::Request, Response = R, Error = Infallible>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Future: Send + 'static,
    R: lambda_http::IntoResponse + Send + 'static,
{
    crate::http::serve(move |request| {
        let mut service = service.clone();
        Box::pin(async move {
            let ready = std::future::poll_fn(|cx| service.poll_ready(cx)).await;
            let Ok(()) = ready;
            let Ok(response) = service.call(request).await;
            lambda_http::IntoResponse::into_response(response).await
        })
    })
    .await
}

/// An error a handler returns: answered with a generic 500 page, its cause logged through
/// `tracing`, never sent to the client. `?` turns any error into it.
///
/// # Examples
///
/// ```
/// use arc_functions::axum::{Error, Session};
///
/// async fn show(session: Session) -> Result<String, Error> {
///     let user: Option<String> = session.get("user")?;
///     Ok(user.unwrap_or_default())
/// }
/// ```
pub struct Error(crate::runtime::Error);

impl<E: Into<crate::runtime::Error>> From<E> for Error {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Error").field(&self.0).finish()
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        tracing::error!(error = %self.0, detail = ?self.0, "the handler returned an error");
        page(StatusCode::INTERNAL_SERVER_ERROR, GENERIC_500)
    }
}

/// A response of the HTTP wrapper's, as axum's: error pages are built once, in `http`.
fn into_axum(response: lambda_http::Response<lambda_http::Body>) -> Response {
    response.map(|body| match body {
        lambda_http::Body::Text(text) => axum_core::body::Body::from(text),
        lambda_http::Body::Binary(bytes) => axum_core::body::Body::from(bytes),
        _ => axum_core::body::Body::empty(),
    })
}

/// The generic error page, as an axum response.
fn page(status: StatusCode, message: &str) -> Response {
    into_axum(error_page(status, message))
}

#[cfg(test)]
mod tests;
