//! `cargo arc dev [--dynamodb]`: any `app.arc` app on this machine, as strict as deployed.
//!
//! - The `@http` routes under `cargo lambda watch` on `http://127.0.0.1:PORT`.
//! - With `@ws`, API Gateway's WebSocket API (arc-ws-gateway, in this process) on
//!   `ws://localhost:WS_PORT`: another host name, as API Gateway serves the two APIs on two
//!   hosts, so the page's cookie never reaches the socket here either.
//! - With `--dynamodb`, dynalite (an in-memory DynamoDB) holding every `@tables` table, and
//!   sessions kept in `session`.
//! - Each function gets the environment a deployed one gets from `cargo arc sam`'s template:
//!   `ARC_ENV` (`testing`, as Architect's sandbox), `SESSION_TABLE_NAME`, and `ARC_WSS_URL`
//!   with `@ws`.
//!
//! cargo-lambda (PyPI) and dynalite (npm, into the app's `.tools/`) are installed when
//! missing. Ctrl-C or SIGTERM stops everything it started; a second one stops it at once.

mod process;
mod tools;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use arc_manifest::{KeyType, Manifest, Table};
use arc_ws_gateway::Routes;
use arc_ws_gateway::config::Command as GatewayCommand;
use serde_json::json;
use tokio::signal::unix::{Signal, SignalKind, signal};

pub use tools::{CARGO_LAMBDA_VERSION, DYNALITE_VERSION};

use crate::{Error, Workspace, check};
use process::Tree;

/// The HTTP port when neither `--port` nor `PORT` is given.
pub const DEFAULT_PORT: u16 = 9000;
/// The WebSocket port when neither `--ws-port` nor `WS_PORT` is given.
pub const DEFAULT_WS_PORT: u16 = 9001;

/// How long the gateway's `$disconnect`s, then watch and its functions, may take to stop.
const GRACE: Duration = Duration::from_secs(10);

/// What `cargo arc dev` is asked for.
///
/// # Examples
///
/// ```
/// use cargo_arc::DevOptions;
///
/// let vars = |name: &str| (name == "WS_PORT").then(|| "9101".to_owned());
/// let options = DevOptions::parse(&["--dynamodb", "--port", "9100"], vars)?;
/// assert_eq!(options, DevOptions { dynamodb: true, port: 9100, ws_port: 9101 });
///
/// assert!(DevOptions::parse(&["--port", "http"], |_| None).is_err());
/// # Ok::<(), cargo_arc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DevOptions {
    /// Sessions, and every `@tables` table, in a local DynamoDB rather than sessions sealed in
    /// the cookie (`--dynamodb`).
    pub dynamodb: bool,
    /// The HTTP port on 127.0.0.1 (`--port`, else `PORT`, else 9000).
    pub port: u16,
    /// The WebSocket port on 127.0.0.1, opened as `localhost` (`--ws-port`, else `WS_PORT`,
    /// else 9001).
    pub ws_port: u16,
}

impl DevOptions {
    /// Reads `dev`'s flags, and `PORT` and `WS_PORT` through `vars` where no flag gives them.
    ///
    /// # Errors
    ///
    /// [`Error::Usage`] for an unknown flag or one without its value, [`Error::Port`] for a
    /// port that is not a number from 1 to 65535.
    pub fn parse(flags: &[&str], vars: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let mut dynamodb = false;
        let (mut port, mut ws_port) = (None, None);
        let mut flags = flags.iter();
        while let Some(&flag) = flags.next() {
            let slot = match flag {
                "--dynamodb" => {
                    dynamodb = true;
                    continue;
                }
                "--port" => &mut port,
                "--ws-port" => &mut ws_port,
                other => return Err(Error::Usage(format!("unknown option for dev: `{other}`"))),
            };
            let value = flags
                .next()
                .ok_or_else(|| Error::Usage(format!("{flag} needs a port number")))?;
            *slot = Some(parse_port(flag, value)?);
        }
        let from_var = |name: &'static str, default| match vars(name) {
            Some(value) => parse_port(name, &value),
            None => Ok(default),
        };
        Ok(Self {
            dynamodb,
            port: port.map_or_else(|| from_var("PORT", DEFAULT_PORT), Ok)?,
            ws_port: ws_port.map_or_else(|| from_var("WS_PORT", DEFAULT_WS_PORT), Ok)?,
        })
    }
}

fn parse_port(name: &str, value: &str) -> Result<u16, Error> {
    match value.parse::<u16>() {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(Error::Port {
            name: name.to_owned(),
            value: value.to_owned(),
        }),
    }
}

