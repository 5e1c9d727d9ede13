//! The SDK's HTTP client, on the same hyper, hyper-rustls and rustls as the SDK's own, with
//! three differences: unless `SSL_CERT_FILE` or `SSL_CERT_DIR` names a store, its trust anchors
//! are compiled in (webpki-roots); a request marked [`CONNECT_ONLY`] only opens a connection,
//! which the next request to the same endpoint takes (DynamoDB's warm-up at cold start: the
//! connection without a round trip); and its TLS runs on rustls's `ring` provider, not
//! aws-lc-rs.
//!
//! Why `ring`: TLS is all this library asks of either, and aws-lc-rs brings all of AWS-LC,
//! whose tables of pointers every start relocates, cookie mode included. With `ring` a route's
//! bootstrap is 2 MB smaller, has 3,300 fewer relocations, and its first response comes
//! 0.2 ms sooner (BENCHMARKS.md, "Start-up, one change at a time"). Both are providers that
//! rustls itself ships and tests.
//!
//! Why not the SDK's client: it loads the platform's trust store on its first connection,
//! reading every file of `/etc/ssl/certs` and decoding each PEM certificate with a
//! constant-time base64 decoder. That is 6.7 ms of a cold start on this Debian machine (one
//! bundle on Lambda's Amazon Linux: a few ms) for a store that holds public roots anyway. The
//! SDK offers no way to hand its client a parsed store, so this is the glue that
//! `aws-smithy-http-client` would otherwise be: a request in, a response out, and errors sorted
//! the way its retry policy reads them. Since every client gets this one, the SDK's is not
//! built at all (no `default-https-client` feature), which leaves its hyper and h2 code out of
//! every route.

use std::error::Error as StdError;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::client::connection::{CaptureSmithyConnection, ConnectionMetadata};
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_rustls::{HttpsConnector, MaybeHttpsStream};

pub(super) use super::tls::{TrustStore, roots};
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::client::legacy::connect::HttpConnector as Tcp;
use hyper_util::client::legacy::connect::{CaptureConnection, HttpInfo, capture_connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use lambda_http::http::Uri;

type BoxError = Box<dyn StdError + Send + Sync>;
type Https = HttpsConnector<Tcp>;
type Stream = MaybeHttpsStream<TokioIo<tokio::net::TcpStream>>;

/// A request with this header is never sent: the connector opens a connection to its endpoint
/// (TCP, and TLS for `https`) and keeps it for the next request there, then fails the request
/// with [`Connected`]. DynamoDB's start-up preparation uses it, so the connection is open
/// without a round trip to DynamoDB (the SDK still resolves the endpoint and signs, as for
/// every request after it).
pub(crate) const CONNECT_ONLY: &str = "x-arc-functions-connect-only";

/// How long a kept connection may wait for its request. Servers close connections that carry
/// nothing (Node's, dynalite's, after 60 s); past this a new one is opened instead.
const KEPT_FOR: Duration = Duration::from_secs(30);

/// How a [`CONNECT_ONLY`] request ends when its connection is open and kept.
#[derive(Debug, thiserror::Error)]
#[error("connected; the connection is kept for the next request")]
pub(crate) struct Connected;

/// Whether an SDK error is a [`CONNECT_ONLY`] request's success.
#[cfg(any(test, feature = "dynamodb"))]
pub(crate) fn connected(error: &(dyn StdError + 'static)) -> bool {
    find::<Connected>(error).is_some()
}

/// One HTTP client for the SDK: a connection pool shared by every request of every operation.
pub(super) fn client(trust: TrustStore) -> SharedHttpClient {
    SharedHttpClient::new(Client {
        trust,
        pool: Arc::default(),
    })
}

/// The pool is built on the first request, with that request's connect timeout: every client
/// built from one `SdkConfig` has the same timeouts.
#[derive(Debug)]
struct Client {
    trust: TrustStore,
    pool: Arc<OnceLock<Pool>>,
}

/// hyper's pool, and the connector under it, which also opens [`CONNECT_ONLY`] connections.
#[derive(Debug, Clone)]
struct Pool {
    hyper: Hyper<Keeping, SdkBody>,
    connector: Keeping,
}

impl HttpClient for Client {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        _components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let pool = self
            .pool
            .get_or_init(|| pool(settings.connect_timeout(), roots(self.trust)))
            .clone();
        SharedHttpConnector::new(Connector {
            pool: pool.hyper,
            connector: pool.connector,
            read_timeout: settings.read_timeout(),
        })
    }
}

fn pool(connect_timeout: Option<Duration>, roots: rustls::RootCertStore) -> Pool {
    let (hyper, connector) = keeping_pool(connect_timeout, roots);
    Pool { hyper, connector }
}

/// hyper's pool over a [`Keeping`] connector, and the connector, whose [`Keeping::open`] opens
/// a connection the pool's next request to that endpoint takes: for the SDK's client above and
/// for the DynamoDB client without the SDK (`super::dynamodb`).
pub(crate) fn keeping_pool<B>(
    connect_timeout: Option<Duration>,
    roots: rustls::RootCertStore,
) -> (Hyper<Keeping, B>, Keeping)
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
{
    let connector = Keeping {
        https: super::tls::connector(connect_timeout, roots),
        kept: Arc::default(),
        opening: Arc::default(),
    };
    let hyper = Hyper::builder(TokioExecutor::new()).build(connector.clone());
    (hyper, connector)
}

/// The TLS connector, handing hyper's pool the connection a [`CONNECT_ONLY`] request opened
/// when the pool next connects to the same endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Keeping {
    https: Https,
    kept: Arc<Mutex<Option<Kept>>>,
    /// Held while [`Keeping::open`] opens its connection. The routes open it beside their
    /// first poll, so the first request can come while the handshake is still under way: it
    /// waits for that connection rather than starting a second handshake.
    opening: Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug)]
