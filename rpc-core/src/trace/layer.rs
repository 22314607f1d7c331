use tower::Layer;

use super::Trace;
use crate::Protocol;

/// Which end of the call a [`TraceLayer`] traces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Side {
    Server,
    Client { protocol: Protocol },
}

/// Opens a span per call: on a provider continuing the caller's trace, on a consumer
/// sending its own (see the [module](super)).
#[derive(Clone, Copy, Debug)]
pub struct TraceLayer {
    side: Side,
}

impl TraceLayer {
    /// A provider's: a server span per call, child of the caller's span when the call
    /// carries a valid `traceparent`, else the root of a new trace. `rpc.system` follows
    /// the protocol the call came over.
    pub fn server() -> TraceLayer {
        TraceLayer { side: Side::Server }
    }

    /// A consumer's: a client span per call, child of the current span, sent along as
    /// `traceparent`. Its `rpc.system` is the binary protocol's (`rpc`) unless
    /// [`protocol`](Self::protocol) names the channel's.
    pub fn client() -> TraceLayer {
        TraceLayer { side: Side::Client { protocol: Protocol::Binary } }
    }

    /// The protocol a consumer's channel speaks, for its spans' `rpc.system`.
    pub fn protocol(self, protocol: Protocol) -> TraceLayer {
        match self.side {
            Side::Server => self,
            Side::Client { .. } => TraceLayer { side: Side::Client { protocol } },
        }
    }
}

impl<S> Layer<S> for TraceLayer {
    type Service = Trace<S>;

    fn layer(&self, inner: S) -> Trace<S> {
        Trace::new(inner, self.side)
    }
}
