//! The lambda_http request behind a [`Request`](super::Request), made when first asked for.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use lambda_http::Body;
use lambda_http::http::HeaderMap;

use crate::deadline::Deadline;
use crate::http::event::{self, Found, Place};

/// The lambda_http request a [`Request`](super::Request) was made from: its request context,
/// stage variables, URI and the rest of what lambda_http's `RequestExt` reads. Use it as that
/// request (it dereferences to `lambda_http::Request`), or take it with [`Raw::into_inner`].
///
/// A request [`http::run`](crate::http::run) reads from an HTTP API event keeps the event's
/// text and makes this request from it the first time it is asked for: most handlers never
/// ask, and reading the request context, the larger half of an event, was the larger half of
/// reading one. The normalized fields ([`Request::headers`](super::Request::headers) among
/// them) are the event's as it came, whatever is later changed here.
///
/// # Examples
///
/// ```
/// use lambda_http::RequestExt;
/// use arc_functions::testing::{TestRequest, read_request};
///
/// let req = read_request(TestRequest::get("/notes?page=2").event())?;
/// assert_eq!(req.raw.uri().path(), "/notes");
/// assert_eq!(req.raw.query_string_parameters_ref().and_then(|q| q.first("page")), Some("2"));
/// let raw: lambda_http::Request = req.raw.into_inner();
/// assert!(raw.request_context_ref().is_some());
/// # Ok::<(), arc_functions::http::Error>(())
/// ```
pub struct Raw {
    made: OnceLock<lambda_http::Request>,
    /// The event to make it from, for a request read from one (kept once it is made: the
    /// normalized request reads its headers and body); `None` for a request made already.
    event: Option<Box<Deferred>>,
}

/// What a request read from an event keeps to make the lambda_http request later, and the
/// parts of it the normalized request reads in the meantime.
struct Deferred {
    payload: Box<str>,
    context: lambda_http::Context,
    headers: HeaderMap,
    body: Body,
    found: Found,
}

impl Raw {
    /// A request already made (by lambda_http, axum's adapter, or by hand).
    pub(crate) fn made(request: lambda_http::Request) -> Self {
        Self {
            made: OnceLock::from(request),
            event: None,
        }
    }

    /// A request to make from `payload` when asked for. `headers` and `body` are the ones
    /// that request would have, which the normalized request reads before then.
    pub(crate) fn deferred(
        payload: Box<str>,
        context: lambda_http::Context,
        headers: HeaderMap,
        body: Body,
        found: Found,
    ) -> Self {
        Self {
            made: OnceLock::new(),
            event: Some(Box::new(Deferred {
                payload,
                context,
                headers,
                body,
                found,
            })),
        }
    }

    /// The lambda_http request, made from the event now if it was not already.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::testing::{TestRequest, read_request};
    ///
    /// let req = read_request(TestRequest::post("/count").header("accept", "text/html").event())?;
    /// let raw = req.raw.into_inner();
    /// assert_eq!(raw.method(), "POST");
    /// assert_eq!(raw.headers()["accept"], "text/html");
    /// # Ok::<(), arc_functions::http::Error>(())
    /// ```
    pub fn into_inner(self) -> lambda_http::Request {
        let Self { made, event } = self;
        made.into_inner().unwrap_or_else(|| make(event.as_deref()))
    }

    /// The headers, without making the request.
    pub(crate) fn event_headers(&self) -> &HeaderMap {
        match &self.event {
            Some(event) => &event.headers,
            None => self.force().headers(),
        }
    }

    /// The body as the event carried it, without making the request.
    pub(crate) fn event_body(&self) -> &Body {
        match &self.event {
            Some(event) => &event.body,
            None => self.force().body(),
        }
    }

    /// Whether this was read from an HTTP API event (payload 2.0), the only kind whose making
    /// waits: its request context, once made, is an HTTP API's or a function URL's, never a
    /// REST API's or a load balancer's.
    pub(crate) fn is_http_api_event(&self) -> bool {
        self.event.is_some()
    }

    /// A string of the request context (`place` picks which) as the event's read found it,
    /// while the request is not made: `Some(None)` when the event has none, and `None` when
    /// only the request can tell (it is made, so may have been changed, or the string had
    /// escapes).
    pub(crate) fn found(&self, place: impl FnOnce(&Found) -> &Place) -> Option<Option<&str>> {
        let event = self
            .event
            .as_deref()
            .filter(|_| self.made.get().is_none())?;
        place(&event.found).read(&event.payload)
    }

    /// The invocation's deadline, without making the request.
    pub(crate) fn deadline(&self) -> Deadline {
        match &self.event {
            Some(event) => Deadline(Some(event.context.deadline)),
            None => Deadline::of(self.force()),
        }
    }

    fn force(&self) -> &lambda_http::Request {
        self.made.get_or_init(|| make(self.event.as_deref()))
    }
}

/// The request lambda_http's conversion makes of the event, with the invocation's trace id
/// and context, as [`http::run`](crate::http::run) hands a request on to a handler.
fn make(event: Option<&Deferred>) -> lambda_http::Request {
    let Some(event) = event else {
        // Not reached: a `Raw` has either its request or the event to make it from.
        return lambda_http::Request::default();
    };
    let request = match event::parse(&event.payload) {
        Ok((_, request)) => request,
        Err(e) => {
            // Not reached either: the event was only deferred because the reader that
            // read its parts vouched for it being readable (fuzzed against this one).
            tracing::error!(error = %e, "the event read once cannot be read again");
            lambda_http::Request::default()
        }
    };
    event::invoked(request, event.context.clone())
}

impl Deref for Raw {
    type Target = lambda_http::Request;

    fn deref(&self) -> &lambda_http::Request {
        self.force()
    }
}

impl DerefMut for Raw {
    fn deref_mut(&mut self) -> &mut lambda_http::Request {
        self.force();
        // Made above; `get_mut` is `None` only for a lock never set.
        self.made.get_mut().unwrap_or_else(|| unreachable!())
    }
}

impl fmt::Debug for Raw {
    /// The request once made; a deferred one says so rather than make it to be printed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.made.get() {
            Some(made) => made.fmt(f),
            None => f.write_str("Raw(deferred)"),
        }
    }
}