struct Kept {
    endpoint: String,
    opened: Instant,
    stream: Stream,
}

/// The pool's key for a connection: scheme and authority.
fn endpoint(uri: &Uri) -> String {
    format!(
        "{}://{}",
        uri.scheme_str().unwrap_or_default(),
        uri.authority().map_or("", |a| a.as_str())
    )
}

impl Keeping {
    /// Opens a connection to `uri`'s endpoint and keeps it, in place of any kept before.
    pub(crate) async fn open(&self, uri: Uri) -> Result<(), BoxError> {
        let _opening = self.opening.lock().await;
        let endpoint = endpoint(&uri);
        let mut https = self.https.clone();
        std::future::poll_fn(|cx| tower_service::Service::poll_ready(&mut https, cx)).await?;
        let stream = tower_service::Service::call(&mut https, uri).await?;
        if let Ok(mut kept) = self.kept.lock() {
            *kept = Some(Kept {
                endpoint,
                opened: Instant::now(),
                stream,
            });
        }
        Ok(())
    }

    /// The kept connection, when it is to `uri`'s endpoint, young enough and still open. Taken
    /// either way: one that does not fit is closed.
    fn take(&self, uri: &Uri) -> Option<Stream> {
        let mut kept = self.kept.lock().ok()?.take()?;
        let usable = kept.endpoint == endpoint(uri)
            && kept.opened.elapsed() < KEPT_FOR
            && idle(&mut kept.stream);
        usable.then_some(kept.stream)
    }
}

/// A connection that carried no request has nothing to read until it carries one: a read that
/// does not wait means the server closed it, sent an alert, or sent what nobody asked for.
/// Read through TLS, not from the socket, so that what TLS 1.3 servers send unasked after the
/// handshake (session tickets) is taken by rustls and not mistaken for any of those.
fn idle(stream: &mut Stream) -> bool {
    let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
    let mut buf = hyper::rt::ReadBuf::uninit(&mut byte);
    let mut cx = Context::from_waker(std::task::Waker::noop());
    hyper::rt::Read::poll_read(Pin::new(stream), &mut cx, buf.unfilled()).is_pending()
}

impl tower_service::Service<Uri> for Keeping {
    type Response = Stream;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Stream, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.https.poll_ready(cx)
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let Ok(_idle) = self.opening.try_lock() else {
            // A connection is being opened: take it once it is, or connect if it failed.
            let this = self.clone();
            return Box::pin(async move {
                drop(this.opening.lock().await);
                if let Some(stream) = this.take(&uri) {
                    return Ok(stream);
                }
                let mut https = this.https;
                std::future::poll_fn(|cx| tower_service::Service::poll_ready(&mut https, cx))
                    .await?;
                https.call(uri).await
            });
        };
        match self.take(&uri) {
            Some(stream) => Box::pin(std::future::ready(Ok(stream))),
            None => self.https.call(uri),
        }
    }
}

