//! Child processes that never outlive the test run.
//!
//! [`Supervised::spawn`] runs a command through `tests/support/supervise.sh`, in a process group
//! of its own, with stdin closed and stdout + stderr appended to a log file. The script watches
//! this test process's pid: when the test process is gone (a `static` emulator is never
//! dropped; a test binary can also be killed), it stops the command and every process that
//! descended from it, within about a second. Dropping a [`Supervised`] does the same at once
//! and waits for it, so the listening port is free again when `drop` returns.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use std::os::unix::process::CommandExt;

/// A command started through the supervisor script; stopped with all its descendants on drop.
#[derive(Debug)]
pub struct Supervised {
    name: String,
    child: Child,
    log: PathBuf,
}

impl Supervised {
    /// Starts `program args…` in `dir` under the supervisor, logging to `log` (truncated first).
    ///
    /// `envs` are added to the inherited environment. Returns the spawn error, with the program
    /// named, when the supervisor itself cannot start.
    pub fn spawn(
        name: &str,
        program: &str,
        args: &[&str],
        dir: &Path,
        envs: &[(&str, &str)],
        log: PathBuf,
    ) -> Result<Supervised, String> {
        if let Some(parent) = log.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create log dir {}: {e}", parent.display()))?;
        }
        let out = File::create(&log)
            .map_err(|e| format!("cannot create log file {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("cannot clone log file handle: {e}"))?;
        let mut command = Command::new("sh");
        command
            .arg(super::repo_root().join("tests/support/supervise.sh"))
            .arg(std::process::id().to_string())
            .arg(program)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        for (key, value) in envs {
            command.env(key, value);
        }
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {name} (sh supervise.sh {program}): {e}"))?;
        Ok(Supervised {
            name: name.to_owned(),
            child,
            log,
        })
    }

    /// The supervisor's pid, which is also the process group id of the command.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` once the command (and so the supervisor) has exited.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Path of the log file holding the command's stdout and stderr.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// The last `lines` lines of the log.
    pub fn log_tail(&self, lines: usize) -> String {
        tail(&self.log, lines)
    }

    /// Stops the command and its descendants and waits (bounded) for the supervisor to exit.
    pub fn stop(&mut self) {
        if self.exit_status().is_some() {
            return;
        }
        signal("TERM", &self.pid().to_string());
        // The supervisor gives its command 5 s to stop before killing it.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.exit_status().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        // The supervisor itself is stuck: kill its whole process group.
        signal("KILL", &format!("-{}", self.pid()));
        let _ = self.child.wait();
        eprintln!(
            "support: {} did not stop within 10 s; killed its process group",
            self.name
        );
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Sends `SIGsig` to `target` (a pid, or `-pgid`) with the shell's `kill` builtin, since std
/// can only send SIGKILL to a direct child.
pub fn signal(sig: &str, target: &str) {
    let _ = Command::new("sh")
        .args([
            "-c",
            "kill -s \"$1\" -- \"$2\" 2>/dev/null",
            "sh",
            sig,
            target,
        ])
        .status();
}

/// Whether a process with this pid exists and is not a zombie.
pub fn pid_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// The pids of every process descended from `pid` (children, grandchildren, …).
pub fn descendants(pid: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    if let Ok(entries) = fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            let ppid = stat
                .rsplit_once(") ")
                .and_then(|(_, rest)| rest.split(' ').nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parents.push((child, ppid));
            }
        }
    }
    let mut found = Vec::new();
    let mut frontier = vec![pid];
    while let Some(parent) = frontier.pop() {
        for &(child, ppid) in &parents {
            if ppid == parent && !found.contains(&child) {
                found.push(child);
                frontier.push(child);
            }
        }
    }
    found
}

/// The last `lines` lines of the file at `path` (or a note that it cannot be read).
pub fn tail(path: &Path, lines: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}
