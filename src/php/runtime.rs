//! The scheduler of the PHP thread: tasks in pooled fibers, timers, parking and waking,
//! and the loop that waits for Tokio's events.
//!
//! Owns: every task (a job running in a fiber), the fiber pool, the timer queue, the
//! ready queue, waiters by wake key, and the rule that decides how a suspension point
//! parks (a task's fiber, or the main context running the loop itself).
//! Does not own: requests, responses or servers. A running server is a `Host` to the loop
//! (its events, what they mean, when it is done); a task may carry a `TaskOwner`, told
//! how the task ended. This module is the bottom layer of `php`: it imports no module
//! that serves HTTP.
//!
//! Invariants:
//! - PHP thread only. State lives in a static `RefCell` (`global::PhpGlobal`); it is never borrowed while
//!   PHP code runs — every call into PHP (resume, suspend, dropping a user value that may
//!   run a destructor) happens outside `with()`.
//! - The loop runs only in the main context, never inside a task.
//! - A waiter carries a park id: a stale wake (after a timeout, or for an earlier park)
//!   is refused, so a value handed to a stale waiter is never lost.

use std::cell::RefCell;
use std::collections::VecDeque;

use rustc_hash::FxHashMap as HashMap;
use smallvec::SmallVec;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::time::{Duration, Instant};

use ext_php_rs::types::{ZendHashTable, Zval};
use ext_php_rs::zend::try_catch;
use http::StatusCode;

use super::fiber;
use super::global::PhpGlobal;
use super::sym;
use crate::scheduler::{Slab, TimerId, TimerQueue};

pub type TaskId = u64;
/// The main script context (not a fiber).
pub const MAIN: TaskId = 0;
/// Idle fibers kept for reuse; creating one costs ~12–15 µs, resuming ~0.1 µs.
const MAX_POOLED_FIBERS: usize = 4096;
// No busy-polling before the PHP thread blocks: on two cores shared with the load
// generator it halved throughput (0.57x the ceiling, 2.2x its CPU; bench/RESULTS.md).

/// A running server as the loop sees it: where its events come from, what they mean, and
/// when it is done. Installed for the server's lifetime (`set_host`). The loop takes a
/// clone of the `Rc` out of its state before each call: every method but `wait` and
/// `fatal` may run PHP.
pub trait Host {
    /// Hands over what was batched (as `flush`), then takes the events that arrived,
    /// waiting for the first until `deadline` at most (no deadline: until one arrives).
    /// How many it took; `Err` once no event can come.
    fn wait(&self, deadline: Option<Instant>) -> Result<usize, Disconnected>;
    /// Handles a bounded batch of the events taken; whether there was any.
    fn handle_events(&self) -> bool;
    /// Hands over what was batched: the loop is about to sleep without `wait`, or ends.
    fn flush(&self);
    /// Whether the server finished its stop sequence (`Until::HostStopped`).
    fn stopped(&self) -> bool;
    /// A fatal error ends the runtime: answer what can still be answered, cut the rest.
    /// Runs no PHP.
    fn fatal(&self);
}

/// The sending side of a host's events is gone.
#[derive(Debug)]
pub struct Disconnected;

/// What a task works for (a request's response, say), told how the task ended.
pub trait TaskOwner {
    /// The task returned, or threw `exception`. The task's reference is the one passed in.
    fn task_ended(self: Rc<Self>, exception: Option<&Zval>);
    /// The runtime stops while the task lives (a fatal error: 500; a stop past
    /// `shutdown_timeout`: 503): `status` if nothing was sent. Runs no PHP.
    fn abandon(&self, status: StatusCode);
}

/// What a waiter registered with `wait_on` waits for (a stream id, for instance).
pub type WakeKey = u64;

/// Who waits, for which park. A wake for another park id is stale and refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Waiter {
    pub task: TaskId,
    pub park: u64,
}

/// Why a parked task was resumed.
pub enum Wake {
    Ready,
    Timeout,
    Value(Zval),
    Closed,
    Drained,
}

