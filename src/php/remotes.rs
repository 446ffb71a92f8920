//! This process's connections to shared brokers (`redis://`, `rediss://`, `nats://`,
//! `tls://`) for `Via\Broker`.
//!
//! Owns: one `broker::Remote` per distinct DSN, however many `Via\Broker` objects use it
//! (one connection per server), started when the server starts serving (or at once, for a
//! broker created while it serves) and closed when it stops, and the hand-over of what a
//! remote reports (`Notify`: to the PHP thread in one process, to the workers in the
//! master). A worker holds no connection: its brokers go through the master's (bus
//! `id + 1` of the broker frames), and it keeps the state the master reports.
//! Does not own: subscriptions and callbacks (`broker`), the connection itself
//! (`crate::broker`).
//!
//! PHP thread only; the notifier runs on Tokio threads and touches no PHP value.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::broker::{envelope, Origin, Remote, RemoteConfig, RemoteEvent, Sink};

use super::global::PhpGlobal;

/// Index of a remote in this process's registry.
pub type RemoteId = u32;

/// What remote `id` reports, on its way to the PHP thread (one process) or the workers
/// (the master).
pub type Notify = Arc<dyn Fn(RemoteId, RemoteEvent) + Send + Sync>;

struct Entry {
    dsn: String,
    config: RemoteConfig,
    remote: Option<Arc<Remote>>,
    /// In a worker: the state of the master's connection (`BrokerState`).
    master_connected: bool,
}

#[derive(Default)]
struct Registry {
    entries: Vec<Entry>,
    /// While a server serves: where remotes run and report.
    serving: Option<(tokio::runtime::Handle, Notify)>,
    origin: Option<Origin>,
}

static REMOTES: PhpGlobal<RefCell<Option<Registry>>> = PhpGlobal::new(RefCell::new(None));

fn with<R>(f: impl FnOnce(&mut Registry) -> R) -> R {
    f(REMOTES.get().borrow_mut().get_or_insert_with(Registry::default))
}

struct ToPhp {
    id: RemoteId,
    notify: Notify,
}

impl Sink for ToPhp {
    fn event(&self, event: RemoteEvent) {
        (self.notify)(self.id, event);
    }
}

impl Registry {
    fn start(&mut self, id: RemoteId) {
        let Some((rt, notify)) = &self.serving else { return };
        let origin = *self.origin.get_or_insert_with(envelope::new_origin);
        let entry = &mut self.entries[id as usize];
        if entry.remote.is_none() {
            let sink = Arc::new(ToPhp { id, notify: Arc::clone(notify) });
            entry.remote = Some(Arc::new(Remote::start(rt, entry.config.clone(), origin, sink)));
        }
    }
}

/// The remote for `dsn` (one per distinct DSN), started if a server serves.
pub fn register(dsn: &str, config: RemoteConfig) -> RemoteId {
    with(|r| {
        let id = match r.entries.iter().position(|e| e.dsn == dsn) {
            Some(i) => i as RemoteId,
            None => {
                r.entries.push(Entry { dsn: dsn.to_owned(), config, remote: None, master_connected: false });
                (r.entries.len() - 1) as RemoteId
            }
        };
        r.start(id);
        id
    })
}

/// Bytes of messages from shared brokers handed to the PHP thread (one process) and not
/// yet run: a PHP thread busy in a long call must not make them pile up without bound.
/// Past `limit` (`broker_backlog`, as for a worker) they are dropped and counted.
pub struct Backlog {
    queued: AtomicUsize,
    limit: usize,
    dropped: Arc<crate::http::Stats>,
    warned: AtomicU64,
}

impl Backlog {
    pub fn new(limit: usize, stats: Arc<crate::http::Stats>) -> Arc<Self> {
        Arc::new(Self { queued: AtomicUsize::new(0), limit, dropped: stats, warned: AtomicU64::new(0) })
    }

    /// Counts `size` bytes on their way; `false` (counted as dropped) past the limit.
    pub fn reserve(&self, size: usize) -> bool {
        if self.queued.fetch_add(size, Ordering::AcqRel) + size <= self.limit {
            return true;
        }
        self.queued.fetch_sub(size, Ordering::AcqRel);
        self.dropped.broker_dropped.fetch_add(1, Ordering::Relaxed);
        if self.warned.fetch_add(1, Ordering::Relaxed) % 10_000 == 0 {
            crate::warn!("the PHP thread is not taking shared-broker messages; dropping them");
        }
        false
    }

    /// `size` bytes were run.
    pub fn release(&self, size: usize) {
        self.queued.fetch_sub(size, Ordering::AcqRel);
    }
}

/// The size a message counts for against a `Backlog`.
pub fn message_size(event: &RemoteEvent) -> usize {
    match event {
        RemoteEvent::Message(m) => m.topic.len() + m.payload.len(),
        _ => 0,
    }
}

/// The server starts serving in this process: connect every remote registered so far.
pub fn start_all(rt: tokio::runtime::Handle, notify: Notify) {
    with(|r| {
        r.serving = Some((rt, notify));
        for id in 0..r.entries.len() {
            r.start(id as RemoteId);
        }
    });
}

/// Every remote, once `start_all` ran (bus n of the workers is `[n - 1]`).
pub fn started() -> Vec<Arc<Remote>> {
    with(|r| r.entries.iter().filter_map(|e| e.remote.clone()).collect())
}

/// In a worker: the master's connection to remote `id` is up or down.
pub fn set_master_connected(id: RemoteId, connected: bool) {
    with(|r| {
        if let Some(e) = r.entries.get_mut(id as usize) {
            e.master_connected = connected;
        }
    });
}

/// Whether messages can flow through remote `id`: its connection in this process, or
/// (a worker) the master's.
pub fn is_connected(id: RemoteId) -> bool {
    with(|r| {
        r.entries.get(id as usize).is_some_and(|e| match &e.remote {
            Some(remote) => remote.is_connected(),
            None => e.master_connected,
        })
    })
}

/// The server stopped: close every connection (what is still queued is lost).
pub fn stop_all() {
    let remotes: Vec<Arc<Remote>> = with(|r| {
        r.serving = None;
        r.entries.iter_mut().filter_map(|e| e.remote.take()).collect()
    });
    drop(remotes);
}

/// Runs `f` on the remote `id` if it is connected or connecting.
pub fn with_remote<R>(id: RemoteId, f: impl FnOnce(&Remote) -> R) -> Option<R> {
    with(|r| r.entries.get(id as usize).and_then(|e| e.remote.as_deref()).map(f))
}

/// `scheme://host:port` of remote `id`, for messages.
pub fn display(id: RemoteId) -> String {
    with(|r| r.entries.get(id as usize).map(|e| e.config.display()).unwrap_or_default())
}

/// Closes every connection and forgets them (request shutdown).
pub fn shutdown() {
    let old = REMOTES.get().borrow_mut().take();
    drop(old);
}
