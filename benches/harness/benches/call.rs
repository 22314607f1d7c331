//! A whole call through the client stack and the server stack in one process, over an
//! in-memory byte stream (no sockets): the framework's own cost per call. Before timing, it
//! counts the allocations one call makes, with a counting global allocator.
//!
//! ```text
//! cargo bench -p rpc-bench --bench call
//! ```

use criterion::{BenchmarkId, Criterion, Throughput};
use rpc::SerializationId;
use rpc_bench::allocations::{self, in_process_client, runtime};
use rpc_bench::payload::Payload;

use bytes::Bytes;

#[global_allocator]
static ALLOCATOR: allocations::Counting = allocations::Counting;

/// Allocations (and bytes) per call, averaged over many sequential calls after a warm-up.
fn allocations_per_call() {
    let rt = runtime();
    for serialization in [SerializationId::MsgPack, SerializationId::Protobuf] {
        for size in [64usize, 1024] {
            let (count, bytes) = allocations::per_call(&rt, serialization, size, 10_000);
            println!("allocations per call ({serialization}, {size} B payload): {count:.2} ({bytes:.0} bytes)");
        }
    }
}

fn in_process_calls(c: &mut Criterion) {
    let rt = runtime();
    let mut group = c.benchmark_group("call/in-process");
    for serialization in [SerializationId::MsgPack, SerializationId::Protobuf] {
        for size in [64usize, 1024] {
            let client = in_process_client(&rt, serialization);
            let payload = Payload { data: Bytes::from(vec![7u8; size]) };
            group.throughput(Throughput::Elements(1));
            group.bench_function(BenchmarkId::new(serialization.name(), size), |b| {
                b.iter(|| rt.block_on(client.echo(payload.clone())).expect("call"))
            });
        }
    }
    group.finish();
}

fn main() {
    allocations_per_call();
    let mut criterion = Criterion::default().configure_from_args();
    in_process_calls(&mut criterion);
    criterion.final_summary();
}
