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
//!
//! Workers that accept their own connections (`dispatch = connection`) count a client
//! together: their buckets lie in memory shared by every process (`SharedBuckets`, made
//! before the fork), else a client whose connections reach different workers would get
//! `workers` times its rate. There a bucket is one word, the theoretical arrival time of
//! the generic cell rate algorithm (GCRA, the same limit as a token bucket), updated with a
//! compare-and-swap: no lock that a worker could die holding. The same bound applies, and
//! much the same forgetting, per window of `PROBE` slots (a full window forgets the bucket
//! nearest to full).

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
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
    store: Store,
    hasher: rustc_hash::FxBuildHasher,
}

/// Where the buckets are.
enum Store {
    /// This process's own.
    Local(Box<[Mutex<Shard>]>),
    /// Shared by the workers, with the GCRA's step and tolerance in nanoseconds.
    Shared { buckets: SharedBuckets, interval: u64, tolerance: u64 },
}

/// Slots of the shared store: 65,536 clients in 1 MiB.
const SHARED_SLOTS: usize = 1 << 16;
/// Slots a client's bucket may lie in, from the one its hash names on.
const PROBE: usize = 8;
/// Compare-and-swaps tried on one bucket (every worker taking a token of one client at
/// once) before the request is let through.
const CAS_TRIES: usize = 64;

/// One client's bucket in the shared store.
#[repr(C)]
struct SharedSlot {
    /// The client's key hashed (never 0); 0: never used.
    key: AtomicU64,
    /// The GCRA's theoretical arrival time, in `mono_nanos`: a request is let through while
    /// it is at most `tolerance` ahead of now, and moves it on by `interval`. At or before
    /// now, the bucket is full (as good as none).
    tat: AtomicU64,
}

/// The buckets of every worker process, in a `MAP_SHARED` mapping made by the master before
/// it forks (the copies in the workers lie at the same address). Never unmapped: copies
/// live until their processes exit.
#[derive(Clone)]
pub struct SharedBuckets {
    slots: *const SharedSlot,
}

// SAFETY: the mapping is never unmapped and holds atomics only.
unsafe impl Send for SharedBuckets {}
// SAFETY: as above.
unsafe impl Sync for SharedBuckets {}

impl std::fmt::Debug for SharedBuckets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedBuckets").field("slots", &SHARED_SLOTS).finish()
    }
}

impl SharedBuckets {
    /// An empty store in a new shared mapping (before any fork).
    pub fn new() -> std::io::Result<Self> {
        // Zero-filled: every slot starts unused.
        let ptr = crate::shm::map_shared(SHARED_SLOTS * std::mem::size_of::<SharedSlot>())?;
        Ok(Self { slots: ptr.cast() })
    }

    fn slots(&self) -> &[SharedSlot] {
        // SAFETY: `SHARED_SLOTS` slots were mapped in `new` and stay mapped.
        unsafe { std::slice::from_raw_parts(self.slots, SHARED_SLOTS) }
    }

    /// The bucket of the client whose key hashes to `key`: where it lies in its window, else
    /// a slot taken for it — an unused one, else one whose bucket is full again, else the
    /// one nearest to full (that client starts afresh, as in a full shard, and gains the
    /// fewest tokens by it).
    fn bucket(&self, key: u64) -> &SharedSlot {
        let slots = self.slots();
        let start = (key >> 16) as usize;
        let mut unused = None;
        let mut nearest: Option<(&SharedSlot, u64)> = None;
        for slot in (0..PROBE).map(|i| &slots[(start + i) % SHARED_SLOTS]) {
            match slot.key.load(Ordering::Acquire) {
                k if k == key => return slot,
                0 => {
                    unused.get_or_insert(slot);
                }
                _ => {
                    let tat = slot.tat.load(Ordering::Relaxed);
                    if nearest.is_none_or(|(_, t)| tat < t) {
                        nearest = Some((slot, tat));
                    }
                }
            }
        }
        // A bucket full again (`tat` at or before now) is the nearest to full of all.
        let taken = unused.or(nearest.map(|(slot, _)| slot)).expect("a window of PROBE slots");
        // A full bucket first, then the key: a process of this client that finds the key
        // finds a fresh bucket, never the last owner's (that owner, updating at once, can
        // cost it a token at most). Another process may take the same slot for another
        // client at once: one of them keeps it, the other takes one again next time.
        if taken.key.load(Ordering::Acquire) != key {
            taken.tat.store(0, Ordering::Release);
            taken.key.store(key, Ordering::Release);
        }
        taken
    }

