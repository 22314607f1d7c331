//! Service registries: providers announce instances, consumers follow the live set.
//!
//! A [`Registry`] registers and deregisters [`Instance`]s and lets a consumer subscribe to a
//! service, receiving the full [`InstanceSet`] after every change (with what was added and
//! removed). Backends: [`FileRegistry`] (the embedded default: a directory shared by the
//! processes of a host), [`EtcdRegistry`], [`ZookeeperRegistry`] (Dubbo's layout),
//! [`MemoryRegistry`] (in-process) and [`StaticRegistry`] (a fixed list); [`connect`] picks
//! one by URL.

#![warn(missing_docs)]

mod application;
mod credentials;
#[cfg(any(feature = "etcd", feature = "zookeeper"))]
mod dubbo_instance;
mod dubbo_metadata;
mod dubbo_url;
mod error;
#[cfg(feature = "etcd")]
pub(crate) mod etcd;
pub(crate) mod file;
#[doc(hidden)]
pub mod fuzz;
mod instance;
mod memory;
mod metadata_client;
mod registrations;
mod registry;
mod static_list;
mod url;
#[cfg(feature = "zookeeper")]
pub(crate) mod zookeeper;

pub use application::{ApplicationInstance, MetadataStorage};
pub use credentials::Credentials;
pub use dubbo_metadata::{MetadataInfo, ServiceInfo};
pub use error::RegistryError;
#[cfg(feature = "etcd")]
pub use etcd::{EtcdRegistry, EtcdSecurity};
pub use file::FileRegistry;
pub use instance::{Instance, InstanceSet};
pub use memory::MemoryRegistry;
pub use metadata_client::{MetadataClient, MetadataRequest};
pub use registry::{BoxFuture, InstanceStream, Registry};
pub use static_list::StaticRegistry;
pub use url::connect;
#[cfg(feature = "zookeeper")]
pub use zookeeper::ZookeeperRegistry;
