//! Results: one row per point, a terminal table, ratios between systems, a JSON file.

use std::path::Path;

use crate::systems::System;

/// One measured point.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Point {
    pub system: System,
    pub concurrency: usize,
    pub connections: usize,
    pub payload_bytes: usize,
    pub seconds: f64,
    pub calls: u64,
    pub errors: u64,
    pub qps: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    /// Server CPU seconds per wall second of the window (1.0 = one core busy).
    pub server_cpu: f64,
    /// CPU seconds per wall second of the load process (the clients under test and the
    /// callers that drive them); absent from results written before it was measured.
    #[serde(default)]
    pub client_cpu: f64,
    /// Rounds this point was measured in; the figures are from the median-QPS round.
    #[serde(default = "one")]
    pub rounds: usize,
    /// The lowest and highest QPS over the rounds.
    #[serde(default)]
    pub qps_min: f64,
    #[serde(default)]
    pub qps_max: f64,
    pub first_error: Option<String>,
    /// Bytes copied in user space per call, when the binary counted them (feature
    /// `count-copies`).
    #[serde(default)]
    pub copied: Option<CopiedPerCall>,
}

/// Bytes moved by `memcpy`/`memmove` per call in each process over a point's window.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
pub struct CopiedPerCall {
    /// `None` if the server did not answer.
    pub server: Option<f64>,
    /// The load process: the client under test and the callers driving it.
    pub client: f64,
}

fn one() -> usize {
    1
}

/// One cell of a sweep: what a point measured, apart from the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cell {
    /// Payload bytes each way.
    pub payload: usize,
    pub connections: usize,
    /// Callers making calls at once.
    pub concurrency: usize,
}

impl Point {
    /// Which cell of a sweep this point is.
    pub fn cell(&self) -> Cell {
        Cell { payload: self.payload_bytes, connections: self.connections, concurrency: self.concurrency }
    }

    /// Payload bytes carried each way per second, in MB/s.
    pub fn megabytes_per_second(&self) -> f64 {
        self.qps * self.payload_bytes as f64 / 1e6
    }

    /// Server CPU time per call, in microseconds: steadier than QPS on a noisy VM, since time
    /// the hypervisor steals is not charged to the process.
    pub fn server_us_per_call(&self) -> f64 {
        self.server_cpu * 1e6 / self.qps.max(f64::MIN_POSITIVE)
    }

    /// The load process's CPU time per call, in microseconds: the client stack's cost (plus
    /// the callers' own, the same for every system).
    pub fn client_us_per_call(&self) -> f64 {
        self.client_cpu * 1e6 / self.qps.max(f64::MIN_POSITIVE)
    }
}

/// One point per (system, cell) of `sweep`, in its order: the round with the median QPS,
/// carrying the range over all rounds.
pub fn median_rounds(measured: Vec<Point>, sweep: &[(System, Cell)]) -> Vec<Point> {
    let mut points = Vec::with_capacity(sweep.len());
    for &(system, cell) in sweep {
        let mut rounds: Vec<&Point> = measured.iter().filter(|p| p.system == system && p.cell() == cell).collect();
        rounds.sort_by(|a, b| a.qps.total_cmp(&b.qps));
        let Some(median) = rounds.get(rounds.len() / 2) else { continue };
        let mut point = (*median).clone();
        point.rounds = rounds.len();
        point.qps_min = rounds.first().map_or(point.qps, |p| p.qps);
        point.qps_max = rounds.last().map_or(point.qps, |p| p.qps);
        points.push(point);
    }
    points
}

