//! Configuration, read once at cold start into a typed [`Config`].
//!
//! Nothing below this module reads `std::env`: [`Config::from_env`] is called once (by
//! [`crate::http::async_handler`] or the first session call) and the value is passed down.
//!
//! # The secret policy
//!
//! The public [`DEVELOPMENT_SECRET`] (and cookies without `Secure`) exist only when
//! `ARC_ENV=testing` is set explicitly. Anywhere else, an unset `ARC_ENV` included,
//! `ARC_APP_SECRET` must be set, at least [`MIN_SECRET_LEN`] bytes long and not the development
//! secret, or the function does not start. Nothing is inferred from the environment Lambda
//! provides: `AWS_EXECUTION_ENV` is not set for the OS-only runtimes Rust runs on, and local
//! emulators set the same `AWS_LAMBDA_*` variables Lambda does.
//!
//! Every secret, `ARC_APP_SECRET` and each entry of `ARC_APP_SECRET_PREVIOUS`, is read the same
//! way: leading and trailing whitespace (spaces, tabs, newlines) is removed, the rest is used
//! byte for byte. So a trailing newline a secrets store adds changes nothing, and a secret keeps
//! its key when it moves from `ARC_APP_SECRET` to `ARC_APP_SECRET_PREVIOUS`. Since the previous
//! secrets are comma-separated, a comma in `ARC_APP_SECRET` is refused.

mod error;
mod groups;
mod secret;
mod tables;

use std::collections::HashMap;
use std::fmt;

pub use error::Error;
pub use groups::{Cookie, Http, Lifetime, Secrets, Storage, Throttle, WebSocket, normalize_origin};
pub use secret::Secret;
use secret::normalize_secret;
use tables::resolve_tables;

/// The development secret used when `ARC_ENV=testing` is set and `ARC_APP_SECRET` is not.
///
/// It is public, so it only exists so that separately running route binaries share sessions on
/// a developer's machine. Outside `testing` it is refused, even when set explicitly.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, DEVELOPMENT_SECRET, Error, Secret};
///
/// let testing = Config::from_vars([("ARC_ENV", "testing")])?;
/// assert_eq!(testing.secrets.current, Secret::new(DEVELOPMENT_SECRET));
///
/// let production = Config::from_vars([("ARC_ENV", "production"), ("ARC_APP_SECRET", DEVELOPMENT_SECRET)]);
/// assert_eq!(production.unwrap_err(), Error::DevelopmentSecret { name: "ARC_APP_SECRET" });
/// # Ok::<(), Error>(())
/// ```
pub const DEVELOPMENT_SECRET: &str = "arc-functions development secret: never use in production";

/// The shortest secret accepted outside `testing`, in bytes.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, Error, MIN_SECRET_LEN};
///
/// let short = "s".repeat(MIN_SECRET_LEN - 1);
/// let err = Config::from_vars([("ARC_APP_SECRET", short.as_str())]).unwrap_err();
/// assert_eq!(err, Error::ShortSecret { name: "ARC_APP_SECRET", len: MIN_SECRET_LEN - 1 });
///
/// let long_enough = "s".repeat(MIN_SECRET_LEN);
/// assert!(Config::from_vars([("ARC_APP_SECRET", long_enough.as_str())]).is_ok());
/// ```
pub const MIN_SECRET_LEN: usize = 32;

/// The default idle lifetime of a session: one week, in seconds.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, DEFAULT_TTL};
///
/// assert_eq!(DEFAULT_TTL, 7 * 24 * 60 * 60);
/// let config = Config::from_vars([("ARC_ENV", "testing")])?;
/// assert_eq!(config.lifetime.ttl, DEFAULT_TTL);
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
pub const DEFAULT_TTL: u64 = 604_800;

/// The Architect environment, from `ARC_ENV`.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{ArcEnv, Config};
///
/// let config = Config::from_vars([("ARC_ENV", "testing")])?;
/// assert_eq!(config.env, ArcEnv::Testing);
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArcEnv {
    /// Local development and tests, only when `ARC_ENV=testing` is set: cookies lose `Secure`
    /// and an unset secret means the public development secret.
    Testing,
    /// A deployed staging stack.
    Staging,
    /// A deployed production stack; also what an unset `ARC_ENV` means.
    Production,
}

