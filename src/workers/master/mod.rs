//! The master of a multi-worker server: routes requests to workers, carries their answers
//! back to the connections, fans out topic publishes and broker messages, and supervises
//! the worker processes.
//!
//! - `routing`: which worker a request goes to (the affinity cookie), requests held for a
//!   worker that is (re)starting, and a request's wire form.
//! - `conn`: the link to one worker process: its requests in flight, its streams and
//!   subscriptions, and the frames it sends.
//! - `supervisor`: the task that starts, replaces and stops the worker processes.
//!
//! Owns: what those share (`Master`: the slots, every live link, the master's stream ids;
//! `SupEvent`, what the links and the handle tell the supervisor),
//! the fan-out across links (broker messages, counters), the handle the PHP thread keeps,
//! and starting the supervisor.
//! Does not own: HTTP (the same core as one process, with this as its `Dispatcher`), PHP
//! (none runs here), forking (`forker`), which forker is active (`forkers`).
//!
//! Invariants:
//! - Every request either gets the worker's answer, or a 502 when its worker dies, or the
//!   core's own 504; none waits on a worker that is gone.
//! - A worker index always maps to at most one routed process; a replacement takes its
//!   index only once it said Ready, so nothing is routed to a process still starting.
//! - Frames from one worker are handled in order on one task: a publisher's messages keep
//!   their order, a stream's chunks too.
//! - Lock order: a slot's `current`, then a link's state. `Master::conns`,
//!   `Master::streams` and a slot's `waiting` are taken with no other lock held. No lock is
//!   held across an await, nor while a stream, a topic or a reply is called.

mod conn;
mod relay;
mod routing;
mod supervisor;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use parking_lot::Mutex;
use tokio::sync::mpsc;

use self::conn::Conn;
use self::routing::Slot;
use self::supervisor::Supervisor;
use super::forker::{ForkerEvent, ForkerHandle};
use super::forkers::Forkers;
use super::reaper::{Exit, Reaper};
use crate::broker::{Remote, RemoteEvent};
use crate::http::stats::Stats;
use crate::http::topics::Topics;
use crate::http::{Dispatcher, IncomingRequest, StreamEvent};
use crate::ipc::{ToApp, OTHER_SERVER};
use crate::shutdown::Trigger;

#[derive(Debug, Clone)]
pub struct MasterConfig {
    pub workers: u32,
    /// Name of the affinity cookie.
    pub cookie: String,
    /// The cookie gets `Secure` (HTTPS servers).
    pub secure_cookie: bool,
    pub shutdown_timeout: Duration,
    /// A crash loop: this many crashes within `crash_window` stops the server.
    pub crash_limit: u32,
    pub crash_window: Duration,
    /// Bytes of a worker's stream the master holds at most beyond what its reader took
    /// (the worker's window, `conn::Forwarded`), and the bound of its queue for topics.
    pub stream_queue: usize,
    /// Bytes of broker messages one worker may have queued in the master's link queue
    /// and not yet written (`WorkersConfig::broker_backlog`).
    pub broker_backlog: usize,
    /// Pages for the answers the master gives itself (502, 503).
    pub error_pages: crate::ops::error_pages::ErrorPages,
    /// The workers serve their own connections (`dispatch = connection`): the master routes
    /// nothing, and relays topic publishes and counts between the workers.
    pub serve_connections: bool,
    /// The workers' shared connection counters (`serve_connections`): a slot is cleared
    /// when its worker exits.
    pub balance: Option<crate::http::balance::Balance>,
}

/// How the server ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stopped,
    /// Workers crashed in a loop, or could not be started at all.
    Failed(String),
}

/// The shared state of the master: the dispatcher of its HTTP core and the supervisor's
/// view of the workers.
pub struct Master {
    cfg: MasterConfig,
    slots: Vec<Slot>,
    /// The affinity cookie of each worker index, made once (`Set-Cookie` values).
    cookies: Vec<Option<http::HeaderValue>>,
    /// Every live link, current and leaving (broker fan-out, stats).
    conns: Mutex<Vec<Arc<Conn>>>,
    /// Round-robin position for requests without an affinity cookie.
    rr: AtomicUsize,
    stats: OnceLock<Arc<Stats>>,
    topics: OnceLock<Arc<Topics>>,
    /// Master stream id → (its link, the worker's stream id).
    streams: Mutex<HashMap<u64, (Weak<Conn>, u64)>>,
    sup: mpsc::UnboundedSender<SupEvent>,
    me: Weak<Master>,
    stopping: AtomicBool,
    /// This server's connections to shared brokers (`set_remotes`).
    remotes: OnceLock<Vec<Arc<Remote>>>,
    /// Topic questions relayed between workers (`dispatch = connection`).
    gathers: relay::Gathers,
}

/// What the supervisor acts on.
enum SupEvent {
    /// From the forker with this id (`ForkerHandle::id`).
    Forker {
        forker: u64,
        event: ForkerEvent,
    },
    /// A worker the master adopted (its forker died) ended.
    Reaped {
        pid: i32,
        exit: Exit,
    },
    /// SIGCHLD: a child of the master ended.
    ChildExited,
    /// Ask the active forker for a spare again (the last fork of one failed).
    AskSpare,
    Ready(Arc<Conn>),
    Closed(Arc<Conn>),
    Retire(Arc<Conn>),
    Respawn(u32),
    Stop,
    StopNow,
    Reload,
    HttpDrained,
    DrainDeadline,
}

