//! What a provider's connections share, whatever their protocol: the [`Router`] of hosted
//! services, the one wrapper every call runs in (deadline, panics: [`call`]), the shutdown
//! signals and the settings. The protocols (`crate::protocol`) depend on this module; the
//! public [`crate::server`] builder depends on both.

pub(crate) mod call;
mod config;
mod lifecycle;
mod pipelining;
pub(crate) mod router;
mod service_stack;

pub use config::{BinaryServerConfig, DubboServerConfig, GrpcServerConfig, ServerConfig};
pub(crate) use lifecycle::Lifecycle;
pub(crate) use pipelining::{Pipelining, PipeliningEntry};
pub use router::{Router, RpcService};
pub(crate) use service_stack::ServiceStack;
