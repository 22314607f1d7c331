use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Candidates, Picker};
use crate::Request;

/// Largest schedule × endpoints worked through when (re)building; beyond it weights are
/// scaled down, trading a little precision for a bounded rebuild.
const BUILD_BUDGET: u64 = 4_000_000;

/// nginx's smooth weighted round-robin. The sequence it produces is precomputed for one
/// whole cycle when the set changes, so a pick is a counter and an index, O(1) and lock-free
/// (nginx's own algorithm is O(n) per pick under a lock).
pub(crate) struct SmoothWeighted {
    schedule: Box<[u32]>,
    next: AtomicUsize,
}

impl SmoothWeighted {
    pub(crate) fn new(weights: &[u32]) -> SmoothWeighted {
        SmoothWeighted { schedule: schedule(weights), next: AtomicUsize::new(0) }
    }
}

impl Picker for SmoothWeighted {
    fn pick(&self, candidates: &Candidates<'_>, _: &Request) -> Option<usize> {
        if self.schedule.is_empty() {
            return None;
        }
        let slot = self.next.fetch_add(1, Ordering::Relaxed) % self.schedule.len();
        let index = self.schedule[slot] as usize;
        if candidates.eligible(index) {
            return Some(index);
        }
        candidates.scan_from(index + 1)
    }
}

/// One cycle of the smooth weighted sequence: each step every endpoint gains its weight, the
/// largest total is chosen and loses the sum of weights.
fn schedule(weights: &[u32]) -> Box<[u32]> {
    let n = weights.len() as u64;
    if n == 0 {
        return Box::new([]);
    }
    let mut weights: Vec<u64> = weights.iter().map(|&w| u64::from(w)).collect();
    if weights.iter().all(|&w| w == 0) {
        weights.iter_mut().for_each(|w| *w = 1);
    }
    let divisor = weights.iter().copied().filter(|&w| w > 0).fold(0, gcd);
    weights.iter_mut().for_each(|w| *w /= divisor.max(1));
    let total: u64 = weights.iter().sum();
    let cap = (BUILD_BUDGET / n).max(n);
    if total > cap {
        weights.iter_mut().filter(|w| **w > 0).for_each(|w| *w = (*w * cap / total).max(1));
    }
    let total: u64 = weights.iter().sum();
    let mut current = vec![0i64; weights.len()];
    let mut sequence = Vec::with_capacity(total as usize);
    for _ in 0..total {
        for (c, &w) in current.iter_mut().zip(&weights) {
            *c += w as i64;
        }
        // The largest running total; ties go to the first, as in nginx.
        let best = (0..current.len()).max_by_key(|&i| (current[i], std::cmp::Reverse(i))).unwrap_or(0);
        current[best] -= total as i64;
        sequence.push(best as u32);
    }
    sequence.into_boxed_slice()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::{schedule, BUILD_BUDGET};

    #[test]
    fn nginx_example_sequence() {
        // nginx's documented example: weights 5, 1, 1 give a a b a c a a.
        assert_eq!(&*schedule(&[5, 1, 1]), &[0, 0, 1, 0, 2, 0, 0]);
    }

    #[test]
    fn shares_follow_weights_after_scaling() {
        // 1,000 endpoints with weights summing to 500,500: scaled to a cycle of about
        // BUILD_BUDGET / n turns, each endpoint within one turn of its exact share of it.
        let weights: Vec<u32> = (1..=1000).collect();
        let sequence = schedule(&weights);
        let mut counts = vec![0u64; weights.len()];
        sequence.iter().for_each(|&i| counts[i as usize] += 1);
        let total: f64 = weights.iter().map(|&w| f64::from(w)).sum();
        let cap = (BUILD_BUDGET / weights.len() as u64) as f64;
        for (i, &weight) in weights.iter().enumerate() {
            let exact = (f64::from(weight) * cap / total).max(1.0);
            assert!((counts[i] as f64 - exact).abs() < 1.0, "weight {weight}: {} turns, exact {exact:.2}", counts[i]);
        }
        assert!(counts.windows(2).all(|pair| pair[0] <= pair[1]), "a heavier endpoint never gets fewer turns");
    }
}
