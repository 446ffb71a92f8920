//! The bytes of one table's shared mapping: where the header, the undo area, the slot
//! index and the rows lie, and the raw reads and writes of each.
//!
//! Owns: the mapping (made in `Mapping::new`, unmapped on drop), the header's fields, the
//! row prefix (hash, live byte, key, next free row) and what a slot holds (`EMPTY`, `TOMB`
//! or row + 1).
//! Does not own: the lock and the order of writes that makes a change crash-safe (`table`
//! decides both; every write here happens under its lock), what a row's values mean
//! (`table`'s columns), how keys are hashed.
//!
//! Invariants: the processes share offsets, never pointers; every offset computed here lies
//! inside the mapping; the header, the slots and the rows are aligned for their reads.
//! Reads may also happen without the lock, while another process writes (`table`'s
//! optimistic reads): what bounds a later access — a slot's row, a key's length — is read
//! with one atomic load, so it is one value, and the caller checks it before it uses it.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU16, AtomicU32, AtomicU64, Ordering};

use super::TableError;

const MAGIC: u64 = 0x7669_615f_7462_6c31; // "via_tbl1"
/// A slot that never held a row: a probe for a key stops here.
pub(super) const EMPTY: u32 = 0;
/// A slot whose row was deleted: a probe goes on past it; an insert may reuse it.
pub(super) const TOMB: u32 = u32::MAX;
/// The end of the free list.
pub(super) const NONE: u32 = u32::MAX;
const HEADER_SIZE: usize = 128;
/// Row prefix: hash (8), live (1), pad (1), key length (2), next free (4).
const ROW_PREFIX: usize = 16;

#[repr(C)]
pub(super) struct Header {
    magic: u64,
    /// Owner pid; 0 = free.
    pub(super) lock: AtomicU32,
    /// Live rows.
    pub(super) count: AtomicU32,
    /// Rows below this index have been used at least once.
    pub(super) next_unused: u32,
    pub(super) free_head: u32,
    pub(super) tombstones: u32,
    /// An in-place change of `undo_len` bytes at `undo_offset` of row `undo_row` is under
    /// way; the old bytes are in the undo area.
    pub(super) undo_valid: AtomicU32,
    pub(super) undo_row: u32,
    pub(super) undo_offset: u32,
    pub(super) undo_len: u32,
    /// The times the lock was taken (`table`'s optimistic reads check that it did not move).
    /// Next to the lock: its holder writes both in the same cache line.
    pub(super) taken: AtomicU32,
    /// Locks taken over from a dead owner.
    pub(super) recoveries: AtomicU64,
}

const _: () = assert!(std::mem::size_of::<Header>() <= HEADER_SIZE);

pub(super) fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// Where a row's values start: after the prefix and room for the longest key.
pub(super) fn values_start(key_max: usize) -> usize {
    ROW_PREFIX + align8(key_max)
}

/// One table's shared anonymous mapping: a header, an undo area of one row, 2^k slots
/// (k such that slots ≥ 2 × capacity) and `capacity` rows of `row_size` bytes.
pub(super) struct Mapping {
    base: NonNull<u8>,
    len: usize,
    capacity: usize,
    row_size: usize,
    key_max: usize,
    slot_mask: usize,
    undo_at: usize,
    slots_at: usize,
    rows_at: usize,
}

