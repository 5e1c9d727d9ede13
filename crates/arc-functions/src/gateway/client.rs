//! The management API client: `POST`, `GET` and `DELETE /@connections/{id}`.

use std::sync::Arc;
use std::time::SystemTime;

use serde::Serialize;

use super::Error;
use super::management::Api;
use crate::config::Config;

/// What to send to a connection: a JSON value is sent as its text, text as it is (both as
/// text frames), bytes as a binary frame.
///
/// # Examples
///
/// ```
/// use arc_functions::ws::Payload;
///
/// assert_eq!(Payload::from(serde_json::json!({"count": 2})), Payload::Text(r#"{"count":2}"#.into()));
/// assert_eq!(Payload::from("hi"), Payload::Text("hi".into()));
/// assert_eq!(Payload::from(vec![0u8, 1]), Payload::Binary(vec![0, 1]));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Payload {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Vec<u8>),
}

impl Payload {
    /// Any serializable value, as JSON text.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] when the value cannot be written as JSON (a map with non-string keys).
    ///
    /// # Examples
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Count { count: u64 }
    /// let payload = arc_functions::ws::Payload::json(&Count { count: 3 })?;
    /// assert_eq!(payload, arc_functions::ws::Payload::Text(r#"{"count":3}"#.into()));
    /// # Ok::<(), arc_functions::ws::Error>(())
    /// ```
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Self, Error> {
        serde_json::to_string(value)
            .map(Self::Text)
            .map_err(Error::Json)
    }

    fn into_bytes(self) -> Vec<u8> {
        match self {
            Self::Text(text) => text.into_bytes(),
            Self::Binary(bytes) => bytes,
        }
    }
}

impl From<serde_json::Value> for Payload {
    fn from(value: serde_json::Value) -> Self {
        Self::Text(value.to_string())
    }
}

