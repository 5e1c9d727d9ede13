//! Sign-in throttling that holds across Lambda instances: attempts are counted in DynamoDB,
//! so every execution environment sees the same count, where an in-memory limiter counts per
//! environment and Lambda runs many.
//!
//! Each attempt is counted *before* the password is checked, with a conditional write (compare
//! and set on the count), so attempts racing in parallel, on one instance or many, can never
//! check more passwords than the [`Rule`] allows. The first [`Rule::attempts`] attempts go
//! through; each one after waits out a lockout that doubles, from [`Rule::lockout`] up to
//! [`Rule::max_lockout`]. A successful sign-in ([`Attempt::succeeded`]) clears the count; a
//! count nobody touches for [`Rule::forget_after`] past its lockout expires with the table's TTL.
//!
//! # Which key
//!
//! By default the count is per user name *and* client address ([`Key::UserAndAddress`]):
//!
//! - a guessing script at one address is locked out of that account after five attempts;
//! - the account's owner, signing in from another address, is not: a count per user name
//!   alone would let anyone lock anybody out by guessing badly on purpose;
//! - a count per address alone would lock a whole office behind one NAT out together.
//!
//! What the default does not stop is a guesser with many addresses (a botnet): add a second
//! [`Throttle`] with [`Key::User`] and a higher limit for that, at the cost above. IPv6 addresses
//! count per /64 network, the block one subscriber usually holds. Addresses come from API
//! Gateway's request context ([`Request::source_ip`](crate::http::Request::source_ip)), never
//! from a header a client can write; user names are compared trimmed and lower-cased.
//!
//! # Where the counts live
//!
//! Items in the session table (or `ARC_THROTTLE_TABLE_NAME`), beside the sessions: `_idx` is
//! `throttle#` and an HMAC of the key under a key derived from the app secret (neither the name
//! nor the address is stored, and rotating the secret starts every count afresh), `attempts`,
//! `locked_until` and `_ttl`. Cookie mode has no table, so [`Throttle::new`] refuses to start
//! without `ARC_THROTTLE_TABLE_NAME` there.
//!
//! # Cost
//!
//! Two DynamoDB calls per attempt let through (a consistent read and the conditional write),
//! one per attempt refused, one more (a delete) on success.
//!
//! # Examples
//!
//! ```no_run
//! use arc_functions::config::Config;
//! use arc_functions::throttle::{Admission, Throttle};
//!
//! # async fn sign_in(throttle: &Throttle, user: &str, address: Option<&str>, password_ok: bool)
//! #     -> Result<(), arc_functions::throttle::Error> {
//! match throttle.attempt(user, address).await? {
//!     Admission::Locked(locked) => println!("try again in {:?}", locked.retry_after()),
//!     Admission::Allowed(attempt) if password_ok => attempt.succeeded().await?,
//!     Admission::Allowed(_) => println!("wrong password"),
//! }
//! # Ok(())
//! # }
//! ```

mod count;
mod step;

use crate::deadline::Bounded as _;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use tokio::sync::OnceCell;

use crate::config::{self, Config, Storage};
use crate::keys::{self, Keyring};
use count::{Count, n, network};

#[cfg(feature = "axum")]
pub(crate) use step::user_of;
pub use step::{Guard, GuardStep};

const ID: &str = "_idx";
const ATTEMPTS: &str = "attempts";
const LOCKED_UNTIL: &str = "locked_until";
const TTL: &str = "_ttl";
/// How often one attempt re-reads the count after losing a race for it before giving up.
const RACES: usize = 16;

/// What is counted: see the [module documentation](self) for why the default is the pair.
///
/// # Examples
///
/// ```
/// use arc_functions::throttle::{Key, Rule};
///
/// assert_eq!(Key::default(), Key::UserAndAddress);
/// // A second rule against guessers with many addresses.
/// let per_user = Rule::default().attempts(20).key(Key::User);
/// assert!(format!("{per_user:?}").ends_with("key: User }"));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Key {
    /// Per user name at one client address (the default).
    #[default]
    UserAndAddress,
    /// Per user name, from anywhere: stops a guesser with many addresses, and lets anyone lock
    /// the account for the lockout. A success clears it.
    User,
    /// Per client address, whatever the user name: stops one address trying many accounts.
    /// A success does not clear it: a guesser would sign in to an account of their own.
    Address,
}

