//! The shorthand response a handler returns, and its conversion to an HTTP response.

use lambda_http::Body as LambdaBody;
use lambda_http::IntoResponse;
use lambda_http::http::header::{
    ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, HeaderName,
    HeaderValue, LOCATION, SET_COOKIE, VARY,
};
use lambda_http::http::{HeaderMap, StatusCode};
use serde::Serialize;

use super::compress::{self, Accepted, Encoding};
use crate::gateway::Payload;
use crate::runtime::{GENERIC_500, error_page};
use crate::session::{self, IntoSession, Session};

mod into_http;

pub use into_http::private_cache_control;

pub(crate) use crate::runtime::fault::NO_CACHE;
/// `cache-control` for everything else (styles, scripts, text, bytes).
pub(crate) const CACHE_A_DAY: &str = "max-age=86400";
/// `cache-control` for any response that sets the session cookie, unless the handler set one.
pub(crate) const PRIVATE: &str = "private, no-store";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Html,
    Css,
    Js,
    Text,
    Json,
    Xml,
    Other,
}

impl Kind {
    fn content_type(self) -> Option<&'static str> {
        Some(match self {
            Self::Html => "text/html; charset=utf8",
            Self::Css => "text/css; charset=utf8",
            Self::Js => "text/javascript; charset=utf8",
            Self::Text => "text/plain; charset=utf8",
            Self::Json => "application/json; charset=utf8",
            Self::Xml => "application/xml; charset=utf8",
            Self::Other => return None,
        })
    }
}

/// A response in the original's shorthand: a body of some kind, a status, a location, a
/// session to write back, extra cookies and headers.
///
/// | shorthand | builder |
/// |---|---|
/// | `html`, `css`, `js`, `text`, `json`, `xml` | [`Response::html`] … [`Response::xml`] |
/// | `status` / `code` / `statusCode` | [`Response::status`] |
/// | `location` | [`Response::redirect`], [`Response::location`] (302 unless a status is given) |
/// | `session` | [`Response::session`] |
/// | `cookie` / `cookies` | [`Response::cookie`] |
/// | `headers`, `cacheControl`, `type` | [`Response::header`], [`Response::cache_control`], [`Response::content_type`] |
/// | `cors` | [`Response::cors`] |
/// | `compression` | [`Response::no_compression`], [`Response::prefer_encoding`] |
///
/// # Examples
///
/// ```
/// use arc_functions::http::Response;
///
/// let page = Response::html("<h1>hi</h1>").status(201).header("x-a", "1").into_http()?;
/// assert_eq!(page.status(), 201);
/// assert_eq!(page.headers()["content-type"], "text/html; charset=utf8");
/// assert_eq!(page.headers()["x-a"], "1");
/// assert_eq!(page.body(), &lambda_http::Body::from("<h1>hi</h1>"));
/// # Ok::<(), arc_functions::http::ResponseError>(())
/// ```
#[derive(Debug, Default)]
#[must_use]
pub struct Response {
    kind: Option<Kind>,
    body: Vec<u8>,
    status: Option<u16>,
    location: Option<String>,
    session: Option<Result<Session, session::Error>>,
    cookies: Vec<String>,
    headers: Vec<(String, String)>,
    cache_control: Option<String>,
    content_type: Option<String>,
    cors: bool,
    json_error: Option<serde_json::Error>,
    /// Set by [`Response::no_compression`].
    uncompressed: bool,
    /// Set by [`Response::prefer_encoding`].
    prefer: Option<Encoding>,
    /// Set by [`Response::push`].
    push: Option<Payload>,
}

