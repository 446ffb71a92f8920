//! A worker's end of its link to the master: frames in become requests and events for the
//! PHP thread, answers and streams out become frames — so the PHP side works exactly as
//! in one process, with this under `Request`/`Response`/`SSE` instead of hyper.
//!
//! Owns: the worker's I/O (a current-thread runtime that the PHP thread drives while its
//! loop waits: decision 0016), the way back of every
//! request (its `Reply` ends here: a `Response` frame at once, or a stream task that sends
//! `StreamStart` and the stream's chunks),
//! a stream's window in the master, and periodic counters. Of the
//! master's frames, `ToLink` ones are acted on here and `ToApp` ones go to the PHP thread as
//! they are (`LinkEvent::Frame`).
//! Does not own: what requests mean (the PHP side), routing (the master).
//!
//! Backpressure: a stream's chunks leave the worker's own bounded queue (`StreamShared`,
//! where the PHP side applies its policy) only while the master holds less than the
//! stream's window of them (`sse_queue_size`, counted as a queue counts: sent minus what
//! the master's `Credit` says its reader took). Past it the stream task stops pulling, so
//! the worker's queue fills and `send()` waits, drops or closes as configured — the same
//! semantics as one process; and each chunk the client takes lets one more through, so a
//! slow reader's progress shows in the worker's queue as it happens.

use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStringExt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use parking_lot::Mutex;
use rustc_hash::FxHashMap;
use tokio::sync::{oneshot, watch};

use crate::http::exchange::{
    unanswered_status, BodyRoom, ReplySink, RequestBody, ResponseBodySource, ResponseStart, UploadedFile,
};
use crate::http::server::{Driver, IoRuntime};
use crate::http::stats::Stats;
use crate::http::HeaderList;
use crate::http::{Dispatcher, IncomingRequest, Reply, StreamShared, Topics};
use crate::ipc::{self, FrameReader, ToApp, ToLink, ToMaster, ToWorker, WireBody, WireHead, WireRequest};
use crate::shutdown::{Shutdown, Trigger};

/// Events for the worker's PHP thread other than requests and stream events.
#[derive(Debug)]
pub enum LinkEvent {
    /// A frame from the master for the PHP thread.
    Frame(ToApp),
    /// The master is gone.
    Closed,
}

struct StreamCtl {
    cancel: Option<oneshot::Sender<()>>,
    /// What the master credited in all (`ToLink::Credit`).
    credit: watch::Sender<u64>,
    stream: Arc<StreamShared>,
}

/// What the reader, the stream tasks and the replies share. It is the `ReplySink` of every
/// request: an answer becomes a frame on the link as it is given, with no task and no
/// channel per request; only a stream gets a task (to forward its chunks).
struct Shared {
    dispatcher: Arc<dyn Dispatcher>,
    out: ipc::FrameSender<ToMaster>,
    /// False once the master is gone.
    open: AtomicBool,
    rt: tokio::runtime::Handle,
    streams: Mutex<FxHashMap<u64, StreamCtl>>,
    /// Requests whose answer (or stream) is not finished.
    in_flight: AtomicUsize,
    draining: AtomicBool,
    drained: AtomicBool,
    /// Bytes of broker messages handed to the PHP thread and not yet run.
    broker_backlog: AtomicUsize,
    /// Past this many bytes, broker messages are dropped (`WorkersConfig::broker_backlog`).
    broker_backlog_limit: usize,
    stats: Arc<Stats>,
    /// The worker's own topics, when it serves connections itself (`dispatch =
    /// connection`): the master's relayed publishes and counts are answered from them.
    topics: Option<Arc<Topics>>,
    report: Report,
    /// `LinkSetup::stream_window`.
    stream_window: u64,
}

impl Shared {
    /// A request's answer (and its stream, if it had one) is finished.
    fn finished(&self) {
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        self.check_drained();
    }

    /// Tells the dispatcher once that nothing is in flight any more, after a drain began.
    fn check_drained(&self) {
        if self.draining.load(Ordering::Acquire)
            && self.in_flight.load(Ordering::Acquire) == 0
            && !self.drained.swap(true, Ordering::AcqRel)
        {
            self.dispatcher.drained();
        }
    }
}

/// How long dropping the link waits for queued frames to be written.
const LINGER: Duration = Duration::from_secs(2);

