//! A configuration problem found at cold start.

/// A configuration problem found at cold start. Each names the variable and what it accepts.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, Error};
///
/// let err = Config::from_vars([("ARC_ENV", "testing"), ("ARC_SESSION_TTL", "a week")]).unwrap_err();
/// assert_eq!(err, Error::Ttl { name: "ARC_SESSION_TTL", value: "a week".into() });
/// assert_eq!(
///     err.to_string(),
///     r#"ARC_SESSION_TTL is "a week"; set it to a positive whole number of seconds, e.g. 604800"#,
/// );
/// ```
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The variable asks for what this build of the library leaves out: the route's
    /// `arc-functions` dependency needs the feature named (`features = ["dynamodb"]`).
    #[error(
        "{variable} is set, but this function was built without arc-functions' `{feature}` feature, which it needs: add `features = [\"{feature}\"]` to the arc-functions dependency in the function's Cargo.toml (`cargo arc sam` checks what its template needs)"
    )]
    NotBuilt {
        /// The variable, e.g. `SESSION_TABLE_NAME`.
        variable: &'static str,
        /// The feature it needs, e.g. `dynamodb`.
        feature: &'static str,
    },
    /// `ARC_ENV` is not one of the three environments.
    #[error(
        "ARC_ENV is {0:?}; set it to testing, staging or production (unset is treated as production)"
    )]
    Env(String),
    /// `ARC_SESSION_TTL` (or Architect's `SESSION_TTL`) is not a positive integer.
    #[error("{name} is {value:?}; set it to a positive whole number of seconds, e.g. 604800")]
    Ttl {
        /// The variable that holds it.
        name: &'static str,
        /// What it holds.
        value: String,
    },
    /// `ARC_SESSION_MAX_AGE` is not a positive integer.
    #[error(
        "ARC_SESSION_MAX_AGE is {0:?}; set it to a positive whole number of seconds, or unset it"
    )]
    MaxAge(String),
    /// `ARC_SESSION_SAME_SITE` is not `Strict`, `Lax` or `None`.
    #[error("ARC_SESSION_SAME_SITE is {0:?}; set it to Strict, Lax or None")]
    SameSite(String),
    /// `ARC_SESSION_SAME_SITE=None` where cookies are not `Secure`: browsers drop such cookies.
    #[error(
        "ARC_SESSION_SAME_SITE is None, which browsers accept only on Secure cookies, and ARC_ENV=testing sends cookies without Secure; use Lax or Strict in testing"
    )]
    SameSiteNoneInsecure,
    /// `ARC_SESSION_DOMAIN` holds characters a cookie attribute cannot carry.
    #[error(
        "ARC_SESSION_DOMAIN is {0:?}; set it to a bare domain such as example.com (no ';', spaces or control characters)"
    )]
    Domain(String),
    /// `ARC_SESSION_HOST_COOKIE` is not a boolean, or is combined with a cookie `Domain`.
    #[error("ARC_SESSION_HOST_COOKIE is {0:?}; set it to true or false")]
    HostCookie(String),
    /// A `__Host-` cookie may not carry a `Domain`.
    #[error(
        "ARC_SESSION_HOST_COOKIE=true and ARC_SESSION_DOMAIN are both set; a __Host- cookie cannot carry a Domain, so unset one of them"
    )]
    HostCookieWithDomain,
    /// No `ARC_APP_SECRET` outside `testing`.
    #[error(
        "ARC_APP_SECRET is not set and ARC_ENV is {env}; set ARC_APP_SECRET to a random string of at least 32 bytes (e.g. `openssl rand -base64 48`), or, on a developer's machine only, set ARC_ENV=testing to use the public development secret"
    )]
    MissingSecret {
        /// `ARC_ENV` as given, or `unset`.
        env: String,
    },
    /// A secret is too short outside `testing`.
    #[error(
        "{name} is {len} bytes; set it to a random string of at least 32 bytes, e.g. `openssl rand -base64 48`"
    )]
    ShortSecret {
        /// The variable.
        name: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// A secret is the published development secret, outside `testing`.
    #[error(
        "{name} is the public development secret, which anyone can use to forge sessions; set a random secret of your own (e.g. `openssl rand -base64 48`)"
    )]
    DevelopmentSecret {
        /// The variable.
        name: &'static str,
    },
    /// `ARC_APP_SECRET` holds a comma, so it could never move to `ARC_APP_SECRET_PREVIOUS`.
    #[error(
        "ARC_APP_SECRET contains a comma, which ARC_APP_SECRET_PREVIOUS uses to separate secrets; generate one without (e.g. `openssl rand -base64 48`)"
    )]
    CommaInSecret,
    /// `ARC_HTTP_COMPRESSION` is not `on` or `off`.
    #[error("ARC_HTTP_COMPRESSION is {0:?}; set it to on or off (unset means on)")]
    Compression(String),
    /// `ARC_WSS_URL` or `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI` is not a WebSocket or
    /// HTTP URL.
    #[error(
        "{name} is {value:?}; set it to the WebSocket API's URL, e.g. wss://abc123.execute-api.us-east-1.amazonaws.com/production"
    )]
    WsUrl {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// An `ARC_WS_ORIGINS` entry is not a web origin.
    #[error(
        "ARC_WS_ORIGINS holds {0:?}; set it to comma-separated origins such as https://app.example.com (scheme and host, no path)"
    )]
    WsOrigin(String),
    /// `ARC_WS_MAX_CONNECTIONS` is not a positive integer.
    #[error(
        "ARC_WS_MAX_CONNECTIONS is {0:?}; set it to a positive whole number of connections per session, e.g. 10"
    )]
    WsMaxConnections(String),
    /// `ARC_WSS_URL` or `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI` is plain `ws://` or
    /// `http://` outside `testing`: management calls (and the page's socket) would travel
    /// unencrypted.
    #[error(
        "{name} is {value:?}, which is not encrypted; outside ARC_ENV=testing use wss:// or https:// (plain ws:// and http:// are for a local gateway)"
    )]
    PlaintextEndpoint {
        /// The variable.
        name: &'static str,
        /// Its value.
        value: String,
    },
    /// Both `ARC_APP_SECRET_ARN` and `ARC_APP_SECRET` are set: which one holds the secret?
    #[error(
        "ARC_APP_SECRET_ARN and ARC_APP_SECRET are both set; keep ARC_APP_SECRET_ARN (the secret read from Secrets Manager) deployed, or ARC_APP_SECRET alone for a local run"
    )]
    SecretTwice,
    /// The secret `ARC_APP_SECRET_ARN` names cannot be read from Secrets Manager.
    #[error(
        "ARC_APP_SECRET_ARN names {id:?}, which could not be read from Secrets Manager: {reason}; check the ARN or name, the region, and that the function's role may call secretsmanager:GetSecretValue on it"
    )]
    SecretsManager {
        /// The secret's ARN or name, as given.
        id: String,
        /// What went wrong.
        reason: String,
    },
    /// `ARC_STACK_NAME` says Architect deployed the function, and its tables could not be read
    /// from SSM (Architect's service discovery).
    #[error(
        "ARC_STACK_NAME is {stack:?}, so table names are Architect's, but the stack's tables could not be read from SSM: {reason}; check the region and that the function's role may call ssm:GetParametersByPath on /{stack}"
    )]
    Discovery {
        /// The stack, from `ARC_STACK_NAME`.
        stack: String,
        /// What went wrong.
        reason: String,
    },
    /// A table variable names no table of the Architect stack, by logical or physical name.
    #[error(
        "{variable} is {name:?}, which is neither a table of stack {stack:?} (its @tables: {}) nor the physical name of one",
        if known.is_empty() { "none".to_owned() } else { known.join(", ") }
    )]
    UnknownTable {
        /// The variable, e.g. `ARC_SESSION_TABLE_NAME`.
        variable: &'static str,
        /// The name it holds.
        name: String,
        /// The stack, from `ARC_STACK_NAME`.
        stack: String,
        /// The stack's tables, by logical name.
        known: Vec<String>,
    },
    /// `SESSION_TABLE_NAME` is set but empty.
    #[error(
        "SESSION_TABLE_NAME is empty; unset it or set it to jwe for cookie sessions, or to a DynamoDB table name"
    )]
    EmptyTable,
}
