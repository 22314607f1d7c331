//! gRPC's `helloworld.Greeter`, as an `rpc` service over prost messages: the shape every
//! gRPC tool knows (`SayHello(HelloRequest{name}) → HelloReply{message}`), with two extra
//! fields the tests use.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rpc::{CallContext, Status};

#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloRequest {
    #[prost(string, tag = "1")]
    pub name: String,
    /// The handler sleeps this long first.
    #[prost(uint32, tag = "2")]
    pub sleep_ms: u32,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct HelloReply {
    #[prost(string, tag = "1")]
    pub message: String,
    /// The caller's `tenant` metadata, as the handler saw it.
    #[prost(string, tag = "2")]
    pub tenant: String,
    /// Time the handler had left before the caller's deadline, 0 without one.
    #[prost(uint64, tag = "3")]
    pub remaining_ms: u64,
}

#[rpc::service(name = "helloworld.Greeter")]
pub trait Greeter {
    /// `name == "fail"` fails with FAILED_PRECONDITION and a non-ASCII message.
    #[rpc(name = "SayHello", idempotent)]
    async fn say_hello(&self, request: HelloRequest) -> Result<HelloReply, Status>;
}

/// Counts calls that ran to the end, and calls dropped before it (cancelled by the server,
/// as when the caller's deadline passes).
#[derive(Clone, Default)]
pub struct GreeterImpl {
    pub finished: Arc<AtomicUsize>,
    pub cancelled: Arc<AtomicUsize>,
}

/// Counts a handler as cancelled if it is dropped before `finish`.
struct CancelGuard(Option<Arc<AtomicUsize>>);

impl CancelGuard {
    fn finish(mut self) {
        self.0 = None;
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if let Some(cancelled) = self.0.take() {
            cancelled.fetch_add(1, Ordering::SeqCst);
        }
    }
}

pub const FAILURE: &str = "names must not be \"fail\" — désolé 100%";

impl Greeter for GreeterImpl {
    async fn say_hello(&self, request: HelloRequest) -> Result<HelloReply, Status> {
        let context = CallContext::current().expect("a call context");
        let guard = CancelGuard(Some(self.cancelled.clone()));
        if request.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(request.sleep_ms.into())).await;
        }
        guard.finish();
        if request.name == "fail" {
            return Err(Status::failed_precondition(FAILURE));
        }
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(HelloReply {
            message: format!("Hello {}", request.name),
            tenant: context.attachments.get("tenant").unwrap_or_default().to_string(),
            remaining_ms: context.remaining().map_or(0, |r| r.as_millis() as u64),
        })
    }
}
