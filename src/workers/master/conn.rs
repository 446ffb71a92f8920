//! The master's end of the link to one worker process: the requests it was sent and has
//! not answered, the streams it feeds, the topics it joined ahead of its streams, the broker
//! topics it subscribed to, and what each frame it sends does.
//!
//! Owns: a link's state (behind one lock), its reader and writer tasks, and failing what
//! the link held once its worker is gone.
//! Does not own: which worker a request goes to (`routing`), what a worker's exit means
//! (`supervisor`), the fan-out across links (`Master`).
//!
//! Invariants: frames from one worker are handled in order on its reader task. The state
//! lock is held only to read or change the maps — never across an await, nor while a
//! stream, a topic or a reply is called — and is taken after a slot's `current` lock
//! (routing sends under it), never before.

use std::collections::{HashMap, HashSet};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::StatusCode;
use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use tokio::net::unix::OwnedReadHalf;

use super::relay::Want;
use super::Master;
use super::SupEvent;
use crate::http::exchange::{BodyRoom, ResponseBodySource, ResponseStart};
use crate::http::{Reply, StreamShared};
use crate::ipc::{self, FrameReader, ToApp, ToLink, ToMaster, ToWorker, WireHead, WireRequest};

/// How long a join may wait for its stream's head. It overtakes the head by the time the
/// worker's stream task takes to start (microseconds); one still waiting after this was for a
/// stream that had already ended (its client left while the PHP side joined).
const EARLY_JOIN_TTL: Duration = Duration::from_secs(10);
/// Streams one worker may have joins waiting for; past it (expired ones dropped first) a
/// join is refused with a warning, so a worker cannot grow the master without bound.
const MAX_EARLY_JOINS: usize = 4096;
/// Expired joins are looked for once this many streams wait (usually none do).
const EARLY_JOIN_SWEEP_AT: usize = 64;

/// A request sent to a worker and not answered yet.
pub(super) struct Pending {
    pub(super) reply: Reply,
    /// Set the affinity cookie to this index in the answer.
    pub(super) cookie: Option<u32>,
    /// Uploaded files the worker owns; removed here if it dies first.
    pub(super) files: Vec<PathBuf>,
    /// The body's room of `max_body_memory`, held until the worker answered: its bytes
    /// may wait in the link's queue until then.
    pub(super) _body_room: BodyRoom,
}

/// One worker process's link.
pub(super) struct Conn {
    pub(super) index: u32,
    pub(super) generation: u64,
    pub(super) pid: i32,
    out: ipc::FrameSender<ToWorker>,
    state: Mutex<ConnState>,
    /// Bytes of broker messages queued for this worker and not yet written to its link.
    broker_backlog: Arc<AtomicUsize>,
    ready: AtomicBool,
    dead: AtomicBool,
    /// A shutdown was asked of it: its exit is not a crash.
    leaving: AtomicBool,
}

/// What a link holds for its worker.
#[derive(Default)]
struct ConnState {
    /// Keyed by ids this server gave out (not a client's choice): a plain fast hash.
    pending: FxHashMap<u64, Pending>,
    /// Worker stream id → the stream the connection reads, and its flow from the worker.
    streams: FxHashMap<u64, Forwarded>,
    early_joins: EarlyJoins,
    /// (bus, topic) pairs, as `ToMaster::BrokerSubscribe` names them.
    broker_topics: HashSet<(u32, Bytes)>,
    /// The worker's counters, as it last reported them.
    stats: Vec<(Bytes, u64)>,
}

/// A worker's stream as the master holds it: the stream its connection reads, and the
/// flow of the worker's chunks into it.
///
/// Flow control: the worker sends at most `stream_queue` bytes (as the queue counts them)
/// beyond what the master credited it, and the master credits what the stream's reader took.
/// (The master used to ask the worker to pause once its queue was full. Until the pause
/// arrived the worker sent on, and a `write()` loop had what it wrote in that time, ~7 MiB
/// of 64, queued in the master for one client that took nothing; and a paused worker saw
/// no progress until half the queue had drained, so it cut off a slow but steady reader as
/// stalled.)
struct Forwarded {
    stream: Arc<StreamShared>,
    /// Bytes of the worker's chunks pushed into `stream`, counted as its queue counts them.
    received: u64,
    /// Of them, what the worker was told the reader took (`ToLink::Credit`).
    credited: u64,
}

impl Conn {
    pub(super) fn send(&self, f: impl Into<ToWorker>) {
        let _ = self.out.send(f.into());
    }

    pub(super) fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub(super) fn is_dead(&self) -> bool {
        self.dead.load(Ordering::Acquire)
    }

    pub(super) fn is_leaving(&self) -> bool {
        self.leaving.load(Ordering::Acquire)
    }

