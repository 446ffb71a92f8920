//! The listener and its connections: accept, protocol choice, graceful drain.
//!
//! Owns: the Tokio runtime of a server, the listening socket, the connection limit and
//! the drain sequence (stop accepting → graceful shutdown of every connection → report
//! `drained` once the last connection closed).
//! Does not own: what a request means (`service`) or who answers (`Dispatcher`).
//!
//! Invariants: `ServerHandle::start` binds before it returns, so address errors reach the
//! caller synchronously; dropping the handle stops the runtime. No runtime or thread
//! exists before `start` — safe to fork before it.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulConnection;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, Notify, Semaphore};

use super::conn::{sniff_h2c, Activity, Watched};
pub use super::driven::{Driver, Standby, Watch, STANDBY_TICK};
use super::exchange::Dispatcher;
use super::h1::{self, Next};
use super::race::{first, only_if, First};
use super::service::{self, ConnCtx, ServerShared};
use super::stats::{Stats, StatsSnapshot};
use super::topics::Topics;
use crate::config::{ConfigError, ServerConfig};
use crate::ops::metrics::Protocol;
use crate::shutdown::{Shutdown, Trigger};

/// Why a server could not start.
#[derive(Debug)]
pub enum StartError {
    Config(ConfigError),
    Resolve(String),
    Bind(SocketAddr, io::Error),
    Runtime(io::Error),
    Tls(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(e) => write!(f, "invalid configuration: {e}"),
            Self::Resolve(m) => f.write_str(m),
            Self::Bind(addr, e) => write!(f, "cannot listen on {addr}: {e}"),
            Self::Runtime(e) => write!(f, "cannot start the I/O runtime: {e}"),
            Self::Tls(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for StartError {}

/// Counts live connections and wakes a waiter when there are none.
#[derive(Default)]
struct Tracker {
    live: AtomicUsize,
    zero: Notify,
}

impl Tracker {
    fn enter(self: &Arc<Self>) -> TrackerGuard {
        self.live.fetch_add(1, Ordering::AcqRel);
        TrackerGuard(Arc::clone(self))
    }

    async fn wait_zero(&self) {
        loop {
            let notified = self.zero.notified();
            if self.live.load(Ordering::Acquire) == 0 {
                return;
            }
            notified.await;
        }
    }
}

struct TrackerGuard(Arc<Tracker>);

impl Drop for TrackerGuard {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.zero.notify_waiters();
        }
    }
}

/// The I/O runtime: Tokio's work-stealing scheduler for several threads, or a
/// current-thread runtime on one dedicated thread — leaner when there is one I/O thread
/// (no stealing, no idle-worker bookkeeping; measured in bench/RESULTS.md) — or a
/// current-thread runtime with no thread, driven by whoever calls `Driver::block_on`
/// (`reactor = php`: the PHP thread while its loop waits). Either way a standby thread
/// (`driven`) watches the thread that serves PHP: while it stays away, the standby hands
/// over what it left pending and, on a driven runtime, drives it.
pub struct IoRuntime {
    kind: Kind,
    watch: Watch,
    standby: Standby,
}

enum Kind {
    Multi(tokio::runtime::Runtime),
    Single {
        handle: tokio::runtime::Handle,
        stop: Option<oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
    Driven(Driver),
}

impl IoRuntime {
    /// `threads` I/O threads of its own, or none: driven by its owner; and the standby,
    /// which counts its takeovers in `stats`.
    pub fn start(threads: usize, stats: Arc<Stats>) -> io::Result<Self> {
        let watch = Watch::default();
        let kind = Self::kind(threads, &watch)?;
        let drive = match &kind {
            Kind::Driven(d) => Some(d.runtime()),
            _ => None,
        };
        let standby = watch.start_standby(STANDBY_TICK, stats, drive)?;
        Ok(Self { kind, watch, standby })
    }

