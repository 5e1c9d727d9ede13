//! Architect's environment: a function deployed by Architect is given `ARC_STACK_NAME` and its
//! tables by their logical names, which `Config::load` resolves through the SSM parameters
//! Architect writes, here moto's SSM. The tests that ask it are `#[ignore]`d: `scripts/test`
//! starts moto, exports `AWS_ENDPOINT_URL_SSM`, sets `ARC_TEST_SECRETS_MANAGER=1` and runs them
//! with `--include-ignored`; without moto they fail. Built with the `architect` feature only
//! (`scripts/test` runs them so).
#![cfg(feature = "architect")]

use std::sync::atomic::{AtomicUsize, Ordering};

use arc_functions::config::{Config, Error, Storage};

use crate::support::require_moto;

/// A stack of this test's own, with `tables` (logical, physical) written as Architect writes
/// them, plus parameters that are not tables.
async fn stack(tables: &[(&str, &str)]) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let stack = format!(
        "ArcTest{}N{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let client = aws_sdk_ssm::Client::new(&aws_config::load_from_env().await);
    let others = [
        (
            format!("/{stack}/events/ping"),
            "arn:aws:sns:us-east-1:1:ping".to_owned(),
        ),
        (format!("/{stack}/ws/wss"), "wss://example".to_owned()),
    ];
    let all = tables
        .iter()
        .map(|(logical, physical)| (format!("/{stack}/tables/{logical}"), (*physical).to_owned()))
        .chain(others);
    for (name, value) in all {
        client
            .put_parameter()
            .name(&name)
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::String)
            .send()
            .await
            .unwrap_or_else(|e| panic!("put {name}: {e:?}"));
    }
    stack
}

/// `Config::load` on a thread of its own, as a cold start runs it: it blocks.
async fn load(vars: Vec<(&'static str, String)>) -> Result<Config, Error> {
    tokio::task::spawn_blocking(move || {
        Config::load(vars.into_iter().chain([("ARC_ENV", "testing".to_owned())]))
    })
    .await
    .expect("joined")
}

fn table(config: &Config) -> &str {
    match &config.storage {
        Storage::DynamoDb { table } => table,
        other => panic!("not DynamoDB: {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs moto: scripts/test starts it (ARC_TEST_SECRETS_MANAGER=1)"]
async fn a_logical_table_name_resolves_through_the_stacks_parameters() {
    require_moto();
    // More than one page of parameters (GetParametersByPath gives ten at most).
    let many: Vec<(String, String)> = (0..12)
        .map(|i| (format!("t{i:02}"), format!("Bigsesh-T{i:02}Table-X")))
        .collect();
    let mut tables: Vec<(&str, &str)> =
        many.iter().map(|(l, p)| (l.as_str(), p.as_str())).collect();
    tables.push(("session", "Bigsesh-SessionTable-1A2B"));
    tables.push(("throttle", "Bigsesh-ThrottleTable-3C4D"));
    let stack = stack(&tables).await;

    let config = load(vec![
        ("ARC_STACK_NAME", stack.clone()),
        ("ARC_SESSION_TABLE_NAME", "session".into()),
        ("ARC_THROTTLE_TABLE_NAME", "throttle".into()),
    ])
    .await
    .expect("resolved");
    assert_eq!(table(&config), "Bigsesh-SessionTable-1A2B");
    assert_eq!(
        config.throttle.table.as_deref(),
        Some("Bigsesh-ThrottleTable-3C4D")
    );
    // The last page's tables too.
    let config = load(vec![
        ("ARC_STACK_NAME", stack.clone()),
        ("SESSION_TABLE_NAME", "t11".into()),
    ])
    .await
    .expect("resolved");
    assert_eq!(table(&config), "Bigsesh-T11Table-X");
    // A physical name stays as it is.
    let config = load(vec![
        ("ARC_STACK_NAME", stack.clone()),
        ("SESSION_TABLE_NAME", "Bigsesh-SessionTable-1A2B".into()),
    ])
    .await
    .expect("kept");
    assert_eq!(table(&config), "Bigsesh-SessionTable-1A2B");
}

#[tokio::test]
#[ignore = "needs moto: scripts/test starts it (ARC_TEST_SECRETS_MANAGER=1)"]
async fn a_name_the_stack_does_not_have_says_which_tables_it_has() {
    require_moto();
    let stack = stack(&[("session", "Bigsesh-SessionTable-1A2B"), ("users", "U")]).await;
    let err = load(vec![
        ("ARC_STACK_NAME", stack.clone()),
        ("ARC_SESSION_TABLE_NAME", "sessions".into()),
    ])
    .await
    .expect_err("no such table");
    assert_eq!(
        err,
        Error::UnknownTable {
            variable: "ARC_SESSION_TABLE_NAME",
            name: "sessions".into(),
            stack: stack.clone(),
            known: vec!["session".into(), "users".into()],
        }
    );
    assert!(
        err.to_string().contains("its @tables: session, users"),
        "{err}"
    );
}

#[tokio::test]
async fn without_a_stack_or_a_table_nothing_is_asked() {
    // No SSM at all here: an unreachable endpoint would fail the load if it were asked.
    let config = load(vec![("SESSION_TABLE_NAME", "session".into())])
        .await
        .expect("taken as it is");
    assert_eq!(table(&config), "session");
    let config = load(vec![
        ("ARC_STACK_NAME", "SomeStack".into()),
        ("ARC_SESSION_TABLE_NAME", "jwe".into()),
    ])
    .await
    .expect("cookie sessions");
    assert_eq!(config.storage, Storage::SealedCookie);
}

#[tokio::test]
#[ignore = "needs moto: scripts/test starts it (ARC_TEST_SECRETS_MANAGER=1)"]
async fn a_stack_without_tables_says_it_has_none() {
    require_moto();
    // moto answers an unknown path with no parameters, so a stack it has never heard of is
    // one with no tables.
    let err = load(vec![
        ("ARC_STACK_NAME", "NoSuchStack".into()),
        ("ARC_SESSION_TABLE_NAME", "session".into()),
    ])
    .await
    .expect_err("no tables");
    assert!(
        err.to_string()
            .contains("neither a table of stack \"NoSuchStack\" (its @tables: none)"),
        "{err}"
    );
}

/// Run as a child of [`an_unreachable_ssm_stops_the_start_with_what_to_check`], whose
/// environment points SSM at a closed port: the variable is the process's, so it gets a
/// process of its own.
const CHILD: &str = "ARC_TEST_DISCOVERY_CHILD";

#[test]
fn an_unreachable_ssm_stops_the_start_with_what_to_check() {
    if std::env::var_os(CHILD).is_some() {
        let err = Config::load([
            ("ARC_ENV", "testing"),
            ("ARC_STACK_NAME", "BigseshStaging"),
            ("ARC_SESSION_TABLE_NAME", "session"),
        ])
        .expect_err("SSM is out of reach");
        let Error::Discovery { stack, reason } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(stack, "BigseshStaging");
        assert!(!reason.is_empty());
        assert!(
            err.to_string()
                .contains("ssm:GetParametersByPath on /BigseshStaging"),
            "{err}"
        );
        return;
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port");
    // The listener is gone: nothing answers there now.
    let out = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args([
            "--exact",
            &crate::support::test_name(
                module_path!(),
                "an_unreachable_ssm_stops_the_start_with_what_to_check",
            ),
        ])
        .env(CHILD, "1")
        .env("AWS_ENDPOINT_URL_SSM", format!("http://{closed}"))
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .expect("the child ran");
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