/// What a worker reports of itself to the master (a `ToMaster::Stats` frame), every second
/// and before it asks for the totals.
pub type Report = Arc<dyn Fn() -> ToMaster + Send + Sync>;

/// Where a link's tasks run.
pub enum LinkRuntime {
    /// A runtime of its own with no thread: the worker's PHP thread drives it while its
    /// loop waits (sticky dispatch: the link is all the I/O a worker has).
    Own,
    /// The runtime of the worker's own HTTP core (`dispatch = connection`), and its
    /// driver when the PHP thread drives it.
    Shared { handle: tokio::runtime::Handle, driver: Option<Driver> },
}

/// Everything a link is started with besides its socket.
pub struct LinkSetup {
    pub runtime: LinkRuntime,
    /// Where requests and stream events go.
    pub dispatcher: Arc<dyn Dispatcher>,
    /// Where every other event goes.
    pub on_event: Arc<dyn Fn(LinkEvent) + Send + Sync>,
    /// The worker's counters (broker drops, the standby's takeovers).
    pub stats: Arc<Stats>,
    pub report: Report,
    /// `WorkersConfig::broker_backlog`.
    pub broker_backlog_limit: usize,
    /// The worker's own topics (`dispatch = connection`).
    pub topics: Option<Arc<Topics>>,
    /// Bytes of a stream the master may hold beyond what its reader took: the master's
    /// queue bound (`sse_queue_size`).
    pub stream_window: usize,
}

/// The worker's handle on its link.
pub struct Link {
    seq: AtomicU64,
    shared: Arc<Shared>,
    /// Tells the writer to finish, and the writer's task.
    writer: Mutex<Option<(Trigger, tokio::task::JoinHandle<()>)>>,
    /// The link's own runtime (`LinkRuntime::Own`).
    runtime: Option<IoRuntime>,
    /// Where its tasks run, and that runtime's driver when a thread must drive it (its own
    /// runtime always; the core's with `reactor = php`).
    handle: tokio::runtime::Handle,
    driver: Option<Driver>,
}

impl Link {
    /// Wakes the link's writer for the answers given since the last wake (called by the
    /// PHP thread's flush, inside the runtime, and by the standby while PHP is away).
    pub fn wake_writer(&self) {
        self.shared.out.wake_deferred();
    }

    /// Starts the link on `fd`. Requests and stream events go to `setup.dispatcher`,
    /// everything else to `setup.on_event`; `setup.report` goes to the master every second.
    ///
    /// With a runtime of its own the link has no I/O thread: the worker's PHP thread runs
    /// it while its loop waits (decision 0016), and its standby while a handler keeps the
    /// PHP thread away (decision 0018). Otherwise it runs on the worker's HTTP core.
    pub fn start(fd: OwnedFd, setup: LinkSetup) -> std::io::Result<Self> {
        let LinkSetup {
            runtime,
            dispatcher,
            on_event,
            stats,
            report,
            broker_backlog_limit,
            topics,
            stream_window,
        } = setup;
        let (runtime, handle, driver) = match runtime {
            LinkRuntime::Own => {
                let own = IoRuntime::start(0, Arc::clone(&stats))?;
                let (handle, driver) = (own.handle(), own.driver());
                (Some(own), handle, driver)
            }
            LinkRuntime::Shared { handle, driver } => (None, handle, driver),
        };
        let rt = handle.clone();
        let (read, write) = ipc::async_stream(fd, &rt)?.into_split();
        let (out, out_rx) = ipc::frame_queue();
        let close_writer = Trigger::new();
        let writer = rt.spawn(write_until(write, out_rx, close_writer.subscribe()));
        rt.spawn(report_stats(Arc::clone(&report), out.clone()));
        let shared = Arc::new(Shared {
            dispatcher,
            out,
            open: AtomicBool::new(true),
            rt: rt.clone(),
            streams: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            drained: AtomicBool::new(false),
            broker_backlog: AtomicUsize::new(0),
            broker_backlog_limit,
            stats,
            topics,
            report,
            stream_window: stream_window as u64,
        });
        rt.spawn(read_frames(read, Arc::clone(&shared), on_event));
        Ok(Self {
            seq: AtomicU64::new(1),
            shared,
            writer: Mutex::new(Some((close_writer, writer))),
            runtime,
            handle,
            driver,
        })
    }

