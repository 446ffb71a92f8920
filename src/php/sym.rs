//! PHP engine symbols that ext-php-rs does not bind, resolved at run time.
//!
//! Why `dlsym` and not `extern`: `cargo php stubs` loads the .so into a process without
//! PHP, and an undefined reference to a symbol ext-php-rs does not itself provide makes
//! that load fail (toolchain notes). Resolved on first use, on the PHP thread.

use std::ffi::{c_char, c_void, CStr};
use std::sync::OnceLock;

use ext_php_rs::ffi::{zend_class_entry, zend_long, zend_object, zend_string, zval};
use ext_php_rs::zend::ClassEntry;

fn lookup(name: &CStr) -> *mut c_void {
    // SAFETY: dlsym with RTLD_DEFAULT only reads the loaded symbol tables.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
}

/// A `zend_class_entry *` global exported by PHP (e.g. `zend_ce_fiber`).
fn class_global(name: &CStr) -> Option<&'static ClassEntry> {
    let slot = lookup(name) as *const *mut zend_class_entry;
    if slot.is_null() {
        return None;
    }
    // SAFETY: the symbol is a `zend_class_entry *` variable that PHP sets during its own
    // startup, before any extension code runs, and never frees before process exit.
    unsafe { (*slot).as_ref() }
}

struct Ptr(usize);

/// `\Fiber`.
pub fn fiber_ce() -> &'static ClassEntry {
    static CE: OnceLock<Ptr> = OnceLock::new();
    let p = CE.get_or_init(|| Ptr(class_global(c"zend_ce_fiber").map_or(0, |c| c as *const _ as usize)));
    assert!(p.0 != 0, "PHP has no Fiber class (PHP >= 8.1 is required)");
    // SAFETY: checked non-null above; a class entry lives for the whole process.
    unsafe { &*(p.0 as *const ClassEntry) }
}

/// `\RuntimeException` (SPL is always compiled in).
pub fn runtime_exception_ce() -> &'static ClassEntry {
    class_global(c"spl_ce_RuntimeException").unwrap_or_else(ext_php_rs::zend::ce::exception)
}

type ExitCheck = unsafe extern "C" fn(*const zend_object) -> bool;

fn exit_check(name: &CStr, cache: &OnceLock<usize>) -> Option<ExitCheck> {
    let p = *cache.get_or_init(|| lookup(name) as usize);
    // SAFETY: the symbol, when present, is a function with exactly this signature in
    // PHP 8.1+ (`bool zend_is_unwind_exit(const zend_object *ex)`).
    (p != 0).then(|| unsafe { std::mem::transmute::<usize, ExitCheck>(p) })
}

/// `exit()` inside PHP 8 unwinds with this internal exception.
pub fn is_unwind_exit(obj: *const zend_object) -> bool {
    static F: OnceLock<usize> = OnceLock::new();
    // SAFETY: obj points to a live exception object owned by the engine.
    exit_check(c"zend_is_unwind_exit", &F).is_some_and(|f| unsafe { f(obj) })
}

/// `zend_clear_exception()`: drops the pending exception the way the engine does.
pub fn clear_exception() {
    static F: OnceLock<usize> = OnceLock::new();
    let p = *F.get_or_init(|| lookup(c"zend_clear_exception") as usize);
    if p != 0 {
        // SAFETY: `void zend_clear_exception(void)` exists in every PHP 8 engine.
        unsafe { std::mem::transmute::<usize, unsafe extern "C" fn()>(p)() }
    }
}

/// `zend_throw_unwind_exit()`: what `exit` does — the script unwinds and PHP shuts down
/// cleanly once the current internal function returns.
pub fn throw_unwind_exit() {
    static F: OnceLock<usize> = OnceLock::new();
    let p = *F.get_or_init(|| lookup(c"zend_throw_unwind_exit") as usize);
    if p != 0 {
        // SAFETY: `void zend_throw_unwind_exit(void)` is exported by PHP 8.0+.
        unsafe { std::mem::transmute::<usize, unsafe extern "C" fn()>(p)() }
    }
}

