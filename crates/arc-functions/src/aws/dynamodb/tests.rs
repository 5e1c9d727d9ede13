use std::sync::atomic::Ordering;
use std::time::SystemTime;

use super::*;
use crate::aws::env::table;
use crate::aws::test_server::{LAMBDA, Server, assert_signed_call, nobody_listening, server};

fn with(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    LAMBDA.iter().chain(extra).copied().collect()
}

fn client(vars: &[(&str, &str)]) -> Result<Client, String> {
    Client::from_env(table(vars))
}

fn local(server: &Server) -> Client {
    let endpoint: &'static str = server.endpoint.clone().leak();
    client(&with(&[("AWS_ENDPOINT_URL_DYNAMODB", endpoint)])).expect("client")
}

fn every_kind() -> Item {
    let s = |v: &str| AttributeValue::S(v.to_owned());
    let n = |v: &str| AttributeValue::N(v.to_owned());
    HashMap::from([
        ("s".to_owned(), s("text \"quoted\" é")),
        ("n".to_owned(), n("-12.5e3")),
        ("yes".to_owned(), AttributeValue::Bool(true)),
        ("no".to_owned(), AttributeValue::Bool(false)),
        ("null".to_owned(), AttributeValue::Null(true)),
        (
            "b".to_owned(),
            AttributeValue::B(Blob::new(vec![0, 1, 254, 255])),
        ),
        (
            "l".to_owned(),
            AttributeValue::L(vec![s("a"), n("1"), AttributeValue::L(vec![])]),
        ),
        (
            "m".to_owned(),
            AttributeValue::M(HashMap::from([("inner".to_owned(), s("x"))])),
        ),
        (
            "ss".to_owned(),
            AttributeValue::Ss(vec!["a".into(), "b".into()]),
        ),
        (
            "ns".to_owned(),
            AttributeValue::Ns(vec!["1".into(), "2".into()]),
        ),
        (
            "bs".to_owned(),
            AttributeValue::Bs(vec![Blob::new(vec![7])]),
        ),
    ])
}

#[test]
fn attributes_are_written_as_dynamodbs_json_and_read_back_unchanged() {
    let item = every_kind();
    let written = wire_item(&item);
    assert_eq!(written["s"], json!({ "S": "text \"quoted\" é" }));
    assert_eq!(written["n"], json!({ "N": "-12.5e3" }));
    assert_eq!(written["yes"], json!({ "BOOL": true }));
    assert_eq!(written["null"], json!({ "NULL": true }));
    assert_eq!(written["b"], json!({ "B": "AAH+/w==" }));
    assert_eq!(
        written["l"],
        json!({ "L": [{ "S": "a" }, { "N": "1" }, { "L": [] }] })
    );
    assert_eq!(written["m"], json!({ "M": { "inner": { "S": "x" } } }));
    assert_eq!(written["ss"], json!({ "SS": ["a", "b"] }));
    assert_eq!(written["ns"], json!({ "NS": ["1", "2"] }));
    assert_eq!(written["bs"], json!({ "BS": ["Bw=="] }));
    let text = written.to_string();
    let read = self::item(serde_json::from_str(&text).expect("json")).expect("an item");
    assert_eq!(read, item);
}

#[test]
fn what_is_not_an_attribute_is_refused_and_an_unknown_type_is_null() {
    for not_one in [
        json!({ "S": 1 }),
        json!({ "N": true }),
        json!({ "BOOL": "true" }),
        json!({ "S": "a", "N": "1" }),
        json!({}),
        json!("text"),
        json!({ "L": "x" }),
        json!({ "L": [{ "S": 1 }] }),
        json!({ "M": [] }),
        json!({ "M": { "a": { "S": 2 } } }),
        json!({ "B": "not base64!" }),
        json!({ "SS": ["a", 1] }),
        json!({ "NS": "1" }),
        json!({ "BS": ["!"] }),
        json!({ "BS": "AA==" }),
    ] {
        assert_eq!(attribute(not_one.clone()), None, "{not_one}");
    }
    assert_eq!(
        attribute(json!({ "LATER": { "x": 1 } })),
        Some(AttributeValue::Null(true))
    );
    assert_eq!(self::item(json!([])), None);
    assert_eq!(self::item(json!({ "a": { "S": 1 } })), None);
}

