//! The supervisor: the one task that starts the worker processes (through the active
//! forker), replaces them when they crash, retire or are reloaded, and stops them.
//!
//! Owns: each worker index's process generations and crash times, the pids the forkers
//! reported, backoff and crash-loop detection, recycling (`max_requests`, SIGUSR1, one
//! index at a time), the drain on stop and the kill at its deadline, the server's outcome,
//! and carrying on when the forker dies (its spare takes over, spawns it never answered are
//! asked again, its workers' exits are reaped here).
//! Does not own: routing (`routing`; a ready process becomes its slot's `current` here,
//! under the slot's lock), a link's state (`conn`), the forker processes (`forkers`).
//!
//! Every input is a `SupEvent`, handled on this task in the order it arrived; timers
//! (backoff, retries, grace periods, the drain deadline) are small tasks that send an
//! event when they fire.

use std::collections::{HashMap, HashSet, VecDeque};
use std::os::fd::OwnedFd;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::StatusCode;
use tokio::sync::mpsc;

use super::conn::{self, Conn};
use super::routing::send_request;
use super::{Master, Outcome, SupEvent};
use crate::shutdown::Trigger;
use crate::workers::forker::ForkerEvent;
use crate::workers::forkers::{Forkers, Loss};
use crate::workers::reaper::Exit;

/// How long to wait before asking again for a spare forker whose fork failed.
const SPARE_RETRY: Duration = Duration::from_secs(5);

/// How long after a worker's exit its link may still deliver what it wrote before exiting.
const EXIT_GRACE: Duration = Duration::from_secs(1);

/// The supervisor's view of one worker index.
#[derive(Default)]
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

pub(super) struct Supervisor {
    master: Arc<Master>,
    forkers: Forkers,
    /// Stops accepting and drains the HTTP core.
    http_shutdown: Trigger,
    rt: tokio::runtime::Handle,
    slots: Vec<SlotState>,
    /// The worker processes the forkers reported, until their exit is.
    pids: HashMap<i32, Spawned>,
    /// Workers whose link closed while they were leaving, until their exit is reported.
    left: HashSet<i32>,
    /// Indices whose first process has not been forked yet (its Init says `first_start`).
    first_start_pending: HashSet<u32>,
    all_ready_logged: bool,
    /// Rolling replacement (SIGUSR1 / recycle): indices still to replace.
    reload_queue: VecDeque<u32>,
    /// The index whose replacement is under way.
    reloading: Option<u32>,
    stopping: bool,
    http_drained: bool,
    /// The drain's deadline passed (or a second stop signal came): what is left was killed.
    deadline_passed: bool,
    outcome: Option<Outcome>,
}

impl Supervisor {
    pub(super) fn new(
        master: Arc<Master>,
        forkers: Forkers,
        http_shutdown: Trigger,
        rt: tokio::runtime::Handle,
    ) -> Self {
        let n = master.cfg.workers;
        Self {
            slots: (0..n).map(|_| SlotState::default()).collect(),
            master,
            forkers,
            http_shutdown,
            rt,
            pids: HashMap::new(),
            left: HashSet::new(),
            first_start_pending: (0..n).collect(),
            all_ready_logged: false,
            reload_queue: VecDeque::new(),
            reloading: None,
            stopping: false,
            http_drained: false,
            deadline_passed: false,
            outcome: None,
        }
    }

    /// Spawns every worker, then handles events until the server stopped; `done` gets the
    /// outcome once the forkers ended too.
    pub(super) async fn run(
        mut self,
        mut rx: mpsc::UnboundedReceiver<SupEvent>,
        done: std::sync::mpsc::Sender<Outcome>,
    ) {
        for index in 0..self.master.cfg.workers {
            self.spawn(index);
        }
        // After the workers: the forker serves its requests in order.
        self.forkers.ask_spare();
        while let Some(ev) = rx.recv().await {
            self.on_event(ev);
            if self.stopping && self.stopped() {
                break;
            }
        }
        // A worker forked after the stop began, still on its way here, gets its link closed
        // with the queue and leaves; the forkers then wait for it with the others.
        drop(rx);
        let Self { forkers, outcome, .. } = self;
        // Forkers wait for their workers; the master for the ones it adopted. Blocking waits.
        let _ = tokio::task::spawn_blocking(move || forkers.quit(Duration::from_secs(6))).await;
        let _ = done.send(outcome.unwrap_or(Outcome::Stopped));
    }

