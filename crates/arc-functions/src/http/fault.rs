//! The pages every wrapper answers a request it could not serve with: short, generic, never
//! cached, the cause in the log and never in the page.

use lambda_http::Body as LambdaBody;
use lambda_http::http::StatusCode;
use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};

use super::html;
use super::response::NO_CACHE;
use crate::session;

/// The page of a generic 500.
pub(crate) const GENERIC_500: &str = "Sorry, something went wrong on our side.";

/// A small HTML page for an error status; `message` is escaped.
pub(crate) fn error_body(status: StatusCode, message: &str) -> String {
    let reason = status.canonical_reason().unwrap_or("Error");
    format!(
        "<!doctype html>\n<html><head><title>{code} {reason}</title></head>\n<body><h1>{code} {reason}</h1><p>{message}</p></body></html>\n",
        code = status.as_u16(),
        message = html::escape(message),
    )
}

/// An error page: HTML, never cached.
pub(crate) fn error_page(status: StatusCode, message: &str) -> lambda_http::Response<LambdaBody> {
    let mut response = lambda_http::Response::new(LambdaBody::Text(error_body(status, message)));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(NO_CACHE));
    response
}

/// The page of a `400`: a request that cannot be read.
pub(crate) const GENERIC_400: &str = "The request could not be read.";
/// The page of a `409`: a session write that lost a race.
const GENERIC_409: &str =
    "Another request changed this at the same moment, so nothing was saved. Please try again.";

/// The answer to a request whose session write lost to another request's
/// ([`session::Error::Conflict`]): nothing of it was saved or pushed.
pub(crate) fn conflict() -> lambda_http::Response<LambdaBody> {
    error_page(StatusCode::CONFLICT, GENERIC_409)
}

/// The page of a `503`: DynamoDB throttled, unreachable or out of time.
const GENERIC_503: &str = "The service is busy; please try again in a moment.";

/// Logs a session fault and answers it without detail: 503 when retrying may help.
pub(crate) fn fault(e: &session::Error, what: &str) -> lambda_http::Response<LambdaBody> {
    tracing::error!(error = %e, "{what} failed");
    failure(e.is_unavailable())
}

/// A fault already logged, answered without detail: 503 when retrying may help, else 500.
pub(crate) fn failure(unavailable: bool) -> lambda_http::Response<LambdaBody> {
    let (status, message) = fault_reply(unavailable);
    error_page(status, message)
}

/// How a fault is answered, without detail: 503 when retrying may help, else 500.
pub(crate) fn fault_reply(unavailable: bool) -> (StatusCode, &'static str) {
    if unavailable {
        (StatusCode::SERVICE_UNAVAILABLE, GENERIC_503)
    } else {
        (StatusCode::INTERNAL_SERVER_ERROR, GENERIC_500)
    }
}
