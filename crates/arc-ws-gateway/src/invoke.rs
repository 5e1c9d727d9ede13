//! Invoking a function through `cargo lambda watch`, as API Gateway invokes Lambda.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{Method, Request, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

/// What a function name may hold unescaped in the invoke path.
const NAME: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// The header Lambda's Invoke API sets when the function failed; watch answers 500 instead.
const FUNCTION_ERROR: &str = "x-amz-function-error";

/// An error and every cause under it, `: `-separated: hyper's own messages are terse ("client
/// error (Connect)") and only the causes say what happened ("Connection refused").
fn report(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut cause = err.source();
    while let Some(err) = cause {
        line.push_str(": ");
        line.push_str(&err.to_string());
        cause = err.source();
    }
    line
}

/// Calls watch's copy of Lambda's Invoke API.
#[derive(Clone, Debug)]
pub(crate) struct Invoker {
    client: Client<HttpConnector, Full<Bytes>>,
    base: String,
}

/// Why an invocation gave no reply.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum InvokeError {
    /// The function name makes no valid URL (it came from app.arc).
    #[error("{function}: not a valid function name for {url}")]
    Url {
        function: String,
        url: String,
        #[source]
        source: http::Error,
    },
    /// Watch could not be reached, or the connection failed.
    #[error(
        "{function}: could not reach watch at {url}: {source} (is `cargo lambda watch` running?)"
    )]
    Unreachable {
        function: String,
        url: String,
        #[source]
        source: hyper_util::client::legacy::Error,
    },
    /// The reply body broke off.
    #[error("{function}: the reply broke off: {}", report(.source))]
    Body {
        function: String,
        #[source]
        source: hyper::Error,
    },
    /// The function failed (watch answers 500 with the error), or watch refused the call.
    #[error("{function} failed: watch answered {status}: {body}")]
    Failed {
        function: String,
        status: u16,
        body: String,
    },
}

/// A function's reply, read as API Gateway reads a Lambda proxy integration's output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reply {
    /// `statusCode`, when it is a number HTTP allows as a final status.
    pub(crate) status_code: Option<u16>,
    /// `headers`, those with string values.
    pub(crate) headers: BTreeMap<String, String>,
    /// `body`, when it is a string.
    pub(crate) body: Option<String>,
}

impl Reply {
    /// Any JSON reads as a reply; what isn't there is `None` (a function that returns nothing
    /// replies `null`).
    pub(crate) fn from_json(bytes: &[u8]) -> Self {
        let Ok(Value::Object(mut reply)) = serde_json::from_slice::<Value>(bytes) else {
            return Self::default();
        };
        let status_code = reply
            .get("statusCode")
            .and_then(Value::as_u64)
            .and_then(|code| u16::try_from(code).ok())
            .filter(|code| (200..=599).contains(code));
        let headers = match reply.remove("headers") {
            Some(Value::Object(headers)) => headers
                .into_iter()
                .filter_map(|(name, value)| match value {
                    Value::String(value) => Some((name, value)),
                    _ => None,
                })
                .collect(),
            _ => BTreeMap::new(),
        };
        let body = match reply.remove("body") {
            Some(Value::String(body)) => Some(body),
            _ => None,
        };
        Self {
            status_code,
            headers,
            body,
        }
    }

    /// A reply header, by name in any case.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

impl Invoker {
    /// An invoker for watch at `base`, `http://host:port`.
    pub(crate) fn new(base: &Uri) -> Self {
        let client = Client::builder(TokioExecutor::new()).build_http();
        Self {
            client,
            base: base.to_string().trim_end_matches('/').to_owned(),
        }
    }

    /// Invokes `function` with `event`, waiting as long as it takes: watch builds a function on
    /// its first invocation, which takes far longer than API Gateway's 29 seconds.
    pub(crate) async fn invoke(
        &self,
        function: &str,
        event: Vec<u8>,
    ) -> Result<Reply, InvokeError> {
        let url = format!(
            "{}/2015-03-31/functions/{}/invocations",
            self.base,
            utf8_percent_encode(function, NAME)
        );
        let request = Request::builder()
            .method(Method::POST)
            .uri(&url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(event)))
            .map_err(|source| InvokeError::Url {
                function: function.to_owned(),
                url: url.clone(),
                source,
            })?;
        let response =
            self.client
                .request(request)
                .await
                .map_err(|source| InvokeError::Unreachable {
                    function: function.to_owned(),
                    url,
                    source,
                })?;
        let status = response.status();
        let failed = response.headers().contains_key(FUNCTION_ERROR);
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|source| InvokeError::Body {
                function: function.to_owned(),
                source,
            })?
            .to_bytes();
        if !status.is_success() || failed {
            return Err(InvokeError::Failed {
                function: function.to_owned(),
                status: status.as_u16(),
                body: String::from_utf8_lossy(&body).into_owned(),
            });
        }
        Ok(Reply::from_json(&body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_read_like_api_gateway() {
        let reply = Reply::from_json(
            br#"{"statusCode":200,"headers":{"Sec-WebSocket-Protocol":"chat","n":1},"body":"hi"}"#,
        );
        assert_eq!(reply.status_code, Some(200));
        assert_eq!(reply.header("sec-websocket-protocol"), Some("chat"));
        assert_eq!(reply.header("n"), None);
        assert_eq!(reply.body.as_deref(), Some("hi"));
    }

    #[test]
    fn anything_else_is_missing() {
        for json in [
            &b"null"[..],
            b"",
            b"\"ok\"",
            b"[200]",
            br#"{"statusCode":"200","body":1}"#,
            br#"{"statusCode":99}"#,
            br#"{"statusCode":600}"#,
            br#"{"statusCode":-1}"#,
            br#"{"statusCode":200.5}"#,
        ] {
            let reply = Reply::from_json(json);
            assert_eq!((reply.status_code, reply.body), (None, None), "{json:?}");
        }
    }

    #[test]
    fn reports_name_every_cause() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let err = std::io::Error::other(Wrapped(refused));
        assert_eq!(report(&err), "wrapped: refused");

        #[derive(Debug)]
        struct Wrapped(std::io::Error);
        impl std::fmt::Display for Wrapped {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("wrapped")
            }
        }
        impl std::error::Error for Wrapped {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
    }

    #[test]
    fn function_names_are_escaped_in_the_path() {
        let name = utf8_percent_encode("ws-v1.join_now é/x", NAME).to_string();
        assert_eq!(name, "ws-v1.join_now%20%C3%A9%2Fx");
    }
}
