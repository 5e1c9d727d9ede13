//! The DynamoDB provider: the cookie holds `<id>.<signature>`, the session lives in a table.
//!
//! Items: `_idx` (S, the id), `_ttl` (N, epoch seconds, now + `ARC_SESSION_TTL` on every
//! write), `_secret` (S, random per session, as @architect/functions writes it), `_created` (N,
//! for `ARC_SESSION_MAX_AGE`) and every session key as a top-level attribute. The signature is
//! HMAC-SHA256 of the id under the secret, base64 without `=`: the shape the `cookie-signature`
//! package that @architect/functions uses writes, so Node and Rust functions share a table.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use hmac::Mac;
use serde_json::{Map, Value};
use subtle::ConstantTimeEq;
use tokio::sync::OnceCell;

use super::Error;
use crate::config::{Config, Secret};
use crate::crypto;

const KEY: &str = "_idx";
const TTL: &str = "_ttl";
const SECRET: &str = "_secret";
const CREATED: &str = "_created";

/// Ids carry 192 random bits: well over the 128 that make guessing hopeless.
const ID_BYTES: usize = 24;

/// A session read from the table.
#[derive(Debug)]
pub(crate) struct Loaded {
    pub(crate) id: String,
    pub(crate) data: Map<String, Value>,
    pub(crate) created: u64,
    pub(crate) secret: Option<String>,
}

/// Sessions kept in one DynamoDB table.
pub(crate) struct DynamoStore {
    table: String,
    /// Signing secrets: `[0]` signs, all verify.
    secrets: Vec<Secret>,
    ttl: u64,
    max_age: Option<u64>,
    /// Built once per process, on first use: a cookieless request never pays for it.
    client: OnceCell<Client>,
}

impl std::fmt::Debug for DynamoStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

impl DynamoStore {
    pub(crate) fn new(config: &Config, table: String) -> Self {
        Self {
            table,
            secrets: std::iter::once(&config.secret)
                .chain(&config.previous_secrets)
                .cloned()
                .collect(),
            ttl: config.ttl,
            max_age: config.max_age,
            client: OnceCell::new(),
        }
    }

    /// Uses this client instead of one built from the AWS environment.
    pub(crate) fn with_client(self, client: Client) -> Self {
        Self {
            client: OnceCell::new_with(Some(client)),
            ..self
        }
    }

    pub(crate) fn table(&self) -> &str {
        &self.table
    }

    async fn client(&self) -> &Client {
        self.client
            .get_or_init(|| async {
                let config = aws_config::load_from_env().await;
                Client::new(&config)
            })
            .await
    }

    fn sign(secret: &Secret, id: &str) -> String {
        STANDARD_NO_PAD.encode(Self::mac(secret, id))
    }

    fn mac(secret: &Secret, id: &str) -> [u8; 32] {
        crypto::hmac(secret.as_bytes(), &[id.as_bytes()])
            .finalize()
            .into_bytes()
            .into()
    }

    /// The cookie value for an id: `<id>.<signature>`.
    pub(crate) fn cookie_value(&self, id: &str) -> String {
        format!("{id}.{}", Self::sign(&self.secrets[0], id))
    }

    /// The id of a cookie value whose signature verifies, and which secret signed it: 0 is the
    /// current one, 1.. the previous ones.
    pub(crate) fn verify(&self, value: &str) -> Option<(String, usize)> {
        // @architect/functions percent-encodes the value (`+` as `%2B`, `/` as `%2F`).
        let value = percent_encoding::percent_decode_str(value)
            .decode_utf8()
            .ok()?;
        let (id, signature) = value.rsplit_once('.')?;
        if id.is_empty() {
            return None;
        }
        // Accept standard or URL-safe base64, padded or not: cookie-signature writes standard
        // base64 without `=`, and a proxy may have re-encoded it.
        let given = STANDARD_NO_PAD
            .decode(signature.trim_end_matches('='))
            .or_else(|_| URL_SAFE_NO_PAD.decode(signature.trim_end_matches('=')))
            .ok()?;
        self.secrets.iter().enumerate().find_map(|(i, secret)| {
            bool::from(Self::mac(secret, id).ct_eq(given.as_slice())).then(|| (id.to_owned(), i))
        })
    }

