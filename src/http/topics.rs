//! Topics: named groups of event streams, and a fan-out that runs on Tokio.
//!
//! Owns: topic membership and the hub task that delivers one published frame to every
//! stream of a topic. The PHP thread hands over one message per publish; formatting is
//! done once, compression per stream happens as each stream is polled.
//!
//! Invariants: membership is behind one mutex, never held while a stream is pushed to;
//! frames of one publisher reach every stream in publish order (one hub task, one queue).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::stats::Stats;
use super::stream::{PushOutcome, StreamShared};
use crate::config::Backpressure;

struct Publish {
    topic: String,
    frame: Bytes,
}

pub struct Topics {
    members: Mutex<HashMap<String, HashMap<u64, Arc<StreamShared>>>>,
    hub: mpsc::UnboundedSender<Publish>,
    stats: Arc<Stats>,
    /// What a full queue means for a topic delivery. `Wait` cannot wait here (one slow
    /// client must not hold up the others), so it drops like `Drop`.
    policy: Backpressure,
}

impl Topics {
    /// A registry whose hub runs on `rt`.
    pub fn start(rt: &tokio::runtime::Handle, stats: Arc<Stats>, policy: Backpressure) -> Arc<Self> {
        let (hub, mut rx) = mpsc::unbounded_channel::<Publish>();
        let topics = Arc::new(Self { members: Mutex::new(HashMap::new()), hub, stats, policy });
        let weak = Arc::downgrade(&topics);
        rt.spawn(async move {
            let mut streams = Vec::new();
            while let Some(p) = rx.recv().await {
                let Some(topics) = weak.upgrade() else { return };
                topics.deliver(&p, &mut streams);
            }
        });
        topics
    }

    /// Adds a stream to a topic; `false` if it was a member already.
    pub fn join(&self, topic: &str, stream: &Arc<StreamShared>) -> bool {
        let mut m = self.members.lock();
        m.entry(topic.to_owned()).or_default().insert(stream.id(), Arc::clone(stream)).is_none()
    }

    /// Removes a stream from a topic; `false` if it was not a member.
    pub fn leave(&self, topic: &str, stream_id: u64) -> bool {
        let mut m = self.members.lock();
        let Some(set) = m.get_mut(topic) else { return false };
        let removed = set.remove(&stream_id).is_some();
        if set.is_empty() {
            m.remove(topic);
        }
        removed
    }

    pub fn subscribers(&self, topic: &str) -> usize {
        self.members.lock().get(topic).map_or(0, HashMap::len)
    }

    /// Queues `frame` for every stream of `topic`; returns how many streams it goes to.
    /// The deliveries happen on the hub task.
    pub fn publish(&self, topic: &str, frame: Bytes) -> usize {
        let n = self.subscribers(topic);
        self.stats.topic_publishes.fetch_add(1, Ordering::Relaxed);
        if n > 0 {
            let _ = self.hub.send(Publish { topic: topic.to_owned(), frame });
        }
        n
    }

    fn deliver(&self, p: &Publish, streams: &mut Vec<Arc<StreamShared>>) {
        streams.clear();
        if let Some(set) = self.members.lock().get(&p.topic) {
            streams.extend(set.values().cloned());
        }
        let mut delivered = 0u64;
        let mut gone = Vec::new();
        for s in streams.iter() {
            match s.try_push(p.frame.clone()) {
                PushOutcome::Queued(_) => delivered += 1,
                PushOutcome::Closed => gone.push(s.id()),
                PushOutcome::Full => match self.policy {
                    Backpressure::Close => {
                        s.abort();
                        self.stats.sse_closed_slow.fetch_add(1, Ordering::Relaxed);
                        gone.push(s.id());
                    }
                    Backpressure::Drop | Backpressure::Wait => {
                        self.stats.sse_dropped.fetch_add(1, Ordering::Relaxed);
                    }
                },
            }
        }
        self.stats.topic_deliveries.fetch_add(delivered, Ordering::Relaxed);
        self.stats.sse_events.fetch_add(delivered, Ordering::Relaxed);
        for id in gone {
            self.leave(&p.topic, id);
        }
        streams.clear();
    }
}
