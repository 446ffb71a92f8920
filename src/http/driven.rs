//! A current-thread I/O runtime driven by the thread that owns it (`reactor = php`: the PHP
//! thread, while its loop waits), and the standby thread that watches the owner: it hands
//! over what the owner left pending, and drives the runtime, while the owner stays away.
//!
//! Owns: who drives the runtime, handing it over between the owner and the standby, and
//! when the owner's pending hand-overs (`Watch::set_overdue`) are made by the standby.
//! Does not own: what runs on it (connections, timers, the inbox's kicker), what is
//! pending (the stream wakes of `wake_batch`, the answers of `Outbox`, or in a worker the
//! wake of its link's writer for the answers queued on the link).
//!
//! Why: driven by the PHP thread, a request crosses no thread (decision 0013), but while a
//! handler computes or blocks (a slow query, `sleep()`), nothing would be read, written or
//! timed out. The standby sleeps and looks every tick: when the owner has not entered the
//! runtime since its last look and is still out, it takes the runtime — Tokio's
//! current-thread scheduler lets whichever thread calls `block_on` drive while the core is
//! free — and drives until the owner asks for it back. While the owner comes and goes, as
//! it does serving requests (a turn of the PHP loop takes well under a millisecond), the
//! standby never drives and costs one short wake-up per tick (decision 0018).
//!
//! The PHP thread batches what it hands to the I/O side — answers, stream wake-ups — until
//! its loop next waits. A handler that answers or sends an event and then computes would
//! hold those back for its whole run; the standby hands them over at each look that finds
//! the owner away, in every reactor mode (with I/O threads it only watches, never drives).
//!
//! Invariants: only the owner's thread calls `Driver::block_on` and `Driver::run`. The
//! owner's request for the runtime is never lost: the owner marks itself in (`away` false)
//! before it looks whether the standby stands in, the standby marks itself in before it
//! looks whether the owner is away, both sequentially consistent — so at least one of them
//! sees the other, and a standby that takes over after the owner came back is told to give
//! the runtime back at once.

use std::future::Future;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::runtime::Runtime;
use tokio::sync::Notify;

use super::stats::Stats;

/// How long the owner may stay away before the standby hands over what it left pending and
/// drives its runtime (at most twice this: the standby acts at the first look that finds
/// the owner out since the look before). A handler that runs longer delays its own answers
/// and events, and other connections' reads, writes and timers, by this much, not by its
/// whole run.
pub const STANDBY_TICK: Duration = Duration::from_millis(5);

/// What the owner and the standby share.
struct Handover {
    /// The owner is not waiting: not inside `Driver::block_on`, nor (with I/O threads)
    /// between `Watch::enter` and `Watch::leave` around its inbox wait.
    away: AtomicBool,
    /// How many times the owner stopped waiting.
    leaves: AtomicU64,
    /// The standby drives the runtime, or is about to.
    standing_in: AtomicBool,
    /// The owner wants the runtime back (or the standby is to stop).
    reclaim: Notify,
    stop: AtomicBool,
    /// The standby sleeps until the owner leaves (it found the owner inside, and never
    /// out, for `DOZE_AFTER` looks: an idle server wakes nobody).
    dozing: AtomicBool,
    standby: OnceLock<std::thread::Thread>,
    /// Hands over what the owner left pending (set once the owner's side is installed).
    overdue: OnceLock<Box<dyn Fn() + Send + Sync>>,
}

impl Handover {
    fn new() -> Self {
        Self {
            away: AtomicBool::new(true),
            leaves: AtomicU64::new(0),
            standing_in: AtomicBool::new(false),
            reclaim: Notify::new(),
            stop: AtomicBool::new(false),
            dozing: AtomicBool::new(false),
            standby: OnceLock::new(),
            overdue: OnceLock::new(),
        }
    }

    /// The owner marks itself in (about to wait, or to drive): a standby that drives gives
    /// the runtime back.
    fn enter(&self) {
        self.away.store(false, SeqCst);
        if self.standing_in.load(SeqCst) {
            self.reclaim.notify_one();
        }
    }

    /// The owner marks itself out; a dozing standby starts looking again.
    fn leave(&self) {
        self.leaves.fetch_add(1, SeqCst);
        self.away.store(true, SeqCst);
        // Once per idle spell: the standby stopped looking while this thread waited.
        if self.dozing.load(SeqCst) && self.dozing.swap(false, SeqCst) {
            if let Some(t) = self.standby.get() {
                t.unpark();
            }
        }
    }

