//! One pick of every load balancer over 10, 100 and 1,000 endpoints (no connections: the
//! balancers' own cost). Target: under 100 ns per pick at 1,000 endpoints.
//!
//! ```text
//! cargo bench --bench balance
//! ```

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion};
use rpc::cluster::balance::Balancer;
use rpc::cluster::{Balance, HashKey};
use rpc::registry::Instance;
use rpc::Request;

fn balancers() -> Vec<(&'static str, Balance)> {
    vec![
        ("round_robin", Balance::RoundRobin),
        ("smooth_weighted", Balance::WeightedRoundRobin),
        ("weighted_random", Balance::WeightedRandom),
        ("least_active", Balance::LeastActive),
        ("peak_ewma", Balance::PeakEwma),
        ("consistent_hash", Balance::ConsistentHash { key: HashKey::Attachment("user".into()), vnodes: 160 }),
    ]
}

fn picks(c: &mut Criterion) {
    let mut group = c.benchmark_group("pick");
    for n in [10usize, 100, 1000] {
        // Uneven weights, so the weighted balancers do real work.
        let instances: Vec<Instance> = (0..n)
            .map(|i| {
                Instance::new("svc", format!("10.{}.{}.{}:20880", i / 65536, (i / 256) % 256, i % 256))
                    .weight(50 + (i as u32 % 7) * 25)
            })
            .collect();
        let mut request = Request::new("svc", "get", bytes::Bytes::new());
        request.attachments_mut().insert("user", "alice");
        for (name, balance) in balancers() {
            let balancer = Balancer::new(&balance, &instances);
            group.bench_with_input(BenchmarkId::new(name, n), &request, |b, request| {
                b.iter(|| black_box(balancer.pick(black_box(request))))
            });
        }
    }
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    picks(&mut criterion);
    criterion.final_summary();
}
