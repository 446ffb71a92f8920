//! The memory that request bodies hold, bounded across connections.
//!
//! Owns: the count of body bytes held in memory by this process (`Stats::body_memory`),
//! taken as a body's bytes arrive and given back when its request is dropped, wherever
//! that is (the PHP thread's request object, the master's wait for a worker's answer).
//! Does not own: the size of one body (`max_body_size`, the readers), files of multipart
//! uploads (they are on disk).
//!
//! Why: `max_body_size` bounds one body, not their sum. Clients that each send most of a
//! large body and then wait held `max_connections` × `max_body_size` until `body_timeout`:
//! a probe from outside drove one process to about 1 GB that way. Past `max_body_memory`
//! a request whose body needs more is refused 503 and its connection closed; the bodies
//! already read are served. Bytes are counted as they come, not as a `Content-Length`
//! claims, so headers alone cannot take the room of others. The room goes with the request
//! (`IncomingRequest::body_room`), which holds its body: tying it to the body's `Bytes`
//! themselves (`Bytes::from_owner`) cost an allocation a request, 0.85 % of a JSON action's
//! instructions.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::stats::Stats;

/// Room for one request's body, taken from the process's `max_body_memory` as its bytes
/// arrive. Dropped, it gives its bytes back; `into_room` hands them to the request.
pub struct BodyMemory<'a> {
    stats: &'a Arc<Stats>,
    limit: u64,
    held: u64,
}

impl<'a> BodyMemory<'a> {
    pub fn new(stats: &'a Arc<Stats>, limit: u64) -> Self {
        Self { stats, limit, held: 0 }
    }

    /// Takes room for `total` bytes of this body in all (more than before, or the same);
    /// false, holding what it held, when that would pass the limit.
    pub fn hold(&mut self, total: u64) -> bool {
        let more = total.saturating_sub(self.held);
        if more == 0 {
            return true;
        }
        let before = self.stats.body_memory.fetch_add(more, Ordering::Relaxed);
        if before.saturating_add(more) > self.limit {
            self.stats.body_memory.fetch_sub(more, Ordering::Relaxed);
            self.stats.body_memory_refusals.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        self.held = total;
        true
    }

    /// The room held, for the request that carries the body.
    pub fn into_room(mut self) -> BodyRoom {
        let n = std::mem::take(&mut self.held);
        BodyRoom { stats: (n > 0).then(|| Arc::clone(self.stats)), n }
    }
}

impl Drop for BodyMemory<'_> {
    fn drop(&mut self) {
        if self.held > 0 {
            self.stats.body_memory.fetch_sub(self.held, Ordering::Relaxed);
        }
    }
}

/// The room a request's body holds, given back when the request is dropped.
#[derive(Default, Debug)]
pub struct BodyRoom {
    stats: Option<Arc<Stats>>,
    n: u64,
}

impl Drop for BodyRoom {
    fn drop(&mut self) {
        if let Some(stats) = &self.stats {
            stats.body_memory.fetch_sub(self.n, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn used(stats: &Stats) -> u64 {
        stats.body_memory.load(Ordering::Relaxed)
    }

    #[test]
    fn room_is_taken_as_bytes_come_and_refused_past_the_limit() {
        let stats = Arc::new(Stats::default());
        let mut a = BodyMemory::new(&stats, 100);
        assert!(a.hold(60));
        assert!(a.hold(60), "the same total takes nothing more");
        let mut b = BodyMemory::new(&stats, 100);
        assert!(b.hold(40));
        assert!(!b.hold(41), "101 bytes in all");
        assert_eq!(used(&stats), 100, "a refusal keeps what was held");
        assert_eq!(stats.body_memory_refusals.load(Ordering::Relaxed), 1);
        drop(b);
        assert_eq!(used(&stats), 60, "a body not kept gives its room back");
        drop(a);
        assert_eq!(used(&stats), 0);
    }

    #[test]
    fn a_request_holds_its_bodys_room_until_it_is_dropped() {
        let stats = Arc::new(Stats::default());
        let mut m = BodyMemory::new(&stats, 100);
        assert!(m.hold(10));
        let room = m.into_room();
        assert_eq!(used(&stats), 10, "the request holds it now");
        drop(room);
        assert_eq!(used(&stats), 0);
        let none = BodyMemory::new(&stats, 100).into_room();
        assert!(none.stats.is_none(), "an empty body holds no reference");
    }
}