#[derive(Debug)]
pub enum ParkError {
    /// Called inside a Fiber that is not a via task.
    ForeignFiber,
    /// The main context would wait for something nothing can deliver.
    Deadlock,
    /// The fiber is being destroyed; its exception is pending.
    Cancelled,
}

impl std::fmt::Display for ParkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::ForeignFiber => {
                "cannot suspend inside a Fiber that via did not start; call it from a via task \
                 (Via\\go(), a server or timer callback) or from the main script"
            }
            Self::Deadlock => "this would wait forever: no task, timer or server can wake the main script",
            Self::Cancelled => "the task was cancelled",
        })
    }
}

/// What a task belongs to; decides what its end means.
pub enum TaskKind {
    Go,
    Owned(Rc<dyn TaskOwner>),
    Timer(TimerId),
    Hook(&'static str),
}

struct Task {
    fiber: Option<Zval>,
    job: Option<Zval>,
    park: Option<u64>,
    wake: Option<Wake>,
    timeout: Option<TimerId>,
    kind: TaskKind,
}

pub struct UserTimer {
    pub callable: Zval,
    pub args: Vec<Zval>,
    pub interval: Option<Duration>,
    pub running: Option<TaskId>,
}

enum TimerAction {
    Wake(Waiter),
    User(UserTimer),
    /// A function of the host's (a drain deadline, say).
    Call(fn()),
}

/// What stops a loop.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// `Server::start()`: until the host reports it stopped.
    HostStopped,
    /// `Via\run()`: until no task and no timer is left.
    Idle,
    /// A suspension point in the main script: until the main context is woken.
    MainWoken,
}

#[derive(Default)]
struct State {
    pool: Vec<Zval>,
    fibers_created: u64,
    tasks: Slab<Task>,
    next_park: u64,
    current: TaskId,
    ready: VecDeque<TaskId>,
    timers: TimerQueue<TimerAction>,
    user_timers: usize,
    loop_depth: u32,
    host: Option<Rc<dyn Host>>,
    /// The host's events can still arrive (its sender is not gone).
    host_open: bool,
    main_park: Option<u64>,
    main_wake: Option<Wake>,
    main_timeout: Option<TimerId>,
    autorun_registered: bool,
    /// Tasks waiting for something outside the scheduler (a stream to drain or close),
    /// every one of them: two tasks may write to one stream.
    key_waiters: HashMap<WakeKey, SmallVec<[Waiter; 1]>>,
    /// The task that threw, removed by `end_task`, with what it threw: told once its fiber
    /// is back in `run_task` (`conclude_threw`), as telling runs PHP. At most one: a
    /// throw ends the fiber's run of tasks.
    threw: Option<(TaskId, Task, Zval)>,
    tasks_started: u64,
    ticks_skipped: u64,
    /// Times the loop waited for Tokio's events, and events received: their ratio is the
    /// batch size that amortises a cross-thread wake-up.
    waits: u64,
    events_received: u64,
}

impl State {
    /// Work queued while no loop runs (and no server is about to run one) must still run:
    /// the first such spawn registers `Via\run` as a shutdown function.
    fn needs_autorun(&mut self) -> bool {
        let needed = self.loop_depth == 0 && self.host.is_none() && !self.autorun_registered;
        self.autorun_registered |= needed;
        needed
    }
}

static STATE: PhpGlobal<RefCell<Option<State>>> = PhpGlobal::new(RefCell::new(None));
static FATAL: PhpGlobal<std::cell::Cell<bool>> = PhpGlobal::new(std::cell::Cell::new(false));

/// Runs `f` on the scheduler state. Never call PHP inside `f`, and return (do not drop)
/// user values taken out of the state.
fn with<R>(f: impl FnOnce(&mut State) -> R) -> R {
    let mut guard = STATE.get().borrow_mut();
    let state = guard.get_or_insert_with(|| State { next_park: 1, ..State::default() });
    f(state)
}

/// Drops everything the scheduler holds. Called at request shutdown, before the engine
/// frees its objects; values are dropped outside the borrow.
pub fn shutdown() {
    let state = STATE.get().borrow_mut().take();
    drop(state);
}

pub fn current_task() -> TaskId {
    with(|s| s.current)
}

pub fn loop_running() -> bool {
    with(|s| s.loop_depth > 0)
}

