//! Arguments of via's functions and methods, converted the way PHP converts the arguments
//! of its own internal functions.
//!
//! Owns: the parameter types every `#[php_impl]`/`#[php_function]` signature uses for
//! scalars, strings, arrays and callables (`Int`, `Float`, `Bool`, `Str`, `ByteStr`, `Array`,
//! `Callable`), and the checks of durations given in seconds.
//! Does not own: the exception classes and their construction (`errors`).
//!
//! Why: ext-php-rs converts `i64`, `f64`, `String`… strictly and reports a mismatch as
//! "Invalid value given for argument `port`." These types apply PHP's rules instead
//! (docs/decisions/0010-php-argument-coercion.md): outside `strict_types` the engine's own
//! `zend_parse_arg_*_slow` helpers coerce (`"8080"` → 8080, `1` → 1.0, `null` → 0 with
//! PHP's deprecation), under `declare(strict_types=1)` only int → float is widened; a value
//! that does not fit raises PHP's TypeError ("Via\Server::__construct(): Argument #2
//! ($port) must be of type int, array given"). The code the macro generates then throws
//! nothing: `PhpException::throw` leaves a pending exception alone.
//!
//! How a conversion knows which argument it converts: the zval it is given is a slot of
//! the frame of the function being called (`EG(current_execute_data)`, arguments are never
//! copied out of it), so its index is the argument number, and the function's `arg_info`
//! says whether null is allowed. A zval from anywhere else is refused without a message
//! (the macro's own TypeError follows), which never happens for via's signatures.
//!
//! Invariants: PHP thread only, inside a call from PHP; values are converted in the frame
//! or in a temporary copy, never in a caller's variable.

use std::borrow::Cow;
use std::ops::Deref;
use std::time::Duration;

use ext_php_rs::convert::{FromZval, StubLiteral};
use ext_php_rs::exception::PhpResult;
use ext_php_rs::ffi;
use ext_php_rs::flags::DataType;
use ext_php_rs::types::{ZendHashTable, ZendStr, Zval};

use super::errors::{throw_argument_type_error, throw_argument_value_error, type_name, value_err};
use super::fiber;
use super::sym;

/// An argument's place in the call being made.
#[derive(Clone, Copy)]
struct Slot {
    /// 1-based, as in PHP's messages.
    num: u32,
    /// The parameter is declared `?type`.
    nullable: bool,
}

/// `ZEND_CALL_FRAME_SLOT`: the arguments start this many zvals after the frame's header.
fn call_frame_slot() -> usize {
    // ZEND_MM_ALIGNED_SIZE: the engine's allocations are 8-byte aligned.
    let aligned = |n: usize| (n + 7) & !7;
    let zval = aligned(std::mem::size_of::<ffi::zval>());
    aligned(std::mem::size_of::<ffi::zend_execute_data>()).div_ceil(zval)
}

/// Where `z` sits among the arguments of the function being called, if it is one of them.
fn slot_of(z: &Zval) -> Option<Slot> {
    // SAFETY: the executor globals are a static of the engine. Inside a call from PHP,
    // `current_execute_data` is the frame of the internal function being called (the
    // engine sets it before calling the handler): its `func`, its argument count and its
    // argument slots (`ZEND_CALL_ARG`) are valid for the whole call. Only addresses are
    // compared (no reference to a slot is made); `arg_info` has `num_args` entries, one
    // more when the function is variadic.
    unsafe {
        let ex = (*ffi::ext_php_rs_executor_globals()).current_execute_data;
        if ex.is_null() || (*ex).func.is_null() {
            return None;
        }
        let count = (*ex).This.u2.num_args as usize;
        let size = std::mem::size_of::<Zval>();
        let first = ex as usize + call_frame_slot() * size;
        let offset = (z as *const Zval as usize).checked_sub(first)?;
        let index = offset / size;
        if offset % size != 0 || index >= count {
            return None;
        }
        let common = &(*(*ex).func).common;
        let declared = common.num_args as usize;
        let info = if index < declared {
            index
        } else if common.fn_flags & ffi::ZEND_ACC_VARIADIC != 0 {
            declared
        } else {
            return None;
        };
        let nullable = !common.arg_info.is_null()
            && (*common.arg_info.add(info)).type_.type_mask & ffi::_ZEND_TYPE_NULLABLE_BIT != 0;
        Some(Slot { num: u32::try_from(index + 1).ok()?, nullable })
    }
}

