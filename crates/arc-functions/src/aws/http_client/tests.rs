//! The client against real sockets on loopback: a tiny HTTP server for the round trip, and the
//! faults a pool meets (refused, closed before an answer, no answer in time), each sorted as the
//! SDK's retry policy expects.

use super::*;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
use std::future::Future;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn connector(read_timeout: Option<Duration>) -> SharedHttpConnector {
    let mut settings = HttpConnectorSettings::builder().connect_timeout(Duration::from_secs(2));
    if let Some(limit) = read_timeout {
        settings = settings.read_timeout(limit);
    }
    let components = RuntimeComponentsBuilder::for_tests()
        .build()
        .expect("components");
    client(TrustStore::CompiledIn).http_connector(&settings.build(), &components)
}

fn post(url: &str, body: &'static str) -> HttpRequest {
    let request = lambda_http::http::Request::builder()
        .method("POST")
        .uri(url)
        .header("x-amz-target", "DynamoDB_20120810.GetItem")
        .body(SdkBody::from(body))
        .expect("request");
    HttpRequest::try_from(request).expect("smithy request")
}

/// Reads one request's head and body (by its content-length) from the socket.
async fn read_request(socket: &mut (impl tokio::io::AsyncRead + Unpin)) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.expect("read");
        seen.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&seen).to_string();
        if let Some(head_end) = text.find("\r\n\r\n") {
            let length = text[..head_end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if seen.len() >= head_end + 4 + length {
                return text;
            }
        }
        assert!(n > 0, "the client closed before sending its request");
    }
}

/// A server on loopback that accepts one connection and hands it to `answer`: its address
/// (`scheme://host:port/`) and the task, whose output is `answer`'s.
async fn serve_one<F, Fut>(
    scheme: &str,
    answer: F,
) -> (String, tokio::task::JoinHandle<Fut::Output>)
where
    F: FnOnce(TcpStream) -> Fut + Send + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("{scheme}://{}/", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.expect("accept");
        answer(socket).await
    });
    (url, task)
}

/// What a server read must be a DynamoDB GetItem.
fn assert_get_item(seen: &str) {
    assert!(seen.starts_with("POST / HTTP/1.1\r\n"), "{seen}");
    assert!(
        seen.to_ascii_lowercase()
            .contains("x-amz-target: dynamodb_20120810.getitem"),
        "{seen}"
    );
}

/// A server on loopback that accepts one connection and holds it for `hold`, never answering.
async fn serve_silent(hold: Duration) -> (String, tokio::task::JoinHandle<()>) {
    serve_one("http", move |socket| async move {
        tokio::time::sleep(hold).await;
        drop(socket);
    })
    .await
}

/// A server on loopback that answers one request with `answer` and returns the request.
async fn serve_answer(answer: &'static [u8]) -> (String, tokio::task::JoinHandle<String>) {
    serve_one("http", move |mut socket| async move {
        let request = read_request(&mut socket).await;
        socket.write_all(answer).await.expect("write");
        request
    })
    .await
}

#[tokio::test]
async fn a_request_and_its_answer_go_through_whole() {
    let (url, server) = serve_answer(b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: 11\r\n\r\n{\"why\":\"x\"}").await;

    let response = connector(None)
        .call(post(&url, "{\"Key\":1}"))
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        response.headers().get("content-type"),
        Some("application/x-amz-json-1.0")
    );
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    assert_eq!(&body[..], b"{\"why\":\"x\"}");
    let seen = server.await.expect("server");
    assert_get_item(&seen);
    assert!(seen.ends_with("{\"Key\":1}"), "{seen}");
}

#[tokio::test]
async fn a_refused_connection_is_io_and_so_retried() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    drop(listener);
    let error = connector(None)
        .call(post(&url, "{}"))
        .await
        .expect_err("refused");
    assert!(error.is_io(), "{error:?}");
}

