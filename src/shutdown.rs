//! The one shutdown signal of a process's tasks (mini-redis's `shutdown.rs`): whoever decides
//! that the server stops holds a `Trigger`; every task that must stop holds a `Shutdown` and
//! awaits `recv()` next to its work.
//!
//! Owns: the signal and its two ends. Does not own: what a task does once told (the HTTP
//! core drains its connections, the master drains its workers), nor the frame that carries
//! the same news to a worker process (`ipc::ToApp::Shutdown`).
//!
//! Invariants: the signal is sticky — a task that subscribes, or looks, after it was fired
//! sees it at once. A `Trigger` that is dropped counts as fired: nothing is left to say
//! otherwise, and a task must not wait forever for it.

use std::sync::Arc;

use tokio::sync::watch;

/// Fires the shutdown of every `Shutdown` subscribed to it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Trigger {
    tx: Arc<watch::Sender<bool>>,
}

impl Default for Trigger {
    fn default() -> Self {
        Self::new()
    }
}

impl Trigger {
    pub fn new() -> Self {
        Self { tx: Arc::new(watch::channel(false).0) }
    }

    /// Tells every subscriber to stop. Later calls do nothing.
    pub fn fire(&self) {
        self.tx.send_replace(true);
    }

    /// A receiver for a task that must stop when this fires.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown { is_shutdown: false, notify: self.tx.subscribe() }
    }
}

/// A task's end of the shutdown signal.
#[derive(Clone, Debug)]
pub struct Shutdown {
    /// `recv` returned: the shutdown was seen.
    is_shutdown: bool,
    notify: watch::Receiver<bool>,
}

impl Shutdown {
    /// True once `recv` returned.
    pub fn is_shutdown(&self) -> bool {
        self.is_shutdown
    }

    /// Whether the shutdown was fired, without waiting (and without marking it seen).
    pub fn fired(&self) -> bool {
        self.is_shutdown || *self.notify.borrow()
    }

    /// Waits until the shutdown is fired (at once if it was already, or if the trigger is
    /// gone).
    pub async fn recv(&mut self) {
        if self.is_shutdown {
            return;
        }
        // An error means every trigger is gone: as good as fired (module invariants).
        let _ = self.notify.wait_for(|&fired| fired).await;
        self.is_shutdown = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_shutdown_fired_before_or_after_subscribing_is_seen() {
        let trigger = Trigger::new();
        let mut early = trigger.subscribe();
        let waiting = tokio::spawn(async move {
            early.recv().await;
            early.is_shutdown()
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "not fired yet");
        trigger.fire();
        assert!(waiting.await.unwrap());
        let mut late = trigger.subscribe();
        assert!(!late.is_shutdown(), "not received yet");
        late.recv().await;
        assert!(late.is_shutdown());
    }

    #[tokio::test]
    async fn a_dropped_trigger_counts_as_fired() {
        let trigger = Trigger::new();
        let mut s = trigger.subscribe();
        drop(trigger);
        s.recv().await;
        assert!(s.is_shutdown());
    }
}
