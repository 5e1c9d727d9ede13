//! Architect's service discovery: the physical names of an app's `@tables`, read from SSM at
//! cold start, as `@architect/functions` 8 reads them.
//!
//! Architect deploys every function with `ARC_STACK_NAME` and writes one SSM parameter per
//! table, `/<stack>/tables/<logical name>`, holding the table's physical name. A function given
//! the logical name (`ARC_SESSION_TABLE_NAME=session`) finds the table through them; one given
//! the physical name finds it among their values.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_ssm::Client;
use aws_sdk_ssm::error::DisplayErrorContext;

/// The longest discovery may hold up a cold start before the function fails to start.
const LIMIT: Duration = Duration::from_secs(5);

/// The stack's tables, logical name to physical name. Blocks the calling thread
/// ([`super::at_cold_start`]).
pub(crate) fn tables(stack: &str) -> Result<BTreeMap<String, String>, String> {
    super::at_cold_start(LIMIT, || async move {
        let config = super::sdk_config().await;
        let client = Client::new(&config);
        let path = format!("/{stack}");
        let mut pages = client
            .get_parameters_by_path()
            .path(&path)
            .recursive(true)
            .into_paginator()
            .send();
        let mut parameters = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                format!(
                    "GetParametersByPath {path} failed: {}",
                    DisplayErrorContext(&e)
                )
            })?;
            parameters.extend(
                page.parameters
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|p| Some((p.name?, p.value?))),
            );
        }
        Ok(tables_of(stack, parameters))
    })
}

/// The `/<stack>/tables/<name>` parameters among `parameters`, by name.
fn tables_of(
    stack: &str,
    parameters: impl IntoIterator<Item = (String, String)>,
) -> BTreeMap<String, String> {
    let prefix = format!("/{stack}/tables/");
    parameters
        .into_iter()
        .filter_map(|(name, value)| {
            let logical = name.strip_prefix(&prefix)?;
            // Deeper parameters (a table's stream, say) are not tables.
            (!logical.is_empty() && !logical.contains('/')).then(|| (logical.to_owned(), value))
        })
        .collect()
}

/// The physical table `name` stands for among `tables`: the table whose logical name it is,
/// or itself when it is one of their physical names.
pub(crate) fn resolve<'a>(name: &'a str, tables: &'a BTreeMap<String, String>) -> Option<&'a str> {
    tables
        .get(name)
        .map(String::as_str)
        .or_else(|| tables.values().any(|v| v == name).then_some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    #[test]
    fn only_the_stacks_own_tables_are_tables() {
        let tables = tables_of(
            "BigseshStaging",
            [
                pair("/BigseshStaging/tables/session", "Bigsesh-SessionTable-1A"),
                pair("/BigseshStaging/tables/users", "Bigsesh-UsersTable-2B"),
                pair(
                    "/BigseshStaging/tables/users/stream",
                    "arn:aws:dynamodb:...",
                ),
                pair("/BigseshStaging/events/ping", "arn:aws:sns:..."),
                pair("/OtherStaging/tables/session", "Other-SessionTable-3C"),
                pair("/BigseshStaging/tables/", "nameless"),
            ],
        );
        assert_eq!(
            tables.into_iter().collect::<Vec<_>>(),
            [
                pair("session", "Bigsesh-SessionTable-1A"),
                pair("users", "Bigsesh-UsersTable-2B")
            ]
        );
    }

    #[test]
    fn a_name_resolves_as_a_logical_name_or_as_a_physical_one() {
        let tables = BTreeMap::from([pair("session", "Bigsesh-SessionTable-1A")]);
        assert_eq!(resolve("session", &tables), Some("Bigsesh-SessionTable-1A"));
        assert_eq!(
            resolve("Bigsesh-SessionTable-1A", &tables),
            Some("Bigsesh-SessionTable-1A")
        );
        assert_eq!(resolve("sessions", &tables), None);
    }
}
