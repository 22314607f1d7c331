/// A wire protocol: what a client speaks, and what a server detected on a connection. A
/// server speaks every one on one port.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// The multiplexed binary protocol (docs/PROTOCOL.md): the fastest.
    #[default]
    Binary,
    /// gRPC over HTTP/2 (h2c): reaches any gRPC server, and `rpc` servers too. Dubbo 3's
    /// Triple is this protocol.
    Grpc,
    /// Apache Dubbo's own `dubbo://` protocol (dubbo2) with Hessian2: reaches Java, Go and
    /// Python Dubbo providers.
    Dubbo,
    /// Triple over HTTP/1.1 with JSON (Dubbo's "triple rest"): what a provider detects when
    /// `curl` or a browser calls it. Served, not spoken: a client calls over the others.
    Rest,
}

/// The protocol names registries carry (an instance's `protocol`, a Dubbo URL's scheme) and
/// the protocol each means; the first name of a protocol is the one its providers register.
const REGISTRY_NAMES: &[(&str, Protocol)] = &[
    ("rpc", Protocol::Binary),
    ("grpc", Protocol::Grpc),
    ("tri", Protocol::Grpc),
    ("h2", Protocol::Grpc),
    ("dubbo", Protocol::Dubbo),
];

impl Protocol {
    /// The protocol a registry instance names: `grpc`, `tri` (Dubbo 3's Triple) or `h2` for
    /// gRPC, `rpc` for the binary protocol, `dubbo` for dubbo2.
    ///
    /// ```
    /// # use rpc_core::Protocol;
    /// assert_eq!(Protocol::from_registry_name("tri"), Some(Protocol::Grpc));
    /// assert_eq!(Protocol::from_registry_name(Protocol::Binary.registry_name()), Some(Protocol::Binary));
    /// assert_eq!(Protocol::from_registry_name("dubbo"), Some(Protocol::Dubbo));
    /// assert_eq!(Protocol::from_registry_name("thrift"), None);
    /// ```
    pub fn from_registry_name(name: &str) -> Option<Protocol> {
        REGISTRY_NAMES.iter().find(|(n, _)| *n == name).map(|(_, protocol)| *protocol)
    }

    /// Which of a provider's protocols a consumer calls it over when it registers several at
    /// one address: lower first. Ours, then gRPC (Triple), then dubbo2.
    pub(crate) fn preference(self) -> u8 {
        match self {
            Protocol::Binary => 0,
            Protocol::Grpc => 1,
            Protocol::Dubbo => 2,
            Protocol::Rest => 3,
        }
    }

    /// The name a provider registers for this protocol.
    pub fn registry_name(self) -> &'static str {
        REGISTRY_NAMES.iter().find(|(_, p)| *p == self).map_or("rpc", |(name, _)| name)
    }
}
