//! The cluster client: one [`Channel`](crate::Channel) over a changing set of providers.
//!
//! ```text
//! Channel ─ cluster mode (failover, failfast, failsafe, failback, forking, broadcast; retry budget)
//!           └ balancer over the live endpoint set (from discovery; rebuilt on every change)
//!               └ per endpoint: circuit breaker → load (in-flight, peak-EWMA latency)
//!                                → pool of multiplexed connections (reconnect with backoff)
//! ```
//!
//! Discovery is a stream of endpoint-set changes ([`InstanceStream`](rpc_registry::InstanceStream)): a static
//! list yields one set, a registry yields one per change. The [`Directory`] follows it and
//! publishes immutable snapshots (endpoints plus the balancers built for them), so a pick
//! reads one atomic pointer and takes no lock.

mod backoff;
pub mod balance;
pub mod breaker;
pub(crate) mod client;
mod clock;
pub(crate) mod core;
pub(crate) mod directory;
pub(crate) mod discover;
mod endpoint;
mod endpoint_call;
mod hash_key;
mod load;
mod method_config;
pub mod mode;
mod mode_setting;
mod pool;
pub(crate) mod retry_budget;
pub(crate) mod settings;
mod window;

pub use balance::{Balance, HashKey};
pub use breaker::{BreakerConfig, BreakerState};
pub use directory::Directory;
pub use discover::{static_endpoints, Discover};
pub use endpoint::{Endpoint, EndpointInfo};
pub use hash_key::hash_key;
pub use method_config::MethodConfig;
pub use mode_setting::Cluster;
pub use pool::PoolConfig;
pub use retry_budget::RetryBudget;
