use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use arc_swap::ArcSwapOption;
use bytestring::ByteString;
use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, DropGuard};
use tracing::Instrument;

use super::backoff::Backoff;
use crate::auth::TOKEN_ATTACHMENT;
use crate::transport::{Connection, ConnectionConfig, ResponseFuture};
use crate::{Request, Status};

/// How an endpoint's connections are kept.
///
/// ```
/// # mod rpc { pub use rpc_core::*; }
/// use std::time::Duration;
/// let pool = rpc::cluster::PoolConfig::default().connections(2).reconnect_backoff(Duration::from_millis(20), Duration::from_secs(2));
/// assert_eq!(pool.connections, 2);
/// ```
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Multiplexed connections per endpoint; calls go to the one with the fewest in flight.
    pub connections: usize,
    /// Connect timeout, heartbeat (dead-peer detection), frame limit of each connection.
    pub connection: ConnectionConfig,
    /// The first wait between reconnect attempts; each failure doubles it (jittered).
    pub reconnect_base: Duration,
    /// The longest wait between reconnect attempts.
    pub reconnect_max: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        let backoff = Backoff::default();
        PoolConfig {
            connections: 1,
            connection: ConnectionConfig::default(),
            reconnect_base: backoff.base,
            reconnect_max: backoff.max,
        }
    }
}

impl PoolConfig {
    /// Multiplexed connections per provider (default 1).
    pub fn connections(mut self, connections: usize) -> Self {
        self.connections = connections.max(1);
        self
    }
    /// Waits between reconnect attempts: exponential from `base` to `max`, jittered (default 50 ms to 5 s).
    pub fn reconnect_backoff(mut self, base: Duration, max: Duration) -> Self {
        self.reconnect_base = base;
        self.reconnect_max = max.max(base);
        self
    }
}

/// The connections to one endpoint, each kept alive by a task of its own that connects,
/// waits for the connection to close, and reconnects with backoff. A broken connection fails
/// only its own in-flight calls; the next calls use another slot or wait for the new one.
pub(crate) struct Pool {
    shared: Arc<Shared>,
    /// Its connections hand back the metadata of a request they did not send (the binary
    /// protocol's do), so a retry needs only the body kept.
    hands_back_unsent: bool,
    /// The protocol its connections speak.
    protocol: crate::Protocol,
    /// The token the provider registered (Dubbo's `token` URL parameter), sent with every
    /// call as the `token` attachment.
    token: Option<ByteString>,
    // Stops the slot tasks when the endpoint leaves the set.
    _stop: Option<DropGuard>,
}

struct Shared {
    address: String,
    slots: Box<[Slot]>,
    /// Woken whenever a slot gets a connection.
    connected: Notify,
}

#[derive(Default)]
struct Slot {
    connection: ArcSwapOption<Connection>,
    /// Attempts failed since the last success; 0 while the first attempt is under way.
    failures: AtomicU32,
    last_error: Mutex<Option<String>>,
}

impl Pool {
    /// Starts connecting to `address`; needs a tokio runtime.
    pub(crate) fn new(address: String, config: &PoolConfig, token: Option<ByteString>) -> Pool {
        let stop = CancellationToken::new();
        let shared = Arc::new(Shared {
            address,
            slots: (0..config.connections.max(1)).map(|_| Slot::default()).collect(),
            connected: Notify::new(),
        });
        let backoff = Backoff { base: config.reconnect_base, max: config.reconnect_max };
        for index in 0..shared.slots.len() {
            let span = tracing::debug_span!("rpc.pool", address = %shared.address, slot = index);
            tokio::spawn(
                keep_connected(shared.clone(), index, config.connection.clone(), backoff, stop.clone())
                    .instrument(span),
            );
        }
        let protocol = config.connection.protocol;
        let hands_back_unsent = Connection::hands_back_unsent(protocol);
        Pool { shared, hands_back_unsent, protocol, token, _stop: Some(stop.drop_guard()) }
    }

    /// A pool that never connects and counts as usable: for balancer benchmarks and picks
    /// made outside a channel.
    pub(crate) fn detached(address: String) -> Pool {
        let shared = Arc::new(Shared { address, slots: Box::new([]), connected: Notify::new() });
        Pool { shared, hands_back_unsent: true, protocol: crate::Protocol::default(), token: None, _stop: None }
    }

    /// The protocol its connections speak.
    pub(crate) fn protocol(&self) -> crate::Protocol {
        self.protocol
    }

    /// Whether a not-sent error from its connections comes with the request's metadata (see
    /// [`ResponseFuture::take_unsent`]).
    pub(crate) fn hands_back_unsent(&self) -> bool {
        self.hands_back_unsent
    }

    /// Whether a call could go out now or soon: a slot is connected, or still on its first
    /// attempt. An endpoint whose every slot failed to connect is skipped by the balancers.
    pub(crate) fn is_usable(&self) -> bool {
        if self._stop.is_none() {
            return true;
        }
        self.shared.slots.iter().any(|slot| {
            // The counter first: it settles nearly every call without loading the connection.
            slot.failures.load(Ordering::Acquire) == 0 || slot.connection.load().as_ref().is_some_and(|c| c.is_ready())
        })
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.shared.slots.iter().any(|slot| slot.connection.load().as_ref().is_some_and(|c| c.is_ready()))
    }

