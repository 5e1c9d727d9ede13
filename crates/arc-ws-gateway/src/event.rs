//! The events API Gateway sends a WebSocket API's Lambda proxy integrations, built the way the
//! real ones are (see the `websocket_*.json` fixtures of arc-functions).

use std::collections::BTreeMap;
use std::net::IpAddr;

use http::HeaderMap;
use serde::Serialize;

use crate::clock::Timestamp;
use crate::ids::{ConnectionId, random_id, trace_id};
use crate::routes::RouteKey;

/// `requestContext.stage`. Deployed, cargo-arc names the stage after `ARC_ENV`; `cargo lambda
/// watch` runs the routes with `ARC_ENV=testing`, so the local stage has that name too.
pub const STAGE: &str = "testing";

/// `requestContext.apiId`: ten characters, like a real id, saying where it comes from.
pub const API_ID: &str = "arclocalws";

/// What every event of this gateway shares.
#[derive(Clone, Debug)]
pub(crate) struct Site {
    /// `requestContext.domainName`: `127.0.0.1:{port}`, where the management API is too.
    pub(crate) domain_name: String,
    /// The port, for `X-Forwarded-Port`.
    pub(crate) port: u16,
}

/// Who connected: `requestContext.identity`, and the management API's `identity`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Identity {
    /// The client's address.
    pub(crate) source_ip: String,
    /// The upgrade request's `User-Agent`, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) user_agent: Option<String>,
}

/// What a connection's events repeat: fixed at `$connect`.
#[derive(Clone, Debug)]
pub(crate) struct Peer {
    pub(crate) connection_id: ConnectionId,
    pub(crate) connected_at: Timestamp,
    pub(crate) identity: Identity,
}

/// The upgrade request `$connect` passes on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Upgrade<'a> {
    pub(crate) headers: &'a HeaderMap,
    pub(crate) query: Option<&'a str>,
    pub(crate) client_ip: IpAddr,
}

/// A message's body as the client framed it.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Payload<'a> {
    /// A text frame: the body as is.
    Text(&'a str),
    /// A binary frame: the body in base64, with `isBase64Encoded`.
    Binary(&'a [u8]),
}

/// Why a connection ended: `requestContext.disconnectStatusCode` and `disconnectReason`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Disconnect {
    pub(crate) code: u16,
    pub(crate) reason: String,
}

impl Disconnect {
    /// The client closed without a status code; API Gateway's own words for it.
    pub(crate) fn no_status() -> Self {
        Self::new(1005, "Client-side close frame status not set")
    }

    /// A `DELETE @connections/{id}`: API Gateway closes with 1000 and says so.
    pub(crate) fn deleted() -> Self {
        Self::new(1000, "Connection Closed Normally")
    }

    /// The gateway is shutting down.
    pub(crate) fn going_away() -> Self {
        Self::new(1001, "Going away")
    }

    /// A frame or message over API Gateway's limits (32 KB, 128 KB).
    pub(crate) fn too_big() -> Self {
        Self::new(1009, "Message too big")
    }

    /// The socket failed or ended without a close frame.
    pub(crate) fn abnormal() -> Self {
        Self::new(1006, "Connection closed abnormally")
    }

    pub(crate) fn new(code: u16, reason: &str) -> Self {
        Self {
            code,
            reason: reason.to_owned(),
        }
    }
}

/// One event, serialized in the field order of the real ones.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Event<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    multi_value_headers: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query_string_parameters: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    multi_value_query_string_parameters: Option<BTreeMap<String, Vec<String>>>,
    request_context: RequestContext<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    is_base64_encoded: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct RequestContext<'a> {
    route_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    disconnect_status_code: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message_id: Option<String>,
    event_type: &'static str,
    extended_request_id: String,
    request_time: String,
    message_direction: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    disconnect_reason: Option<&'a str>,
    stage: &'static str,
    connected_at: i64,
    request_time_epoch: i64,
    identity: &'a Identity,
    request_id: String,
    domain_name: &'a str,
    connection_id: &'a str,
    api_id: &'static str,
}

impl<'a> Event<'a> {
    /// The `$connect` event: every header of the upgrade request (so its cookies), the ones
    /// API Gateway adds, and the query string when there is one.
    pub(crate) fn connect(
        site: &'a Site,
        peer: &'a Peer,
        upgrade: Upgrade<'_>,
    ) -> Result<Self, getrandom::Error> {
        let now = Timestamp::now();
        let mut headers = upgrade_headers(upgrade.headers);
        // API Gateway adds these (over any the client sent); locally the scheme is plain http.
        for (name, value) in [
            ("X-Amzn-Trace-Id", trace_id(now)?),
            ("X-Forwarded-For", upgrade.client_ip.to_string()),
            ("X-Forwarded-Port", site.port.to_string()),
            ("X-Forwarded-Proto", "http".to_owned()),
        ] {
            headers.insert(name.to_owned(), vec![value]);
        }
        let query = upgrade
            .query
            .map(query_parameters)
            .filter(|q| !q.is_empty());
        Ok(Self {
            headers: Some(single_values(&headers)),
            multi_value_headers: Some(headers),
            query_string_parameters: query.as_ref().map(single_values),
            multi_value_query_string_parameters: query,
            request_context: RequestContext::new(site, peer, &RouteKey::Connect, "CONNECT", now)?,
            body: None,
            is_base64_encoded: false,
        })
    }