#[tokio::test]
async fn a_connection_closed_before_an_answer_is_transient_and_so_retried() {
    let (url, _server) = serve_one("http", |mut socket| async move {
        read_request(&mut socket).await;
        drop(socket);
    })
    .await;
    let error = connector(None)
        .call(post(&url, "{}"))
        .await
        .expect_err("closed");
    assert_eq!(
        error.as_other(),
        Some(ErrorKind::TransientError),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_connection_reset_under_the_request_is_io_and_so_retried() {
    let (url, _server) = serve_one("http", |mut socket| async move {
        read_request(&mut socket).await;
        // A zero linger makes the close a reset (RST), not a FIN.
        socket.set_zero_linger().expect("linger");
        drop(socket);
    })
    .await;
    let error = connector(None)
        .call(post(&url, "{}"))
        .await
        .expect_err("reset");
    assert!(error.is_io(), "{error:?}");
}

#[tokio::test]
async fn no_answer_within_the_read_timeout_is_a_timeout() {
    let (url, held) = serve_silent(Duration::from_secs(5)).await;
    let error = connector(Some(Duration::from_millis(200)))
        .call(post(&url, "{}"))
        .await
        .expect_err("timed out");
    assert!(error.is_timeout(), "{error:?}");
    held.abort();
}

#[tokio::test]
async fn https_is_spoken_to_an_https_address() {
    // A plain-HTTP server on an https:// address: the client must start a TLS handshake (which
    // the server cannot answer), never send the request in clear.
    let (url, server) = serve_one("https", |mut socket| async move {
        let mut first = [0u8; 3];
        socket.read_exact(&mut first).await.expect("read");
        socket
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .await
            .ok();
        first
    })
    .await;
    let error = connector(None)
        .call(post(&url, "{}"))
        .await
        .expect_err("no TLS server");
    // A TLS record: a handshake (22), protocol version 3.x.
    assert_eq!(&server.await.expect("server")[..2], &[22, 3]);
    assert!(!error.is_timeout(), "{error:?}");
}

#[test]
fn the_compiled_in_store_holds_the_roots_aws_endpoints_chain_to() {
    // DynamoDB's and execute-api's certificates are Amazon Trust Services', which chain to
    // Amazon Root CA 1 to 4 (and, cross-signed, Starfield Services G2).
    let subjects = subjects(&roots(TrustStore::CompiledIn));
    for name in [
        "Amazon Root CA 1",
        "Amazon Root CA 2",
        "Amazon Root CA 3",
        "Amazon Root CA 4",
    ] {
        assert!(subjects.iter().any(|s| s.contains(name)), "{name} missing");
    }
}

fn subjects(store: &rustls::RootCertStore) -> Vec<String> {
    store
        .roots
        .iter()
        .map(|anchor| String::from_utf8_lossy(anchor.subject.as_ref()).into_owned())
        .collect()
}

/// rustls-native-certs reads `SSL_CERT_FILE` from the process environment, which a test cannot
/// set (`set_var` is unsafe in this edition and the crate forbids unsafe code), so the test runs
/// itself again in a child process given the variable, and asserts there.
#[test]
fn ssl_cert_file_replaces_the_compiled_in_roots() {
    const IN_CHILD: &str = "ARC_TEST_TRUST_STORE_CHILD";
    if std::env::var_os(IN_CHILD).is_some() {
        let store = roots(TrustStore::FromEnvironment);
        assert_eq!(
            subjects(&store).len(),
            1,
            "only the named store: {:?}",
            subjects(&store)
        );
        assert!(subjects(&store)[0].contains("arc-functions test root"));
        return;
    }
    let pem = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/private-root.pem"
    );
    let child = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "aws::http_client::tests::ssl_cert_file_replaces_the_compiled_in_roots",
            "--nocapture",
        ])
        .env(IN_CHILD, "1")
        .env("SSL_CERT_FILE", pem)
        .env_remove("SSL_CERT_DIR")
        .output()
        .expect("run the child");
    let out = String::from_utf8_lossy(&child.stdout);
    assert!(child.status.success(), "{out}");
    assert!(out.contains("1 passed"), "the child ran the test: {out}");
}

fn connect_only(url: &str) -> HttpRequest {
    let request = lambda_http::http::Request::builder()
        .method("GET")
        .uri(url)
        .header(CONNECT_ONLY, "true")
        .body(SdkBody::empty())
        .expect("request");
    HttpRequest::try_from(request).expect("smithy request")
}

const ANSWER: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";

/// A connect-only request to `url`, which must end as [`Connected`], and not be retried.
async fn keep(connector: &SharedHttpConnector, url: &str) {
    let opened = connector
        .call(connect_only(url))
        .await
        .expect_err("a connect-only request is never answered");
    assert!(connected(&opened), "{opened:?}");
    assert!(
        !opened.is_io() && !opened.is_timeout(),
        "not retried: {opened:?}"
    );
}

/// A POST to `url`, which must be answered 200; returns what `server` read, which must be it.
async fn post_answered(
    connector: &SharedHttpConnector,
    url: &str,
    server: tokio::task::JoinHandle<String>,
) -> String {
    let response = connector
        .call(post(url, "{\"Key\":1}"))
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
    let seen = server.await.expect("server");
    assert!(seen.starts_with("POST / HTTP/1.1\r\n"), "{seen}");
    seen
}

