//! The Lambda payload of an HTTP invocation, read once into its own type.
//!
//! lambda_http reads a payload by trying each event type in turn, REST first, and keeps the
//! first that parses: an HTTP API (v2) event, the common case, is parsed three times, and since
//! most fields of every type are optional, a WebSocket event can pass for a REST one.
//!
//! Here an HTTP API or function URL event is read in one pass from its text to the request
//! ([`v2`]), the same request lambda_http would make of it. Every other event, and any HTTP API
//! event that reader leaves alone, goes the general way ([`parse_typed`]): a skim of the few
//! fields that tell the kinds apart picks the one type to parse, and lambda_http turns that
//! into an `http::Request`. That conversion, and the parse itself, can panic on events API
//! Gateway would never send (an invalid URI, a bad port): such a panic becomes
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
use lambda_http::http::{HeaderMap, HeaderValue};
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::runtime::event::{self, Kind, Unknown, panic_text};

mod uri;
mod v2;

pub(crate) use v2::{Found, Leave, Parts, Place, read_parts};

/// Which service sent an HTTP event, and so which response it expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sender {
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
    /// An HTTP event of a known sender that cannot be read: answered 400 in its format.
    #[error("the {sender:?} event cannot be read: {reason}")]
    Unreadable {
        /// The sender, for the response's format.
        sender: Sender,
        /// What went wrong, for the log.
        reason: String,
    },
}

/// The sender of an HTTP payload, from its distinguishing fields alone.
pub(crate) fn sender(payload: &str) -> Result<Sender, Error> {
    match event::kind(payload) {
        Ok(Kind::Rest) => Ok(Sender::Rest),
        Ok(Kind::Http) => Ok(Sender::Http),
        Ok(Kind::Alb) => Ok(Sender::Alb),
        Ok(Kind::WebSocket) => Err(Error::NotHttp("a WebSocket event")),
        Err(Unknown(reason)) => Err(Error::NotHttp(reason)),
    }
}

/// Puts the invocation's X-Ray trace id in `headers`, as lambda_http's own loop does: with
/// invocations concurrent it comes from each one's context, not the process environment.
pub(crate) fn trace(headers: &mut HeaderMap, context: &lambda_http::Context) {
    if let Some(trace) = context.xray_trace_id.as_deref()
        && let Ok(value) = HeaderValue::from_str(trace)
    {
        headers.insert("x-amzn-trace-id", value);
    }
}

/// `request` as a handler is given it: with the invocation's trace id ([`trace`]) and Lambda's
/// context, which holds the deadline.
pub(crate) fn invoked(mut request: Request, context: lambda_http::Context) -> Request {
    trace(request.headers_mut(), &context);
    request.with_lambda_context(context)
}

/// Reads `payload` as the event type of its sender and converts it to an `http::Request`.
pub(crate) fn parse(payload: &str) -> Result<(Sender, Request), Error> {
    // HTTP API events and function URLs, the common case, in one pass; the rest, and any
    // event that reader leaves, the general way.
    if let Some(request) = v2::read(payload) {
        return Ok((Sender::Http, request));
    }
    parse_typed(payload)
}

/// [`parse`] the general way, for every kind of event: classified by [`sender`], read into
/// lambda_http's type for it, and converted by lambda_http.
pub(crate) fn parse_typed(payload: &str) -> Result<(Sender, Request), Error> {
    let sender = sender(payload)?;
    let unreadable = |reason: String| Error::Unreadable { sender, reason };
    let typed = catch_unwind(|| typed(sender, payload)).map_err(|p| unreadable(panic_text(&*p)))?;
    let event = typed.map_err(|e| unreadable(e.to_string()))?;
    // The conversion owns the event, so nothing observable is left half-changed by a panic.
    let request = catch_unwind(AssertUnwindSafe(|| Request::from(event)))
        .map_err(|p| unreadable(panic_text(&*p)))?;
    Ok((sender, request))
}

fn typed(sender: Sender, payload: &str) -> serde_json::Result<LambdaRequest> {
    Ok(match sender {
        Sender::Rest => {
            LambdaRequest::ApiGatewayV1(serde_json::from_str::<ApiGatewayProxyRequest>(payload)?)
        }
        Sender::Http => {
            LambdaRequest::ApiGatewayV2(serde_json::from_str::<ApiGatewayV2httpRequest>(payload)?)
        }
        Sender::Alb => LambdaRequest::Alb(serde_json::from_str::<AlbTargetGroupRequest>(payload)?),
    })
}

/// A response in the format its sender expects.
#[derive(serde::Serialize)]
#[serde(untagged)]
pub(crate) enum EventReply {
    /// For REST APIs.
    Rest(ApiGatewayProxyResponse),
    /// For HTTP APIs and function URLs.
    Http(ApiGatewayV2httpResponse),
    /// For load balancers.
    Alb(AlbTargetGroupResponse),
}

impl fmt::Debug for EventReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (kind, status) = match self {
            Self::Rest(r) => ("Rest", r.status_code),
            Self::Http(r) => ("Http", r.status_code),
            Self::Alb(r) => ("Alb", r.status_code),
        };
        write!(f, "EventReply::{kind}({status})")
    }
}

/// `response` in `sender`'s format, as lambda_http would write it (its own conversion is not
/// public): REST APIs get every header in `multiValueHeaders` only, since they merge both
/// fields; HTTP APIs take cookies apart from headers; load balancers read either header field,
/// depending on their configuration, so both are filled.
pub(crate) fn reply(sender: Sender, response: Response<Body>) -> EventReply {
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
    match sender {
        Sender::Rest => {
            let mut r = ApiGatewayProxyResponse::default();
            r.status_code = status_code;
            r.multi_value_headers = headers;
            r.body = body;
            r.is_base64_encoded = is_base64_encoded;
            EventReply::Rest(r)
        }
        Sender::Http => {
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
            EventReply::Http(r)
        }
        Sender::Alb => {
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
            EventReply::Alb(r)
        }
    }
}

#[cfg(test)]
mod tests;
