//! `cargo arc`: `app.arc` as the one place an app's routes are declared.
//!
//! | command | what it does |
//! |---|---|
//! | `cargo arc init <dir> [--path CHECKOUT]` | a new app in `dir`: `app.arc` with `get /`, its crate, a README and a `.gitignore` ([`init`]) |
//! | `cargo arc dev [--dynamodb] [--port N] [--ws-port N]` | runs the app on this machine: watch, the WebSocket gateway with `@ws`, a local DynamoDB with `--dynamodb`, until Ctrl-C ([`dev`](fn@dev)) |
//! | `cargo arc functions [--http \| --ws]` | prints every function of app.arc, one a line, for scripts ([`arc_manifest::Manifest::functions`]) |
//! | `cargo arc check` | app.arc, the watch router in Cargo.toml and the route crates agree; prints each difference and fails on any ([`check`]) |
//! | `cargo arc sync` | writes the watch router from app.arc, leaving the rest of Cargo.toml as it is ([`sync`]) |
//! | `cargo arc new <method> <path>` | adds the route to app.arc, scaffolds its crate and syncs the router ([`new_route`]) |
//! | `cargo arc new ws <route>` | adds the WebSocket route to app.arc's `@ws` and scaffolds its crate, and those of `connect`, `disconnect` and `default` when missing ([`new_ws_route`]) |
//! | `cargo arc sam [--dynamodb] [--arm64] [--output FILE]` | writes an AWS SAM template for the app ([`sam_template`]) |
//!
//! Every command works on the workspace found from the current directory up (the first with a
//! `[workspace]` Cargo.toml and an `app.arc`), or the one `--root DIR` names. Run it as
//! `cargo run -p cargo-arc -- check` inside this repository, or install it with
//! `cargo install --path crates/cargo-arc` and run `cargo arc check` anywhere.
//!
//! The commands are also functions, for tests and other tools:
//!
//! ```
//! use cargo_arc::{Workspace, check, new_route, sync};
//!
//! let dir = tempfile::tempdir()?;
//! std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\nmembers = [\"crates/*\"]\n")?;
//! std::fs::write(dir.path().join("app.arc"), "@app\nhello\n")?;
//! let workspace = Workspace::find(dir.path())?;
//!
//! new_route(&workspace, "get", "/")?;
//! assert_eq!(check(&workspace)?, []);
//! assert_eq!(sync(&workspace)?, cargo_arc::Synced::Unchanged);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod check;
mod dev;
mod features;
mod init;
mod new;
pub mod process_groups;
mod router;
mod sam;
mod sync;
mod workspace;
mod yaml;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use check::{Drift, check};
pub use dev::{
    CARGO_LAMBDA_VERSION, DEFAULT_PORT, DEFAULT_WS_PORT, DYNALITE_VERSION, DevOptions, Plan, dev,
    plan,
};
pub use init::{LIBRARY_VERSION, Library, init};
pub use new::{NewRoute, new_route, new_ws_route};
pub use sam::{Architecture, SamOptions, Sessions, sam_template};
pub use sync::{Synced, sync};
pub use workspace::Workspace;