    fn kind(threads: usize, watch: &Watch) -> io::Result<Kind> {
        // Whoever drives the I/O may write events to the sockets of waiting streams itself
        // (`stream::drives_io_here`): the owner (this thread) of a driven runtime, else the
        // I/O threads.
        if threads == 0 {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            super::stream::drives_io_here();
            return Ok(Kind::Driven(Driver::new(rt, watch.clone())));
        }
        if threads > 1 {
            return tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads)
                .thread_name("via-io")
                .on_thread_start(super::stream::drives_io_here)
                .enable_all()
                .build()
                .map(Kind::Multi);
        }
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let handle = rt.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("via-io".into()).spawn(move || {
            super::stream::drives_io_here();
            rt.block_on(async {
                let _ = stopped.await;
            });
            rt.shutdown_timeout(Duration::from_millis(200));
        })?;
        Ok(Kind::Single { handle, stop: Some(stop), thread: Some(thread) })
    }

    pub fn handle(&self) -> tokio::runtime::Handle {
        match &self.kind {
            Kind::Multi(rt) => rt.handle().clone(),
            Kind::Single { handle, .. } => handle.clone(),
            Kind::Driven(driver) => driver.handle().clone(),
        }
    }

    /// The driver, when the owner's thread drives the runtime.
    pub fn driver(&self) -> Option<Driver> {
        match &self.kind {
            Kind::Driven(driver) => Some(driver.clone()),
            _ => None,
        }
    }

    /// The owner's side of the standby: where the PHP thread marks its waits and says what
    /// to hand over when it stays away.
    pub fn watch(&self) -> Watch {
        self.watch.clone()
    }

    /// Runs `f` to completion from outside the runtime: on a driven runtime this thread
    /// drives it meanwhile (a `Handle::block_on` would not run its I/O or timers).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        match &self.kind {
            Kind::Driven(driver) => driver.block_on(f),
            _ => self.handle().block_on(f),
        }
    }

    pub fn stop(self) {
        self.watch.stop_standby(self.standby);
        match self.kind {
            Kind::Multi(rt) => rt.shutdown_timeout(Duration::from_millis(200)),
            Kind::Single { mut stop, mut thread, .. } => {
                if let Some(s) = stop.take() {
                    let _ = s.send(());
                }
                if let Some(t) = thread.take() {
                    let _ = t.join();
                }
            }
            // The last owner's drop shuts it down (a driver may still be held elsewhere).
            Kind::Driven(driver) => driver.shutdown(Duration::from_millis(200)),
        }
    }
}

/// A checked configuration and a listening socket, no thread yet: a process may fork
/// between `bind` and `serve` (the multi-worker master does).
pub struct Bound {
    config: ServerConfig,
    tls: Option<tokio_rustls::TlsAcceptor>,
    addr: SocketAddr,
    listener: std::net::TcpListener,
    /// `metrics_listen`: health and metrics alone.
    internal: Option<std::net::TcpListener>,
    /// Counters shared by workers that accept on this listener (`dispatch = connection`).
    balance: Option<super::balance::Balance>,
}

impl Bound {
    pub fn bind(config: ServerConfig) -> Result<Self, StartError> {
        config.validate().map_err(StartError::Config)?;
        let tls = match (&config.tls_cert, &config.tls_key) {
            (Some(cert), Some(key)) => Some(super::tls::acceptor(cert, key).map_err(StartError::Tls)?),
            _ => None,
        };
        let addr = resolve(&config.host, config.port)?;
        let listener = bind(addr, config.backlog).map_err(|e| StartError::Bind(addr, e))?;
        let internal = match &config.ops.metrics_listen {
            Some(spec) => {
                let (host, port) = spec.rsplit_once(':').unwrap_or((spec, "0"));
                let named = |m: String| StartError::Resolve(format!("option \"metrics_listen\": {m}"));
                let at = resolve(host, port.parse().unwrap_or(0)).map_err(|e| named(e.to_string()))?;
                Some(bind(at, 64).map_err(|e| named(format!("cannot listen on {at}: {e}")))?)
            }
            None => None,
        };
        Ok(Self { config, tls, addr, listener, internal, balance: None })
    }

    /// Spreads the connections of the workers that will accept on this listener with
    /// `balance` (set in the master, before it forks).
    pub fn with_balance(mut self, balance: super::balance::Balance) -> Self {
        self.balance = Some(balance);
        self
    }

