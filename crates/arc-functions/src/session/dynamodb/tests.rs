use super::*;
use crate::config::Config;

// The integration tests' DynamoDB helpers: the session table as Architect declares it. For
// the connection records' tests too.
#[path = "../../../tests/suite/support/dynamodb.rs"]
pub(super) mod support;

fn store(vars: &[(&str, &str)]) -> DynamoDb {
    let config =
        Config::from_vars(vars.iter().copied().chain([("ARC_ENV", "testing")])).expect("config");
    DynamoDb::new(
        &Keyring::new(&config),
        Lifetime::of(&config),
        "t".into(),
        None,
    )
}

#[test]
fn signature_matches_cookie_signature_shape() {
    // HMAC-SHA256("abc", key "secret"), base64 without '=': what Node's
    // cookie-signature computes for sign("abc", "secret").
    let s = store(&[("ARC_APP_SECRET", "secret")]);
    assert_eq!(
        s.cookie_value("abc"),
        "abc.mUba1OAOkT/Ivo5dP34RCkqegy+D+wnDRShdeGONig4"
    );
    assert_eq!(
        s.verify("abc.mUba1OAOkT/Ivo5dP34RCkqegy+D+wnDRShdeGONig4"),
        Some(("abc".into(), 0))
    );
    // As @architect/functions sends it: percent-encoded.
    assert_eq!(
        s.verify("abc.mUba1OAOkT%2FIvo5dP34RCkqegy%2BD%2BwnDRShdeGONig4"),
        Some(("abc".into(), 0))
    );
}

#[test]
fn bad_signatures_are_refused() {
    let s = store(&[("ARC_APP_SECRET", "secret")]);
    let good = s.cookie_value("id-1");
    assert!(s.verify(&good).is_some());
    assert!(s.verify(&good.replace("id-1", "id-2")).is_none());
    assert!(s.verify("id-1").is_none());
    assert!(s.verify(".sig").is_none());
    assert!(s.verify("id-1.!!!").is_none());
    let other = store(&[("ARC_APP_SECRET", "other")]);
    assert!(other.verify(&good).is_none());
}

#[test]
fn previous_secret_verifies_and_is_flagged() {
    let old = store(&[("ARC_APP_SECRET", "old")]);
    let new = store(&[
        ("ARC_APP_SECRET", "new"),
        ("ARC_APP_SECRET_PREVIOUS", "old"),
    ]);
    let cookie = old.cookie_value("x");
    assert_eq!(new.verify(&cookie), Some(("x".into(), 1)));
    assert_ne!(
        new.cookie_value("x"),
        cookie,
        "signing uses the current secret"
    );
}

/// Throttling and access errors cannot be caused in dynalite, so these are built by hand.
fn service_error(code: &str) -> Error {
    use aws_sdk_dynamodb::config::http::HttpResponse;
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    let err = GetItemError::generic(ErrorMetadata::builder().code(code).message("m").build());
    let raw = HttpResponse::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(400).expect("status"),
        aws_smithy_types::body::SdkBody::empty(),
    );
    store(&[]).fault("GetItem", SdkError::service_error(err, raw))
}

#[test]
fn throttling_is_unavailable_and_access_errors_are_not() {
    for code in [
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
    ] {
        let e = service_error(code);
        assert!(e.is_unavailable(), "{code}");
        assert!(e.to_string().contains(code), "{e}");
    }
    for code in [
        "AccessDeniedException",
        "ResourceNotFoundException",
        "ValidationException",
    ] {
        assert!(!service_error(code).is_unavailable(), "{code}");
    }
    let e = service_error("AccessDeniedException");
    assert_eq!(
        e.to_string(),
        "DynamoDB GetItem on table \"t\" failed: AccessDeniedException: m"
    );
}

