//! `Via\Server`: configuration, hooks, and the lifecycle of a running server on the PHP
//! thread — start, serve events, drain on SIGTERM/SIGINT or stop(), shutdown hooks, exit.
//!
//! Owns: the running server (one per process at a time), turning core events into
//! request tasks, the stop sequence.
//! Does not own: the loop itself (`runtime`), HTTP (`crate::http`).
//!
//! Stop sequence: stop accepting and let in-flight requests finish (≤ shutdown_timeout)
//! → run the shutdown hooks → cancel what is left → `start()` returns. A second signal
//! skips the waiting.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};

use super::errors::{type_name, value_err, via_err, Callable};
use super::global::PhpGlobal;
use super::request::Request;
use super::response::{Response, ResponseCore, Services, StreamContext};
use super::runtime::{self, Event, TaskId, TaskKind, Until};
use crate::config::{OptionValue, ServerConfig};
use crate::http::{Dispatcher, IncomingRequest, ServerHandle, StreamEvent};
use crate::scheduler::TimerId;
use crate::signal::SignalGuard;

static NEXT_SERVER_ID: AtomicU64 = AtomicU64::new(1);

/// Hands core events to the PHP thread.
struct PhpDispatcher {
    tx: Sender<Event>,
}

impl Dispatcher for PhpDispatcher {
    fn dispatch(&self, req: Box<IncomingRequest>) -> Result<(), Box<IncomingRequest>> {
        self.tx.send(Event::Request(req)).map_err(|e| match e.into_inner() {
            Event::Request(r) => r,
            _ => unreachable!("sent a request"),
        })
    }

    fn stream_event(&self, event: StreamEvent) {
        let _ = self.tx.send(Event::Stream(event));
    }

    fn drained(&self) {
        let _ = self.tx.send(Event::Drained);
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
    handle: Option<ServerHandle>,
    handler: Zval,
    server: Zval,
    on_shutdown: Vec<Zval>,
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

fn with_running<R>(f: impl FnOnce(&mut Running) -> R) -> Option<R> {
    RUNNING.get().borrow_mut().as_mut().map(f)
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
                crate::debug!("all connections closed");
                run_shutdown_hooks();
            }
        }
    }
}

fn on_request(req: Box<IncomingRequest>) {
    let Some((handler, services, max_vars)) =
        with_running(|r| (r.handler.shallow_clone(), Rc::clone(&r.services), r.max_input_vars))
    else {
        return; // dropping the reply answers 500
    };
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
        (r.phase == Phase::Draining).then(|| r.handle.as_ref().map_or(0, |h| h.stats().in_flight))
    })
    .flatten();
    if let Some(n) = in_flight {
        crate::warn!("shutdown_timeout reached with {n} request(s) still in flight; closing them");
        run_shutdown_hooks();
    }
}