/// Installs the running server's host (`None` when it is torn down).
pub fn set_host(host: Option<Rc<dyn Host>>) {
    let old = with(|s| {
        s.host_open = host.is_some();
        std::mem::replace(&mut s.host, host)
    });
    drop(old);
}

fn host() -> Option<Rc<dyn Host>> {
    with(|s| s.host.clone())
}

/// Counters for `Server::stats()`.
pub struct SchedulerStats {
    pub tasks: usize,
    pub tasks_started: u64,
    pub fibers_pooled: usize,
    pub fibers_created: u64,
    pub timers: usize,
    pub ticks_skipped: u64,
    pub loop_waits: u64,
    pub loop_events: u64,
}

pub fn stats() -> SchedulerStats {
    with(|s| SchedulerStats {
        tasks: s.tasks.len(),
        tasks_started: s.tasks_started,
        fibers_pooled: s.pool.len(),
        fibers_created: s.fibers_created,
        timers: s.user_timers,
        ticks_skipped: s.ticks_skipped,
        loop_waits: s.waits,
        loop_events: s.events_received,
    })
}

/// `[callable, ...args]`, one packed array: what `fiber_main` runs.
fn job<A: IntoIterator<Item = Zval>>(callable: Zval, args: A) -> Zval
where
    A::IntoIter: ExactSizeIterator,
{
    let args = args.into_iter();
    let mut job = ZendHashTable::with_capacity(args.len() as u32 + 1);
    for mut value in std::iter::once(callable).chain(args) {
        // SAFETY: the array takes `value` over (no reference added), so it is forgotten
        // here; a new array always has room for the next index.
        unsafe { ext_php_rs::ffi::zend_hash_next_index_insert(&mut *job, &mut value) };
        std::mem::forget(value);
    }
    super::convert::array(job)
}

/// Queues `callable(...args)` as a new task. It starts when the current task yields (or at
/// once, from the loop). Outside a running loop, the first spawn arranges for the loop to
/// run at the end of the script, as a CLI user of coroutines expects.
pub fn spawn<A: IntoIterator<Item = Zval>>(callable: Zval, args: A, kind: TaskKind) -> TaskId
where
    A::IntoIter: ExactSizeIterator,
{
    let job = job(callable, args);
    let (id, register_autorun) = with(|s| {
        let id =
            s.tasks.insert(Task { fiber: None, job: Some(job), park: None, wake: None, timeout: None, kind });
        s.ready.push_back(id);
        let autorun = s.needs_autorun();
        (id, autorun)
    });
    if register_autorun {
        register_autorun_at_shutdown();
    }
    id
}

fn register_autorun_at_shutdown() {
    let Ok(register) = ext_php_rs::types::ZendCallable::try_from_name("register_shutdown_function") else {
        return;
    };
    let _ = register.try_call(vec![&"Via\\run"]);
}

/// Called by `Via\run()` once the loop ran, so a later spawn registers again.
pub fn autorun_done() {
    with(|s| s.autorun_registered = false);
}

/// A timer that runs `callable` in a task after `delay`, then every `interval`.
///
/// Callers bound both (`args::duration_arg`): `delay` ≤ 365 days so that the deadline is
/// a valid `Instant`, `interval` ≥ 1 ms so that a tick re-armed after it fired is not due
/// again in the same pass of `fire_due_timers` (an interval of 0 would loop there forever).
pub fn add_user_timer(
    delay: Duration,
    interval: Option<Duration>,
    callable: Zval,
    args: Vec<Zval>,
) -> TimerId {
    let (id, register_autorun) = with(|s| {
        s.user_timers += 1;
        let id = s.timers.insert(
            Instant::now() + delay,
            TimerAction::User(UserTimer { callable, args, interval, running: None }),
        );
        let autorun = s.needs_autorun();
        (id, autorun)
    });
    if register_autorun {
        register_autorun_at_shutdown();
    }
    id
}

