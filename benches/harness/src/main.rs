//! `rpc-bench`: the load generator. Runs each system's server as a separate process pinned to
//! one CPU, drives it from this process pinned to another, and reports QPS, latency
//! percentiles, errors and the server's CPU time — as a table, JSON and an SVG plot.
//!
//! ```text
//! cargo run --release -p rpc-bench -- run --compare --concurrency 1,16,64 --duration 10
//! cargo run --release -p rpc-bench -- idle --connections 1000
//! ```

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use rpc_bench::process::ServerProcess;
use rpc_bench::report::{Cell, Machine, Point};
use rpc_bench::systems::{self, Client, System};
use rpc_bench::{idle, load, payload, plot, process, report};

mod copy_count;

#[derive(Parser)]
#[command(about = "Benchmark rpc against tonic, tarpc and a raw framed-TCP echo")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Measure systems at several concurrencies.
    Run(RunArgs),
    /// Measure the server's memory per idle connection.
    Idle {
        #[arg(long, value_enum, default_value = "rpc-msgpack")]
        system: System,
        #[arg(long, default_value_t = 1000)]
        connections: usize,
        #[arg(long, default_value = "0")]
        server_cpu: Option<usize>,
        #[arg(long, default_value = "1")]
        client_cpu: Option<usize>,
    },
    /// Redraw the plot and tables of a results file.
    Plot {
        #[arg(long, default_value = "target/bench-results/results.json")]
        from: PathBuf,
        #[arg(long, default_value = "target/bench-results/results.svg")]
        to: PathBuf,
    },
    /// (Internal) serve one system; prints `listening ADDR`, runs until stdin closes.
    Serve {
        #[arg(long, value_enum)]
        system: System,
        #[arg(long, default_value = "127.0.0.1:0")]
        addr: String,
        #[arg(long)]
        cpu: Option<usize>,
    },
}

#[derive(clap::Args)]
struct RunArgs {
    /// Systems to measure, in order.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "rpc-msgpack")]
    systems: Vec<System>,
    /// Measure every system back to back, the plaintext ones first, then those over TLS.
    #[arg(long)]
    compare: bool,
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Connection counts, each measured at every concurrency (e.g. `1,16,256`); the callers
    /// share a point's connections round-robin. With more than one (and one payload size), the
    /// plot shows QPS against connections.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    connections: Vec<usize>,
    /// Payload sizes in bytes, each measured at every concurrency (e.g. `1024,65536,1048576`);
    /// with more than one, the plot shows throughput in MB/s against payload size.
    #[arg(long, value_delimiter = ',', default_value = "1024")]
    payload: Vec<usize>,
    /// Text-like payloads (JSON log lines) instead of one repeated byte: what gRPC
    /// compression (`rpc-grpc-gzip`, `rpc-grpc-zstd`) is measured on. Their compressed sizes
    /// are printed first.
    #[arg(long)]
    compressible: bool,
    /// Measured seconds per point.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Measure every point this many times, the systems interleaved, and report each point's
    /// median-QPS round: on a shared VM one round can be 15% off.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Unmeasured seconds before each point.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// CPU for the server process; `--no-pin` disables pinning.
    #[arg(long, default_value = "0")]
    server_cpu: usize,
    /// CPU for this (the client) process.
    #[arg(long, default_value = "1")]
    client_cpu: usize,
    #[arg(long)]
    no_pin: bool,
    /// Where the JSON and SVG go.
    #[arg(long, default_value = "target/bench-results")]
    out: PathBuf,
}

fn main() {
    let cli = Cli::parse();
    process::raise_fd_limit();
    let result = match cli.command {
        Command::Serve { system, addr, cpu } => serve(system, &addr, cpu),
        Command::Run(args) => {
            let client_cpu = (!args.no_pin).then_some(args.client_cpu);
            runtime(client_cpu).and_then(|rt| rt.block_on(run(args)))
        }
        Command::Plot { from, to } => report::read_points(&from).and_then(|points| {
            report::print_table(&points);
            report::print_ratios(&points);
            plot::write_svg(&to, &points)
        }),
        Command::Idle { system, connections, server_cpu, client_cpu } => {
            runtime(client_cpu).and_then(|rt| rt.block_on(idle::measure(system, connections, server_cpu)))
        }
    };
    if let Err(e) = result {
        eprintln!("rpc-bench: {e}");
        std::process::exit(1);
    }
}

/// A runtime pinned to `cpu`: single-threaded when pinned to one CPU (more threads would only
/// contend for it), multi-threaded otherwise. Every system runs on the same kind.
fn runtime(cpu: Option<usize>) -> Result<tokio::runtime::Runtime, String> {
    let mut builder = match cpu {
        Some(cpu) => {
            process::pin_to(cpu)?;
            tokio::runtime::Builder::new_current_thread()
        }
        None => tokio::runtime::Builder::new_multi_thread(),
    };
    builder.enable_all().build().map_err(|e| format!("runtime: {e}"))
}

fn serve(system: System, addr: &str, cpu: Option<usize>) -> Result<(), String> {
    let rt = runtime(cpu)?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("bind {addr}: {e}"))?;
        println!("listening {}", listener.local_addr().map_err(|e| e.to_string())?);
        // The harness ends us by closing stdin (or killing us), and asks on it for our count of
        // copied bytes.
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            while std::io::stdin().read_line(&mut line).is_ok_and(|n| n > 0) {
                if line.trim() == ServerProcess::COPIED_QUERY {
                    println!("{} {}", ServerProcess::COPIED_QUERY, copy_count::copied());
                }
                line.clear();
            }
        });
        tokio::select! {
            served = systems::serve(system, listener) => served.map_err(|e| e.to_string()),
            _ = stdin_closed => Ok(()),
        }
    })
}

