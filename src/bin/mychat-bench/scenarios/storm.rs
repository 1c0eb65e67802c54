//! `storm`: N users all arriving at once, each opening the web UI's three sockets (global,
//! status, and a room every one of them is in). Measures the time from the first connect to
//! every 101, and to every status socket having its initial `[{id, name, online}]` array;
//! refused handshakes are retried as the UI would (`--storm-retry`).

use super::{
    Ctx, Gate, Opener, Outcome, SocketSpec, first_few, merge_refusals, refusals_json, refusals_text, run_threads,
};
use crate::reactor::{ConnId, Counters, Ended, Handler, Io};
use crate::stats::{self, Histogram, Phase, fmt_ms, thousands};
use crate::sys;
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Shared {
    gate: Gate,
    opened: AtomicUsize,
    status_ready: AtomicUsize,
    failed: AtomicBool,
    stop: AtomicBool,
}

struct StormThread<'a> {
    shared: &'a Shared,
    threads: usize,
    opener: Opener,
    is_status: Vec<bool>,
    first_text: Vec<Option<u64>>,
    t0: Option<u64>,
    arrived: bool,
    done: bool,
    frames: u64,
    status_bytes: u64,
}

impl Handler for StormThread<'_> {
    fn on_open(&mut self, _io: &mut Io, _conn: ConnId, tag: usize, now: u64) {
        self.opener.opened(tag, now);
        self.shared.opened.fetch_add(1, Ordering::Relaxed);
    }

    fn on_text(&mut self, io: &mut Io, conn: ConnId, tag: usize, text: &[u8], now: u64) {
        self.frames += 1;
        if self.is_status[tag] {
            self.status_bytes += text.len() as u64;
            if self.first_text[tag].is_none() {
                self.first_text[tag] = Some(now);
                if text.first() == Some(&b'[') {
                    self.shared.status_ready.fetch_add(1, Ordering::Relaxed);
                }
            }
        } else if text == br#"{"type":"ping"}"# {
            io.send_text(conn, br#"{"type":"pong"}"#);
        }
    }

    fn on_ended(&mut self, io: &mut Io, tag: usize, ended: Ended, now: u64) {
        if self.opener.ended(io, tag, &ended, now) {
            self.shared.opened.fetch_sub(1, Ordering::Relaxed);
        }
    }

    fn on_tick(&mut self, io: &mut Io, now: u64) -> Option<u64> {
        self.done = self.shared.stop.load(Ordering::Relaxed);
        if !self.arrived {
            self.arrived = true;
            self.shared.gate.arrive(self.threads, now);
        }
        if self.t0.is_none() {
            match self.shared.gate.start() {
                Some(t0) if now >= t0 => self.t0 = Some(t0),
                Some(t0) => return Some(t0),
                None => return Some(now + 1_000_000),
            }
        }
        let retry = self.opener.tick(io, now);
        if self.opener.failed() {
            self.shared.failed.store(true, Ordering::Relaxed);
        }
        Some(retry.unwrap_or(now + 2_000_000).min(now + 2_000_000))
    }

    fn finished(&self) -> bool {
        self.done
    }
}

