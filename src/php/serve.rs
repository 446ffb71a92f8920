//! The running server on the PHP thread, whichever way `start()` runs it (`roles`): the
//! state of the one running server of this process, turning core events into request
//! tasks, the worker link's events, and the stop sequence.
//!
//! Owns: `Running` (one per process at a time), the events of the Tokio side (`Event`) and
//! the dispatcher that queues them for the PHP thread, the loop's view of the server
//! (`ServerHost`), the hooks a server was given (`Hooks`).
//! Does not own: the `Via\Server` class (`server`), how a process comes to serve (`roles`),
//! the loop itself (`runtime`), HTTP (`crate::http`), processes (`crate::workers`).
//!
//! Stop sequence (one process, and each worker): stop taking requests and let in-flight
//! ones finish (≤ shutdown_timeout) → run the stop hooks → cancel what is left →
//! `start()` returns (a worker process exits instead). A second signal skips the waiting.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::inbox::{Receiver, RecvError, Sender};
use ext_php_rs::types::{ZendClassObject, Zval};
use http::StatusCode;

use super::answers;
use super::convert;
use super::global::PhpGlobal;
use super::request::Request;
use super::response::Response;
use super::response_core::{ResponseCore, StreamContext};
use super::runtime::{self, Disconnected, Host, KeyWake, TaskId, TaskKind};
use super::services::Services;
use super::workers::{self as php_workers, Identity};
use crate::config::ServerConfig;
use crate::http::server::{Driver, Watch};
use crate::http::{Dispatcher, IncomingRequest, ServerHandle, StreamEvent};
use crate::ipc::{ToApp, ToMaster};
use crate::scheduler::TimerId;
use crate::signal::SignalGuard;
use crate::workers::link::{Link, LinkEvent};

/// Something that happened on the Tokio side.
pub(super) enum Event {
    Request(Box<IncomingRequest>),
    Stream(StreamEvent),
    Signal(i32),
    Drained,
    /// From the master, in a worker process.
    Link(LinkEvent),
    /// From a shared broker's connection (`remotes`).
    Remote(super::remotes::RemoteId, crate::broker::RemoteEvent, Arc<super::remotes::Backlog>),
}

/// Events taken from the inbox before running the tasks they created.
const EVENT_BATCH: usize = 256;

/// The running server as the loop sees it (`runtime::Host`).
pub(super) struct ServerHost {
    rx: Receiver<Event>,
    /// Events taken from the inbox and not handled yet (at most `EVENT_BATCH` per turn).
    pending: RefCell<VecDeque<Event>>,
    /// The buffer the inbox fills; kept for its capacity.
    scratch: RefCell<Vec<Event>>,
    /// Set with `reactor = php`: this thread drives the I/O runtime while it waits (and
    /// takes it back from the standby, if that drove it meanwhile).
    driver: Option<Driver>,
    /// Where this thread marks its waits for the standby (`http::driven`); a driver marks
    /// them itself.
    watch: Option<Watch>,
}

impl ServerHost {
    pub fn new(rx: Receiver<Event>, driver: Option<Driver>, watch: Option<Watch>) -> Self {
        Self { rx, pending: RefCell::default(), scratch: RefCell::default(), driver, watch }
    }
}

impl Host for ServerHost {
    fn wait(&self, deadline: Option<Instant>) -> Result<usize, Disconnected> {
        let mut batch = self.scratch.take();
        let received = match &self.driver {
            None => {
                self.flush();
                if let Some(w) = &self.watch {
                    w.enter();
                }
                let received = self.rx.recv_into(&mut batch, deadline);
                if let Some(w) = &self.watch {
                    w.leave();
                }
                received
            }
            // The connections' tasks run here until an event comes (or the deadline): the
            // answers handed over first are written, new requests read. Handed over inside
            // the runtime, answers and stream pushes wake their connections' tasks in
            // place (from outside, each wake would be a system call to unpark it).
            Some(driver) => driver.block_on(async {
                crate::http::wake_batch::flush();
                answers::forward();
                self.rx.recv_async(&mut batch, deadline).await
            }),
        };
        let taken = match received {
            Ok(()) => Ok(batch.len()),
            Err(RecvError::Timeout) => Ok(0),
            Err(RecvError::Disconnected) => Err(Disconnected),
        };
        self.pending.borrow_mut().extend(batch.drain(..));
        self.scratch.replace(batch);
        taken
    }

