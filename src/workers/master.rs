//! The master of a multi-worker server: routes requests to workers, carries their answers
//! back to the connections, fans out topic publishes and broker messages, and supervises
//! the worker processes.
//!
//! Owns: sticky routing (an affinity cookie set on first contact, worker index in it), the
//! per-worker links (pending requests, streams, broker subscriptions), and the supervisor
//! task: spawning through the forker, backoff and crash-loop detection, recycling
//! (`max_requests`, SIGUSR1), the drain on stop, and carrying on when the forker dies (its
//! spare takes over, spawns it never answered are asked again, its workers' exits are
//! reaped here).
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

use std::collections::{HashMap, HashSet, VecDeque};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use parking_lot::Mutex;
use tokio::sync::mpsc;

use super::forker::{ForkerEvent, ForkerHandle};
use super::forkers::{Forkers, Loss};
use super::reaper::{Exit, Reaper};
use crate::http::exchange::{RequestBody, ResponseBodySource, ResponseStart};
use crate::http::stats::Stats;
use crate::http::topics::Topics;
use crate::http::{Dispatcher, IncomingRequest, Reply, StreamEvent, StreamShared};
use crate::ipc::{self, FrameReader, ToApp, ToLink, ToMaster, ToWorker, WireBody, WireFile, WireRequest};
use crate::shutdown::Trigger;

/// Requests held for a worker index whose process is (re)starting.
const MAX_WAITING: usize = 4096;

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
    /// Bytes queued in the master for one stream before its worker is asked to pause.
    pub stream_queue: usize,
}

/// How the server ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Stopped,
    /// Workers crashed in a loop, or could not be started at all.
    Failed(String),
}

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

struct Pending {
    reply: Reply,
    /// Set the affinity cookie to this index in the answer.
    cookie: Option<u32>,
    /// Uploaded files the worker owns; removed here if it dies first.
    files: Vec<PathBuf>,
}

/// One worker process's link.
struct Conn {
    index: u32,
    generation: u64,
    pid: i32,
    out: mpsc::UnboundedSender<ToWorker>,
    pending: Mutex<HashMap<u64, Pending>>,
    /// Worker stream id → the stream the connection reads.
    streams: Mutex<HashMap<u64, Arc<StreamShared>>>,
    early_joins: Mutex<EarlyJoins>,
    paused: Mutex<HashSet<u64>>,
    broker_topics: Mutex<HashSet<Bytes>>,
    /// Bytes of broker messages queued for this worker and not yet written to its link.
    broker_backlog: Arc<AtomicUsize>,
    stats: Mutex<Vec<(Bytes, u64)>>,
    ready: AtomicBool,
    dead: AtomicBool,
    /// A shutdown was asked of it: its exit is not a crash.
    leaving: AtomicBool,
}

impl Conn {
    fn send(&self, f: impl Into<ToWorker>) {
        let _ = self.out.send(f.into());
    }
}

/// How long a join may wait for its stream's head. It overtakes the head by the time the
/// worker's bridge task takes to run (microseconds); one still waiting after this was for a
/// stream that had already ended (its client left while the PHP side joined).
const EARLY_JOIN_TTL: Duration = Duration::from_secs(10);
/// Streams one worker may have joins waiting for; past it (expired ones dropped first) a
/// join is refused with a warning, so a worker cannot grow the master without bound.
const MAX_EARLY_JOINS: usize = 4096;
/// Expired joins are looked for once this many streams wait (usually none do).
const EARLY_JOIN_SWEEP_AT: usize = 64;

/// Topics a worker joined for streams whose head has not arrived yet: a `Join` (sent by
/// the worker's PHP thread) can overtake its `StreamStart` (sent by the link's bridge task).
#[derive(Default)]
struct EarlyJoins {
    by_stream: HashMap<u64, (Instant, Vec<String>)>,
}

impl EarlyJoins {
    /// Holds `topic` for `stream`; false if refused (too many streams waiting).
    fn add(&mut self, stream: u64, topic: String, now: Instant) -> bool {
        if let Some((_, topics)) = self.by_stream.get_mut(&stream) {
            topics.push(topic);
            return true;
        }
        if self.by_stream.len() >= EARLY_JOIN_SWEEP_AT {
            self.by_stream.retain(|_, (at, _)| now.duration_since(*at) < EARLY_JOIN_TTL);
        }
        if self.by_stream.len() >= MAX_EARLY_JOINS {
            return false;
        }
        self.by_stream.insert(stream, (now, vec![topic]));
        true
    }

    /// The topics that waited for `stream`, now that its head arrived (or it ended).
    fn take(&mut self, stream: u64) -> Vec<String> {
        self.by_stream.remove(&stream).map(|(_, topics)| topics).unwrap_or_default()
    }

    fn leave(&mut self, stream: u64, topic: &str) {
        if let Some((_, topics)) = self.by_stream.get_mut(&stream) {
            topics.retain(|t| t != topic);
        }
    }

    fn clear(&mut self) {
        self.by_stream.clear();
    }
}