/// Throws PHP's "must be of type T, X given" for `z` and returns None.
fn mismatch<T>(slot: Slot, expected: &str, z: &Zval) -> Option<T> {
    let q = if slot.nullable { "?" } else { "" };
    throw_argument_type_error(slot.num, &format!("must be of type {q}{expected}, {} given", given(z)));
    None
}

/// The engine's name for a value's type in "… given" (`string`, `array`, a class name;
/// PHP 8.3+ says `true`/`false` for bools, and so do these messages there).
fn given(z: &Zval) -> String {
    match sym::zval_value_name() {
        // SAFETY: `z` is a live zval; the function returns a static or interned C string.
        Some(f) => unsafe { std::ffi::CStr::from_ptr(f(z as *const Zval as *const ffi::zval)) }
            .to_string_lossy()
            .into_owned(),
        None => type_name(z),
    }
}

/// Converts a parameter that is not already of its type with one of the engine's
/// `zend_parse_arg_*_slow` helpers — PHP's coercion of a scalar parameter, strict mode
/// included — and `read`s the result while the converted value is alive. Throws PHP's
/// TypeError when the helper refuses (unless the engine threw already, e.g. a deprecation
/// turned into an exception by an error handler).
fn coerce<T, R>(
    z: &Zval,
    expected: &str,
    parse: Option<sym::ParseArg<T>>,
    mut out: T,
    read: impl FnOnce(T) -> Option<R>,
) -> Option<R> {
    let slot = slot_of(z)?;
    if z.is_null() && slot.nullable {
        // `Option<…>` turns this into `None`.
        return None;
    }
    // The string helper converts its argument in place: it gets a copy, so the caller's
    // value (the frame's slot) stays as it was.
    let mut copy = z.shallow_clone();
    // SAFETY: `copy` is a live zval owned here and `out` a valid destination; the helper
    // reads the strictness of the calling frame from the executor globals, inside a call
    // from PHP.
    let ok =
        parse.is_some_and(|f| unsafe { f(&mut copy as *mut Zval as *mut ffi::zval, &mut out, slot.num) });
    if fiber::eg_exception() {
        return None;
    }
    match ok.then(|| read(out)).flatten() {
        Some(v) => Some(v),
        None => mismatch(slot, expected, z),
    }
}

/// The type byte of a zval (`Z_TYPE`), for the in-line tests of the usual case.
#[inline]
fn type_of(z: &Zval) -> u32 {
    // SAFETY: every zval has its type byte set.
    u32::from(unsafe { z.u1.v.type_ })
}

#[inline]
fn exact_long(z: &Zval) -> Option<i64> {
    if type_of(z) != ffi::IS_LONG {
        return None;
    }
    // SAFETY: an IS_LONG zval holds `lval` (of another type, it may be unset).
    Some(unsafe { z.value.lval })
}

#[inline]
fn exact_double(z: &Zval) -> Option<f64> {
    if type_of(z) != ffi::IS_DOUBLE {
        return None;
    }
    // SAFETY: an IS_DOUBLE zval holds `dval` (of another type, it may be unset).
    Some(unsafe { z.value.dval })
}

#[inline]
fn exact_bool(z: &Zval) -> Option<bool> {
    match type_of(z) {
        ffi::IS_TRUE => Some(true),
        ffi::IS_FALSE => Some(false),
        _ => None,
    }
}

macro_rules! scalar_arg {
    ($(#[$doc:meta])* $name:ident($inner:ty), $data:expr, $php:literal, $exact:ident, $fast:ident, $parse:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name(pub $inner);

        impl FromZval<'_> for $name {
            const TYPE: DataType = $data;

            // The exact type in line at the parameter; anything else out of line.
            #[inline]
            fn from_zval(z: &Zval) -> Option<Self> {
                match $exact(z) {
                    Some(v) => Some(Self(v)),
                    None => Self::other(z),
                }
            }
        }

        impl $name {
            #[inline(never)]
            fn other(z: &Zval) -> Option<Self> {
                match z.$fast() {
                    Some(v) => Some(Self(v)),
                    None => coerce(z, $php, sym::$parse(), Default::default(), |v| Some(Self(v))),
                }
            }
        }

        impl Deref for $name {
            type Target = $inner;

            fn deref(&self) -> &$inner {
                &self.0
            }
        }

        impl From<$inner> for $name {
            fn from(v: $inner) -> Self {
                Self(v)
            }
        }

        impl StubLiteral for $name {
            fn stub_literal(&self) -> String {
                self.0.stub_literal()
            }
        }
    };
}

