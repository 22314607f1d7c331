use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Candidates, Picker};
use crate::Request;

/// Each endpoint in turn: one shared counter, O(1).
#[derive(Default)]
pub(crate) struct RoundRobin {
    next: AtomicUsize,
}

impl Picker for RoundRobin {
    fn pick(&self, candidates: &Candidates<'_>, _: &Request) -> Option<usize> {
        if candidates.len() == 0 {
            return None;
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % candidates.len();
        candidates.scan_from(start)
    }
}