/// What `cargo arc dev` starts for an app, worked out before anything starts.
///
/// # Examples
///
/// ```
/// use arc_manifest::Manifest;
/// use cargo_arc::{DevOptions, plan};
///
/// let manifest = Manifest::parse("@app\nnotes\n@http\nget /\n@ws\n@tables\nsession\n  _idx *String\n  _ttl TTL\n")?;
/// let options = DevOptions { dynamodb: true, port: 9000, ws_port: 9001 };
/// let dynamodb = plan(&manifest, &options)?;
/// assert_eq!(dynamodb.functions, ["get-index", "ws-connect", "ws-disconnect", "ws-default"]);
/// assert_eq!(dynamodb.env["SESSION_TABLE_NAME"], "notes-session");
/// assert_eq!(dynamodb.env["ARC_WSS_URL"], "ws://localhost:9001");
/// assert_eq!(dynamodb.tables.len(), 1);
///
/// // Cookie sessions need no table, and no DynamoDB is started.
/// let cookie = plan(&manifest, &DevOptions { dynamodb: false, ..options })?;
/// assert_eq!((cookie.env["SESSION_TABLE_NAME"].as_str(), cookie.tables.len()), ("jwe", 0));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Every `@http` and `@ws` function, built before watch starts so that compile errors show
    /// at once and the first request does not wait on a build.
    pub functions: Vec<String>,
    /// With `--dynamodb`, each `@tables` table's name, `<app>-<table>`, and the body of the
    /// DynamoDB CreateTable request that makes it.
    pub tables: Vec<(String, String)>,
    /// What every function gets in its environment: with `--dynamodb`, each table's name
    /// beside the session table's (`users` in `USERS_TABLE_NAME`).
    pub env: BTreeMap<String, String>,
    /// Where the app's pages are.
    pub url: String,
}

/// Works out what `cargo arc dev` starts for `manifest`.
///
/// # Errors
///
/// [`Error::NoSessionTable`] for `--dynamodb` on an app without the `session` table.
///
/// # Examples
///
/// See [`Plan`].
pub fn plan(manifest: &Manifest, options: &DevOptions) -> Result<Plan, Error> {
    let functions = manifest.functions();
    let mut env = BTreeMap::from([("ARC_ENV".to_owned(), "testing".to_owned())]);
    if manifest.ws.is_some() {
        env.insert(
            "ARC_WSS_URL".into(),
            format!("ws://localhost:{}", options.ws_port),
        );
    }
    let physical = |table: &Table| format!("{}-{}", manifest.app, table.name);
    let tables = if options.dynamodb {
        let session = manifest.table("session").ok_or(Error::NoSessionTable)?;
        env.insert("SESSION_TABLE_NAME".into(), physical(session));
        manifest
            .tables
            .iter()
            .map(|table| {
                let name = physical(table);
                if table.name != "session" {
                    env.insert(table_variable(&table.name), name.clone());
                }
                let create = create_table(&name, table);
                (name, create)
            })
            .collect()
    } else {
        env.insert("SESSION_TABLE_NAME".into(), "jwe".to_owned());
        Vec::new()
    };
    Ok(Plan {
        functions,
        tables,
        env,
        url: format!("http://127.0.0.1:{}/", options.port),
    })
}

/// The variable naming the table `name` to the functions, as `SESSION_TABLE_NAME` names the
/// session table: `users` → `USERS_TABLE_NAME`.
pub(crate) fn table_variable(name: &str) -> String {
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}_TABLE_NAME")
}

/// The CreateTable request for `table` under `name`.
fn create_table(name: &str, table: &Table) -> String {
    let kind = |kind: KeyType| match kind {
        KeyType::String => "S",
        KeyType::Number => "N",
    };
    let mut attributes = vec![json!({
        "AttributeName": table.partition_key.name,
        "AttributeType": kind(table.partition_key.kind),
    })];
    let mut schema = vec![json!({ "AttributeName": table.partition_key.name, "KeyType": "HASH" })];
    if let Some(sort) = &table.sort_key {
        attributes.push(json!({ "AttributeName": sort.name, "AttributeType": kind(sort.kind) }));
        schema.push(json!({ "AttributeName": sort.name, "KeyType": "RANGE" }));
    }
    json!({
        "TableName": name,
        "AttributeDefinitions": attributes,
        "KeySchema": schema,
        "BillingMode": "PAY_PER_REQUEST",
    })
    .to_string()
}

