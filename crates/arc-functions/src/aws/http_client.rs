//! The SDK's HTTP client, on the same hyper, hyper-rustls and rustls (aws-lc-rs) as the SDK's
//! own, with one difference: unless `SSL_CERT_FILE` or `SSL_CERT_DIR` names a store, its trust
//! anchors are compiled in (webpki-roots).
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
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::ErrorKind;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::client::legacy::connect::HttpConnector as Tcp;
use hyper_util::rt::TokioExecutor;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Which certificates the client trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum TrustStore {
    /// Mozilla's roots, compiled in: they hold Amazon Root CA 1 to 4, which sign every AWS
    /// endpoint.
    #[default]
    CompiledIn,
    /// What `SSL_CERT_FILE` and `SSL_CERT_DIR` name (a proxy's or a private CA's), read on the
    /// first connection as the SDK's own client would read them.
    FromEnvironment,
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
    pool: Arc<OnceLock<Hyper<HttpsConnector<Tcp>, SdkBody>>>,
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
            pool,
            read_timeout: settings.read_timeout(),
        })
    }
}

fn roots(trust: TrustStore) -> rustls::RootCertStore {
    match trust {
        TrustStore::CompiledIn => rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
        TrustStore::FromEnvironment => {
            let found = rustls_native_certs::load_native_certs();
            for error in &found.errors {
                tracing::warn!(%error, "a certificate of SSL_CERT_FILE or SSL_CERT_DIR was not read");
            }
            let mut roots = rustls::RootCertStore::empty();
            let (trusted, unusable) = roots.add_parsable_certificates(found.certs);
            // Once per process: says which store is in force, and what of it was dropped.
            tracing::info!(
                trusted,
                unusable,
                "the AWS clients trust the certificates of SSL_CERT_FILE and SSL_CERT_DIR"
            );
            roots
        }
    }
}

fn pool(
    connect_timeout: Option<Duration>,
    roots: rustls::RootCertStore,
) -> Hyper<HttpsConnector<Tcp>, SdkBody> {
    let mut tcp = Tcp::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(connect_timeout);
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("aws-lc-rs supports TLS 1.2 and 1.3")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        // `http` only for endpoints given as such: a local DynamoDB or API Gateway emulator.
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp);
    Hyper::builder(TokioExecutor::new()).build(https)
}

#[derive(Debug)]
struct Connector {
    pool: Hyper<HttpsConnector<Tcp>, SdkBody>,
    read_timeout: Option<Duration>,
}

impl HttpConnector for Connector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let request = match request.try_into_http1x() {
            Ok(request) => request,
            Err(e) => return HttpConnectorFuture::ready(Err(ConnectorError::user(e.into()))),
        };
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