    /// The listening sockets' descriptors (to close in processes that must not accept).
    pub fn listener_fds(&self) -> Vec<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        std::iter::once(&self.listener).chain(&self.internal).map(AsRawFd::as_raw_fd).collect()
    }

    /// The internal listener's address (`metrics_listen`).
    pub fn internal_addr(&self) -> Option<SocketAddr> {
        self.internal.as_ref().and_then(|l| l.local_addr().ok())
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap_or(self.addr)
    }

    /// Starts the I/O runtime and serves.
    pub fn serve(self, dispatcher: Arc<dyn Dispatcher>) -> Result<ServerHandle, StartError> {
        ServerHandle::serve(self, dispatcher, Accept::Now)
    }

    /// Starts the I/O runtime; accepts once `ServerHandle::open` is called (a worker that
    /// serves its own connections, once its start hooks ran).
    pub fn serve_when_opened(self, dispatcher: Arc<dyn Dispatcher>) -> Result<ServerHandle, StartError> {
        ServerHandle::serve(self, dispatcher, Accept::WhenOpened)
    }

    /// Starts the I/O runtime with one thread and never accepts on the listener, which is
    /// closed in this process: other processes accept on their copies (the master of
    /// workers that serve their own connections). `metrics_listen` is served.
    pub fn serve_without_listener(self, dispatcher: Arc<dyn Dispatcher>) -> Result<ServerHandle, StartError> {
        ServerHandle::serve(self, dispatcher, Accept::Never)
    }

    /// This copy of a bound server in a forked worker, whose forker closed the internal
    /// listener's descriptor (`metrics_listen` is the master's): forgotten, not closed
    /// again (its number may belong to another descriptor by now). The worker counts its
    /// connections in slot `balance_slot` of the balance.
    pub fn in_worker(mut self, balance_slot: usize) -> Self {
        std::mem::forget(self.internal.take());
        self.balance = self.balance.take().map(|b| b.in_worker(balance_slot));
        self
    }

    /// The internal listener's descriptor (`metrics_listen`), if there is one.
    pub fn internal_fd(&self) -> Option<std::os::fd::RawFd> {
        use std::os::fd::AsRawFd;
        self.internal.as_ref().map(AsRawFd::as_raw_fd)
    }
}

/// A running core's request counters (`ServerHandle::metrics`).
pub struct CoreMetrics(Arc<ServerShared>);

impl CoreMetrics {
    /// Appends the counters as pairs (`HttpMetrics::put_pairs`).
    pub fn put_pairs(&self, pairs: &mut Vec<(Bytes, u64)>) {
        if let Some(m) = &self.0.ops.metrics {
            m.put_pairs(pairs);
        }
    }
}

/// When a server accepts on its listener.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accept {
    Now,
    WhenOpened,
    Never,
}

/// A running server. Dropping it stops the runtime (connections are cut).
pub struct ServerHandle {
    runtime: Option<IoRuntime>,
    shared: Arc<ServerShared>,
    topics: Arc<Topics>,
    shutdown: Trigger,
    /// Fired by `open` (`Accept::WhenOpened`).
    gate: Trigger,
    local_addr: SocketAddr,
}

fn resolve(host: &str, port: u16) -> Result<SocketAddr, StartError> {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    (host, port)
        .to_socket_addrs()
        .map_err(|e| StartError::Resolve(format!("cannot resolve host \"{host}\": {e}")))?
        .next()
        .ok_or_else(|| StartError::Resolve(format!("host \"{host}\" has no address")))
}

fn bind(addr: SocketAddr, backlog: u32) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(backlog.min(i32::MAX as u32) as i32)?;
    Ok(socket.into())
}

impl ServerHandle {
    /// Binds, starts the I/O threads and begins accepting.
    pub fn start(config: ServerConfig, dispatcher: Arc<dyn Dispatcher>) -> Result<Self, StartError> {
        Bound::bind(config)?.serve(dispatcher)
    }

