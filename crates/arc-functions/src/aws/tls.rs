//! TLS for every call the library makes to AWS, through the SDK's clients
//! ([`super::http_client`]) or its own ([`super::secrets`]): hyper's connector over rustls on
//! its `ring` provider, trusting Mozilla's roots compiled in unless `SSL_CERT_FILE` or
//! `SSL_CERT_DIR` names a store. `super::http_client` says why each of those.

use std::sync::Arc;
use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector as Tcp;

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

impl TrustStore {
    /// [`TrustStore::FromEnvironment`] when `SSL_CERT_FILE` or `SSL_CERT_DIR` is set (not
    /// empty): somebody chose the trust store, which is then trusted instead of the
    /// compiled-in roots.
    pub(super) fn read(var: impl Fn(&str) -> Option<String>) -> Self {
        let env = super::env::Env(var);
        if env.is_set("SSL_CERT_FILE") || env.is_set("SSL_CERT_DIR") {
            Self::FromEnvironment
        } else {
            Self::CompiledIn
        }
    }
}

/// The certificates `trust` names.
pub(super) fn roots(trust: TrustStore) -> rustls::RootCertStore {
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

/// hyper's connector over TLS to `roots`, HTTP/1.1, giving up a connection not made within
/// `connect_timeout`.
pub(super) fn connector(
    connect_timeout: Option<Duration>,
    roots: rustls::RootCertStore,
) -> HttpsConnector<Tcp> {
    let mut tcp = Tcp::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(connect_timeout);
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports TLS 1.2 and 1.3")
    .with_root_certificates(roots)
    .with_no_client_auth();
    hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        // `http` only for endpoints given as such: a local DynamoDB, Secrets Manager or API
        // Gateway emulator.
        .https_or_http()
        .enable_http1()
        .wrap_connector(tcp)
}
