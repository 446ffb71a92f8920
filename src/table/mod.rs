//! The shared table behind `Via\Table`: a fixed-schema hash table in one shared anonymous
//! mapping, read and written by every process forked after it was created.
//!
//! Owns: the schema (columns and their place in a row), the cross-process lock, crash
//! recovery, the hash index's probing and the free list, capacity.
//! Does not own: where the bytes lie in the mapping and their raw reads and writes
//! (`layout`), PHP values (the boundary converts), when tables may be created (before the
//! fork; the boundary enforces it).
//!
//! Layout (`layout`): a header (lock word, counters, an undo record), the undo bytes, an
//! index of 2^k slots (k such that slots ≥ 2 × capacity) and `capacity` fixed-size rows. A
//! slot holds 0 (empty), TOMB (deleted) or row + 1; rows are allocated from a free list, else
//! from the never-used tail. Open addressing over twice the slots makes every one of
//! `capacity` rows insertable whatever the keys hash to.
//!
//! Invariants:
//! - Every change happens under the lock, and whoever takes the lock counts it (`taken`)
//!   before it writes anything: with the lock word that makes a sequence lock. A read
//!   (`get`, `get_column`, `read_row_bytes`, `read_column`, `exists`) takes no lock: it
//!   reads optimistically and keeps what it read only if the lock was free before and
//!   after and `taken` did not move, else reads again, and after a few tries takes the
//!   lock. So nobody sees a torn row, and a reader that is not held up by writers writes
//!   no shared cache line (no atomic read-modify-write per read, no line moving between
//!   the readers' CPUs); a change costs one store more than the lock alone.
//! - An optimistic read may meet any bytes a writer left half-way: every value that bounds
//!   a later access (a slot's row, a key's or a string's length) is read once and checked
//!   or clamped, and every loop is bounded, so it reads inside the mapping and ends.
//! - The lock word holds the owner's pid. A waiter that finds the owner dead takes the lock
//!   over and recovers: an in-place value change that was under way is rolled back from
//!   the undo record, and the index, free list and count are rebuilt from the rows (a
//!   row's `live` byte is the truth, written last on insert and first on delete). A reader
//!   that finds the lock held by a dead owner gets there too, through its tries.
//! - Nothing here holds a pointer into the mapping across processes; offsets only.

mod layout;
mod memo;
mod sip;

use std::sync::atomic::{fence, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use layout::{align8, values_start, Header, Mapping, EMPTY, NONE, TOMB};

/// Largest table: keeps row indices and slot numbers in u32 with room for markers.
pub const MAX_ROWS: usize = 1 << 30;
/// Largest string column.
pub const MAX_STRING: usize = 1 << 24;
/// Largest key.
pub const MAX_KEY: usize = 65_535;

/// How long a waiter spins before it starts checking whether the owner is still alive.
const OWNER_CHECK_AFTER: Duration = Duration::from_millis(2);
#[cfg(feature = "test-hooks")]
static CRASH_IN_INSERT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Optimistic reads a reader tries while writers get in its way, before it takes the lock
/// (which also finds a writer that died mid-change and repairs what it left).
const OPTIMISTIC_TRIES: u32 = 32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int,
    Float,
    /// A byte string of at most this many bytes.
    Str(usize),
}

impl ColumnType {
    fn size(self) -> usize {
        match self {
            Self::Int | Self::Float => 8,
            Self::Str(n) => (4 + n + 7) & !7,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Int => "int",
            Self::Float => "float",
            Self::Str(_) => "string",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub kind: ColumnType,
    offset: usize,
}

/// A value read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Int(i64),
    Float(f64),
    Str(Vec<u8>),
}

/// A value to write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Int(i64),
    Float(f64),
    Str(&'a [u8]),
}

/// A number added to a numeric column, and the column's new value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Delta {
    Int(i64),
    Float(f64),
}

#[derive(Debug, Clone, PartialEq)]
pub enum TableError {
    EmptyKey,
    KeyTooLong { len: usize, max: usize },
    UnknownColumn(String),
    WrongType { column: String, expected: &'static str, given: &'static str },
    StringTooLong { column: String, len: usize, max: usize },
    NotNumeric { column: String },
    Overflow { column: String },
    Full { capacity: usize },
    Schema(String),
    Map(String),
}

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::EmptyKey => write!(f, "the key must not be empty"),
            Self::KeyTooLong { len, max } => {
                write!(f, "the key is {len} bytes, longer than the table's {max}")
            }
            Self::UnknownColumn(c) => write!(f, "unknown column \"{c}\""),
            Self::WrongType { column, expected, given } => {
                write!(f, "column \"{column}\" holds {expected} values, {given} given")
            }
            Self::StringTooLong { column, len, max } => {
                write!(f, "the value for column \"{column}\" is {len} bytes, longer than its {max}")
            }
            Self::NotNumeric { column } => write!(f, "column \"{column}\" is not numeric"),
            Self::Overflow { column } => write!(f, "the new value of column \"{column}\" overflows an int"),
            Self::Full { capacity } => write!(f, "the table is full ({capacity} rows)"),
            Self::Schema(m) => f.write_str(m),
            Self::Map(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for TableError {}

/// How keys are hashed: a random SipHash key per table (the default), or a fixed function
/// (tests with adversarial keys).
#[derive(Clone)]
pub enum KeyHash {
    Random(sip::SipKey),
    Fixed(fn(&[u8]) -> u64),
}

/// Every table of this process, for `usage()`.
static LIVE: parking_lot::Mutex<Vec<std::sync::Weak<Mapping>>> = parking_lot::Mutex::new(Vec::new());

/// How full one table is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Usage {
    pub rows: usize,
    pub capacity: usize,
    pub memory: usize,
}