    fn serve(bound: Bound, dispatcher: Arc<dyn Dispatcher>, accept: Accept) -> Result<Self, StartError> {
        let Bound { config, tls, addr, listener: std_listener, internal, balance } = bound;
        // With sticky workers the master serves the clients: its I/O keeps threads of its
        // own whatever `reactor` says (a worker's PHP thread always runs its link: 0016).
        // A worker that serves its own connections is driven as one process is.
        let php_serves = config.workers.count <= 1 || config.workers.serve_connections();
        let threads = match config.effective_reactor() {
            _ if accept == Accept::Never => 1,
            crate::config::Reactor::Php if php_serves => 0,
            _ => config.effective_io_threads(),
        };
        let stats = Arc::new(Stats::default());
        let runtime = IoRuntime::start(threads, Arc::clone(&stats)).map_err(StartError::Runtime)?;
        let handle = runtime.handle();
        let local_addr = std_listener.local_addr().map_err(|e| StartError::Bind(addr, e))?;
        // Never accepting, the process closes its copy at once (others accept on theirs).
        let listener = match accept {
            Accept::Never => None,
            _ => {
                let _enter = handle.enter();
                Some(Acceptor::new(std_listener, balance).map_err(|e| StartError::Bind(addr, e))?)
            }
        };
        let internal = match internal {
            Some(l) => {
                let _enter = handle.enter();
                let at = l.local_addr().map_err(|e| StartError::Bind(addr, e))?;
                Some(TcpListener::from_std(l).map_err(|e| StartError::Bind(at, e))?)
            }
            None => None,
        };
        let static_files = config.static_files.clone().map(super::static_files::StaticFiles::new);
        let shutdown = Trigger::new();
        let ops = crate::ops::Ops::new(&config.ops, shutdown.subscribe()).map_err(|e| {
            StartError::Config(crate::config::ConfigError {
                option: "access_log".into(),
                message: format!("cannot be opened: {e}"),
            })
        })?;
        // Pushes to a lent socket write to it on a thread that drives the I/O, and the PHP
        // thread with I/O threads of its own has one of them write (decision 0029).
        let lends_stream_sockets = config.lend_stream_sockets.unwrap_or(true);
        let shared = Arc::new(ServerShared {
            tls,
            static_files,
            config: Arc::new(config),
            dispatcher,
            stats,
            next_request_id: AtomicU64::new(0),
            ops,
            lends_stream_sockets,
        });
        let gate = Trigger::new();
        match listener {
            Some(l) => {
                let opened = (accept == Accept::WhenOpened).then(|| gate.subscribe());
                handle.spawn(accept_loop(l, Arc::clone(&shared), shutdown.subscribe(), opened));
            }
            // No connection of its own to drain.
            None => {
                let (shared, mut stop) = (Arc::clone(&shared), shutdown.subscribe());
                handle.spawn(async move {
                    stop.recv().await;
                    shared.dispatcher.drained();
                });
            }
        }
        if let Some(l) = internal {
            handle.spawn(crate::ops::internal::serve(l, Arc::clone(&shared), shutdown.subscribe()));
        }
        let topics = Topics::new(
            Arc::clone(&shared.stats),
            shared.config.sse.backpressure,
            shared.config.limits.write_timeout,
        );
        Ok(Self { runtime: Some(runtime), shared, topics, shutdown, gate, local_addr })
    }

    /// The core's request counters, when a metrics endpoint exists (a worker reports them to
    /// its master: `dispatch = connection`).
    pub fn metrics(&self) -> Option<CoreMetrics> {
        self.shared.ops.metrics.is_some().then(|| CoreMetrics(Arc::clone(&self.shared)))
    }

