//! What the gateway's tests share: a stand-in for watch's invoke endpoint, the gateway on an
//! ephemeral port, a WebSocket client and a plain HTTP client.

#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use arc_ws_gateway::{Gateway, Routes};
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Long enough for a loaded machine; only there so a broken feature fails instead of hanging.
pub const PATIENCE: Duration = Duration::from_secs(30);

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Awaits `future`, failing the test if it hangs.
pub async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(PATIENCE, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out waiting for {what}"),
    }
}

/// One invocation the stand-in received.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// The function named in the path, e.g. `ws-connect`.
    pub function: String,
    /// The event, as sent.
    pub event: Value,
}

impl Invocation {
    pub fn context(&self) -> &Value {
        &self.event["requestContext"]
    }

    pub fn connection_id(&self) -> String {
        self.context()["connectionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no connectionId in {}", self.event))
            .to_owned()
    }
}

/// What the stand-in answers an invocation with.
#[derive(Clone, Debug)]
pub enum Answer {
    /// 200 with this JSON: the function's reply.
    Reply(Value),
    /// This status and body, as watch answers a failed function (500).
    Fail(u16, String),
}

pub type Script =
    Arc<dyn Fn(Invocation) -> Pin<Box<dyn Future<Output = Answer> + Send>> + Send + Sync>;

/// Wraps an async closure as a [`Script`].
pub fn script<F, Fut>(answer: F) -> Script
where
    F: Fn(Invocation) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    Arc::new(move |invocation| Box::pin(answer(invocation)))
}

/// Every function replies `{"statusCode": 200}`.
pub fn accept_all() -> Script {
    script(|_| async { Answer::Reply(json!({ "statusCode": 200 })) })
}

/// Stands in for `cargo lambda watch`'s invoke endpoint: records each event, then answers as
/// scripted.
pub struct StandIn {
    pub url: String,
    invocations: mpsc::UnboundedReceiver<Invocation>,
    server: JoinHandle<()>,
}

struct StandInState {
    record: mpsc::UnboundedSender<Invocation>,
    script: Script,
}

impl StandIn {
    pub async fn start(script: Script) -> Self {
        let (record, invocations) = mpsc::unbounded_channel();
        let state = Arc::new(StandInState { record, script });
        let app = Router::new()
            .route("/2015-03-31/functions/{function}/invocations", post(invoke))
            .with_state(state);
        let listener = bind().await;
        let url = format!("http://{}", address(&listener));
        let server = tokio::spawn(async move {
            axum::serve(listener, app)
                .await
                .unwrap_or_else(|err| panic!("stand-in: {err}"));
        });
        Self {
            url,
            invocations,
            server,
        }
    }

    /// The next invocation received.
    pub async fn next(&mut self) -> Invocation {
        within("an invocation", self.invocations.recv())
            .await
            .unwrap_or_else(|| panic!("the stand-in stopped"))
    }

    /// The next invocation, which must be of `function`.
    pub async fn expect(&mut self, function: &str) -> Invocation {
        let invocation = self.next().await;
        assert_eq!(invocation.function, function, "{}", invocation.event);
        invocation
    }

    /// An invocation already received, without waiting.
    pub fn try_next(&mut self) -> Option<Invocation> {
        self.invocations.try_recv().ok()
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn invoke(
    State(state): State<Arc<StandInState>>,
    Path(function): Path<String>,
    body: Bytes,
) -> Response {
    let event =
        serde_json::from_slice(&body).unwrap_or_else(|err| panic!("the event is not JSON: {err}"));
    let invocation = Invocation { function, event };
    let _ = state.record.send(invocation.clone());
    match (state.script)(invocation).await {
        Answer::Reply(reply) => (StatusCode::OK, reply.to_string()).into_response(),
        Answer::Fail(status, body) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, body).into_response()
        }
    }
}

/// The gateway, served in this process on an ephemeral port.
pub struct Running {
    pub address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    pub async fn start(custom_routes: &[&str], invoke_url: &str) -> Self {
        Self::start_with(custom_routes, invoke_url, |gateway| gateway).await
    }

    /// [`Running::start`], with the gateway configured by `configure` (limits, origins).
    pub async fn start_with(
        custom_routes: &[&str],
        invoke_url: &str,
        configure: impl FnOnce(Gateway) -> Gateway,
    ) -> Self {
        let routes = Routes::new(
            &custom_routes
                .iter()
                .map(|r| (*r).to_owned())
                .collect::<Vec<_>>(),
        );
        let invoke_url = invoke_url
            .parse()
            .unwrap_or_else(|err| panic!("{invoke_url}: {err}"));
        let listener = bind().await;
        let address = address(&listener);
        let (stop, stopped) = oneshot::channel::<()>();
        let gateway = configure(Gateway::new(routes, invoke_url));
        let task = tokio::spawn(gateway.serve(listener, async {
            let _ = stopped.await;
        }));
        Self {
            address,
            stop: Some(stop),
            task,
        }
    }

