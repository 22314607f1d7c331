//! gRPC's message framing, Triple's wrapper messages, `grpc-timeout` and metadata.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rpc_core::fuzz::grpc_body(data);
    if let Ok(text) = std::str::from_utf8(data) {
        rpc_core::fuzz::grpc_timeout(text);
    }
    // Metadata: `name\0value\0name\0value…`.
    let parts: Vec<&[u8]> = data.split(|&b| b == 0).collect();
    let pairs: Vec<(&[u8], &[u8])> = parts.chunks(2).filter_map(|p| Some((p[0], *p.get(1)?))).collect();
    rpc_core::fuzz::grpc_metadata(&pairs);
});