impl From<&serde_json::Value> for Payload {
    fn from(value: &serde_json::Value) -> Self {
        Self::Text(value.to_string())
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

impl From<&str> for Payload {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<Vec<u8>> for Payload {
    fn from(bytes: Vec<u8>) -> Self {
        Self::Binary(bytes)
    }
}

/// What API Gateway knows of a connection: [`Client::info`].
///
/// # Examples
///
/// ```no_run
/// use std::time::{Duration, SystemTime};
///
/// # async fn f() -> Result<(), arc_functions::ws::Error> {
/// let info = arc_functions::ws::info("L0SM9cOFvHcCIhw=").await?;
/// let idle = info
///     .last_active_at
///     .and_then(|at| SystemTime::now().duration_since(at).ok())
///     .unwrap_or_default();
/// if idle > Duration::from_secs(600) {
///     arc_functions::ws::close("L0SM9cOFvHcCIhw=").await?;
/// }
/// println!("{:?} from {:?}", info.user_agent, info.source_ip);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Info {
    /// When the connection opened.
    pub connected_at: Option<SystemTime>,
    /// When the client last sent or received a frame.
    pub last_active_at: Option<SystemTime>,
    /// The client's IP address.
    pub source_ip: Option<String>,
    /// The client's `User-Agent`.
    pub user_agent: Option<String>,
}

/// A client of one WebSocket API's management API: sends to, closes and describes its
/// connections. Cheap to clone; its HTTP client and credentials are made on first use, so a
/// function that never sends never pays for them.
///
/// Inside a WebSocket handler [`Request::client`](crate::ws::Request::client) is the client for
/// the event's own API (`https://{domainName}/{stage}` from its `requestContext`); elsewhere
/// [`Client::from_config`] reads `ARC_WSS_URL`. `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`
/// overrides both.
///
/// # Examples
///
/// ```
/// use arc_functions::config::Config;
/// use arc_functions::ws::Client;
///
/// let config = Config::from_vars([
///     ("ARC_ENV", "testing"),
///     ("ARC_WSS_URL", "wss://abc123.execute-api.us-east-1.amazonaws.com/production"),
/// ])?;
/// let client = Client::from_config(&config);
/// assert_eq!(client.endpoint(), Some("https://abc123.execute-api.us-east-1.amazonaws.com/production"));
/// # Ok::<(), arc_functions::config::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    endpoint: Option<Arc<str>>,
    /// The endpoint every call goes to whatever the event says, from the environment.
    fixed: Option<Arc<str>>,
    api: Arc<Api>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.endpoint())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the management API at `endpoint`, e.g.
    /// `https://abc123.execute-api.us-east-1.amazonaws.com/production`.
    ///
    /// # Examples
    ///
    /// ```
    /// let client = arc_functions::ws::Client::new("http://127.0.0.1:9001");
    /// assert_eq!(client.endpoint(), Some("http://127.0.0.1:9001"));
    /// ```
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: Some(Arc::from(endpoint.into())),
            fixed: None,
            api: Arc::default(),
        }
    }

    /// A client without an endpoint, until an event names its API.
    pub(crate) fn unset() -> Self {
        Self {
            endpoint: None,
            fixed: None,
            api: Arc::default(),
        }
    }

    /// The client the configuration names: `AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`, else
    /// `ARC_WSS_URL`, else none (then every call is [`Error::NoEndpoint`]).
    ///
    /// # Examples
    ///
    /// See [`Client`].
    pub fn from_config(config: &Config) -> Self {
        let base = |url: &str| Arc::from(management_base(url));
        let fixed: Option<Arc<str>> = config.ws.endpoint.as_deref().map(base);
        Self {
            endpoint: fixed.clone().or_else(|| config.ws.url.as_deref().map(base)),
            fixed,
            api: Arc::default(),
        }
    }

    /// The client for a WebSocket event of the API at `domain_name` and `stage` (the event's
    /// `requestContext`): this one when its endpoint is fixed by the environment or already
    /// that API's, else a new one. A loopback domain (a local emulator) is reached over
    /// `http`, any other over `https`.
    pub(crate) fn for_api(&self, domain_name: &str, stage: &str) -> Self {
        if self.fixed.is_some() {
            return self.clone();
        }
        let endpoint = api_endpoint(domain_name, stage);
        if self.endpoint.as_deref() == Some(endpoint.as_str()) {
            return self.clone();
        }
        Self::new(endpoint)
    }

    /// The management API's base URL, when known.
    ///
    /// # Examples
    ///
    /// See [`Client`].
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    fn endpoint_or_none(&self) -> Result<&str, Error> {
        self.endpoint.as_deref().ok_or(Error::NoEndpoint)
    }

    /// Sends `payload` to a connection: `arc.ws.send`.
    ///
    /// # Errors
    ///
    /// [`Error::Gone`] when the connection is closed; [`Error::NoEndpoint`] without an
    /// endpoint; [`Error::Api`] for any other failure.
    ///
    /// # Examples
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
    /// let nowhere = arc_functions::ws::Client::from_config(
    ///     &arc_functions::config::Config::from_vars([("ARC_ENV", "testing")])?,
    /// );
    /// let sent = nowhere.send("L0SM9cOFvHcCIhw=", serde_json::json!({"count": 1})).await;
    /// assert!(matches!(sent, Err(arc_functions::ws::Error::NoEndpoint)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn send(
        &self,
        connection_id: &str,
        payload: impl Into<Payload>,
    ) -> Result<(), Error> {
        let endpoint = self.endpoint_or_none()?;
        let data = payload.into().into_bytes();
        self.api.post(endpoint, connection_id, data).await
    }

    /// Closes a connection (API Gateway then sends `$disconnect`): `arc.ws.close`.
    ///
    /// # Errors
    ///
    /// As [`Client::send`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), arc_functions::ws::Error> {
    /// let client = arc_functions::ws::Client::new("http://127.0.0.1:9001");
    /// client.close("L0SM9cOFvHcCIhw=").await?;
    /// # Ok(()) }
    /// ```
    pub async fn close(&self, connection_id: &str) -> Result<(), Error> {
        let endpoint = self.endpoint_or_none()?;
        self.api.delete(endpoint, connection_id).await
    }

    /// What API Gateway knows of a connection: `arc.ws.info`.
    ///
    /// # Errors
    ///
    /// As [`Client::send`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), arc_functions::ws::Error> {
    /// let client = arc_functions::ws::Client::new("http://127.0.0.1:9001");
    /// let info = client.info("L0SM9cOFvHcCIhw=").await?;
    /// println!("connected from {:?}", info.source_ip);
    /// # Ok(()) }
    /// ```
    pub async fn info(&self, connection_id: &str) -> Result<Info, Error> {
        let endpoint = self.endpoint_or_none()?;
        self.api.get(endpoint, connection_id).await
    }
}

