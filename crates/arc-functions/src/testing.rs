//! Test helpers for handler authors: a request as API Gateway or a function URL would deliver
//! it, run through a handler (or, with the `axum` feature, a router), and the response with the
//! session it wrote.
//!
//! [`TestRequest`] writes the event's JSON as the service sends it (HTTP API payload 2.0, REST
//! API 1.0, function URL), so the handler meets the same parse as in production, with no
//! fixture to copy. [`TestRequest::send`] serves it exactly as [`http::run`] does;
//! [`TestResponse`] reads the reply and, given the store, the session it set.
//!
//! [`http::run`]: crate::http::run
//!
//! # Examples
//!
//! ```
//! use std::sync::Arc;
//! use arc_functions::config::Config;
//! use arc_functions::http::{self, Handler, Request, Response};
//! use arc_functions::http::session::SessionStore;
//! use arc_functions::testing::TestRequest;
//!
//! async fn count(req: Request) -> http::Result<Response> {
//!     let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
//!     Ok(Response::redirect("/").session(serde_json::json!({ "count": count })))
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
//! let handler = Handler::with_store(Arc::clone(&store), count);
//!
//! let first = TestRequest::post("/count").send(&handler).await?;
//! assert_eq!(first.status(), 302);
//! let cookie = first.session_cookie().expect("a session cookie");
//! let second = TestRequest::post("/count").cookie(&cookie).send(&handler).await?;
//! assert_eq!(second.session(&store).await?.get::<u64>("count")?, Some(2));
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
//! ```

use std::future::Future;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lambda_http::http::header::SET_COOKIE;
use lambda_http::http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value, json};

use crate::http::{Error, Handler, Request, Response};
use crate::session::{self, Session, SessionStore};

/// Which service delivers the event, and so its shape.
///
/// # Examples
///
/// ```
/// use arc_functions::testing::{Format, TestRequest};
///
/// assert_eq!(Format::default(), Format::HttpApi);
/// let rest: serde_json::Value =
///     serde_json::from_str(&TestRequest::get("/").format(Format::RestApi).event())?;
/// assert_eq!(rest["httpMethod"], "GET");
/// let url: serde_json::Value =
///     serde_json::from_str(&TestRequest::get("/").format(Format::FunctionUrl).event())?;
/// assert_eq!(url["version"], "2.0");
/// assert!(url["requestContext"]["domainName"].as_str().is_some_and(|d| d.ends_with(".lambda-url.us-east-1.on.aws")));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// API Gateway HTTP API, payload format 2.0.
    #[default]
    HttpApi,
    /// API Gateway REST API, payload format 1.0.
    RestApi,
    /// A Lambda function URL (payload format 2.0, its own domain).
    FunctionUrl,
}

/// The client address of a [`TestRequest`] unless set: from TEST-NET-1 (RFC 5737).
const DEFAULT_SOURCE_IP: &str = "192.0.2.1";

/// A request to send through a handler, built as the chosen service would deliver it.
///
/// # Examples
///
/// ```
/// use arc_functions::testing::{Format, TestRequest};
///
/// let event = TestRequest::post("/login")
///     .format(Format::RestApi)
///     .form(&[("user", "ann")])
///     .cookie("_idx=abc")
///     .event();
/// let event: serde_json::Value = serde_json::from_str(&event)?;
/// assert_eq!(event["httpMethod"], "POST");
/// assert_eq!(event["headers"]["cookie"], "_idx=abc");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct TestRequest {
    format: Format,
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    cookies: Vec<String>,
    body: Option<String>,
    source_ip: String,
}

