//! `Via\Table`: a fixed-schema table in shared memory, shared by every worker.
//!
//! Owns: argument checks and PHP value conversion, and the rule that tables exist before
//! the processes that share them: a table can only be created before `Server::start()`.
//! Does not own: the table itself (`crate::table`).
//!
//! PHP thread only; the table's memory is shared across processes, never across threads.
//!
//! The per-call methods run without ext-php-rs's bailout guard (`no_bailout_guard`: no
//! `zend_try` per call), which is sound because the table's lock is never held while a PHP
//! value is made: rows are copied out first (`RowCopy`). A fatal error inside one then
//! skips only plain Rust frames, and it ends the server anyway.

use ext_php_rs::boxed::ZBox;
use ext_php_rs::convert::IntoZval;
use ext_php_rs::exception::PhpResult;
use ext_php_rs::flags::ClassFlags;
use ext_php_rs::prelude::*;
use ext_php_rs::types::{ArrayKey, ZendHashTable, ZendStr, Zval};
use ext_php_rs::zend::ce;

use ext_php_rs::ffi;
use smallvec::SmallVec;
use std::mem::MaybeUninit;

use super::args::{Array, ByteStr, Int};
use super::convert;
use super::errors::{table_error, type_err, type_name, value_err, via_err};
use crate::table::{same_key, ColumnType, Table as Core, TableError, Value, ValueRef};

fn canonical_int(key: &[u8]) -> Option<i64> {
    let digits = key.strip_prefix(b"-").unwrap_or(key);
    if digits.is_empty() || digits.len() > 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if (digits[0] == b'0' && digits.len() > 1) || key == b"-0" {
        return None;
    }
    std::str::from_utf8(key).ok()?.parse().ok()
}

/// A row's value bytes copied out of the shared memory, so that no PHP value is made from
/// bytes a writer may be changing (a read is kept only if no change overlapped it, and may
/// be made again) or while the table's lock is held (making one may allocate, and a PHP
/// allocation past `memory_limit` bails out with a `longjmp` that would skip the lock's
/// release). One copy of the whole row, on the stack for the usual small rows.
struct RowCopy {
    stack: [MaybeUninit<u8>; ROW_ON_STACK],
    heap: Vec<u8>,
    len: usize,
}

/// Rows up to this many value bytes are copied to the stack.
const ROW_ON_STACK: usize = 512;

impl RowCopy {
    #[inline]
    fn new() -> Self {
        Self { stack: [MaybeUninit::uninit(); ROW_ON_STACK], heap: Vec::new(), len: 0 }
    }

    #[inline]
    fn fill(&mut self, row: &[u8]) {
        self.len = row.len();
        if row.len() <= ROW_ON_STACK {
            // SAFETY: `row.len()` bytes fit the stack buffer; the two do not overlap.
            unsafe { std::ptr::copy_nonoverlapping(row.as_ptr(), self.stack.as_mut_ptr().cast(), row.len()) };
        } else {
            // A read that a change overlapped fills again (`Table::read_row_bytes`).
            self.heap.clear();
            self.heap.extend_from_slice(row);
        }
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        if self.len <= ROW_ON_STACK {
            // SAFETY: `fill` wrote the first `len` bytes (none when it was not called).
            unsafe { std::slice::from_raw_parts(self.stack.as_ptr().cast(), self.len) }
        } else {
            &self.heap
        }
    }
}

/// One value read from the table: a number itself, a string's bytes copied into a
/// `RowCopy` (see there). Sixteen bytes, returned in registers: a value with its string
/// inline (a 64-byte `SmallVec`) was copied through each `Result` and `Option` on the way
/// out at unaligned offsets, and the loads that read those copies back waited on the
/// stores (`perf annotate`; `get(key, col)` went from 64 to 45 ns a call).
#[derive(Clone, Copy)]
enum ValueCopy {
    Int(i64),
    Float(f64),
    /// In the `RowCopy` given to `of`.
    Str,
}

impl ValueCopy {
    #[inline]
    fn of(v: ValueRef<'_>, strings: &mut RowCopy) -> Self {
        match v {
            ValueRef::Int(n) => Self::Int(n),
            ValueRef::Float(f) => Self::Float(f),
            ValueRef::Str(s) => {
                strings.fill(s);
                Self::Str
            }
        }
    }

