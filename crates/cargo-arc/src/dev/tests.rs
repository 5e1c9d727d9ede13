//! What `cargo arc dev` plans from app.arc and its flags.

use super::*;

fn options(dynamodb: bool) -> DevOptions {
    DevOptions {
        dynamodb,
        port: 9000,
        ws_port: 9001,
    }
}

#[test]
fn every_table_is_created_with_its_keys() {
    let manifest = Manifest::parse(
        "@app\nshop\n@tables\nsession\n  _idx *String\n  _ttl TTL\norders\n  user *String\n  at **Number\n",
    )
    .expect("parses");
    let plan = plan(&manifest, &options(true)).expect("a plan");
    // Each table named to the functions as the session table is.
    assert_eq!(plan.env["ORDERS_TABLE_NAME"], "shop-orders");
    assert_eq!(plan.env["SESSION_TABLE_NAME"], "shop-session");
    assert!(!plan.env.contains_key("SESSION_TABLE_NAME_TABLE_NAME"));
    let tables: Vec<serde_json::Value> = plan
        .tables
        .iter()
        .map(|(name, create)| {
            let create: serde_json::Value = serde_json::from_str(create).expect("JSON");
            assert_eq!(create["TableName"], name.as_str());
            create
        })
        .collect();
    assert_eq!(
        tables[0],
        json!({
            "TableName": "shop-session",
            "AttributeDefinitions": [{ "AttributeName": "_idx", "AttributeType": "S" }],
            "KeySchema": [{ "AttributeName": "_idx", "KeyType": "HASH" }],
            "BillingMode": "PAY_PER_REQUEST",
        })
    );
    assert_eq!(
        tables[1],
        json!({
            "TableName": "shop-orders",
            "AttributeDefinitions": [
                { "AttributeName": "user", "AttributeType": "S" },
                { "AttributeName": "at", "AttributeType": "N" },
            ],
            "KeySchema": [
                { "AttributeName": "user", "KeyType": "HASH" },
                { "AttributeName": "at", "KeyType": "RANGE" },
            ],
            "BillingMode": "PAY_PER_REQUEST",
        })
    );
    assert_eq!(plan.functions, Vec::<String>::new());
    assert!(!plan.env.contains_key("ARC_WSS_URL"), "no @ws");
    assert_eq!(plan.env["ARC_ENV"], "testing");
}

#[test]
fn dynamodb_without_the_session_table_is_refused() {
    let manifest = Manifest::parse("@app\nsite\n@http\nget /\n").expect("parses");
    assert!(matches!(
        plan(&manifest, &options(true)),
        Err(Error::NoSessionTable)
    ));
    assert_eq!(
        plan(&manifest, &options(false)).expect("cookie").url,
        "http://127.0.0.1:9000/"
    );
}

#[test]
fn ports_come_from_flags_then_variables_then_defaults() {
    let none = |_: &str| None;
    assert_eq!(
        DevOptions::parse(&[], none).expect("defaults"),
        options(false)
    );
    let vars = |name: &str| match name {
        "PORT" => Some("8080".to_owned()),
        "WS_PORT" => Some("8081".to_owned()),
        _ => None,
    };
    let from_vars = DevOptions::parse(&[], vars).expect("from variables");
    assert_eq!((from_vars.port, from_vars.ws_port), (8080, 8081));
    let flags =
        DevOptions::parse(&["--ws-port", "7001", "--port", "7000"], vars).expect("flags win");
    assert_eq!((flags.port, flags.ws_port), (7000, 7001));
    for bad in [
        &["--port", "0"][..],
        &["--ws-port", "65536"],
        &["--port", "x"],
    ] {
        let error = DevOptions::parse(bad, none).expect_err("not a port");
        assert!(matches!(error, Error::Port { .. }), "{bad:?}: {error}");
        assert!(error.to_string().contains(bad[0]), "{error}");
    }
    let error = DevOptions::parse(&[], |_| Some("nine".to_owned())).expect_err("bad PORT");
    assert!(error.to_string().contains("PORT"), "{error}");
    assert!(matches!(
        DevOptions::parse(&["--port"], none),
        Err(Error::Usage(_))
    ));
    assert!(matches!(
        DevOptions::parse(&["--dynamo"], none),
        Err(Error::Usage(_))
    ));
}
