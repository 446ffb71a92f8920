//! A Brotli encoder sized for one long-lived event stream among thousands.
//!
//! Owns: the encoder state of one stream, its hash table and where its big tables live.
//! Does not own: flushing policy (the stream body flushes after every event).
//!
//! Why not `brotli::CompressorWriter`: the crate picks hash tables of 256 KiB (quality 2–3),
//! 512 KiB (quality 4) or 24 MiB (quality 5+ with a 64 KiB window) and zeroes them, and
//! zeroes the ring buffer too: ~340–900 KiB of RSS per stream before the second event
//! (measured; bench/RESULTS.md). Here the same state machine gets
//! - a hash table of 2^10 buckets × 4 slots (16 KiB), installed before the first byte —
//!   the encoder keeps a hasher it finds already set up;
//! - its integer tables and ring buffer from fresh anonymous pages, so they cost RSS only
//!   where the encoder has written: an idle stream holds a few KiB, a busy one at most the
//!   window's worth.
//!
//! Invariants: pages from `mmap` are zero-filled, which is the `Default` of the integer
//! types (`Int`) `PageAlloc` serves; nothing else is allocated that way.

use std::ptr::NonNull;

use brotli::enc::backward_references::{AdvHasher, BrotliHasherParams, H5Sub, H9Opts, Struct1, UnionHasher};
use brotli::enc::combined_alloc::CombiningAllocator;
use brotli::enc::encode::{
    BrotliEncoderDestroyInstance, BrotliEncoderOperation, BrotliEncoderParameter, BrotliEncoderStateStruct,
};
use brotli::enc::{Allocator, SliceWrapper, SliceWrapperMut, StandardAlloc};

/// Hash table: 2^10 buckets of 2^2 positions (16 KiB). Every stored position lands on a
/// random slot, so the whole table is resident after the first event: its size is the
/// idle cost. Brotli's own tables for qualities 2–4 hold 64–128 Ki positions; on Datastar
/// events 4 Ki give 62.7× where 16 Ki give 63.4× (bench/RESULTS.md).
const BUCKET_BITS: i32 = 10;
const BLOCK_BITS: i32 = 2;

/// Tables at least this big come from `mmap`: below it, a page or two of slack per
/// allocation would cost more than it saves.
const MAP_MIN_BYTES: usize = 16 * 1024;

/// The integer types whose zero is all-zero bytes, as fresh pages are.
pub trait Int: Copy + Default {}
impl Int for u8 {}
impl Int for u16 {}
impl Int for i32 {}
impl Int for u32 {}

/// Integer tables: mapped pages when big, zeroed heap memory otherwise.
pub struct Pages<T: Int> {
    ptr: NonNull<T>,
    len: usize,
    mapped: bool,
}

// SAFETY: `Pages` owns its memory exclusively, like a `Box<[T]>`.
unsafe impl<T: Int + Send> Send for Pages<T> {}

impl<T: Int> Pages<T> {
    fn empty() -> Self {
        Self { ptr: NonNull::dangling(), len: 0, mapped: false }
    }

    /// `len` zeroes.
    fn zeroed(len: usize) -> Self {
        let bytes = len.saturating_mul(std::mem::size_of::<T>());
        if len == 0 {
            return Self::empty();
        }
        if bytes >= MAP_MIN_BYTES {
            // SAFETY: a private anonymous mapping of `bytes`; checked for failure below.
            let p = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    bytes,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED {
                if let Some(ptr) = NonNull::new(p.cast::<T>()) {
                    return Self { ptr, len, mapped: true };
                }
            }
        }
        let boxed: Box<[T]> = vec![T::default(); len].into_boxed_slice();
        let ptr = NonNull::new(Box::into_raw(boxed).cast::<T>()).expect("Box pointers are not null");
        Self { ptr, len, mapped: false }
    }
}

impl<T: Int> Default for Pages<T> {
    fn default() -> Self {
        Self::empty()
    }
}

