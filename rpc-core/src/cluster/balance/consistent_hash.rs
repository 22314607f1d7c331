use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{Candidates, HashKey, Picker};
use crate::cluster::{hash_key, Endpoint};
use crate::Request;

/// A hash ring: every endpoint owns `vnodes × weight / 100` points (hashes of `address#i`),
/// a key goes to the owner of the first point at or after its hash, O(log n). Removing an
/// endpoint moves only the keys it owned; an unavailable owner passes its keys to the next
/// owner round the ring. A request without its key is placed at random, and the first one
/// logs a warning (a missing attachment, an argument the method lacks).
pub(crate) struct ConsistentHash {
    /// (point, endpoint index), sorted by point.
    ring: Box<[(u64, u32)]>,
    key: HashKey,
    /// Whether a request without its key has been reported.
    warned: AtomicBool,
}

impl ConsistentHash {
    /// Merges the endpoints' cached points: adding or removing one endpoint hashes nothing
    /// again, it re-sorts the points.
    pub(crate) fn new(endpoints: &[Arc<Endpoint>], key: HashKey, vnodes: u32) -> ConsistentHash {
        let mut ring: Vec<(u64, u32)> = endpoints
            .iter()
            .enumerate()
            .flat_map(|(index, endpoint)| {
                endpoint.ring_points(vnodes.max(1)).iter().map(move |&p| (p, index as u32)).collect::<Vec<_>>()
            })
            .collect();
        ring.sort_unstable();
        ConsistentHash { ring: ring.into_boxed_slice(), key, warned: AtomicBool::new(false) }
    }

    fn key_of(&self, request: &Request) -> Option<u64> {
        match &self.key {
            HashKey::Arg(index) => request.arg_key(*index),
            HashKey::Attachment(name) => request.attachments().get(name).map(|v| hash_key(v.as_bytes())),
        }
    }
}

impl Picker for ConsistentHash {
    fn pick(&self, candidates: &Candidates<'_>, request: &Request) -> Option<usize> {
        if self.ring.is_empty() {
            return None;
        }
        let Some(key) = self.key_of(request) else {
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!(
                    service = request.service(),
                    method = request.method(),
                    key = ?self.key,
                    "consistent hashing: the call carries no such key, so it is placed at random (and so may others)"
                );
            }
            return candidates.scan_from(fastrand::usize(0..candidates.len()));
        };
        let start = self.ring.partition_point(|&(point, _)| point < key);
        let n = self.ring.len();
        (0..n).map(|k| self.ring[(start + k) % n].1 as usize).find(|&index| candidates.eligible(index))
    }
}
