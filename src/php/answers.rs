//! Answers on their way from the PHP thread to the I/O threads.
//!
//! Owns: where the PHP thread's answers (status, headers, body source) go while a server
//! runs — the server's `Outbox`, kicked once per loop turn instead of one cross-thread
//! wake-up per answer.
//! Does not own: what an answer says (`response_core`), the hand-over itself
//! (`crate::http::Outbox`), when the loop waits (`runtime`, which asks the running server
//! to `flush` first).
//!
//! PHP thread only.

use std::cell::RefCell;
use std::sync::Arc;

use super::global::PhpGlobal;
use crate::http::{Outbox, Reply, ResponseStart};
use crate::workers::link::Link;

/// Answers batched before they are handed over regardless (bounds added latency).
const BATCH: usize = 64;

/// Where answers go while a server runs.
#[derive(Default)]
struct Answers {
    outbox: Option<Arc<Outbox>>,
    /// A worker's link: its answers are queued on it as they are given (no outbox), and
    /// its writer is woken at the flush.
    link: Option<Arc<Link>>,
}

static ANSWERS: PhpGlobal<RefCell<Option<Answers>>> = PhpGlobal::new(RefCell::new(None));

fn with<R>(f: impl FnOnce(&mut Answers) -> R) -> R {
    f(ANSWERS.get().borrow_mut().get_or_insert_with(Answers::default))
}

/// Where answers go while a server runs; `None` sends each at once.
pub fn set_outbox(outbox: Option<Arc<Outbox>>) {
    flush();
    let old = with(|b| std::mem::replace(&mut b.outbox, outbox));
    drop(old);
}

/// The worker's link whose writer each flush wakes.
pub fn set_link(link: Option<Arc<Link>>) {
    flush();
    let old = with(|b| std::mem::replace(&mut b.link, link));
    drop(old);
}

/// Answers a request. With a running server the answer joins the outbox, handed to the
/// I/O threads when the loop next waits (or every `BATCH` answers, or by the standby when
/// the handler runs on). Returns whether the client still waits.
pub fn send(reply: Reply, start: ResponseStart) -> bool {
    let open = reply.is_open();
    // Moved into the outbox directly: an answer is 180 bytes, and each move a copy.
    let unsent = with(move |b| match &b.outbox {
        Some(outbox) => {
            if outbox.push(reply, start) >= BATCH {
                outbox.kick();
            }
            None
        }
        None => Some((reply, start)),
    });
    match unsent {
        Some((reply, start)) => reply.send(start),
        None => open,
    }
}

/// Hands the pending answers to the I/O threads.
pub fn flush() {
    hand_over(Outbox::kick);
}

/// Sends the pending answers in place: only from inside the I/O runtime, on the thread
/// that drives it (`reactor = php`, when its loop waits). A worker's link is woken as by
/// `flush`.
pub fn forward() {
    hand_over(Outbox::forward);
}

/// `flush` or `forward`: what is done with the outbox's answers.
fn hand_over(outbox_does: fn(&Outbox)) {
    with(|b| {
        if let Some(outbox) = &b.outbox {
            outbox_does(outbox);
        }
        if let Some(link) = &b.link {
            link.wake_writer();
        }
    });
}

/// Drops the outbox (request shutdown).
pub fn shutdown() {
    let old = ANSWERS.get().borrow_mut().take();
    drop(old);
}
