use super::{Candidates, Picker};
use crate::Request;

/// Endpoints compared per pick: all of them up to this many, a random sample beyond.
const SAMPLE: usize = 8;

/// The endpoint with the fewest calls in flight; ties go to the higher (warmed-up) weight.
/// Up to 8 endpoints it compares all, starting at a random one so ties spread; beyond that it
/// compares a random sample of 8, which keeps a pick O(1) with 1,000 endpoints while still
/// steering clear of the busy ones. Availability is checked for the winner only (the common
/// case is that all are available); if it is not, the pick falls back to a scan.
pub(crate) struct LeastActive {
    weights: Box<[u32]>,
}

impl LeastActive {
    pub(crate) fn new(weights: Vec<u32>) -> LeastActive {
        LeastActive { weights: weights.into_boxed_slice() }
    }

    fn better(
        &self,
        candidates: &Candidates<'_>,
        index: usize,
        than: Option<(usize, u32, u32)>,
    ) -> Option<(usize, u32, u32)> {
        let active = candidates.endpoints[index].load.in_flight();
        let weight = self.weights.get(index).copied().unwrap_or(0);
        match than {
            Some((_, best_active, best_weight))
                if (best_active, std::cmp::Reverse(best_weight)) <= (active, std::cmp::Reverse(weight)) =>
            {
                than
            }
            _ => Some((index, active, weight)),
        }
    }
}

impl Picker for LeastActive {
    fn pick(&self, candidates: &Candidates<'_>, _: &Request) -> Option<usize> {
        let n = candidates.len();
        if n == 0 {
            return None;
        }
        let mut best = None;
        if n <= SAMPLE {
            let start = fastrand::usize(0..n);
            for k in 0..n {
                best = self.better(candidates, (start + k) % n, best);
            }
        } else {
            // Four 16-bit draws per random word: sampling costs two RNG calls, not eight.
            let mut bits = 0u64;
            for k in 0..SAMPLE {
                if k % 4 == 0 {
                    bits = fastrand::u64(..);
                }
                let index =
                    if n <= 1 << 16 { (((bits & 0xFFFF) * n as u64) >> 16) as usize } else { fastrand::usize(0..n) };
                bits >>= 16;
                best = self.better(candidates, index, best);
            }
        }
        match best {
            Some((index, _, _)) if candidates.eligible(index) => Some(index),
            _ => self.fallback(candidates),
        }
    }
}

impl LeastActive {
    /// The least active of the eligible endpoints, by a full scan: when the sampled winner
    /// is unavailable or already tried.
    fn fallback(&self, candidates: &Candidates<'_>) -> Option<usize> {
        let n = candidates.len();
        let start = fastrand::usize(0..n);
        let mut best = None;
        for k in 0..n {
            let index = (start + k) % n;
            if candidates.eligible(index) {
                best = self.better(candidates, index, best);
            }
        }
        best.map(|(index, _, _)| index)
    }
}
