//! Cold start of a real route binary: a bad configuration stops it with a message naming the
//! variable; a good one reaches the Lambda Runtime API's first `next` poll.

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "a startup-test secret of 32+ bytes";

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
}

/// `get-index`, built like `cargo lambda watch` builds it (`--bin` without `-p`).
fn binary() -> PathBuf {
    binary_named("get-index")
}

/// The binary `name`, built like `cargo lambda watch` builds it.
fn binary_named(name: &str) -> PathBuf {
    built(&["--bin", name], name)
}

/// The binary `name` of the package that `selection` selects, built with `cargo build`: with
/// `--bin` alone every package of the workspace is selected and gives arc-functions its
/// features; with `-p` only the package's own.
fn built(selection: &[&str], name: &str) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .arg("build")
        .args(selection)
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .status()
        .expect("cargo build");
    assert!(status.success(), "building {name} failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug").join(name)
}

/// The binary with only `vars` and what the Lambda runtime sets, polling `runtime_api`.
fn function(vars: &[(&str, &str)], runtime_api: &str) -> Command {
    let mut command = Command::new(binary());
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "get-index")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .envs(vars.iter().copied())
        .stdin(Stdio::null());
    command
}

/// Runs the binary against a runtime API address nobody answers on, waiting at most ten
/// seconds for it to exit.
fn start(vars: &[(&str, &str)], runtime_api: &str) -> Output {
    exit_of(function(vars, runtime_api))
}

/// What `command` printed and how it ended, waiting at most ten seconds for it to exit.
fn exit_of(mut command: Command) -> Output {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the binary did not exit within ten seconds");
}

fn refused(vars: &[(&str, &str)], variable: &str) {
    let out = start(vars, "127.0.0.1:9");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{vars:?}: {stderr}");
    assert!(stderr.contains("cannot start"), "{stderr}");
    assert!(
        stderr.contains(variable),
        "{vars:?} must name {variable}: {stderr}"
    );
}

#[test]
fn bad_configuration_stops_the_function_naming_the_variable() {
    refused(&[("ARC_ENV", "production")], "ARC_APP_SECRET");
    refused(
        &[("ARC_ENV", "staging"), ("ARC_APP_SECRET", "short")],
        "ARC_APP_SECRET",
    );
    refused(
        &[(
            "ARC_APP_SECRET",
            "arc-functions development secret: never use in production",
        )],
        "public development secret",
    );
    refused(&[("ARC_ENV", "prod")], "ARC_ENV");
    refused(
        &[("ARC_ENV", "testing"), ("ARC_SESSION_TTL", "a week")],
        "ARC_SESSION_TTL",
    );
    refused(
        &[
            ("ARC_ENV", "testing"),
            ("ARC_SESSION_SAME_SITE", "sometimes"),
        ],
        "ARC_SESSION_SAME_SITE",
    );
    refused(
        &[("ARC_ENV", "testing"), ("ARC_SESSION_SAME_SITE", "None")],
        "ARC_SESSION_SAME_SITE",
    );
}

/// The login example throttles sign-ins in DynamoDB: with sessions in the cookie and no
/// `ARC_THROTTLE_TABLE_NAME`, it stops at cold start saying what to set.
#[test]
fn a_throttle_without_a_table_stops_the_function_naming_the_variable() {
    let mut login = Command::new(binary_named("login"));
    login
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_FUNCTION_NAME", "login")
        .env("ARC_ENV", "testing")
        .stdin(Stdio::null());
    let out = exit_of(login);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("cannot start") && stderr.contains("ARC_THROTTLE_TABLE_NAME"),
        "{stderr}"
    );
}