    /// The rest waits for the next turn of the loop, after the tasks these created ran and
    /// due timers fired.
    fn handle_events(&self) -> bool {
        let mut any = false;
        for _ in 0..EVENT_BATCH {
            let Some(ev) = self.pending.borrow_mut().pop_front() else { break };
            any = true;
            on_event(ev);
        }
        any
    }

    fn flush(&self) {
        let flush = || {
            crate::http::wake_batch::flush();
            answers::flush();
        };
        match &self.driver {
            None => flush(),
            // Inside the runtime, so that the answers and stream pushes wake their
            // connections' tasks in place (from outside, each wake would be a system call
            // to unpark it) — unless its standby drives it while this thread was busy:
            // then the batches go to the standby, which keeps driving until this thread
            // waits.
            Some(driver) => driver.run(flush),
        }
    }

    fn stopped(&self) -> bool {
        stopped()
    }

    fn fatal(&self) {
        answers::flush();
        abort_after_fatal();
    }
}

/// Hands core events to the PHP thread.
pub(super) struct PhpDispatcher {
    pub tx: Sender<Event>,
}

impl Dispatcher for PhpDispatcher {
    fn dispatch(&self, req: Box<IncomingRequest>) -> Result<(), Box<IncomingRequest>> {
        self.tx.send_deferred(Event::Request(req)).map_err(|e| match e {
            Event::Request(r) => r,
            _ => unreachable!("sent a request"),
        })
    }

    fn drained(&self) {
        let _ = self.tx.send(Event::Drained);
    }

    fn load(&self) -> crate::ops::metrics::Load {
        let (queue, oldest_wait) = self.tx.load();
        crate::ops::metrics::Load {
            queue: queue as u64,
            oldest_wait: Some(oldest_wait.unwrap_or_default()),
            ..Default::default()
        }
    }
}

