//! # arc-functions
//!
//! Architect-style HTTP sessions for AWS Lambda in Rust: a port of the session layer of
//! `@architect/functions`, safer by default and much faster.
//!
//! One small binary per route. [`http::async_handler`] hands your function a normalized
//! [`http::Request`] whose `session` is already read, and turns the [`http::Response`] you
//! return (the original's shorthand: `html`, `json`, `location`, `session`, …) into the HTTP
//! response, writing the session back as an `HttpOnly` cookie named `_idx`.
//!
//! ```no_run
//! use arc_functions::http::{self, Request, Response};
//!
//! async fn counter(req: Request) -> http::Result<Response> {
//!     let count = req.session.get::<u64>("count")?.unwrap_or(0) + 1;
//!     Ok(Response::redirect("/").session(serde_json::json!({ "count": count })))
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), lambda_http::Error> {
//!     lambda_http::run(http::async_handler(counter)).await
//! }
//! ```
//!
//! ## Sessions
//!
//! Where sessions live is decided once, at cold start, by `SESSION_TABLE_NAME`:
//!
//! - unset or `jwe`: the session is **sealed inside the cookie**, a compact JWE encrypted with
//!   XChaCha20-Poly1305 under a key derived (HKDF-SHA256) from `ARC_APP_SECRET`. Nobody without
//!   the secret can read or change it; the header is pinned, so no weaker algorithm is accepted.
//! - anything else: the name of a **DynamoDB table** (partition key `_idx`, TTL attribute
//!   `_ttl`). The cookie carries only a random id and its HMAC-SHA256 signature; the data stay
//!   on the server. A request without a session cookie costs no DynamoDB call.
//!
//! Outside handlers, [`http::session::read`] and [`http::session::write`] do the same as the
//! original's `arc.http.session.read` and `write`.
//!
//! A cookie that is missing, garbled, tampered with, sealed under another secret, expired or
//! issued in the future reads as an **empty session**, never as an error page.
//!
//! ## Expiry
//!
//! A session lives `ARC_SESSION_TTL` seconds (one week by default) **after its last write**:
//! every write renews the cookie's `Max-Age`, the sealed `exp` claim and the DynamoDB `_ttl`.
//! The expiry is checked on every read; DynamoDB's own TTL deletion, which runs days late, is
//! only housekeeping. `ARC_SESSION_MAX_AGE` optionally caps a session's whole life, counted
//! from its creation, however active it stays.
//!
//! ## Environment
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `SESSION_TABLE_NAME` (alias `ARC_SESSION_TABLE_NAME`) | `jwe` or unset: sealed cookie; else the DynamoDB table | sealed cookie |
//! | `ARC_APP_SECRET` | keys the seal and the DynamoDB cookie signature; 32 bytes or more | required unless `ARC_ENV=testing` |
//! | `ARC_APP_SECRET_PREVIOUS` | older secrets, comma-separated, that still open sessions | none |
//! | `ARC_ENV` | `testing`, `staging` or `production` | unset: treated as `production` |
//! | `ARC_SESSION_TTL` | idle lifetime in seconds | `604800` |
//! | `ARC_SESSION_MAX_AGE` | absolute lifetime in seconds | none |
//! | `ARC_SESSION_DOMAIN` (alias `SESSION_DOMAIN`) | cookie `Domain` | none |
//! | `ARC_SESSION_SAME_SITE` | `Strict`, `Lax` or `None` | `Lax` |
//! | `ARC_SESSION_HOST_COOKIE` | `true`: the cookie is `__Host-_idx` | `false` |
//!
//! An invalid value stops the function at cold start with a message naming the variable. Only
//! with `ARC_ENV=testing` set explicitly and no `ARC_APP_SECRET` is a fixed, public
//! development secret used (and a warning logged), so that route binaries running side by side
//! share sessions; anywhere else, an unset `ARC_ENV` included, a missing secret stops the
//! function. Cookies carry `Secure` everywhere but in `testing`.
//! DynamoDB mode reads the standard AWS environment (`AWS_REGION`, credentials,
//! `AWS_ENDPOINT_URL_DYNAMODB` for a local server).
//!
//! ## Modules
//!
//! - [`http`]: the handler wrapper, request, response and [`http::session`].
//! - [`config`]: the typed configuration read at cold start.

pub mod config;
pub mod http;
mod keys;
pub mod session;
