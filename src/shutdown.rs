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

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::sync::watch;

/// Fires the shutdown of every `Shutdown` subscribed to it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Trigger {
    fire: Arc<Fire>,
}

/// The sending end, shared by a trigger's clones; the last one dropped fires.
#[derive(Debug)]
struct Fire {
    tx: watch::Sender<bool>,
    /// Set before the signal is sent (or the sender dropped): `Shutdown::fired` reads this
    /// instead of the channel's lock.
    fired: Arc<AtomicBool>,
}

impl Drop for Fire {
    fn drop(&mut self) {
        // Before `tx` drops and wakes the waiting tasks (module invariants).
        self.fired.store(true, Ordering::Release);
    }
}

impl Default for Trigger {
    fn default() -> Self {
        Self::new()
    }
}

impl Trigger {
    pub fn new() -> Self {
        Self { fire: Arc::new(Fire { tx: watch::channel(false).0, fired: Arc::default() }) }
    }

    /// Tells every subscriber to stop. Later calls do nothing.
    pub fn fire(&self) {
        self.fire.fired.store(true, Ordering::Release);
        self.fire.tx.send_replace(true);
    }

    /// A receiver for a task that must stop when this fires.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown { is_shutdown: false, fired: Arc::clone(&self.fire.fired), notify: self.fire.tx.subscribe() }
    }
}

/// A task's end of the shutdown signal.
#[derive(Clone, Debug)]
pub struct Shutdown {
    /// `recv` returned: the shutdown was seen.
    is_shutdown: bool,
    fired: Arc<AtomicBool>,
    notify: watch::Receiver<bool>,
}

impl Shutdown {
    /// True once `recv` returned.
    pub fn is_shutdown(&self) -> bool {
        self.is_shutdown
    }

    /// Whether the shutdown was fired (or the trigger is gone), without waiting and without
    /// marking it seen. One atomic load.
    pub fn fired(&self) -> bool {
        self.is_shutdown || self.fired.load(Ordering::Acquire)
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

    /// A wait for one task to poll again and again (a connection, between its requests):
    /// its first poll registers the task with the signal, and later polls only load the
    /// flag — the registration wakes the task when it fires. A `recv` kept across polls
    /// would take the channel's lock at every poll.
    pub fn stopped(&self) -> Stopped {
        let mut waiting = self.clone();
        Stopped {
            wait: Box::pin(async move { waiting.recv().await }),
            fired: Arc::clone(&self.fired),
            registered: false,
        }
    }
}

/// See `Shutdown::stopped`. Polling it from another task than the first is a bug: only the
/// first task is woken.
pub struct Stopped {
    wait: Pin<Box<dyn Future<Output = ()> + Send>>,
    fired: Arc<AtomicBool>,
    registered: bool,
}

impl Future for Stopped {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.registered {
            return if self.fired.load(Ordering::Acquire) { Poll::Ready(()) } else { Poll::Pending };
        }
        // Ready or not, the flag answers from now on: the wait ends only once it is set.
        self.registered = true;
        self.wait.as_mut().poll(cx)
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
        let also = trigger.clone();
        drop(trigger);
        assert!(!s.fired(), "a clone still holds the signal");
        drop(also);
        assert!(s.fired());
        s.recv().await;
        assert!(s.is_shutdown());
    }

    /// A task that polls `stopped` between other waits is woken by the fire, polled once
    /// or many times before it.
    #[tokio::test]
    async fn a_wait_registered_once_still_wakes_its_task() {
        for polls_before in [0, 1, 5] {
            for drop_instead in [false, true] {
                let trigger = Trigger::new();
                let shutdown = trigger.subscribe();
                let (tick_tx, mut tick_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
                let waiting = tokio::spawn(async move {
                    let mut stopped = shutdown.stopped();
                    let mut ticks = 0;
                    loop {
                        tokio::select! {
                            biased;
                            Some(()) = tick_rx.recv() => ticks += 1,
                            () = &mut stopped => return ticks,
                        }
                    }
                });
                for _ in 0..polls_before {
                    tick_tx.send(()).unwrap();
                    tokio::task::yield_now().await;
                }
                tokio::task::yield_now().await;
                assert!(!waiting.is_finished(), "not fired yet");
                if drop_instead {
                    drop(trigger);
                } else {
                    trigger.fire();
                }
                let ticks = tokio::time::timeout(std::time::Duration::from_secs(5), waiting)
                    .await
                    .expect("the fire woke the task")
                    .unwrap();
                assert_eq!(ticks, polls_before);
            }
        }
        let trigger = Trigger::new();
        trigger.fire();
        trigger.subscribe().stopped().await; // fired before: ready at the first poll
    }
}