/// The management API behind a WebSocket API's URL: `wss://` is `https://`, `ws://` (a local
/// emulator) is `http://`.
fn management_base(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("wss") => format!("https://{rest}"),
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("ws") => format!("http://{rest}"),
        _ => url.to_owned(),
    }
}

/// The management API of the WebSocket API at `domain_name`, `stage`.
fn api_endpoint(domain_name: &str, stage: &str) -> String {
    let host = match domain_name.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        _ => domain_name,
    };
    // A loopback address, not a name that merely starts like one (`127.evil.example`).
    let loopback = host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    let scheme = if loopback { "http" } else { "https" };
    let stage = stage.trim_matches('/');
    if stage.is_empty() {
        format!("{scheme}://{domain_name}")
    } else {
        format!("{scheme}://{domain_name}/{stage}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_endpoints_are_https_but_on_loopback() {
        assert_eq!(
            api_endpoint("abc.execute-api.us-east-1.amazonaws.com", "production"),
            "https://abc.execute-api.us-east-1.amazonaws.com/production"
        );
        assert_eq!(
            api_endpoint("127.0.0.1:9001", "local"),
            "http://127.0.0.1:9001/local"
        );
        assert_eq!(api_endpoint("localhost:9001", ""), "http://localhost:9001");
        assert_eq!(api_endpoint("[::1]:9001", "/dev/"), "http://[::1]:9001/dev");
        // A host that merely starts like loopback is not.
        assert_eq!(
            api_endpoint("localhost.example.com", "prod"),
            "https://localhost.example.com/prod"
        );
        assert_eq!(
            api_endpoint("127.evil.example:443", "prod"),
            "https://127.evil.example:443/prod"
        );
        assert_eq!(
            api_endpoint("127.0.0.1.nip.io", "prod"),
            "https://127.0.0.1.nip.io/prod"
        );
        assert_eq!(api_endpoint("127.0.0.2:9001", ""), "http://127.0.0.2:9001");
    }

    #[test]
    fn a_loopback_address_without_a_port_is_still_loopback() {
        // `[::1]` ends in `1]` after its last colon: no port to take off.
        assert_eq!(api_endpoint("[::1]", "dev"), "http://[::1]/dev");
        assert_eq!(api_endpoint("localhost", "dev"), "http://localhost/dev");
        assert_eq!(
            api_endpoint("abc.execute-api.us-east-1.amazonaws.com:8443", "dev"),
            "https://abc.execute-api.us-east-1.amazonaws.com:8443/dev"
        );
    }

    #[test]
    fn the_management_api_of_a_websocket_url_is_its_http_twin() {
        for (url, base) in [
            ("wss://a.example.com/prod", "https://a.example.com/prod"),
            ("WSS://a.example.com/prod", "https://a.example.com/prod"),
            ("ws://127.0.0.1:9001", "http://127.0.0.1:9001"),
            ("Ws://127.0.0.1:9001", "http://127.0.0.1:9001"),
            // Already the management API's: kept as it is.
            ("https://a.example.com/prod", "https://a.example.com/prod"),
            ("http://127.0.0.1:9001", "http://127.0.0.1:9001"),
            ("a.example.com/prod", "a.example.com/prod"),
        ] {
            assert_eq!(management_base(url), base, "{url}");
        }
    }

    #[test]
    fn the_environment_endpoint_wins_over_the_event() {
        let config = Config::from_vars([
            ("ARC_ENV", "testing"),
            ("ARC_WSS_URL", "wss://a.example.com/prod"),
            (
                "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI",
                "http://127.0.0.1:9001",
            ),
        ])
        .expect("config");
        let client = Client::from_config(&config);
        assert_eq!(client.endpoint(), Some("http://127.0.0.1:9001"));
        let for_event = client.for_api("b.example.com", "dev");
        assert_eq!(for_event.endpoint(), Some("http://127.0.0.1:9001"));
        assert!(
            Arc::ptr_eq(&client.api, &for_event.api),
            "the connections and credentials are shared"
        );
    }

    #[test]
    fn an_events_api_reuses_the_client_of_the_same_api() {
        let client = Client::new("https://a.example.com/prod");
        let same = client.for_api("a.example.com", "prod");
        assert!(Arc::ptr_eq(&client.api, &same.api));
        let other = client.for_api("b.example.com", "prod");
        assert_eq!(other.endpoint(), Some("https://b.example.com/prod"));
        assert!(!Arc::ptr_eq(&client.api, &other.api));
    }
}
