//! Child processes in process groups of their own, stopped with everything below them.

use std::{
    collections::BTreeSet,
    fs,
    path::PathBuf,
    process::{Child, Command, ExitStatus},
    thread,
    time::{Duration, Instant},
};

use nix::{
    sys::signal::{Signal, killpg},
    unistd::{Pid, getpgrp},
};

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
        let pid = self.child.id();
        let leader_alive = processes().iter().any(|p| p.pid == pid as i32 && !p.zombie);
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
        process_groups_below(self.child.id())
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
            let groups = process_groups_below(self.child.id());
            signal(&groups, Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                // Reap the child itself; other zombies belong to init and don't count as running.
                let _ = self.child.try_wait();
                let running = processes()
                    .iter()
                    .any(|p| groups.contains(&p.pgrp) && !p.zombie);
                if !running {
                    break;
                }
                thread::sleep(Duration::from_millis(100));
            }
            signal(&groups, Signal::SIGKILL);
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

fn signal(groups: &BTreeSet<i32>, signal: Signal) {
    for &group in groups {
        // Gone already is fine: that is the point.
        let _ = killpg(Pid::from_raw(group), signal);
    }
}

struct Process {
    pid: i32,
    ppid: i32,
    pgrp: i32,
    zombie: bool,
}

/// Every process on the machine, from /proc (the routes only run on Linux anyway).
fn processes() -> Vec<Process> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
            // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
            let (_, fields) = stat.rsplit_once(')')?;
            let mut fields = fields.split_whitespace();
            let zombie = fields.next()? == "Z";
            let ppid = fields.next()?.parse().ok()?;
            let pgrp = fields.next()?.parse().ok()?;
            Some(Process {
                pid,
                ppid,
                pgrp,
                zombie,
            })
        })
        .collect()
}

/// The process groups of `root` and all its descendants, never the test's own.
fn process_groups_below(root: u32) -> BTreeSet<i32> {
    let all = processes();
    let root = root as i32;
    let mut groups = BTreeSet::from([root]);
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for process in all.iter().filter(|p| p.ppid == parent) {
            groups.insert(process.pgrp);
            parents.push(process.pid);
        }
    }
    groups.remove(&getpgrp().as_raw());
    groups
}

/// Whether any process of `groups` is still running.
#[allow(dead_code, reason = "dev.rs only")]
pub(crate) fn running_in(groups: &BTreeSet<i32>) -> bool {
    processes()
        .iter()
        .any(|p| groups.contains(&p.pgrp) && !p.zombie)
}
