use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use bytestring::ByteString;
use http::Extensions;
use rpc_codec::{Attachments, Metadata, SerializationId};
use sync_wrapper::SyncWrapper;

use crate::connection_info::Arrival;
use crate::{ConnectionInfo, MessageStream, MethodDescriptor, ServiceDescriptor};

/// A call on its way to a provider, or arriving at one: where it goes, its deadline, the
/// serialized arguments — or, for a streaming method, the stream of messages — and
/// extensions a layer may read or add to. The same envelope on every protocol.
///
/// A streaming call's messages ride in the request ([`Request::with_messages`]) and its
/// reply's in the [`Response`](crate::Response), so client and server tower layers see
/// streaming calls as they see unary ones.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use std::time::Duration;
/// use rpc::Request;
/// let request = Request::new("demo.Greeter", "hello", bytes::Bytes::new()).with_timeout(Duration::from_secs(1));
/// assert_eq!(request.method(), "hello");
/// assert!(request.deadline().is_some());
/// ```
pub struct Request {
    /// Service, method, version, group and attachments, in the binary protocol's form so
    /// that writing a frame moves them rather than copying; read through the accessors.
    /// (`metadata.timeout` is filled from the deadline when a frame is written.)
    pub(crate) metadata: Metadata,
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
    /// The service called: set by generated clients (on the provider's side it is looked up
    /// on demand, through `connection`).
    descriptor: Option<&'static ServiceDescriptor>,
    /// A streaming call's messages and the layers' extensions: one pointer, null for the
    /// usual unary call without extensions (every call moves a request several times, and
    /// its size showed as memmove in the provider's profile).
    extras: Option<Box<Extras>>,
    /// The connection the request arrived on (provider side).
    connection: Option<Arc<Arrival>>,
}

/// What few requests carry (see `Request::extras`).
#[derive(Default)]
struct Extras {
    /// A streaming call's messages (the caller's, on either side).
    messages: Option<SyncWrapper<MessageStream>>,
    extensions: Extensions,
}

/// What `Request::extensions` shows a request without any.
static NO_EXTENSIONS: LazyLock<Extensions> = LazyLock::new(Extensions::new);

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("metadata", &self.metadata)
            .field("serialization", &self.serialization)
            .field("oneway", &self.oneway)
            .field("idempotent", &self.idempotent)
            .field("body", &self.body)
            .field("streaming", &self.is_streaming())
            .field("deadline", &self.deadline)
            .field("connection", &self.connection)
            .field("extensions", self.extensions())
            .finish_non_exhaustive()
    }
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
    extensions: Option<Extensions>,
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
        let Retained { serialization, oneway, idempotent, deadline, arg_key, descriptor, extensions } = self;
        let Returned { metadata, body } = returned;
        Request {
            metadata,
            serialization,
            oneway,
            idempotent,
            body,
            deadline,
            arg_key,
            descriptor,
            extras: extensions.map(|extensions| Box::new(Extras { messages: None, extensions })),
            connection: None,
        }
    }
}

/// Hashes one argument of a request's body: what `#[rpc::service]` generates per method, so a
/// balancer can key on an argument without knowing its type.
pub type ArgKeyFn = fn(&Request, usize) -> Option<u64>;

impl Request {
    /// A request for `method` of `service` with `body`, no deadline, msgpack.
    pub fn new(service: impl Into<ByteString>, method: impl Into<ByteString>, body: Bytes) -> Request {
        Request::from_parts(Metadata::call(service, method), SerializationId::default(), false, body, None)
    }

    /// A copy for sending again (a retry, a second provider), or `None` for a streaming
    /// request, whose messages can be read once. The copy keeps the extensions, and not
    /// the connection the original arrived on.
    pub fn try_clone(&self) -> Option<Request> {
        if self.is_streaming() {
            return None;
        }
        Some(self.clone_unary())
    }

