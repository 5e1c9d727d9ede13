//! Child processes in process groups of their own, stopped with everything below them.
//!
//! `cargo lambda watch` starts each function's `cargo run` in a process group of its own, so
//! signalling watch's group alone would leave the functions running: the groups below a child
//! are collected from `/proc` first.

use std::collections::BTreeSet;
use std::fs;
use std::io;
use std::os::unix::process::CommandExt as _;
use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, getpgrp};
use tokio::process::{Child, Command};

/// A child and every process it starts.
pub(super) struct Tree {
    child: Child,
}

impl Tree {
    /// Spawns `command` in a process group of its own.
    pub(super) fn spawn(mut command: std::process::Command) -> io::Result<Self> {
        // A group of its own: Ctrl-C in the terminal reaches `cargo arc dev` alone, which then
        // stops the children in order (the gateway's `$disconnect`s still need watch).
        command.process_group(0);
        let mut command = Command::from(command);
        // Should `cargo arc dev` itself fail, the child goes with it.
        command.kill_on_drop(true);
        Ok(Self {
            child: command.spawn()?,
        })
    }

    /// The child's standard output, when it was piped.
    pub(super) fn take_stdout(&mut self) -> Option<tokio::process::ChildStdout> {
        self.child.stdout.take()
    }

    /// Waits for the child to exit.
    pub(super) async fn wait(&mut self) -> io::Result<ExitStatus> {
        self.child.wait().await
    }

    /// Sends SIGTERM to the child's tree and waits up to `grace` for all of it to exit, then
    /// kills what is left.
    pub(super) async fn stop(&mut self, grace: Duration) {
        let Some(pid) = self.running() else { return };
        let groups = groups_below(pid);
        signal(&groups, Signal::SIGTERM);
        let deadline = tokio::time::Instant::now() + grace;
        while tokio::time::Instant::now() < deadline {
            // Reap the child itself; zombies of others belong to init and don't count.
            let _ = self.child.try_wait();
            if !any_running(&groups) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        signal(&groups, Signal::SIGKILL);
        let _ = self.child.wait().await;
    }

    /// Kills the child's tree at once.
    pub(super) async fn kill(&mut self) {
        let Some(pid) = self.running() else { return };
        signal(&groups_below(pid), Signal::SIGKILL);
        let _ = self.child.wait().await;
    }

    /// The child's pid while it has not been reaped (after that, the pid may be another's).
    fn running(&mut self) -> Option<i32> {
        match self.child.try_wait() {
            Ok(None) => self.child.id().and_then(|pid| i32::try_from(pid).ok()),
            _ => None,
        }
    }
}

fn signal(groups: &BTreeSet<i32>, signal: Signal) {
    for &group in groups {
        // Gone already is what we want.
        let _ = killpg(Pid::from_raw(group), signal);
    }
}

struct Process {
    pid: i32,
    ppid: i32,
    pgrp: i32,
    zombie: bool,
}

/// Every process on the machine, from `/proc`; empty where there is none.
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

/// The process groups of `root` (a group leader) and all its descendants, never our own.
fn groups_below(root: i32) -> BTreeSet<i32> {
    let all = processes();
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

fn any_running(groups: &BTreeSet<i32>) -> bool {
    processes()
        .iter()
        .any(|p| groups.contains(&p.pgrp) && !p.zombie)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stopping_a_tree_ends_the_grandchildren_in_groups_of_their_own() {
        // A shell that starts a sleeper in a group of its own (as watch starts functions) and
        // prints its pid.
        let mut command = std::process::Command::new("sh");
        command
            .args(["-c", "setsid sleep 300 & echo $!; wait"])
            .stdout(std::process::Stdio::piped());
        let mut tree = Tree::spawn(command).expect("sh runs");
        let mut stdout = tree.take_stdout().expect("piped");
        let mut line = String::new();
        {
            use tokio::io::AsyncBufReadExt as _;
            let mut reader = tokio::io::BufReader::new(&mut stdout);
            reader.read_line(&mut line).await.expect("a pid");
        }
        let sleeper: i32 = line.trim().parse().expect("a pid");
        // setsid may still be between fork and exec: wait until the sleeper leads its group.
        for _ in 0..50 {
            if processes()
                .iter()
                .any(|p| p.pid == sleeper && p.pgrp == sleeper)
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(groups_below(tree.running().expect("running")).contains(&sleeper));

        tree.stop(Duration::from_secs(5)).await;
        let alive = processes().iter().any(|p| p.pid == sleeper && !p.zombie);
        assert!(!alive, "the sleeper {sleeper} outlived the stop");
        assert!(tree.running().is_none());
    }
}