/// How many attempts go through, and how long the lockouts after them last.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use arc_functions::throttle::{Key, Rule};
///
/// let rule = Rule::default().attempts(10).lockout(Duration::from_secs(30)).key(Key::User);
/// assert_eq!(rule.attempts_allowed(), 10);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    attempts: u32,
    lockout: Duration,
    max_lockout: Duration,
    forget_after: Duration,
    key: Key,
}

impl Default for Rule {
    /// Five attempts, then lockouts of one minute, doubling up to an hour; a count forgotten a
    /// day after its last lockout ends; per user and address.
    fn default() -> Self {
        Self {
            attempts: 5,
            lockout: Duration::from_secs(60),
            max_lockout: Duration::from_secs(3600),
            forget_after: Duration::from_secs(86_400),
            key: Key::UserAndAddress,
        }
    }
}

impl Rule {
    /// How many attempts go through before the first lockout (at least one).
    #[must_use]
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::throttle::Rule;
    ///
    /// assert_eq!(Rule::default().attempts(10).attempts_allowed(), 10);
    /// // A rule that refused every attempt would lock everyone out.
    /// assert_eq!(Rule::default().attempts(0).attempts_allowed(), 1);
    /// ```
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.attempts = attempts.max(1);
        self
    }

    /// The first lockout; each further attempt doubles it (whole seconds, at least one).
    #[must_use]
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use arc_functions::throttle::Rule;
    ///
    /// assert_eq!(Rule::default().lockout(Duration::from_secs(60)), Rule::default());
    /// let rule = Rule::default().lockout(Duration::from_millis(200));
    /// assert!(format!("{rule:?}").contains(" lockout: 1s,"), "{rule:?}");
    /// ```
    pub fn lockout(mut self, lockout: Duration) -> Self {
        self.lockout = lockout.max(Duration::from_secs(1));
        self
    }

    /// The longest lockout.
    #[must_use]
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use arc_functions::throttle::Rule;
    ///
    /// assert_eq!(Rule::default().max_lockout(Duration::from_secs(3600)), Rule::default());
    /// let rule = Rule::default().max_lockout(Duration::from_secs(600));
    /// assert!(format!("{rule:?}").contains("max_lockout: 600s"), "{rule:?}");
    /// ```
    pub fn max_lockout(mut self, max_lockout: Duration) -> Self {
        self.max_lockout = max_lockout.max(Duration::from_secs(1));
        self
    }

    /// How long after the last lockout ends a count is forgotten.
    #[must_use]
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use arc_functions::throttle::Rule;
    ///
    /// assert_eq!(Rule::default().forget_after(Duration::from_secs(86_400)), Rule::default());
    /// let rule = Rule::default().forget_after(Duration::from_secs(3600));
    /// assert!(format!("{rule:?}").contains("forget_after: 3600s"), "{rule:?}");
    /// ```
    pub fn forget_after(mut self, forget_after: Duration) -> Self {
        self.forget_after = forget_after;
        self
    }

    /// What is counted.
    #[must_use]
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::throttle::{Key, Rule};
    ///
    /// assert_eq!(Rule::default().key(Key::UserAndAddress), Rule::default());
    /// let rule = Rule::default().key(Key::Address);
    /// assert!(format!("{rule:?}").ends_with("key: Address }"), "{rule:?}");
    /// ```
    pub fn key(mut self, key: Key) -> Self {
        self.key = key;
        self
    }

    /// How many attempts go through before the first lockout.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::throttle::Rule;
    ///
    /// assert_eq!(Rule::default().attempts_allowed(), 5);
    /// assert_eq!(Rule::default().attempts(3).attempts_allowed(), 3);
    /// ```
    pub fn attempts_allowed(&self) -> u32 {
        self.attempts
    }

    /// The lockout after attempt number `attempt` (counting from one): none before the
    /// limit, then the first lockout, doubled for each attempt past the limit, capped.
    fn lockout_after(&self, attempt: u32) -> u64 {
        let Some(past) = attempt.checked_sub(self.attempts) else {
            return 0;
        };
        let doubling = 1u64.checked_shl(past).unwrap_or(u64::MAX);
        self.lockout
            .as_secs()
            .saturating_mul(doubling)
            .min(self.max_lockout.as_secs())
    }
}

