use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use super::connection_limit::ConnectionLimit;
use crate::protocol::{serve_detected, Connected, ConnectionContext, LogLimit};
use crate::provider::ServiceStack;
use crate::provider::{Lifecycle, Router, ServerConfig};
use crate::ConnectionInfo;

/// The connections of one server: accepts from any stream of connections, serves each as its
/// own task, and drains them all on shutdown. Anything that accepts connections for the
/// server (a TCP port, a test's duplex pipes, later an admin port) shares this drain.
pub(crate) struct Listener<S> {
    service: S,
    router: Router,
    config: Arc<ServerConfig>,
    lifecycle: Lifecycle,
    connections: TaskTracker,
    limit: Arc<ConnectionLimit>,
}

impl<S> Listener<S>
where
    S: ServiceStack,
{
    pub(crate) fn new(service: S, router: Router, config: ServerConfig) -> Listener<S> {
        Listener {
            service,
            router,
            limit: ConnectionLimit::new(config.max_connections, config.max_connections_per_ip),
            config: Arc::new(config),
            lifecycle: Lifecycle::default(),
            connections: TaskTracker::new(),
        }
    }

    /// Serves one connection as its own task, or closes it at once if it is over a
    /// connection limit.
    pub(crate) fn serve<IO: Connected>(&self, io: IO) {
        let info = ConnectionInfo::new(io.peer_addr(), io.local_addr());
        let Some(admitted) = self.limit.admit(info.peer_addr.map(|a| a.ip())) else {
            metrics::counter!("rpc_server_connections_refused_total").increment(1);
            return;
        };
        metrics::counter!("rpc_server_connections_accepted_total").increment(1);
        let open = metrics::gauge!("rpc_server_connections_open");
        open.increment(1.0);
        let span = match info.peer_addr {
            Some(peer) => tracing::debug_span!("rpc.server.connection", %peer),
            None => tracing::debug_span!("rpc.server.connection"),
        };
        let context = ConnectionContext {
            service: self.service.clone(),
            router: self.router.clone(),
            config: self.config.clone(),
            lifecycle: self.lifecycle.clone(),
            info,
        };
        self.connections.spawn(
            async move {
                serve_detected(io, context).await;
                drop(admitted);
                open.decrement(1.0);
            }
            .instrument(span),
        );
    }

    /// Accepts from `incoming` until `signal` completes or `incoming` ends. An accept error
    /// (out of file descriptors and the like) is logged and retried after a pause instead of
    /// spinning.
    pub(crate) async fn accept_until<I, IO>(&mut self, incoming: I, signal: impl Future<Output = ()>)
    where
        I: futures_core::Stream<Item = io::Result<IO>>,
        IO: Connected,
    {
        tokio::pin!(incoming, signal);
        loop {
            tokio::select! {
                biased;
                () = &mut signal => return,
                accepted = incoming.next() => match accepted {
                    Some(Ok(io)) => self.serve(io),
                    Some(Err(e)) => {
                        // Out of file descriptors, accept fails for as long as they last.
                        static ACCEPT_ERRORS: LogLimit = LogLimit::new(1);
                        if let Some(suppressed) = ACCEPT_ERRORS.admit() {
                            tracing::warn!(error = %e, suppressed, "accept failed");
                        }
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    None => return,
                },
            }
        }
    }

    /// Tells every connection to go away (clients stop sending; requests already on the wire
    /// are answered `Unavailable` without running), lets in-flight calls finish within the
    /// grace period, then cuts what remains.
    pub(crate) async fn drain(self) {
        let grace = self.config.shutdown_grace;
        tracing::info!(connections = self.connections.len(), ?grace, "shutting down");
        self.lifecycle.shutdown.cancel();
        self.connections.close();
        if tokio::time::timeout(grace, self.connections.wait()).await.is_err() {
            tracing::warn!(remaining = self.connections.len(), "grace period over; closing remaining connections");
            self.lifecycle.force.cancel();
            self.connections.wait().await;
        }
    }

    /// Waits for every connection to end by itself (without asking them to).
    pub(crate) async fn wait(self) {
        self.connections.close();
        self.connections.wait().await;
    }
}
