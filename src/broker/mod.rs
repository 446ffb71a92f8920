//! Brokers shared by servers: Redis pub/sub and NATS, on Tokio.
//!
//! One `Remote` is one connection of a server to its broker: with workers it lives in the
//! master, which fans incoming messages out over the worker links; in one process it
//! lives next to the HTTP core. Every message travels on one channel (Redis) or subject
//! (NATS) in an `envelope`: its origin (this server process), its topic, its payload, and
//! an HMAC when the servers share a secret.
//!
//! Owns: the connection's lifetime (connect, subscribe, reconnect with backoff from 1 s
//! doubling to 30 s), the outbox (bounded in bytes: `publish` never blocks; while the
//! broker is down or behind, messages wait there, and past the bound they are dropped and
//! counted), checking what arrives (refused messages are counted, never delivered), and
//! skipping this server's own messages (unless `echo`).
//! Does not own: who gets a message (the `Sink`: the PHP thread, or the workers).
//!
//! Invariants: no lock is held across an await; credentials appear in no message (errors
//! from the client libraries pass through `Credentials::redact`).

pub mod dsn;
pub mod envelope;
mod nats;
mod redis;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::{watch, Notify};

pub use dsn::{Driver, RemoteConfig};
pub use envelope::{Message, Origin};

/// First wait before reconnecting; doubles up to `BACKOFF_MAX`.
const BACKOFF_START: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Messages sent to the broker in one write (a Redis pipeline).
const SEND_BATCH: usize = 256;
/// How long connecting (and each command) may take before it counts as a failure.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// What a remote reports.
#[derive(Debug)]
pub enum RemoteEvent {
    /// A checked message from another server (or this one, with `echo`).
    Message(Message),
    /// The connection went up (`true`) or down.
    State(bool),
    /// Connecting failed, the connection broke, or the broker refused us. The text names
    /// the broker by `RemoteConfig::display` and holds no credentials.
    Error(String),
}

/// Where a remote's events go. Called on Tokio threads: hand over, never block.
pub trait Sink: Send + Sync + 'static {
    fn event(&self, event: RemoteEvent);
}

/// Counters of one remote.
#[derive(Default, Debug)]
pub struct RemoteStats {
    /// Messages taken by `publish` (not dropped).
    pub published: AtomicU64,
    /// Messages written to the broker.
    pub sent: AtomicU64,
    /// Messages from the broker handed to the sink.
    pub delivered: AtomicU64,
    /// Messages `publish` dropped because the outbox was full.
    pub dropped: AtomicU64,
    /// Messages from the broker refused: malformed, unsigned or badly signed.
    pub rejected: AtomicU64,
    /// This server's own messages, come back and skipped.
    pub own_skipped: AtomicU64,
    /// Connections made after the first.
    pub reconnects: AtomicU64,
}

#[derive(Default)]
struct Outbox {
    queue: VecDeque<Bytes>,
    bytes: usize,
}

struct Shared {
    config: RemoteConfig,
    origin: Origin,
    sink: Arc<dyn Sink>,
    connected: AtomicBool,
    ever_connected: AtomicBool,
    outbox: Mutex<Outbox>,
    outbox_ready: Notify,
    /// Notified when `connected` changes.
    connection_changed: Notify,
    stats: RemoteStats,
}

impl Shared {
    fn set_connected(&self, up: bool) {
        let was = self.connected.swap(up, Ordering::AcqRel);
        if was != up {
            self.connection_changed.notify_waiters();
            self.sink.event(RemoteEvent::State(up));
        }
        if up && !was {
            if self.ever_connected.swap(true, Ordering::AcqRel) {
                self.stats.reconnects.fetch_add(1, Ordering::Relaxed);
            }
            crate::info!("broker {}: connected", self.config.display());
        }
    }

    fn report(&self, what: &str, error: impl std::fmt::Display) {
        let text = format!(
            "broker {}: {what}: {}",
            self.config.display(),
            self.config.credentials.redact(&error.to_string())
        );
        crate::warn!("{text}");
        self.sink.event(RemoteEvent::Error(text));
    }

    /// Takes up to `SEND_BATCH` messages from the outbox.
    fn take_batch(&self) -> Vec<Bytes> {
        let mut o = self.outbox.lock();
        let n = o.queue.len().min(SEND_BATCH);
        let batch: Vec<Bytes> = o.queue.drain(..n).collect();
        o.bytes -= batch.iter().map(Bytes::len).sum::<usize>();
        batch
    }