fn run_shutdown_hooks() {
    let Some((hooks, server, timer)) = with_running(|r| {
        r.phase = Phase::ShuttingDown;
        (
            r.on_shutdown.iter().map(Zval::shallow_clone).collect::<Vec<_>>(),
            r.server.shallow_clone(),
            r.drain_timer.take(),
        )
    }) else {
        return;
    };
    if let Some(t) = timer {
        runtime::cancel_timer(t);
    }
    let ids: Vec<TaskId> = hooks
        .into_iter()
        .map(|h| runtime::spawn(h, vec![server.shallow_clone()], TaskKind::Hook("onShutdown")))
        .collect();
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
    } else if let Some(s) = v.string() {
        Ok(OptionValue::Str(s))
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

#[derive(Default)]
struct Hooks {
    request: Option<Zval>,
    start: Vec<Zval>,
    shutdown: Vec<Zval>,
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
    /// shutdown_timeout, io_threads, log_level, upload_dir. Times are seconds.
    ///
    /// @throws \ValueError for an invalid port, an unknown option or a bad value
    #[php(defaults(host = "\"127.0.0.1\"", port = 3000))]
    pub fn __construct(host: String, port: i64, options: Option<&ZendHashTable>) -> PhpResult<Self> {
        let mut config = ServerConfig { log_level: ini_log_level(), ..ServerConfig::default() };
        if host.is_empty() {
            return Err(value_err("Via\\Server::__construct(): Argument #1 ($host) must not be empty"));
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
        let h = handler.to_zval();
        self_.hooks.borrow_mut().request = Some(h);
        Ok(self_)
    }

    /// Adds a hook run in a task once the server listens: function (Via\Server $server).
    pub fn on_start<'a>(
        self_: &'a mut ZendClassObject<Server>,
        hook: Callable,
    ) -> PhpResult<&'a mut ZendClassObject<Server>> {
        let h = hook.to_zval();
        self_.hooks.borrow_mut().start.push(h);
        Ok(self_)
    }

    /// Adds a hook run in a task after in-flight requests drained on stop:
    /// function (Via\Server $server).
    pub fn on_shutdown<'a>(
        self_: &'a mut ZendClassObject<Server>,
        hook: Callable,
    ) -> PhpResult<&'a mut ZendClassObject<Server>> {
        let h = hook.to_zval();
        self_.hooks.borrow_mut().shutdown.push(h);
        Ok(self_)
    }

    /// Listens and serves until stop(), SIGTERM or SIGINT; then drains in-flight requests
    /// (up to shutdown_timeout), runs the shutdown hooks and returns.
    ///
    /// @throws \Via\Exception when the address cannot be used, no handler is set, or a
    ///         server or loop is already running
    pub fn start(self_: &mut ZendClassObject<Server>) -> PhpResult<()> {
        if runtime::loop_running() || runtime::current_task() != runtime::MAIN {
            return Err(via_err("Via\\Server::start(): cannot start inside a task or a running loop"));
        }
        if RUNNING.get().borrow().is_some() {
            return Err(via_err("Via\\Server::start(): a server is already running in this process"));
        }
        let (handler, start_hooks, shutdown_hooks) = {
            let h = self_.hooks.borrow();
            let Some(handler) = h.request.as_ref().map(Zval::shallow_clone) else {
                return Err(via_err("Via\\Server::start(): no request handler; call onRequest() first"));
            };
            (
                handler,
                h.start.iter().map(Zval::shallow_clone).collect::<Vec<_>>(),
                h.shutdown.iter().map(Zval::shallow_clone).collect(),
            )
        };
        let config = self_.config.clone();
        crate::log::set_level(config.log_level);
        let (tx, rx) = crossbeam_channel::unbounded();
        let dispatcher = Arc::new(PhpDispatcher { tx: tx.clone() });
        let handle = ServerHandle::start(config.clone(), dispatcher.clone())
            .map_err(|e| via_err(format!("Via\\Server::start(): {e}")))?;
        let addr = handle.local_addr();
        let handle_runtime = handle.runtime();
        let services = Rc::new(Services {
            events: dispatcher,
            stats: handle.stats_handle(),
            topics: handle.topics(),
            sse: config.sse.clone(),
            compression: config.compression.clone(),
        });
        self_.port.set(addr.port());
        let signals =
            match crate::signal::install(&handle.runtime(), &[libc::SIGTERM, libc::SIGINT], move |sig| {
                let _ = tx.send(Event::Signal(sig));
            }) {
                Ok(g) => Some(g),
                Err(e) => {
                    crate::warn!("cannot install signal handlers: {e}");
                    None
                }
            };
        let mut server = Zval::new();
        server.set_object(self_.get_mut_zend_obj());
        *RUNNING.get().borrow_mut() = Some(Running {
            server_id: self_.id,
            handle: Some(handle),
            handler,
            server: server.shallow_clone(),
            on_shutdown: shutdown_hooks,
            phase: Phase::Running,
            services,
            signals,
            drain_timer: None,
            hook_tasks: Vec::new(),
            shutdown_timeout: config.shutdown_timeout,
            max_input_vars: config.limits.max_input_vars,
            started: Instant::now(),
        });
        runtime::set_events(Some(rx));
        runtime::set_outbox(Some(crate::http::Outbox::start(&handle_runtime)));
        crate::info!("listening on http://{addr} (pid {})", std::process::id());
        for hook in start_hooks {
            runtime::spawn(hook, vec![server.shallow_clone()], TaskKind::Hook("onStart"));
        }
        drop(server);

        let _ = runtime::run_loop(Until::ServerStopped);

        runtime::set_outbox(None);
        runtime::set_events(None);
        let running = RUNNING.get().borrow_mut().take();
        if let Some(mut running) = running {
            drop(running.signals.take());
            drop(running.handle.take());
            let up = running.started.elapsed();
            drop(running);
            crate::info!("stopped after {:.1}s", up.as_secs_f64());
        }
        runtime::cancel_everything();
        self_.port.set(0);
        Ok(())
    }

    /// Begins a graceful stop (as SIGTERM does). Returns false when this server is not
    /// running.
    pub fn stop(&self) -> bool {
        if !self.running_here() {
            return false;
        }
        begin_stop();
        true
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
        topic: String,
        data: ext_php_rs::binary_slice::BinarySlice<u8>,
        event: Option<ext_php_rs::binary_slice::BinarySlice<u8>>,
        id: Option<ext_php_rs::binary_slice::BinarySlice<u8>>,
    ) -> PhpResult<i64> {
        let Some(services) =
            with_running(|r| (r.server_id == self.id).then(|| Rc::clone(&r.services))).flatten()
        else {
            return Err(via_err("Via\\Server::publish(): the server is not running"));
        };
        let event = event.map(|e| e.to_vec());
        let id = id.map(|i| i.to_vec());
        let frame = crate::http::sse::format_event(&data, event.as_deref(), id.as_deref(), None)
            .map_err(|e| value_err(format!("Via\\Server::publish(): {e}")))?;
        Ok(services.topics.publish(&topic, frame) as i64)
    }

    /// How many streams joined $topic (0 when the server is not running).
    pub fn subscribers(&self, topic: String) -> i64 {
        with_running(|r| (r.server_id == self.id).then(|| r.services.topics.subscribers(&topic) as i64))
            .flatten()
            .unwrap_or(0)
    }

    /// Counters: connections, requests, in-flight, timeouts, tasks, fibers, timers.
    pub fn stats(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut ht = ZendHashTable::new();
        let core = with_running(|r| r.handle.as_ref().map(ServerHandle::stats)).flatten().unwrap_or_default();
        for (k, v) in core.pairs() {
            ht.insert(k, v as i64)?;
        }
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
