//! Rate limiting: token buckets, alone or keyed (per account, per address, per user).
//!
//! A bucket holds up to `burst` tokens and gains `per_second` tokens a second; an action takes
//! one. When empty, the caller learns how long until the next token, which becomes the
//! `Retry-After` of a 429 or the text of an error frame.
//!
//! A keyed [`Limiter`] holds at most `max_keys` buckets, so no stream of new keys (random
//! user names, addresses) can grow it without bound. A full bucket carries no information and
//! is forgotten at the next sweep; when the map is at its bound with buckets still in use, a
//! new key is refused (the caller answers 429) rather than let in with a fresh bucket, which
//! would hand an attacker who fills the map a way around every limit. Sweeps give the map's
//! spare capacity back to the allocator.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// Buckets a keyed limiter holds at most, unless told otherwise: ~100 bytes each, so a few
/// MiB at worst.
pub const DEFAULT_MAX_KEYS: usize = 50_000;
/// Full buckets are swept this often.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// A map at its bound is swept at most this often to make room (a sweep costs a pass over it).
const FORCED_SWEEP_EVERY: Duration = Duration::from_secs(1);

/// The network a client address stands for in per-address limits and caps: an IPv4 address,
/// or an IPv6 /64 (one home or host is usually given a whole /64, so counting its addresses
/// one by one would multiply every per-address limit by 2^64).
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
}

/// The shape of a limit: how many at once, and how fast they come back.
#[derive(Debug, Clone, Copy)]
pub struct Rate {
    pub burst: f64,
    pub per_second: f64,
}

impl Rate {
    pub const fn new(burst: u32, every: Duration) -> Rate {
        Rate { burst: burst as f64, per_second: 1.0 / every.as_secs_f64() }
    }
}

#[derive(Debug, Clone)]
pub struct TokenBucket {
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    pub fn full(rate: Rate, now: Instant) -> TokenBucket {
        TokenBucket { tokens: rate.burst, updated: now }
    }

    fn refill(&mut self, rate: Rate, now: Instant) {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate.per_second).min(rate.burst);
        self.updated = now;
    }

    /// Takes a token, or says how long until one is available.
    pub fn take(&mut self, rate: Rate, now: Instant) -> Result<(), Duration> {
        self.refill(rate, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            crate::metrics::RATE_LIMITED.inc();
            Err(Duration::from_secs_f64((1.0 - self.tokens) / rate.per_second))
        }
    }

    /// Gives a token back (an attempt that turned out not to count, e.g. a correct password).
    pub fn refund(&mut self, rate: Rate) {
        self.tokens = (self.tokens + 1.0).min(rate.burst);
    }

    fn is_full(&mut self, rate: Rate, now: Instant) -> bool {
        self.refill(rate, now);
        self.tokens >= rate.burst
    }
}

/// One bucket per key, at most `max_keys` of them. Full buckets are forgotten, so memory
/// follows the keys that are actually being limited, not every key ever seen.
#[derive(Debug)]
pub struct Limiter<K> {
    rate: Rate,
    enabled: bool,
    buckets: HashMap<K, TokenBucket>,
    max_keys: usize,
    next_sweep: Instant,
    next_forced_sweep: Instant,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn new(rate: Rate, enabled: bool) -> Limiter<K> {
        let now = Instant::now();
        Limiter {
            rate,
            enabled,
            buckets: HashMap::new(),
            max_keys: DEFAULT_MAX_KEYS,
            next_sweep: now,
            next_forced_sweep: now,
        }
    }

    /// The same limiter holding at most `max_keys` buckets.
    pub fn with_max_keys(mut self, max_keys: usize) -> Limiter<K> {
        self.max_keys = max_keys.max(1);
        self
    }

    /// Takes a token from `key`'s bucket. `Err(wait)`: refused, try again after `wait` —
    /// because the bucket is empty, or because the limiter is at its bound of keys.
    pub fn take(&mut self, key: &K, now: Instant) -> Result<(), Duration> {
        if !self.enabled {
            return Ok(());
        }
        self.sweep(now);
        let rate = self.rate;
        if let Some(bucket) = self.buckets.get_mut(key) {
            return bucket.take(rate, now);
        }
        if self.buckets.len() >= self.max_keys {
            if now >= self.next_forced_sweep {
                self.next_forced_sweep = now + FORCED_SWEEP_EVERY;
                self.next_sweep = now;
                self.sweep(now);
            }
            if self.buckets.len() >= self.max_keys {
                // Every bucket is in use: the earliest one can be forgotten is when it has
                // refilled, at most this long from now.
                crate::metrics::RATE_LIMITED.inc();
                return Err(Duration::from_secs_f64(rate.burst / rate.per_second));
            }
        }
        self.buckets.entry(key.clone()).or_insert_with(|| TokenBucket::full(rate, now)).take(rate, now)
    }