/// Runs `workspace`'s app until Ctrl-C or SIGTERM: `cargo lambda watch` for `@http` on
/// `127.0.0.1`, the WebSocket API for `@ws` on `localhost` (another host name, as deployed), with
/// `--dynamodb` dynalite holding every `@tables` table, and each function given what [`plan`]
/// says. cargo-lambda and dynalite are installed when missing. The first signal stops the
/// gateway, then watch and its functions, then dynalite; a second kills them at once.
///
/// # Errors
///
/// [`Error::Drift`] when app.arc and the crates disagree (each difference printed first),
/// [`Error::NoSessionTable`], [`Error::Tool`] when cargo-lambda or dynalite is missing and
/// cannot be installed, [`Error::Build`] when the functions do not build, [`Error::Service`]
/// when a port is taken or watch or dynalite stops by itself.
pub fn dev(workspace: &Workspace, options: &DevOptions, out: &mut dyn Write) -> Result<(), Error> {
    let mut say = |line: &str| {
        // Nowhere left to report a failed write to the terminal.
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    };
    let drift = check(workspace)?;
    for difference in &drift {
        say(&format!("- {difference}"));
    }
    if !drift.is_empty() {
        return Err(Error::Drift(drift.len()));
    }
    let manifest = workspace.manifest()?;
    let plan = plan(&manifest, options)?;
    // watch neither says nor exits non-zero when its port is taken, and whatever holds the port
    // would answer for it: find out first.
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, options.port)).map_err(|error| {
        Error::Service {
            service: "cargo lambda watch",
            reason: format!(
                "cannot listen on 127.0.0.1:{}: {error} (pick another with --port or PORT)",
                options.port
            ),
        }
    })?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
    tools::ensure_cargo_lambda(&cargo, &mut say)?;
    let tools_dir = workspace.root().join(".tools");
    if options.dynamodb {
        tools::ensure_dynalite(&tools_dir, &mut say)?;
    }
    build(&cargo, workspace.root(), &plan.functions)?;

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| Error::Io {
            path: "<tokio runtime>".into(),
            source,
        })?;
    runtime.block_on(async {
        let mut signals = Signals::new()?;
        let mut started = Started::default();
        let result = serve(
            Context {
                root: workspace.root(),
                manifest: &manifest,
                plan: &plan,
                options,
                cargo: &cargo,
                tools: &tools_dir,
            },
            &mut started,
            &mut signals,
            &mut say,
        )
        .await;
        tokio::select! {
            () = started.stop() => {}
            () = signals.next() => started.kill().await,
        }
        result
    })
}

/// `cargo build --bin` of each function, output passed through.
fn build(cargo: &OsString, root: &Path, functions: &[String]) -> Result<(), Error> {
    let mut command = Command::new(cargo);
    command.arg("build").current_dir(root).stdin(Stdio::null());
    for function in functions {
        command.args(["--bin", function]);
    }
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(Error::Build {
            status: status.to_string(),
        }),
        Err(error) => Err(Error::Build {
            status: format!("could not run: {error}"),
        }),
    }
}

/// What [`serve`] works from.
struct Context<'a> {
    root: &'a Path,
    manifest: &'a Manifest,
    plan: &'a Plan,
    options: &'a DevOptions,
    cargo: &'a OsString,
    tools: &'a Path,
}

/// Everything started so far, stopped in the reverse order.
#[derive(Default)]
struct Started {
    dynalite: Option<Tree>,
    watch: Option<Tree>,
    gateway: Option<(
        tokio::sync::oneshot::Sender<()>,
        tokio::task::JoinHandle<std::io::Result<()>>,
    )>,
}

impl Started {
    /// The gateway first (its `$disconnect`s go through watch), then watch, then dynalite.
    async fn stop(&mut self) {
        if let Some((stop, serving)) = self.gateway.take() {
            let _ = stop.send(());
            let _ = tokio::time::timeout(GRACE, serving).await;
        }
        for tree in [&mut self.watch, &mut self.dynalite].into_iter().flatten() {
            tree.stop(GRACE).await;
        }
    }

    async fn kill(&mut self) {
        if let Some((_, serving)) = self.gateway.take() {
            serving.abort();
        }
        for tree in [&mut self.watch, &mut self.dynalite].into_iter().flatten() {
            tree.kill().await;
        }
    }
}

