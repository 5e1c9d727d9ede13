//! The groups of [`Config`](super::Config), one per concern.

use super::{SameSite, Secret};

/// Where sessions are kept, chosen by `SESSION_TABLE_NAME`.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, Storage};
///
/// let config = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "bigsesh-session")])?;
/// assert_eq!(config.storage, Storage::DynamoDb { table: "bigsesh-session".into() });
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Storage {
    /// The session is sealed inside the `_idx` cookie (`SESSION_TABLE_NAME` unset or `jwe`).
    SealedCookie,
    /// The session lives in this DynamoDB table; the cookie holds a signed id.
    DynamoDb {
        /// The table's physical name.
        table: String,
    },
}

/// The secrets, from `ARC_APP_SECRET` (or `ARC_APP_SECRET_ARN`) and `ARC_APP_SECRET_PREVIOUS`.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, Secret};
///
/// let config = Config::from_vars([
///     ("ARC_ENV", "production"),
///     ("ARC_APP_SECRET", "  the current secret: thirty-two bytes or more\n"),
///     ("ARC_APP_SECRET_PREVIOUS", "the secret it replaced: also 32 bytes long,,"),
/// ])?;
/// // Surrounding whitespace is not part of a secret, and a blank entry is no secret.
/// assert_eq!(config.secrets.current, Secret::new("the current secret: thirty-two bytes or more"));
/// assert_eq!(config.secrets.previous, [Secret::new("the secret it replaced: also 32 bytes long")]);
/// assert!(!config.secrets.development);
///
/// let testing = Config::from_vars([("ARC_ENV", "testing")])?;
/// assert!(testing.secrets.development);
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Secrets {
    /// The current secret: it seals and signs.
    pub current: Secret,
    /// Older secrets that still open and verify, newest first.
    pub previous: Vec<Secret>,
    /// True when [`DEVELOPMENT_SECRET`](super::DEVELOPMENT_SECRET) is in use.
    pub development: bool,
}

/// How long sessions live, from `ARC_SESSION_TTL` and `ARC_SESSION_MAX_AGE`.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, DEFAULT_TTL};
///
/// let config = Config::from_vars([
///     ("ARC_ENV", "testing"),
///     ("ARC_SESSION_TTL", "3600"),
///     ("ARC_SESSION_MAX_AGE", "86400"),
/// ])?;
/// assert_eq!(config.lifetime.ttl, 3600);
/// assert_eq!(config.lifetime.max_age, Some(86400));
///
/// // Architect's own variable is read too.
/// let architect = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TTL", "60")])?;
/// assert_eq!(architect.lifetime.ttl, 60);
///
/// let unset = Config::from_vars([("ARC_ENV", "testing")])?;
/// assert_eq!(unset.lifetime.ttl, DEFAULT_TTL);
/// assert_eq!(unset.lifetime.max_age, None);
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lifetime {
    /// Idle lifetime in seconds.
    pub ttl: u64,
    /// Absolute lifetime in seconds since the session was created, if any.
    pub max_age: Option<u64>,
}

/// The session cookie's attributes, from `ARC_SESSION_DOMAIN`, `ARC_SESSION_SAME_SITE` and
/// `ARC_SESSION_HOST_COOKIE`.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, SameSite};
///
/// let config = Config::from_vars([
///     ("ARC_ENV", "testing"),
///     ("ARC_SESSION_DOMAIN", "example.com"),
///     ("ARC_SESSION_SAME_SITE", "STRICT"),
/// ])?;
/// assert_eq!(config.cookie.domain.as_deref(), Some("example.com"));
/// assert_eq!(config.cookie.same_site, SameSite::Strict);
/// assert!(!config.cookie.host_only);
///
/// let host = Config::from_vars([("ARC_ENV", "testing"), ("ARC_SESSION_HOST_COOKIE", "true")])?;
/// assert!(host.cookie.host_only);
/// assert_eq!(host.cookie.domain, None);
/// assert_eq!(host.cookie.same_site, SameSite::Lax);
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Cookie {
    /// `Domain`, if any.
    pub domain: Option<String>,
    /// `SameSite`.
    pub same_site: SameSite,
    /// Whether the cookie is named `__Host-_idx`, which browsers accept only with `Secure`,
    /// `Path=/` and no `Domain`, so that no other subdomain can plant one.
    pub host_only: bool,
}