    /// The worker said Ready: it may be routed to.
    pub(super) fn mark_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    /// Marks the link dead; false if it already was (its EOF and its exit both report it).
    pub(super) fn mark_dead(&self) -> bool {
        !self.dead.swap(true, Ordering::AcqRel)
    }

    /// Asks the worker to finish its work and exit (`server_stop`: the whole server stops,
    /// not a recycle). From here on its exit is not a crash.
    pub(super) fn shutdown(&self, server_stop: bool) {
        self.leaving.store(true, Ordering::Release);
        self.send(ToApp::Shutdown { server_stop });
    }

    /// Sends a request; its answer goes to `pending`.
    pub(super) fn request(&self, pending: Pending, request: WireRequest) {
        self.state.lock().pending.insert(request.head.id, pending);
        self.send(ToLink::Request { request: Box::new(request) });
    }

    /// The client of the worker's `stream` left, or the master cut the stream off.
    pub(super) fn client_left(&self, stream: u64) {
        let gone = self.state.lock().streams.remove(&stream);
        let cut_off = gone.is_some_and(|f| f.stream.is_aborted());
        self.send(ToLink::StreamClosed { stream, cut_off });
    }

    /// The reader of the worker's `stream` took some of its queue (`took`), or the worker
    /// sent a chunk: credits the worker with what the reader took of the worker's bytes, and
    /// while the worker has half its window or more in the master, asks to be told of the
    /// reader's next take. (Credited at each take, a slow reader's progress reaches the
    /// worker as it happens, not a window later.) A take that credits nothing — the reader
    /// took a topic's frames queued ahead of the worker's bytes — is still told (the same
    /// total again): the worker counts it as its client's progress, as one process would.
    pub(super) fn drained(&self, master: &Master, stream: u64, took: bool) {
        let window = master.cfg.stream_queue as u64;
        let mut told = !took;
        // Until the next take is asked for: each round that finds the queue drained past
        // the count it just made means the reader took more meanwhile (bounded all the same).
        for _ in 0..16 {
            // `received` is read before the queue and grows after each push: the bytes
            // taken, `received - queued`, are never overcounted (topics' frames in the queue
            // only count against the worker).
            let Some((s, received)) =
                self.state.lock().streams.get(&stream).map(|f| (Arc::clone(&f.stream), f.received))
            else {
                return;
            };
            let taken = received.saturating_sub(s.queued() as u64);
            let (total, credited, outstanding) = {
                let mut state = self.state.lock();
                let Some(f) = state.streams.get_mut(&stream) else { return };
                let credited = taken > f.credited;
                f.credited = f.credited.max(taken);
                (f.credited, credited, f.received - f.credited)
            };
            let waits = outstanding >= window / 2;
            if credited || (waits && !told) {
                self.send(ToLink::Credit { stream, total });
                told = true;
            }
            if !waits || s.is_closed() || s.notify_when_drained(s.queued().saturating_sub(1)) {
                return;
            }
        }
    }

    pub(super) fn is_subscribed(&self, bus: u32, broker_topic: &Bytes) -> bool {
        self.state.lock().broker_topics.contains(&(bus, broker_topic.clone()))
    }

