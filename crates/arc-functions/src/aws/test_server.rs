//! A local stand-in for an AWS JSON service, for the tests of the calls made without the SDK:
//! the faults a real one cannot be made to give (a 500, throttling, an answer of the wrong
//! shape) on demand.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The environment of a Lambda function, as the tests of the calls sign with it: temporary
/// credentials (AWS's documentation example key), `eu-west-1`.
pub(crate) const LAMBDA: &[(&str, &str)] = &[
    ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
    (
        "AWS_SECRET_ACCESS_KEY",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    ),
    ("AWS_SESSION_TOKEN", "the-session-token"),
    ("AWS_REGION", "eu-west-1"),
];

/// An AWS service that answers each request with the next of `answers` (status and body;
/// the last one again once they run out) and keeps the requests' text.
pub(crate) struct Server {
    pub(crate) endpoint: String,
    pub(crate) requests: Arc<std::sync::Mutex<Vec<String>>>,
    pub(crate) served: Arc<AtomicUsize>,
    /// Connections accepted.
    pub(crate) connections: Arc<AtomicUsize>,
}

pub(crate) async fn server(answers: Vec<(u16, &'static str)>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bound");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let served = Arc::new(AtomicUsize::new(0));
    let connections = Arc::new(AtomicUsize::new(0));
    let (kept, count, accepted) = (
        Arc::clone(&requests),
        Arc::clone(&served),
        Arc::clone(&connections),
    );
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            accepted.fetch_add(1, Ordering::SeqCst);
            let (kept, count, answers) = (Arc::clone(&kept), Arc::clone(&count), answers.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    let mut chunk = [0; 4096];
                    let Ok(n) = socket.read(&mut chunk).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).into_owned();
                    let Some(end) = text.find("\r\n\r\n") else {
                        continue;
                    };
                    let length: usize = text[..end]
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if buf.len() < end + 4 + length {
                        continue;
                    }
                    kept.lock()
                        .expect("lock")
                        .push(text[..end + 4 + length].to_owned());
                    buf.drain(..end + 4 + length);
                    let i = count.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = answers[i.min(answers.len() - 1)];
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    if socket.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Server {
        endpoint,
        requests,
        served,
        connections,
    }
}

/// Checks that `request` (as [`Server::requests`] keeps it) is a JSON call to `target`
/// (`dynamodb_20120810.getitem`, in lower case) signed for `service` in `eu-west-1` with the
/// tests' credentials (`AKIDEXAMPLE`, session token `the-session-token`).
pub(crate) fn assert_signed_call(request: &str, target: &str, service: &str) {
    let lower = request.to_ascii_lowercase();
    assert!(lower.starts_with("post / http/1.1\r\n"), "{request}");
    assert!(
        lower.contains(&format!("x-amz-target: {target}\r\n")),
        "{request}"
    );
    assert!(
        request.contains("Credential=AKIDEXAMPLE/")
            && request.contains(&format!("/eu-west-1/{service}/aws4_request")),
        "{request}"
    );
    assert!(
        lower.contains("x-amz-security-token: the-session-token"),
        "{request}"
    );
}

/// The URL of a loopback port nobody listens on: connecting is refused.
pub(crate) fn nobody_listening() -> &'static str {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bound");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}").leak()
}
