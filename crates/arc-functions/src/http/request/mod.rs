//! The normalized request a handler receives.

use std::collections::HashMap;
use std::sync::Arc;

use lambda_http::http::{Extensions, HeaderMap, Method};
use lambda_http::request::RequestContext;
use lambda_http::{Body as LambdaBody, RequestExt};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::{csrf, event};

mod raw;
mod users;
use crate::gateway::{self, Client, Payload};
use crate::keys;
use crate::runtime::{Body, BodyError, Params, Redacted, parse_body};
use crate::session::{self, Session, SessionStore, all_cookies, last_cookie};
pub use raw::Raw;

/// A request, normalized: what the original's `req` carries, typed.
///
/// # Examples
///
/// ```
/// use arc_functions::http::{Body, Request};
///
/// let event = lambda_http::http::Request::builder()
///     .method("POST")
///     .uri("https://example.com/count?x=1&x=2")
///     .header("content-type", "application/x-www-form-urlencoded")
///     .body(lambda_http::Body::from("n=5"))?;
/// let req = Request::from_lambda(event)?;
/// assert_eq!(req.method, "POST");
/// assert_eq!(req.path, "/count");
/// assert_eq!(req.query.get_all("x").collect::<Vec<_>>(), ["1", "2"]);
/// assert_eq!(req.body.form().and_then(|f| f.get("n")), Some("5"));
/// assert!(req.session.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
pub struct Request {
    /// The HTTP method.
    pub method: Method,
    /// The path the client asked for (`/notes/42`, not the route key `/notes/{id}`), without
    /// an API Gateway stage.
    pub path: String,
    /// Path parameters of the matched route.
    pub path_parameters: HashMap<String, String>,
    /// The query string; names may repeat.
    pub query: Params,
    /// The body, parsed by content type.
    pub body: Body,
    /// The session, already read from the `_idx` cookie.
    pub session: Session,
    /// The lambda_http request, for anything not normalized here (its body is the raw body,
    /// [`Request::raw_body`]): made from the event when first asked for ([`Raw`]).
    pub raw: Raw,
    /// Values the steps of a [chain](super::chain()) hand to later ones, one per type: insert
    /// a `User` in a login step, get it in the handler. Empty when the chain starts.
    pub extensions: Extensions,
    /// Flash messages set by the previous request, taken out of the session.
    flash: Map<String, Value>,
    /// What the handler wrapper attached; `None` for a request built without it, which then
    /// cannot issue or check CSRF tokens, push, or mint socket tickets.
    attached: Option<Attached>,
}

/// What the handler wrapper gives every request it serves, from its store and configuration.
#[derive(Clone, Debug)]
pub(crate) struct Attached {
    /// The store the session was read with.
    pub(crate) store: Arc<SessionStore>,
    /// The stage [`Request::url`] may add
    /// ([`Http::stage`](crate::config::Http::stage)).
    pub(crate) stage: Option<Arc<str>>,
    /// The WebSocket API [`Request::push`] sends through.
    pub(crate) ws: Client,
    /// `ARC_WSS_URL` when sessions are kept server-side: what [`Request::socket_url`] adds a
    /// ticket to.
    pub(crate) socket_url: Option<Arc<str>>,
}

impl std::fmt::Debug for Request {
    /// Everything normalized, and the headers with credentials redacted (`Cookie`,
    /// `Authorization`): a request in a log line must not hand out its session.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("path_parameters", &self.path_parameters)
            .field("query", &self.query)
            .field("headers", &Redacted(self.headers()))
            .field("body", &self.body)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl Request {
    /// Normalizes a lambda_http request. The session is left empty: [`super::async_handler`]
    /// fills it.
    ///
    /// # Errors
    ///
    /// [`BodyError`] when a JSON content type carries a malformed body.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = lambda_http::http::Request::builder()
    ///     .header("content-type", "application/json")
    ///     .body(lambda_http::Body::from("{not json"))?;
    /// assert!(arc_functions::http::Request::from_lambda(event).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_lambda(raw: lambda_http::Request) -> Result<Self, BodyError> {
        let body = parse_body(raw.headers(), raw.body())?;
        let path = match raw.raw_http_path() {
            "" => raw.uri().path().to_owned(),
            path => path.to_owned(),
        };
        let query = raw.uri().query().map(Params::parse).unwrap_or_default();
        let path_parameters = raw
            .path_parameters()
            .iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Ok(Self::new(
            raw.method().clone(),
            path,
            path_parameters,
            query,
            body,
            Raw::made(raw),
        ))
    }

