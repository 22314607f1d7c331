//! The service the examples share: its definition and the provider's implementation.
#![allow(dead_code)] // each example uses a different part of this module

use std::sync::atomic::{AtomicU64, Ordering};

use rpc::{CallContext, Status};

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub email: String,
}

#[rpc::service(name = "demo.Greeter", version = "1.0.0")]
pub trait Greeter {
    /// Greets `name`, saying which provider answered.
    async fn hello(&self, name: String) -> Result<String, Status>;
    /// Looks a user up by id; safe to retry.
    #[rpc(idempotent)]
    async fn lookup(&self, id: u64) -> Result<User, Status>;
}

/// A provider; `label` tells replies from different providers apart.
pub struct MyGreeter {
    pub label: String,
    pub served: AtomicU64,
}

impl MyGreeter {
    pub fn new(label: impl Into<String>) -> MyGreeter {
        MyGreeter { label: label.into(), served: AtomicU64::new(0) }
    }
}

impl Greeter for MyGreeter {
    async fn hello(&self, name: String) -> Result<String, Status> {
        let n = self.served.fetch_add(1, Ordering::Relaxed) + 1;
        let from = CallContext::current().and_then(|c| c.attachments.get("from").map(str::to_string));
        let from = from.map(|f| format!(" (you are {f})")).unwrap_or_default();
        Ok(format!("Hello, {name}! — {} (call #{n}){from}", self.label))
    }

    async fn lookup(&self, id: u64) -> Result<User, Status> {
        match id {
            1 => Ok(User { id, name: "Ada Lovelace".into(), email: "ada@example.org".into() }),
            2 => Ok(User { id, name: "Alan Turing".into(), email: "alan@example.org".into() }),
            _ => Err(Status::not_found(format!("no user with id {id}"))),
        }
    }
}

/// Logs to stderr: `rpc`'s own lines at `info`, its dependencies' only at `warn` (their `info`
/// lines are noise to a user), unless `RUST_LOG` says otherwise.
pub fn init_logging() {
    let ours = "warn,rpc=info,rpc_core=info,rpc_registry=info,rpc_codec=info";
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| ours.into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
