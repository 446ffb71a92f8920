//! PHP exceptions of the runtime and the one place Rust errors become them.
//!
//! Owns: the `Via\Exception` hierarchy (registered by hand in MINIT so that PHP code can
//! `new` and extend the classes), the construction of every exception via throws, and the
//! argument errors thrown through the engine with PHP's own wording
//! (`throw_argument_type_error`; the checks themselves live in `args`).
//!
//! Invariant: every message can be thrown. The engine takes a message as a C string, so a
//! NUL byte (from a user's value quoted in a message) is written as `\0`; ext-php-rs would
//! otherwise replace the exception with "Error: cannot throw …".
//!
//! PHP thread only.

use std::ffi::CString;
use std::sync::OnceLock;

use ext_php_rs::builders::ClassBuilder;
use ext_php_rs::exception::PhpException;
use ext_php_rs::types::Zval;
use ext_php_rs::zend::{ce, ClassEntry};

use super::runtime::ParkError;
use super::sym;
use crate::table::TableError;

struct CePtr(usize);

/// The hand-registered classes, in registration order (a parent before its children).
const VIA_EXCEPTION: usize = 0;
const CLOSED_EXCEPTION: usize = 1;
const CAPACITY_EXCEPTION: usize = 2;
const BROKER_EXCEPTION: usize = 3;
static CLASSES: [OnceLock<CePtr>; 4] = [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];

fn stored(i: usize) -> &'static ClassEntry {
    let p = CLASSES[i].get().map_or(0, |p| p.0);
    assert!(p != 0, "via exception classes are registered at module startup");
    // SAFETY: set once in MINIT to a class entry the engine keeps for the process life.
    unsafe { &*(p as *const ClassEntry) }
}

/// `Via\Exception`: base of every runtime exception; extends `\RuntimeException`.
pub fn via_exception() -> &'static ClassEntry {
    stored(VIA_EXCEPTION)
}

/// `Via\CapacityException`: a fixed-size structure is full (a table's rows).
pub fn capacity_exception() -> &'static ClassEntry {
    stored(CAPACITY_EXCEPTION)
}

/// `Via\BrokerException`: a broker cannot do what was asked (not connected, refused).
pub fn broker_exception() -> &'static ClassEntry {
    stored(BROKER_EXCEPTION)
}

/// Stores the class entry of class `I` once the engine registered it.
fn keep<const I: usize>(ce: &'static mut ClassEntry, _: ext_php_rs::args::ArgInfoTables) {
    let _ = CLASSES[I].set(CePtr(ce as *mut ClassEntry as usize));
}

fn register_one(
    name: &str,
    parent: fn() -> &'static ClassEntry,
    parent_name: &'static str,
    keep: fn(&'static mut ClassEntry, ext_php_rs::args::ArgInfoTables),
) {
    let result = ClassBuilder::new(name).extends((parent, parent_name)).registration(keep).register();
    if let Err(e) = result {
        crate::error!("cannot register {name}: {e}");
    }
}

/// Registers the exception classes. Called from module startup.
pub fn register_classes() {
    register_one("Via\\Exception", sym::runtime_exception_ce, "RuntimeException", keep::<VIA_EXCEPTION>);
    register_one("Via\\ClosedException", via_exception, "Via\\Exception", keep::<CLOSED_EXCEPTION>);
    register_one("Via\\CapacityException", via_exception, "Via\\Exception", keep::<CAPACITY_EXCEPTION>);
    register_one("Via\\BrokerException", via_exception, "Via\\Exception", keep::<BROKER_EXCEPTION>);
}

/// An exception of `class` with `msg`, NUL bytes written as `\0` so that it can be thrown.
pub fn exception(class: &'static ClassEntry, msg: impl Into<String>) -> PhpException {
    let msg = msg.into();
    let msg = if msg.contains('\0') { msg.replace('\0', "\\0") } else { msg };
    PhpException::new(msg, 0, class)
}

pub fn via_err(msg: impl Into<String>) -> PhpException {
    exception(via_exception(), msg)
}

pub fn broker_err(msg: impl Into<String>) -> PhpException {
    exception(broker_exception(), msg)
}

/// `what` (a method, `Via\Channel::pop()`) could not suspend the caller.
pub fn park_error(what: &str, e: ParkError) -> PhpException {
    match e {
        ParkError::Deadlock => via_err(format!(
            "{what} would wait forever: nothing else can run (start a task with Via\\go() or give a timeout)"
        )),
        other => via_err(format!("{what}: {other}")),
    }
}

/// A table error as the exception a PHP user expects: a full table is a capacity
/// problem, a wrong type a `TypeError`, an integer overflow an `ArithmeticError`.
pub fn table_error(method: &str, e: TableError) -> PhpException {
    let msg = format!("Via\\Table::{method}(): {e}");
    match e {
        TableError::Full { .. } => exception(capacity_exception(), msg),
        TableError::WrongType { .. } | TableError::NotNumeric { .. } => type_err(msg),
        TableError::Overflow { .. } => exception(ce::arithmetic_error(), msg),
        TableError::Map(_) => via_err(msg),
        _ => value_err(msg),
    }
}

pub fn value_err(msg: impl Into<String>) -> PhpException {
    exception(ce::value_error(), msg)
}

pub fn type_err(msg: impl Into<String>) -> PhpException {
    exception(ce::type_error(), msg)
}

/// Throws PHP's `TypeError` for argument `num` (1-based) of the internal function being
/// called, prefixed the way the engine prefixes its own:
/// `Via\Server::__construct(): Argument #2 ($port) ` + `msg`. Does nothing when an
/// exception is already pending.
pub fn throw_argument_type_error(num: u32, msg: &str) {
    throw_argument_error(sym::argument_type_error(), ce::type_error(), num, msg);
}

/// As `throw_argument_type_error`, with a `ValueError`.
pub fn throw_argument_value_error(num: u32, msg: &str) {
    throw_argument_error(sym::argument_value_error(), ce::value_error(), num, msg);
}

fn throw_argument_error(engine: Option<sym::ArgumentError>, class: &'static ClassEntry, num: u32, msg: &str) {
    if super::fiber::eg_exception() {
        return;
    }
    match (engine, CString::new(msg.replace('\0', "\\0"))) {
        // SAFETY: a printf-style engine function given the format "%s" and one
        // NUL-terminated string, inside a call from PHP (it reads the called function's
        // name and argument names from the current frame).
        (Some(f), Ok(text)) => unsafe { f(num, c"%s".as_ptr(), text.as_ptr()) },
        _ => exception(class, format!("Argument #{num} {msg}")).throw(),
    }
}

/// PHP's name for a value's type in error messages (`int`, `array`, `Foo\Bar`, …).
pub fn type_name(z: &Zval) -> String {
    if z.is_null() {
        "null".into()
    } else if z.is_bool() {
        "bool".into()
    } else if z.is_long() {
        "int".into()
    } else if z.is_double() {
        "float".into()
    } else if z.is_string() {
        "string".into()
    } else if z.is_array() {
        "array".into()
    } else if let Some(obj) = z.object() {
        obj.get_class_name().unwrap_or_else(|_| "object".into())
    } else {
        "mixed".into()
    }
}

/// The bytes of a string value inside an array argument; ints count as their decimal
/// form (array keys and header values given as numbers).
pub fn zval_bytes(z: &Zval) -> Option<std::borrow::Cow<'_, [u8]>> {
    if let Some(s) = z.zend_str() {
        return Some(std::borrow::Cow::Borrowed(s.as_bytes()));
    }
    z.long().map(|n| std::borrow::Cow::Owned(n.to_string().into_bytes()))
}
