//! `Via\Timer` and the scheduling functions `Via\go()`, `Via\sleep()`, `Via\run()`,
//! `Via\taskId()`.
//!
//! Every callback runs in its own task (a pooled fiber), so it may suspend. A tick whose
//! previous run is still going is skipped (counted in stats), never piled up.
//!
//! PHP thread only.

use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;

use super::args::{duration_arg, Callable, Float, Int, MIN_TICK_SECONDS};
use super::errors::{park_error, via_err};
use super::runtime::{self, ParkError, TaskKind, Until};
use super::{convert, fiber};

fn args_of(args: &[&Zval]) -> Vec<Zval> {
    args.iter().map(|z| z.shallow_clone()).collect()
}

/// Timers whose callbacks run as tasks on the via loop.
#[php_class]
#[php(name = "Via\\Timer")]
#[php(flags = ClassFlags::Final)]
pub struct Timer;

#[php_impl]
impl Timer {
    /// Runs $callback(...$args) once after $seconds (0 to 31536000, i.e. 365 days).
    /// Returns the timer id.
    ///
    /// @throws \ValueError for a delay that is negative, NAN or longer than 365 days
    pub fn after(seconds: Float, callback: Callable, args: &[&Zval]) -> PhpResult<i64> {
        let delay = duration_arg(*seconds, 0.0, "Via\\Timer::after(): Argument #1 ($seconds)")?;
        let cb = callback.to_zval();
        Ok(runtime::add_user_timer(delay, None, cb, args_of(args)) as i64)
    }

    /// Runs $callback(...$args) every $seconds until cleared. Returns the timer id. The
    /// interval is 0.001 (1 ms) to 31536000 (365 days): a shorter one would fire on every
    /// turn of the loop and starve the other tasks and timers, so it is refused.
    ///
    /// @throws \ValueError for an interval under 0.001, over 365 days, or NAN
    pub fn tick(seconds: Float, callback: Callable, args: &[&Zval]) -> PhpResult<i64> {
        let every = duration_arg(*seconds, MIN_TICK_SECONDS, "Via\\Timer::tick(): Argument #1 ($seconds)")?;
        let cb = callback.to_zval();
        Ok(runtime::add_user_timer(every, Some(every), cb, args_of(args)) as i64)
    }

    /// Cancels a timer. Returns false when no such timer is pending.
    pub fn clear(id: Int) -> bool {
        u64::try_from(*id).is_ok_and(runtime::clear_user_timer)
    }

    /// Cancels every timer. Returns how many were pending.
    pub fn clear_all() -> i64 {
        runtime::clear_all_user_timers() as i64
    }
}

/// Runs $callback(...$args) in a new task (a pooled fiber); it starts as soon as the
/// current task yields. Outside a running loop the task runs when the script ends (or at
/// Via\run()). Returns the task id.
#[php_function]
#[php(name = "Via\\go")]
pub fn go(callback: Callable, args: &[&Zval]) -> i64 {
    runtime::spawn(callback.to_zval(), args_of(args), TaskKind::Go) as i64
}

/// Suspends the current task for $seconds (0 to 31536000, i.e. 365 days) while others
/// run. In the main script (outside any task) it runs the loop for that long.
/// Via\sleep(0) yields to ready tasks.
///
/// @throws \ValueError for a duration that is negative, NAN or longer than 365 days
/// @throws \Via\Exception inside a Fiber that via did not start
#[php_function]
#[php(name = "Via\\sleep")]
pub fn sleep(seconds: Float) -> PhpResult<()> {
    let duration = duration_arg(*seconds, 0.0, "Via\\sleep(): Argument #1 ($seconds)")?;
    let w = runtime::waiter().map_err(|e| park_error("Via\\sleep()", e))?;
    match runtime::park(w, Some(duration)) {
        Ok(_) | Err(ParkError::Cancelled) => Ok(()),
        Err(e) => Err(park_error("Via\\sleep()", e)),
    }
}

/// Runs $callback(...$args) as a task (if given) and drives the loop until no task and no
/// timer is left. For plain CLI scripts; a server runs its own loop.
///
/// @throws \Via\Exception when called inside a task or a running server
#[php_function]
#[php(name = "Via\\run")]
#[php(optional = callback)]
pub fn run(callback: Option<Callable>, args: &[&Zval]) -> PhpResult<()> {
    if runtime::loop_running() || runtime::current_task() != runtime::MAIN {
        return Err(via_err("Via\\run(): the loop is already running (called inside a task or a server)"));
    }
    if let Some(cb) = callback {
        runtime::spawn(cb.to_zval(), args_of(args), TaskKind::Go);
    }
    let result = runtime::run_loop(Until::Idle);
    runtime::autorun_done();
    result.map_err(|_| via_err("Via\\run(): deadlock"))
}

/// The id of the running task; 0 in the main script.
#[php_function]
#[php(name = "Via\\taskId")]
pub fn task_id() -> i64 {
    runtime::current_task() as i64
}

/// @internal Ends the task that `Via\Internal\fiber_main` ran ($result: true, what it
/// threw, or null when none ran yet) and returns the job of the task to run next in the
/// same fiber, or null when there is none. Only the runtime's fiber body may call it.
///
/// @throws \Via\Exception when called from anywhere else
#[php_function]
#[php(name = "Via\\Internal\\endTask")]
#[php(no_bailout_guard)]
pub fn end_task(result: &Zval) -> convert::Ret {
    if !fiber::called_from_main() {
        return convert::or_throw(Err(via_err(
            "Via\\Internal\\endTask(): only the runtime's fiber body may call it",
        )));
    }
    convert::Ret(runtime::end_task(result.shallow_clone()).unwrap_or_else(Zval::null))
}

/// Adds this file's functions to the module.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(go))
        .function(wrap_function!(sleep))
        .function(wrap_function!(run))
        .function(wrap_function!(task_id))
        .function(wrap_function!(end_task))
}
