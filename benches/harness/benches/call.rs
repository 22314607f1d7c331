//! A whole call through the client stack and the server stack in one process, over an
//! in-memory byte stream (no sockets): the framework's own cost per call. Before timing, it
//! counts the allocations one call makes, with a counting global allocator.
//!
//! ```text
//! cargo bench -p rpc-bench --bench call
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use criterion::{BenchmarkId, Criterion, Throughput};
use rpc::{CallOptions, Channel, SerializationId};
use rpc_bench::payload::Payload;
use rpc_bench::systems::rpc_binary::{EchoClient, EchoImpl, EchoServer};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        ALLOCATED_BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// A client wired to a server through an in-memory duplex stream, on `rt`.
fn in_process_client(rt: &tokio::runtime::Runtime, serialization: SerializationId) -> EchoClient {
    rt.block_on(async {
        let (client_io, server_io) = tokio::io::duplex(256 * 1024);
        tokio::spawn(rpc::Server::builder().add_service(EchoServer::new(EchoImpl)).serve_io(server_io));
        let channel = Channel::builder().connect_io(client_io, "in-process");
        EchoClient::new(channel).with_options(CallOptions::new().serialization(serialization))
    })
}

/// Allocations (and bytes) per call, averaged over many sequential calls after a warm-up.
fn allocations_per_call() {
    let rt = runtime();
    for serialization in [SerializationId::MsgPack, SerializationId::Protobuf] {
        for size in [64usize, 1024] {
            let client = in_process_client(&rt, serialization);
            let payload = Payload { data: Bytes::from(vec![7u8; size]) };
            let calls = 10_000u64;
            let (count, bytes) = rt.block_on(async {
                for _ in 0..1_000 {
                    client.echo(payload.clone()).await.expect("warm-up call");
                }
                let (count0, bytes0) = (ALLOCATIONS.load(Ordering::Relaxed), ALLOCATED_BYTES.load(Ordering::Relaxed));
                for _ in 0..calls {
                    black_box(client.echo(payload.clone()).await.expect("call"));
                }
                (ALLOCATIONS.load(Ordering::Relaxed) - count0, ALLOCATED_BYTES.load(Ordering::Relaxed) - bytes0)
            });
            println!(
                "allocations per call ({serialization}, {size} B payload): {:.2} ({:.0} bytes)",
                count as f64 / calls as f64,
                bytes as f64 / calls as f64
            );
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
