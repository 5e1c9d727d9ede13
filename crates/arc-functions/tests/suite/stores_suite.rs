//! One behaviour suite, run against every session provider (as tower-sessions runs its route
//! tests against every store), so a backend cannot quietly behave differently: the lifecycle
//! (write, read, update, regenerate, destroy), idle and absolute expiry, tampered cookies, key
//! rotation, a lowered TTL, and 64 concurrent sessions.
//!
//! The DynamoDB run needs a local DynamoDB (dynalite), so its tests are `#[ignore]`d:
//! `scripts/test` starts one, sets `ARC_TEST_DYNAMODB=1`, `AWS_ENDPOINT_URL_DYNAMODB`,
//! `AWS_REGION` and credentials, and runs them with `--include-ignored`. Run without
//! `ARC_TEST_DYNAMODB=1`, or without a server, they fail.

use std::sync::Arc;
use std::time::Duration;

use arc_functions::config::Config;
use arc_functions::http::Handler;
use lambda_http::http::header::SET_COOKIE;

use crate::support::http::{SECRET, invoke};
use crate::support::stores::{Env, Provider, call, env, event, idx, n, route};

const OLD_SECRET: &str = "the previous secret: 32 bytes or more";

async fn lifecycle(provider: Provider) {
    let env = env(provider, &[]).await;

    let r = call(&env, "read", None).await;
    assert_eq!((r.status(), n(&r)), (200, None), "starts empty");
    assert_eq!(idx(&r), None, "reading only sets no cookie");

    let r = call(&env, "inc", None).await;
    assert_eq!(n(&r), Some(1));
    let c1 = idx(&r).expect("written");

    let r = call(&env, "read", Some(&c1)).await;
    assert_eq!(n(&r), Some(1), "reads back");

    let r = call(&env, "set", Some(&c1)).await;
    assert_eq!(n(&r), Some(1), "answers what it read");
    let c2 = idx(&r).expect("updated");
    let r = call(&env, "read", Some(&c2)).await;
    assert_eq!(n(&r), Some(2), "update kept");
    if provider.is_dynamodb() {
        assert_eq!(c1, c2, "a handler's fresh object updates the same item");
    }

    let r = call(&env, "regenerate", Some(&c2)).await;
    let c3 = idx(&r).expect("regenerated");
    assert_ne!(c3, c2);
    let r = call(&env, "read", Some(&c3)).await;
    assert_eq!(n(&r), Some(2), "regenerate keeps the data");
    if provider.is_dynamodb() {
        let r = call(&env, "read", Some(&c2)).await;
        assert_eq!(n(&r), None, "the old id is gone after regenerate");
    }

    let r = call(&env, "destroy", Some(&c3)).await;
    assert_eq!(idx(&r).as_deref(), Some(""), "destroy expires the cookie");
    let set_cookie = r.headers()[SET_COOKIE].to_str().expect("ascii").to_owned();
    assert!(set_cookie.contains("Max-Age=0"), "{set_cookie}");
    let r = call(&env, "read", None).await;
    assert_eq!(n(&r), None, "empty after destroy");
    if provider.is_dynamodb() {
        let r = call(&env, "read", Some(&c3)).await;
        assert_eq!(n(&r), None, "the destroyed item is deleted");
    }
}

async fn idle_expiry(provider: Provider) {
    // Two seconds: the read right after the write must fall within the lifetime even on a
    // loaded machine (one second did not, once, with a DynamoDB write in between).
    let env = env(provider, &[("ARC_SESSION_TTL", "2")]).await;
    let c = idx(&call(&env, "inc", None).await).expect("written");
    assert_eq!(n(&call(&env, "read", Some(&c)).await), Some(1));
    // Whole seconds: after three of them the two-second lifetime is surely over.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let r = call(&env, "read", Some(&c)).await;
    assert_eq!((r.status(), n(&r)), (200, None), "expired reads as empty");
}

async fn absolute_expiry(provider: Provider) {
    let env = env(provider, &[("ARC_SESSION_MAX_AGE", "3")]).await;
    let c = idx(&call(&env, "inc", None).await).expect("written");
    // Whole seconds: one second in, the session is surely live; it is renewed by a write...
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let r = call(&env, "inc", Some(&c)).await;
    assert_eq!(n(&r), Some(2), "live within ARC_SESSION_MAX_AGE");
    let c = idx(&r).expect("written");
    // ...yet three seconds after its creation it is over, though the idle TTL is a week.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let r = call(&env, "read", Some(&c)).await;
    assert_eq!(n(&r), None, "past ARC_SESSION_MAX_AGE the session is empty");
}

async fn tampered_cookie(provider: Provider) {
    let env = env(provider, &[]).await;
    let c = idx(&call(&env, "inc", None).await).expect("written");
    let calls_before = env.calls.count();
    for i in [0, c.len() / 2, c.len() - 1] {
        let mut bytes = c.clone().into_bytes();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).expect("ascii");
        let r = call(&env, "read", Some(&tampered)).await;
        assert_eq!((r.status(), n(&r)), (200, None), "byte {i}");
    }
    assert_eq!(
        env.calls.count(),
        calls_before,
        "a forged cookie costs no DynamoDB call"
    );
}

