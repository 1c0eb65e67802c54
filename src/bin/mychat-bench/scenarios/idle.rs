//! `idle`: N authenticated WebSockets that then sit idle, in the web UI's mix (by default
//! two tabs per user: global + room, global + private chat). Measures what they cost the server in memory
//! (VmRSS before, after all are open and the server has gone quiet, and after they close)
//! and in threads.

use super::{Ctx, Opener, Outcome, SocketSpec, first_few, merge_refusals, refusals_json, refusals_text, run_threads};
use crate::args::{Kind, Retry};
use crate::reactor::{ConnId, Ended, Handler, Io};
use crate::stats::{self, Phase};
use crate::sys::{self, ProcStatus, now_ns};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Handshakes in flight per thread while opening (setup, not the measurement).
const IN_FLIGHT: usize = 8;

#[derive(Default)]
struct Shared {
    opened: AtomicUsize,
    failed: AtomicBool,
    /// Last time any socket received anything (ns).
    last_rx: AtomicU64,
    stop: AtomicBool,
}

struct IdleThread<'a> {
    shared: &'a Shared,
    opener: Opener,
    done: bool,
}

impl Handler for IdleThread<'_> {
    fn on_open(&mut self, _io: &mut Io, _conn: ConnId, tag: usize, now: u64) {
        self.opener.opened(tag, now);
        self.shared.opened.fetch_add(1, Ordering::Relaxed);
        self.shared.last_rx.fetch_max(now, Ordering::Relaxed);
    }

    fn on_text(&mut self, io: &mut Io, conn: ConnId, _tag: usize, text: &[u8], now: u64) {
        self.shared.last_rx.fetch_max(now, Ordering::Relaxed);
        if text == br#"{"type":"ping"}"# {
            io.send_text(conn, br#"{"type":"pong"}"#);
        }
    }

    fn on_ended(&mut self, io: &mut Io, tag: usize, ended: Ended, now: u64) {
        if self.opener.ended(io, tag, &ended, now) {
            self.shared.opened.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn on_tick(&mut self, io: &mut Io, now: u64) -> Option<u64> {
        let retry = self.opener.tick(io, now);
        if self.opener.failed() {
            self.shared.failed.store(true, Ordering::Relaxed);
        }
        self.done = self.shared.stop.load(Ordering::Relaxed);
        Some(retry.unwrap_or(now + 5_000_000).min(now + 5_000_000))
    }

    fn finished(&self) -> bool {
        self.done
    }
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// What the main thread saw while the sockets were open.
struct Observed {
    open_after: Option<Duration>,
    before: ProcStatus,
    after: Option<ProcStatus>,
    phase: Option<stats::PhaseCpu>,
}

pub fn run(ctx: &mut Ctx<'_>) -> Result<Outcome, String> {
    let o = ctx.opts;
    let (n, per_user) = (o.idle_sockets, o.idle_per_user);
    let users_needed = n.div_ceil(per_user).max(2);
    ctx.setup.ensure_users(ctx.target.addr, users_needed)?;
    let room = if o.idle_kinds.contains(&Kind::Room) {
        Some(ctx.setup.room_at_least(ctx.target.addr, users_needed)?)
    } else {
        None
    };
    ctx.fresh_server()?;
    let pid = ctx.target.pid;
    let users = &ctx.setup.users[..users_needed];
    let specs: Vec<SocketSpec> = (0..n)
        .map(|i| {
            let (u, j) = (i / per_user, i % per_user);
            let user = &users[u];
            let path = match o.idle_kinds[j % o.idle_kinds.len()] {
                Kind::Global => format!("/ws/global/{}", user.id),
                Kind::Status => "/ws/status".to_string(),
                Kind::Room => format!("/ws/room/{}/{}", room.as_deref().unwrap_or(""), user.id),
                Kind::Private => format!("/ws/{}/{}", user.id, users[(u + 1) % users.len()].id),
            };
            SocketSpec { path, cookie: user.cookie.clone() }
        })
        .collect();
    let threads = o.threads;
    let shared = Shared::default();
    let settle = o.idle_settle;
    // Let the fresh server finish starting before the baseline.
    std::thread::sleep(Duration::from_millis(200));
    let before = pid.and_then(|p| sys::proc_status(p).ok()).unwrap_or_default();
    let started = Instant::now();
    let (results, seen) = run_threads(
        threads,
        ctx.target.addr,
        |t| {
            let mine = (t..n).step_by(threads).map(|i| specs[i].clone()).collect();
            IdleThread {
                shared: &shared,
                opener: Opener::new(mine, IN_FLIGHT, Retry::Fixed(Duration::from_millis(20))),
                done: false,
            }
        },
        || {
            let phase = Phase::start(pid);
            let deadline = started + Duration::from_secs(120);
            let mut seen = Observed { open_after: None, before, after: None, phase: None };
            while Instant::now() < deadline && !shared.failed.load(Ordering::Relaxed) {
                if shared.opened.load(Ordering::Relaxed) == n {
                    seen.open_after = Some(started.elapsed());
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            if seen.open_after.is_some() {
                seen.phase = Some(phase.end());
                // Quiet: presence and status broadcasts caused by the opening are over.
                let quiet_by = Instant::now() + Duration::from_secs(10);
                while Instant::now() < quiet_by {
                    let silent = now_ns().saturating_sub(shared.last_rx.load(Ordering::Relaxed));
                    if silent >= settle.as_nanos() as u64 {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                seen.after = pid.and_then(|p| sys::proc_status(p).ok());
            }
            shared.stop.store(true, Ordering::Relaxed);
            seen
        },
    )?;
    let (refusals, failures, lost) = merge_refusals(results.iter().map(|(h, _)| &h.opener));
    if !failures.is_empty() {
        return Err(format!("opening {n} sockets: {}", first_few(&failures)));
    }
    let open_after = seen.open_after.ok_or_else(|| format!("the {n} sockets did not all open within 120 s"))?;
    // Closed sockets: what the server gives back.
    std::thread::sleep(Duration::from_secs(2));
    let closed = pid.and_then(|p| sys::proc_status(p).ok());
    let kinds: Vec<&str> = o
        .idle_kinds
        .iter()
        .map(|k| match k {
            Kind::Global => "global",
            Kind::Status => "status",
            Kind::Room => "room",
            Kind::Private => "private",
        })
        .collect();
    let params = json!({ "sockets": n, "users": users_needed, "per_user": per_user, "kinds": kinds });
    let params_text = format!("{n} sockets, {users_needed} users × {per_user} ({})", kinds.join("/"));
    let bytes_in: u64 = results.iter().map(|(_, c)| c.bytes_in).sum();
    let mut results_json = json!({
        "open_s": stats::round2(open_after.as_secs_f64()),
        "handshake_refusals": refusals_json(&refusals),
        "sockets_lost": lost.len(),
        "bytes_received": bytes_in,
    });
    let summary = match (pid, seen.after) {
        (Some(_), Some(after)) => {
            let grown = after.rss_kib.saturating_sub(seen.before.rss_kib);
            let per_socket = grown as f64 / n as f64;
            results_json["rss_before_kib"] = json!(seen.before.rss_kib);
            results_json["rss_after_kib"] = json!(after.rss_kib);
            results_json["rss_growth_kib"] = json!(grown);
            results_json["rss_per_socket_kib"] = json!(stats::round2(per_socket));
            results_json["peak_rss_kib"] = json!(after.peak_rss_kib);
            results_json["threads_before"] = json!(seen.before.threads);
            results_json["threads_after"] = json!(after.threads);
            if let Some(closed) = closed {
                results_json["rss_after_close_kib"] = json!(closed.rss_kib);
                results_json["threads_after_close"] = json!(closed.threads);
            }
            format!(
                "RSS {} → {} (+{}): {:.1} KiB/socket; peak {}; threads {} → {}; after close {}; open in {:.2} s",
                mib(seen.before.rss_kib),
                mib(after.rss_kib),
                mib(grown),
                per_socket,
                mib(after.peak_rss_kib),
                seen.before.threads,
                after.threads,
                closed.map_or("-".into(), |c| mib(c.rss_kib)),
                open_after.as_secs_f64()
            )
        }
        _ => format!("open in {:.2} s (no --server-pid: no RSS figures)", open_after.as_secs_f64()),
    };
    let summary = if refusals.is_empty() {
        summary
    } else {
        format!("{summary}; handshakes retried: {}", refusals_text(&refusals))
    };
    Ok(Outcome { name: "idle".into(), params, params_text, results: results_json, summary, cpu: seen.phase })
}
