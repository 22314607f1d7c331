//! Where a provider is in its life — starting, serving, taken out of rotation, stopping —
//! and its registrations, which going offline and online again remove and restore. The
//! admin port's probes and gRPC's health service both report it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{watch, Mutex};

use crate::server::registration::Registered;

/// A provider's phase, shared by everything that reports or steers it.
#[derive(Clone)]
pub(crate) struct Phase {
    inner: Arc<Inner>,
}

struct Inner {
    /// Listening, and registered where it registers (Dubbo's `startup` probe).
    started: AtomicBool,
    /// Shutting down: no longer ready.
    stopping: AtomicBool,
    /// Taken out of rotation by `/offline`.
    offline: AtomicBool,
    /// Whether it is serving (started, online, not stopping), for those who watch.
    serving: watch::Sender<bool>,
    registered: Mutex<Option<Registered>>,
}

impl Default for Phase {
    fn default() -> Phase {
        let inner = Inner {
            started: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            offline: AtomicBool::new(false),
            serving: watch::Sender::new(false),
            registered: Mutex::new(None),
        };
        Phase { inner: Arc::new(inner) }
    }
}

impl Phase {
    pub(crate) async fn started(&self, registered: Registered) {
        *self.inner.registered.lock().await = Some(registered);
        self.inner.started.store(true, Ordering::Release);
        self.changed();
    }

    pub(crate) fn is_started(&self) -> bool {
        self.inner.started.load(Ordering::Acquire)
    }

    /// Started, in rotation and not stopping: what a readiness probe asks.
    pub(crate) fn is_ready(&self) -> bool {
        self.is_started() && !self.is_offline() && !self.is_stopping()
    }

    pub(crate) fn is_stopping(&self) -> bool {
        self.inner.stopping.load(Ordering::Acquire)
    }

    pub(crate) fn is_offline(&self) -> bool {
        self.inner.offline.load(Ordering::Acquire)
    }

    /// [`is_ready`](Self::is_ready), now and at every change.
    pub(crate) fn watch_serving(&self) -> watch::Receiver<bool> {
        self.inner.serving.subscribe()
    }

    fn changed(&self) {
        let ready = self.is_ready();
        self.inner.serving.send_if_modified(|serving| std::mem::replace(serving, ready) != ready);
    }

    /// Leaves the registry for good (shutdown): what was registered, for the caller to
    /// deregister, unless `/offline` already did.
    pub(crate) async fn stopping(&self) -> Option<Registered> {
        self.inner.stopping.store(true, Ordering::Release);
        self.changed();
        let registered = self.inner.registered.lock().await.take()?;
        (!self.is_offline()).then_some(registered)
    }

    /// Deregisters without stopping; calls in flight and new calls from consumers that still
    /// hold this address are served. Whether it was online.
    pub(crate) async fn offline(&self) -> bool {
        let registered = self.inner.registered.lock().await;
        let was_online = !self.inner.offline.swap(true, Ordering::AcqRel);
        self.changed();
        if was_online {
            if let Some(registered) = registered.as_ref() {
                registered.deregister().await;
            }
        }
        was_online
    }

    /// Registers again after [`offline`](Self::offline). Whether it was offline (a
    /// provider that is stopping stays offline).
    pub(crate) async fn online(&self) -> bool {
        let registered = self.inner.registered.lock().await;
        if self.inner.stopping.load(Ordering::Acquire) {
            return false;
        }
        let was_offline = self.inner.offline.swap(false, Ordering::AcqRel);
        if was_offline {
            if let Some(registered) = registered.as_ref() {
                registered.register_again().await;
            }
        }
        self.changed();
        was_offline
    }
}
