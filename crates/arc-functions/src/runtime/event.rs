//! Which kind of event a Lambda payload is, from the few fields that tell the kinds apart.
//!
//! Most fields of every API Gateway event type are optional, so a payload parses as more than
//! one of them (lambda_http keeps the first that parses, REST first, so a WebSocket event can
//! pass for a REST one): a skim of the distinguishing fields picks the one type to parse, and
//! everything else is skipped unread.

use serde::Deserialize;
use serde::de::IgnoredAny;

/// The kind of a payload, and so which response its sender expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// API Gateway REST API (payload format 1.0).
    Rest,
    /// API Gateway HTTP API (payload format 2.0) or a Lambda function URL.
    Http,
    /// An Application Load Balancer target group.
    Alb,
    /// An API Gateway WebSocket API.
    WebSocket,
}

/// Why a payload is none of the kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct Unknown(pub(crate) &'static str);

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

/// The kind of `payload`, from its distinguishing fields alone.
pub(crate) fn kind(payload: &str) -> Result<Kind, Unknown> {
    let probe: Probe = serde_json::from_str(payload).map_err(|_| Unknown("not a JSON object"))?;
    let context = probe.request_context.as_ref();
    // A WebSocket event has a connection id and, unlike the others, may lack every HTTP field.
    if context.is_some_and(|c| c.connection_id.is_some()) {
        Ok(Kind::WebSocket)
    } else if context.is_some_and(|c| c.elb.is_some()) {
        Ok(Kind::Alb)
    } else if context.is_some_and(|c| c.http.is_some()) {
        Ok(Kind::Http)
    } else if probe.http_method.is_some() {
        Ok(Kind::Rest)
    } else {
        Err(Unknown(
            "no requestContext.connectionId, requestContext.http, requestContext.elb or httpMethod",
        ))
    }
}

/// What a caught panic said, for the log.
pub(crate) fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_told_by_its_own_field() {
        let cases = [
            (
                r#"{"requestContext": {"connectionId": "a", "http": {}}}"#,
                Kind::WebSocket,
            ),
            (
                r#"{"requestContext": {"elb": {}}, "httpMethod": "GET"}"#,
                Kind::Alb,
            ),
            (
                r#"{"requestContext": {"http": {}}, "httpMethod": "GET"}"#,
                Kind::Http,
            ),
            (r#"{"requestContext": {}, "httpMethod": "GET"}"#, Kind::Rest),
        ];
        for (payload, expected) in cases {
            assert_eq!(kind(payload), Ok(expected), "{payload}");
        }
    }

    #[test]
    fn a_payload_of_no_kind_says_so() {
        assert_eq!(kind("[1]"), Err(Unknown("not a JSON object")));
        assert!(kind(r#"{"requestContext": {}}"#).is_err());
        assert!(kind(r#"{"Records": []}"#).is_err());
    }

    #[test]
    fn panic_text_reads_both_message_types() {
        assert_eq!(panic_text(&"static"), "static");
        assert_eq!(panic_text(&String::from("owned")), "owned");
        assert_eq!(panic_text(&3_u8), "a panic without a message");
    }
}
