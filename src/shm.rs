//! Memory shared by a process and the children it forks afterwards.
//!
//! Owns: making such a mapping. Its users lay it out: `table` (unmapped when the table
//! drops), and the workers' connection counts in `http::balance` and the rate limit's
//! shared buckets (never unmapped: copies live in forked processes until they exit).

/// `len` bytes of new memory, zero-filled, that every process forked after this call sees
/// at the same address (`MAP_SHARED | MAP_ANONYMOUS`).
pub fn map_shared(len: usize) -> std::io::Result<*mut u8> {
    // SAFETY: a fresh anonymous mapping at an address the kernel picks; nothing else is
    // touched.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len.max(1),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(std::io::Error::last_os_error());
    }
    Ok(p.cast())
}
