//! Dubbo's sample interface `org.apache.dubbo.samples.api.GreetingsService`, as an `rpc`
//! service in Hessian2: what Java, Python and Go Dubbo consumers call in the interop tests,
//! with a method per argument type dubbo clients send.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rpc::Status;
use serde::{Deserialize, Serialize};

/// A Java bean: `org.apache.dubbo.samples.api.User`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename = "org.apache.dubbo.samples.api.User")]
pub struct User {
    pub name: String,
    pub age: i32,
    pub tags: Vec<String>,
    pub score: f64,
    pub admin: bool,
    pub id: i64,
    pub nickname: Option<String>,
}

#[rpc::service(name = "org.apache.dubbo.samples.api.GreetingsService", version = "1.0.0", serialization = "hessian2")]
pub trait GreetingsService {
    #[rpc(name = "sayHi", idempotent)]
    async fn say_hi(&self, name: String) -> Result<String, Status>;
    #[rpc(idempotent)]
    async fn add(&self, a: i32, b: i32) -> Result<i32, Status>;
    #[rpc(name = "echoLong")]
    async fn echo_long(&self, value: i64) -> Result<i64, Status>;
    #[rpc(name = "echoDouble")]
    async fn echo_double(&self, value: f64) -> Result<f64, Status>;
    #[rpc(name = "echoBool")]
    async fn echo_bool(&self, value: bool) -> Result<bool, Status>;
    #[rpc(name = "echoList")]
    async fn echo_list(&self, value: Vec<String>) -> Result<Vec<String>, Status>;
    /// The user a year older, with a tag more.
    #[rpc(name = "greetUser")]
    async fn greet_user(&self, #[rpc(java = "Lorg/apache/dubbo/samples/api/User;")] user: User)
        -> Result<User, Status>;
    async fn nothing(&self, name: String) -> Result<Option<String>, Status>;
    async fn fail(&self, message: String) -> Result<String, Status>;
    /// Sleeps `ms`, then says so; counts calls dropped before the end.
    async fn slow(&self, ms: i32) -> Result<String, Status>;
}

/// The provider: counts what ran to the end and what was cancelled.
#[derive(Clone, Default)]
pub struct Greetings {
    pub cancelled: Arc<AtomicUsize>,
    pub finished: Arc<AtomicUsize>,
    /// Prefix of `sayHi`'s answer, so tests tell providers apart.
    pub label: Arc<String>,
}

struct CountDrop(Arc<AtomicUsize>, bool);

impl Drop for CountDrop {
    fn drop(&mut self) {
        if !self.1 {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl GreetingsService for Greetings {
    async fn say_hi(&self, name: String) -> Result<String, Status> {
        Ok(format!("{}Hi, {name}", self.label))
    }
    async fn add(&self, a: i32, b: i32) -> Result<i32, Status> {
        a.checked_add(b).ok_or_else(|| Status::out_of_range("int overflow"))
    }
    async fn echo_long(&self, value: i64) -> Result<i64, Status> {
        Ok(value)
    }
    async fn echo_double(&self, value: f64) -> Result<f64, Status> {
        Ok(value)
    }
    async fn echo_bool(&self, value: bool) -> Result<bool, Status> {
        Ok(value)
    }
    async fn echo_list(&self, value: Vec<String>) -> Result<Vec<String>, Status> {
        Ok(value)
    }
    async fn greet_user(&self, mut user: User) -> Result<User, Status> {
        user.age += 1;
        user.tags.push("greeted".into());
        Ok(user)
    }
    async fn nothing(&self, _name: String) -> Result<Option<String>, Status> {
        Ok(None)
    }
    async fn fail(&self, message: String) -> Result<String, Status> {
        Err(Status::failed_precondition(message))
    }
    async fn slow(&self, ms: i32) -> Result<String, Status> {
        let mut guard = CountDrop(self.cancelled.clone(), false);
        tokio::time::sleep(Duration::from_millis(ms.max(0) as u64)).await;
        guard.1 = true;
        self.finished.fetch_add(1, Ordering::SeqCst);
        Ok(format!("slept {ms} ms"))
    }
}