/// Cancels a user timer. Internal timers (sleeps, timeouts) cannot be cancelled by id.
pub fn clear_user_timer(id: TimerId) -> bool {
    let removed = with(|s| match s.timers.get_mut(id) {
        Some(TimerAction::User(_)) => {
            s.user_timers -= 1;
            s.timers.cancel(id)
        }
        _ => None,
    });
    let found = removed.is_some();
    drop(removed);
    found
}

/// Cancels every user timer; returns how many.
pub fn clear_all_user_timers() -> usize {
    let removed: Vec<TimerAction> = with(|s| {
        let ids = s.timers.ids_where(|a| matches!(a, TimerAction::User(_)));
        s.user_timers = 0;
        ids.into_iter().filter_map(|id| s.timers.cancel(id)).collect()
    });
    let n = removed.len();
    drop(removed);
    n
}

/// Calls `f` (no PHP value involved) after `after`, from the loop.
pub fn call_after(after: Duration, f: fn()) -> TimerId {
    with(|s| s.timers.insert(Instant::now() + after, TimerAction::Call(f)))
}

pub fn cancel_timer(id: TimerId) {
    let v = with(|s| s.timers.cancel(id));
    drop(v);
}

/// What `wake_on` tells every waiter of a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyWake {
    Drained,
    Closed,
}

impl From<KeyWake> for Wake {
    fn from(k: KeyWake) -> Self {
        match k {
            KeyWake::Drained => Wake::Drained,
            KeyWake::Closed => Wake::Closed,
        }
    }
}

/// Registers `w` to be woken by `wake_on(key, …)`, next to the key's other waiters. A
/// task waits for one park at a time, so its earlier waiter of this key (left by a park
/// that timed out) is replaced: a key holds one waiter per task at most.
pub fn wait_on(key: WakeKey, w: Waiter) {
    with(|s| {
        let waiters = s.key_waiters.entry(key).or_default();
        waiters.retain(|other| other.task != w.task);
        waiters.push(w);
    });
}

/// Wakes everyone who waits on `key`. (One waiter per key lost the first of two tasks
/// writing to one stream: it waited out the backpressure timeout, and `send()` then
/// closed a stream whose client kept up.)
pub fn wake_on(key: WakeKey, wake: KeyWake) {
    let Some(waiters) = with(|s| s.key_waiters.remove(&key)) else { return };
    for w in waiters {
        let _ = wake_task(w, wake.into());
    }
}

/// A waiter for the calling context, for a park that follows.
pub fn waiter() -> Result<Waiter, ParkError> {
    let active = fiber::active_fiber();
    with(|s| {
        let park = s.next_park;
        s.next_park += 1;
        if s.current == MAIN {
            if !active.is_null() {
                return Err(ParkError::ForeignFiber);
            }
            return Ok(Waiter { task: MAIN, park });
        }
        let own = s.tasks.get(s.current).and_then(|t| t.fiber.as_ref()).map(fiber::object_ptr);
        if own != Some(active) {
            return Err(ParkError::ForeignFiber);
        }
        Ok(Waiter { task: s.current, park })
    })
}

/// Suspends the caller until `wake_task(w, …)` or the timeout. In a task this parks its
/// fiber; in the main script it runs the loop until woken. A timeout too far away for an
/// `Instant` is no timeout.
pub fn park(w: Waiter, timeout: Option<Duration>) -> Result<Wake, ParkError> {
    let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
    if w.task == MAIN {
        with(|s| {
            s.main_park = Some(w.park);
            s.main_wake = None;
            s.main_timeout = deadline.map(|d| s.timers.insert(d, TimerAction::Wake(w)));
        });
        let result = run_loop(Until::MainWoken);
        let (wake, timer) = with(|s| {
            s.main_park = None;
            (s.main_wake.take(), s.main_timeout.take().and_then(|t| s.timers.cancel(t)))
        });
        drop(timer);
        result?;
        return Ok(wake.unwrap_or(Wake::Ready));
    }
    with(|s| {
        let timer = deadline.map(|d| s.timers.insert(d, TimerAction::Wake(w)));
        if let Some(t) = s.tasks.get_mut(w.task) {
            t.park = Some(w.park);
            t.wake = None;
            t.timeout = timer;
        }
    });
    let mut marker = Zval::new();
    marker.set_long(fiber::PARK_MARKER);
    let _ = fiber::suspend(marker);
    let (wake, timer) = with(|s| match s.tasks.get_mut(w.task) {
        Some(t) => {
            t.park = None;
            let timer = t.timeout.take().and_then(|id| s.timers.cancel(id));
            (t.wake.take(), timer)
        }
        None => (None, None),
    });
    drop(timer);
    if fiber::eg_exception() {
        drop(wake);
        return Err(ParkError::Cancelled);
    }
    Ok(wake.unwrap_or(Wake::Ready))
}

