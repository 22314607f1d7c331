//! `helloworld.Greeter` from `proto/greeter.proto`: prost messages and, from `rpc-build`, the
//! `Greeter` trait with its `GreeterClient` and `GreeterServer`; plus the implementation the
//! provider serves.

use std::sync::atomic::{AtomicU64, Ordering};

include!(concat!(env!("OUT_DIR"), "/helloworld.rs"));

/// The provider's implementation.
#[derive(Default)]
pub struct Greetings {
    calls: AtomicU64,
}

impl Greeter for Greetings {
    async fn say_hello(&self, request: HelloRequest) -> Result<HelloReply, rpc::Status> {
        if request.name.is_empty() {
            return Err(rpc::Status::invalid_argument("name must not be empty"));
        }
        Ok(HelloReply { message: format!("Hello {}", request.name) })
    }

    async fn count_letters(&self, request: HelloRequest) -> Result<LetterCount, rpc::Status> {
        let calls_so_far = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        Ok(LetterCount { letters: request.name.chars().filter(|c| c.is_alphabetic()).count() as u32, calls_so_far })
    }

    async fn chat(&self, requests: rpc::Streaming<HelloRequest>) -> Result<rpc::Streaming<HelloReply>, rpc::Status> {
        use futures_util::StreamExt;
        Ok(rpc::Streaming::new(requests.map(|request| Ok(HelloReply { message: format!("Hello {}", request?.name) }))))
    }
}
