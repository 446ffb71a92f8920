//! The three ways `Via\Server::start()` runs: one process (HTTP core and PHP together), the
//! master of several workers (HTTP core and supervision, no PHP once it serves), and a
//! worker (PHP, requests from the master's link). The first and the last share one path
//! into the running server (`serve_php`).
//!
//! Does not own: the running server's state and events (`serve`), the class (`server`).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use ext_php_rs::exception::PhpResult;
use ext_php_rs::types::Zval;

use super::answers;
use super::errors::via_err;
use super::runtime::{self, TaskKind, Until};
use super::serve::{
    finish_running, install_running, install_signals, worker_zval, Event, Launch, PhpDispatcher, Running,
    ServerHost, RUNNING,
};
use super::services::{Services, TopicsRef};
use super::workers::{self as php_workers, Identity};
use crate::config::ServerConfig;
use crate::http::balance::Balance;
use crate::http::ServerHandle;
use crate::signal::SignalGuard;
use crate::workers::link::{Link, LinkEvent, LinkRuntime, LinkSetup};

/// `Via\Server::start()`'s errors, all with the method's name in front.
pub(super) fn start_err(message: impl std::fmt::Display) -> ext_php_rs::exception::PhpException {
    via_err(format!("Via\\Server::start(): {message}"))
}

/// `start()` with workers > 1: bind, fork the forker, serve HTTP and route to the workers
/// until they all stopped. In a worker process forked here, runs the worker instead.
fn start_master(launch: Launch, mut config: ServerConfig, port: &Cell<u16>) -> PhpResult<()> {
    use crate::workers::forker::{self, Forked};
    use crate::workers::master::{Master, MasterConfig, Outcome, Running as MasterRunning};
    // Workers that take their own connections limit a client's rate together.
    if config.workers.serve_connections() && config.ops.rate_limit > 0.0 {
        let buckets = crate::ops::rate_limit::SharedBuckets::new()
            .map_err(|e| start_err(format!("cannot map the rate limit's buckets: {e}")))?;
        config.ops.shared_buckets = Some(buckets);
    }
    let mut bound = crate::http::server::Bound::bind(config.clone()).map_err(start_err)?;
    let addr = bound.local_addr();
    // Set before the fork: the workers report it too.
    port.set(addr.port());
    let serve_connections = config.workers.serve_connections();
    let balance = if serve_connections {
        let b = Balance::new(config.workers.count)
            .map_err(|e| start_err(format!("cannot map the workers' connection counters: {e}")))?;
        bound = bound.with_balance(b.clone());
        Some(b)
    } else {
        None
    };
    // Workers that serve their own connections keep the public listener (the forker holds
    // it for the workers it forks later); the internal one is the master's alone.
    let close_in_children =
        if serve_connections { bound.internal_fd().into_iter().collect() } else { bound.listener_fds() };
    let (forker, reaper) = match forker::start(&close_in_children) {
        Ok(Forked::Master(f, reaper)) => (f, reaper),
        Ok(Forked::Worker(seed)) if serve_connections => {
            let slot = crate::http::balance::slot_of(seed.index, seed.generation);
            return run_worker(launch, config, seed, Some(bound.in_worker(slot)));
        }
        Ok(Forked::Worker(seed)) => {
            // The forker closed the listener's descriptor already: only forget the rest.
            std::mem::forget(bound);
            return run_worker(launch, config, seed, None);
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
        broker_backlog: config.workers.broker_backlog,
        error_pages: config.ops.error_pages.as_ref().map(|(_, p)| p.clone()).unwrap_or_default(),
        serve_connections,
        balance,
    });
    let remote_master = Arc::downgrade(&master);
    let served = if serve_connections { bound.serve_without_listener(master) } else { bound.serve(master) };
    let handle = match served {
        Ok(h) => h,
        Err(e) => {
            forker.quit(std::time::Duration::from_secs(2));
            return Err(start_err(e));
        }
    };
    let rt = handle.runtime();
    // The master holds this server's connections to shared brokers; the workers use them
    // through their links (bus n = remote n - 1).
    let notify = remote_master.clone();
    super::remotes::start_all(
        rt.clone(),
        Arc::new(move |id, event| {
            if let Some(m) = notify.upgrade() {
                m.remote_event(id + 1, event);
            }
        }),
    );
    if let Some(m) = remote_master.upgrade() {
        m.set_remotes(super::remotes::started());
    }
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
                http_shutdown: trigger,
            },
            done_tx,
        )
        .map_err(start_err)?;
    port.set(addr.port());
    let scheme = scheme(&config);
    let how = if serve_connections { ", each serving its own connections" } else { "" };
    crate::info!(
        "listening on {scheme}://{addr} (master pid {}, {workers} workers{how})",
        std::process::id()
    );
    let started = Instant::now();
    let outcome = done_rx.recv().unwrap_or(Outcome::Failed("the supervisor ended unexpectedly".into()));
    drop(signals);
    super::remotes::stop_all();
    drop(handle);
    port.set(0);
    crate::info!("stopped after {:.1}s", started.elapsed().as_secs_f64());
    match outcome {
        Outcome::Stopped => Ok(()),
        Outcome::Failed(msg) => Err(start_err(msg)),
    }
}

