//! The global allocator: mimalloc, entered by its plain functions whenever their
//! guarantees cover the layout asked for.
//!
//! Owns: the `#[global_allocator]` and the mimalloc option set when the library loads.
//! Does not own: anything that allocates (everything does, through it).
//!
//! Why not the `mimalloc` crate's `MiMalloc`: that adapter calls `mi_malloc_aligned` for
//! every layout, whose checks cost about 40 instructions more than `mi_malloc` for the same
//! block (callgrind, `bench/instructions.py`: ~6 allocations a request on the hello path).
//! Like std's `System` allocator, this one takes the plain path when the alignment asked
//! for is no more than the allocator's own guarantee, 16 bytes (`MI_MAX_ALIGN_SIZE`), and
//! no more than the size (a block of 8 bytes is 8-aligned, not 16).
//!
//! Why mimalloc at all: glibc's malloc serialises frees of memory another thread allocated;
//! requests are allocated on I/O threads and freed on the PHP thread and the other way
//! round. mimalloc frees across threads without a lock (measured in bench/RESULTS.md).

use std::alloc::{GlobalAlloc, Layout};
use std::os::raw::{c_int, c_long};

use libmimalloc_sys::{
    mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned, mi_zalloc, mi_zalloc_aligned,
};

unsafe extern "C" {
    /// In libmimalloc-sys only with its `extended` feature (and the `cty` crate it needs).
    fn mi_option_set(option: c_int, value: c_long);
}

/// What `mi_malloc` aligns every block of at least this size to (`MI_MAX_ALIGN_SIZE`).
const PLAIN_ALIGN: usize = 16;

/// Whether a block from `mi_malloc(size)` is aligned enough for `align`.
#[inline]
fn plain(size: usize, align: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

/// mimalloc as the process's allocator.
pub struct Mimalloc;

// SAFETY: every block comes from mimalloc and goes back to it (`mi_free` frees blocks of
// the plain and the aligned functions alike); the plain functions are only used where
// their alignment covers the layout's (`plain`), the aligned ones otherwise.
unsafe impl GlobalAlloc for Mimalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if plain(layout.size(), layout.align()) {
                mi_malloc(layout.size()).cast()
            } else {
                mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            if plain(layout.size(), layout.align()) {
                mi_zalloc(layout.size()).cast()
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator.
        unsafe { mi_free(ptr.cast()) };
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator; see the impl.
        unsafe {
            if plain(new_size, layout.align()) {
                mi_realloc(ptr.cast(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast(), new_size, layout.align()).cast()
            }
        }
    }
}

/// Commits mimalloc's arenas as they are used rather than up front: with eager commit the
/// server kept ~8 KiB more RSS per open event stream and 8 MiB more at rest (measured with
/// 4,000 streams; bench/RESULTS.md). Must run before mimalloc's first allocation, so it
/// runs when the library is loaded (`.init_array`), before any Rust code allocates.
pub extern "C" fn tune() {
    /// `mi_option_arena_eager_commit` in mimalloc.h (the same index in v2 and v3).
    const MI_OPTION_ARENA_EAGER_COMMIT: c_int = 4;
    // SAFETY: sets a process-wide option; mimalloc reads options atomically.
    unsafe { mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0) };
}

#[used]
#[link_section = ".init_array"]
static TUNE: extern "C" fn() = tune;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_have_the_alignment_asked_for() {
        let a = Mimalloc;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [1usize, 7, 8, 9, 15, 16, 24, 100, 1000, 70_000] {
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: a non-zero layout; every block is freed with its layout.
                unsafe {
                    let p = a.alloc(layout);
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0, "alloc size {size} align {align}");
                    p.write_bytes(0xA5, size);
                    let z = a.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0, "alloc_zeroed size {size} align {align}");
                    assert!(std::slice::from_raw_parts(z, size).iter().all(|&b| b == 0));
                    let r = a.realloc(p, layout, size * 3);
                    assert_eq!(r as usize % align, 0, "realloc size {size} align {align}");
                    assert!(std::slice::from_raw_parts(r, size).iter().all(|&b| b == 0xA5));
                    a.dealloc(r, Layout::from_size_align(size * 3, align).unwrap());
                    a.dealloc(z, layout);
                }
            }
        }
    }
}
