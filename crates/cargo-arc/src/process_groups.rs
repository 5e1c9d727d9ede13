//! The process groups below a process, read from `/proc`, and signals to all of them.
//!
//! `cargo lambda watch` starts each function's `cargo run` in a process group of its own, so
//! signalling watch's group alone leaves the functions running. `cargo arc dev` stops what it
//! started with these; so do tests that start watch themselves.
//!
//! # Examples
//!
//! ```
//! use std::process::Command;
//! use std::os::unix::process::CommandExt as _;
//! use cargo_arc::process_groups::{below, running_in, signal};
//! use nix::sys::signal::Signal;
//!
//! let mut child = Command::new("sleep").arg("300").process_group(0).spawn()?;
//! let groups = below(child.id());
//! assert!(groups.contains(&(child.id() as i32)));
//! assert!(running_in(&groups));
//!
//! signal(&groups, Signal::SIGKILL);
//! child.wait()?;
//! assert!(!running_in(&groups));
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::BTreeSet;
use std::fs;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::{Pid, getpgrp};

struct Process {
    pid: i32,
    ppid: i32,
    pgrp: i32,
    zombie: bool,
}

/// Every process on the machine, from `/proc`; none where there is no `/proc`.
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

/// The process groups of `root` (a process that leads its own group) and of all its
/// descendants, never the caller's own group.
///
/// # Examples
///
/// See the [module](self).
pub fn below(root: u32) -> BTreeSet<i32> {
    let all = processes();
    let Ok(root) = i32::try_from(root) else {
        return BTreeSet::new();
    };
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

/// Whether any process of `groups` is still running (zombies are not).
///
/// # Examples
///
/// See the [module](self).
pub fn running_in(groups: &BTreeSet<i32>) -> bool {
    processes()
        .iter()
        .any(|p| groups.contains(&p.pgrp) && !p.zombie)
}

/// Sends `signal` to every group of `groups`; a group already gone is no error.
///
/// # Examples
///
/// See the [module](self).
pub fn signal(groups: &BTreeSet<i32>, signal: Signal) {
    for &group in groups {
        let _ = killpg(Pid::from_raw(group), signal);
    }
}