/// The cookie's `SameSite` attribute, from `ARC_SESSION_SAME_SITE`.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, SameSite};
///
/// let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_SESSION_SAME_SITE", "strict")])?;
/// assert_eq!(config.cookie.same_site, SameSite::Strict);
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SameSite {
    /// Sent only on same-site requests.
    Strict,
    /// Sent on same-site requests and top-level navigations (the default).
    Lax,
    /// Sent everywhere; browsers then require `Secure`.
    None,
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        })
    }
}

/// Everything the session layer needs, read once at cold start. The guide's Configuration
/// chapter (`docs/11-configuration.md` in the repository) says more of each; a test keeps both
/// tables to what this module reads.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `SESSION_TABLE_NAME` (alias `ARC_SESSION_TABLE_NAME`) | `jwe` or unset: sealed cookie; else a DynamoDB table | sealed cookie |
/// | `ARC_APP_SECRET` | keys the cookie seal and the DynamoDB cookie signature | required, but for the development secret in `testing` |
/// | `ARC_APP_SECRET_ARN` | instead of `ARC_APP_SECRET`: a Secrets Manager secret read by [`Config::load`] at cold start | none |
/// | `ARC_APP_SECRET_PREVIOUS` | older secrets, comma-separated, that still open cookies | none |
/// | `ARC_ENV` | `testing`, `staging` or `production` | unset: treated as `production` |
/// | `ARC_SESSION_TTL` (alias `SESSION_TTL`, as Architect sets it) | idle lifetime in seconds | 604800 |
/// | `ARC_SESSION_MAX_AGE` | absolute lifetime in seconds since the session was created | none |
/// | `ARC_SESSION_DOMAIN` (alias `SESSION_DOMAIN`) | cookie `Domain` | none |
/// | `ARC_SESSION_SAME_SITE` | `Strict`, `Lax` or `None`, any case | `Lax` |
/// | `ARC_SESSION_HOST_COOKIE` | `true`: name the cookie `__Host-_idx` (always `Secure`, no `Domain`) | `false` |
/// | `ARC_HTTP_COMPRESSION` | `on` or `off` (also `true`/`false`, `1`/`0`): compress responses the request accepts compressed | `on` |
/// | `ARC_LOCAL` | any non-empty value: running locally, so [`url`](crate::http::url()) adds no stage | unset |
/// | `ARC_WSS_URL` | the WebSocket API's URL | none |
/// | `ARC_WS_ORIGINS` | origins whose pages may open a socket with the cookie | none |
/// | `ARC_WS_MAX_CONNECTIONS` | open WebSocket connections per session | 10 |
/// | `ARC_THROTTLE_TABLE_NAME` | where [`Throttle`](crate::throttle::Throttle) counts attempts | the session table |
/// | `ARC_STACK_NAME` | Architect's stack: table names may be logical, resolved through SSM by [`Config::load`] | unset |
///
/// # Examples
///
/// ```
/// use arc_functions::config::{ArcEnv, Config};
///
/// let config = Config::from_vars([
///     ("ARC_ENV", "production"),
///     ("ARC_APP_SECRET", "a secret that is at least thirty-two bytes long"),
///     ("ARC_SESSION_TTL", "3600"),
/// ])?;
/// assert_eq!(config.env, ArcEnv::Production);
/// assert_eq!(config.lifetime.ttl, 3600);
/// assert!(config.secure());
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// The Architect environment.
    pub env: ArcEnv,
    /// Where sessions are kept.
    pub storage: Storage,
    /// The secrets that seal and sign.
    pub secrets: Secrets,
    /// How long sessions live.
    pub lifetime: Lifetime,
    /// The session cookie's attributes.
    pub cookie: Cookie,
    /// What the HTTP wrapper does with responses and links.
    pub http: Http,
    /// WebSocket APIs: where to reach connections, and who may open them.
    pub ws: WebSocket,
    /// Sign-in throttling.
    pub throttle: Throttle,
}