    /// A `MESSAGE` event for `route`.
    pub(crate) fn message(
        site: &'a Site,
        peer: &'a Peer,
        route: &'a RouteKey,
        payload: Payload<'_>,
    ) -> Result<Self, getrandom::Error> {
        let mut request_context =
            RequestContext::new(site, peer, route, "MESSAGE", Timestamp::now())?;
        request_context.message_id = Some(random_id()?);
        let (body, is_base64_encoded) = match payload {
            Payload::Text(text) => (text.to_owned(), false),
            Payload::Binary(bytes) => {
                use base64::Engine;
                (
                    base64::engine::general_purpose::STANDARD.encode(bytes),
                    true,
                )
            }
        };
        Ok(Self {
            headers: None,
            multi_value_headers: None,
            query_string_parameters: None,
            multi_value_query_string_parameters: None,
            request_context,
            body: Some(body),
            is_base64_encoded,
        })
    }

    /// The `$disconnect` event. API Gateway sends it a few headers of its own, not the
    /// client's: `Host` and three empty ones (as in the disconnect fixture).
    pub(crate) fn disconnect(
        site: &'a Site,
        peer: &'a Peer,
        why: &'a Disconnect,
    ) -> Result<Self, getrandom::Error> {
        let mut request_context = RequestContext::new(
            site,
            peer,
            &RouteKey::Disconnect,
            "DISCONNECT",
            Timestamp::now(),
        )?;
        request_context.disconnect_status_code = Some(why.code);
        request_context.disconnect_reason = Some(&why.reason);
        let headers: BTreeMap<String, Vec<String>> = [
            ("Host", site.domain_name.as_str()),
            ("x-api-key", ""),
            ("X-Forwarded-For", ""),
            ("x-restapi", ""),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), vec![value.to_owned()]))
        .collect();
        Ok(Self {
            headers: Some(single_values(&headers)),
            multi_value_headers: Some(headers),
            query_string_parameters: None,
            multi_value_query_string_parameters: None,
            request_context,
            body: None,
            is_base64_encoded: false,
        })
    }

    /// `requestContext.requestId`, which error frames quote back to the client.
    pub(crate) fn request_id(&self) -> &str {
        &self.request_context.request_id
    }

    /// The JSON body of the invocation.
    pub(crate) fn to_json(&self) -> Vec<u8> {
        // Every field is a string, number, bool or map of strings: serializing can't fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl<'a> RequestContext<'a> {
    fn new(
        site: &'a Site,
        peer: &'a Peer,
        route: &'a RouteKey,
        event_type: &'static str,
        now: Timestamp,
    ) -> Result<Self, getrandom::Error> {
        // API Gateway gives both ids the same value.
        let request_id = random_id()?;
        Ok(Self {
            route_key: route.as_str(),
            disconnect_status_code: None,
            message_id: None,
            event_type,
            extended_request_id: request_id.clone(),
            request_time: now.request_time(),
            message_direction: "IN",
            disconnect_reason: None,
            stage: STAGE,
            connected_at: peer.connected_at.millis(),
            request_time_epoch: now.millis(),
            identity: &peer.identity,
            request_id,
            domain_name: &site.domain_name,
            connection_id: peer.connection_id.as_str(),
            api_id: API_ID,
        })
    }
}

/// The request's headers by name, every value of each (lossily decoded when not UTF-8).
///
/// hyper lowercases header names, but API Gateway passes them as the client spelled them,
/// which for browsers is `Cookie`, `User-Agent`, `Sec-WebSocket-Key`: so names are written that
/// way. A function should look headers up without regard to case either way.
fn upgrade_headers(headers: &HeaderMap) -> BTreeMap<String, Vec<String>> {
    let mut by_name: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        by_name
            .entry(title_case(name.as_str()))
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    by_name
}

