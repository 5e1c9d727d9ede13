//! The users, in the app's `@tables users` table (`name *String`): one item per user with
//! `hash`, the password's Argon2id hash as a PHC string, and `stamp`, the credential stamp its
//! sessions are checked against (drawn anew with every password change, which ends every
//! session signed in before it).
//!
//! Argon2id with OWASP's parameters (Password Storage Cheat Sheet): 19 MiB of memory, two
//! passes, one lane. The PHC string carries its salt and parameters, so raising them later
//! still verifies the hashes made before.

use std::sync::Arc;

use arc_functions::http::session::{BoxError, new_stamp};
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use tokio::sync::OnceCell;

/// The variable naming the users table (`cargo arc dev` and `cargo arc sam` set it).
pub const TABLE_VARIABLE: &str = "USERS_TABLE_NAME";

/// OWASP's minimum for Argon2id: m = 19,456 KiB, t = 2, p = 1.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// A user as the pages need them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// The name they sign in with, the table's key.
    pub name: String,
    /// Their credential stamp.
    pub stamp: String,
}

/// The users table and the hasher. Cheap to clone; the DynamoDB client is built on first use,
/// from the library's SDK configuration.
#[derive(Clone)]
pub struct Users {
    table: Arc<str>,
    client: Arc<OnceCell<Client>>,
    hasher: Argon2<'static>,
    /// A hash of no one's password, verified against when the name is unknown, so that a
    /// wrong name takes as long as a wrong password.
    decoy: Arc<str>,
}

impl std::fmt::Debug for Users {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Users")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl Users {
    /// The users of `table`, through `client` (built on first use when `None`).
    ///
    /// # Errors
    ///
    /// When the OS random source fails (the decoy hash needs a salt).
    ///
    /// # Examples
    ///
    /// ```
    /// let users = example_login::Users::new("bigsesh-users", None)?;
    /// assert!(format!("{users:?}").contains("bigsesh-users"));
    /// # Ok::<(), arc_functions::http::session::BoxError>(())
    /// ```
    pub fn new(table: &str, client: Option<Client>) -> Result<Self, BoxError> {
        let params = Params::new(MEMORY_KIB, PASSES, LANES, None)?;
        let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let decoy = hasher.hash_password(new_stamp()?.as_bytes())?.to_string();
        Ok(Self {
            table: Arc::from(table),
            client: Arc::new(OnceCell::new_with(client)),
            hasher,
            decoy: Arc::from(decoy),
        })
    }

    /// The users of the table [`TABLE_VARIABLE`] names.
    ///
    /// # Errors
    ///
    /// When the variable is unset, saying what to set.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// let users = example_login::Users::from_env()?;
    /// # Ok::<(), arc_functions::http::session::BoxError>(())
    /// ```
    pub fn from_env() -> Result<Self, BoxError> {
        let table = std::env::var(TABLE_VARIABLE)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .ok_or_else(|| {
                format!("{TABLE_VARIABLE} is not set: name the app's `@tables users` table (cargo arc dev and cargo arc sam set it)")
            })?;
        Self::new(table.trim(), None)
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async { Client::new(&arc_functions::config::aws_sdk_config().await) })
            .await
    }

    /// Signs a new user up: their password hashed, a first stamp drawn. `None` when the name
    /// is taken (a conditional put: two sign-ups racing for one name cannot both win).
    ///
    /// # Errors
    ///
    /// When hashing or the table fails.
    pub async fn sign_up(&self, name: &str, password: &str) -> Result<Option<User>, BoxError> {
        let hash = self.hasher.hash_password(password.as_bytes())?.to_string();
        let stamp = new_stamp()?;
        let put = self
            .client()
            .await
            .put_item()
            .table_name(&*self.table)
            .item("name", AttributeValue::S(name.to_owned()))
            .item("hash", AttributeValue::S(hash))
            .item("stamp", AttributeValue::S(stamp.clone()))
            .condition_expression("attribute_not_exists(#name)")
            .expression_attribute_names("#name", "name")
            .send()
            .await;
        match put {
            Ok(_) => Ok(Some(User {
                name: name.to_owned(),
                stamp,
            })),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws_sdk_dynamodb::Error::from(e).into()),
        }
    }

    /// The user `name` when `password` is theirs. An unknown name costs one hash
    /// verification all the same.
    ///
    /// # Errors
    ///
    /// When the table cannot be read or a stored hash is not a PHC string.
    pub async fn verify(&self, name: &str, password: &str) -> Result<Option<User>, BoxError> {
        let item = self.get(name, "#name, #hash, #stamp").await?;
        let text = |key: &str| match item.as_ref().and_then(|i| i.get(key)) {
            Some(AttributeValue::S(s)) => Some(s.clone()),
            _ => None,
        };
        let (hash, stamp) = match (text("hash"), text("stamp")) {
            (Some(hash), Some(stamp)) => (hash, Some(stamp)),
            _ => (self.decoy.to_string(), None),
        };
        let matches = self
            .hasher
            .verify_password(password.as_bytes(), &PasswordHash::new(&hash)?)
            .is_ok();
        Ok(stamp.filter(|_| matches).map(|stamp| User {
            name: name.to_owned(),
            stamp,
        }))
    }

    /// The current stamp of `name`; `None` when there is no such user. What the store checks
    /// every signed-in session against: one GetItem per signed-in request.
    ///
    /// # Errors
    ///
    /// When the table cannot be read.
    pub async fn stamp(&self, name: &str) -> Result<Option<String>, BoxError> {
        Ok(
            match self
                .get(name, "#stamp")
                .await?
                .and_then(|mut i| i.remove("stamp"))
            {
                Some(AttributeValue::S(stamp)) => Some(stamp),
                _ => None,
            },
        )
    }

    /// Sets a new password for `name` and draws a new stamp, which ends every session signed
    /// in before; returns the new stamp, for the session that changed it to sign in again.
    ///
    /// # Errors
    ///
    /// When hashing or the table fails.
    pub async fn change_password(&self, name: &str, password: &str) -> Result<String, BoxError> {
        let hash = self.hasher.hash_password(password.as_bytes())?.to_string();
        let stamp = new_stamp()?;
        self.client()
            .await
            .update_item()
            .table_name(&*self.table)
            .key("name", AttributeValue::S(name.to_owned()))
            .update_expression("SET #hash = :hash, #stamp = :stamp")
            .condition_expression("attribute_exists(#name)")
            .expression_attribute_names("#name", "name")
            .expression_attribute_names("#hash", "hash")
            .expression_attribute_names("#stamp", "stamp")
            .expression_attribute_values(":hash", AttributeValue::S(hash))
            .expression_attribute_values(":stamp", AttributeValue::S(stamp.clone()))
            .send()
            .await
            .map_err(aws_sdk_dynamodb::Error::from)?;
        Ok(stamp)
    }

    async fn get(
        &self,
        name: &str,
        projection: &str,
    ) -> Result<Option<std::collections::HashMap<String, AttributeValue>>, BoxError> {
        let mut get = self
            .client()
            .await
            .get_item()
            .table_name(&*self.table)
            .key("name", AttributeValue::S(name.to_owned()))
            .consistent_read(true)
            .projection_expression(projection);
        for (placeholder, attribute) in [("#name", "name"), ("#hash", "hash"), ("#stamp", "stamp")]
        {
            if projection.contains(placeholder) {
                get = get.expression_attribute_names(placeholder, attribute);
            }
        }
        Ok(get
            .send()
            .await
            .map_err(aws_sdk_dynamodb::Error::from)?
            .item)
    }
}