    /// A copy without the messages and the connection: for the cluster's retries, which
    /// carry unary requests only (streaming calls take a path of their own).
    pub(crate) fn clone_unary(&self) -> Request {
        Request {
            metadata: self.metadata.clone(),
            serialization: self.serialization,
            oneway: self.oneway,
            idempotent: self.idempotent,
            body: self.body.clone(),
            deadline: self.deadline,
            arg_key: self.arg_key,
            descriptor: self.descriptor,
            extras: self.cloned_extensions().map(|extensions| Box::new(Extras { messages: None, extensions })),
            connection: None,
        }
    }

    /// This request as a streaming call sending `messages` (its body is then unused).
    pub fn with_messages(mut self, messages: MessageStream) -> Request {
        self.extras.get_or_insert_with(Box::default).messages = Some(SyncWrapper::new(messages));
        self
    }

    /// Whether this is a streaming call: one carrying a stream of messages.
    pub fn is_streaming(&self) -> bool {
        self.extras.as_ref().is_some_and(|extras| extras.messages.is_some())
    }

    /// Takes a streaming call's messages out (once).
    pub fn take_messages(&mut self) -> Option<MessageStream> {
        self.extras.as_mut()?.messages.take().map(SyncWrapper::into_inner)
    }

    /// The connection this request arrived on; `None` on the calling side.
    pub fn connection(&self) -> Option<&ConnectionInfo> {
        self.connection.as_deref().map(|arrival| &arrival.info)
    }

    pub(crate) fn set_connection(&mut self, connection: Arc<Arrival>) {
        self.connection = Some(connection);
    }

    /// Values layers attach to the request (as `http::Request`'s).
    pub fn extensions(&self) -> &Extensions {
        self.extras.as_ref().map_or(&NO_EXTENSIONS, |extras| &extras.extensions)
    }

    /// Values layers attach to the request, to add to.
    pub fn extensions_mut(&mut self) -> &mut Extensions {
        &mut self.extras.get_or_insert_with(Box::default).extensions
    }

    /// A copy of the extensions, if there are any.
    fn cloned_extensions(&self) -> Option<Extensions> {
        self.extras.as_ref().map(|extras| extras.extensions.clone()).filter(|e| !e.is_empty())
    }

    /// The method called, when the request knows its service's descriptor (a generated
    /// client's request, or any request a provider hosts the service of).
    pub fn method_descriptor(&self) -> Option<&'static MethodDescriptor> {
        self.descriptor().and_then(|d| d.method(self.method()))
    }

    /// Sets the version asked for.
    pub fn set_version(&mut self, version: impl Into<ByteString>) {
        self.metadata.version = version.into();
    }

    /// Sets the group asked for.
    pub fn set_group(&mut self, group: impl Into<ByteString>) {
        self.metadata.group = group.into();
    }

    /// The metadata and body a transport hands back when it does not send the request.
    pub(crate) fn into_returned(self) -> Returned {
        Returned { metadata: self.metadata, body: self.body }
    }

    /// A request from its decoded parts (the server side of the wire).
    pub(crate) fn from_parts(
        metadata: Metadata,
        serialization: SerializationId,
        oneway: bool,
        body: Bytes,
        deadline: Option<Instant>,
    ) -> Request {
        Request {
            metadata,
            serialization,
            oneway,
            idempotent: false,
            body,
            deadline,
            arg_key: None,
            descriptor: None,
            extras: None,
            connection: None,
        }
    }

    /// The descriptor of the service called: on the calling side when a generated client made
    /// the request; on the provider's side when the provider hosts the service (looked up
    /// each time it is asked for, as most calls never ask).
    pub fn descriptor(&self) -> Option<&'static ServiceDescriptor> {
        self.descriptor.or_else(|| {
            let arrival = self.connection.as_deref()?;
            arrival.hosted.descriptor(self.service(), self.version(), self.group())
        })
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
            extensions: self.cloned_extensions(),
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
    /// explicit deadline overrides). In place: a request is a few hundred bytes, and passing it through
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
