//! A call to an AWS API without the AWS SDK: signed (Signature Version 4, [`sigv4`], held by
//! its tests to the SDK's own signer) with the credentials in the environment, sent over the TLS of
//! [`super::tls`], retried while the failure is AWS's, and its error read as the JSON
//! protocols write them.
//!
//! Cookie mode asks two things of AWS: the app secret at cold start (Secrets Manager) and, with
//! WebSockets, the management API's three calls. Through the SDK those cost a route its
//! configuration loader, credential chain, orchestrator and two service clients: 4.4 MB of an
//! 8.2 MB bootstrap (BENCHMARKS.md, "What get-index is made of"). What the SDK would also read
//! and this does not: profiles, SSO and the container and instance credential endpoints. Lambda
//! (and `sam local`, and `cargo arc dev`) put the credentials in the environment.

use std::fmt;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as Hyper;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;
use lambda_http::http::{self, HeaderValue, Method, StatusCode};

use super::env::Env;
use super::tls::{self, TrustStore};

/// hyper's pooled client over [`super::tls`]: keep one for the calls to an endpoint, so they
/// share its connections.
pub(crate) type Client = Hyper<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client trusting the store the environment names, giving up a connection not made within
/// `connect_timeout`.
pub(crate) fn client(connect_timeout: Duration) -> Client {
    let trust = TrustStore::read(|name| std::env::var(name).ok());
    Hyper::builder(TokioExecutor::new())
        .build(tls::connector(Some(connect_timeout), tls::roots(trust)))
}

mod sigv4;

/// The credentials calls are signed with: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and, for
/// a role's temporary ones (always, on Lambda), `AWS_SESSION_TOKEN`.
#[derive(Clone)]
pub(crate) struct Credentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: Option<String>,
    /// The signing key of the day, derived on the first call of each day.
    key: sigv4::KeyCache,
}

impl PartialEq for Credentials {
    fn eq(&self, other: &Self) -> bool {
        (
            &self.access_key_id,
            &self.secret_access_key,
            &self.session_token,
        ) == (
            &other.access_key_id,
            &other.secret_access_key,
            &other.session_token,
        )
    }
}

impl Eq for Credentials {}

impl fmt::Debug for Credentials {
    /// The key id only: the secret key and the token sign requests and stay out of logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Derives the signing key for `region` and `service` of today ahead of the first call
    /// (at cold start, beside the first poll), so that call only signs.
    #[cfg(feature = "dynamodb")]
    pub(crate) fn derive_key(&self, region: &str, service: &str) {
        self.key
            .derive(&self.secret_access_key, SystemTime::now(), region, service);
    }

    /// Whether today's signing key for `region` and `service` is derived.
    #[cfg(all(test, feature = "dynamodb"))]
    pub(crate) fn derived_for(&self, region: &str, service: &str) -> bool {
        self.key.holds(SystemTime::now(), region, service)
    }

    /// The credentials of the environment `var` reads (empty values are unset).
    pub(crate) fn read(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let env = Env(var);
        let Some((access_key_id, secret_access_key)) = env.key_pair() else {
            return Err(
                "no AWS credentials in the environment: AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY are unset (Lambda always sets them; elsewhere export \
                 them, for example with `aws configure export-credentials --format env`)"
                    .to_owned(),
            );
        };
        Ok(Self {
            access_key_id,
            secret_access_key,
            session_token: env.get("AWS_SESSION_TOKEN"),
            key: sigv4::KeyCache::default(),
        })
    }
}

/// One call: what to send, and to whom it is signed.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    /// The whole URL, path encoded.
    pub(crate) url: &'a str,
    /// Headers beyond `host`, which is the URL's.
    pub(crate) headers: &'a [(&'static str, &'a str)],
    pub(crate) body: Bytes,
    /// The signing name: `secretsmanager`, `execute-api`.
    pub(crate) service: &'static str,
    pub(crate) region: &'a str,
}

impl Call<'_> {
    /// The request, signed at `now`.
    pub(crate) fn request(
        &self,
        credentials: &Credentials,
        now: SystemTime,
    ) -> Result<http::Request<Full<Bytes>>, String> {
        let mut builder = http::Request::builder()
            .method(self.method.clone())
            .uri(self.url);
        for (name, value) in self.headers {
            builder = builder.header(*name, *value);
        }
        let mut request = builder
            .body(())
            .map_err(|e| format!("cannot make a request of {}: {e}", self.url))?;
        let uri = request.uri().clone();
        let host = uri
            .authority()
            .map(http::uri::Authority::as_str)
            .ok_or_else(|| format!("{} names no host", self.url))?;
        if uri.query().is_some() {
            return Err(format!(
                "cannot sign {}: a query is never signed here",
                self.url
            ));
        }
        let signed = sigv4::sign(
            &sigv4::Signable {
                method: self.method.as_str(),
                path: uri.path(),
                host,
                headers: self.headers,
                body: &self.body,
                service: self.service,
                region: self.region,
            },
            &credentials.access_key_id,
            &credentials.secret_access_key,
            credentials.session_token.as_deref(),
            now,
            &credentials.key,
        );
        let headers = request.headers_mut();
        headers.insert(
            http::header::HOST,
            HeaderValue::from_str(host).map_err(|e| format!("{}: {e}", self.url))?,
        );
        for (name, value) in signed.headers {
            let value = HeaderValue::from_str(&value)
                .map_err(|e| format!("cannot sign the request: {name}: {e}"))?;
            headers.insert(name, value);
        }
        Ok(request.map(|()| Full::new(self.body.clone())))
    }
}

