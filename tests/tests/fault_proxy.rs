//! `bench/fault-proxy.js` in front of dynalite, called through the AWS SDK for Rust as the
//! library calls DynamoDB: each fault reaches the SDK as DynamoDB's own would (the error code
//! the library classifies, a dropped connection, a late answer to a write that was made), the
//! SDK retries each of them, and the proxy's counts say what it did.
//!
//! Needs dynalite, so every test here is `#[ignore]`d: `scripts/test` starts it, sets
//! `ARC_TEST_DYNAMODB=1` and `AWS_ENDPOINT_URL_DYNAMODB`, and runs them with
//! `--include-ignored`; without them they fail.

mod common;

use std::{
    fs::File,
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use aws_config::{BehaviorVersion, Region, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_dynamodb::{
    Client,
    config::Credentials,
    error::{ProvideErrorMetadata as _, SdkError},
    operation::get_item::GetItemError,
    types::AttributeValue,
};
use serde_json::{Value, json};

use common::ProcessTree;

/// The proxy, stopped with its process group on drop.
struct FaultProxy {
    url: String,
    _process: ProcessTree,
}

impl FaultProxy {
    /// Starts the proxy in front of `upstream` with `args` (its options) and waits for its
    /// `READY <port>`. `label` names the log, `target/tmp/fault-proxy-<label>.log`.
    fn start(label: &str, upstream: &str, args: &[&str]) -> Self {
        let log = common::tmp_dir().join(format!("fault-proxy-{label}.log"));
        let file = File::create(&log).expect("create the proxy's log");
        let mut command = Command::new("node");
        command
            .arg(common::workspace_root().join("bench/fault-proxy.js"))
            .arg(upstream)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("share the proxy's log"))
            .stderr(file);
        let process = ProcessTree::spawn(&mut command, log, "bench/fault-proxy.js", "needs node");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let log = process.log();
            if let Some(port) = log.lines().find_map(|line| line.strip_prefix("READY ")) {
                return Self {
                    url: format!("http://127.0.0.1:{port}"),
                    _process: process,
                };
            }
            assert!(
                Instant::now() < deadline,
                "the proxy never got ready: {log}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// `GET /__faults`: what it did so far.
    fn counts(&self) -> Value {
        let response = common::agent(0)
            .get(format!("{}/__faults", self.url))
            .call()
            .expect("GET /__faults");
        serde_json::from_str(&common::body(response)).expect("JSON counts")
    }

    /// `POST /__faults`: new rates for the requests that follow.
    fn set(&self, settings: &Value) {
        let response = common::agent(0)
            .post(format!("{}/__faults", self.url))
            .send(settings.to_string())
            .expect("POST /__faults");
        assert_eq!(response.status(), 200, "{}", common::body(response));
    }
}

fn counts(forwarded: u64, throttle: u64, error: u64, reset: u64, stall: u64) -> Value {
    json!({ "forwarded": forwarded, "throttle": throttle, "error": error, "reset": reset, "stall": stall })
}

/// dynalite's URL, with a table of this run's own in it.
fn dynalite() -> (String, String) {
    let endpoint = common::require_dynamodb();
    let table = format!("fault-proxy-e2e-{}", std::process::id());
    common::create_table(&endpoint, &table);
    (endpoint, table)
}

/// A DynamoDB client of the SDK at `endpoint`, making at most `attempts` attempts a call (with
/// a millisecond's backoff, so retries cost the test no time) of at most `attempt_timeout`.
async fn client(endpoint: &str, attempts: u32, attempt_timeout: Duration) -> Client {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "test"))
        .endpoint_url(endpoint)
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(attempt_timeout)
                .build(),
        )
        .load()
        .await;
    Client::new(&config)
}

/// One attempt a call, and long enough for any stall here.
async fn one_attempt(endpoint: &str) -> Client {
    client(endpoint, 1, Duration::from_secs(30)).await
}

async fn get(
    client: &Client,
    table: &str,
    id: &str,
) -> Result<Option<String>, SdkError<GetItemError>> {
    let output = client
        .get_item()
        .table_name(table)
        .key("_idx", AttributeValue::S(id.into()))
        .consistent_read(true)
        .send()
        .await?;
    Ok(output
        .item
        .and_then(|mut item| item.remove("note"))
        .and_then(|note| note.as_s().ok().cloned()))
}

