//! Per-client rate limit: a token bucket per address, in bounded memory.
//!
//! Owns: the buckets (`rate` tokens a second, at most `burst`), the answer to "may this
//! client send a request now, and if not, when" and the bound on the state a flood of
//! distinct addresses can make.
//! Keys: an IPv4 address, or an IPv6 /64 (one host usually has a whole /64 to rotate in).
//! Bound: `SHARDS` × `PER_SHARD` buckets. A full shard first forgets the buckets that are
//! full again (they mean the same as no bucket), at most once a second; if it is still
//! full it forgets an arbitrary one — that client starts afresh with a full burst, which
//! errs on letting a request through rather than on refusing one.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

const SHARDS: usize = 16;
/// Buckets per shard: 65,536 in all, about 2.5 MB at most.
pub const PER_SHARD: usize = 4096;

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    /// When `tokens` was computed, in seconds since the limiter's epoch.
    at: f64,
}

#[derive(Default)]
struct Shard {
    buckets: HashMap<u128, Bucket, rustc_hash::FxBuildHasher>,
    last_sweep: f64,
}

pub struct RateLimiter {
    rate: f64,
    burst: f64,
    epoch: Instant,
    shards: Box<[Mutex<Shard>]>,
    hasher: rustc_hash::FxBuildHasher,
}

fn key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => u128::from(u32::from(v4)),
            // The /64, tagged so that it never equals an IPv4 key.
            None => (u128::from(v6) >> 64 << 64) | 1,
        },
    }
}

impl RateLimiter {
    /// `rate` requests a second on average, `burst` at once (at least 1).
    pub fn new(rate: f64, burst: u32) -> Self {
        Self {
            rate,
            burst: f64::from(burst.max(1)),
            epoch: Instant::now(),
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: rustc_hash::FxBuildHasher,
        }
    }

    /// Takes a token for `ip`; `Err(wait)` when there is none, with how long until there is.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.check_at(ip, self.epoch.elapsed().as_secs_f64())
    }

    fn check_at(&self, ip: IpAddr, now: f64) -> Result<(), Duration> {
        let key = key(ip);
        let mut h = self.hasher.build_hasher();
        key.hash(&mut h);
        let shard = &self.shards[(std::hash::Hasher::finish(&h) as usize) % SHARDS];
        let mut shard = shard.lock();
        if !shard.buckets.contains_key(&key) && shard.buckets.len() >= PER_SHARD {
            self.make_room(&mut shard, now);
        }
        let (rate, burst) = (self.rate, self.burst);
        let b = shard.buckets.entry(key).or_insert(Bucket { tokens: burst, at: now });
        b.tokens = (b.tokens + (now - b.at).max(0.0) * rate).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        Err(Duration::from_secs_f64(((1.0 - b.tokens) / rate).clamp(0.001, 86_400.0)))
    }

    fn make_room(&self, shard: &mut Shard, now: f64) {
        if now - shard.last_sweep >= 1.0 {
            shard.last_sweep = now;
            let (rate, burst) = (self.rate, self.burst);
            shard.buckets.retain(|_, b| b.tokens + (now - b.at) * rate < burst);
        }
        if shard.buckets.len() >= PER_SHARD {
            if let Some(&k) = shard.buckets.keys().next() {
                shard.buckets.remove(&k);
            }
        }
    }

    /// Buckets held now.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().buckets.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_burst_then_the_rate() {
        let l = RateLimiter::new(2.0, 3);
        let a = ip("127.0.0.1");
        for _ in 0..3 {
            assert!(l.check_at(a, 10.0).is_ok());
        }
        let wait = l.check_at(a, 10.0).unwrap_err();
        assert!((0.4..=0.51).contains(&wait.as_secs_f64()), "{wait:?}");
        assert!(l.check_at(a, 10.5).is_ok(), "one token after half a second at 2/s");
        assert!(l.check_at(a, 10.5).is_err());
        // Another client has its own bucket.
        assert!(l.check_at(ip("127.0.0.2"), 10.5).is_ok());
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let l = RateLimiter::new(1.0, 1);
        assert!(l.check_at(ip("2001:db8::1"), 0.0).is_ok());
        assert!(l.check_at(ip("2001:db8::ffff"), 0.0).is_err());
        assert!(l.check_at(ip("2001:db8:0:1::1"), 0.0).is_ok());
        assert!(l.check_at(ip("::ffff:10.0.0.1"), 0.0).is_ok());
        assert!(l.check_at(ip("10.0.0.1"), 0.0).is_err(), "a mapped address is the IPv4 client");
    }

    #[test]
    fn a_flood_of_addresses_stays_bounded() {
        let l = RateLimiter::new(1.0, 5);
        for i in 0..200_000u32 {
            let _ = l.check_at(IpAddr::V4((0x7f00_0000 | i).into()), f64::from(i) * 1e-6);
        }
        assert!(l.len() <= SHARDS * PER_SHARD, "{} buckets", l.len());
        // A throttled client inside the flood is still throttled.
        let victim = ip("10.1.2.3");
        for _ in 0..5 {
            assert!(l.check_at(victim, 1.0).is_ok());
        }
        assert!(l.check_at(victim, 1.0).is_err());
    }
}
