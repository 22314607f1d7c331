//! The consumer side: a [`Channel`] is the tower service generated clients call through.

mod channel;
mod consumer_registration;
mod metadata_client;
mod service_check;

pub use channel::{Channel, ChannelBuilder, ChannelFuture, RegistryService};
