//! Architect's table names: a function Architect deployed is given `session`, which the stack's
//! service discovery (SSM) maps to the physical name.

use std::collections::HashMap;

use super::Error;

/// The variables that name a DynamoDB table, in the order [`Config::from_vars`] reads them.
const TABLE_VARIABLES: [&str; 3] = [
    "SESSION_TABLE_NAME",
    "ARC_SESSION_TABLE_NAME",
    "ARC_THROTTLE_TABLE_NAME",
];

/// Architect's environment: a function Architect deployed (`ARC_STACK_NAME` set) is given its
/// tables by their logical names (`session`), which this replaces with the physical names its
/// service discovery holds in SSM. A physical name is kept. Nothing is read without
/// `ARC_STACK_NAME`, nor when no variable names a table.
pub(super) fn resolve_tables(vars: &mut HashMap<String, String>) -> Result<(), Error> {
    let Some(stack) = vars
        .get("ARC_STACK_NAME")
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
    else {
        return Ok(());
    };
    let named: Vec<(&'static str, String)> = TABLE_VARIABLES
        .into_iter()
        .filter_map(|variable| {
            let name = vars.get(variable)?.trim();
            (!name.is_empty() && name != "jwe").then(|| (variable, name.to_owned()))
        })
        .collect();
    if named.is_empty() {
        return Ok(());
    }
    resolve_named(vars, &stack, named)
}

/// Replaces each named table by its physical name, from the stack's SSM parameters.
#[cfg(feature = "architect")]
fn resolve_named(
    vars: &mut HashMap<String, String>,
    stack: &str,
    named: Vec<(&'static str, String)>,
) -> Result<(), Error> {
    let tables = crate::aws::discovery::tables(stack).map_err(|reason| Error::Discovery {
        stack: stack.to_owned(),
        reason,
    })?;
    for (variable, name) in named {
        let Some(physical) = crate::aws::discovery::resolve(&name, &tables) else {
            return Err(Error::UnknownTable {
                variable,
                name,
                stack: stack.to_owned(),
                known: tables.keys().cloned().collect(),
            });
        };
        let physical = physical.to_owned();
        vars.insert(variable.to_owned(), physical);
    }
    Ok(())
}

/// Without the `architect` feature a name is taken as physical. Architect's physical names
/// (`Stack-SessionTable-1AB2`) hold capitals; a name without any is likely `app.arc`'s logical
/// one, which DynamoDB will not find: said once, at cold start, with what to do.
#[cfg(not(feature = "architect"))]
#[expect(
    clippy::unnecessary_wraps,
    reason = "the same signature as with the feature, which can fail"
)]
fn resolve_named(
    _vars: &mut HashMap<String, String>,
    stack: &str,
    named: Vec<(&'static str, String)>,
) -> Result<(), Error> {
    for (variable, name) in named {
        if !name.chars().any(|c| c.is_ascii_uppercase()) {
            tracing::warn!(
                "ARC_STACK_NAME is {stack:?}, so {variable} ({name:?}) may be app.arc's logical name; this build takes it as the table's physical name: enable arc-functions' `architect` feature to resolve it through SSM, or give the physical name"
            );
        }
    }
    Ok(())
}