/// A throttle problem: configuration at cold start, DynamoDB on a request.
///
/// # Examples
///
/// ```
/// use arc_functions::config::Config;
/// use arc_functions::throttle::{Error, Throttle};
///
/// let err = Throttle::new(&Config::from_vars([("ARC_ENV", "testing")])?).unwrap_err();
/// assert!(matches!(err, Error::NoTable));
/// assert!(err.to_string().contains("set ARC_THROTTLE_TABLE_NAME"));
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Sessions are sealed in the cookie and `ARC_THROTTLE_TABLE_NAME` is unset.
    #[error(
        "sign-in throttling counts attempts in DynamoDB, and sessions are sealed in the cookie with no table; set ARC_THROTTLE_TABLE_NAME to a table keyed like the session table (_idx string, _ttl as TTL), or SESSION_TABLE_NAME for DynamoDB sessions"
    )]
    NoTable,
    /// The environment's configuration is invalid.
    #[error(transparent)]
    Config(#[from] config::Error),
    /// A DynamoDB call failed.
    #[error("DynamoDB {operation} on table {table:?} failed: {source}")]
    DynamoDb {
        /// The operation.
        operation: &'static str,
        /// The table.
        table: String,
        /// Throttled, unreachable or failing on AWS's side: retrying later may help.
        unavailable: bool,
        /// The SDK's error: an `aws_sdk_dynamodb::Error`.
        #[source]
        source: crate::http::session::BoxError,
    },
}

impl Error {
    /// Whether retrying later may help (DynamoDB throttled or out of reach): answer 503.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::throttle::{Error, Throttle};
    ///
    /// let throttled = Error::DynamoDb {
    ///     operation: "UpdateItem",
    ///     table: "sessions".into(),
    ///     unavailable: true,
    ///     source: "ProvisionedThroughputExceededException".into(),
    /// };
    /// assert!(throttled.is_unavailable());
    /// // A configuration problem does not pass by itself.
    /// let no_table = Throttle::new(&Config::from_vars([("ARC_ENV", "testing")])?).unwrap_err();
    /// assert!(!no_table.is_unavailable());
    /// # Ok::<(), arc_functions::config::Error>(())
    /// ```
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Self::DynamoDb {
                unavailable: true,
                ..
            }
        )
    }
}

/// Counts sign-in attempts in DynamoDB. Build it once at cold start and share it (it is an
/// `Arc` inside, so clones are cheap).
///
/// # Examples
///
/// ```
/// use arc_functions::config::Config;
/// use arc_functions::throttle::Throttle;
///
/// let sessions = ("SESSION_TABLE_NAME", "sessions");
/// let beside = Throttle::new(&Config::from_vars([("ARC_ENV", "testing"), sessions])?)?;
/// assert!(format!("{beside:?}").contains(r#"table: "sessions""#));
/// let apart = Throttle::new(&Config::from_vars([
///     ("ARC_ENV", "testing"),
///     sessions,
///     ("ARC_THROTTLE_TABLE_NAME", "sign-ins"),
/// ])?)?;
/// assert!(format!("{apart:?}").contains(r#"table: "sign-ins""#));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Throttle {
    inner: Arc<Inner>,
}

struct Inner {
    table: String,
    client: OnceCell<Client>,
    key: [u8; 32],
    rule: Rule,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("table", &self.inner.table)
            .field("rule", &self.inner.rule)
            .finish_non_exhaustive()
    }
}

/// What [`Throttle::attempt`] decided.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::http::Response;
/// use arc_functions::throttle::{Admission, Throttle};
///
/// // The count lives in DynamoDB: this needs the table.
/// # async fn f(throttle: Throttle) -> Result<(), arc_functions::throttle::Error> {
/// let response = match throttle.attempt("ann", Some("198.51.100.7")).await? {
///     Admission::Allowed(attempt) => Response::text(format!("attempt {}", attempt.number())),
///     Admission::Locked(locked) => locked.response(),
/// };
/// # let _ = response;
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub enum Admission {
    /// Go on and check the password; call [`Attempt::succeeded`] when it is right.
    Allowed(Attempt),
    /// Refuse without checking anything: the count is locked.
    Locked(Locked),
}

