use super::{Candidates, Picker};
use crate::Request;

/// Power of two choices on peak-EWMA latency (Finagle's and linkerd's balancer): two random
/// endpoints, the cheaper wins, where cost = latency estimate × (in flight + 1) / weight.
/// O(1); a slow endpoint's estimate jumps at its first slow reply, so it loses at once.
pub(crate) struct PeakEwma {
    weights: Box<[u32]>,
}

impl PeakEwma {
    pub(crate) fn new(weights: Vec<u32>) -> PeakEwma {
        PeakEwma { weights: weights.into_boxed_slice() }
    }

    fn cost(&self, candidates: &Candidates<'_>, index: usize) -> f64 {
        let load = &candidates.endpoints[index].load;
        let weight = f64::from(self.weights.get(index).copied().unwrap_or(100).max(1)) / 100.0;
        load.rtt_ns() * f64::from(load.in_flight() + 1) / weight
    }

    fn random_eligible(candidates: &Candidates<'_>, not: Option<usize>) -> Option<usize> {
        let n = candidates.len();
        for _ in 0..3 {
            let index = fastrand::usize(0..n);
            if Some(index) != not && candidates.eligible(index) {
                return Some(index);
            }
        }
        let start = fastrand::usize(0..n);
        (0..n).map(|k| (start + k) % n).find(|&i| Some(i) != not && candidates.eligible(i))
    }
}

impl Picker for PeakEwma {
    fn pick(&self, candidates: &Candidates<'_>, _: &Request) -> Option<usize> {
        if candidates.len() == 0 {
            return None;
        }
        let first = Self::random_eligible(candidates, None)?;
        let Some(second) = Self::random_eligible(candidates, Some(first)) else { return Some(first) };
        Some(if self.cost(candidates, second) < self.cost(candidates, first) { second } else { first })
    }
}
