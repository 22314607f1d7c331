use std::time::Duration;

use bytes::Bytes;
use bytestring::ByteString;
use rpc_codec::{Attachments, SerializationId};

use crate::{Request, ServiceDescriptor};

/// Per-call settings a generated client applies to each request it builds.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use std::time::Duration;
/// use rpc::{CallOptions, SerializationId};
/// let options = CallOptions::new()
///     .timeout(Duration::from_millis(200))
///     .serialization(SerializationId::Json)
///     .attachment("tenant", "acme");
/// assert_eq!(options.get_serialization(), SerializationId::Json);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    timeout: Option<Duration>,
    serialization: SerializationId,
    attachments: Attachments,
    version: Option<ByteString>,
    group: Option<ByteString>,
}

impl CallOptions {
    /// Default options: msgpack, no timeout of their own, no attachments.
    pub fn new() -> CallOptions {
        CallOptions::default()
    }
    /// Deadline for each call, counted from when it starts; overrides the channel's default
    /// ([`ChannelBuilder::timeout`](crate::ChannelBuilder::timeout); none unless set).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// The serialization of the arguments and the result (default msgpack, or the service's `serialization = …`).
    pub fn serialization(mut self, serialization: SerializationId) -> Self {
        self.serialization = serialization;
        self
    }
    /// An attachment every call carries (Dubbo's attachments, gRPC's metadata).
    pub fn attachment(mut self, key: impl Into<ByteString>, value: impl Into<ByteString>) -> Self {
        self.attachments.insert(key, value);
        self
    }
    /// Ask for this service version instead of the descriptor's.
    pub fn version(mut self, version: impl Into<ByteString>) -> Self {
        self.version = Some(version.into());
        self
    }
    /// Ask for this service group.
    pub fn group(mut self, group: impl Into<ByteString>) -> Self {
        self.group = Some(group.into());
        self
    }
    /// The serialization calls use.
    pub fn get_serialization(&self) -> SerializationId {
        self.serialization
    }
    /// The timeout calls use, if set here.
    pub fn get_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// A request for `method` of `service` carrying `body`, with these options applied.
    pub fn request(
        &self,
        service: &'static ServiceDescriptor,
        method: &'static str,
        oneway: bool,
        body: Bytes,
    ) -> Request {
        let mut request = Request::new(ByteString::from_static(service.name), ByteString::from_static(method), body);
        request.set_descriptor(service);
        request.metadata.version = self.version.clone().unwrap_or(ByteString::from_static(service.version));
        if let Some(group) = &self.group {
            request.metadata.group = group.clone();
        }
        request.metadata.attachments = self.attachments.clone();
        request.serialization = self.serialization;
        request.oneway = oneway;
        request.idempotent = service.method(method).is_some_and(|m| m.idempotent);
        match self.timeout {
            Some(timeout) => request.with_timeout(timeout),
            None => request,
        }
    }
}