/// Wakes a parked waiter. `Err` gives the wake back when it is stale (timed out, already
/// woken, or a different park), so a value can go to another waiter.
pub fn wake_task(w: Waiter, wake: Wake) -> Result<(), Wake> {
    let refused = with(|s| {
        if w.task == MAIN {
            if s.main_park == Some(w.park) && s.main_wake.is_none() {
                s.main_wake = Some(wake);
                return None;
            }
            return Some(wake);
        }
        let Some(t) = s.tasks.get_mut(w.task) else { return Some(wake) };
        if t.park != Some(w.park) || t.wake.is_some() {
            return Some(wake);
        }
        t.wake = Some(wake);
        s.ready.push_back(w.task);
        None
    });
    match refused {
        None => Ok(()),
        Some(v) => Err(v),
    }
}

/// Why a loop ended early.
#[derive(Debug)]
pub enum LoopError {
    Deadlock,
}

impl From<LoopError> for ParkError {
    fn from(_: LoopError) -> Self {
        ParkError::Deadlock
    }
}

/// Runs tasks, timers and events until `until` holds.
///
/// One `try_catch` covers the whole loop rather than each task: a fatal error inside a fiber
/// arrives as an unwind (see `run_task`), so a bailout here is rare, and a `setjmp` per task
/// switch is not free.
pub fn run_loop(until: Until) -> Result<(), LoopError> {
    match try_catch(AssertUnwindSafe(|| run_loop_inner(until))) {
        Ok(result) => result,
        Err(_) => fatal(),
    }
}

fn run_loop_inner(until: Until) -> Result<(), LoopError> {
    with(|s| s.loop_depth += 1);
    let result = loop {
        run_ready();
        if is_fatal() {
            break Ok(());
        }
        if fire_due_timers() {
            continue;
        }
        if done(until) {
            break Ok(());
        }
        let host = host();
        if host.as_ref().is_some_and(|h| h.handle_events()) {
            continue;
        }
        let (deadline, open) = with(|s| (s.timers.next_deadline(), s.host_open));
        let (host, closed) = if open { (host, None) } else { (None, host) };
        if let Some(closed) = closed {
            closed.flush(); // `wait` hands over itself
        }
        match (host, deadline) {
            (Some(host), deadline) => match host.wait(deadline) {
                Ok(0) => {}
                Ok(n) => with(|s| {
                    s.waits += 1;
                    s.events_received += n as u64;
                }),
                Err(Disconnected) => with(|s| s.host_open = false),
            },
            (None, Some(d)) => {
                let now = Instant::now();
                if d > now {
                    std::thread::sleep(d - now);
                }
            }
            (None, None) => {
                if until == Until::MainWoken {
                    break Err(LoopError::Deadlock);
                }
                break Ok(());
            }
        }
    };
    if let Some(host) = host() {
        host.flush();
    }
    with(|s| s.loop_depth = s.loop_depth.saturating_sub(1));
    result
}

fn done(until: Until) -> bool {
    match until {
        Until::HostStopped => host().is_none_or(|h| h.stopped()),
        Until::Idle => with(|s| s.tasks.is_empty() && s.timers.is_empty() && s.ready.is_empty()),
        Until::MainWoken => with(|s| s.main_wake.is_some()),
    }
}

