//! The gateway in this process, driven by a real WebSocket client, with a stand-in for watch's
//! invoke endpoint that records every event and answers as each test scripts it.

mod support;

use std::collections::BTreeSet;

use futures_util::SinkExt;
use http::{Method, StatusCode};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use support::{
    Answer, Running, StandIn, accept_all, connect, open, receive, receive_text, request,
    request_with, script,
};

/// Every `requestContext` field of a real `$connect` event (see arc-functions' fixtures).
const CONTEXT_FIELDS: [&str; 13] = [
    "routeKey",
    "eventType",
    "extendedRequestId",
    "requestTime",
    "messageDirection",
    "stage",
    "connectedAt",
    "requestTimeEpoch",
    "identity",
    "requestId",
    "domainName",
    "connectionId",
    "apiId",
];

fn keys(value: &Value) -> BTreeSet<&str> {
    value
        .as_object()
        .map(|object| object.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn fields(extra: &[&'static str]) -> BTreeSet<&'static str> {
    CONTEXT_FIELDS.iter().chain(extra).copied().collect()
}

/// Reads an ISO-8601 time the way the SDK does (RFC 3339), in epoch milliseconds.
fn epoch_millis(iso: &Value) -> i64 {
    let text = iso
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {iso}"));
    let time = OffsetDateTime::parse(text, &Rfc3339).unwrap_or_else(|err| panic!("{text}: {err}"));
    i64::try_from(time.unix_timestamp_nanos() / 1_000_000).unwrap_or_default()
}

#[tokio::test]
async fn connect_event_carries_the_upgrade_request() {
    let mut lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start(&[], &lambda.url).await;

    let _socket = open(
        &gateway.ws("/testing?name=me&tag=a&tag=b%20c"),
        &[
            ("Cookie", "_idx=sealed; theme=dark"),
            ("User-Agent", "arc-test/1.0"),
        ],
    )
    .await;
    let connect = lambda.expect("ws-connect").await;
    let event = &connect.event;
    let context = connect.context();
    let domain = gateway.address.to_string();

    assert_eq!(keys(context), fields(&[]), "{context}");
    assert_eq!(context["routeKey"], "$connect");
    assert_eq!(context["eventType"], "CONNECT");
    assert_eq!(context["messageDirection"], "IN");
    assert_eq!(context["stage"], arc_ws_gateway::STAGE);
    assert_eq!(context["apiId"], arc_ws_gateway::API_ID);
    assert_eq!(context["domainName"], domain.as_str());
    assert_eq!(context["requestId"], context["extendedRequestId"]);
    assert_eq!(
        context["identity"],
        json!({ "sourceIp": "127.0.0.1", "userAgent": "arc-test/1.0" })
    );
    let id = connect.connection_id();
    assert_eq!(id.len(), "L0SM9cOFvHcCIhw=".len());
    assert!(id.ends_with('='), "{id}");
    let connected_at = context["connectedAt"].as_i64().unwrap_or_default();
    let request_time = context["requestTimeEpoch"].as_i64().unwrap_or_default();
    assert!(connected_at > 1_700_000_000_000 && connected_at <= request_time);
    let time = context["requestTime"].as_str().unwrap_or_default();
    assert_eq!(time.len(), "22/Feb/2022:19:07:37 +0000".len(), "{time}");
    assert!(time.ends_with(" +0000"), "{time}");

    // Every header of the upgrade request, the cookie included, and API Gateway's own.
    let headers = &event["headers"];
    assert_eq!(headers["Cookie"], "_idx=sealed; theme=dark");
    assert_eq!(
        event["multiValueHeaders"]["Cookie"],
        json!(["_idx=sealed; theme=dark"])
    );
    assert_eq!(headers["User-Agent"], "arc-test/1.0");
    assert_eq!(headers["Host"], domain.as_str());
    assert_eq!(headers["Upgrade"], "websocket");
    assert_eq!(headers["Sec-WebSocket-Version"], "13");
    assert!(headers["Sec-WebSocket-Key"].is_string(), "{headers}");
    assert_eq!(headers["X-Forwarded-For"], "127.0.0.1");
    assert_eq!(
        headers["X-Forwarded-Port"],
        gateway.address.port().to_string()
    );
    assert_eq!(headers["X-Forwarded-Proto"], "http");
    assert_eq!(keys(headers), keys(&event["multiValueHeaders"]));
    assert_eq!(
        event["queryStringParameters"],
        json!({ "name": "me", "tag": "b c" })
    );
    assert_eq!(
        event["multiValueQueryStringParameters"],
        json!({ "name": ["me"], "tag": ["a", "b c"] })
    );
    assert_eq!(event["isBase64Encoded"], false);
    assert!(event.get("body").is_none(), "{event}");

    // Accepted, so the management API knows it.
    let info = request(Method::GET, &gateway.connection_url(None, &id), "").await;
    assert_eq!(info.status, StatusCode::OK, "{info:?}");
    assert_eq!(epoch_millis(&info.json()["connectedAt"]), connected_at);
}

#[tokio::test]
async fn a_refused_connect_answers_its_status_and_opens_nothing() {
    let mut lambda = StandIn::start(script(|invocation| async move {
        let cookie = &invocation.event["headers"]["Cookie"];
        match invocation.function.as_str() {
            "ws-connect" if cookie != "let=me-in" => {
                Answer::Reply(json!({ "statusCode": 403, "body": "no" }))
            }
            _ => Answer::Reply(json!({ "statusCode": 200 })),
        }
    }))
    .await;
    let gateway = Running::start(&[], &lambda.url).await;

    let refused = connect(&gateway.ws("/"), &[]).await;
    match refused {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::FORBIDDEN);
        }
        other => panic!("expected a 403 refusal, got {other:?}"),
    }
    let refused_id = lambda.expect("ws-connect").await.connection_id();
    request(Method::GET, &gateway.connection_url(None, &refused_id), "")
        .await
        .assert_gone();
    request(
        Method::POST,
        &gateway.connection_url(None, &refused_id),
        "hi",
    )
    .await
    .assert_gone();

    // The next connection is accepted; the refused one never brings a $disconnect.
    let mut socket = open(&gateway.ws("/"), &[("Cookie", "let=me-in")]).await;
    let accepted = lambda.expect("ws-connect").await.connection_id();
    assert_ne!(accepted, refused_id);
    socket
        .close(None)
        .await
        .unwrap_or_else(|err| panic!("close: {err}"));
    let disconnect = lambda.expect("ws-disconnect").await;
    assert_eq!(disconnect.connection_id(), accepted);
    assert!(lambda.try_next().is_none());
}

#[tokio::test]
async fn connect_failures_refuse_with_502() {
    let lambda = StandIn::start(script(|invocation| async move {
        match invocation.event["headers"]["X-Case"].as_str() {
            // What watch answers when the function returned an error.
            Some("error") => {
                Answer::Fail(500, r#"{"errorType":"Panic","errorMessage":"boom"}"#.into())
            }
            Some("no-status") => Answer::Reply(json!({ "body": "hello" })),
            Some("null") => Answer::Reply(Value::Null),
            _ => Answer::Reply(json!({ "statusCode": 200 })),
        }
    }))
    .await;
    let gateway = Running::start(&[], &lambda.url).await;
    for case in ["error", "no-status", "null"] {
        match connect(&gateway.ws("/"), &[("X-Case", case)]).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), StatusCode::BAD_GATEWAY, "{case}");
            }
            other => panic!("{case}: expected a 502 refusal, got {other:?}"),
        }
    }
    // And the gateway still serves.
    let _socket = open(&gateway.ws("/"), &[]).await;

    // With nothing listening at the invoke address.
    let nothing = support::bind().await;
    let down = format!("http://{}", support::address(&nothing));
    drop(nothing);
    let gateway = Running::start(&[], &down).await;
    match connect(&gateway.ws("/"), &[]).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        }
        other => panic!("expected a 502 refusal, got {other:?}"),
    }
    request(
        Method::GET,
        &gateway.connection_url(None, "AAAAAAAAAAAAAAA="),
        "",
    )
    .await
    .assert_gone();
}