    /// Puts back what could not be sent, in front, as far as the bound allows (a message
    /// in flight when the connection broke may then reach the broker twice).
    fn put_back(&self, batch: Vec<Bytes>) {
        let mut o = self.outbox.lock();
        for m in batch.into_iter().rev() {
            if o.bytes + m.len() > self.config.buffer {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            o.bytes += m.len();
            o.queue.push_front(m);
        }
    }

    /// Resolves once the outbox holds a message.
    async fn outbox_filled(&self) {
        loop {
            let notified = self.outbox_ready.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if !self.outbox.lock().queue.is_empty() {
                return;
            }
            notified.await;
        }
    }

    /// A message off the broker: check it, skip our own, deliver the rest.
    fn received(&self, bytes: &Bytes) {
        match envelope::decode(bytes, self.config.secret.as_deref()) {
            Ok(m) if m.origin == self.origin && !self.config.echo => {
                self.stats.own_skipped.fetch_add(1, Ordering::Relaxed);
            }
            Ok(m) => {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                self.sink.event(RemoteEvent::Message(m));
            }
            Err(why) => {
                let n = self.stats.rejected.fetch_add(1, Ordering::Relaxed);
                if n.is_power_of_two() || n == 0 {
                    crate::warn!(
                        "broker {}: refused a message ({why:?}); {} refused so far",
                        self.config.display(),
                        n + 1
                    );
                }
            }
        }
    }
}

/// Every remote of this process, for `all()`.
static LIVE: parking_lot::Mutex<Vec<std::sync::Weak<Shared>>> = parking_lot::Mutex::new(Vec::new());

/// One remote as metrics report it.
#[derive(Debug, Clone)]
pub struct RemoteReport {
    /// The DSN without credentials.
    pub name: String,
    pub connected: bool,
    pub queued_bytes: usize,
    pub published: u64,
    pub sent: u64,
    pub delivered: u64,
    pub dropped: u64,
    pub rejected: u64,
    pub reconnects: u64,
}

/// Every live remote of this process, in the order they started.
pub fn all() -> Vec<RemoteReport> {
    let mut live = LIVE.lock();
    live.retain(|s| s.strong_count() > 0);
    live.iter()
        .filter_map(std::sync::Weak::upgrade)
        .map(|s| {
            let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
            RemoteReport {
                name: s.config.display(),
                connected: s.connected.load(Ordering::Acquire),
                queued_bytes: s.outbox.lock().bytes,
                published: n(&s.stats.published),
                sent: n(&s.stats.sent),
                delivered: n(&s.stats.delivered),
                dropped: n(&s.stats.dropped),
                rejected: n(&s.stats.rejected),
                reconnects: n(&s.stats.reconnects),
            }
        })
        .collect()
}

/// A server's connection to a shared broker. Dropping it closes the connection.
pub struct Remote {
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
}

impl Remote {
    /// Starts connecting on `rt`; messages from the broker go to `sink`.
    pub fn start(
        rt: &tokio::runtime::Handle,
        config: RemoteConfig,
        origin: Origin,
        sink: Arc<dyn Sink>,
    ) -> Self {
        let shared = Arc::new(Shared {
            config,
            origin,
            sink,
            connected: AtomicBool::new(false),
            ever_connected: AtomicBool::new(false),
            outbox: Mutex::new(Outbox::default()),
            outbox_ready: Notify::new(),
            connection_changed: Notify::new(),
            stats: RemoteStats::default(),
        });
        LIVE.lock().push(Arc::downgrade(&shared));
        let (stop, stopped) = watch::channel(false);
        let task = Arc::clone(&shared);
        match shared.config.driver {
            Driver::Redis => rt.spawn(redis::run(task, stopped)),
            Driver::Nats => rt.spawn(nats::run(task, stopped)),
        };
        Self { shared, stop }
    }

    /// Queues a message for every server on the broker. Never blocks: `false` when the
    /// outbox is full and the message was dropped (counted).
    pub fn publish(&self, topic: &[u8], payload: &[u8]) -> bool {
        let s = &self.shared;
        let wire = envelope::encode(&s.origin, topic, payload, s.config.secret.as_deref());
        {
            let mut o = s.outbox.lock();
            if o.bytes + wire.len() > s.config.buffer {
                drop(o);
                s.stats.dropped.fetch_add(1, Ordering::Relaxed);
                return false;
            }
            o.bytes += wire.len();
            o.queue.push_back(wire);
        }
        s.stats.published.fetch_add(1, Ordering::Relaxed);
        s.outbox_ready.notify_one();
        true
    }

    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Acquire)
    }

    pub fn stats(&self) -> &RemoteStats {
        &self.shared.stats
    }

    /// Bytes waiting in the outbox.
    pub fn queued_bytes(&self) -> usize {
        self.shared.outbox.lock().bytes
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

/// Waits `delay` unless told to stop first; `false` when stopped.
async fn pause(delay: Duration, stop: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        () = tokio::time::sleep(delay) => true,
        () = stopped(stop) => false,
    }
}

/// Resolves once the remote is told to stop (or its handle is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

fn next_backoff(delay: Duration) -> Duration {
    (delay * 2).min(BACKOFF_MAX)
}
