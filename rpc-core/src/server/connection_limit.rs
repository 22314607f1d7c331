use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use crate::protocol::LogLimit;

/// How many connections a server holds open, in all and per peer IP address, and the limits
/// on both: a connection over either is closed as soon as it is accepted (so it holds no file
/// descriptor), and the refusal logged a few times a second at most.
pub(crate) struct ConnectionLimit {
    max_total: usize,
    max_per_ip: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// One admitted connection: counted until dropped.
pub(crate) struct Admitted {
    limit: Arc<ConnectionLimit>,
    ip: Option<IpAddr>,
}

impl ConnectionLimit {
    pub(crate) fn new(max_total: usize, max_per_ip: usize) -> Arc<ConnectionLimit> {
        Arc::new(ConnectionLimit { max_total, max_per_ip, open: Mutex::new(Open::default()) })
    }

    /// Counts a new connection from `ip` (`None`: a stream without an address), or `None`
    /// if it would exceed a limit.
    pub(crate) fn admit(self: &Arc<Self>, ip: Option<IpAddr>) -> Option<Admitted> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let from_ip = ip.map_or(0, |ip| open.per_ip.get(&ip).copied().unwrap_or(0));
        if open.total >= self.max_total || from_ip >= self.max_per_ip {
            let (total, max_total, max_per_ip) = (open.total, self.max_total, self.max_per_ip);
            drop(open);
            static REFUSALS: LogLimit = LogLimit::new(1);
            if let Some(suppressed) = REFUSALS.admit() {
                tracing::warn!(
                    ?ip,
                    total,
                    from_ip,
                    max_total,
                    max_per_ip,
                    suppressed,
                    "connection refused: over the limit"
                );
            }
            return None;
        }
        open.total += 1;
        if let Some(ip) = ip {
            *open.per_ip.entry(ip).or_default() += 1;
        }
        Some(Admitted { limit: self.clone(), ip })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.limit.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.total -= 1;
        if let Some(ip) = self.ip {
            if let Some(count) = open.per_ip.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    open.per_ip.remove(&ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_over_either_limit_are_refused_and_closing_one_makes_room() {
        let limit = ConnectionLimit::new(3, 2);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let first = limit.admit(Some(a)).unwrap();
        let _second = limit.admit(Some(a)).unwrap();
        assert!(limit.admit(Some(a)).is_none(), "a third from one address");
        let _third = limit.admit(Some(b)).unwrap();
        assert!(limit.admit(Some(b)).is_none(), "a fourth in all");
        drop(first);
        assert!(limit.admit(Some(a)).is_some(), "room again once one closed");
    }
}
