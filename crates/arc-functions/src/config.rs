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

use std::collections::HashMap;
use std::fmt;

/// The development secret used when `ARC_ENV=testing` is set and `ARC_APP_SECRET` is not.
///
/// It is public, so it only exists so that separately running route binaries share sessions on
/// a developer's machine. Outside `testing` it is refused, even when set explicitly.
pub const DEVELOPMENT_SECRET: &str = "arc-functions development secret: never use in production";

/// The shortest secret accepted outside `testing`, in bytes.
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
/// let config = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "bigsesh-session")])?;
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
    /// Wraps a secret, byte for byte (the environment's secrets are trimmed before this).
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
/// | `ARC_APP_SECRET` | keys the cookie seal and the DynamoDB cookie signature | required, but for the development secret in `testing` |
/// | `ARC_APP_SECRET_PREVIOUS` | older secrets, comma-separated, that still open cookies | none |
/// | `ARC_ENV` | `testing`, `staging` or `production` | unset: treated as `production` |
/// | `ARC_SESSION_TTL` | idle lifetime in seconds | 604800 |
/// | `ARC_SESSION_MAX_AGE` | absolute lifetime in seconds since the session was created | none |
/// | `ARC_SESSION_DOMAIN` (alias `SESSION_DOMAIN`) | cookie `Domain` | none |
/// | `ARC_SESSION_SAME_SITE` | `Strict`, `Lax` or `None`, any case | `Lax` |
/// | `ARC_SESSION_HOST_COOKIE` | `true`: name the cookie `__Host-_idx` (always `Secure`, no `Domain`) | `false` |
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
    /// Whether the cookie is named `__Host-_idx`, which browsers accept only with `Secure`,
    /// `Path=/` and no `Domain`, so that no other subdomain can plant one.
    pub host_cookie: bool,
}

/// A configuration problem found at cold start. Each names the variable and what it accepts.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// `ARC_ENV` is not one of the three environments.
    #[error(
        "ARC_ENV is {0:?}; set it to testing, staging or production (unset is treated as production)"
    )]
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
    /// `SESSION_TABLE_NAME` is set but empty.
    #[error(
        "SESSION_TABLE_NAME is empty; unset it or set it to jwe for cookie sessions, or to a DynamoDB table name"
    )]
    EmptyTable,
}

