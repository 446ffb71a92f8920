//! Keeps new requests from taking PHP past its `memory_limit`.
//!
//! A request whose handler cannot get memory ends the process with PHP's fatal error
//! ("Allowed memory size … exhausted"), and every client with it. Clients can make the
//! server hold many handlers at once: a handler goes on after its client left, and an
//! HTTP/2 client that resets its streams frees their slots on the connection at once (one
//! connection started 7,550 `/slow` handlers in five seconds, ~20 KB of PHP memory each,
//! and the process ended at 128 MB). So a request that arrives while PHP's memory is
//! nearly used up is answered 503 by Rust, before any PHP code runs for it; handlers
//! already running keep their headroom, and requests are taken again once they freed it.
//! With `memory_limit = -1` there is nothing to guard.

use std::ffi::{c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ext_php_rs::ffi;

/// The Zend allocator's functions this module calls, found in the process when first
/// needed. Not linked by name: `cargo php stubs` loads the library into a process that
/// defines only ext-php-rs's bindings, and a function named here would fail that load.
struct ZendMm {
    /// The allocator's bytes in use (`real_usage`: the memory it holds).
    usage: unsafe extern "C" fn(real_usage: bool) -> usize,
    heap: unsafe extern "C" fn() -> *mut c_void,
    /// Gives back the allocator's cached chunks and free pages (`gc_mem_caches()`).
    gc: unsafe extern "C" fn(heap: *mut c_void) -> usize,
    /// Collects garbage cycles (`gc_collect_cycles()`).
    cycles: unsafe extern "C" fn() -> c_int,
}

fn zend_mm() -> Option<&'static ZendMm> {
    static MM: OnceLock<Option<ZendMm>> = OnceLock::new();
    MM.get_or_init(|| {
        let find = |name: &CStr| {
            // SAFETY: a lookup in the symbols the process has loaded (PHP's own).
            let f = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
            (!f.is_null()).then_some(f)
        };
        let (usage, heap, gc) =
            (find(c"zend_memory_usage")?, find(c"zend_mm_get_heap")?, find(c"zend_mm_gc")?);
        let cycles = find(c"zend_gc_collect_cycles")?;
        // SAFETY: the Zend API's functions of these signatures (zend_alloc.h, PHP 8.1 on).
        unsafe {
            Some(ZendMm {
                usage: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(bool) -> usize>(usage),
                heap: std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> *mut c_void>(heap),
                gc: std::mem::transmute::<*mut c_void, unsafe extern "C" fn(*mut c_void) -> usize>(gc),
                cycles: std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> c_int>(cycles),
            })
        }
    })
    .as_ref()
}

/// New requests are refused while more than this share of `memory_limit` is in use.
const REFUSE_ABOVE_PERCENT: usize = 85;

/// Whether the last request was refused (so the log tells the change of state once, not
/// every refusal). Only the PHP thread touches it.
static REFUSING: AtomicBool = AtomicBool::new(false);

/// Whether a request arriving now must be refused. Called on the PHP thread, per request:
/// a load and two calls that read one field each. Near the limit, what PHP keeps for reuse
/// is freed first (`reclaim`), and the request is refused only if that was not enough.
#[inline]
pub fn exhausted() -> bool {
    let over = over_limit().and_then(|over| if reclaim() { over_limit() } else { Some(over) });
    if over.is_some() != REFUSING.load(Ordering::Relaxed) {
        REFUSING.store(over.is_some(), Ordering::Relaxed);
        match over {
            Some((used, limit)) => {
                crate::warn!("refusing requests (503): PHP uses {used} bytes of its memory_limit of {limit}")
            }
            None => crate::info!("taking requests again: PHP's memory is below the guard's mark"),
        }
    }
    over.is_some()
}

/// Frees what PHP keeps for reuse: the pooled fibers, garbage cycles (PHP collects them
/// only as PHP code runs, and none runs while every request is refused), then the
/// allocator's caches (once a burst of thousands of handlers ended, these alone could keep
/// requests refused). At most every `RECLAIM_EVERY` (the allocator's walk is not for every
/// refused request); whether it ran.
fn reclaim() -> bool {
    thread_local! {
        static LAST: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
    }
    let now = Instant::now();
    if LAST.get().is_some_and(|at| now.duration_since(at) < RECLAIM_EVERY) {
        return false;
    }
    LAST.set(Some(now));
    super::runtime::release_pooled_fibers();
    if let Some(mm) = zend_mm() {
        // SAFETY: on the PHP thread, outside any borrow of the runtime (destructors may
        // run, as when PHP collects by itself during an allocation); its own heap.
        unsafe {
            (mm.cycles)();
            (mm.gc)((mm.heap)());
        }
    }
    true
}

/// The Zend allocator's chunk (`ZEND_MM_CHUNK_SIZE`).
const CHUNK: usize = 2 << 20;

/// How often `reclaim` runs at most.
const RECLAIM_EVERY: Duration = Duration::from_millis(100);

/// PHP's memory in use and its limit, when it is past the guard's mark.
#[inline]
fn over_limit() -> Option<(usize, usize)> {
    // SAFETY: `core_globals` is the process's (NTS) PHP globals, read on the PHP thread.
    let limit = unsafe { ffi::core_globals.memory_limit };
    if limit <= 0 {
        return None;
    }
    // The bytes allocated, and the memory the allocator holds (its 2 MiB chunks and huge
    // blocks): PHP checks the second against the limit when it needs a new chunk, and
    // serves small allocations from the free pages of the chunks it holds. So: refused
    // above the share of bytes in use, or when not one more chunk fits (fragmentation
    // alone could keep the held memory above the share, and refuse for good).
    // SAFETY: plain reads of the allocator's counters, on the PHP thread.
    let (used, held) = unsafe {
        let mm = zend_mm()?;
        ((mm.usage)(false), (mm.usage)(true))
    };
    let limit = limit as usize;
    (used > limit / 100 * REFUSE_ABOVE_PERCENT || held.saturating_add(CHUNK) > limit)
        .then_some((used.max(held), limit))
}