    fn hand_over_overdue(&self) {
        if let Some(f) = self.overdue.get() {
            f();
        }
    }
}

/// The owner's side of the standby: its marks, and what to hand over when it stays away.
#[derive(Clone)]
pub struct Watch(Arc<Handover>);

impl Default for Watch {
    fn default() -> Self {
        Self(Arc::new(Handover::new()))
    }
}

impl Watch {
    /// Marks the owner in: it is about to wait (for events, or driving the runtime).
    pub fn enter(&self) {
        self.0.enter();
    }

    /// Marks the owner out: it runs its own work until the next `enter`.
    pub fn leave(&self) {
        self.0.leave();
    }

    /// What the standby calls at each look that finds the owner away (it must not block;
    /// it runs on the standby's thread). Set once; later calls are ignored.
    pub fn set_overdue(&self, f: Box<dyn Fn() + Send + Sync>) {
        let _ = self.0.overdue.set(f);
        // A standby with nothing to drive waited for this.
        if let Some(t) = self.0.standby.get() {
            t.unpark();
        }
    }

    /// Starts the standby, looking every `tick`, driving `rt` (if given) while the owner
    /// stays away; it counts its takeovers in `stats`.
    pub fn start_standby(
        &self,
        tick: Duration,
        stats: Arc<Stats>,
        rt: Option<Arc<Runtime>>,
    ) -> std::io::Result<Standby> {
        let hand = Arc::clone(&self.0);
        let thread = std::thread::Builder::new()
            .name("via-standby".into())
            .spawn(move || stand_by(rt.as_deref(), &hand, tick, &stats))?;
        let _ = self.0.standby.set(thread.thread().clone());
        Ok(Standby(thread))
    }

    /// Stops the standby (giving the runtime back if it drives) and waits for its thread.
    pub fn stop_standby(&self, standby: Standby) {
        self.0.stop.store(true, SeqCst);
        self.0.reclaim.notify_one();
        standby.0.thread().unpark();
        let _ = standby.0.join();
    }

    /// Whether the standby drives the runtime now.
    pub fn standby_drives(&self) -> bool {
        self.0.standing_in.load(SeqCst)
    }
}

/// Looks that find the owner inside all along before the standby stops looking.
const DOZE_AFTER: u32 = 8;

/// A runtime that runs while its owner's thread drives it (and its standby's, if it has
/// one, while the owner stays away).
#[derive(Clone)]
pub struct Driver {
    rt: Arc<Runtime>,
    watch: Watch,
}

/// The standby's thread; stopping it (`Watch::stop_standby`) joins it.
pub struct Standby(JoinHandle<()>);

impl Driver {
    /// A driver for `rt`, marking the owner's comings and goings on `watch`.
    pub fn new(rt: Runtime, watch: Watch) -> Self {
        Self { rt: Arc::new(rt), watch }
    }

    /// The runtime, for a standby to drive.
    pub fn runtime(&self) -> Arc<Runtime> {
        Arc::clone(&self.rt)
    }

    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.rt.handle()
    }

    /// Runs the runtime's tasks and I/O on this thread until `f` is ready, taking the
    /// runtime back from the standby first if it drives. Not from inside a runtime (Tokio
    /// panics), and only from the thread that owns the driver.
    pub fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.watch.enter();
        let out = self.rt.block_on(f);
        self.watch.leave();
        out
    }

    /// Runs `f` inside the runtime on this thread, so that the tasks it wakes are woken in
    /// place — unless the standby drives: then `f` runs here outside it (its wakes reach
    /// the standby) and the standby keeps the runtime, as the owner has not come back to
    /// wait.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        if self.watch.standby_drives() {
            return f();
        }
        self.block_on(async { f() })
    }

    /// Shuts the runtime down if this is its last driver (a clone may be held elsewhere).
    pub fn shutdown(self, timeout: Duration) {
        if let Ok(rt) = Arc::try_unwrap(self.rt) {
            rt.shutdown_timeout(timeout);
        }
    }
}