    /// Begins accepting (a server started by `Bound::serve_when_opened`).
    pub fn open(&self) {
        self.gate.fire();
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn stats(&self) -> StatsSnapshot {
        self.shared.stats.snapshot()
    }

    /// The live counters, for code that updates them (the PHP side counts SSE sends).
    pub fn stats_handle(&self) -> Arc<Stats> {
        Arc::clone(&self.shared.stats)
    }

    /// The topics of this server's event streams.
    pub fn topics(&self) -> Arc<Topics> {
        Arc::clone(&self.topics)
    }

    pub fn config(&self) -> &ServerConfig {
        &self.shared.config
    }

    /// Handle to spawn work on the server's runtime.
    pub fn runtime(&self) -> tokio::runtime::Handle {
        match &self.runtime {
            Some(rt) => rt.handle(),
            None => unreachable!("the runtime lives until drop"),
        }
    }

    /// Where the PHP thread marks its waits for the standby (`driven::Watch`).
    pub fn watch(&self) -> Option<Watch> {
        self.runtime.as_ref().map(IoRuntime::watch)
    }

    /// The runtime's driver when the caller's thread drives the I/O (`reactor = php`).
    pub fn driver(&self) -> Option<Driver> {
        self.runtime.as_ref().and_then(IoRuntime::driver)
    }

    /// Lets the I/O run until `done` or `max` passed: driven on this thread with
    /// `reactor = php`, else by its own threads while this one sleeps.
    pub fn run_io_until(&self, max: Duration, done: impl Fn() -> bool) {
        let until = std::time::Instant::now() + max;
        match self.driver() {
            Some(d) => d.block_on(async {
                while !done() && std::time::Instant::now() < until {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }),
            None => {
                while !done() && std::time::Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        }
    }

    /// Stops accepting and asks every connection to finish its in-flight requests and
    /// close. The dispatcher's `drained()` runs when the last connection is gone.
    pub fn begin_shutdown(&self) {
        self.shutdown.fire();
    }

    /// What fires `begin_shutdown`, for other threads and tasks to keep.
    pub fn shutdown_trigger(&self) -> Trigger {
        self.shutdown.clone()
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown.fire();
        if let Some(rt) = self.runtime.take() {
            rt.stop();
        }
    }
}

/// Errors from `accept` that concern one connection only, not the listener.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    )
}

/// What a server accepts on: its listener, and with workers that accept on one shared
/// listener, the counters that spread the connections over them (`balance`).
enum Acceptor {
    Plain(TcpListener),
    Balanced(tokio::io::unix::AsyncFd<std::net::TcpListener>, Arc<super::balance::Balance>),
}

impl Acceptor {
    /// Inside the runtime that will accept.
    fn new(l: std::net::TcpListener, balance: Option<super::balance::Balance>) -> io::Result<Self> {
        Ok(match balance {
            None => Self::Plain(TcpListener::from_std(l)?),
            // SAFETY: the AsyncFd owns the listener, whose descriptor stays open and the
            // same until the AsyncFd drops.
            Some(b) => Self::Balanced(unsafe { tokio::io::unix::AsyncFd::register(l)? }, Arc::new(b)),
        })
    }

    /// The next connection, and what keeps it counted while its task holds it.
    async fn accept(&self) -> io::Result<(TcpStream, SocketAddr, Option<Held>)> {
        match self {
            Self::Plain(l) => l.accept().await.map(|(s, a)| (s, a, None)),
            Self::Balanced(l, balance) => loop {
                let mut ready = l.readable().await?;
                // Ahead of another worker: it was woken for this connection too, and takes
                // it meanwhile (then `accept` finds none and waits for the next one).
                if balance.ahead() {
                    tokio::time::sleep(super::balance::DEFER).await;
                }
                match ready.try_io(|l| l.get_ref().accept()) {
                    Ok(Ok((s, a))) => {
                        s.set_nonblocking(true)?;
                        let s = TcpStream::from_std(s)?;
                        // Counted from here until `Held` drops, with the connection's slot.
                        balance.opened();
                        return Ok((s, a, Some(Held(Arc::clone(balance)))));
                    }
                    Ok(Err(e)) => return Err(e),
                    Err(_would_block) => continue,
                }
            },
        }
    }
}

/// A connection counted in its worker's balance slot until it drops.
struct Held(Arc<super::balance::Balance>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0.closed();
    }
}

async fn accept_loop(
    listener: Acceptor,
    shared: Arc<ServerShared>,
    mut shutdown: Shutdown,
    opened: Option<Shutdown>,
) {
    if let Some(mut opened) = opened {
        tokio::select! {
            biased;
            () = shutdown.recv() => {
                drop(listener);
                shared.dispatcher.drained();
                return;
            }
            () = opened.recv() => {}
        }
    }
    let max_connections = shared.config.limits.max_connections;
    let limit = Arc::new(Semaphore::new(max_connections));
    // Handlers whose clients left, each holding a place here instead of its connection's:
    // as many again as connections (`ConnectionSlot::leave`).
    let left = Arc::new(Semaphore::new(max_connections));
    let tracker = Arc::new(Tracker::default());
    let stats = Arc::clone(&shared.stats);
    let mut backoff = Duration::from_millis(1);
    loop {
        tokio::select! {
            biased;
            () = shutdown.recv() => break,
            res = listener.accept() => match res {
                Ok((stream, remote, held)) => {
                    backoff = Duration::from_millis(1);
                    stats.connections_accepted.fetch_add(1, Ordering::Relaxed);
                    // Workers that accept their own connections count them together: the
                    // limit is the server's, not each worker's.
                    let over_all = held.as_ref().is_some_and(|h| h.0.over(max_connections));
                    let permit = if over_all { None } else { Arc::clone(&limit).try_acquire_owned().ok() };
                    match permit {
                        Some(permit) => {
                            let live = tracker.enter();
                            let slot = ConnectionSlot::new(&shared, permit, live, held, &left);
                            let shared = Arc::clone(&shared);
                            let rx = shutdown.clone();
                            tokio::spawn(async move {
                                serve_connection(stream, remote, &shared, rx, slot).await;
                            });
                        }
                        None => {
                            drop(held);
                            stats.connections_rejected.fetch_add(1, Ordering::Relaxed);
                            tokio::spawn(reject(stream, shared.ops.pages.answer(http::StatusCode::SERVICE_UNAVAILABLE)));
                        }
                    }
                }
                Err(e) if is_connection_error(&e) => {}
                Err(e) => {
                    // EMFILE/ENFILE/ENOBUFS: back off instead of spinning (mini-redis).
                    crate::warn!("accept failed: {e}; retrying in {backoff:?}");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
            }
        }
    }
    drop(listener);
    crate::debug!("listener closed; waiting for connections to finish");
    tracker.wait_zero().await;
    shared.dispatcher.drained();
}

/// What a refused connection may still send (read and discarded) before it is closed.
const REJECT_READ_LIMIT: usize = 64 * 1024;

/// Over the connection limit: a clear 503 (the error page, if there is one), then close.
async fn reject(mut stream: TcpStream, (mut headers, body): (super::HeaderList, Bytes)) {
    headers.insert(http::header::RETRY_AFTER, http::HeaderValue::from_static("1"));
    let mut head = Vec::with_capacity(256);
    let status = http::StatusCode::SERVICE_UNAVAILABLE;
    super::answer::encode_head(
        &mut head,
        status,
        None,
        &headers,
        super::answer::Delimit::Length(body.len() as u64),
        true,
    );
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        stream.write_all(&head).await?;
        stream.write_all(&body).await?;
        stream.shutdown().await?;
        // Read what the client sent so that closing does not reset the connection
        // before it saw the answer — a bounded amount: this is work for a client we
        // refused, and one that keeps sending must not keep a thread busy for a second.
        let mut sink = [0u8; 4096];
        let mut left = REJECT_READ_LIMIT;
        while left > 0 {
            let n = stream.read(&mut sink).await?;
            if n == 0 {
                break;
            }
            left = left.saturating_sub(n);
        }
        io::Result::Ok(())
    })
    .await;
}

