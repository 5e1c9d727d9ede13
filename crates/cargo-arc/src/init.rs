//! `cargo arc init <dir>`: a new app that builds and runs at once: a workspace with `app.arc`
//! declaring `get /` and the session table, the route's crate (a page counting visits in the
//! session), a README with its two commands, and a `.gitignore`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{Error, Workspace, new_route, workspace};

/// Where the new app takes arc-functions from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Library {
    /// crates.io, at this version requirement (`0.1`, say).
    Version(String),
    /// A checkout of this repository: its `crates/arc-functions`, while the crates are not
    /// published, or to try a change.
    Checkout(PathBuf),
}

/// The version of arc-functions a new app asks for: the one these tools come with.
pub const LIBRARY_VERSION: &str = concat!("0.", env!("CARGO_PKG_VERSION_MINOR"));

/// Makes a new app in `dir` (created when missing), named after the directory: a cargo
/// workspace whose `app.arc` declares `get /`, with the route's crate scaffolded as
/// [`new_route`] does, the watch router synced, a README saying how to run and test it, and a
/// `.gitignore`. Returns the app's workspace.
///
/// # Errors
///
/// [`Error::NotEmpty`] when `dir` holds anything (nothing is written then); [`Error::Io`] when
/// a file cannot be written.
///
/// # Examples
///
/// ```
/// use cargo_arc::{Library, check, init};
///
/// let parent = tempfile::tempdir()?;
/// let app = init(&parent.path().join("notes"), &Library::Version("0.1".into()))?;
/// assert_eq!(app.manifest()?.app, "notes");
/// assert!(app.root().join("crates/get-index/src/main.rs").is_file());
/// assert_eq!(check(&app)?, []);
///
/// // Never over anything already there.
/// assert!(init(app.root(), &Library::Version("0.1".into())).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn init(dir: &Path, library: &Library) -> Result<Workspace, Error> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    let dir = std::path::absolute(dir).map_err(io(dir))?;
    if dir.exists() {
        let mut entries = fs::read_dir(&dir).map_err(io(&dir))?;
        if entries.next().is_some() {
            return Err(Error::NotEmpty { dir });
        }
    }
    let name = app_name(&dir);
    fs::create_dir_all(&dir).map_err(io(&dir))?;
    let files = [
        ("Cargo.toml", cargo_toml(library)),
        ("app.arc", app_arc(&name)),
        // .tools holds what `cargo arc dev` installs (dynalite); ignored, watch does not reload
        // when it changes.
        (".gitignore", "/target\n/.tools\n".to_owned()),
        ("README.md", readme(&name)),
    ];
    for (file, contents) in files {
        workspace::write(&dir.join(file), &contents)?;
    }
    let app = Workspace::find(&dir)?;
    let home = new_route(&app, "get", "/")?;
    // The placeholder `new` writes, made a page that shows its session at work.
    workspace::write(&home.dir.join("src/main.rs"), &home_page(&name))?;
    Ok(app)
}

/// `get /` (added by [`new_route`]) and the session table, so that `cargo arc dev --dynamodb`
/// and `cargo arc sam --dynamodb` work as they are.
fn app_arc(name: &str) -> String {
    format!(
        "@app\n{name}\n\n@http\n\n# Sessions live here when SESSION_TABLE_NAME names it (`cargo arc dev --dynamodb`,\n\
         # `cargo arc sam --dynamodb`); cookie sessions need no table.\n@tables\nsession\n  _idx *String\n  _ttl TTL\n"
    )
}

/// The home page: this browser's visits, counted in its session.
fn home_page(name: &str) -> String {
    format!(
        r#"//! `get /`: the home page, counting this browser's visits in its session.

use arc_functions::http::{{self, Request, Response}};

async fn home(mut req: Request) -> http::Result<Response> {{
    let visits = req.session.get::<u64>("visits")?.unwrap_or(0) + 1;
    req.session.insert("visits", visits)?;
    Ok(Response::html(format!(
        "<!doctype html><title>{name}</title><h1>{name}</h1><p>Visit {{visits}} of this browser.</p>"
    ))
    .session(req.session))
}}

fn main() -> Result<(), lambda_http::Error> {{
    http::start(http::async_handler(home))
}}
"#
    )
}

