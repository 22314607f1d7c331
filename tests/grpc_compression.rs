//! gRPC message compression against real peers: grpcio (gzip) and tonic (gzip, zstd) both
//! ways, and on the wire: the flag and headers a compressed reply carries, an encoding we do
//! not know, and a small message that inflates past the limit.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use common::greeter::{GreeterClient, GreeterImpl, GreeterServer, HelloReply, HelloRequest};
use common::h2::raw_call;
use prost::Message;
use rpc::transport::Compression;
use rpc::{Channel, Protocol, SerializationId};
use tonic::codec::CompressionEncoding;
use tonic_prost::ProstCodec;

const SAY_HELLO: &str = "/helloworld.Greeter/SayHello";

async fn provider(compression: Compression) -> SocketAddr {
    let bound = rpc::Server::builder()
        .max_frame_size(1 << 20)
        .grpc_compression(compression, 1024)
        .add_service(GreeterServer::new(GreeterImpl::default()))
        .bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = bound.local_addr().expect("addr");
    tokio::spawn(bound.serve());
    addr
}

fn long_name() -> String {
    "compress me ".repeat(6000)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// `message` in a gRPC prefix flagged compressed.
fn compressed_frame(message: &[u8]) -> Bytes {
    let mut out = vec![1];
    out.extend_from_slice(&(message.len() as u32).to_be_bytes());
    out.extend_from_slice(message);
    out.into()
}

#[tokio::test]
async fn on_the_wire_a_compressed_request_gets_a_compressed_reply() {
    let addr = provider(Compression::Gzip).await;
    let name = long_name();
    let request = HelloRequest { name: name.clone(), sleep_ms: 0 }.encode_to_vec();
    let headers = [
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("grpc-encoding", "gzip"),
        ("grpc-accept-encoding", "gzip"),
    ];
    let reply = raw_call(addr, SAY_HELLO, &headers, compressed_frame(&gzip(&request))).await;
    assert_eq!(reply.grpc_status(), Some("0"), "{:?} {:?}", reply.headers, reply.trailers);
    assert_eq!(reply.headers.get("grpc-encoding").map(|v| v.to_str().unwrap()), Some("gzip"));
    assert_eq!(reply.body[0], 1, "the reply's message is flagged compressed");
    let len = u32::from_be_bytes(reply.body[1..5].try_into().unwrap()) as usize;
    assert!(len < name.len() / 10, "{len} bytes on the wire for a {}-byte reply", name.len());
    let mut inflated = Vec::new();
    flate2::read::GzDecoder::new(&reply.body[5..5 + len]).read_to_end(&mut inflated).unwrap();
    assert_eq!(HelloReply::decode(&inflated[..]).unwrap().message, format!("Hello {name}"));

    // A caller that does not list gzip gets a plain reply.
    let plain = [("content-type", "application/grpc"), ("te", "trailers")];
    let framed: Bytes = common::h2::framed(&request).into();
    let reply = raw_call(addr, SAY_HELLO, &plain, framed).await;
    assert_eq!((reply.grpc_status(), reply.body[0]), (Some("0"), 0));
    assert!(reply.headers.get("grpc-encoding").is_none());
}

#[tokio::test]
async fn an_unknown_encoding_and_a_decompression_bomb_are_refused() {
    let addr = provider(Compression::Gzip).await;
    let request = HelloRequest { name: "ada".into(), sleep_ms: 0 }.encode_to_vec();
    let snappy = [("content-type", "application/grpc"), ("te", "trailers"), ("grpc-encoding", "snappy")];
    let reply = raw_call(addr, SAY_HELLO, &snappy, compressed_frame(&request)).await;
    assert_eq!(reply.grpc_status(), Some("12"), "UNIMPLEMENTED");
    assert_eq!(reply.headers.get("grpc-accept-encoding").map(|v| v.to_str().unwrap()), Some("gzip,zstd"));

    // 1 MiB of zeros squeezed to about a kilobyte: over the 1 MiB limit once inflated.
    let bomb = gzip(&vec![0u8; (1 << 20) + 1]);
    assert!(bomb.len() < 8 * 1024);
    let gzip_headers = [("content-type", "application/grpc"), ("te", "trailers"), ("grpc-encoding", "gzip")];
    let reply = raw_call(addr, SAY_HELLO, &gzip_headers, compressed_frame(&bomb)).await;
    assert_eq!(reply.grpc_status(), Some("8"), "RESOURCE_EXHAUSTED: {:?}", reply.headers);
    // Garbage flagged as gzip.
    let reply = raw_call(addr, SAY_HELLO, &gzip_headers, compressed_frame(b"not gzip at all")).await;
    assert_eq!(reply.grpc_status(), Some("13"), "INTERNAL: {:?}", reply.headers);
    // The provider still serves.
    let client = GreeterClient::new(Channel::builder().protocol(Protocol::Grpc).connect(addr).await.unwrap())
        .with_options(rpc::CallOptions::new().serialization(SerializationId::Protobuf));
    assert_eq!(client.say_hello(HelloRequest { name: "ada".into(), sleep_ms: 0 }).await.unwrap().message, "Hello ada");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcio_sends_and_receives_gzip() {
    let addr = provider(Compression::Gzip).await;
    let cases = common::python::run_cases("compressed_client.py", &[&addr.to_string()], Duration::from_secs(60)).await;
    for case in ["gzip_long", "gzip_short", "plain_long", "channel_gzip"] {
        assert_eq!(cases[case]["ok"], true, "{case}: {:?}", cases[case]);
        assert_eq!(cases[case]["matches"], true, "{case}: {:?}", cases[case]);
    }
}

#[tokio::test]
async fn tonic_and_rpc_speak_zstd_and_gzip_both_ways() {
    for (compression, encoding) in
        [(Compression::Zstd, CompressionEncoding::Zstd), (Compression::Gzip, CompressionEncoding::Gzip)]
    {
        // tonic's client against our provider.
        let addr = provider(compression).await;
        let channel = tonic::transport::Endpoint::new(format!("http://{addr}")).unwrap().connect().await.unwrap();
        let mut grpc = tonic::client::Grpc::new(channel).send_compressed(encoding).accept_compressed(encoding);
        grpc.ready().await.unwrap();
        let name = long_name();
        let request = tonic::Request::new(HelloRequest { name: name.clone(), sleep_ms: 0 });
        let codec = ProstCodec::<HelloRequest, HelloReply>::default();
        let reply = grpc.unary(request, http::uri::PathAndQuery::from_static(SAY_HELLO), codec).await;
        assert_eq!(reply.expect("tonic's compressed call").into_inner().message, format!("Hello {name}"));

        // Our client against tonic's server, which only accepts and sends this encoding.
        let addr = tonic_server::serve(encoding).await;
        let channel = Channel::builder()
            .protocol(Protocol::Grpc)
            .grpc_compression(compression, 1024)
            .connect(addr)
            .await
            .unwrap();
        let client =
            GreeterClient::new(channel).with_options(rpc::CallOptions::new().serialization(SerializationId::Protobuf));
        let reply =
            client.say_hello(HelloRequest { name: name.clone(), sleep_ms: 0 }).await.expect("our compressed call");
        assert_eq!(reply.message, format!("tonic: Hello {name}"));
        assert_eq!(reply.tenant, compression.name(), "tonic saw the request arrive in {compression:?}");
    }
}

mod tonic_server {
    use std::convert::Infallible;
    use std::task::{Context, Poll};

    use tonic::body::Body;
    use tonic::codec::CompressionEncoding;
    use tonic::codegen::http;
    use tonic_prost::ProstCodec;

    use super::{HelloReply, HelloRequest, SAY_HELLO};

    /// Answers SayHello with the request's `grpc-encoding` in `tenant`; accepts and sends
    /// only `encoding`.
    #[derive(Clone)]
    struct Greeter(CompressionEncoding);

    impl tonic::server::NamedService for Greeter {
        const NAME: &'static str = "helloworld.Greeter";
    }

    impl tower::Service<http::Request<Body>> for Greeter {
        type Response = http::Response<Body>;
        type Error = Infallible;
        type Future = tonic::codegen::BoxFuture<Self::Response, Infallible>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, request: http::Request<Body>) -> Self::Future {
            let encoding = self.0;
            let sent_in =
                request.headers().get("grpc-encoding").and_then(|v| v.to_str().ok()).unwrap_or("identity").to_string();
            Box::pin(async move {
                if request.uri().path() != SAY_HELLO {
                    return Ok(tonic::Status::unimplemented("no such method").into_http());
                }
                let say_hello = tower::service_fn(move |request: tonic::Request<HelloRequest>| {
                    let sent_in = sent_in.clone();
                    async move {
                        let message = format!("tonic: Hello {}", request.into_inner().name);
                        Ok::<_, tonic::Status>(tonic::Response::new(HelloReply {
                            message,
                            tenant: sent_in,
                            remaining_ms: 0,
                        }))
                    }
                });
                let mut grpc = tonic::server::Grpc::new(ProstCodec::<HelloReply, HelloRequest>::default())
                    .accept_compressed(encoding)
                    .send_compressed(encoding);
                Ok(grpc.unary(say_hello, request).await)
            })
        }
    }

    pub async fn serve(encoding: CompressionEncoding) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let incoming = tonic::transport::server::TcpIncoming::from(listener);
        tokio::spawn(tonic::transport::Server::builder().add_service(Greeter(encoding)).serve_with_incoming(incoming));
        addr
    }
}