#[test]
fn json_survives_the_trip_through_attributes() {
    let value = serde_json::json!({
        "s": "x", "n": 1.5, "i": -3, "big": 18446744073709551615u64, "b": false,
        "z": null, "l": [1, "a", [true]], "m": {"deep": {"er": "st"}}, "empty": ""
    });
    assert_eq!(json_of(attribute_of(&value)), value);
    assert_eq!(
        attribute_of(&serde_json::json!(2)),
        AttributeValue::N("2".into())
    );
    assert_eq!(
        attribute_of(&serde_json::json!(null)),
        AttributeValue::Null(true)
    );
}

#[test]
fn every_attribute_node_writes_reads() {
    use aws_sdk_dynamodb::primitives::Blob;
    assert_eq!(json_of(AttributeValue::B(Blob::new(vec![0, 255]))), "AP8=");
    assert_eq!(
        json_of(AttributeValue::Ss(vec!["a".into(), "b".into()])),
        serde_json::json!(["a", "b"])
    );
    assert_eq!(
        json_of(AttributeValue::Ns(vec!["1".into(), "2.5".into()])),
        serde_json::json!([1, 2.5])
    );
    assert_eq!(
        json_of(AttributeValue::Bs(vec![Blob::new(b"x".to_vec())])),
        serde_json::json!(["eA=="])
    );
    assert_eq!(json_of(AttributeValue::Bool(true)), true);
    assert_eq!(json_of(AttributeValue::Null(true)), serde_json::Value::Null);
    // A number JSON cannot hold stays as its text rather than failing the read.
    assert_eq!(json_of(AttributeValue::N("1e400".into())), "1e400");
}

#[test]
fn signatures_in_url_safe_or_padded_base64_verify() {
    let s = store(&[("ARC_APP_SECRET", "secret")]);
    let standard = "mUba1OAOkT/Ivo5dP34RCkqegy+D+wnDRShdeGONig4";
    let url_safe = standard.replace('/', "_").replace('+', "-");
    for signature in [standard.to_owned(), url_safe, format!("{standard}=")] {
        assert_eq!(
            s.verify(&format!("abc.{signature}")),
            Some(("abc".into(), 0)),
            "{signature}"
        );
    }
}

#[test]
fn ids_are_long_and_unique() {
    let a = DynamoDb::new_id().expect("id");
    let b = DynamoDb::new_id().expect("id");
    assert_eq!(a.len(), 32);
    assert_ne!(a, b);
}

mod without_the_sdk {
    //! The item calls as the store makes them without the SDK, against a local stand-in that
    //! answers what dynalite cannot be made to (a lost race's unmet condition on cue, a 500
    //! on every call); the suite runs the same store against dynalite
    //! (`stores_suite::dynamodb_without_sdk`).

    use super::*;
    use crate::aws::test_server::{Server, server};
    use serde_json::json;

    const UNMET: &str = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#;

    /// A store on table `t` whose items' calls go without the SDK to `endpoint`.
    fn store_at(endpoint: &str) -> DynamoDb {
        let mut store = store(&[("ARC_APP_SECRET", "secret")]);
        let client = crate::aws::dynamodb::Client::from_env(crate::aws::env::table(&[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret"),
            ("AWS_REGION", "eu-west-1"),
            ("AWS_ENDPOINT_URL_DYNAMODB", endpoint),
        ]))
        .expect("client");
        store.signed = std::sync::OnceLock::from(Some(client));
        store
    }

