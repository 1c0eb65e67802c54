//! Rate limiting: token buckets, alone or keyed (per account, per address, per user).
//!
//! A bucket holds up to `burst` tokens and gains `per_second` tokens a second; an action takes
//! one. When empty, the caller learns how long until the next token, which becomes the
//! `Retry-After` of a 429 or the text of an error frame.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::{Duration, Instant};

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

/// One bucket per key. Full buckets are forgotten, so memory follows the keys that are
/// actually being limited, not every key ever seen.
#[derive(Debug)]
pub struct Limiter<K> {
    rate: Rate,
    enabled: bool,
    buckets: HashMap<K, TokenBucket>,
    next_sweep: Instant,
}

impl<K: Hash + Eq + Clone> Limiter<K> {
    pub fn new(rate: Rate, enabled: bool) -> Limiter<K> {
        Limiter { rate, enabled, buckets: HashMap::new(), next_sweep: Instant::now() }
    }

    pub fn take(&mut self, key: &K, now: Instant) -> Result<(), Duration> {
        if !self.enabled {
            return Ok(());
        }
        self.sweep(now);
        let rate = self.rate;
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
        self.next_sweep = now + Duration::from_secs(60);
        let rate = self.rate;
        self.buckets.retain(|_, b| !b.is_full(rate, now));
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