/// What the PHP thread of the master holds while the server runs.
pub struct MasterHandle {
    master: Arc<Master>,
}

impl MasterHandle {
    /// Begins the drain (first call) or stops at once (second call).
    pub fn stop(&self) {
        let ev = if self.master.stopping.swap(true, Ordering::AcqRel) {
            SupEvent::StopNow
        } else {
            SupEvent::Stop
        };
        self.master.supervise(ev);
    }

    /// Replaces the workers one at a time.
    pub fn reload(&self) {
        self.master.supervise(SupEvent::Reload);
    }

    /// A child of the master ended (SIGCHLD): reap it.
    pub fn child_exited(&self) {
        self.master.supervise(SupEvent::ChildExited);
    }
}

impl Master {
    /// The master's routing state; `start` begins supervising once the HTTP core runs.
    pub fn new(cfg: MasterConfig) -> (Arc<Self>, MasterStart) {
        let (sup, sup_rx) = mpsc::unbounded_channel();
        let master = Arc::new_cyclic(|me| Self {
            slots: (0..cfg.workers).map(|_| Slot::default()).collect(),
            cookies: (0..cfg.workers).map(|i| routing::cookie_value(&cfg, i)).collect(),
            cfg,
            conns: Mutex::default(),
            rr: AtomicUsize::new(0),
            stats: OnceLock::new(),
            topics: OnceLock::new(),
            streams: Mutex::default(),
            sup,
            me: me.clone(),
            stopping: AtomicBool::new(false),
            remotes: OnceLock::new(),
            gathers: relay::Gathers::default(),
        });
        (Arc::clone(&master), MasterStart { master, sup_rx })
    }

    fn stats(&self) -> &Stats {
        self.stats.get().map(Arc::as_ref).expect("set before the first request")
    }

    fn topics(&self) -> &Topics {
        self.topics.get().map(Arc::as_ref).expect("set before the first request")
    }

    fn all_conns(&self) -> Vec<Arc<Conn>> {
        self.conns.lock().clone()
    }

    /// Asks every live worker but `asker` (`dispatch = connection`): `ask` makes the question
    /// from its id; once they all answered, `asker` gets the answer to its question `seq`
    /// (`want`: the sum of theirs, or the totals of every worker's fresh report).
    fn relay(&self, asker: &Arc<Conn>, seq: (u64, relay::Want), ask: impl Fn(u64) -> crate::ipc::ToLink) {
        let others: Vec<Arc<Conn>> =
            self.all_conns().into_iter().filter(|c| !Arc::ptr_eq(c, asker) && !c.is_dead()).collect();
        if let Some(done) = self.gathers.ask(asker, seq, &others, ask) {
            self.answer(done);
        }
    }

    /// Answers a relayed question every worker asked has answered.
    fn answer(&self, done: relay::Done<Conn>) {
        let relay::Done { asker, seq, want, sum } = done;
        match want {
            relay::Want::Sum => asker.send(ToApp::Answer { seq, value: sum }),
            relay::Want::Totals => asker.send(ToApp::StatsAnswer { seq, pairs: self.stats_totals() }),
        }
    }

    /// Hands `ev` to the supervisor task (dropped once it ended: nothing is left to do).
    fn supervise(&self, ev: SupEvent) {
        let _ = self.sup.send(ev);
    }

    /// A message of broker `bus` from worker `origin` (or `OTHER_SERVER`): to every live
    /// worker subscribed to `topic` on that bus.
    fn broker_publish(&self, bus: u32, origin: u32, topic: &Bytes, payload: &Bytes) {
        let size = topic.len() + payload.len();
        for c in self.all_conns() {
            if c.is_dead() || !c.is_subscribed(bus, topic) {
                continue;
            }
            // A worker that does not read its link (stopped, stuck) must not make the
            // master buffer without bound: past the backlog its messages are dropped.
            if !c.reserve_broker_bytes(size, self.cfg.broker_backlog) {
                let dropped =
                    self.stats.get().map_or(0, |st| st.broker_dropped.fetch_add(1, Ordering::Relaxed));
                if dropped % 10_000 == 0 {
                    crate::warn!(
                        "worker {} (pid {}) is not taking broker messages; dropping them",
                        c.index,
                        c.pid
                    );
                }
                continue;
            }
            c.send(ToApp::BrokerMessage { bus, origin, topic: topic.clone(), payload: payload.clone() });
        }
    }

    /// The shared brokers this server is connected to (bus n is `remotes[n - 1]`), set once
    /// before the workers start.
    pub fn set_remotes(&self, remotes: Vec<Arc<Remote>>) {
        let _ = self.remotes.set(remotes);
    }

    fn remote(&self, bus: u32) -> Option<&Arc<Remote>> {
        let index = usize::try_from(bus.checked_sub(1)?).ok()?;
        self.remotes.get()?.get(index)
    }