struct Slot {
    current: Mutex<Option<Arc<Conn>>>,
    waiting: Mutex<VecDeque<Box<IncomingRequest>>>,
}

/// The shared state of the master: the dispatcher of its HTTP core and the supervisor's
/// view of the workers.
pub struct Master {
    cfg: MasterConfig,
    slots: Vec<Slot>,
    /// Every live link, current and leaving (broker fan-out, stats).
    conns: Mutex<Vec<Arc<Conn>>>,
    rr: AtomicUsize,
    stats: OnceLock<Arc<Stats>>,
    topics: OnceLock<Arc<Topics>>,
    /// Master stream id → (its link, the worker's stream id).
    streams: Mutex<HashMap<u64, (Weak<Conn>, u64)>>,
    sup: mpsc::UnboundedSender<SupEvent>,
    me: Weak<Master>,
    stopping: AtomicBool,
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
        let _ = self.master.sup.send(ev);
    }

    /// Replaces the workers one at a time.
    pub fn reload(&self) {
        let _ = self.master.sup.send(SupEvent::Reload);
    }

    /// A child of the master ended (SIGCHLD): reap it.
    pub fn child_exited(&self) {
        let _ = self.master.sup.send(SupEvent::ChildExited);
    }
}

impl Master {
    /// The master's routing state; `start` begins supervising once the HTTP core runs.
    pub fn new(cfg: MasterConfig) -> (Arc<Self>, MasterStart) {
        let (sup, sup_rx) = mpsc::unbounded_channel();
        let master = Arc::new_cyclic(|me| Self {
            slots: (0..cfg.workers)
                .map(|_| Slot { current: Mutex::new(None), waiting: Mutex::default() })
                .collect(),
            cfg,
            conns: Mutex::default(),
            rr: AtomicUsize::new(0),
            stats: OnceLock::new(),
            topics: OnceLock::new(),
            streams: Mutex::default(),
            sup,
            me: me.clone(),
            stopping: AtomicBool::new(false),
        });
        (Arc::clone(&master), MasterStart { master, sup_rx })
    }

    fn stats(&self) -> &Stats {
        self.stats.get().map(Arc::as_ref).expect("set before the first request")
    }

    fn topics(&self) -> &Topics {
        self.topics.get().map(Arc::as_ref).expect("set before the first request")
    }

    /// The worker index named by the request's affinity cookie, if valid.
    fn affinity(&self, headers: &HeaderMap) -> Option<u32> {
        let name = self.cfg.cookie.as_bytes();
        for v in headers.get_all(http::header::COOKIE) {
            for part in v.as_bytes().split(|&b| b == b';') {
                let part = part.trim_ascii();
                let Some(rest) = part.strip_prefix(name) else { continue };
                let Some(value) = rest.strip_prefix(b"=") else { continue };
                let n: u32 = std::str::from_utf8(value).ok()?.parse().ok()?;
                return (n < self.cfg.workers).then_some(n);
            }
        }
        None
    }

    fn set_cookie(&self, headers: &mut HeaderMap, index: u32) {
        let secure = if self.cfg.secure_cookie { "; Secure" } else { "" };
        let v = format!("{}={index}; Path=/; HttpOnly; SameSite=Lax{secure}", self.cfg.cookie);
        if let Ok(v) = HeaderValue::from_str(&v) {
            headers.append(http::header::SET_COOKIE, v);
        }
    }

    fn route(&self, mut req: Box<IncomingRequest>) -> Result<(), Box<IncomingRequest>> {
        let (index, cookie) = match self.affinity(&req.head.headers) {
            Some(i) => (i, None),
            None => {
                let i = (self.rr.fetch_add(1, Ordering::Relaxed) % self.cfg.workers as usize) as u32;
                (i, Some(i))
            }
        };
        let slot = &self.slots[index as usize];
        // The request is queued on the link while `current` is locked: the supervisor
        // replaces a worker and tells it to leave under the same lock, so a worker never
        // gets a request after its Shutdown (it would have drained and gone).
        let current = slot.current.lock();
        match current.as_ref() {
            Some(c) if c.leaving.load(Ordering::Acquire) => Err(req),
            Some(c) if !c.dead.load(Ordering::Acquire) => {
                send_request(c, req, cookie);
                Ok(())
            }
            _ => {
                drop(current);
                let mut waiting = slot.waiting.lock();
                if waiting.len() >= MAX_WAITING {
                    return Err(req);
                }
                // Remember the cookie decision in the request itself: a marker header the
                // master strips again before sending.
                if let Some(i) = cookie {
                    if let Ok(v) = HeaderValue::from_str(&i.to_string()) {
                        req.head.headers.insert(COOKIE_MARK, v);
                    }
                }
                waiting.push_back(req);
                Ok(())
            }
        }
    }

    fn all_conns(&self) -> Vec<Arc<Conn>> {
        self.conns.lock().clone()
    }
}

/// Bytes of `workers://` broker messages one worker may have queued and not yet taken
/// (in the master's link queue, and again in the worker before its PHP thread runs them).
pub const BROKER_BACKLOG: usize = 16 << 20;

