//! The hand-over queue from the Tokio threads (and signal threads) to the PHP
//! thread: many senders, one receiver that takes everything queued at once.
//!
//! Owns: the queue, the receiver's sleep and its wake-ups, and *when* a request wakes the
//! PHP thread.
//! Does not own: what an event means (`php::runtime`) or the way back (`http::Outbox`).
//!
//! Why not a plain channel: a channel wakes a sleeping receiver on the first send. Under
//! load the I/O thread reads several connections per tick; waking the PHP thread on the
//! first request makes it run that one request, answer, and sleep again — one futex wake,
//! two context switches and a reply hand-over per request or two, on cores the I/O thread
//! needs. `send_deferred` queues the request and leaves the wake to a *kicker* task on the
//! same runtime: woken locally (no syscall), it runs after the tasks that were already
//! ready in this tick, so every request read in the tick reaches the PHP thread with one
//! wake-up (measured in bench/RESULTS.md).
//!
//! A receiver that drives the senders' runtime itself (`recv_async`: the PHP thread with
//! `reactor = php`, and every worker) needs no kicker: Tokio's current-thread scheduler
//! polls the future given to `block_on` only once the tasks already ready have run, so the
//! wake of the first deferred send is itself deferred to the end of the tick. There no
//! kicker is started, and a deferred send wakes at once.
//!
//! Invariants: an event is never lost while the receiver lives; `send*` hands the event
//! back once the receiver is gone. A deferred send wakes the receiver at most one task
//! round later, or at once when no kicker runs (outside a runtime, before `start_kicker`,
//! or with a receiver that drives the runtime). A sleeping receiver is woken once per
//! sleep: the send that wakes it marks it awake.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use parking_lot::{Condvar, Mutex};
use tokio::sync::Notify;

struct State<T> {
    queue: Vec<T>,
    /// When the oldest queued event was queued (for metrics: the loop's lag).
    since: Option<Instant>,
    /// The receiver sleeps (or is about to) on the condvar.
    sleeping: bool,
    receiver_gone: bool,
    senders: usize,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    wake: Condvar,
    /// A deferred wake is owed to a sleeping receiver and the kicker was told.
    kick_pending: AtomicBool,
    kicker: Notify,
    /// Wakes a receiver waiting in `recv_async` (on the runtime it drives).
    async_wake: Notify,
    /// Set once a kicker task runs; until then deferred sends wake at once.
    kicker_running: AtomicBool,
    /// Wake-ups of a sleeping receiver (what deferring saves).
    wakes: AtomicU64,
}

impl<T> Shared<T> {
    /// Wakes a sleeping receiver that has events waiting.
    fn wake_receiver(&self) {
        let owed = {
            let mut st = self.state.lock();
            let owed = st.sleeping && !st.queue.is_empty();
            st.sleeping &= !owed;
            owed
        };
        if owed {
            self.notify();
        }
    }

    fn notify(&self) {
        self.wakes.fetch_add(1, Ordering::Relaxed);
        self.wake.notify_one();
        self.async_wake.notify_one();
    }
}

/// The sending side; clone it for every producer.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving side, owned by the PHP thread.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// A new inbox.
pub fn inbox<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: Vec::new(),
            since: None,
            sleeping: false,
            receiver_gone: false,
            senders: 1,
        }),
        wake: Condvar::new(),
        kick_pending: AtomicBool::new(false),
        kicker: Notify::new(),
        async_wake: Notify::new(),
        kicker_running: AtomicBool::new(false),
        wakes: AtomicU64::new(0),
    });
    (Sender { shared: Arc::clone(&shared) }, Receiver { shared })
}

/// Why `recv_into` returned without events.
#[derive(Debug, PartialEq, Eq)]
pub enum RecvError {
    /// The deadline passed.
    Timeout,
    /// Every sender is gone and the queue is empty.
    Disconnected,
}

impl<T> Sender<T> {
    /// Queues `value` and wakes the receiver at once. `Err` gives it back when the receiver
    /// is gone.
    pub fn send(&self, value: T) -> Result<(), T> {
        if self.push(value, true)? {
            self.shared.notify();
        }
        Ok(())
    }

    /// Queues `value`; a sleeping receiver is woken by the kicker once the tasks already
    /// ready on this runtime had their turn (see the module docs).
    pub fn send_deferred(&self, value: T) -> Result<(), T> {
        let at_once = !self.shared.kicker_running.load(Ordering::Acquire);
        if !self.push(value, at_once)? {
            return Ok(());
        }
        if at_once {
            self.shared.notify();
        } else if !self.shared.kick_pending.swap(true, Ordering::AcqRel) {
            self.shared.kicker.notify_one();
        }
        Ok(())
    }

    /// Queues `value`; `Ok(true)` when the receiver sleeps and is owed a wake-up. With
    /// `claim`, the caller gives that wake-up now: the receiver is marked awake, so that
    /// the sends after it, until it sleeps again, wake nobody.
    fn push(&self, value: T, claim: bool) -> Result<bool, T> {
        let mut st = self.shared.state.lock();
        if st.receiver_gone {
            return Err(value);
        }
        if st.queue.is_empty() {
            st.since = Some(Instant::now());
        }
        st.queue.push(value);
        let owed = st.sleeping;
        if owed && claim {
            st.sleeping = false;
        }
        Ok(owed)
    }

