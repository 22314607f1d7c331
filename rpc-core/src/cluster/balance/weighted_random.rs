use super::{Candidates, Picker};
use crate::Request;

/// Random draws a busy endpoint retries before scanning.
const DRAWS: usize = 3;

/// Random, proportional to weight: a binary search in cumulative weights, O(log n).
pub(crate) struct WeightedRandom {
    cumulative: Box<[u64]>,
}

impl WeightedRandom {
    pub(crate) fn new(weights: &[u32]) -> WeightedRandom {
        // All zero: fall back to equal shares.
        let uniform = weights.iter().all(|&w| w == 0);
        let cumulative = weights
            .iter()
            .scan(0u64, |sum, &w| {
                *sum += if uniform { 1 } else { u64::from(w) };
                Some(*sum)
            })
            .collect();
        WeightedRandom { cumulative }
    }
}

impl Picker for WeightedRandom {
    fn pick(&self, candidates: &Candidates<'_>, _: &Request) -> Option<usize> {
        let total = *self.cumulative.last()?;
        for _ in 0..DRAWS {
            let ticket = fastrand::u64(0..total);
            let index = self.cumulative.partition_point(|&sum| sum <= ticket);
            if candidates.eligible(index) {
                return Some(index);
            }
        }
        candidates.scan_from(fastrand::usize(0..candidates.len()))
    }
}