    fn on_event(&mut self, ev: SupEvent) {
        match ev {
            SupEvent::Forker { forker, event } => self.on_forker(forker, event),
            SupEvent::Reaped { pid, exit } => self.on_exit(pid, exit),
            SupEvent::ChildExited => self.reap(),
            SupEvent::AskSpare => {
                if !self.stopping {
                    self.forkers.ask_spare();
                }
            }
            SupEvent::Ready(conn) => self.on_ready(&conn),
            SupEvent::Closed(conn) => self.on_closed(&conn),
            SupEvent::Retire(conn) => self.on_retire(&conn),
            SupEvent::Respawn(index) => self.on_respawn(index),
            SupEvent::Reload => self.on_reload(),
            SupEvent::Stop => self.on_stop(),
            SupEvent::StopNow | SupEvent::DrainDeadline => self.stop_now(),
            SupEvent::HttpDrained => self.http_drained = true,
        }
    }

    fn on_forker(&mut self, forker: u64, event: ForkerEvent) {
        match event {
            ForkerEvent::Spawned { index, generation, pid, link } => {
                self.on_spawned(Spawned { index, generation, forker }, pid, link)
            }
            ForkerEvent::SpawnFailed { index, generation, error } => {
                self.on_spawn_failed(index, generation, &error)
            }
            ForkerEvent::Exited { pid, exit } => self.on_exit(pid, exit),
            ForkerEvent::Spare(spare) => self.forkers.on_spare(forker, spare),
            ForkerEvent::SpareFailed { error } => self.on_spare_failed(forker, &error),
            ForkerEvent::Gone => self.on_forker_gone(forker),
        }
    }

    /// A forker forked a worker: connect its link (it is routed to once it says Ready).
    fn on_spawned(&mut self, w: Spawned, pid: i32, link: OwnedFd) {
        let (index, generation) = (w.index, w.generation);
        self.pids.insert(pid, w);
        self.master.stats().worker_starts.fetch_add(1, Ordering::Relaxed);
        let first = self.first_start_pending.remove(&index) && !self.stopping;
        if let Err(e) = conn::connect(&self.master, &self.rt, index, generation, pid, link, first) {
            crate::error!("worker {index} (pid {pid}): cannot use its link: {e}");
        }
    }

    fn on_spawn_failed(&mut self, index: u32, generation: u64, error: &str) {
        crate::error!("cannot fork worker {index}: {error}");
        let s = self.slot(index);
        if s.starting == Some(generation) {
            s.starting = None;
            s.crashes.push_back(Instant::now());
        }
        if !self.stopping {
            self.schedule_respawn(index);
        }
    }

    /// A worker process ended (reported by its forker, or reaped here).
    fn on_exit(&mut self, pid: i32, exit: Exit) {
        let Some(Spawned { index, generation, .. }) = self.pids.remove(&pid) else { return };
        if let Some(balance) = &self.master.cfg.balance {
            balance.clear(crate::http::balance::slot_of(index, generation));
        }
        let conn = self.master.all_conns().into_iter().find(|c| c.pid == pid);
        // Its link may have closed first: `left` remembers who was leaving.
        let expected =
            self.left.remove(&pid) || self.stopping || conn.as_ref().is_some_and(|c| c.is_leaving());
        if expected {
            crate::debug!("worker {index} (pid {pid}) exited: {exit}");
        } else {
            crate::warn!("worker {index} (pid {pid}) died: {exit}");
        }
        if let Some(c) = conn {
            // Its last answers may still sit unread in the link: the reader reports
            // `Closed` at EOF, after them. Should EOF not come (a child of the worker holds
            // the socket), close it after a grace period.
            self.send_after(EXIT_GRACE, SupEvent::Closed(c));
        } else if self.slot(index).starting == Some(generation) {
            // Died before its link was up: a crash like any other, counted toward the loop.
            self.slot(index).starting = None;
            if !self.stopping {
                self.on_crash(index);
            }
        }
        if exit != Exit::Code(0) && expected {
            crate::debug!("worker {index} ended with {exit} while leaving");
        }
    }

