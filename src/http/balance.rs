//! Spreading connections over worker processes that accept on one shared listener
//! (`dispatch = connection`, decision 0024).
//!
//! Every worker's epoll is woken for each new connection, and the one that runs first
//! accepts it: under a burst (a benchmark's 64 connections, a proxy's pool) one worker
//! takes nearly all of them while the other idles. Here each worker counts its open
//! connections in memory shared by all workers, and a worker with more than the least
//! loaded live worker waits `DEFER` before it takes a pending connection, which the other
//! worker, woken by the same event, takes meanwhile. A connection still pending after
//! `DEFER` is taken anyway: a worker that does not accept (stuck, or gone) costs that much
//! latency per connection, never a connection.
//!
//! Owns: the shared counters (`Balance`: a `MAP_SHARED` mapping made by the master before
//! it forks, two slots per worker index so that a worker and its replacement count apart
//! while both live), and the rule.
//! Does not own: accepting (`server::accept_loop`), when a worker exits (the master's
//! supervisor clears its slot: `clear`).

use std::io;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::time::Duration;

/// How long a worker that is ahead leaves a pending connection to the others.
pub const DEFER: Duration = Duration::from_millis(2);

/// One worker process's counters.
#[repr(C)]
struct Slot {
    /// Nonzero while a worker uses the slot.
    live: AtomicU32,
    open: AtomicI64,
}

/// The shared counters of every worker, and this process's slot in them. A clone shares
/// the mapping.
#[derive(Clone)]
pub struct Balance {
    slots: *const Slot,
    len: usize,
    /// This worker's slot (`slot_of`); `usize::MAX` in the master.
    me: usize,
}

// SAFETY: the mapping is never unmapped while the process runs (see `Drop`), and holds
// atomics only.
unsafe impl Send for Balance {}
// SAFETY: as above.
unsafe impl Sync for Balance {}

impl std::fmt::Debug for Balance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Balance").field("slots", &self.len).field("me", &self.me).finish()
    }
}

/// The slot of worker `index`'s process of generation `generation`.
pub fn slot_of(index: u32, generation: u64) -> usize {
    index as usize * 2 + (generation % 2) as usize
}

impl Balance {
    /// Counters for `workers` worker indexes, in a new shared mapping (before any fork).
    pub fn new(workers: u32) -> io::Result<Self> {
        let len = workers as usize * 2;
        // Zero-filled: every slot starts not live with no connection.
        let ptr = crate::shm::map_shared(len * std::mem::size_of::<Slot>())?;
        Ok(Self { slots: ptr.cast(), len, me: usize::MAX })
    }

    fn slots(&self) -> &[Slot] {
        // SAFETY: `len` slots were mapped in `new` and stay mapped.
        unsafe { std::slice::from_raw_parts(self.slots, self.len) }
    }

    /// This copy in a worker (forked from the master: the mapping is at the same address)
    /// that counts in slot `me`, live from now on with no connection.
    pub fn in_worker(mut self, me: usize) -> Self {
        self.me = me.min(self.len.saturating_sub(1));
        let slot = &self.slots()[self.me];
        slot.open.store(0, Ordering::Relaxed);
        slot.live.store(1, Ordering::Release);
        self
    }

    /// The worker of slot `slot` is gone (the master, when it reaps it).
    pub fn clear(&self, slot: usize) {
        if let Some(s) = self.slots().get(slot) {
            s.live.store(0, Ordering::Release);
            s.open.store(0, Ordering::Relaxed);
        }
    }

    pub fn opened(&self) {
        if let Some(s) = self.slots().get(self.me) {
            // Sequentially consistent with `over`'s loads: of two workers that each count a
            // connection and then sum, at least one sees the other's.
            s.open.fetch_add(1, Ordering::SeqCst);
        }
    }

    pub fn closed(&self) {
        if let Some(s) = self.slots().get(self.me) {
            s.open.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Whether the live workers' open connections together are more than `max` (this
    /// worker's newest counted among them). Two workers that take a connection at the same
    /// time may both see the other's: at the limit, both refuse, never both accept.
    pub fn over(&self, max: usize) -> bool {
        let open: i64 = self
            .slots()
            .iter()
            .filter(|s| s.live.load(Ordering::Acquire) != 0)
            .map(|s| s.open.load(Ordering::SeqCst))
            .sum();
        open > i64::try_from(max).unwrap_or(i64::MAX)
    }

    /// Whether this worker has more open connections than some other live worker.
    pub fn ahead(&self) -> bool {
        let slots = self.slots();
        let Some(mine) = slots.get(self.me).map(|s| s.open.load(Ordering::Relaxed)) else {
            return false;
        };
        slots.iter().enumerate().any(|(i, s)| {
            i != self.me && s.live.load(Ordering::Acquire) != 0 && s.open.load(Ordering::Relaxed) < mine
        })
    }
}

// The mapping is left mapped when a `Balance` drops: copies of it live in forked
// processes, and the master's lives until the process exits.

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_worker_is_ahead_of_a_live_worker_with_fewer_connections_only() {
        let master = Balance::new(2).unwrap();
        // A worker's copy, as a fork has it: the same mapping.
        let worker = |index, generation| master.clone().in_worker(slot_of(index, generation));
        let (a, b) = (worker(0, 1), worker(1, 1));
        assert!(!a.ahead() && !b.ahead(), "even");
        a.opened();
        assert!(a.ahead() && !b.ahead());
        b.opened();
        b.opened();
        assert!(!a.ahead() && b.ahead());
        a.opened();
        assert!(!a.ahead() && !b.ahead());
        // A replacement of worker 1 (the next generation) counts apart while both live.
        let b2 = worker(1, 2);
        assert!(a.ahead() && b.ahead() && !b2.ahead());
        // Once the master cleared the old one, it no longer counts.
        master.clear(slot_of(1, 1));
        b2.opened();
        b2.opened();
        assert!(!a.ahead() && !b2.ahead());
        b2.closed();
        assert!(a.ahead() && !b2.ahead());
        // The limit counts every live worker's connections: 2 + 1 here (a's and b2's).
        assert!(!a.over(3) && !b2.over(3) && a.over(2) && b2.over(2));
        // Not a worker: never ahead.
        assert!(!master.ahead());
        master.opened();
        master.clear(99);
    }
}
