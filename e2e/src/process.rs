//! Child processes with their output in a log file. Each one leads a process group of its own,
//! so stopping it stops whatever it started too (nginx's workers), and a stop checks that
//! nothing of the group is left running.

use std::{
    fs::File,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::Context;

/// How long a process asked to stop gets before its group is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How long the processes of a killed group get to disappear.
const KILL_WAIT: Duration = Duration::from_secs(5);

pub struct Process {
    name: String,
    child: Child,
    log: PathBuf,
    /// Set once the group has been stopped and found empty: nothing more to do on drop.
    stopped: bool,
}

impl Process {
    pub fn spawn(name: &str, mut command: Command, log: &Path) -> anyhow::Result<Self> {
        let out = File::options()
            .create(true)
            .append(true)
            .open(log)
            .with_context(|| format!("opening {}", log.display()))?;
        let err = out.try_clone()?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            // Its own process group (its id is the group's): what it forks stays in the group.
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {name} ({command:?})"))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log: log.to_owned(),
            stopped: false,
        })
    }

    /// SIGKILL to the whole group: no process of it gets a chance to finish anything. Panics if
    /// one survives (see [`Process::ensure_group_gone`]).
    pub fn kill(&mut self) {
        if self.stopped {
            return;
        }
        signal_group(self.group(), "KILL");
        let _ = self.child.wait();
        self.ensure_group_gone(&[]);
    }

    /// Asks the process to stop by running `command` (nginx: its own `-s quit`), waits up to
    /// [`STOP_GRACE`] for it to exit, then kills whatever of its group is left, and panics if
    /// anything survives that.
    pub fn stop_with(&mut self, mut command: Command) {
        if self.stopped {
            return;
        }
        let asked = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !asked.as_ref().is_ok_and(|status| status.success()) {
            eprintln!("{}: {command:?} failed ({asked:?}); killing it", self.name);
        }
        let until = Instant::now() + STOP_GRACE;
        while !self.has_exited() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        // What is left of the group after a graceful stop is a leak worth a line in the log.
        let left = group_members(self.group());
        if !left.is_empty() {
            eprintln!(
                "{}: still running {STOP_GRACE:?} after {command:?}: {left:?}; killing them",
                self.name
            );
        }
        signal_group(self.group(), "KILL");
        let _ = self.child.wait();
        self.ensure_group_gone(&left);
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// The last lines of the log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        format!(
            "--- {} ({}) ---\n{}",
            self.name,
            self.log.display(),
            lines[lines.len().saturating_sub(30)..].join("\n")
        )
    }

    fn group(&self) -> u32 {
        self.child.id()
    }

    /// Waits until no process of the group is left; panics (unless already panicking) if some
    /// outlive [`KILL_WAIT`]: a test run must leave nothing running that it started.
    fn ensure_group_gone(&mut self, seen: &[u32]) {
        let until = Instant::now() + KILL_WAIT;
        let mut left = group_members(self.group());
        while !left.is_empty() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
            left = group_members(self.group());
        }
        self.stopped = left.is_empty();
        if !self.stopped && !std::thread::panicking() {
            panic!(
                "{}: processes {left:?} of its group survived SIGKILL (seen after the stop: {seen:?})",
                self.name
            );
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `kill -<signal> -- -<group>`: every process of the group. The group may be gone already.
fn signal_group(group: u32, signal: &str) {
    let _ = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg("--")
        .arg(format!("-{group}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// The live processes of a process group (zombies aside: they hold no port and run nothing),
/// from `/proc/<pid>/stat`.
pub fn group_members(group: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
            let Some((_, rest)) = stat.rsplit_once(')') else {
                return false;
            };
            let mut fields = rest.split_whitespace();
            let state = fields.next();
            let pgrp = fields.nth(1).and_then(|pgrp| pgrp.parse::<u32>().ok());
            state != Some("Z") && pgrp == Some(group)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forking_shell(dir: &Path) -> Process {
        let mut command = Command::new("sh");
        // A child that outlives its parent's death, as nginx's workers did.
        command.args(["-c", "sleep 300 & sleep 300"]);
        Process::spawn("forking", command, &dir.join("forking.log")).expect("sh starts")
    }

    fn wait_for_members(group: u32, count: usize) {
        let until = Instant::now() + Duration::from_secs(5);
        while group_members(group).len() < count {
            assert!(Instant::now() < until, "the shell's children did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn killing_a_process_kills_what_it_started() {
        let dir = std::env::temp_dir();
        let mut process = forking_shell(&dir);
        let group = process.id();
        wait_for_members(group, 3);
        process.kill();
        assert_eq!(group_members(group), Vec::<u32>::new());
    }

    #[test]
    fn a_stop_that_leaves_children_behind_still_leaves_nothing_running() {
        let dir = std::env::temp_dir();
        let mut process = forking_shell(&dir);
        let group = process.id();
        wait_for_members(group, 3);
        // SIGKILL to the parent alone orphans its children, the way the harness used to stop nginx.
        let mut only_the_parent = Command::new("kill");
        only_the_parent.args(["-KILL", &group.to_string()]);
        process.stop_with(only_the_parent);
        assert_eq!(group_members(group), Vec::<u32>::new());
    }
}