    #[inline]
    fn zval(self, strings: &RowCopy) -> Zval {
        match self {
            Self::Int(n) => convert::long(n),
            Self::Float(f) => convert::double(f),
            Self::Str => convert::bytes(strings.bytes()),
        }
    }
}

// In line, with `convert`'s in-line constructors (see there).
#[inline]
fn value_ref_zval(v: ValueRef<'_>) -> Zval {
    match v {
        ValueRef::Int(n) => convert::long(n),
        ValueRef::Float(f) => convert::double(f),
        ValueRef::Str(s) => convert::bytes(s),
    }
}

fn value_zval(v: Value) -> PhpResult<Zval> {
    Ok(match v {
        Value::Int(n) => n.into_zval(false)?,
        Value::Float(f) => f.into_zval(false)?,
        Value::Str(s) => convert::bytes(&s),
    })
}

/// A shared-memory table of fixed schema: every worker of a server sees the same rows.
#[php_class]
#[php(name = "Via\\Table")]
#[php(flags = ClassFlags::Final)]
#[php(implements(ce = ce::countable, stub = "\\Countable"))]
#[php(implements(ce = ce::aggregate, stub = "\\IteratorAggregate"))]
pub struct Table {
    core: Core,
    /// The column names as PHP strings, made once: a row read by `get()` inserts them as
    /// its keys with a reference count and their cached hash instead of allocating and
    /// hashing a new string per column per call.
    keys: Vec<ZBox<ZendStr>>,
    /// For a column named like a canonical integer ("7"), that integer: PHP stores such
    /// an array key as an int, so rows use it as one.
    int_names: Vec<Option<i64>>,
    /// PHP's own hash of each column name (as arrays keep it for their keys): `set()`
    /// matches an array's keys to columns by it before comparing bytes (in line).
    name_hashes: Vec<u64>,
}

impl Table {
    /// `get()`'s value, or its error.
    #[inline(always)]
    fn get_value(&self, key: &[u8], column: Option<&[u8]>) -> PhpResult<convert::Ret> {
        let m = "get";
        if let Some(c) = column {
            let col = self.column(m, c)?;
            let mut strings = RowCopy::new();
            let found = self
                .core
                .read_column(key, col, |v| ValueCopy::of(v, &mut strings))
                .map_err(|e| table_error(m, e))?;
            return Ok(convert::Ret(found.map_or_else(Zval::null, |v| v.zval(&strings))));
        }
        let mut copy = RowCopy::new();
        if !self.core.read_row_bytes(key, |b| copy.fill(b)).map_err(|e| table_error(m, e))? {
            return Ok(convert::Ret(Zval::null()));
        }
        let bytes = copy.bytes();
        let mut row = ZendHashTable::with_capacity(self.keys.len() as u32);
        for (i, name) in self.keys.iter().enumerate() {
            let mut value = value_ref_zval(self.core.value_in(bytes, i));
            // SAFETY: `row` is a new array that has no key yet, and the names are distinct;
            // the array takes its own reference to the name and takes `value` over. A name
            // like "7" is the int key 7, as PHP itself would store it.
            unsafe {
                match self.int_names[i] {
                    Some(n) => ffi::zend_hash_index_update(&mut *row, n as ffi::zend_ulong, &mut value),
                    None => ffi::zend_hash_add_new(&mut *row, name.as_ptr().cast_mut(), &mut value),
                }
            };
            std::mem::forget(value);
        }
        Ok(convert::Ret(convert::array(row)))
    }

    /// The index of column `name` (bytes as PHP gave them: no UTF-8 check on the hot path;
    /// a name that is not UTF-8 matches no column and is named lossily in the error).
    #[inline]
    fn column(&self, method: &str, name: &[u8]) -> PhpResult<usize> {
        self.core.column_index_bytes(name).ok_or_else(|| {
            table_error(method, TableError::UnknownColumn(String::from_utf8_lossy(name).into_owned()))
        })
    }

    /// The column named by the string array key `name` whose hash is `h`.
    #[inline]
    fn column_by_hash(&self, method: &str, name: &[u8], h: u64) -> PhpResult<usize> {
        for (col, &nh) in self.name_hashes.iter().enumerate() {
            if nh == h && same_key(self.core.columns()[col].name.as_bytes(), name) {
                return Ok(col);
            }
        }
        self.column(method, name)
    }