    /// Counts `size` bytes of a broker message against the worker's backlog; false (and
    /// nothing counted) if the backlog is full.
    pub(super) fn reserve_broker_bytes(&self, size: usize, limit: usize) -> bool {
        if self.broker_backlog.fetch_add(size, Ordering::AcqRel) + size > limit {
            self.broker_backlog.fetch_sub(size, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// The worker's counters, as it last reported them.
    pub(super) fn stats(&self) -> Vec<(Bytes, u64)> {
        self.state.lock().stats.clone()
    }

    fn stream(&self, stream: u64) -> Option<Arc<StreamShared>> {
        self.state.lock().streams.get(&stream).map(|f| Arc::clone(&f.stream))
    }

    /// Requests sent to this worker and not yet answered.
    pub(super) fn pending_count(&self) -> usize {
        self.state.lock().pending.len()
    }

    fn take_pending(&self, req: u64) -> Option<Pending> {
        self.state.lock().pending.remove(&req)
    }

    /// The worker is gone: answer its requests 502, end its streams, forget its
    /// subscriptions.
    pub(super) fn fail(&self, master: &Master) {
        master.conns.lock().retain(|c| !std::ptr::eq(&**c, self));
        for done in master.gathers.forget(self.pid) {
            master.answer(done);
        }
        let (pending, streams) = {
            let mut state = self.state.lock();
            state.early_joins.clear();
            state.broker_topics.clear();
            (std::mem::take(&mut state.pending), std::mem::take(&mut state.streams))
        };
        if !pending.is_empty() {
            crate::warn!(
                "worker {} (pid {}){}: {} request(s) in flight answered 502",
                self.index,
                self.pid,
                if self.is_leaving() { " left" } else { " is gone" },
                pending.len()
            );
        }
        for (_, p) in pending {
            for f in &p.files {
                let _ = std::fs::remove_file(f);
            }
            p.reply.send(master.cfg.error_pages.response(StatusCode::BAD_GATEWAY));
        }
        for (_, Forwarded { stream: s, .. }) in streams {
            master.streams.lock().remove(&s.id());
            s.abort();
        }
    }

    /// Acts on one frame from the worker.
    fn on_frame(self: &Arc<Self>, master: &Arc<Master>, f: ToMaster) {
        match f {
            ToMaster::Ready => {
                for state in master.remote_states() {
                    self.send(state);
                }
                master.supervise(SupEvent::Ready(Arc::clone(self)));
            }
            ToMaster::Retire => master.supervise(SupEvent::Retire(Arc::clone(self))),
            ToMaster::Response { req, head, body } => self.on_response(master, req, head, body),
            ToMaster::StreamStart { req, stream, head, heartbeat_ms } => {
                self.on_stream_start(master, req, stream, head, heartbeat_ms)
            }
            ToMaster::Chunk { stream, data } => self.on_chunk(master, stream, data),
            ToMaster::End { stream } => self.on_stream_end(master, stream, StreamShared::finish),
            ToMaster::Abort { stream } => self.on_stream_end(master, stream, StreamShared::abort),
            ToMaster::Join { stream, topic } => self.on_join(master, stream, &topic),
            ToMaster::Leave { stream, topic } => self.on_leave(master, stream, &topic),
            // The worker published to its own streams already; the others do now.
            ToMaster::Publish { seq, topic, frame } if master.cfg.serve_connections => {
                master.relay(self, (seq, Want::Sum), |gather| ToLink::TopicPublish {
                    gather,
                    topic: topic.clone(),
                    frame: frame.clone(),
                });
            }
            ToMaster::Publish { seq, topic, frame } => {
                let n = master.topics().publish(&String::from_utf8_lossy(&topic), frame);
                self.send(ToApp::Answer { seq, value: n as u64 });
            }
            ToMaster::Subscribers { seq, topic } if master.cfg.serve_connections => {
                master.relay(self, (seq, Want::Sum), |gather| ToLink::TopicCount {
                    gather,
                    topic: topic.clone(),
                });
            }
            ToMaster::Subscribers { seq, topic } => {
                let n = master.topics().subscribers(&String::from_utf8_lossy(&topic));
                self.send(ToApp::Answer { seq, value: n as u64 });
            }
            ToMaster::Counted { gather, n } => {
                if let Some(done) = master.gathers.counted(self.pid, gather, n) {
                    master.answer(done);
                }
            }
            ToMaster::BrokerSubscribe { bus, topic } => {
                self.state.lock().broker_topics.insert((bus, topic));
            }
            ToMaster::BrokerUnsubscribe { bus, topic } => {
                self.state.lock().broker_topics.remove(&(bus, topic));
            }
            ToMaster::BrokerPublish { bus, topic, payload } => {
                master.remote_publish(bus, &topic, &payload);
                master.broker_publish(bus, self.index, &topic, &payload);
            }
            ToMaster::Stats { pairs } => self.state.lock().stats = pairs,
            // Every other worker reports anew first: each counts its own requests.
            ToMaster::StatsQuery { seq } if master.cfg.serve_connections => {
                master.relay(self, (seq, Want::Totals), |gather| ToLink::Report { gather });
            }
            ToMaster::StatsQuery { seq } => {
                self.send(ToApp::StatsAnswer { seq, pairs: master.stats_totals() });
            }
        }
    }

    fn on_response(&self, master: &Master, req: u64, head: WireHead, body: Bytes) {
        let Some(p) = self.take_pending(req) else { return };
        p.reply.send(answer(master, p.cookie, head, ResponseBodySource::Full(body)));
    }

    fn on_stream_start(
        self: &Arc<Self>,
        master: &Arc<Master>,
        req: u64,
        stream: u64,
        head: WireHead,
        heartbeat_ms: u64,
    ) {
        let Some(Pending { reply, cookie, .. }) = self.take_pending(req) else {
            self.send(ToLink::StreamClosed { stream, cut_off: false });
            return;
        };
        let Some(events) = master.me.upgrade() else { return };
        // Bounded as a worker's own streams are: a topic publish finds a full queue and
        // applies the backpressure policy, and cuts off a stream that took nothing for
        // `write_timeout` (an HTTP/2 client that grants it no window). Unbounded, the master
        // queued every frame published to such a stream for the connection's life. The
        // worker's own chunks are pushed past the bound (`on_chunk` pauses it instead).
        let s = StreamShared::with_capacity(events, master.cfg.stream_queue);
        let early = {
            let mut state = self.state.lock();
            state.streams.insert(stream, Forwarded { stream: Arc::clone(&s), received: 0, credited: 0 });
            state.early_joins.take(stream)
        };
        master.streams.lock().insert(s.id(), (Arc::downgrade(self), stream));
        for t in early {
            master.topics().join(&t, &s);
        }
        let heartbeat = (heartbeat_ms > 0).then(|| Duration::from_millis(heartbeat_ms));
        let body = ResponseBodySource::Stream { stream: Arc::clone(&s), heartbeat };
        if !reply.send(answer(master, cookie, head, body)) {
            // The client left (or the request timed out) before the head went out. The
            // unsent answer's stream may have ended already, its `Closed` event telling
            // the worker (`client_left`): the worker is told once.
            if master.streams.lock().remove(&s.id()).is_some() {
                s.close();
                self.client_left(stream);
            }
        }
    }

    /// A chunk of a stream, within the window the worker was given (`Forwarded`).
    fn on_chunk(&self, master: &Master, stream: u64, data: Bytes) {
        let Some(s) = self.stream(stream) else { return };
        let cost = crate::http::stream::cost(data.len()) as u64;
        if s.push(data).is_err() {
            return;
        }
        // Counted after the push: see `drained`.
        let outstanding = {
            let mut state = self.state.lock();
            let Some(f) = state.streams.get_mut(&stream) else { return };
            f.received += cost;
            f.received - f.credited
        };
        if outstanding >= master.cfg.stream_queue as u64 / 2 {
            self.drained(master, stream, false);
        }
    }

    /// The worker ended `stream` (`end`: finished or aborted).
    fn on_stream_end(&self, master: &Master, stream: u64, end: fn(&StreamShared)) {
        let s = {
            let mut state = self.state.lock();
            state.early_joins.take(stream);
            state.streams.remove(&stream)
        };
        if let Some(Forwarded { stream: s, .. }) = s {
            master.streams.lock().remove(&s.id());
            end(&s);
        }
    }

    fn on_join(&self, master: &Master, stream: u64, topic: &[u8]) {
        let topic = String::from_utf8_lossy(topic).into_owned();
        if let Some(s) = self.stream(stream) {
            master.topics().join(&topic, &s);
            return;
        }
        let held = self.state.lock().early_joins.add(stream, topic, Instant::now());
        if !held {
            crate::warn!(
                "worker {} (pid {}): {MAX_EARLY_JOINS} streams have joins waiting for their head; \
                 a join of stream {stream} is dropped",
                self.index,
                self.pid
            );
        }
    }

    fn on_leave(&self, master: &Master, stream: u64, topic: &[u8]) {
        let topic = String::from_utf8_lossy(topic);
        match self.stream(stream) {
            Some(s) => {
                master.topics().leave(&topic, s.id());
            }
            None => self.state.lock().early_joins.leave(stream, &topic),
        }
    }
}

/// The head of a worker's answer, with the affinity cookie when the request gets one.
fn answer(master: &Master, cookie: Option<u32>, head: WireHead, body: ResponseBodySource) -> ResponseStart {
    let WireHead { status, reason, mut headers } = head;
    if let Some(i) = cookie {
        master.set_cookie(&mut headers, i);
    }
    ResponseStart { status, reason, headers, body }
}

/// A freshly forked worker's link: sends Init, starts its reader and writer tasks.
pub(super) fn connect(
    master: &Arc<Master>,
    rt: &tokio::runtime::Handle,
    index: u32,
    generation: u64,
    pid: i32,
    link: OwnedFd,
    first_start: bool,
) -> std::io::Result<()> {
    let (read, write) = ipc::async_stream(link, rt)?.into_split();
    let (out, out_rx) = ipc::frame_queue();
    let conn = Arc::new(Conn {
        index,
        generation,
        pid,
        out,
        state: Mutex::default(),
        broker_backlog: Arc::default(),
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
    rt.spawn(read_frames(Arc::clone(master), conn, read));
    Ok(())
}

/// The link's reader task: every frame in order, then `Closed` to the supervisor.
async fn read_frames(master: Arc<Master>, conn: Arc<Conn>, read: OwnedReadHalf) {
    let mut reader = FrameReader::<_, ToMaster>::new(read);
    loop {
        match reader.next().await {
            Ok(Some(f)) => conn.on_frame(&master, f),
            Ok(None) => break,
            Err(e) => {
                crate::warn!("worker {} (pid {}): bad frame on its link: {e}", conn.index, conn.pid);
                break;
            }
        }
    }
    master.supervise(SupEvent::Closed(conn));
}

/// Topics a worker joined for streams whose head has not arrived yet: a `Join` (sent by
/// the worker's PHP thread) can overtake its `StreamStart` (sent by the link's stream task).
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