/// What the HTTP wrapper does with responses and links.
///
/// # Examples
///
/// ```
/// use arc_functions::config::Config;
///
/// let secret = ("ARC_APP_SECRET", "a secret that is at least thirty-two bytes long");
/// let staging = Config::from_vars([("ARC_ENV", "staging"), secret])?;
/// assert!(staging.http.compression);
/// assert_eq!(staging.http.stage.as_deref(), Some("staging"));
///
/// // Run locally (`ARC_LOCAL`), links get no stage.
/// let local = Config::from_vars([
///     ("ARC_ENV", "staging"),
///     ("ARC_LOCAL", "1"),
///     ("ARC_HTTP_COMPRESSION", "off"),
///     secret,
/// ])?;
/// assert!(!local.http.compression);
/// assert_eq!(local.http.stage, None);
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Http {
    /// `ARC_HTTP_COMPRESSION`: whether responses may be compressed (brotli or gzip, as the
    /// request accepts).
    pub compression: bool,
    /// The API Gateway stage [`url`](crate::http::url()) puts before a path, as Architect's
    /// helper does: `ARC_ENV` when it is `staging` or `production`, set explicitly, and
    /// `ARC_LOCAL` is not set; else `None`.
    pub stage: Option<String>,
}

/// WebSocket APIs: where to reach connections, and who may open them.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, DEFAULT_WS_MAX_CONNECTIONS};
///
/// let config = Config::from_vars([
///     ("ARC_ENV", "testing"),
///     ("ARC_WSS_URL", "wss://abc123.execute-api.us-east-1.amazonaws.com/production/"),
///     ("ARC_WS_ORIGINS", "HTTPS://App.Example.com:443, http://localhost:3333"),
///     ("ARC_WS_MAX_CONNECTIONS", "3"),
/// ])?;
/// assert_eq!(
///     config.ws.url.as_deref(),
///     Some("wss://abc123.execute-api.us-east-1.amazonaws.com/production"),
/// );
/// assert_eq!(config.ws.endpoint, None);
/// // Written as browsers write `Origin`, so they compare equal.
/// assert_eq!(config.ws.origins, ["https://app.example.com", "http://localhost:3333"]);
/// assert_eq!(config.ws.max_connections, 3);
///
/// let unset = Config::from_vars([("ARC_ENV", "testing")])?;
/// assert_eq!(unset.ws.url, None);
/// assert!(unset.ws.origins.is_empty());
/// assert_eq!(unset.ws.max_connections, DEFAULT_WS_MAX_CONNECTIONS);
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WebSocket {
    /// `ARC_WSS_URL`, Architect's variable: the WebSocket API's URL, which browsers open
    /// (`wss://{api}.execute-api.{region}.amazonaws.com/{stage}`) and through which, read as
    /// `https://`, `ws::send` reaches connections outside a WebSocket handler.
    pub url: Option<String>,
    /// `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`: when set, every management API call goes
    /// there, inside WebSocket handlers too (a local emulator, a VPC endpoint).
    pub endpoint: Option<String>,
    /// `ARC_WS_ORIGINS`: the web origins (`https://app.example.com`) whose pages may open a
    /// socket that takes its session from the cookie, besides the socket's own origin. A
    /// socket ticket needs no entry: it is honoured from the origin it was issued for.
    pub origins: Vec<String>,
    /// `ARC_WS_MAX_CONNECTIONS`: how many open WebSocket connections one session may have;
    /// tying one more closes the oldest.
    pub max_connections: usize,
}

/// Sign-in throttling.
///
/// # Examples
///
/// ```
/// use arc_functions::config::Config;
///
/// let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_THROTTLE_TABLE_NAME", "sign-ins")])?;
/// assert_eq!(config.throttle.table.as_deref(), Some("sign-ins"));
///
/// let unset = Config::from_vars([("ARC_ENV", "testing")])?;
/// assert_eq!(unset.throttle.table, None);
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Throttle {
    /// `ARC_THROTTLE_TABLE_NAME`: where [`Throttle`](crate::throttle::Throttle) counts
    /// sign-in attempts when sessions are sealed in the cookie (a table with the session
    /// table's key, `_idx`). In DynamoDB mode the session table is used unless this names
    /// another.
    pub table: Option<String>,
}

/// An origin as browsers serialize it in `Origin`: scheme and host in lower case, a default
/// port left out, no trailing `/`.
///
/// # Examples
///
/// ```
/// use arc_functions::config::normalize_origin;
/// assert_eq!(normalize_origin("HTTPS://App.Example.com:443/"), "https://app.example.com");
/// assert_eq!(normalize_origin("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
/// ```
pub fn normalize_origin(origin: &str) -> String {
    let origin = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    for (scheme, port) in [("https://", ":443"), ("http://", ":80")] {
        if origin.starts_with(scheme)
            && let Some(bare) = origin.strip_suffix(port)
        {
            return bare.to_owned();
        }
    }
    origin
}
