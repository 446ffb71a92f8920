//! PHP exceptions of the runtime and the one place Rust errors become them.
//!
//! Owns: the `Via\Exception` hierarchy (registered by hand in MINIT so that PHP code can
//! `new` and extend the classes), argument checks that produce PHP's own `TypeError` /
//! `ValueError` wording.
//!
//! PHP thread only.

use std::sync::OnceLock;

use ext_php_rs::builders::ClassBuilder;
use ext_php_rs::exception::PhpException;
use ext_php_rs::types::Zval;
use ext_php_rs::zend::{ce, ClassEntry};

use super::sym;

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

pub fn via_err(msg: impl Into<String>) -> PhpException {
    PhpException::new(msg.into(), 0, via_exception())
}

pub fn value_err(msg: impl Into<String>) -> PhpException {
    PhpException::new(msg.into(), 0, ce::value_error())
}

pub fn type_err(msg: impl Into<String>) -> PhpException {
    PhpException::new(msg.into(), 0, ce::type_error())
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

/// Seconds, finite and not negative.
pub fn arg_seconds(secs: f64, what: &str) -> Result<f64, PhpException> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(value_err(format!("{what} must be a finite number of seconds >= 0, {secs} given")));
    }
    Ok(secs)
}

/// A callable argument: typed `callable` in signatures and stubs, checked by the engine's
/// argument parsing, kept as the original value.
pub struct Callable<'a>(&'a Zval);

impl Callable<'_> {
    /// A new reference to the callable, to keep.
    pub fn to_zval(&self) -> Zval {
        self.0.shallow_clone()
    }
}

impl<'a> ext_php_rs::convert::FromZval<'a> for Callable<'a> {
    const TYPE: ext_php_rs::flags::DataType = ext_php_rs::flags::DataType::Callable;

    fn from_zval(zval: &'a Zval) -> Option<Self> {
        zval.is_callable().then_some(Self(zval))
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