fn fire_due_timers() -> bool {
    let now = Instant::now();
    let mut fired = false;
    while let Some((id, action)) = with(|s| s.timers.pop_due(now)) {
        fired = true;
        match action {
            TimerAction::Wake(w) => {
                let _ = wake_task(w, Wake::Timeout);
            }
            TimerAction::Call(f) => f(),
            TimerAction::User(mut t) => {
                let skip = t.running.is_some_and(|task| with(|s| s.tasks.contains(task)));
                if skip {
                    // The previous run of this tick is still going: never pile runs up.
                    with(|s| s.ticks_skipped += 1);
                } else {
                    let args: Vec<Zval> = t.args.iter().map(Zval::shallow_clone).collect();
                    let task = spawn(t.callable.shallow_clone(), args, TaskKind::Timer(id));
                    t.running = Some(task);
                }
                match t.interval {
                    Some(every) => with(|s| s.timers.insert_with_id(id, now + every, TimerAction::User(t))),
                    None => {
                        with(|s| s.user_timers -= 1);
                        drop(t);
                    }
                }
            }
        }
    }
    fired
}

fn run_ready() {
    while !is_fatal() {
        let Some(id) = with(|s| s.ready.pop_front()) else { return };
        run_task(id);
    }
}

fn take_fiber() -> Option<Zval> {
    if let Some(f) = with(|s| s.pool.pop()) {
        return Some(f);
    }
    match fiber::create() {
        Ok(f) => {
            with(|s| s.fibers_created += 1);
            Some(f)
        }
        Err(e) => {
            crate::error!("cannot create a fiber: {e}");
            None
        }
    }
}

enum Outcome {
    Done,
    Threw(Zval),
    Exited,
}

fn run_task(id: TaskId) {
    let needs_fiber = with(|s| s.tasks.get(id).map(|t| t.fiber.is_none()));
    match needs_fiber {
        None => return,
        Some(true) => {
            let Some(f) = take_fiber() else {
                finish(id, Outcome::Done);
                return;
            };
            with(|s| {
                if let Some(t) = s.tasks.get_mut(id) {
                    t.fiber = Some(f);
                    s.tasks_started += 1;
                }
            });
        }
        Some(false) => {}
    }
    // A new task's fiber takes its job itself (`end_task`); a parked one is resumed with
    // nothing (its wake is in the task).
    let Some(fiber) = with(|s| Some(s.tasks.get(id)?.fiber.as_ref()?.shallow_clone())) else {
        return;
    };
    let previous = with(|s| std::mem::replace(&mut s.current, id));
    let ret = fiber::resume(&fiber, Zval::new());
    // The task that suspended or ended: `id`, or one the fiber took up after it
    // (`end_task`).
    let id = with(|s| std::mem::replace(&mut s.current, previous));
    if fiber::eg_exception() {
        let ex = fiber::eg_exception_ptr();
        if sym::is_unwind_exit(ex) && sym::unclean_shutdown() {
            // PHP 8 turns a fatal error inside a fiber into an unwind of the resumer;
            // only _zend_bailout sets unclean_shutdown, exit() does not.
            fatal_cleanup();
        } else if sym::is_unwind_exit(ex) {
            fiber::clear_exit();
            conclude_threw();
            finish(id, Outcome::Exited);
        } else {
            // Only engine-level unwinds get past fiber_main's catch.
            crate::error!("task {id} ended by an uncatchable exception");
            sym::clear_exception();
            conclude_threw();
            finish(id, Outcome::Done);
        }
        return;
    }
    conclude_threw();
    match ret.long() {
        // Its last task ended in `end_task`.
        Some(fiber::FREE_MARKER) => pool(fiber),
        // Parked: whoever holds its waiter resumes it.
        Some(fiber::PARK_MARKER) => {}
        _ => {
            crate::error!(
                "task {id} called Fiber::suspend() itself; via cannot resume it and abandons the \
                 task (use Via\\Channel or Via\\sleep to wait inside a task)"
            );
            finish(id, Outcome::Done);
        }
    }
}