#[test]
fn an_expression_map_is_left_out_when_empty() {
    let none: &[(&str, &str)] = &[];
    assert_eq!(expression_map(none, |v| json!(v)), None);
    assert_eq!(
        expression_map(&[("#a", "_idx"), ("#b", "_v")], |v| json!(v)),
        Some(json!({ "#a": "_idx", "#b": "_v" }))
    );
}

#[test]
fn the_endpoint_is_the_one_given_else_the_regions() {
    assert_eq!(
        client(LAMBDA).expect("client").endpoint(),
        "https://dynamodb.eu-west-1.amazonaws.com/"
    );
    assert_eq!(
        client(&with(&[("AWS_USE_FIPS_ENDPOINT", "true")]))
            .expect("client")
            .endpoint(),
        "https://dynamodb-fips.eu-west-1.amazonaws.com/"
    );
    assert_eq!(
        client(&with(&[("AWS_REGION", "cn-north-1")]))
            .expect("client")
            .endpoint(),
        "https://dynamodb.cn-north-1.amazonaws.com.cn/"
    );
    let local = with(&[
        ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:4567"),
    ]);
    assert_eq!(
        client(&local).expect("client").endpoint(),
        "http://127.0.0.1:4567/",
        "the service's own variable first, given a trailing slash"
    );
    assert_eq!(
        client(&with(&[("AWS_ENDPOINT_URL", "http://localhost:8000/")]))
            .expect("client")
            .endpoint(),
        "http://localhost:8000/"
    );
    let mut ignored = local.clone();
    ignored.push(("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"));
    assert_eq!(
        client(&ignored).expect("client").endpoint(),
        "https://dynamodb.eu-west-1.amazonaws.com/"
    );
}

#[test]
fn what_only_the_sdk_reads_leaves_the_calls_to_its_client() {
    let why = |vars: &[(&str, &str)]| client(vars).err().expect("the SDK's client");
    let keyless: Vec<_> = LAMBDA[2..].to_vec();
    assert!(
        why(&keyless).contains("AWS_ACCESS_KEY_ID"),
        "{}",
        why(&keyless)
    );
    let regionless: Vec<_> = LAMBDA[..3].to_vec();
    assert!(
        why(&regionless).contains("AWS_REGION"),
        "{}",
        why(&regionless)
    );
    assert_eq!(
        why(&with(&[("AWS_MAX_ATTEMPTS", "3")])),
        "AWS_MAX_ATTEMPTS is set"
    );
    assert_eq!(
        why(&with(&[("AWS_RETRY_MODE", "adaptive")])),
        "AWS_RETRY_MODE is set"
    );
    assert!(
        client(&with(&[("AWS_MAX_ATTEMPTS", "")])).is_ok(),
        "empty is unset"
    );
    let not_a_url = why(&with(&[("AWS_ENDPOINT_URL_DYNAMODB", "not a url")]));
    assert!(not_a_url.contains("is not a URL"), "{not_a_url}");
}

#[tokio::test]
async fn a_call_is_signed_as_dynamodb_with_its_operation_and_input() {
    let server = server(vec![(
        200,
        r#"{"Item":{"_idx":{"S":"abc"},"n":{"N":"2"}}}"#,
    )])
    .await;
    let client = local(&server);
    let input = json!({ "TableName": "sessions", "Key": { "_idx": { "S": "abc" } } });
    let answer = client.call("GetItem", &input).await.expect("answered");
    assert_eq!(
        self::item(answer["Item"].clone()).expect("item")["n"],
        AttributeValue::N("2".into())
    );
    let requests = server.requests.lock().expect("lock").clone();
    let [request] = requests.as_slice() else {
        panic!("one request: {requests:?}");
    };
    assert_signed_call(request, "dynamodb_20120810.getitem", "dynamodb");
    assert!(
        request
            .to_ascii_lowercase()
            .contains("content-type: application/x-amz-json-1.0\r\n"),
        "{request}"
    );
    let body = request.split("\r\n\r\n").nth(1).expect("a body");
    assert_eq!(serde_json::from_str::<Value>(body).expect("json"), input);
}