impl crate::http::StreamEvents for PhpDispatcher {
    fn stream_event(&self, event: StreamEvent) {
        let _ = self.tx.send(Event::Stream(event));
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Running,
    Draining,
    ShuttingDown,
    Stopped,
}

pub(super) struct Running {
    pub server_id: u64,
    /// One process: the HTTP core (a worker's link is `php_workers::link()`).
    pub handle: Option<ServerHandle>,
    identity: Identity,
    handler: Zval,
    pub server: Zval,
    /// Kept for a worker: they run once per server, in worker 0's first process.
    pub on_start: Vec<Zval>,
    on_shutdown: Vec<Zval>,
    pub on_worker_start: Vec<Zval>,
    on_worker_stop: Vec<Zval>,
    /// The whole server stops (not a worker recycled): the onShutdown hooks run.
    server_stop: bool,
    /// Requests this process took, and after how many it asks to be replaced (0 = never).
    requests: u64,
    retire_at: u64,
    phase: Phase,
    pub services: Rc<Services>,
    signals: Option<SignalGuard>,
    drain_timer: Option<TimerId>,
    hook_tasks: Vec<TaskId>,
    shutdown_timeout: Duration,
    max_input_vars: usize,
    pub started: Instant,
}

pub(super) static RUNNING: PhpGlobal<RefCell<Option<Running>>> = PhpGlobal::new(RefCell::new(None));

/// Whether a server runs in this process (tables must exist before).
pub fn any_running() -> bool {
    RUNNING.get().borrow().is_some()
}

pub(super) fn with_running<R>(f: impl FnOnce(&mut Running) -> R) -> Option<R> {
    RUNNING.get().borrow_mut().as_mut().map(f)
}

pub(super) fn install_signals(
    rt: &tokio::runtime::Handle,
    signals: &[libc::c_int],
    f: impl Fn(libc::c_int) + Send + 'static,
) -> Option<SignalGuard> {
    match crate::signal::install(rt, signals, f) {
        Ok(g) => Some(g),
        Err(e) => {
            crate::warn!("cannot install signal handlers: {e}");
            None
        }
    }
}

/// What a `Via\Server` hands to the running state: its id, itself as a PHP value (for the
/// hooks' argument), and its hooks.
pub(super) struct Launch {
    pub server_id: u64,
    pub server: Zval,
    pub hooks: Hooks,
}

/// Makes this process's server the running one (one process or a worker).
pub(super) fn install_running(
    launch: Launch,
    config: &ServerConfig,
    handle: Option<ServerHandle>,
    link: Option<Arc<Link>>,
    identity: Identity,
    services: Rc<Services>,
    signals: Option<SignalGuard>,
) {
    let Launch { server_id, server, hooks } = launch;
    let worker = link.is_some();
    let old = php_workers::set_link(link);
    drop(old);
    *RUNNING.get().borrow_mut() = Some(Running {
        server_id,
        handle,
        identity,
        handler: hooks.request.unwrap_or_default(),
        server,
        on_start: hooks.start,
        on_shutdown: hooks.shutdown,
        on_worker_start: hooks.worker_start,
        on_worker_stop: hooks.worker_stop,
        server_stop: !worker,
        requests: 0,
        retire_at: if worker { retire_at(config.workers.max_requests) } else { 0 },
        phase: Phase::Running,
        services,
        signals,
        drain_timer: None,
        hook_tasks: Vec::new(),
        shutdown_timeout: config.shutdown_timeout,
        max_input_vars: config.limits.max_input_vars,
        started: Instant::now(),
    });
}

/// How long a stop waits for the answers it gave to requests still in flight to be written.
const STOP_ANSWERS_WAIT: Duration = Duration::from_secs(1);

/// Tears the running server down after its loop ended.
pub(super) fn finish_running() {
    // Requests still in flight (the drain passed `shutdown_timeout`, or a second signal
    // stopped it at once) are answered 503 before their tasks are cancelled, and the core
    // is given a moment to write those answers, as a fatal error's 500s are: else their
    // connections were dropped with the runtime and clients saw nothing.
    runtime::abandon_owned(StatusCode::SERVICE_UNAVAILABLE);
    // The requests still queued for the loop go with it, and a request dispatched from now
    // on is refused: the core answers both 503 (`Ops::unanswered_status`).
    runtime::set_host(None);
    answers::flush();
    let handle = with_running(|r| r.handle.take()).flatten();
    if let Some(h) = &handle {
        h.run_io_until(STOP_ANSWERS_WAIT, || h.stats().in_flight == 0);
    }
    answers::set_outbox(None);
    answers::set_link(None);
    super::remotes::stop_all();
    let running = RUNNING.get().borrow_mut().take();
    if let Some(mut running) = running {
        drop(running.signals.take());
        // The link first: it may run on the core's runtime (a worker that serves its own
        // connections), which stops with the core.
        if let Some(link) = php_workers::set_link(None) {
            link.close();
        }
        drop(handle);
        let up = running.started.elapsed();
        drop(running);
        crate::info!("stopped after {:.1}s", up.as_secs_f64());
    }
    runtime::cancel_everything();
}

/// Dispatches one event from the Tokio side (called by the loop).
pub fn on_event(ev: Event) {
    match ev {
        Event::Request(req) => on_request(req),
        Event::Stream(StreamEvent::Drained(id)) => runtime::wake_on(id, KeyWake::Drained),
        Event::Stream(StreamEvent::Closed(id)) => {
            runtime::wake_on(id, KeyWake::Closed);
            super::sse::peer_gone(id);
        }
        Event::Signal(sig) => {
            let phase = with_running(|r| r.phase);
            match phase {
                Some(Phase::Running) => {
                    crate::info!("received signal {sig}; draining (send it again to stop at once)");
                    begin_stop();
                }
                Some(Phase::Draining) | Some(Phase::ShuttingDown) => {
                    crate::warn!("received signal {sig} again; stopping now");
                    with_running(|r| r.phase = Phase::Stopped);
                }
                _ => {}
            }
        }
        Event::Drained => {
            if with_running(|r| r.phase) == Some(Phase::Draining) {
                crate::debug!("nothing in flight any more");
                run_shutdown_hooks();
            }
        }
        Event::Link(ev) => on_link_event(ev),
        Event::Remote(id, event, backlog) => {
            let size = super::remotes::message_size(&event);
            super::broker::on_remote(id, event);
            backlog.release(size);
        }
    }
}

/// An event from the master (worker processes only).
fn on_link_event(ev: LinkEvent) {
    match ev {
        LinkEvent::Frame(ToApp::Init { worker, workers, generation, master_pid, first_start }) => {
            let identity = Identity { id: worker, count: workers, master_pid };
            php_workers::set_identity(Some(identity));
            let Some((server, link, mut hooks)) = with_running(|r| {
                r.identity = identity;
                let mut hooks: Vec<(Zval, Vec<Zval>, &'static str)> = Vec::new();
                for h in &r.on_worker_start {
                    hooks.push((h.shallow_clone(), vec![], "onWorkerStart"));
                }
                if first_start && worker == 0 {
                    for h in &r.on_start {
                        hooks.push((h.shallow_clone(), vec![], "onStart"));
                    }
                }
                (r.server.shallow_clone(), php_workers::link(), hooks)
            }) else {
                return;
            };
            crate::debug!(
                "worker {worker} of {workers} (generation {generation}, pid {})",
                std::process::id()
            );
            for (hook, _, name) in hooks.drain(..) {
                let mut args = vec![server.shallow_clone()];
                if name == "onWorkerStart" {
                    args.push(worker_zval(worker));
                }
                runtime::spawn(hook, args, TaskKind::Hook(name));
            }
            // A worker that serves its own connections takes them from now on.
            with_running(|r| r.handle.as_ref().map(ServerHandle::open));
            if let Some(link) = link {
                super::broker::resubscribe_workers(&link);
                link.send(ToMaster::Ready);
            }
        }
        LinkEvent::Frame(ToApp::Answer { seq, value }) => php_workers::answer_count(seq, value),
        LinkEvent::Frame(ToApp::StatsAnswer { seq, pairs }) => php_workers::answer_stats(seq, pairs),
        LinkEvent::Frame(ToApp::BrokerMessage { bus, origin, topic, payload }) => {
            super::broker::deliver_bus(bus, origin, &topic, &payload);
            if let Some(link) = php_workers::link() {
                link.broker_taken(topic.len() + payload.len());
            }
        }
        LinkEvent::Frame(ToApp::BrokerState { bus, connected }) => {
            if let Some(id) = bus.checked_sub(1) {
                super::remotes::set_master_connected(id, connected);
            }
        }
        LinkEvent::Frame(ToApp::BrokerError { bus, text }) => {
            if let Some(id) = bus.checked_sub(1) {
                let text = String::from_utf8_lossy(&text).into_owned();
                super::broker::on_remote(id, crate::broker::RemoteEvent::Error(text));
            }
        }
        LinkEvent::Frame(ToApp::Shutdown { server_stop }) => {
            let id = with_running(|r| {
                r.server_stop = server_stop && r.identity.id == 0;
                r.identity.id
            });
            if let Some(id) = id {
                crate::debug!(
                    "worker {id}: asked to {}",
                    if server_stop { "stop" } else { "leave (replaced)" }
                );
            }
            begin_stop();
        }
        LinkEvent::Closed => {
            php_workers::fail_all();
            let phase = with_running(|r| r.phase);
            if phase.is_some() && phase != Some(Phase::Stopped) {
                crate::warn!("the master is gone; this worker stops now");
                with_running(|r| r.phase = Phase::Stopped);
            }
        }
    }
}

pub(super) fn worker_zval(id: u32) -> Zval {
    let mut z = Zval::new();
    z.set_long(i64::from(id));
    z
}

/// Named once: a lookup by `&str` parses the name first, per request.
static LAST_EVENT_ID: http::HeaderName = http::HeaderName::from_static("last-event-id");

fn on_request(req: Box<IncomingRequest>) {
    let Some((handler, services, max_vars, retire)) = with_running(|r| {
        r.requests += 1;
        let retire = (r.retire_at > 0 && r.requests == r.retire_at).then(php_workers::link).flatten();
        (r.handler.shallow_clone(), Rc::clone(&r.services), r.max_input_vars, retire)
    }) else {
        return; // dropping the reply answers 500
    };
    if let Some(link) = retire {
        link.send(ToMaster::Retire);
    }
    if super::memory::exhausted() {
        services.stats.memory_refusals.fetch_add(1, Ordering::Relaxed);
        req.reply.send(crate::ops::error_pages::installed().response(StatusCode::SERVICE_UNAVAILABLE));
        return;
    }
    let head = &req.head;
    let (last_event_id, accept_encoding) =
        head.headers.first_two(&LAST_EVENT_ID, &http::header::ACCEPT_ENCODING);
    let stream_context = StreamContext { last_event_id, accept_encoding };
    let (method, uri) = (head.method.clone(), head.uri.clone());
    let (request, reply) = Request::from_incoming(req, max_vars);
    let core = Rc::new(RefCell::new(ResponseCore::bound(reply, services, method, uri, stream_context)));
    let request = ZendClassObject::new(request);
    let response = ZendClassObject::new(Response::from_core(Rc::clone(&core)));
    runtime::spawn(handler, [convert::object(request), convert::object(response)], TaskKind::Owned(core));
}

/// Clients of event streams are told to reconnect after this long when the server stops.
const SSE_RETRY_ON_STOP_MS: u64 = 2000;

pub(super) fn begin_stop() {
    if with_running(|r| r.phase) == Some(Phase::Running) {
        super::sse::close_all(SSE_RETRY_ON_STOP_MS);
    }
    let timeout = with_running(|r| {
        if r.phase != Phase::Running {
            return None;
        }
        r.phase = Phase::Draining;
        // Requests come from the core, or else from the master's link.
        match (&r.handle, php_workers::link()) {
            (Some(h), _) => h.begin_shutdown(),
            (None, Some(l)) => l.begin_drain(),
            (None, None) => {}
        }
        Some(r.shutdown_timeout)
    })
    .flatten();
    if let Some(t) = timeout {
        let timer = runtime::call_after(t, drain_deadline);
        with_running(|r| r.drain_timer = Some(timer));
    }
}

/// The drain took longer than `shutdown_timeout`.
fn drain_deadline() {
    let in_flight = with_running(|r| {
        r.drain_timer = None;
        (r.phase == Phase::Draining).then(|| match (&r.handle, php_workers::link()) {
            (Some(h), _) => h.stats().in_flight,
            (None, Some(l)) => l.in_flight() as u64,
            (None, None) => 0,
        })
    })
    .flatten();
    if let Some(n) = in_flight {
        crate::warn!("shutdown_timeout reached with {n} request(s) still in flight; closing them");
        run_shutdown_hooks();
    }
}

fn run_shutdown_hooks() {
    let Some((worker_hooks, hooks, server, timer, id)) = with_running(|r| {
        r.phase = Phase::ShuttingDown;
        let hooks = if r.server_stop {
            r.on_shutdown.iter().map(Zval::shallow_clone).collect::<Vec<_>>()
        } else {
            vec![]
        };
        (
            r.on_worker_stop.iter().map(Zval::shallow_clone).collect::<Vec<_>>(),
            hooks,
            r.server.shallow_clone(),
            r.drain_timer.take(),
            r.identity.id,
        )
    }) else {
        return;
    };
    if let Some(t) = timer {
        runtime::cancel_timer(t);
    }
    let mut ids: Vec<TaskId> = worker_hooks
        .into_iter()
        .map(|h| {
            runtime::spawn(h, vec![server.shallow_clone(), worker_zval(id)], TaskKind::Hook("onWorkerStop"))
        })
        .collect();
    ids.extend(
        hooks
            .into_iter()
            .map(|h| runtime::spawn(h, vec![server.shallow_clone()], TaskKind::Hook("onShutdown"))),
    );
    with_running(|r| r.hook_tasks = ids);
}

/// Whether the running server finished its stop sequence (the loop's exit condition).
fn stopped() -> bool {
    let Some((phase, hooks)) = with_running(|r| (r.phase, r.hook_tasks.clone())) else { return true };
    match phase {
        Phase::Stopped => true,
        Phase::ShuttingDown => {
            let live = runtime::live_tasks(&hooks);
            if live == 0 {
                with_running(|r| r.phase = Phase::Stopped);
            }
            live == 0
        }
        _ => false,
    }
}

/// After a fatal error: give the core a moment to send the 500s, then cut everything.
fn abort_after_fatal() {
    let running = RUNNING.get().borrow_mut().take();
    let Some(mut running) = running else { return };
    if let Some(handle) = running.handle.take() {
        handle.begin_shutdown();
        handle.run_io_until(Duration::from_secs(1), || handle.stats().in_flight == 0);
        drop(handle);
    }
    std::mem::forget(running);
}

/// The hooks a server was given (the class keeps them; a running server takes a copy).
#[derive(Default)]
pub(super) struct Hooks {
    pub request: Option<Zval>,
    pub start: Vec<Zval>,
    pub shutdown: Vec<Zval>,
    pub worker_start: Vec<Zval>,
    pub worker_stop: Vec<Zval>,
}

impl Hooks {
    /// New references to every hook.
    pub fn copy(&self) -> Self {
        let all = |list: &[Zval]| list.iter().map(Zval::shallow_clone).collect();
        Self {
            request: self.request.as_ref().map(Zval::shallow_clone),
            start: all(&self.start),
            shutdown: all(&self.shutdown),
            worker_start: all(&self.worker_start),
            worker_stop: all(&self.worker_stop),
        }
    }
}

/// Retires after about `max` requests: up to 10 % more, so workers do not all recycle at
/// once.
fn retire_at(max: u64) -> u64 {
    if max == 0 {
        return 0;
    }
    let mut r = [0u8; 8];
    // SAFETY: getrandom into an 8-byte buffer.
    let got = unsafe { libc::getrandom(r.as_mut_ptr().cast(), 8, 0) };
    let jitter = if got == 8 { u64::from_le_bytes(r) % (max / 10 + 1) } else { 0 };
    max + jitter
}
