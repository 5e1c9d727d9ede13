//! Child processes in process groups of their own, stopped with everything below them (see
//! [`crate::process_groups`]).

use std::io;
use std::os::unix::process::CommandExt as _;
use std::process::ExitStatus;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::process::{Child, Command};

use crate::process_groups::{below, running_in, signal};

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
        let groups = below(pid);
        signal(&groups, Signal::SIGTERM);
        let deadline = tokio::time::Instant::now() + grace;
        while tokio::time::Instant::now() < deadline {
            // Reap the child itself; zombies of others belong to init and don't count.
            let _ = self.child.try_wait();
            if !running_in(&groups) {
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
        signal(&below(pid), Signal::SIGKILL);
        let _ = self.child.wait().await;
    }

    /// The child's pid while it has not been reaped (after that, the pid may be another's).
    fn running(&mut self) -> Option<u32> {
        match self.child.try_wait() {
            Ok(None) => self.child.id(),
            _ => None,
        }
    }
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
        let sleeper_group = std::collections::BTreeSet::from([sleeper]);
        for _ in 0..50 {
            if below(tree.running().expect("running")).contains(&sleeper) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(below(tree.running().expect("running")).contains(&sleeper));
        assert!(running_in(&sleeper_group));

        tree.stop(Duration::from_secs(5)).await;
        assert!(
            !running_in(&sleeper_group),
            "the sleeper {sleeper} outlived the stop"
        );
        assert!(tree.running().is_none());
    }
}