/// How long after a worker's exit its link may still deliver what it wrote before exiting.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// Marks a held request that must get the affinity cookie (never sent to a worker).
const COOKIE_MARK: HeaderName = HeaderName::from_static("x-via-internal-affinity");

impl Dispatcher for Master {
    fn dispatch(&self, req: Box<IncomingRequest>) -> Result<(), Box<IncomingRequest>> {
        self.route(req)
    }

    fn drained(&self) {
        let _ = self.sup.send(SupEvent::HttpDrained);
    }
}

impl crate::http::StreamEvents for Master {
    fn stream_event(&self, event: StreamEvent) {
        match event {
            StreamEvent::Closed(id) => {
                let Some((conn, stream)) = self.streams.lock().remove(&id) else { return };
                if let Some(c) = conn.upgrade() {
                    c.streams.lock().remove(&stream);
                    c.paused.lock().remove(&stream);
                    c.send(ToLink::StreamClosed { stream });
                }
            }
            StreamEvent::Drained(id) => {
                let Some((conn, stream)) = self.streams.lock().get(&id).cloned() else { return };
                if let Some(c) = conn.upgrade() {
                    if c.paused.lock().remove(&stream) {
                        c.send(ToLink::Resume { stream });
                    }
                }
            }
        }
    }
}

fn version_byte(v: http::Version) -> u8 {
    match v {
        http::Version::HTTP_10 | http::Version::HTTP_09 => 0,
        http::Version::HTTP_2 | http::Version::HTTP_3 => 2,
        _ => 1,
    }
}

fn send_request(conn: &Arc<Conn>, req: Box<IncomingRequest>, cookie: Option<u32>) {
    let IncomingRequest { mut head, body, reply } = *req;
    let cookie = cookie.or_else(|| {
        head.headers.remove(COOKIE_MARK).and_then(|v| v.to_str().ok().and_then(|s| s.parse().ok()))
    });
    let mut files = Vec::new();
    let body = match body {
        RequestBody::Empty => WireBody::Empty,
        RequestBody::Bytes(b) => WireBody::Bytes(b),
        RequestBody::Multipart { fields, files: uploads } => WireBody::Multipart {
            fields: fields.into_iter().map(|(k, v)| (Bytes::from(k), v)).collect(),
            files: uploads
                .into_iter()
                .map(|mut f| {
                    // The worker owns the file now: keep this value's Drop from removing it.
                    let path = std::mem::take(&mut f.path);
                    files.push(path.clone());
                    WireFile {
                        field: Bytes::from(std::mem::take(&mut f.field)),
                        name: Bytes::from(std::mem::take(&mut f.name)),
                        full_path: Bytes::from(std::mem::take(&mut f.full_path)),
                        content_type: Bytes::from(std::mem::take(&mut f.content_type)),
                        path: Bytes::from(path.into_os_string().into_encoded_bytes()),
                        size: f.size,
                        error: f.error,
                    }
                })
                .collect(),
        },
    };
    let wire = WireRequest {
        id: head.id,
        method: Bytes::copy_from_slice(head.method.as_str().as_bytes()),
        uri: Bytes::from(head.uri.to_string()),
        version: version_byte(head.version),
        headers: ipc::header_pairs(&head.headers),
        remote: Bytes::from(head.remote.to_string()),
        local: Bytes::from(head.local.to_string()),
        tls: head.tls,
        body,
    };
    conn.pending.lock().insert(head.id, Pending { reply, cookie, files });
    conn.send(ToLink::Request { request: Box::new(wire) });
}

fn bad_gateway() -> ResponseStart {
    let mut h = HeaderMap::new();
    h.insert(http::header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    ResponseStart::full(
        StatusCode::BAD_GATEWAY,
        h,
        Bytes::from_static(b"Bad Gateway: the worker went away\n"),
    )
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
        let rt = run.rt.clone();
        rt.spawn(supervise(master, sup_rx, forkers, run.http_shutdown, run.rt.clone(), done));
        Ok(())
    }
}

struct SlotState {
    /// The generation last asked of the forker.
    generation: u64,
    /// A process asked for and not yet Ready (or failed).
    starting: Option<u64>,
    /// Crash times within the window.
    crashes: VecDeque<Instant>,
    /// The next respawn is scheduled.
    respawn_scheduled: bool,
}

/// A worker process the supervisor asked for and a forker reported.
struct Spawned {
    index: u32,
    generation: u64,
    /// The forker that forked it (`ForkerHandle::id`).
    forker: u64,
}

/// How long to wait before asking again for a spare forker whose fork failed.
const SPARE_RETRY: Duration = Duration::from_secs(5);