/// get-index built with arc-functions' default features (`bench/cookie-route` without its own
/// default feature, built on its own so cargo gives it no other package's features) is a
/// cookie-mode route: asked for what it was built without, it stops at cold start naming the
/// feature to add, rather than serve sessions another way.
#[test]
fn a_route_built_without_a_feature_stops_when_asked_for_it_naming_the_feature() {
    let cookie_route = built(
        &["-p", "cookie-route", "--no-default-features"],
        "get-index-cookie",
    );
    let lambda = [
        ("AWS_LAMBDA_FUNCTION_NAME", "get-index"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
        ("ARC_ENV", "testing"),
    ];
    for (variable, feature) in [
        ("SESSION_TABLE_NAME", "dynamodb"),
        ("ARC_APP_SECRET_ARN", "secrets-manager"),
    ] {
        let mut command = Command::new(&cookie_route);
        command
            .env_clear()
            .envs(lambda)
            .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
            .env(variable, "bigsesh-session")
            .stdin(Stdio::null());
        let out = exit_of(command);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{variable}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{variable} is set, but this function was built without arc-functions' `{feature}` feature"
            )) && stderr.contains(&format!("features = [\"{feature}\"]")),
            "{variable}: {stderr}"
        );
    }
    // The same build with neither variable is a working cookie-mode route: it polls.
    let api = TcpListener::bind("127.0.0.1:0").expect("listen");
    let mut command = Command::new(&cookie_route);
    command
        .env_clear()
        .envs(lambda)
        .env(
            "AWS_LAMBDA_RUNTIME_API",
            api.local_addr().expect("addr").to_string(),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = command.spawn().expect("the cookie route starts");
    let mut poll = accept_within(&api);
    let mut request = [0u8; 256];
    let read = poll.read(&mut request).expect("the first poll");
    stop(child);
    assert!(
        String::from_utf8_lossy(&request[..read]).contains("/invocation/next"),
        "{}",
        String::from_utf8_lossy(&request[..read])
    );
}