impl TestRequest {
    /// A request of `method` for `path`, which may carry a query (`/search?q=x`).
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::testing::TestRequest;
    ///
    /// let event: serde_json::Value =
    ///     serde_json::from_str(&TestRequest::new("delete", "/notes/7?undo=1").event())?;
    /// assert_eq!(event["requestContext"]["http"]["method"], "DELETE");
    /// assert_eq!(event["rawPath"], "/notes/7");
    /// assert_eq!(event["rawQueryString"], "undo=1");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn new(method: &str, path: &str) -> Self {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        Self {
            format: Format::default(),
            method: method.to_ascii_uppercase(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers: Vec::new(),
            cookies: Vec::new(),
            body: None,
            source_ip: DEFAULT_SOURCE_IP.to_owned(),
        }
    }

    /// `GET path`.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::testing::{TestRequest, read_event};
    ///
    /// let request = read_event(&TestRequest::get("/notes").event())?;
    /// assert_eq!(request.method(), "GET");
    /// assert_eq!(request.uri().path(), "/notes");
    /// # Ok::<(), arc_functions::http::Error>(())
    /// ```
    pub fn get(path: &str) -> Self {
        Self::new("GET", path)
    }

    /// `POST path`.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::testing::{TestRequest, read_event};
    ///
    /// let request = read_event(&TestRequest::post("/login").event())?;
    /// assert_eq!(request.method(), "POST");
    /// assert_eq!(request.uri().path(), "/login");
    /// # Ok::<(), arc_functions::http::Error>(())
    /// ```
    pub fn post(path: &str) -> Self {
        Self::new("POST", path)
    }

    /// Delivered by `format` (an HTTP API unless set).
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::testing::{Format, TestRequest};
    ///
    /// let event: serde_json::Value =
    ///     serde_json::from_str(&TestRequest::get("/").format(Format::RestApi).event())?;
    /// // Payload format 1.0, from a REST API's stage.
    /// assert_eq!(event["httpMethod"], "GET");
    /// assert_eq!(event["requestContext"]["stage"], "prod");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[must_use]
    pub fn format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Adds a header.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::testing::TestRequest;
    ///
    /// let event = TestRequest::get("/")
    ///     .header("Accept", "application/json")
    ///     .header("accept", "text/html")
    ///     .event();
    /// let event: serde_json::Value = serde_json::from_str(&event)?;
    /// // Names in lower case, a repeated header joined, as the services deliver them.
    /// assert_eq!(event["headers"]["accept"], "application/json,text/html");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Adds a cookie, as `name=value` (what [`TestResponse::session_cookie`] returns).
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::testing::TestRequest;
    ///
    /// let event = TestRequest::get("/").cookie("_idx=abc").cookie("theme=dark").event();
    /// let event: serde_json::Value = serde_json::from_str(&event)?;
    /// assert_eq!(event["cookies"], serde_json::json!(["_idx=abc", "theme=dark"]));
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[must_use]
    pub fn cookie(mut self, pair: &str) -> Self {
        self.cookies.push(pair.to_owned());
        self
    }

    /// A URL-encoded form body, with its content type.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::Request;
    /// use arc_functions::testing::{TestRequest, read_event};
    ///
    /// let event = TestRequest::post("/login").form(&[("user", "ann"), ("next", "/notes")]).event();
    /// let req = Request::from_lambda(read_event(&event)?)?;
    /// assert_eq!(req.header("content-type"), Some("application/x-www-form-urlencoded"));
    /// let form = req.body.form().expect("a form body");
    /// assert_eq!(form.get("user"), Some("ann"));
    /// assert_eq!(form.get("next"), Some("/notes"));
    /// # Ok::<(), arc_functions::http::Error>(())
    /// ```
    #[must_use]
    pub fn form(self, fields: &[(&str, &str)]) -> Self {
        let body = serde_urlencoded::to_string(fields).unwrap_or_default();
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(&body)
    }

    /// A JSON body, with its content type.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::Request;
    /// use arc_functions::testing::{TestRequest, read_event};
    ///
    /// let event = TestRequest::post("/api/notes").json(&serde_json::json!({"title": "hi"})).event();
    /// let req = Request::from_lambda(read_event(&event)?)?;
    /// assert_eq!(req.header("content-type"), Some("application/json"));
    /// assert_eq!(req.body.json(), Some(&serde_json::json!({"title": "hi"})));
    /// # Ok::<(), arc_functions::http::Error>(())
    /// ```
    #[must_use]
    pub fn json(self, value: &Value) -> Self {
        self.header("content-type", "application/json")
            .body(&value.to_string())
    }

    /// A text body, as is (set a `content-type` with [`TestRequest::header`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::http::Request;
    /// use arc_functions::testing::{TestRequest, read_event};
    ///
    /// let event = TestRequest::post("/notes").header("content-type", "text/plain").body("hello").event();
    /// let req = Request::from_lambda(read_event(&event)?)?;
    /// assert_eq!(req.body.text(), Some("hello"));
    /// # Ok::<(), arc_functions::http::Error>(())
    /// ```
    #[must_use]
    pub fn body(mut self, text: &str) -> Self {
        self.body = Some(text.to_owned());
        self
    }

    /// The client's address, where API Gateway puts it in the request context
    /// ([`Request::source_ip`](crate::http::Request::source_ip)); `192.0.2.1` unless set.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::testing::TestRequest;
    ///
    /// let event = TestRequest::post("/login").source_ip("198.51.100.7").event();
    /// let event: serde_json::Value = serde_json::from_str(&event)?;
    /// assert_eq!(event["requestContext"]["http"]["sourceIp"], "198.51.100.7");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    #[must_use]
    pub fn source_ip(mut self, address: &str) -> Self {
        address.clone_into(&mut self.source_ip);
        self
    }

    /// The event's JSON text, as the service sends it to the function.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::testing::TestRequest;
    ///
    /// let event: serde_json::Value = serde_json::from_str(&TestRequest::get("/search?q=rust").event())?;
    /// // An HTTP API's payload format 2.0, as the default format delivers it.
    /// assert_eq!(event["version"], "2.0");
    /// assert_eq!(event["rawPath"], "/search");
    /// assert_eq!(event["rawQueryString"], "q=rust");
    /// assert_eq!(event["requestContext"]["http"]["sourceIp"], "192.0.2.1");
    /// # Ok::<(), serde_json::Error>(())
    /// ```
    pub fn event(&self) -> String {
        match self.format {
            Format::HttpApi => self.v2("abcdef1234.execute-api.us-east-1.amazonaws.com"),
            Format::FunctionUrl => self.v2("abcdefghij1234567890.lambda-url.us-east-1.on.aws"),
            Format::RestApi => self.v1(),
        }
    }

    fn header_map(&self) -> Map<String, Value> {
        let mut headers = Map::new();
        for (name, value) in &self.headers {
            // The services join a repeated header with commas.
            let joined = match headers.get(name).and_then(Value::as_str) {
                Some(before) => format!("{before},{value}"),
                None => value.clone(),
            };
            headers.insert(name.clone(), Value::String(joined));
        }
        headers
    }

    fn v2(&self, domain: &str) -> String {
        let mut headers = self.header_map();
        headers.insert("host".into(), domain.into());
        json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": self.path,
            "rawQueryString": self.query,
            "cookies": self.cookies,
            "headers": headers,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": domain.split('.').next().unwrap_or_default(),
                "domainName": domain,
                "domainPrefix": domain.split('.').next().unwrap_or_default(),
                "http": {
                    "method": self.method,
                    "path": self.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": self.source_ip,
                    "userAgent": "arc-functions-testing"
                },
                "requestId": "test-request",
                "routeKey": "$default",
                "stage": "$default",
                "time": "27/Nov/2026:12:00:00 +0000",
                "timeEpoch": 1_795_780_800_000_u64
            },
            "body": self.body,
            "isBase64Encoded": false
        })
        .to_string()
    }

    fn v1(&self) -> String {
        let mut headers = self.header_map();
        if !self.cookies.is_empty() {
            headers.insert("cookie".into(), self.cookies.join("; ").into());
        }
        let multi: Map<String, Value> = headers
            .iter()
            .map(|(k, v)| (k.clone(), json!([v])))
            .collect();
        let query = crate::http::Params::parse(&self.query);
        let single: Map<String, Value> = query
            .iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v.to_owned())))
            .collect();
        let mut multi_query: Map<String, Value> = Map::new();
        for (k, v) in query.iter() {
            let values = multi_query.entry(k).or_insert_with(|| json!([]));
            if let Value::Array(values) = values {
                values.push(Value::String(v.to_owned()));
            }
        }
        json!({
            "resource": "/{proxy+}",
            "path": self.path,
            "httpMethod": self.method,
            "headers": headers,
            "multiValueHeaders": multi,
            "queryStringParameters": if single.is_empty() { Value::Null } else { Value::Object(single) },
            "multiValueQueryStringParameters": if multi_query.is_empty() { Value::Null } else { Value::Object(multi_query) },
            "pathParameters": { "proxy": self.path.trim_start_matches('/') },
            "stageVariables": null,
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "abcdef1234",
                "domainName": "abcdef1234.execute-api.us-east-1.amazonaws.com",
                "httpMethod": self.method,
                "identity": { "sourceIp": self.source_ip, "userAgent": "arc-functions-testing" },
                "path": format!("/prod{}", self.path),
                "protocol": "HTTP/1.1",
                "requestId": "test-request",
                "requestTimeEpoch": 1_795_780_800_000_u64,
                "resourcePath": "/{proxy+}",
                "stage": "prod"
            },
            "body": self.body,
            "isBase64Encoded": false
        })
        .to_string()
    }

    /// Serves the event through `handler` exactly as [`http::run`](crate::http::run) does.
    ///
    /// # Errors
    ///
    /// What [`Handler::invoke`] returns: never, for the events this builds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response};
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::testing::TestRequest;
    ///
    /// async fn greet(req: Request) -> http::Result<Response> {
    ///     let name = req.query.get("name").unwrap_or("stranger").to_owned();
    ///     Ok(Response::text(format!("hello, {name}")))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let handler = Handler::with_store(store, greet);
    /// let response = TestRequest::get("/greet?name=ann").send(&handler).await?;
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.text(), "hello, ann");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub async fn send<F, Fut, E>(&self, handler: &Handler<F>) -> Result<TestResponse, Error>
    where
        F: Fn(Request) -> Fut,
        Fut: Future<Output = Result<Response, E>>,
        E: Into<Error>,
    {
        TestResponse::from_reply(&handler.invoke(&self.event()).await?)
    }

    /// Serves the event through a tower service (an axum `Router` with a
    /// [`SessionLayer`](crate::axum::SessionLayer), say) as `lambda_http::run` does.
    ///
    /// # Errors
    ///
    /// The service's own error, or its body's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::axum::{Session, SessionLayer};
    /// use arc_functions::{config::Config, http::session::SessionStore};
    /// use arc_functions::testing::TestRequest;
    /// use axum::{Router, routing::post};
    ///
    /// async fn count(session: Session) -> Result<String, arc_functions::axum::Error> {
    ///     let count = session.get::<u64>("count")?.unwrap_or(0) + 1;
    ///     session.insert("count", count)?;
    ///     Ok(format!("count: {count}"))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let app = Router::new().route("/count", post(count)).layer(SessionLayer::new(Arc::clone(&store)));
    /// let first = TestRequest::post("/count").send_to(app.clone()).await?;
    /// assert_eq!(first.text(), "count: 1");
    /// let cookie = first.session_cookie().expect("a session cookie");
    /// let second = TestRequest::post("/count").cookie(&cookie).send_to(app).await?;
    /// assert_eq!(second.text(), "count: 2");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    #[cfg(feature = "axum")]
    #[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
    pub async fn send_to<S, B>(&self, mut service: S) -> Result<TestResponse, Error>
    where
        S: tower_service::Service<lambda_http::Request, Response = lambda_http::http::Response<B>>,
        S::Error: Into<Error>,
        B: http_body::Body,
        B::Error: Into<Error>,
    {
        use http_body_util::BodyExt;
        // Read as production reads it ([`http::run`](crate::http::run), `axum::run`).
        let (_, request) = crate::http::parse_event(&self.event())?;
        std::future::poll_fn(|cx| service.poll_ready(cx))
            .await
            .map_err(Into::into)?;
        let response = service.call(request).await.map_err(Into::into)?;
        let (parts, body) = response.into_parts();
        let body = body
            .collect()
            .await
            .map_err(Into::into)?
            .to_bytes()
            .to_vec();
        Ok(TestResponse {
            status: parts.status.as_u16(),
            headers: parts.headers,
            body,
        })
    }
}

