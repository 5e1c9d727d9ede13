//! The app secret read from Secrets Manager at cold start (`ARC_APP_SECRET_ARN`), so that it is
//! never in the function's configuration, where anyone allowed to read the function
//! (`lambda:GetFunctionConfiguration`) would read it too.
//!
//! The secret's `AWSCURRENT` version seals and signs; its `AWSPREVIOUS` version, when there is
//! one, still opens: a rotation in Secrets Manager is then a key rotation, and nobody is signed
//! out. A function reads them once, when it starts; one that started before a rotation goes on
//! with the old version as its current, whose cookies the new ones open as the previous.

use std::time::Duration;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;

/// The longest the fetch may hold up a cold start before the function fails to start.
const FETCH_LIMIT: Duration = Duration::from_secs(5);

/// The secret's versions as Secrets Manager holds them: `AWSCURRENT`, then `AWSPREVIOUS` when
/// there is one.
#[derive(Debug)]
pub(crate) struct Versions {
    pub(crate) current: String,
    pub(crate) previous: Option<String>,
}

/// Reads both versions of `secret_id` (a name or an ARN), at cold start
/// ([`super::at_cold_start`]).
pub(crate) fn fetch(secret_id: &str) -> Result<Versions, String> {
    super::at_cold_start(FETCH_LIMIT, || versions(secret_id))
}

async fn versions(secret_id: &str) -> Result<Versions, String> {
    let config = super::sdk_config().await;
    let client = Client::new(&config);
    let (current, previous) = tokio::join!(
        version(&client, secret_id, "AWSCURRENT"),
        version(&client, secret_id, "AWSPREVIOUS")
    );
    let current = current?.ok_or_else(|| "it has no AWSCURRENT version".to_owned())?;
    Ok(Versions {
        current,
        previous: previous?,
    })
}

/// The `SecretString` of one version stage; `None` when the secret has no such version.
async fn version(client: &Client, secret_id: &str, stage: &str) -> Result<Option<String>, String> {
    let answer = client
        .get_secret_value()
        .secret_id(secret_id)
        .version_stage(stage)
        .send()
        .await;
    match answer {
        Ok(out) => match out.secret_string {
            Some(text) => Ok(Some(text)),
            None => Err(format!(
                "its {stage} version holds binary data, not a SecretString"
            )),
        },
        // A secret never rotated has no AWSPREVIOUS: that is no error.
        Err(e)
            if stage != "AWSCURRENT"
                && e.as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(format!(
            "GetSecretValue ({stage}) failed: {}",
            DisplayErrorContext(&e)
        )),
    }
}