    fn on_spare_failed(&mut self, forker: u64, error: &str) {
        self.forkers.on_spare_failed(forker, error);
        if !self.stopping {
            self.send_after(SPARE_RETRY, SupEvent::AskSpare);
        }
    }

    fn on_forker_gone(&mut self, forker: u64) {
        let was_active = forker == self.forkers.active_id();
        let loss = self.forkers.on_gone(forker, self.stopping);
        if was_active {
            self.adopt_workers_of(forker);
        }
        match loss {
            Loss::Promoted => {
                self.master.stats().forker_restarts.fetch_add(1, Ordering::Relaxed);
                self.ask_unanswered_spawns();
            }
            Loss::Fatal(msg) => {
                // No forker answers any more: a worker it forked is `live` (it has a link)
                // and waited for; one it never forked is not.
                for s in &mut self.slots {
                    s.starting = None;
                }
                if !self.stopping {
                    crate::error!("{msg}; stopping");
                    self.fail(msg);
                }
            }
            Loss::Spare | Loss::Unknown => {}
        }
    }

    /// The active forker died: its workers keep serving (their links are the master's), and
    /// their exits are the master's to reap now.
    fn adopt_workers_of(&mut self, forker: u64) {
        for (&pid, w) in &self.pids {
            if w.forker == forker {
                self.forkers.adopt(pid);
            }
        }
        self.reap();
    }

    /// Spawns the dead forker never answered: asked of its successor (a new generation, so
    /// a late report of the old one cannot be mistaken).
    fn ask_unanswered_spawns(&mut self) {
        for index in 0..self.master.cfg.workers {
            let Some(asked) = self.slot(index).starting else { continue };
            let answered = self.pids.values().any(|w| w.index == index && w.generation == asked);
            if !answered && !self.stopping {
                crate::info!("worker {index}: asking the new forker to fork it");
                self.spawn(index);
            }
        }
    }

    /// A worker said Ready: it becomes its index's routed process (or leaves at once if the
    /// server is stopping), and the reload moves on.
    fn on_ready(&mut self, conn: &Arc<Conn>) {
        let index = conn.index;
        let s = self.slot(index);
        if s.starting == Some(conn.generation) {
            s.starting = None;
        }
        if self.stopping {
            conn.shutdown(true);
            return;
        }
        conn.mark_ready();
        self.make_current(conn);
        crate::debug!("worker {index} (pid {}) ready", conn.pid);
        self.log_all_ready();
        if self.reloading == Some(index) {
            self.reloading = None;
        }
        self.reload_next();
    }

    /// Routes `conn`'s index to it: the process it replaces is told to leave, the requests
    /// held for the index are sent.
    fn make_current(&self, conn: &Arc<Conn>) {
        let slot = &self.master.slots[conn.index as usize];
        {
            // Under the slot's lock (routing's invariant): no request follows the Shutdown.
            let mut current = slot.current.lock();
            if let Some(old) = current.replace(Arc::clone(conn)) {
                if !Arc::ptr_eq(&old, conn) {
                    old.shutdown(false);
                }
            }
        }
        for req in slot.take_waiting() {
            send_request(conn, req, None);
        }
    }

