//! app.arc, the `cargo lambda watch` router and the route crates must name the same routes:
//! a route added to one and not the others fails here, not in a browser. The comparison is
//! `cargo arc check`'s own, run on this repository.

use std::path::Path;

use arc_manifest::Manifest;
use cargo_arc::Workspace;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
}

#[test]
fn cargo_arc_check_passes_on_this_repository() {
    let workspace = Workspace::find(root()).expect("the workspace root with app.arc");
    assert_eq!(workspace.root(), root());
    let drift = cargo_arc::check(&workspace).expect("app.arc and Cargo.toml parse");
    let listed: Vec<String> = drift.iter().map(ToString::to_string).collect();
    assert!(
        drift.is_empty(),
        "app.arc, the watch router and the route crates differ (`cargo run -p cargo-arc -- \
         check` says the same):\n{}",
        listed.join("\n")
    );
}

#[test]
fn session_table_is_declared_as_architect_expects() {
    let arc = std::fs::read_to_string(root().join("app.arc")).expect("app.arc");
    let manifest = Manifest::parse(&arc).expect("app.arc parses");
    let table = manifest.table("session").expect("@tables session");
    assert_eq!(table.partition_key.name, "_idx");
    assert_eq!(table.ttl.as_deref(), Some("_ttl"));
}

#[test]
fn the_websocket_routes_are_architects_three_each_with_its_crate() {
    let arc = std::fs::read_to_string(root().join("app.arc")).expect("app.arc");
    let manifest = Manifest::parse(&arc).expect("app.arc parses");
    let routes = arc_manifest::ws_routes(manifest.ws.as_deref().expect("app.arc has @ws"));
    assert_eq!(routes, ["connect", "disconnect", "default"]);
    for route in routes {
        let function = arc_manifest::ws_function(&route);
        assert!(
            root()
                .join("crates")
                .join(&function)
                .join("src/main.rs")
                .is_file(),
            "{function} has no crate"
        );
    }
}