async fn supervise(
    master: Arc<Master>,
    mut rx: mpsc::UnboundedReceiver<SupEvent>,
    mut forkers: Forkers,
    http_shutdown: Trigger,
    rt: tokio::runtime::Handle,
    done: std::sync::mpsc::Sender<Outcome>,
) {
    let n = master.cfg.workers;
    let mut slots: Vec<SlotState> = (0..n)
        .map(|_| SlotState {
            generation: 0,
            starting: None,
            crashes: VecDeque::new(),
            respawn_scheduled: false,
        })
        .collect();
    let mut pids: HashMap<i32, Spawned> = HashMap::new();
    // Workers whose link closed while they were leaving, until their exit is reported.
    let mut left: HashSet<i32> = HashSet::new();
    let mut all_ready_logged = false;
    let mut first_start_pending: HashSet<u32> = (0..n).collect();
    let mut outcome: Option<Outcome> = None;
    let mut stopping = false;
    let mut http_drained = false;
    // Rolling replacement (SIGUSR1 / recycle): indices still to replace, the one under way.
    let mut reload_queue: VecDeque<u32> = VecDeque::new();
    let mut reloading: Option<(u32, u64)> = None;

    let spawn = |forkers: &Forkers, slots: &mut Vec<SlotState>, index: u32| {
        let s = &mut slots[index as usize];
        s.generation += 1;
        s.starting = Some(s.generation);
        if let Err(e) = forkers.spawn(index, s.generation) {
            // Its death is reported (`Gone`): the spawn is asked again of its successor.
            crate::error!("cannot ask the forker for worker {index}: {e}");
        }
    };
    for i in 0..n {
        spawn(&forkers, &mut slots, i);
    }
    // After the workers: the forker serves its requests in order.
    forkers.ask_spare();

    let schedule_respawn = |slots: &mut Vec<SlotState>, index: u32, sup: &mpsc::UnboundedSender<SupEvent>| {
        let s = &mut slots[index as usize];
        if s.respawn_scheduled {
            return;
        }
        s.respawn_scheduled = true;
        // 0 for the first crash in the window, then 100 ms doubling to a 5 s cap.
        let delay = match s.crashes.len() {
            0 | 1 => Duration::ZERO,
            k => Duration::from_millis(100u64 << (k - 2).min(6)).min(Duration::from_secs(5)),
        };
        let sup = sup.clone();
        rt.spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = sup.send(SupEvent::Respawn(index));
        });
    };

    while let Some(ev) = rx.recv().await {
        match ev {
            SupEvent::Forker { forker, event: ForkerEvent::Spawned { index, generation, pid, link } } => {
                pids.insert(pid, Spawned { index, generation, forker });
                let first = first_start_pending.remove(&index) && !stopping;
                match connect(&master, &rt, index, generation, pid, link, first) {
                    Ok(()) => {}
                    Err(e) => crate::error!("worker {index} (pid {pid}): cannot use its link: {e}"),
                }
            }
            SupEvent::Forker { event: ForkerEvent::SpawnFailed { index, generation, error }, .. } => {
                crate::error!("cannot fork worker {index}: {error}");
                let s = &mut slots[index as usize];
                if s.starting == Some(generation) {
                    s.starting = None;
                    s.crashes.push_back(Instant::now());
                }
                if !stopping {
                    schedule_respawn(&mut slots, index, &master.sup);
                }
            }
            SupEvent::Forker { event: ForkerEvent::Exited { pid, exit }, .. }
            | SupEvent::Reaped { pid, exit } => {
                if let Some(Spawned { index, generation, .. }) = pids.remove(&pid) {
                    let conn = master.all_conns().into_iter().find(|c| c.pid == pid);
                    // Its link may have closed first: `left` remembers who was leaving.
                    let expected = left.remove(&pid)
                        || stopping
                        || conn.as_ref().is_some_and(|c| c.leaving.load(Ordering::Acquire));
                    if !expected {
                        crate::warn!("worker {index} (pid {pid}) died: {exit}");
                    } else {
                        crate::debug!("worker {index} (pid {pid}) exited: {exit}");
                    }
                    if let Some(c) = conn {
                        // Its last answers may still sit unread in the link: the reader
                        // reports `Closed` at EOF, after them. Should EOF not come (a child
                        // of the worker holds the socket), close it after a grace period.
                        let sup = master.sup.clone();
                        rt.spawn(async move {
                            tokio::time::sleep(EXIT_GRACE).await;
                            let _ = sup.send(SupEvent::Closed(c));
                        });
                    } else if slots[index as usize].starting == Some(generation) {
                        // Died before its link was up.
                        slots[index as usize].starting = None;
                        if !stopping {
                            slots[index as usize].crashes.push_back(Instant::now());
                            schedule_respawn(&mut slots, index, &master.sup);
                        }
                    }
                    if exit != Exit::Code(0) && expected {
                        crate::debug!("worker {index} ended with {exit} while leaving");
                    }
                }
            }
            SupEvent::Forker { forker, event: ForkerEvent::Spare(spare) } => forkers.on_spare(forker, spare),
            SupEvent::Forker { forker, event: ForkerEvent::SpareFailed { error } } => {
                forkers.on_spare_failed(forker, &error);
                if !stopping {
                    let sup = master.sup.clone();
                    rt.spawn(async move {
                        tokio::time::sleep(SPARE_RETRY).await;
                        let _ = sup.send(SupEvent::AskSpare);
                    });
                }
            }
            SupEvent::AskSpare => {
                if !stopping {
                    forkers.ask_spare();
                }
            }
            SupEvent::Forker { forker, event: ForkerEvent::Gone } => {
                let was_active = forker == forkers.active_id();
                let loss = forkers.on_gone(forker, stopping);
                if was_active {
                    // Its workers keep serving (their links are the master's); their exits
                    // are the master's to reap now.
                    for (&pid, w) in &pids {
                        if w.forker == forker {
                            forkers.adopt(pid);
                        }
                    }
                    reap(&mut forkers, &master.sup);
                }
                match loss {
                    Loss::Promoted => {
                        master.stats().forker_restarts.fetch_add(1, Ordering::Relaxed);
                        // Spawns the dead forker never answered: ask its successor (a new
                        // generation, so a late report of the old one cannot be mistaken).
                        for index in 0..n {
                            let asked = slots[index as usize].starting;
                            let answered = asked.is_some_and(|g| {
                                pids.values().any(|w| w.index == index && w.generation == g)
                            });
                            if asked.is_some() && !answered && !stopping {
                                crate::info!("worker {index}: asking the new forker to fork it");
                                spawn(&forkers, &mut slots, index);
                            }
                        }
                    }
                    Loss::Fatal(msg) => {
                        // No forker answers any more: a worker it forked is `live` (it has
                        // a link) and waited for; one it never forked is not.
                        for s in &mut slots {
                            s.starting = None;
                        }
                        if !stopping {
                            crate::error!("{msg}; stopping");
                            outcome.get_or_insert(Outcome::Failed(msg));
                            stopping = true;
                            begin_stop(&master, &http_shutdown, &rt);
                        }
                    }
                    Loss::Spare | Loss::Unknown => {}
                }
            }
            SupEvent::ChildExited => reap(&mut forkers, &master.sup),
            SupEvent::Ready(conn) => {
                let index = conn.index;
                let s = &mut slots[index as usize];
                if s.starting == Some(conn.generation) {
                    s.starting = None;
                }
                if stopping {
                    conn.leaving.store(true, Ordering::Release);
                    conn.send(ToApp::Shutdown { server_stop: true });
                    continue;
                }
                conn.ready.store(true, Ordering::Release);
                {
                    let mut current = master.slots[index as usize].current.lock();
                    if let Some(old) = current.replace(Arc::clone(&conn)) {
                        if !Arc::ptr_eq(&old, &conn) {
                            old.leaving.store(true, Ordering::Release);
                            old.send(ToApp::Shutdown { server_stop: false });
                        }
                    }
                }
                let waiting: Vec<_> = master.slots[index as usize].waiting.lock().drain(..).collect();
                for req in waiting {
                    send_request(&conn, req, None);
                }
                crate::debug!("worker {index} (pid {}) ready", conn.pid);
                if !all_ready_logged
                    && master
                        .slots
                        .iter()
                        .all(|s| s.current.lock().as_ref().is_some_and(|c| c.ready.load(Ordering::Acquire)))
                {
                    all_ready_logged = true;
                    crate::info!("{n} workers ready");
                }
                if reloading.is_some_and(|(i, _)| i == index) {
                    reloading = None;
                }
                if reloading.is_none() {
                    if let Some(next) = reload_queue.pop_front() {
                        reloading = Some((next, slots[next as usize].generation + 1));
                        spawn(&forkers, &mut slots, next);
                    }
                }
            }
            SupEvent::Closed(conn) => {
                if conn.dead.swap(true, Ordering::AcqRel) {
                    continue; // already handled (EOF and exit both report it)
                }
                let index = conn.index;
                let was_current = {
                    let mut cur = master.slots[index as usize].current.lock();
                    if cur.as_ref().is_some_and(|c| Arc::ptr_eq(c, &conn)) {
                        *cur = None;
                        true
                    } else {
                        false
                    }
                };
                fail_conn(&master, &conn);
                if conn.leaving.load(Ordering::Acquire) {
                    left.insert(conn.pid);
                }
                let crashed = !conn.leaving.load(Ordering::Acquire) && !stopping;
                if crashed {
                    let s = &mut slots[index as usize];
                    let now = Instant::now();
                    s.crashes.push_back(now);
                    while s.crashes.front().is_some_and(|t| now.duration_since(*t) > master.cfg.crash_window)
                    {
                        s.crashes.pop_front();
                    }
                    let total: usize = slots.iter().map(|s| s.crashes.len()).sum();
                    if total as u32 >= master.cfg.crash_limit {
                        let msg = format!(
                            "workers crashed {total} times within {:?}; stopping the server (crash loop)",
                            master.cfg.crash_window
                        );
                        crate::error!("{msg}");
                        outcome.get_or_insert(Outcome::Failed(msg));
                        stopping = true;
                        master.stopping.store(true, Ordering::Release);
                        begin_stop(&master, &http_shutdown, &rt);
                    } else {
                        schedule_respawn(&mut slots, index, &master.sup);
                    }
                } else if was_current && !stopping {
                    // A leaving current process (e.g. it retired on its own): replace it.
                    schedule_respawn(&mut slots, index, &master.sup);
                }
            }
            SupEvent::Retire(conn) => {
                if stopping || conn.leaving.load(Ordering::Acquire) {
                    continue;
                }
                let index = conn.index;
                if slots[index as usize].starting.is_none() {
                    crate::debug!("worker {index} (pid {}) reached max_requests; replacing it", conn.pid);
                    spawn(&forkers, &mut slots, index);
                }
            }
            SupEvent::Respawn(index) => {
                let s = &mut slots[index as usize];
                s.respawn_scheduled = false;
                if !stopping && s.starting.is_none() {
                    spawn(&forkers, &mut slots, index);
                }
            }
            SupEvent::Reload => {
                if stopping {
                    continue;
                }
                crate::info!("reloading {n} workers one at a time");
                reload_queue = (0..n).collect();
                if reloading.is_none() {
                    if let Some(next) = reload_queue.pop_front() {
                        reloading = Some((next, slots[next as usize].generation + 1));
                        spawn(&forkers, &mut slots, next);
                    }
                }
            }
            SupEvent::Stop => {
                if !stopping {
                    stopping = true;
                    crate::info!("stopping: draining {n} workers (send the signal again to stop at once)");
                    begin_stop(&master, &http_shutdown, &rt);
                }
            }
            SupEvent::StopNow | SupEvent::DrainDeadline => {
                stopping = true;
                for c in master.all_conns() {
                    if !c.dead.load(Ordering::Acquire) {
                        crate::warn!("worker {} (pid {}) did not finish in time; killing it", c.index, c.pid);
                        // SAFETY: a worker process we started (through the forker).
                        unsafe { libc::kill(c.pid, libc::SIGKILL) };
                    }
                }
                http_shutdown.fire();
                http_drained = true;
            }
            SupEvent::HttpDrained => http_drained = true,
        }
        if stopping {
            let live = master.all_conns().iter().filter(|c| !c.dead.load(Ordering::Acquire)).count();
            let starting = slots.iter().filter(|s| s.starting.is_some()).count();
            if live == 0 && (starting == 0 || pids.is_empty()) && http_drained {
                break;
            }
            if live == 0 && !http_drained {
                // Workers are gone; connections still open only carry what is left.
                http_shutdown.fire();
            }
        }
    }
    // Forkers wait for their workers; the master for the ones it adopted. Blocking waits.
    let _ = tokio::task::spawn_blocking(move || forkers.quit(Duration::from_secs(6))).await;
    let _ = done.send(outcome.unwrap_or(Outcome::Stopped));
}

