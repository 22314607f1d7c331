use super::{Candidates, Picker};
use crate::Request;

/// Endpoints compared per pick: all of them up to this many, a random sample beyond.
const SAMPLE: usize = 8;

/// The endpoint with the fewest calls in flight; ties go to the higher (warmed-up) weight.
/// Up to 8 endpoints it compares all, starting at a random one so ties spread; beyond that it
/// compares a random sample of 8, which keeps a pick O(1) with 1,000 endpoints while still
/// steering clear of the busy ones.
pub(crate) struct LeastActive {
    weights: Box<[u32]>,
}

impl LeastActive {
    pub(crate) fn new(weights: Vec<u32>) -> LeastActive {
        LeastActive { weights: weights.into_boxed_slice() }
    }
}

impl Picker for LeastActive {
    fn pick(&self, candidates: &Candidates<'_>, _: &Request) -> Option<usize> {
        let n = candidates.len();
        if n == 0 {
            return None;
        }
        let start = fastrand::usize(0..n);
        let mut best: Option<(usize, u32, u32)> = None;
        for k in 0..SAMPLE.min(n) {
            let index = if n <= SAMPLE { (start + k) % n } else { fastrand::usize(0..n) };
            if !candidates.eligible(index) {
                continue;
            }
            let active = candidates.endpoints[index].load.in_flight();
            let weight = self.weights.get(index).copied().unwrap_or(0);
            let better = match best {
                None => true,
                Some((_, best_active, best_weight)) => {
                    (active, std::cmp::Reverse(weight)) < (best_active, std::cmp::Reverse(best_weight))
                }
            };
            if better {
                best = Some((index, active, weight));
            }
        }
        best.map(|(index, _, _)| index).or_else(|| candidates.scan_from(start))
    }
}
