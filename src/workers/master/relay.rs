//! Questions across workers that serve their own connections (`dispatch = connection`):
//! each worker keeps the topics of its own streams and counts its own requests, so a
//! publish, a count or `stats()` in one worker asks every other worker, and the master
//! answers the one that asked once they all answered.
//!
//! Owns: the questions in flight (`Gathers`): who asked, which workers have yet to answer,
//! the sum so far.
//! Does not own: the topics (each worker's `http::Topics`), the counters (the master sums
//! the reports: `Master::stats_totals`), the frames' transport (`conn`).
//!
//! Invariants: every question is done exactly once — when the last worker asked answered,
//! or left (`forget`), or at once when there is no other worker. Questions in flight are
//! bounded (`MAX_GATHERS`); past it a question is done at once, with a warning, rather
//! than grow the master for a worker that asks without end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;
use rustc_hash::FxHashMap;

use super::conn::Conn;
use crate::ipc::ToLink;

/// A worker as a question sees it (a link; a stand-in in the tests).
pub(super) trait Peer {
    fn pid(&self) -> i32;
    fn index(&self) -> u32;
    /// Asks this worker.
    fn ask(&self, f: ToLink);
}

impl Peer for Conn {
    fn pid(&self) -> i32 {
        self.pid
    }

    fn index(&self) -> u32 {
        self.index
    }

    fn ask(&self, f: ToLink) {
        self.send(f);
    }
}

/// Questions in flight at most, over all workers.
const MAX_GATHERS: usize = 65_536;

/// What the asker gets once every worker answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Want {
    /// The sum of the answers (streams of a topic).
    Sum,
    /// The server's counters, once every worker reported anew (`stats()`).
    Totals,
}

/// One worker's question: its sequence number, the workers still to answer (by pid), and
/// the sum of the answers so far.
struct Gather<P> {
    asker: Weak<P>,
    seq: u64,
    want: Want,
    waiting: Vec<i32>,
    sum: u64,
}

/// A question every worker asked has answered: answer `asker`'s question `seq`.
pub(super) struct Done<P> {
    pub asker: Arc<P>,
    pub seq: u64,
    pub want: Want,
    pub sum: u64,
}

impl<P> Gather<P> {
    fn done(self) -> Option<Done<P>> {
        Some(Done { asker: self.asker.upgrade()?, seq: self.seq, want: self.want, sum: self.sum })
    }
}

pub(super) struct Gathers<P = Conn> {
    next: AtomicU64,
    open: Mutex<FxHashMap<u64, Gather<P>>>,
}

impl<P> Default for Gathers<P> {
    fn default() -> Self {
        Self { next: AtomicU64::new(0), open: Mutex::default() }
    }
}

