//! The keyed hashes of the keys this process used last, so that a key used again (a
//! counter's, a session's) skips SipHash.
//!
//! Owns: a direct-mapped memo of `(key, hash, row)` per table and process; which entry a
//! key goes to. The row is where this process last found the key: a hint the table checks
//! (the row must be in use, live and hold the key) before it trusts it, which saves the
//! probe of the index, a load that missed the cache on most calls (decision 0026).
//! Does not own: the hash itself (`sip`, given to `hash` as a function).
//!
//! Why: a table's call spends about 90 instructions in SipHash-1-3 for a short key, and
//! SipHash stays, as keys come from peers (decision in `sip`). Looking a key up here takes
//! about a third of that. The memo is only a cache: a key is always compared in full, so
//! a miss — a new key, or another key that took its entry — costs one comparison more than
//! no memo, and keys made to share an entry only make each other miss. Entries live in the
//! process's own memory, not in the shared mapping: a table's SipHash key is the same in
//! every process, the entries of one process are nobody else's business.
//!
//! Invariants: an entry's `len` is 0 (empty: the memo takes no empty key) or the length
//! of the key it holds, and its hash is the hash of that key. Only one thread uses a memo
//! (`UnsafeCell`: a table is not `Sync`).

use std::cell::UnsafeCell;

use super::same_key;

/// Keys longer than this are hashed every time.
pub const MEMO_KEY: usize = 48;
/// Entries: 2^8, 16 KiB a table.
const BITS: u32 = 8;

#[repr(C, align(64))]
struct Entry {
    hash: u64,
    len: u32,
    /// Row + 1 where the key was last found; 0: none yet.
    row: u32,
    key: [u8; MEMO_KEY],
}

const _: () = assert!(std::mem::size_of::<Entry>() == 64);

impl Entry {
    const EMPTY: Self = Self { hash: 0, len: 0, row: 0, key: [0; MEMO_KEY] };
}

/// A key's hash, and what the memo knows of its row.
#[derive(Clone, Copy, Debug)]
pub struct Keyed {
    pub hash: u64,
    /// The key's entry (`NO_ENTRY`: a key the memo does not keep).
    entry: u32,
    /// Row + 1 where this process last found the key; 0: unknown.
    row: u32,
}

const NO_ENTRY: u32 = u32::MAX;

impl Keyed {
    /// A key hashed without the memo.
    pub fn plain(hash: u64) -> Self {
        Self { hash, entry: NO_ENTRY, row: 0 }
    }

    /// Where this process last found the key (unchecked: the row may hold another key now).
    #[inline(always)]
    pub fn row_hint(&self) -> Option<u32> {
        self.row.checked_sub(1)
    }
}

pub struct Memo {
    entries: Box<[UnsafeCell<Entry>]>,
}

impl Memo {
    pub fn new() -> Self {
        Self { entries: (0..1 << BITS).map(|_| UnsafeCell::new(Entry::EMPTY)).collect() }
    }

    /// The hash of `key` (the memo's, or `hash(key)`, then kept) and the row it was last
    /// found in. In line: as a call, its entry and exit cost a quarter of a hit.
    #[inline(always)]
    pub fn hash(&self, key: &[u8], hash: impl FnOnce(&[u8]) -> u64) -> Keyed {
        // Keys of 1 to MEMO_KEY bytes only: an empty entry has length 0 (one compare).
        if key.len().wrapping_sub(1) >= MEMO_KEY {
            return Keyed::plain(hash(key));
        }
        let i = index(key);
        // SAFETY: one thread uses the memo (the table is not `Sync`) and nothing is called
        // while the reference lives but `hash`, which cannot reach the memo.
        let e = unsafe { &mut *self.entries[i].get() };
        if same_key(&e.key[..e.len as usize], key) {
            return Keyed { hash: e.hash, entry: i as u32, row: e.row };
        }
        Keyed { hash: miss(e, key, hash), entry: i as u32, row: 0 }
    }

    /// Notes that `k`'s key was found in row `row` (`k` from `hash` of this memo, with no
    /// other key hashed since).
    #[inline(always)]
    pub fn remember(&self, k: &Keyed, row: u32) {
        if let Some(cell) = self.entries.get(k.entry as usize) {
            // SAFETY: as in `hash`; `k.entry` holds `k`'s key (nothing was hashed since).
            unsafe { (*cell.get()).row = row.wrapping_add(1) };
        }
    }
}