    /// The column named by the int array key `n` (a column named "7" is PHP's key 7).
    fn int_column(&self, method: &str, n: i64) -> PhpResult<usize> {
        match self.int_names.iter().position(|&i| i == Some(n)) {
            Some(col) => Ok(col),
            None => self.column(method, n.to_string().as_bytes()),
        }
    }

    /// A PHP value for column `col` (types are checked by the core; this only maps).
    #[inline]
    fn value_ref<'a>(&self, method: &str, col: usize, z: &'a Zval) -> PhpResult<ValueRef<'a>> {
        // The common case returns in registers; the error is built out of line.
        match plain_value(z) {
            Some(v) => Ok(v),
            None => Err(self.wrong_type(method, col, z)),
        }
    }

    #[cold]
    #[inline(never)]
    fn wrong_type(&self, method: &str, col: usize, z: &Zval) -> ext_php_rs::exception::PhpException {
        let c = &self.core.columns()[col];
        type_err(format!(
            "Via\\Table::{method}(): column \"{}\" holds {} values, {} given",
            c.name,
            c.kind.name(),
            type_name(z)
        ))
    }
}

/// The entries of a PHP array that is a hash (not a packed list), read from its buckets:
/// the key as the array holds it and the value behind any reference.
struct Entries<'a> {
    buckets: std::slice::Iter<'a, ffi::Bucket>,
}

enum EntryKey<'a> {
    /// A string key and the hash the array keeps for it.
    Str(&'a [u8], u64),
    Int(i64),
}

/// `HASH_FLAG_PACKED` of `zend_hash.h` (the same in PHP 8.1 to 8.5): a list, whose
/// storage is not buckets from PHP 8.2 on.
const HASH_FLAG_PACKED: u32 = 1 << 2;

impl<'a> Entries<'a> {
    fn of(ht: &'a ZendHashTable) -> Option<Self> {
        // SAFETY: the flags word and, for an array that is not packed, its `nNumUsed`
        // buckets (holes are `IS_UNDEF`) are the engine's layout for every PHP 8 version;
        // an uninitialized array has none.
        unsafe {
            if ht.u.flags & HASH_FLAG_PACKED != 0 {
                return None;
            }
            let n = ht.nNumUsed as usize;
            let data = ht.__bindgen_anon_1.arData;
            let buckets = if n == 0 { &[][..] } else { std::slice::from_raw_parts(data, n) };
            Some(Self { buckets: buckets.iter() })
        }
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = (EntryKey<'a>, &'a Zval);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let b = self.buckets.next()?;
            // SAFETY: a live bucket: its type byte tells a hole; a non-null key is a live
            // string of the array.
            unsafe {
                if b.val.u1.type_info & 0xff == ffi::IS_UNDEF {
                    continue;
                }
                let key = match b.key.as_ref() {
                    Some(k) => EntryKey::Str(k.as_bytes(), b.h),
                    None => EntryKey::Int(b.h as i64),
                };
                return Some((key, b.val.dereference()));
            }
        }
    }
}

/// PHP's hash of each string, as the engine computes it: each is added to a scratch array,
/// which stores the hash in the string.
fn php_hashes(names: &[ZBox<ZendStr>]) -> Vec<u64> {
    let mut scratch = ZendHashTable::with_capacity(names.len() as u32);
    names
        .iter()
        .map(|name| {
            let mut null = Zval::null();
            // SAFETY: a live array and string; the array takes a reference to the name and
            // a null value, both released with it.
            unsafe { ffi::zend_hash_add_new(&mut *scratch, name.as_ptr().cast_mut(), &mut null) };
            std::mem::forget(null);
            name.h
        })
        .collect()
}

/// An int, float or string PHP value as a table value (types are checked by the core;
/// this only maps).
#[inline]
fn plain_value(z: &Zval) -> Option<ValueRef<'_>> {
    if let Some(n) = z.long() {
        Some(ValueRef::Int(n))
    } else if let Some(f) = z.double() {
        Some(ValueRef::Float(f))
    } else {
        z.zend_str().map(|s| ValueRef::Str(s.as_bytes()))
    }
}

#[php_impl]
impl Table {
    /// An int column (8 bytes).
    const INT: i64 = 1;
    /// A float column (8 bytes).
    const FLOAT: i64 = 2;
    /// A string column of at most the given number of bytes: [Table::STRING, 64].
    const STRING: i64 = 3;

