//! The consumer side: a [`Channel`] is the tower service generated clients call through.

mod channel;

pub use channel::{Channel, ChannelBuilder, ChannelFuture};