async fn put(client: &Client, table: &str, id: &str, note: &str) -> Result<(), String> {
    client
        .put_item()
        .table_name(table)
        .item("_idx", AttributeValue::S(id.into()))
        .item("note", AttributeValue::S(note.into()))
        .send()
        .await
        .map(drop)
        .map_err(|error| format!("{:?}", error))
}

/// The SDK's view of a failed call: its code (the `__type` after '#'), and the HTTP status.
fn code_and_status(error: &SdkError<GetItemError>) -> (Option<&str>, Option<u16>) {
    (
        error.code(),
        error.raw_response().map(|r| r.status().as_u16()),
    )
}

/// Reads `id` from dynalite itself, past the proxy.
fn note_in_dynalite(endpoint: &str, table: &str, id: &str) -> Option<String> {
    let (status, answer) = common::dynamodb(
        endpoint,
        "GetItem",
        &json!({ "TableName": table, "Key": { "_idx": { "S": id } }, "ConsistentRead": true }),
    );
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).expect("JSON");
    answer["Item"]["note"]["S"].as_str().map(str::to_owned)
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn throttling_answers_the_codes_the_library_classifies_as_unavailable() {
    let (dynalite, table) = dynalite();
    let proxy = FaultProxy::start("throttle", &dynalite, &["--throttle", "1"]);
    let error = get(&one_attempt(&proxy.url).await, &table, "t")
        .await
        .expect_err("throttled");
    assert_eq!(
        code_and_status(&error),
        (Some("ProvisionedThroughputExceededException"), Some(400)),
        "{error:?}"
    );
    assert!(
        matches!(
            error.as_service_error(),
            Some(GetItemError::ProvisionedThroughputExceededException(_))
        ),
        "the SDK's modelled error: {error:?}"
    );
    assert_eq!(proxy.counts(), counts(0, 1, 0, 0, 0));

    let proxy = FaultProxy::start(
        "throttling-exception",
        &dynalite,
        &["--throttle", "1", "--throttle-code", "ThrottlingException"],
    );
    let error = get(&one_attempt(&proxy.url).await, &table, "t")
        .await
        .expect_err("throttled");
    assert_eq!(
        code_and_status(&error),
        (Some("ThrottlingException"), Some(400)),
        "{error:?}"
    );
    assert_eq!(proxy.counts(), counts(0, 1, 0, 0, 0));
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn an_error_is_dynamodbs_internal_server_error() {
    let (dynalite, table) = dynalite();
    let proxy = FaultProxy::start("error", &dynalite, &["--error", "1"]);
    let error = get(&one_attempt(&proxy.url).await, &table, "e")
        .await
        .expect_err("failed");
    assert_eq!(
        code_and_status(&error),
        (Some("InternalServerError"), Some(500)),
        "{error:?}"
    );
    assert!(
        matches!(
            error.as_service_error(),
            Some(GetItemError::InternalServerError(_))
        ),
        "the SDK's modelled error: {error:?}"
    );
    assert_eq!(proxy.counts(), counts(0, 0, 1, 0, 0));
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_reset_is_a_dispatch_failure() {
    let (dynalite, table) = dynalite();
    let proxy = FaultProxy::start("reset", &dynalite, &["--reset", "1"]);
    let error = get(&one_attempt(&proxy.url).await, &table, "r")
        .await
        .expect_err("reset");
    assert!(
        matches!(&error, SdkError::DispatchFailure(failure) if failure.is_io()),
        "a connection error, no answer: {error:?}"
    );
    assert_eq!(proxy.counts(), counts(0, 0, 0, 1, 0));
}

// Multi-thread: the call runs on a worker while this thread watches dynalite.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn a_stalled_write_is_made_at_once_and_answered_late() {
    let (dynalite, table) = dynalite();
    let proxy = FaultProxy::start("stall", &dynalite, &["--stall", "1", "--stall-ms", "300"]);
    let client = one_attempt(&proxy.url).await;
    let start = Instant::now();
    let call = tokio::spawn({
        let table = table.clone();
        async move { put(&client, &table, "s", "stalled").await }
    });
    // Written before the answer comes.
    let deadline = Instant::now() + Duration::from_secs(10);
    while note_in_dynalite(&dynalite, &table, "s").is_none() {
        assert!(Instant::now() < deadline, "never written");
        thread::sleep(Duration::from_millis(10));
    }
    assert!(!call.is_finished(), "answered before the stall was over");
    call.await.expect("the call").expect("the write succeeds");
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(300), "took {took:?}");
    assert_eq!(
        note_in_dynalite(&dynalite, &table, "s").as_deref(),
        Some("stalled")
    );
    assert_eq!(proxy.counts(), counts(1, 0, 0, 0, 1));
}