    /// Buckets not full again at `now`.
    fn len(&self, now: u64) -> usize {
        self.slots()
            .iter()
            .filter(|s| s.key.load(Ordering::Relaxed) != 0 && s.tat.load(Ordering::Relaxed) > now)
            .count()
    }
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
        Self::with_store(
            rate,
            burst,
            Store::Local((0..SHARDS).map(|_| Mutex::new(Shard::default())).collect()),
        )
    }

    /// The same limit, counted in `buckets` together with every process that shares them.
    pub fn shared(rate: f64, burst: u32, buckets: SharedBuckets) -> Self {
        let interval = (1e9 / rate).round().clamp(1.0, u64::MAX as f64 / 4.0) as u64;
        let tolerance = interval.saturating_mul(u64::from(burst.max(1) - 1));
        Self::with_store(rate, burst, Store::Shared { buckets, interval, tolerance })
    }

    fn with_store(rate: f64, burst: u32, store: Store) -> Self {
        Self {
            rate,
            burst: f64::from(burst.max(1)),
            epoch: Instant::now(),
            store,
            hasher: rustc_hash::FxBuildHasher,
        }
    }

    /// Takes a token for `ip`; `Err(wait)` when there is none, with how long until there is.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        match &self.store {
            Store::Local(_) => self.check_at(ip, self.epoch.elapsed().as_secs_f64()),
            Store::Shared { .. } => self.check_shared(ip, super::mono_nanos()),
        }
    }

    fn hash(&self, key: u128) -> u64 {
        let mut h = self.hasher.build_hasher();
        key.hash(&mut h);
        std::hash::Hasher::finish(&h)
    }

    fn check_at(&self, ip: IpAddr, now: f64) -> Result<(), Duration> {
        let Store::Local(shards) = &self.store else { return self.check_shared(ip, (now * 1e9) as u64) };
        let key = key(ip);
        let shard = &shards[(self.hash(key) as usize) % SHARDS];
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

    /// `check` in the shared store at `now` (`mono_nanos`).
    fn check_shared(&self, ip: IpAddr, now: u64) -> Result<(), Duration> {
        let Store::Shared { buckets, interval, tolerance } = &self.store else { return Ok(()) };
        // 0 marks an unused slot: a key hashed to 0 takes 1's bucket (not every odd one's).
        let bucket = buckets.bucket(self.hash(key(ip)).max(1));
        for _ in 0..CAS_TRIES {
            let tat = bucket.tat.load(Ordering::Acquire);
            let from = tat.max(now);
            let ahead = from - now;
            if ahead > *tolerance {
                let wait = Duration::from_nanos(ahead - tolerance);
                return Err(wait.clamp(Duration::from_millis(1), Duration::from_secs(86_400)));
            }
            let next = from.saturating_add(*interval);
            if bucket.tat.compare_exchange_weak(tat, next, Ordering::AcqRel, Ordering::Acquire).is_ok() {
                return Ok(());
            }
        }
        // Contended past the tries: let it through rather than refuse it.
        Ok(())
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

    /// Buckets held now (shared: those not full again, of every process).
    pub fn len(&self) -> usize {
        match &self.store {
            Store::Local(shards) => shards.iter().map(|s| s.lock().buckets.len()).sum(),
            Store::Shared { buckets, .. } => buckets.len(super::mono_nanos()),
        }
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

    /// The limiter's two stores: a process's own, and shared by processes.
    fn both(rate: f64, burst: u32) -> [RateLimiter; 2] {
        [RateLimiter::new(rate, burst), RateLimiter::shared(rate, burst, SharedBuckets::new().unwrap())]
    }

    #[test]
    fn a_burst_then_the_rate() {
        for l in both(2.0, 3) {
            a_burst_then_the_rate_in(&l);
        }
    }

    fn a_burst_then_the_rate_in(l: &RateLimiter) {
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
        for l in both(1.0, 1) {
            ipv6_clients_share_their_64_in(&l);
        }
    }

    fn ipv6_clients_share_their_64_in(l: &RateLimiter) {
        assert!(l.check_at(ip("2001:db8::1"), 0.0).is_ok());
        assert!(l.check_at(ip("2001:db8::ffff"), 0.0).is_err());
        assert!(l.check_at(ip("2001:db8:0:1::1"), 0.0).is_ok());
        assert!(l.check_at(ip("::ffff:10.0.0.1"), 0.0).is_ok());
        assert!(l.check_at(ip("10.0.0.1"), 0.0).is_err(), "a mapped address is the IPv4 client");
    }

    #[test]
    fn a_flood_of_addresses_stays_bounded() {
        for l in both(1.0, 5) {
            a_flood_of_addresses_stays_bounded_in(&l);
        }
    }

    fn a_flood_of_addresses_stays_bounded_in(l: &RateLimiter) {
        for i in 0..200_000u32 {
            let _ = l.check_at(IpAddr::V4((0x7f00_0000 | i).into()), 100.0 + f64::from(i) * 1e-6);
        }
        // The shared store is a fixed mapping (its windows are tested below); the local one
        // grows with its clients until its shards are full.
        if let Store::Local(_) = &l.store {
            let held = l.len();
            assert!((PER_SHARD..=SHARDS * PER_SHARD).contains(&held), "{held} buckets");
        }
        // A throttled client inside the flood is still throttled.
        let victim = ip("10.1.2.3");
        for _ in 0..5 {
            assert!(l.check_at(victim, 101.0).is_ok());
        }
        assert!(l.check_at(victim, 101.0).is_err());
    }

    /// Hashed keys that all fall in the window starting at slot 100.
    fn in_window(i: u64) -> u64 {
        (100 << 16) | (i + 1)
    }

    #[test]
    fn a_full_window_takes_a_full_bucket_then_the_nearest_to_full() {
        let buckets = SharedBuckets::new().unwrap();
        let now = 1_000;
        let mut held = Vec::new();
        for i in 0..PROBE as u64 {
            let slot = buckets.bucket(in_window(i));
            slot.tat.store(now + 10, Ordering::Relaxed); // not full again before now + 10
            held.push(slot as *const SharedSlot);
        }
        let distinct: std::collections::HashSet<_> = held.iter().collect();
        assert_eq!(distinct.len(), PROBE, "each client takes an unused slot of the window");
        for i in 0..PROBE as u64 {
            assert!(std::ptr::eq(buckets.bucket(in_window(i)), held[i as usize]), "client {i} finds its own");
        }
        // The window is full: a bucket that is full again (the fourth) goes first...
        // SAFETY: the slots are in `buckets`' mapping, which stays mapped.
        unsafe { (*held[3]).tat.store(now, Ordering::Relaxed) };
        let newcomer = buckets.bucket(in_window(PROBE as u64));
        assert!(std::ptr::eq(newcomer, held[3]), "a full bucket is taken before a live one");
        assert_eq!(newcomer.tat.load(Ordering::Relaxed), 0, "the newcomer's bucket starts full");
        newcomer.tat.store(now + 10, Ordering::Relaxed);
        // ...then, with every bucket live, the one nearest to full (the sixth here).
        // SAFETY: as above.
        unsafe { (*held[5]).tat.store(now + 2, Ordering::Relaxed) };
        let another = buckets.bucket(in_window(PROBE as u64 + 1));
        assert!(std::ptr::eq(another, held[5]), "the bucket nearest to full is forgotten first");
        assert_eq!(another.key.load(Ordering::Relaxed), in_window(PROBE as u64 + 1));
        assert_eq!(another.tat.load(Ordering::Relaxed), 0);
        another.tat.store(now + 10, Ordering::Relaxed);
        // The client that lost its slot takes one again and starts afresh (all equal now:
        // the window's first).
        let back = buckets.bucket(in_window(5));
        assert!(std::ptr::eq(back, held[0]));
        assert_eq!(back.key.load(Ordering::Relaxed), in_window(5));
        assert_eq!(back.tat.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn threads_racing_on_one_shared_bucket_take_its_burst_once() {
        let burst = 50;
        let limiter = std::sync::Arc::new(RateLimiter::shared(1.0, burst, SharedBuckets::new().unwrap()));
        // The client's bucket exists before the race (its first request takes one token): the
        // threads race on its arrival time only. (Two processes that take an unused slot for
        // one client at once may each reset it, which can give back a token, once.)
        assert!(limiter.check_shared(ip("127.0.0.9"), 5_000_000_000).is_ok());
        let start = std::sync::Arc::new(std::sync::Barrier::new(4));
        let passed: usize = (0..4)
            .map(|_| {
                let (limiter, start) = (limiter.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    // One instant for all: no token comes back while they race.
                    (0..2_000)
                        .filter(|_| limiter.check_shared(ip("127.0.0.9"), 5_000_000_000).is_ok())
                        .count()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .sum();
        assert_eq!(passed, burst as usize - 1, "every token left taken once, no more");
    }
}