    /// The ready connection with the fewest calls in flight, if one is up.
    fn best(&self) -> Option<arc_swap::Guard<Option<Arc<Connection>>>> {
        let mut best = None;
        let mut fewest = usize::MAX;
        for slot in self.shared.slots.iter() {
            let guard = slot.connection.load();
            if let Some(connection) = guard.as_ref().filter(|c| c.is_ready()) {
                let in_flight = connection.in_flight();
                if in_flight < fewest {
                    fewest = in_flight;
                    best = Some(guard);
                }
            }
        }
        best
    }

    /// Adds what this provider asks every call to carry (its token) to `request`.
    pub(crate) fn stamp(&self, request: &mut Request) {
        if let Some(token) = &self.token {
            request.attachments_mut().insert(TOKEN_ATTACHMENT, token.clone());
        }
    }

    /// Sends `request` on the connection with the fewest calls in flight, if one is up — the
    /// common case, with no future of its own; otherwise hands the request back for
    /// [`call_when_connected`](Self::call_when_connected).
    // Returned and consumed at once by the caller; boxing the request would be an allocation
    // per call on the hot path.
    #[allow(clippy::result_large_err)]
    pub(crate) fn try_call(&self, mut request: Request) -> Result<ResponseFuture, Request> {
        self.stamp(&mut request);
        if let [slot] = &*self.shared.slots {
            // One connection (the default): nothing to compare, no guard to move around.
            return match slot.connection.load().as_ref().filter(|c| c.is_ready()) {
                Some(connection) => Ok(connection.call(request)),
                None => Err(request),
            };
        }
        match self.best().as_ref().and_then(|guard| guard.as_ref()) {
            Some(connection) => Ok(connection.call(request)),
            None => Err(request),
        }
    }

    /// Sends `request` once a connection is up, waiting until the request's deadline (at most
    /// the connect timeout); fails at once if the endpoint is unreachable.
    pub(crate) async fn call_when_connected(
        &self,
        mut request: Request,
        connect_timeout: Duration,
    ) -> Result<ResponseFuture, Status> {
        self.stamp(&mut request);
        let connection = self.connection(request.deadline(), connect_timeout).await?;
        Ok(connection.call(request))
    }

    /// A ready connection (the least loaded), waiting for one until `deadline` (at most the
    /// connect timeout); fails at once if the endpoint is unreachable.
    pub(crate) async fn connection(
        &self,
        deadline: Option<Instant>,
        connect_timeout: Duration,
    ) -> Result<Arc<Connection>, Status> {
        let give_up = deadline.map_or(Instant::now() + connect_timeout, |d| d.min(Instant::now() + connect_timeout));
        loop {
            // Registered before trying, so a connection made in between still wakes us.
            let connected = self.shared.connected.notified();
            tokio::pin!(connected);
            connected.as_mut().enable();
            if let Some(connection) = self.best().and_then(|guard| guard.as_ref().cloned()) {
                return Ok(connection);
            }
            if !self.is_usable() {
                return Err(self.unavailable());
            }
            if tokio::time::timeout_at(give_up.into(), connected).await.is_err() {
                return Err(Status::unavailable(format!("no connection to {} yet", self.shared.address)).not_sent());
            }
        }
    }

    fn unavailable(&self) -> Status {
        let reason = self
            .shared
            .slots
            .iter()
            .find_map(|slot| slot.last_error.lock().unwrap_or_else(PoisonError::into_inner).clone())
            .unwrap_or_else(|| "not connected".into());
        Status::unavailable(format!("provider {} unreachable: {reason}", self.shared.address)).not_sent()
    }
}

/// One slot's life: connect, serve until closed, reconnect — with backoff after failures.
async fn keep_connected(
    shared: Arc<Shared>,
    index: usize,
    config: ConnectionConfig,
    backoff: Backoff,
    stop: CancellationToken,
) {
    let slot = &shared.slots[index];
    loop {
        let attempt = tokio::select! {
            _ = stop.cancelled() => return,
            attempt = Connection::connect_address(shared.address.as_str(), &config) => attempt,
        };
        match attempt {
            Ok(connection) => {
                slot.failures.store(0, Ordering::Release);
                *slot.last_error.lock().unwrap_or_else(PoisonError::into_inner) = None;
                slot.connection.store(Some(Arc::new(connection.clone())));
                shared.connected.notify_waiters();
                tracing::debug!("connected");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    () = connection.closed() => {}
                }
                slot.connection.store(None);
                tracing::debug!("connection lost; reconnecting");
            }
            Err(status) => {
                let failures = slot.failures.fetch_add(1, Ordering::AcqRel) + 1;
                *slot.last_error.lock().unwrap_or_else(PoisonError::into_inner) = Some(status.message().to_string());
                // Callers waiting for this slot re-check: it may now be unusable.
                shared.connected.notify_waiters();
                let delay = backoff.delay(failures - 1);
                tracing::debug!(failures, ?delay, error = %status, "connect failed");
                tokio::select! {
                    _ = stop.cancelled() => return,
                    () = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}
