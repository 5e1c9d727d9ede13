//! `cargo arc dev` and `scripts/run` as a developer starts them.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Once,
    thread,
    time::{Duration, Instant},
};

use super::{
    OneAppAtATime, ProcessTree, STARTUP_TIMEOUT, cargo_build, free_port, target_dir, tmp_dir,
    workspace_root,
};

/// The app at `root` run by `cargo arc dev` with `args` on free ports, its functions built into
/// `target` when given; stopped with everything it started on drop.
#[allow(dead_code, reason = "dev.rs and init.rs only")]
pub(crate) struct Dev {
    /// `http://127.0.0.1:<port>`.
    pub(crate) base: String,
    /// `ws://localhost:<port>`.
    pub(crate) ws_base: String,
    pub(crate) process: ProcessTree,
    _one: OneAppAtATime,
}

#[allow(dead_code, reason = "dev.rs and init.rs only")]
impl Dev {
    /// Starts `cargo arc dev` with `args` in `root` and waits until it says where the app is;
    /// its output goes to `target/tmp/dev-<label>.log`.
    pub(crate) fn start(root: &Path, target: Option<&Path>, args: &[&str], label: &str) -> Self {
        let mut command = Command::new(cargo_arc());
        command.arg("dev").args(args).current_dir(root);
        if let Some(target) = target {
            command.env("CARGO_TARGET_DIR", target);
        }
        Self::launch(command, label)
    }

    /// `scripts/run` with `args`, as the README has a developer run it.
    pub(crate) fn scripts_run(args: &[&str], label: &str) -> Self {
        let mut command = Command::new("bash");
        command
            .arg(workspace_root().join("scripts/run"))
            .args(args)
            .current_dir(workspace_root());
        Self::launch(command, label)
    }

    /// Runs `command` with free ports in `PORT` and `WS_PORT` until it says where the app is.
    fn launch(mut command: Command, label: &str) -> Self {
        let one = OneAppAtATime::lock();
        let (port, ws_port) = (free_port(), free_port());
        let log = tmp_dir().join(format!("dev-{label}.log"));
        let log_file = File::create(&log).expect("create the dev log");
        command
            .env("PORT", port.to_string())
            .env("WS_PORT", ws_port.to_string())
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("share the dev log"))
            .stderr(log_file);
        // What the developer's shell may hold must not reach the functions.
        for key in [
            "ARC_SESSION_TTL",
            "ARC_SESSION_DOMAIN",
            "SESSION_DOMAIN",
            "ARC_WSS_URL",
        ] {
            command.env_remove(key);
        }
        let process = ProcessTree::spawn(&mut command, log, "cargo arc dev", "see its log");
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        while !process.log().contains(&format!("open {base}/ (")) {
            process.assert_running();
            assert!(
                Instant::now() < deadline,
                "cargo arc dev did not say where the app is"
            );
            thread::sleep(Duration::from_millis(100));
        }
        Self {
            base,
            ws_base: format!("ws://localhost:{ws_port}"),
            process,
            _one: one,
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// The `cargo-arc` binary, built once per test run.
pub(crate) fn cargo_arc() -> PathBuf {
    static BUILT: Once = Once::new();
    BUILT.call_once(|| cargo_build(&["-p", "cargo-arc", "--bin", "cargo-arc"]));
    target_dir().join("debug").join("cargo-arc")
}
