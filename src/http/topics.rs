//! Topics: named groups of event streams, and the fan-out of one published frame to them.
//!
//! Owns: topic membership and the delivery of a frame to every stream of a topic, done by
//! the publisher's thread (the PHP thread, or the master's link task of the publishing
//! worker): it pushes the same `Bytes` into each stream's queue and wakes its connection
//! task, so the I/O threads write while the publisher is still pushing. (A hub task on the
//! I/O runtime did the pushes before: the I/O thread then pushed and wrote every frame
//! itself, and a 10,000-stream publish finished later than PHP calling `send()` on each
//! stream — bench/RESULTS.md.) Formatting is done once; compression per stream happens as
//! each stream is polled.
//!
//! Invariants: membership is behind one mutex, never held while a stream is pushed to;
//! frames of one publisher reach every stream in publish order (delivered before
//! `publish` returns).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;

use super::stats::Stats;
use super::stream::{PushOutcome, StreamShared};
use crate::config::Backpressure;

/// The streams of one topic.
#[derive(Default)]
struct Members {
    by_id: HashMap<u64, Arc<StreamShared>>,
    /// The members as one shared list, made by the first publish after a join or leave:
    /// a publish then takes one reference (not one per stream — with thousands of streams
    /// each of those is an atomic on a cold cache line, twice) and pushes outside the lock.
    list: Option<Arc<[Arc<StreamShared>]>>,
}

/// The members in the order their streams were opened (ids grow), not the map's hash
/// order: the I/O thread then meets the streams' states, tasks and sockets roughly in the
/// order they were allocated, which the hardware prefetches far better than a random walk
/// over thousands of them.
fn in_id_order(by_id: &HashMap<u64, Arc<StreamShared>>) -> Arc<[Arc<StreamShared>]> {
    let mut list: Vec<_> = by_id.values().cloned().collect();
    list.sort_unstable_by_key(|s| s.id());
    list.into()
}

pub struct Topics {
    members: Mutex<HashMap<String, Members>>,
    stats: Arc<Stats>,
    /// What a full queue means for a topic delivery. `Wait` cannot wait here (one slow
    /// client must not hold up the others), so it drops like `Drop`...
    policy: Backpressure,
    /// ...until the queue has been full this long with nothing taken: then the stream is
    /// cut off, as the connection of a client that takes no bytes is (`write_timeout`).
    stall_limit: Duration,
}

impl Topics {
    pub fn new(stats: Arc<Stats>, policy: Backpressure, stall_limit: Duration) -> Arc<Self> {
        Arc::new(Self { members: Mutex::new(HashMap::new()), stats, policy, stall_limit })
    }

    /// Adds a stream to a topic; `false` if it was a member already.
    pub fn join(&self, topic: &str, stream: &Arc<StreamShared>) -> bool {
        let mut m = self.members.lock();
        let members = m.entry(topic.to_owned()).or_default();
        members.list = None;
        members.by_id.insert(stream.id(), Arc::clone(stream)).is_none()
    }

    /// Removes a stream from a topic; `false` if it was not a member.
    pub fn leave(&self, topic: &str, stream_id: u64) -> bool {
        let mut m = self.members.lock();
        let Some(members) = m.get_mut(topic) else { return false };
        let removed = members.by_id.remove(&stream_id).is_some();
        members.list = None;
        if members.by_id.is_empty() {
            m.remove(topic);
        }
        removed
    }

    pub fn subscribers(&self, topic: &str) -> usize {
        self.members.lock().get(topic).map_or(0, |m| m.by_id.len())
    }

    /// Queues `frame` for every stream of `topic` now, on this thread; returns how many
    /// streams it went to (queued, or dropped for a full queue by the policy).
    pub fn publish(&self, topic: &str, frame: Bytes) -> usize {
        self.stats.topic_publishes.fetch_add(1, Ordering::Relaxed);
        let streams = match self.members.lock().get_mut(topic) {
            Some(m) => Arc::clone(m.list.get_or_insert_with(|| in_id_order(&m.by_id))),
            None => return 0,
        };
        let mut delivered = 0u64;
        // Of the frames the pushes wrote themselves (`PushOutcome::Sent`): the writer, or an
        // I/O thread's flush (`wake_batch`), counts those it writes.
        let mut sent_bytes = 0u64;
        let mut gone = Vec::new();
        let mut wakes = super::wake_batch::Wakes::with_capacity(streams.len());
        for s in streams.iter() {
            match s.try_push_then(frame.clone(), |w| wakes.push(w)) {
                PushOutcome::Queued(_) => delivered += 1,
                PushOutcome::Sent => {
                    delivered += 1;
                    sent_bytes += frame.len() as u64;
                }
                PushOutcome::Closed => gone.push(s.id()),
                PushOutcome::Full => match self.policy {
                    Backpressure::Close => {
                        s.abort();
                        self.stats.sse_closed_slow.fetch_add(1, Ordering::Relaxed);
                        gone.push(s.id());
                    }
                    Backpressure::Drop | Backpressure::Wait if s.stalled_for() >= self.stall_limit => {
                        s.abort();
                        self.stats.write_timeouts.fetch_add(1, Ordering::Relaxed);
                        gone.push(s.id());
                    }
                    Backpressure::Drop | Backpressure::Wait => {
                        self.stats.sse_dropped.fetch_add(1, Ordering::Relaxed);
                    }
                },
            }
        }
        drop(wakes);
        self.stats.topic_deliveries.fetch_add(delivered, Ordering::Relaxed);
        self.stats.sse_events.fetch_add(delivered, Ordering::Relaxed);
        if sent_bytes > 0 {
            self.stats.sse_bytes.fetch_add(sent_bytes, Ordering::Relaxed);
        }
        for id in gone {
            self.leave(topic, id);
        }
        streams.len()
    }
}
