//! The request a WebSocket handler receives.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::aws_lambda_events::apigw::{
    ApiGatewayWebsocketProxyRequest, ApiGatewayWebsocketProxyRequestContext,
};
use lambda_http::http::{HeaderMap, HeaderName};

use super::{Client, Error, Payload};
use crate::runtime::{Body, Params, Redacted};
use crate::session::Session;

/// Which of API Gateway's three kinds of WebSocket event arrived.
///
/// # Examples
///
/// ```
/// use arc_functions::ws::EventType;
/// assert_eq!(EventType::parse("CONNECT"), Some(EventType::Connect));
/// assert_eq!(EventType::parse("GET"), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    /// `$connect`: the upgrade request, with its headers and cookie.
    Connect,
    /// A message: `$default` or a custom route.
    Message,
    /// `$disconnect`: sent when the connection closes, on a best-effort basis.
    Disconnect,
}

impl EventType {
    /// The event type of `requestContext.eventType`.
    ///
    /// # Examples
    ///
    /// See [`EventType`].
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "CONNECT" => Some(Self::Connect),
            "MESSAGE" => Some(Self::Message),
            "DISCONNECT" => Some(Self::Disconnect),
            _ => None,
        }
    }
}

/// A WebSocket event, normalized: what [`async_handler`](super::async_handler) hands your
/// function.
///
/// # Examples
///
/// ```
/// use arc_functions::ws::{EventType, Request};
///
/// let event = serde_json::from_str(r#"{
///     "requestContext": {"routeKey": "$default", "eventType": "MESSAGE",
///         "connectionId": "L0SM9cOFvHcCIhw=", "domainName": "abc.execute-api.us-east-1.amazonaws.com",
///         "stage": "production", "connectedAt": 1, "requestTimeEpoch": 2},
///     "body": "{\"action\": \"count\"}", "isBase64Encoded": false}"#)?;
/// let req = Request::from_event(event)?;
/// assert_eq!(req.event_type, EventType::Message);
/// assert_eq!(req.connection_id, "L0SM9cOFvHcCIhw=");
/// assert_eq!(req.body.json().and_then(|b| b["action"].as_str()), Some("count"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
pub struct Request {
    /// The connection's id: what [`send`](super::send) takes.
    pub connection_id: String,
    /// The route: `$connect`, `$disconnect`, `$default` or a custom route's name.
    pub route_key: String,
    /// Connect, message or disconnect.
    pub event_type: EventType,
    /// A message's body: JSON when it parses as JSON, else text; bytes for a binary frame.
    /// Empty on `$connect` and `$disconnect`.
    pub body: Body,
    /// The upgrade request's headers on `$connect` (cookie included); the few API Gateway
    /// sends on `$disconnect`; none on messages.
    pub headers: HeaderMap,
    /// The upgrade request's query string, on `$connect`.
    pub query: Params,
    /// The session. On `$connect` it is read from the cookie. Later, in DynamoDB mode, it is
    /// the live session the connection was tied to on `$connect`; in cookie mode it is empty,
    /// since API Gateway forwards no cookie after the upgrade and nothing is kept server-side.
    pub session: Session,
    /// The whole `requestContext`, for anything not normalized here.
    pub context: ApiGatewayWebsocketProxyRequestContext,
    client: Option<Client>,
}

