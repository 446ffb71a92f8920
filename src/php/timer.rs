//! `Via\Timer` and the scheduling functions `Via\go()`, `Via\sleep()`, `Via\run()`,
//! `Via\taskId()`.
//!
//! Every callback runs in its own task (a pooled fiber), so it may suspend. A tick whose
//! previous run is still going is skipped (counted in stats), never piled up.
//!
//! PHP thread only.

use std::time::Duration;

use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;

use super::errors::{arg_seconds, via_err, Callable};
use super::runtime::{self, ParkError, TaskKind, Until};

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
    /// Runs $callback(...$args) once after $seconds. Returns the timer id.
    ///
    /// @throws \ValueError for a negative or non-finite delay
    pub fn after(seconds: f64, callback: Callable, args: &[&Zval]) -> PhpResult<i64> {
        let secs = arg_seconds(seconds, "Via\\Timer::after(): Argument #1 ($seconds)")?;
        let cb = callback.to_zval();
        Ok(runtime::add_user_timer(Duration::from_secs_f64(secs), None, cb, args_of(args)) as i64)
    }

    /// Runs $callback(...$args) every $seconds (> 0) until cleared. Returns the timer id.
    ///
    /// @throws \ValueError for an interval that is not a positive finite number
    pub fn tick(seconds: f64, callback: Callable, args: &[&Zval]) -> PhpResult<i64> {
        let secs = arg_seconds(seconds, "Via\\Timer::tick(): Argument #1 ($seconds)")?;
        if secs <= 0.0 {
            return Err(super::errors::value_err(
                "Via\\Timer::tick(): Argument #1 ($seconds) must be greater than 0",
            ));
        }
        let cb = callback.to_zval();
        let every = Duration::from_secs_f64(secs);
        Ok(runtime::add_user_timer(every, Some(every), cb, args_of(args)) as i64)
    }

    /// Cancels a timer. Returns false when no such timer is pending.
    pub fn clear(id: i64) -> bool {
        u64::try_from(id).is_ok_and(runtime::clear_user_timer)
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

/// Suspends the current task for $seconds while others run. In the main script (outside
/// any task) it runs the loop for that long. Via\sleep(0) yields to ready tasks.
///
/// @throws \ValueError for a negative or non-finite duration
/// @throws \Via\Exception inside a Fiber that via did not start
#[php_function]
#[php(name = "Via\\sleep")]
pub fn sleep(seconds: f64) -> PhpResult<()> {
    let secs = arg_seconds(seconds, "Via\\sleep(): Argument #1 ($seconds)")?;
    let w = runtime::waiter().map_err(|e| via_err(format!("Via\\sleep(): {e}")))?;
    match runtime::park(w, Some(Duration::from_secs_f64(secs))) {
        Ok(_) | Err(ParkError::Cancelled) => Ok(()),
        Err(e) => Err(via_err(format!("Via\\sleep(): {e}"))),
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

/// Adds this file's functions to the module.
pub fn register(module: ModuleBuilder) -> ModuleBuilder {
    module
        .function(wrap_function!(go))
        .function(wrap_function!(sleep))
        .function(wrap_function!(run))
        .function(wrap_function!(task_id))
}
