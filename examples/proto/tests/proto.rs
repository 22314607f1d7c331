//! The service generated from greeter.proto, served by `rpc::Server` and called by the
//! generated client over both protocols and by a tonic client.

use rpc::{Code, Protocol};
use rpc_example_proto::{
    GreeterClient, GreeterServer, Greetings, HelloReply, HelloRequest, LetterCount, GREETER_DESCRIPTOR,
};
use tonic::codegen::http::uri::PathAndQuery;
use tonic_prost::ProstCodec;

#[test]
fn the_descriptor_follows_the_proto() {
    assert_eq!(GREETER_DESCRIPTOR.name, "helloworld.Greeter");
    assert!(GREETER_DESCRIPTOR.method("SayHello").expect("SayHello").idempotent, "idempotency_level = IDEMPOTENT");
    assert!(!GREETER_DESCRIPTOR.method("CountLetters").expect("CountLetters").idempotent);
}

#[tokio::test]
async fn rpc_and_tonic_clients_call_the_generated_service() {
    let bound =
        rpc::Server::builder().add_service(GreeterServer::new(Greetings::default())).bind("127.0.0.1:0").await.unwrap();
    let addr = bound.local_addr().unwrap();
    tokio::spawn(bound.serve());

    for protocol in [Protocol::Binary, Protocol::Grpc] {
        let channel = rpc::Channel::builder().protocol(protocol).connect(addr).await.unwrap();
        let client = GreeterClient::new(channel);
        let reply = client.say_hello(HelloRequest { name: "ada".into() }).await.unwrap();
        assert_eq!(reply.message, "Hello ada", "{protocol:?}");
        let count = client.count_letters(HelloRequest { name: "a-d-a".into() }).await.unwrap();
        assert_eq!(count.letters, 3);
        let empty = client.say_hello(HelloRequest { name: String::new() }).await.unwrap_err();
        assert_eq!(empty.code(), Code::InvalidArgument);
    }

    let channel = tonic::transport::Endpoint::new(format!("http://{addr}")).unwrap().connect().await.unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    let reply = grpc
        .unary(
            tonic::Request::new(HelloRequest { name: "tonic".into() }),
            PathAndQuery::from_static("/helloworld.Greeter/SayHello"),
            ProstCodec::<HelloRequest, HelloReply>::default(),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply.message, "Hello tonic");
    grpc.ready().await.unwrap();
    let count = grpc
        .unary(
            tonic::Request::new(HelloRequest { name: "abc".into() }),
            PathAndQuery::from_static("/helloworld.Greeter/CountLetters"),
            ProstCodec::<HelloRequest, LetterCount>::default(),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!((count.letters, count.calls_so_far), (3, 3), "the third CountLetters call on this provider");

    // The bidirectional Chat, from tonic and from the generated client over both protocols.
    grpc.ready().await.unwrap();
    let names = futures_util::stream::iter(["a", "b"].map(|name| HelloRequest { name: name.into() }));
    let mut replies = grpc
        .streaming(
            tonic::Request::new(names),
            PathAndQuery::from_static("/helloworld.Greeter/Chat"),
            ProstCodec::<HelloRequest, HelloReply>::default(),
        )
        .await
        .unwrap()
        .into_inner();
    assert_eq!(replies.message().await.unwrap().unwrap().message, "Hello a");
    assert_eq!(replies.message().await.unwrap().unwrap().message, "Hello b");
    assert!(replies.message().await.unwrap().is_none());
    for protocol in [Protocol::Binary, Protocol::Grpc] {
        let client = GreeterClient::new(rpc::Channel::builder().protocol(protocol).connect(addr).await.unwrap());
        let names = futures_util::stream::iter(["x", "y", "z"].map(|name| HelloRequest { name: name.into() }));
        let replies: Vec<String> = futures_util::StreamExt::collect::<Vec<_>>(client.chat(names).await.unwrap())
            .await
            .into_iter()
            .map(|r| r.unwrap().message)
            .collect();
        assert_eq!(replies, ["Hello x", "Hello y", "Hello z"], "{protocol:?}");
    }
}
