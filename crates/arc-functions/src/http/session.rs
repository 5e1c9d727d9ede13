//! Sessions: a JSON object per visitor, read from the `_idx` cookie and written back as a
//! `Set-Cookie` value.
//!
//! The provider is chosen once, at cold start, from `SESSION_TABLE_NAME`: unset or `jwe` seals
//! the session inside the cookie; any other value names a DynamoDB table and the cookie then
//! carries only a signed id. A [`SessionStore`] built from a [`Config`](crate::config::Config)
//! reads and writes them; [`read`] and [`write()`] do the same with a store built from the
//! environment on first use, as `arc.http.session.read` and `write` do.
//!
//! A missing, garbled, tampered, expired or foreign cookie reads as an empty session, never as
//! an error: only a broken configuration or an unreachable DynamoDB table is an [`Error`].
//!
//! Two keys of a session are the library's own: `_flash` holds flash messages
//! ([`Session::flash`]) and `_csrf` the value CSRF tokens are bound to.

pub use crate::session::*;

use crate::runtime::Process;

/// Reads the session of a request with the process-wide store, built from the environment on
/// first use: `arc.http.session.read`.
///
/// # Errors
///
/// [`Error::Config`] for an invalid environment, [`Error::DynamoDb`] when the table cannot be
/// read. A missing or bad cookie is an empty session, not an error.
///
/// # Examples
///
/// ```no_run
/// // With ARC_APP_SECRET (or ARC_ENV=testing) in the environment:
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let request = lambda_http::http::Request::builder()
///     .header("cookie", "_idx=garbage")
///     .body(lambda_http::Body::Empty)?;
/// let session = arc_functions::http::session::read(&request).await?;
/// assert!(session.is_empty());
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub async fn read(request: &lambda_http::Request) -> Result<Session, Error> {
    Process::get().store()?.read(request).await
}

/// Writes a session with the process-wide store and returns the `Set-Cookie` value:
/// `arc.http.session.write`.
///
/// # Errors
///
/// As [`SessionStore::write`], plus [`Error::Config`] for an invalid environment.
///
/// # Examples
///
/// ```no_run
/// // With ARC_APP_SECRET (or ARC_ENV=testing) in the environment:
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let session = arc_functions::http::session::Session::try_from(serde_json::json!({"count": 1}))?;
/// let set_cookie = arc_functions::http::session::write(&session).await?;
/// assert!(set_cookie.contains("HttpOnly"));
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// # })?;
/// # Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
/// ```
pub async fn write(session: &Session) -> Result<String, Error> {
    Process::get().store()?.write(session).await
}
