//! Answers from the application thread, delivered to their connections in batches.
//!
//! Why: completing a `Reply` from the PHP thread wakes that connection's task remotely —
//! a locked push into Tokio's inject queue and, often, an unpark of an I/O thread — once
//! per request. Handing a whole batch to one forwarding task costs one remote wake per
//! batch; the forwarder then wakes the connection tasks locally.
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

    /// Queues every answer of `batch` (leaving it empty) and wakes the forwarder.
    pub fn send_batch(&self, batch: &mut Vec<(Reply, ResponseStart)>) {
        if batch.is_empty() {
            return;
        }
        self.pending.lock().append(batch);
        self.notify.notify_one();
    }
}
