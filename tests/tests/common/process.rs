//! Child processes in process groups of their own, stopped with everything below them.

use std::{
    collections::BTreeSet,
    fs,
    path::PathBuf,
    process::{Child, Command, ExitStatus},
    thread,
    time::{Duration, Instant},
};

use cargo_arc::process_groups;
use nix::{sys::signal::Signal, unistd::Pid};

/// A child process in a process group of its own, with everything it starts. Dropping it, also
/// while a failed assertion unwinds, stops the child and every process below it.
pub(crate) struct ProcessTree {
    child: Child,
    name: &'static str,
    log: PathBuf,
    /// Set once the child is reaped: from then on its pid may belong to someone else.
    exited: Option<ExitStatus>,
}

impl ProcessTree {
    /// Spawns `command`, whose output goes to `log`; `hint` says what to check if it can't start.
    pub(crate) fn spawn(
        command: &mut Command,
        log: PathBuf,
        name: &'static str,
        hint: &str,
    ) -> Self {
        use std::os::unix::process::CommandExt as _;
        // A group of its own, so the whole tree can be signalled without touching the test's.
        let child = command
            .process_group(0)
            .spawn()
            .unwrap_or_else(|error| panic!("start {name} ({hint}): {error}"));
        Self {
            child,
            name,
            log,
            exited: None,
        }
    }

    pub(crate) fn assert_running(&self) {
        // Alive and not yet a zombie: `pid (comm) state ...`.
        let stat =
            fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        let leader_alive = stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z'));
        assert!(
            leader_alive,
            "{} exited early; see its log below",
            self.name
        );
    }

    /// Waits for the child to exit, at most `timeout`; `None` if it is still running then.
    #[allow(dead_code, reason = "browser.rs only")]
    pub(crate) fn wait_timeout(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for the child") {
                self.exited = Some(status);
                return Some(status);
            }
            if Instant::now() > deadline {
                return None;
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// The child's pid.
    #[allow(dead_code, reason = "dev.rs only")]
    pub(crate) fn pid(&self) -> Pid {
        Pid::from_raw(i32::try_from(self.child.id()).expect("a pid fits"))
    }

    /// The process groups of the child and of everything below it, now.
    #[allow(dead_code, reason = "dev.rs only")]
    pub(crate) fn groups(&self) -> BTreeSet<i32> {
        process_groups::below(self.child.id())
    }

    /// Everything the child wrote so far.
    #[allow(dead_code, reason = "browser.rs only")]
    pub(crate) fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn log_tail(&self) -> String {
        let log = self.log();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(80)..].join("\n")
    }
}

impl Drop for ProcessTree {
    fn drop(&mut self) {
        if self.exited.is_none() {
            // watchexec starts each route's `cargo run` in a process group of its own (and
            // Playwright its browser), so signalling our group alone would orphan them: collect
            // every group below the child first.
            let groups = process_groups::below(self.child.id());
            process_groups::signal(&groups, Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                // Reap the child itself; other zombies belong to init and don't count as running.
                let _ = self.child.try_wait();
                if !process_groups::running_in(&groups) {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
            process_groups::signal(&groups, Signal::SIGKILL);
            let _ = self.child.wait();
        }
        if thread::panicking() {
            eprintln!(
                "--- last lines of {} ---\n{}",
                self.log.display(),
                self.log_tail()
            );
        }
    }
}

/// Whether any process of `groups` is still running.
#[allow(dead_code, reason = "dev.rs only")]
pub(crate) fn running_in(groups: &BTreeSet<i32>) -> bool {
    process_groups::running_in(groups)
}