/// Reaps the master's children that ended and reports them as the forker reports its own.
fn reap(forkers: &mut Forkers, sup: &mpsc::UnboundedSender<SupEvent>) {
    for (pid, exit) in forkers.reap() {
        let _ = sup.send(SupEvent::Reaped { pid, exit });
    }
}

fn begin_stop(master: &Arc<Master>, http_shutdown: &Trigger, rt: &tokio::runtime::Handle) {
    master.stopping.store(true, Ordering::Release);
    http_shutdown.fire();
    for c in master.all_conns() {
        // Under the slot's lock, as in `route`: no request follows the Shutdown.
        let _current = master.slots[c.index as usize].current.lock();
        c.leaving.store(true, Ordering::Release);
        c.send(ToApp::Shutdown { server_stop: true });
    }
    // Requests held for a restarting worker will not be served now.
    for slot in &master.slots {
        let held: Vec<_> = slot.waiting.lock().drain(..).collect();
        for req in held {
            let mut start = bad_gateway();
            start.status = StatusCode::SERVICE_UNAVAILABLE;
            req.reply.send(start);
        }
    }
    let sup = master.sup.clone();
    let deadline = master.cfg.shutdown_timeout + Duration::from_secs(1);
    rt.spawn(async move {
        tokio::time::sleep(deadline).await;
        let _ = sup.send(SupEvent::DrainDeadline);
    });
}