async fn key_rotation(provider: Provider) {
    let old = env(provider, &[("ARC_APP_SECRET", OLD_SECRET)]).await;
    let c_old = idx(&call(&old, "inc", None).await).expect("written");

    let mut vars = vec![("ARC_APP_SECRET_PREVIOUS", OLD_SECRET)];
    let table;
    if provider.is_dynamodb() {
        table = old.table.clone();
        vars.push(("SESSION_TABLE_NAME", table.as_str()));
    }
    let rotated = rotated_env(provider, &vars, &old).await;
    let r = call(&rotated, "inc", Some(&c_old)).await;
    assert_eq!(n(&r), Some(2), "an old-key cookie still opens");
    let c_new = idx(&r).expect("re-written");
    assert_ne!(c_new, c_old);

    // Which key sealed or signed it: only the current secret opens the new cookie.
    let current_only = rotated_env(provider, &vars[1..], &old).await;
    assert_eq!(n(&call(&current_only, "read", Some(&c_new)).await), Some(2));
    assert_eq!(n(&call(&current_only, "read", Some(&c_old)).await), None);
    assert_eq!(
        n(&call(&old, "read", Some(&c_new)).await),
        None,
        "never the old key"
    );
}

async fn lowered_ttl(provider: Provider) {
    let long = env(provider, &[("ARC_SESSION_TTL", "1000")]).await;
    let c = idx(&call(&long, "inc", None).await).expect("written");
    let mut vars = vec![("ARC_SESSION_TTL", "1")];
    if provider.is_dynamodb() {
        vars.push(("SESSION_TABLE_NAME", long.table.as_str()));
    }
    let short = rotated_env(provider, &vars, &long).await;
    // Whole seconds: after two of them the new one-second lifetime is surely over.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(
        n(&call(&long, "read", Some(&c)).await),
        Some(1),
        "alive under 1000 s"
    );
    assert_eq!(
        n(&call(&short, "read", Some(&c)).await),
        None,
        "the lowered TTL ends it"
    );
}

/// A store with the current SECRET (and `vars`), sharing `old`'s table in DynamoDB mode.
async fn rotated_env(provider: Provider, vars: &[(&str, &str)], old: &Env) -> Env {
    let mut all = vec![("ARC_ENV", "testing"), ("ARC_APP_SECRET", SECRET)];
    all.extend_from_slice(vars);
    let config = Config::from_vars(all.iter().copied()).expect("config");
    let store = provider.store(&config, old.client.as_ref());
    Env {
        store: Arc::new(store),
        calls: old.calls.clone(),
        client: old.client.clone(),
        table: old.table.clone(),
    }
}

/// 64 sessions served at once through one `Handler` on a multi-threaded runtime, as
/// `http::run` serves concurrent invocations: each request must see its own session, and each
/// write must land in its own.
async fn concurrency(provider: Provider) {
    const SESSIONS: usize = 64;
    let env = env(provider, &[]).await;
    let handler = Handler::with_store(Arc::clone(&env.store), route);
    let started = (0..SESSIONS).map(|_| {
        let (handler, event) = (handler.clone(), event("inc", None));
        tokio::spawn(async move { idx(&invoke(&handler, &event).await).expect("written") })
    });
    let mut cookies = Vec::new();
    for task in started.collect::<Vec<_>>() {
        cookies.push(task.await.expect("task"));
    }
    let distinct: std::collections::HashSet<_> = cookies.iter().collect();
    assert_eq!(
        distinct.len(),
        SESSIONS,
        "every new session has its own cookie"
    );

    // Session i is counted up i % 5 more times, all sessions at once.
    let counted = cookies.iter().enumerate().map(|(i, cookie)| {
        let (handler, mut cookie) = (handler.clone(), cookie.clone());
        tokio::spawn(async move {
            for _ in 0..i % 5 {
                let r = invoke(&handler, &event("inc", Some(&cookie))).await;
                cookie = idx(&r).expect("rewritten");
            }
            let r = invoke(&handler, &event("read", Some(&cookie))).await;
            (i, n(&r))
        })
    });
    for task in counted.collect::<Vec<_>>() {
        let (i, n) = task.await.expect("task");
        assert_eq!(n, Some(1 + (i % 5) as u64), "session {i}");
    }
}

macro_rules! store_suite {
    ($name:ident, $provider:expr $(, #[$needs:meta])?) => {
        mod $name {
            use super::*;

            #[tokio::test]
            $(#[$needs])?
            async fn empty_write_read_update_regenerate_destroy() {
                lifecycle($provider).await;
            }

            #[tokio::test]
            $(#[$needs])?
            async fn idle_expiry_empties_the_session() {
                idle_expiry($provider).await;
            }

            #[tokio::test]
            $(#[$needs])?
            async fn absolute_lifetime_ends_an_active_session() {
                absolute_expiry($provider).await;
            }

            #[tokio::test]
            $(#[$needs])?
            async fn a_tampered_cookie_is_an_empty_session() {
                tampered_cookie($provider).await;
            }

            #[tokio::test]
            $(#[$needs])?
            async fn lowering_the_ttl_shortens_live_sessions() {
                lowered_ttl($provider).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            $(#[$needs])?
            async fn sixty_four_concurrent_requests_keep_their_own_sessions() {
                concurrency($provider).await;
            }

            #[tokio::test]
            $(#[$needs])?
            async fn rotated_keys_open_old_cookies_and_reseal_with_the_new() {
                key_rotation($provider).await;
            }
        }
    };
}

store_suite!(sealed_cookie, Provider::SealedCookie);

// `env` checks for the server first, so that without it these fail saying so.
store_suite!(
    dynamodb,
    Provider::DynamoDb,
    #[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
);

store_suite!(
    dynamodb_without_sdk,
    Provider::DynamoDbWithoutSdk,
    #[ignore = "needs dynalite: scripts/test starts it (ARC_TEST_DYNAMODB=1)"]
);