    /// A table of exactly $rows rows — every one insertable, whatever the keys — with
    /// these columns: ['hits' => Table::INT, 'score' => Table::FLOAT, 'name' =>
    /// [Table::STRING, 32]]. Keys are byte strings of 1 to $keyMaxLength bytes. The
    /// memory is shared with every process forked later: create tables before
    /// Server::start().
    ///
    /// @throws \ValueError for a bad row count, key length or column declaration
    /// @throws \Via\Exception inside a running server or a worker, or when the memory
    ///         cannot be mapped
    #[php(defaults(key_max_length = 64))]
    pub fn __construct(rows: Int, columns: Array, key_max_length: Int) -> PhpResult<Self> {
        let (rows, key_max_length) = (*rows, *key_max_length);
        if super::serve::any_running() {
            return Err(via_err(
                "Via\\Table::__construct(): tables must be created before Server::start(); a table \
                 created now would not be shared with the workers",
            ));
        }
        let m = "__construct";
        if rows < 1 {
            return Err(value_err(format!(
                "Via\\Table::__construct(): Argument #1 ($rows) must be at least 1, {rows} given"
            )));
        }
        if !(1..=crate::table::MAX_KEY as i64).contains(&key_max_length) {
            return Err(value_err(format!(
                "Via\\Table::__construct(): Argument #3 ($keyMaxLength) must be between 1 and {}, {key_max_length} given",
                crate::table::MAX_KEY
            )));
        }
        let mut cols = Vec::with_capacity(columns.len());
        for (key, spec) in columns.iter() {
            let name = key.to_string();
            let bad = || {
                value_err(format!(
                    "Via\\Table::__construct(): column \"{name}\" must be Table::INT, Table::FLOAT or \
                     [Table::STRING, size]"
                ))
            };
            let kind = if let Some(t) = spec.long() {
                match t {
                    Self::INT => ColumnType::Int,
                    Self::FLOAT => ColumnType::Float,
                    Self::STRING => {
                        return Err(value_err(format!(
                            "Via\\Table::__construct(): string column \"{name}\" needs a size: [Table::STRING, size]"
                        )))
                    }
                    _ => return Err(bad()),
                }
            } else if let Some(arr) = spec.array() {
                let mut it = arr.values();
                match (it.next().and_then(Zval::long), it.next().and_then(Zval::long), it.next()) {
                    (Some(Self::STRING), Some(size), None) if size >= 1 => ColumnType::Str(size as usize),
                    (Some(Self::STRING), Some(size), None) => {
                        return Err(value_err(format!(
                            "Via\\Table::__construct(): string column \"{name}\" must hold at least 1 byte, {size} given"
                        )))
                    }
                    (Some(Self::INT), None, None) => ColumnType::Int,
                    (Some(Self::FLOAT), None, None) => ColumnType::Float,
                    _ => return Err(bad()),
                }
            } else {
                return Err(bad());
            };
            cols.push((name, kind));
        }
        let core = Core::new(rows as usize, cols, key_max_length as usize).map_err(|e| table_error(m, e))?;
        let keys: Vec<_> = core.columns().iter().map(|c| ZendStr::new(&c.name, false)).collect();
        let int_names = core.columns().iter().map(|c| canonical_int(c.name.as_bytes())).collect();
        let name_hashes = php_hashes(&keys);
        Ok(Self { core, keys, int_names, name_hashes })
    }

