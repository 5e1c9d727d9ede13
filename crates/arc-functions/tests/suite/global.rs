//! `http::session::read` and `write`, the original's `arc.http.session.read` and `write`: they use
//! the process-wide store built from the environment on first use. The environment of a test
//! process cannot be changed safely, so each case runs again in a child process of this test
//! binary, started with exactly the environment it needs.

use std::process::Command;

use arc_functions::config::Config;
use arc_functions::http::session::{self, Error, Session, SessionStore};

const SECRET: &str = "global-store test secret of 32+ bytes";
const CHILD: &str = "ARC_FUNCTIONS_GLOBAL_TEST_CHILD";

/// Runs `test` (this binary's test of that name) in a child process with `vars` as its whole
/// session environment, and fails unless it ran there and passed.
fn in_child(test: &str, vars: &[(&str, &str)]) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let out = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            &crate::support::test_name(module_path!(), test),
            "--exact",
            "--test-threads=1",
        ])
        .env_clear()
        .env(CHILD, "1")
        .envs(vars.iter().copied())
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{test} failed in its child:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("1 passed"), "{test} did not run: {stdout}");
    false
}

fn request(cookie: &str) -> lambda_http::Request {
    lambda_http::http::Request::builder()
        .header("cookie", cookie)
        .body(lambda_http::Body::Empty)
        .expect("request")
}

#[tokio::test]
async fn write_then_read_round_trips_with_the_environments_secret() {
    let vars = [("ARC_ENV", "production"), ("ARC_APP_SECRET", SECRET)];
    if !in_child(
        "write_then_read_round_trips_with_the_environments_secret",
        &vars,
    ) {
        return;
    }
    let session = Session::try_from(serde_json::json!({ "count": 3 })).expect("object");
    let set_cookie = session::write(&session).await.expect("write");
    assert!(set_cookie.contains("Secure"), "production: {set_cookie}");
    let pair = set_cookie.split(';').next().expect("name=value");

    let read = session::read(&request(pair)).await.expect("read");
    assert_eq!(read.get::<u64>("count").expect("number"), Some(3));
    // Sealed under the environment's secret: a store built from the same variables opens it,
    // one with another secret does not.
    let same = SessionStore::new(&Config::from_vars(vars).expect("config"));
    assert_eq!(same.read(&request(pair)).await.expect("read"), session);
    let other = SessionStore::new(
        &Config::from_vars([("ARC_APP_SECRET", "another secret: unrelated 32 bytes")])
            .expect("config"),
    );
    assert!(other.read(&request(pair)).await.expect("read").is_empty());
    assert!(
        session::read(&request("_idx=garbage"))
            .await
            .expect("a bad cookie is no error")
            .is_empty()
    );
}

#[tokio::test]
async fn without_a_secret_outside_testing_both_refuse_naming_the_secret() {
    if !in_child(
        "without_a_secret_outside_testing_both_refuse_naming_the_secret",
        &[],
    ) {
        return;
    }
    let err = session::read(&request("")).await.expect_err("no secret");
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("ARC_APP_SECRET"), "{err}");
    let err = session::write(&Session::new())
        .await
        .expect_err("no secret");
    assert!(err.to_string().contains("ARC_ENV"), "{err}");
}

async fn hello(
    _req: arc_functions::http::Request,
) -> arc_functions::http::Result<arc_functions::http::Response> {
    Ok(arc_functions::http::Response::text("hi"))
}

#[test]
fn async_handler_installs_lambdas_log_subscriber_when_the_program_has_none() {
    if !in_child(
        "async_handler_installs_lambdas_log_subscriber_when_the_program_has_none",
        &[("ARC_ENV", "testing")],
    ) {
        return;
    }
    assert!(!tracing::dispatcher::has_been_set());
    let _handler = arc_functions::http::async_handler(hello);
    assert!(
        tracing::dispatcher::has_been_set(),
        "without a subscriber the 500s' causes would vanish"
    );
}

#[test]
fn async_handler_keeps_the_subscriber_the_program_installed() {
    if !in_child(
        "async_handler_keeps_the_subscriber_the_program_installed",
        &[("ARC_ENV", "testing")],
    ) {
        return;
    }
    let (buffer, subscriber) = crate::support::buffered_subscriber();
    tracing::subscriber::set_global_default(subscriber).expect("the first subscriber");
    // Installing a second global subscriber would panic here.
    let _handler = arc_functions::http::async_handler(hello);
    let log = crate::support::logged(&buffer);
    assert!(
        log.contains("public development secret"),
        "the program's subscriber got: {log}"
    );
}