/// The request [`http::run`] hands a handler for an event's JSON text, before it is
/// normalized: lambda_http's type, with the extensions its `RequestExt` reads (request
/// context, path and query parameters, stage variables). To see what a saved event becomes,
/// or to pass it to a tower service of your own.
///
/// [`http::run`]: crate::http::run
///
/// # Errors
///
/// When `payload` is no HTTP event (a WebSocket or queue event: [`http::run`] fails such an
/// invocation), or an HTTP event that cannot be read as a request (one [`http::run`] answers
/// 400).
///
/// # Examples
///
/// ```
/// use lambda_http::RequestExt;
/// use arc_functions::testing::{TestRequest, read_event};
///
/// let request = read_event(&TestRequest::get("/notes?page=2").event())?;
/// assert_eq!(request.method(), "GET");
/// assert_eq!(request.uri().path(), "/notes");
/// assert_eq!(request.query_string_parameters_ref().and_then(|q| q.first("page")), Some("2"));
/// assert!(read_event(r#"{"requestContext": {"connectionId": "abc"}}"#).is_err());
/// # Ok::<(), arc_functions::http::Error>(())
/// ```
pub fn read_event(payload: &str) -> Result<lambda_http::Request, Error> {
    let (_, request) = crate::http::parse_event(payload)?;
    Ok(request)
}