    /// `ws://{address}{path}`.
    pub fn ws(&self, path: &str) -> String {
        format!("ws://{}{path}", self.address)
    }

    /// The management API's URL for this connection id, percent-encoded as the SDK does.
    pub fn connection_url(&self, stage: Option<&str>, id: &str) -> String {
        let id = utf8_percent_encode(id, NON_ALPHANUMERIC);
        match stage {
            Some(stage) => format!("http://{}/{stage}/@connections/{id}", self.address),
            None => format!("http://{}/@connections/{id}", self.address),
        }
    }

    /// Shuts the gateway down and waits until `serve` returns.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        within("the gateway to stop", &mut self.task)
            .await
            .unwrap_or_else(|err| panic!("the gateway panicked: {err}"))
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn bind() -> TcpListener {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .await
        .unwrap_or_else(|err| panic!("bind: {err}"))
}

pub fn address(listener: &TcpListener) -> SocketAddr {
    listener
        .local_addr()
        .unwrap_or_else(|err| panic!("local_addr: {err}"))
}

/// Opens a WebSocket to `url` with these extra headers.
pub async fn connect(url: &str, headers: &[(&str, &str)]) -> Result<Socket, tungstenite::Error> {
    let mut request = url
        .into_client_request()
        .unwrap_or_else(|err| panic!("{url}: {err}"));
    for (name, value) in headers {
        request.headers_mut().insert(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap_or_else(|err| panic!("{err}")),
            http::HeaderValue::from_str(value).unwrap_or_else(|err| panic!("{err}")),
        );
    }
    within("the upgrade", tokio_tungstenite::connect_async(request))
        .await
        .map(|(socket, _)| socket)
}

/// Opens a WebSocket that must be accepted.
pub async fn open(url: &str, headers: &[(&str, &str)]) -> Socket {
    connect(url, headers)
        .await
        .unwrap_or_else(|err| panic!("{url}: the upgrade failed: {err}"))
}

/// The next frame that is not a ping or pong.
pub async fn receive(socket: &mut Socket) -> Message {
    loop {
        match within("a frame", socket.next()).await {
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(message)) => return message,
            other => panic!("expected a frame, got {other:?}"),
        }
    }
}

/// Reads until the socket ends, which sends the client's answer to a close frame (a browser
/// answers at once; tungstenite only when the socket is read again).
pub async fn finish(socket: &mut Socket) {
    within("the socket to end", async {
        while let Some(Ok(_)) = socket.next().await {}
    })
    .await;
}

/// The next frame, which must be text.
pub async fn receive_text(socket: &mut Socket) -> String {
    match receive(socket).await {
        Message::Text(text) => text.as_str().to_owned(),
        other => panic!("expected a text frame, got {other:?}"),
    }
}

/// A plain HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|err| panic!("not JSON ({err}): {:?}", self.body))
    }

    /// Asserts API Gateway's answer for an unknown or closed connection, which the SDK reads as
    /// `GoneException` (it takes the type from this header before the body).
    pub fn assert_gone(&self) {
        assert_eq!(self.status, StatusCode::GONE, "{self:?}");
        assert_eq!(
            self.headers
                .get("x-amzn-errortype")
                .and_then(|value| value.to_str().ok()),
            Some("GoneException"),
            "{self:?}"
        );
        assert_eq!(
            self.headers
                .get("content-type")
                .and_then(|value| value.to_str().ok()),
            Some("application/json")
        );
        assert_eq!(self.json(), json!({ "message": null }));
    }
}

/// Sends one HTTP request.
pub async fn request(method: Method, url: &str, body: impl Into<Bytes>) -> Reply {
    request_with(method, url, &[], body).await
}

/// Sends one HTTP request with these extra headers (`Host` replaces the URL's).
pub async fn request_with(
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: impl Into<Bytes>,
) -> Reply {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let mut builder = Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Full::new(body.into()))
        .unwrap_or_else(|err| panic!("{url}: {err}"));
    let response = within(url, client.request(request))
        .await
        .unwrap_or_else(|err| panic!("{url}: {err}"));
    let status = response.status();
    let headers = response.headers().clone();
    let body = within(url, response.into_body().collect())
        .await
        .unwrap_or_else(|err| panic!("{url}: {err}"))
        .to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}
