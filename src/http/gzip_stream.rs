//! A gzip encoder sized for one long-lived event stream among thousands: zlib (the system's
//! libz) with a chosen window and hash size, its big buffers on fresh anonymous pages.
//!
//! Owns: the deflate state of one stream. Does not own: flushing policy.
//!
//! Why not `flate2::write::GzEncoder`: its default backend (miniz_oxide) keeps ~440 KiB
//! per encoder, all of it written at creation, and flate2 cannot lower zlib's `memLevel`.
//! With zlib's allocation hooks, the window and pending buffer cost RSS only once data has
//! passed through them; the hash heads (zeroed by zlib) are sized by `memLevel`.
//!
//! Invariants: `strm` is boxed (zlib keeps a pointer to it in its state) and ended once.

use std::io;
use std::os::raw::{c_int, c_uint, c_void};

use libz_sys as z;

/// Allocations at least this big come from `mmap`, untouched until zlib writes them.
const MAP_MIN_BYTES: usize = 16 * 1024;
/// Room in front of every allocation: its size and where it came from, for `zfree`.
const HEADER: usize = 16;

unsafe extern "C" fn zalloc(_: *mut c_void, items: c_uint, size: c_uint) -> *mut c_void {
    let Some(len) = (items as usize).checked_mul(size as usize).and_then(|n| n.checked_add(HEADER)) else {
        return std::ptr::null_mut();
    };
    // SAFETY: plain libc allocation calls; the header is written inside the allocation.
    unsafe {
        let (base, mapped) = if len >= MAP_MIN_BYTES {
            let p = libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            );
            if p == libc::MAP_FAILED {
                return std::ptr::null_mut();
            }
            (p.cast::<u8>(), 1usize)
        } else {
            let p = libc::malloc(len);
            if p.is_null() {
                return p;
            }
            (p.cast::<u8>(), 0usize)
        };
        base.cast::<usize>().write(len);
        base.cast::<usize>().add(1).write(mapped);
        base.add(HEADER).cast()
    }
}

