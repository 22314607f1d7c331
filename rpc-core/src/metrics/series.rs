//! The handles a layer records one service's method into, looked up once and kept.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use arc_swap::ArcSwap;
use metrics::{Counter, Gauge, Histogram, Label};

use super::code;
use super::names::{DubboNames, Naming, RpcNames, Side, DUBBO_CONSUMER, DUBBO_PROVIDER, RPC_CLIENT, RPC_SERVER};
use crate::{Code, Request};

/// Distinct label sets a layer records at most. A caller names the service and method it
/// calls, existing or not; past this many, calls count under [`OTHER`] rather than growing
/// the series (and the scrape) without bound.
pub(super) const MAX_METHODS: usize = 1024;

/// The `service` and `method` label of calls past [`MAX_METHODS`].
pub(super) const OTHER: &str = "_other";

/// One method's series: in flight, duration and outcomes.
pub(super) struct MethodSeries {
    key: [Box<str>; 4],
    labels: Vec<Label>,
    in_flight: Gauge,
    duration: Histogram,
    outcomes: Outcomes,
}

// One per method, behind an `Arc`: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Outcomes {
    /// One counter per code, made when the code first occurs (a series appears once it
    /// has something to say, as Dubbo's do).
    ByCode { name: &'static str, counters: [OnceLock<Counter>; 17] },
    Dubbo {
        names: &'static DubboNames,
        total: Counter,
        succeed: Counter,
        failed: Counter,
        rt_last: Gauge,
        kinds: [OnceLock<Counter>; 5],
    },
}

impl MethodSeries {
    fn new(key: [Box<str>; 4], side: Side, naming: &Naming) -> MethodSeries {
        let [service, method, group, version] = &key;
        match naming {
            Naming::Rpc => {
                let names: &RpcNames = if side == Side::Server { &RPC_SERVER } else { &RPC_CLIENT };
                let labels = vec![Label::new("service", service.to_string()), Label::new("method", method.to_string())];
                MethodSeries {
                    in_flight: metrics::gauge!(names.in_flight, labels.clone()),
                    duration: metrics::histogram!(names.duration, labels.clone()),
                    outcomes: Outcomes::ByCode { name: names.requests, counters: Default::default() },
                    labels,
                    key,
                }
            }
            Naming::Dubbo { application } => {
                let names: &'static DubboNames = if side == Side::Server { &DUBBO_PROVIDER } else { &DUBBO_CONSUMER };
                let labels = vec![
                    Label::new("application_name", application.clone()),
                    Label::new("interface", service.to_string()),
                    Label::new("method", method.to_string()),
                    Label::new("group", group.to_string()),
                    Label::new("version", version.to_string()),
                ];
                MethodSeries {
                    in_flight: metrics::gauge!(names.processing, labels.clone()),
                    duration: metrics::histogram!(names.rt_histogram, labels.clone()),
                    outcomes: Outcomes::Dubbo {
                        names,
                        total: metrics::counter!(names.total, labels.clone()),
                        succeed: metrics::counter!(names.succeed, labels.clone()),
                        failed: metrics::counter!(names.failed, labels.clone()),
                        rt_last: metrics::gauge!(names.rt_last, labels.clone()),
                        kinds: Default::default(),
                    },
                    labels,
                    key,
                }
            }
        }
    }

    fn is(&self, key: &[&str; 4]) -> bool {
        self.key.iter().zip(key).all(|(mine, theirs)| **mine == **theirs)
    }

    /// A call started.
    pub(super) fn start(&self) {
        self.in_flight.increment(1.0);
    }

    /// The call started last finished with `code` after `elapsed`.
    pub(super) fn finish(&self, code: Code, elapsed: Duration) {
        self.in_flight.decrement(1.0);
        self.duration.record(elapsed.as_secs_f64());
        match &self.outcomes {
            Outcomes::ByCode { name, counters } => {
                let counter = counters[code as usize].get_or_init(|| {
                    let mut labels = self.labels.clone();
                    labels.push(Label::new("code", code::label(code)));
                    metrics::counter!(*name, labels)
                });
                counter.increment(1);
            }
            Outcomes::Dubbo { names, total, succeed, failed, rt_last, kinds } => {
                total.increment(1);
                rt_last.set(elapsed.as_secs_f64() * 1e3);
                if code == Code::Ok {
                    succeed.increment(1);
                    return;
                }
                failed.increment(1);
                // Dubbo's failure kinds: its timeout, limit and no-provider exceptions, and
                // errors of the service itself.
                let (kind, name) = match code {
                    Code::DeadlineExceeded => (0, names.timeout),
                    Code::ResourceExhausted => (1, names.limit),
                    Code::Unavailable => (2, names.service_unavailable),
                    Code::Unknown => (3, names.unknown_failed),
                    _ => (4, names.business_failed),
                };
                kinds[kind].get_or_init(|| metrics::counter!(name, self.labels.clone())).increment(1);
            }
        }
    }
}

