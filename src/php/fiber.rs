//! Fibers driven from Rust: create, start, resume, suspend — through cached method
//! pointers, so a switch costs one `zend_call_known_function` and no name lookup.
//!
//! Owns: the PHP body of pooled fibers (`fiber_main.php`), and the raw engine calls.
//! Does not own: which fiber runs when (`runtime`).
//!
//! Invariants: PHP thread only. Callers check `eg_exception()` after every call; a
//! bailout inside a fiber resurfaces in the resumer, which must run inside `try_catch`.

use std::cell::OnceCell;
use std::ptr;

use ext_php_rs::convert::IntoZval;
use ext_php_rs::ffi::{self, zend_function, zend_object};
use ext_php_rs::types::{ZendObject, Zval};

use super::global::PhpGlobal;
use super::sym;

/// The loop every pooled fiber runs: take a job, run it, report, repeat. Written in PHP
/// because a `catch (\Throwable)` here is exactly PHP's semantics (exit() and fiber
/// destruction still unwind through it) and a PHP-level suspend is the cheapest switch.
const FIBER_MAIN: &str = include_str!("fiber_main.php");
const FIBER_MAIN_NAME: &str = "Via\\Internal\\fiber_main";

/// What a parked task passes to `Fiber::suspend`, so the scheduler can tell a parked task
/// from a free fiber (`FREE_MARKER`) and from a stray user `Fiber::suspend()`.
pub const PARK_MARKER: i64 = 0x5649_4150;

/// What `fiber_main` passes to `Fiber::suspend` when its task has ended (`endTask()`
/// ended it) and no new task was ready to run in line: the fiber is free for the pool.
/// The literal in `fiber_main.php` is this number.
pub const FREE_MARKER: i64 = 0x5649_4146;

struct Fns {
    /// `Via\Internal\fiber_main` itself (the only caller `Via\Internal\endTask` serves).
    main: *mut zend_function,
    ctor: *mut zend_function,
    start: *mut zend_function,
    resume: *mut zend_function,
    suspend: *mut zend_function,
}

static FNS: PhpGlobal<OnceCell<Fns>> = PhpGlobal::new(OnceCell::new());

fn method(name: &str) -> *mut zend_function {
    let ce = sym::fiber_ce();
    // SAFETY: the Fiber class entry and its function table live for the process; the
    // lookup only reads.
    let f = unsafe { ffi::zend_hash_str_find_ptr_lc(&ce.function_table, name.as_ptr().cast(), name.len()) };
    assert!(!f.is_null(), "Fiber::{name} not found");
    f.cast()
}

fn fns<R>(f: impl FnOnce(&Fns) -> R) -> R {
    let fns = FNS.get().get_or_init(|| {
        if let Err(e) = ext_php_rs::php_eval::execute(FIBER_MAIN) {
            crate::error!("cannot define the fiber body: {e}");
        }
        // SAFETY: the executor's function table lives for the request; the lookup only
        // reads. Lower-case, as the engine keys functions.
        let main = unsafe {
            let name = FIBER_MAIN_NAME.to_ascii_lowercase();
            let table = (*ffi::ext_php_rs_executor_globals()).function_table;
            ffi::zend_hash_str_find_ptr_lc(table, name.as_ptr().cast(), name.len())
        };
        Fns {
            main: main.cast(),
            ctor: method("__construct"),
            start: method("start"),
            resume: method("resume"),
            suspend: method("suspend"),
        }
    });
    f(fns)
}

/// Whether the function being called was called by `fiber_main` (the frame before it).
pub fn called_from_main() -> bool {
    fns(|fns| {
        // SAFETY: executor globals are a static of the engine. Inside a call from PHP the
        // current frame is the internal function's and `prev_execute_data` its caller's,
        // both valid for the call; only pointers are compared.
        unsafe {
            let ex = (*ffi::ext_php_rs_executor_globals()).current_execute_data;
            if ex.is_null() || (*ex).prev_execute_data.is_null() {
                return false;
            }
            !fns.main.is_null() && (*(*ex).prev_execute_data).func == fns.main
        }
    })
}

/// `EG(exception)` is set.
pub fn eg_exception() -> bool {
    // SAFETY: executor globals are a static of the engine; reading one pointer.
    unsafe { !(*ffi::ext_php_rs_executor_globals()).exception.is_null() }
}

/// The pending exception object, if any.
pub fn eg_exception_ptr() -> *mut zend_object {
    // SAFETY: as above.
    unsafe { (*ffi::ext_php_rs_executor_globals()).exception }
}

/// The fiber currently executing (`EG(active_fiber)`), null in the main context.
pub fn active_fiber() -> *const zend_object {
    // SAFETY: as above; `std` is the first member of `zend_fiber`, so the fiber pointer
    // is also its object pointer.
    unsafe { (*ffi::ext_php_rs_executor_globals()).active_fiber as *const zend_object }
}

/// The object pointer of a fiber zval (compared against `active_fiber`).
pub fn object_ptr(fiber: &Zval) -> *const zend_object {
    fiber.object().map_or(ptr::null(), |o| o as *const ZendObject as *const zend_object)
}

fn call(f: *mut zend_function, obj: *const zend_object, params: &mut [Zval]) -> Zval {
    let mut ret = Zval::new();
    // SAFETY: `f` is a method of \Fiber found in its function table; `obj` is a live
    // Fiber object (or null for the static `suspend`); params are initialised zvals the
    // callee only borrows.
    unsafe {
        ffi::zend_call_known_function(
            f,
            obj as *mut zend_object,
            (sym::fiber_ce() as *const ffi::zend_class_entry).cast_mut(),
            &mut ret,
            params.len() as u32,
            params.as_mut_ptr(),
            ptr::null_mut(),
        );
    }
    ret
}

/// A new pooled fiber, started and parked at its first suspend, ready for a job.
pub fn create() -> Result<Zval, String> {
    fns(|fns| {
        let obj = ZendObject::new(sym::fiber_ce());
        let fiber = obj.into_zval(false).map_err(|e| e.to_string())?;
        let mut callable = Zval::new();
        callable.set_string(FIBER_MAIN_NAME, false).map_err(|e| e.to_string())?;
        call(fns.ctor, object_ptr(&fiber), &mut [callable]);
        if eg_exception() {
            return Err("Fiber::__construct failed".into());
        }
        call(fns.start, object_ptr(&fiber), &mut []);
        if eg_exception() {
            return Err("Fiber::start failed".into());
        }
        Ok(fiber)
    })
}

/// Resumes `fiber` with `value`; returns what it passed to its next `Fiber::suspend`.
/// May bail out (fatal error inside): call within `try_catch`.
pub fn resume(fiber: &Zval, value: Zval) -> Zval {
    fns(|fns| call(fns.resume, object_ptr(fiber), &mut [value]))
}

/// Suspends the running fiber with `value`; returns the value it is resumed with.
pub fn suspend(value: Zval) -> Zval {
    fns(|fns| call(fns.suspend, ptr::null(), &mut [value]))
}

/// Clears a pending `exit()` unwind (it ends only the task that called it) and resets
/// the exit status it set.
pub fn clear_exit() {
    // SAFETY: the pending exception is the engine's unwind_exit marker object, which
    // zend_clear_exception releases; exit_status is a plain int of the executor globals.
    unsafe {
        let eg = ffi::ext_php_rs_executor_globals();
        sym::clear_exception();
        (*eg).exit_status = 0;
    }
}