    /// The link's runtime (for work the PHP side hands to Tokio).
    pub fn runtime(&self) -> tokio::runtime::Handle {
        self.handle.clone()
    }

    /// Where the worker's PHP thread marks its waits for the standby (a link with a
    /// runtime of its own).
    pub fn watch(&self) -> Option<crate::http::server::Watch> {
        self.runtime.as_ref().map(IoRuntime::watch)
    }

    /// The driver of a runtime of its own, for the PHP thread that runs the link.
    pub fn driver(&self) -> Option<Driver> {
        self.runtime.as_ref().and_then(IoRuntime::driver)
    }

    /// Sends the master this worker's counters now (before asking for the totals).
    pub fn report(&self) {
        self.send((self.shared.report)());
    }

    /// Requests whose answer is not finished.
    pub fn in_flight(&self) -> usize {
        self.shared.in_flight.load(Ordering::Acquire)
    }

    /// Reports `drained()` to the dispatcher once nothing is in flight (maybe at once).
    pub fn begin_drain(&self) {
        self.shared.draining.store(true, Ordering::Release);
        self.shared.check_drained();
    }

    pub fn send(&self, f: ToMaster) -> bool {
        self.shared.out.send(f)
    }

    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    /// Writes what is queued for the master and closes the link (at most `LINGER`). Call it
    /// from outside the runtime before the process exits: the last answers may still be
    /// queued, and the master answers 502 for what it never receives.
    pub fn close(&self) {
        let Some((close, writer)) = self.writer.lock().take() else { return };
        close.fire();
        let wait = async { tokio::time::timeout(LINGER, writer).await };
        // A runtime nobody else drives (its own, or the core's with `reactor = php`) is
        // driven here meanwhile.
        let _ = match &self.driver {
            Some(driver) => driver.block_on(wait),
            None => self.handle.block_on(wait),
        };
    }

    /// The PHP thread ran a broker message of `size` bytes (topic and payload).
    pub fn broker_taken(&self, size: usize) {
        self.shared.broker_backlog.fetch_sub(size, Ordering::AcqRel);
    }

    pub fn is_open(&self) -> bool {
        self.shared.is_open()
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.close();
        if let Some(rt) = self.runtime.take() {
            rt.stop();
        }
    }
}

/// The link's reader task: every frame from the master in order, then `Closed` to the PHP
/// thread.
async fn read_frames(
    read: tokio::net::unix::OwnedReadHalf,
    shared: Arc<Shared>,
    on_event: Arc<dyn Fn(LinkEvent) + Send + Sync>,
) {
    let mut reader = FrameReader::<_, ToWorker>::new(read);
    loop {
        match reader.next().await {
            Ok(Some(f)) => on_frame(f, &shared, &on_event),
            Ok(None) => break,
            Err(e) => {
                crate::error!("link to the master: {e}");
                break;
            }
        }
    }
    shared.open.store(false, Ordering::Release);
    on_event(LinkEvent::Closed);
}

/// Sends the worker's counters every second, until the link no longer writes.
async fn report_stats(report: Report, out: ipc::FrameSender<ToMaster>) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if !out.send(report()) {
            return;
        }
    }
}

/// The link's writer task: what the worker sends, until `close` (then what was queued).
async fn write_until(
    write: tokio::net::unix::OwnedWriteHalf,
    out: ipc::FrameQueue<ToMaster>,
    mut close: Shutdown,
) {
    let _ = ipc::write_frames_until(write, out, close.recv(), None).await;
}

/// The worker-side counters as a `Stats` frame.
pub fn stats_frame(stats: &Stats) -> ToMaster {
    ToMaster::Stats {
        pairs: stats.snapshot().pairs().iter().map(|(k, v)| (Bytes::from_static(k.as_bytes()), *v)).collect(),
    }
}

fn on_frame(f: ToWorker, shared: &Arc<Shared>, on_event: &Arc<dyn Fn(LinkEvent) + Send + Sync>) {
    match f {
        ToWorker::Link(f) => on_link_frame(f, shared),
        ToWorker::App(f) => on_app_frame(f, shared, on_event),
    }
}