    /// Events queued now, and how long the oldest has waited.
    pub fn load(&self) -> (usize, Option<std::time::Duration>) {
        let st = self.shared.state.lock();
        (st.queue.len(), st.since.filter(|_| !st.queue.is_empty()).map(|t| t.elapsed()))
    }

    /// How often a sleeping receiver was woken so far.
    pub fn wakes(&self) -> u64 {
        self.shared.wakes.load(Ordering::Relaxed)
    }

    /// Runs the kicker on `rt`: from then on deferred sends wake through it. The task ends
    /// with the runtime or when the receiver is dropped.
    pub fn start_kicker(&self, rt: &tokio::runtime::Handle)
    where
        T: Send + 'static,
    {
        /// Clears `kicker_running` however the task ends (also when the runtime drops
        /// it): deferred sends then wake at once rather than tell a kicker that is gone.
        struct Running<T>(Arc<Shared<T>>);
        impl<T> Drop for Running<T> {
            fn drop(&mut self) {
                self.0.kicker_running.store(false, Ordering::Release);
                self.0.wake_receiver();
            }
        }
        let shared = Arc::clone(&self.shared);
        rt.spawn(async move {
            let running = Running(shared);
            let shared = &running.0;
            shared.kicker_running.store(true, Ordering::Release);
            // Should a deferred send have raced with the start, wake once.
            shared.wake_receiver();
            loop {
                shared.kicker.notified().await;
                shared.kick_pending.store(false, Ordering::Release);
                if shared.state.lock().receiver_gone {
                    break;
                }
                shared.wake_receiver();
            }
        });
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.state.lock().senders += 1;
        Self { shared: Arc::clone(&self.shared) }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut st = self.shared.state.lock();
        st.senders -= 1;
        if st.senders == 0 && st.sleeping {
            drop(st);
            self.shared.wake.notify_one();
            self.shared.async_wake.notify_one();
        }
    }
}

/// Takes what is queued into `out`, or says every sender is gone; else marks the receiver
/// as about to sleep (`None`).
fn take_or_sleep<T>(st: &mut State<T>, out: &mut Vec<T>) -> Option<Result<(), RecvError>> {
    if !st.queue.is_empty() {
        st.sleeping = false;
        st.since = None;
        if out.is_empty() {
            std::mem::swap(out, &mut st.queue);
        } else {
            out.append(&mut st.queue);
        }
        return Some(Ok(()));
    }
    if st.senders == 0 {
        st.sleeping = false;
        return Some(Err(RecvError::Disconnected));
    }
    st.sleeping = true;
    None
}

impl<T> Receiver<T> {
    /// Moves every queued event to the end of `out`. Sleeps until one arrives or until
    /// `deadline` when the queue is empty.
    pub fn recv_into(&self, out: &mut Vec<T>, deadline: Option<Instant>) -> Result<(), RecvError> {
        let mut st = self.shared.state.lock();
        loop {
            if let Some(taken) = take_or_sleep(&mut st, out) {
                return taken;
            }
            match deadline {
                Some(d) => {
                    if self.shared.wake.wait_until(&mut st, d).timed_out() && st.queue.is_empty() {
                        st.sleeping = false;
                        return Err(RecvError::Timeout);
                    }
                }
                None => self.shared.wake.wait(&mut st),
            }
        }
    }
}