/// `Via\Internal\endTask($result)`, what `fiber_main` calls for each job:
/// - `result` null (the fiber was resumed for the current task, a new one): that task's
///   job;
/// - `true` (the job returned) or the Throwable it threw: ends the current task. When the
///   task at the head of the ready queue is a new one (no fiber yet), it becomes the
///   current task in this same fiber and its job is returned, so that a batch of requests
///   runs without a switch out to the loop and back for each (in the ready queue's order,
///   as `run_ready` would run them).
///
/// `None`: the fiber is free; `fiber_main` suspends with `FREE_MARKER` and `run_task`
/// pools it.
pub fn end_task(result: Zval) -> Option<Zval> {
    // Runs no PHP code (`endTask` has no bailout guard): nothing it drops is the last
    // reference (the caller's frame holds `result`, `run_task` the fiber), a task that
    // returned is told so without PHP, and one that threw is told by `run_task`.
    let id = with(|s| s.current);
    if result.is_null() {
        if let Some(job) = with(|s| s.tasks.get_mut(id).and_then(|t| t.job.take())) {
            return Some(job);
        }
        // Never: a fiber is resumed with nothing only for a task that has its job. If
        // one had none, it ends here rather than keep a fiber that is also pooled.
    }
    let (task, fiber) = with(|s| {
        let mut task = s.tasks.remove(id)?;
        // The fiber goes on running: it is not the ended task's to drop or pool.
        let fiber = task.fiber.take();
        Some((task, fiber))
    })?;
    if result.is_object() {
        // Telling a Throwable runs PHP (its `__toString`): `run_task` does it once the
        // fiber is back, and nothing more runs in line, so the 500 leaves with the answers
        // already given rather than after whatever the next task does.
        let earlier = with(|s| s.threw.replace((id, task, result)));
        debug_assert!(earlier.is_none(), "a throw ends the fiber's run, so run_task told the last");
        drop((earlier, fiber));
        return None;
    }
    conclude(id, task, Outcome::Done);
    let fiber = fiber?;
    let taken = with(|s| {
        let next = *s.ready.front()?;
        let t = s.tasks.get_mut(next).filter(|t| t.fiber.is_none())?;
        let job = t.job.take().unwrap_or_default();
        t.fiber = Some(fiber.shallow_clone());
        s.ready.pop_front();
        s.tasks_started += 1;
        s.current = next;
        Some(job)
    });
    drop(fiber);
    taken
}

/// Tells the owner of the task that threw in `end_task`, if one did, what it threw.
fn conclude_threw() {
    if let Some((id, task, exception)) = with(|s| s.threw.take()) {
        conclude(id, task, Outcome::Threw(exception));
    }
}

/// Returns a free fiber to the pool, or destroys it when the pool is full.
fn pool(f: Zval) {
    let spare = with(|s| {
        if s.pool.len() < MAX_POOLED_FIBERS {
            s.pool.push(f);
            None
        } else {
            Some(f)
        }
    });
    drop(spare);
}

/// Destroys the pooled fibers (each holds its VM stack in PHP's memory, ~16 KB). For PHP's
/// memory running out: a burst of thousands of tasks leaves as many fibers pooled, and
/// their stacks alone could keep the memory guard refusing requests.
pub fn release_pooled_fibers() {
    let pooled = with(|s| std::mem::take(&mut s.pool));
    drop(pooled); // outside the borrow: destroying a fiber unwinds it
}

/// Removes a finished task. A fiber it still holds is dead (an exit, an uncatchable
/// unwind, a stray suspend): dropped, never pooled (`end_task` takes a reusable one).
fn finish(id: TaskId, outcome: Outcome) {
    let task = with(|s| s.tasks.remove(id));
    if let Some(task) = task {
        conclude(id, task, outcome);
    }
}

/// Tells a removed task's owner how it ended. With `Outcome::Done` it runs no PHP (the
/// owners' `task_ended` only queues answers; nothing a finished task holds is a PHP value:
/// its job went to the fiber, its wake to its last park). Other outcomes may (a
/// Throwable's `__toString`): only where the loop runs, never inside `end_task`.
fn conclude(id: TaskId, mut task: Task, outcome: Outcome) {
    drop(task.fiber.take());
    let timer = task.timeout.take().map(|t| with(|s| s.timers.cancel(t)));
    drop(timer);
    let exception = match &outcome {
        Outcome::Threw(e) => Some(e),
        _ => None,
    };
    match task.kind {
        TaskKind::Owned(owner) => owner.task_ended(exception),
        TaskKind::Timer(timer) => {
            with(|s| {
                if let Some(TimerAction::User(t)) = s.timers.get_mut(timer) {
                    t.running = None;
                }
            });
            if let Some(e) = exception {
                crate::error!("timer {timer} callback threw {}", describe_throwable(e));
            }
        }
        TaskKind::Go => {
            if let Some(e) = exception {
                crate::error!("task {id} threw {}", describe_throwable(e));
            }
        }
        TaskKind::Hook(name) => {
            if let Some(e) = exception {
                crate::error!("{name} hook threw {}", describe_throwable(e));
            }
        }
    }
    if matches!(outcome, Outcome::Exited) {
        crate::debug!("task {id} called exit(); it ended, the server goes on");
    }
}