    async fn against(answers: Vec<(u16, &'static str)>) -> (DynamoDb, Server) {
        let server = server(answers).await;
        (store_at(&server.endpoint), server)
    }

    /// The JSON bodies of the requests so far, and the operation of each.
    fn sent(server: &Server) -> Vec<(String, Value)> {
        let requests = server.requests.lock().expect("lock").clone();
        requests
            .iter()
            .map(|r| {
                let operation = r
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("x-amz-target: dynamodb_20120810.")
                            .map(str::to_owned)
                    })
                    .expect("a target");
                let body = r.split("\r\n\r\n").nth(1).expect("a body");
                (operation, serde_json::from_str(body).expect("json"))
            })
            .collect()
    }

    /// A write at 200 of `data` to the session `origin` says, begun at 100.
    fn rewrite<'a>(data: &'a serde_json::Map<String, Value>, origin: &'a Origin) -> Write<'a> {
        Write {
            data,
            origin: Some(origin),
            created: 100,
            now: 200,
            expiry: Expiry::Default,
        }
    }

    fn data() -> serde_json::Map<String, Value> {
        serde_json::from_str(r#"{"count":2,"who":"ann"}"#).expect("an object")
    }

    #[tokio::test]
    async fn a_write_that_lost_the_race_reads_the_version_and_is_a_conflict() {
        let (store, server) = against(vec![
            (400, UNMET),
            (200, r#"{"Item":{"_v":{"S":"theirs"}}}"#),
        ])
        .await;
        let origin = Origin::stored("the-id".into(), Some("s".into()), 100, Some(100))
            .at_version(Some("mine".into()));
        let data = data();
        assert!(matches!(
            store.save_item(rewrite(&data, &origin)).await,
            Err(Error::Conflict)
        ));
        let sent = sent(&server);
        let [(put, put_input), (get, get_input)] = sent.as_slice() else {
            panic!("a put and a get: {sent:?}");
        };
        assert_eq!((put.as_str(), get.as_str()), ("putitem", "getitem"));
        assert_eq!(put_input["TableName"], json!("t"));
        assert_eq!(
            put_input["ConditionExpression"],
            json!("attribute_exists(#idx) AND #v = :read")
        );
        assert_eq!(
            put_input["ExpressionAttributeNames"],
            json!({ "#idx": "_idx", "#v": "_v" })
        );
        assert_eq!(
            put_input["ExpressionAttributeValues"],
            json!({ ":read": { "S": "mine" } })
        );
        let item = &put_input["Item"];
        assert_eq!(item["_idx"], json!({ "S": "the-id" }));
        assert_eq!(item["count"], json!({ "N": "2" }));
        assert_eq!(item["who"], json!({ "S": "ann" }));
        assert_eq!(item["_secret"], json!({ "S": "s" }));
        assert_eq!(item["_created"], json!({ "N": "100" }));
        assert_eq!(item["_iat"], json!({ "N": "200" }));
        assert!(
            item["_v"]["S"].as_str().is_some_and(|v| v != "mine"),
            "a new version: {item}"
        );
        assert_eq!(
            get_input,
            &json!({
                "TableName": "t",
                "Key": { "_idx": { "S": "the-id" } },
                "ConsistentRead": true,
                "ProjectionExpression": "#a",
                "ExpressionAttributeNames": { "#a": "_v" },
            })
        );
    }

    #[tokio::test]
    async fn a_new_session_must_not_exist_and_a_gone_one_has_ended() {
        let (store, server) = against(vec![(200, "{}")]).await;
        let data = data();
        let write = Write {
            data: &data,
            origin: None,
            created: 100,
            now: 100,
            expiry: Expiry::BrowserSession,
        };
        let cookie = store.save_item(write).await.expect("written");
        let sent = sent(&server);
        let input = &sent[0].1;
        assert_eq!(
            input["ConditionExpression"],
            json!("attribute_not_exists(#idx)")
        );
        assert_eq!(input["ExpressionAttributeNames"], json!({ "#idx": "_idx" }));
        assert_eq!(
            input.get("ExpressionAttributeValues"),
            None,
            "DynamoDB refuses an empty map"
        );
        assert_eq!(input["Item"]["_expiry"], json!({ "S": "browser" }));
        let id = input["Item"]["_idx"]["S"].as_str().expect("an id");
        assert_eq!(cookie, store.cookie_value(id));

        let (store, _) = against(vec![(400, UNMET), (200, "{}")]).await;
        let origin = Origin::stored("gone".into(), None, 100, None);
        assert!(matches!(
            store.save_item(rewrite(&data, &origin)).await,
            Err(Error::Ended)
        ));
    }

    #[tokio::test]
    async fn a_renewal_moves_the_lifetime_on_and_a_gone_item_has_ended() {
        let (store, server) = against(vec![(200, "{}"), (400, UNMET)]).await;
        let origin = Origin::stored("the-id".into(), None, 100, Some(100));
        let data = data();
        let write = || rewrite(&data, &origin);
        assert_eq!(
            store.touch_item(write()).await.expect("renewed"),
            store.cookie_value("the-id")
        );
        assert!(matches!(store.touch_item(write()).await, Err(Error::Ended)));
        let sent = sent(&server);
        let (operation, input) = &sent[0];
        assert_eq!(operation, "updateitem");
        assert_eq!(input["Key"], json!({ "_idx": { "S": "the-id" } }));
        assert_eq!(
            input["UpdateExpression"],
            json!("SET #ttl = :ttl, #iat = :now")
        );
        assert_eq!(
            input["ConditionExpression"],
            json!("attribute_exists(#idx)")
        );
        assert_eq!(
            input["ExpressionAttributeNames"],
            json!({ "#idx": "_idx", "#ttl": "_ttl", "#iat": "_iat" })
        );
        let ttl = store
            .lifetime
            .expiry_of(Expiry::Default, 100, 200)
            .to_string();
        assert_eq!(
            input["ExpressionAttributeValues"],
            json!({ ":ttl": { "N": ttl }, ":now": { "N": "200" } })
        );
    }

    #[tokio::test]
    async fn an_item_is_read_consistently_and_deleted_by_its_key() {
        let ttl = (crate::keys::now() + 600).to_string();
        let now = crate::keys::now().to_string();
        let answer: &'static str = format!(
            r#"{{"Item":{{"_idx":{{"S":"the-id"}},"_ttl":{{"N":"{ttl}"}},"_iat":{{"N":"{now}"}},"_created":{{"N":"{now}"}},"_secret":{{"S":"s"}},"_v":{{"S":"v1"}},"count":{{"N":"3"}}}}}}"#
        )
        .leak();
        let (store, server) = against(vec![(200, answer), (200, "{}"), (200, "{}")]).await;
        let loaded = store
            .load_item("the-id".into(), 0, crate::keys::now())
            .await
            .expect("read")
            .expect("found");
        assert_eq!(Value::Object(loaded.data), json!({ "count": 3 }));
        assert_eq!(
            loaded.origin.record.and_then(|r| r.version).as_deref(),
            Some("v1")
        );
        assert!(
            store
                .load_item("missing".into(), 0, crate::keys::now())
                .await
                .expect("read")
                .is_none()
        );
        store.delete("the-id").await.expect("deleted");
        let sent = sent(&server);
        assert_eq!(
            sent[0].1,
            json!({ "TableName": "t", "Key": { "_idx": { "S": "the-id" } }, "ConsistentRead": true })
        );
        assert_eq!(
            sent[2],
            (
                "deleteitem".to_owned(),
                json!({ "TableName": "t", "Key": { "_idx": { "S": "the-id" } } })
            )
        );
    }

    #[tokio::test]
    async fn failures_are_unavailable_or_not_as_dynamodb_says() {
        let (store, _) = against(vec![(400, r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#)]).await;
        let error = store.delete("x").await.expect_err("no table");
        assert!(!error.is_unavailable());
        assert_eq!(
            error.to_string(),
            "DynamoDB DeleteItem on table \"t\" failed: ResourceNotFoundException: Requested resource not found"
        );

        let (store, server) = against(vec![(
            500,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError"}"#,
        )])
        .await;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970");
        let deadline = crate::deadline::Deadline(Some(
            (now + std::time::Duration::from_millis(900)).as_millis() as u64,
        ));
        let error = deadline
            .scope(store.get(AttributeValue::S("x".into()), None))
            .await
            .expect_err("down");
        assert!(error.is_unavailable(), "{error}");
        assert!(
            matches!(
                error,
                Error::DynamoDb {
                    operation: "GetItem",
                    ..
                }
            ),
            "{error}"
        );
        assert!(
            server.served.load(std::sync::atomic::Ordering::SeqCst) > 1,
            "retried"
        );

        let (store, _) = against(vec![(200, r#"{"Item":{"a":{"S":1}}}"#)]).await;
        let error = store
            .get(AttributeValue::S("x".into()), None)
            .await
            .expect_err("garbled");
        assert!(error.to_string().contains("cannot have"), "{error}");
    }

    #[tokio::test]
    async fn a_write_refused_for_another_reason_is_a_fault_not_a_lost_race() {
        let (store, server) = against(vec![(
            400,
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#,
        )])
        .await;
        let data = data();
        let origin = Origin::stored("the-id".into(), None, 100, Some(100));
        let error = store
            .save_item(rewrite(&data, &origin))
            .await
            .expect_err("no table");
        assert!(
            matches!(
                error,
                Error::DynamoDb {
                    operation: "PutItem",
                    unavailable: false,
                    ..
                }
            ),
            "{error}"
        );
        assert_eq!(
            server.served.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "no read to settle it"
        );
    }

    #[tokio::test]
    async fn the_warm_up_says_when_dynamodb_is_out_of_reach() {
        let store = store_at(crate::aws::test_server::nobody_listening());
        let log = crate::test_log::Log::capture();
        store.warm_up().await;
        let text = log.text();
        assert!(
            text.contains("DynamoDB was not reached at start-up"),
            "{text}"
        );
        assert!(!text.contains("connected to DynamoDB"), "{text}");
    }

    #[tokio::test]
    async fn the_warm_up_connects_and_sends_nothing() {
        let (store, server) = against(vec![(200, "{}")]).await;
        let log = crate::test_log::Log::capture();
        store.warm_up().await;
        let text = log.text();
        assert!(text.contains("connected to DynamoDB"), "{text}");
        store.delete("x").await.expect("deleted");
        assert_eq!(
            server.served.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "only the delete"
        );
        assert_eq!(
            server.connections.load(std::sync::atomic::Ordering::SeqCst),
            1,
            "on the connection the warm-up opened"
        );
    }

    #[test]
    fn a_client_given_is_used_for_every_call() {
        let config = Config::from_vars([("ARC_ENV", "testing")]).expect("config");
        let sdk = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
                .build(),
        );
        let given = DynamoDb::new(
            &Keyring::new(&config),
            Lifetime::of(&config),
            "t".into(),
            Some(sdk),
        );
        assert!(given.signed().is_none());
    }
}

/// The items' calls through the SDK's client the store builds itself, as when the environment
/// needs it (a profile's credentials): the warm-up opens the connection without a request, and
/// a renewal of an item another request deleted has ended. Against dynalite, so `#[ignore]`d
/// (`scripts/test` runs it).
#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn through_the_sdks_own_client_the_warm_up_connects_and_a_gone_item_has_ended() {
    support::require_dynamodb();
    let table = format!("sdk-own-{}", std::process::id());
    let raw = aws_sdk_dynamodb::Client::new(&aws_config::load_from_env().await);
    support::create_session_table(&raw, &table).await;
    let mut store = store(&[("ARC_APP_SECRET", "secret")]);
    store.table = table;
    store.signed = std::sync::OnceLock::from(None);
    let log = crate::test_log::Log::capture();
    store.warm_up().await;
    let text = log.text();
    assert!(
        text.contains("DynamoDB client ready, connected") && !text.contains("not reached"),
        "{text}"
    );

    let now = crate::keys::now();
    let data = serde_json::Map::from_iter([("count".to_owned(), Value::from(1))]);
    let new = Write {
        data: &data,
        origin: None,
        created: now,
        now,
        expiry: Expiry::Default,
    };
    let cookie = store.save_item(new).await.expect("written");
    let (id, _) = store.verify(&cookie).expect("signed");
    let origin = Origin::stored(id.clone(), None, now, Some(now));
    let renewal = || Write {
        data: &data,
        origin: Some(&origin),
        created: now,
        now,
        expiry: Expiry::Default,
    };
    assert_eq!(store.touch_item(renewal()).await.expect("renewed"), cookie);
    store.delete(&id).await.expect("deleted");
    assert!(matches!(
        store.touch_item(renewal()).await,
        Err(Error::Ended)
    ));
}