/// Runs one hyper connection (HTTP/1 or HTTP/2) to its end; once shutdown is signalled
/// the connection finishes what is in flight and closes. Connections are boxed where they
/// are built: a task is as big as its largest state, and an h1 stream should not carry the
/// room an h2 or TLS connection would need.
async fn drive<C>(mut conn: Pin<Box<C>>, shutdown: Shutdown, remote: SocketAddr)
where
    C: GracefulConnection<Error = hyper::Error>,
{
    // Polled at every wake of the connection (an h2 connection wakes per frame).
    let mut stopped = shutdown.stopped();
    let mut draining = false;
    loop {
        match first(pin!(only_if(!draining, Pin::new(&mut stopped))), conn.as_mut()).await {
            First::Left(()) => {
                draining = true;
                conn.as_mut().graceful_shutdown();
            }
            First::Right(res) => {
                if let Err(e) = res {
                    crate::debug!("connection {remote}: {e}");
                }
                return;
            }
        }
    }
}

/// What an accepted connection holds while it is open, wherever it is served (an event
/// stream's writer task takes it over): its place under `max_connections`, its count in
/// its worker's balance slot (connection dispatch), the drain's count of live connections,
/// and `connections_active`.
pub(super) struct ConnectionSlot {
    shared: Arc<ServerShared>,
    _permit: tokio::sync::OwnedSemaphorePermit,
    _balance: Option<Held>,
    live: Option<TrackerGuard>,
    left: Arc<Semaphore>,
}