scalar_arg!(
    /// An `int` parameter.
    Int(i64), DataType::Long, "int", exact_long, long, parse_arg_long
);
scalar_arg!(
    /// A `float` parameter (an int is widened in strict mode too).
    Float(f64), DataType::Double, "float", exact_double, double, parse_arg_double
);
scalar_arg!(
    /// A `bool` parameter.
    Bool(bool), DataType::Bool, "bool", exact_bool, bool, parse_arg_bool
);

/// The bytes of a `string` parameter after PHP's coercion (ints, floats, bools and
/// Stringable objects become strings outside strict mode).
///
/// In line at each parameter: a string is the usual case, and its test is one byte
/// compared (ext-php-rs's `zend_str` is a call that also looks behind references, which
/// the generated code has already done). Anything else goes out of line.
#[inline]
fn string_bytes(z: &Zval) -> Option<Cow<'_, [u8]>> {
    if type_of(z) == ffi::IS_STRING {
        // SAFETY: an IS_STRING zval holds a live `zend_string` in `str_`, alive as long
        // as the zval is.
        if let Some(s) = unsafe { z.value.str_.cast::<ZendStr>().as_ref() } {
            return Some(Cow::Borrowed(s.as_bytes()));
        }
    }
    other_string_bytes(z)
}

#[inline(never)]
fn other_string_bytes(z: &Zval) -> Option<Cow<'_, [u8]>> {
    if let Some(s) = z.zend_str() {
        return Some(Cow::Borrowed(s.as_bytes()));
    }
    coerce(z, "string", sym::parse_arg_str(), std::ptr::null_mut(), |s: *mut ffi::zend_string| {
        // SAFETY: the helper returned the string now held by the converted copy, which
        // `coerce` keeps alive while this reads it.
        let s = unsafe { s.cast::<ZendStr>().as_ref() }?;
        Some(Cow::Owned(s.as_bytes().to_vec()))
    })
}

/// A `string` parameter taken as bytes (bodies, header names and values, keys, payloads).
pub struct ByteStr<'a>(Cow<'a, [u8]>);

impl<'a> FromZval<'a> for ByteStr<'a> {
    const TYPE: DataType = DataType::String;

    #[inline]
    fn from_zval(z: &'a Zval) -> Option<Self> {
        string_bytes(z).map(Self)
    }
}

impl Deref for ByteStr<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

/// A `string` parameter that must be valid UTF-8 (names, topics, DSNs); other bytes are a
/// ValueError.
#[derive(Debug)]
pub struct Str<'a>(Cow<'a, str>);

impl<'a> FromZval<'a> for Str<'a> {
    const TYPE: DataType = DataType::String;

    fn from_zval(z: &'a Zval) -> Option<Self> {
        let valid = match string_bytes(z)? {
            Cow::Borrowed(b) => std::str::from_utf8(b).ok().map(Cow::Borrowed),
            Cow::Owned(v) => String::from_utf8(v).ok().map(Cow::Owned),
        };
        if valid.is_none() {
            if let Some(slot) = slot_of(z) {
                throw_argument_value_error(slot.num, "must be valid UTF-8");
            }
        }
        valid.map(Self)
    }
}

impl Str<'_> {
    pub fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl Deref for Str<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Str<'_> {
    fn from(s: &str) -> Self {
        Self(Cow::Owned(s.to_owned()))
    }
}

impl StubLiteral for Str<'_> {
    fn stub_literal(&self) -> String {
        self.0.stub_literal()
    }
}

/// An `array` parameter (arrays are never coerced from anything).
pub struct Array<'a>(&'a ZendHashTable);

impl<'a> FromZval<'a> for Array<'a> {
    const TYPE: DataType = DataType::Array;

    #[inline]
    fn from_zval(z: &'a Zval) -> Option<Self> {
        if type_of(z) == ffi::IS_ARRAY {
            // SAFETY: an IS_ARRAY zval holds a live array in `arr`.
            if let Some(a) = unsafe { z.value.arr.as_ref() } {
                return Some(Self(a));
            }
        }
        Self::other(z)
    }
}

impl<'a> Array<'a> {
    #[inline(never)]
    fn other(z: &'a Zval) -> Option<Self> {
        if let Some(a) = z.array() {
            return Some(Self(a));
        }
        let slot = slot_of(z)?;
        if z.is_null() && slot.nullable {
            return None;
        }
        mismatch(slot, "array", z)
    }
}