    /// The request [`http::run`](crate::http::run) serves for an HTTP API event whose parts
    /// [`event::read_parts`] read: the lambda_http request is made from `payload` only when
    /// asked for.
    pub(crate) fn from_parts(
        parts: event::Parts,
        payload: Box<str>,
        context: lambda_http::Context,
    ) -> Result<Self, BodyError> {
        let event::Parts {
            method,
            path,
            query,
            mut headers,
            body,
            path_parameters,
            found,
        } = parts;
        event::trace(&mut headers, &context);
        let parsed = parse_body(&headers, &body)?;
        let raw = Raw::deferred(payload, context, headers, body, found);
        Ok(Self::new(method, path, path_parameters, query, parsed, raw))
    }

    /// The request an invocation's payload is: the sender it answers, and the request, or
    /// why its body cannot be read. An HTTP API event goes [`event::read_parts`]'s way when
    /// that reader takes it on; every other event, lambda_http's request made at once.
    pub(crate) fn read(
        payload: Box<str>,
        context: lambda_http::Context,
    ) -> Result<(event::Sender, Result<Self, BodyError>), event::Error> {
        let (sender, request) = match event::read_parts(&payload) {
            Ok(parts) => {
                return Ok((
                    event::Sender::Http,
                    Self::from_parts(parts, payload, context),
                ));
            }
            // A REST or load balancer event is read once more, not twice.
            Err(event::Leave::ToGeneral) => event::parse_typed(&payload)?,
            Err(event::Leave::ToOnePass) => event::parse(&payload)?,
        };
        Ok((sender, Self::from_lambda(event::invoked(request, context))))
    }

    fn new(
        method: Method,
        path: String,
        path_parameters: HashMap<String, String>,
        query: Params,
        body: Body,
        raw: Raw,
    ) -> Self {
        Self {
            method,
            path,
            path_parameters,
            query,
            body,
            session: Session::new(),
            raw,
            extensions: Extensions::new(),
            flash: Map::new(),
            attached: None,
        }
    }

