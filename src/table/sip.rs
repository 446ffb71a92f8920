//! SipHash-1-3 over a whole key at once: the keyed hash of a table's keys.
//!
//! Keys come from peers (session ids, addresses), so the hash is keyed and secret per
//! table: nobody outside can make keys collide on purpose. This is the algorithm of std's
//! `DefaultHasher`, written for one short input; std's streaming `Hasher` spends most of
//! a short key's time on its buffering.

use std::hash::BuildHasher;

/// A random 128-bit SipHash key.
#[derive(Clone, Copy, Debug)]
pub struct SipKey {
    k0: u64,
    k1: u64,
}

impl SipKey {
    /// A key from the process's random source (std's `RandomState` seeds).
    pub fn random() -> Self {
        let a = std::collections::hash_map::RandomState::new();
        let b = std::collections::hash_map::RandomState::new();
        Self { k0: a.hash_one(0x5eed_u64), k1: b.hash_one(0xfeed_u64) }
    }

    #[cfg(test)]
    pub fn new(k0: u64, k1: u64) -> Self {
        Self { k0, k1 }
    }

    /// SipHash-1-3 of `m`.
    #[inline]
    pub fn hash(&self, m: &[u8]) -> u64 {
        siphash::<1, 3>(self, m)
    }
}

#[inline(always)]
fn siphash<const C: usize, const D: usize>(k: &SipKey, m: &[u8]) -> u64 {
    let mut v = [
        k.k0 ^ 0x736f_6d65_7073_6575,
        k.k1 ^ 0x646f_7261_6e64_6f6d,
        k.k0 ^ 0x6c79_6765_6e65_7261,
        k.k1 ^ 0x7465_6462_7974_6573,
    ];
    let mut chunks = m.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        v[3] ^= w;
        rounds::<C>(&mut v);
        v[0] ^= w;
    }
    let last = (m.len() as u64) << 56 | tail(chunks.remainder());
    v[3] ^= last;
    rounds::<C>(&mut v);
    v[0] ^= last;
    v[2] ^= 0xff;
    rounds::<D>(&mut v);
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

/// The last 0 to 7 bytes as a little-endian word, read in at most two loads, not byte by
/// byte: overlapping reads put the same byte at the same place, so or-ing them is exact.
#[inline(always)]
pub(super) fn tail(b: &[u8]) -> u64 {
    let n = b.len();
    debug_assert!(n < 8);
    if n >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]);
        u64::from(lo) | u64::from(hi) << (8 * (n - 4))
    } else if n > 0 {
        u64::from(b[0]) | u64::from(b[n / 2]) << (8 * (n / 2)) | u64::from(b[n - 1]) << (8 * (n - 1))
    } else {
        0
    }
}

#[inline(always)]
fn rounds<const N: usize>(v: &mut [u64; 4]) {
    for _ in 0..N {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::Hasher;

    /// The same code with 2 and 4 rounds is SipHash-2-4, which std still ships: equal
    /// outputs for every length around the block size prove the block and tail handling.
    #[test]
    #[allow(deprecated)]
    fn matches_std_siphash_2_4_for_every_length() {
        let key = SipKey::new(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let bytes: Vec<u8> = (0..64u8).collect();
        for len in 0..=bytes.len() {
            let mut std = std::hash::SipHasher::new_with_keys(key.k0, key.k1);
            std.write(&bytes[..len]);
            assert_eq!(siphash::<2, 4>(&key, &bytes[..len]), std.finish(), "length {len}");
        }
    }

    /// The reference paper's SipHash-2-4 vector for the 15-byte message 00..0e.
    #[test]
    fn matches_the_reference_vector() {
        let key = SipKey::new(0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908);
        let m: Vec<u8> = (0..15u8).collect();
        assert_eq!(siphash::<2, 4>(&key, &m), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn keys_differ_between_tables() {
        let (a, b) = (SipKey::random(), SipKey::random());
        assert_ne!(a.hash(b"session-1"), b.hash(b"session-1"));
    }
}