/// An attempt let through, counted.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::throttle::{Admission, Throttle};
///
/// // The count lives in DynamoDB: this needs the table.
/// # async fn f(throttle: Throttle, password_ok: bool) -> Result<(), arc_functions::throttle::Error> {
/// if let Admission::Allowed(attempt) = throttle.attempt("ann", None).await? {
///     if password_ok {
///         attempt.succeeded().await?;
///     }
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Attempt {
    inner: Arc<Inner>,
    id: String,
    number: u32,
}

impl std::fmt::Debug for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attempt")
            .field("number", &self.number)
            .finish_non_exhaustive()
    }
}

/// A refusal: how long until the next attempt may go through.
///
/// # Examples
///
/// ```no_run
/// use arc_functions::http::Response;
/// use arc_functions::throttle::{Admission, Throttle};
///
/// // Only a count in DynamoDB locks: this needs the table.
/// # async fn f(throttle: Throttle) -> Result<(), arc_functions::throttle::Error> {
/// if let Admission::Locked(locked) = throttle.attempt("ann", None).await? {
///     let response: Response = locked.response();
///     # let _ = response;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locked {
    retry_after: Duration,
}

impl Locked {
    /// How long until the next attempt may go through (whole seconds, at least one).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use arc_functions::throttle::{Admission, Throttle};
    ///
    /// // Only a count in DynamoDB locks: this needs the table.
    /// # async fn f(throttle: Throttle) -> Result<(), arc_functions::throttle::Error> {
    /// if let Admission::Locked(locked) = throttle.attempt("ann", Some("198.51.100.7")).await? {
    ///     println!("try again in {} s", locked.retry_after().as_secs());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn retry_after(&self) -> Duration {
        self.retry_after
    }

    /// The answer to send: `429 Too Many Requests` with `Retry-After` and a short page.
    ///
    /// # Examples
    ///
    /// ```
    /// # use arc_functions::throttle::Locked;
    /// # fn show(locked: Locked) {
    /// let response = locked.response();
    /// # }
    /// ```
    pub fn response(&self) -> crate::http::Response {
        let secs = self.retry_after.as_secs().max(1);
        crate::http::Response::html(format!(
            "<!doctype html>\n<title>Too many attempts</title>\n<p>Too many sign-in attempts. Try again in {} {}.</p>\n",
            secs.div_ceil(60).max(1),
            if secs > 60 { "minutes" } else { "minute" }
        ))
        .status(429)
        .header("retry-after", secs.to_string())
        .cache_control("no-store")
    }
}

impl Attempt {
    /// Which attempt this is since the count began (one for the first).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use arc_functions::throttle::{Admission, Throttle};
    ///
    /// // The count lives in DynamoDB: this needs the table.
    /// # async fn f(throttle: Throttle) -> Result<(), arc_functions::throttle::Error> {
    /// if let Admission::Allowed(attempt) = throttle.attempt("ann", None).await? {
    ///     // One for the first attempt since the count began.
    ///     if attempt.number() > 3 {
    ///         println!("ask for a captcha from now on");
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn number(&self) -> u32 {
        self.number
    }

    /// The sign-in succeeded: the count starts again from zero ([`Key::Address`] counts are
    /// kept, see [`Key`]).
    ///
    /// # Errors
    ///
    /// [`Error::DynamoDb`] when the count cannot be cleared.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use arc_functions::throttle::{Admission, Throttle};
    ///
    /// // Clearing the count is a DeleteItem: this needs the table.
    /// # async fn f(throttle: Throttle) -> Result<(), arc_functions::throttle::Error> {
    /// if let Admission::Allowed(attempt) = throttle.attempt("ann", Some("198.51.100.7")).await? {
    ///     attempt.succeeded().await?;
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn succeeded(&self) -> Result<(), Error> {
        if self.inner.rule.key == Key::Address {
            return Ok(());
        }
        self.inner
            .client()
            .await
            .delete_item()
            .table_name(&self.inner.table)
            .key(ID, AttributeValue::S(self.id.clone()))
            .send()
            .bounded()
            .await
            .map_err(|e| self.inner.fault("DeleteItem", e))?;
        Ok(())
    }
}

