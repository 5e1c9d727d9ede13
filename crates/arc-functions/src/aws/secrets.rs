//! The app secret read from Secrets Manager at cold start (`ARC_APP_SECRET_ARN`), so that it is
//! never in the function's configuration, where anyone allowed to read the function
//! (`lambda:GetFunctionConfiguration`) would read it too.
//!
//! The secret's `AWSCURRENT` version seals and signs; its `AWSPREVIOUS` version, when there is
//! one, still opens: a rotation in Secrets Manager is then a key rotation, and nobody is signed
//! out. A function reads them once, when it starts; one that started before a rotation goes on
//! with the old version as its current, whose cookies the new ones open as the previous.
//!
//! Two `GetSecretValue` calls, made without the AWS SDK ([`super::signed`] says why).

use std::time::Duration;

use bytes::Bytes;
use lambda_http::http::Method;
use serde::Deserialize;

use super::env::Env;
use super::signed::{self, Call, Credentials, Fault, Retry};

/// The longest the fetch may hold up a cold start before the function fails to start.
const FETCH_LIMIT: Duration = Duration::from_secs(5);

/// Three attempts of at most 1.5 s each, 50 then 100 ms apart: Secrets Manager answers in
/// milliseconds, a new TLS connection takes tens of them, and the start has [`FETCH_LIMIT`].
const RETRY: Retry = Retry {
    attempts: 3,
    first_wait: Duration::from_millis(50),
    max_wait: Duration::from_secs(1),
    jitter: false,
    attempt_limit: Duration::from_millis(1500),
};

/// The signing name and endpoint prefix of Secrets Manager.
const SERVICE: &str = "secretsmanager";

/// The secret's versions as Secrets Manager holds them: `AWSCURRENT`, then `AWSPREVIOUS` when
/// there is one.
#[derive(Debug)]
pub(crate) struct Versions {
    pub(crate) current: String,
    pub(crate) previous: Option<String>,
}

/// Reads both versions of `secret_id` (a name or an ARN), at cold start
/// ([`super::at_cold_start`]).
pub(crate) fn fetch(secret_id: &str) -> Result<Versions, String> {
    let target = Target::read(secret_id, |name| std::env::var(name).ok())?;
    super::at_cold_start(FETCH_LIMIT, || versions(&target, secret_id))
}

/// Where, and as whom, the secret is asked for: read from the environment the way the SDK
/// reads it, for the variables Lambda sets and the endpoint variables local runs set.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    /// `https://secretsmanager.<region>.amazonaws.com/`, or the endpoint given, ending in `/`.
    endpoint: String,
    region: String,
    credentials: Credentials,
}

impl Target {
    fn read(secret_id: &str, var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let credentials = Credentials::read(&var)?;
        let env = Env(var);
        // An ARN names its region: arn:<partition>:secretsmanager:<region>:<account>:secret:…
        let arn_region = secret_id
            .strip_prefix("arn:")
            .and_then(|arn| arn.split(':').nth(2))
            .filter(|region| !region.is_empty());
        let Some(region) = env.region().or_else(|| arn_region.map(str::to_owned)) else {
            return Err(
                "no AWS region: AWS_REGION is unset and the secret is named by \
                        name, not by ARN"
                    .to_owned(),
            );
        };
        let endpoint = env.endpoint("AWS_ENDPOINT_URL_SECRETS_MANAGER", SERVICE, &region);
        Ok(Self {
            endpoint,
            region,
            credentials,
        })
    }

    /// The `GetSecretValue` call for one version stage of `secret_id`.
    fn call<'a>(&'a self, secret_id: &str, stage: &str) -> Call<'a> {
        let body = serde_json::json!({ "SecretId": secret_id, "VersionStage": stage }).to_string();
        Call {
            method: Method::POST,
            url: &self.endpoint,
            headers: &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "secretsmanager.GetSecretValue"),
            ],
            body: Bytes::from(body),
            service: SERVICE,
            region: &self.region,
        }
    }
}

async fn versions(target: &Target, secret_id: &str) -> Result<Versions, String> {
    let client = signed::client(RETRY.attempt_limit);
    let (current, previous) = tokio::join!(
        version(&client, target, secret_id, "AWSCURRENT"),
        version(&client, target, secret_id, "AWSPREVIOUS")
    );
    let current = current?.ok_or_else(|| "it has no AWSCURRENT version".to_owned())?;
    Ok(Versions {
        current,
        previous: previous?,
    })
}

/// The `SecretString` of one version stage; `None` when the secret has no such version.
async fn version(
    client: &signed::Client,
    target: &Target,
    secret_id: &str,
    stage: &str,
) -> Result<Option<String>, String> {
    #[derive(Deserialize)]
    struct Secret {
        #[serde(rename = "SecretString")]
        string: Option<String>,
    }
    let failed = |why: &dyn std::fmt::Display| format!("GetSecretValue ({stage}) failed: {why}");
    let call = target.call(secret_id, stage);
    match signed::send(client, &target.credentials, &call, RETRY).await {
        Ok(body) => match serde_json::from_slice::<Secret>(&body) {
            Ok(Secret { string: Some(text) }) => Ok(Some(text)),
            Ok(Secret { string: None }) => Err(failed(&format!(
                "its {stage} version holds binary data, not a SecretString"
            ))),
            Err(e) => Err(failed(&format!("an unreadable answer: {e}"))),
        },
        // A secret never rotated has no AWSPREVIOUS: that is no error.
        Err(Fault::Refused { kind, .. })
            if stage != "AWSCURRENT" && kind == "ResourceNotFoundException" =>
        {
            Ok(None)
        }
        Err(fault) => Err(failed(&fault)),
    }
}

#[cfg(test)]
mod tests;
