//! DynamoDB without the AWS SDK, for the session store's own calls on its items (GetItem,
//! PutItem, UpdateItem, DeleteItem): signed and sent as [`super::signed`] sends every call, on a
//! pool whose first connection is opened at cold start without a request ([`Client::connect`]).
//!
//! Why: building the SDK's client and sending two requests through its orchestrator was
//! 1.2 M of the 1.4 M instructions DynamoDB mode added to a route's first response (the
//! client's construction 476 k, most of it the endpoint partition table it parses and compiles
//! whatever the configuration; then about 400 k for each request, the warm-up's and the first
//! real one); BENCHMARKS.md, "Goals". The store falls back to the SDK's client when the
//! environment asks for what only the SDK reads ([`Client::from_env`]), or when it is given one.
//! Written here because no other kept crate speaks DynamoDB (rusoto, which did, is
//! unmaintained), and these four calls need little: the signer of [`super::signed`] and the
//! SDK's `AttributeValue` type, used as it is.
//!
//! The wire format is DynamoDB's JSON 1.0 protocol: `POST /` with `X-Amz-Target:
//! DynamoDB_20120810.<Operation>`, and attributes written `{"S": "text"}`, `{"N": "12"}`,
//! `{"M": {…}}` as [`wire`] and [`attribute`] convert them. Retried as the SDK is configured
//! for DynamoDB here ([`RETRY`]), within the invocation's time ([`crate::deadline`]).

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::AttributeValue;
use aws_smithy_types::Blob;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client as Hyper;
use lambda_http::http::{Method, Uri};
use serde_json::{Map, Value, json};

use super::env::Env;
use super::http_client::{Keeping, keeping_pool};
use super::sdk::ATTEMPT_TIMEOUT;
use super::signed::{self, Call, Credentials, Fault, Retry};
use super::tls::{self, TrustStore};
use crate::deadline::{Deadline, OutOfTime};

/// The signing name and endpoint prefix of DynamoDB.
const SERVICE: &str = "dynamodb";

/// As the SDK's client is configured (`super::sdk`): ten attempts, waits from 25 ms with full
/// jitter doubling to at most a second, an attempt given a second; all within the invocation's
/// time left, the real bound.
const RETRY: Retry = Retry {
    attempts: 10,
    first_wait: Duration::from_millis(25),
    max_wait: Duration::from_secs(1),
    jitter: true,
    attempt_limit: ATTEMPT_TIMEOUT,
};

/// An item: its attributes by name.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// Calls to DynamoDB in one region, over one pool of connections.
pub(crate) struct Client {
    pool: Hyper<Keeping, Full<Bytes>>,
    connector: Keeping,
    /// `https://dynamodb.<region>.amazonaws.com/`, or the endpoint given, ending in `/`.
    endpoint: String,
    region: String,
    credentials: Credentials,
}

impl Client {
    /// The client the environment `var` reads describes: its credentials, region, endpoint
    /// (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL`, FIPS and dual-stack as the SDKs read
    /// them) and trust store. An error says why the SDK's client is needed instead: no
    /// credentials or region in the environment (a profile, SSO, a container's credentials),
    /// or retries chosen by `AWS_MAX_ATTEMPTS` or `AWS_RETRY_MODE`, which the SDK honours.
    pub(crate) fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let env = Env(&var);
        if let Some(name) = ["AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE"]
            .into_iter()
            .find(|name| env.is_set(name))
        {
            return Err(format!("{name} is set"));
        }
        let credentials = Credentials::read(&var)?;
        let region = env
            .region()
            .ok_or_else(|| "no AWS region: AWS_REGION is unset".to_owned())?;
        let endpoint = env.endpoint("AWS_ENDPOINT_URL_DYNAMODB", SERVICE, &region);
        endpoint
            .parse::<Uri>()
            .ok()
            .filter(|uri| uri.host().is_some())
            .ok_or_else(|| format!("the DynamoDB endpoint {endpoint:?} is not a URL"))?;
        let (pool, connector) =
            keeping_pool(Some(ATTEMPT_TIMEOUT), tls::roots(TrustStore::read(&var)));
        Ok(Self {
            pool,
            connector,
            endpoint,
            region,
            credentials,
        })
    }

    /// Where the calls go.
    pub(crate) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Opens a connection to the endpoint (TCP, and TLS for `https`) and keeps it for the next
    /// call, which then starts without connecting, and derives the day's signing key while the
    /// handshake is under way. Sends nothing.
    pub(crate) async fn connect(&self) -> Result<(), String> {
        let uri = self
            .endpoint
            .parse::<Uri>()
            .map_err(|e| format!("{}: {e}", self.endpoint))?;
        // `join!` polls the connection first, so the key is derived while it is being made.
        let (opened, ()) = tokio::join!(self.connector.open(uri), async {
            self.credentials.derive_key(&self.region, SERVICE);
        });
        opened.map_err(|e| signed::error_chain(e.as_ref()))
    }

    /// Calls `operation` (`GetItem`) with `input`, retried while DynamoDB is unavailable, within
    /// the invocation's time left; answers DynamoDB's answer. Out of time is
    /// [`Fault::Unavailable`], as every other transient failure.
    pub(crate) async fn call(&self, operation: &str, input: &Value) -> Result<Value, Fault> {
        let target = format!("DynamoDB_20120810.{operation}");
        let call = Call {
            method: Method::POST,
            url: &self.endpoint,
            headers: &[
                ("content-type", "application/x-amz-json-1.0"),
                ("x-amz-target", &target),
            ],
            body: Bytes::from(input.to_string()),
            service: SERVICE,
            region: &self.region,
        };
        let budget = Deadline::current().budget();
        let sent = signed::send(&self.pool, &self.credentials, &call, RETRY);
        let body = match tokio::time::timeout(budget, sent).await {
            Ok(answer) => answer?,
            Err(_) => return Err(Fault::Unavailable(OutOfTime { budget }.to_string())),
        };
        serde_json::from_slice(&body).map_err(|e| {
            Fault::Unavailable(format!("DynamoDB's answer to {operation} is not JSON: {e}"))
        })
    }
}