// SAFETY: the mapping is shared memory written only under the table's cross-process lock
// (or through atomics in the header) and read under it or by `table`'s optimistic reads,
// which check what bounds an access and keep nothing a change overlapped; `Mapping` itself
// is immutable after creation.
unsafe impl Send for Mapping {}
// SAFETY: as for Send: every write goes through the lock or the header's atomics.
unsafe impl Sync for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`; other processes keep their own mappings.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.len) };
    }
}

impl Mapping {
    /// Fresh zero-filled shared memory for `capacity` rows of `row_size` bytes (`row_size`
    /// a multiple of 8, at least `values_start(key_max)`), with an empty index.
    pub(super) fn new(capacity: usize, row_size: usize, key_max: usize) -> Result<Self, TableError> {
        let too_large = || TableError::Map("the table is too large".into());
        let slots = (capacity * 2).next_power_of_two().max(16);
        let undo_at = HEADER_SIZE;
        let slots_at = undo_at + row_size;
        let rows_at = align8(slots_at + slots * 4);
        let len = rows_at
            .checked_add(capacity.checked_mul(row_size).ok_or_else(too_large)?)
            .ok_or_else(too_large)?;
        // Zero-filled.
        let p = crate::shm::map_shared(len)
            .map_err(|e| TableError::Map(format!("cannot map {len} bytes of shared memory: {e}")))?;
        let base =
            NonNull::new(p.cast::<u8>()).ok_or_else(|| TableError::Map("mmap returned null".into()))?;
        let m =
            Self { base, len, capacity, row_size, key_max, slot_mask: slots - 1, undo_at, slots_at, rows_at };
        // SAFETY: the header lies at the start of the fresh mapping; nobody else sees it yet.
        unsafe {
            let h = m.header_ptr();
            (*h).magic = MAGIC;
            (*h).free_head = NONE;
        }
        Ok(m)
    }

    /// Bytes mapped.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Rows.
    pub(super) fn capacity(&self) -> usize {
        self.capacity
    }

    pub(super) fn row_size(&self) -> usize {
        self.row_size
    }

    /// Slots − 1: slot numbers wrap with `& slot_mask`.
    pub(super) fn slot_mask(&self) -> usize {
        self.slot_mask
    }

    /// The header's atomics (shared references to atomics in shared memory are fine).
    pub(super) fn header(&self) -> &Header {
        // SAFETY: the header is at the start of the mapping, aligned, initialised in `new`;
        // only its atomic fields are read through this reference.
        unsafe { &*self.base.as_ptr().cast::<Header>() }
    }

    /// Rows below this index have been used since the table was made or cleared (the
    /// header's `next_unused`): a row at or above it is free whatever its `live` byte says.
    /// Read with one atomic load: readers without the lock read it too.
    pub(super) fn rows_used(&self) -> u32 {
        // SAFETY: the field lies in the header, 4-aligned; written only under the lock.
        unsafe {
            (*std::ptr::addr_of!((*self.header_ptr()).next_unused).cast::<AtomicU32>())
                .load(Ordering::Relaxed)
        }
    }

    /// The header for its plain fields, which only the lock's holder reads or writes.
    pub(super) fn header_ptr(&self) -> *mut Header {
        self.base.as_ptr().cast::<Header>()
    }

    fn ptr(&self, offset: usize) -> *mut u8 {
        debug_assert!(offset < self.len);
        // SAFETY: offsets are computed within the mapping's length.
        unsafe { self.base.as_ptr().add(offset) }
    }

    fn slot_word(&self, i: usize) -> &AtomicU32 {
        // SAFETY: i ≤ slot_mask; slots are 4-byte aligned (rows_at, slots_at are aligned).
        unsafe { &*self.ptr(self.slots_at + (i & self.slot_mask) * 4).cast::<AtomicU32>() }
    }

    /// What slot `i` holds: `EMPTY`, `TOMB` or row + 1. Read without the lock, the row may
    /// be any value a slot ever held, or a mix of one and `clear_slots`' zeroes: check it.
    pub(super) fn slot(&self, i: usize) -> u32 {
        self.slot_word(i).load(Ordering::Relaxed)
    }

    pub(super) fn set_slot(&self, i: usize, v: u32) {
        self.slot_word(i).store(v, Ordering::Relaxed)
    }

    /// Every slot back to `EMPTY`.
    pub(super) fn clear_slots(&self) {
        // SAFETY: the slot array lies inside the mapping.
        unsafe { std::ptr::write_bytes(self.ptr(self.slots_at), 0, (self.slot_mask + 1) * 4) };
    }

    /// Row `r`'s first byte (`r` < capacity); rows are 8-aligned.
    pub(super) fn row(&self, r: u32) -> *mut u8 {
        debug_assert!((r as usize) < self.capacity);
        self.ptr(self.rows_at + r as usize * self.row_size)
    }

    pub(super) fn row_hash(&self, r: u32) -> u64 {
        // SAFETY: rows are 8-aligned; the prefix starts with the hash.
        unsafe { (*self.row(r).cast::<AtomicU64>()).load(Ordering::Relaxed) }
    }

    pub(super) fn row_live(&self, r: u32) -> bool {
        // SAFETY: within the row prefix.
        unsafe { self.row(r).add(8).read() == 1 }
    }

    pub(super) fn set_row_live(&self, r: u32, live: bool) {
        // SAFETY: within the row prefix.
        unsafe { self.row(r).add(8).write(u8::from(live)) }
    }

    pub(super) fn row_key(&self, r: u32) -> &[u8] {
        // SAFETY: within the row; the length is read once and clamped to the key's room (it
        // is ≤ key_max when written under the lock, anything in a torn optimistic read).
        unsafe {
            let len = (*self.row(r).add(10).cast::<AtomicU16>()).load(Ordering::Relaxed) as usize;
            std::slice::from_raw_parts(self.row(r).add(ROW_PREFIX), len.min(self.key_max))
        }
    }

    pub(super) fn row_next_free(&self, r: u32) -> u32 {
        // SAFETY: within the row prefix.
        unsafe { self.row(r).add(12).cast::<u32>().read() }
    }

    pub(super) fn set_row_next_free(&self, r: u32, next: u32) {
        // SAFETY: within the row prefix.
        unsafe { self.row(r).add(12).cast::<u32>().write(next) }
    }

    /// Zeroes free row `r` and writes its prefix: `hash` and `key` (at most `key_max`
    /// bytes), not yet live.
    pub(super) fn init_row(&self, r: u32, hash: u64, key: &[u8]) {
        debug_assert!(key.len() <= self.key_max);
        // SAFETY: row r lies inside the mapping and is free, so ours to fill under the lock;
        // the key fits the room the row keeps for it.
        unsafe {
            let p = self.row(r);
            std::ptr::write_bytes(p, 0, self.row_size);
            p.cast::<u64>().write(hash);
            p.add(10).cast::<u16>().write(key.len() as u16);
            std::ptr::copy_nonoverlapping(key.as_ptr(), p.add(ROW_PREFIX), key.len());
        }
    }

    /// Copies `len` bytes at `offset` of row `r` into the undo area.
    pub(super) fn save_undo(&self, r: u32, offset: usize, len: usize) {
        debug_assert!(offset + len <= self.row_size);
        // SAFETY: the undo area holds a whole row; the range lies inside row r.
        unsafe { std::ptr::copy_nonoverlapping(self.row(r).add(offset), self.ptr(self.undo_at), len) };
    }

    /// Copies the undo area back over `len` bytes at `offset` of row `r`; a range outside
    /// the rows (a torn undo record) is ignored.
    pub(super) fn restore_undo(&self, r: u32, offset: usize, len: usize) {
        if (r as usize) < self.capacity && offset + len <= self.row_size {
            // SAFETY: both ranges lie inside the mapping (checked above).
            unsafe { std::ptr::copy_nonoverlapping(self.ptr(self.undo_at), self.row(r).add(offset), len) };
        }
    }
}