async fn run(args: RunArgs) -> Result<(), String> {
    let systems = if args.compare { System::ALL.to_vec() } else { args.systems.clone() };
    let server_cpu = (!args.no_pin).then_some(args.server_cpu);

    if args.compressible {
        for &size in &args.payload {
            println!("{}", payload::compressed_sizes(&payload::bytes(size, true)));
        }
    }
    let rounds = args.rounds.max(1);
    let mut sweep: Vec<(System, Cell)> = Vec::new();
    for &system in &systems {
        for &payload in &args.payload {
            for &connections in &args.connections {
                let cells = args.concurrency.iter().map(|&concurrency| Cell { payload, connections, concurrency });
                sweep.extend(cells.map(|cell| (system, cell)));
            }
        }
    }
    let total = sweep.len() * rounds;
    let mut measured = Vec::new();
    for (n, &(system, cell)) in sweep.iter().cycle().take(total).enumerate() {
        let label = format!(
            "{}/{total} {} {}B c={} conns={}",
            n + 1,
            system.name(),
            cell.payload,
            cell.concurrency,
            cell.connections
        );
        let point = measure_point(&args, system, cell, server_cpu, &label).await?;
        eprintln!(
            "{label:<40} {:>9.0} qps  p50 {:>7.1} µs  p99 {:>7.1} µs  errors {}",
            point.qps, point.p50_us, point.p99_us, point.errors
        );
        measured.push(point);
    }
    let points = report::median_rounds(measured, &sweep);

    println!();
    report::print_table(&points);
    if systems.len() > 1 {
        report::print_ratios(&points);
    }
    std::fs::create_dir_all(&args.out).map_err(|e| format!("create {}: {e}", args.out.display()))?;
    let json = args.out.join("results.json");
    let svg = args.out.join("results.svg");
    report::write_json(&json, Machine::describe(server_cpu, (!args.no_pin).then_some(args.client_cpu)), &points)
        .map_err(|e| format!("write {}: {e}", json.display()))?;
    plot::write_svg(&svg, &points)?;
    println!("\nwrote {} and {}", json.display(), svg.display());
    Ok(())
}

/// One point: a fresh server process, `cell.connections` clients, warm-up, then the measured
/// window, with a progress bar.
async fn measure_point(
    args: &RunArgs,
    system: System,
    cell: Cell,
    server_cpu: Option<usize>,
    label: &str,
) -> Result<Point, String> {
    let Cell { payload, connections, concurrency } = cell;
    let payload = payload::bytes(payload, args.compressible);
    let (warmup, duration) = (Duration::from_secs_f64(args.warmup), Duration::from_secs_f64(args.duration));
    let progress = ProgressBar::new(duration.as_millis() as u64);
    progress.set_style(
        ProgressStyle::with_template("{prefix:>40} [{bar:30}] {elapsed_precise}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    progress.set_prefix(label.to_string());

    let payload_len = payload.len();
    let mut server = ServerProcess::start(system, server_cpu)?;
    let mut clients = Vec::with_capacity(connections);
    for i in 0..connections {
        let client = Client::connect(system, server.addr).await.map_err(|e| format!("connection {i}: {e}"))?;
        clients.push(client);
    }
    let mut marks = Vec::new();
    let measured = load::drive(&clients, concurrency, payload, warmup, duration, &progress, || {
        let copied = copy_count::ENABLED.then(|| (server.copied_bytes(), copy_count::copied()));
        marks.push(Mark { server_cpu: server.cpu_seconds(), client_cpu: process::own_cpu_seconds(), copied })
    })
    .await;
    progress.finish_and_clear();
    drop(clients);
    drop(server);

    let seconds = measured.elapsed.as_secs_f64();
    let h = &measured.latencies;
    let us = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    let qps = h.len() as f64 / seconds;
    Ok(Point {
        system,
        concurrency,
        connections,
        payload_bytes: payload_len,
        seconds,
        calls: h.len(),
        errors: measured.errors,
        qps,
        p50_us: us(0.50),
        p90_us: us(0.90),
        p99_us: us(0.99),
        p999_us: us(0.999),
        server_cpu: (marks[1].server_cpu - marks[0].server_cpu) / seconds,
        client_cpu: (marks[1].client_cpu - marks[0].client_cpu) / seconds,
        copied: copied_per_call(&marks, h.len()),
        rounds: 1,
        qps_min: qps,
        qps_max: qps,
        first_error: measured.first_error,
    })
}

/// What the harness reads at the start and the end of a point's measured window.
struct Mark {
    server_cpu: f64,
    client_cpu: f64,
    /// Bytes copied so far by the server (if it answered) and by this process, when counting.
    copied: Option<(Option<u64>, u64)>,
}

/// Bytes each process copied per call over the window, when this binary counts copies.
fn copied_per_call(marks: &[Mark], calls: u64) -> Option<report::CopiedPerCall> {
    let (Some((server_start, client_start)), Some((server_end, client_end))) = (marks[0].copied, marks[1].copied)
    else {
        return None;
    };
    let per_call = |bytes: u64| bytes as f64 / calls.max(1) as f64;
    Some(report::CopiedPerCall {
        server: server_start.zip(server_end).map(|(start, end)| per_call(end.saturating_sub(start))),
        client: per_call(client_end.saturating_sub(client_start)),
    })
}
