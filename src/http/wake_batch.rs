//! Wake-ups of connection tasks from the PHP thread, and writes to lent event stream
//! sockets, handed to the I/O runtime in batches.
//!
//! Owns: the per-thread batch of wake-ups and when it is handed over.
//! Does not own: what the woken tasks do (`stream_conn::pump` writes the frames queued), nor
//! the writes to lent sockets (`StreamShared::flush_lent`).
//!
//! Why: a connection task woken from outside its runtime is a remote schedule, and Tokio's
//! current-thread scheduler unparks its driver for every one — an `eventfd` write, a
//! system call per woken stream. A 10,000-stream topic publish (or a PHP loop of
//! `SSE::send()`) made 10,000 of them, one per stream and as many as the frames written
//! (bench/RESULTS.md, issue 12: `write` calls equal to `sendmsg` calls). Batched, the PHP
//! thread schedules one task per `BATCH` wake-ups, and that task wakes them on the I/O
//! thread, where a wake is a push onto the local run queue. An event stream whose writer
//! lent its socket (decision 0029) is not woken at all: that task writes the events queued
//! for it itself.
//!
//! Invariants: only a thread that `install`ed a batch defers (the PHP thread of a running
//! server); every other thread wakes at once. A deferred wake is handed over at the latest
//! when the PHP loop flushes (before it waits: `flush`), once `BATCH` are pending, or when
//! the standby finds the PHP thread away from its loop for a tick (`Pending::hand_over`).

use std::cell::RefCell;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Waker;

use parking_lot::Mutex;

use super::stats::Stats;
use super::stream::StreamShared;

/// Wake-ups deferred at most before they are handed over: big enough to save nearly every
/// unpark, small enough that the I/O thread starts writing while PHP still pushes.
const BATCH: usize = 256;

/// What a push needs done on the I/O runtime.
pub enum Wake {
    /// Wake a connection task (a stream's writer).
    Task(Waker),
    /// Write what was queued to a stream whose writer lent its socket
    /// (`StreamShared::flush_lent`): only a PHP thread with I/O threads asks for it.
    Flush(Arc<StreamShared>),
}

impl Wake {
    /// Does it; the bytes of events a flush wrote, for `sse_bytes`.
    pub(super) fn run_now(self) -> u64 {
        match self {
            Wake::Task(w) => {
                w.wake();
                0
            }
            Wake::Flush(s) => s.flush_lent(),
        }
    }
}

/// Runs `wakes`, counting what flushes wrote in `stats`.
fn run_all(wakes: impl IntoIterator<Item = Wake>, stats: Option<&Stats>) {
    let written: u64 = wakes.into_iter().map(Wake::run_now).sum();
    if let (Some(stats), true) = (stats, written > 0) {
        stats.sse_bytes.fetch_add(written, Ordering::Relaxed);
    }
}

/// The wake-ups one thread deferred, shared with the standby, which hands them over when
/// a handler keeps that thread from its loop (`driven`, decision 0018).
pub struct Pending {
    rt: tokio::runtime::Handle,
    /// Where events written by flushes are counted.
    stats: Option<Arc<Stats>>,
    wakes: Mutex<Vec<Wake>>,
}

impl Pending {
    /// Hands the deferred wake-ups over: run in place when this thread is inside the
    /// runtime (`reactor = php`, in its `block_on`; the standby while it drives), else by
    /// one task scheduled on it.
    pub fn hand_over(&self) {
        let wakes = {
            let mut w = self.wakes.lock();
            if w.is_empty() {
                return;
            }
            std::mem::replace(&mut *w, Vec::with_capacity(BATCH))
        };
        let inside = tokio::runtime::Handle::try_current().is_ok_and(|h| h.id() == self.rt.id());
        if inside {
            run_all(wakes, self.stats.as_deref());
        } else {
            let stats = self.stats.clone();
            self.rt.spawn(async move { run_all(wakes, stats.as_deref()) });
        }
    }
}

thread_local! {
    static PENDING: RefCell<Option<Arc<Pending>>> = const { RefCell::new(None) };
}

/// Defers this thread's wake-ups to batches run on `rt` (a server's I/O runtime), and its
/// writes to lent sockets unless it drives that runtime itself (`drives_io`); returns them
/// for the standby. Events the batches write are counted in `stats`.
pub fn install(rt: tokio::runtime::Handle, stats: Option<Arc<Stats>>, drives_io: bool) -> Arc<Pending> {
    let pending = Arc::new(Pending { rt, stats, wakes: Mutex::new(Vec::with_capacity(BATCH)) });
    PENDING.with(|p| *p.borrow_mut() = Some(Arc::clone(&pending)));
    super::stream::serving_here(Some(drives_io));
    pending
}

/// Stops deferring on this thread, handing over what is pending.
pub fn uninstall() {
    flush();
    super::stream::serving_here(None);
    PENDING.with(|p| p.borrow_mut().take());
}

/// Does `wake` now, or with this thread's next batch.
pub fn wake(wake: Wake) {
    let deferred = PENDING.with(|p| match p.borrow().as_ref() {
        Some(pending) => {
            let full = {
                let mut w = pending.wakes.lock();
                w.push(wake);
                w.len() >= BATCH
            };
            if full {
                pending.hand_over();
            }
            Ok(())
        }
        None => Err(wake),
    });
    if let Err(wake) = deferred {
        // (Only a thread with a batch asks for flushes: this is a task's wake-up.)
        wake.run_now();
    }
}

