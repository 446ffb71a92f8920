//! This process's id, cached: `getpid()` is a system call, and the table's lock records its
//! owner on every acquisition (it was ~30 % of a `Via\Table` call).
//!
//! Invariant: a forked child never sees its parent's id — a `pthread_atfork` child handler
//! (registered on first use, before any fork that matters) clears the cache, and the next
//! call reads the child's own id. Raw `clone` without glibc's `fork` is not used.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Once;

static PID: AtomicU32 = AtomicU32::new(0);
static HOOK: Once = Once::new();

extern "C" fn forget() {
    PID.store(0, Ordering::Relaxed);
}

/// This process's id.
#[inline]
pub fn current() -> u32 {
    match PID.load(Ordering::Relaxed) {
        0 => refresh(),
        pid => pid,
    }
}

#[cold]
fn refresh() -> u32 {
    HOOK.call_once(|| {
        // SAFETY: registers a handler that only stores to an atomic, which is
        // async-signal-safe in the child after fork.
        unsafe { libc::pthread_atfork(None, None, Some(forget)) };
    });
    let pid = std::process::id();
    PID.store(pid, Ordering::Relaxed);
    pid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forked_child_sees_its_own_id() {
        let parent = current();
        assert_eq!(parent, std::process::id());
        let (r, w) = {
            let mut fds = [0; 2];
            // SAFETY: a pipe into a two-int array.
            assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
            (fds[0], fds[1])
        };
        // SAFETY: the child only calls async-signal-safe functions (getpid via `current`
        // reads an atomic and makes one syscall; write; _exit).
        match unsafe { libc::fork() } {
            0 => {
                // SAFETY: getpid, one byte written to our pipe, then leaving without unwinding.
                unsafe {
                    let ok = u8::from(current() != parent && current() == libc::getpid() as u32);
                    libc::write(w, (&ok as *const u8).cast(), 1);
                    libc::_exit(0);
                }
            }
            child => {
                let mut ok = 0u8;
                // SAFETY: reading one byte from our pipe; reaping our child.
                unsafe {
                    libc::read(r, (&mut ok as *mut u8).cast(), 1);
                    libc::waitpid(child, std::ptr::null_mut(), 0);
                    libc::close(r);
                    libc::close(w);
                }
                assert_eq!(ok, 1, "the child saw its parent's id");
            }
        }
    }
}