impl<T: Int> SliceWrapper<T> for Pages<T> {
    fn slice(&self) -> &[T] {
        // SAFETY: `ptr` points to `len` initialised values owned by `self` (dangling and 0
        // for the empty slice, which is allowed).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Int> SliceWrapperMut<T> for Pages<T> {
    fn slice_mut(&mut self) -> &mut [T] {
        // SAFETY: as in `slice`, and `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T: Int> Drop for Pages<T> {
    fn drop(&mut self) {
        if self.len == 0 {
            return;
        }
        if self.mapped {
            // SAFETY: the mapping made in `zeroed`, of this size, unmapped once.
            unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len * std::mem::size_of::<T>()) };
        } else {
            // SAFETY: the box leaked in `zeroed`, of this length, reclaimed once.
            drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len)) });
        }
    }
}

/// Serves the integer tables of the encoder (ring buffer, hash table, scratch).
#[derive(Default, Clone, Copy)]
pub struct PageAlloc;

macro_rules! page_alloc {
    ($($t:ty),*) => {$(
        impl Allocator<$t> for PageAlloc {
            type AllocatedMemory = Pages<$t>;
            fn alloc_cell(&mut self, len: usize) -> Pages<$t> {
                Pages::zeroed(len)
            }
            fn free_cell(&mut self, data: Pages<$t>) {
                drop(data);
            }
        }
    )*};
}
page_alloc!(u8, u16, i32, u32);

type StreamAlloc = CombiningAllocator<
    PageAlloc,
    PageAlloc,
    PageAlloc,
    PageAlloc,
    StandardAlloc,
    StandardAlloc,
    StandardAlloc,
    StandardAlloc,
    StandardAlloc,
    StandardAlloc,
    StandardAlloc,
    StandardAlloc,
    StandardAlloc,
    StandardAlloc,
    StandardAlloc,
    StandardAlloc,
    StandardAlloc,
    StandardAlloc,
>;

fn stream_alloc() -> StreamAlloc {
    let s = StandardAlloc::default();
    CombiningAllocator::new(
        PageAlloc, PageAlloc, PageAlloc, PageAlloc, s, s, s, s, s, s, s, s, s, s, s, s, s, s,
    )
}

pub struct BrotliStream {
    state: BrotliEncoderStateStruct<StreamAlloc>,
}

impl BrotliStream {
    pub fn new(quality: u32, lgwin: u32) -> Self {
        let mut state = BrotliEncoderStateStruct::new(stream_alloc());
        // The encoder sizes its input blocks, and with them the ring buffer (2^(lgwin+1)
        // plus one block), when it initialises: 2^14 below quality 4, 2^16 from 4 on. An
        // event is far smaller than either, so a stream initialises as quality 3 and then
        // compresses at its own quality (lgblock is the encoder's, not the format's):
        // the ring of a busy quality-4 stream shrinks from 192 to 80 KiB.
        let init_quality = if (4..=9).contains(&quality) { 3 } else { quality };
        state.set_parameter(BrotliEncoderParameter::BROTLI_PARAM_QUALITY, init_quality);
        state.set_parameter(BrotliEncoderParameter::BROTLI_PARAM_LGWIN, lgwin);
        // Qualities 0–1 compress fragments without a hasher; 10–11 need their own (H10).
        if (2..=9).contains(&quality) {
            let params = BrotliHasherParams {
                type_: 5,
                bucket_bits: BUCKET_BITS,
                block_bits: BLOCK_BITS,
                hash_len: 4,
                num_last_distances_to_check: if quality < 7 { 4 } else { 10 },
                literal_byte_score: 0,
            };
            let buckets = 1usize << BUCKET_BITS;
            let hasher = AdvHasher {
                // Not prepared: the first compression zeroes `num` (the fill of each bucket);
                // slots are only read below a bucket's fill, so they need no zeroing.
                GetHasherCommon: Struct1 {
                    params,
                    is_prepared_: 0,
                    dict_num_lookups: 0,
                    dict_num_matches: 0,
                },
                specialization: H5Sub {
                    hash_shift_: 32 - BUCKET_BITS,
                    bucket_size_: buckets as u32,
                    block_mask_: (1u32 << BLOCK_BITS) - 1,
                    block_bits_: BLOCK_BITS,
                },
                num: <StreamAlloc as Allocator<u16>>::alloc_cell(&mut state.m8, buckets),
                buckets: <StreamAlloc as Allocator<u32>>::alloc_cell(&mut state.m8, buckets << BLOCK_BITS),
                h9_opts: H9Opts::new(&params),
            };
            state.params.hasher = params;
            state.hasher_ = UnionHasher::H5(hasher);
        }
        let mut stream = Self { state };
        if init_quality != quality {
            // Nothing in, nothing out: only initialises.
            let _ = stream.run(BrotliEncoderOperation::BROTLI_OPERATION_PROCESS, &[]);
            stream.state.params.quality = quality as i32;
        }
        stream
    }