    fn log_all_ready(&mut self) {
        if self.all_ready_logged {
            return;
        }
        let ready = |c: &Option<Arc<Conn>>| c.as_ref().is_some_and(|c| c.is_ready());
        if self.master.slots.iter().all(|s| ready(&s.current.lock())) {
            self.all_ready_logged = true;
            crate::info!("{} workers ready", self.master.cfg.workers);
        }
    }

    /// A worker's link closed (EOF, or its exit's grace period ended): fail what it held,
    /// and replace it unless it was leaving.
    fn on_closed(&mut self, conn: &Arc<Conn>) {
        if !conn.mark_dead() {
            return; // already handled (EOF and exit both report it)
        }
        let index = conn.index;
        // A worker that dies before Ready leaves its slot starting until this: its link
        // may close after its forker reported the exit, or before. Either way the slot
        // is free to respawn now, and `on_exit` does not count the crash a second time.
        let s = self.slot(index);
        if s.starting == Some(conn.generation) {
            s.starting = None;
        }
        let was_current = self.master.slots[index as usize].forget(conn);
        conn.fail(&self.master);
        let leaving = conn.is_leaving();
        if leaving {
            self.left.insert(conn.pid);
        }
        if self.stopping {
            return;
        }
        if !leaving {
            self.on_crash(index);
        } else if was_current {
            // A leaving current process (e.g. it retired on its own): replace it.
            self.schedule_respawn(index);
        }
    }

    /// Worker `index` crashed: respawn it, or stop the server if crashes come in a loop.
    fn on_crash(&mut self, index: u32) {
        self.master.stats().worker_crashes.fetch_add(1, Ordering::Relaxed);
        let window = self.master.cfg.crash_window;
        let now = Instant::now();
        let crashes = &mut self.slot(index).crashes;
        crashes.push_back(now);
        while crashes.front().is_some_and(|t| now.duration_since(*t) > window) {
            crashes.pop_front();
        }
        let total: usize = self.slots.iter().map(|s| s.crashes.len()).sum();
        if total as u32 >= self.master.cfg.crash_limit {
            let msg =
                format!("workers crashed {total} times within {window:?}; stopping the server (crash loop)");
            crate::error!("{msg}");
            self.fail(msg);
        } else {
            self.schedule_respawn(index);
        }
    }

    /// A worker reached `max_requests`: start its replacement (it leaves once that is ready).
    fn on_retire(&mut self, conn: &Conn) {
        if self.stopping || conn.is_leaving() {
            return;
        }
        if self.slot(conn.index).starting.is_none() {
            crate::debug!("worker {} (pid {}) reached max_requests; replacing it", conn.index, conn.pid);
            self.master.stats().worker_recycles.fetch_add(1, Ordering::Relaxed);
            self.spawn(conn.index);
        }
    }

    fn on_respawn(&mut self, index: u32) {
        let s = &mut self.slots[index as usize];
        s.respawn_scheduled = false;
        if !self.stopping && s.starting.is_none() {
            self.spawn(index);
        }
    }

    fn on_reload(&mut self) {
        if self.stopping {
            return;
        }
        let n = self.master.cfg.workers;
        crate::info!("reloading {n} workers one at a time");
        self.reload_queue = (0..n).collect();
        self.reload_next();
    }

    /// Starts replacing the next index of a reload, unless one is under way.
    fn reload_next(&mut self) {
        if self.reloading.is_some() {
            return;
        }
        if let Some(next) = self.reload_queue.pop_front() {
            self.master.stats().worker_recycles.fetch_add(1, Ordering::Relaxed);
            self.reloading = Some(next);
            self.spawn(next);
        }
    }

    fn on_stop(&mut self) {
        if self.stopping {
            return;
        }
        self.stopping = true;
        let n = self.master.cfg.workers;
        crate::info!("stopping: draining {n} workers (send the signal again to stop at once)");
        self.begin_stop();
    }

    /// The server stops with `msg` as its error.
    fn fail(&mut self, msg: String) {
        self.outcome.get_or_insert(Outcome::Failed(msg));
        self.stopping = true;
        self.begin_stop();
    }