impl Throttle {
    /// A throttle for `config`, with the [default rule](Rule::default): its table is
    /// `ARC_THROTTLE_TABLE_NAME`, else the session table; its client is built from the AWS
    /// environment on first use.
    ///
    /// # Errors
    ///
    /// [`Error::NoTable`] in cookie mode without `ARC_THROTTLE_TABLE_NAME`.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::throttle::{Error, Throttle};
    ///
    /// let cookie_mode = Config::from_vars([("ARC_ENV", "testing")])?;
    /// assert!(matches!(Throttle::new(&cookie_mode), Err(Error::NoTable)));
    /// let dynamodb = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "s")])?;
    /// assert!(Throttle::new(&dynamodb).is_ok());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(config: &Config) -> Result<Self, Error> {
        Self::build(config, None)
    }

    /// [`Throttle::new`] with the configuration the handler wrapper reads from the environment:
    /// the same value, read once per process (a secret in Secrets Manager is fetched once).
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for an invalid environment; [`Error::NoTable`] as in [`Throttle::new`].
    pub fn from_env() -> Result<Self, Error> {
        let (_, config) = crate::runtime::Process::get().parts()?;
        Self::new(&config)
    }

    /// [`Throttle::from_env`] for a function's `main`, as
    /// [`async_handler`](crate::http::async_handler) reads its configuration: on an error it
    /// logs it and exits the process with status 1, so the function fails to start with a
    /// message saying what to set (in cookie mode without `ARC_THROTTLE_TABLE_NAME`, say).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let throttle = arc_functions::throttle::Throttle::from_env_or_exit();
    /// # drop(throttle);
    /// ```
    pub fn from_env_or_exit() -> Self {
        crate::runtime::build_or_exit(Self::from_env)
    }

    /// [`Throttle::new`] with a DynamoDB client you built (a local endpoint, say).
    ///
    /// # Errors
    ///
    /// [`Error::NoTable`] as in [`Throttle::new`].
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::throttle::{Error, Throttle};
    /// use aws_sdk_dynamodb::config::{BehaviorVersion, Region};
    ///
    /// // A local DynamoDB; nothing is called until the first attempt.
    /// let local = aws_sdk_dynamodb::Client::from_conf(
    ///     aws_sdk_dynamodb::Config::builder()
    ///         .behavior_version(BehaviorVersion::latest())
    ///         .region(Region::new("us-east-1"))
    ///         .endpoint_url("http://127.0.0.1:8000")
    ///         .build(),
    /// );
    /// let config = Config::from_vars([("ARC_ENV", "testing"), ("ARC_THROTTLE_TABLE_NAME", "sign-ins")])?;
    /// assert!(Throttle::with_dynamodb_client(&config, local.clone()).is_ok());
    /// let cookie_mode = Config::from_vars([("ARC_ENV", "testing")])?;
    /// assert!(matches!(Throttle::with_dynamodb_client(&cookie_mode, local), Err(Error::NoTable)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_dynamodb_client(config: &Config, client: Client) -> Result<Self, Error> {
        Self::build(config, Some(client))
    }

    fn build(config: &Config, client: Option<Client>) -> Result<Self, Error> {
        let table = match (&config.throttle.table, &config.storage) {
            (Some(table), _) | (None, Storage::DynamoDb { table }) => table.clone(),
            (None, _) => return Err(Error::NoTable),
        };
        Ok(Self {
            inner: Arc::new(Inner {
                table,
                client: OnceCell::new_with(client),
                key: Keyring::new(config).current().throttle,
                rule: Rule::default(),
            }),
        })
    }

    /// This throttle with `rule`.
    ///
    /// # Examples
    ///
    /// ```
    /// use arc_functions::config::Config;
    /// use arc_functions::throttle::{Rule, Throttle};
    ///
    /// let config = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "s")])?;
    /// let throttle = Throttle::new(&config)?.rule(Rule::default().attempts(3));
    /// assert!(format!("{throttle:?}").contains("attempts: 3"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn rule(self, rule: Rule) -> Self {
        let inner = Inner {
            table: self.inner.table.clone(),
            client: OnceCell::new_with(self.inner.client.get().cloned()),
            key: self.inner.key,
            rule,
        };
        Self {
            inner: Arc::new(inner),
        }
    }

    /// Counts a sign-in attempt by `user` from `address` (the request's
    /// [`source_ip`](crate::http::Request::source_ip); `None` counts it under the user name
    /// alone), or refuses it while the count is locked.
    ///
    /// # Errors
    ///
    /// [`Error::DynamoDb`] when the table cannot be read or written.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use arc_functions::config::Config;
    /// use arc_functions::throttle::{Admission, Throttle};
    ///
    /// // The count lives in DynamoDB: this needs the table.
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = Config::from_vars([("ARC_ENV", "testing"), ("SESSION_TABLE_NAME", "sessions")])?;
    /// let throttle = Throttle::new(&config)?;
    /// match throttle.attempt("Ann ", Some("2001:db8::1")).await? {
    ///     Admission::Allowed(attempt) => println!("attempt {}", attempt.number()),
    ///     Admission::Locked(locked) => println!("locked for {:?}", locked.retry_after()),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn attempt(&self, user: &str, address: Option<&str>) -> Result<Admission, Error> {
        let id = self.inner.id(user, address);
        self.inner.count(id, keys::now()).await
    }
}