/// The app's name: the directory's, as Architect takes an `@app` name (lower case, letters,
/// digits and dashes).
fn app_name(dir: &Path) -> String {
    let raw = dir
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-');
    if name.is_empty() {
        "app".to_owned()
    } else {
        name.to_owned()
    }
}

/// What a new app's functions need of arc-functions in every mode `cargo arc` runs and deploys.
const FEATURES: &str = r#"features = ["dynamodb", "secrets-manager"]"#;

fn cargo_toml(library: &Library) -> String {
    let arc_functions = match library {
        Library::Version(version) => format!("{{ version = \"{version}\", {FEATURES} }}"),
        Library::Checkout(checkout) => format!(
            "{{ path = {:?}, {FEATURES} }}",
            checkout.join("crates/arc-functions").display().to_string()
        ),
    };
    format!(
        r#"[workspace]
resolver = "3"
members = ["crates/*"]

[workspace.package]
edition = "2024"
rust-version = "1.95"
license = "Apache-2.0"
publish = false

[workspace.dependencies]
# `dynamodb`: sessions in DynamoDB (`cargo arc dev --dynamodb`, `cargo arc sam --dynamodb`) and
# WebSockets; `secrets-manager`: the secret as `cargo arc sam` deploys it (ARC_APP_SECRET_ARN).
# An app that keeps sessions in the cookie and gives its secret as ARC_APP_SECRET can leave both
# out: its functions are then half the size and start sooner.
arc-functions = {arc_functions}
lambda_http = {{ version = "1.3", default-features = false, features = ["apigw_http", "apigw_rest", "apigw_websockets", "alb", "tracing", "concurrency-tokio"] }}
tracing = "0.1"

[workspace.lints.rust]
unsafe_code = "forbid"

# Only `cargo lambda watch` reads this: locally the routes run in Architect's `testing`
# environment, with a public development secret and cookies without `Secure` over plain http.
# Deployed, set ARC_ENV and the secret (ARC_APP_SECRET_ARN) in the function's environment.
[workspace.metadata.lambda.watch]
env = {{ ARC_ENV = "testing" }}

# Small, quick to start: what a Lambda function wants of a release build.
[profile.release]
lto = "fat"
codegen-units = 1
strip = "symbols"
"#
    )
}

fn readme(name: &str) -> String {
    format!(
        r#"# {name}

An [Architect](https://arc.codes)-style app in Rust: one Lambda function per route of
`app.arc`, with [arc-functions](https://docs.rs/arc-functions) for sessions.

```sh
cargo arc dev        # serves the app on http://127.0.0.1:9000/ (add --dynamodb for DynamoDB sessions)
cargo test           # runs every test
```

`cargo arc dev` installs cargo-lambda (from PyPI) and, with `--dynamodb`, a local DynamoDB (from
npm) when they are missing; `cargo install cargo-arc` gives the `cargo arc` command.

Add a route with `cargo arc new post /notes`, check that `app.arc` and the crates agree with
`cargo arc check`, and write the AWS SAM template with `cargo arc sam`.
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_is_named_after_its_directory() {
        assert_eq!(app_name(Path::new("/tmp/notes")), "notes");
        assert_eq!(app_name(Path::new("/tmp/My Notes_2")), "my-notes-2");
        assert_eq!(app_name(Path::new("/tmp/--")), "app");
    }

    #[test]
    fn a_checkout_is_a_path_dependency_and_a_version_a_version() {
        let path = cargo_toml(&Library::Checkout(PathBuf::from("/src/arc")));
        assert!(
            path.contains(r#"arc-functions = { path = "/src/arc/crates/arc-functions", features = ["dynamodb", "secrets-manager"] }"#),
            "{path}"
        );
        let version = cargo_toml(&Library::Version("0.1".into()));
        assert!(
            version.contains(
                "arc-functions = { version = \"0.1\", features = [\"dynamodb\", \"secrets-manager\"] }\n"
            ),
            "{version}"
        );
    }
}