/// `display_ini_entries(module)`: prints the extension's INI table in phpinfo().
pub fn display_ini_entries(module: *mut ext_php_rs::zend::ModuleEntry) {
    let p = lookup(c"display_ini_entries") as usize;
    if p != 0 {
        // SAFETY: `void display_ini_entries(zend_module_entry *module)` is exported by
        // PHP's main/; `module` is the entry the engine passed to our info hook.
        unsafe {
            std::mem::transmute::<usize, unsafe extern "C" fn(*mut ext_php_rs::zend::ModuleEntry)>(p)(module)
        }
    }
}

/// `CG(unclean_shutdown)`: set by `_zend_bailout` (fatal errors), not by `exit()`.
pub fn unclean_shutdown() -> bool {
    // SAFETY: the compiler globals are a static of the engine; reading one bool.
    unsafe { (*ext_php_rs::ffi::ext_php_rs_compiler_globals()).unclean_shutdown }
}

/// An engine function, looked up once: `$name() -> Option<$ty>`.
macro_rules! engine_fn {
    ($(#[$doc:meta])* $name:ident: $ty:ty = $symbol:literal) => {
        $(#[$doc])*
        pub fn $name() -> Option<$ty> {
            static P: OnceLock<usize> = OnceLock::new();
            let p = *P.get_or_init(|| lookup($symbol) as usize);
            // SAFETY: the symbol, when present, is a function with exactly this signature in
            // every PHP 8 engine (Zend/zend_API.h; ZEND_FASTCALL is the C convention on
            // x86-64 and aarch64).
            (p != 0).then(|| unsafe { std::mem::transmute::<usize, $ty>(p) })
        }
    };
}

/// `bool zend_parse_arg_*_slow(zval *arg, T *dest, uint32_t arg_num)`: the conversion of a
/// scalar parameter that is not already of its type, by the caller's typing mode.
pub type ParseArg<T> = unsafe extern "C" fn(*mut zval, *mut T, u32) -> bool;

/// `void zend_argument_{type,value}_error(uint32_t arg_num, const char *format, ...)`.
pub type ArgumentError = unsafe extern "C" fn(u32, *const c_char, ...);

engine_fn!(
    /// int parameters: numeric strings, integral floats, bools; null deprecated.
    parse_arg_long: ParseArg<zend_long> = c"zend_parse_arg_long_slow"
);
engine_fn!(
    /// float parameters: ints (strict mode too), numeric strings, bools; null deprecated.
    parse_arg_double: ParseArg<f64> = c"zend_parse_arg_double_slow"
);
engine_fn!(
    /// bool parameters: ints, floats, strings; null deprecated.
    parse_arg_bool: ParseArg<bool> = c"zend_parse_arg_bool_slow"
);
engine_fn!(
    /// string parameters: ints, floats, bools, Stringable objects (converts `arg` in place).
    parse_arg_str: ParseArg<*mut zend_string> = c"zend_parse_arg_str_slow"
);
engine_fn!(
    /// "<function>(): Argument #n ($name) <message>" as a TypeError.
    argument_type_error: ArgumentError = c"zend_argument_type_error"
);
engine_fn!(
    /// "<function>(): Argument #n ($name) <message>" as a ValueError.
    argument_value_error: ArgumentError = c"zend_argument_value_error"
);
engine_fn!(
    /// `const char *zend_zval_value_name(const zval *)` (PHP 8.3+): what "… given" says.
    zval_value_name_83: unsafe extern "C" fn(*const zval) -> *const c_char = c"zend_zval_value_name"
);
engine_fn!(
    /// `const char *zend_zval_type_name(const zval *)`: what "… given" says before 8.3.
    zval_type_name: unsafe extern "C" fn(*const zval) -> *const c_char = c"zend_zval_type_name"
);

/// The engine's name of a value in "… given" messages, for the running PHP version.
pub fn zval_value_name() -> Option<unsafe extern "C" fn(*const zval) -> *const c_char> {
    zval_value_name_83().or_else(zval_type_name)
}