#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn at_rate_zero_calls_pass_and_rates_change_at_run_time() {
    let (dynalite, table) = dynalite();
    let proxy = FaultProxy::start("none", &dynalite, &[]);
    let client = one_attempt(&proxy.url).await;
    put(&client, &table, "z", "through").await.expect("put");
    assert_eq!(
        get(&client, &table, "z").await.expect("get").as_deref(),
        Some("through")
    );
    assert_eq!(proxy.counts(), counts(2, 0, 0, 0, 0));

    proxy.set(&json!({ "throttle": 1 }));
    let error = get(&client, &table, "z").await.expect_err("throttled now");
    assert_eq!(error.code(), Some("ProvisionedThroughputExceededException"));
    assert_eq!(proxy.counts(), counts(2, 1, 0, 0, 0));
}

#[test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
fn a_seed_repeats_its_faults() {
    let (dynalite, table) = dynalite();
    let outcomes = |label: &str| {
        let proxy = FaultProxy::start(label, &dynalite, &["--seed", "42", "--throttle", "0.5"]);
        let request = json!({ "TableName": table, "Key": { "_idx": { "S": "seed" } } });
        let statuses: Vec<u16> = (0..20)
            .map(|_| common::dynamodb(&proxy.url, "GetItem", &request).0)
            .collect();
        (statuses, proxy.counts())
    };
    let (first, first_counts) = outcomes("seed-a");
    let (second, second_counts) = outcomes("seed-b");
    assert_eq!(first, second, "the same seed, the same faults");
    assert_eq!(first_counts, second_counts);
    let throttled = first.iter().filter(|&&status| status == 400).count();
    let passed = first.iter().filter(|&&status| status == 200).count();
    assert!(
        (1..20).contains(&throttled) && throttled + passed == 20,
        "about half throttled, the rest passed: {first:?}"
    );
    assert_eq!(
        first_counts,
        counts(passed as u64, throttled as u64, 0, 0, 0)
    );
}

/// The faults look like DynamoDB's to the SDK: it retries every one (up to its attempts), so a
/// fault the SDK meets reaches the library only when all attempts met one.
#[tokio::test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
async fn the_sdk_retries_every_fault() {
    let (dynalite, table) = dynalite();
    for (fault, expected) in [
        ("--throttle", counts(0, 3, 0, 0, 0)),
        ("--error", counts(0, 0, 3, 0, 0)),
        ("--reset", counts(0, 0, 0, 3, 0)),
    ] {
        let proxy = FaultProxy::start(&format!("retried{fault}"), &dynalite, &[fault, "1"]);
        let client = client(&proxy.url, 3, Duration::from_secs(30)).await;
        get(&client, &table, "x").await.expect_err(fault);
        assert_eq!(proxy.counts(), expected, "{fault}");
    }

    // A stall longer than an attempt may take: the attempt times out and the call is retried.
    let proxy = FaultProxy::start(
        "retried-stall",
        &dynalite,
        &["--stall", "1", "--stall-ms", "2000"],
    );
    let client = client(&proxy.url, 2, Duration::from_millis(200)).await;
    let error = get(&client, &table, "x").await.expect_err("timed out");
    assert!(
        matches!(error, SdkError::TimeoutError(_)),
        "the last attempt timed out: {error:?}"
    );
    assert_eq!(proxy.counts(), counts(2, 0, 0, 0, 2));
}