/// SIGINT (Ctrl-C) and SIGTERM.
struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    fn new() -> Result<Self, Error> {
        let listen = |kind| {
            signal(kind).map_err(|source| Error::Io {
                path: "<signal handler>".into(),
                source,
            })
        };
        Ok(Self {
            interrupt: listen(SignalKind::interrupt())?,
            terminate: listen(SignalKind::terminate())?,
        })
    }

    async fn next(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

/// Starts dynalite, the gateway and watch, says where the app is, and waits for a signal.
async fn serve(
    context: Context<'_>,
    started: &mut Started,
    signals: &mut Signals,
    say: &mut dyn FnMut(&str),
) -> Result<(), Error> {
    let Context {
        root,
        manifest,
        plan,
        options,
        cargo,
        tools,
    } = context;
    let mut env: Vec<(String, String)> = plan
        .env
        .iter()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    // A local DynamoDB and the gateway check no signature, but the AWS SDK will not sign a
    // request without credentials and a region.
    for (name, default) in [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "local"),
        ("AWS_SECRET_ACCESS_KEY", "local"),
    ] {
        if std::env::var_os(name).is_none() {
            env.push((name.to_owned(), default.to_owned()));
        }
    }
    let mut where_ = vec![];

    if options.dynamodb {
        let create: Vec<String> = plan.tables.iter().map(|(_, c)| c.clone()).collect();
        let (dynalite, port) = tokio::select! {
            started = tools::start_dynalite(tools, &create) => started?,
            () = signals.next() => return Ok(()),
        };
        started.dynalite = Some(dynalite);
        let endpoint = format!("http://127.0.0.1:{port}");
        let names: Vec<&str> = plan.tables.iter().map(|(name, _)| name.as_str()).collect();
        where_.push(format!("DynamoDB: {endpoint}, tables {}", names.join(", ")));
        env.push(("AWS_ENDPOINT_URL_DYNAMODB".to_owned(), endpoint));
    }

    if let (Some(routes), Some(url)) =
        (Routes::from_manifest(manifest), plan.env.get("ARC_WSS_URL"))
    {
        start_gateway(root, routes, options, started).await?;
        where_.push(format!("WebSockets: {url}"));
    }

    let mut watch = Command::new(cargo);
    watch
        .args(["lambda", "watch", "--invoke-address", "127.0.0.1"])
        .args(["--invoke-port", &options.port.to_string()])
        .current_dir(root)
        .stdin(Stdio::null())
        // The alias would contradict SESSION_TABLE_NAME.
        .env_remove("ARC_SESSION_TABLE_NAME")
        .envs(env);
    let watch = started
        .watch
        .insert(Tree::spawn(watch).map_err(|error| Error::Service {
            service: "cargo lambda watch",
            reason: format!("could not start: {error}"),
        })?);

    let announce = async {
        let port = options.port;
        while tokio::net::TcpStream::connect((Ipv4Addr::LOCALHOST, port))
            .await
            .is_err()
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        where_.push("Ctrl-C stops".to_owned());
        say(&format!("open {} ({})", plan.url, where_.join("; ")));
        std::future::pending::<()>().await;
    };
    let dynalite_exit = async {
        match started.dynalite.as_mut() {
            Some(dynalite) => dynalite.wait().await,
            None => std::future::pending().await,
        }
    };
    tokio::select! {
        () = signals.next() => Ok(()),
        () = announce => Ok(()),
        status = watch.wait() => Err(Error::Service {
            service: "cargo lambda watch",
            reason: format!("stopped by itself ({}); its output is above", exit(status)),
        }),
        status = dynalite_exit => Err(Error::Service {
            service: "dynalite",
            reason: format!("stopped by itself ({})", exit(status)),
        }),
    }
}

fn exit(status: std::io::Result<std::process::ExitStatus>) -> String {
    match status {
        Ok(status) => status.to_string(),
        Err(error) => error.to_string(),
    }
}

/// The WebSocket gateway on `options.ws_port`, invoking through watch, configured as the
/// `arc-ws-gateway` binary is (`WS_ORIGINS`, `WS_IDLE_TIMEOUT`, `WS_MAX_LIFETIME`).
async fn start_gateway(
    root: &Path,
    routes: Routes,
    options: &DevOptions,
    started: &mut Started,
) -> Result<(), Error> {
    let failed = |reason: String| Error::Service {
        service: "the WebSocket gateway",
        reason,
    };
    let mut vars: Vec<(OsString, OsString)> = ["WS_ORIGINS", "WS_IDLE_TIMEOUT", "WS_MAX_LIFETIME"]
        .into_iter()
        .filter_map(|name| Some((name.into(), std::env::var_os(name)?)))
        .collect();
    vars.push(("WS_PORT".into(), options.ws_port.to_string().into()));
    let invoke_url = format!("http://127.0.0.1:{}", options.port);
    let GatewayCommand::Serve(config) = GatewayCommand::parse(
        [
            OsString::from("--invoke-url"),
            invoke_url.into(),
            "--arc".into(),
            root.join("app.arc").into(),
        ],
        vars,
    )
    .map_err(|error| failed(error.to_string()))?
    else {
        return Err(failed("asked for its help, not to serve".into()));
    };
    let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
        .await
        .map_err(|error| {
            failed(format!(
                "cannot listen on 127.0.0.1:{}: {error} (pick another with --ws-port or WS_PORT)",
                config.port
            ))
        })?;
    // The gateway logs each connection and invocation, as the binary does.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
    let gateway = arc_ws_gateway::Gateway::new(routes, config.invoke_url)
        .origins(&config.origins)
        .idle_timeout(config.idle_timeout)
        .max_lifetime(config.max_lifetime);
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let serving = tokio::spawn(gateway.serve(listener, async {
        let _ = stopped.await;
    }));
    started.gateway = Some((stop, serving));
    Ok(())
}

#[cfg(test)]
mod tests;