/// A worker is gone: answer its requests 502, end its streams, forget its subscriptions.
fn fail_conn(master: &Arc<Master>, conn: &Arc<Conn>) {
    master.conns.lock().retain(|c| !Arc::ptr_eq(c, conn));
    let pending: Vec<_> = conn.pending.lock().drain().collect();
    if !pending.is_empty() {
        crate::warn!(
            "worker {} (pid {}){}: {} request(s) in flight answered 502",
            conn.index,
            conn.pid,
            if conn.leaving.load(Ordering::Acquire) { " left" } else { " is gone" },
            pending.len()
        );
    }
    for (_, p) in pending {
        for f in &p.files {
            let _ = std::fs::remove_file(f);
        }
        p.reply.send(bad_gateway());
    }
    let streams: Vec<_> = conn.streams.lock().drain().collect();
    for (_, s) in streams {
        master.streams.lock().remove(&s.id());
        s.abort();
    }
    conn.early_joins.lock().clear();
    conn.broker_topics.lock().clear();
}

/// Sets up the link of a freshly forked worker: its reader and writer tasks, and Init.
fn connect(
    master: &Arc<Master>,
    rt: &tokio::runtime::Handle,
    index: u32,
    generation: u64,
    pid: i32,
    link: OwnedFd,
    first_start: bool,
) -> std::io::Result<()> {
    let (read, write) = ipc::async_stream(link, rt)?.into_split();
    let (out, out_rx) = mpsc::unbounded_channel();
    let conn = Arc::new(Conn {
        index,
        generation,
        pid,
        out,
        pending: Mutex::default(),
        streams: Mutex::default(),
        early_joins: Mutex::default(),
        paused: Mutex::default(),
        broker_topics: Mutex::default(),
        broker_backlog: Arc::default(),
        stats: Mutex::default(),
        ready: AtomicBool::new(false),
        dead: AtomicBool::new(false),
        leaving: AtomicBool::new(false),
    });
    conn.send(ToApp::Init {
        worker: index,
        workers: master.cfg.workers,
        generation,
        // SAFETY: getpid has no preconditions.
        master_pid: unsafe { libc::getpid() } as u32,
        first_start,
    });
    master.conns.lock().push(Arc::clone(&conn));
    let backlog = Arc::clone(&conn.broker_backlog);
    rt.spawn(async move {
        if let Err(e) = ipc::write_frames_until(write, out_rx, std::future::pending(), Some(backlog)).await {
            crate::debug!("worker {index}: link write ended: {e}");
        }
    });
    let m = Arc::clone(master);
    rt.spawn(async move {
        let mut reader = FrameReader::<_, ToMaster>::new(read);
        loop {
            match reader.next().await {
                Ok(Some(f)) => on_frame(&m, &conn, f),
                Ok(None) => break,
                Err(e) => {
                    crate::warn!("worker {index} (pid {pid}): bad frame on its link: {e}");
                    break;
                }
            }
        }
        let _ = m.sup.send(SupEvent::Closed(conn));
    });
    Ok(())
}

