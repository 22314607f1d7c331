//! Server processes: started pinned to a CPU, measured through /proc, stopped at the end.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, Stdio};

use crate::systems::System;

/// A benchmark server running as a child process of the harness.
pub struct ServerProcess {
    child: Child,
    /// The server's answers to queries written to its stdin.
    answers: BufReader<ChildStdout>,
    pub addr: SocketAddr,
}

impl ServerProcess {
    /// Starts `rpc-bench serve` for `system`, pinned to `cpu`, and waits for its address.
    pub fn start(system: System, cpu: Option<usize>) -> Result<ServerProcess, String> {
        let exe = std::env::current_exe().map_err(|e| format!("own executable: {e}"))?;
        let mut command = Command::new(exe);
        command.args(["serve", "--system", system.name(), "--addr", "127.0.0.1:0"]);
        if let Some(cpu) = cpu {
            command.args(["--cpu", &cpu.to_string()]);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start server: {e}"))?;
        let stdout = child.stdout.take().ok_or("server has no stdout")?;
        let mut answers = BufReader::new(stdout);
        let mut line = String::new();
        answers.read_line(&mut line).map_err(|e| format!("read server address: {e}"))?;
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| format!("server did not report its address (said {line:?})"))?;
        Ok(ServerProcess { child, answers, addr })
    }

    /// The line that asks a server for the bytes it has copied; it answers with the same word
    /// and the count.
    pub const COPIED_QUERY: &'static str = "copied";

    /// Bytes the server has copied in user space so far, if it counts them (a binary built
    /// with the `count-copies` feature).
    pub fn copied_bytes(&mut self) -> Option<u64> {
        let stdin = self.child.stdin.as_mut()?;
        writeln!(stdin, "{}", Self::COPIED_QUERY).and_then(|()| stdin.flush()).ok()?;
        let mut line = String::new();
        self.answers.read_line(&mut line).ok()?;
        line.trim().strip_prefix(Self::COPIED_QUERY)?.trim().parse().ok()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// User plus system CPU time the server has used so far, in seconds.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.pid()).unwrap_or(f64::NAN)
    }

    /// Resident memory of the server, in bytes.
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }
}

impl Drop for ServerProcess {
    /// Closes the server's stdin, which ends it, and kills it only if it is still there after
    /// a grace period: a server run under a profiler (callgrind writes its counts as the
    /// process exits) gets to finish.
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = std::time::Instant::now() + SHUTDOWN_GRACE;
        while std::time::Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_)) | Err(_)) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long a server has to exit once its stdin is closed.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(10);

/// CPU time of this process (the load generator: the clients and the callers).
pub fn own_cpu_seconds() -> f64 {
    cpu_seconds(std::process::id()).unwrap_or(f64::NAN)
}

fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at field 3; utime and stime
    // are fields 14 and 15.
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    Some(ticks as f64 / per_second.max(1) as f64)
}

/// Pins this process's current thread — and so the threads it starts later — to `cpu`.
/// (Set directly: a child inherits its parent's mask, so "CPUs I may use" is the wrong list.)
pub fn pin_to(cpu: usize) -> Result<(), String> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; CPU_SET stays within it for cpu < CPU_SETSIZE.
    let result = unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if cpu >= libc::CPU_SETSIZE as usize {
            return Err(format!("CPU {cpu} out of range"));
        }
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
    };
    if result == 0 {
        Ok(())
    } else {
        Err(format!("could not pin to CPU {cpu}: {}", std::io::Error::last_os_error()))
    }
}

/// Raises the open-file limit to its hard maximum (many connections need many descriptors).
pub fn raise_fd_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit write to and read from a valid rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}