/// `Class: message in file:line` plus the trace, via the Throwable's own `__toString`.
pub fn describe_throwable(e: &Zval) -> String {
    match e.try_call_method("__toString", vec![]) {
        Ok(s) => s.string().unwrap_or_default(),
        Err(_) => {
            sym::clear_exception();
            "an exception".into()
        }
    }
}

/// How many of `ids` are still running.
pub fn live_tasks(ids: &[TaskId]) -> usize {
    with(|s| ids.iter().filter(|&&id| s.tasks.contains(id)).count())
}

/// The owners of the tasks still alive (for the fatal path).
fn owners() -> Vec<Rc<dyn TaskOwner>> {
    with(|s| {
        s.tasks
            .values()
            .chain(s.threw.iter().map(|(_, t, _)| t))
            .filter_map(|t| match &t.kind {
                TaskKind::Owned(o) => Some(Rc::clone(o)),
                _ => None,
            })
            .collect()
    })
}

/// The server stops with request tasks still running (its drain passed
/// `shutdown_timeout`, or a second signal): their requests are answered `status` now, so
/// that the core can write the answers before the tasks are cancelled. Runs no PHP.
pub fn abandon_owned(status: StatusCode) {
    for owner in owners() {
        owner.abandon(status);
    }
}

/// Drops every task and timer (their fibers are destroyed, which unwinds them). Used when
/// a server stops, so nothing of it runs afterwards.
pub fn cancel_everything() {
    let (tasks, timers, waiters) = with(|s| {
        s.ready.clear();
        let mut tasks: Vec<Task> = s.tasks.drain();
        tasks.extend(s.threw.take().map(|(_, t, _)| t));
        let timers: Vec<(TimerId, TimerAction)> = s.timers.drain().collect();
        s.user_timers = 0;
        (tasks, timers, std::mem::take(&mut s.key_waiters))
    });
    drop(waiters);
    drop(timers);
    drop(tasks);
}

/// A fatal error ended a task. Answers what can be answered (500 for requests not
/// started, a reset for streams under way), stops the server and forgets every fiber:
/// after a fatal error the engine has marked all objects destructed and runs no more of
/// them. Runs no PHP code. The loop stops; the fatal error's pending unwind (or the
/// bailout) then ends the script with PHP's own fatal-error exit.
fn fatal_cleanup() {
    crate::error!("fatal error in a PHP callback; answering in-flight requests with 500 and stopping");
    FATAL.get().set(true);
    for owner in owners() {
        owner.abandon(StatusCode::INTERNAL_SERVER_ERROR);
    }
    if let Some(host) = host() {
        host.fatal();
    }
    let state = STATE.get().borrow_mut().take();
    if let Some(s) = state {
        for t in s.tasks.into_values() {
            std::mem::forget(t);
        }
        std::mem::forget(s.threw);
        std::mem::forget(s.pool);
        std::mem::forget(s.timers);
    }
}

/// A bailout reached the scheduler itself (not through a fiber): clean up, then let it
/// continue to PHP's own handler.
fn fatal() -> ! {
    fatal_cleanup();
    // SAFETY: we are inside an exported function (every PHP call runs under a try_catch
    // frame); the frames skipped hold nothing that must be dropped for the process to
    // finish its fatal-error shutdown.
    unsafe { ext_php_rs::zend::bailout() }
}

/// Whether a fatal error stopped the runtime in this process.
pub fn is_fatal() -> bool {
    FATAL.get().get()
}
