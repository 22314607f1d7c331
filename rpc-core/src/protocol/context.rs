use std::sync::Arc;

use crate::connection_info::Arrival;
use crate::provider::{Lifecycle, Router, ServerConfig};
use crate::tls::PeerIdentity;
use crate::{ConnectionInfo, Protocol, Request};

/// What serving one connection needs, whatever its protocol: the service stack, the hosted
/// services (some protocols ask whether a method streams before reading its body), the
/// server's settings and shutdown signals, and who is on the other end.
pub(crate) struct ConnectionContext<S> {
    /// The router wrapped in the server's layers: every call goes through it.
    pub(crate) service: S,
    pub(crate) router: Router,
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) info: ConnectionInfo,
}

impl<S> ConnectionContext<S> {
    /// The context once detection has told the protocol.
    pub(crate) fn with_protocol(mut self, protocol: Protocol) -> ConnectionContext<S> {
        self.info.protocol = protocol;
        self
    }

    /// The context once a TLS handshake is done, with the client's verified identity.
    pub(crate) fn with_tls(mut self, peer_identity: Option<Arc<PeerIdentity>>) -> ConnectionContext<S> {
        self.info.tls = true;
        self.info.peer_identity = peer_identity;
        self
    }
}

/// What a provider adds to every request of a connection before the layers see it: the
/// connection it came on, through which the request also finds the descriptor of the hosted
/// service it names (looked up only if asked for: a lookup per call showed in the profile).
#[derive(Clone)]
pub(crate) struct Annotator {
    arrival: Arc<Arrival>,
}

impl Annotator {
    /// Shared by every request of the connection: one reference count per call.
    pub(crate) fn new(router: Router, info: ConnectionInfo) -> Annotator {
        Annotator { arrival: Arc::new(Arrival { info, hosted: Arc::new(router) }) }
    }

    /// What the provider hosts, for a protocol that checks a call's address before running it.
    pub(crate) fn hosted(&self) -> &dyn crate::connection_info::HostedServices {
        self.arrival.hosted.as_ref()
    }

    pub(crate) fn annotate(&self, request: &mut Request) {
        request.set_connection(self.arrival.clone());
    }
}