/// A layer's [`MethodSeries`], by label set. Reads take no lock: the map is replaced whole
/// when a method is first seen, which happens at most [`MAX_METHODS`] times.
pub(super) struct SeriesCache {
    side: Side,
    naming: Naming,
    by_hash: ArcSwap<HashMap<u64, Vec<Arc<MethodSeries>>>>,
    hasher: foldhash::fast::RandomState,
    /// Serializes inserts (two first calls of one method make one entry).
    insert: Mutex<usize>,
    overflow: OnceLock<Arc<MethodSeries>>,
}

impl SeriesCache {
    pub(super) fn new(side: Side, naming: Naming) -> SeriesCache {
        SeriesCache {
            side,
            naming,
            by_hash: ArcSwap::default(),
            hasher: foldhash::fast::RandomState::default(),
            insert: Mutex::new(0),
            overflow: OnceLock::new(),
        }
    }

    pub(super) fn side(&self) -> Side {
        self.side
    }

    /// The series `request` records into.
    pub(super) fn of(&self, request: &Request) -> Arc<MethodSeries> {
        let key = match self.naming {
            // Group and version are no labels of these names: one series for all of them.
            Naming::Rpc => [request.service(), request.method(), "", ""],
            Naming::Dubbo { .. } => [request.service(), request.method(), request.group(), request.version()],
        };
        let hash = self.hash(&key);
        if let Some(found) = self.find(hash, &key) {
            return found;
        }
        let mut count = self.insert.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = self.find(hash, &key) {
            return found;
        }
        if *count >= MAX_METHODS {
            return self.overflow.get_or_init(|| self.make([OTHER, OTHER, "", ""])).clone();
        }
        let made = self.make(key);
        let mut map = HashMap::clone(&self.by_hash.load());
        map.entry(hash).or_default().push(made.clone());
        self.by_hash.store(Arc::new(map));
        *count += 1;
        made
    }

    fn find(&self, hash: u64, key: &[&str; 4]) -> Option<Arc<MethodSeries>> {
        self.by_hash.load().get(&hash)?.iter().find(|series| series.is(key)).cloned()
    }

    fn hash(&self, key: &[&str; 4]) -> u64 {
        self.hasher.hash_one(key)
    }

    fn make(&self, key: [&str; 4]) -> Arc<MethodSeries> {
        Arc::new(MethodSeries::new(key.map(Box::from), self.side, &self.naming))
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;

    #[test]
    fn dubbo_names_count_outcomes_by_kind_with_dubbo_labels() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            let cache = SeriesCache::new(Side::Server, Naming::Dubbo { application: "shop".into() });
            let mut request = Request::new("demo.Cart", "add", Bytes::new());
            request.set_group("eu");
            request.set_version("2.0");
            let series = cache.of(&request);
            for code in [Code::Ok, Code::Ok, Code::DeadlineExceeded, Code::ResourceExhausted, Code::NotFound] {
                series.start();
                series.finish(code, Duration::from_millis(3));
            }
        });
        let text = handle.render();
        let labels = r#"{application_name="shop",interface="demo.Cart",method="add",group="eu",version="2.0"}"#;
        for (name, value) in [
            ("dubbo_provider_requests_total", 5),
            ("dubbo_provider_requests_succeed_total", 2),
            ("dubbo_provider_requests_failed_total", 3),
            ("dubbo_provider_requests_timeout_total", 1),
            ("dubbo_provider_requests_limit_total", 1),
            ("dubbo_provider_requests_business_failed_total", 1),
            ("dubbo_provider_requests_processing_total", 0),
            ("dubbo_provider_rt_milliseconds_last", 3),
        ] {
            assert!(text.contains(&format!("{name}{labels} {value}\n")), "{name} = {value} in:\n{text}");
        }
        assert!(!text.contains("requests_unknown_failed_total"), "a kind that never occurred has no series");
    }

    #[test]
    fn methods_past_the_bound_share_one_series() {
        let cache = SeriesCache::new(Side::Server, Naming::Rpc);
        let first = cache.of(&Request::new("svc", "m0", Bytes::new()));
        assert!(Arc::ptr_eq(&first, &cache.of(&Request::new("svc", "m0", Bytes::new()))));
        for n in 1..MAX_METHODS {
            cache.of(&Request::new("svc", format!("m{n}"), Bytes::new()));
        }
        let past = cache.of(&Request::new("svc", "one-too-many", Bytes::new()));
        assert_eq!(&*past.key[0], OTHER);
        assert!(Arc::ptr_eq(&past, &cache.of(&Request::new("other", "method", Bytes::new()))));
        assert!(Arc::ptr_eq(&first, &cache.of(&Request::new("svc", "m0", Bytes::new()))), "known methods keep theirs");
    }
}