    /// The request headers (lambda_http folds API Gateway v2's `cookies` into `cookie`).
    ///
    /// # Examples
    ///
    /// ```
    /// let event = lambda_http::http::Request::builder()
    ///     .header("accept", "text/html")
    ///     .body(lambda_http::Body::Empty)?;
    /// let req = arc_functions::http::Request::from_lambda(event)?;
    /// assert_eq!(req.headers()["accept"], "text/html");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        self.raw.event_headers()
    }

    /// The API Gateway or function URL request context, when the event had one.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
    /// let req = arc_functions::http::Request::from_lambda(event)?;
    /// assert!(req.context().is_none(), "a hand-built request has no API Gateway context");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn context(&self) -> Option<&RequestContext> {
        self.raw.request_context_ref()
    }

    /// The client's address as API Gateway saw it (`requestContext.http.sourceIp` of an HTTP
    /// API, `requestContext.identity.sourceIp` of a REST API): the address that opened the
    /// connection to API Gateway, which no header can forge. `None` for ALB events and
    /// requests built by hand. `X-Forwarded-For` is deliberately not read: a client writes it.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = lambda_http::http::Request::builder()
    ///     .header("x-forwarded-for", "203.0.113.7")
    ///     .body(lambda_http::Body::Empty)?;
    /// let req = arc_functions::http::Request::from_lambda(event)?;
    /// assert_eq!(req.source_ip(), None, "a header is not an address");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn source_ip(&self) -> Option<&str> {
        match self.raw.found(|found| &found.source_ip) {
            Some(found) => found.filter(|ip| !ip.is_empty()),
            None => source_ip(self.context()?),
        }
    }

    /// The route the request matched, as API Gateway names it: the resource of a REST API
    /// (`/notes/{id}`, `/{proxy+}`), the path of an HTTP API's route key (`/notes/{id}` of
    /// `GET /notes/{id}`), or `$default` for the default route and function URLs. `None` for
    /// ALB events and requests built by hand. [`Request::path`] is the path actually asked for.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
    /// let req = arc_functions::http::Request::from_lambda(event)?;
    /// assert_eq!(req.resource(), None, "no API Gateway, no route");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resource(&self) -> Option<&str> {
        if let Some(found) = self.raw.found(|found| &found.route_key) {
            return found.map(route_path);
        }
        match self.context()? {
            RequestContext::ApiGatewayV1(context) => context.resource_path.as_deref(),
            RequestContext::ApiGatewayV2(context) => context.route_key.as_deref().map(route_path),
            _ => None,
        }
    }

    /// The body as it arrived, before parsing, base64 already decoded: for a webhook
    /// signature, or a parser of your own. [`Request::body`] is the parsed one.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = lambda_http::http::Request::builder()
    ///     .header("content-type", "application/json")
    ///     .body(lambda_http::Body::from(r#"{ "a" : 1 }"#))?;
    /// let req = arc_functions::http::Request::from_lambda(event)?;
    /// assert_eq!(req.raw_body(), br#"{ "a" : 1 }"#);
    /// assert_eq!(req.body.json(), Some(&serde_json::json!({"a": 1})));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn raw_body(&self) -> &[u8] {
        match self.raw.event_body() {
            LambdaBody::Text(text) => text.as_bytes(),
            LambdaBody::Binary(bytes) => bytes,
            _ => &[],
        }
    }

    /// Every cookie of the request, in order, as `(name, value)`.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = lambda_http::http::Request::builder()
    ///     .header("cookie", "a=1; theme=dark")
    ///     .body(lambda_http::Body::Empty)?;
    /// let req = arc_functions::http::Request::from_lambda(event)?;
    /// assert_eq!(req.cookies(), [("a".into(), "1".into()), ("theme".into(), "dark".into())]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cookies(&self) -> Vec<(String, String)> {
        all_cookies(self.headers()).collect()
    }

    /// The value of the last cookie called `name`.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = lambda_http::http::Request::builder()
    ///     .header("cookie", "a=1; theme=dark; a=2")
    ///     .body(lambda_http::Body::Empty)?;
    /// let req = arc_functions::http::Request::from_lambda(event)?;
    /// assert_eq!(req.cookie("a").as_deref(), Some("2"));
    /// assert_eq!(req.cookie("theme").as_deref(), Some("dark"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn cookie(&self, name: &str) -> Option<String> {
        last_cookie(self.headers(), name).map(str::to_owned)
    }

    /// A flash message set by the previous request with [`Session::flash`], converted to `T`;
    /// `None` when there is none (or it is not a `T`).
    ///
    /// # Examples
    ///
    /// ```
    /// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
    /// let req = arc_functions::http::Request::from_lambda(event)?;
    /// assert_eq!(req.flash::<String>("error"), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flash<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.flash.get(key).and_then(|v| T::deserialize(v).ok())
    }

    /// A CSRF token for this request's session, for a form's hidden [`csrf::FIELD`] field or
    /// the [`csrf::HEADER`] header. The first call in a session stores a random binding in
    /// it: return the session with the page (`.session(req.session)`).
    ///
    /// # Errors
    ///
    /// [`csrf::Error::NoKeys`] for a request the handler wrapper did not build;
    /// [`csrf::Error::Random`] when no binding could be drawn.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, csrf, Handler, Request, Response, session::SessionStore};
    ///
    /// async fn page(mut req: Request) -> http::Result<Response> {
    ///     let token = req.csrf_token()?;
    ///     let form = format!("<input type=hidden name=_csrf value=\"{token}\">");
    ///     Ok(Response::html(form).session(req.session))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
    /// let response = Handler::with_store(store, page).handle(event).await;
    /// let lambda_http::Body::Text(html) = response.body() else { panic!("a page") };
    /// assert!(html.starts_with("<input type=hidden name=_csrf value=\""));
    /// assert!(response.headers().contains_key("set-cookie"), "the binding is in the session");
    ///
    /// // A request the handler wrapper did not build has no keys to sign with.
    /// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
    /// let mut bare = Request::from_lambda(event)?;
    /// assert_eq!(bare.csrf_token(), Err(csrf::Error::NoKeys));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn csrf_token(&mut self) -> Result<String, csrf::Error> {
        let attached = self.attached.as_ref().ok_or(csrf::Error::NoKeys)?;
        let store = &*attached.store;
        csrf::issue(store, &mut self.session, keys::now())
    }

    /// The store the handler wrapper read the session with.
    pub(crate) fn store(&self) -> Option<&SessionStore> {
        self.attached.as_ref().map(|a| &*a.store)
    }

    /// Fills in what the handler wrapper reads: the session, its flash messages, and what it
    /// attaches.
    pub(crate) fn attach(&mut self, attached: Attached, mut session: Session) {
        self.flash = session.take_flash();
        self.session = session;
        self.attached = Some(attached);
    }

    /// The WebSocket URL a page opens to follow this session live: `ARC_WSS_URL` with a socket
    /// ticket for this session and this page's origin in its query (`?ticket=...`).
    ///
    /// Deployed, API Gateway serves the page and the socket on two hosts, and the browser
    /// sends the session cookie only to the page's: the ticket is how `$connect` finds the
    /// session ([`ws::async_handler`](crate::ws::async_handler) redeems it). It opens once,
    /// within [`TICKET_LIFETIME`](crate::http::session::TICKET_LIFETIME) seconds, and only from this
    /// page's origin (`X-Forwarded-Proto` and `Host`; `http` for a loopback host without the
    /// header), so mint it as the page is served, and ask for a fresh one to reconnect.
    ///
    /// `None` when there is nothing to follow: sessions sealed in the cookie (only a session
    /// kept server-side can be tied to a socket, see [`ws`](crate::ws)), no `ARC_WSS_URL`, a
    /// session never stored, or one this request regenerates or destroys.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response, session::SessionStore};
    ///
    /// async fn page(req: Request) -> http::Result<Response> {
    ///     Ok(Response::text(req.socket_url().unwrap_or_else(|| "no live updates".into())))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_WSS_URL", "wss://ws.example.com/prod")])?;
    /// let store = Arc::new(SessionStore::new(&config));
    /// let event = lambda_http::http::Request::builder().header("host", "app.example.com")
    ///     .body(lambda_http::Body::Empty)?;
    /// let response = Handler::with_store(store, page).with_config(&config).handle(event).await;
    /// // Cookie sessions keep nothing a socket could follow.
    /// assert_eq!(response.body(), &lambda_http::Body::from("no live updates"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn socket_url(&self) -> Option<String> {
        let attached = self.attached.as_ref()?;
        let base = attached.socket_url.as_deref()?;
        let store = &*attached.store;
        let origin = self.page_origin()?;
        match store.socket_ticket(&self.session, &origin) {
            Ok(Some(ticket)) => {
                // `ws://host:port` has no path: the query goes after `/`, as browsers send it.
                let authority_only = base
                    .split_once("://")
                    .is_some_and(|(_, rest)| !rest.contains(['/', '?']));
                let separator = match (authority_only, base.contains('?')) {
                    (true, _) => "/?",
                    (false, true) => "&",
                    (false, false) => "?",
                };
                Some(format!("{base}{separator}ticket={ticket}"))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "minting a socket ticket failed");
                None
            }
        }
    }

    /// The origin this request's page is served from, as the browser will name it in
    /// `Origin`: `X-Forwarded-Proto` (API Gateway and function URLs set it) or, without it,
    /// `http` for a loopback host and `https` for any other; and `Host`.
    pub(crate) fn page_origin(&self) -> Option<String> {
        let host = self.header("host").filter(|h| !h.is_empty())?;
        let scheme = match self.header("x-forwarded-proto") {
            Some(proto) => proto
                .split(',')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            None if is_loopback_host(host) => "http".to_owned(),
            None => "https".to_owned(),
        };
        Some(crate::config::normalize_origin(&format!(
            "{scheme}://{host}"
        )))
    }

    /// The open WebSocket connections of this request's session, sorted (DynamoDB mode; see
    /// [`ws`](crate::ws) for why cookie mode has none).
    ///
    /// # Errors
    ///
    /// [`ws::Error::Session`](crate::ws::Error::Session) when the session table cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let event = lambda_http::http::Request::builder().body(lambda_http::Body::Empty)?;
    /// let req = arc_functions::http::Request::from_lambda(event)?;
    /// assert!(req.connections().await?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn connections(&self) -> Result<Vec<String>, gateway::Error> {
        match self.store() {
            Some(store) => Ok(store.connections(&self.session).await?),
            None => Ok(Vec::new()),
        }
    }

    /// Sends `payload` to every open WebSocket connection of this request's session, through
    /// `ARC_WSS_URL`'s API, and returns how many received it. Connections found gone are
    /// forgotten, not an error. The session it reads is the one the request arrived with: a
    /// session the response writes keeps the same connections. After `regenerate()` or
    /// `destroy()` it sends nothing and returns 0: those connections belong to the session
    /// that is ending (they are closed once the response is written), and the new one has
    /// none yet; [`Response::push`](super::Response::push) reaches the new one's.
    ///
    /// # Errors
    ///
    /// [`ws::Error::NoEndpoint`](crate::ws::Error::NoEndpoint) when there are connections but no `ARC_WSS_URL`;
    /// [`ws::Error::Api`](crate::ws::Error::Api) when a send fails for another reason than the connection being
    /// gone (the others are still sent); [`ws::Error::Session`](crate::ws::Error::Session) when the table cannot be read.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use arc_functions::http::{self, Request, Response};
    ///
    /// async fn count(req: Request) -> http::Result<Response> {
    ///     let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
    ///     req.push(serde_json::json!({ "count": count })).await?;
    ///     Ok(Response::redirect("/").session(serde_json::json!({ "count": count })))
    /// }
    /// ```
    pub async fn push(&self, payload: impl Into<Payload>) -> Result<usize, gateway::Error> {
        let Some(attached) = &self.attached else {
            return Ok(0);
        };
        // A session this request regenerates or destroys is not the one its sockets follow:
        // they are closed once the response is written, and the new session has none yet.
        if self.session.lifecycle() != session::Lifecycle::Kept {
            return Ok(0);
        }
        let record = session::record_id(&self.session);
        gateway::push(
            &attached.store,
            &attached.ws,
            record,
            None,
            payload.into(),
            self.deadline(),
        )
        .await
    }

    /// When Lambda needs this invocation's answer, when the request came through the runtime.
    pub(crate) fn deadline(&self) -> crate::deadline::Deadline {
        self.raw.deadline()
    }

    /// The stage the configuration allows [`Request::url`] to add.
    pub(crate) fn environment_stage(&self) -> Option<&str> {
        self.attached.as_ref()?.stage.as_deref()
    }

    /// Whether the request arrived with flash messages (now consumed).
    pub(crate) fn had_flash(&self) -> bool {
        !self.flash.is_empty()
    }

    /// Whether the client asks for JSON before anything else: `Accept` starts with
    /// `application/json`, as a page's `fetch` sends it, and never a browser's navigation,
    /// which puts `text/html` first. One URL can then serve a page and its data.
    ///
    /// # Examples
    ///
    /// ```
    /// let req = |accept: &str| {
    ///     let event = lambda_http::http::Request::builder()
    ///         .header("accept", accept)
    ///         .body(lambda_http::Body::Empty)
    ///         .expect("a request");
    ///     arc_functions::http::Request::from_lambda(event).expect("no body to parse")
    /// };
    /// assert!(req("application/json").accepts_json());
    /// assert!(req("Application/JSON; charset=utf-8").accepts_json());
    /// assert!(!req("text/html,application/xhtml+xml,application/json;q=0.9").accepts_json());
    /// ```
    pub fn accepts_json(&self) -> bool {
        self.header("accept").is_some_and(|accept| {
            accept
                .trim_start()
                .get(..16)
                .is_some_and(|first| first.eq_ignore_ascii_case("application/json"))
        })
    }

    /// The value of header `name`, when it is text.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = lambda_http::http::Request::builder()
    ///     .header("x-api-key", "k")
    ///     .body(lambda_http::Body::Empty)?;
    /// let req = arc_functions::http::Request::from_lambda(event)?;
    /// assert_eq!(req.header("X-Api-Key"), Some("k"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers().get(name).and_then(|v| v.to_str().ok())
    }
}

/// Whether `host` (`name[:port]`) names this machine's loopback interface.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if !name.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "[::1]"
    )
}

/// The path of an HTTP API's route key: `/notes/{id}` of `GET /notes/{id}`, `$default` alone.
fn route_path(key: &str) -> &str {
    key.split_once(' ').map_or(key, |(_, path)| path)
}

/// The client's address in an API Gateway request context; see [`Request::source_ip`].
pub(crate) fn source_ip(context: &RequestContext) -> Option<&str> {
    let ip = match context {
        RequestContext::ApiGatewayV2(context) => context.http.source_ip.as_deref(),
        RequestContext::ApiGatewayV1(context) => context.identity.source_ip.as_deref(),
        _ => None,
    };
    ip.filter(|ip| !ip.is_empty())
}

#[cfg(test)]
mod tests;