    /// Compresses `chunk` and flushes: the returned bytes decode to all of it.
    pub fn flush(&mut self, chunk: &[u8]) -> std::io::Result<Vec<u8>> {
        self.run(BrotliEncoderOperation::BROTLI_OPERATION_FLUSH, chunk)
    }

    /// Ends the stream.
    pub fn finish(&mut self) -> std::io::Result<Vec<u8>> {
        self.run(BrotliEncoderOperation::BROTLI_OPERATION_FINISH, &[])
    }

    fn run(&mut self, op: BrotliEncoderOperation, input: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(input.len() / 2 + 16);
        let mut buf = [0u8; 2048];
        let mut avail_in = input.len();
        let mut in_offset = 0;
        let mut total_out = None;
        let mut nop = |_: &mut brotli::interface::PredictionModeContextMap<brotli::InputReferenceMut>,
                       _: &mut [brotli::interface::StaticCommand],
                       _: brotli::InputPair,
                       _: &mut StreamAlloc| ();
        loop {
            let mut avail_out = buf.len();
            let mut out_offset = 0;
            let ok = self.state.compress_stream(
                op,
                &mut avail_in,
                input,
                &mut in_offset,
                &mut avail_out,
                &mut buf,
                &mut out_offset,
                &mut total_out,
                &mut nop,
            );
            if !ok {
                return Err(std::io::Error::other("brotli encoder failed"));
            }
            out.extend_from_slice(&buf[..out_offset]);
            let done = match op {
                BrotliEncoderOperation::BROTLI_OPERATION_FINISH => self.state.is_finished(),
                _ => avail_in == 0 && !self.state.has_more_output(),
            };
            if done {
                return Ok(out);
            }
        }
    }
}

impl Drop for BrotliStream {
    fn drop(&mut self) {
        BrotliEncoderDestroyInstance(&mut self.state);
    }
}

#[cfg(test)]
mod tests {
    use super::super::encoding::stream_check::{decode_prefix, flush_events};
    use super::*;
    use std::io::Read;

    fn decode(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        brotli::Decompressor::new(bytes, 4096).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn every_flush_decodes_to_what_was_sent_so_far() {
        for quality in [0, 1, 2, 4, 6, 9, 11] {
            let mut enc = BrotliStream::new(quality, 16);
            let label = format!("quality {quality}");
            let (mut wire, sent) = flush_events(
                |event| enc.flush(event).unwrap(),
                |wire| decode_prefix(brotli::Decompressor::new(wire, 4096)),
                &label,
            );
            wire.extend(enc.finish().unwrap());
            assert_eq!(decode(&wire), sent, "{label}");
        }
    }

    #[test]
    fn large_and_binary_chunks_round_trip() {
        let mut enc = BrotliStream::new(4, 16);
        let mut wire = Vec::new();
        let mut sent = Vec::new();
        let mut x: u32 = 1;
        for size in [0, 1, 70_000, 200_000, 5, 140_000] {
            let chunk: Vec<u8> = (0..size)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8 % 7
                })
                .collect();
            sent.extend_from_slice(&chunk);
            wire.extend(enc.flush(&chunk).unwrap());
        }
        wire.extend(enc.finish().unwrap());
        assert_eq!(decode(&wire), sent);
    }

    #[test]
    fn pages_are_zeroed_and_freed() {
        let small = Pages::<u32>::zeroed(10);
        assert!(!small.mapped && small.slice().iter().all(|&v| v == 0));
        let mut big = Pages::<u16>::zeroed(100_000);
        assert!(big.mapped && big.slice().iter().all(|&v| v == 0));
        big.slice_mut()[99_999] = 7;
        assert_eq!(big.slice()[99_999], 7);
        assert!(Pages::<u8>::zeroed(0).slice().is_empty());
    }
}
