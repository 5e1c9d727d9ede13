//! The configuration tables against the code: the guide's reference (docs/11-configuration.md),
//! the crate's front page (crates/arc-functions/README.md) and `Config`'s own documentation each
//! list exactly the variables the configuration module reads, so none drifts from the code.

mod common;

use std::collections::BTreeSet;
use std::fs;

use common::workspace_root;

/// The `ARC_*` and `SESSION_*` names in `text`, each a whole word.
fn names(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !(c.is_ascii_uppercase() || c == '_'))
        .filter(|word| {
            (word.starts_with("ARC_") || word.starts_with("SESSION_"))
                && word.len() > "ARC_".len()
                && !word.ends_with('_')
        })
        .map(str::to_owned)
        .collect()
}

fn read(path: &str) -> String {
    fs::read_to_string(workspace_root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// What the configuration module reads: every whole string literal `"ARC_…"`/`"SESSION_…"` in
/// its code (not its comments).
fn read_by_config() -> BTreeSet<String> {
    ["config/mod.rs", "config/tables.rs", "config/secret.rs"]
        .iter()
        .flat_map(|file| {
            read(&format!("crates/arc-functions/src/{file}"))
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .flat_map(|line| {
                    line.split('"')
                        .skip(1)
                        .step_by(2)
                        .filter(|literal| names(literal).contains(*literal))
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The first column of the Markdown table in `text` after the line `heading`, up to the next
/// heading.
fn table_names(text: &str, heading: &str, prefix: &str) -> BTreeSet<String> {
    let start = text
        .lines()
        .position(|line| line.trim() == heading)
        .unwrap_or_else(|| panic!("no `{heading}`"));
    text.lines()
        .skip(start + 1)
        .take_while(|line| !line.trim_start_matches(prefix).starts_with('#'))
        .filter_map(|line| line.trim_start_matches(prefix).trim().strip_prefix('|'))
        .flat_map(|row| names(row.split('|').next().unwrap_or_default()))
        .collect()
}

#[test]
fn every_table_lists_exactly_what_the_configuration_reads() {
    let code = read_by_config();
    assert!(
        code.contains("ARC_SESSION_TTL") && code.contains("SESSION_TABLE_NAME"),
        "the scan of the configuration's code found {code:?}"
    );

    let guide = table_names(&read("docs/11-configuration.md"), "## The library", "");
    let crate_readme = table_names(
        &read("crates/arc-functions/README.md"),
        "## Configuration",
        "",
    );
    // Config's documentation: the table in the doc comment above `pub struct Config`.
    let source = read("crates/arc-functions/src/config/mod.rs");
    let before_config = &source[..source.find("pub struct Config").expect("Config")];
    let doc_start = before_config
        .rfind("\n\n")
        .expect("a blank line before Config's doc comment");
    let config_doc = table_names(
        &format!("# Config\n{}", &before_config[doc_start..]),
        "# Config",
        "///",
    );

    for (table, listed) in [
        ("docs/11-configuration.md, The library", &guide),
        (
            "crates/arc-functions/README.md, Configuration",
            &crate_readme,
        ),
        ("Config's documentation", &config_doc),
    ] {
        let missing: Vec<_> = code.difference(listed).collect();
        let extra: Vec<_> = listed.difference(&code).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{table}: missing {missing:?}, listed but not read {extra:?}"
        );
    }
}