/// A request, or news of a stream: acted on here.
fn on_link_frame(f: ToLink, shared: &Arc<Shared>) {
    match f {
        ToLink::Request { request: w } => {
            let id = w.head.id;
            shared.in_flight.fetch_add(1, Ordering::AcqRel);
            let reply = Reply::to_sink(Arc::clone(shared) as Arc<dyn ReplySink>, id);
            if shared.dispatcher.dispatch(Box::new(incoming(*w, reply))).is_err() {
                crate::warn!("request {id} arrived after the worker stopped taking requests");
            }
        }
        ToLink::StreamClosed { stream, cut_off } => {
            let Some(mut ctl) = shared.streams.lock().remove(&stream) else { return };
            if cut_off {
                // Ended as the server's doing, as in one process: not a disconnect.
                ctl.stream.abort();
            }
            if let Some(c) = ctl.cancel.take() {
                let _ = c.send(());
            }
        }
        ToLink::Credit { stream, total } => {
            let Some((credit, s)) =
                shared.streams.lock().get(&stream).map(|c| (c.credit.clone(), Arc::clone(&c.stream)))
            else {
                return;
            };
            let more = credit.send_if_modified(|credit| {
                let more = total > *credit;
                *credit = (*credit).max(total);
                more
            });
            // The same total again: the client took a topic's frames queued ahead of this
            // stream's chunks in the master.
            if !more {
                s.note_progress();
            }
        }
        // Another worker published (`dispatch = connection`): the streams here get it too.
        ToLink::TopicPublish { gather, topic, frame } => {
            let n = shared.topics.as_ref().map_or(0, |t| t.publish(&String::from_utf8_lossy(&topic), frame));
            // On the PHP thread (`reactor = php`) the streams' wake-ups wait in its batch
            // for the loop's next flush, which no request may bring: handed over now.
            crate::http::wake_batch::flush();
            shared.out.send(ToMaster::Counted { gather, n: n as u64 });
        }
        ToLink::TopicCount { gather, topic } => {
            let n = shared.topics.as_ref().map_or(0, |t| t.subscribers(&String::from_utf8_lossy(&topic)));
            shared.out.send(ToMaster::Counted { gather, n: n as u64 });
        }
        // In order on the link: the master has the report when it reads the answer.
        ToLink::Report { gather } => {
            shared.out.send((shared.report)());
            shared.out.send(ToMaster::Counted { gather, n: 0 });
        }
    }
}

/// A frame for the PHP thread: handed over, unless it is a broker message past the backlog.
fn on_app_frame(f: ToApp, shared: &Shared, on_event: &Arc<dyn Fn(LinkEvent) + Send + Sync>) {
    if let ToApp::BrokerMessage { topic, payload, .. } = &f {
        // A PHP thread that does not get to its messages (a blocking call, a long loop)
        // must not make the link buffer without bound.
        let size = topic.len() + payload.len();
        if shared.broker_backlog.fetch_add(size, Ordering::AcqRel) + size > shared.broker_backlog_limit {
            shared.broker_backlog.fetch_sub(size, Ordering::AcqRel);
            if shared.stats.broker_dropped.fetch_add(1, Ordering::Relaxed) % 10_000 == 0 {
                crate::warn!("the PHP thread is not taking broker messages; dropping them");
            }
            return;
        }
    }
    on_event(LinkEvent::Frame(f));
}

/// A request from its wire form.
fn incoming(w: WireRequest, reply: Reply) -> IncomingRequest {
    let WireRequest { head, body } = w;
    let body = match body {
        WireBody::Empty => RequestBody::Empty,
        WireBody::Bytes(b) => RequestBody::Bytes(b),
        WireBody::Multipart { fields, files } => RequestBody::Multipart {
            fields: fields.into_iter().map(|(k, v)| (text(k), v)).collect(),
            files: files
                .into_iter()
                .map(|f| UploadedFile {
                    field: text(f.field),
                    name: text(f.name),
                    full_path: text(f.full_path),
                    content_type: text(f.content_type),
                    path: std::ffi::OsString::from_vec(f.path.to_vec()).into(),
                    size: f.size,
                    error: f.error,
                })
                .collect(),
        },
    };
    IncomingRequest { head, body, body_room: BodyRoom::default(), reply }
}