/// The log subscriber every route installs reads Lambda's advanced logging controls: the error
/// that stops a badly configured function is a JSON line with `AWS_LAMBDA_LOG_FORMAT=JSON`, a
/// text line without, and nothing with `AWS_LAMBDA_LOG_LEVEL=OFF`.
#[test]
fn the_log_follows_lambdas_log_format_and_level() {
    let bad = [("ARC_ENV", "prod")];
    let stdout = |extra: &[(&str, &str)]| {
        let vars: Vec<(&str, &str)> = bad.iter().chain(extra).copied().collect();
        let out = start(&vars, "127.0.0.1:9");
        assert_eq!(out.status.code(), Some(1));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    let text = stdout(&[]);
    assert!(
        text.contains("ERROR") && text.contains("ARC_ENV is \"prod\""),
        "{text}"
    );
    assert!(!text.trim_start().starts_with('{'), "{text}");

    let json = stdout(&[("AWS_LAMBDA_LOG_FORMAT", "JSON")]);
    let line: serde_json::Value = serde_json::from_str(json.lines().next().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{e}: {json}"));
    assert_eq!(line["level"], "ERROR", "{json}");
    assert!(
        line["fields"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("ARC_ENV")),
        "{json}"
    );

    let silent = stdout(&[("AWS_LAMBDA_LOG_LEVEL", "OFF"), ("RUST_LOG", "trace")]);
    assert_eq!(silent, "", "AWS_LAMBDA_LOG_LEVEL wins over RUST_LOG");
}

/// Exactly what Lambda gives a `provided.al2023` function: its own variables, no ARC_ENV, no
/// secret. The function must stop at once, naming the secret, before it asks for an event.
#[test]
fn with_only_lambdas_own_variables_the_function_never_polls() {
    let api = TcpListener::bind("127.0.0.1:0").expect("bind");
    api.set_nonblocking(true).expect("nonblocking");
    let address = api.local_addr().expect("address").to_string();
    let lambda = [
        ("AWS_LAMBDA_FUNCTION_NAME", "get-index"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/get-index"),
        (
            "AWS_LAMBDA_LOG_STREAM_NAME",
            "2026/11/27/[$LATEST]0123456789abcdef",
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("LAMBDA_TASK_ROOT", "/var/task"),
        ("LAMBDA_RUNTIME_DIR", "/var/runtime"),
        ("TZ", ":UTC"),
    ];
    let out = start(&lambda, &address);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("ARC_APP_SECRET"), "{stderr}");
    assert!(stderr.contains("ARC_ENV"), "{stderr}");
    match api.accept() {
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
        Ok((_, from)) => panic!("the function polled the runtime API from {from}"),
        Err(e) => panic!("accept: {e}"),
    }
}

#[test]
fn good_configuration_polls_the_runtime_api() {
    for vars in [
        // testing without a secret: the development secret, with a warning.
        &[("ARC_ENV", "testing")][..],
        &[("ARC_ENV", "production"), ("ARC_APP_SECRET", SECRET)][..],
        // An unset ARC_ENV is production: a real secret is all it needs.
        &[("ARC_APP_SECRET", SECRET)][..],
    ] {
        let (child, line) = first_poll(vars);
        let out = stop(child);
        assert!(
            line.starts_with("GET /2018-06-01/runtime/invocation/next"),
            "{vars:?}: {line}"
        );
        // The development secret is announced in the log, once; a real secret is not.
        let log = String::from_utf8_lossy(&out.stdout);
        let warnings = log.matches("ARC_APP_SECRET is not set").count();
        let development = !vars.iter().any(|(k, _)| *k == "ARC_APP_SECRET");
        assert_eq!(warnings, usize::from(development), "{vars:?}: {log}");
    }
}

/// Starts the binary with `vars` against a runtime API of the test's, and returns it with the
/// first request it made there, once made (its stdout captured, for [`stop`]).
fn first_poll(vars: &[(&str, &str)]) -> (std::process::Child, String) {
    let api = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = api.local_addr().expect("address").to_string();
    let child = function(vars, &address)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the route binary starts");
    let mut conn = accept_within(&api);
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let mut request = [0u8; 256];
    let n = conn.read(&mut request).expect("a request");
    (child, String::from_utf8_lossy(&request[..n]).into_owned())
}

/// Kills the binary and returns what it wrote.
fn stop(mut child: std::process::Child) -> Output {
    let _ = child.kill();
    child.wait_with_output().expect("output")
}

/// The first connection to `api` within ten seconds: a binary that never polls fails the test
/// instead of hanging it.
fn accept_within(api: &TcpListener) -> std::net::TcpStream {
    api.set_nonblocking(true).expect("nonblocking");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match api.accept() {
            Ok((conn, _)) => {
                conn.set_nonblocking(false).expect("blocking");
                return conn;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("the function did not poll the runtime API: {e}"),
        }
    }
}

/// The threads of a process, from `/proc` (Linux, as Lambda).
fn threads(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("a Threads line")
}

/// One invocation at a time (classic Lambda) is served from the main thread alone; with
/// `AWS_LAMBDA_MAX_CONCURRENCY` above 1 (Managed Instances) there are worker threads to share
/// the cores. Counted while the function waits for its first event.
#[test]
fn the_runtime_has_worker_threads_only_when_invocations_are_concurrent() {
    for (concurrency, concurrent) in [(None, false), (Some("1"), false), (Some("4"), true)] {
        let mut vars = vec![("ARC_ENV", "testing")];
        vars.extend(concurrency.map(|n| ("AWS_LAMBDA_MAX_CONCURRENCY", n)));
        let (child, line) = first_poll(&vars);
        let count = threads(child.id());
        stop(child);
        assert!(
            line.starts_with("GET /2018-06-01/runtime/invocation/next"),
            "{concurrency:?}: {line}"
        );
        if concurrent {
            assert!(count > 1, "{concurrency:?}: {count} thread(s)");
        } else {
            assert_eq!(count, 1, "{concurrency:?}");
        }
    }
}