impl Response {
    /// An empty 200 response.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::new().into_http()?;
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.body(), &lambda_http::Body::Empty);
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn with(kind: Kind, body: impl Into<Vec<u8>>) -> Self {
        Self {
            kind: Some(kind),
            body: body.into(),
            ..Self::default()
        }
    }

    /// An HTML page: `text/html; charset=utf8`, not cached.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::html("<p>hi</p>").into_http()?;
    /// assert_eq!(response.headers()["content-type"], "text/html; charset=utf8");
    /// assert_eq!(response.headers()["cache-control"], "no-cache, no-store, must-revalidate, max-age=0, s-maxage=0");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn html(body: impl Into<String>) -> Self {
        Self::with(Kind::Html, body.into())
    }

    /// A stylesheet: `text/css; charset=utf8`, cached a day.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::css("p { color: red }").into_http()?;
    /// assert_eq!(response.headers()["content-type"], "text/css; charset=utf8");
    /// assert_eq!(response.headers()["cache-control"], "max-age=86400");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn css(body: impl Into<String>) -> Self {
        Self::with(Kind::Css, body.into())
    }

    /// A script: `text/javascript; charset=utf8`, cached a day.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::js("console.log(1)").into_http()?;
    /// assert_eq!(response.headers()["content-type"], "text/javascript; charset=utf8");
    /// assert_eq!(response.headers()["cache-control"], "max-age=86400");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn js(body: impl Into<String>) -> Self {
        Self::with(Kind::Js, body.into())
    }

    /// Plain text: `text/plain; charset=utf8`, cached a day.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::text("ok").into_http()?;
    /// assert_eq!(response.headers()["content-type"], "text/plain; charset=utf8");
    /// assert_eq!(response.headers()["cache-control"], "max-age=86400");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn text(body: impl Into<String>) -> Self {
        Self::with(Kind::Text, body.into())
    }

    /// `value` serialized as JSON: `application/json; charset=utf8`, not cached. A value that
    /// cannot be serialized makes the response a 500 (the cause is logged).
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::json(&serde_json::json!({"ok": true})).into_http()?;
    /// assert_eq!(response.headers()["content-type"], "application/json; charset=utf8");
    /// assert_eq!(response.headers()["cache-control"], "no-cache, no-store, must-revalidate, max-age=0, s-maxage=0");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self::with(Kind::Json, body),
            Err(e) => Self {
                json_error: Some(e),
                ..Self::with(Kind::Json, Vec::new())
            },
        }
    }

    /// An XML document: `application/xml; charset=utf8`, cached a day.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::xml("<a/>").into_http()?;
    /// assert_eq!(response.headers()["content-type"], "application/xml; charset=utf8");
    /// assert_eq!(response.headers()["cache-control"], "max-age=86400");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn xml(body: impl Into<String>) -> Self {
        Self::with(Kind::Xml, body.into())
    }

    /// Raw bytes; set [`Response::content_type`] to say what they are.
    ///
    /// # Examples
    ///
    /// ```
    /// let png = arc_functions::http::Response::bytes(vec![0x89, b'P']).content_type("image/png");
    /// let png = png.into_http()?;
    /// assert_eq!(png.headers()["content-type"], "image/png");
    /// assert_eq!(png.body(), &lambda_http::Body::Binary(vec![0x89, b'P']));
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn bytes(body: impl Into<Vec<u8>>) -> Self {
        Self::with(Kind::Other, body)
    }

    /// A redirect to `location`: a 302 unless [`Response::status`] says otherwise.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::redirect("/").into_http()?;
    /// assert_eq!(response.status(), 302);
    /// assert_eq!(response.headers()["location"], "/");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn redirect(location: impl Into<String>) -> Self {
        Self::new().location(location)
    }

    /// A redirect to `target` when it is a path on this site, else to `fallback`: for a
    /// `next=` parameter after a login, which an attacker could otherwise point at their own
    /// site (an open redirect). A local path starts with one `/`, not `//` or `/\` (which
    /// browsers read as another host), and holds no control character or space; `fallback`
    /// should be a path of the app's own.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::Response;
    /// let to = |next: &str| Response::redirect_local(next, "/").into_http().map(|r| r.headers()["location"].clone());
    /// assert_eq!(to("/account?tab=keys")?, "/account?tab=keys");
    /// assert_eq!(to("https://evil.example/")?, "/");
    /// assert_eq!(to("//evil.example")?, "/");
    /// assert_eq!(to("/\\evil.example")?, "/");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn redirect_local(target: &str, fallback: impl Into<String>) -> Self {
        if is_local_path(target) {
            Self::redirect(target)
        } else {
            Self::redirect(fallback)
        }
    }

    /// Sets the status code (the shorthand's `status`, `code` or `statusCode`).
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::text("gone").status(410).into_http()?;
    /// assert_eq!(response.status(), 410);
    /// assert!(arc_functions::http::Response::new().status(1000).into_http().is_err());
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the `location` header; the status becomes 302 unless one is given.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::new().location("/").status(303).into_http()?;
    /// assert_eq!(response.status(), 303);
    /// assert_eq!(response.headers()["location"], "/");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn location(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }

    /// The session to write back as the `_idx` cookie. Takes a [`Session`] (the request's,
    /// changed) or a JSON object that replaces the session's data; either way the request's
    /// session id is kept unless [`Session::regenerate`] was called. A value that is not a JSON
    /// object makes the response a 500.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response, session::SessionStore};
    ///
    /// async fn count(req: Request) -> http::Result<Response> {
    ///     let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
    ///     Ok(Response::redirect("/").session(serde_json::json!({ "count": count })))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
    /// let response = Handler::with_store(Arc::clone(&store), count).handle(event).await;
    /// let set_cookie = response.headers()["set-cookie"].to_str()?;
    /// let cookie = set_cookie.split(';').next().unwrap_or_default();
    /// let next = lambda_http::http::Request::builder().header("cookie", cookie).body(lambda_http::Body::Empty)?;
    /// assert_eq!(store.read(&next).await?.get::<u64>("count")?, Some(1));
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn session(mut self, session: impl IntoSession) -> Self {
        self.session = Some(session.into_session());
        self
    }

    /// Adds a `Set-Cookie` value of your own; it is sent beside the session cookie, never
    /// replaced by it.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::text("ok").cookie("theme=dark; Path=/");
    /// assert_eq!(response.into_http()?.headers()["set-cookie"], "theme=dark; Path=/");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn cookie(mut self, set_cookie: impl Into<String>) -> Self {
        self.cookies.push(set_cookie.into());
        self
    }

    /// Adds a header. An invalid name or value makes the response a 500.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::text("ok").header("x-request-id", "7");
    /// assert_eq!(response.into_http()?.headers()["x-request-id"], "7");
    /// let bad = arc_functions::http::Response::text("ok").header("bad name", "7");
    /// assert!(bad.into_http().is_err());
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets `cache-control`, overriding the default.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::css("").cache_control("max-age=60");
    /// assert_eq!(response.into_http()?.headers()["cache-control"], "max-age=60");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn cache_control(mut self, value: impl Into<String>) -> Self {
        self.cache_control = Some(value.into());
        self
    }

    /// Sets `content-type`, overriding the one the body kind implies (the shorthand's `type`).
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::text("a,b").content_type("text/csv");
    /// assert_eq!(response.into_http()?.headers()["content-type"], "text/csv");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn content_type(mut self, value: impl Into<String>) -> Self {
        self.content_type = Some(value.into());
        self
    }

    /// Adds `access-control-allow-origin: *`.
    ///
    /// # Examples
    ///
    /// ```
    /// let response = arc_functions::http::Response::json(&[1, 2]).cors().into_http()?;
    /// assert_eq!(response.headers()["access-control-allow-origin"], "*");
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn cors(mut self) -> Self {
        self.cors = true;
        self
    }

    /// Sends the body as it is, whatever the request accepts (the shorthand's
    /// `compression: false`): for a body compressed already, or one a client must be able to
    /// read byte for byte. Without it, [`async_handler`](super::async_handler) compresses
    /// text-like bodies of 1 KiB or more with brotli or gzip when the request accepts them
    /// (see the crate's README).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response, session::SessionStore};
    ///
    /// async fn report(_req: Request) -> http::Result<Response> {
    ///     Ok(Response::text("a fairly long report. ".repeat(100)).no_compression())
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let event = lambda_http::http::Request::builder()
    ///     .header("accept-encoding", "gzip, br")
    ///     .body(lambda_http::Body::Empty)?;
    /// let response = Handler::with_store(store, report).handle(event).await;
    /// assert!(response.headers().get("content-encoding").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn no_compression(mut self) -> Self {
        self.uncompressed = true;
        self
    }

    /// Uses `encoding` when the request ranks it no lower than the other (the shorthand's
    /// `compression: 'gzip'`); without it brotli wins ties.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Encoding, Handler, Request, Response, session::SessionStore};
    ///
    /// async fn report(_req: Request) -> http::Result<Response> {
    ///     Ok(Response::text("a fairly long report. ".repeat(100)).prefer_encoding(Encoding::Gzip))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let event = lambda_http::http::Request::builder()
    ///     .header("accept-encoding", "br, gzip")
    ///     .body(lambda_http::Body::Empty)?;
    /// let response = Handler::with_store(store, report).handle(event).await;
    /// assert_eq!(response.headers()["content-encoding"], "gzip");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn prefer_encoding(mut self, encoding: Encoding) -> Self {
        self.prefer = Some(encoding);
        self
    }

    /// After the session is written, sends `payload` to every open WebSocket connection of
    /// the session the response leaves behind (DynamoDB mode; see [`ws`](crate::ws)), through
    /// `ARC_WSS_URL`'s API: after a `regenerate()` the new session's, while the old one's are
    /// closed; a 5xx response pushes nothing. Live updates are best-effort: a failed push is
    /// logged and never changes the response, so a click is never lost to a closed tab. Gone
    /// connections are forgotten.
    /// [`Request::push`](super::Request::push) pushes at once and returns what happened.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::Response;
    /// use serde_json::json;
    ///
    /// let response = Response::redirect("/")
    ///     .session(json!({ "count": 2 }))
    ///     .push(json!({ "count": 2 }));
    /// assert_eq!(response.into_http()?.status(), 302);
    /// # Ok::<(), arc_functions::http::ResponseError>(())
    /// ```
    pub fn push(mut self, payload: impl Into<Payload>) -> Self {
        self.push = Some(payload.into());
        self
    }

    /// Whether the handler answered a server error (5xx).
    pub(crate) fn is_server_error(&self) -> bool {
        self.status
            .is_some_and(|status| (500..600).contains(&status))
    }

    pub(crate) fn take_push(&mut self) -> Option<Payload> {
        self.push.take()
    }

    pub(crate) fn take_session(&mut self) -> Option<Result<Session, session::Error>> {
        self.session.take()
    }
}

