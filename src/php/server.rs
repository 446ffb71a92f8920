//! `Via\Server`: configuration, hooks, and the PHP methods of a server. Starting it hands
//! over to `roles` (how this process serves) and `serve` (the running server).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};

use ext_php_rs::boxed::ZBox;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ZendClassObject, ZendHashTable, Zval};

use super::args::{Array, ByteStr, Callable, Int, Str};
use super::errors::{type_name, value_err, via_err};
use super::roles::{self, start_err};
use super::runtime::{self};
use super::serve::{begin_stop, with_running, Hooks, Launch, RUNNING};
use super::workers::{self as php_workers};
use crate::config::{OptionValue, ServerConfig};
use crate::http::ServerHandle;
use crate::ipc::ToMaster;

static NEXT_SERVER_ID: AtomicU64 = AtomicU64::new(1);

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

/// The server object as a PHP value (a new reference), for the hooks' first argument.
fn self_zval(server: &mut ZendClassObject<Server>) -> Zval {
    let mut z = Zval::new();
    z.set_object(server.get_mut_zend_obj());
    z
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
    /// Configures a server; nothing listens before start(). Options (all optional; ranges
    /// and defaults in docs/configuration.md):
    /// - limits and timeouts: max_header_size, max_headers, max_body_size, max_body_memory,
    ///   header_timeout, body_timeout, keepalive_timeout, request_timeout (0 = none), write_timeout,
    ///   max_connections, max_concurrent_streams, max_file_uploads, max_input_vars;
    /// - the runtime: h2c, backlog, shutdown_timeout, io_threads, reactor ("auto",
    ///   "threads", "php"), log_level, upload_dir;
    /// - processes: workers, dispatch ("sticky", "connection"), affinity_cookie,
    ///   max_requests, crash_limit, crash_window, broker_backlog, worker_sched_batch;
    /// - TLS: tls_cert, tls_key; compression: compression, brotli_level, gzip_level,
    ///   compression_min_size;
    /// - event streams: sse_heartbeat, sse_queue_size, sse_backpressure,
    ///   sse_backpressure_timeout; static files: static_dir, static_prefix,
    ///   static_cache_control, static_brotli_cache_size;
    /// - operations: health_path, metrics_path, metrics_listen, access_log,
    ///   access_log_format, rate_limit, rate_limit_burst, trusted_proxies, error_pages.
    ///
    /// Times are seconds, each from a minimum (0.1 for the client timeouts) up to 31536000
    /// (365 days).
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
        let launch =
            Launch { server_id: self_.id, server: self_zval(self_), hooks: self_.hooks.borrow().copy() };
        roles::start(launch, config, &self_.port)
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
        let frame = crate::http::sse::format_event(&data, event.as_deref(), id.as_deref(), None)
            .map_err(|e| value_err(format!("Via\\Server::publish(): {e}")))?;
        services.topics.publish("Via\\Server::publish()", topic, frame)
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
        topics.subscribers("Via\\Server::subscribers()", topic)
    }

    /// Counters: connections, requests, in-flight, timeouts, SSE, topics — summed over
    /// every worker — and this process's tasks, fibers and timers. In a worker it asks the
    /// master (the calling task waits for the answer).
    ///
    /// @throws \Via\Exception in a worker whose master does not answer
    pub fn stats(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut ht = ZendHashTable::new();
        let (core, link) =
            with_running(|r| (r.handle.as_ref().map(ServerHandle::stats), php_workers::link()))
                .unwrap_or((None, None));
        if let Some(link) = link {
            link.report();
            let all = php_workers::ask(&link, "Via\\Server::stats()", |seq| ToMaster::StatsQuery { seq })?;
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
