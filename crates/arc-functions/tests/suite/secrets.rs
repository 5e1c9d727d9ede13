//! `ARC_APP_SECRET_ARN`: a deployed-like start that names the app secret in Secrets Manager
//! instead of holding it, against moto's server. The tests that read it are `#[ignore]`d:
//! `scripts/test` starts moto, exports `AWS_ENDPOINT_URL_SECRETS_MANAGER`, sets
//! `ARC_TEST_SECRETS_MANAGER=1` and runs them with `--include-ignored`; without moto they
//! fail.

use std::sync::atomic::{AtomicUsize, Ordering};

use arc_functions::config::{Config, Error, Secret};
use arc_functions::http::session::{Session, SessionStore};
use serde_json::json;

use crate::support::{require_moto, session_of};

const FIRST: &str = "the first version of the secret: 32 bytes or more";
const SECOND: &str = "the second version of the secret after a rotation";
const GIVEN: &str = "an older secret given by hand: 32 bytes or more";

async fn client() -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(&aws_config::load_from_env().await)
}

/// A new secret holding `value`, and its ARN.
async fn secret(client: &aws_sdk_secretsmanager::Client, value: &str) -> (String, String) {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "arc-test/{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::SeqCst)
    );
    let created = client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .expect("created");
    (name, created.arn.expect("an ARN"))
}

/// A function's cold start as deployed: production, the secret named, not given.
fn deployed(id: &str, extra: &[(&str, &str)]) -> Result<Config, Error> {
    let vars = [("ARC_ENV", "production"), ("ARC_APP_SECRET_ARN", id)];
    Config::load(vars.iter().chain(extra).copied())
}

/// The session cookie (`name=value`) `store` writes for `{"count": n}`.
async fn cookie(store: &SessionStore, n: u64) -> String {
    let session = Session::try_from(json!({ "count": n })).expect("an object");
    let set_cookie = store.write(&session).await.expect("written");
    set_cookie.split(';').next().expect("a pair").to_owned()
}

async fn count(store: &SessionStore, cookie: &str) -> Option<u64> {
    session_of(store, cookie)
        .await
        .get::<u64>("count")
        .expect("a number")
}

fn given(secret: &str) -> SessionStore {
    let config =
        Config::from_vars([("ARC_ENV", "production"), ("ARC_APP_SECRET", secret)]).expect("config");
    SessionStore::new(&config)
}

#[tokio::test]
#[ignore = "needs moto: scripts/test starts it (ARC_TEST_SECRETS_MANAGER=1)"]
async fn a_deployed_start_reads_the_secret_and_a_rotation_signs_nobody_out() {
    require_moto();
    let client = client().await;
    let (name, arn) = secret(&client, FIRST).await;

    let before = deployed(&arn, &[]).expect("read by ARN");
    assert_eq!(before.secrets.current, Secret::new(FIRST));
    assert!(before.secrets.previous.is_empty(), "never rotated");
    assert!(!before.secrets.development);
    let old = cookie(&SessionStore::new(&before), 1).await;

    // Rotated in Secrets Manager: the first version becomes AWSPREVIOUS.
    client
        .put_secret_value()
        .secret_id(&name)
        .secret_string(SECOND)
        .send()
        .await
        .expect("rotated");
    let after = deployed(&name, &[]).expect("read by name");
    assert_eq!(
        after.secrets.current,
        Secret::new(SECOND),
        "AWSCURRENT seals and signs"
    );
    assert_eq!(
        after.secrets.previous,
        [Secret::new(FIRST)],
        "AWSPREVIOUS opens"
    );
    let store = SessionStore::new(&after);
    assert_eq!(count(&store, &old).await, Some(1), "nobody is signed out");
    let fresh = cookie(&store, 2).await;
    assert_eq!(
        count(&given(SECOND), &fresh).await,
        Some(2),
        "sealed with the current"
    );
    assert_eq!(
        count(&given(FIRST), &fresh).await,
        None,
        "not with the previous"
    );

    // A secret given by hand as previous still opens, after the rotation's.
    let more = deployed(&name, &[("ARC_APP_SECRET_PREVIOUS", GIVEN)]).expect("read");
    assert_eq!(
        more.secrets.previous,
        [Secret::new(FIRST), Secret::new(GIVEN)]
    );
}

#[tokio::test]
#[ignore = "needs moto: scripts/test starts it (ARC_TEST_SECRETS_MANAGER=1)"]
async fn a_secret_that_cannot_be_read_stops_the_start_naming_it() {
    require_moto();
    let missing = deployed("arc-test/no-such-secret", &[]).expect_err("missing");
    assert!(
        matches!(&missing, Error::SecretsManager { id, .. } if id == "arc-test/no-such-secret"),
        "{missing:?}"
    );
    let message = missing.to_string();
    assert!(
        message.contains("ARC_APP_SECRET_ARN") && message.contains("GetSecretValue"),
        "{message}"
    );
    // The value is checked as a given one would be: too short for production.
    let client = client().await;
    let (short, _) = secret(&client, "short").await;
    assert_eq!(
        deployed(&short, &[]).expect_err("too short"),
        Error::ShortSecret {
            name: "ARC_APP_SECRET",
            len: 5
        }
    );
}

#[test]
fn a_secret_both_named_and_given_is_refused_before_any_fetch() {
    // No Secrets Manager here: a fetch would fail with another error.
    assert_eq!(
        deployed("arc-test/never-fetched", &[("ARC_APP_SECRET", FIRST)]).expect_err("twice"),
        Error::SecretTwice
    );
}