#[derive(Debug)]
struct Connector {
    pool: Hyper<Keeping, SdkBody>,
    connector: Keeping,
    read_timeout: Option<Duration>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
        if request.headers().contains_key(CONNECT_ONLY) {
            let connector = self.connector.clone();
            let uri = request.uri().clone();
            return HttpConnectorFuture::new(async move {
                connector.open(uri).await.map_err(classify)?;
                Err(ConnectorError::other(Box::new(Connected), None))
            });
        }
        let mut request = request;
        // The SDK's retry policy closes a connection after a transient error (a 5xx, a
        // timeout), so the retry takes a fresh one rather than the connection that just
        // failed: it asks the connector for the connection through this, as the SDK's own
        // client answers it. Without it every 5xx would log that no connection was found, and
        // the failed connection would go back to the pool.
        let captured = capture_connection(&mut request);
        if let Some(capture) = request.extensions().get::<CaptureSmithyConnection>() {
            capture.set_connection_retriever(move || connection_of(&captured));
        }
        let sent = self.pool.request(request);
        let read_timeout = self.read_timeout;
        HttpConnectorFuture::new(async move {
            let answer = match read_timeout {
                Some(limit) => tokio::time::timeout(limit, sent)
                    .await
                    .map_err(|e| ConnectorError::timeout(e.into()))?,
                None => sent.await,
            };
            let response = answer.map_err(|e| classify(e.into()))?;
            HttpResponse::try_from(response.map(SdkBody::from_body_1_x))
                .map_err(|e| ConnectorError::other(e.into(), None))
        })
    }
}

/// The connection a request went out on, as the SDK's retry policy asks for it: to close it
/// (`poison`) after a transient error.
fn connection_of(captured: &CaptureConnection) -> Option<ConnectionMetadata> {
    let metadata = captured.connection_metadata();
    let connected = metadata.as_ref()?;
    let mut extras = lambda_http::http::Extensions::new();
    connected.get_extras(&mut extras);
    let info = extras.get::<HttpInfo>();
    let captured = captured.clone();
    let mut builder = ConnectionMetadata::builder()
        .proxied(connected.is_proxied())
        .poison_fn(move || {
            if let Some(connected) = captured.connection_metadata().as_ref() {
                connected.poison();
            }
        });
    builder
        .set_local_addr(info.map(HttpInfo::local_addr))
        .set_remote_addr(info.map(HttpInfo::remote_addr));
    Some(builder.build())
}

/// Sorts a failed request the way the SDK's retry policy reads it, as the SDK's own client
/// does: I/O (a refused or reset connection, a connection closed under the request) and
/// timeouts are transient and retried; a request hyper refused to send is the caller's; an
/// answer cut short is transient; anything else is not retried.
fn classify(error: BoxError) -> ConnectorError {
    if let Some(hyper) = find::<hyper::Error>(error.as_ref()) {
        if hyper.is_timeout() {
            return ConnectorError::timeout(error);
        }
        if hyper.is_user() {
            return ConnectorError::user(error);
        }
        if hyper.is_closed() || hyper.is_canceled() || find::<std::io::Error>(hyper).is_some() {
            return ConnectorError::io(error);
        }
        if hyper.is_incomplete_message() {
            return ConnectorError::other(error, Some(ErrorKind::TransientError));
        }
        return ConnectorError::other(error, None);
    }
    // Not hyper's: the connection was never made (refused, unreachable, or its TLS handshake
    // failed).
    if find::<hyper_util::client::legacy::Error>(error.as_ref()).is_some_and(|e| e.is_connect()) {
        return ConnectorError::io(error);
    }
    ConnectorError::other(error, None)
}

fn find<'a, E: StdError + 'static>(error: &'a (dyn StdError + 'static)) -> Option<&'a E> {
    std::iter::successors(Some(error), |&e| e.source()).find_map(|e| e.downcast_ref::<E>())
}

#[cfg(test)]
mod tests;