/// The request [`http::run`] hands a handler for an event's JSON text, session not yet read:
/// what a handler sees of a saved event. An HTTP API event's lambda_http request
/// ([`Request::raw`](crate::http::Request::raw)) is made from the text when first asked for,
/// so the request keeps the text: given a `String` or `Box<str>` it takes it, as
/// [`http::run`] takes the payload; a `&str` is copied.
///
/// [`http::run`]: crate::http::run
///
/// # Errors
///
/// As [`read_event`], and when the body does not match its content type (a request
/// [`http::run`] answers 400).
///
/// # Examples
///
/// ```
/// use arc_functions::testing::{TestRequest, read_request};
///
/// let event = TestRequest::post("/notes?page=2").form(&[("title", "milk")]).event();
/// let req = read_request(event)?;
/// assert_eq!((req.method.as_str(), req.path.as_str()), ("POST", "/notes"));
/// assert_eq!(req.query.get("page"), Some("2"));
/// assert_eq!(req.body.form().and_then(|f| f.get("title")), Some("milk"));
/// assert!(read_request(r#"{"requestContext": {"connectionId": "abc"}}"#).is_err());
/// # Ok::<(), arc_functions::http::Error>(())
/// ```
pub fn read_request(payload: impl Into<Box<str>>) -> Result<crate::http::Request, Error> {
    let context = lambda_http::Context::default();
    let (_, request) = crate::http::Request::read(payload.into(), context)?;
    Ok(request?)
}

