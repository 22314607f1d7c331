//! Micro-benchmarks of the wire format: framing a request and reading it back, and each
//! serialization, at 64 B, 1 KiB and 64 KiB payloads.
//!
//! ```text
//! cargo bench --bench codec
//! ```

use std::hint::black_box;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rpc::codec::{Frame, FrameCodec, Hessian2, Inbound, Json, Metadata, MsgPack, Protobuf, Serialization};
use tokio_util::codec::{Decoder, Encoder};

const SIZES: [usize; 3] = [64, 1024, 64 * 1024];

#[derive(Clone, PartialEq, prost::Message, serde::Serialize, serde::Deserialize)]
struct Payload {
    #[prost(uint64, tag = "1")]
    id: u64,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(bytes = "vec", tag = "3")]
    data: Vec<u8>,
}

fn payload(size: usize) -> Payload {
    Payload { id: 42, name: "benchmark".into(), data: vec![0xab; size] }
}

fn request(size: usize) -> Frame {
    let mut metadata = Metadata::call("bench.Echo", "echo");
    metadata.version = "1.0.0".into();
    metadata.timeout = Some(Duration::from_millis(500));
    metadata.attachments.insert("trace-id", "0123456789abcdef");
    Frame::request(1, metadata, Bytes::from(vec![0xcd; size]))
}

fn framing(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame");
    for size in SIZES {
        let frame = request(size);
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("encode", size), &frame, |b, frame| {
            let mut codec = FrameCodec::default();
            let mut buf = BytesMut::with_capacity(size + 256);
            b.iter(|| {
                buf.clear();
                codec.encode(frame.clone(), &mut buf).unwrap();
                black_box(buf.len())
            })
        });
        let mut wire = BytesMut::new();
        FrameCodec::default().encode(frame, &mut wire).unwrap();
        let wire = wire.freeze();
        group.bench_with_input(BenchmarkId::new("decode", size), &wire, |b, wire| {
            let mut codec = FrameCodec::default();
            b.iter(|| {
                let mut buf = BytesMut::from(&wire[..]);
                match codec.decode(&mut buf).unwrap() {
                    Some(Inbound::Frame(frame)) => black_box(frame.body.len()),
                    other => panic!("{other:?}"),
                }
            })
        });
    }
    group.finish();
}

fn round_trip<F: Serialization<T>, T>(value: &T, buf: &mut BytesMut) -> T {
    buf.clear();
    F::serialize(value, buf).unwrap();
    F::deserialize(buf).unwrap()
}

fn serialization(c: &mut Criterion) {
    let mut group = c.benchmark_group("serialize+deserialize");
    for size in SIZES {
        let value = payload(size);
        group.throughput(Throughput::Bytes(size as u64));
        let mut buf = BytesMut::with_capacity(4 * size + 256);
        group.bench_with_input(BenchmarkId::new("msgpack", size), &value, |b, v| {
            b.iter(|| black_box(round_trip::<MsgPack, _>(v, &mut buf)))
        });
        group.bench_with_input(BenchmarkId::new("json", size), &value, |b, v| {
            b.iter(|| black_box(round_trip::<Json, _>(v, &mut buf)))
        });
        group.bench_with_input(BenchmarkId::new("protobuf", size), &value, |b, v| {
            b.iter(|| black_box(round_trip::<Protobuf, _>(v, &mut buf)))
        });
        group.bench_with_input(BenchmarkId::new("hessian2", size), &value, |b, v| {
            b.iter(|| black_box(round_trip::<Hessian2, _>(v, &mut buf)))
        });
    }
    group.finish();
}

/// A Java bean of about 1 KiB: strings, numbers, a list and a map, as Dubbo calls carry them.
#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename = "org.apache.dubbo.samples.api.Order")]
struct Order {
    id: i64,
    customer: String,
    email: String,
    total: f64,
    paid: bool,
    lines: Vec<Line>,
    tags: Vec<String>,
    notes: Option<String>,
}

#[derive(Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename = "org.apache.dubbo.samples.api.Line")]
struct Line {
    sku: String,
    quantity: i32,
    price: f64,
}

fn order() -> Order {
    Order {
        id: 1_234_567_890_123,
        customer: "Ada Lovelace".into(),
        email: "ada@example.org".into(),
        total: 1234.5,
        paid: true,
        lines: (0..16)
            .map(|i| Line { sku: format!("SKU-{i:08}-BLUE-LARGE"), quantity: i, price: 9.99 + f64::from(i) })
            .collect(),
        tags: (0..12).map(|i| format!("tag-{i}")).collect(),
        notes: Some("leave at the door, ring twice".into()),
    }
}

fn encoded_len<F: Serialization<T>, T>(value: &T) -> usize {
    let mut buf = BytesMut::new();
    F::serialize(value, &mut buf).unwrap();
    buf.len()
}

/// A struct of about 1 KiB (its encoded sizes are printed), encoded then decoded.
fn structs(c: &mut Criterion) {
    let mut group = c.benchmark_group("struct-1KiB");
    let value = order();
    let mut buf = BytesMut::with_capacity(4096);
    for (name, len) in [
        ("msgpack", encoded_len::<MsgPack, _>(&value)),
        ("hessian2", encoded_len::<Hessian2, _>(&value)),
        ("json", encoded_len::<Json, _>(&value)),
    ] {
        eprintln!("struct-1KiB/{name}: {len} bytes encoded");
    }
    group.bench_function("msgpack", |b| b.iter(|| black_box(round_trip::<MsgPack, _>(&value, &mut buf))));
    group.bench_function("hessian2", |b| b.iter(|| black_box(round_trip::<Hessian2, _>(&value, &mut buf))));
    group.bench_function("json", |b| b.iter(|| black_box(round_trip::<Json, _>(&value, &mut buf))));
    group.finish();
}

criterion_group!(benches, framing, serialization, structs);
criterion_main!(benches);
