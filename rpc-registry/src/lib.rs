//! Service registries: providers announce instances, consumers follow the live set.
//!
//! A [`Registry`] registers and deregisters [`Instance`]s and lets a consumer subscribe to a
//! service, receiving the full [`InstanceSet`] after every change (with what was added and
//! removed). Backends: [`MemoryRegistry`] (in-process) for now; file, etcd and ZooKeeper
//! backends implement the same trait.

mod error;
mod instance;
mod memory;
mod registry;

pub use error::RegistryError;
pub use instance::{Instance, InstanceSet};
pub use memory::MemoryRegistry;
pub use registry::{BoxFuture, InstanceStream, Registry};
