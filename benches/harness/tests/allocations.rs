//! Allocations per call stay what the documentation says (docs/performance): almost none for
//! msgpack and protobuf (byte fields are slices of the frame: prost's `bytes` fields, and the
//! payload's `shared_bytes` field under msgpack; bodies are cut from a per-thread block). The only test in this
//! binary, so nothing else allocates meanwhile; the bounds leave room for a debug build.

use rpc::SerializationId;
use rpc_bench::allocations::{self, runtime};

#[global_allocator]
static ALLOCATOR: allocations::Counting = allocations::Counting;

#[test]
fn a_call_allocates_no_more_than_its_decoded_payloads() {
    let rt = runtime();
    for (serialization, bound) in [(SerializationId::MsgPack, 1.0), (SerializationId::Protobuf, 1.0)] {
        for size in [64usize, 1024] {
            let (count, bytes) = allocations::per_call(&rt, serialization, size, 5_000);
            println!("{serialization}, {size} B: {count:.2} allocations ({bytes:.0} bytes) per call");
            assert!(count <= bound, "{serialization}, {size} B: {count:.2} allocations per call, over {bound}");
        }
    }
    // dubbo2 with Hessian2 (both ends ours, over loopback): the names and attachments of a
    // body share its memory; what allocates is the payload's copies, the class definition
    // each body carries, and the call's future.
    let dubbo = allocations::loopback_client(&rt, rpc::Protocol::Dubbo, SerializationId::Hessian2);
    for size in [64usize, 1024] {
        let (count, bytes) = allocations::per_call_of(&rt, &dubbo, size, 5_000);
        println!("dubbo2 + hessian2, {size} B: {count:.2} allocations ({bytes:.0} bytes) per call");
        assert!(count <= 40.0, "dubbo2, {size} B: {count:.2} allocations per call");
    }
}
