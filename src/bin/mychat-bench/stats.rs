//! Figures: a mergeable latency histogram and the CPU time a phase cost the bench (and the
//! server, when its pid is known).

use crate::sys;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

/// Sub-buckets per power of two: values are kept within 1/128 (< 0.8 %).
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;
const BUCKETS: usize = (SUB + (64 - SUB_BITS as u64) * SUB) as usize;

/// A log-linear histogram of nanosecond values (HDR-style), with exact count, min, max
/// and sum.
#[derive(Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    pub count: u64,
    pub min: u64,
    pub max: u64,
    sum: u128,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram { counts: vec![0; BUCKETS], count: 0, min: u64::MAX, max: 0, sum: 0 }
    }
}

fn bucket_of(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    let top = v >> (exp - SUB_BITS);
    (SUB + u64::from(exp - SUB_BITS) * SUB + (top - SUB)) as usize
}

/// The largest value that falls in bucket `b`.
fn bucket_high(b: usize) -> u64 {
    let b = b as u64;
    if b < SUB {
        return b;
    }
    let shift = (b - SUB) / SUB;
    let top = SUB + (b - SUB) % SUB;
    let end = u128::from(top + 1) << shift;
    (end - 1).min(u128::from(u64::MAX)) as u64
}

impl Histogram {
    pub fn record(&mut self, v: u64) {
        self.counts[bucket_of(v)] += 1;
        self.count += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += u128::from(v);
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        self.sum += other.sum;
    }

    /// The value at quantile `q` (0..=1): at most 0.8 % above the true one, never above max.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (b, &n) in self.counts.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return bucket_high(b).min(self.max).max(self.min);
            }
        }
        self.max
    }

    /// How many values were above `v` (to within a bucket).
    pub fn count_above(&self, v: u64) -> u64 {
        self.counts[bucket_of(v) + 1..].iter().sum()
    }

    pub fn mean(&self) -> u64 {
        if self.count == 0 { 0 } else { (self.sum / u128::from(self.count)) as u64 }
    }

    /// `{"count", "p50_ms", "p99_ms", "p999_ms", "max_ms", "mean_ms"}`.
    pub fn json_ms(&self) -> Value {
        if self.count == 0 {
            return json!({ "count": 0 });
        }
        json!({
            "count": self.count,
            "p50_ms": ms(self.quantile(0.50)),
            "p99_ms": ms(self.quantile(0.99)),
            "p999_ms": ms(self.quantile(0.999)),
            "max_ms": ms(self.max),
            "mean_ms": ms(self.mean()),
        })
    }

    /// `p50 0.31 / p99 0.92 / max 4.10 ms`.
    pub fn text_ms(&self) -> String {
        if self.count == 0 {
            return "no samples".into();
        }
        format!(
            "p50 {} / p99 {} / max {} ms",
            fmt_ms(self.quantile(0.50)),
            fmt_ms(self.quantile(0.99)),
            fmt_ms(self.max)
        )
    }
}

/// Nanoseconds as milliseconds, rounded to microseconds.
pub fn ms(ns: u64) -> f64 {
    (ns as f64 / 1e3).round() / 1e3
}

/// Milliseconds with about three significant digits.
pub fn fmt_ms(ns: u64) -> String {
    let v = ns as f64 / 1e6;
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// `12345.6` → `12,346`.
pub fn thousands(v: f64) -> String {
    let n = v.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

pub fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// CPU and wall time of a measured phase.
pub struct Phase {
    wall: Instant,
    user: Duration,
    system: Duration,
    server: Option<(u32, Duration)>,
}

/// What a phase cost.
#[derive(Debug, Clone, Copy, Default)]
pub struct PhaseCpu {
    pub wall: Duration,
    pub user: Duration,
    pub system: Duration,
    pub server: Option<Duration>,
}

impl Phase {
    pub fn start(server_pid: Option<u32>) -> Phase {
        let (user, system) = sys::own_cpu();
        let server = server_pid.and_then(|pid| sys::proc_cpu(pid).ok().map(|t| (pid, t)));
        Phase { wall: Instant::now(), user, system, server }
    }

    pub fn end(&self) -> PhaseCpu {
        let (user, system) = sys::own_cpu();
        let server = self.server.and_then(|(pid, before)| sys::proc_cpu(pid).ok().map(|t| t.saturating_sub(before)));
        PhaseCpu {
            wall: self.wall.elapsed(),
            user: user.saturating_sub(self.user),
            system: system.saturating_sub(self.system),
            server,
        }
    }
}

impl PhaseCpu {
    fn pct(&self, cpu: Duration) -> f64 {
        let wall = self.wall.as_secs_f64();
        if wall > 0.0 { round2(100.0 * cpu.as_secs_f64() / wall) } else { 0.0 }
    }

    /// The bench's own CPU: user + system, and as a share of wall time (100 % = one core).
    pub fn bench_text(&self) -> String {
        let cpu = self.user + self.system;
        let wall = self.wall.as_secs_f64();
        let digits = if wall < 10.0 { 2 } else { 1 };
        format!("{:.2} s = {:.1}% of {wall:.digits$} s", cpu.as_secs_f64(), self.pct(cpu))
    }

    pub fn server_text(&self) -> String {
        match self.server {
            Some(cpu) => format!("{:.2} s = {:.0}%", cpu.as_secs_f64(), self.pct(cpu)),
            None => "-".into(),
        }
    }

    pub fn json(&self) -> Value {
        let cpu = self.user + self.system;
        let mut v = json!({
            "wall_s": (self.wall.as_secs_f64() * 1000.0).round() / 1000.0,
            "bench_user_s": round2(self.user.as_secs_f64()),
            "bench_sys_s": round2(self.system.as_secs_f64()),
            "bench_cpu_pct": self.pct(cpu),
        });
        if let Some(server) = self.server {
            v["server_cpu_s"] = json!(round2(server.as_secs_f64()));
            v["server_cpu_pct"] = json!(self.pct(server));
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_monotonic_and_tight() {
        let mut last = 0;
        for v in [0u64, 1, 127, 128, 129, 255, 256, 1000, 123_456, 9_999_999, u64::MAX / 3] {
            let b = bucket_of(v);
            assert!(b >= last, "{v}");
            last = b;
            let high = bucket_high(b);
            assert!(high >= v, "{v} above its bucket's high {high}");
            assert!((high - v) as f64 <= v as f64 / 127.0 + 1.0, "{v} → {high}");
        }
        assert!(bucket_of(u64::MAX) < BUCKETS);
    }

    #[test]
    fn quantiles_of_a_known_set() {
        let mut h = Histogram::default();
        for v in 1..=1000u64 {
            h.record(v * 1000);
        }
        let p50 = h.quantile(0.5) as f64;
        assert!((p50 - 500_000.0).abs() / 500_000.0 < 0.01, "{p50}");
        let p99 = h.quantile(0.99) as f64;
        assert!((p99 - 990_000.0).abs() / 990_000.0 < 0.01, "{p99}");
        assert_eq!(h.quantile(1.0), 1_000_000);
        let mut other = Histogram::default();
        other.record(5);
        h.merge(&other);
        assert_eq!((h.count, h.min, h.max), (1001, 5, 1_000_000));
    }

    #[test]
    fn number_formats() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(fmt_ms(1_234_567), "1.23");
        assert_eq!(ms(1_234_567), 1.235);
    }
}
