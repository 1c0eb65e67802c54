//! What `/metrics` reports, in Prometheus' text format (version 0.0.4): counters, gauges and
//! histograms kept in static atomics. A leaf module: it imports nothing of ours, so the hub,
//! the HTTP workers, the transport and the push sender can all count without naming each
//! other. An event costs one relaxed atomic add — no lock, no allocation; what costs
//! something to know (file sizes, the process's memory and threads) is read when scraped.
//!
//! Names follow Prometheus' conventions: the `mychat_` prefix, base units (seconds, bytes),
//! `_total` for counters.

use std::fmt::Write;
use std::path::Path;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// A number that only goes up.
pub struct Counter(AtomicU64);

impl Counter {
    pub const fn new() -> Counter {
        Counter(AtomicU64::new(0))
    }

    pub fn inc(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

impl Default for Counter {
    fn default() -> Self {
        Counter::new()
    }
}

/// A number that goes up and down.
pub struct Gauge(AtomicI64);

impl Gauge {
    pub const fn new() -> Gauge {
        Gauge(AtomicI64::new(0))
    }

    pub fn inc(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    pub fn dec(&self) {
        self.0.fetch_sub(1, Relaxed);
    }

    pub fn set(&self, value: i64) {
        self.0.store(value, Relaxed);
    }

    pub fn get(&self) -> i64 {
        self.0.load(Relaxed)
    }
}

impl Default for Gauge {
    fn default() -> Self {
        Gauge::new()
    }
}

/// The most buckets a histogram has (besides `+Inf`).
const MAX_BUCKETS: usize = 12;

/// Observations counted into fixed buckets (each bucket counts what is ≤ its bound; they are
/// summed into Prometheus' cumulative form when rendered). The sum is kept in millionths of
/// the unit, so it stays an integer add.
pub struct Histogram {
    bounds: &'static [f64],
    buckets: [AtomicU64; MAX_BUCKETS + 1],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    /// `bounds` ascending, at most [`MAX_BUCKETS`] of them.
    pub const fn new(bounds: &'static [f64]) -> Histogram {
        assert!(bounds.len() <= MAX_BUCKETS);
        Histogram {
            bounds,
            buckets: [const { AtomicU64::new(0) }; MAX_BUCKETS + 1],
            count: AtomicU64::new(0),
            sum_micros: AtomicU64::new(0),
        }
    }

    pub fn observe(&self, value: f64) {
        let index = self.bounds.iter().position(|b| value <= *b).unwrap_or(self.bounds.len());
        self.buckets[index].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum_micros.fetch_add((value.max(0.0) * 1e6) as u64, Relaxed);
    }

    pub fn observe_duration(&self, took: Duration) {
        self.observe(took.as_secs_f64());
    }

    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (i, bound) in self.bounds.iter().enumerate() {
            cumulative += self.buckets[i].load(Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        cumulative += self.buckets[self.bounds.len()].load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {cumulative}");
        let _ = writeln!(out, "{name}_sum {}", self.sum_micros.load(Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "{name}_count {cumulative}");
    }
}

/// Socket kinds, as `/metrics` labels them (the order of [`SOCKETS_OPEN`]).
pub const SOCKET_KINDS: [&str; 4] = ["private", "room", "global", "status"];
/// Open WebSockets by kind (registered with the hub).
pub static SOCKETS_OPEN: [Gauge; 4] = [const { Gauge::new() }; 4];
/// Users with at least one global socket open.
pub static USERS_ONLINE: Gauge = Gauge::new();
/// Messages stored: `[private, room]`.
pub static MESSAGES_STORED: [Counter; 2] = [const { Counter::new() }; 2];
/// Frames handed to sockets by the hub (each recipient counts).
pub static DELIVERIES: Counter = Counter::new();
/// Commands applied per hub batch.
pub static HUB_BATCH_SIZE: Histogram = Histogram::new(&[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0]);
/// Time to commit a hub batch that wrote anything.
pub static HUB_COMMIT_SECONDS: Histogram =
    Histogram::new(&[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5]);
/// HTTP responses by status class (`1xx` … `5xx`).
pub static HTTP_RESPONSES: [Counter; 5] = [const { Counter::new() }; 5];
/// Requests and frames refused by a rate limit (429s and error frames alike).
pub static RATE_LIMITED: Counter = Counter::new();
/// Sockets cut off because they did not read what they were sent.
pub static SLOW_CONSUMERS: Counter = Counter::new();
/// Notifications the push sender delivered (to a browser's push service, or a user's ntfy or
/// Gotify), and those it gave up on (refused, gone, failing after its retries, or dropped
/// from a full queue).
pub static PUSH_SENT: Counter = Counter::new();
pub static PUSH_FAILED: Counter = Counter::new();

/// Incoming webhook formats, as `/metrics` labels them.
pub const WEBHOOK_FORMATS: [&str; 6] = ["ntfy", "gotify", "slack", "alertmanager", "uptime_kuma", "text"];
/// What became of a webhook post.
pub const WEBHOOK_RESULTS: [&str; 6] = ["ok", "unauthorized", "rate_limited", "too_large", "malformed", "error"];
/// Webhook posts by `[format][result]`.
pub static WEBHOOK_POSTS: [[Counter; 6]; 6] = [const { [const { Counter::new() }; 6] }; 6];

/// Counts an HTTP response.
pub fn http_response(status: u16) {
    let class = usize::from(status / 100).clamp(1, 5) - 1;
    HTTP_RESPONSES[class].inc();
}

/// Counts a webhook post; indexes into [`WEBHOOK_FORMATS`] and [`WEBHOOK_RESULTS`].
pub fn webhook_post(format: usize, result: usize) {
    if let Some(counter) = WEBHOOK_POSTS.get(format).and_then(|r| r.get(result)) {
        counter.inc();
    }
}

/// For the push sender: one notification delivered to a push service or a forward.
pub fn push_sent() {
    PUSH_SENT.inc();
}

/// For the push sender: one notification given up on (refused, gone, unreachable, dropped).
pub fn push_failed() {
    PUSH_FAILED.inc();
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// The whole exposition. `files` are the database files to report the sizes of (with their
/// `-wal` files).
pub fn render(data_dir: &Path, files: &[&str]) -> String {
    let mut out = String::with_capacity(8 * 1024);
    let o = &mut out;
    family(o, "mychat_sockets_open", "gauge", "Open WebSockets by kind.");
    for (kind, gauge) in SOCKET_KINDS.iter().zip(&SOCKETS_OPEN) {
        let _ = writeln!(o, "mychat_sockets_open{{kind=\"{kind}\"}} {}", gauge.get());
    }
    family(o, "mychat_users_online", "gauge", "Users with at least one global socket open.");
    let _ = writeln!(o, "mychat_users_online {}", USERS_ONLINE.get());
    family(o, "mychat_messages_stored_total", "counter", "Messages stored since start, by conversation kind.");
    for (kind, counter) in ["private", "room"].iter().zip(&MESSAGES_STORED) {
        let _ = writeln!(o, "mychat_messages_stored_total{{kind=\"{kind}\"}} {}", counter.get());
    }
    family(o, "mychat_deliveries_total", "counter", "Frames handed to sockets by the hub (one per recipient).");
    let _ = writeln!(o, "mychat_deliveries_total {}", DELIVERIES.get());
    HUB_BATCH_SIZE.render(o, "mychat_hub_batch_commands", "Commands applied per hub batch (one transaction).");
    HUB_COMMIT_SECONDS.render(o, "mychat_hub_commit_seconds", "Time to commit a hub batch that wrote.");
    family(o, "mychat_http_responses_total", "counter", "HTTP responses by status class.");
    for (i, counter) in HTTP_RESPONSES.iter().enumerate() {
        let _ = writeln!(o, "mychat_http_responses_total{{class=\"{}xx\"}} {}", i + 1, counter.get());
    }
    family(o, "mychat_rate_limited_total", "counter", "Requests and frames refused by a rate limit.");
    let _ = writeln!(o, "mychat_rate_limited_total {}", RATE_LIMITED.get());
    family(o, "mychat_slow_consumers_total", "counter", "Sockets cut off for not reading what they were sent.");
    let _ = writeln!(o, "mychat_slow_consumers_total {}", SLOW_CONSUMERS.get());
    family(o, "mychat_webhook_posts_total", "counter", "Incoming webhook posts by format and result.");
    for (format, row) in WEBHOOK_FORMATS.iter().zip(&WEBHOOK_POSTS) {
        for (result, counter) in WEBHOOK_RESULTS.iter().zip(row) {
            let _ =
                writeln!(o, "mychat_webhook_posts_total{{format=\"{format}\",result=\"{result}\"}} {}", counter.get());
        }
    }
    family(
        o,
        "mychat_push_sent_total",
        "counter",
        "Notifications delivered to a push service or an ntfy/Gotify forward.",
    );
    let _ = writeln!(o, "mychat_push_sent_total {}", PUSH_SENT.get());
    family(
        o,
        "mychat_push_failed_total",
        "counter",
        "Notifications given up on: refused, gone (404/410), failing after retries, or dropped.",
    );
    let _ = writeln!(o, "mychat_push_failed_total {}", PUSH_FAILED.get());
    family(o, "mychat_database_file_bytes", "gauge", "Size of each database file and its write-ahead log.");
    for file in files {
        for name in [file.to_string(), format!("{file}-wal")] {
            let size = std::fs::metadata(data_dir.join(&name)).map_or(0, |m| m.len());
            let _ = writeln!(o, "mychat_database_file_bytes{{file=\"{name}\"}} {size}");
        }
    }
    let (rss, threads) = process_status();
    family(o, "mychat_process_resident_memory_bytes", "gauge", "Resident set size of the process.");
    let _ = writeln!(o, "mychat_process_resident_memory_bytes {rss}");
    family(o, "mychat_process_threads", "gauge", "Threads of the process.");
    let _ = writeln!(o, "mychat_process_threads {threads}");
    out
}

/// `(resident bytes, threads)` from `/proc/self/status`; zeros where there is no procfs.
fn process_status() -> (u64, u64) {
    let Ok(status) = std::fs::read_to_string("/proc/self/status") else { return (0, 0) };
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:") * 1024, field("Threads:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_render_cumulative_buckets() {
        static H: Histogram = Histogram::new(&[1.0, 10.0]);
        for v in [0.5, 1.0, 5.0, 50.0] {
            H.observe(v);
        }
        let mut out = String::new();
        H.render(&mut out, "x", "help");
        assert!(out.contains("# TYPE x histogram\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"1\"} 2\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"10\"} 3\n"), "{out}");
        assert!(out.contains("x_bucket{le=\"+Inf\"} 4\n"), "{out}");
        assert!(out.contains("x_sum 56.5\nx_count 4\n"), "{out}");
    }

    #[test]
    fn every_family_has_help_and_type_and_counters_end_in_total() {
        let text = render(Path::new("/nonexistent"), &["users.db"]);
        for line in text.lines().filter(|l| l.starts_with("# TYPE ")) {
            let mut parts = line.split_whitespace().skip(2);
            let (name, kind) = (parts.next().unwrap(), parts.next().unwrap());
            assert!(name.starts_with("mychat_"), "{line}");
            assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
        }
        assert!(text.contains("mychat_database_file_bytes{file=\"users.db-wal\"} 0"));
    }
}
