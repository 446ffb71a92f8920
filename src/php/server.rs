//! `Via\Server`: configuration, hooks, and the lifecycle of a running server on the PHP
//! thread — start, serve events, drain on SIGTERM/SIGINT or stop(), shutdown hooks, exit.
//!
//! Owns: the running server (one per process at a time), turning core events into
//! request tasks, the stop sequence, and the three ways to run: one process (HTTP core and
//! PHP together), the master of several workers (HTTP core, no PHP once it serves) and a
//! worker (PHP, requests from the master's link).
//! Does not own: the loop itself (`runtime`), HTTP (`crate::http`), processes
//! (`crate::workers`).
//!
//! Stop sequence (one process, and each worker): stop taking requests and let in-flight
//! ones finish (≤ shutdown_timeout) → run the stop hooks → cancel what is left →
//! `start()` returns (a worker process exits instead). A second signal skips the waiting.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::inbox::Sender;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};

use super::args::{Array, ByteStr, Callable, Int, Str};
use super::errors::{type_name, value_err, via_err};
use super::global::PhpGlobal;
use super::request::Request;
use super::response::{Response, ResponseCore, Services, StreamContext, TopicsRef};
use super::runtime::{self, Event, TaskId, TaskKind, Until};
use super::workers::{self as php_workers, Identity};
use crate::config::{OptionValue, ServerConfig};
use crate::http::{Dispatcher, IncomingRequest, ServerHandle, StreamEvent};
use crate::ipc::Frame;
use crate::scheduler::TimerId;
use crate::signal::SignalGuard;
use crate::workers::link::{Link, LinkEvent};

static NEXT_SERVER_ID: AtomicU64 = AtomicU64::new(1);

