//! Answers on their way from the PHP thread to the I/O threads.
//!
//! Owns: the batch of answers (status, headers, body source) that the PHP thread hands
//! over in one go while a server runs, instead of one cross-thread wake-up per answer.
//! Does not own: what an answer says (`response_core`), the hand-over itself
//! (`crate::http::Outbox`), when the loop waits (`runtime`, which asks the running server
//! to `flush` first).
//!
//! PHP thread only.

use std::cell::RefCell;
use std::sync::Arc;

use super::global::PhpGlobal;
use crate::http::{Outbox, Reply, ResponseStart};

/// Answers batched before they are handed over regardless (bounds added latency).
const BATCH: usize = 64;

#[derive(Default)]
struct Batch {
    outbox: Option<Arc<Outbox>>,
    replies: Vec<(Reply, ResponseStart)>,
}

static BATCH_STATE: PhpGlobal<RefCell<Option<Batch>>> = PhpGlobal::new(RefCell::new(None));

fn with<R>(f: impl FnOnce(&mut Batch) -> R) -> R {
    f(BATCH_STATE.get().borrow_mut().get_or_insert_with(Batch::default))
}

/// Where answers go while a server runs; `None` sends each at once.
pub fn set_outbox(outbox: Option<Arc<Outbox>>) {
    flush();
    let old = with(|b| std::mem::replace(&mut b.outbox, outbox));
    drop(old);
}

/// Answers a request. With a running server the answer joins the current batch, handed
/// to the I/O threads when the loop next waits (or every `BATCH` answers). Returns
/// whether the client still waits.
pub fn send(reply: Reply, start: ResponseStart) -> bool {
    let open = reply.is_open();
    let mut answer = Some((reply, start));
    let full = with(|b| {
        if b.outbox.is_none() {
            return false;
        }
        b.replies.extend(answer.take());
        b.replies.len() >= BATCH
    });
    if let Some((reply, start)) = answer {
        return reply.send(start);
    }
    if full {
        flush();
    }
    open
}

/// Hands the pending answers to the I/O threads.
pub fn flush() {
    with(|b| {
        if let Some(outbox) = &b.outbox {
            outbox.send_batch(&mut b.replies);
        }
    });
}

/// Drops the batch (request shutdown).
pub fn shutdown() {
    let old = BATCH_STATE.get().borrow_mut().take();
    drop(old);
}