impl ConnectionSlot {
    fn new(
        shared: &Arc<ServerShared>,
        permit: tokio::sync::OwnedSemaphorePermit,
        live: TrackerGuard,
        balance: Option<Held>,
        left: &Arc<Semaphore>,
    ) -> Self {
        shared.stats.connections_active.fetch_add(1, Ordering::Relaxed);
        Self {
            shared: Arc::clone(shared),
            _permit: permit,
            _balance: balance,
            live: Some(live),
            left: Arc::clone(left),
        }
    }

    /// The client left while its request's handler runs: what the handler holds from here
    /// until it answers, for the connection (and its place under `max_connections`) to go
    /// at once — the drain's count, so a graceful stop still waits for the handler, and a
    /// place of its own among as many as `max_connections`. `None` when those are taken:
    /// the connection then keeps its place until the handler answers, and handlers stay
    /// bounded however many clients send a request and leave.
    pub(super) fn leave(&mut self) -> Option<Box<dyn Send>> {
        let permit = Arc::clone(&self.left).try_acquire_owned().ok()?;
        let live = self.live.take()?;
        Some(Box::new((permit, live)))
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.shared.stats.connections_active.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    remote: SocketAddr,
    shared: &Arc<ServerShared>,
    shutdown: Shutdown,
    mut slot: ConnectionSlot,
) {
    let _ = stream.set_nodelay(true);
    let Ok(local) = stream.local_addr() else { return };
    let limits = &shared.config.limits;
    let slow = |e: &io::Error| {
        if e.kind() == io::ErrorKind::TimedOut {
            shared.stats.header_timeouts.fetch_add(1, Ordering::Relaxed);
        }
    };
    if let Some(acceptor) = &shared.tls {
        // Boxed, in a function of its own: a TLS stream and its handshake are large, and a
        // task is as big as the largest state of its future, whichever branch runs.
        Box::pin(serve_tls(acceptor.clone(), stream, remote, local, shared, shutdown)).await;
        return;
    }
    let (prefix, h2) = if shared.config.h2c {
        match sniff_h2c(&mut stream, limits.header_timeout).await {
            Ok(v) => v,
            Err(e) => {
                slow(&e);
                return;
            }
        }
    } else {
        (Bytes::new(), false)
    };
    let protocol = if h2 { Protocol::H2c } else { Protocol::Http1 };
    let _open = shared.ops.metrics.as_ref().map(|m| m.connection(protocol));
    if h2 {
        Box::pin(serve_http(stream, prefix, true, remote, local, shared, shutdown)).await;
        return;
    }
    // HTTP/1.1: served by `h1` until a request it leaves to hyper, or (with `hyper_http1`)
    // by hyper from the start, except for an event stream alone on its connection.
    let requests = !shared.config.hyper_http1;
    let next =
        Box::pin(h1::serve(stream, prefix, (remote, local), shared, shutdown.clone(), requests, &mut slot))
            .await;
    match next {
        Next::Closed => {}
        Next::EventStream(stream, req) => {
            // The stream's writer takes the connection's slot and count along: this task
            // ends when the stream starts.
            let held = (slot, _open);
            Box::pin(super::stream_conn::serve(stream, req, remote, local, Arc::clone(shared), held)).await;
        }
        // Boxed like the branches above: an idle event stream's task should not carry room
        // for hyper's connection state.
        Next::Hyper(stream, replay) => {
            Box::pin(serve_http(stream, replay, false, remote, local, shared, shutdown)).await;
        }
    }
}

async fn serve_tls(
    acceptor: tokio_rustls::TlsAcceptor,
    stream: TcpStream,
    remote: SocketAddr,
    local: SocketAddr,
    shared: &Arc<ServerShared>,
    shutdown: Shutdown,
) {
    let handshake = tokio::time::timeout(shared.config.limits.header_timeout, acceptor.accept(stream)).await;
    let tls = match handshake {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            crate::debug!("TLS handshake with {remote} failed: {e}");
            return;
        }
        Err(_) => {
            shared.stats.header_timeouts.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    let h2 = tls.get_ref().1.alpn_protocol() == Some(super::tls::ALPN_H2);
    let protocol = if h2 { Protocol::Https2 } else { Protocol::Https1 };
    let _open = shared.ops.metrics.as_ref().map(|m| m.connection(protocol));
    serve_http(tls, Bytes::new(), h2, remote, local, shared, shutdown).await;
}

/// Serves HTTP/1.1 or HTTP/2 on an established (possibly TLS) connection; `replay` holds
/// what was read from it before (sniffing a plaintext connection).
async fn serve_http<I>(
    io: I,
    replay: Bytes,
    h2: bool,
    remote: SocketAddr,
    local: SocketAddr,
    shared: &Arc<ServerShared>,
    shutdown: Shutdown,
) where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let limits = &shared.config.limits;
    let activity = Activity::new();
    let stats = Arc::clone(&shared.stats);
    let io = TokioIo::new(Watched::new(io, replay, Arc::clone(&activity), stats, h2, limits));
    // A server with TLS speaks nothing else.
    let tls = shared.tls.is_some();
    let ctx = Arc::new(ConnCtx { shared: Arc::clone(shared), activity, remote, local, tls });
    // Boxed: hyper moves the service's future (2.3 KB: it holds the body reader and the
    // wait for the application) into the task it spawns for each HTTP/2 stream, and each
    // move of the task's stage copied all of it (`memcpy` was a fifth of an h2c request's
    // instructions). A connection of HTTP/1.1 over TLS holds a pointer, not the future.
    let svc = service_fn(move |req| Box::pin(service::handle(req, Arc::clone(&ctx))));
    if h2 {
        let mut b = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
        b.timer(TokioTimer::new())
            .max_concurrent_streams(limits.max_concurrent_streams)
            .max_header_list_size(limits.max_header_size as u32);
        drive(Box::pin(b.serve_connection(io, svc)), shutdown, remote).await;
    } else {
        let mut b = hyper::server::conn::http1::Builder::new();
        b.timer(TokioTimer::new())
            .header_read_timeout(None)
            .max_headers(limits.max_headers)
            .max_header_size(limits.max_header_size);
        drive(Box::pin(b.serve_connection(io, svc)), shutdown, remote).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every open connection holds its task's future: an idle event stream is cheap only
    /// while these stay small (bench/RESULTS.md, memory per idle stream).
    #[test]
    fn connection_futures_stay_small() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = l.local_addr().unwrap();
            struct Refuse;
            impl Dispatcher for Refuse {
                fn dispatch(
                    &self,
                    r: Box<crate::http::IncomingRequest>,
                ) -> Result<(), Box<crate::http::IncomingRequest>> {
                    Err(r)
                }
            }

            impl crate::http::StreamEvents for Refuse {
                fn stream_event(&self, _: crate::http::StreamEvent) {}
            }
            let shared = Arc::new(ServerShared {
                tls: None,
                static_files: None,
                config: Arc::new(ServerConfig::default()),
                dispatcher: Arc::new(Refuse),
                stats: Arc::new(Stats::default()),
                next_request_id: AtomicU64::new(0),
                ops: crate::ops::Ops::off(),
                lends_stream_sockets: false,
            });
            let trigger = Trigger::new();
            let permit = Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap();
            let left = Arc::new(Semaphore::new(1));
            let slot =
                ConnectionSlot::new(&shared, permit, Arc::new(Tracker::default()).enter(), None, &left);
            let f = serve_connection(
                TcpStream::connect(addr).await.unwrap(),
                addr,
                &shared,
                trigger.subscribe(),
                slot,
            );
            assert!(
                std::mem::size_of_val(&f) <= 1024,
                "serve_connection: {} bytes",
                std::mem::size_of_val(&f)
            );
            let req = Box::new(super::super::stream_conn::StreamRequest::new(
                http::Method::GET,
                http::Uri::from_static("/"),
                crate::http::fields::Headers::default(),
            ));
            let conn = TcpStream::connect(addr).await.unwrap();
            let f = super::super::stream_conn::serve(conn, req, addr, addr, Arc::clone(&shared), ());
            assert!(
                std::mem::size_of_val(&f) <= 1024,
                "stream_conn::serve: {} bytes",
                std::mem::size_of_val(&f)
            );
        });
    }
}