impl<P: Peer> Gathers<P> {
    /// Asks every worker in `others` the question `ask(gather id)` on behalf of `asker`'s
    /// question `seq`. Done at once (returned) when there is nobody to ask, or too many
    /// questions are in flight.
    pub(super) fn ask(
        &self,
        asker: &Arc<P>,
        (seq, want): (u64, Want),
        others: &[Arc<P>],
        ask: impl Fn(u64) -> ToLink,
    ) -> Option<Done<P>> {
        let now = Done { asker: Arc::clone(asker), seq, want, sum: 0 };
        if others.is_empty() {
            return Some(now);
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        {
            let mut open = self.open.lock();
            if open.len() >= MAX_GATHERS {
                drop(open);
                crate::warn!(
                    "worker {} (pid {}): {MAX_GATHERS} questions to the other workers are in flight; \
                     one is answered without them",
                    asker.index(),
                    asker.pid()
                );
                return Some(now);
            }
            let waiting = others.iter().map(|c| c.pid()).collect();
            open.insert(id, Gather { asker: Arc::downgrade(asker), seq, want, waiting, sum: 0 });
        }
        for c in others {
            c.ask(ask(id));
        }
        None
    }

    /// Worker `from` answered question `id` with `n`; the question, if that was the last
    /// answer.
    pub(super) fn counted(&self, from: i32, id: u64, n: u64) -> Option<Done<P>> {
        let mut open = self.open.lock();
        let g = open.get_mut(&id)?;
        let i = g.waiting.iter().position(|&p| p == from)?;
        g.waiting.swap_remove(i);
        g.sum = g.sum.saturating_add(n);
        if !g.waiting.is_empty() {
            return None;
        }
        open.remove(&id)?.done()
    }

    /// Worker `pid` is gone: no question waits for it any more. The questions that waited
    /// for it alone.
    pub(super) fn forget(&self, pid: i32) -> Vec<Done<P>> {
        let gone: Vec<Gather<P>> = {
            let mut open = self.open.lock();
            let ids: Vec<u64> = open
                .iter_mut()
                .filter_map(|(&id, g)| {
                    g.waiting.retain(|&p| p != pid);
                    g.waiting.is_empty().then_some(id)
                })
                .collect();
            ids.iter().filter_map(|id| open.remove(id)).collect()
        };
        gone.into_iter().filter_map(Gather::done).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A worker that records what it was asked.
    struct Fake {
        pid: i32,
        asked: Mutex<Vec<u64>>,
    }

    fn fake(pid: i32) -> Arc<Fake> {
        Arc::new(Fake { pid, asked: Mutex::default() })
    }

    impl Peer for Fake {
        fn pid(&self) -> i32 {
            self.pid
        }
        fn index(&self) -> u32 {
            0
        }
        fn ask(&self, f: ToLink) {
            if let ToLink::TopicCount { gather, .. } = f {
                self.asked.lock().push(gather);
            }
        }
    }

    fn count(id: u64) -> ToLink {
        ToLink::TopicCount { gather: id, topic: bytes::Bytes::from_static(b"t") }
    }

    fn done(d: Option<Done<Fake>>) -> Option<(i32, u64, Want, u64)> {
        d.map(|d| (d.asker.pid, d.seq, d.want, d.sum))
    }

    #[test]
    fn the_answers_of_every_other_worker_are_summed_once() {
        let g = Gathers::default();
        let (asker, a, b) = (fake(1), fake(2), fake(3));
        assert!(g.ask(&asker, (7, Want::Sum), &[Arc::clone(&a), Arc::clone(&b)], count).is_none());
        let id = a.asked.lock()[0];
        assert_eq!(b.asked.lock()[0], id, "both asked the same question");
        assert!(g.counted(2, id, 4).is_none(), "one worker has yet to answer");
        assert!(g.counted(2, id, 4).is_none(), "a repeat from the same worker counts once");
        assert!(g.counted(9, id, 100).is_none(), "a worker not asked");
        assert_eq!(done(g.counted(3, id, 5)), Some((1, 7, Want::Sum, 9)));
        assert!(g.counted(3, id, 5).is_none(), "done once");
        assert!(g.open.lock().is_empty());
    }

    #[test]
    fn no_other_worker_is_done_at_once_and_a_worker_that_leaves_is_not_waited_for() {
        let g = Gathers::default();
        let asker = fake(1);
        assert_eq!(done(g.ask(&asker, (1, Want::Totals), &[], count)), Some((1, 1, Want::Totals, 0)));
        let (a, b) = (fake(2), fake(3));
        assert!(g.ask(&asker, (2, Want::Sum), &[Arc::clone(&a), Arc::clone(&b)], count).is_none());
        assert!(g.counted(2, a.asked.lock()[0], 6).is_none());
        let gone: Vec<_> = g.forget(3).into_iter().map(|d| done(Some(d))).collect();
        assert_eq!(gone, [Some((1, 2, Want::Sum, 6))]);
        assert!(g.open.lock().is_empty());
        // An asker that is gone is answered by nobody.
        let lost = fake(4);
        assert!(g.ask(&lost, (3, Want::Sum), &[Arc::clone(&a)], count).is_none());
        drop(lost);
        assert!(g.forget(2).is_empty());
        assert!(g.open.lock().is_empty());
    }

    #[test]
    fn questions_in_flight_are_bounded() {
        let g = Gathers::default();
        let (asker, silent) = (fake(1), fake(2));
        for seq in 0..MAX_GATHERS as u64 {
            assert!(g.ask(&asker, (seq, Want::Sum), &[Arc::clone(&silent)], count).is_none());
        }
        let past = g.ask(&asker, (u64::MAX, Want::Sum), &[Arc::clone(&silent)], count);
        assert_eq!(done(past), Some((1, u64::MAX, Want::Sum, 0)), "past the bound: done at once");
        assert_eq!(g.open.lock().len(), MAX_GATHERS);
        assert_eq!(g.forget(2).len(), MAX_GATHERS, "every question done once");
    }
}