unsafe extern "C" fn zfree(_: *mut c_void, ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` came from `zalloc`, whose header sits right in front of it.
    unsafe {
        let base = ptr.cast::<u8>().sub(HEADER);
        let len = base.cast::<usize>().read();
        if base.cast::<usize>().add(1).read() == 1 {
            libc::munmap(base.cast(), len);
        } else {
            libc::free(base.cast());
        }
    }
}

pub struct GzipStream {
    strm: Box<z::z_stream>,
}

// SAFETY: a deflate stream has no thread affinity; `GzipStream` owns it exclusively.
unsafe impl Send for GzipStream {}

impl GzipStream {
    /// `window_bits` 9–15 (the window is 2^window_bits), `mem_level` 1–9 (hash heads of
    /// 2^(mem_level + 8) bytes, zeroed at creation).
    pub fn new(level: u32, window_bits: i32, mem_level: i32) -> io::Result<Self> {
        let mut strm = Box::new(z::z_stream {
            next_in: std::ptr::null_mut(),
            avail_in: 0,
            total_in: 0,
            next_out: std::ptr::null_mut(),
            avail_out: 0,
            total_out: 0,
            msg: std::ptr::null_mut(),
            state: std::ptr::null_mut(),
            zalloc,
            zfree,
            opaque: std::ptr::null_mut(),
            data_type: 0,
            adler: 0,
            reserved: 0,
        });
        // SAFETY: a fully initialised z_stream; +16 asks zlib for the gzip wrapper.
        let rc = unsafe {
            z::deflateInit2_(
                &mut *strm,
                level.min(9) as c_int,
                z::Z_DEFLATED,
                window_bits + 16,
                mem_level,
                z::Z_DEFAULT_STRATEGY,
                z::zlibVersion(),
                std::mem::size_of::<z::z_stream>() as c_int,
            )
        };
        if rc != z::Z_OK {
            return Err(io::Error::other(format!("zlib deflateInit2 failed ({rc})")));
        }
        Ok(Self { strm })
    }

    /// Compresses `chunk` and flushes (Z_SYNC_FLUSH): the bytes returned decode to all of it.
    pub fn flush(&mut self, chunk: &[u8]) -> io::Result<Vec<u8>> {
        self.deflate(chunk, z::Z_SYNC_FLUSH)
    }

    /// Ends the gzip member (trailer with CRC and length).
    pub fn finish(&mut self) -> io::Result<Vec<u8>> {
        self.deflate(&[], z::Z_FINISH)
    }

    fn deflate(&mut self, input: &[u8], mode: c_int) -> io::Result<Vec<u8>> {
        let mut out: Vec<u8> = Vec::with_capacity(input.len() / 2 + 64);
        let mut rest = input;
        loop {
            let take = rest.len().min(c_uint::MAX as usize);
            let strm = &mut *self.strm;
            strm.next_in = rest.as_ptr().cast_mut();
            strm.avail_in = take as c_uint;
            if out.capacity() - out.len() < 64 {
                out.reserve(4096);
            }
            let spare = (out.capacity() - out.len()).min(c_uint::MAX as usize);
            // SAFETY: next_out points at `spare` bytes of the vector's spare capacity.
            strm.next_out = unsafe { out.as_mut_ptr().add(out.len()) };
            strm.avail_out = spare as c_uint;
            // SAFETY: an initialised stream; the input and output pointers are valid for the
            // lengths given and outlive the call.
            let rc = unsafe { z::deflate(strm, mode) };
            let produced = spare - strm.avail_out as usize;
            let consumed = take - strm.avail_in as usize;
            // SAFETY: zlib wrote `produced` bytes into the spare capacity.
            unsafe { out.set_len(out.len() + produced) };
            rest = &rest[consumed..];
            strm.next_in = std::ptr::null_mut();
            strm.next_out = std::ptr::null_mut();
            match rc {
                z::Z_STREAM_END => return Ok(out),
                z::Z_OK | z::Z_BUF_ERROR => {
                    if mode != z::Z_FINISH && rest.is_empty() && strm.avail_out != 0 {
                        return Ok(out);
                    }
                    if rc == z::Z_BUF_ERROR && produced == 0 && consumed == 0 {
                        return Err(io::Error::other("zlib deflate made no progress"));
                    }
                }
                rc => return Err(io::Error::other(format!("zlib deflate failed ({rc})"))),
            }
        }
    }
}

impl Drop for GzipStream {
    fn drop(&mut self) {
        // SAFETY: initialised in `new`, ended only here.
        unsafe { z::deflateEnd(&mut *self.strm) };
    }
}

#[cfg(test)]
mod tests {
    use super::super::encoding::stream_check::{decode_prefix, flush_events};
    use super::*;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn every_flush_decodes_to_what_was_sent_so_far() {
        let mut enc = GzipStream::new(6, 15, 5).unwrap();
        let (mut wire, sent) = flush_events(
            |event| enc.flush(event).unwrap(),
            |wire| decode_prefix(flate2::read::GzDecoder::new(wire)),
            "gzip",
        );
        wire.extend(enc.finish().unwrap());
        assert_eq!(gunzip(&wire), sent);
    }

    #[test]
    fn large_chunks_and_empty_flushes_round_trip() {
        let mut enc = GzipStream::new(1, 12, 1).unwrap();
        let mut wire = Vec::new();
        let mut sent = Vec::new();
        for size in [0, 1, 300_000, 0, 70_000] {
            let chunk: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
            sent.extend_from_slice(&chunk);
            wire.extend(enc.flush(&chunk).unwrap());
        }
        wire.extend(enc.finish().unwrap());
        assert_eq!(gunzip(&wire), sent);
    }

    #[test]
    fn bad_parameters_are_an_error() {
        assert!(GzipStream::new(6, 20, 5).is_err());
        assert!(GzipStream::new(6, 15, 0).is_err());
    }
}
