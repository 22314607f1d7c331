//! Drives one benchmark point: `concurrency` callers over the given clients for a warm-up,
//! then a measured window, recording each call's latency.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use indicatif::ProgressBar;

use crate::systems::Client;

const WARMING: u8 = 0;
const MEASURING: u8 = 1;
const STOPPED: u8 = 2;

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
    let callers: Vec<_> = (0..concurrency)
        .map(|i| {
            let client = clients[i % clients.len()].clone();
            let (phase, payload) = (phase.clone(), payload.clone());
            tokio::spawn(async move { call_until_stopped(client, payload, phase).await })
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
        let (latencies, errors, first_error) = caller.await.expect("caller task");
        measured.latencies.add(latencies).expect("histograms share bounds");
        measured.errors += errors;
        measured.first_error = measured.first_error.or(first_error);
    }
    measured
}

fn new_histogram() -> Histogram<u64> {
    // 1 ns .. 60 s at 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds")
}

async fn call_until_stopped(
    client: Client,
    payload: Bytes,
    phase: Arc<AtomicU8>,
) -> (Histogram<u64>, u64, Option<String>) {
    let mut latencies = new_histogram();
    let (mut errors, mut first_error) = (0, None);
    loop {
        let state = phase.load(Ordering::Relaxed);
        if state == STOPPED {
            break;
        }
        let started = Instant::now();
        let result = client.echo(&payload).await;
        if state == MEASURING && phase.load(Ordering::Relaxed) == MEASURING {
            match result {
                Ok(()) => latencies.saturating_record(started.elapsed().as_nanos() as u64),
                Err(e) => {
                    errors += 1;
                    first_error.get_or_insert(e);
                }
            }
        } else if let Err(e) = result {
            // An error while warming up still matters: a broken system must not look fast.
            errors += 1;
            first_error.get_or_insert(e);
        }
    }
    (latencies, errors, first_error)
}