    /// A new random id from the OS CSPRNG.
    pub(crate) fn new_id() -> Result<String, Error> {
        let mut bytes = [0u8; ID_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| Error::Random(e.to_string()))?;
        Ok(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Loads the session behind a verified id; `None` when missing or past its `_ttl`.
    pub(crate) async fn load(&self, id: &str, now: u64) -> Result<Option<Loaded>, Error> {
        let out = self
            .client()
            .await
            .get_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(id.to_owned()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.fault("GetItem", &e))?;
        let Some(mut item) = out.item else {
            return Ok(None);
        };
        let number = |v: Option<AttributeValue>| -> Option<u64> {
            match v {
                Some(AttributeValue::N(n)) => n.parse::<f64>().ok().map(|f| f as u64),
                _ => None,
            }
        };
        item.remove(KEY);
        let ttl = number(item.remove(TTL));
        // DynamoDB deletes expired items days late, so expiry is checked here.
        if ttl.is_none_or(|ttl| ttl <= now) {
            return Ok(None);
        }
        let created = number(item.remove(CREATED)).unwrap_or(now);
        if self
            .max_age
            .is_some_and(|max| now >= created.saturating_add(max))
        {
            return Ok(None);
        }
        let secret = match item.remove(SECRET) {
            Some(AttributeValue::S(s)) => Some(s),
            _ => None,
        };
        let data: Map<String, Value> =
            serde_dynamo::from_item(item).map_err(|e| Error::Item(e.to_string()))?;
        Ok(Some(Loaded {
            id: id.to_owned(),
            data,
            created,
            secret,
        }))
    }

    /// Writes the whole session under `id`, refreshing `_ttl`.
    pub(crate) async fn save(
        &self,
        id: &str,
        data: &Map<String, Value>,
        created: u64,
        secret: Option<&str>,
        now: u64,
    ) -> Result<(), Error> {
        let mut item: HashMap<String, AttributeValue> =
            serde_dynamo::to_item(data).map_err(|e| Error::Item(e.to_string()))?;
        let secret = match secret {
            Some(s) => s.to_owned(),
            None => Self::new_id()?,
        };
        item.insert(KEY.into(), AttributeValue::S(id.to_owned()));
        item.insert(
            TTL.into(),
            AttributeValue::N(now.saturating_add(self.ttl).to_string()),
        );
        item.insert(SECRET.into(), AttributeValue::S(secret));
        item.insert(CREATED.into(), AttributeValue::N(created.to_string()));
        self.client()
            .await
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| self.fault("PutItem", &e))?;
        Ok(())
    }

    /// Deletes the item behind `id`; a missing item is not an error.
    pub(crate) async fn delete(&self, id: &str) -> Result<(), Error> {
        self.client()
            .await
            .delete_item()
            .table_name(&self.table)
            .key(KEY, AttributeValue::S(id.to_owned()))
            .send()
            .await
            .map_err(|e| self.fault("DeleteItem", &e))?;
        Ok(())
    }

    fn fault<E, R>(&self, operation: &'static str, err: &SdkError<E, R>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let code = err
            .as_service_error()
            .and_then(|e| e.code())
            .map(str::to_owned);
        let unavailable = match err {
            SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => true,
            SdkError::ServiceError(_) => matches!(
                code.as_deref(),
                Some(
                    "ProvisionedThroughputExceededException"
                        | "RequestLimitExceeded"
                        | "ThrottlingException"
                        | "InternalServerError"
                        | "ServiceUnavailable"
                )
            ),
            _ => false,
        };
        let cause = match &code {
            Some(code) => format!(
                "{code}: {}",
                err.as_service_error()
                    .and_then(|e| e.message())
                    .unwrap_or("no message")
            ),
            None => format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(err)),
        };
        Error::DynamoDb {
            operation,
            table: self.table.clone(),
            unavailable,
            cause,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(vars: &[(&str, &str)]) -> DynamoStore {
        let config = Config::from_vars(vars.iter().copied()).expect("config");
        DynamoStore::new(&config, "t".into())
    }

    #[test]
    fn signature_matches_cookie_signature_shape() {
        // HMAC-SHA256("abc", key "secret"), base64 without '=': what Node's
        // cookie-signature computes for sign("abc", "secret").
        let s = store(&[("ARC_APP_SECRET", "secret")]);
        assert_eq!(
            s.cookie_value("abc"),
            "abc.mUba1OAOkT/Ivo5dP34RCkqegy+D+wnDRShdeGONig4"
        );
        assert_eq!(
            s.verify("abc.mUba1OAOkT/Ivo5dP34RCkqegy+D+wnDRShdeGONig4"),
            Some(("abc".into(), 0))
        );
        // As @architect/functions sends it: percent-encoded.
        assert_eq!(
            s.verify("abc.mUba1OAOkT%2FIvo5dP34RCkqegy%2BD%2BwnDRShdeGONig4"),
            Some(("abc".into(), 0))
        );
    }

    #[test]
    fn bad_signatures_are_refused() {
        let s = store(&[("ARC_APP_SECRET", "secret")]);
        let good = s.cookie_value("id-1");
        assert!(s.verify(&good).is_some());
        assert!(s.verify(&good.replace("id-1", "id-2")).is_none());
        assert!(s.verify("id-1").is_none());
        assert!(s.verify(".sig").is_none());
        assert!(s.verify("id-1.!!!").is_none());
        let other = store(&[("ARC_APP_SECRET", "other")]);
        assert!(other.verify(&good).is_none());
    }

    #[test]
    fn previous_secret_verifies_and_is_flagged() {
        let old = store(&[("ARC_APP_SECRET", "old")]);
        let new = store(&[
            ("ARC_APP_SECRET", "new"),
            ("ARC_APP_SECRET_PREVIOUS", "old"),
        ]);
        let cookie = old.cookie_value("x");
        assert_eq!(new.verify(&cookie), Some(("x".into(), 1)));
        assert_ne!(
            new.cookie_value("x"),
            cookie,
            "signing uses the current secret"
        );
    }

    /// Throttling and access errors cannot be caused in dynalite, so these are built by hand.
    fn service_error(code: &str) -> Error {
        use aws_sdk_dynamodb::config::http::HttpResponse;
        use aws_sdk_dynamodb::error::ErrorMetadata;
        use aws_sdk_dynamodb::operation::get_item::GetItemError;
        let err = GetItemError::generic(ErrorMetadata::builder().code(code).message("m").build());
        let raw = HttpResponse::new(
            aws_smithy_runtime_api::http::StatusCode::try_from(400).expect("status"),
            aws_smithy_types::body::SdkBody::empty(),
        );
        store(&[]).fault("GetItem", &SdkError::service_error(err, raw))
    }

    #[test]
    fn throttling_is_unavailable_and_access_errors_are_not() {
        for code in [
            "ProvisionedThroughputExceededException",
            "ThrottlingException",
            "RequestLimitExceeded",
        ] {
            let e = service_error(code);
            assert!(e.is_unavailable(), "{code}");
            assert!(e.to_string().contains(code), "{e}");
        }
        for code in [
            "AccessDeniedException",
            "ResourceNotFoundException",
            "ValidationException",
        ] {
            assert!(!service_error(code).is_unavailable(), "{code}");
        }
        let e = service_error("AccessDeniedException");
        assert_eq!(
            e.to_string(),
            "DynamoDB GetItem on table \"t\" failed: AccessDeniedException: m"
        );
    }

    #[test]
    fn ids_are_long_and_unique() {
        let a = DynamoStore::new_id().expect("id");
        let b = DynamoStore::new_id().expect("id");
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
    }
}
