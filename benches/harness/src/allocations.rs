//! Allocations per call: a counting global allocator, and one call of the framework (client
//! and server stacks in one process, over an in-memory byte stream) measured with it. The
//! `call` bench prints the figures; `tests/allocations.rs` holds them to a bound.
//!
//! A binary that measures declares the allocator itself:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: rpc_bench::allocations::Counting = rpc_bench::allocations::Counting;
//! ```

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use rpc::{CallOptions, Channel, Protocol, SerializationId};

use crate::payload::Payload;
use crate::systems::rpc_binary::{EchoClient, EchoImpl, EchoServer};

/// The system allocator, counting allocations (and reallocations) and their bytes.
pub struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed to the system allocator unchanged; counting has no effect on it.
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

/// A single-threaded runtime, as the measurements use.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

/// A client wired to a server through an in-memory duplex stream, on `rt`.
pub fn in_process_client(rt: &tokio::runtime::Runtime, serialization: SerializationId) -> EchoClient {
    rt.block_on(async {
        let (client_io, server_io) = tokio::io::duplex(256 * 1024);
        tokio::spawn(rpc::Server::builder().add_service(EchoServer::new(EchoImpl)).serve_io(server_io));
        let channel = Channel::builder().connect_io(client_io, "in-process");
        EchoClient::new(channel).with_options(CallOptions::new().serialization(serialization))
    })
}

/// A client of a server in this process over loopback TCP, speaking `protocol` (the
/// protocols other than ours need a real socket to be detected on).
pub fn loopback_client(rt: &tokio::runtime::Runtime, protocol: Protocol, serialization: SerializationId) -> EchoClient {
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(rpc::Server::builder().add_service(EchoServer::new(EchoImpl)).bind_listener(listener).serve());
        let channel = Channel::builder().protocol(protocol).connect(addr).await.expect("connect");
        EchoClient::new(channel).with_options(CallOptions::new().serialization(serialization))
    })
}

/// Allocations and bytes allocated per echo call of a `size`-byte payload, averaged over
/// `calls` sequential calls after a warm-up. Meaningful only in a binary whose global
/// allocator is [`Counting`], and with nothing else running in the process meanwhile.
pub fn per_call(rt: &tokio::runtime::Runtime, serialization: SerializationId, size: usize, calls: u64) -> (f64, f64) {
    per_call_of(rt, &in_process_client(rt, serialization), size, calls)
}

/// [`per_call`] for any client (both ends in this process).
pub fn per_call_of(rt: &tokio::runtime::Runtime, client: &EchoClient, size: usize, calls: u64) -> (f64, f64) {
    let payload = Payload { data: Bytes::from(vec![7u8; size]) };
    let (count, bytes) = rt.block_on(async {
        for _ in 0..1_000 {
            client.echo(payload.clone()).await.expect("warm-up call");
        }
        let (count0, bytes0) = (ALLOCATIONS.load(Ordering::Relaxed), ALLOCATED_BYTES.load(Ordering::Relaxed));
        for _ in 0..calls {
            std::hint::black_box(client.echo(payload.clone()).await.expect("call"));
        }
        (ALLOCATIONS.load(Ordering::Relaxed) - count0, ALLOCATED_BYTES.load(Ordering::Relaxed) - bytes0)
    });
    (count as f64 / calls as f64, bytes as f64 / calls as f64)
}