/// Why a `cargo arc` command failed. Each message names the file, route or argument at fault
/// and what to do about it.
///
/// # Examples
///
/// ```
/// use cargo_arc::{Error, Workspace};
///
/// let dir = tempfile::tempdir()?;
/// let error = Workspace::find(dir.path()).unwrap_err();
/// assert!(matches!(error, Error::NoWorkspace { .. }));
/// assert!(error.to_string().contains("app.arc"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No workspace root from the starting directory up.
    #[error(
        "no workspace with an app.arc in {} or above it: expected a directory holding a Cargo.toml \
         with [workspace] and an app.arc (or pass --root DIR)",
        start.display()
    )]
    NoWorkspace {
        /// Where the search started.
        start: PathBuf,
    },
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// app.arc does not parse.
    #[error("{}: {source}", path.display())]
    Manifest {
        /// The app.arc.
        path: PathBuf,
        /// The parser's error, with its line.
        #[source]
        source: arc_manifest::Error,
    },
    /// A Cargo.toml is not valid TOML.
    #[error("{}: {source}", path.display())]
    Toml {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: Box<toml_edit::TomlError>,
    },
    /// `init` was pointed at a directory that holds something.
    #[error(
        "{} is not empty: `cargo arc init` makes a new app only in an empty or new directory",
        dir.display()
    )]
    NotEmpty {
        /// The directory.
        dir: PathBuf,
    },
    /// The command line is not one `cargo arc` understands.
    #[error("{0}\n\n{USAGE}")]
    Usage(String),
    /// `new` was given a method Architect doesn't know.
    #[error(
        "unknown HTTP method `{method}`: expected one of get, post, put, patch, delete, options, head, any"
    )]
    BadMethod {
        /// The method as given.
        method: String,
    },
    /// `new` was given a path that is not a valid route path.
    #[error("bad path `{path}`: {reason}")]
    BadPath {
        /// The path as given.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// `new` was asked for a route app.arc already declares.
    #[error("`{route}` is already in app.arc: nothing to add")]
    RouteExists {
        /// The route.
        route: String,
    },
    /// `new` was asked for a route whose function name another route already has.
    #[error(
        "`{route}` would be the function {function}, which `{other}` already is (Architect's \
         names turn `-` and `.` into `_`): pick another path"
    )]
    NameTaken {
        /// The route asked for.
        route: String,
        /// The route already declared.
        other: String,
        /// The name both map to.
        function: String,
    },
    /// `new` would scaffold into a folder that exists.
    #[error("{} already exists: move it away or declare its route in app.arc by hand", dir.display())]
    CrateExists {
        /// The folder.
        dir: PathBuf,
    },
    /// `sam` for functions built without an arc-functions feature the template's environment
    /// asks for: deployed, they would stop at cold start.
    #[error(
        "the functions are built without arc-functions' {} feature{}, which this template's functions need (ARC_APP_SECRET_ARN needs `secrets-manager`, SESSION_TABLE_NAME naming a table `dynamodb`, @ws in cookie mode `ws`): add `features = [{}]` to the arc-functions dependency (in [workspace.dependencies] or each function's Cargo.toml)",
        missing.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(" and "),
        if missing.len() == 1 { "" } else { "s" },
        missing.iter().map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(", ")
    )]
    Features {
        /// The features missing.
        missing: Vec<&'static str>,
    },
    /// `sam --dynamodb` on an app.arc without the session table.
    #[error(
        "--dynamodb needs the session table in app.arc: add `@tables` with `session`, \
         `_idx *String` and `_ttl TTL` (or leave out --dynamodb for cookie sessions)"
    )]
    NoSessionTable,
    /// `dev` needs a program that is missing and could not be installed.
    #[error("{tool} is needed and could not be installed: {reason}")]
    Tool {
        /// The program.
        tool: &'static str,
        /// What failed, and what to do.
        reason: String,
    },
    /// `dev`: the functions do not build.
    #[error(
        "the functions do not build (`cargo build` {status}): fix the errors above and run `cargo arc dev` again"
    )]
    Build {
        /// How `cargo build` ended.
        status: String,
    },
    /// `dev`: something it started could not start, or stopped by itself.
    #[error("{service}: {reason}")]
    Service {
        /// What was started.
        service: &'static str,
        /// What happened.
        reason: String,
    },
    /// A port flag or variable that is not a port number.
    #[error("{name}: expected a port number from 1 to 65535, found `{value}`")]
    Port {
        /// The flag or variable.
        name: String,
        /// The value as given.
        value: String,
    },
    /// `check` found differences; they were printed one per line.
    #[error("{0} difference(s) between app.arc, the watch router and the route crates")]
    Drift(usize),
}

const USAGE: &str = "usage: cargo arc [--root DIR] <command>

