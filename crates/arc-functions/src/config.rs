//! Configuration, read once at cold start into a typed [`Config`].
//!
//! Nothing below this module reads `std::env`: [`Config::from_env`] is called once (by
//! [`crate::http::async_handler`] or the first session call) and the value is passed down.

use std::collections::HashMap;
use std::fmt;

/// The development secret used when `ARC_ENV` is `testing` and `ARC_APP_SECRET` is unset.
///
/// It is public, so it only exists so that separately running route binaries share sessions on
/// a developer's machine. It is refused in `staging`, `production` and on AWS Lambda itself.
pub const DEVELOPMENT_SECRET: &str = "arc-functions development secret: never use in production";

/// The shortest `ARC_APP_SECRET` accepted in `staging` and `production`, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// The default idle lifetime of a session: one week, in seconds.
pub const DEFAULT_TTL: u64 = 604_800;

/// Where sessions are kept, chosen by `SESSION_TABLE_NAME`.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, Provider};
///
/// let config = Config::from_vars([("SESSION_TABLE_NAME", "bigsesh-session")])?;
/// assert_eq!(config.provider, Provider::DynamoDb { table: "bigsesh-session".into() });
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provider {
    /// The session is sealed inside the `_idx` cookie (`SESSION_TABLE_NAME` unset or `jwe`).
    SealedCookie,
    /// The session lives in this DynamoDB table; the cookie holds a signed id.
    DynamoDb {
        /// The table's physical name.
        table: String,
    },
}

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
    /// Local development and tests (also when `ARC_ENV` is unset): cookies lose `Secure`.
    Testing,
    /// A deployed staging stack.
    Staging,
    /// A deployed production stack.
    Production,
}

/// The cookie's `SameSite` attribute, from `ARC_SESSION_SAME_SITE`.
///
/// # Examples
///
/// ```
/// use arc_functions::config::{Config, SameSite};
///
/// let config = Config::from_vars([("ARC_SESSION_SAME_SITE", "strict")])?;
/// assert_eq!(config.same_site, SameSite::Strict);
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

/// A secret's bytes. `Debug` never shows them.
///
/// # Examples
///
/// ```
/// use arc_functions::config::Secret;
///
/// let secret = Secret::new("correct horse battery staple, but longer");
/// assert_eq!(format!("{secret:?}"), "Secret(40 bytes)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps a secret.
    ///
    /// # Examples
    ///
    /// ```
    /// let secret = arc_functions::config::Secret::new(b"0123456789abcdef0123456789abcdef");
    /// assert_eq!(secret.as_bytes().len(), 32);
    /// ```
    pub fn new(bytes: impl AsRef<[u8]>) -> Self {
        Self(bytes.as_ref().to_vec())
    }

    /// The secret's bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// let secret = arc_functions::config::Secret::new("abc");
    /// assert_eq!(secret.as_bytes(), b"abc");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// Everything the session layer needs, read once at cold start.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `SESSION_TABLE_NAME` (alias `ARC_SESSION_TABLE_NAME`) | `jwe` or unset: sealed cookie; else a DynamoDB table | sealed cookie |
/// | `ARC_APP_SECRET` | keys the cookie seal and the DynamoDB cookie signature | development secret in `testing` only |
/// | `ARC_APP_SECRET_PREVIOUS` | older secrets, comma-separated, that still open cookies | none |
/// | `ARC_ENV` | `testing`, `staging` or `production` | `testing` |
/// | `ARC_SESSION_TTL` | idle lifetime in seconds | 604800 |
/// | `ARC_SESSION_MAX_AGE` | absolute lifetime in seconds since the session was created | none |
/// | `ARC_SESSION_DOMAIN` (alias `SESSION_DOMAIN`) | cookie `Domain` | none |
/// | `ARC_SESSION_SAME_SITE` | `Strict`, `Lax` or `None`, any case | `Lax` |
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
/// assert_eq!(config.ttl, 3600);
/// assert!(config.secure());
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Where sessions are kept.
    pub provider: Provider,
    /// The current secret: it seals and signs.
    pub secret: Secret,
    /// Older secrets that still open and verify, newest first.
    pub previous_secrets: Vec<Secret>,
    /// True when [`DEVELOPMENT_SECRET`] is in use.
    pub development_secret: bool,
    /// The Architect environment.
    pub env: ArcEnv,
    /// Idle lifetime in seconds.
    pub ttl: u64,
    /// Absolute lifetime in seconds since the session was created, if any.
    pub max_age: Option<u64>,
    /// Cookie `Domain`, if any.
    pub domain: Option<String>,
    /// Cookie `SameSite`.
    pub same_site: SameSite,
}