    /// A worker published on shared broker `bus`: on to the other servers.
    fn remote_publish(&self, bus: u32, topic: &Bytes, payload: &Bytes) {
        if let Some(remote) = self.remote(bus) {
            remote.publish(topic, payload);
        }
    }

    /// What this server's connection to shared broker `bus` reports, for the workers: a
    /// message from another server, its state, its errors.
    pub fn remote_event(&self, bus: u32, event: RemoteEvent) {
        match event {
            RemoteEvent::Message(m) => self.broker_publish(bus, OTHER_SERVER, &m.topic, &m.payload),
            RemoteEvent::State(connected) => {
                for c in self.all_conns() {
                    c.send(ToApp::BrokerState { bus, connected });
                }
            }
            RemoteEvent::Error(text) => {
                for c in self.all_conns() {
                    c.send(ToApp::BrokerError { bus, text: Bytes::from(text.clone()) });
                }
            }
        }
    }

    /// The state of every shared broker, for a worker that just became ready.
    fn remote_states(&self) -> Vec<ToApp> {
        let remotes = self.remotes.get().map_or(&[][..], Vec::as_slice);
        (1u32..)
            .zip(remotes)
            .map(|(bus, r)| ToApp::BrokerState { bus, connected: r.is_connected() })
            .collect()
    }

    /// The server's counters: the master's own, each worker's summed over the workers,
    /// and how many workers are ready.
    fn stats_totals(&self) -> Vec<(Bytes, u64)> {
        let mut totals: Vec<(Bytes, u64)> = self
            .stats()
            .snapshot()
            .pairs()
            .iter()
            .map(|(k, v)| (Bytes::from_static(k.as_bytes()), *v))
            .collect();
        let mut index: HashMap<Bytes, usize> =
            totals.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect();
        let conns = self.all_conns();
        for c in &conns {
            for (k, v) in c.stats() {
                match index.get(&k) {
                    Some(&i) => totals[i].1 += v,
                    None => {
                        index.insert(k.clone(), totals.len());
                        totals.push((k, v));
                    }
                }
            }
        }
        let live = conns.iter().filter(|c| c.is_ready()).count();
        totals.push((Bytes::from_static(b"workers_live"), live as u64));
        totals
    }
}

impl Dispatcher for Master {
    fn dispatch(&self, req: Box<IncomingRequest>) -> Result<(), Box<IncomingRequest>> {
        self.route(req)
    }

    fn drained(&self) {
        self.supervise(SupEvent::HttpDrained);
    }

    fn load(&self) -> crate::ops::metrics::Load {
        let conns = self.all_conns();
        let totals =
            self.stats_totals().into_iter().map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), v));
        crate::ops::metrics::Load {
            queue: conns.iter().map(|c| c.pending_count() as u64).sum(),
            oldest_wait: None,
            workers_live: Some(conns.iter().filter(|c| c.is_ready()).count() as u64),
            totals: Some(totals.collect()),
        }
    }
}

impl crate::http::StreamEvents for Master {
    fn stream_event(&self, event: StreamEvent) {
        match event {
            StreamEvent::Closed(id) => {
                let Some((conn, stream)) = self.streams.lock().remove(&id) else { return };
                if let Some(c) = conn.upgrade() {
                    c.client_left(stream);
                }
            }
            StreamEvent::Drained(id) => {
                let Some((conn, stream)) = self.streams.lock().get(&id).cloned() else { return };
                if let Some(c) = conn.upgrade() {
                    c.drained(self, stream, true);
                }
            }
        }
    }
}

/// Handed to `start` once the HTTP core runs.
pub struct MasterStart {
    master: Arc<Master>,
    sup_rx: mpsc::UnboundedReceiver<SupEvent>,
}

/// The server's pieces the supervisor needs.
pub struct Running {
    pub rt: tokio::runtime::Handle,
    pub stats: Arc<Stats>,
    pub topics: Arc<Topics>,
    pub forker: ForkerHandle,
    pub reaper: Reaper,
    /// Stops accepting and drains the HTTP core.
    pub http_shutdown: Trigger,
}

impl MasterStart {
    /// The handle of the master about to start (signals may be routed to it first).
    pub fn handle(&self) -> MasterHandle {
        MasterHandle { master: Arc::clone(&self.master) }
    }

    /// Starts the supervisor: spawns every worker. `done` receives the outcome once the
    /// server stopped (all workers gone, the forkers ended).
    pub fn start(self, run: Running, done: std::sync::mpsc::Sender<Outcome>) -> std::io::Result<()> {
        let MasterStart { master, sup_rx } = self;
        let _ = master.stats.set(run.stats);
        let _ = master.topics.set(run.topics);
        let sup = master.sup.clone();
        let forkers = Forkers::new(
            run.forker,
            run.reaper,
            Arc::new(move |forker, event| sup.send(SupEvent::Forker { forker, event }).is_ok()),
        )?;
        let supervisor = Supervisor::new(master, forkers, run.http_shutdown, run.rt.clone());
        run.rt.spawn(supervisor.run(sup_rx, done));
        Ok(())
    }
}
