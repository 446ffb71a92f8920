//! The keyed hashes of the keys this process used last, so that a key used again (a
//! counter's, a session's) skips SipHash.
//!
//! Owns: a direct-mapped memo of `(key, hash)` per table and process; which entry a key
//! goes to.
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
    key: [u8; MEMO_KEY],
}

impl Entry {
    const EMPTY: Self = Self { hash: 0, len: 0, key: [0; MEMO_KEY] };
}

pub struct Memo {
    entries: Box<[UnsafeCell<Entry>]>,
}

impl Memo {
    pub fn new() -> Self {
        Self { entries: (0..1 << BITS).map(|_| UnsafeCell::new(Entry::EMPTY)).collect() }
    }

    /// The hash of `key`: the memo's, or `hash(key)`, then kept. In line: as a call, its
    /// entry and exit cost a quarter of a hit.
    #[inline(always)]
    pub fn hash(&self, key: &[u8], hash: impl FnOnce(&[u8]) -> u64) -> u64 {
        // Keys of 1 to MEMO_KEY bytes only: an empty entry has length 0 (one compare).
        if key.len().wrapping_sub(1) >= MEMO_KEY {
            return hash(key);
        }
        // SAFETY: one thread uses the memo (the table is not `Sync`) and nothing is called
        // while the reference lives but `hash`, which cannot reach the memo.
        let e = unsafe { &mut *self.entries[index(key)].get() };
        if same_key(&e.key[..e.len as usize], key) {
            return e.hash;
        }
        miss(e, key, hash)
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
        assert_eq!(memo.hash(b"session-1", h), 9115);
        assert_eq!(memo.hash(b"session-1", h), 9115);
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
                assert_eq!(memo.hash(k, h), h(k), "round {round}, key {:?}", String::from_utf8_lossy(k));
            }
        }
    }

    /// A longer key, and an empty one (which an empty entry would match), are hashed every
    /// time.
    #[test]
    fn a_longer_key_and_the_empty_key_are_hashed_every_time() {
        let memo = Memo::new();
        for key in [&[b'k'; MEMO_KEY + 1][..], b""] {
            let calls = Cell::new(0);
            for _ in 0..3 {
                let h = memo.hash(key, |_| {
                    calls.set(calls.get() + 1);
                    5
                });
                assert_eq!(h, 5);
            }
            assert_eq!(calls.get(), 3, "a key of {} bytes", key.len());
        }
    }
}
