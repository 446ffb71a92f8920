//! What the responses and streams of a running server use of it: the event sink for
//! their streams, counters, topics (local, or the master's through the link), the stream
//! and compression settings.
//!
//! Owns: `Services`, built once per running server (`roles`) and shared by every response.
//! Does not own: the server's state (`serve`) or the topics themselves
//! (`crate::http::Topics`, or the master's in a worker).

use std::sync::Arc;

use bytes::Bytes;
use ext_php_rs::exception::PhpResult;

use super::workers as php_workers;
use crate::config::SseConfig;
use crate::http::encoding::CompressionConfig;
use crate::http::{Dispatcher, Stats, StreamShared, Topics};
use crate::ipc::ToMaster;
use crate::workers::link::Link;

/// What the responses of a running server use of it.
pub struct Services {
    pub events: Arc<dyn Dispatcher>,
    pub stats: Arc<Stats>,
    pub topics: TopicsRef,
    pub sse: SseConfig,
    pub compression: CompressionConfig,
    /// How long a streamed response waits for a client that takes nothing
    /// (`write_timeout`).
    pub write_timeout: std::time::Duration,
    /// Header fields the responses were given lately, parsed (`Via\\Response::header`).
    pub fields: std::cell::RefCell<super::field_cache::FieldCache>,
}

/// Where topics live: in this process (one process), in the master (a worker of sticky
/// dispatch), or in every worker (a worker that serves its own connections: it keeps its
/// streams' topics, and the master relays publishes and counts to the others).
#[derive(Clone)]
pub enum TopicsRef {
    Local(Arc<Topics>),
    Remote(Arc<Link>),
    Spread(Arc<Topics>, Arc<Link>),
}

impl TopicsRef {
    pub fn join(&self, topic: &str, stream: &Arc<StreamShared>) {
        match self {
            Self::Local(t) | Self::Spread(t, _) => {
                t.join(topic, stream);
            }
            Self::Remote(link) => {
                link.send(ToMaster::Join {
                    stream: stream.id(),
                    topic: bytes::Bytes::from(topic.to_owned()),
                });
            }
        }
    }

    pub fn leave(&self, topic: &str, stream_id: u64) {
        match self {
            Self::Local(t) | Self::Spread(t, _) => {
                t.leave(topic, stream_id);
            }
            Self::Remote(link) => {
                link.send(ToMaster::Leave { stream: stream_id, topic: bytes::Bytes::from(topic.to_owned()) });
            }
        }
    }

    /// This process's topics, and the link through which the master reaches the others'.
    fn parts(&self) -> (Option<&Arc<Topics>>, Option<&Arc<Link>>) {
        match self {
            Self::Local(t) => (Some(t), None),
            Self::Remote(link) => (None, Some(link)),
            Self::Spread(t, link) => (Some(t), Some(link)),
        }
    }

    /// Publishes `frame` to every stream that joined `topic`, here and through the master;
    /// how many streams there were. `what` names the PHP method in errors.
    pub fn publish(&self, what: &str, topic: String, frame: Bytes) -> PhpResult<i64> {
        let (here, link) = self.parts();
        let Some(link) = link else {
            return Ok(here.map_or(0, |t| t.publish(&topic, frame)) as i64);
        };
        let here = here.map_or(0, |t| t.publish(&topic, frame.clone())) as i64;
        let topic = Bytes::from(topic);
        let there = php_workers::ask(link, what, |seq| ToMaster::Publish { seq, topic, frame })?;
        Ok(here + there.long().unwrap_or(0))
    }

    /// How many streams joined `topic`, here and through the master.
    pub fn subscribers(&self, what: &str, topic: String) -> PhpResult<i64> {
        let (here, link) = self.parts();
        let here = here.map_or(0, |t| t.subscribers(&topic)) as i64;
        let Some(link) = link else { return Ok(here) };
        let topic = Bytes::from(topic);
        let there = php_workers::ask(link, what, |seq| ToMaster::Subscribers { seq, topic })?;
        Ok(here + there.long().unwrap_or(0))
    }
}
