//! Drives one benchmark point: `concurrency` callers over the given clients for a warm-up,
//! then a measured window, recording each call's latency.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use indicatif::ProgressBar;

use crate::systems::Client;

const WARMING: u8 = 0;
const MEASURING: u8 = 1;
const STOPPED: u8 = 2;

/// Caller tasks at most. More callers share tasks (and a histogram each task): 10,000 callers
/// with a histogram each would hold gigabytes.
const MAX_CALLER_TASKS: usize = 256;

/// What the callers saw during the measured window.
pub struct Measured {
    /// Latencies in nanoseconds.
    pub latencies: Histogram<u64>,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
}

/// Runs `concurrency` callers spread round-robin over `clients`; `on_window` is called when the
/// measured window opens and when it closes (the caller samples server CPU time there).
pub async fn drive(
    clients: &[Client],
    concurrency: usize,
    payload: Bytes,
    warmup: Duration,
    duration: Duration,
    progress: &ProgressBar,
    mut on_window: impl FnMut(),
) -> Measured {
    let phase = Arc::new(AtomicU8::new(WARMING));
    let tasks = concurrency.clamp(1, MAX_CALLER_TASKS);
    let callers: Vec<_> = (0..tasks)
        .map(|task| {
            // Callers task, task + tasks, …: each client gets its share of every task.
            let clients: Vec<Client> =
                (task..concurrency).step_by(tasks).map(|i| clients[i % clients.len()].clone()).collect();
            let (phase, payload) = (phase.clone(), payload.clone());
            tokio::spawn(async move {
                let tally = Mutex::new(Tally::default());
                let callers = clients.into_iter().map(|client| call_until_stopped(client, &payload, &phase, &tally));
                futures_util::future::join_all(callers).await;
                tally.into_inner().unwrap_or_else(PoisonError::into_inner)
            })
        })
        .collect();

    tokio::time::sleep(warmup).await;
    on_window();
    let started = Instant::now();
    phase.store(MEASURING, Ordering::SeqCst);
    while started.elapsed() < duration {
        tokio::time::sleep(Duration::from_millis(100).min(duration.saturating_sub(started.elapsed()))).await;
        progress.set_position(started.elapsed().as_millis().min(duration.as_millis()) as u64);
    }
    phase.store(STOPPED, Ordering::SeqCst);
    let elapsed = started.elapsed();
    on_window();

    let mut measured = Measured { latencies: new_histogram(), errors: 0, first_error: None, elapsed };
    for caller in callers {
        let tally = caller.await.expect("caller task");
        measured.latencies.add(tally.latencies).expect("histograms share bounds");
        measured.errors += tally.errors;
        measured.first_error = measured.first_error.or(tally.first_error);
    }
    measured
}

fn new_histogram() -> Histogram<u64> {
    // 1 ns .. 60 s at 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

/// What the callers of one task saw.
struct Tally {
    latencies: Histogram<u64>,
    errors: u64,
    first_error: Option<String>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally { latencies: new_histogram(), errors: 0, first_error: None }
    }
}

impl Tally {
    fn error(&mut self, e: String) {
        self.errors += 1;
        self.first_error.get_or_insert(e);
    }
}

/// Calls until the phase is `STOPPED`, recording calls that began and ended while measuring.
/// (The tally is locked only between calls; its task's callers take turns on one thread.)
async fn call_until_stopped(client: Client, payload: &Bytes, phase: &AtomicU8, tally: &Mutex<Tally>) {
    let tally = || tally.lock().unwrap_or_else(PoisonError::into_inner);
    loop {
        let state = phase.load(Ordering::Relaxed);
        if state == STOPPED {
            break;
        }
        let started = Instant::now();
        let result = client.echo(payload).await;
        if state == MEASURING && phase.load(Ordering::Relaxed) == MEASURING {
            match result {
                Ok(()) => tally().latencies.saturating_record(started.elapsed().as_nanos() as u64),
                Err(e) => tally().error(e),
            }
        } else if let Err(e) = result {
            // An error while warming up still matters: a broken system must not look fast.
            tally().error(e);
        }
    }
}
