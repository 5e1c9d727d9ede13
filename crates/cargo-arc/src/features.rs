//! What the app's functions are built with of arc-functions, against what a template deploys:
//! a function built without a feature its environment asks for stops at cold start (saying so),
//! so `cargo arc sam` refuses to write such a template rather than let it deploy.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::process::Command;

use crate::{Error, Sessions, Workspace};

/// The features of arc-functions that a template with `sessions` needs every function built
/// with: `secrets-manager` always (the template gives the secret as `ARC_APP_SECRET_ARN`),
/// `dynamodb` for DynamoDB sessions (`SESSION_TABLE_NAME` naming the table), and `ws` for an
/// app with `@ws` in cookie mode (`dynamodb` brings it), to reach its connections.
pub(crate) fn needed(sessions: Sessions, websockets: bool) -> Vec<&'static str> {
    match sessions {
        Sessions::Cookie if websockets => vec!["secrets-manager", "ws"],
        Sessions::Cookie => vec!["secrets-manager"],
        Sessions::DynamoDb => vec!["secrets-manager", "dynamodb"],
    }
}

/// Refuses when the workspace builds arc-functions without a feature in `needed`. The features
/// are cargo's resolution for the whole workspace (`cargo metadata`), as `cargo lambda build`
/// builds every function at once; a workspace without arc-functions passes.
///
/// # Errors
///
/// [`Error::Features`] naming what is missing; [`Error::Tool`] when `cargo metadata` fails (a
/// workspace whose crates cannot be read, which then cannot be built either).
pub(crate) fn check(workspace: &Workspace, needed: &[&'static str]) -> Result<(), Error> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(workspace.cargo_path())
        .output()
        .map_err(|e| metadata_failed(e.to_string()))?;
    if !output.status.success() {
        return Err(metadata_failed(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ));
    }
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| metadata_failed(format!("unreadable output: {e}")))?;
    match missing(&metadata, needed) {
        Some(missing) if !missing.is_empty() => Err(Error::Features { missing }),
        _ => Ok(()),
    }
}

fn metadata_failed(reason: String) -> Error {
    Error::Tool {
        tool: "cargo metadata",
        reason,
    }
}

/// Of `needed`, what `cargo metadata`'s resolution leaves out of arc-functions; `None` when no
/// package of the workspace depends on it.
fn missing(metadata: &serde_json::Value, needed: &[&'static str]) -> Option<Vec<&'static str>> {
    let id = metadata["packages"]
        .as_array()?
        .iter()
        .find(|p| p["name"] == "arc-functions")?["id"]
        .as_str()?;
    let node = metadata["resolve"]["nodes"]
        .as_array()?
        .iter()
        .find(|n| n["id"] == id)?;
    let built: BTreeSet<&str> = node["features"]
        .as_array()?
        .iter()
        .filter_map(|f| f.as_str())
        .collect();
    Some(
        needed
            .iter()
            .copied()
            .filter(|f| !built.contains(f))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn metadata(features: &[&str]) -> serde_json::Value {
        json!({
            "packages": [
                {"name": "get-index", "id": "path+file:///app/crates/get-index#0.1.0"},
                {"name": "arc-functions", "id": "registry+https://github.com/rust-lang/crates.io-index#arc-functions@0.1.0"}
            ],
            "resolve": {"nodes": [
                {"id": "path+file:///app/crates/get-index#0.1.0", "features": ["dynamodb"]},
                {"id": "registry+https://github.com/rust-lang/crates.io-index#arc-functions@0.1.0", "features": features}
            ]}
        })
    }

    #[test]
    fn every_template_needs_the_secret_dynamodb_sessions_dynamodb_and_cookie_sockets_ws() {
        assert_eq!(needed(Sessions::Cookie, false), ["secrets-manager"]);
        assert_eq!(needed(Sessions::Cookie, true), ["secrets-manager", "ws"]);
        assert_eq!(
            needed(Sessions::DynamoDb, false),
            ["secrets-manager", "dynamodb"]
        );
        assert_eq!(
            needed(Sessions::DynamoDb, true),
            ["secrets-manager", "dynamodb"]
        );
    }

    #[test]
    fn what_arc_functions_is_built_without_is_missing() {
        let all = needed(Sessions::DynamoDb, false);
        let full = metadata(&[
            "aws",
            "compression",
            "default",
            "dynamodb",
            "secrets-manager",
        ]);
        assert_eq!(missing(&full, &all), Some(vec![]));
        // A route crate's own feature of the same name is not arc-functions'.
        let cookie = metadata(&["compression", "default"]);
        assert_eq!(
            missing(&cookie, &all),
            Some(vec!["secrets-manager", "dynamodb"])
        );
        let secret_only = metadata(&["aws", "secrets-manager"]);
        assert_eq!(missing(&secret_only, &all), Some(vec!["dynamodb"]));
        assert_eq!(
            missing(&secret_only, &needed(Sessions::Cookie, false)),
            Some(vec![])
        );
    }

    #[test]
    fn a_workspace_without_arc_functions_has_nothing_missing() {
        let none = json!({"packages": [{"name": "x", "id": "x"}], "resolve": {"nodes": [{"id": "x", "features": []}]}});
        assert_eq!(missing(&none, &["dynamodb"]), None);
    }

    #[test]
    fn this_repository_builds_what_its_templates_need() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let workspace = Workspace::find(&root).expect("the repository's workspace");
        for sessions in [Sessions::Cookie, Sessions::DynamoDb] {
            check(&workspace, &needed(sessions, true)).expect("the example app's features");
        }
    }
}