/// A worker process: serve the master's requests (sticky dispatch), or the connections it
/// accepts on `bound` itself (`dispatch = connection`), until the master says stop (or goes
/// away); then exit the way `exit` does.
fn run_worker(
    launch: Launch,
    config: ServerConfig,
    seed: crate::workers::forker::WorkerSeed,
    bound: Option<crate::http::server::Bound>,
) -> PhpResult<()> {
    php_workers::reseed_random();
    // The master's I/O thread hands this worker requests in batches: waking for them must
    // not preempt it (decision 0020). The standby, started later, inherits the policy.
    // A worker that serves its own connections has no such master to yield to.
    if config.workers.sched_batch && bound.is_none() {
        crate::cpu_policy::batch("worker");
    }
    let (tx, rx) = crate::inbox::inbox();
    let dispatcher = Arc::new(PhpDispatcher { tx: tx.clone() });
    let events = tx.clone();
    let on_event: Arc<dyn Fn(LinkEvent) + Send + Sync> = Arc::new(move |ev| {
        let _ = events.send(Event::Link(ev));
    });
    let index = seed.index;
    let fail = |what: String| -> PhpResult<()> {
        crate::error!("worker {index}: {what}");
        php_workers::exit_process();
        Ok(())
    };
    let handle = match bound.map(|b| b.serve_when_opened(dispatcher.clone())).transpose() {
        Ok(h) => h,
        Err(e) => return fail(format!("cannot serve: {e}")),
    };
    let stats =
        handle.as_ref().map_or_else(|| Arc::new(crate::http::Stats::default()), ServerHandle::stats_handle);
    let setup = LinkSetup {
        runtime: match &handle {
            Some(h) => LinkRuntime::Shared { handle: h.runtime(), driver: h.driver() },
            None => LinkRuntime::Own,
        },
        dispatcher: dispatcher.clone(),
        on_event,
        stats: Arc::clone(&stats),
        report: report(Arc::clone(&stats), handle.as_ref()),
        broker_backlog_limit: config.workers.broker_backlog,
        topics: handle.as_ref().map(ServerHandle::topics),
        stream_window: config.sse.queue_size,
    };
    // With sticky dispatch the worker's PHP thread runs its link (decision 0016): a worker
    // is one thread. Serving its own connections, the link runs on its HTTP core.
    let link = match Link::start(seed.link, setup) {
        Ok(l) => Arc::new(l),
        Err(e) => return fail(format!("cannot start its link: {e}")),
    };
    let (rt, driver, watch, topics) = match &handle {
        Some(h) => (h.runtime(), h.driver(), h.watch(), TopicsRef::Spread(h.topics(), Arc::clone(&link))),
        None => (link.runtime(), link.driver(), link.watch(), TopicsRef::Remote(Arc::clone(&link))),
    };
    start_kicker(&tx, &rt, &driver);
    let services = services(dispatcher, stats, topics, &config);
    let identity = Identity { id: seed.index, count: config.workers.count, master_pid: 0 };
    let serving =
        Serving { rt, rx, driver, watch, handle, link: Some(link), identity, services, signals: None };
    // Its hooks run when the master says the worker may start (`serve::on_link_event`),
    // and a worker that serves its own connections begins accepting then.
    serve_php(launch, &config, serving, |_| {});
    php_workers::set_identity(None);
    php_workers::exit_process();
    Ok(())
}