#[tokio::test]
async fn messages_are_routed_by_action_and_replies_reach_the_client() {
    let mut lambda = StandIn::start(script(|invocation| async move {
        match invocation.context()["eventType"].as_str() {
            Some("MESSAGE") => Answer::Reply(json!({
                "statusCode": 200,
                "body": format!("{} got {}", invocation.function, invocation.event["body"]),
            })),
            _ => Answer::Reply(json!({ "statusCode": 200 })),
        }
    }))
    .await;
    let gateway = Running::start(&["chat", "join-room"], &lambda.url).await;
    let mut socket = open(&gateway.ws("/"), &[("User-Agent", "arc-test/1.0")]).await;
    let connect = lambda.expect("ws-connect").await;

    let cases = [
        (r#"{"action":"chat","text":"hi"}"#, "ws-chat", "chat"),
        (r#"{"action":"join-room"}"#, "ws-join_room", "join-room"),
        (r#"{"action":"unknown"}"#, "ws-default", "$default"),
        (r#"{"text":"no action"}"#, "ws-default", "$default"),
        (r#"["chat"]"#, "ws-default", "$default"),
        ("plain text, not JSON", "ws-default", "$default"),
    ];
    for (body, function, route_key) in cases {
        socket
            .send(Message::text(body))
            .await
            .unwrap_or_else(|err| panic!("send: {err}"));
        let message = lambda.expect(function).await;
        let context = message.context();
        assert_eq!(
            keys(&message.event),
            ["body", "isBase64Encoded", "requestContext"].into()
        );
        assert_eq!(message.event["body"], body);
        assert_eq!(message.event["isBase64Encoded"], false);
        assert_eq!(keys(context), fields(&["messageId"]), "{context}");
        assert_eq!(context["routeKey"], route_key);
        assert_eq!(context["eventType"], "MESSAGE");
        assert_eq!(context["messageDirection"], "IN");
        assert_eq!(context["connectionId"], connect.context()["connectionId"]);
        assert_eq!(context["connectedAt"], connect.context()["connectedAt"]);
        assert_eq!(context["identity"], connect.context()["identity"]);
        assert_ne!(context["messageId"], context["requestId"]);
        assert_ne!(context["requestId"], connect.context()["requestId"]);
        // The reply's body comes back on the socket.
        assert_eq!(
            receive_text(&mut socket).await,
            format!("{function} got {}", json!(body))
        );
    }

    // A binary frame reaches $default in base64.
    socket
        .send(Message::binary(vec![0_u8, 1, 2, 255]))
        .await
        .unwrap_or_else(|err| panic!("send: {err}"));
    let binary = lambda.expect("ws-default").await;
    assert_eq!(binary.event["body"], "AAEC/w==");
    assert_eq!(binary.event["isBase64Encoded"], true);
    assert_eq!(
        receive_text(&mut socket).await,
        r#"ws-default got "AAEC/w==""#
    );
}

#[tokio::test]
async fn a_failed_message_tells_the_client_and_keeps_the_connection() {
    let mut lambda = StandIn::start(script(|invocation| async move {
        match invocation.function.as_str() {
            "ws-default" => Answer::Fail(500, r#"{"errorMessage":"boom"}"#.into()),
            _ => Answer::Reply(json!({ "statusCode": 200 })),
        }
    }))
    .await;
    let gateway = Running::start(&[], &lambda.url).await;
    let mut socket = open(&gateway.ws("/"), &[]).await;
    let id = lambda.expect("ws-connect").await.connection_id();

    socket
        .send(Message::text("hello"))
        .await
        .unwrap_or_else(|err| panic!("send: {err}"));
    let message = lambda.expect("ws-default").await;
    let error: Value = serde_json::from_str(&receive_text(&mut socket).await)
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        error,
        json!({
            "message": "Internal server error",
            "connectionId": id,
            "requestId": message.context()["requestId"],
        })
    );
    let sent = request(
        Method::POST,
        &gateway.connection_url(None, &id),
        "still here",
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK);
    assert_eq!(receive_text(&mut socket).await, "still here");
}

#[tokio::test]
async fn the_management_api_posts_gets_and_deletes() {
    let mut lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start(&[], &lambda.url).await;
    let mut socket = open(&gateway.ws("/"), &[("User-Agent", "arc-test/1.0")]).await;
    let connect = lambda.expect("ws-connect").await;
    let id = connect.connection_id();
    let url = gateway.connection_url(None, &id);
    assert!(url.ends_with("%3D"), "encoded like the SDK does: {url}");

    // POST: UTF-8 as a text frame, anything else as binary; under a stage too.
    let sent = request(Method::POST, &url, "hello").await;
    assert_eq!((sent.status, sent.body.len()), (StatusCode::OK, 0));
    assert_eq!(receive_text(&mut socket).await, "hello");
    let sent = request(Method::POST, &url, vec![0xff_u8, 0, 1]).await;
    assert_eq!(sent.status, StatusCode::OK);
    assert_eq!(
        receive(&mut socket).await,
        Message::binary(vec![0xff_u8, 0, 1])
    );
    let staged = gateway.connection_url(Some("testing"), &id);
    assert_eq!(
        request(Method::POST, &staged, "staged").await.status,
        StatusCode::OK
    );
    assert_eq!(receive_text(&mut socket).await, "staged");

    // GET: when it connected and was last active, and who it is.
    for url in [&url, &staged] {
        let info = request(Method::GET, url, "").await;
        assert_eq!(info.status, StatusCode::OK);
        let info = info.json();
        assert_eq!(
            keys(&info),
            ["connectedAt", "identity", "lastActiveAt"].into()
        );
        assert_eq!(
            info["identity"],
            json!({ "sourceIp": "127.0.0.1", "userAgent": "arc-test/1.0" })
        );
        let connected_at = epoch_millis(&info["connectedAt"]);
        assert_eq!(
            Some(connected_at),
            connect.context()["connectedAt"].as_i64()
        );
        assert!(epoch_millis(&info["lastActiveAt"]) >= connected_at);
    }

    // DELETE: closes with 1000, which brings $disconnect; from then on the id is gone.
    let deleted = request(Method::DELETE, &staged, "").await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    match receive(&mut socket).await {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Normal),
        other => panic!("expected a close frame, got {other:?}"),
    }
    support::finish(&mut socket).await;
    let disconnect = lambda.expect("ws-disconnect").await;
    assert_eq!(disconnect.connection_id(), id);
    assert_eq!(disconnect.context()["disconnectStatusCode"], 1000);
    assert_eq!(
        disconnect.context()["disconnectReason"],
        "Connection Closed Normally"
    );
    for method in [Method::GET, Method::POST, Method::DELETE] {
        request(method, &url, "late").await.assert_gone();
    }
}

#[tokio::test]
async fn unknown_ids_are_gone() {
    let lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start(&[], &lambda.url).await;
    for url in [
        gateway.connection_url(None, "L0SM9cOFvHcCIhw="),
        gateway.connection_url(Some("production"), "L0SM9cOFvHcCIhw="),
        format!("http://{}/@connections/raw=", gateway.address),
    ] {
        for method in [Method::GET, Method::POST, Method::DELETE] {
            request(method, &url, "x").await.assert_gone();
        }
    }
}

#[tokio::test]
async fn a_function_posts_to_its_own_connection_during_its_invocation() {
    let mut lambda = StandIn::start(script(|invocation| async move {
        if invocation.function != "ws-default" {
            return Answer::Reply(json!({ "statusCode": 200 }));
        }
        // The management endpoint, the way a function finds it: from its own event.
        let context = invocation.context();
        let url = format!(
            "http://{}/{}/@connections/{}",
            context["domainName"].as_str().unwrap_or_default(),
            context["stage"].as_str().unwrap_or_default(),
            percent_encoding::utf8_percent_encode(
                &invocation.connection_id(),
                percent_encoding::NON_ALPHANUMERIC
            ),
        );
        let posted = request(Method::POST, &url, "from inside the invocation").await;
        Answer::Reply(json!({
            "statusCode": 200,
            "body": format!("replied after {}", posted.status.as_u16()),
        }))
    }))
    .await;
    let gateway = Running::start(&[], &lambda.url).await;
    let mut socket = open(&gateway.ws("/"), &[]).await;
    lambda.expect("ws-connect").await;

    socket
        .send(Message::text("go"))
        .await
        .unwrap_or_else(|err| panic!("send: {err}"));
    lambda.expect("ws-default").await;
    assert_eq!(
        receive_text(&mut socket).await,
        "from inside the invocation"
    );
    assert_eq!(receive_text(&mut socket).await, "replied after 200");
}

#[tokio::test]
async fn closing_sends_disconnect_with_the_reason() {
    let mut lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start(&[], &lambda.url).await;
    let host = gateway.address.to_string();

    // A close frame with a code and reason.
    let mut socket = open(&gateway.ws("/"), &[]).await;
    let connect = lambda.expect("ws-connect").await;
    socket
        .close(Some(CloseFrame {
            code: CloseCode::from(4000),
            reason: "bye".into(),
        }))
        .await
        .unwrap_or_else(|err| panic!("close: {err}"));
    let disconnect = lambda.expect("ws-disconnect").await;
    let context = disconnect.context();
    assert_eq!(
        keys(context),
        fields(&["disconnectStatusCode", "disconnectReason"]),
        "{context}"
    );
    assert_eq!(context["routeKey"], "$disconnect");
    assert_eq!(context["eventType"], "DISCONNECT");
    assert_eq!(context["disconnectStatusCode"], 4000);
    assert_eq!(context["disconnectReason"], "bye");
    assert_eq!(context["connectionId"], connect.context()["connectionId"]);
    assert_eq!(context["connectedAt"], connect.context()["connectedAt"]);
    assert_eq!(disconnect.event["headers"]["Host"], host.as_str());
    assert_eq!(disconnect.event["multiValueHeaders"]["Host"], json!([host]));
    assert!(disconnect.event.get("body").is_none());
    request(
        Method::GET,
        &gateway.connection_url(None, &connect.connection_id()),
        "",
    )
    .await
    .assert_gone();
    // The gateway answered the close, as the protocol asks.
    match receive(&mut socket).await {
        Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::from(4000)),
        other => panic!("expected the close echoed, got {other:?}"),
    }

    // A close frame without a code: API Gateway's 1005.
    let mut socket = open(&gateway.ws("/"), &[]).await;
    lambda.expect("ws-connect").await;
    socket
        .close(None)
        .await
        .unwrap_or_else(|err| panic!("close: {err}"));
    let disconnect = lambda.expect("ws-disconnect").await;
    assert_eq!(disconnect.context()["disconnectStatusCode"], 1005);
    assert_eq!(
        disconnect.context()["disconnectReason"],
        "Client-side close frame status not set"
    );

    // The TCP connection dropped without a close frame.
    let socket = open(&gateway.ws("/"), &[]).await;
    let dropped = lambda.expect("ws-connect").await.connection_id();
    drop(socket);
    let disconnect = lambda.expect("ws-disconnect").await;
    assert_eq!(disconnect.connection_id(), dropped);
    assert_eq!(disconnect.context()["disconnectStatusCode"], 1006);
}

#[tokio::test]
async fn shutdown_closes_every_connection_and_waits_for_disconnect() {
    let mut lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start(&[], &lambda.url).await;
    let one = open(&gateway.ws("/"), &[]).await;
    let two = open(&gateway.ws("/testing"), &[]).await;
    let mut ids = BTreeSet::from([
        lambda.expect("ws-connect").await.connection_id(),
        lambda.expect("ws-connect").await.connection_id(),
    ]);

    // The clients answer the close frames while the gateway waits for them.
    let answer = |mut socket: support::Socket| {
        tokio::spawn(async move {
            let frame = receive(&mut socket).await;
            support::finish(&mut socket).await;
            frame
        })
    };
    let (one, two) = (answer(one), answer(two));
    assert!(gateway.stop().await.is_ok());
    for socket in [one, two] {
        match socket.await.unwrap_or_else(|err| panic!("{err}")) {
            Message::Close(Some(frame)) => assert_eq!(frame.code, CloseCode::Away),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    // serve returned only after both $disconnect invocations were made.
    for _ in 0..2 {
        let disconnect = lambda
            .try_next()
            .unwrap_or_else(|| panic!("a $disconnect before serve returned"));
        assert_eq!(disconnect.function, "ws-disconnect");
        assert_eq!(disconnect.context()["disconnectStatusCode"], 1001);
        assert_eq!(disconnect.context()["disconnectReason"], "Going away");
        assert!(ids.remove(&disconnect.connection_id()));
    }
    assert!(ids.is_empty());
}

#[tokio::test]
async fn a_malformed_frame_closes_only_its_connection() {
    use tokio::io::AsyncWriteExt;
    use tokio_tungstenite::MaybeTlsStream;

    let mut lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start(&[], &lambda.url).await;
    let mut other = open(&gateway.ws("/"), &[]).await;
    let other_id = lambda.expect("ws-connect").await.connection_id();
    let mut broken = open(&gateway.ws("/"), &[]).await;
    let broken_id = lambda.expect("ws-connect").await.connection_id();

    // A masked text frame whose payload is not UTF-8 (the mask is zero, so it goes as is).
    let MaybeTlsStream::Plain(tcp) = broken.get_mut() else {
        panic!("plain ws:// is a plain TCP stream");
    };
    tcp.write_all(&[0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe])
        .await
        .unwrap_or_else(|err| panic!("write: {err}"));
    let disconnect = lambda.expect("ws-disconnect").await;
    assert_eq!(disconnect.connection_id(), broken_id);
    assert_eq!(disconnect.context()["disconnectStatusCode"], 1006);
    request(Method::GET, &gateway.connection_url(None, &broken_id), "")
        .await
        .assert_gone();

    // The other connection goes on.
    let sent = request(
        Method::POST,
        &gateway.connection_url(None, &other_id),
        "fine",
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK);
    assert_eq!(receive_text(&mut other).await, "fine");
}

#[tokio::test]
async fn connect_picks_the_subprotocol_its_reply_names() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;

    let mut lambda = StandIn::start(script(|invocation| async move {
        let offered = invocation.event["headers"]["Sec-WebSocket-Protocol"].clone();
        Answer::Reply(json!({
            "statusCode": 200,
            "headers": { "Sec-WebSocket-Protocol": offered.as_str().map(|_| "chat.v2") },
        }))
    }))
    .await;
    let gateway = Running::start(&[], &lambda.url).await;
    let mut request = gateway
        .ws("/")
        .into_client_request()
        .unwrap_or_else(|err| panic!("{err}"));
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        http::HeaderValue::from_static("chat.v1, chat.v2"),
    );
    let (_socket, response) =
        support::within("the upgrade", tokio_tungstenite::connect_async(request))
            .await
            .unwrap_or_else(|err| panic!("the upgrade failed: {err}"));
    assert_eq!(
        response.headers().get("sec-websocket-protocol"),
        Some(&http::HeaderValue::from_static("chat.v2"))
    );
    let connect = lambda.expect("ws-connect").await;
    assert_eq!(
        connect.event["headers"]["Sec-WebSocket-Protocol"],
        "chat.v1, chat.v2"
    );
}

#[tokio::test]
async fn every_event_parses_as_lambdas_websocket_request() {
    use aws_lambda_events::apigw::ApiGatewayWebsocketProxyRequest;

    let mut lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start(&["chat"], &lambda.url).await;
    let mut socket = open(
        &gateway.ws("/?room=lobby"),
        &[("Cookie", "_idx=sealed"), ("User-Agent", "arc-test/1.0")],
    )
    .await;
    let mut events = vec![lambda.expect("ws-connect").await];
    for frame in [
        Message::text(r#"{"action":"chat"}"#),
        Message::binary(vec![1_u8, 2]),
    ] {
        socket
            .send(frame)
            .await
            .unwrap_or_else(|err| panic!("send: {err}"));
        events.push(lambda.next().await);
    }
    socket
        .close(None)
        .await
        .unwrap_or_else(|err| panic!("close: {err}"));
    events.push(lambda.expect("ws-disconnect").await);

    let id = events[0].connection_id();
    let expected = [
        ("$connect", "CONNECT"),
        ("chat", "MESSAGE"),
        ("$default", "MESSAGE"),
        ("$disconnect", "DISCONNECT"),
    ];
    for (invocation, (route_key, event_type)) in events.iter().zip(expected) {
        let request: ApiGatewayWebsocketProxyRequest =
            serde_json::from_value(invocation.event.clone())
                .unwrap_or_else(|err| panic!("{err}: {}", invocation.event));
        let context = &request.request_context;
        assert_eq!(context.connection_id.as_deref(), Some(id.as_str()));
        assert_eq!(context.route_key.as_deref(), Some(route_key));
        assert_eq!(context.event_type.as_deref(), Some(event_type));
        assert_eq!(context.stage.as_deref(), Some(arc_ws_gateway::STAGE));
        assert_eq!(
            context.domain_name.as_deref(),
            Some(gateway.address.to_string().as_str())
        );
        assert_eq!(context.identity.source_ip.as_deref(), Some("127.0.0.1"));
        assert!(context.connected_at > 0 && context.request_time_epoch >= context.connected_at);
    }
    let connect: ApiGatewayWebsocketProxyRequest =
        serde_json::from_value(events[0].event.clone()).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        connect.headers.get("cookie").and_then(|v| v.to_str().ok()),
        Some("_idx=sealed")
    );
    assert_eq!(connect.query_string_parameters.first("room"), Some("lobby"));
    let binary: ApiGatewayWebsocketProxyRequest =
        serde_json::from_value(events[2].event.clone()).unwrap_or_else(|err| panic!("{err}"));
    assert!(binary.is_base64_encoded);
    assert_eq!(binary.body.as_deref(), Some("AQI="));
    let disconnect: ApiGatewayWebsocketProxyRequest =
        serde_json::from_value(events[3].event.clone()).unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(
        disconnect.request_context.disconnect_status_code,
        Some(1005)
    );
}

// ---------------------------------------------------------------------------------------------
// As strict as API Gateway, and closed to other web pages

/// The close frame the gateway sends, and the `$disconnect` that follows it.
async fn closed_with(socket: &mut support::Socket, lambda: &mut StandIn, code: u16, reason: &str) {
    match receive(socket).await {
        Message::Close(Some(frame)) => {
            assert_eq!(u16::from(frame.code), code);
            assert_eq!(frame.reason.as_str(), reason);
        }
        other => panic!("expected a close frame, got {other:?}"),
    }
    support::finish(socket).await;
    let disconnect = lambda.expect("ws-disconnect").await;
    assert_eq!(disconnect.context()["disconnectStatusCode"], code);
    assert_eq!(disconnect.context()["disconnectReason"], reason);
}

#[tokio::test]
async fn an_idle_socket_is_closed_and_traffic_keeps_it_open() {
    let idle = std::time::Duration::from_millis(600);
    let mut lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start_with(&[], &lambda.url, |g| g.idle_timeout(idle)).await;
    let mut socket = open(&gateway.ws("/"), &[]).await;
    let id = lambda.expect("ws-connect").await.connection_id();
    // Traffic both ways, for three idle timeouts: the socket stays open.
    let started = std::time::Instant::now();
    let mut round = 0;
    while started.elapsed() < idle * 3 {
        round += 1;
        tokio::time::sleep(idle / 3).await;
        if round % 2 == 0 {
            socket
                .send(Message::text("ping"))
                .await
                .unwrap_or_else(|err| panic!("send: {err}"));
            lambda.expect("ws-default").await;
        } else {
            let url = gateway.connection_url(None, &id);
            assert_eq!(
                request(Method::POST, &url, "pong").await.status,
                StatusCode::OK
            );
            assert_eq!(receive_text(&mut socket).await, "pong");
        }
    }
    assert!(
        lambda.try_next().is_none(),
        "no $disconnect while traffic flows"
    );
    // Then nothing: closed as API Gateway closes an idle connection.
    closed_with(&mut socket, &mut lambda, 1001, "Going away").await;
    request(Method::GET, &gateway.connection_url(None, &id), "")
        .await
        .assert_gone();
}

#[tokio::test]
async fn every_socket_is_closed_at_the_end_of_its_lifetime() {
    let mut lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start_with(&[], &lambda.url, |g| {
        g.max_lifetime(std::time::Duration::from_millis(800))
    })
    .await;
    let mut socket = open(&gateway.ws("/"), &[]).await;
    let id = lambda.expect("ws-connect").await.connection_id();
    let url = gateway.connection_url(None, &id);
    // Busy all along: the lifetime ends it all the same.
    for _ in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        assert_eq!(
            request(Method::POST, &url, "busy").await.status,
            StatusCode::OK
        );
        assert_eq!(receive_text(&mut socket).await, "busy");
    }
    closed_with(&mut socket, &mut lambda, 1001, "Going away").await;
}

#[tokio::test]
async fn frames_over_32_kb_and_messages_over_128_kb_close_the_socket() {
    let mut lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start(&[], &lambda.url).await;

    // At the limit: delivered.
    let mut socket = open(&gateway.ws("/"), &[]).await;
    lambda.expect("ws-connect").await;
    socket
        .send(Message::text("x".repeat(32 * 1024)))
        .await
        .unwrap_or_else(|err| panic!("send: {err}"));
    let message = lambda.expect("ws-default").await;
    assert_eq!(
        message.event["body"].as_str().map(str::len),
        Some(32 * 1024)
    );
    // One byte over in one frame: closed, and no function hears it.
    socket
        .send(Message::text("x".repeat(32 * 1024 + 1)))
        .await
        .unwrap_or_else(|err| panic!("send: {err}"));
    closed_with(&mut socket, &mut lambda, 1009, "Message too big").await;

    // A message of many frames, each within 32 KB, over 128 KB in all: closed too.
    let mut socket = open(&gateway.ws("/"), &[]).await;
    lambda.expect("ws-connect").await;
    {
        use tokio_tungstenite::tungstenite::protocol::frame::Frame;
        use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
        let chunk = vec![b'y'; 16 * 1024];
        let frames = 128 / 16 + 1;
        for i in 0..frames {
            let opcode = if i == 0 {
                OpCode::Data(Data::Text)
            } else {
                OpCode::Data(Data::Continue)
            };
            let frame = Frame::message(chunk.clone(), opcode, i == frames - 1);
            socket
                .send(Message::Frame(frame))
                .await
                .unwrap_or_else(|err| panic!("send frame {i}: {err}"));
        }
    }
    closed_with(&mut socket, &mut lambda, 1009, "Message too big").await;
    assert!(lambda.try_next().is_none(), "no function heard either");
}

#[tokio::test]
async fn a_post_over_128_kb_is_413_and_sends_nothing() {
    let mut lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start(&[], &lambda.url).await;
    let mut socket = open(&gateway.ws("/"), &[]).await;
    let id = lambda.expect("ws-connect").await.connection_id();
    let url = gateway.connection_url(None, &id);
    let refused = request(Method::POST, &url, vec![b'z'; 128 * 1024 + 1]).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        refused
            .headers
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok()),
        Some("PayloadTooLargeException")
    );
    assert!(refused.json()["message"].is_string());
    // Nothing reached the socket: the next frame is the one sent after.
    let fits = request(Method::POST, &url, vec![b'z'; 128 * 1024]).await;
    assert_eq!(fits.status, StatusCode::OK);
    assert_eq!(receive_text(&mut socket).await.len(), 128 * 1024);
}

