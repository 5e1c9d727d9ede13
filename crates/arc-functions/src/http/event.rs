//! The Lambda payload of an HTTP invocation, read once into its own type.
//!
//! lambda_http reads a payload by trying each event type in turn, REST first, and keeps the
//! first that parses: an HTTP API (v2) event, the common case, is parsed three times, and since
//! most fields of every type are optional, a WebSocket event can pass for a REST one. Here a
//! skim of the few fields that tell the kinds apart picks the one type to parse; lambda_http
//! still turns that into an `http::Request`. That conversion, and the parse itself, can panic
//! on events API Gateway would never send (an invalid URI, a bad port): such a panic becomes
//! [`Error::Unreadable`], answered 400 in the event's own format rather than an invocation
//! error, which API Gateway turns into a 502.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};

use lambda_http::aws_lambda_events::alb::{AlbTargetGroupRequest, AlbTargetGroupResponse};
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayProxyRequest, ApiGatewayProxyResponse, ApiGatewayV2httpRequest,
    ApiGatewayV2httpResponse,
};
use lambda_http::http::header::SET_COOKIE;
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde::de::IgnoredAny;

/// Which service sent an event, and so which response it expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// API Gateway REST API (payload format 1.0).
    Rest,
    /// API Gateway HTTP API (payload format 2.0) or a Lambda function URL.
    Http,
    /// An Application Load Balancer target group.
    Alb,
}

/// Why a payload is not a request this function can serve.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// Valid JSON, but no HTTP event: the invocation fails, as there is no format to answer in.
    #[error(
        "the event is not an HTTP event from API Gateway, a function URL or a load balancer ({0})"
    )]
    NotHttp(&'static str),
    /// An HTTP event of a known origin that cannot be read: answered 400 in its format.
    #[error("the {origin:?} event cannot be read: {reason}")]
    Unreadable {
        /// The origin, for the response's format.
        origin: Origin,
        /// What went wrong, for the log.
        reason: String,
    },
}

/// Only the fields that tell the event types apart; everything else is skipped unread.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "httpMethod")]
    http_method: Option<IgnoredAny>,
    #[serde(rename = "requestContext")]
    request_context: Option<ProbeContext>,
}

#[derive(Deserialize)]
struct ProbeContext {
    http: Option<IgnoredAny>,
    elb: Option<IgnoredAny>,
    #[serde(rename = "connectionId")]
    connection_id: Option<IgnoredAny>,
}

/// The origin of a payload, from its distinguishing fields alone.
pub(crate) fn origin(payload: &str) -> Result<Origin, Error> {
    let probe: Probe =
        serde_json::from_str(payload).map_err(|_| Error::NotHttp("not an object"))?;
    let context = probe.request_context.as_ref();
    // A WebSocket event has a connection id and, unlike the others, may lack every HTTP field.
    if context.is_some_and(|c| c.connection_id.is_some()) {
        return Err(Error::NotHttp("a WebSocket event"));
    }
    if context.is_some_and(|c| c.elb.is_some()) {
        Ok(Origin::Alb)
    } else if context.is_some_and(|c| c.http.is_some()) {
        Ok(Origin::Http)
    } else if probe.http_method.is_some() {
        Ok(Origin::Rest)
    } else {
        Err(Error::NotHttp(
            "no requestContext.http, requestContext.elb or httpMethod",
        ))
    }
}

/// Reads `payload` as the event type of its origin and converts it to an `http::Request`.
pub(crate) fn parse(payload: &str) -> Result<(Origin, Request), Error> {
    let origin = origin(payload)?;
    let unreadable = |reason: String| Error::Unreadable { origin, reason };
    let typed = catch_unwind(|| typed(origin, payload)).map_err(|p| unreadable(panic_text(&*p)))?;
    let event = typed.map_err(|e| unreadable(e.to_string()))?;
    // The conversion owns the event, so nothing observable is left half-changed by a panic.
    let request = catch_unwind(AssertUnwindSafe(|| Request::from(event)))
        .map_err(|p| unreadable(panic_text(&*p)))?;
    Ok((origin, request))
}

fn typed(origin: Origin, payload: &str) -> serde_json::Result<LambdaRequest> {
    Ok(match origin {
        Origin::Rest => {
            LambdaRequest::ApiGatewayV1(serde_json::from_str::<ApiGatewayProxyRequest>(payload)?)
        }
        Origin::Http => {
            LambdaRequest::ApiGatewayV2(serde_json::from_str::<ApiGatewayV2httpRequest>(payload)?)
        }
        Origin::Alb => LambdaRequest::Alb(serde_json::from_str::<AlbTargetGroupRequest>(payload)?),
    })
}

/// What a caught panic said, for the log.
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// A response in the format its origin expects.
#[derive(serde::Serialize)]
#[serde(untagged)]
pub(crate) enum Reply {
    /// For REST APIs.
    Rest(ApiGatewayProxyResponse),
    /// For HTTP APIs and function URLs.
    Http(ApiGatewayV2httpResponse),
    /// For load balancers.
    Alb(AlbTargetGroupResponse),
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, status) = match self {
            Self::Rest(r) => ("Rest", r.status_code),
            Self::Http(r) => ("Http", r.status_code),
            Self::Alb(r) => ("Alb", r.status_code),
        };
        write!(f, "Reply::{kind}({status})")
    }
}

/// `response` in `origin`'s format, as lambda_http would write it (its own conversion is not
/// public): REST APIs get every header in `multiValueHeaders` only, since they merge both
/// fields; HTTP APIs take cookies apart from headers; load balancers read either header field,
/// depending on their configuration, so both are filled.
pub(crate) fn reply(origin: Origin, response: Response<Body>) -> Reply {
    let (parts, body) = response.into_parts();
    let (is_base64_encoded, body) = match body {
        b @ Body::Text(_) => (false, Some(b)),
        b @ Body::Binary(_) => (true, Some(b)),
        // `Body::Empty`, and what a later lambda_http may add (`Body` is non-exhaustive):
        // no body, as lambda_http sends for what it does not know.
        _ => (false, None),
    };
    let status_code = i64::from(parts.status.as_u16());
    let mut headers = parts.headers;
    match origin {
        Origin::Rest => {
            let mut r = ApiGatewayProxyResponse::default();
            r.status_code = status_code;
            r.multi_value_headers = headers;
            r.body = body;
            r.is_base64_encoded = is_base64_encoded;
            Reply::Rest(r)
        }
        Origin::Http => {
            let mut r = ApiGatewayV2httpResponse::default();
            r.status_code = status_code;
            r.cookies = headers
                .get_all(SET_COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok().map(str::to_owned))
                .collect();
            headers.remove(SET_COOKIE);
            r.headers = headers;
            r.body = body;
            r.is_base64_encoded = is_base64_encoded;
            Reply::Http(r)
        }
        Origin::Alb => {
            let mut r = AlbTargetGroupResponse::default();
            r.status_code = status_code;
            r.status_description = Some(format!(
                "{} {}",
                parts.status.as_u16(),
                parts.status.canonical_reason().unwrap_or_default()
            ));
            r.multi_value_headers = headers.clone();
            r.headers = headers;
            r.body = body;
            r.is_base64_encoded = is_base64_encoded;
            Reply::Alb(r)
        }
    }
}

#[cfg(test)]
mod tests;
