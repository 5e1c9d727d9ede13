use super::*;
use crate::config::Config;

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