/// Hashes `key` into its entry `e`: out of line, so that a hit saves no registers for
/// SipHash.
#[inline(never)]
fn miss(e: &mut Entry, key: &[u8], hash: impl FnOnce(&[u8]) -> u64) -> u64 {
    let h = hash(key);
    e.key[..key.len()].copy_from_slice(key);
    e.len = key.len() as u32;
    e.hash = h;
    e.row = 0;
    h
}

/// A key's entry: a multiplicative hash of its first and last eight bytes (or of all of a
/// shorter key) and its length. Not keyed: a key's entry is no secret, and sharing one
/// only costs misses.
#[inline(always)]
fn index(key: &[u8]) -> usize {
    let n = key.len();
    let x = if n >= 8 {
        let word = |at: usize| u64::from_le_bytes(key[at..at + 8].try_into().expect("8 bytes"));
        word(0) ^ word(n - 8).rotate_left(29)
    } else {
        super::sip::tail(key)
    };
    ((x ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - BITS)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn a_key_seen_again_is_not_hashed_again() {
        let memo = Memo::new();
        let calls = Cell::new(0);
        let h = |k: &[u8]| {
            calls.set(calls.get() + 1);
            k.len() as u64 * 1000 + u64::from(k[0])
        };
        assert_eq!(memo.hash(b"session-1", h).hash, 9115);
        assert_eq!(memo.hash(b"session-1", h).hash, 9115);
        assert_eq!(calls.get(), 1);
    }

    /// Every key gets its own hash, whatever shares its entry, at every length the memo
    /// keeps and past it.
    #[test]
    fn keys_that_share_an_entry_get_their_own_hashes() {
        let memo = Memo::new();
        let h = |k: &[u8]| k.iter().fold(7u64, |a, &b| a.wrapping_mul(31).wrapping_add(u64::from(b)));
        let keys: Vec<Vec<u8>> = (1..=MEMO_KEY + 4)
            .flat_map(|n| {
                (0..40u8).map(move |i| (0..n).map(|j| b'a' + ((i as usize + j) % 26) as u8).collect())
            })
            .collect();
        // More keys than entries: most entries are taken over, many times.
        assert!(keys.len() > 4 << BITS);
        for round in 0..2 {
            for k in &keys {
                assert_eq!(memo.hash(k, h).hash, h(k), "round {round}, key {:?}", String::from_utf8_lossy(k));
            }
        }
    }

    /// A key's row is remembered with its entry, and forgotten when another key takes it.
    #[test]
    fn a_row_is_remembered_until_another_key_takes_the_entry() {
        let memo = Memo::new();
        let h = |k: &[u8]| k.len() as u64;
        let k = memo.hash(b"key-1", h);
        assert_eq!(k.row_hint(), None);
        memo.remember(&k, 41);
        assert_eq!(memo.hash(b"key-1", h).row_hint(), Some(41));
        // A key that shares the entry takes it over, and its row is unknown.
        let other = (0..10_000u32)
            .map(|i| format!("other-{i}").into_bytes())
            .find(|o| index(o) == index(b"key-1"))
            .expect("a key that shares the entry");
        assert_eq!(memo.hash(&other, h).row_hint(), None);
        assert_eq!(memo.hash(b"key-1", h).row_hint(), None);
        // A key the memo does not keep has nowhere to remember a row.
        let long = [b'k'; MEMO_KEY + 1];
        let k = memo.hash(&long, h);
        memo.remember(&k, 3);
        assert_eq!(memo.hash(&long, h).row_hint(), None);
    }

    /// A longer key, and an empty one (which an empty entry would match), are hashed every
    /// time.
    #[test]
    fn a_longer_key_and_the_empty_key_are_hashed_every_time() {
        let memo = Memo::new();
        for key in [&[b'k'; MEMO_KEY + 1][..], b""] {
            let calls = Cell::new(0);
            for _ in 0..3 {
                let h = memo
                    .hash(key, |_| {
                        calls.set(calls.get() + 1);
                        5
                    })
                    .hash;
                assert_eq!(h, 5);
            }
            assert_eq!(calls.get(), 3, "a key of {} bytes", key.len());
        }
    }
}