/// The fault of a call answered `400` with `body`, and the server that answered it.
async fn refused(body: &'static str) -> (Fault, Server) {
    let server = server(vec![(400, body)]).await;
    let fault = local(&server)
        .call("PutItem", &json!({}))
        .await
        .expect_err("refused");
    (fault, server)
}

#[tokio::test]
async fn throttling_and_failures_are_retried_and_refusals_are_not() {
    let flaky = server(vec![
        (
            400,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"slow down"}"#,
        ),
        (500, r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError"}"#),
        (200, "{}"),
    ])
    .await;
    let answer = local(&flaky).call("PutItem", &json!({})).await;
    assert_eq!(answer, Ok(json!({})), "the third attempt");
    assert_eq!(flaky.served.load(Ordering::SeqCst), 3);

    let (fault, unmet_write) = refused(
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#,
    )
    .await;
    assert!(unmet(&fault), "{fault:?}");
    assert_eq!(
        fault.to_string(),
        "ConditionalCheckFailedException: The conditional request failed"
    );
    assert_eq!(unmet_write.served.load(Ordering::SeqCst), 1, "not retried");

    let (fault, _) = refused(
        r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#,
    )
    .await;
    assert!(
        !unmet(&fault) && matches!(fault, Fault::Refused { .. }),
        "{fault:?}"
    );

    let garbled = server(vec![(200, "<html>")]).await;
    let fault = local(&garbled)
        .call("GetItem", &json!({}))
        .await
        .expect_err("not JSON");
    assert!(
        matches!(&fault, Fault::Unavailable(why) if why.contains("GetItem") && why.contains("not JSON")),
        "{fault:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_does_not_outlive_the_invocation() {
    // Accepts and never answers: every attempt would wait out its second.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bound");
    let endpoint: &'static str =
        format!("http://{}", listener.local_addr().expect("address")).leak();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = client(&with(&[("AWS_ENDPOINT_URL_DYNAMODB", endpoint)])).expect("client");
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970");
    // 300 ms are kept back to answer in: 200 ms for the call.
    let deadline = Deadline(Some((now + Duration::from_millis(500)).as_millis() as u64));
    let fault = deadline
        .scope(client.call("GetItem", &json!({})))
        .await
        .expect_err("out of time");
    assert!(
        matches!(&fault, Fault::Unavailable(why) if why.contains("remaining time")),
        "{fault:?}"
    );
}

#[tokio::test]
async fn connecting_opens_the_connection_the_first_call_takes() {
    let server = server(vec![(200, "{}")]).await;
    let client = local(&server);
    assert!(!client.credentials.derived_for(&client.region, SERVICE));
    client.connect().await.expect("connected");
    assert!(
        client.credentials.derived_for(&client.region, SERVICE),
        "the day's signing key is derived while connecting"
    );
    // The server's accept runs on its own task, after the client's connect has returned.
    for _ in 0..200 {
        if server.connections.load(Ordering::SeqCst) > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
    assert_eq!(server.served.load(Ordering::SeqCst), 0, "nothing is sent");
    client.call("GetItem", &json!({})).await.expect("answered");
    client.call("GetItem", &json!({})).await.expect("answered");
    assert_eq!(server.served.load(Ordering::SeqCst), 2);
    assert_eq!(
        server.connections.load(Ordering::SeqCst),
        1,
        "the calls went out on the connection opened ahead"
    );
}

#[tokio::test]
async fn connecting_to_nobody_says_why() {
    let endpoint = nobody_listening();
    let client = client(&with(&[("AWS_ENDPOINT_URL_DYNAMODB", endpoint)])).expect("client");
    let why = client.connect().await.expect_err("refused");
    assert!(why.to_lowercase().contains("refused"), "{why}");
}