commands:
  init <dir> [--path CHECKOUT]
                              a new app in <dir> (arc-functions from crates.io, or a checkout)
  dev [--dynamodb] [--port N] [--ws-port N]
                              run the app here until Ctrl-C: watch on 127.0.0.1:PORT (9000),
                              the WebSocket API on localhost:WS_PORT (9001) with @ws, and with
                              --dynamodb a local DynamoDB holding every @tables table
  functions [--http | --ws]   print the name of every function app.arc declares, one a line
  check                       app.arc, the watch router and the route crates agree
  sync                        write the watch router in Cargo.toml from app.arc
  new <method> <path>         add a route to app.arc, scaffold its crate, sync the router
  new ws <route>              add a WebSocket route to app.arc's @ws and scaffold its crate
  sam [--dynamodb] [--arm64] [--output FILE]
                              write an AWS SAM template (cookie sessions, x86_64 by default)";

/// Runs `cargo arc` with `args` (without the program name; a leading `arc`, which cargo passes
/// to an installed subcommand, is skipped), reporting to `out`. Relative paths, and the search
/// for the workspace, start at `cwd`.
///
/// # Errors
///
/// Any [`Error`]; for `check`, [`Error::Drift`] after each difference was written to `out`.
///
/// # Examples
///
/// ```
/// let dir = tempfile::tempdir()?;
/// std::fs::write(dir.path().join("Cargo.toml"), "[workspace]\n")?;
/// std::fs::write(dir.path().join("app.arc"), "@app\nhello\n@http\nget /\n")?;
///
/// let mut out = Vec::new();
/// cargo_arc::run(["arc", "sync"], dir.path(), &mut out)?;
/// assert_eq!(String::from_utf8(out)?, "wrote the watch router in Cargo.toml from app.arc\n");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run<I, S>(args: I, cwd: &Path, out: &mut dyn Write) -> Result<(), Error>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut args: Vec<String> = args.into_iter().map(Into::into).collect();
    if args.first().is_some_and(|first| first == "arc") {
        args.remove(0);
    }
    let mut root = None;
    let mut rest = Vec::new();
    let mut iter = args.into_iter();
    while let Some(arg) = iter.next() {
        if arg == "--root" {
            let dir = iter
                .next()
                .ok_or_else(|| Error::Usage("--root needs a directory".into()))?;
            root = Some(cwd.join(dir));
        } else if let Some(dir) = arg.strip_prefix("--root=") {
            root = Some(cwd.join(dir));
        } else {
            rest.push(arg);
        }
    }
    let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
    let print = |out: &mut dyn Write, line: &str| -> Result<(), Error> {
        writeln!(out, "{line}").map_err(|source| Error::Io {
            path: "<stdout>".into(),
            source,
        })
    };
    let workspace = || Workspace::find(root.as_deref().unwrap_or(cwd));

    match rest.as_slice() {
        [] | ["help" | "--help" | "-h"] => print(out, USAGE),
        ["init", dir, flags @ ..] => {
            let library = match flags {
                [] => Library::Version(LIBRARY_VERSION.to_owned()),
                ["--path", checkout] => Library::Checkout(
                    std::path::absolute(cwd.join(checkout)).map_err(|source| Error::Io {
                        path: cwd.join(checkout),
                        source,
                    })?,
                ),
                _ => {
                    return Err(Error::Usage(
                        "init takes a directory and, optionally, --path to a checkout of arc-functions"
                            .into(),
                    ));
                }
            };
            let app = init(&cwd.join(dir), &library)?;
            print(
                out,
                &format!(
                    "made the app `{}` in {}: `cd` there and run `cargo arc dev`",
                    app.manifest()?.app,
                    app.root().display()
                ),
            )
        }
        ["init", ..] => Err(Error::Usage(
            "init takes the new app's directory, e.g. `cargo arc init notes`".into(),
        )),
        ["dev", flags @ ..] => {
            let options = DevOptions::parse(flags, |name| std::env::var(name).ok())?;
            dev(&workspace()?, &options, out)
        }
        ["functions", flags @ ..] => {
            let manifest = workspace()?.manifest()?;
            let http: Vec<String> = manifest.http.iter().map(|r| r.handler_name()).collect();
            let functions = match flags {
                [] => manifest.functions(),
                ["--http"] => http,
                ["--ws"] => manifest
                    .functions()
                    .into_iter()
                    .filter(|f| !http.contains(f))
                    .collect(),
                _ => {
                    return Err(Error::Usage(
                        "functions takes --http or --ws, or nothing for both".into(),
                    ));
                }
            };
            functions
                .iter()
                .try_for_each(|function| print(out, function))
        }
        ["check"] => {
            let drift = check(&workspace()?)?;
            for difference in &drift {
                print(out, &format!("- {difference}"))?;
            }
            if drift.is_empty() {
                print(out, "app.arc, the watch router and the route crates agree")
            } else {
                Err(Error::Drift(drift.len()))
            }
        }
        ["sync"] => match sync(&workspace()?)? {
            Synced::Updated => print(out, "wrote the watch router in Cargo.toml from app.arc"),
            Synced::Unchanged => print(out, "the watch router already matches app.arc"),
        },
        ["new", "ws", route] => {
            let created = new_ws_route(&workspace()?, route)?;
            let crates: Vec<String> = created
                .iter()
                .map(|c| c.dir.display().to_string())
                .collect();
            print(
                out,
                &format!(
                    "added `@ws {route}` to app.arc and scaffolded {}; fill in its handler in {}",
                    crates.join(", "),
                    created[0].dir.join("src/main.rs").display()
                ),
            )
        }
        ["new", "ws", ..] => Err(Error::Usage(
            "new ws takes a WebSocket route, e.g. `cargo arc new ws join`".into(),
        )),
        ["new", method, path] => {
            let created = new_route(&workspace()?, method, path)?;
            print(
                out,
                &format!(
                    "added `{}` to app.arc, scaffolded {} and synced the watch router; \
                     fill in its handler in {}",
                    created.route,
                    created.dir.display(),
                    created.dir.join("src/main.rs").display()
                ),
            )
        }
        ["new", ..] => Err(Error::Usage(
            "new takes a method and a path, e.g. `cargo arc new get /notes/:id`".into(),
        )),
        ["sam", flags @ ..] => {
            let mut options = SamOptions::default();
            let mut output = None;
            let mut flags = flags.iter();
            while let Some(flag) = flags.next() {
                match *flag {
                    "--dynamodb" => options.sessions = Sessions::DynamoDb,
                    "--arm64" => options.architecture = Architecture::Arm64,
                    "--output" | "-o" => {
                        let file = flags
                            .next()
                            .ok_or_else(|| Error::Usage("--output needs a file".into()))?;
                        output = Some(cwd.join(file));
                    }
                    other => {
                        return Err(Error::Usage(format!("unknown option for sam: `{other}`")));
                    }
                }
            }
            let workspace = workspace()?;
            let manifest = workspace.manifest()?;
            let template = sam_template(&manifest, &options)?;
            let needed = features::needed(options.sessions, manifest.ws.is_some());
            match features::check(&workspace, &needed) {
                Err(Error::Tool { reason, .. }) => {
                    // A template is still worth writing for a workspace cargo cannot read yet
                    // (its crates not written); the build will say what is wrong with it.
                    eprintln!("cargo arc: the functions' features were not checked: {reason}");
                }
                checked => checked?,
            }
            match output {
                Some(path) => workspace::write(&path, &template),
                None => out
                    .write_all(template.as_bytes())
                    .map_err(|source| Error::Io {
                        path: "<stdout>".into(),
                        source,
                    }),
            }
        }
        [command, ..] => Err(Error::Usage(format!("unknown command `{command}`"))),
    }
}