/// How every secret is read: surrounding whitespace dropped, the rest kept byte for byte.
fn normalize_secret(raw: &str) -> Option<&str> {
    Some(raw.trim()).filter(|s| !s.is_empty())
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
        Self::from_vars(std::env::vars())
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
            provider,
            secret,
            previous_secrets,
            development_secret,
            env,
            ttl,
            max_age,
            domain,
            same_site,
            host_cookie,
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
        self.env != ArcEnv::Testing || self.host_cookie
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "0123456789abcdef0123456789abcdef";
    const TESTING: (&str, &str) = ("ARC_ENV", "testing");

    fn err(vars: &[(&str, &str)]) -> String {
        match Config::from_vars(vars.iter().copied()) {
            Ok(c) => panic!("expected an error, got {c:?}"),
            Err(e) => e.to_string(),
        }
    }

    fn ok(vars: &[(&str, &str)]) -> Config {
        Config::from_vars(vars.iter().copied()).expect("valid")
    }

    #[test]
    fn testing_defaults() {
        let c = ok(&[TESTING]);
        assert_eq!(c.provider, Provider::SealedCookie);
        assert_eq!(c.env, ArcEnv::Testing);
        assert_eq!(c.ttl, DEFAULT_TTL);
        assert_eq!(c.same_site, SameSite::Lax);
        assert!(c.development_secret);
        assert_eq!(c.secret.as_bytes(), DEVELOPMENT_SECRET.as_bytes());
        assert!(!c.secure());
        assert_eq!(c.domain, None);
        assert_eq!(c.max_age, None);
        assert!(!c.host_cookie);
    }

    #[test]
    fn an_unset_arc_env_is_strict() {
        // Nothing, or what Lambda itself sets for a provided.al2023 function: no secret, no start.
        let lambda = [
            ("AWS_LAMBDA_FUNCTION_NAME", "get-index"),
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
            ("AWS_REGION", "us-east-1"),
            ("LAMBDA_TASK_ROOT", "/var/task"),
        ];
        for vars in [&[][..], &lambda[..]] {
            let msg = err(vars);
            assert!(
                msg.starts_with("ARC_APP_SECRET is not set and ARC_ENV is unset"),
                "{msg}"
            );
            assert!(msg.contains("ARC_ENV=testing"), "{msg}");
        }
        let c = ok(&[("ARC_APP_SECRET", GOOD)]);
        assert_eq!(c.env, ArcEnv::Production);
        assert!(c.secure(), "an unset ARC_ENV sends Secure cookies");
        assert!(!c.development_secret);
        assert!(err(&[("ARC_APP_SECRET", "short")]).starts_with("ARC_APP_SECRET is 5 bytes"));
    }

    #[test]
    fn every_variable_is_read() {
        let c = ok(&[
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
        ]);
        assert_eq!(c.provider, Provider::DynamoDb { table: "t1".into() });
        assert_eq!(c.secret.as_bytes(), GOOD.as_bytes());
        assert_eq!(
            c.previous_secrets,
            [
                Secret::new("old-one-0123456789abcdef0123456789"),
                Secret::new("old-two-0123456789abcdef0123456789")
            ]
        );
        assert!(!c.development_secret);
        assert_eq!(c.env, ArcEnv::Staging);
        assert_eq!(c.ttl, 60);
        assert_eq!(c.max_age, Some(3600));
        assert_eq!(c.domain.as_deref(), Some("example.com"));
        assert_eq!(c.same_site, SameSite::None);
        assert!(c.secure());
        assert!(!c.host_cookie);
    }

    #[test]
    fn session_table_name_wins_over_alias_and_jwe_means_cookie() {
        let c = ok(&[
            TESTING,
            ("SESSION_TABLE_NAME", "jwe"),
            ("ARC_SESSION_TABLE_NAME", "t"),
        ]);
        assert_eq!(c.provider, Provider::SealedCookie);
        assert!(err(&[TESTING, ("SESSION_TABLE_NAME", " ")]).contains("SESSION_TABLE_NAME"));
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert!(err(&[("ARC_ENV", "prod")]).starts_with("ARC_ENV is \"prod\""));
        for ttl in ["0", "-5", "1.5", "week"] {
            assert!(
                err(&[TESTING, ("ARC_SESSION_TTL", ttl)]).starts_with("ARC_SESSION_TTL is"),
                "{ttl}"
            );
        }
        assert!(
            err(&[TESTING, ("ARC_SESSION_MAX_AGE", "0")]).starts_with("ARC_SESSION_MAX_AGE is")
        );
        assert!(
            err(&[TESTING, ("ARC_SESSION_SAME_SITE", "sometimes")])
                .contains("ARC_SESSION_SAME_SITE is \"sometimes\"; set it to Strict, Lax or None")
        );
    }

    #[test]
    fn production_and_staging_need_a_long_secret() {
        for env in ["staging", "production"] {
            let msg = err(&[("ARC_ENV", env)]);
            assert!(
                msg.starts_with(&format!("ARC_APP_SECRET is not set and ARC_ENV is {env}")),
                "{msg}"
            );
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
            ok(&[("ARC_ENV", env), ("ARC_APP_SECRET", GOOD)]);
        }
    }

    #[test]
    fn the_length_limit_is_exactly_min_secret_len() {
        let short = &GOOD[..MIN_SECRET_LEN - 1];
        let exact = &GOOD[..MIN_SECRET_LEN];
        assert_eq!(
            err(&[("ARC_APP_SECRET", short)]),
            format!(
                "ARC_APP_SECRET is {} bytes; set it to a random string of at least 32 bytes, e.g. `openssl rand -base64 48`",
                MIN_SECRET_LEN - 1
            )
        );
        ok(&[("ARC_APP_SECRET", exact)]);
        assert!(
            err(&[
                ("ARC_APP_SECRET", exact),
                ("ARC_APP_SECRET_PREVIOUS", short)
            ])
            .starts_with("ARC_APP_SECRET_PREVIOUS is 31 bytes")
        );
        let c = ok(&[
            ("ARC_APP_SECRET", exact),
            ("ARC_APP_SECRET_PREVIOUS", exact),
        ]);
        assert_eq!(c.previous_secrets, [Secret::new(exact)]);
    }

    #[test]
    fn the_development_secret_is_refused_outside_testing() {
        for env in [None, Some("staging"), Some("production")] {
            let with_env = |mut vars: Vec<(&'static str, &'static str)>| {
                if let Some(env) = env {
                    vars.push(("ARC_ENV", env));
                }
                vars
            };
            let msg = err(&with_env(vec![("ARC_APP_SECRET", DEVELOPMENT_SECRET)]));
            assert!(
                msg.starts_with("ARC_APP_SECRET is the public development secret"),
                "{env:?}: {msg}"
            );
            let msg = err(&with_env(vec![
                ("ARC_APP_SECRET", GOOD),
                ("ARC_APP_SECRET_PREVIOUS", DEVELOPMENT_SECRET),
            ]));
            assert!(
                msg.starts_with("ARC_APP_SECRET_PREVIOUS is the public development secret"),
                "{env:?}: {msg}"
            );
        }
        // In testing, set explicitly, it is just a secret.
        let c = ok(&[TESTING, ("ARC_APP_SECRET", DEVELOPMENT_SECRET)]);
        assert!(!c.development_secret);
    }

    #[test]
    fn every_secret_is_trimmed_the_same_way() {
        let from_store = format!("  {GOOD}\n");
        let c = ok(&[("ARC_APP_SECRET", from_store.as_str())]);
        assert_eq!(c.secret, Secret::new(GOOD));
        // The same secret, moved to the previous list on rotation, keeps its bytes.
        let rotated = format!("{from_store},\t{GOOD}x \n");
        let c = ok(&[
            ("ARC_APP_SECRET", "a brand new secret of 32 bytes or more"),
            ("ARC_APP_SECRET_PREVIOUS", rotated.as_str()),
        ]);
        assert_eq!(
            c.previous_secrets,
            [Secret::new(GOOD), Secret::new(format!("{GOOD}x"))]
        );
        // Whitespace inside a secret is part of it.
        let c = ok(&[TESTING, ("ARC_APP_SECRET", " a b ")]);
        assert_eq!(c.secret, Secret::new("a b"));
        // Whitespace alone is no secret.
        let c = ok(&[TESTING, ("ARC_APP_SECRET", " \n")]);
        assert!(c.development_secret);
    }

    #[test]
    fn a_comma_in_the_secret_is_refused() {
        for env in ["testing", "production"] {
            let msg = err(&[
                ("ARC_ENV", env),
                ("ARC_APP_SECRET", "0123456789abcdef,0123456789abcdef"),
            ]);
            assert!(msg.starts_with("ARC_APP_SECRET contains a comma"), "{msg}");
        }
    }

    #[test]
    fn the_cookie_domain_is_validated() {
        for bad in [
            "example.com; Secure",
            "exa mple.com",
            "example.com\u{7}",
            "a\u{0}b",
        ] {
            let msg = err(&[TESTING, ("ARC_SESSION_DOMAIN", bad)]);
            assert!(msg.starts_with("ARC_SESSION_DOMAIN is"), "{bad:?}: {msg}");
            let msg = err(&[TESTING, ("SESSION_DOMAIN", bad)]);
            assert!(msg.starts_with("ARC_SESSION_DOMAIN is"), "{bad:?}: {msg}");
        }
        let c = ok(&[TESTING, ("ARC_SESSION_DOMAIN", " .example.com ")]);
        assert_eq!(c.domain.as_deref(), Some(".example.com"));
    }

    #[test]
    fn same_site_none_needs_secure_cookies() {
        let msg = err(&[TESTING, ("ARC_SESSION_SAME_SITE", "None")]);
        assert!(msg.starts_with("ARC_SESSION_SAME_SITE is None"), "{msg}");
        assert!(msg.contains("ARC_ENV=testing"), "{msg}");
        let c = ok(&[("ARC_APP_SECRET", GOOD), ("ARC_SESSION_SAME_SITE", "None")]);
        assert!(c.secure());
        // A __Host- cookie is always Secure, so None is fine with it even in testing.
        let c = ok(&[
            TESTING,
            ("ARC_SESSION_SAME_SITE", "None"),
            ("ARC_SESSION_HOST_COOKIE", "true"),
        ]);
        assert!(c.secure());
    }

    #[test]
    fn the_host_cookie_option() {
        for (raw, on) in [
            ("true", true),
            ("1", true),
            ("TRUE", true),
            ("false", false),
            ("0", false),
        ] {
            assert_eq!(
                ok(&[TESTING, ("ARC_SESSION_HOST_COOKIE", raw)]).host_cookie,
                on,
                "{raw}"
            );
        }
        assert!(
            err(&[TESTING, ("ARC_SESSION_HOST_COOKIE", "yes please")])
                .starts_with("ARC_SESSION_HOST_COOKIE is \"yes please\"")
        );
        assert!(
            err(&[
                TESTING,
                ("ARC_SESSION_HOST_COOKIE", "true"),
                ("ARC_SESSION_DOMAIN", "example.com")
            ])
            .contains("cannot carry a Domain")
        );
        assert!(ok(&[TESTING, ("ARC_SESSION_HOST_COOKIE", "true")]).secure());
    }

    #[test]
    fn testing_accepts_a_short_secret() {
        let c = ok(&[TESTING, ("ARC_APP_SECRET", "dev")]);
        assert_eq!(c.secret.as_bytes(), b"dev");
        assert!(!c.development_secret);
    }
}