/// Keeps a connection to `url`, lets what the server sends on it arrive (a close, TLS session
/// tickets), then posts to `url` as [`post_answered`] does.
async fn keep_a_while_then_post(
    connector: &SharedHttpConnector,
    url: &str,
    server: tokio::task::JoinHandle<String>,
) -> String {
    keep(connector, url).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    post_answered(connector, url, server).await
}

#[tokio::test]
async fn a_connect_only_request_sends_nothing_and_the_next_request_takes_its_connection() {
    // One connection accepted, ever: a second would wait unaccepted and time out. The first
    // bytes the server reads on it must be the POST's.
    let (url, server) = serve_answer(ANSWER).await;
    let connector = connector(Some(Duration::from_secs(5)));
    keep(&connector, &url).await;
    let seen = post_answered(&connector, &url, server).await;
    assert!(!seen.contains(CONNECT_ONLY), "{seen}");
}

#[tokio::test]
async fn a_kept_connection_the_server_closed_is_not_used() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        // The kept connection: closed at once, without a byte.
        drop(listener.accept().await.expect("accept").0);
        let (mut socket, _) = listener.accept().await.expect("a second connection");
        let request = read_request(&mut socket).await;
        socket.write_all(ANSWER).await.expect("write");
        request
    });
    let connector = connector(Some(Duration::from_secs(5)));
    keep_a_while_then_post(&connector, &url, server).await;
}

#[tokio::test]
async fn a_connection_kept_for_one_endpoint_is_not_used_for_another() {
    // Holds the kept connection open, never answering, until the test ends.
    let (first, _kept) = serve_silent(Duration::from_secs(10)).await;
    let (second, server) = serve_answer(ANSWER).await;
    let connector = connector(Some(Duration::from_secs(5)));
    keep(&connector, &first).await;
    post_answered(&connector, &second, server).await;
}

/// A TLS 1.3 server's side of the loopback certificate in `tests/fixtures` (`127.0.0.1`, signed
/// by `loopback-root.pem`). rustls sends two session tickets right after the handshake, as most
/// TLS 1.3 servers do.
fn loopback_tls() -> tokio_rustls::TlsAcceptor {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let fixture = |name: &str| format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let cert = CertificateDer::from_pem_file(fixture("loopback-cert.pem")).expect("cert");
    let key = PrivateKeyDer::from_pem_file(fixture("loopback-key.pem")).expect("key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[&rustls::version::TLS13])
    .expect("TLS 1.3")
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .expect("server config");
    assert!(config.send_tls13_tickets > 0, "the server sends tickets");
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// Completes the TLS handshake on `socket`, answers one request with [`ANSWER`] and returns
/// the request.
async fn answer_over_tls(acceptor: tokio_rustls::TlsAcceptor, socket: TcpStream) -> String {
    let mut tls = acceptor.accept(socket).await.expect("handshake");
    let request = read_request(&mut tls).await;
    tls.write_all(ANSWER).await.expect("write");
    tls.flush().await.expect("flush");
    request
}

/// The library's client trusting the loopback root alone.
fn loopback_connector() -> SharedHttpConnector {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let root = CertificateDer::from_pem_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/loopback-root.pem"
    ))
    .expect("root");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root).expect("a usable root");
    let client = Client {
        trust: TrustStore::CompiledIn,
        pool: Arc::new(OnceLock::from(pool(Some(Duration::from_secs(2)), roots))),
    };
    let settings = HttpConnectorSettings::builder()
        .read_timeout(Duration::from_secs(5))
        .build();
    let components = RuntimeComponentsBuilder::for_tests()
        .build()
        .expect("components");
    client.http_connector(&settings, &components)
}

#[tokio::test]
async fn a_kept_tls_connection_is_used_after_the_session_tickets_the_server_sent_unasked() {
    // One connection accepted, ever, as in the plain-text test; here the kept connection has
    // bytes waiting on its socket (the tickets), which TLS takes and which are no answer.
    let acceptor = loopback_tls();
    let (url, server) = serve_one("https", move |socket| answer_over_tls(acceptor, socket)).await;
    let connector = loopback_connector();
    keep_a_while_then_post(&connector, &url, server).await;
}

