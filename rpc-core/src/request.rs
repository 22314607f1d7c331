use std::time::{Duration, Instant};

use bytes::Bytes;
use bytestring::ByteString;
use rpc_codec::{Attachments, Metadata, SerializationId};

use crate::ServiceDescriptor;

/// A call on its way to a provider: where it goes, its deadline, and the serialized arguments.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use std::time::Duration;
/// use rpc::Request;
/// let request = Request::new("demo.Greeter", "hello", bytes::Bytes::new()).with_timeout(Duration::from_secs(1));
/// assert_eq!(request.method(), "hello");
/// assert!(request.deadline().is_some());
/// ```
#[derive(Debug, Clone)]
pub struct Request {
    /// Service, method, version, group and attachments. `metadata.timeout` is filled from the
    /// deadline when the request is written, so it is ignored here.
    pub metadata: Metadata,
    /// How the body is serialized (and the reply should be).
    pub serialization: SerializationId,
    /// The caller expects no reply.
    pub oneway: bool,
    /// Safe to run more than once (from the method's descriptor): the cluster client may
    /// retry it on another provider after it was sent.
    pub idempotent: bool,
    /// The serialized arguments.
    pub body: Bytes,
    deadline: Option<Instant>,
    /// Hashes argument `i` of the body, for consistent hashing; set by generated clients.
    arg_key: Option<ArgKeyFn>,
    /// The service called, when a generated client made the request.
    descriptor: Option<&'static ServiceDescriptor>,
}

/// A request without its metadata and body: what a cluster call keeps for a retry when the
/// transport hands those two back with a not-sent error ([`Returned`]) — a few words, where a
/// full copy clones every metadata string and allocates, and even a body reference is an
/// atomic count raised and dropped per call.
pub(crate) struct Retained {
    serialization: SerializationId,
    oneway: bool,
    idempotent: bool,
    deadline: Option<Instant>,
    arg_key: Option<ArgKeyFn>,
    descriptor: Option<&'static ServiceDescriptor>,
}

/// What a transport hands back of a request it did not send, or that a provider refused
/// without running it: the request's metadata and body.
pub(crate) struct Returned {
    pub(crate) metadata: Metadata,
    pub(crate) body: Bytes,
}

impl Retained {
    /// The request again, from what the transport handed back.
    pub(crate) fn rebuild(self, returned: Returned) -> Request {
        let Retained { serialization, oneway, idempotent, deadline, arg_key, descriptor } = self;
        let Returned { metadata, body } = returned;
        Request { metadata, serialization, oneway, idempotent, body, deadline, arg_key, descriptor }
    }
}

/// Hashes one argument of a request's body: what `#[rpc::service]` generates per method, so a
/// balancer can key on an argument without knowing its type.
pub type ArgKeyFn = fn(&Request, usize) -> Option<u64>;

impl Request {
    /// A request for `method` of `service` with `body`, no deadline, msgpack.
    pub fn new(service: impl Into<ByteString>, method: impl Into<ByteString>, body: Bytes) -> Request {
        Request {
            metadata: Metadata::call(service, method),
            serialization: SerializationId::default(),
            oneway: false,
            idempotent: false,
            body,
            deadline: None,
            arg_key: None,
            descriptor: None,
        }
    }

    /// The metadata and body a transport hands back when it does not send the request.
    pub(crate) fn into_returned(self) -> Returned {
        Returned { metadata: self.metadata, body: self.body }
    }

    /// A request from its decoded parts (the server side of the wire).
    pub fn from_parts(
        metadata: Metadata,
        serialization: SerializationId,
        oneway: bool,
        body: Bytes,
        deadline: Option<Instant>,
    ) -> Request {
        Request { metadata, serialization, oneway, idempotent: false, body, deadline, arg_key: None, descriptor: None }
    }

    /// The descriptor of the service called, when a generated client made the request.
    pub fn descriptor(&self) -> Option<&'static ServiceDescriptor> {
        self.descriptor
    }

    pub(crate) fn set_descriptor(&mut self, descriptor: &'static ServiceDescriptor) {
        self.descriptor = Some(descriptor);
    }

    /// The service's wire name.
    pub fn service(&self) -> &str {
        &self.metadata.service
    }
    /// The method's wire name.
    pub fn method(&self) -> &str {
        &self.metadata.method
    }
    /// The version asked for; empty for any.
    pub fn version(&self) -> &str {
        &self.metadata.version
    }
    /// The group asked for.
    pub fn group(&self) -> &str {
        &self.metadata.group
    }
    /// The caller's attachments.
    pub fn attachments(&self) -> &Attachments {
        &self.metadata.attachments
    }
    /// The caller's attachments, to add to.
    pub fn attachments_mut(&mut self) -> &mut Attachments {
        &mut self.metadata.attachments
    }

    /// All but the metadata and body (see [`Retained`]).
    pub(crate) fn retain(&self) -> Retained {
        Retained {
            serialization: self.serialization,
            oneway: self.oneway,
            idempotent: self.idempotent,
            deadline: self.deadline,
            arg_key: self.arg_key,
            descriptor: self.descriptor,
        }
    }

    /// Sets how argument keys are hashed (generated clients do).
    pub fn set_arg_key_fn(&mut self, key: ArgKeyFn) {
        self.arg_key = Some(key);
    }

    /// A stable hash of argument `index` (counting from 0), if the request knows how to
    /// take its arguments apart and has that many.
    pub fn arg_key(&self, index: usize) -> Option<u64> {
        self.arg_key.and_then(|key| key(self, index))
    }

    /// The instant after which nobody waits for the reply.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Sets the deadline (or removes it).
    pub fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    /// Sets the deadline to `timeout` from now, keeping an earlier one.
    pub fn with_timeout(mut self, timeout: Duration) -> Request {
        let deadline = Instant::now() + timeout;
        self.deadline = Some(self.deadline.map_or(deadline, |d| d.min(deadline)));
        self
    }

    /// Sets the deadline to `timeout` from now if the request has none (a default, which an
    /// explicit deadline overrides). In place: a request is 232 bytes, and passing it through
    /// by value cost two copies per call.
    pub fn set_default_timeout(&mut self, timeout: Option<Duration>) {
        if self.deadline.is_none() {
            if let Some(timeout) = timeout {
                self.deadline = Some(Instant::now() + timeout);
            }
        }
    }

    /// Time left until the deadline (zero once passed), or `None` without a deadline.
    pub fn remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }
}
