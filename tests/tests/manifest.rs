//! app.arc, the `cargo lambda watch` router and the route crates must name the same routes:
//! a route added to one and not the others fails here, not in a browser.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use arc_manifest::Manifest;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Architect writes path parameters `:id`; the watch router (matchit) writes `{id}`.
fn router_path(arc_path: &str) -> String {
    arc_path
        .split('/')
        .map(|segment| match segment.strip_prefix(':') {
            Some(name) => format!("{{{name}}}"),
            None => segment.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[test]
fn app_arc_router_and_route_crates_agree() {
    let arc = std::fs::read_to_string(root().join("app.arc")).expect("app.arc");
    let manifest = Manifest::parse(&arc).expect("app.arc parses");
    assert_eq!(manifest.app, "bigsesh");

    let from_arc: BTreeSet<(String, String, String)> = manifest
        .http
        .iter()
        .map(|r| {
            (
                r.method.as_str().to_uppercase(),
                router_path(&r.path),
                r.handler_name(),
            )
        })
        .collect();

    let cargo: toml::Table = std::fs::read_to_string(root().join("Cargo.toml"))
        .expect("Cargo.toml")
        .parse()
        .expect("Cargo.toml is TOML");
    let router = cargo["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("[workspace.metadata.lambda.watch.router]");
    let mut from_router = BTreeSet::new();
    for (path, targets) in router {
        for target in targets.as_array().expect("a list of { method, function }") {
            from_router.insert((
                target["method"].as_str().expect("method").to_owned(),
                path.clone(),
                target["function"].as_str().expect("function").to_owned(),
            ));
        }
    }
    assert_eq!(
        from_arc, from_router,
        "app.arc @http and the watch router differ"
    );

    for (_, _, function) in &from_arc {
        let manifest = root().join("crates").join(function).join("Cargo.toml");
        let crate_toml: toml::Table = std::fs::read_to_string(&manifest)
            .unwrap_or_else(|_| panic!("route {function} has no crate at {}", manifest.display()))
            .parse()
            .expect("TOML");
        assert_eq!(
            crate_toml["package"]["name"].as_str(),
            Some(function.as_str())
        );
        assert!(
            root()
                .join("crates")
                .join(function)
                .join("src/main.rs")
                .exists(),
            "{function} is a binary"
        );
    }

    // And no route crate that app.arc does not declare.
    let declared: BTreeSet<&str> = from_arc.iter().map(|(_, _, f)| f.as_str()).collect();
    for entry in std::fs::read_dir(root().join("crates")).expect("crates/") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name != "arc-functions" && name != "arc-manifest" {
            assert!(
                declared.contains(name.as_str()),
                "crates/{name} is not in app.arc"
            );
        }
    }
}

#[test]
fn session_table_is_declared_as_architect_expects() {
    let arc = std::fs::read_to_string(root().join("app.arc")).expect("app.arc");
    let manifest = Manifest::parse(&arc).expect("app.arc parses");
    let table = manifest.table("session").expect("@tables session");
    assert_eq!(table.partition_key.name, "_idx");
    assert_eq!(table.ttl.as_deref(), Some("_ttl"));
}