fn on_frame(master: &Arc<Master>, conn: &Arc<Conn>, f: ToMaster) {
    match f {
        ToMaster::Response { req, head, body } => {
            let Some(p) = conn.pending.lock().remove(&req) else { return };
            let mut headers = ipc::header_map(head.headers);
            if let Some(i) = p.cookie {
                master.set_cookie(&mut headers, i);
            }
            let status = StatusCode::from_u16(head.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            p.reply.send(ResponseStart {
                status,
                reason: head.reason,
                headers,
                body: ResponseBodySource::Full(body),
            });
        }
        ToMaster::StreamStart { req, stream, head, heartbeat_ms } => {
            let Some(p) = conn.pending.lock().remove(&req) else {
                conn.send(ToLink::StreamClosed { stream });
                return;
            };
            let mut headers = ipc::header_map(head.headers);
            if let Some(i) = p.cookie {
                master.set_cookie(&mut headers, i);
            }
            let events: Arc<dyn Dispatcher> = match master.me.upgrade() {
                Some(m) => m,
                None => return,
            };
            let s = StreamShared::new(events);
            conn.streams.lock().insert(stream, Arc::clone(&s));
            master.streams.lock().insert(s.id(), (Arc::downgrade(conn), stream));
            let early = conn.early_joins.lock().take(stream);
            for t in early {
                master.topics().join(&t, &s);
            }
            let status = StatusCode::from_u16(head.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let heartbeat = (heartbeat_ms > 0).then(|| Duration::from_millis(heartbeat_ms));
            let start = ResponseStart {
                status,
                reason: head.reason,
                headers,
                body: ResponseBodySource::Stream { stream: Arc::clone(&s), heartbeat },
            };
            if !p.reply.send(start) {
                // The client left (or the request timed out) before the head went out.
                conn.streams.lock().remove(&stream);
                master.streams.lock().remove(&s.id());
                s.close();
                conn.send(ToLink::StreamClosed { stream });
            }
        }
        ToMaster::Chunk { stream, data } => {
            let Some(s) = conn.streams.lock().get(&stream).cloned() else { return };
            if let Ok(queued) = s.push(data) {
                if queued > master.cfg.stream_queue && conn.paused.lock().insert(stream) {
                    if s.notify_when_drained(master.cfg.stream_queue / 2) {
                        conn.send(ToLink::Pause { stream });
                    } else {
                        conn.paused.lock().remove(&stream);
                    }
                }
            }
        }
        ToMaster::End { stream } => {
            if let Some(s) = conn.streams.lock().remove(&stream) {
                master.streams.lock().remove(&s.id());
                s.finish();
            }
            conn.paused.lock().remove(&stream);
            conn.early_joins.lock().take(stream);
        }
        ToMaster::Abort { stream } => {
            if let Some(s) = conn.streams.lock().remove(&stream) {
                master.streams.lock().remove(&s.id());
                s.abort();
            }
            conn.paused.lock().remove(&stream);
            conn.early_joins.lock().take(stream);
        }
        ToMaster::Join { stream, topic } => {
            let topic = String::from_utf8_lossy(&topic).into_owned();
            let s = conn.streams.lock().get(&stream).cloned();
            match s {
                Some(s) => {
                    master.topics().join(&topic, &s);
                }
                None => {
                    if !conn.early_joins.lock().add(stream, topic, Instant::now()) {
                        crate::warn!(
                            "worker {} (pid {}): {MAX_EARLY_JOINS} streams have joins waiting for \
                             their head; a join of stream {stream} is dropped",
                            conn.index,
                            conn.pid
                        );
                    }
                }
            }
        }
        ToMaster::Leave { stream, topic } => {
            let topic = String::from_utf8_lossy(&topic).into_owned();
            let s = conn.streams.lock().get(&stream).cloned();
            match s {
                Some(s) => {
                    master.topics().leave(&topic, s.id());
                }
                None => conn.early_joins.lock().leave(stream, &topic),
            }
        }
        ToMaster::Publish { seq, topic, frame } => {
            let n = master.topics().publish(&String::from_utf8_lossy(&topic), frame);
            conn.send(ToApp::Answer { seq, value: n as u64 });
        }
        ToMaster::Subscribers { seq, topic } => {
            let n = master.topics().subscribers(&String::from_utf8_lossy(&topic));
            conn.send(ToApp::Answer { seq, value: n as u64 });
        }
        ToMaster::BrokerSubscribe { topic } => {
            conn.broker_topics.lock().insert(topic);
        }
        ToMaster::BrokerUnsubscribe { topic } => {
            conn.broker_topics.lock().remove(&topic);
        }
        ToMaster::BrokerPublish { topic, payload } => {
            let size = topic.len() + payload.len();
            for c in master.all_conns() {
                if c.dead.load(Ordering::Acquire) || !c.broker_topics.lock().contains(&topic) {
                    continue;
                }
                // A worker that does not read its link (stopped, stuck) must not make the
                // master buffer without bound: past the backlog its messages are dropped.
                if c.broker_backlog.fetch_add(size, Ordering::AcqRel) + size > BROKER_BACKLOG {
                    c.broker_backlog.fetch_sub(size, Ordering::AcqRel);
                    let dropped =
                        master.stats.get().map_or(0, |st| st.broker_dropped.fetch_add(1, Ordering::Relaxed));
                    if dropped % 10_000 == 0 {
                        crate::warn!(
                            "worker {} (pid {}) is not taking broker messages; dropping them",
                            c.index,
                            c.pid
                        );
                    }
                    continue;
                }
                c.send(ToApp::BrokerMessage {
                    origin: conn.index,
                    topic: topic.clone(),
                    payload: payload.clone(),
                });
            }
        }
        ToMaster::Ready => {
            let _ = master.sup.send(SupEvent::Ready(Arc::clone(conn)));
        }
        ToMaster::Retire => {
            let _ = master.sup.send(SupEvent::Retire(Arc::clone(conn)));
        }
        ToMaster::Stats { pairs } => *conn.stats.lock() = pairs,
        ToMaster::StatsQuery { seq } => {
            let mut totals: Vec<(Bytes, u64)> = master
                .stats()
                .snapshot()
                .pairs()
                .iter()
                .map(|(k, v)| (Bytes::from_static(k.as_bytes()), *v))
                .collect();
            let mut index: HashMap<Bytes, usize> =
                totals.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect();
            for c in master.all_conns() {
                for (k, v) in c.stats.lock().iter() {
                    match index.get(k) {
                        Some(&i) => totals[i].1 += v,
                        None => {
                            index.insert(k.clone(), totals.len());
                            totals.push((k.clone(), *v));
                        }
                    }
                }
            }
            let live = master.all_conns().iter().filter(|c| c.ready.load(Ordering::Acquire)).count();
            totals.push((Bytes::from_static(b"workers_live"), live as u64));
            conn.send(ToApp::StatsAnswer { seq, pairs: totals });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_joins_wait_for_their_stream_and_are_bounded() {
        let mut joins = EarlyJoins::default();
        let t0 = Instant::now();
        assert!(joins.add(1, "a".into(), t0));
        assert!(joins.add(1, "b".into(), t0));
        joins.leave(1, "a");
        assert_eq!(joins.take(1), ["b"]);
        assert!(joins.take(1).is_empty());
        // Joins for streams that never start (they ended first): never more than the bound.
        for stream in 0..MAX_EARLY_JOINS as u64 {
            assert!(joins.add(stream, "t".into(), t0));
        }
        assert!(!joins.add(u64::MAX, "t".into(), t0), "refused past the bound");
        assert_eq!(joins.by_stream.len(), MAX_EARLY_JOINS);
        // Once they expired they make room.
        assert!(joins.add(u64::MAX, "t".into(), t0 + EARLY_JOIN_TTL));
        assert_eq!(joins.by_stream.len(), 1);
    }
}
