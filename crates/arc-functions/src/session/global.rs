//! The process-wide store behind [`read`] and [`write()`], built from the environment on first
//! use, for code that has no store at hand, as `arc.http.session.read` and `write` have none.

use std::sync::{Arc, OnceLock};

use super::{Error, Session, SessionStore};
use crate::config::{self, Config};

/// The store and the configuration it was built from: the handler wrapper also reads the
/// latter's HTTP settings.
type Global = (Arc<SessionStore>, Arc<Config>);

static GLOBAL: OnceLock<Result<Global, config::Error>> = OnceLock::new();

impl SessionStore {
    /// The process-wide store, built from the environment on the first call, with the same
    /// error on every later call when the environment is invalid.
    pub(crate) fn global() -> Result<Arc<SessionStore>, Error> {
        Self::global_with_config().map(|(store, _)| store)
    }

    /// [`SessionStore::global`] and the configuration read with it.
    pub(crate) fn global_with_config() -> Result<Global, Error> {
        Self::global_parts().map_err(Error::Config)
    }

    /// [`SessionStore::global_with_config`], its only error the configuration's.
    pub(crate) fn global_parts() -> Result<Global, config::Error> {
        GLOBAL
            .get_or_init(|| {
                let config = Config::from_env()?;
                Ok((Arc::new(Self::announced(&config)), Arc::new(config)))
            })
            .clone()
    }

    /// A store for `config`, announcing the development secret (once per store, so once per
    /// cold start).
    fn announced(config: &Config) -> Self {
        if config.development_secret {
            tracing::warn!(
                "ARC_APP_SECRET is not set: sessions use the public development secret (ARC_ENV=testing); set ARC_APP_SECRET before deploying"
            );
        }
        Self::new(config)
    }
}

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
    SessionStore::global()?.read(request).await
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
    SessionStore::global()?.write(session).await
}
