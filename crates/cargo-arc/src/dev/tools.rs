//! The programs `cargo arc dev` runs, installed from the package registries when missing, and
//! the local DynamoDB.

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};

use super::process::Tree;
use crate::Error;

/// The cargo-lambda `cargo arc dev` installs from PyPI when `cargo lambda` is missing: the
/// version its router syntax was checked against.
pub const CARGO_LAMBDA_VERSION: &str = "1.9.2";

/// The dynalite (an in-memory DynamoDB, from npm) `cargo arc dev --dynamodb` installs into the
/// app's `.tools/` when missing.
pub const DYNALITE_VERSION: &str = "4.0.0";

/// Starts dynalite and creates the tables; written into `.tools/` beside its `node_modules`.
const DYNALITE_JS: &str = include_str!("dynalite.js");

/// How long dynalite may take to listen and create the tables.
const DYNALITE_START: Duration = Duration::from_secs(60);

/// `cargo lambda`, installed from PyPI (whose package ships the prebuilt binary) when missing.
pub(super) fn ensure_cargo_lambda(cargo: &OsStr, out: &mut dyn FnMut(&str)) -> Result<(), Error> {
    let works = || {
        Command::new(cargo)
            .args(["lambda", "--version"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    };
    if works() {
        return Ok(());
    }
    out(&format!(
        "installing cargo-lambda {CARGO_LAMBDA_VERSION} from PyPI"
    ));
    let tool = |reason: String| Error::Tool {
        tool: "cargo-lambda",
        reason: format!("{reason}; install it with `pip install cargo-lambda` and try again"),
    };
    run(Command::new("python3").args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        &format!("cargo-lambda=={CARGO_LAMBDA_VERSION}"),
    ]))
    .map_err(tool)?;
    // pyenv only exposes a new console script after a rehash; without pyenv there is nothing
    // to do, so its absence is no error.
    let _ = Command::new("pyenv")
        .arg("rehash")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if works() {
        Ok(())
    } else {
        Err(tool(
            "pip installed it, but `cargo lambda --version` still fails (is pip's bin directory on PATH?)".into(),
        ))
    }
}

/// dynalite in `tools/node_modules`, installed from npm when missing.
pub(super) fn ensure_dynalite(tools: &Path, out: &mut dyn FnMut(&str)) -> Result<(), Error> {
    if tools.join("node_modules/dynalite/package.json").is_file() {
        return Ok(());
    }
    out(&format!(
        "installing dynalite {DYNALITE_VERSION} from npm into {}",
        tools.display()
    ));
    std::fs::create_dir_all(tools).map_err(|source| Error::Io {
        path: tools.to_owned(),
        source,
    })?;
    run(Command::new("npm")
        .arg("install")
        .arg("--prefix")
        .arg(tools)
        .args(["--no-audit", "--no-fund", "--loglevel=error"])
        .arg(format!("dynalite@{DYNALITE_VERSION}")))
    .map_err(|reason| Error::Tool {
        tool: "dynalite",
        reason: format!("{reason}; `cargo arc dev --dynamodb` needs Node 20+ and npm"),
    })
}

/// Runs `command` to completion, its output passed through; the failure said in a sentence.
fn run(command: &mut Command) -> Result<(), String> {
    let program = command.get_program().to_string_lossy().into_owned();
    match command.stdin(Stdio::null()).status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("`{program}` failed ({status})")),
        Err(error) => Err(format!("`{program}` could not run: {error}")),
    }
}

/// Starts dynalite on a free loopback port with `tables` (CreateTable request bodies) created;
/// returns it and its port once the tables exist.
pub(super) async fn start_dynalite(tools: &Path, tables: &[String]) -> Result<(Tree, u16), Error> {
    let script = tools.join("dynalite.js");
    if std::fs::read_to_string(&script).ok().as_deref() != Some(DYNALITE_JS) {
        crate::workspace::write(&script, DYNALITE_JS)?;
    }
    let failed = |reason: String| Error::Service {
        service: "dynalite",
        reason,
    };
    let mut command = Command::new("node");
    command
        .arg(&script)
        .args(tables)
        .env("NODE_PATH", tools.join("node_modules"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    let mut dynalite =
        Tree::spawn(command).map_err(|e| failed(format!("node could not run: {e}")))?;
    let stdout = dynalite
        .take_stdout()
        .ok_or_else(|| failed("no output to read".into()))?;
    let mut lines = BufReader::new(stdout).lines();
    let ready = async {
        while let Some(line) = lines.next_line().await? {
            if let Some(port) = line.strip_prefix("READY ").and_then(|p| p.parse().ok()) {
                return Ok(Some(port));
            }
        }
        Ok::<_, std::io::Error>(None)
    };
    let port = match tokio::time::timeout(DYNALITE_START, ready).await {
        Ok(Ok(Some(port))) => port,
        Ok(Ok(None)) => {
            return Err(failed(
                "exited before it was ready (its error is above)".into(),
            ));
        }
        Ok(Err(error)) => return Err(failed(format!("reading its output: {error}"))),
        Err(_) => {
            dynalite.kill().await;
            return Err(failed(format!(
                "not ready after {}s",
                DYNALITE_START.as_secs()
            )));
        }
    };
    // Nothing more is printed, but a closed pipe would fail a later write.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok((dynalite, port))
}