/// Hands core events to the PHP thread.
struct PhpDispatcher {
    tx: Sender<Event>,
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

struct Running {
    server_id: u64,
    /// One process: the HTTP core.
    handle: Option<ServerHandle>,
    /// A worker: the link to its master.
    link: Option<Arc<Link>>,
    identity: Identity,
    handler: Zval,
    server: Zval,
    /// Kept for a worker: they run once per server, in worker 0's first process.
    on_start: Vec<Zval>,
    on_shutdown: Vec<Zval>,
    on_worker_start: Vec<Zval>,
    on_worker_stop: Vec<Zval>,
    /// The whole server stops (not a worker recycled): the onShutdown hooks run.
    server_stop: bool,
    /// Requests this process took, and after how many it asks to be replaced (0 = never).
    requests: u64,
    retire_at: u64,
    phase: Phase,
    services: Rc<Services>,
    signals: Option<SignalGuard>,
    drain_timer: Option<TimerId>,
    hook_tasks: Vec<TaskId>,
    shutdown_timeout: Duration,
    max_input_vars: usize,
    started: Instant,
}

static RUNNING: PhpGlobal<RefCell<Option<Running>>> = PhpGlobal::new(RefCell::new(None));

/// Whether a server runs in this process (tables must exist before).
pub fn any_running() -> bool {
    RUNNING.get().borrow().is_some()
}

/// In a worker: the link to the master.
pub fn worker_link() -> Option<Arc<Link>> {
    with_running(|r| r.link.clone()).flatten()
}

fn with_running<R>(f: impl FnOnce(&mut Running) -> R) -> Option<R> {
    RUNNING.get().borrow_mut().as_mut().map(f)
}

fn install_signals(
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

/// Makes this process's server the running one (one process or a worker).
fn install_running(
    self_: &mut ZendClassObject<Server>,
    config: &ServerConfig,
    handle: Option<ServerHandle>,
    link: Option<Arc<Link>>,
    identity: Identity,
    services: Rc<Services>,
    signals: Option<SignalGuard>,
) {
    let mut server = Zval::new();
    server.set_object(self_.get_mut_zend_obj());
    let hooks = self_.hooks.borrow();
    let handler = hooks.request.as_ref().map(Zval::shallow_clone).unwrap_or_default();
    let worker = link.is_some();
    *RUNNING.get().borrow_mut() = Some(Running {
        server_id: self_.id,
        handle,
        link,
        identity,
        handler,
        server,
        on_start: Hooks::clone_all(&hooks.start),
        on_shutdown: Hooks::clone_all(&hooks.shutdown),
        on_worker_start: Hooks::clone_all(&hooks.worker_start),
        on_worker_stop: Hooks::clone_all(&hooks.worker_stop),
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

/// Tears the running server down after its loop ended.
fn finish_running() {
    runtime::set_outbox(None);
    runtime::set_events(None);
    let running = RUNNING.get().borrow_mut().take();
    if let Some(mut running) = running {
        drop(running.signals.take());
        drop(running.handle.take());
        if let Some(link) = running.link.take() {
            link.close();
        }
        let up = running.started.elapsed();
        drop(running);
        crate::info!("stopped after {:.1}s", up.as_secs_f64());
    }
    runtime::cancel_everything();
}

/// `start()` with workers > 1: bind, fork the forker, serve HTTP and route to the workers
/// until they all stopped. In a worker process forked here, runs the worker instead.
fn start_master(self_: &mut ZendClassObject<Server>, config: ServerConfig) -> PhpResult<()> {
    use crate::workers::forker::{self, Forked};
    use crate::workers::master::{Master, MasterConfig, Outcome, Running as MasterRunning};
    let bound = crate::http::server::Bound::bind(config.clone()).map_err(start_err)?;
    let addr = bound.local_addr();
    // Set before the fork: the workers report it too.
    self_.port.set(addr.port());
    let (forker, reaper) = match forker::start(&[bound.listener_fd()]) {
        Ok(Forked::Master(f, reaper)) => (f, reaper),
        Ok(Forked::Worker(seed)) => {
            // The forker closed the listener's descriptor already: only forget the rest.
            std::mem::forget(bound);
            return run_worker(self_, config, seed);
        }
        Err(e) => return Err(start_err(format!("cannot start the worker processes: {e}"))),
    };
    let workers = config.workers.count;
    let (master, master_start) = Master::new(MasterConfig {
        workers,
        cookie: config.workers.affinity_cookie.clone(),
        secure_cookie: config.tls_cert.is_some(),
        shutdown_timeout: config.shutdown_timeout,
        crash_limit: config.workers.crash_limit,
        crash_window: config.workers.crash_window,
        stream_queue: config.sse.queue_size,
    });
    let handle = match bound.serve(master) {
        Ok(h) => h,
        Err(e) => {
            forker.quit(std::time::Duration::from_secs(2));
            return Err(start_err(e));
        }
    };
    let rt = handle.runtime();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let trigger = handle.shutdown_trigger();
    // Signals first: SIGCHLD tells the supervisor to reap what a dead forker left it.
    let master_handle = Arc::new(master_start.handle());
    let signals = {
        let mh = Arc::clone(&master_handle);
        install_signals(&rt, &[libc::SIGTERM, libc::SIGINT, libc::SIGUSR1, libc::SIGCHLD], move |sig| {
            match sig {
                libc::SIGUSR1 => mh.reload(),
                libc::SIGCHLD => mh.child_exited(),
                _ => mh.stop(),
            }
        })
    };
    master_start
        .start(
            MasterRunning {
                rt: rt.clone(),
                stats: handle.stats_handle(),
                topics: handle.topics(),
                forker,
                reaper,
                begin_http_shutdown: Box::new(trigger),
            },
            done_tx,
        )
        .map_err(start_err)?;
    self_.port.set(addr.port());
    crate::info!("listening on http://{addr} (master pid {}, {workers} workers)", std::process::id());
    let started = Instant::now();
    let outcome = done_rx.recv().unwrap_or(Outcome::Failed("the supervisor ended unexpectedly".into()));
    drop(signals);
    drop(handle);
    self_.port.set(0);
    crate::info!("stopped after {:.1}s", started.elapsed().as_secs_f64());
    match outcome {
        Outcome::Stopped => Ok(()),
        Outcome::Failed(msg) => Err(start_err(msg)),
    }
}

/// A worker process: serve the master's requests until it says stop (or goes away), then
/// exit the way `exit` does.
fn run_worker(
    self_: &mut ZendClassObject<Server>,
    config: ServerConfig,
    seed: crate::workers::forker::WorkerSeed,
) -> PhpResult<()> {
    php_workers::reseed_random();
    let (tx, rx) = crate::inbox::inbox();
    let dispatcher = Arc::new(PhpDispatcher { tx: tx.clone() });
    let stats = Arc::new(crate::http::Stats::default());
    let events = tx.clone();
    let on_event: Arc<dyn Fn(LinkEvent) + Send + Sync> = Arc::new(move |ev| {
        let _ = events.send(Event::Link(ev));
    });
    let link = match Link::start(seed.link, dispatcher.clone(), on_event, Arc::clone(&stats)) {
        Ok(l) => Arc::new(l),
        Err(e) => {
            crate::error!("worker {}: cannot start its link: {e}", seed.index);
            php_workers::exit_process();
            return Ok(());
        }
    };
    let rt = link.runtime();
    tx.start_kicker(&rt);
    let services = Rc::new(Services {
        events: dispatcher,
        stats,
        topics: TopicsRef::Remote(Arc::clone(&link)),
        sse: config.sse.clone(),
        compression: config.compression.clone(),
    });
    let identity = Identity { id: seed.index, count: config.workers.count, master_pid: 0 };
    install_running(self_, &config, None, Some(link), identity, services, None);
    runtime::set_events(Some(rx));
    runtime::set_outbox(Some(crate::http::Outbox::start(&rt)));
    let _ = runtime::run_loop(Until::ServerStopped);
    finish_running();
    php_workers::set_identity(None);
    php_workers::exit_process();
    Ok(())
}

/// Dispatches one event from the Tokio side (called by the loop).
pub fn on_event(ev: Event) {
    match ev {
        Event::Request(req) => on_request(req),
        Event::Stream(e) => {
            runtime::stream_event(e);
            if let crate::http::StreamEvent::Closed(id) = e {
                super::sse::peer_gone(id);
            }
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
    }
}

/// An event from the master (worker processes only).
fn on_link_event(ev: LinkEvent) {
    match ev {
        LinkEvent::Init { worker, workers, generation, master_pid, first_start } => {
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
                (r.server.shallow_clone(), r.link.clone(), hooks)
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
            if let Some(link) = link {
                super::broker::resubscribe_workers(&link);
                link.send(Frame::Ready);
            }
        }
        LinkEvent::Answer { seq, value } => php_workers::answer_count(seq, value),
        LinkEvent::StatsAnswer { seq, pairs } => php_workers::answer_stats(seq, pairs),
        LinkEvent::BrokerMessage { origin, topic, payload } => {
            super::broker::deliver_workers(origin, &topic, &payload);
            if let Some(link) = worker_link() {
                link.broker_taken(topic.len() + payload.len());
            }
        }
        LinkEvent::Shutdown { server_stop } => {
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

fn worker_zval(id: u32) -> Zval {
    let mut z = Zval::new();
    z.set_long(i64::from(id));
    z
}

fn on_request(req: Box<IncomingRequest>) {
    let Some((handler, services, max_vars, retire)) = with_running(|r| {
        r.requests += 1;
        let retire = (r.retire_at > 0 && r.requests == r.retire_at).then(|| r.link.clone()).flatten();
        (r.handler.shallow_clone(), Rc::clone(&r.services), r.max_input_vars, retire)
    }) else {
        return; // dropping the reply answers 500
    };
    if let Some(link) = retire {
        link.send(Frame::Retire);
    }
    let IncomingRequest { head, body, reply } = *req;
    let stream_context = StreamContext {
        last_event_id: head.headers.get("last-event-id").cloned(),
        accept_encoding: head.headers.get(http::header::ACCEPT_ENCODING).cloned(),
    };
    let core = Rc::new(RefCell::new(ResponseCore::bound(
        reply,
        services,
        head.method.clone(),
        head.uri.clone(),
        stream_context,
    )));
    let request = ZendClassObject::new(Request::from_incoming(head, body, max_vars));
    let response = ZendClassObject::new(Response::from_core(Rc::clone(&core)));
    let (Ok(req_zv), Ok(res_zv)) = (request.into_zval(false), response.into_zval(false)) else {
        crate::error!("cannot create the request objects");
        return;
    };
    runtime::spawn(handler, vec![req_zv, res_zv], TaskKind::Request(core));
}

/// Clients of event streams are told to reconnect after this long when the server stops.
const SSE_RETRY_ON_STOP_MS: u64 = 2000;

fn begin_stop() {
    if with_running(|r| r.phase) == Some(Phase::Running) {
        super::sse::close_all(SSE_RETRY_ON_STOP_MS);
    }
    let timeout = with_running(|r| {
        if r.phase != Phase::Running {
            return None;
        }
        r.phase = Phase::Draining;
        if let Some(h) = &r.handle {
            h.begin_shutdown();
        }
        if let Some(l) = &r.link {
            l.begin_drain();
        }
        Some(r.shutdown_timeout)
    })
    .flatten();
    if let Some(t) = timeout {
        let timer = runtime::arm_drain_deadline(t);
        with_running(|r| r.drain_timer = Some(timer));
    }
}

/// The drain took longer than `shutdown_timeout`.
pub fn drain_deadline() {
    let in_flight = with_running(|r| {
        r.drain_timer = None;
        (r.phase == Phase::Draining).then(|| match (&r.handle, &r.link) {
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
pub fn stopped() -> bool {
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
pub fn abort_after_fatal() {
    let running = RUNNING.get().borrow_mut().take();
    let Some(mut running) = running else { return };
    if let Some(handle) = running.handle.take() {
        handle.begin_shutdown();
        let until = Instant::now() + Duration::from_secs(1);
        while handle.stats().in_flight > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(handle);
    }
    std::mem::forget(running);
}

fn option_value(v: &Zval, name: &str) -> PhpResult<OptionValue> {
    if let Some(b) = v.bool() {
        Ok(OptionValue::Bool(b))
    } else if let Some(n) = v.long() {
        Ok(OptionValue::Int(n))
    } else if let Some(f) = v.double() {
        Ok(OptionValue::Float(f))
    } else if let Some(s) = v.zend_str() {
        let s = std::str::from_utf8(s.as_bytes()).map_err(|_| {
            value_err(format!("Via\\Server::__construct(): option \"{name}\" must be valid UTF-8"))
        })?;
        Ok(OptionValue::Str(s.to_owned()))
    } else {
        Err(value_err(format!(
            "Via\\Server::__construct(): option \"{name}\" must be an int, float, bool or string, {} given",
            type_name(v)
        )))
    }
}

fn ini_log_level() -> crate::config::LogLevel {
    let values = ext_php_rs::zend::ExecutorGlobals::get().ini_values();
    values
        .get("via.log_level")
        .and_then(|v| v.as_deref())
        .and_then(crate::config::LogLevel::parse)
        .unwrap_or(crate::config::LogLevel::Info)
}

/// `Via\Server::start()`'s errors, all with the method's name in front.
fn start_err(message: impl std::fmt::Display) -> ext_php_rs::exception::PhpException {
    via_err(format!("Via\\Server::start(): {message}"))
}

/// Stores a hook with `store` and returns `$this`: the body of every `on*()` setter.
fn add_hook<'a>(
    server: &'a mut ZendClassObject<Server>,
    hook: Callable,
    store: impl FnOnce(&mut Hooks, Zval),
) -> PhpResult<&'a mut ZendClassObject<Server>> {
    store(&mut server.hooks.borrow_mut(), hook.to_zval());
    Ok(server)
}

#[derive(Default)]
struct Hooks {
    request: Option<Zval>,
    start: Vec<Zval>,
    shutdown: Vec<Zval>,
    worker_start: Vec<Zval>,
    worker_stop: Vec<Zval>,
}

impl Hooks {
    fn clone_all(list: &[Zval]) -> Vec<Zval> {
        list.iter().map(Zval::shallow_clone).collect()
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

/// An HTTP/1.1 + HTTP/2 (h2c) server whose request handler runs in pooled fibers.
#[php_class]
#[php(name = "Via\\Server")]
#[php(flags = ClassFlags::Final)]
pub struct Server {
    id: u64,
    config: ServerConfig,
    hooks: RefCell<Hooks>,
    port: std::cell::Cell<u16>,
}

impl Server {
    fn running_here(&self) -> bool {
        with_running(|r| r.server_id == self.id).unwrap_or(false)
    }
}

#[php_impl]
impl Server {
    /// Configures a server; nothing listens before start(). Options (all optional):
    /// max_header_size, max_headers, max_body_size, header_timeout, body_timeout,
    /// keepalive_timeout, request_timeout (0 = none), max_connections,
    /// max_concurrent_streams, max_file_uploads, max_input_vars, h2c, backlog,
    /// shutdown_timeout, io_threads, log_level, upload_dir. Times are seconds, each from a
    /// minimum (0.1 for the client timeouts) up to 31536000 (365 days); see
    /// docs/configuration.md for every option's range.
    ///
    /// @throws \ValueError for an invalid port, an unknown option or a bad value
    #[php(defaults(host = "\"127.0.0.1\"", port = 3000))]
    pub fn __construct(host: Str, port: Int, options: Option<Array>) -> PhpResult<Self> {
        let (host, port) = (host.into_string(), *port);
        let mut config = ServerConfig { log_level: ini_log_level(), ..ServerConfig::default() };
        if host.is_empty() {
            return Err(value_err("Via\\Server::__construct(): Argument #1 ($host) must not be empty"));
        }
        if host.contains('\0') {
            return Err(value_err(
                "Via\\Server::__construct(): Argument #1 ($host) must not contain any null bytes",
            ));
        }
        config.host = host;
        config.port = u16::try_from(port).map_err(|_| {
            value_err(format!(
                "Via\\Server::__construct(): Argument #2 ($port) must be between 0 and 65535, {port} given"
            ))
        })?;
        if let Some(options) = options {
            for (key, value) in options.iter() {
                let name = key.to_string();
                let v = option_value(value, &name)?;
                config
                    .set_option(&name, &v)
                    .map_err(|e| value_err(format!("Via\\Server::__construct(): {e}")))?;
            }
        }
        Ok(Self {
            id: NEXT_SERVER_ID.fetch_add(1, Ordering::Relaxed),
            config,
            hooks: RefCell::default(),
            port: std::cell::Cell::new(0),
        })
    }

    /// Sets the request handler: function (Via\Request $request, Via\Response $response).
    /// It runs in its own task for every request.
    pub fn on_request<'a>(
        self_: &'a mut ZendClassObject<Server>,
        handler: Callable,
    ) -> PhpResult<&'a mut ZendClassObject<Server>> {
        add_hook(self_, handler, |hooks, h| hooks.request = Some(h))
    }

    /// Adds a hook run in a task once the server listens: function (Via\Server $server).
    pub fn on_start<'a>(
        self_: &'a mut ZendClassObject<Server>,
        hook: Callable,
    ) -> PhpResult<&'a mut ZendClassObject<Server>> {
        add_hook(self_, hook, |hooks, h| hooks.start.push(h))
    }

    /// Adds a hook run in a task after in-flight requests drained on stop:
    /// function (Via\Server $server).
    pub fn on_shutdown<'a>(
        self_: &'a mut ZendClassObject<Server>,
        hook: Callable,
    ) -> PhpResult<&'a mut ZendClassObject<Server>> {
        add_hook(self_, hook, |hooks, h| hooks.shutdown.push(h))
    }

    /// Adds a hook run in a task in every worker process once it takes requests (in the
    /// one process when workers = 1): function (Via\Server $server, int $workerId). Connect
    /// brokers and start timers here.
    pub fn on_worker_start<'a>(
        self_: &'a mut ZendClassObject<Server>,
        hook: Callable,
    ) -> PhpResult<&'a mut ZendClassObject<Server>> {
        add_hook(self_, hook, |hooks, h| hooks.worker_start.push(h))
    }

    /// Adds a hook run in a task in every worker process when it stops (the server stops,
    /// or the worker is replaced), after its in-flight requests finished:
    /// function (Via\Server $server, int $workerId).
    pub fn on_worker_stop<'a>(
        self_: &'a mut ZendClassObject<Server>,
        hook: Callable,
    ) -> PhpResult<&'a mut ZendClassObject<Server>> {
        add_hook(self_, hook, |hooks, h| hooks.worker_stop.push(h))
    }

    /// Listens and serves until stop(), SIGTERM or SIGINT; then drains in-flight requests
    /// (up to shutdown_timeout), runs the stop hooks and returns. With workers > 1 this
    /// process becomes the master: it forks the workers, routes every request to one of
    /// them and returns once they all stopped; the workers run the handlers and exit when
    /// they are done (code after start() runs in the master only). SIGUSR1 replaces the
    /// workers one at a time.
    ///
    /// @throws \Via\Exception when the address cannot be used, no handler is set, a server
    ///         or loop is already running, workers cannot be forked, or the workers crashed
    ///         in a loop
    pub fn start(self_: &mut ZendClassObject<Server>) -> PhpResult<()> {
        if runtime::loop_running() || runtime::current_task() != runtime::MAIN {
            return Err(start_err("cannot start inside a task or a running loop"));
        }
        if RUNNING.get().borrow().is_some() {
            return Err(start_err("a server is already running in this process"));
        }
        if self_.hooks.borrow().request.is_none() {
            return Err(start_err("no request handler; call onRequest() first"));
        }
        let config = self_.config.clone();
        crate::log::set_level(config.log_level);
        if config.workers.count > 1 {
            return start_master(self_, config);
        }
        let (tx, rx) = crate::inbox::inbox();
        let dispatcher = Arc::new(PhpDispatcher { tx: tx.clone() });
        let handle = ServerHandle::start(config.clone(), dispatcher.clone()).map_err(start_err)?;
        let addr = handle.local_addr();
        let rt = handle.runtime();
        tx.start_kicker(&rt);
        let services = Rc::new(Services {
            events: dispatcher,
            stats: handle.stats_handle(),
            topics: TopicsRef::Local(handle.topics()),
            sse: config.sse.clone(),
            compression: config.compression.clone(),
        });
        self_.port.set(addr.port());
        let signals = install_signals(&rt, &[libc::SIGTERM, libc::SIGINT], move |sig| {
            let _ = tx.send(Event::Signal(sig));
        });
        let identity = Identity { id: 0, count: 1, master_pid: std::process::id() };
        install_running(self_, &config, Some(handle), None, identity, services, signals);
        runtime::set_events(Some(rx));
        runtime::set_outbox(Some(crate::http::Outbox::start(&rt)));
        crate::info!("listening on http://{addr} (pid {})", std::process::id());
        let (server, hooks) = with_running(|r| {
            let mut hooks: Vec<(Zval, &'static str)> =
                r.on_worker_start.iter().map(|h| (h.shallow_clone(), "onWorkerStart")).collect();
            hooks.extend(r.on_start.iter().map(|h| (h.shallow_clone(), "onStart")));
            (r.server.shallow_clone(), hooks)
        })
        .unwrap_or_else(|| (Zval::new(), vec![]));
        for (hook, name) in hooks {
            let mut args = vec![server.shallow_clone()];
            if name == "onWorkerStart" {
                args.push(worker_zval(0));
            }
            runtime::spawn(hook, args, TaskKind::Hook(name));
        }
        drop(server);

        let _ = runtime::run_loop(Until::ServerStopped);

        finish_running();
        self_.port.set(0);
        Ok(())
    }

    /// Begins a graceful stop (as SIGTERM does). Returns false when this server is not
    /// running.
    pub fn stop(&self) -> bool {
        if !self.running_here() {
            return false;
        }
        if let Some(identity) = php_workers::identity() {
            // A worker: the whole server stops, as SIGTERM to the master does.
            // SAFETY: signals our own master process.
            return unsafe { libc::kill(identity.master_pid as libc::pid_t, libc::SIGTERM) } == 0;
        }
        begin_stop();
        true
    }

    /// This process's worker number: 0 to workerCount() - 1 (0 with one process).
    pub fn worker_id(&self) -> i64 {
        php_workers::identity().map_or(0, |i| i64::from(i.id))
    }

    /// How many worker processes the server runs (the workers option).
    pub fn worker_count(&self) -> i64 {
        i64::from(self.config.workers.count)
    }

    /// The pid of the process that started the server (the master; with one process,
    /// this process).
    pub fn master_pid(&self) -> i64 {
        php_workers::identity().map_or_else(|| i64::from(std::process::id()), |i| i64::from(i.master_pid))
    }

    /// Whether this server is running (including while it drains).
    pub fn is_running(&self) -> bool {
        self.running_here()
    }

    /// The port it listens on (useful with port 0); 0 when not running.
    pub fn port(&self) -> i64 {
        i64::from(self.port.get())
    }

    /// The host it was configured with.
    pub fn host(&self) -> &str {
        &self.config.host
    }

    /// Sends an event to every stream that joined $topic (Via\SSE::join()). The fan-out
    /// runs on the I/O threads; returns how many streams the topic had.
    ///
    /// @throws \Via\Exception when the server is not running
    /// @throws \ValueError when $event or $id contains a line break
    pub fn publish(
        &self,
        topic: Str,
        data: ByteStr,
        event: Option<ByteStr>,
        id: Option<ByteStr>,
    ) -> PhpResult<i64> {
        let topic = topic.into_string();
        let Some(services) =
            with_running(|r| (r.server_id == self.id).then(|| Rc::clone(&r.services))).flatten()
        else {
            return Err(via_err("Via\\Server::publish(): the server is not running"));
        };
        let event = event.map(|e| e.to_vec());
        let id = id.map(|i| i.to_vec());
        let frame = crate::http::sse::format_event(&data, event.as_deref(), id.as_deref(), None)
            .map_err(|e| value_err(format!("Via\\Server::publish(): {e}")))?;
        match &services.topics {
            TopicsRef::Local(t) => Ok(t.publish(&topic, frame) as i64),
            TopicsRef::Remote(link) => {
                let topic = bytes::Bytes::from(topic);
                let n = php_workers::ask(link, "Via\\Server::publish()", |seq| Frame::Publish {
                    seq,
                    topic,
                    frame,
                })?;
                Ok(n.long().unwrap_or(0))
            }
        }
    }

    /// How many streams joined $topic, in every worker (0 when the server is not running).
    /// In a worker it asks the master (the calling task waits for the answer).
    ///
    /// @throws \Via\Exception in a worker whose master does not answer
    pub fn subscribers(&self, topic: Str) -> PhpResult<i64> {
        let topic = topic.into_string();
        let Some(topics) =
            with_running(|r| (r.server_id == self.id).then(|| r.services.topics.clone())).flatten()
        else {
            return Ok(0);
        };
        match topics {
            TopicsRef::Local(t) => Ok(t.subscribers(&topic) as i64),
            TopicsRef::Remote(link) => {
                let topic = bytes::Bytes::from(topic);
                let n = php_workers::ask(&link, "Via\\Server::subscribers()", |seq| Frame::Subscribers {
                    seq,
                    topic,
                })?;
                Ok(n.long().unwrap_or(0))
            }
        }
    }

    /// Counters: connections, requests, in-flight, timeouts, SSE, topics — summed over
    /// every worker — and this process's tasks, fibers and timers. In a worker it asks the
    /// master (the calling task waits for the answer).
    ///
    /// @throws \Via\Exception in a worker whose master does not answer
    pub fn stats(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut ht = ZendHashTable::new();
        let (core, link, stats) = with_running(|r| {
            (r.handle.as_ref().map(ServerHandle::stats), r.link.clone(), Arc::clone(&r.services.stats))
        })
        .unwrap_or((None, None, Arc::default()));
        if let Some(link) = link {
            link.send(crate::workers::link::stats_frame(&stats));
            let all = php_workers::ask(&link, "Via\\Server::stats()", |seq| Frame::StatsQuery { seq })?;
            if let Some(arr) = all.array() {
                for (k, v) in arr.iter() {
                    ht.insert(k.to_string().as_str(), v.long().unwrap_or(0))?;
                }
            }
        } else {
            for (k, v) in core.unwrap_or_default().pairs() {
                ht.insert(k, v as i64)?;
            }
        }
        let identity = php_workers::identity();
        ht.insert("workers", identity.map_or(1, |i| i64::from(i.count)))?;
        ht.insert("worker_id", identity.map_or(0, |i| i64::from(i.id)))?;
        let s = runtime::stats();
        ht.insert("tasks", s.tasks as i64)?;
        ht.insert("tasks_started", s.tasks_started as i64)?;
        ht.insert("fibers_pooled", s.fibers_pooled as i64)?;
        ht.insert("fibers_created", s.fibers_created as i64)?;
        ht.insert("timers", s.timers as i64)?;
        ht.insert("ticks_skipped", s.ticks_skipped as i64)?;
        ht.insert("loop_waits", s.loop_waits as i64)?;
        ht.insert("loop_events", s.loop_events as i64)?;
        let up = with_running(|r| r.started.elapsed().as_secs_f64()).unwrap_or(0.0);
        ht.insert("uptime", up)?;
        Ok(ht)
    }
}
