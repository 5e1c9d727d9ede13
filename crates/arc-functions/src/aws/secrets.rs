//! The app secret read from Secrets Manager at cold start (`ARC_APP_SECRET_ARN`), so that it is
//! never in the function's configuration, where anyone allowed to read the function
//! (`lambda:GetFunctionConfiguration`) would read it too.
//!
//! The secret's `AWSCURRENT` version seals and signs; its `AWSPREVIOUS` version, when there is
//! one, still opens: a rotation in Secrets Manager is then a key rotation, and nobody is signed
//! out. A function reads them once, when it starts; one that started before a rotation goes on
//! with the old version as its current, whose cookies the new ones open as the previous.
//!
//! Two `GetSecretValue` calls are all a cookie-mode route asks of AWS, so they are made here
//! without the AWS SDK: signed by `aws-sigv4` (the SDK's own signer) and sent over the same
//! TLS as the SDK's clients ([`super::tls`]). The SDK's Secrets Manager client, its
//! configuration loader and its runtime were 4.4 MB of such a route's 8.2 MB bootstrap
//! (BENCHMARKS.md, "What get-index is made of"). What the SDK would also read and this does not:
//! profiles and SSO. Credentials come from the environment, as Lambda (and `sam local`) set
//! them.

use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use lambda_http::http::{self, StatusCode};
use serde::Deserialize;

use super::tls::{self, TrustStore};

/// The longest the fetch may hold up a cold start before the function fails to start.
const FETCH_LIMIT: Duration = Duration::from_secs(5);

/// How long one attempt (connecting included) may take before it is abandoned and retried.
/// Secrets Manager answers in milliseconds and a new TLS connection takes tens of them.
const ATTEMPT_LIMIT: Duration = Duration::from_millis(1500);

/// At most this many attempts per version, as the SDK's standard retry policy makes.
const ATTEMPTS: u32 = 3;

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
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    trust: TrustStore,
}

impl Target {
    fn read(secret_id: &str, var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let var = |name: &str| var(name).filter(|v| !v.is_empty());
        let (Some(access_key_id), Some(secret_access_key)) =
            (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err(
                "no AWS credentials in the environment: AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY are unset (Lambda always sets them; elsewhere export \
                 them, for example with `aws configure export-credentials --format env`)"
                    .to_owned(),
            );
        };
        // An ARN names its region: arn:<partition>:secretsmanager:<region>:<account>:secret:…
        let arn_region = secret_id
            .strip_prefix("arn:")
            .and_then(|arn| arn.split(':').nth(2))
            .filter(|region| !region.is_empty());
        let Some(region) = var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .or_else(|| arn_region.map(str::to_owned))
        else {
            return Err(
                "no AWS region: AWS_REGION is unset and the secret is named by \
                        name, not by ARN"
                    .to_owned(),
            );
        };
        let given = if var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
        {
            None
        } else {
            var("AWS_ENDPOINT_URL_SECRETS_MANAGER").or_else(|| var("AWS_ENDPOINT_URL"))
        };
        let endpoint = match given {
            Some(url) if url.ends_with('/') => url,
            Some(url) => format!("{url}/"),
            None => {
                let fips = var("AWS_USE_FIPS_ENDPOINT").is_some_and(|v| v == "true");
                let host = if fips {
                    format!("{SERVICE}-fips")
                } else {
                    SERVICE.to_owned()
                };
                let suffix = if region.starts_with("cn-") {
                    "amazonaws.com.cn"
                } else {
                    "amazonaws.com"
                };
                format!("https://{host}.{region}.{suffix}/")
            }
        };
        Ok(Self {
            endpoint,
            region,
            access_key_id,
            secret_access_key,
            session_token: var("AWS_SESSION_TOKEN"),
            trust: TrustStore::read(|name| var(name)),
        })
    }

    /// A `GetSecretValue` request for one version stage of `secret_id`, signed at `now`.
    fn request(
        &self,
        secret_id: &str,
        stage: &str,
        now: SystemTime,
    ) -> Result<http::Request<Full<Bytes>>, String> {
        let body = serde_json::json!({ "SecretId": secret_id, "VersionStage": stage }).to_string();
        let mut request = http::Request::post(&self.endpoint)
            .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")
            .header("x-amz-target", "secretsmanager.GetSecretValue")
            .body(())
            .map_err(|e| format!("the endpoint {} is no URL: {e}", self.endpoint))?;
        let host = request
            .uri()
            .authority()
            .and_then(|a| http::HeaderValue::from_str(a.as_str()).ok())
            .ok_or_else(|| format!("the endpoint {} names no host", self.endpoint))?;
        request.headers_mut().insert(http::header::HOST, host);

        let identity: Identity = Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            self.session_token.clone(),
            None,
            "environment",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(SERVICE)
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| e.to_string())?
            .into();
        let headers = request
            .headers()
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
        let signable = SignableRequest::new(
            "POST",
            self.endpoint.as_str(),
            headers,
            SignableBody::Bytes(body.as_bytes()),
        )
        .and_then(|signable| sign(signable, &params))
        .map_err(|e| format!("cannot sign the request: {e}"))?;
        let (instructions, _) = signable.into_parts();
        instructions.apply_to_request_http1x(&mut request);
        Ok(request.map(|()| Full::new(Bytes::from(body))))
    }
}

