//! The management API's three calls (`POST`, `DELETE` and `GET` of `@connections/{id}`),
//! signed and sent without the AWS SDK (`aws::signed` says why), with the `ws` feature; without
//! it every call is [`Error::NotBuilt`].

use super::{Error, Info};

#[cfg(feature = "ws")]
pub(super) use signed::Api;

#[cfg(not(feature = "ws"))]
pub(super) use unbuilt::Api;

#[cfg(feature = "ws")]
mod signed {
    use std::time::{Duration, SystemTime};

    use aws_smithy_types::DateTime;
    use aws_smithy_types::date_time::Format;
    use bytes::Bytes;
    use lambda_http::http::{Method, StatusCode};
    use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
    use tokio::sync::OnceCell;

    use super::{Error, Info};
    use crate::aws::env::Env;
    use crate::aws::signed::{self, Call, Client, Credentials, Fault, Retry};
    use crate::deadline::{Deadline, OutOfTime};

    /// Five attempts of at most a second each, 25 ms apart and doubling, all within the
    /// invocation's time left: API Gateway answers in milliseconds, and a push that cannot
    /// get through in the time the invocation has is reported, not waited for.
    const RETRY: Retry = Retry {
        attempts: 5,
        first_wait: Duration::from_millis(25),
        max_wait: Duration::from_secs(1),
        jitter: false,
        attempt_limit: Duration::from_secs(1),
    };

    /// The signing name of the management API.
    const SERVICE: &str = "execute-api";

    /// A connection id in a path: everything but the unreserved characters encoded, as the
    /// SDKs encode a label (an id ends in `=`).
    const LABEL: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');

    /// The calls to one endpoint: its pooled HTTP client, and the credentials and region it
    /// signs with, read from the environment on first use.
    #[derive(Default)]
    pub(in crate::gateway) struct Api(OnceCell<Signer>);

    struct Signer {
        client: Client,
        credentials: Result<Credentials, String>,
        region: String,
    }

    impl Api {
        async fn signer(&self, endpoint: &str) -> &Signer {
            self.0
                .get_or_init(|| async {
                    let var = |name: &str| std::env::var(name).ok();
                    Signer {
                        client: signed::client(RETRY.attempt_limit),
                        credentials: Credentials::read(var),
                        region: region(endpoint, var),
                    }
                })
                .await
        }

        /// Makes one call to `@connections/{connection_id}`, within the invocation's time.
        async fn call(
            &self,
            endpoint: &str,
            method: Method,
            connection_id: &str,
            body: Vec<u8>,
            operation: &'static str,
        ) -> Result<Bytes, Error> {
            let signer = self.signer(endpoint).await;
            let api =
                |source: Box<dyn std::error::Error + Send + Sync>| Error::Api { operation, source };
            let credentials = signer
                .credentials
                .as_ref()
                .map_err(|why| api(Box::new(Fault::Unsendable(why.clone()))))?;
            let url = connection_url(endpoint, connection_id);
            let call = Call {
                method,
                url: &url,
                headers: &[],
                body: Bytes::from(body),
                service: SERVICE,
                region: &signer.region,
            };
            let budget = Deadline::current().budget();
            let sent = signed::send(&signer.client, credentials, &call, RETRY);
            match tokio::time::timeout(budget, sent).await {
                Ok(Ok(body)) => Ok(body),
                Ok(Err(fault)) if gone(&fault) => Err(Error::Gone {
                    connection_id: connection_id.to_owned(),
                }),
                Ok(Err(fault)) => Err(api(Box::new(fault))),
                Err(_) => Err(api(Box::new(OutOfTime { budget }))),
            }
        }

        pub(in crate::gateway) async fn post(
            &self,
            endpoint: &str,
            connection_id: &str,
            data: Vec<u8>,
        ) -> Result<(), Error> {
            self.call(
                endpoint,
                Method::POST,
                connection_id,
                data,
                "PostToConnection",
            )
            .await
            .map(drop)
        }

