//! Appending to a byte buffer whose room was made beforehand: one capacity check for a
//! whole head or log line, then each piece stored without one, and short pieces without a
//! call to `memcpy` (an HTTP/1.1 head or an access-log line is a few dozen pieces of a few
//! bytes each; a check and a call per piece were about a third of the log writer's own
//! instructions, bench/RESULTS.md).
//!
//! Owns: `put_unchecked`, `Stack` (the same into a buffer on the stack) and the copy under
//! them. The callers own the arithmetic of their room (`answer::encode_head`, the access
//! log's `Line`, `stream_conn::send_chunks_now`), each with a test of its longest output.

/// Appends `b` to `out` without checking its capacity.
///
/// # Safety
/// `out` must have room for `b`: `out.capacity() - out.len() >= b.len()`.
#[inline(always)]
pub unsafe fn put_unchecked(out: &mut Vec<u8>, b: &[u8]) {
    let len = out.len();
    debug_assert!(out.capacity() - len >= b.len(), "a buffer outgrew the room made for it");
    // SAFETY: the caller made room for `b` after `len`; the bytes are written before the
    // length covers them.
    unsafe {
        copy_short(b, out.as_mut_ptr().add(len));
        out.set_len(len + b.len());
    }
}

/// A buffer of `N` bytes on the stack, filled by appends whose total the caller bounded
/// beforehand: not zeroed when made, and no capacity check per append.
pub struct Stack<const N: usize> {
    buf: [std::mem::MaybeUninit<u8>; N],
    len: usize,
}

impl<const N: usize> Default for Stack<N> {
    #[inline(always)]
    fn default() -> Self {
        Self { buf: [const { std::mem::MaybeUninit::uninit() }; N], len: 0 }
    }
}

impl<const N: usize> Stack<N> {
    /// Appends `b`.
    ///
    /// # Safety
    /// Everything appended, `b` included, must fit: at most `N` bytes in all.
    #[inline(always)]
    pub unsafe fn put(&mut self, b: &[u8]) {
        debug_assert!(N - self.len >= b.len(), "a stack buffer outgrew its room");
        // SAFETY: the caller keeps the total within `N`; `buf` and `b` do not overlap.
        unsafe { copy_short(b, self.buf.as_mut_ptr().add(self.len).cast()) };
        self.len += b.len();
    }

    /// The bytes appended.
    #[inline(always)]
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the first `len` bytes were written by `put`.
        unsafe { std::slice::from_raw_parts(self.buf.as_ptr().cast(), self.len) }
    }
}

/// Copies `src` to `dst` as two overlapping loads and stores of the widest word that fits,
/// or by `memcpy` past 32 bytes.
///
/// # Safety
/// `dst` must be valid for `src.len()` bytes of writes, not overlapping `src`.
#[inline(always)]
unsafe fn copy_short(src: &[u8], dst: *mut u8) {
    let (n, s) = (src.len(), src.as_ptr());
    // SAFETY: in each branch every read is within `src` and every write within `dst[..n]`.
    unsafe {
        if n > 32 {
            std::ptr::copy_nonoverlapping(s, dst, n);
        } else if n >= 16 {
            let (a, b) = (s.cast::<u128>().read_unaligned(), s.add(n - 16).cast::<u128>().read_unaligned());
            dst.cast::<u128>().write_unaligned(a);
            dst.add(n - 16).cast::<u128>().write_unaligned(b);
        } else if n >= 8 {
            let (a, b) = (s.cast::<u64>().read_unaligned(), s.add(n - 8).cast::<u64>().read_unaligned());
            dst.cast::<u64>().write_unaligned(a);
            dst.add(n - 8).cast::<u64>().write_unaligned(b);
        } else if n >= 4 {
            let (a, b) = (s.cast::<u32>().read_unaligned(), s.add(n - 4).cast::<u32>().read_unaligned());
            dst.cast::<u32>().write_unaligned(a);
            dst.add(n - 4).cast::<u32>().write_unaligned(b);
        } else if n > 0 {
            *dst = *s;
            *dst.add(n / 2) = *s.add(n / 2);
            *dst.add(n - 1) = *s.add(n - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every length up to past the `memcpy` threshold, after every offset into a buffer:
    /// exactly the bytes, nothing written past them.
    #[test]
    fn every_length_is_copied_exactly() {
        let src: Vec<u8> = (0..80u8).map(|b| b.wrapping_mul(37).wrapping_add(1)).collect();
        for n in 0..=src.len() {
            for start in 0..9 {
                let mut out = vec![0xee; start];
                out.reserve_exact(n + 16);
                // SAFETY: room for n bytes was made just above.
                unsafe { put_unchecked(&mut out, &src[..n]) };
                assert_eq!(&out[start..], &src[..n], "{n} bytes after {start}");
                assert!(out[..start].iter().all(|&b| b == 0xee));
            }
        }
    }

    #[test]
    fn a_stack_buffer_holds_exactly_what_was_put() {
        let src: Vec<u8> = (0..80u8).map(|b| b.wrapping_mul(29).wrapping_add(3)).collect();
        for n in 0..=src.len() {
            let mut buf = Stack::<200>::default();
            let mut want = Vec::new();
            for piece in [&src[..n], b"\r\n", &src[n / 2..n]] {
                // SAFETY: at most 80 + 2 + 40 bytes in a buffer of 200.
                unsafe { buf.put(piece) };
                want.extend_from_slice(piece);
            }
            assert_eq!(buf.bytes(), &want[..], "{n}");
        }
    }
}
