use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::server::registration::Registered;

/// What the admin port reports and steers: the provider's phase and its registrations.
#[derive(Clone, Default)]
pub(crate) struct AdminState {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Listening, and registered where it registers (Dubbo's `startup` probe).
    started: AtomicBool,
    /// Shutting down: no longer ready.
    stopping: AtomicBool,
    /// Taken out of rotation by `/offline`.
    offline: AtomicBool,
    registered: Mutex<Option<Registered>>,
}

impl AdminState {
    pub(crate) async fn started(&self, registered: Registered) {
        *self.inner.registered.lock().await = Some(registered);
        self.inner.started.store(true, Ordering::Release);
    }

    pub(crate) fn is_started(&self) -> bool {
        self.inner.started.load(Ordering::Acquire)
    }

    /// Started, in rotation and not stopping: what a readiness probe asks.
    pub(crate) fn is_ready(&self) -> bool {
        self.is_started() && !self.is_offline() && !self.inner.stopping.load(Ordering::Acquire)
    }

    pub(crate) fn is_offline(&self) -> bool {
        self.inner.offline.load(Ordering::Acquire)
    }

    /// Leaves the registry for good (shutdown): what was registered, for the caller to
    /// deregister, unless `/offline` already did.
    pub(crate) async fn stopping(&self) -> Option<Registered> {
        self.inner.stopping.store(true, Ordering::Release);
        let registered = self.inner.registered.lock().await.take()?;
        (!self.is_offline()).then_some(registered)
    }

    /// Deregisters without stopping; calls in flight and new calls from consumers that still
    /// hold this address are served. Whether it was online.
    pub(crate) async fn offline(&self) -> bool {
        let registered = self.inner.registered.lock().await;
        let was_online = !self.inner.offline.swap(true, Ordering::AcqRel);
        if was_online {
            if let Some(registered) = registered.as_ref() {
                registered.deregister().await;
            }
        }
        was_online
    }

    /// Registers again after [`offline`](Self::offline). Whether it was offline.
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
        was_offline
    }
}