fn text(b: Bytes) -> String {
    String::from_utf8(b.to_vec()).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

impl ReplySink for Shared {
    fn send(self: Arc<Self>, req: u64, start: ResponseStart) -> bool {
        let head = WireHead { status: start.status, reason: start.reason, headers: start.headers };
        match start.body {
            ResponseBodySource::Full(body) => {
                // The PHP thread gives answers outside the link's runtime: the writer is
                // woken when it next flushes, from inside (`Link::wake_writer`).
                let sent = self.out.send_deferred(ToMaster::Response { req, head, body });
                self.finished();
                sent && self.is_open()
            }
            ResponseBodySource::Stream { stream, heartbeat } => {
                let open = self.is_open();
                // Finished when the task ends, or when it is dropped unfinished (the
                // runtime stopping): the drain count must not wait for it.
                let done = Finished(Arc::clone(&self));
                let rt = self.rt.clone();
                rt.spawn(async move {
                    let _done = done;
                    self.forward(req, head, stream, heartbeat).await;
                });
                open
            }
        }
    }

    fn unanswered(&self, req: u64) {
        // The PHP side dropped the request unanswered (as the core answers it: 500, or 503
        // while the worker stops: its task was cancelled, or it never reached one).
        let status = unanswered_status(self.draining.load(Ordering::Acquire));
        crate::debug!("request {req} was dropped unanswered; answering {status}");
        let head = WireHead { status, reason: None, headers: HeaderList::new() };
        let _ = self.out.send(ToMaster::Response { req, head, body: Bytes::new() });
        self.finished();
    }

    fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }
}

/// Calls `finished()` once, when dropped.
struct Finished(Arc<Shared>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.finished();
    }
}

impl Shared {
    /// Starts request `req`'s stream at the master and forwards its chunks until it ends.
    async fn forward(
        &self,
        req: u64,
        head: WireHead,
        stream: Arc<StreamShared>,
        heartbeat: Option<Duration>,
    ) {
        let id = stream.id();
        let (cancel_tx, cancel) = oneshot::channel();
        let (credit_tx, credit) = watch::channel(0);
        let ctl = StreamCtl { cancel: Some(cancel_tx), credit: credit_tx, stream: Arc::clone(&stream) };
        self.streams.lock().insert(id, ctl);
        let heartbeat_ms = heartbeat.map_or(0, |d| d.as_millis().max(1) as u64);
        let _ = self.out.send(ToMaster::StreamStart { req, stream: id, head, heartbeat_ms });
        forward_stream(id, &stream, cancel, (credit, self.stream_window), &self.out).await;
        self.streams.lock().remove(&id);
    }
}

/// Sends the chunks of the worker's stream `id` to the master until it ends or its client
/// leaves (`cancel`), keeping at most `window` bytes (as a queue counts them) beyond what the
/// master credited (`credit`) on their way to the client. A chunk larger than the window
/// goes in pieces of at most the window (one `write()` of 50 MiB went whole).
async fn forward_stream(
    id: u64,
    stream: &Arc<StreamShared>,
    mut cancel: oneshot::Receiver<()>,
    (mut credit, window): (watch::Receiver<u64>, u64),
    out: &ipc::FrameSender<ToMaster>,
) {
    let mut body = stream.body();
    let mut sent = 0u64;
    // What is left of a chunk larger than the window.
    let mut rest = Bytes::new();
    let piece_max = usize::try_from(window).unwrap_or(usize::MAX).max(1);
    loop {
        while sent >= credit.borrow_and_update().saturating_add(window) {
            tokio::select! {
                _ = &mut cancel => return,
                changed = credit.changed() => {
                    if changed.is_err() {
                        return;
                    }
                }
                // The worker gave up on its client (`write()`'s or `send()`'s timeout): the
                // master drops what it holds now, not when the client reads or leaves.
                () = std::future::poll_fn(|cx| body.poll_aborted(cx)) => {
                    let _ = out.send(ToMaster::Abort { stream: id });
                    return;
                }
            }
        }
        if !rest.is_empty() {
            let data = rest.split_to(rest.len().min(piece_max));
            sent += crate::http::stream::cost(data.len()) as u64;
            let _ = out.send(ToMaster::Chunk { stream: id, data });
            continue;
        }
        tokio::select! {
            // The client left: dropping the body reports `Closed` to the PHP side.
            _ = &mut cancel => break,
            frame = body.frame() => match frame {
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        rest = data;
                    }
                }
                Some(Err(_)) => {
                    let _ = out.send(ToMaster::Abort { stream: id });
                    break;
                }
                None => {
                    let _ = out.send(ToMaster::End { stream: id });
                    break;
                }
            },
        }
    }
}