    /// Writes the given columns of $key's row, creating the row (other columns 0 or "")
    /// when it does not exist; existing rows keep the columns not given.
    ///
    /// @throws \ValueError for an empty or too long key, an unknown column, a string longer
    ///         than its column
    /// @throws \TypeError for a value of the wrong type (ints are accepted for floats)
    /// @throws \Via\CapacityException when the row is new and the table is full
    #[php(no_bailout_guard)]
    #[inline]
    pub fn set(&self, key: ByteStr, values: Array) -> PhpResult<()> {
        let m = "set";
        // On the stack for the usual few columns (no allocation per call).
        let mut refs: SmallVec<[(usize, ValueRef<'_>); 8]> = SmallVec::new();
        if let Some(entries) = Entries::of(&values) {
            // A string-keyed array: one pass over its entries, no hashing.
            for (key, v) in entries {
                let col = match key {
                    EntryKey::Str(name, h) => self.column_by_hash(m, name, h)?,
                    EntryKey::Int(n) => self.int_column(m, n)?,
                };
                refs.push((col, self.value_ref(m, col, v)?));
            }
        } else {
            // A list: its int keys name columns called like integers ("7").
            for (k, v) in values.iter() {
                let col = match k {
                    ArrayKey::Long(n) => self.int_column(m, n)?,
                    other => self.column(m, other.to_string().as_bytes())?,
                };
                refs.push((col, self.value_ref(m, col, v.dereference())?));
            }
        }
        self.core.set(&key, &refs).map_err(|e| table_error(m, e))
    }

    /// The row of $key as [column => value], or one column's value; null when there is
    /// no such row.
    ///
    /// @throws \ValueError for an empty or too long key, an unknown column
    #[php(no_bailout_guard)]
    #[inline]
    pub fn get(&self, key: ByteStr, column: Option<ByteStr>) -> convert::Ret {
        convert::or_throw(self.get_value(&key, column.as_deref()))
    }

    /// Whether $key has a row.
    ///
    /// @throws \ValueError for an empty or too long key
    #[php(no_bailout_guard)]
    pub fn exists(&self, key: ByteStr) -> PhpResult<bool> {
        self.core.exists(&key).map_err(|e| table_error("exists", e))
    }

    /// Removes $key's row; false when there was none.
    ///
    /// @throws \ValueError for an empty or too long key
    #[php(no_bailout_guard)]
    pub fn del(&self, key: ByteStr) -> PhpResult<bool> {
        self.core.del(&key).map_err(|e| table_error("del", e))
    }

    /// Adds $by to a numeric column atomically (across processes) and returns the new
    /// value; a missing row is created first. $by defaults to 1.
    ///
    /// @throws \ValueError for an empty or too long key, an unknown column
    /// @throws \TypeError when the column is a string, or $by is a float for an int column
    /// @throws \ArithmeticError when an int column would overflow
    /// @throws \Via\CapacityException when the row is new and the table is full
    #[php(no_bailout_guard)]
    #[inline]
    pub fn incr(&self, key: ByteStr, column: ByteStr, by: Option<&Zval>) -> convert::Ret {
        self.add("incr", &key, &column, by, false)
    }

    /// Subtracts $by from a numeric column atomically and returns the new value (see incr()).
    ///
    /// @throws \ValueError for an empty or too long key, an unknown column
    /// @throws \TypeError when the column is a string, or $by is a float for an int column
    /// @throws \ArithmeticError when an int column would overflow
    /// @throws \Via\CapacityException when the row is new and the table is full
    #[php(no_bailout_guard)]
    #[inline]
    pub fn decr(&self, key: ByteStr, column: ByteStr, by: Option<&Zval>) -> convert::Ret {
        self.add("decr", &key, &column, by, true)
    }

    /// Sets $column of $key's row to $new if it currently equals $expected, atomically.
    /// Returns false when it did not (or there is no such row).
    ///
    /// @throws \ValueError for an empty or too long key, an unknown column, a string longer
    ///         than its column
    /// @throws \TypeError for values of the wrong type
    #[php(no_bailout_guard)]
    pub fn compare_and_set(
        &self,
        key: ByteStr,
        column: ByteStr,
        expected: &Zval,
        new: &Zval,
    ) -> PhpResult<bool> {
        let m = "compareAndSet";
        let col = self.column(m, &column)?;
        let e = self.value_ref(m, col, expected)?;
        let n = self.value_ref(m, col, new)?;
        self.core.compare_and_set(&key, col, &e, &n).map_err(|err| table_error(m, err))
    }

    /// Rows in use.
    #[php(no_bailout_guard)]
    pub fn count(&self) -> i64 {
        self.core.count() as i64
    }

    /// The rows declared at construction: exactly this many can be stored.
    pub fn capacity(&self) -> i64 {
        self.core.capacity() as i64
    }

    /// Removes every row.
    pub fn clear(&self) {
        self.core.clear();
    }

    /// Bytes of shared memory mapped for the table (pages become resident when written).
    pub fn memory_size(&self) -> i64 {
        self.core.memory_size() as i64
    }

    /// The schema: [column => ['type' => 'int'|'float'|'string', 'size' => bytes]].
    pub fn columns(&self) -> PhpResult<ZBox<ZendHashTable>> {
        let mut ht = ZendHashTable::new();
        for c in self.core.columns() {
            let mut spec = ZendHashTable::new();
            spec.insert("type", c.kind.name())?;
            let size = match c.kind {
                ColumnType::Str(n) => n as i64,
                _ => 8,
            };
            spec.insert("size", size)?;
            ht.insert(c.name.as_str(), spec)?;
        }
        Ok(ht)
    }

    /// An iterator over a snapshot of the rows (taken now): key => [column => value].
    pub fn get_iterator(&self) -> TableIterator {
        TableIterator {
            columns: self.core.columns().iter().map(|c| c.name.clone()).collect(),
            rows: self.core.rows(),
            pos: std::cell::Cell::new(0),
        }
    }
}

/// The rows of a Via\Table as they were when iteration began.
#[php_class]
#[php(name = "Via\\TableIterator")]
#[php(flags = ClassFlags::Final)]
#[php(implements(ce = ce::iterator, stub = "\\Iterator"))]
pub struct TableIterator {
    columns: Vec<String>,
    rows: Vec<(Vec<u8>, Vec<Value>)>,
    pos: std::cell::Cell<usize>,
}

#[php_impl]
impl TableIterator {
    /// The current row as [column => value].
    pub fn current(&self) -> PhpResult<Zval> {
        let Some((_, values)) = self.rows.get(self.pos.get()) else { return Ok(Zval::null()) };
        let mut ht = ZendHashTable::with_capacity(values.len() as u32);
        for (name, v) in self.columns.iter().zip(values) {
            ht.insert(name.as_str(), value_zval(v.clone())?)?;
        }
        Ok(ht.into_zval(false)?)
    }

    /// The current row's key (an int for a canonical decimal key, as PHP arrays do).
    pub fn key(&self) -> PhpResult<Zval> {
        let Some((key, _)) = self.rows.get(self.pos.get()) else { return Ok(Zval::null()) };
        Ok(match canonical_int(key) {
            Some(n) => n.into_zval(false)?,
            None => convert::bytes(key),
        })
    }

    pub fn next(&self) {
        self.pos.set(self.pos.get() + 1);
    }

    pub fn rewind(&self) {
        self.pos.set(0);
    }

    pub fn valid(&self) -> bool {
        self.pos.get() < self.rows.len()
    }
}

impl Table {
    #[inline]
    /// `incr()`'s and `decr()`'s value, or its error thrown. Returned whole (in registers):
    /// a `Result` came back through the stack, copied and loaded as one 16-byte word
    /// after it was stored as two (see `convert::or_throw`).
    fn add(&self, m: &str, key: &[u8], column: &[u8], by: Option<&Zval>, negate: bool) -> convert::Ret {
        convert::or_throw(self.try_add(m, key, column, by, negate).map(convert::Ret))
    }

    #[inline(always)]
    fn try_add(
        &self,
        m: &str,
        key: &[u8],
        column: &[u8],
        by: Option<&Zval>,
        negate: bool,
    ) -> PhpResult<Zval> {
        let col = self.column(m, column)?;
        let c = &self.core.columns()[col];
        match c.kind {
            ColumnType::Int => {
                let n = match by {
                    None => 1,
                    Some(by) => by.long().ok_or_else(|| {
                        type_err(format!(
                            "Via\\Table::{m}(): Argument #3 ($by) must be of type int for int column \"{}\", {} given",
                            c.name,
                            type_name(by)
                        ))
                    })?,
                };
                let n = if negate {
                    n.checked_neg()
                        .ok_or_else(|| table_error(m, TableError::Overflow { column: c.name.clone() }))?
                } else {
                    n
                };
                Ok(convert::long(self.core.incr_int(key, col, n).map_err(|e| table_error(m, e))?))
            }
            ColumnType::Float => {
                let f = match by {
                    None => 1.0,
                    Some(by) => by.double().or_else(|| by.long().map(|n| n as f64)).ok_or_else(|| {
                        type_err(format!(
                            "Via\\Table::{m}(): Argument #3 ($by) must be of type int|float, {} given",
                            type_name(by)
                        ))
                    })?,
                };
                let f = if negate { -f } else { f };
                Ok(convert::double(self.core.incr_float(key, col, f).map_err(|e| table_error(m, e))?))
            }
            ColumnType::Str(_) => Err(table_error(m, TableError::NotNumeric { column: c.name.clone() })),
        }
    }
}