#[tokio::test]
async fn a_kept_tls_connection_the_server_closed_is_not_used() {
    let acceptor = loopback_tls();
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("https://{}/", listener.local_addr().expect("addr"));
    let server = tokio::spawn(async move {
        // The kept connection: TLS's close_notify right after the handshake, then closed.
        let (socket, _) = listener.accept().await.expect("accept");
        let mut kept = acceptor.accept(socket).await.expect("handshake");
        kept.shutdown().await.expect("close_notify");
        drop(kept);
        let (socket, _) = listener.accept().await.expect("a second connection");
        answer_over_tls(acceptor, socket).await
    });
    let connector = loopback_connector();
    keep_a_while_then_post(&connector, &url, server).await;
}

#[tokio::test]
async fn a_request_made_while_the_kept_connection_is_opening_waits_for_it() {
    // The server holds its side of the TLS handshake until the POST has been made, then
    // answers on that one connection; a second connection would never be accepted, and the
    // POST would time out.
    let acceptor = loopback_tls();
    let (go, wait) = tokio::sync::oneshot::channel::<()>();
    let (url, server) = serve_one("https", move |socket| async move {
        wait.await.expect("the POST was made");
        answer_over_tls(acceptor, socket).await
    })
    .await;
    let connector = loopback_connector();
    let post = async {
        // The connect-only request has started its handshake by now: `join!` polls it first.
        let response = connector.call(post(&url, "{\"Key\":1}"));
        go.send(()).expect("the server waits");
        response.await
    };
    let (_, answered) = tokio::join!(keep(&connector, &url), post);
    assert_eq!(answered.expect("answered").status().as_u16(), 200);
    assert_get_item(&server.await.expect("server"));
}

/// The whole path at cold start, with the library's client: `SessionStore::prepare` connects
/// to DynamoDB without sending anything, and the first DynamoDB request goes out on that
/// connection.
#[tokio::test]
async fn dynamodb_prepare_connects_without_a_request_and_the_first_request_uses_it() {
    use crate::config::Config;
    use crate::session::SessionStore;
    use aws_sdk_dynamodb::config::Credentials;

    let (url, server) = serve_answer(ANSWER).await;
    let sdk = super::super::sdk::loader(&super::super::sdk::Sources::default())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKID", "secret", None, None, "test"))
        .endpoint_url(url.trim_end_matches('/'))
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let config = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "sessions")])
        .expect("config");
    let store = SessionStore::with_dynamodb_client(&config, client.clone()).expect("DynamoDB mode");

    let log = crate::test_log::Log::capture();
    let first = tokio::time::timeout(Duration::from_secs(10), async {
        store.prepare().await;
        client
            .get_item()
            .table_name("sessions")
            .key(
                "_idx",
                aws_sdk_dynamodb::types::AttributeValue::S("an id".into()),
            )
            .send()
            .await
    })
    .await
    .expect("no hang: one connection, accepted once");
    assert!(first.expect("answered").item().is_none());
    let log = log.text();
    assert!(log.contains("DynamoDB client ready, connected"), "{log}");
    assert!(!log.contains("not reached"), "{log}");
    let seen = server.await.expect("server");
    assert_get_item(&seen);
}

/// A server on loopback that answers the first request of its first connection `500
/// InternalServerError` and keeps that connection open, and every other request `200 {}`:
/// its address, and how many connections it has accepted.
async fn serve_a_500_then_ok() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("addr"));
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let first = counted.fetch_add(1, Ordering::SeqCst) == 0;
            tokio::spawn(async move {
                let mut answered = 0;
                loop {
                    let seen = read_request(&mut socket).await;
                    assert_get_item(&seen);
                    let (status, body) = if first && answered == 0 {
                        (
                            "500 Internal Server Error",
                            r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"m"}"#,
                        )
                    } else {
                        ("200 OK", "{}")
                    };
                    answered += 1;
                    let answer = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if socket.write_all(answer.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, accepted)
}

#[tokio::test]
async fn after_a_5xx_the_retry_takes_a_new_connection_and_nothing_is_logged_amiss() {
    let log = crate::test_log::Log::capture();
    let (url, accepted) = serve_a_500_then_ok().await;
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "id", "secret", None, None, "test",
        ))
        .endpoint_url(url)
        .http_client(client(TrustStore::CompiledIn))
        .retry_config(
            aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                .with_max_attempts(2)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .build();
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(config);
    let got = dynamodb
        .get_item()
        .table_name("t")
        .key(
            "_idx",
            aws_sdk_dynamodb::types::AttributeValue::S("a".into()),
        )
        .send()
        .await;
    assert!(got.is_ok(), "{got:?}");
    assert_eq!(
        accepted.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "the connection that answered 500 was closed, the retry opened its own"
    );
    let text = log.text();
    assert!(!text.contains("no connection was found"), "{text}");
}
