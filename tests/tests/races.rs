//! Concurrent writers of one session, on two Lambda instances: the counter's `post-count`
//! served by two separate `cargo lambda watch` processes (so two separate function processes)
//! sharing one dynalite table, 50 Count clicks on one session at once, half to each. Every
//! click answered as counted (the redirect home) is in the final count, and every other was
//! answered `409` and counted nowhere: no acknowledged update is lost.
//!
//! Needs dynalite, so it is `#[ignore]`d: `scripts/test` starts it, sets `ARC_TEST_DYNAMODB=1`
//! and `AWS_ENDPOINT_URL_DYNAMODB`, and runs it with `--include-ignored`; without them it fails.

mod common;

use std::{io::Write as _, thread};

use arc_functions::testing::TestRequest;
use serde_json::Value;

use common::Functions;
use common::answer::Answer;

const CLICKS: usize = 50;

fn count(functions: &Functions, cookie: &str) -> u64 {
    let page = functions.invoke(
        "get-index",
        &TestRequest::get("/")
            .header("accept", "application/json")
            .cookie(cookie)
            .event(),
    );
    let answer = Answer::of(&page);
    assert_eq!(answer.status, 200, "{page}");
    let body: Value = serde_json::from_str(&answer.body)
        .unwrap_or_else(|e| panic!("get-index answered {page}: {e}"));
    body["count"].as_u64().expect("a count")
}

#[test]
#[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
fn concurrent_counts_on_two_function_processes_lose_no_acknowledged_click() {
    let endpoint = common::require_dynamodb();
    let table = format!("races-e2e-{}", std::process::id());
    common::create_table(&endpoint, &table);
    let route_env = [("SESSION_TABLE_NAME", table.as_str())];
    let _one = common::one_app_at_a_time();
    let a = Functions::start("races-a", &route_env, &["post-count", "get-index"]);
    let b = Functions::start("races-b", &route_env, &[]);
    let both = [&a, &b];

    // One session, counted once; both processes warm, so the clicks race rather than queue
    // behind a start.
    let first = a.invoke("post-count", &TestRequest::post("/count").event());
    let answer = Answer::of(&first);
    assert_eq!(answer.status, 302, "{first}");
    let cookie = answer.cookie.expect("a session");
    assert_eq!(count(&a, &cookie), 1);
    assert_eq!(count(&b, &cookie), 1);
    b.invoke("post-count", &TestRequest::post("/count").event());

    let statuses: Vec<u64> = thread::scope(|scope| {
        let clicks: Vec<_> = (0..CLICKS)
            .map(|i| {
                let (cookie, functions) = (&cookie, both[i % 2]);
                scope.spawn(move || {
                    let click = TestRequest::post("/count").cookie(cookie).event();
                    Answer::of(&functions.invoke("post-count", &click)).status
                })
            })
            .collect();
        clicks
            .into_iter()
            .map(|c| c.join().expect("a click"))
            .collect()
    });
    let counted = statuses.iter().filter(|s| **s == 302).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!(
        counted + refused,
        CLICKS,
        "each click counted or refused as not counted: {statuses:?}\n--- a ---\n{}\n--- b ---\n{}",
        a.log(),
        b.log()
    );
    assert!(counted >= 1, "one of every race wins: {statuses:?}");
    let final_count = count(&b, &cookie);
    assert_eq!(
        final_count,
        1 + counted as u64,
        "the count holds exactly the clicks answered as counted ({counted} counted, {refused} refused)"
    );
    let _ = writeln!(
        std::io::stderr(),
        "{CLICKS} concurrent clicks on one session over two processes: {counted} counted, {refused} refused (409)"
    );
}
