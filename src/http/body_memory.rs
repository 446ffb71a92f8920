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
//! themselves (`Bytes::from_owner`) cost an allocation a request, +142 instructions (0.8 %)
//! of a JSON action's.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::BytesMut;

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

    /// Makes room in `buf` for `more` bytes, the room of its new capacity taken first:
    /// doubling as `Vec` does, but never past `ceiling` (the most the body can need), so a
    /// body's buffer is at most its size and one of `max_body_size` fits in
    /// `max_body_memory` (a multipart form's fields: see `grow_beside`). False, nothing
    /// grown, past the limit. (This body's room is the buffer's capacity: `hold` counts the
    /// total of one body.)
    pub fn grow(&mut self, buf: &mut BytesMut, more: usize, ceiling: usize) -> bool {
        self.grow_beside(0, buf, more, ceiling)
    }

    /// `grow` for one of a body's buffers, beside `others` bytes its other buffers hold (a
    /// multipart body's fields before this one). Give as `ceiling` what the body can still
    /// need, its ceiling less `others`: then the buffers together stay within it, unless
    /// the earlier ones' spare room (a doubling's rest) leaves this one too little.
    pub fn grow_beside(&mut self, others: u64, buf: &mut BytesMut, more: usize, ceiling: usize) -> bool {
        let (len, cap) = (buf.len(), buf.capacity());
        if len + more <= cap {
            return self.hold(others + cap as u64);
        }
        let target = cap.saturating_mul(2).min(ceiling).max(len + more);
        if !self.hold(others + target as u64) {
            return false;
        }
        let mut grown = BytesMut::with_capacity(target);
        grown.extend_from_slice(buf);
        *buf = grown;
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
    fn a_buffer_grows_by_doubling_up_to_what_the_body_needs_its_room_taken_first() {
        let stats = Arc::new(Stats::default());
        let mut m = BodyMemory::new(&stats, 3000);
        let mut buf = BytesMut::with_capacity(100);
        buf.extend_from_slice(&[1; 100]);
        assert!(m.grow(&mut buf, 50, 1000));
        assert_eq!((buf.capacity(), used(&stats)), (200, 200), "doubled");
        assert_eq!(&buf[..], &[1; 100][..]);
        buf.extend_from_slice(&[2; 100]);
        assert!(m.grow(&mut buf, 300, 1000));
        assert_eq!((buf.capacity(), used(&stats)), (500, 500), "what it needs, more than double");
        buf.extend_from_slice(&[3; 300]);
        assert!(m.grow(&mut buf, 100, 1000));
        assert_eq!((buf.capacity(), used(&stats)), (1000, 1000), "doubled");
        buf.extend_from_slice(&[4; 100]);
        assert!(m.grow(&mut buf, 100, 1000), "room enough without growing");
        buf.extend_from_slice(&[5; 400]);
        assert!(m.grow(&mut buf, 100, 1100));
        assert_eq!((buf.capacity(), used(&stats)), (1100, 1100), "not past the ceiling");
        let mut other = BodyMemory::new(&stats, 3000);
        let mut big = BytesMut::with_capacity(1000);
        assert!(other.grow(&mut big, 1000, 4000));
        big.extend_from_slice(&[0; 1000]);
        assert!(!other.grow(&mut big, 1000, 4000), "2000 more of 3000 in all");
        assert_eq!(big.capacity(), 1000, "nothing grown");
        assert_eq!(used(&stats), 2100);
    }

    /// A second buffer of one body (a multipart form's next field) grows beside what the
    /// first holds: the room of both is taken before either grows.
    #[test]
    fn a_buffer_beside_others_takes_room_for_all_before_it_grows() {
        let stats = Arc::new(Stats::default());
        let mut m = BodyMemory::new(&stats, 1000);
        let mut first = BytesMut::new();
        assert!(m.grow(&mut first, 600, 600));
        first.extend_from_slice(&[1; 600]);
        let mut second = BytesMut::new();
        assert!(m.grow_beside(600, &mut second, 300, 1000));
        second.extend_from_slice(&[2; 300]);
        assert_eq!(used(&stats), 900);
        assert!(!m.grow_beside(600, &mut second, 200, 1000), "600 + 600 of 1000");
        assert_eq!((second.capacity(), used(&stats)), (300, 900), "nothing grown, nothing more held");
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