/// [`read_event`] the general way only: the event classified by its distinguishing fields,
/// read into lambda_http's type for its kind and converted by lambda_http, as every event was
/// read before the one-pass reader for HTTP API events. For the fuzz target and the benchmark
/// that compare the two; not part of the API.
///
/// # Examples
///
/// ```
/// use arc_functions::testing::{TestRequest, read_event, read_event_general};
///
/// let event = TestRequest::post("/notes?page=2").header("accept", "text/html").event();
/// let (general, fast) = (read_event_general(&event)?, read_event(&event)?);
/// assert_eq!(general.method(), "POST");
/// assert_eq!(general.uri(), fast.uri());
/// assert_eq!(general.headers()["accept"], "text/html");
/// assert!(read_event_general(r#"{"requestContext": {"connectionId": "abc"}}"#).is_err());
/// # Ok::<(), arc_functions::http::Error>(())
/// ```
#[doc(hidden)]
pub fn read_event_general(payload: &str) -> Result<lambda_http::Request, Error> {
    let (_, request) = crate::http::parse_event_typed(payload)?;
    Ok(request)
}

/// What a handler answered: status, headers (`Set-Cookie` included, whichever field the
/// service carries it in), body, and the session it set.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use arc_functions::config::Config;
/// use arc_functions::http::{self, Handler, Request, Response};
/// use arc_functions::http::session::SessionStore;
/// use arc_functions::testing::TestRequest;
///
/// async fn login(_req: Request) -> http::Result<Response> {
///     Ok(Response::redirect("/notes").session(serde_json::json!({"user": "ann"})))
/// }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
/// let response = TestRequest::post("/login").send(&Handler::with_store(Arc::clone(&store), login)).await?;
/// assert_eq!(response.status(), 302);
/// assert_eq!(response.header("location"), Some("/notes"));
/// assert_eq!(response.session(&store).await?.get::<String>("user")?.as_deref(), Some("ann"));
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TestResponse {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl TestResponse {
    /// Reads a reply as [`Handler::invoke`] returns it, the JSON the function sends back in
    /// its event's format: to test a handler on an event of your own, one saved from API
    /// Gateway, say.
    ///
    /// # Errors
    ///
    /// When `reply` is not such JSON: a header that cannot be one, a body that is not the
    /// base64 it says it is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response};
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::testing::TestResponse;
    ///
    /// async fn home(req: Request) -> http::Result<Response> {
    ///     Ok(Response::text(format!("hello from {}", req.path)))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let handler = Handler::with_store(store, home);
    /// let event = r#"{"version": "2.0", "rawPath": "/hi", "headers": {},
    ///     "requestContext": {"http": {"method": "GET", "path": "/hi"}}}"#;
    /// let response = TestResponse::from_reply(&handler.invoke(event).await?)?;
    /// assert_eq!(response.status(), 200);
    /// assert_eq!(response.text(), "hello from /hi");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn from_reply(reply: &str) -> Result<Self, Error> {
        let reply: Value = serde_json::from_str(reply)?;
        let mut headers = HeaderMap::new();
        let mut add = |name: &str, value: &str| -> Result<(), Error> {
            headers.append(
                HeaderName::from_bytes(name.as_bytes())?,
                HeaderValue::from_str(value)?,
            );
            Ok(())
        };
        if let Some(map) = reply["multiValueHeaders"].as_object() {
            for (name, values) in map {
                for value in values.as_array().into_iter().flatten() {
                    add(name, value.as_str().unwrap_or_default())?;
                }
            }
        }
        // A load balancer fills both fields; the multi-value one already has everything.
        if reply["multiValueHeaders"]
            .as_object()
            .is_none_or(Map::is_empty)
            && let Some(map) = reply["headers"].as_object()
        {
            for (name, value) in map {
                add(name, value.as_str().unwrap_or_default())?;
            }
        }
        for cookie in reply["cookies"].as_array().into_iter().flatten() {
            add(SET_COOKIE.as_str(), cookie.as_str().unwrap_or_default())?;
        }
        let text = reply["body"].as_str().unwrap_or_default();
        let body = if reply["isBase64Encoded"] == Value::Bool(true) {
            STANDARD.decode(text)?
        } else {
            text.as_bytes().to_vec()
        };
        Ok(Self {
            status: reply["statusCode"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or_default(),
            headers,
            body,
        })
    }

    /// The status code.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response};
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::testing::TestRequest;
    ///
    /// async fn create(_req: Request) -> http::Result<Response> {
    ///     Ok(Response::json(&serde_json::json!({"id": 7})).status(201))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let response = TestRequest::post("/notes").send(&Handler::with_store(store, create)).await?;
    /// assert_eq!(response.status(), 201);
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The headers, `Set-Cookie` included.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response};
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::testing::TestRequest;
    ///
    /// async fn home(_req: Request) -> http::Result<Response> {
    ///     Ok(Response::text("hi").cookie("theme=dark; Path=/").cookie("lang=en; Path=/"))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let response = TestRequest::get("/").send(&Handler::with_store(store, home)).await?;
    /// // Every Set-Cookie, not only the first.
    /// let set_cookies: Vec<_> = response.headers().get_all("set-cookie").iter().collect();
    /// assert_eq!(set_cookies, ["theme=dark; Path=/", "lang=en; Path=/"]);
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The first value of header `name`, when it is text.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response};
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::testing::TestRequest;
    ///
    /// async fn home(_req: Request) -> http::Result<Response> {
    ///     Ok(Response::text("hi").header("x-request-id", "7"))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let response = TestRequest::get("/").send(&Handler::with_store(store, home)).await?;
    /// assert_eq!(response.header("X-Request-Id"), Some("7"));
    /// assert_eq!(response.header("content-type"), Some("text/plain; charset=utf8"));
    /// assert_eq!(response.header("x-missing"), None);
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body, decoded from base64 when it was sent so.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response};
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::testing::TestRequest;
    ///
    /// async fn image(_req: Request) -> http::Result<Response> {
    ///     Ok(Response::bytes(vec![0x89, b'P', b'N', b'G', 0xff]).content_type("image/png"))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let response = TestRequest::get("/logo.png").send(&Handler::with_store(store, image)).await?;
    /// // Sent as base64, read back as the bytes.
    /// assert_eq!(response.body(), [0x89, b'P', b'N', b'G', 0xff]);
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The body as text (lossy).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response};
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::testing::TestRequest;
    ///
    /// async fn page(_req: Request) -> http::Result<Response> {
    ///     Ok(Response::html("<p>café</p>"))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let response = TestRequest::get("/").send(&Handler::with_store(store, page)).await?;
    /// assert_eq!(response.text(), "<p>café</p>");
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `name=value` of the session cookie this response sets, ready for
    /// [`TestRequest::cookie`]; `None` when it sets none.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response};
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::testing::TestRequest;
    ///
    /// async fn login(req: Request) -> http::Result<Response> {
    ///     if req.path == "/login" {
    ///         return Ok(Response::redirect("/").session(serde_json::json!({"user": "ann"})));
    ///     }
    ///     Ok(Response::text("no session written"))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let handler = Handler::with_store(store, login);
    /// let cookie = TestRequest::post("/login").send(&handler).await?.session_cookie();
    /// assert!(cookie.as_deref().is_some_and(|c| c.starts_with("_idx=") && !c.contains(';')));
    /// assert_eq!(TestRequest::get("/").send(&handler).await?.session_cookie(), None);
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|c| c.split(';').next())
            .find(|pair| pair.starts_with("_idx=") || pair.starts_with("__Host-_idx="))
            .map(str::to_owned)
    }

    /// The session this response set, read back with `store`: empty when it set none (or
    /// ended it).
    ///
    /// # Errors
    ///
    /// [`session::Error::DynamoDb`] when the table cannot be read.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use arc_functions::config::Config;
    /// use arc_functions::http::{self, Handler, Request, Response};
    /// use arc_functions::http::session::SessionStore;
    /// use arc_functions::testing::TestRequest;
    ///
    /// async fn login(req: Request) -> http::Result<Response> {
    ///     if req.path == "/login" {
    ///         return Ok(Response::redirect("/").session(serde_json::json!({"user": "ann"})));
    ///     }
    ///     Ok(Response::text("no session written"))
    /// }
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let store = Arc::new(SessionStore::new(&Config::from_vars([("ARC_ENV", "testing")])?));
    /// let handler = Handler::with_store(Arc::clone(&store), login);
    /// let signed_in = TestRequest::post("/login").send(&handler).await?;
    /// assert_eq!(signed_in.session(&store).await?.get::<String>("user")?.as_deref(), Some("ann"));
    /// let other = TestRequest::get("/").send(&handler).await?;
    /// assert!(other.session(&store).await?.is_empty());
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
    /// ```
    pub async fn session(&self, store: &SessionStore) -> Result<Session, session::Error> {
        let Some(cookie) = self.session_cookie() else {
            return Ok(Session::new());
        };
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            headers.insert("cookie", value);
        }
        store.read_headers(&headers).await
    }
}