/// How many WebSocket connections a session keeps when `ARC_WS_MAX_CONNECTIONS` is unset: a
/// generous number of tabs, and a bound on every push's fan-out and on the session's index
/// item.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, DEFAULT_WS_MAX_CONNECTIONS};
///
/// let config = Config::from_vars([("ARC_ENV", "testing")])?;
/// assert_eq!(config.ws.max_connections, DEFAULT_WS_MAX_CONNECTIONS);
/// assert_eq!(DEFAULT_WS_MAX_CONNECTIONS, 10);
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
pub const DEFAULT_WS_MAX_CONNECTIONS: usize = 10;

/// An `http` or `https` origin with a host and no path, as browsers write it in `Origin`.
fn web_origin(value: &str) -> Result<String, Error> {
    let origin = normalize_origin(value);
    let host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    match host {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ', '@']) => Ok(origin),
        _ => Err(Error::WsOrigin(value.to_owned())),
    }
}

/// A WebSocket or HTTP URL with a host, as given but for a trailing `/` (the SDK adds
/// `/@connections/...` after the stage); plain `ws://` or `http://` only in `testing`.
fn websocket_api_url(name: &'static str, value: &str, testing: bool) -> Result<String, Error> {
    let bad = || Error::WsUrl {
        name,
        value: value.to_owned(),
    };
    let (scheme, rest) = value.split_once("://").ok_or_else(bad)?;
    if !matches!(
        scheme.to_ascii_lowercase().as_str(),
        "wss" | "https" | "ws" | "http"
    ) {
        return Err(bad());
    }
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() || rest.starts_with('/') || rest.chars().any(char::is_whitespace) {
        return Err(bad());
    }
    if !testing && matches!(scheme.to_ascii_lowercase().as_str(), "ws" | "http") {
        return Err(Error::PlaintextEndpoint {
            name,
            value: value.to_owned(),
        });
    }
    Ok(format!("{scheme}://{rest}"))
}

/// Architect's `url()` rule (`src/http/helpers/url.js`): the stage is `ARC_ENV` when that is
/// exactly `staging` or `production` and `ARC_LOCAL` is unset or empty (any other value, even
/// `false`, means local, as JavaScript's truthiness has it).
fn url_stage(arc_env: Option<&str>, arc_local: Option<&str>) -> Option<String> {
    let local = arc_local.is_some_and(|v| !v.is_empty());
    match arc_env {
        Some(env @ ("staging" | "production")) if !local => Some(env.to_owned()),
        _ => None,
    }
}

/// [`Config::stage`] from the process environment alone, for [`crate::http::url()`], which has no
/// configuration at hand. Unlike [`Config::from_env`] it cannot fail: Architect's helper only
/// compares `ARC_ENV` with two names.
pub(crate) fn stage_from_env() -> Option<String> {
    url_stage(
        std::env::var("ARC_ENV").ok().as_deref().map(str::trim),
        std::env::var("ARC_LOCAL").ok().as_deref(),
    )
}

