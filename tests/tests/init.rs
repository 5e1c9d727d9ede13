//! `cargo arc init` as a new user meets it: a new app in a directory outside this repository
//! (arc-functions from this checkout, while the crates are unpublished), run by `cargo arc dev`
//! as its README says, and its page fetched.
//!
//! The app builds into a target directory of its own (in this crate's `target/tmp`): its route
//! crate is called `get-index` like this repository's, and sharing a target would swap one
//! binary for the other.

mod common;

use std::fs;

use cargo_arc::{Library, check, init};

#[test]
fn a_new_app_builds_and_serves_its_page() {
    let outside = tempfile::tempdir().expect("a temporary directory");
    let root = outside.path().join("hello-app");
    let app = init(
        &root,
        &Library::Checkout(common::workspace_root().to_owned()),
    )
    .expect("init");
    assert_eq!(
        check(&app).expect("checked"),
        [],
        "app.arc and the crates agree"
    );
    for file in [
        "Cargo.toml",
        "app.arc",
        "README.md",
        ".gitignore",
        "crates/get-index/src/main.rs",
    ] {
        assert!(root.join(file).is_file(), "{file}");
    }
    let readme = fs::read_to_string(root.join("README.md")).expect("README");
    assert!(
        readme.contains("cargo arc dev") && readme.contains("cargo test"),
        "{readme}"
    );
    // Refused over anything already there, and nothing written.
    let before = fs::read_to_string(root.join("app.arc")).expect("app.arc");
    assert!(init(&root, &Library::Version("0.1".into())).is_err());
    assert_eq!(
        fs::read_to_string(root.join("app.arc")).expect("app.arc"),
        before
    );

    // This repository's lock file, so the new app builds the versions this one was tested with.
    fs::copy(
        common::workspace_root().join("Cargo.lock"),
        root.join("Cargo.lock"),
    )
    .expect("copy Cargo.lock");
    let target = common::tmp_dir().join("init-app-target");
    // What the new app's README says to run; it builds the app's function first.
    let dev = common::Dev::start(&root, Some(&target), &[], "init");
    let response = common::agent(0)
        .get(&dev.url("/"))
        .call()
        .unwrap_or_else(|e| panic!("GET /: {e}\n{}", dev.process.log()));
    assert_eq!(response.status(), 200);
    let page = common::body(response);
    assert!(page.contains("get /"), "{page}");
}