/// Every live table of this process (tables made before the fork are the same in every
/// process), in the order they were made.
pub fn usage() -> Vec<Usage> {
    let mut live = LIVE.lock();
    live.retain(|m| m.strong_count() > 0);
    live.iter()
        .filter_map(std::sync::Weak::upgrade)
        .map(|m| Usage {
            rows: m.header().count.load(Ordering::Acquire) as usize,
            capacity: m.capacity(),
            memory: m.len(),
        })
        .collect()
}

pub struct Table {
    /// Shared with `usage()`'s registry (which holds it weakly, for metrics).
    mem: Arc<Mapping>,
    columns: Vec<Column>,
    key_max: usize,
    hash: KeyHash,
    /// This process's last keys and their hashes (not shared: see `memo`).
    memo: memo::Memo,
}

/// The lock, held; released on drop.
struct Guard<'a> {
    table: &'a Table,
}

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        // Release: the holder's writes come before the free lock a reader checks.
        self.table.header().lock.store(0, Ordering::Release);
    }
}

fn pid_alive(pid: u32) -> bool {
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

/// Checks the declared columns and places them one after another behind the key; returns
/// them with the row size.
fn lay_out_columns(
    declared: Vec<(String, ColumnType)>,
    key_max: usize,
) -> Result<(Vec<Column>, usize), TableError> {
    if declared.is_empty() {
        return Err(TableError::Schema("a table needs at least one column".into()));
    }
    let mut columns: Vec<Column> = Vec::with_capacity(declared.len());
    let mut offset = values_start(key_max);
    for (name, kind) in declared {
        if name.is_empty() {
            return Err(TableError::Schema("a column name must not be empty".into()));
        }
        if columns.iter().any(|c| c.name == name) {
            return Err(TableError::Schema(format!("column \"{name}\" is declared twice")));
        }
        if let ColumnType::Str(n) = kind {
            if n == 0 || n > MAX_STRING {
                return Err(TableError::Schema(format!(
                    "string column \"{name}\" must hold between 1 and {MAX_STRING} bytes, {n} given"
                )));
            }
        }
        columns.push(Column { name, kind, offset });
        offset += kind.size();
    }
    Ok((columns, align8(offset)))
}

impl Table {
    /// A table of `capacity` rows with these columns; keys up to `key_max` bytes.
    pub fn new(
        capacity: usize,
        columns: Vec<(String, ColumnType)>,
        key_max: usize,
    ) -> Result<Self, TableError> {
        Self::with_hash(capacity, columns, key_max, KeyHash::Random(sip::SipKey::random()))
    }

    /// `new` with the key hash chosen (tests with adversarial keys fix it).
    pub fn with_hash(
        capacity: usize,
        columns: Vec<(String, ColumnType)>,
        key_max: usize,
        hash: KeyHash,
    ) -> Result<Self, TableError> {
        if capacity == 0 || capacity > MAX_ROWS {
            return Err(TableError::Schema(format!(
                "the row count must be between 1 and {MAX_ROWS}, {capacity} given"
            )));
        }
        if key_max == 0 || key_max > MAX_KEY {
            return Err(TableError::Schema(format!(
                "the key length must be between 1 and {MAX_KEY} bytes, {key_max} given"
            )));
        }
        let (columns, row_size) = lay_out_columns(columns, key_max)?;
        let mem = Arc::new(Mapping::new(capacity, row_size, key_max)?);
        LIVE.lock().push(Arc::downgrade(&mem));
        Ok(Self { mem, columns, key_max, hash, memo: memo::Memo::new() })
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.column_index_bytes(name.as_bytes())
    }

    /// `column_index` for a name as given (any bytes; only a column's UTF-8 name matches).
    pub fn column_index_bytes(&self, name: &[u8]) -> Option<usize> {
        self.columns.iter().position(|c| same_key(c.name.as_bytes(), name))
    }

    pub fn capacity(&self) -> usize {
        self.mem.capacity()
    }

    pub fn key_max(&self) -> usize {
        self.key_max
    }

    /// Bytes of shared memory the table maps (pages are resident once written).
    pub fn memory_size(&self) -> usize {
        self.mem.len()
    }

    pub fn count(&self) -> usize {
        self.header().count.load(Ordering::Acquire) as usize
    }

    /// Locks taken over from a process that died holding them.
    pub fn recoveries(&self) -> u64 {
        self.header().recoveries.load(Ordering::Relaxed)
    }

    /// The header's atomics.
    fn header(&self) -> &Header {
        self.mem.header()
    }

    /// The header's plain fields, read and written through a raw pointer under the lock.
    fn hdr(&self, _g: &Guard<'_>) -> *mut Header {
        self.mem.header_ptr()
    }

    #[inline]
    fn hash_key(&self, key: &[u8]) -> memo::Keyed {
        match &self.hash {
            KeyHash::Random(k) => self.memo.hash(key, |key| k.hash(key)),
            KeyHash::Fixed(f) => memo::Keyed::plain(f(key)),
        }
    }

    // ---- the lock ----

    /// Takes the lock: in line when it is free, as it nearly always is.
    #[inline(always)]
    fn lock(&self) -> Guard<'_> {
        let me = crate::pid::current();
        if self.header().lock.compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            return self.took();
        }
        self.lock_contended(me)
    }

    /// The lock was just taken: counts it, for optimistic readers (`read`), before the
    /// holder writes anything.
    #[inline(always)]
    fn took(&self) -> Guard<'_> {
        let taken = &self.header().taken;
        // Release: a reader that sees the new count sees the lock taken too (a weakly
        // ordered CPU could otherwise show the count first, and a reader that then found
        // the lock still free and the count unchanged after would keep a torn row).
        taken.store(taken.load(Ordering::Relaxed).wrapping_add(1), Ordering::Release);
        // The count comes before the holder's writes, for a reader that sees any of them.
        fence(Ordering::Release);
        Guard { table: self }
    }

    /// Waits for the lock another process holds, or takes it over from a dead one.
    #[cold]
    #[inline(never)]
    fn lock_contended(&self, me: u32) -> Guard<'_> {
        let h = self.header();
        let started = Instant::now();
        let mut spins = 0u32;
        loop {
            let owner = h.lock.load(Ordering::Relaxed);
            if owner == 0 {
                if h.lock.compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    return self.took();
                }
                continue;
            }
            spins += 1;
            if spins < 64 {
                std::hint::spin_loop();
                continue;
            }
            // SAFETY: plain syscall.
            unsafe { libc::sched_yield() };
            if spins % 64 == 0 && started.elapsed() >= OWNER_CHECK_AFTER && (owner == me || !pid_alive(owner))
            {
                // The owner died holding the lock (or this pid inherited a lock word its
                // predecessor left): take it over and repair what it was doing.
                if h.lock.compare_exchange(owner, me, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    let g = self.took();
                    h.recoveries.fetch_add(1, Ordering::Relaxed);
                    self.recover(&g);
                    crate::warn!("Via\\Table: process {owner} died holding the table lock; recovered");
                    return g;
                }
            }
        }
    }

    /// Rolls back an interrupted in-place change and rebuilds the index, the free list and
    /// the count from the rows.
    fn recover(&self, g: &Guard<'_>) {
        let h = self.hdr(g);
        if self.header().undo_valid.load(Ordering::Acquire) == 1 {
            // SAFETY: plain header fields under the lock.
            let (r, off, len) = unsafe { ((*h).undo_row, (*h).undo_offset as usize, (*h).undo_len as usize) };
            self.mem.restore_undo(r, off, len);
            self.header().undo_valid.store(0, Ordering::Release);
        }
        self.rebuild(g);
    }

    /// What `read` gives when it ran while nothing changed: optimistically, without the
    /// lock, while the lock stayed free and nobody took it, or under it after
    /// `OPTIMISTIC_TRIES` reads that a holder overlapped. `read` may run more than once and
    /// on bytes a writer left half-way: it must only read the mapping (with `find_row`,
    /// `value_ref`) and copy, never act on what it read (but for the memo's row hint, which
    /// is checked before every use).
    #[inline(always)]
    fn read<R>(&self, mut read: impl FnMut() -> R) -> R {
        let h = self.header();
        for _ in 0..OPTIMISTIC_TRIES {
            let taken = h.taken.load(Ordering::Acquire);
            if h.lock.load(Ordering::Acquire) == 0 {
                let got = read();
                // The reads above come before the second look at the lock.
                fence(Ordering::Acquire);
                if h.lock.load(Ordering::Relaxed) == 0 && h.taken.load(Ordering::Relaxed) == taken {
                    return got;
                }
            }
            std::hint::spin_loop();
        }
        self.read_locked(read)
    }

    #[cold]
    #[inline(never)]
    fn read_locked<R>(&self, mut read: impl FnMut() -> R) -> R {
        let _g = self.lock();
        read()
    }

    fn rebuild(&self, g: &Guard<'_>) {
        let h = self.hdr(g);
        // SAFETY: a plain header field, read under the lock (`g`).
        let used = (unsafe { (*h).next_unused } as usize).min(self.mem.capacity()) as u32;
        // SAFETY: the same field, written under the lock.
        unsafe { (*h).next_unused = used };
        self.mem.clear_slots();
        let mut count = 0u32;
        let mut free = NONE;
        for r in (0..used).rev() {
            if self.mem.row_live(r) {
                let mut i = self.mem.row_hash(r) as usize & self.mem.slot_mask();
                while self.mem.slot(i) != EMPTY {
                    i = (i + 1) & self.mem.slot_mask();
                }
                self.mem.set_slot(i, r + 1);
                count += 1;
            } else {
                self.mem.set_row_next_free(r, free);
                free = r;
            }
        }
        // SAFETY: plain header fields, written under the lock.
        unsafe {
            (*h).free_head = free;
            (*h).tombstones = 0;
        }
        self.header().count.store(count, Ordering::Release);
    }

    // ---- lookups ----

    /// The slot and row holding `key`. In line in every operation: it is most of a short
    /// one, and a call saved and restored more registers than a first probe's hit costs.
    #[inline(always)]
    fn lookup(&self, key: &[u8], hash: u64) -> Option<(usize, u32)> {
        let mask = self.mem.slot_mask();
        let mut i = hash as usize & mask;
        // `0..=mask` would carry an exhausted flag through the loop.
        for _ in 0..mask + 1 {
            match self.mem.slot(i) {
                EMPTY => return None,
                TOMB => {}
                v => {
                    let r = v - 1;
                    if r as usize >= self.mem.capacity() {
                        // Only in an optimistic read that a change overlapped (`read`).
                        return None;
                    }
                    if self.mem.row_hash(r) == hash && same_key(self.mem.row_key(r), key) {
                        return Some((i, r));
                    }
                }
            }
            i = (i + 1) & mask;
        }
        None
    }

    /// The row holding `k`'s key: the one this process last found it in when that row is
    /// still in use and live and holds the key (keys are unique among live rows, so it is
    /// the key's row; `clear` leaves rows' `live` bytes and only moves `next_unused` down),
    /// else `lookup`'s. The hint skips the probe of the index, a load that missed the
    /// cache on most calls; checking it costs loads of the row, which the caller reads next.
    #[inline(always)]
    fn find_row(&self, key: &[u8], k: &memo::Keyed) -> Option<u32> {
        if let Some(r) = k.row_hint() {
            if (r as usize) < self.mem.capacity()
                && r < self.mem.rows_used()
                && self.mem.row_live(r)
                && self.mem.row_hash(r) == k.hash
                && same_key(self.mem.row_key(r), key)
            {
                return Some(r);
            }
        }
        let r = self.lookup(key, k.hash).map(|(_, r)| r);
        if let Some(r) = r {
            self.memo.remember(k, r);
        }
        r
    }

    /// Where a key that `lookup` did not find goes: the first tombstone or empty slot of
    /// its probe.
    fn free_slot(&self, hash: u64) -> Option<usize> {
        let mask = self.mem.slot_mask();
        let mut i = hash as usize & mask;
        for _ in 0..=mask {
            if matches!(self.mem.slot(i), EMPTY | TOMB) {
                return Some(i);
            }
            i = (i + 1) & mask;
        }
        None
    }

    fn check_key(&self, key: &[u8]) -> Result<(), TableError> {
        if key.is_empty() {
            return Err(TableError::EmptyKey);
        }
        if key.len() > self.key_max {
            return Err(TableError::KeyTooLong { len: key.len(), max: self.key_max });
        }
        Ok(())
    }

    fn check_value(&self, col: usize, v: &ValueRef<'_>) -> Result<(), TableError> {
        let c = &self.columns[col];
        let given = match v {
            ValueRef::Int(_) => "int",
            ValueRef::Float(_) => "float",
            ValueRef::Str(_) => "string",
        };
        match (c.kind, v) {
            (ColumnType::Int, ValueRef::Int(_))
            | (ColumnType::Float, ValueRef::Float(_) | ValueRef::Int(_)) => Ok(()),
            (ColumnType::Str(max), ValueRef::Str(s)) => {
                if s.len() > max {
                    Err(TableError::StringTooLong { column: c.name.clone(), len: s.len(), max })
                } else {
                    Ok(())
                }
            }
            _ => Err(TableError::WrongType { column: c.name.clone(), expected: c.kind.name(), given }),
        }
    }

    fn read_value(&self, r: u32, col: usize) -> Value {
        match self.value_ref(r, col) {
            ValueRef::Int(n) => Value::Int(n),
            ValueRef::Float(f) => Value::Float(f),
            ValueRef::Str(s) => Value::Str(s.to_vec()),
        }
    }

    /// Column `col` of row `r` where it lies. Only valid under the lock or inside `read`
    /// (the caller copies it before either ends).
    fn value_ref(&self, r: u32, col: usize) -> ValueRef<'_> {
        let c = &self.columns[col];
        // SAFETY: the column's bytes lie inside row r; a string's length is clamped to the
        // column's size.
        unsafe {
            let p = self.mem.row(r).add(c.offset);
            match c.kind {
                ColumnType::Int => ValueRef::Int(p.cast::<i64>().read()),
                ColumnType::Float => ValueRef::Float(p.cast::<f64>().read()),
                ColumnType::Str(max) => {
                    let len = ((*p.cast::<AtomicU32>()).load(Ordering::Relaxed) as usize).min(max);
                    ValueRef::Str(std::slice::from_raw_parts(p.add(4), len))
                }
            }
        }
    }

    fn write_value(&self, r: u32, col: usize, v: &ValueRef<'_>) {
        let c = &self.columns[col];
        // SAFETY: the column's bytes lie inside row r; values were checked to fit.
        unsafe {
            let p = self.mem.row(r).add(c.offset);
            match (c.kind, v) {
                (ColumnType::Int, ValueRef::Int(n)) => p.cast::<i64>().write(*n),
                (ColumnType::Float, ValueRef::Float(f)) => p.cast::<f64>().write(*f),
                (ColumnType::Float, ValueRef::Int(n)) => p.cast::<f64>().write(*n as f64),
                (ColumnType::Str(_), ValueRef::Str(s)) => {
                    p.cast::<u32>().write(s.len() as u32);
                    std::ptr::copy_nonoverlapping(s.as_ptr(), p.add(4), s.len());
                }
                _ => unreachable!("values are checked before they are written"),
            }
        }
    }

    /// Saves `len` bytes at `offset` of row `r` so a crash mid-change can be rolled back.
    fn begin_change(&self, g: &Guard<'_>, r: u32, offset: usize, len: usize) {
        let h = self.hdr(g);
        self.mem.save_undo(r, offset, len);
        // SAFETY: plain header fields under the lock.
        unsafe {
            (*h).undo_row = r;
            (*h).undo_offset = offset as u32;
            (*h).undo_len = len as u32;
        }
        self.header().undo_valid.store(1, Ordering::Release);
    }

    fn end_change(&self, _g: &Guard<'_>) {
        self.header().undo_valid.store(0, Ordering::Release);
    }

    fn values_range(&self) -> (usize, usize) {
        let start = values_start(self.key_max);
        (start, self.mem.row_size() - start)
    }

    /// Takes a row for a new key, writes `values` (the others are zero) and indexes it.
    /// `Full` at capacity.
    fn insert(
        &self,
        g: &Guard<'_>,
        key: &[u8],
        hash: u64,
        at: Option<usize>,
        values: &[(usize, ValueRef<'_>)],
    ) -> Result<u32, TableError> {
        let h = self.hdr(g);
        if self.header().count.load(Ordering::Relaxed) as usize >= self.mem.capacity() {
            return Err(TableError::Full { capacity: self.mem.capacity() });
        }
        let Some(slot) = at else {
            // Unreachable while count < capacity ≤ slots / 2; kept as an error, not a panic.
            return Err(TableError::Full { capacity: self.mem.capacity() });
        };
        // SAFETY: plain header fields, ours under the lock (`g`).
        let r = unsafe {
            if (*h).free_head != NONE {
                let r = (*h).free_head;
                (*h).free_head = self.mem.row_next_free(r);
                r
            } else {
                let r = (*h).next_unused;
                // A row above `next_unused` may still say live: `clear` leaves rows as they
                // were. Not live before the row counts as used, so that a crash before
                // `init_row` does not bring the cleared row back (with a key that may be
                // live in another row by now).
                self.mem.set_row_live(r, false);
                std::sync::atomic::compiler_fence(Ordering::Release);
                (*h).next_unused += 1;
                r
            }
        };
        #[cfg(feature = "test-hooks")]
        if CRASH_IN_INSERT.load(Ordering::Relaxed) {
            // SAFETY: ends this process at once, holding the lock (`crash_in_next_insert`).
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        }
        // Row r is free (taken off the free list or never used); the key fits (check_key).
        self.mem.init_row(r, hash, key);
        for (col, v) in values {
            self.write_value(r, *col, v);
        }
        self.mem.set_row_live(r, true); // the commit point: a crash before it leaves no row
        if self.mem.slot(slot) == TOMB {
            // SAFETY: a plain header field under the lock.
            unsafe { (*h).tombstones -= 1 };
        }
        self.mem.set_slot(slot, r + 1);
        self.header().count.fetch_add(1, Ordering::Release);
        Ok(r)
    }

    // ---- operations ----

    /// Writes the given columns of `key`'s row, creating it (other columns zero) if needed.
    pub fn set(&self, key: &[u8], values: &[(usize, ValueRef<'_>)]) -> Result<(), TableError> {
        self.check_key(key)?;
        let k = self.hash_key(key);
        for (col, v) in values {
            self.check_value(*col, v)?;
        }
        let g = self.lock();
        match self.find_row(key, &k) {
            Some(r) => {
                // One column written saves only its bytes for the undo, so a wide row costs
                // nothing when one number of it changes; more save the row's values.
                let (from, len) = match values {
                    [(col, _)] => (self.columns[*col].offset, self.columns[*col].kind.size()),
                    _ => self.values_range(),
                };
                self.begin_change(&g, r, from, len);
                for (col, v) in values {
                    self.write_value(r, *col, v);
                }
                self.end_change(&g);
            }
            None => {
                let r = self.insert(&g, key, k.hash, self.free_slot(k.hash), values)?;
                self.memo.remember(&k, r);
            }
        }
        Ok(())
    }

    /// The whole row, in column order.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<Value>>, TableError> {
        self.check_key(key)?;
        let k = self.hash_key(key);
        Ok(self.read(|| {
            self.find_row(key, &k).map(|r| (0..self.columns.len()).map(|c| self.read_value(r, c)).collect())
        }))
    }

    /// Calls `f` with the bytes of the row's values, every column as the row lays them out,
    /// where they lie in the shared memory; `false` when there is no such row. `f` may be
    /// called more than once (`read`: the last call's bytes are the row's) and must only
    /// copy the bytes out; read columns from the copy with `value_in`.
    pub fn read_row_bytes(&self, key: &[u8], mut f: impl FnMut(&[u8])) -> Result<bool, TableError> {
        self.check_key(key)?;
        let k = self.hash_key(key);
        let (start, len) = self.values_range();
        Ok(self.read(|| {
            let Some(r) = self.find_row(key, &k) else { return false };
            // SAFETY: the values lie inside row r (`find_row` gives rows below the capacity).
            f(unsafe { std::slice::from_raw_parts(self.mem.row(r).add(start), len) });
            true
        }))
    }

    /// Column `col` of a row's value bytes (a copy of what `read_row_bytes` showed; shorter
    /// bytes panic). A string's length is clamped to its column, as in the row.
    #[inline]
    pub fn value_in<'a>(&self, row: &'a [u8], col: usize) -> ValueRef<'a> {
        let c = &self.columns[col];
        let at = c.offset - values_start(self.key_max);
        let word = |at: usize| -> [u8; 8] { row[at..at + 8].try_into().expect("8 bytes") };
        match c.kind {
            ColumnType::Int => ValueRef::Int(i64::from_ne_bytes(word(at))),
            ColumnType::Float => ValueRef::Float(f64::from_ne_bytes(word(at))),
            ColumnType::Str(max) => {
                let len = u32::from_ne_bytes(row[at..at + 4].try_into().expect("4 bytes")) as usize;
                ValueRef::Str(&row[at + 4..at + 4 + len.min(max)])
            }
        }
    }

    /// One column of the row, given to `f` where it lies (see `read_row_bytes`: `f` may be
    /// called more than once and must only copy the value out).
    pub fn read_column<R>(
        &self,
        key: &[u8],
        col: usize,
        mut f: impl FnMut(ValueRef<'_>) -> R,
    ) -> Result<Option<R>, TableError> {
        self.check_key(key)?;
        let k = self.hash_key(key);
        Ok(self.read(|| self.find_row(key, &k).map(|r| f(self.value_ref(r, col)))))
    }

    /// One column of the row.
    pub fn get_column(&self, key: &[u8], col: usize) -> Result<Option<Value>, TableError> {
        self.check_key(key)?;
        let k = self.hash_key(key);
        Ok(self.read(|| self.find_row(key, &k).map(|r| self.read_value(r, col))))
    }

    pub fn exists(&self, key: &[u8]) -> Result<bool, TableError> {
        self.check_key(key)?;
        let k = self.hash_key(key);
        Ok(self.read(|| self.find_row(key, &k).is_some()))
    }

    /// Removes the row; `false` when there was none.
    pub fn del(&self, key: &[u8]) -> Result<bool, TableError> {
        self.check_key(key)?;
        let hash = self.hash_key(key).hash;
        let g = self.lock();
        let Some((slot, r)) = self.lookup(key, hash) else { return Ok(false) };
        let h = self.hdr(&g);
        self.mem.set_row_live(r, false); // the commit point
        self.mem.set_slot(slot, TOMB);
        // SAFETY: plain header fields under the lock.
        let tombstones = unsafe {
            (*h).tombstones += 1;
            self.mem.set_row_next_free(r, (*h).free_head);
            (*h).free_head = r;
            (*h).tombstones
        };
        self.header().count.fetch_sub(1, Ordering::Release);
        if tombstones as usize > (self.mem.slot_mask() + 1) / 4 {
            self.rebuild(&g);
        }
        Ok(true)
    }

    /// Adds `by` to an int column (creating the row if needed) and returns the new value.
    pub fn incr_int(&self, key: &[u8], col: usize, by: i64) -> Result<i64, TableError> {
        match self.add(key, col, Delta::Int(by))? {
            Delta::Int(n) => Ok(n),
            Delta::Float(_) => unreachable!("an int column"),
        }
    }

    /// Adds `by` to a float column (creating the row if needed) and returns the new value.
    pub fn incr_float(&self, key: &[u8], col: usize, by: f64) -> Result<f64, TableError> {
        match self.add(key, col, Delta::Float(by))? {
            Delta::Float(f) => Ok(f),
            Delta::Int(_) => unreachable!("a float column"),
        }
    }

    /// The one body of `incr_int` and `incr_float`: the column must have `by`'s type.
    fn add(&self, key: &[u8], col: usize, by: Delta) -> Result<Delta, TableError> {
        self.check_key(key)?;
        let c = &self.columns[col];
        let (kind, given) = match by {
            Delta::Int(_) => (ColumnType::Int, "int"),
            Delta::Float(_) => (ColumnType::Float, "float"),
        };
        if c.kind != kind {
            return Err(match c.kind {
                ColumnType::Int => TableError::WrongType { column: c.name.clone(), expected: "int", given },
                ColumnType::Float => {
                    TableError::WrongType { column: c.name.clone(), expected: "float", given }
                }
                _ => TableError::NotNumeric { column: c.name.clone() },
            });
        }
        let k = self.hash_key(key);
        let g = self.lock();
        let r = match self.find_row(key, &k) {
            Some(r) => r,
            None => {
                let r = self.insert(&g, key, k.hash, self.free_slot(k.hash), &[])?;
                self.memo.remember(&k, r);
                r
            }
        };
        let new = match (self.read_value(r, col), by) {
            (Value::Int(old), Delta::Int(by)) => Delta::Int(
                old.checked_add(by).ok_or_else(|| TableError::Overflow { column: c.name.clone() })?,
            ),
            (Value::Float(old), Delta::Float(by)) => Delta::Float(old + by),
            _ => unreachable!("the column's type was checked above"),
        };
        // An 8-byte aligned store cannot tear: no undo needed.
        match new {
            Delta::Int(n) => self.write_value(r, col, &ValueRef::Int(n)),
            Delta::Float(f) => self.write_value(r, col, &ValueRef::Float(f)),
        }
        Ok(new)
    }

    /// Sets the column to `new` if it equals `expected`. `false` when it did not, or when
    /// there is no such row.
    pub fn compare_and_set(
        &self,
        key: &[u8],
        col: usize,
        expected: &ValueRef<'_>,
        new: &ValueRef<'_>,
    ) -> Result<bool, TableError> {
        self.check_key(key)?;
        self.check_value(col, expected)?;
        self.check_value(col, new)?;
        let k = self.hash_key(key);
        let g = self.lock();
        let Some(r) = self.find_row(key, &k) else { return Ok(false) };
        let current = self.read_value(r, col);
        let equal = match (&current, expected) {
            (Value::Int(a), ValueRef::Int(b)) => a == b,
            (Value::Float(a), ValueRef::Float(b)) => a == b,
            (Value::Float(a), ValueRef::Int(b)) => *a == *b as f64,
            (Value::Str(a), ValueRef::Str(b)) => a.as_slice() == *b,
            _ => false,
        };
        if !equal {
            return Ok(false);
        }
        let c = &self.columns[col];
        self.begin_change(&g, r, c.offset, c.kind.size());
        self.write_value(r, col, new);
        self.end_change(&g);
        Ok(true)
    }

    /// A snapshot of every row: (key, values in column order), in no particular order.
    pub fn rows(&self) -> Vec<(Vec<u8>, Vec<Value>)> {
        let g = self.lock();
        // SAFETY: a plain header field under the lock.
        let used = unsafe { (*self.hdr(&g)).next_unused };
        let mut out = Vec::with_capacity(self.count());
        for r in 0..used {
            if self.mem.row_live(r) {
                let values = (0..self.columns.len()).map(|c| self.read_value(r, c)).collect();
                out.push((self.mem.row_key(r).to_vec(), values));
            }
        }
        out
    }

    /// Removes every row.
    pub fn clear(&self) {
        let g = self.lock();
        let h = self.hdr(&g);
        // SAFETY: plain header fields under the lock.
        unsafe {
            (*h).next_unused = 0; // the commit point: rows below it are all there is
            (*h).free_head = NONE;
            (*h).tombstones = 0;
        }
        self.header().count.store(0, Ordering::Release);
        self.mem.clear_slots();
    }

    /// Test support (feature `test-hooks`, for tests/table_fork.rs): the next insert of this
    /// process kills it with SIGKILL once it has taken a row, before it writes the row.
    #[cfg(feature = "test-hooks")]
    pub fn crash_in_next_insert() {
        CRASH_IN_INSERT.store(true, Ordering::Relaxed);
    }

    /// Test support (feature `test-hooks`, for tests/table_fork.rs): takes the lock, starts
    /// an in-place change of `col` in `key`'s row and scribbles half of it — then kills this
    /// process with SIGKILL, as a crash mid-write.
    #[cfg(feature = "test-hooks")]
    pub fn crash_while_writing(&self, key: &[u8], col: usize) -> ! {
        let g = self.lock();
        let hash = self.hash_key(key).hash;
        if let Some((_, r)) = self.lookup(key, hash) {
            let c = &self.columns[col];
            self.begin_change(&g, r, c.offset, c.kind.size());
            // SAFETY: inside the row.
            unsafe { std::ptr::write_bytes(self.mem.row(r).add(c.offset), 0xAB, c.kind.size() / 2) };
        }
        std::mem::forget(g);
        // SAFETY: ends this process at once, holding the lock.
        unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        unreachable!("SIGKILL cannot be caught");
    }
}

/// Whether two short byte strings (keys, column names) are equal: word compares in line
/// instead of a call to `memcmp` per probe that matched the hash.
#[inline]
pub fn same_key(a: &[u8], b: &[u8]) -> bool {
    fn word(s: &[u8], at: usize) -> u64 {
        u64::from_ne_bytes(s[at..at + 8].try_into().expect("8 bytes"))
    }
    fn half(s: &[u8], at: usize) -> u32 {
        u32::from_ne_bytes(s[at..at + 4].try_into().expect("4 bytes"))
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        // Bytes 0, n/2 and n-1 cover all of them for 1 to 3 bytes.
        1..=3 => a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1],
        4..=8 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        9..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        // Bytes 0..16 and n-16..n cover all of them up to 32 (a hex session id).
        17..=32 => {
            (word(a, 0) ^ word(b, 0))
                | (word(a, 8) ^ word(b, 8))
                | (word(a, n - 16) ^ word(b, n - 16))
                | (word(a, n - 8) ^ word(b, n - 8))
                == 0
        }
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_agrees_with_slice_equality_at_every_length_and_position() {
        let base: Vec<u8> = (1..=40u8).collect();
        for n in 0..=base.len() {
            let a = &base[..n];
            assert!(same_key(a, a), "length {n}");
            assert!(!same_key(a, &base[..n.saturating_sub(1)]) || n == 0, "length {n} vs {}", n - 1);
            for i in 0..n {
                let mut b = a.to_vec();
                b[i] ^= 0x20;
                assert!(!same_key(a, &b), "length {n}, byte {i}");
            }
        }
    }

    fn schema() -> Vec<(String, ColumnType)> {
        vec![
            ("name".into(), ColumnType::Str(8)),
            ("hits".into(), ColumnType::Int),
            ("score".into(), ColumnType::Float),
        ]
    }

    #[test]
    fn set_get_merge_delete() {
        let t = Table::new(4, schema(), 16).unwrap();
        t.set(b"a", &[(0, ValueRef::Str(b"alice")), (1, ValueRef::Int(3))]).unwrap();
        assert_eq!(
            t.get(b"a").unwrap(),
            Some(vec![Value::Str(b"alice".to_vec()), Value::Int(3), Value::Float(0.0)])
        );
        t.set(b"a", &[(2, ValueRef::Int(2))]).unwrap();
        assert_eq!(t.get_column(b"a", 2).unwrap(), Some(Value::Float(2.0)));
        assert_eq!(t.get_column(b"a", 0).unwrap(), Some(Value::Str(b"alice".to_vec())), "set merges");
        assert_eq!(t.count(), 1);
        assert!(t.del(b"a").unwrap());
        assert!(!t.del(b"a").unwrap());
        assert_eq!(t.get(b"a").unwrap(), None);
        assert_eq!(t.count(), 0);
    }

    /// The row a key was last found in is a hint: once the key is deleted and its row
    /// taken by another key, every operation on the first key finds it gone (and makes it
    /// anew elsewhere), and the other key keeps its row.
    #[test]
    fn a_rows_hint_is_not_trusted_once_the_row_holds_another_key() {
        let t = Table::new(4, schema(), 16).unwrap();
        t.set(b"a", &[(1, ValueRef::Int(1))]).unwrap();
        assert_eq!(t.get_column(b"a", 1).unwrap(), Some(Value::Int(1)));
        assert!(t.del(b"a").unwrap());
        // The free row goes to "b" (the free list's head).
        t.set(b"b", &[(1, ValueRef::Int(2))]).unwrap();
        assert_eq!(t.get(b"a").unwrap(), None);
        assert_eq!(t.get_column(b"a", 1).unwrap(), None);
        assert!(!t.exists(b"a").unwrap());
        assert!(!t.read_row_bytes(b"a", |_| {}).unwrap());
        assert!(!t.compare_and_set(b"a", 1, &ValueRef::Int(2), &ValueRef::Int(9)).unwrap());
        assert_eq!(t.incr_int(b"a", 1, 5).unwrap(), 5, "made anew, not b's row");
        assert_eq!(t.get_column(b"b", 1).unwrap(), Some(Value::Int(2)));
        t.set(b"a", &[(1, ValueRef::Int(7))]).unwrap();
        assert_eq!(t.get_column(b"a", 1).unwrap(), Some(Value::Int(7)));
        assert_eq!(t.get_column(b"b", 1).unwrap(), Some(Value::Int(2)));
        assert_eq!(t.count(), 2);
        // After a clear, the hints point at rows no longer live.
        t.clear();
        assert!(!t.exists(b"a").unwrap() && !t.exists(b"b").unwrap());
    }

    #[test]
    fn a_copy_of_the_row_bytes_reads_as_the_row() {
        let t = Table::new(4, schema(), 16).unwrap();
        let mut copy = Vec::new();
        assert!(!t.read_row_bytes(b"a", |b| copy = b.to_vec()).unwrap(), "no row yet");
        assert!(copy.is_empty());
        for name in [&b""[..], b"al", b"12345678"] {
            t.set(b"a", &[(0, ValueRef::Str(name)), (1, ValueRef::Int(-3)), (2, ValueRef::Float(0.5))])
                .unwrap();
            assert!(t.read_row_bytes(b"a", |b| copy = b.to_vec()).unwrap());
            assert_eq!(copy.len(), t.values_range().1);
            let got: Vec<Value> = (0..3)
                .map(|c| match t.value_in(&copy, c) {
                    ValueRef::Int(n) => Value::Int(n),
                    ValueRef::Float(f) => Value::Float(f),
                    ValueRef::Str(s) => Value::Str(s.to_vec()),
                })
                .collect();
            assert_eq!(Some(got), t.get(b"a").unwrap(), "name {name:?}");
        }
    }

    #[test]
    fn bad_input_changes_nothing() {
        let t = Table::new(4, schema(), 4).unwrap();
        t.set(b"k", &[(1, ValueRef::Int(1))]).unwrap();
        assert!(matches!(t.set(b"toolong", &[]), Err(TableError::KeyTooLong { len: 7, max: 4 })));
        assert_eq!(t.set(b"", &[]), Err(TableError::EmptyKey));
        assert!(matches!(
            t.set(b"k", &[(1, ValueRef::Int(9)), (0, ValueRef::Str(b"123456789"))]),
            Err(TableError::StringTooLong { len: 9, max: 8, .. })
        ));
        assert!(matches!(t.set(b"k", &[(1, ValueRef::Str(b"x"))]), Err(TableError::WrongType { .. })));
        assert_eq!(t.get_column(b"k", 1).unwrap(), Some(Value::Int(1)), "nothing changed");
        assert!(matches!(t.incr_int(b"k", 0, 1), Err(TableError::NotNumeric { .. })));
        t.set(b"m", &[(1, ValueRef::Int(i64::MAX))]).unwrap();
        assert!(matches!(t.incr_int(b"m", 1, 1), Err(TableError::Overflow { .. })));
        assert_eq!(t.get_column(b"m", 1).unwrap(), Some(Value::Int(i64::MAX)));
    }

    #[test]
    fn incr_creates_and_cas_compares() {
        let t = Table::new(2, schema(), 8).unwrap();
        assert_eq!(t.incr_int(b"c", 1, 5).unwrap(), 5);
        assert_eq!(t.incr_int(b"c", 1, -2).unwrap(), 3);
        assert_eq!(t.incr_float(b"c", 2, 0.5).unwrap(), 0.5);
        assert!(!t.compare_and_set(b"c", 1, &ValueRef::Int(4), &ValueRef::Int(10)).unwrap());
        assert!(t.compare_and_set(b"c", 1, &ValueRef::Int(3), &ValueRef::Int(10)).unwrap());
        assert_eq!(t.get_column(b"c", 1).unwrap(), Some(Value::Int(10)));
        assert!(!t.compare_and_set(b"missing", 1, &ValueRef::Int(0), &ValueRef::Int(1)).unwrap());
        assert!(t.compare_and_set(b"c", 0, &ValueRef::Str(b""), &ValueRef::Str(b"x")).unwrap());
    }

    #[test]
    fn capacity_is_exact_when_every_key_collides() {
        for cap in [1, 3, 16, 100] {
            let t = Table::with_hash(cap, schema(), 16, KeyHash::Fixed(|_| 42)).unwrap();
            for i in 0..cap {
                t.set(format!("k{i}").as_bytes(), &[(1, ValueRef::Int(i as i64))]).unwrap();
            }
            assert_eq!(t.set(b"one-more", &[]), Err(TableError::Full { capacity: cap }));
            assert!(matches!(t.incr_int(b"one-more", 1, 1), Err(TableError::Full { .. })));
            for i in 0..cap {
                assert_eq!(t.get_column(format!("k{i}").as_bytes(), 1).unwrap(), Some(Value::Int(i as i64)));
            }
            // Churn: delete and insert many times over; tombstones never cost capacity.
            for round in 0..20 {
                let victim = format!("k{}", round % cap);
                assert!(t.del(victim.as_bytes()).unwrap());
                t.set(victim.as_bytes(), &[(1, ValueRef::Int(-1))]).unwrap();
                assert_eq!(t.set(b"one-more", &[]), Err(TableError::Full { capacity: cap }));
            }
            assert_eq!(t.count(), cap);
            assert_eq!(t.rows().len(), cap);
        }
    }

    #[test]
    fn clear_and_rows() {
        let t = Table::new(10, schema(), 8).unwrap();
        for i in 0..10 {
            t.incr_int(format!("r{i}").as_bytes(), 1, i).unwrap();
        }
        let mut rows = t.rows();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(rows.len(), 10);
        assert_eq!(rows[3].0, b"r3");
        assert_eq!(rows[3].1[1], Value::Int(3));
        t.clear();
        assert_eq!(t.count(), 0);
        assert_eq!(t.get(b"r3").unwrap(), None);
        for i in 0..10 {
            t.incr_int(format!("s{i}").as_bytes(), 1, 1).unwrap();
        }
        assert_eq!(t.count(), 10);
    }

    #[test]
    fn schema_errors() {
        assert!(matches!(Table::new(0, schema(), 8), Err(TableError::Schema(_))));
        assert!(matches!(Table::new(1, vec![], 8), Err(TableError::Schema(_))));
        assert!(matches!(Table::new(1, schema(), 0), Err(TableError::Schema(_))));
        let dup = vec![("a".into(), ColumnType::Int), ("a".into(), ColumnType::Float)];
        assert!(matches!(Table::new(1, dup, 8), Err(TableError::Schema(_))));
        assert!(matches!(
            Table::new(1, vec![("s".into(), ColumnType::Str(0))], 8),
            Err(TableError::Schema(_))
        ));
    }
}