impl<T> Receiver<T> {
    /// `recv_into` for a receiver that drives a Tokio runtime meanwhile (the PHP thread
    /// with `reactor = php`): waits as a future instead of on the condvar.
    pub async fn recv_async(&self, out: &mut Vec<T>, deadline: Option<Instant>) -> Result<(), RecvError> {
        loop {
            let notified = self.shared.async_wake.notified();
            tokio::pin!(notified);
            // Registered before the queue is checked: a notify after the check is not lost.
            notified.as_mut().enable();
            if let Some(taken) = take_or_sleep(&mut self.shared.state.lock(), out) {
                return taken;
            }
            match deadline {
                Some(d) => {
                    if tokio::time::timeout_at(d.into(), notified).await.is_err() {
                        let mut st = self.shared.state.lock();
                        st.sleeping = false;
                        if st.queue.is_empty() {
                            return Err(RecvError::Timeout);
                        }
                        out.append(&mut st.queue);
                        return Ok(());
                    }
                }
                None => notified.await,
            }
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let queued = {
            let mut st = self.shared.state.lock();
            st.receiver_gone = true;
            st.sleeping = false;
            std::mem::take(&mut st.queue)
        };
        // Events dropped outside the lock: a request's reply answers 500 on drop.
        drop(queued);
        self.shared.kicker.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// A thread that waits for one batch, started once the receiver is asleep (so a send
    /// takes the wake-up path); it returns how the wait ended and what it got.
    fn sleeping_receiver(
        tx: &Sender<u32>,
        rx: Receiver<u32>,
    ) -> std::thread::JoinHandle<(Result<(), RecvError>, Vec<u32>)> {
        let t = std::thread::spawn(move || {
            let mut out = Vec::new();
            let woke = rx.recv_into(&mut out, Some(Instant::now() + Duration::from_secs(5)));
            (woke, out)
        });
        while !tx.shared.state.lock().sleeping {
            std::thread::yield_now();
        }
        t
    }

    #[test]
    fn takes_everything_queued_at_once() {
        let (tx, rx) = inbox();
        for i in 0..5 {
            tx.send(i).unwrap();
        }
        let mut out = Vec::new();
        rx.recv_into(&mut out, None).unwrap();
        assert_eq!(out, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn times_out_when_nothing_comes() {
        let (_tx, rx) = inbox::<u32>();
        let mut out = Vec::new();
        let t = Instant::now();
        let r = rx.recv_into(&mut out, Some(Instant::now() + Duration::from_millis(30)));
        assert_eq!(r, Err(RecvError::Timeout));
        assert!(t.elapsed() >= Duration::from_millis(30));
    }

    #[test]
    fn send_wakes_a_sleeping_receiver() {
        let (tx, rx) = inbox();
        let t = sleeping_receiver(&tx, rx);
        tx.send(7).unwrap();
        assert_eq!(t.join().unwrap(), (Ok(()), vec![7]));
    }

    #[test]
    fn disconnects_when_the_last_sender_goes() {
        let (tx, rx) = inbox::<u32>();
        let tx2 = tx.clone();
        let t = std::thread::spawn(move || rx.recv_into(&mut Vec::new(), None));
        drop(tx);
        while !tx2.shared.state.lock().sleeping {
            std::thread::yield_now();
        }
        drop(tx2);
        assert_eq!(t.join().unwrap(), Err(RecvError::Disconnected));
    }

    #[test]
    fn sends_fail_once_the_receiver_is_gone() {
        let (tx, rx) = inbox();
        drop(rx);
        assert_eq!(tx.send(1), Err(1));
        assert_eq!(tx.send_deferred(2), Err(2));
    }

    #[test]
    fn deferred_sends_in_one_tick_wake_the_receiver_once() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (tx, rx) = inbox();
        tx.start_kicker(rt.handle());
        let receiver = std::thread::spawn(move || {
            let mut out = Vec::new();
            while out.len() < 20 {
                rx.recv_into(&mut out, None).unwrap();
            }
            out.len()
        });
        let tx = Arc::new(tx);
        rt.block_on(async {
            // Let the kicker start, and the receiver fall asleep.
            while !tx.shared.kicker_running.load(Ordering::Acquire) || !tx.shared.state.lock().sleeping {
                tokio::task::yield_now().await;
            }
            // Twenty tasks ready in the same tick, each sending one event.
            let tasks: Vec<_> = (0..20)
                .map(|i| {
                    let tx = Arc::clone(&tx);
                    tokio::spawn(async move { tx.send_deferred(i).unwrap() })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(receiver.join().unwrap(), 20);
        // A send that woke at once would notify the sleeper on every send until it ran.
        assert_eq!(tx.wakes(), 1, "one wake-up for the whole tick");
    }

    #[test]
    fn a_receiver_that_drives_the_runtime_is_woken_once_per_tick_without_a_kicker() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (tx, rx) = inbox();
        let tx = Arc::new(tx);
        let got = rt.block_on(async {
            // Twenty tasks, ready when the receiver first sleeps, each sending one event.
            for i in 0..20 {
                let tx = Arc::clone(&tx);
                tokio::spawn(async move { tx.send_deferred(i).unwrap() });
            }
            let mut out = Vec::new();
            rx.recv_async(&mut out, None).await.unwrap();
            out
        });
        assert_eq!(got, (0..20).collect::<Vec<_>>(), "the whole tick in one batch");
        // Without the mark the first send leaves, each send would notify the sleeper.
        assert_eq!(tx.wakes(), 1, "one wake-up for the whole tick");
    }

    #[test]
    fn deferred_sends_wake_at_once_after_the_kickers_runtime_is_gone() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let (tx, rx) = inbox();
        tx.start_kicker(rt.handle());
        rt.block_on(async {
            while !tx.shared.kicker_running.load(Ordering::Acquire) {
                tokio::task::yield_now().await;
            }
        });
        drop(rt);
        let t = sleeping_receiver(&tx, rx);
        tx.send_deferred(5).unwrap();
        assert_eq!(t.join().unwrap(), (Ok(()), vec![5]), "woken by the send, not the deadline");
    }

    #[test]
    fn deferred_send_without_a_kicker_wakes_at_once() {
        let (tx, rx) = inbox();
        let t = sleeping_receiver(&tx, rx);
        tx.send_deferred(3).unwrap();
        assert_eq!(t.join().unwrap(), (Ok(()), vec![3]));
    }

    #[test]
    fn dropping_the_receiver_drops_what_was_queued() {
        let (tx, rx) = inbox();
        let item = Arc::new(());
        tx.send(Arc::clone(&item)).unwrap();
        drop(rx);
        assert_eq!(Arc::strong_count(&item), 1);
    }
}
