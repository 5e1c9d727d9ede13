//! What `benches/sessions.rs` times and `benches/counts.rs` counts: the same operations, built
//! the same way, so a count and a time always describe one piece of work.

#![allow(dead_code)] // each bench uses its part

use arc_functions::config::Config;
use arc_functions::http::session::{Session, SessionStore};
use arc_functions::http::{self, Request, Response};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde_json::{Value, json};
use std::sync::Arc;

pub(crate) const SECRET: &str = "benchmark secret: at least thirty-two bytes long";
pub(crate) const V2: &str = include_str!("../../tests/fixtures/apigw_v2_request.json");

/// The session sizes measured: 2.8 KB is about the largest that still fits the 4,096-byte
/// cookie limit once sealed and base64-encoded.
pub(crate) const SIZES: [(&str, usize); 3] = [("100B", 100), ("1KB", 1_000), ("2.8KB", 2_800)];

/// `{user, count, pad}` whose JSON text is exactly `len` bytes: the same object the Node side
/// builds, so both seal the same plaintext.
pub(crate) fn session_of(len: usize) -> Value {
    let base = json!({"user": "ann", "count": 42, "pad": ""})
        .to_string()
        .len();
    json!({"user": "ann", "count": 42, "pad": "x".repeat(len - base)})
}

pub(crate) fn store() -> Arc<SessionStore> {
    let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_APP_SECRET", SECRET)])
        .expect("valid config");
    Arc::new(SessionStore::new(&config))
}

pub(crate) fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// The `_idx=...` pair of a `Set-Cookie` value, as a browser sends it back. Found by a SIMD
/// search, as the library finds `;` in a `Cookie` header: the browser's part of a round trip
/// is not what the round trip measures (`str::split` took 4 % of a 2.8 KB one's instructions).
pub(crate) fn cookie_pair(set_cookie: &str) -> &str {
    memchr::memchr(b';', set_cookie.as_bytes()).map_or(set_cookie, |end| &set_cookie[..end])
}

/// A request carrying the cookie of `set_cookie`, as the browser sends it back.
pub(crate) fn request_with(set_cookie: &str) -> lambda_http::Request {
    lambda_http::http::Request::builder()
        .header("cookie", cookie_pair(set_cookie))
        .body(lambda_http::Body::Empty)
        .expect("request")
}

/// One sealed round trip: write the session, then read it back from a request carrying the
/// cookie the write gave.
pub(crate) async fn round_trip(store: &SessionStore, session: &Session) -> Session {
    let set_cookie = store.write(session).await.expect("write");
    store.read(&request_with(&set_cookie)).await.expect("read")
}

/// The AEAD alone: the cost no sealed cookie can go below.
pub(crate) struct Floor {
    cipher: XChaCha20Poly1305,
    /// Fixed: the floor is the AEAD alone, not the OS random source the store also calls.
    nonce: XNonce,
    /// The same length as the store's protected header, its additional data.
    aad: [u8; 62],
}

impl Floor {
    pub(crate) fn new() -> Self {
        Self {
            cipher: XChaCha20Poly1305::new(&[7u8; 32].into()),
            nonce: XNonce::from([9u8; 24]),
            aad: [b'h'; 62],
        }
    }

    /// The plaintext the store seals for a session of `len` bytes: the claims around it.
    pub(crate) fn plaintext(len: usize) -> Vec<u8> {
        json!({"iat": 1_790_000_000u64, "exp": 1_790_604_800u64,
            "ctm": 1_790_000_000u64, "ses": session_of(len)})
        .to_string()
        .into_bytes()
    }

    /// Seals `plaintext` and opens it again.
    pub(crate) fn seal_open(&self, plaintext: &[u8]) -> Vec<u8> {
        let sealed = self
            .cipher
            .encrypt(
                &self.nonce,
                Payload {
                    msg: plaintext,
                    aad: &self.aad,
                },
            )
            .expect("seal");
        self.cipher
            .decrypt(
                &self.nonce,
                Payload {
                    msg: &sealed,
                    aad: &self.aad,
                },
            )
            .expect("open")
    }
}

/// The Node benchmark's handler too: read the count, write `{user, count + 1}`, redirect.
pub(crate) async fn count(req: Request) -> http::Result<Response> {
    let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
    Ok(Response::redirect("/").session(json!({"user": "ann", "count": count})))
}

/// The v2 fixture's text with a session `{user: ann, count: 41}` sealed by `store` added to
/// its cookies, as API Gateway v2 sends them.
pub(crate) fn v2_event(rt: &tokio::runtime::Runtime, store: &SessionStore) -> String {
    let session = Session::try_from(json!({"user": "ann", "count": 41})).expect("an object");
    let set_cookie = rt.block_on(store.write(&session)).expect("write");
    let mut event: Value = serde_json::from_str(V2).expect("fixture is JSON");
    event["cookies"]
        .as_array_mut()
        .expect("cookies array")
        .push(cookie_pair(&set_cookie).into());
    event.to_string()
}

/// A v2 event's text read into the request a handler is given, as `http::run` reads it
/// (`testing::read_request`): the parts a handler reads in one pass, lambda_http's request
/// left to be made when asked for.
pub(crate) fn read_v2(event: impl Into<Box<str>>) -> arc_functions::http::Request {
    arc_functions::testing::read_request(event).expect("the library reads the event")
}