/// Wake-ups collected by a fan-out (a topic publish wakes a stream per member), handed
/// to `wake` together: this thread's batch is looked up and locked once per `BATCH`, not
/// once per stream. What is left is handed over when it is dropped.
pub struct Wakes(Vec<Wake>);

impl Wakes {
    /// Room for `n` wake-ups (a batch at most).
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n.min(BATCH)))
    }

    pub fn push(&mut self, wake: Wake) {
        self.0.push(wake);
        if self.0.len() == BATCH {
            self.hand_over();
        }
    }

    fn hand_over(&mut self) {
        if self.0.is_empty() {
            return;
        }
        let at_once = PENDING.with(|p| match p.borrow().as_ref() {
            Some(pending) => {
                let full = {
                    let mut w = pending.wakes.lock();
                    w.append(&mut self.0);
                    w.len() >= BATCH
                };
                if full {
                    pending.hand_over();
                }
                false
            }
            None => true,
        });
        if at_once {
            run_all(self.0.drain(..), None);
        }
    }
}

impl Drop for Wakes {
    fn drop(&mut self) {
        self.hand_over();
    }
}

/// Hands this thread's deferred wake-ups over (see `Pending::hand_over`).
pub fn flush() {
    PENDING.with(|p| {
        if let Some(pending) = p.borrow().as_ref() {
            pending.hand_over();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake as TaskWake;

    struct Count(AtomicUsize);
    impl TaskWake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_wait_for_a_flush_or_a_full_batch_on_an_installed_thread_only() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        wake(Wake::Task(waker.clone()));
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "not installed: at once");
        install(rt.handle().clone(), None, false);
        wake(Wake::Task(waker.clone()));
        wake(Wake::Task(waker.clone()));
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "deferred");
        rt.block_on(async { flush() });
        assert_eq!(count.0.load(Ordering::SeqCst), 3, "inside the runtime: woken in place");
        for _ in 0..BATCH {
            wake(Wake::Task(waker.clone()));
        }
        rt.block_on(tokio::task::yield_now());
        assert_eq!(count.0.load(Ordering::SeqCst), 3 + BATCH, "a full batch is handed over by itself");
        wake(Wake::Task(waker.clone()));
        uninstall();
        rt.block_on(tokio::task::yield_now());
        assert_eq!(count.0.load(Ordering::SeqCst), 4 + BATCH, "uninstall hands the rest over");
        wake(Wake::Task(waker));
        assert_eq!(count.0.load(Ordering::SeqCst), 5 + BATCH, "at once again");
    }

    /// A flush handed over with the batch writes the lent socket's events on the runtime
    /// and counts their bytes once, in the batch's stats.
    #[test]
    fn a_flush_in_the_batch_writes_on_the_runtime_and_counts_its_bytes() {
        use std::io::Read;
        use std::os::fd::AsRawFd;
        struct Quiet;
        impl crate::http::StreamEvents for Quiet {
            fn stream_event(&self, _: crate::http::StreamEvent) {}
        }
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let w = std::net::TcpStream::connect(l.local_addr().unwrap()).unwrap();
        let (mut r, _) = l.accept().unwrap();
        r.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let stats = Arc::new(Stats::default());
        let s = StreamShared::with_capacity(Arc::new(Quiet), 1 << 20);
        let body = s.body();
        assert!(body.arm(w.as_raw_fd()));
        // As a PHP thread that drove an earlier server's I/O itself (`reactor = php`) is
        // marked: serving one with I/O threads now, it defers its writes all the same.
        crate::http::stream::drives_io_here();
        install(rt.handle().clone(), Some(Arc::clone(&stats)), false);
        for event in [&b"data: a\n\n"[..], b"data: b\n\n"] {
            assert!(matches!(
                s.try_push(bytes::Bytes::from_static(event)),
                crate::http::PushOutcome::Queued(_)
            ));
        }
        assert_eq!(stats.sse_bytes.load(Ordering::Relaxed), 0, "deferred");
        rt.block_on(async { flush() });
        assert_eq!(stats.sse_bytes.load(Ordering::Relaxed), 18);
        assert_eq!(s.queued(), 0);
        let want = b"9\r\ndata: a\n\n\r\n9\r\ndata: b\n\n\r\n";
        let mut got = vec![0u8; want.len()];
        r.read_exact(&mut got).unwrap();
        assert_eq!(got, want);
        uninstall();
        drop(body);
    }

    #[test]
    fn collected_wakes_go_with_the_batch_or_at_once() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let woken = || count.0.load(Ordering::SeqCst);
        {
            let mut wakes = Wakes::with_capacity(3);
            wakes.push(Wake::Task(waker.clone()));
            wakes.push(Wake::Task(waker.clone()));
            assert_eq!(woken(), 0, "collected");
        }
        assert_eq!(woken(), 2, "not installed: at once when dropped");
        install(rt.handle().clone(), None, false);
        {
            let mut wakes = Wakes::with_capacity(usize::MAX);
            for _ in 0..BATCH + 3 {
                wakes.push(Wake::Task(waker.clone()));
            }
            rt.block_on(tokio::task::yield_now());
            assert_eq!(woken(), 2 + BATCH, "a full batch is handed over by itself");
        }
        assert_eq!(woken(), 2 + BATCH, "the rest joins this thread's batch");
        rt.block_on(async { flush() });
        assert_eq!(woken(), 5 + BATCH);
        uninstall();
    }
}
