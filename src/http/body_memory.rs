//! The memory that request bodies hold, bounded across connections.
//!
//! Owns: the count of body bytes held in memory by this process (`Stats::body_memory`),
//! taken as a body's bytes arrive and given back when the last reference to them is
//! dropped, wherever that is (the PHP thread's request object, a worker link's frame).
//! Does not own: the size of one body (`max_body_size`, the readers), files of multipart
//! uploads (they are on disk).
//!
//! Why: `max_body_size` bounds one body, not their sum. Clients that each send most of a
//! large body and then wait held `max_connections` × `max_body_size` until `body_timeout`:
//! a probe from outside drove one process to about 1 GB that way. Past `max_body_memory`
//! a request whose body needs more is refused 503 and its connection closed; the bodies
//! already read are served. Bytes are counted as they come, not as a `Content-Length`
//! claims, so headers alone cannot take the room of others.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;

use super::stats::Stats;

/// Room for one request's body, taken from the process's `max_body_memory` as its bytes
/// arrive. Dropped unkept, it gives its bytes back.
pub struct BodyMemory<'a> {
    stats: &'a Arc<Stats>,
    limit: u64,
    /// Bytes of this body taken from the room in all.
    taken: u64,
    /// Of those, the bytes not yet given to kept parts.
    held: u64,
}

impl<'a> BodyMemory<'a> {
    pub fn new(stats: &'a Arc<Stats>, limit: u64) -> Self {
        Self { stats, limit, taken: 0, held: 0 }
    }

    /// Takes room for `total` bytes of this body in all (more than before, or the same);
    /// false, holding what it held, when that would pass the limit.
    pub fn hold(&mut self, total: u64) -> bool {
        let more = total.saturating_sub(self.taken);
        if more == 0 {
            return true;
        }
        let before = self.stats.body_memory.fetch_add(more, Ordering::Relaxed);
        if before.saturating_add(more) > self.limit {
            self.stats.body_memory.fetch_sub(more, Ordering::Relaxed);
            self.stats.body_memory_refusals.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        self.taken = total;
        self.held += more;
        true
    }

    /// `bytes` (a part of the body, at most what is held) holding their share of the room
    /// until they are freed; the rest stays held here.
    pub fn keep(&mut self, bytes: Bytes) -> Bytes {
        let n = (bytes.len() as u64).min(self.held);
        if n == 0 {
            return bytes;
        }
        self.held -= n;
        Bytes::from_owner(Held { bytes, n, stats: Arc::clone(self.stats) })
    }
}

impl Drop for BodyMemory<'_> {
    fn drop(&mut self) {
        if self.held > 0 {
            self.stats.body_memory.fetch_sub(self.held, Ordering::Relaxed);
        }
    }
}

/// Body bytes and the room they hold, given back when the last reference goes.
struct Held {
    bytes: Bytes,
    n: u64,
    stats: Arc<Stats>,
}

impl AsRef<[u8]> for Held {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.stats.body_memory.fetch_sub(self.n, Ordering::Relaxed);
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
    fn kept_bytes_hold_their_room_until_the_last_reference_goes() {
        let stats = Arc::new(Stats::default());
        let mut m = BodyMemory::new(&stats, 100);
        assert!(m.hold(10));
        let body = m.keep(Bytes::from_static(b"0123456789"));
        drop(m);
        assert_eq!(&body[..], b"0123456789");
        assert_eq!(used(&stats), 10, "the bytes still hold their room");
        let part = body.slice(2..4);
        drop(body);
        assert_eq!(used(&stats), 10, "a slice is a reference too");
        drop(part);
        assert_eq!(used(&stats), 0);
    }

    #[test]
    fn parts_kept_one_by_one_share_the_room() {
        let stats = Arc::new(Stats::default());
        let mut m = BodyMemory::new(&stats, 100);
        assert!(m.hold(7));
        assert!(m.hold(7), "the same total takes nothing more");
        let one = m.keep(Bytes::from_static(b"abc"));
        let two = m.keep(Bytes::from_static(b"defg"));
        assert!(m.hold(10), "room for the part after the first two");
        let three = m.keep(Bytes::from_static(b"xyz"));
        drop(m);
        assert_eq!(used(&stats), 10);
        drop((one, three));
        assert_eq!(used(&stats), 4);
        drop(two);
        assert_eq!(used(&stats), 0);
    }
}