    pub fn refund(&mut self, key: &K) {
        let rate = self.rate;
        if let Some(bucket) = self.buckets.get_mut(key) {
            bucket.refund(rate);
        }
    }

    fn sweep(&mut self, now: Instant) {
        if now < self.next_sweep {
            return;
        }
        self.next_sweep = now + SWEEP_EVERY;
        let rate = self.rate;
        self.buckets.retain(|_, b| !b.is_full(rate, now));
        // A HashMap keeps its largest capacity; a burst of keys must not pin that memory.
        if self.buckets.capacity() > 2 * self.buckets.len() + 64 {
            self.buckets.shrink_to_fit();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.buckets.len()
    }
}

/// Seconds for a `Retry-After` header: rounded up, at least 1.
pub fn retry_after_secs(wait: Duration) -> u64 {
    (wait.as_secs_f64().ceil() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_then_refills() {
        let rate = Rate::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        let mut b = TokenBucket::full(rate, t0);
        assert!(b.take(rate, t0).is_ok());
        assert!(b.take(rate, t0).is_ok());
        assert!(b.take(rate, t0).is_ok());
        let wait = b.take(rate, t0).unwrap_err();
        assert!(wait > Duration::from_secs(9) && wait <= Duration::from_secs(10), "{wait:?}");
        assert!(b.take(rate, t0 + Duration::from_secs(10)).is_ok());
    }

    #[test]
    fn keyed_limits_are_independent_and_forgotten_when_full() {
        let rate = Rate::new(1, Duration::from_secs(1));
        let mut l = Limiter::new(rate, true);
        let t0 = Instant::now();
        assert!(l.take(&"a", t0).is_ok());
        assert!(l.take(&"a", t0).is_err());
        assert!(l.take(&"b", t0).is_ok());
        assert_eq!(l.len(), 2);
        let later = t0 + Duration::from_secs(120);
        assert!(l.take(&"c", later).is_ok());
        assert_eq!(l.len(), 1, "full buckets are swept");
    }

    #[test]
    fn a_limiter_at_its_bound_refuses_new_keys_until_buckets_refill() {
        let rate = Rate::new(1, Duration::from_secs(10));
        let mut l = Limiter::new(rate, true).with_max_keys(3);
        let t0 = Instant::now();
        for key in 0..3 {
            assert!(l.take(&key, t0).is_ok());
        }
        let wait = l.take(&99, t0).expect_err("a fourth key is refused while the three are in use");
        assert_eq!(wait, Duration::from_secs(10));
        assert_eq!(l.len(), 3, "and left no trace");
        assert!(l.take(&0, t0).is_err(), "known keys keep their own bucket");
        // Once the buckets have refilled, they are swept and new keys come in.
        let later = t0 + Duration::from_secs(11);
        assert!(l.take(&99, later).is_ok());
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn sweeps_give_capacity_back() {
        let rate = Rate::new(2, Duration::from_secs(1));
        let mut l = Limiter::new(rate, true);
        let t0 = Instant::now();
        for key in 0..10_000 {
            assert!(l.take(&key, t0).is_ok());
        }
        assert!(l.buckets.capacity() >= 10_000);
        assert!(l.take(&-1, t0 + Duration::from_secs(61)).is_ok());
        assert!(l.buckets.capacity() < 1_000, "capacity {} kept", l.buckets.capacity());
    }

    #[test]
    fn addresses_are_keyed_by_network() {
        let key = |s: &str| address_key(s.parse().unwrap());
        assert_eq!(key("203.0.113.7"), key("203.0.113.7"));
        assert_ne!(key("203.0.113.7"), key("203.0.113.8"));
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff:ffff:ffff:ffff"), "one /64");
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"), "another /64");
        assert_eq!(key("::ffff:203.0.113.7"), key("203.0.113.7"), "IPv4-mapped is IPv4");
    }

    #[test]
    fn disabled_limiter_never_refuses() {
        let mut l = Limiter::new(Rate::new(1, Duration::from_secs(60)), false);
        let t0 = Instant::now();
        for _ in 0..100 {
            assert!(l.take(&1, t0).is_ok());
        }
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2500)), 3);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }
}