/// The table of points; with columns of bytes copied per call when they were counted.
pub fn print_table(points: &[Point]) {
    let counted = points.iter().any(|p| p.copied.is_some());
    let copied_header = if counted { format!(" {:>13} {:>13}", "srv copied B", "cli copied B") } else { String::new() };
    println!(
        "{:<13} {:>5} {:>5} {:>7} {:>10} {:>17} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>11} {:>11}{copied_header}",
        "system",
        "conc",
        "conns",
        "payload",
        "qps",
        "qps range",
        "p50 µs",
        "p90 µs",
        "p99 µs",
        "p999 µs",
        "errors",
        "srv cpu",
        "srv µs/call",
        "cli µs/call"
    );
    for p in points {
        let range = format!("{:.0}-{:.0}", p.qps_min, p.qps_max);
        let copied = match (counted, p.copied) {
            (false, _) => String::new(),
            (true, None) => format!(" {:>13} {:>13}", "-", "-"),
            (true, Some(c)) => {
                let server = c.server.map_or("-".to_string(), |b| format!("{b:.0}"));
                format!(" {server:>13} {:>13.0}", c.client)
            }
        };
        println!(
            "{:<13} {:>5} {:>5} {:>7} {:>10.0} {:>17} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>7} {:>6.0}% {:>11.2} {:>11.2}{copied}",
            p.system.name(),
            p.concurrency,
            p.connections,
            p.payload_bytes,
            p.qps,
            range,
            p.p50_us,
            p.p90_us,
            p.p99_us,
            p.p999_us,
            p.errors,
            p.server_cpu * 100.0,
            p.server_us_per_call(),
            p.client_us_per_call()
        );
    }
}

/// For each cell, every system's QPS and p99 as a ratio to the raw echo and to tonic, and
/// its p50 and server CPU per call as a ratio to the raw echo.
pub fn print_ratios(points: &[Point]) {
    let find = |system, cell: Cell| points.iter().find(|p| p.system == system && p.cell() == cell);
    let mut cells: Vec<Cell> = points.iter().map(Point::cell).collect();
    cells.sort_unstable();
    cells.dedup();
    println!(
        "\n{:<13} {:>7} {:>5} {:>5} {:>12} {:>12} {:>12} {:>12} {:>12} {:>14}",
        "system", "payload", "conns", "conc", "qps/raw", "qps/tonic", "p99/raw", "p99/tonic", "p50/raw", "srv cpu/raw"
    );
    for cell in cells {
        let raw = find(System::Raw, cell);
        let tonic = find(System::Tonic, cell);
        for p in points.iter().filter(|p| p.cell() == cell) {
            let ratio = |base: Option<&Point>, f: fn(&Point) -> f64| {
                base.map_or("-".to_string(), |b| format!("{:.2}x", f(p) / f(b)))
            };
            println!(
                "{:<13} {:>7} {:>5} {:>5} {:>12} {:>12} {:>12} {:>12} {:>12} {:>14}",
                p.system.name(),
                cell.payload,
                cell.connections,
                cell.concurrency,
                ratio(raw, |p| p.qps),
                ratio(tonic, |p| p.qps),
                ratio(raw, |p| p.p99_us),
                ratio(tonic, |p| p.p99_us),
                ratio(raw, |p| p.p50_us),
                ratio(raw, Point::server_us_per_call)
            );
        }
    }
}

#[derive(serde::Serialize)]
struct Run<'a> {
    machine: Machine,
    points: &'a [Point],
}

#[derive(serde::Deserialize)]
struct SavedRun {
    points: Vec<Point>,
}

/// The points of a results file written by [`write_json`].
pub fn read_points(path: &Path) -> Result<Vec<Point>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let run: SavedRun = serde_json::from_str(&text).map_err(|e| format!("parse {}: {e}", path.display()))?;
    Ok(run.points)
}

#[derive(serde::Serialize)]
pub struct Machine {
    pub cpus: usize,
    pub cpu_model: String,
    pub server_cpu: Option<usize>,
    pub client_cpu: Option<usize>,
}

impl Machine {
    pub fn describe(server_cpu: Option<usize>, client_cpu: Option<usize>) -> Machine {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|l| l.starts_with("model name"))
                    .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
            })
            .unwrap_or_else(|| "unknown".into());
        // Online CPUs, not the ones this (pinned) process may use.
        // SAFETY: sysconf has no preconditions.
        let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) }.max(0) as usize;
        Machine { cpus, cpu_model, server_cpu, client_cpu }
    }
}

pub fn write_json(path: &Path, machine: Machine, points: &[Point]) -> std::io::Result<()> {
    let json = serde_json::to_string_pretty(&Run { machine, points }).map_err(std::io::Error::other)?;
    std::fs::write(path, json)
}