/// The standby's loop: look every `tick`; while the owner stays away, hand over what it left
/// pending at each look and drive `rt` (if given); sleep while it stays inside.
fn stand_by(rt: Option<&Runtime>, hand: &Handover, tick: Duration, stats: &Stats) {
    let mut seen = None;
    let mut inside_looks = 0;
    while !hand.stop.load(SeqCst) {
        if rt.is_none() && hand.overdue.get().is_none() {
            // Nothing to drive and nothing to hand over (yet: a server's runtime in a
            // process where no PHP thread serves, the master of workers).
            std::thread::park();
            continue;
        }
        std::thread::park_timeout(tick);
        if hand.stop.load(SeqCst) {
            break;
        }
        let leaves = hand.leaves.load(SeqCst);
        let unchanged = seen.replace(leaves) == Some(leaves);
        if !hand.away.load(SeqCst) {
            inside_looks = if unchanged { inside_looks + 1 } else { 0 };
            if inside_looks >= DOZE_AFTER {
                doze(hand, leaves);
                (seen, inside_looks) = (None, 0);
            }
            continue;
        }
        inside_looks = 0;
        if !unchanged {
            continue; // was inside since the last look
        }
        hand.hand_over_overdue();
        let Some(rt) = rt else { continue };
        // A reclaim left over from an earlier stand-in must not end this one at once. (One
        // from `stop_standby` may go too: `stop` is set before it, and is read below.)
        let _ = hand.reclaim.notified().now_or_never();
        hand.standing_in.store(true, SeqCst);
        if hand.away.load(SeqCst) && hand.leaves.load(SeqCst) == leaves && !hand.stop.load(SeqCst) {
            stats.standby_takeovers.fetch_add(1, Relaxed);
            // Waits for the core if the owner took it meanwhile; ends when the owner asks.
            rt.block_on(async {
                let reclaimed = hand.reclaim.notified();
                tokio::pin!(reclaimed);
                loop {
                    tokio::select! {
                        _ = &mut reclaimed => break,
                        _ = tokio::time::sleep(tick) => hand.hand_over_overdue(),
                    }
                }
            });
        }
        hand.standing_in.store(false, SeqCst);
        seen = None;
    }
}