/// A configuration problem found at cold start. Each names the variable and what it accepts.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `ARC_ENV` is not one of the three environments.
    #[error("ARC_ENV is {0:?}; set it to testing, staging or production (unset means testing)")]
    Env(String),
    /// `ARC_SESSION_TTL` is not a positive integer.
    #[error("ARC_SESSION_TTL is {0:?}; set it to a positive whole number of seconds, e.g. 604800")]
    Ttl(String),
    /// `ARC_SESSION_MAX_AGE` is not a positive integer.
    #[error(
        "ARC_SESSION_MAX_AGE is {0:?}; set it to a positive whole number of seconds, or unset it"
    )]
    MaxAge(String),
    /// `ARC_SESSION_SAME_SITE` is not `Strict`, `Lax` or `None`.
    #[error("ARC_SESSION_SAME_SITE is {0:?}; set it to Strict, Lax or None")]
    SameSite(String),
    /// No `ARC_APP_SECRET` where one is required.
    #[error(
        "ARC_APP_SECRET is not set ({0}); set it to a random string of at least 32 bytes, e.g. `openssl rand -base64 48`"
    )]
    MissingSecret(&'static str),
    /// `ARC_APP_SECRET` (or a previous secret) is too short.
    #[error(
        "{name} is {len} bytes; set it to a random string of at least 32 bytes, e.g. `openssl rand -base64 48`"
    )]
    ShortSecret {
        /// The variable.
        name: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// `SESSION_TABLE_NAME` is set but empty.
    #[error(
        "SESSION_TABLE_NAME is empty; unset it or set it to jwe for cookie sessions, or to a DynamoDB table name"
    )]
    EmptyTable,
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
    /// # // SAFETY of the doctest: a fresh process, nothing else reads the environment.
    /// let config = arc_functions::config::Config::from_env()?;
    /// assert!(config.ttl > 0);
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn from_env() -> Result<Self, Error> {
        Self::from_vars(std::env::vars())
    }

    /// Reads the configuration from the given variables, as [`Config::from_env`] does from the
    /// environment. Useful in tests.
    ///
    /// Secret policy: in `staging` and `production`, and on AWS Lambda itself
    /// (`AWS_EXECUTION_ENV` starts with `AWS_Lambda_`) whatever `ARC_ENV` says, `ARC_APP_SECRET`
    /// must be set and at least [`MIN_SECRET_LEN`] bytes. In `testing` elsewhere an unset
    /// secret means [`DEVELOPMENT_SECRET`].
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
    /// let err = Config::from_vars([("ARC_ENV", "production")]).unwrap_err();
    /// assert!(matches!(err, Error::MissingSecret(_)));
    /// assert!(err.to_string().contains("ARC_APP_SECRET"));
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

        let env = match get("ARC_ENV") {
            None | Some("testing") => ArcEnv::Testing,
            Some("staging") => ArcEnv::Staging,
            Some("production") => ArcEnv::Production,
            Some(other) => return Err(Error::Env(other.into())),
        };

        let provider = match vars
            .get("SESSION_TABLE_NAME")
            .or_else(|| vars.get("ARC_SESSION_TABLE_NAME"))
            .map(|v| v.trim())
        {
            None | Some("jwe") => Provider::SealedCookie,
            Some("") => return Err(Error::EmptyTable),
            Some(table) => Provider::DynamoDb {
                table: table.into(),
            },
        };

        let positive = |raw: &str| raw.parse::<u64>().ok().filter(|n| *n > 0);
        let ttl = match get("ARC_SESSION_TTL") {
            None => DEFAULT_TTL,
            Some(raw) => positive(raw).ok_or_else(|| Error::Ttl(raw.into()))?,
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

        let domain = get("ARC_SESSION_DOMAIN")
            .or_else(|| get("SESSION_DOMAIN"))
            .map(String::from);

        let on_lambda = get("AWS_EXECUTION_ENV").is_some_and(|v| v.starts_with("AWS_Lambda_"));
        // Secrets are not trimmed: whitespace may be part of a generated secret.
        let raw_secret = vars.get("ARC_APP_SECRET").filter(|v| !v.is_empty());
        let strict = env != ArcEnv::Testing || on_lambda;
        let (secret, development_secret) = match raw_secret {
            Some(s) if strict && s.len() < MIN_SECRET_LEN => {
                return Err(Error::ShortSecret {
                    name: "ARC_APP_SECRET",
                    len: s.len(),
                });
            }
            Some(s) => (Secret::new(s), false),
            None if on_lambda => {
                return Err(Error::MissingSecret(
                    "required on AWS Lambda whatever ARC_ENV says",
                ));
            }
            None if strict => {
                return Err(Error::MissingSecret(
                    "required when ARC_ENV is staging or production",
                ));
            }
            None => (Secret::new(DEVELOPMENT_SECRET), true),
        };
        let previous_secrets = match get("ARC_APP_SECRET_PREVIOUS") {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    if strict && s.len() < MIN_SECRET_LEN {
                        Err(Error::ShortSecret {
                            name: "ARC_APP_SECRET_PREVIOUS",
                            len: s.len(),
                        })
                    } else {
                        Ok(Secret::new(s))
                    }
                })
                .collect::<Result<_, _>>()?,
        };

        Ok(Self {
            provider,
            secret,
            previous_secrets,
            development_secret,
            env,
            ttl,
            max_age,
            domain,
            same_site,
        })
    }

    /// Whether cookies carry `Secure`: everywhere but `testing`.
    ///
    /// # Examples
    ///
    /// ```
    /// let config = arc_functions::config::Config::from_vars([("ARC_ENV", "testing")])?;
    /// assert!(!config.secure());
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn secure(&self) -> bool {
        self.env != ArcEnv::Testing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "0123456789abcdef0123456789abcdef";

    fn err(vars: &[(&str, &str)]) -> String {
        match Config::from_vars(vars.iter().copied()) {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults() {
        let c = Config::from_vars(Vec::<(String, String)>::new()).expect("defaults");
        assert_eq!(c.provider, Provider::SealedCookie);
        assert_eq!(c.env, ArcEnv::Testing);
        assert_eq!(c.ttl, DEFAULT_TTL);
        assert_eq!(c.same_site, SameSite::Lax);
        assert!(c.development_secret);
        assert_eq!(c.secret.as_bytes(), DEVELOPMENT_SECRET.as_bytes());
        assert!(!c.secure());
        assert_eq!(c.domain, None);
        assert_eq!(c.max_age, None);
    }

    #[test]
    fn every_variable_is_read() {
        let c = Config::from_vars([
            ("ARC_SESSION_TABLE_NAME", "t1"),
            ("ARC_APP_SECRET", GOOD),
            (
                "ARC_APP_SECRET_PREVIOUS",
                "old-one-0123456789abcdef0123456789, old-two-0123456789abcdef0123456789",
            ),
            ("ARC_ENV", "staging"),
            ("ARC_SESSION_TTL", "60"),
            ("ARC_SESSION_MAX_AGE", "3600"),
            ("SESSION_DOMAIN", "example.com"),
            ("ARC_SESSION_SAME_SITE", "NONE"),
        ])
        .expect("valid");
        assert_eq!(c.provider, Provider::DynamoDb { table: "t1".into() });
        assert_eq!(c.secret.as_bytes(), GOOD.as_bytes());
        assert_eq!(c.previous_secrets.len(), 2);
        assert!(!c.development_secret);
        assert_eq!(c.env, ArcEnv::Staging);
        assert_eq!(c.ttl, 60);
        assert_eq!(c.max_age, Some(3600));
        assert_eq!(c.domain.as_deref(), Some("example.com"));
        assert_eq!(c.same_site, SameSite::None);
        assert!(c.secure());
    }

    #[test]
    fn session_table_name_wins_over_alias_and_jwe_means_cookie() {
        let c = Config::from_vars([
            ("SESSION_TABLE_NAME", "jwe"),
            ("ARC_SESSION_TABLE_NAME", "t"),
        ])
        .expect("valid");
        assert_eq!(c.provider, Provider::SealedCookie);
        assert!(err(&[("SESSION_TABLE_NAME", " ")]).contains("SESSION_TABLE_NAME"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert!(err(&[("ARC_ENV", "prod")]).starts_with("ARC_ENV is \"prod\""));
        for ttl in ["0", "-5", "1.5", "week"] {
            assert!(
                err(&[("ARC_SESSION_TTL", ttl)]).starts_with("ARC_SESSION_TTL is"),
                "{ttl}"
            );
        }
        assert!(err(&[("ARC_SESSION_MAX_AGE", "0")]).starts_with("ARC_SESSION_MAX_AGE is"));
        assert!(
            err(&[("ARC_SESSION_SAME_SITE", "sometimes")])
                .contains("ARC_SESSION_SAME_SITE is \"sometimes\"; set it to Strict, Lax or None")
        );
    }

    #[test]
    fn production_and_staging_need_a_long_secret() {
        for env in ["staging", "production"] {
            let msg = err(&[("ARC_ENV", env)]);
            assert!(msg.starts_with("ARC_APP_SECRET is not set"), "{msg}");
            let msg = err(&[("ARC_ENV", env), ("ARC_APP_SECRET", "short")]);
            assert!(msg.starts_with("ARC_APP_SECRET is 5 bytes"), "{msg}");
            let msg = err(&[
                ("ARC_ENV", env),
                ("ARC_APP_SECRET", GOOD),
                ("ARC_APP_SECRET_PREVIOUS", "short"),
            ]);
            assert!(
                msg.starts_with("ARC_APP_SECRET_PREVIOUS is 5 bytes"),
                "{msg}"
            );
            Config::from_vars([("ARC_ENV", env), ("ARC_APP_SECRET", GOOD)]).expect("long enough");
        }
    }

    #[test]
    fn aws_lambda_needs_a_secret_whatever_arc_env_says() {
        let lambda = ("AWS_EXECUTION_ENV", "AWS_Lambda_rust");
        assert!(err(&[lambda]).contains("required on AWS Lambda"));
        assert!(err(&[lambda, ("ARC_ENV", "testing")]).contains("required on AWS Lambda"));
        assert!(err(&[lambda, ("ARC_APP_SECRET", "short")]).starts_with("ARC_APP_SECRET is 5"));
        Config::from_vars([lambda, ("ARC_APP_SECRET", GOOD)]).expect("secret set");
        // Anything else in AWS_EXECUTION_ENV (a local emulator, say) is not Lambda.
        Config::from_vars([("AWS_EXECUTION_ENV", "cargo-lambda")]).expect("local");
    }

    #[test]
    fn testing_accepts_a_short_secret() {
        let c = Config::from_vars([("ARC_APP_SECRET", "dev")]).expect("testing");
        assert_eq!(c.secret.as_bytes(), b"dev");
        assert!(!c.development_secret);
    }
}