impl Inner {
    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async { Client::new(&crate::aws::sdk_config().await) })
            .await
    }

    /// The counter's item id: an HMAC of what the rule counts, so the table holds neither the
    /// user name nor the address.
    fn id(&self, user: &str, address: Option<&str>) -> String {
        let user = user.trim().to_lowercase();
        let address = address.map(network).unwrap_or_default();
        let (kind, parts): (&[u8], [&[u8]; 2]) = match self.rule.key {
            Key::UserAndAddress => (b"ua", [user.as_bytes(), address.as_bytes()]),
            Key::User => (b"u", [user.as_bytes(), b""]),
            Key::Address => (b"a", [b"", address.as_bytes()]),
        };
        let mac = keys::hmac(&self.key, &[kind, b"\0", parts[0], b"\0", parts[1]]);
        format!(
            "throttle#{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
    }

    /// Reads the count and, unless it is locked, moves it on by one with a write conditional
    /// on the count read: of attempts racing for one count, exactly one wins each step, and
    /// the others read again.
    async fn count(self: &Arc<Self>, id: String, now: u64) -> Result<Admission, Error> {
        let client = self.client().await;
        for _ in 0..RACES {
            let item = client
                .get_item()
                .table_name(&self.table)
                .key(ID, AttributeValue::S(id.clone()))
                .consistent_read(true)
                .send()
                .bounded()
                .await
                .map_err(|e| self.fault("GetItem", e))?
                .item;
            let read = Count::read(item.as_ref(), now);
            if let Some(retry_after) = read.locked(now) {
                return Ok(Admission::Locked(Locked { retry_after }));
            }
            let (stored, attempts) = (read.stored, read.attempts);
            let number = u32::try_from(attempts.saturating_add(1)).unwrap_or(u32::MAX);
            // `now` itself when no lockout follows: a count locked until now is not locked.
            let locked_until = now + self.rule.lockout_after(number);
            let expires = now.max(locked_until) + self.rule.forget_after.as_secs();
            let mut put = client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(HashMap::from([
                    (ID.to_owned(), AttributeValue::S(id.clone())),
                    (ATTEMPTS.to_owned(), n(u64::from(number))),
                    (LOCKED_UNTIL.to_owned(), n(locked_until)),
                    (TTL.to_owned(), n(expires)),
                ])));
            put = match stored {
                Some(stored) => put
                    .condition_expression("#n = :n")
                    .expression_attribute_names("#n", ATTEMPTS)
                    .expression_attribute_values(":n", n(stored)),
                None => put
                    .condition_expression("attribute_not_exists(#idx)")
                    .expression_attribute_names("#idx", ID),
            };
            match put.send().bounded().await {
                Ok(_) => {
                    return Ok(Admission::Allowed(Attempt {
                        inner: Arc::clone(self),
                        id,
                        number,
                    }));
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|e| e.is_conditional_check_failed_exception()) => {}
                Err(e) => return Err(self.fault("PutItem", e)),
            }
        }
        // Lost every race: a flood of attempts on one count. Refuse this one briefly.
        tracing::warn!("sign-in attempts race on one count; refusing one for a second");
        Ok(Admission::Locked(Locked {
            retry_after: Duration::from_secs(1),
        }))
    }

    fn fault<E, R>(&self, operation: &'static str, err: SdkError<E, R>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
        aws_sdk_dynamodb::Error: From<SdkError<E, R>>,
    {
        Error::DynamoDb {
            operation,
            table: self.table.clone(),
            unavailable: crate::aws::is_unavailable(&err),
            source: Box::new(aws_sdk_dynamodb::Error::from(err)),
        }
    }
}

#[cfg(test)]
mod tests;
