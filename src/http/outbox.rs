//! Answers from the application thread, delivered to their connections in batches.
//!
//! Why: completing a `Reply` from the PHP thread wakes that connection's task remotely —
//! a locked push into Tokio's inject queue and, often, an unpark of an I/O thread — once
//! per request. Handing a whole batch to one forwarding task costs one remote wake per
//! batch; the forwarder then wakes the connection tasks locally.
//!
//! Answers wait in the outbox until it is kicked: by the PHP loop before it waits, or by
//! the standby when a handler keeps the PHP thread away (`driven`), so an answer given
//! before a long computation leaves within a standby tick or two. A PHP thread that drives
//! the runtime itself (`reactor = php`) sends them in place when it next waits (`forward`):
//! there the forwarder would only cost a task's wake-up and poll per batch.
//!
//! A worker has no outbox: its answers are encoded into its link's frame queue as they
//! are given, and the flush wakes the link's writer instead (`Link::wake_writer`).
//!
//! Invariant: a reply given to the outbox is sent (or dropped, which answers 500) by the
//! forwarder; nothing is lost when the runtime stops — dropping the queue drops replies.

use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::Notify;

use super::exchange::{Reply, ResponseStart};

#[derive(Default)]
pub struct Outbox {
    pending: Mutex<Vec<(Reply, ResponseStart)>>,
    notify: Notify,
}

impl Outbox {
    /// An outbox whose forwarder runs on `rt`.
    pub fn start(rt: &tokio::runtime::Handle) -> Arc<Self> {
        let outbox = Arc::new(Self::default());
        let forwarder = Arc::clone(&outbox);
        rt.spawn(async move {
            let mut batch = Vec::new();
            loop {
                forwarder.notify.notified().await;
                std::mem::swap(&mut batch, &mut *forwarder.pending.lock());
                for (reply, start) in batch.drain(..) {
                    reply.send(start);
                }
            }
        });
        outbox
    }

    /// Queues an answer for the forwarder, which takes it at the next `kick`; returns how
    /// many wait.
    pub fn push(&self, reply: Reply, start: ResponseStart) -> usize {
        let mut pending = self.pending.lock();
        pending.push((reply, start));
        pending.len()
    }

    /// Sends the waiting answers from this thread, without the forwarder: for a PHP thread
    /// that drives the forwarder's runtime itself (`reactor = php`), from inside it, where
    /// each answer wakes its connection's task in place.
    pub fn forward(&self) {
        let mut batch = std::mem::take(&mut *self.pending.lock());
        for (reply, start) in batch.drain(..) {
            reply.send(start);
        }
        // The emptied buffer goes back, for its capacity, unless answers came meanwhile.
        let mut pending = self.pending.lock();
        if pending.is_empty() {
            std::mem::swap(&mut *pending, &mut batch);
        }
    }

    /// Wakes the forwarder if answers wait: the PHP loop before it waits, or the standby
    /// when a handler keeps the PHP thread away (decision 0018).
    pub fn kick(&self) {
        if !self.pending.lock().is_empty() {
            self.notify.notify_one();
        }
    }
}
