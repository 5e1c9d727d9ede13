//! The `cargo-arc` binary on temporary copies of this workspace: what each command prints,
//! what it changes, and that a refused command changes nothing.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// This repository's root.
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A copy of what `cargo arc` reads in this repository: the root Cargo.toml, app.arc and each
/// crate's Cargo.toml and src/main.rs (the library crates are copied too, so the copy has the
/// tooling crates a route check must leave alone).
fn copy_of_repo() -> TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for file in ["Cargo.toml", "app.arc"] {
        fs::copy(repo().join(file), dir.path().join(file)).expect("copy a root file");
    }
    for entry in fs::read_dir(repo().join("crates")).expect("crates/") {
        let name = entry.expect("entry").file_name();
        for file in ["Cargo.toml", "src/main.rs"] {
            let from = repo().join("crates").join(&name).join(file);
            if from.is_file() {
                let to = dir.path().join("crates").join(&name).join(file);
                fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
                fs::copy(&from, &to).expect("copy a crate file");
            }
        }
    }
    dir
}

/// Every file under `dir`, by relative path.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let relative = path.strip_prefix(root).expect("below root").to_owned();
                files.insert(relative, fs::read(&path).expect("read file"));
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(dir, dir, &mut files);
    files
}

struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn cargo_arc(dir: &Path, args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(env!("CARGO_BIN_EXE_cargo-arc"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run cargo-arc");
    Run {
        ok: status.success(),
        stdout: String::from_utf8(stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(stderr).expect("utf-8 stderr"),
    }
}

fn read(dir: &Path, file: &str) -> String {
    fs::read_to_string(dir.join(file)).expect("read")
}

fn edit(dir: &Path, file: &str, from: &str, to: &str) {
    let text = read(dir, file);
    assert!(text.contains(from), "{file} should contain {from:?}");
    fs::write(dir.join(file), text.replacen(from, to, 1)).expect("write");
}

/// Runs `check`, asserts it fails without touching a file, and returns what it printed.
fn failing_check(dir: &Path) -> String {
    let before = snapshot(dir);
    let run = cargo_arc(dir, &["check"]);
    assert!(!run.ok, "check should fail:\n{}", run.stdout);
    assert_eq!(snapshot(dir), before, "check must not change files");
    assert!(
        run.stderr.contains("difference(s) between app.arc"),
        "{}",
        run.stderr
    );
    run.stdout
}

/// Runs a command that must be refused, asserts no file changed, and returns its stderr.
fn refused(dir: &Path, args: &[&str]) -> String {
    let before = snapshot(dir);
    let run = cargo_arc(dir, args);
    assert!(!run.ok, "{args:?} should fail, printed:\n{}", run.stdout);
    assert_eq!(snapshot(dir), before, "{args:?} changed files");
    run.stderr
}

// --- functions -----------------------------------------------------------------------------

#[test]
fn functions_lists_this_apps_binaries_for_scripts() {
    let dir = copy_of_repo();
    let lines = |args: &[&str]| {
        let run = cargo_arc(dir.path(), args);
        assert!(run.ok, "{args:?}: {}", run.stderr);
        run.stdout.lines().map(str::to_owned).collect::<Vec<_>>()
    };
    assert_eq!(
        lines(&["functions"]),
        [
            "get-index",
            "post-count",
            "post-reset",
            "get-auth-catchall",
            "post-auth-catchall",
            "ws-connect",
            "ws-disconnect",
            "ws-default"
        ]
    );
    assert_eq!(
        lines(&["functions", "--http"]),
        [
            "get-index",
            "post-count",
            "post-reset",
            "get-auth-catchall",
            "post-auth-catchall"
        ]
    );
    assert_eq!(
        lines(&["functions", "--ws"]),
        ["ws-connect", "ws-disconnect", "ws-default"]
    );
    let stderr = refused(dir.path(), &["functions", "--all"]);
    assert!(
        stderr.contains("functions takes --http or --ws"),
        "{stderr}"
    );
}

// --- check ---------------------------------------------------------------------------------

#[test]
fn check_passes_on_this_repository() {
    let dir = copy_of_repo();
    let run = cargo_arc(dir.path(), &["check"]);
    assert!(run.ok, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        run.stdout,
        "app.arc, the watch router and the route crates agree\n"
    );
}

#[test]
fn check_runs_from_a_subdirectory_from_root_and_as_a_cargo_subcommand() {
    let dir = copy_of_repo();
    assert!(cargo_arc(&dir.path().join("crates/get-index"), &["check"]).ok);
    // cargo runs an installed `cargo-arc` as `cargo-arc arc check`.
    assert!(cargo_arc(&dir.path().join("crates"), &["arc", "check"]).ok);
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_str().expect("utf-8 path");
    assert!(cargo_arc(elsewhere.path(), &["--root", root, "check"]).ok);
    let stderr = refused(elsewhere.path(), &["check"]);
    assert!(stderr.contains("no workspace with an app.arc"), "{stderr}");
}

#[test]
fn check_catches_a_route_missing_from_the_router() {
    let dir = copy_of_repo();
    edit(
        dir.path(),
        "app.arc",
        "post /reset\n",
        "post /reset\nget /about\n",
    );
    fs::create_dir_all(dir.path().join("crates/get-about/src")).expect("mkdir");
    fs::copy(
        dir.path().join("crates/get-index/src/main.rs"),
        dir.path().join("crates/get-about/src/main.rs"),
    )
    .expect("copy");
    fs::write(
        dir.path().join("crates/get-about/Cargo.toml"),
        "[package]\nname = \"get-about\"\n",
    )
    .expect("write");
    assert_eq!(
        failing_check(dir.path()),
        "- app.arc declares GET /about (get-about) but the watch router in Cargo.toml does not \
         route it: run `cargo arc sync`\n"
    );
}

#[test]
fn check_catches_a_router_entry_app_arc_does_not_declare() {
    let dir = copy_of_repo();
    edit(
        dir.path(),
        "Cargo.toml",
        "\"/reset\" = [",
        "\"/old\" = [{ method = \"GET\", function = \"get-old\" }]\n\"/reset\" = [",
    );
    assert_eq!(
        failing_check(dir.path()),
        "- the watch router routes GET /old to get-old, which app.arc does not declare: add the \
         route to app.arc's @http, or run `cargo arc sync` to drop it\n"
    );
}

#[test]
fn check_catches_a_route_sent_to_the_wrong_function() {
    let dir = copy_of_repo();
    edit(
        dir.path(),
        "Cargo.toml",
        "function = \"post-reset\"",
        "function = \"post-count\"",
    );
    assert_eq!(
        failing_check(dir.path()),
        "- the watch router sends POST /reset to post-count, but app.arc's function for it is \
         post-reset: run `cargo arc sync`\n"
    );
}

#[test]
fn check_catches_a_router_entry_of_another_shape_and_a_missing_router() {
    let dir = copy_of_repo();
    edit(
        dir.path(),
        "Cargo.toml",
        "\"/\" = [{ method = \"GET\", function = \"get-index\" }]",
        "\"/\" = \"get-index\"",
    );
    let printed = failing_check(dir.path());
    assert!(
        printed
            .contains("the watch router's entry for \"/\" is not a list of { method, function }"),
        "{printed}"
    );
    assert!(printed.contains("does not route it"), "{printed}");

    let dir = copy_of_repo();
    let cargo = read(dir.path(), "Cargo.toml");
    let start = cargo.find("[workspace.metadata").expect("router header");
    fs::write(dir.path().join("Cargo.toml"), &cargo[..start]).expect("write");
    assert_eq!(
        failing_check(dir.path()),
        "- Cargo.toml has no [workspace.metadata.lambda.watch.router], so `cargo lambda watch` \
         serves none of app.arc's routes: run `cargo arc sync`\n"
    );
}

#[test]
fn check_catches_a_route_without_a_crate() {
    let dir = copy_of_repo();
    fs::remove_dir_all(dir.path().join("crates/post-reset")).expect("rm");
    let printed = failing_check(dir.path());
    assert!(
        printed.starts_with(
            "- app.arc declares `post /reset` but crates/post-reset/Cargo.toml does not exist"
        ),
        "{printed}"
    );
    assert_eq!(printed.lines().count(), 1, "{printed}");
}

#[test]
fn check_catches_a_misnamed_package_and_a_crate_without_a_main() {
    let dir = copy_of_repo();
    edit(
        dir.path(),
        "crates/post-count/Cargo.toml",
        "name = \"post-count\"",
        "name = \"counter\"",
    );
    fs::remove_file(dir.path().join("crates/post-reset/src/main.rs")).expect("rm");
    assert_eq!(
        failing_check(dir.path()),
        "- crates/post-count/Cargo.toml names its package `counter`: rename it to `post-count`, \
         the name the router and the deploy template use\n\
         - crates/post-reset has no src/main.rs, so it builds no `post-reset` binary: add a main \
         (see crates/get-index/src/main.rs)\n"
    );
}

#[test]
fn check_catches_a_route_crate_app_arc_does_not_declare_but_not_tooling_crates() {
    let dir = copy_of_repo();
    // The copy holds arc-functions, arc-manifest and cargo-arc, and check passes on it.
    for tooling in ["arc-functions", "arc-manifest", "cargo-arc"] {
        assert!(
            dir.path()
                .join("crates")
                .join(tooling)
                .join("Cargo.toml")
                .is_file()
        );
    }
    for name in ["delete-notes-000id", "ws-chat"] {
        let crate_dir = dir.path().join("crates").join(name);
        fs::create_dir_all(crate_dir.join("src")).expect("mkdir");
        fs::write(crate_dir.join("Cargo.toml"), "[package]\n").expect("write");
    }
    assert_eq!(
        failing_check(dir.path()),
        "- crates/delete-notes-000id is named like a route, but app.arc declares no route whose \
         function is delete-notes-000id: declare the route in app.arc or delete the crate\n\
         - crates/ws-chat is named like a route, but app.arc declares no route whose function \
         is ws-chat: declare the route in app.arc or delete the crate\n"
    );
}

#[test]
fn check_wants_every_websocket_function_app_arc_declares() {
    let dir = copy_of_repo();
    // A custom route beside Architect's three, and one of those three without its crate.
    edit(dir.path(), "app.arc", "@ws\n", "@ws\nchat\n");
    fs::remove_dir_all(dir.path().join("crates/ws-disconnect")).expect("rm");
    let printed = failing_check(dir.path());
    for function in ["ws-disconnect", "ws-chat"] {
        assert!(
            printed.contains(&format!("crates/{function}/Cargo.toml does not exist")),
            "{function}: {printed}"
        );
    }
    assert_eq!(printed.lines().count(), 2, "{printed}");
}

#[test]
fn check_reports_an_app_arc_that_does_not_parse() {
    let dir = copy_of_repo();
    edit(dir.path(), "app.arc", "post /reset", "fetch /reset");
    let stderr = refused(dir.path(), &["check"]);
    assert!(
        stderr.contains("app.arc: line 8: unknown HTTP method `fetch`"),
        "{stderr}"
    );
}

// --- sync ----------------------------------------------------------------------------------

#[test]
fn sync_changes_nothing_in_this_repository() {
    let dir = copy_of_repo();
    let before = snapshot(dir.path());
    let run = cargo_arc(dir.path(), &["sync"]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout, "the watch router already matches app.arc\n");
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn sync_writes_todays_router_byte_for_byte_and_is_idempotent() {
    let dir = copy_of_repo();
    let original = read(dir.path(), "Cargo.toml");
    // A stale router: a route gone, one sent elsewhere, one app.arc doesn't have, another shape.
    let stale = original
        .replace(
            "\"/reset\" = [{ method = \"POST\", function = \"post-reset\" }]\n",
            "\"/old\" = \"get-old\"\n",
        )
        .replace("function = \"post-count\"", "function = \"get-index\"");
    assert_ne!(stale, original);
    fs::write(dir.path().join("Cargo.toml"), &stale).expect("write");

    let run = cargo_arc(dir.path(), &["sync"]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "wrote the watch router in Cargo.toml from app.arc\n"
    );
    assert_eq!(read(dir.path(), "Cargo.toml"), original);

    let again = cargo_arc(dir.path(), &["sync"]);
    assert_eq!(again.stdout, "the watch router already matches app.arc\n");
    assert_eq!(read(dir.path(), "Cargo.toml"), original);
    assert!(cargo_arc(dir.path(), &["check"]).ok);
}

#[test]
fn sync_creates_a_missing_router_and_keeps_the_rest_of_cargo_toml() {
    let dir = copy_of_repo();
    let original = read(dir.path(), "Cargo.toml");
    let start = original
        .find("# `cargo lambda watch` serves")
        .expect("router comment");
    let without = original[..start].trim_end().to_owned() + "\n";
    fs::write(dir.path().join("Cargo.toml"), &without).expect("write");

    assert!(cargo_arc(dir.path(), &["sync"]).ok);
    let synced = read(dir.path(), "Cargo.toml");
    assert!(
        synced.starts_with(&without),
        "the rest must stay byte for byte"
    );
    assert_eq!(
        &synced[without.len()..],
        "\n# `cargo lambda watch` serves every route binary on one port through this router; \
         `cargo arc sync` writes it from app.arc.\n\
         [workspace.metadata.lambda.watch.router]\n\
         \"/\" = [{ method = \"GET\", function = \"get-index\" }]\n\
         \"/count\" = [{ method = \"POST\", function = \"post-count\" }]\n\
         \"/reset\" = [{ method = \"POST\", function = \"post-reset\" }]\n\
         \"/auth/{*proxy}\" = [{ method = \"GET\", function = \"get-auth-catchall\" }, \
         { method = \"POST\", function = \"post-auth-catchall\" }]\n"
    );
    let once = snapshot(dir.path());
    assert!(cargo_arc(dir.path(), &["sync"]).ok);
    assert_eq!(snapshot(dir.path()), once);
}

#[test]
fn sync_refuses_an_app_arc_that_does_not_parse() {
    let dir = copy_of_repo();
    edit(dir.path(), "app.arc", "@app\n", "");
    let stderr = refused(dir.path(), &["sync"]);
    assert!(
        stderr.contains("app.arc: line 2: expected a pragma"),
        "{stderr}"
    );
}

// --- new -----------------------------------------------------------------------------------

#[test]
fn new_adds_the_route_scaffolds_the_crate_and_syncs_the_router() {
    let dir = copy_of_repo();
    let before = snapshot(dir.path());
    let run = cargo_arc(dir.path(), &["new", "get", "/notes/:id"]);
    assert!(run.ok, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("added `get /notes/:id` to app.arc, scaffolded "),
        "{}",
        run.stdout
    );

    assert_eq!(
        read(dir.path(), "app.arc"),
        read(&repo(), "app.arc").replace("post /auth/*\n", "post /auth/*\nget /notes/:id\n")
    );
    assert_eq!(
        read(dir.path(), "Cargo.toml"),
        read(&repo(), "Cargo.toml")
            + "\"/notes/{id}\" = [{ method = \"GET\", function = \"get-notes-000id\" }]\n"
    );
    let cargo = read(dir.path(), "crates/get-notes-000id/Cargo.toml");
    assert!(cargo.starts_with("[package]\nname = \"get-notes-000id\"\n"));
    for line in [
        "edition.workspace = true",
        "arc-functions.workspace = true",
        "lambda_http.workspace = true",
        "features = [\"release_max_level_info\"]",
        "[lints]\nworkspace = true",
    ] {
        assert!(cargo.contains(line), "{line} in {cargo}");
    }
    let main = read(dir.path(), "crates/get-notes-000id/src/main.rs");
    assert!(main.starts_with("//! `get /notes/:id`"), "{main}");
    assert!(
        main.contains("http::start(http::async_handler(handler))"),
        "{main}"
    );

    // Only the two files and the new crate changed.
    let after = snapshot(dir.path());
    let changed: Vec<&PathBuf> = after
        .keys()
        .filter(|path| before.get(*path) != after.get(*path))
        .collect();
    assert_eq!(
        changed,
        [
            Path::new("Cargo.toml"),
            Path::new("app.arc"),
            Path::new("crates/get-notes-000id/Cargo.toml"),
            Path::new("crates/get-notes-000id/src/main.rs"),
        ]
    );
    assert!(cargo_arc(dir.path(), &["check"]).ok);
}

#[test]
fn new_refuses_bad_input_and_existing_routes_without_changing_anything() {
    let dir = copy_of_repo();
    fs::create_dir_all(dir.path().join("crates/get-taken")).expect("mkdir");
    edit(
        dir.path(),
        "app.arc",
        "post /reset\n",
        "post /reset\nget /a_b\n",
    );
    assert!(cargo_arc(dir.path(), &["sync"]).ok);
    fs::create_dir_all(dir.path().join("crates/get-a_b/src")).expect("mkdir");

    let cases: [(&[&str], &str); 11] = [
        (&["new", "fetch", "/x"], "unknown HTTP method `fetch`"),
        (&["new", "get", "x"], "bad path `x`: a path starts with `/`"),
        (&["new", "get", "/x/"], "drop the trailing `/`"),
        (&["new", "get", "/a//b"], "no empty parts"),
        (
            &["new", "get", "/*/x"],
            "a catchall `*` can only be the last part",
        ),
        (&["new", "get", "/{id}"], "a path part holds only"),
        (
            &["new", "post", "/count"],
            "`post /count` is already in app.arc",
        ),
        (&["new", "GET", "/"], "`get /` is already in app.arc"),
        (
            &["new", "get", "/a-b"],
            "`get /a-b` would be the function get-a_b, which `get /a_b` already is",
        ),
        (&["new", "get", "/taken"], "crates/get-taken already exists"),
        (&["new", "get"], "new takes a method and a path"),
    ];
    for (args, message) in cases {
        let stderr = refused(dir.path(), args);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
    let stderr = refused(dir.path(), &["new", "ws", "two words"]);
    assert!(stderr.contains("a WebSocket route is a name"), "{stderr}");
    let stderr = refused(dir.path(), &["new", "ws", "connect"]);
    assert!(
        stderr.contains("`@ws connect` is already in app.arc"),
        "{stderr}"
    );

    edit(dir.path(), "app.arc", "@app\n", "");
    let stderr = refused(dir.path(), &["new", "get", "/fine"]);
    assert!(stderr.contains("app.arc: line 2"), "{stderr}");
}

// --- sam -----------------------------------------------------------------------------------

#[test]
fn sam_cookie_mode_has_no_table_and_no_dynamodb_permission() {
    let dir = copy_of_repo();
    let run = cargo_arc(dir.path(), &["sam"]);
    assert!(run.ok, "{}", run.stderr);
    let template = run.stdout;
    for expected in [
        "Transform: AWS::Serverless-2016-10-31",
        "Runtime: provided.al2023",
        "      - x86_64\n",
        "SESSION_TABLE_NAME: jwe",
        "ARC_ENV: !Ref ArcEnv",
        // The secret's name, read at cold start; its value nowhere in the template.
        "ARC_APP_SECRET_ARN: !Ref AppSecretName",
        "Action: secretsmanager:GetSecretValue",
        "Resource: !Sub \"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AppSecretName}-??????\"",
        "  GetIndexFunction:\n    Type: AWS::Serverless::Function\n    Metadata:\n      \
         BuildMethod: rust-cargolambda\n      BuildProperties:\n        Binary: get-index\n",
        "  PostCountFunction:",
        "  PostResetFunction:",
        "Method: POST\n            Path: \"/reset\"",
        "CodeUri: \".\"\n",
        "Type: AWS::Serverless::HttpApi",
    ] {
        assert!(template.contains(expected), "{expected:?} in\n{template}");
    }
    // The app's own table (the login example's users) is there in either mode; the session
    // table is not.
    assert!(
        template.contains("USERS_TABLE_NAME: !Ref UsersTable"),
        "{template}"
    );
    assert_eq!(template.matches("Type: AWS::DynamoDB::Table").count(), 1);
    for absent in ["SessionTable", "arm64", "resolve:", "ARC_APP_SECRET:"] {
        assert!(!template.contains(absent), "{absent:?} in\n{template}");
    }
    // The five HTTP routes and app.arc's three `@ws` routes.
    assert_eq!(
        template.matches("Type: AWS::Serverless::Function").count(),
        8
    );
}

#[test]
fn sam_dynamodb_mode_creates_the_session_table_and_grants_only_it() {
    let dir = copy_of_repo();
    let run = cargo_arc(dir.path(), &["sam", "--dynamodb", "--arm64"]);
    assert!(run.ok, "{}", run.stderr);
    let template = run.stdout;
    for expected in [
        "SESSION_TABLE_NAME: !Ref SessionTable",
        "  SessionTable:\n    Type: AWS::DynamoDB::Table\n",
        "KeySchema:\n        - AttributeName: \"_idx\"\n          KeyType: HASH\n",
        "TimeToLiveSpecification:\n        AttributeName: \"_ttl\"\n        Enabled: true\n",
        "Resource: !GetAtt SessionTable.Arn",
        "      - arm64\n",
    ] {
        assert!(template.contains(expected), "{expected:?} in\n{template}");
    }
    // One policy per function, naming the table and nothing else.
    assert_eq!(
        template
            .matches("Resource: !GetAtt SessionTable.Arn")
            .count(),
        8
    );
    // Beside the table, only the secret, the app's own table (users) and the WebSocket API's
    // connections (execute-api:ManageConnections).
    assert_eq!(template.matches("Resource:").count(), 32);
    assert_eq!(template.matches("- !GetAtt UsersTable.Arn").count(), 8);
    assert_eq!(
        template
            .matches("Action: secretsmanager:GetSecretValue")
            .count(),
        8
    );
    assert_eq!(
        template
            .matches("Action: execute-api:ManageConnections")
            .count(),
        8
    );
    assert!(!template.contains("dynamodb:*") && !template.contains("dynamodb:Scan"));
}

#[test]
fn sam_with_ws_adds_the_websocket_api_its_functions_and_manage_connections() {
    let dir = copy_of_repo();
    edit(dir.path(), "app.arc", "@ws\n", "@ws\nchat\n");
    let run = cargo_arc(dir.path(), &["sam", "--output", "template.yaml"]);
    assert!(run.ok, "{}", run.stderr);
    assert_eq!(run.stdout, "");
    let template = read(dir.path(), "template.yaml");
    for expected in [
        "ProtocolType: WEBSOCKET",
        "RouteSelectionExpression: \"$request.body.action\"",
        "RouteKey: \"$connect\"",
        "RouteKey: \"$disconnect\"",
        "RouteKey: \"$default\"",
        "RouteKey: chat",
        "Binary: ws-chat",
        "Type: AWS::ApiGatewayV2::Stage",
        // A handler's reply reaches the sender only on a route with a route response.
        "RouteResponseSelectionExpression: \"$default\"",
        "RouteResponseKey: \"$default\"",
        "StageName: !Ref ArcEnv",
        "ARC_WSS_URL: !Sub \"wss://${WebSocketApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${ArcEnv}\"",
        "Action: execute-api:ManageConnections",
        // The app's stage only.
        "Resource: !Sub \"arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${WebSocketApi}/${ArcEnv}/*\"",
        // Both stages throttle every route by default, from the template's parameters.
        "ThrottlingRateLimit: !Ref ThrottlingRateLimit",
        "ThrottlingBurstLimit: !Ref ThrottlingBurstLimit",
    ] {
        assert!(template.contains(expected), "{expected:?} in\n{template}");
    }
    // `$default` and `chat` answer their sender; `$connect` and `$disconnect` cannot.
    assert_eq!(
        template
            .matches("Type: AWS::ApiGatewayV2::RouteResponse\n")
            .count(),
        2
    );
    for kind in ["Integration", "Route", "Permission"] {
        assert_eq!(
            template
                .matches(&format!("Type: AWS::ApiGatewayV2::{kind}\n"))
                .count()
                + template
                    .matches(&format!("Type: AWS::Lambda::{kind}\n"))
                    .count(),
            4,
            "{kind}"
        );
    }
    // Every function, HTTP and WebSocket, may post to connections; no session table in cookie
    // mode (the app's users table is there in either).
    assert_eq!(
        template.matches("Type: AWS::Serverless::Function").count(),
        9
    );
    assert_eq!(
        template
            .matches("Action: execute-api:ManageConnections")
            .count(),
        9
    );
    assert!(!template.contains("SessionTable"));
    assert_eq!(
        template.matches("DefaultRouteSettings:").count(),
        2,
        "the HTTP API and the WebSocket stage"
    );
    assert!(
        template.contains("ThrottlingRateLimit:\n    Type: Number\n    Default: 100"),
        "{template}"
    );
}

#[test]
fn sam_refuses_functions_built_without_the_features_its_template_deploys() {
    let parent = tempfile::tempdir().expect("temp dir");
    let repo = repo().canonicalize().expect("the repository");
    let made = cargo_arc(
        parent.path(),
        &["init", "notes", "--path", repo.to_str().expect("utf-8")],
    );
    assert!(made.ok, "{}", made.stderr);
    let app = parent.path().join("notes");
    // What `init` writes works in both modes.
    for args in [&["sam"][..], &["sam", "--dynamodb"]] {
        let run = cargo_arc(&app, args);
        assert!(run.ok, "{args:?}: {}", run.stderr);
    }

    // Like any cargo command, `cargo metadata` brings Cargo.lock up to date, so a refusal here
    // may change that file and no other.
    let refused = |args: &[&str]| {
        let run = cargo_arc(&app, args);
        assert!(!run.ok, "{args:?} should fail, printed:\n{}", run.stdout);
        assert!(
            !app.join("template.yaml").exists(),
            "{args:?} wrote the template"
        );
        run.stderr
    };

    // A cookie-only build: the template's ARC_APP_SECRET_ARN would stop every function.
    edit(
        &app,
        "Cargo.toml",
        r#", features = ["dynamodb", "secrets-manager"]"#,
        "",
    );
    let stderr = refused(&["sam", "--output", "template.yaml"]);
    assert!(
        stderr.contains("without arc-functions' `secrets-manager` feature,")
            && stderr.contains(r#"add `features = ["secrets-manager"]`"#),
        "{stderr}"
    );
    let stderr = refused(&["sam", "--dynamodb"]);
    assert!(
        stderr.contains("`secrets-manager` and `dynamodb` features"),
        "{stderr}"
    );

    // The secret alone: cookie sessions deploy, DynamoDB sessions do not.
    edit(
        &app,
        "Cargo.toml",
        "arc-functions = { path",
        r#"arc-functions = { features = ["secrets-manager"], path"#,
    );
    let run = cargo_arc(&app, &["sam"]);
    assert!(run.ok, "{}", run.stderr);
    let stderr = refused(&["sam", "--dynamodb"]);
    assert!(
        stderr.contains("without arc-functions' `dynamodb` feature,"),
        "{stderr}"
    );
}

#[test]
fn sam_refuses_dynamodb_without_the_session_table_and_unknown_options() {
    let dir = copy_of_repo();
    let arc = read(dir.path(), "app.arc");
    let start = arc.find("# Used when").expect("tables comment");
    fs::write(dir.path().join("app.arc"), &arc[..start]).expect("write");
    let stderr = refused(
        dir.path(),
        &["sam", "--dynamodb", "--output", "template.yaml"],
    );
    assert!(
        stderr.contains("--dynamodb needs the session table"),
        "{stderr}"
    );
    let stderr = refused(dir.path(), &["sam", "--x86"]);
    assert!(
        stderr.contains("unknown option for sam: `--x86`"),
        "{stderr}"
    );
}