async fn versions(target: &Target, secret_id: &str) -> Result<Versions, String> {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(
        tls::connector(Some(ATTEMPT_LIMIT), tls::roots(target.trust)),
    );
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

type Https = hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>;

/// The `SecretString` of one version stage; `None` when the secret has no such version.
async fn version(
    client: &Client<Https, Full<Bytes>>,
    target: &Target,
    secret_id: &str,
    stage: &str,
) -> Result<Option<String>, String> {
    let failed = |why: String| format!("GetSecretValue ({stage}) failed: {why}");
    let mut attempt = 1;
    loop {
        let request = target.request(secret_id, stage, SystemTime::now())?;
        let answer = match tokio::time::timeout(ATTEMPT_LIMIT, call(client, request)).await {
            Ok(answer) => answer,
            Err(_) => Err(Fault::Transient(format!(
                "no answer within {ATTEMPT_LIMIT:?}"
            ))),
        };
        match answer {
            Ok(Answer::Secret(text)) => return Ok(Some(text)),
            Ok(Answer::Binary) => {
                return Err(failed(format!(
                    "its {stage} version holds binary data, not a SecretString"
                )));
            }
            // A secret never rotated has no AWSPREVIOUS: that is no error.
            Err(Fault::Refused(kind, _))
                if stage != "AWSCURRENT" && kind == "ResourceNotFoundException" =>
            {
                return Ok(None);
            }
            Err(Fault::Transient(why)) if attempt < ATTEMPTS => {
                tracing::debug!(stage, attempt, why, "GetSecretValue is retried");
                // 50 ms, then 100 ms: Secrets Manager recovers in moments, and the start has
                // FETCH_LIMIT in all.
                tokio::time::sleep(Duration::from_millis(50 << (attempt - 1))).await;
                attempt += 1;
            }
            Err(Fault::Transient(why)) => return Err(failed(why)),
            Err(Fault::Refused(kind, message)) => {
                return Err(failed(format!("{kind}: {message}")));
            }
        }
    }
}

/// What a `GetSecretValue` call answered.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    Secret(String),
    /// A `SecretBinary`, which no app secret is.
    Binary,
}

/// Why a call failed.
#[derive(Debug, PartialEq, Eq)]
enum Fault {
    /// No answer, a 5xx, or throttled: worth another attempt.
    Transient(String),
    /// Refused for good: the error's type (`ResourceNotFoundException`) and message.
    Refused(String, String),
}

async fn call(
    client: &Client<Https, Full<Bytes>>,
    request: http::Request<Full<Bytes>>,
) -> Result<Answer, Fault> {
    let response = client
        .request(request)
        .await
        .map_err(|e| Fault::Transient(error_chain(&e)))?;
    let status = response.status();
    let error_type = response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| Fault::Transient(error_chain(&e)))?
        .to_bytes();
    answer(status, error_type.as_deref(), &body)
}

/// Reads a response of the AWS JSON 1.1 protocol: the secret on 200, else the error's type,
/// from `x-amzn-errortype` or the body's `__type` (either may carry a namespace before `#`
/// and details after `:`).
fn answer(status: StatusCode, error_type: Option<&str>, body: &[u8]) -> Result<Answer, Fault> {
    #[derive(Deserialize)]
    struct Secret {
        #[serde(rename = "SecretString")]
        string: Option<String>,
    }
    #[derive(Deserialize, Default)]
    struct Error {
        #[serde(rename = "__type")]
        kind: Option<String>,
        #[serde(alias = "Message")]
        message: Option<String>,
    }
    if status == StatusCode::OK {
        let secret: Secret = serde_json::from_slice(body)
            .map_err(|e| Fault::Refused("an unreadable answer".into(), e.to_string()))?;
        return Ok(secret.string.map_or(Answer::Binary, Answer::Secret));
    }
    let error: Error = serde_json::from_slice(body).unwrap_or_default();
    let kind = error_type
        .or(error.kind.as_deref())
        .map(|t| {
            let t = t.rsplit('#').next().unwrap_or(t);
            t.split(':').next().unwrap_or(t).to_owned()
        })
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let message = error.message.unwrap_or_default();
    let throttled = matches!(
        kind.as_str(),
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" | "RequestLimitExceeded"
    );
    if status.is_server_error() || throttled {
        Err(Fault::Transient(format!("{kind}: {message}")))
    } else {
        Err(Fault::Refused(kind, message))
    }
}

/// An error and its sources, one line: hyper's own says little ("client error (Connect)").
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests;