/// Whether `fault` is DynamoDB refusing a write whose condition did not hold.
pub(crate) fn unmet(fault: &Fault) -> bool {
    matches!(fault, Fault::Refused { kind, .. } if kind == "ConditionalCheckFailedException")
}

/// An attribute as DynamoDB's JSON protocol writes it: `{"S": "text"}`.
pub(crate) fn wire(value: &AttributeValue) -> Value {
    let base64 = |b: &Blob| Value::String(STANDARD.encode(b.as_ref()));
    match value {
        AttributeValue::S(s) => json!({ "S": s }),
        AttributeValue::N(n) => json!({ "N": n }),
        AttributeValue::Bool(b) => json!({ "BOOL": b }),
        AttributeValue::B(b) => json!({ "B": base64(b) }),
        AttributeValue::L(list) => json!({ "L": list.iter().map(wire).collect::<Vec<_>>() }),
        AttributeValue::M(map) => json!({ "M": wire_item(map) }),
        AttributeValue::Ss(set) => json!({ "SS": set }),
        AttributeValue::Ns(set) => json!({ "NS": set }),
        AttributeValue::Bs(set) => json!({ "BS": set.iter().map(base64).collect::<Vec<_>>() }),
        // `NULL`, and any type a later SDK adds, which nothing here writes.
        _ => json!({ "NULL": true }),
    }
}

/// Attributes by name, each as [`wire`] writes it: an item, a key, a map's value.
pub(crate) fn wire_item<'a>(
    item: impl IntoIterator<Item = (&'a String, &'a AttributeValue)>,
) -> Value {
    Value::Object(
        item.into_iter()
            .map(|(name, value)| (name.clone(), wire(value)))
            .collect(),
    )
}

/// An attribute of DynamoDB's answer; `None` when it is not one (`{"S": 1}`, two types). A
/// type DynamoDB adds later reads as `NULL`.
pub(crate) fn attribute(value: Value) -> Option<AttributeValue> {
    let Value::Object(typed) = value else {
        return None;
    };
    let mut typed = typed.into_iter();
    let (kind, value) = typed.next()?;
    if typed.next().is_some() {
        return None;
    }
    let text = |v: Value| match v {
        Value::String(s) => Some(s),
        _ => None,
    };
    let texts = |v: Value| match v {
        Value::Array(list) => list.into_iter().map(text).collect::<Option<Vec<_>>>(),
        _ => None,
    };
    let blob = |v: Value| Some(Blob::new(STANDARD.decode(text(v)?).ok()?));
    Some(match kind.as_str() {
        "S" => AttributeValue::S(text(value)?),
        "N" => AttributeValue::N(text(value)?),
        "BOOL" => AttributeValue::Bool(value.as_bool()?),
        "B" => AttributeValue::B(blob(value)?),
        "L" => match value {
            Value::Array(list) => {
                AttributeValue::L(list.into_iter().map(attribute).collect::<Option<_>>()?)
            }
            _ => return None,
        },
        "M" => AttributeValue::M(item(value)?),
        "SS" => AttributeValue::Ss(texts(value)?),
        "NS" => AttributeValue::Ns(texts(value)?),
        "BS" => match value {
            Value::Array(list) => {
                AttributeValue::Bs(list.into_iter().map(blob).collect::<Option<_>>()?)
            }
            _ => return None,
        },
        _ => AttributeValue::Null(true),
    })
}

/// An item of DynamoDB's answer; `None` when it is not an object of attributes.
pub(crate) fn item(value: Value) -> Option<Item> {
    let Value::Object(attributes) = value else {
        return None;
    };
    attributes
        .into_iter()
        .map(|(name, value)| Some((name, attribute(value)?)))
        .collect()
}

/// `ExpressionAttributeNames` or `ExpressionAttributeValues` of a call, or nothing when there
/// are none: DynamoDB refuses an empty map.
pub(crate) fn expression_map<T>(
    entries: &[(&str, T)],
    each: impl Fn(&T) -> Value,
) -> Option<Value> {
    (!entries.is_empty()).then(|| {
        Value::Object(
            entries
                .iter()
                .map(|(name, value)| ((*name).to_owned(), each(value)))
                .collect::<Map<_, _>>(),
        )
    })
}

#[cfg(test)]
mod tests;