impl Config {
    /// Reads the configuration from the process environment.
    ///
    /// # Errors
    ///
    /// [`Error`] when a variable holds a value it does not accept, or when the secret policy
    /// is not met (see [`Config::from_vars`]).
    ///
    /// # Examples
    ///
    /// ```
    /// // The doctest runs without ARC_ENV or ARC_APP_SECRET: that is refused.
    /// # if std::env::var_os("ARC_ENV").is_none() && std::env::var_os("ARC_APP_SECRET").is_none() {
    /// let err = arc_functions::config::Config::from_env().unwrap_err();
    /// assert!(err.to_string().starts_with("ARC_APP_SECRET is not set and ARC_ENV is unset"));
    /// # }
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        Self::load(std::env::vars())
    }

    /// Reads the configuration from `vars` as [`Config::from_vars`] does, after reading the app
    /// secret from Secrets Manager when `ARC_APP_SECRET_ARN` names one (its ARN or name): the
    /// `AWSCURRENT` version becomes `ARC_APP_SECRET`, and `AWSPREVIOUS`, when the secret has
    /// one, the first of `ARC_APP_SECRET_PREVIOUS` (before any given there), so a rotation in
    /// Secrets Manager signs nobody out. The fetch uses the standard AWS environment
    /// (credentials, region, `AWS_ENDPOINT_URL_SECRETS_MANAGER`), blocks at most five seconds,
    /// and happens only here, at cold start; without `ARC_APP_SECRET_ARN` nothing is fetched
    /// and no AWS configuration is loaded. [`Config::from_env`] is `load` on the process's
    /// environment.
    ///
    /// **Architect's environment** (feature `architect`). When `ARC_STACK_NAME` is set
    /// (Architect deploys every function with it), a table variable (`SESSION_TABLE_NAME`, `ARC_SESSION_TABLE_NAME`,
    /// `ARC_THROTTLE_TABLE_NAME`) may hold the table's logical name from `app.arc`: it is
    /// resolved once, here, through the SSM parameters `/<stack>/tables/<name>` that Architect
    /// writes, as `@architect/functions` 8 resolves it (`AWS_ENDPOINT_URL_SSM` for a local
    /// SSM). A physical name is kept as it is. Without the feature every name is taken as
    /// physical, and one that looks logical (no capitals) is warned about at cold start.
    ///
    /// # Errors
    ///
    /// [`Error::SecretTwice`] when `ARC_APP_SECRET` is set too; [`Error::SecretsManager`]
    /// when the secret cannot be read; [`Error::Discovery`] when Architect's tables cannot be
    /// read, [`Error::UnknownTable`] when a table variable names none of them; then whatever
    /// [`Config::from_vars`] finds.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::{Config, Error};
    ///
    /// // Without ARC_APP_SECRET_ARN, exactly from_vars.
    /// let config = Config::load([("ARC_ENV", "testing")])?;
    /// assert!(config.secrets.development);
    /// let twice = Config::load([("ARC_APP_SECRET_ARN", "app/secret"), ("ARC_APP_SECRET", "x")]);
    /// assert!(matches!(twice, Err(Error::SecretTwice)));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn load<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Result<Self, Error>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let mut vars: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let named = vars
            .get("ARC_APP_SECRET_ARN")
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        if let Some(id) = named {
            if vars
                .get("ARC_APP_SECRET")
                .is_some_and(|v| !v.trim().is_empty())
            {
                return Err(Error::SecretTwice);
            }
            secret_from_manager(&mut vars, &id)?;
        }
        resolve_tables(&mut vars)?;
        Self::from_vars(vars)
    }

    /// Reads the configuration from the given variables, as [`Config::from_env`] does from the
    /// environment. Useful in tests.
    ///
    /// Secret policy: unless `ARC_ENV` is `testing`, `ARC_APP_SECRET` must be set, at least
    /// [`MIN_SECRET_LEN`] bytes long and not [`DEVELOPMENT_SECRET`]; so must every previous
    /// secret. In `testing` an unset secret means [`DEVELOPMENT_SECRET`].
    ///
    /// # Errors
    ///
    /// [`Error`], naming the variable and what it accepts.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::{Config, Error};
    ///
    /// let err = Config::from_vars([("AWS_LAMBDA_FUNCTION_NAME", "get-index")]).unwrap_err();
    /// assert!(matches!(err, Error::MissingSecret { .. }));
    /// assert!(err.to_string().contains("ARC_APP_SECRET"));
    /// assert!(err.to_string().contains("ARC_ENV"));
    /// ```
    pub fn from_vars<K, V>(vars: impl IntoIterator<Item = (K, V)>) -> Result<Self, Error>
    where
        K: Into<String>,
        V: Into<String>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());

        let arc_env = get("ARC_ENV");
        let env = match arc_env {
            Some("testing") => ArcEnv::Testing,
            Some("staging") => ArcEnv::Staging,
            None | Some("production") => ArcEnv::Production,
            Some(other) => return Err(Error::Env(other.into())),
        };

        let storage = match vars
            .get("SESSION_TABLE_NAME")
            .or_else(|| vars.get("ARC_SESSION_TABLE_NAME"))
            .map(|v| v.trim())
        {
            None | Some("jwe") => Storage::SealedCookie,
            Some("") => return Err(Error::EmptyTable),
            Some(_) if !cfg!(feature = "dynamodb") => {
                return Err(Error::NotBuilt {
                    variable: "SESSION_TABLE_NAME",
                    feature: "dynamodb",
                });
            }
            Some(table) => Storage::DynamoDb {
                table: table.into(),
            },
        };

        let positive = |raw: &str| raw.parse::<u64>().ok().filter(|n| *n > 0);
        // Architect's functions read `ARC_SESSION_TTL || SESSION_TTL`: the same order here.
        let ttl = match ["ARC_SESSION_TTL", "SESSION_TTL"]
            .into_iter()
            .find_map(|name| get(name).map(|raw| (name, raw)))
        {
            None => DEFAULT_TTL,
            Some((name, raw)) => positive(raw).ok_or_else(|| Error::Ttl {
                name,
                value: raw.into(),
            })?,
        };
        let max_age = match get("ARC_SESSION_MAX_AGE") {
            None => None,
            Some(raw) => Some(positive(raw).ok_or_else(|| Error::MaxAge(raw.into()))?),
        };

        let same_site = match get("ARC_SESSION_SAME_SITE").map(str::to_ascii_lowercase) {
            None => SameSite::Lax,
            Some(v) if v == "strict" => SameSite::Strict,
            Some(v) if v == "lax" => SameSite::Lax,
            Some(v) if v == "none" => SameSite::None,
            Some(v) => return Err(Error::SameSite(v)),
        };

        let domain = match get("ARC_SESSION_DOMAIN").or_else(|| get("SESSION_DOMAIN")) {
            None => None,
            Some(d)
                if d.chars()
                    .any(|c| c == ';' || c.is_whitespace() || c.is_control()) =>
            {
                return Err(Error::Domain(d.into()));
            }
            Some(d) => Some(d.to_owned()),
        };

        let host_cookie = match get("ARC_SESSION_HOST_COOKIE").map(str::to_ascii_lowercase) {
            None => false,
            Some(v) if v == "true" || v == "1" => true,
            Some(v) if v == "false" || v == "0" => false,
            Some(v) => return Err(Error::HostCookie(v)),
        };
        if host_cookie && domain.is_some() {
            return Err(Error::HostCookieWithDomain);
        }
        if same_site == SameSite::None && env == ArcEnv::Testing && !host_cookie {
            return Err(Error::SameSiteNoneInsecure);
        }

        let compression = match get("ARC_HTTP_COMPRESSION").map(str::to_ascii_lowercase) {
            None => true,
            Some(v) if matches!(v.as_str(), "on" | "true" | "1") => true,
            Some(v) if matches!(v.as_str(), "off" | "false" | "0") => false,
            Some(v) => return Err(Error::Compression(v)),
        };
        let stage = url_stage(arc_env, vars.get("ARC_LOCAL").map(String::as_str));
        let testing = env == ArcEnv::Testing;
        let ws_url = get("ARC_WSS_URL")
            .map(|v| websocket_api_url("ARC_WSS_URL", v, testing))
            .transpose()?;
        let ws_endpoint = get("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI")
            .map(|v| websocket_api_url("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", v, testing))
            .transpose()?;

        let ws_origins = match get("ARC_WS_ORIGINS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(web_origin)
                .collect::<Result<_, _>>()?,
        };
        let ws_max_connections = match get("ARC_WS_MAX_CONNECTIONS") {
            None => DEFAULT_WS_MAX_CONNECTIONS,
            Some(raw) => positive(raw)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| Error::WsMaxConnections(raw.into()))?,
        };

        let throttle_table = get("ARC_THROTTLE_TABLE_NAME").map(str::to_owned);

        let strict = env != ArcEnv::Testing;
        let check = |name: &'static str, secret: &str| -> Result<Secret, Error> {
            if strict && secret == DEVELOPMENT_SECRET {
                return Err(Error::DevelopmentSecret { name });
            }
            if strict && secret.len() < MIN_SECRET_LEN {
                return Err(Error::ShortSecret {
                    name,
                    len: secret.len(),
                });
            }
            Ok(Secret::new(secret))
        };
        let (secret, development_secret) =
            match vars.get("ARC_APP_SECRET").and_then(|s| normalize_secret(s)) {
                Some(s) if s.contains(',') => return Err(Error::CommaInSecret),
                Some(s) => (check("ARC_APP_SECRET", s)?, false),
                None if strict => {
                    return Err(Error::MissingSecret {
                        env: arc_env.unwrap_or("unset").to_owned(),
                    });
                }
                None => (Secret::new(DEVELOPMENT_SECRET), true),
            };
        let previous_secrets = match vars.get("ARC_APP_SECRET_PREVIOUS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .filter_map(normalize_secret)
                .map(|s| check("ARC_APP_SECRET_PREVIOUS", s))
                .collect::<Result<_, _>>()?,
        };

        Ok(Self {
            env,
            storage,
            secrets: Secrets {
                current: secret,
                previous: previous_secrets,
                development: development_secret,
            },
            lifetime: Lifetime { ttl, max_age },
            cookie: Cookie {
                domain,
                same_site,
                host_only: host_cookie,
            },
            http: Http { compression, stage },
            ws: WebSocket {
                url: ws_url,
                endpoint: ws_endpoint,
                origins: ws_origins,
                max_connections: ws_max_connections,
            },
            throttle: Throttle {
                table: throttle_table,
            },
        })
    }

    /// Whether cookies carry `Secure`: everywhere but `testing`, and always for a `__Host-`
    /// cookie.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = arc_functions::config::Config::from_vars([("ARC_ENV", "testing")])?;
    /// assert!(!config.secure());
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn secure(&self) -> bool {
        self.env != ArcEnv::Testing || self.cookie.host_only
    }
}