/// How often, and how patiently, a call is tried.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Retry {
    /// Attempts in all.
    pub(crate) attempts: u32,
    /// Before the second attempt; doubled before each next one.
    pub(crate) first_wait: Duration,
    /// The longest wait, however many attempts failed.
    pub(crate) max_wait: Duration,
    /// Whether each wait is drawn at random below its doubled length ("full jitter"), so that
    /// the functions a throttled table turned away do not all come back at the same moment.
    pub(crate) jitter: bool,
    /// How long one attempt (connecting included) may take before it is abandoned.
    pub(crate) attempt_limit: Duration,
}

impl Retry {
    /// The longest wait after failed attempt `attempt` (from 1): [`Retry::first_wait`],
    /// doubled after each attempt since, at most [`Retry::max_wait`].
    fn wait_after(self, attempt: u32) -> Duration {
        self.first_wait
            .saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1)))
            .min(self.max_wait)
    }

    /// The wait after failed attempt `attempt`: [`Retry::wait_after`], or with
    /// [`Retry::jitter`] a random part of it (`draw` gives a number in `0..=u32::MAX`).
    fn wait(self, attempt: u32, draw: impl FnOnce() -> u32) -> Duration {
        let longest = self.wait_after(attempt);
        if !self.jitter {
            return longest;
        }
        longest.mul_f64(f64::from(draw()) / f64::from(u32::MAX))
    }
}

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// No answer, a 5xx, or throttled, after every attempt.
    Unavailable(String),
    /// Refused for good: the answer's status, the error's type (`GoneException`, `HTTP 403`
    /// when the answer names none) and message.
    Refused {
        status: StatusCode,
        kind: String,
        message: String,
    },
    /// Not sent: no credentials, or a URL that is none.
    Unsendable(String),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unavailable(why) | Self::Unsendable(why) => f.write_str(why),
            Self::Refused { kind, message, .. } if message.is_empty() => f.write_str(kind),
            Self::Refused { kind, message, .. } => write!(f, "{kind}: {message}"),
        }
    }
}

impl std::error::Error for Fault {}

/// Sends `call` through `client` (a [`Client`], or a pool on another connector), signed anew
/// for each attempt, and answers the body of its 2xx answer.
pub(crate) async fn send<C: Connect + Clone + Send + Sync + 'static>(
    client: &Hyper<C, Full<Bytes>>,
    credentials: &Credentials,
    call: &Call<'_>,
    retry: Retry,
) -> Result<Bytes, Fault> {
    let mut attempt = 1;
    loop {
        let request = call
            .request(credentials, SystemTime::now())
            .map_err(Fault::Unsendable)?;
        let answer = match tokio::time::timeout(retry.attempt_limit, once(client, request)).await {
            Ok(answer) => answer,
            Err(_) => Err(Fault::Unavailable(format!(
                "no answer within {:?}",
                retry.attempt_limit
            ))),
        };
        match answer {
            Err(Fault::Unavailable(why)) if attempt < retry.attempts => {
                tracing::debug!(url = call.url, attempt, why, "an AWS call is retried");
                let draw = || crate::keys::random::<4>().map_or(u32::MAX, u32::from_le_bytes);
                tokio::time::sleep(retry.wait(attempt, draw)).await;
                attempt += 1;
            }
            answer => return answer,
        }
    }
}

async fn once<C: Connect + Clone + Send + Sync + 'static>(
    client: &Hyper<C, Full<Bytes>>,
    request: http::Request<Full<Bytes>>,
) -> Result<Bytes, Fault> {
    let response = client
        .request(request)
        .await
        .map_err(|e| Fault::Unavailable(error_chain(&e)))?;
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
        .map_err(|e| Fault::Unavailable(error_chain(&e)))?
        .to_bytes();
    if status.is_success() {
        Ok(body)
    } else {
        Err(fault(status, error_type.as_deref(), &body))
    }
}

/// A failed answer of AWS's JSON protocols: the error's type from `x-amzn-errortype` or the
/// body's `__type` (either may carry a namespace before `#` and details after `:`), its message
/// from the body's `message` or `Message`.
pub(crate) fn fault(status: StatusCode, error_type: Option<&str>, body: &[u8]) -> Fault {
    #[derive(serde::Deserialize, Default)]
    struct Error {
        #[serde(rename = "__type")]
        kind: Option<String>,
        #[serde(alias = "Message")]
        message: Option<String>,
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
    let throttled = status == StatusCode::TOO_MANY_REQUESTS
        || matches!(
            kind.as_str(),
            "ThrottlingException"
                | "Throttling"
                | "ProvisionedThroughputExceededException"
                | "TooManyRequestsException"
                | "RequestLimitExceeded"
                | "LimitExceededException"
        );
    if status.is_server_error() || throttled {
        Fault::Unavailable(if message.is_empty() {
            kind
        } else {
            format!("{kind}: {message}")
        })
    } else {
        Fault::Refused {
            status,
            kind,
            message,
        }
    }
}

/// An error and its sources, one line: hyper's own says little ("client error (Connect)").
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    std::iter::successors(Some(error), |e| e.source())
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(": ")
}

#[cfg(test)]
mod tests;