/// `sec-websocket-key` → `Sec-WebSocket-Key`, `x-amzn-trace-id` → `X-Amzn-Trace-Id`. hyper
/// drops the original case and no crate restores it; this is the spelling browsers send.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            if word.eq_ignore_ascii_case("websocket") {
                return "WebSocket".to_owned();
            }
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// The query string's parameters, decoded, every value of each in order.
fn query_parameters(query: &str) -> BTreeMap<String, Vec<String>> {
    let mut parameters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        parameters
            .entry(name.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    parameters
}

/// The single-value view of a multi-value map: the last value of each, as API Gateway's
/// `headers` and `queryStringParameters` hold.
fn single_values(multi: &BTreeMap<String, Vec<String>>) -> BTreeMap<String, String> {
    multi
        .iter()
        .filter_map(|(name, values)| Some((name.clone(), values.last()?.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::net::Ipv4Addr;

    use http::HeaderValue;
    use serde_json::{Value, json};

    use super::*;

    const CONNECT_FIXTURE: &str = include_str!(
        "../../arc-functions/tests/fixtures/websocket_connect_without_method_request.json"
    );
    const DISCONNECT_FIXTURE: &str =
        include_str!("../../arc-functions/tests/fixtures/websocket_disconnect_request.json");

    fn site() -> Site {
        Site {
            domain_name: "127.0.0.1:9001".into(),
            port: 9001,
        }
    }

    fn peer(user_agent: Option<&str>) -> Peer {
        Peer {
            connection_id: ConnectionId::random().unwrap_or_else(|err| panic!("{err}")),
            connected_at: Timestamp::from_millis(1_645_556_857_902),
            identity: Identity {
                source_ip: "127.0.0.1".into(),
                user_agent: user_agent.map(str::to_owned),
            },
        }
    }

    fn json(event: &Event<'_>) -> Value {
        serde_json::from_slice(&event.to_json()).unwrap_or_else(|err| panic!("{err}"))
    }

    fn keys(value: &Value) -> BTreeSet<String> {
        value
            .as_object()
            .map(|object| object.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn fixture(text: &str) -> Value {
        serde_json::from_str(text).unwrap_or_else(|err| panic!("{err}"))
    }

    fn connect(headers: &HeaderMap, query: Option<&str>) -> Value {
        let (site, peer) = (site(), peer(Some("test/1.0")));
        let upgrade = Upgrade {
            headers,
            query,
            client_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        };
        json(&Event::connect(&site, &peer, upgrade).unwrap_or_else(|err| panic!("{err}")))
    }

    #[test]
    fn connect_has_every_field_of_the_real_one() {
        let ours = connect(&HeaderMap::new(), None);
        let real = fixture(CONNECT_FIXTURE);
        assert_eq!(keys(&ours), keys(&real));
        assert_eq!(keys(&ours["requestContext"]), keys(&real["requestContext"]));
        let context = &ours["requestContext"];
        assert_eq!(context["routeKey"], "$connect");
        assert_eq!(context["eventType"], "CONNECT");
        assert_eq!(context["messageDirection"], "IN");
        assert_eq!(context["stage"], "testing");
        assert_eq!(context["apiId"], "arclocalws");
        assert_eq!(context["domainName"], "127.0.0.1:9001");
        assert_eq!(context["connectedAt"], 1_645_556_857_902_i64);
        assert_eq!(context["requestId"], context["extendedRequestId"]);
        assert_eq!(
            context["identity"],
            json!({"sourceIp": "127.0.0.1", "userAgent": "test/1.0"})
        );
        assert_eq!(ours["isBase64Encoded"], false);
    }

    #[test]
    fn connect_passes_every_header_and_adds_api_gateways() {
        let mut headers = HeaderMap::new();
        headers.insert("host", HeaderValue::from_static("127.0.0.1:9001"));
        headers.insert("cookie", HeaderValue::from_static("_idx=abc; theme=dark"));
        headers.insert(
            "sec-websocket-key",
            HeaderValue::from_static("dGhlIHNhbXBsZQ=="),
        );
        headers.append("x-many", HeaderValue::from_static("one"));
        headers.append("x-many", HeaderValue::from_static("two"));
        headers.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        let event = connect(&headers, None);

        assert_eq!(event["headers"]["Cookie"], "_idx=abc; theme=dark");
        assert_eq!(event["headers"]["Host"], "127.0.0.1:9001");
        assert_eq!(event["headers"]["Sec-WebSocket-Key"], "dGhlIHNhbXBsZQ==");
        assert_eq!(event["headers"]["X-Many"], "two");
        assert_eq!(event["multiValueHeaders"]["X-Many"], json!(["one", "two"]));
        assert_eq!(event["headers"]["X-Forwarded-For"], "127.0.0.1");
        assert_eq!(event["headers"]["X-Forwarded-Port"], "9001");
        assert_eq!(event["headers"]["X-Forwarded-Proto"], "http");
        let trace = event["headers"]["X-Amzn-Trace-Id"]
            .as_str()
            .unwrap_or_default();
        assert!(trace.starts_with("Root=1-"), "{trace}");
        // Every single value is the last of the multi values.
        for (name, values) in event["multiValueHeaders"].as_object().into_iter().flatten() {
            assert_eq!(
                values.as_array().and_then(|v| v.last()),
                Some(&event["headers"][name])
            );
        }
        assert!(event.get("queryStringParameters").is_none());
    }

    #[test]
    fn connect_decodes_the_query_string() {
        let event = connect(&HeaderMap::new(), Some("name=me&tag=a&tag=b%20c&empty="));
        assert_eq!(
            event["queryStringParameters"],
            json!({"name": "me", "tag": "b c", "empty": ""})
        );
        assert_eq!(
            event["multiValueQueryStringParameters"],
            json!({"name": ["me"], "tag": ["a", "b c"], "empty": [""]})
        );
        // `?` alone is no query.
        assert!(
            connect(&HeaderMap::new(), Some(""))
                .get("queryStringParameters")
                .is_none()
        );
    }

    #[test]
    fn message_carries_the_body_and_a_message_id() {
        let (site, peer) = (site(), peer(None));
        let route = RouteKey::Custom("chat".into());
        let event = Event::message(&site, &peer, &route, Payload::Text(r#"{"action":"chat"}"#))
            .unwrap_or_else(|err| panic!("{err}"));
        let value = json(&event);
        assert_eq!(
            keys(&value),
            ["body", "isBase64Encoded", "requestContext"]
                .map(String::from)
                .into()
        );
        assert_eq!(value["body"], r#"{"action":"chat"}"#);
        assert_eq!(value["isBase64Encoded"], false);
        let context = &value["requestContext"];
        assert_eq!(context["routeKey"], "chat");
        assert_eq!(context["eventType"], "MESSAGE");
        assert_eq!(context["requestId"], event.request_id());
        assert_eq!(context["messageId"].as_str().map(str::len), Some(16));
        assert_ne!(context["messageId"], context["requestId"]);
        assert_eq!(context["identity"], json!({"sourceIp": "127.0.0.1"}));
        let mut expected = keys(&fixture(CONNECT_FIXTURE)["requestContext"]);
        expected.insert("messageId".into());
        assert_eq!(keys(context), expected);
    }

    #[test]
    fn binary_messages_are_base64() {
        let (site, peer) = (site(), peer(None));
        let event = Event::message(
            &site,
            &peer,
            &RouteKey::Default,
            Payload::Binary(&[0, 255, 1]),
        )
        .unwrap_or_else(|err| panic!("{err}"));
        let value = json(&event);
        assert_eq!(value["body"], "AP8B");
        assert_eq!(value["isBase64Encoded"], true);
    }

    #[test]
    fn disconnect_has_every_field_of_the_real_one() {
        let (site, peer) = (site(), peer(Some("test/1.0")));
        let why = Disconnect::new(4000, "bye");
        let ours =
            json(&Event::disconnect(&site, &peer, &why).unwrap_or_else(|err| panic!("{err}")));
        let real = fixture(DISCONNECT_FIXTURE);
        assert_eq!(keys(&ours), keys(&real));
        assert_eq!(keys(&ours["requestContext"]), keys(&real["requestContext"]));
        assert_eq!(keys(&ours["headers"]), keys(&real["headers"]));
        let context = &ours["requestContext"];
        assert_eq!(context["routeKey"], "$disconnect");
        assert_eq!(context["eventType"], "DISCONNECT");
        assert_eq!(context["disconnectStatusCode"], 4000);
        assert_eq!(context["disconnectReason"], "bye");
        assert_eq!(ours["headers"]["Host"], "127.0.0.1:9001");
        assert_eq!(ours["multiValueHeaders"]["Host"], json!(["127.0.0.1:9001"]));
    }

    #[test]
    fn title_case_spells_names_like_browsers() {
        for (name, expected) in [
            ("cookie", "Cookie"),
            ("user-agent", "User-Agent"),
            ("sec-websocket-extensions", "Sec-WebSocket-Extensions"),
            ("x-amzn-trace-id", "X-Amzn-Trace-Id"),
            ("x--odd-", "X--Odd-"),
        ] {
            assert_eq!(title_case(name), expected);
        }
    }

    #[test]
    fn request_time_and_epoch_agree() {
        let (site, peer) = (site(), peer(None));
        let value = json(
            &Event::message(&site, &peer, &RouteKey::Default, Payload::Text(""))
                .unwrap_or_else(|err| panic!("{err}")),
        );
        let context = &value["requestContext"];
        let epoch = context["requestTimeEpoch"].as_i64().unwrap_or_default();
        assert_eq!(
            context["requestTime"],
            Timestamp::from_millis(epoch).request_time()
        );
    }
}