/// The AWS SDK configuration the library's own clients are built from: its HTTP client (the SDK
/// is built here without one of its own), retries and timeouts made for a function that has
/// seconds to answer, credentials and region from the environment as on Lambda, and endpoint
/// URLs such as `AWS_ENDPOINT_URL_DYNAMODB` as `aws_config` reads them. Build the clients of
/// your own tables from it (a users table), once, at cold start.
///
/// # Examples
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
/// let config = arc_functions::config::aws_sdk_config().await;
/// assert!(config.http_client().is_some(), "the library's HTTP client");
/// let _users = aws_sdk_dynamodb::Client::new(&config);
/// # });
/// # Ok::<(), std::io::Error>(())
/// ```
#[cfg(feature = "aws")]
#[cfg_attr(docsrs, doc(cfg(feature = "aws")))]
pub async fn aws_sdk_config() -> aws_config::SdkConfig {
    crate::aws::sdk_config().await
}

/// Puts the secret `id` names, read from Secrets Manager, in `vars` as `ARC_APP_SECRET`, and its
/// previous version before any `ARC_APP_SECRET_PREVIOUS` given.
#[cfg(feature = "secrets-manager")]
fn secret_from_manager(vars: &mut HashMap<String, String>, id: &str) -> Result<(), Error> {
    let failed = |reason: String| Error::SecretsManager {
        id: id.to_owned(),
        reason,
    };
    let fetched = crate::aws::secrets::fetch(id).map_err(failed)?;
    if fetched.previous.as_deref().is_some_and(|p| p.contains(',')) {
        return Err(failed(
            "its AWSPREVIOUS version contains a comma, which ARC_APP_SECRET_PREVIOUS \
             uses to separate secrets"
                .to_owned(),
        ));
    }
    vars.insert("ARC_APP_SECRET".into(), fetched.current);
    if let Some(previous) = fetched.previous {
        // Blank entries of a list given are dropped when it is read, as in any other.
        let all = match vars.remove("ARC_APP_SECRET_PREVIOUS") {
            Some(given) => format!("{previous},{given}"),
            None => previous,
        };
        vars.insert("ARC_APP_SECRET_PREVIOUS".into(), all);
    }
    Ok(())
}

#[cfg(not(feature = "secrets-manager"))]
fn secret_from_manager(_: &mut HashMap<String, String>, _: &str) -> Result<(), Error> {
    Err(Error::NotBuilt {
        variable: "ARC_APP_SECRET_ARN",
        feature: "secrets-manager",
    })
}

#[cfg(test)]
mod tests;
