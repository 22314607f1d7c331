//! The echoed message, the same for every system: one `bytes` field.

use bytes::Bytes;

/// A protobuf message (for tonic and our protobuf serialization) that serde writes as a
/// msgpack/bincode byte string rather than a list of numbers. Decoded by `rpc` from msgpack,
/// the field is a slice of the received body, as prost makes it from protobuf
/// (`shared_bytes`); bincode (tarpc) copies it, as it would without the attribute.
#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
pub struct Payload {
    #[prost(bytes = "bytes", tag = "1")]
    #[serde(with = "rpc::codec::shared_bytes")]
    pub data: Bytes,
}

/// A payload of `len` bytes: one repeated byte, or (`compressible`) JSON log lines whose
/// numbers vary, as a service's records do, from a fixed seed so that every run sends the
/// same bytes.
pub fn bytes(len: usize, compressible: bool) -> Bytes {
    if !compressible {
        return Bytes::from(vec![0x5a; len]);
    }
    const LEVELS: [&str; 3] = ["info", "warn", "debug"];
    const EVENTS: [&str; 4] = ["item added to cart", "payment authorized", "stock reserved", "session renewed"];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut text = String::with_capacity(len + 160);
    while text.len() < len {
        // xorshift64: cheap, deterministic, varied.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let (level, event) = (LEVELS[(state % 3) as usize], EVENTS[((state >> 8) % 4) as usize]);
        text.push_str(&format!(
            "{{\"ts\":{},\"level\":\"{level}\",\"service\":\"checkout\",\"user\":{},\"order\":\"{:x}\",\"msg\":\"{event}\"}}\n",
            1_700_000_000_000 + (state >> 40),
            (state >> 16) % 100_000,
            state >> 24,
        ));
    }
    text.truncate(len);
    Bytes::from(text)
}

/// `payload`'s size compressed as `rpc-grpc-gzip` and `rpc-grpc-zstd` send it (gzip's fast
/// level, zstd's level 1), for the report.
pub fn compressed_sizes(payload: &[u8]) -> String {
    use std::io::Write;
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let gzip = gzip.write_all(payload).and_then(|()| gzip.finish()).map(|v| v.len());
    let zstd = zstd::bulk::compress(payload, 1).map(|v| v.len());
    let ratio = |size: &std::io::Result<usize>| match size {
        Ok(size) => format!("{size} bytes ({:.1}x)", payload.len() as f64 / *size as f64),
        Err(e) => format!("failed: {e}"),
    };
    format!("payload {} bytes: gzip {}, zstd {}", payload.len(), ratio(&gzip), ratio(&zstd))
}
