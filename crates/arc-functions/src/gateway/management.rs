//! The management API's three calls through the AWS SDK, with the `ws` feature; without it
//! every call is [`Error::NotBuilt`] and nothing of the SDK is linked into the route.

use super::{Error, Info};

#[cfg(feature = "ws")]
pub(super) use sdk::Api;

#[cfg(not(feature = "ws"))]
pub(super) use unbuilt::Api;

#[cfg(feature = "ws")]
mod sdk {
    use std::time::SystemTime;

    use aws_sdk_apigatewaymanagement::Client as Sdk;
    use aws_sdk_apigatewaymanagement::config::Region;
    use aws_sdk_apigatewaymanagement::error::SdkError;
    use aws_sdk_apigatewaymanagement::operation::delete_connection::DeleteConnectionError;
    use aws_sdk_apigatewaymanagement::operation::get_connection::GetConnectionError;
    use aws_sdk_apigatewaymanagement::operation::post_to_connection::PostToConnectionError;
    use aws_sdk_apigatewaymanagement::primitives::Blob;
    use tokio::sync::OnceCell;

    use super::{Error, Info};
    use crate::deadline::Bounded as _;

    /// The SDK client of one endpoint, built on first use.
    #[derive(Default)]
    pub(in crate::gateway) struct Api(OnceCell<Sdk>);

    impl Api {
        async fn sdk(&self, endpoint: &str) -> &Sdk {
            self.0
                .get_or_init(|| async {
                    let aws = crate::aws::sdk_config().await;
                    let mut config = aws_sdk_apigatewaymanagement::config::Builder::from(&aws)
                        .endpoint_url(endpoint);
                    // Requests are signed for the API's own region, which its address names.
                    if let Some(region) = execute_api_region(endpoint) {
                        config = config.region(Region::new(region.to_owned()));
                    } else if aws.region().is_none() {
                        // A local emulator checks no signature, but the SDK needs a region to
                        // sign.
                        config = config.region(Region::from_static("us-east-1"));
                    }
                    Sdk::from_conf(config.build())
                })
                .await
        }

        pub(in crate::gateway) async fn post(
            &self,
            endpoint: &str,
            connection_id: &str,
            data: Vec<u8>,
        ) -> Result<(), Error> {
            let sent = self
                .sdk(endpoint)
                .await
                .post_to_connection()
                .connection_id(connection_id)
                .data(Blob::new(data))
                .send()
                .bounded()
                .await;
            settle(
                sent,
                connection_id,
                "PostToConnection",
                PostToConnectionError::is_gone_exception,
            )
            .map(drop)
        }

        pub(in crate::gateway) async fn delete(
            &self,
            endpoint: &str,
            connection_id: &str,
        ) -> Result<(), Error> {
            let closed = self
                .sdk(endpoint)
                .await
                .delete_connection()
                .connection_id(connection_id)
                .send()
                .bounded()
                .await;
            settle(
                closed,
                connection_id,
                "DeleteConnection",
                DeleteConnectionError::is_gone_exception,
            )
            .map(drop)
        }

        pub(in crate::gateway) async fn get(
            &self,
            endpoint: &str,
            connection_id: &str,
        ) -> Result<Info, Error> {
            let got = self
                .sdk(endpoint)
                .await
                .get_connection()
                .connection_id(connection_id)
                .send()
                .bounded()
                .await;
            let out = settle(
                got,
                connection_id,
                "GetConnection",
                GetConnectionError::is_gone_exception,
            )?;
            let time = |t: Option<&aws_sdk_apigatewaymanagement::primitives::DateTime>| {
                t.and_then(|t| SystemTime::try_from(*t).ok())
            };
            let identity = out.identity();
            Ok(Info {
                connected_at: time(out.connected_at()),
                last_active_at: time(out.last_active_at()),
                source_ip: identity.and_then(|i| i.source_ip()).map(str::to_owned),
                user_agent: identity.and_then(|i| i.user_agent()).map(str::to_owned),
            })
        }
    }

    /// The region in an `https://{api}.execute-api.{region}.amazonaws.com[.cn]/...` address.
    fn execute_api_region(endpoint: &str) -> Option<&str> {
        let host = endpoint.split_once("://")?.1.split('/').next()?;
        let (_, rest) = host.split_once(".execute-api.")?;
        let (region, suffix) = rest.split_once('.')?;
        matches!(suffix, "amazonaws.com" | "amazonaws.com.cn").then_some(region)
    }

    /// A call's outcome: a closed connection is [`Error::Gone`], any other failure
    /// [`Error::Api`].
    fn settle<T, E, R>(
        outcome: Result<T, SdkError<E, R>>,
        connection_id: &str,
        operation: &'static str,
        is_gone: fn(&E) -> bool,
    ) -> Result<T, Error>
    where
        aws_sdk_apigatewaymanagement::Error: From<SdkError<E, R>>,
    {
        outcome.map_err(|e| {
            if e.as_service_error().is_some_and(is_gone) {
                Error::Gone {
                    connection_id: connection_id.to_owned(),
                }
            } else {
                Error::Api {
                    operation,
                    source: Box::new(aws_sdk_apigatewaymanagement::Error::from(e)),
                }
            }
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_region_comes_from_an_execute_api_address() {
            assert_eq!(
                execute_api_region("https://abc.execute-api.eu-west-2.amazonaws.com/prod"),
                Some("eu-west-2")
            );
            assert_eq!(
                execute_api_region("https://abc.execute-api.cn-north-1.amazonaws.com.cn/prod"),
                Some("cn-north-1")
            );
            assert_eq!(execute_api_region("https://ws.example.com/prod"), None);
            assert_eq!(execute_api_region("http://127.0.0.1:9001"), None);
            assert_eq!(
                execute_api_region("https://abc.execute-api.eu-west-2.example.com/prod"),
                None
            );
        }
    }
}

#[cfg(not(feature = "ws"))]
mod unbuilt {
    use super::{Error, Info};

    /// Nothing to call: this build has no SDK client.
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