impl Deref for Array<'_> {
    type Target = ZendHashTable;

    fn deref(&self) -> &ZendHashTable {
        self.0
    }
}

/// A `callable` parameter, kept as the original value.
pub struct Callable<'a>(&'a Zval);

impl Callable<'_> {
    /// A new reference to the callable, to keep.
    pub fn to_zval(&self) -> Zval {
        self.0.shallow_clone()
    }
}

impl<'a> FromZval<'a> for Callable<'a> {
    const TYPE: DataType = DataType::Callable;

    fn from_zval(z: &'a Zval) -> Option<Self> {
        if z.is_callable() {
            return Some(Self(z));
        }
        let slot = slot_of(z)?;
        if z.is_null() && slot.nullable {
            return None;
        }
        let why = not_callable_reason(z).unwrap_or_else(|| format!("{} given", given(z)));
        throw_argument_type_error(slot.num, &format!("must be a valid callback, {why}"));
        None
    }
}

/// The engine's explanation of why `z` cannot be called ("function \"nope\" not found or
/// invalid function name", "no array or string given", …).
fn not_callable_reason(z: &Zval) -> Option<String> {
    let mut error: *mut std::os::raw::c_char = std::ptr::null_mut();
    // SAFETY: `z` is a live zval (`zend_is_callable_ex` does not modify a plain callable
    // check's input); `error` receives an emalloc'd C string or stays null; it is copied
    // and freed with the engine's allocator.
    unsafe {
        let ok = ffi::zend_is_callable_ex(
            z as *const Zval as *mut ffi::zval,
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut error,
        );
        if error.is_null() {
            return None;
        }
        let why = std::ffi::CStr::from_ptr(error).to_string_lossy().into_owned();
        ext_php_rs::alloc::efree(error.cast());
        (!ok).then_some(why)
    }
}

/// Longest duration an argument or option may give: 365 days. Longer is a mistake, or
/// means "no limit", which timeouts spell as null.
pub const MAX_SECONDS: f64 = crate::config::MAX_DURATION_SECS;
/// Shortest interval of `Timer::tick()`: a shorter one would fire on every turn of the
/// loop and starve every other task and timer.
pub const MIN_TICK_SECONDS: f64 = 0.001;

/// A delay or interval in seconds, `min` ≤ `secs` ≤ `MAX_SECONDS`; a ValueError otherwise.
/// `what` names the argument as PHP does ("Via\sleep(): Argument #1 ($seconds)").
pub fn duration_arg(secs: f64, min: f64, what: &str) -> PhpResult<Duration> {
    if !(min..=MAX_SECONDS).contains(&secs) {
        return Err(value_err(format!(
            "{what} must be between {} and {} seconds, {} given",
            crate::config::format_seconds(min),
            crate::config::format_seconds(MAX_SECONDS),
            crate::config::format_seconds(secs)
        )));
    }
    Ok(Duration::try_from_secs_f64(secs).unwrap_or(Duration::ZERO))
}

/// A timeout in seconds where there may be none: null, a negative number, INF or more
/// than `MAX_SECONDS` all mean no limit (None); 0 means do not wait; NaN is a ValueError.
pub fn timeout_arg(timeout: Option<f64>, what: &str) -> PhpResult<Option<Duration>> {
    match timeout {
        Some(t) if t.is_nan() => Err(value_err(format!("{what} must be a number of seconds, NAN given"))),
        Some(t) if (0.0..=MAX_SECONDS).contains(&t) => {
            Ok(Some(Duration::try_from_secs_f64(t).unwrap_or(Duration::ZERO)))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_start_where_ext_php_rs_reads_them() {
        // A zeroed frame with room for its header and a few arguments.
        let frame = vec![0u128; 32];
        let base = frame.as_ptr() as usize;
        // SAFETY: all-zero bytes are a valid `zend_execute_data` (pointers, integers and
        // unions of them); `zend_call_arg` only computes an address inside `frame`.
        let first = unsafe {
            let ex = &*(frame.as_ptr() as *const ext_php_rs::zend::ExecuteData);
            ex.zend_call_arg(0).map(|z| z as *mut Zval as usize)
        };
        assert_eq!(first, Some(base + call_frame_slot() * std::mem::size_of::<Zval>()));
    }
}