/// Sleeps until the owner leaves the runtime (or the standby is stopped), unless it left
/// since `leaves` was read: the owner unparks a dozing standby when it leaves.
fn doze(hand: &Handover, leaves: u64) {
    hand.dozing.store(true, SeqCst);
    while hand.dozing.load(SeqCst)
        && !hand.away.load(SeqCst)
        && hand.leaves.load(SeqCst) == leaves
        && !hand.stop.load(SeqCst)
    {
        std::thread::park();
    }
    hand.dozing.store(false, SeqCst);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Instant;

    fn driver() -> Driver {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        Driver::new(rt, Watch::default())
    }

    /// Whether `done` holds within 5 s (looked at every millisecond).
    fn within_5s(done: impl Fn() -> bool) -> bool {
        let until = Instant::now() + Duration::from_secs(5);
        while !done() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        done()
    }

    /// Whether the standby drives within 5 s, while this thread (the owner) stays away.
    fn standby_takes_over(d: &Driver) -> bool {
        within_5s(|| d.watch.standby_drives())
    }

    fn takeovers(stats: &Stats) -> u64 {
        stats.standby_takeovers.load(SeqCst)
    }

    #[test]
    fn the_standby_drives_while_the_owner_is_away_and_gives_the_runtime_back() {
        let d = driver();
        let stats = Arc::new(Stats::default());
        let standby =
            d.watch.start_standby(Duration::from_millis(5), Arc::clone(&stats), Some(d.runtime())).unwrap();
        // A timer on the runtime fires while this thread (the owner) never enters it.
        let (tx, rx) = mpsc::channel();
        d.handle().spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let _ = tx.send(std::thread::current().id());
        });
        let ran_on = rx.recv_timeout(Duration::from_secs(5)).expect("the standby ran the timer");
        assert_ne!(ran_on, std::thread::current().id());
        assert!(takeovers(&stats) >= 1);
        assert!(d.watch.standby_drives());
        // The owner comes back: the standby gives way, and tasks run on this thread.
        let here = d.block_on(async {
            let until = Instant::now() + Duration::from_secs(5);
            while d.watch.standby_drives() {
                assert!(Instant::now() < until, "the standby did not give the runtime back");
                tokio::task::yield_now().await;
            }
            let (tx, rx) = tokio::sync::oneshot::channel();
            tokio::spawn(async move {
                let _ = tx.send(std::thread::current().id());
            });
            rx.await.unwrap()
        });
        assert_eq!(here, std::thread::current().id());
        assert!(!d.watch.standby_drives());
        d.watch.stop_standby(standby);
    }

    /// An overdue hand-over that counts its calls.
    fn count_overdue(watch: &Watch) -> Arc<AtomicU64> {
        let calls = Arc::new(AtomicU64::new(0));
        let c = Arc::clone(&calls);
        watch.set_overdue(Box::new(move || {
            c.fetch_add(1, SeqCst);
        }));
        calls
    }

    /// Whether `calls` reaches `n` within 5 s.
    fn reaches(calls: &AtomicU64, n: u64) -> bool {
        within_5s(|| calls.load(SeqCst) >= n)
    }

    #[test]
    fn a_standby_with_no_runtime_hands_over_what_an_owner_away_left_pending() {
        let watch = Watch::default();
        let calls = count_overdue(&watch);
        let standby = watch.start_standby(Duration::from_millis(2), Arc::default(), None).unwrap();
        watch.leave(); // and stays away, as a handler that computes
        assert!(reaches(&calls, 3), "handed over at every look while the owner is away");
        assert!(!watch.standby_drives());
        watch.stop_standby(standby);
    }

    #[test]
    fn a_standby_with_nothing_to_do_starts_handing_over_once_it_has() {
        let watch = Watch::default();
        let standby = watch.start_standby(Duration::from_millis(1), Arc::default(), None).unwrap();
        watch.leave(); // away, but nothing to hand over and no runtime: the standby sleeps
        std::thread::sleep(Duration::from_millis(20));
        let calls = count_overdue(&watch);
        assert!(reaches(&calls, 2), "set_overdue woke it");
        watch.stop_standby(standby);
    }

    #[test]
    fn a_standby_that_drives_keeps_handing_over_what_the_owner_leaves() {
        let d = driver();
        let calls = count_overdue(&d.watch);
        let standby =
            d.watch.start_standby(Duration::from_millis(2), Arc::default(), Some(d.runtime())).unwrap();
        assert!(standby_takes_over(&d));
        let before = calls.load(SeqCst);
        assert!(reaches(&calls, before + 3), "still handed over while it drives");
        d.watch.stop_standby(standby);
    }

    #[test]
    fn an_owner_that_keeps_coming_back_is_never_stood_in_for() {
        let d = driver();
        let tick = Duration::from_millis(200);
        let stats = Arc::new(Stats::default());
        let standby = d.watch.start_standby(tick, Arc::clone(&stats), Some(d.runtime())).unwrap();
        let calls = count_overdue(&d.watch);
        let until = Instant::now() + tick * 3;
        while Instant::now() < until {
            d.block_on(tokio::task::yield_now());
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(takeovers(&stats), 0);
        assert_eq!(calls.load(SeqCst), 0, "nothing is overdue for an owner that comes back");
        d.watch.stop_standby(standby);
    }

    #[test]
    fn a_standby_that_dozed_while_the_owner_waited_takes_over_when_it_leaves() {
        let d = driver();
        let stats = Arc::new(Stats::default());
        let standby =
            d.watch.start_standby(Duration::from_millis(2), Arc::clone(&stats), Some(d.runtime())).unwrap();
        let dozed = d.block_on(async {
            let until = Instant::now() + Duration::from_secs(5);
            while !d.watch.0.dozing.load(SeqCst) && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            d.watch.0.dozing.load(SeqCst)
        });
        assert!(dozed, "an owner inside all along lets the standby sleep");
        assert!(!d.watch.0.dozing.load(SeqCst), "leaving wakes it");
        assert!(standby_takes_over(&d));
        assert_eq!(takeovers(&stats), 1);
        d.watch.stop_standby(standby);
    }

    #[test]
    fn run_while_the_standby_drives_leaves_it_the_runtime() {
        let d = driver();
        let stats = Arc::new(Stats::default());
        let standby =
            d.watch.start_standby(Duration::from_millis(2), Arc::clone(&stats), Some(d.runtime())).unwrap();
        assert!(standby_takes_over(&d));
        let notify = Arc::new(Notify::new());
        let (tx, rx) = mpsc::channel();
        let n = Arc::clone(&notify);
        d.handle().spawn(async move {
            n.notified().await;
            let _ = tx.send(());
        });
        // Woken from outside: the standby runs the task, and still drives afterwards.
        d.run(|| notify.notify_one());
        rx.recv_timeout(Duration::from_secs(5)).expect("the standby ran the woken task");
        assert!(d.watch.standby_drives());
        assert_eq!(takeovers(&stats), 1);
        d.watch.stop_standby(standby);
    }

    #[test]
    fn stopping_the_standby_while_it_drives_returns() {
        let d = driver();
        let standby =
            d.watch.start_standby(Duration::from_millis(2), Arc::default(), Some(d.runtime())).unwrap();
        assert!(standby_takes_over(&d));
        d.watch.stop_standby(standby);
        assert!(!d.watch.standby_drives());
        d.shutdown(Duration::from_millis(100));
    }
}
