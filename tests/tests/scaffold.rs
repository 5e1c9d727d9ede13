//! `cargo arc new get /about` on a copy of this workspace, with nothing filled in, and
//! `cargo lambda watch` serves `GET /about` through the router `new` synced.
//!
//! The copy builds into this workspace's target directory, so only the workspace's own crates
//! compile again (their paths differ), not the dependencies.

mod common;

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use common::{App, agent, body, cargo, workspace_root};

/// Never copied: build output, git, installed tools and Node packages.
const SKIPPED: [&str; 5] = ["target", ".git", "node_modules", ".tools", ".dynalite"];

#[test]
fn a_new_route_is_served_by_watch_without_editing_anything() {
    let copy = tempfile_dir();
    copy_tree(workspace_root(), copy.path());

    let mut out = Vec::new();
    cargo_arc::run(["new", "get", "/about"], copy.path(), &mut out).expect("cargo arc new");
    let printed = String::from_utf8(out).expect("utf-8");
    assert!(
        printed.starts_with("added `get /about` to app.arc"),
        "{printed}"
    );
    let workspace = cargo_arc::Workspace::find(copy.path()).expect("the copy");
    assert_eq!(cargo_arc::check(&workspace).expect("check"), []);

    // Watch would build it on the first request; building now shows the compiler's output,
    // which for a fresh scaffold must be free of warnings under the workspace's lints.
    let target = target_dir();
    let build = Command::new(cargo())
        .args(["build", "--bin", "get-about", "--message-format", "short"])
        .env("CARGO_TARGET_DIR", &target)
        .current_dir(copy.path())
        .stdin(Stdio::null())
        .output()
        .expect("run cargo build");
    let stderr = String::from_utf8_lossy(&build.stderr);
    assert!(
        build.status.success(),
        "get-about does not build:\n{stderr}"
    );
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("warning") && line.contains("get-about"))
        .collect();
    assert!(warnings.is_empty(), "the scaffold has warnings:\n{stderr}");

    let app = App::start_in(copy.path(), &target, "scaffold", "/about");
    let response = agent(0).get(app.url("/about")).call().expect("GET /about");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    assert_eq!(content_type.as_deref(), Some("text/html; charset=utf8"));
    let page = body(response);
    assert!(page.contains("<p>get /about</p>"), "{page}");

    // The router sends only GET there: watch answers another method without the route.
    let post = agent(0)
        .post(app.url("/about"))
        .send("")
        .expect("POST /about");
    assert_ne!(post.status().as_u16(), 200);
}

/// The target directory this test run builds into, shared with the copy.
fn target_dir() -> PathBuf {
    match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

fn tempfile_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("arc-scaffold-")
        .tempdir()
        .expect("temp dir")
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name();
        if SKIPPED.iter().any(|skipped| name == *skipped) {
            continue;
        }
        let kind = entry.file_type().expect("file type");
        let (source, dest) = (entry.path(), to.join(&name));
        if kind.is_dir() {
            copy_tree(&source, &dest);
        } else if kind.is_file() {
            fs::copy(&source, &dest).expect("copy a file");
        }
    }
}