/// TCP connects that took longer than `ns` (a dropped SYN is retried after 1 s).
fn connect_over(results: &[(StormThread<'_>, Counters)], ns: u64) -> u64 {
    results.iter().map(|(_, c)| c.connect.count_above(ns)).sum()
}

pub fn run(ctx: &mut Ctx<'_>) -> Result<Outcome, String> {
    let o = ctx.opts;
    let n = o.storm_users;
    ctx.setup.ensure_users(ctx.target.addr, n)?;
    let room = ctx.setup.room_at_least(ctx.target.addr, n)?;
    ctx.fresh_server()?;
    let pid = ctx.target.pid;
    let mut specs = Vec::with_capacity(3 * n);
    for user in &ctx.setup.users[..n] {
        let cookie = user.cookie.clone();
        specs.push(SocketSpec { path: format!("/ws/global/{}", user.id), cookie: cookie.clone() });
        specs.push(SocketSpec { path: "/ws/status".into(), cookie: cookie.clone() });
        specs.push(SocketSpec { path: format!("/ws/room/{room}/{}", user.id), cookie });
    }
    let total = specs.len();
    let threads = o.threads;
    let shared = Shared::default();
    let drops_before = sys::listen_drops();
    let (results, phase) = run_threads(
        threads,
        ctx.target.addr,
        |t| {
            let mine: Vec<SocketSpec> = (t..total).step_by(threads).map(|i| specs[i].clone()).collect();
            let is_status = mine.iter().map(|s| s.path == "/ws/status").collect();
            let first_text = vec![None; mine.len()];
            StormThread {
                shared: &shared,
                threads,
                opener: Opener::new(mine, 0, o.storm_retry),
                is_status,
                first_text,
                t0: None,
                arrived: false,
                done: false,
                frames: 0,
                status_bytes: 0,
            }
        },
        || {
            let phase = shared.gate.wait(Duration::from_secs(10)).map(|_| Phase::start(pid));
            let deadline = Instant::now() + Duration::from_secs(60);
            while Instant::now() < deadline && !shared.failed.load(Ordering::Relaxed) {
                let open = shared.opened.load(Ordering::Relaxed) == total;
                if open && shared.status_ready.load(Ordering::Relaxed) == n {
                    break;
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            let cpu = phase.map(|p| p.end());
            shared.stop.store(true, Ordering::Relaxed);
            cpu
        },
    )?;
    let drops_after = sys::listen_drops();
    let (refusals, failures, lost) = merge_refusals(results.iter().map(|(h, _)| &h.opener));
    if !failures.is_empty() {
        return Err(format!("storm: {}", first_few(&failures)));
    }
    let t0 = results.iter().find_map(|(h, _)| h.t0).ok_or("the storm never started")?;
    let mut open_times = Histogram::default();
    let mut status_times = Histogram::default();
    let (mut not_open, mut no_status, mut frames, mut status_bytes) = (0, 0, 0, 0);
    let mut connect = Histogram::default();
    for (h, counters) in &results {
        connect.merge(&counters.connect);
        for (tag, opened) in h.opener.opened_at.iter().enumerate() {
            match opened {
                Some(t) => open_times.record(t - t0),
                None => not_open += 1,
            }
            if h.is_status[tag] {
                match h.first_text[tag] {
                    Some(t) => status_times.record(t - t0),
                    None => no_status += 1,
                }
            }
        }
        frames += h.frames;
        status_bytes += h.status_bytes;
    }
    let all_open = open_times.max;
    let per_s = if all_open > 0 { total as f64 / (all_open as f64 / 1e9) } else { 0.0 };
    let mut results_json = json!({
        "sockets": total,
        "all_open_ms": stats::ms(all_open),
        "all_status_ms": stats::ms(status_times.max),
        "sockets_per_s": stats::round2(per_s),
        "open_time": open_times.json_ms(),
        "tcp_connect": connect.json_ms(),
        "tcp_connects_over_1s": connect_over(&results, 1_000_000_000),
        "status_time": status_times.json_ms(),
        "not_open": not_open,
        "status_without_array": no_status,
        "handshake_refusals": refusals_json(&refusals),
        "handshakes_retried": refusals.values().sum::<u64>(),
        "refusal_sample": results.iter().find_map(|(h, _)| h.opener.refusal_sample.clone()),
        "sockets_lost": lost.len(),
        "frames_received": frames,
        "status_bytes_received": status_bytes,
    });
    if let (Some((o1, d1)), Some((o2, d2))) = (drops_before, drops_after) {
        results_json["listen_overflows"] = json!(o2.saturating_sub(o1));
        results_json["listen_drops"] = json!(d2.saturating_sub(d1));
    }
    let mut summary = format!(
        "all {total} open in {} ms ({} sockets/s), all status arrays in {} ms; open {}; retried: {}",
        fmt_ms(all_open),
        thousands(per_s),
        fmt_ms(status_times.max),
        open_times.text_ms(),
        refusals_text(&refusals)
    );
    summary.push_str(&format!("; TCP connect {}", connect.text_ms()));
    if let Some(overflows) = results_json.get("listen_overflows").and_then(|v| v.as_u64())
        && overflows > 0
    {
        summary.push_str(&format!("; listen queue overflowed {overflows}×"));
    }
    if not_open > 0 || no_status > 0 {
        summary.push_str(&format!("; {not_open} never opened, {no_status} status sockets without their array"));
    }
    let retry = match o.storm_retry {
        crate::args::Retry::Ui => "ui".to_string(),
        crate::args::Retry::Fixed(d) => format!("{} ms", d.as_millis()),
    };
    Ok(Outcome {
        name: "storm".into(),
        params: json!({ "users": n, "sockets": total, "retry": retry }),
        params_text: format!("{n} users × global/status/room = {total} sockets at once, retry {retry}"),
        results: results_json,
        summary,
        cpu: phase,
    })
}