        pub(in crate::gateway) async fn delete(
            &self,
            endpoint: &str,
            connection_id: &str,
        ) -> Result<(), Error> {
            self.call(
                endpoint,
                Method::DELETE,
                connection_id,
                Vec::new(),
                "DeleteConnection",
            )
            .await
            .map(drop)
        }

        pub(in crate::gateway) async fn get(
            &self,
            endpoint: &str,
            connection_id: &str,
        ) -> Result<Info, Error> {
            let body = self
                .call(
                    endpoint,
                    Method::GET,
                    connection_id,
                    Vec::new(),
                    "GetConnection",
                )
                .await?;
            info(&body).map_err(|e| Error::Api {
                operation: "GetConnection",
                source: Box::new(e),
            })
        }
    }

    /// Whether API Gateway said the connection is closed: `410 GoneException`, either half
    /// enough (an emulator may send the status alone).
    fn gone(fault: &Fault) -> bool {
        matches!(fault, Fault::Refused { status, kind, .. }
            if *status == StatusCode::GONE || kind == "GoneException")
    }

    /// `@connections/{connection_id}` under the API's management endpoint.
    fn connection_url(endpoint: &str, connection_id: &str) -> String {
        format!(
            "{}/@connections/{}",
            endpoint.trim_end_matches('/'),
            utf8_percent_encode(connection_id, LABEL)
        )
    }

    /// A `GetConnection` answer: its times as RFC 3339 date-times, as the API writes them.
    fn info(body: &[u8]) -> Result<Info, serde_json::Error> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Connection {
            connected_at: Option<String>,
            last_active_at: Option<String>,
            identity: Option<Identity>,
        }
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Identity {
            source_ip: Option<String>,
            user_agent: Option<String>,
        }
        let time = |t: Option<String>| {
            let t = DateTime::from_str(&t?, Format::DateTimeWithOffset).ok()?;
            SystemTime::try_from(t).ok()
        };
        let connection: Connection = serde_json::from_slice(body)?;
        let identity = connection.identity;
        Ok(Info {
            connected_at: time(connection.connected_at),
            last_active_at: time(connection.last_active_at),
            source_ip: identity.as_ref().and_then(|i| i.source_ip.clone()),
            user_agent: identity.and_then(|i| i.user_agent),
        })
    }

    /// The region calls to `endpoint` are signed for: the API's own, which its address names,
    /// else the environment's. A local emulator checks no signature, but one needs a region
    /// to sign: `us-east-1` when nothing names one.
    fn region(endpoint: &str, var: impl Fn(&str) -> Option<String>) -> String {
        execute_api_region(endpoint)
            .map(str::to_owned)
            .or_else(|| Env(var).region())
            .unwrap_or_else(|| "us-east-1".to_owned())
    }

    /// The region in an `https://{api}.execute-api.{region}.amazonaws.com[.cn]/...` address.
    fn execute_api_region(endpoint: &str) -> Option<&str> {
        let host = endpoint.split_once("://")?.1.split('/').next()?;
        let (_, rest) = host.split_once(".execute-api.")?;
        let (region, suffix) = rest.split_once('.')?;
        matches!(suffix, "amazonaws.com" | "amazonaws.com.cn").then_some(region)
    }

    #[cfg(test)]
    mod tests;
}

#[cfg(not(feature = "ws"))]
mod unbuilt {
    use super::{Error, Info};

    /// Nothing to call: this build has no management API client.
    #[derive(Default)]
    pub(in crate::gateway) struct Api;

    impl Api {
        pub(in crate::gateway) async fn post(
            &self,
            _: &str,
            _: &str,
            _: Vec<u8>,
        ) -> Result<(), Error> {
            Err(Error::NotBuilt)
        }

        pub(in crate::gateway) async fn delete(&self, _: &str, _: &str) -> Result<(), Error> {
            Err(Error::NotBuilt)
        }

        pub(in crate::gateway) async fn get(&self, _: &str, _: &str) -> Result<Info, Error> {
            Err(Error::NotBuilt)
        }
    }
}
