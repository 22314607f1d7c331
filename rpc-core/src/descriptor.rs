/// What `#[rpc::service]` knows of a service: its name, version and methods.
///
/// ```
/// # use rpc_core as rpc;
/// use rpc::{MethodDescriptor, MethodKind, ServiceDescriptor};
/// static GREETER: ServiceDescriptor = ServiceDescriptor {
///     name: "demo.Greeter",
///     version: "1.0.0",
///     serialization: rpc::SerializationId::MsgPack,
///     methods: &[MethodDescriptor {
///         name: "hello",
///         arguments: &["name"],
///         idempotent: true,
///         oneway: false,
///         kind: MethodKind::Unary,
///         java_parameters: "Ljava/lang/String;",
///         java_return: "Ljava/lang/String;",
///     }],
/// };
/// assert!(GREETER.method("hello").unwrap().idempotent);
/// assert!(GREETER.method("bye").is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceDescriptor {
    /// The name on the wire, e.g. `demo.Greeter`.
    pub name: &'static str,
    /// The version providers register and consumers ask for; empty when unversioned.
    pub version: &'static str,
    /// The serialization the service declares (`serialization = "…"`, msgpack by default):
    /// what its generated client sends, and what its providers register.
    pub serialization: rpc_codec::SerializationId,
    /// Every method, streaming ones included.
    pub methods: &'static [MethodDescriptor],
}

/// One method of a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MethodDescriptor {
    /// The name on the wire.
    pub name: &'static str,
    /// The arguments' names, in order (`HashKey::Arg(n)` hashes the `n`th).
    pub arguments: &'static [&'static str],
    /// Safe to run more than once: the cluster client may retry it on another provider.
    pub idempotent: bool,
    /// The caller expects no reply.
    pub oneway: bool,
    /// Unary, or which side streams.
    pub kind: crate::MethodKind,
    /// The JVM descriptor of the parameter types, concatenated (`Ljava/lang/String;I`): how
    /// Dubbo names the Java method this one is (dubbo2's request carries it, Triple's wrapper
    /// its class names).
    pub java_parameters: &'static str,
    /// The JVM descriptor of the return type (`V` for none).
    pub java_return: &'static str,
}

impl ServiceDescriptor {
    /// The method with this wire name.
    pub fn method(&self, name: &str) -> Option<&MethodDescriptor> {
        self.methods.iter().find(|m| m.name == name)
    }
}