    /// The drain: the HTTP core stops accepting, every worker is told to finish, requests
    /// held for a restarting worker are refused, and a deadline is set.
    fn begin_stop(&self) {
        self.master.stopping.store(true, Ordering::Release);
        self.http_shutdown.fire();
        for c in self.master.all_conns() {
            // Under the slot's lock, as in `route`: no request follows the Shutdown.
            let _current = self.master.slots[c.index as usize].current.lock();
            c.shutdown(true);
        }
        // Requests held for a restarting worker will not be served now.
        for slot in &self.master.slots {
            for req in slot.take_waiting() {
                req.reply.send(self.master.cfg.error_pages.response(StatusCode::SERVICE_UNAVAILABLE));
            }
        }
        let deadline = self.master.cfg.shutdown_timeout + Duration::from_secs(1);
        self.send_after(deadline, SupEvent::DrainDeadline);
    }

    /// A second stop signal, or the drain's deadline: kill what is left.
    fn stop_now(&mut self) {
        self.stopping = true;
        for c in self.master.all_conns() {
            if !c.is_dead() {
                crate::warn!("worker {} (pid {}) did not finish in time; killing it", c.index, c.pid);
                // SAFETY: a worker process we started (through the forker).
                unsafe { libc::kill(c.pid, libc::SIGKILL) };
            }
        }
        self.http_shutdown.fire();
        self.http_drained = true;
        self.deadline_passed = true;
    }

    /// While stopping: whether every worker is gone and the HTTP core drained. Once the
    /// workers are gone the HTTP core is told to finish: its connections only carry what
    /// is left.
    fn stopped(&mut self) -> bool {
        let live = self.master.all_conns().iter().filter(|c| !c.is_dead()).count();
        if live > 0 {
            return false;
        }
        // A spawn asked of a forker is awaited while processes are still reporting, so
        // its worker can be told to leave; past the drain's deadline nothing more is.
        let starting = self.slots.iter().filter(|s| s.starting.is_some()).count();
        if (starting == 0 || self.pids.is_empty() || self.deadline_passed) && self.http_drained {
            return true;
        }
        if !self.http_drained {
            self.http_shutdown.fire();
        }
        false
    }

    fn slot(&mut self, index: u32) -> &mut SlotState {
        &mut self.slots[index as usize]
    }

    /// Asks the active forker for a new process of worker `index` (its next generation).
    fn spawn(&mut self, index: u32) {
        let s = &mut self.slots[index as usize];
        s.generation += 1;
        s.starting = Some(s.generation);
        if let Err(e) = self.forkers.spawn(index, s.generation) {
            // Its death is reported (`Gone`): the spawn is asked again of its successor.
            crate::error!("cannot ask the forker for worker {index}: {e}");
        }
    }

    /// Respawns worker `index` after a backoff that grows with its recent crashes.
    fn schedule_respawn(&mut self, index: u32) {
        let s = self.slot(index);
        if s.respawn_scheduled {
            return;
        }
        s.respawn_scheduled = true;
        // 0 for the first crash in the window, then 100 ms doubling to a 5 s cap.
        let delay = match s.crashes.len() {
            0 | 1 => Duration::ZERO,
            k => Duration::from_millis(100u64 << (k - 2).min(6)).min(Duration::from_secs(5)),
        };
        self.send_after(delay, SupEvent::Respawn(index));
    }

    /// Reaps the master's children that ended; each is handled as its forker's report is.
    fn reap(&mut self) {
        for (pid, exit) in self.forkers.reap() {
            self.master.supervise(SupEvent::Reaped { pid, exit });
        }
    }

    /// Sends `ev` to this task after `delay`.
    fn send_after(&self, delay: Duration, ev: SupEvent) {
        let sup = self.master.sup.clone();
        self.rt.spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = sup.send(ev);
        });
    }
}
