//! The pages every wrapper answers a request it could not serve with: short, generic, never
//! cached, the cause in the log and never in the page.

use lambda_http::Body as LambdaBody;
use lambda_http::http::StatusCode;
use lambda_http::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};

use super::html;
use crate::session;

/// `cache-control` for pages, JSON and redirects: never cached, as the original does.
pub(crate) const NO_CACHE: &str = "no-cache, no-store, must-revalidate, max-age=0, s-maxage=0";

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
/// The page of a `503`: DynamoDB throttled, unreachable or out of time.
const GENERIC_503: &str = "The service is busy; please try again in a moment.";

/// A request every wrapper answers without detail, the cause already in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// A handler's error or panic, a broken configuration, a session that cannot be written:
    /// `500`.
    Internal,
    /// DynamoDB throttled, unreachable or out of the invocation's time: `503`, as retrying
    /// may help.
    Unavailable,
    /// The session write lost to another request's ([`session::Error::Conflict`]): `409`;
    /// nothing of the request was saved or pushed.
    Conflict,
}

impl Fault {
    /// Logs a session fault and says how to answer it.
    pub(crate) fn of(e: &session::Error, what: &str) -> Self {
        tracing::error!(error = %e, "{what} failed");
        Self::unavailable_if(e.is_unavailable())
    }

    /// A fault already logged: [`Fault::Unavailable`] when retrying may help.
    pub(crate) fn unavailable_if(unavailable: bool) -> Self {
        if unavailable {
            Self::Unavailable
        } else {
            Self::Internal
        }
    }

    /// The status and the page's words.
    pub(crate) fn reply(self) -> (StatusCode, &'static str) {
        match self {
            Self::Internal => (StatusCode::INTERNAL_SERVER_ERROR, GENERIC_500),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, GENERIC_503),
            Self::Conflict => (StatusCode::CONFLICT, GENERIC_409),
        }
    }

    /// The error page.
    pub(crate) fn page(self) -> lambda_http::Response<LambdaBody> {
        let (status, message) = self.reply();
        error_page(status, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fault_has_its_status_and_a_page_without_detail() {
        for (fault, status) in [
            (Fault::Internal, 500),
            (Fault::Unavailable, 503),
            (Fault::Conflict, 409),
        ] {
            let page = fault.page();
            assert_eq!(page.status(), status);
            assert_eq!(page.headers()[CACHE_CONTROL], NO_CACHE);
            let lambda_http::Body::Text(body) = page.body() else {
                panic!("an HTML page");
            };
            assert!(body.contains(fault.reply().1), "{body}");
        }
        assert_eq!(Fault::unavailable_if(true), Fault::Unavailable);
        assert_eq!(Fault::unavailable_if(false), Fault::Internal);
    }

    #[test]
    fn a_session_fault_is_unavailable_only_when_retrying_may_help() {
        assert_eq!(
            Fault::of(&session::Error::Conflict, "writing"),
            Fault::Internal
        );
    }
}
