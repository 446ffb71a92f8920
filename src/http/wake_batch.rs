//! Wake-ups of connection tasks from the PHP thread, handed to the I/O runtime in batches.
//!
//! Owns: the per-thread batch of wakers and when it is handed over.
//! Does not own: what the woken tasks do (`stream_conn::pump` writes the frames queued).
//!
//! Why: a connection task woken from outside its runtime is a remote schedule, and Tokio's
//! current-thread scheduler unparks its driver for every one — an `eventfd` write, a
//! system call per woken stream. A 10,000-stream topic publish (or a PHP loop of
//! `SSE::send()`) made 10,000 of them, one per stream and as many as the frames written
//! (bench/RESULTS.md, issue 12: `write` calls equal to `sendmsg` calls). Batched, the PHP
//! thread schedules one task per `BATCH` wake-ups, and that task wakes them on the I/O
//! thread, where a wake is a push onto the local run queue.
//!
//! Invariants: only a thread that `install`ed a batch defers (the PHP thread of a running
//! server); every other thread wakes at once. A deferred wake is handed over at the latest
//! when the PHP loop flushes (before it waits: `flush`), or once `BATCH` are pending.

use std::cell::RefCell;
use std::task::Waker;

/// Wake-ups deferred at most before they are handed over: big enough to save nearly every
/// unpark, small enough that the I/O thread starts writing while PHP still pushes.
const BATCH: usize = 256;

struct Batch {
    rt: tokio::runtime::Handle,
    wakers: Vec<Waker>,
}

thread_local! {
    static PENDING: RefCell<Option<Batch>> = const { RefCell::new(None) };
}

/// Defers this thread's wake-ups to batches run on `rt` (a server's I/O runtime).
pub fn install(rt: tokio::runtime::Handle) {
    PENDING.with(|p| *p.borrow_mut() = Some(Batch { rt, wakers: Vec::with_capacity(BATCH) }));
}

/// Stops deferring on this thread, handing over what is pending.
pub fn uninstall() {
    flush();
    PENDING.with(|p| p.borrow_mut().take());
}

/// Wakes `waker` now, or with this thread's next batch.
pub fn wake(waker: Waker) {
    let full = PENDING.with(|p| match p.borrow_mut().as_mut() {
        Some(batch) => {
            batch.wakers.push(waker);
            Ok(batch.wakers.len() >= BATCH)
        }
        None => Err(waker),
    });
    match full {
        Ok(true) => flush(),
        Ok(false) => {}
        Err(waker) => waker.wake(),
    }
}

/// Hands the pending wake-ups over: woken in place when this thread is inside the runtime
/// (`reactor = php`, in its `block_on`), else by one task scheduled on it.
pub fn flush() {
    let Some((rt, wakers)) = PENDING.with(|p| {
        let mut p = p.borrow_mut();
        let batch = p.as_mut()?;
        if batch.wakers.is_empty() {
            return None;
        }
        Some((batch.rt.clone(), std::mem::replace(&mut batch.wakers, Vec::with_capacity(BATCH))))
    }) else {
        return;
    };
    let inside = tokio::runtime::Handle::try_current().is_ok_and(|h| h.id() == rt.id());
    if inside {
        wakers.into_iter().for_each(Waker::wake);
    } else {
        rt.spawn(async move { wakers.into_iter().for_each(Waker::wake) });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_wait_for_a_flush_or_a_full_batch_on_an_installed_thread_only() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        wake(waker.clone());
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "not installed: at once");
        install(rt.handle().clone());
        wake(waker.clone());
        wake(waker.clone());
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "deferred");
        rt.block_on(async { flush() });
        assert_eq!(count.0.load(Ordering::SeqCst), 3, "inside the runtime: woken in place");
        for _ in 0..BATCH {
            wake(waker.clone());
        }
        rt.block_on(tokio::task::yield_now());
        assert_eq!(count.0.load(Ordering::SeqCst), 3 + BATCH, "a full batch is handed over by itself");
        wake(waker.clone());
        uninstall();
        rt.block_on(tokio::task::yield_now());
        assert_eq!(count.0.load(Ordering::SeqCst), 4 + BATCH, "uninstall hands the rest over");
        wake(waker);
        assert_eq!(count.0.load(Ordering::SeqCst), 5 + BATCH, "at once again");
    }
}
