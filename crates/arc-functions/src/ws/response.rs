//! What a WebSocket handler answers.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;

use super::Payload;
use crate::runtime::Fault;
use crate::session::{self, IntoSession, Session};

/// A WebSocket handler's answer: a status (on `$connect`, anything but 2xx refuses the
/// connection), an optional reply to the sender, and an optional session to write.
///
/// # Examples
///
/// ```
/// use arc_functions::ws::Response;
///
/// assert_eq!(Response::new().status_code(), 200);
/// assert_eq!(Response::new().status(403).status_code(), 403);
/// let counted = Response::new().reply(serde_json::json!({"count": 1}));
/// assert_eq!(counted.status_code(), 200);
/// ```
#[derive(Debug)]
#[must_use]
pub struct Response {
    status: u16,
    reply: Option<Payload>,
    session: Option<Result<Session, session::Error>>,
    push: Option<Payload>,
}

impl Default for Response {
    fn default() -> Self {
        Self::new()
    }
}

impl Response {
    /// An empty 200: the connection is accepted, the message handled.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(arc_functions::ws::Response::new().status_code(), 200);
    /// ```
    pub fn new() -> Self {
        Self {
            status: 200,
            reply: None,
            session: None,
            push: None,
        }
    }

    /// Sets the status, as [`http::Response::status`](crate::http::Response::status) does; on
    /// `$connect`, a status outside 200–299 refuses the connection (the browser sees the
    /// upgrade fail).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(arc_functions::ws::Response::new().status(403).status_code(), 403);
    /// ```
    pub fn status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// A reply to the sender, in the same invocation's answer. API Gateway delivers it only on
    /// routes with a route response (`cargo arc sam` gives every `@ws` route one); to reach
    /// any connection, at any time, use [`send`](super::send).
    ///
    /// # Examples
    ///
    /// See [`Response`].
    pub fn reply(mut self, payload: impl Into<Payload>) -> Self {
        self.reply = Some(payload.into());
        self
    }

    /// The session to write after the handler returns. In DynamoDB mode it is what the next
    /// event of this connection, and the next HTTP request of the browser, read. In cookie mode
    /// it cannot be written (no response after the upgrade can set a cookie): the invocation
    /// fails with [`session::Error::CookieOverWebSocket`] in the log.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::ws::Response::new().session(serde_json::json!({"count": 2}));
    /// assert_eq!(response.status_code(), 200);
    /// ```
    pub fn session(mut self, session: impl IntoSession) -> Self {
        self.session = Some(session.into_session());
        self
    }

    /// Sends `payload` to every open connection of the session, this one included, once the
    /// session is written (DynamoDB mode; the session the response writes, so after a
    /// `regenerate()` only connections of the new one): how one tab's action over its socket
    /// reaches the session's other tabs. Best effort, as
    /// [`http::Response::push`](crate::http::Response::push): a failure is logged.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::ws::Response;
    /// use serde_json::json;
    ///
    /// let counted = Response::new().session(json!({"count": 2})).push(json!({"count": 2}));
    /// assert_eq!(counted.status_code(), 200);
    /// ```
    pub fn push(mut self, payload: impl Into<Payload>) -> Self {
        self.push = Some(payload.into());
        self
    }

    pub(crate) fn take_push(&mut self) -> Option<Payload> {
        self.push.take()
    }

    /// The status.
    ///
    /// # Examples
    ///
    /// See [`Response`].
    pub fn status_code(&self) -> u16 {
        self.status
    }

    pub(crate) fn take_session(&mut self) -> Option<Result<Session, session::Error>> {
        self.session.take()
    }

    pub(crate) fn into_reply(self) -> SocketReply {
        let (body, is_base64_encoded) = match self.reply {
            None => (None, false),
            Some(Payload::Text(text)) => (Some(text), false),
            Some(Payload::Binary(bytes)) => (Some(STANDARD.encode(bytes)), true),
        };
        SocketReply {
            status_code: self.status,
            body,
            is_base64_encoded,
        }
    }
}

/// The invocation's answer, in the shape API Gateway reads from a WebSocket integration.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct SocketReply {
    pub(crate) status_code: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) body: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(crate) is_base64_encoded: bool,
}

impl SocketReply {
    /// A failure, without detail.
    pub(crate) fn fault(fault: Fault) -> Self {
        Self {
            status_code: fault.reply().0.as_u16(),
            body: None,
            is_base64_encoded: false,
        }
    }
}