impl std::fmt::Debug for Request {
    /// Everything but the credentials: the `Cookie` header is redacted (a socket ticket never
    /// reaches [`Request::query`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("connection_id", &self.connection_id)
            .field("route_key", &self.route_key)
            .field("event_type", &self.event_type)
            .field("body", &self.body)
            .field("headers", &Redacted(&self.headers))
            .field("query", &self.query)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// Normalizes an API Gateway WebSocket event. The session is left empty and there is no
    /// client: the handler wrapper fills both.
    ///
    /// # Errors
    ///
    /// [`Error::NotWebSocket`] when the event lacks a connection id, route key or known event
    /// type.
    ///
    /// # Examples
    ///
    /// See [`Request`].
    pub fn from_event(event: ApiGatewayWebsocketProxyRequest) -> Result<Self, Error> {
        let context = event.request_context;
        let missing = |what: &str| Error::NotWebSocket(format!("no requestContext.{what}"));
        let connection_id = context
            .connection_id
            .clone()
            .ok_or_else(|| missing("connectionId"))?;
        let route_key = context
            .route_key
            .clone()
            .ok_or_else(|| missing("routeKey"))?;
        let event_type = context
            .event_type
            .as_deref()
            .and_then(EventType::parse)
            .ok_or_else(|| missing("eventType of CONNECT, MESSAGE or DISCONNECT"))?;
        let body = match event.body {
            None => Body::Empty,
            Some(body) if event.is_base64_encoded => STANDARD
                .decode(body.as_bytes())
                .map(Body::Binary)
                .unwrap_or(Body::Text(body)),
            Some(body) => match serde_json::from_str(&body) {
                Ok(json) => Body::Json(json),
                Err(_) => Body::Text(body),
            },
        };
        // API Gateway fills both fields; the multi-value one keeps repeated names.
        let query = if event.multi_value_query_string_parameters.is_empty() {
            &event.query_string_parameters
        } else {
            &event.multi_value_query_string_parameters
        };
        let query = Params::from_pairs(
            query
                .iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned())),
        );
        Ok(Self {
            connection_id,
            route_key,
            event_type,
            body,
            headers: merged(event.multi_value_headers, event.headers),
            query,
            session: Session::new(),
            context,
            client: None,
        })
    }

    /// The client of this event's WebSocket API, to send to any of its connections.
    ///
    /// # Errors
    ///
    /// [`Error::NoEndpoint`] for a request built without the handler wrapper.
    ///
    /// # Examples
    ///
    /// ```
    /// # let event = serde_json::from_str(r#"{"requestContext": {"routeKey": "$default",
    /// #     "eventType": "MESSAGE", "connectionId": "a", "connectedAt": 1, "requestTimeEpoch": 2}}"#)?;
    /// let req = arc_functions::ws::Request::from_event(event)?;
    /// assert!(req.client().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn client(&self) -> Result<&Client, Error> {
        self.client.as_ref().ok_or(Error::NoEndpoint)
    }

    /// Sends `payload` to this request's own connection.
    ///
    /// # Errors
    ///
    /// As [`Client::send`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use arc_functions::ws::{self, Request, Response};
    ///
    /// async fn echo(req: Request) -> ws::Result<Response> {
    ///     req.send(serde_json::json!({"you said": req.body.json()})).await?;
    ///     Ok(Response::new())
    /// }
    /// ```
    pub async fn send(&self, payload: impl Into<Payload>) -> Result<(), Error> {
        self.client()?.send(&self.connection_id, payload).await
    }

    /// The value of header `name`, when it is text.
    ///
    /// # Examples
    ///
    /// ```
    /// # let event = serde_json::from_str(r#"{"headers": {"Cookie": "_idx=x"}, "requestContext":
    /// #     {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": "a",
    /// #      "connectedAt": 1, "requestTimeEpoch": 2}}"#)?;
    /// let req = arc_functions::ws::Request::from_event(event)?;
    /// assert_eq!(req.header("cookie"), Some("_idx=x"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub(crate) fn attach(&mut self, client: Client, session: Session) {
        self.client = Some(client);
        self.session = session;
    }
}

/// API Gateway fills both header fields; the multi-value one keeps repeated headers, and a
/// header only the other has is kept too.
fn merged(mut multi: HeaderMap, single: HeaderMap) -> HeaderMap {
    let present: Vec<HeaderName> = multi.keys().cloned().collect();
    let mut name = None;
    for (next, value) in single {
        name = next.or(name);
        if let Some(name) = &name
            && !present.contains(name)
        {
            multi.append(name.clone(), value);
        }
    }
    multi
}

#[cfg(test)]
mod tests {
    use super::Request;

    #[test]
    fn debug_output_never_shows_the_cookie() {
        let event = serde_json::from_value(serde_json::json!({
            "headers": {"Cookie": "_idx=SESSION-COOKIE-VALUE", "Origin": "https://app.example.com"},
            "requestContext": {"routeKey": "$connect", "eventType": "CONNECT",
                "connectionId": "a", "connectedAt": 1, "requestTimeEpoch": 2}
        }))
        .expect("an event");
        let shown = format!("{:?}", Request::from_event(event).expect("read"));
        assert!(!shown.contains("SESSION-COOKIE-VALUE"), "{shown}");
        assert!(
            shown.contains("REDACTED") && shown.contains("https://app.example.com"),
            "{shown}"
        );
    }
}