/// What a worker reports to the master every second: its counters, and those of its own
/// HTTP core's requests when it serves connections (the master sums them for `stats()` and
/// the metrics).
fn report(stats: Arc<crate::http::Stats>, core: Option<&ServerHandle>) -> crate::workers::link::Report {
    let metrics = core.and_then(ServerHandle::metrics);
    Arc::new(move || {
        let mut frame = crate::workers::link::stats_frame(&stats);
        if let (Some(m), crate::ipc::ToMaster::Stats { pairs }) = (&metrics, &mut frame) {
            m.put_pairs(pairs);
        }
        frame
    })
}

/// `start()`: one process, or the master of several workers.
pub(super) fn start(launch: Launch, config: ServerConfig, port: &Cell<u16>) -> PhpResult<()> {
    // Before any fork: the workers answer with the same pages.
    crate::ops::error_pages::install(
        config.ops.error_pages.as_ref().map(|(_, p)| p.clone()).unwrap_or_default(),
    );
    if config.workers.count > 1 {
        return start_master(launch, config, port);
    }
    let (tx, rx) = crate::inbox::inbox();
    let dispatcher = Arc::new(PhpDispatcher { tx: tx.clone() });
    let handle = ServerHandle::start(config.clone(), dispatcher.clone()).map_err(start_err)?;
    let addr = handle.local_addr();
    let rt = handle.runtime();
    let (driver, watch) = (handle.driver(), handle.watch());
    start_kicker(&tx, &rt, &driver);
    let services = services(dispatcher, handle.stats_handle(), TopicsRef::Local(handle.topics()), &config);
    port.set(addr.port());
    let signal_tx = tx.clone();
    let signals = install_signals(&rt, &[libc::SIGTERM, libc::SIGINT], move |sig| {
        let _ = signal_tx.send(Event::Signal(sig));
    });
    let remote_tx = tx.clone();
    let backlog = super::remotes::Backlog::new(config.workers.broker_backlog, handle.stats_handle());
    super::remotes::start_all(
        rt.clone(),
        Arc::new(move |id, event| {
            if backlog.reserve(super::remotes::message_size(&event)) {
                let _ = remote_tx.send(Event::Remote(id, event, Arc::clone(&backlog)));
            }
        }),
    );
    let identity = Identity { id: 0, count: 1, master_pid: std::process::id() };
    let serving =
        Serving { rt, rx, driver, watch, handle: Some(handle), link: None, identity, services, signals };
    crate::info!("listening on {}://{addr} (pid {})", scheme(&config), std::process::id());
    serve_php(launch, &config, serving, |r| {
        // One process is worker 0 and the whole server: both kinds of start hooks run.
        let mut hooks: Vec<(Zval, &'static str)> =
            r.on_worker_start.iter().map(|h| (h.shallow_clone(), "onWorkerStart")).collect();
        hooks.extend(r.on_start.iter().map(|h| (h.shallow_clone(), "onStart")));
        for (hook, name) in hooks {
            let mut args = vec![r.server.shallow_clone()];
            if name == "onWorkerStart" {
                args.push(worker_zval(0));
            }
            runtime::spawn(hook, args, TaskKind::Hook(name));
        }
    });
    port.set(0);
    Ok(())
}

/// Defers the inbox's wake-ups of the PHP thread to the end of the I/O thread's tick
/// (`inbox`). A PHP thread that drives the runtime itself (`driver`) needs no kicker: the
/// future it waits on is polled only after the ready tasks, which is the same deferral.
fn start_kicker(
    tx: &crate::inbox::Sender<Event>,
    rt: &tokio::runtime::Handle,
    driver: &Option<crate::http::server::Driver>,
) {
    if driver.is_none() {
        tx.start_kicker(rt);
    }
}

/// What a process that runs PHP serves with: its I/O runtime, the inbox to the PHP thread
/// (its kicker already started, if it needs one), the HTTP core (one process) or the link
/// (a worker), and the rest of its running state.
struct Serving {
    rt: tokio::runtime::Handle,
    rx: crate::inbox::Receiver<Event>,
    /// Set when this thread drives the I/O runtime (`reactor = php`).
    driver: Option<crate::http::server::Driver>,
    /// Where this thread marks its waits for the standby (`http::driven`).
    watch: Option<crate::http::server::Watch>,
    handle: Option<ServerHandle>,
    link: Option<Arc<Link>>,
    identity: Identity,
    services: Rc<Services>,
    signals: Option<SignalGuard>,
}

/// The one path into a running server for a process that runs PHP: install it, hand the
/// events and answers over, run `on_started` (spawns hooks), serve until it stopped, tear
/// it down.
fn serve_php(launch: Launch, config: &ServerConfig, s: Serving, on_started: impl FnOnce(&Running)) {
    let link = s.link.clone();
    let core = s.handle.is_some();
    let stats = Arc::clone(&s.services.stats);
    let drives_io = s.driver.is_some();
    install_running(launch, config, s.handle, s.link, s.identity, s.services, s.signals);
    runtime::set_host(Some(Rc::new(ServerHost::new(s.rx, s.driver, s.watch.clone()))));
    // A sticky worker's answers go into its link's frame queue as they are given
    // (`ReplySink`), and each flush wakes the link's writer, as it would kick an outbox;
    // the writer runs when this thread next waits, or the standby drives the link
    // meanwhile. An outbox there only moved each answer twice more and ran a task to
    // forward it. The answers to requests of this process's own HTTP core go through one.
    let outbox = core.then(|| crate::http::Outbox::start(&s.rt));
    answers::set_outbox(outbox.clone());
    answers::set_link(link.clone());
    let wakes = crate::http::wake_batch::install(s.rt.clone(), Some(stats), drives_io);
    if let Some(watch) = &s.watch {
        // What a handler that runs on leaves pending goes when the standby finds it away.
        watch.set_overdue(Box::new(move || {
            wakes.hand_over();
            if let Some(outbox) = &outbox {
                outbox.kick();
            }
            if let Some(link) = &link {
                link.wake_writer();
            }
        }));
    }
    let running = RUNNING.get().borrow();
    if let Some(r) = running.as_ref() {
        on_started(r);
    }
    drop(running);
    let _ = runtime::run_loop(Until::HostStopped);
    crate::http::wake_batch::uninstall();
    finish_running();
}

/// What the log's "listening on" line says the server speaks.
fn scheme(config: &ServerConfig) -> &'static str {
    if config.tls_cert.is_some() {
        "https"
    } else {
        "http"
    }
}

/// The services a response or stream of this process needs.
fn services(
    events: Arc<PhpDispatcher>,
    stats: Arc<crate::http::Stats>,
    topics: TopicsRef,
    config: &ServerConfig,
) -> Rc<Services> {
    Rc::new(Services {
        events,
        stats,
        topics,
        sse: config.sse.clone(),
        compression: config.compression.clone(),
        write_timeout: config.limits.write_timeout,
        fields: Default::default(),
    })
}