#[tokio::test]
async fn only_the_apps_pages_on_a_loopback_host_may_connect() {
    let mut lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start_with(&[], &lambda.url, |g| {
        g.origins(&[
            "http://127.0.0.1:9000".into(),
            "HTTPS://App.Example.com".into(),
        ])
    })
    .await;
    let port = gateway.address.port();
    for origin in ["http://127.0.0.1:9000", "https://app.example.com"] {
        let mut socket = open(&gateway.ws("/"), &[("origin", origin)]).await;
        lambda.expect("ws-connect").await;
        socket
            .close(None)
            .await
            .unwrap_or_else(|err| panic!("{err}"));
        lambda.expect("ws-disconnect").await;
    }
    // The loopback name the page's socket URL uses: localhost.
    let host = format!("localhost:{port}");
    let mut socket = open(
        &gateway.ws("/"),
        &[("host", &host), ("origin", "http://127.0.0.1:9000")],
    )
    .await;
    lambda.expect("ws-connect").await;
    socket
        .close(None)
        .await
        .unwrap_or_else(|err| panic!("{err}"));
    lambda.expect("ws-disconnect").await;

    let refused = |headers: Vec<(&'static str, String)>| {
        let url = gateway.ws("/");
        async move {
            let pairs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            match connect(&url, &pairs).await {
                Err(tungstenite::Error::Http(response)) => response.status(),
                other => panic!("{pairs:?} was not refused: {:?}", other.map(|_| ())),
            }
        }
    };
    for headers in [
        vec![("origin", "https://evil.example".to_owned())],
        vec![("origin", "http://127.0.0.1:9001".to_owned())],
        vec![("origin", "null".to_owned())],
        vec![("host", format!("attacker.example:{port}"))],
        vec![("host", format!("127.0.0.1:{}", port.wrapping_add(1)))],
    ] {
        assert_eq!(refused(headers).await, StatusCode::FORBIDDEN);
    }
    assert!(
        lambda.try_next().is_none(),
        "no refused upgrade reached ws-connect"
    );
}

#[tokio::test]
async fn the_management_api_answers_on_loopback_names_only() {
    let mut lambda = StandIn::start(accept_all()).await;
    let gateway = Running::start(&[], &lambda.url).await;
    let mut socket = open(&gateway.ws("/"), &[]).await;
    let id = lambda.expect("ws-connect").await.connection_id();
    let url = gateway.connection_url(None, &id);
    let port = gateway.address.port();
    for host in [format!("attacker.example:{port}"), "127.0.0.1".to_owned()] {
        for method in [Method::GET, Method::POST, Method::DELETE] {
            let reply = request_with(method.clone(), &url, &[("host", &host)], "hello").await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{method} with Host {host}"
            );
            assert_eq!(
                reply
                    .headers
                    .get("x-amzn-errortype")
                    .and_then(|v| v.to_str().ok()),
                Some("ForbiddenException")
            );
        }
    }
    // Still open, and nothing was sent to it: the next frame is this one.
    for host in [format!("localhost:{port}"), format!("127.0.0.1:{port}")] {
        let reply = request_with(Method::POST, &url, &[("host", &host)], host.clone()).await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(receive_text(&mut socket).await, host);
    }
}