/// Whether `target` is a path on this site: `/` but not `//`, and no control character, space
/// or backslash anywhere (browsers read `\\` as `/`, so `/\\host` is `//host`).
fn is_local_path(target: &str) -> bool {
    target.starts_with('/')
        && !target.starts_with("//")
        && !target
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
}

/// A response that cannot be sent as built: a 500, with this in the log.
///
/// # Examples
///
/// ```
/// use arc_functions::http::{Response, ResponseError};
///
/// let err = Response::text("ok").status(1000).into_http().unwrap_err();
/// assert!(matches!(err, ResponseError::Status(1000)));
/// assert_eq!(err.to_string(), "1000 is not an HTTP status code");
///
/// let err = Response::text("ok").header("bad name", "7").into_http().unwrap_err();
/// assert!(matches!(&err, ResponseError::Header(name) if name == "bad name"));
///
/// // A map with non-string keys has no JSON form.
/// let keys = std::collections::HashMap::from([((1, 2), "a")]);
/// let err = Response::json(&keys).into_http().unwrap_err();
/// assert!(matches!(err, ResponseError::Json(_)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponseError {
    /// [`Response::json`] was given a value serde_json cannot serialize.
    #[error("the JSON body could not be serialized: {0}")]
    Json(#[source] serde_json::Error),
    /// The status is not a valid HTTP status code.
    #[error("{0} is not an HTTP status code")]
    Status(u16),
    /// A header name or value holds characters HTTP does not allow.
    #[error("invalid header name or value {0:?}")]
    Header(String),
}

#[cfg(test)]
mod tests;
