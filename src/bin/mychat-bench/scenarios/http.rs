//! `http`: keep-alive request throughput. C connections each send a request as soon as the
//! previous response is in (closed loop) for D seconds, first on a static asset, then on
//! `GET /api/rooms` (authenticated, one user per connection). Every response must be 200;
//! others are counted by status.

use super::{Ctx, Gate, Outcome, first_few, run_threads};
use crate::reactor::{ConnId, Ended, Handler, Io};
use crate::stats::{self, Histogram, Phase, thousands};
use crate::sys::now_ns;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long to wait for responses still outstanding when the time is up.
const GRACE_NS: u64 = 5_000_000_000;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Connecting,
    Ready,
    Running,
    Done,
}

struct HttpThread<'a> {
    gate: &'a Gate,
    threads: usize,
    requests: Vec<Vec<u8>>,
    conns: Vec<Option<ConnId>>,
    sent_at: Vec<u64>,
    opened: usize,
    active: usize,
    stage: Stage,
    duration: u64,
    t0: u64,
    t_end: u64,
    latency: Histogram,
    statuses: BTreeMap<u16, u64>,
    last_response: u64,
    reconnects: u64,
    failures: Vec<String>,
    sample: Option<Vec<u8>>,
}

impl HttpThread<'_> {
    fn send(&mut self, io: &mut Io, tag: usize) {
        if let Some(conn) = self.conns[tag] {
            self.sent_at[tag] = now_ns();
            io.send_raw(conn, &self.requests[tag]);
        }
    }

    fn connect(&mut self, io: &mut Io, tag: usize) {
        match io.connect_http(tag) {
            Ok(conn) => self.conns[tag] = Some(conn),
            Err(e) => self.failures.push(format!("connect: {e}")),
        }
    }
}

impl Handler for HttpThread<'_> {
    fn on_open(&mut self, io: &mut Io, _conn: ConnId, tag: usize, _now: u64) {
        self.opened += 1;
        if self.stage == Stage::Running {
            self.send(io, tag);
        }
    }

    fn on_response(&mut self, io: &mut Io, conn: ConnId, tag: usize, status: u16, body: &[u8], now: u64) {
        if self.stage != Stage::Running {
            return;
        }
        self.latency.record(now.saturating_sub(self.sent_at[tag]));
        *self.statuses.entry(status).or_default() += 1;
        self.last_response = now;
        if self.sample.is_none() {
            self.sample = Some(body.to_vec());
        }
        if now < self.t_end {
            self.send(io, tag);
        } else {
            io.close(conn);
            self.conns[tag] = None;
            self.active -= 1;
        }
    }

    fn on_ended(&mut self, io: &mut Io, tag: usize, ended: Ended, now: u64) {
        self.conns[tag] = None;
        match self.stage {
            Stage::Running if now < self.t_end => {
                self.reconnects += 1;
                self.connect(io, tag);
            }
            Stage::Running => self.active -= 1,
            _ => self.failures.push(ended.to_string()),
        }
    }

    fn on_tick(&mut self, io: &mut Io, now: u64) -> Option<u64> {
        if !self.failures.is_empty() || self.gate.abort.load(Ordering::Relaxed) {
            self.gate.abort.store(true, Ordering::Relaxed);
            self.stage = Stage::Done;
            return None;
        }
        match self.stage {
            Stage::Connecting => {
                if self.conns.iter().all(Option::is_none) && self.opened == 0 {
                    for tag in 0..self.requests.len() {
                        self.connect(io, tag);
                    }
                }
                if self.opened == self.requests.len() {
                    self.gate.arrive(self.threads, now);
                    self.stage = Stage::Ready;
                }
                Some(now + 1_000_000)
            }
            Stage::Ready => match self.gate.start() {
                None => Some(now + 1_000_000),
                Some(t0) if now < t0 => Some(t0),
                Some(t0) => {
                    self.t0 = t0;
                    self.t_end = t0 + self.duration;
                    self.stage = Stage::Running;
                    self.active = self.requests.len();
                    for tag in 0..self.requests.len() {
                        self.send(io, tag);
                    }
                    Some(self.t_end)
                }
            },
            Stage::Running => {
                if self.active == 0 || now >= self.t_end + GRACE_NS {
                    self.stage = Stage::Done;
                }
                Some(now.max(self.t_end) + 1_000_000)
            }
            Stage::Done => None,
        }
    }

    fn finished(&self) -> bool {
        self.stage == Stage::Done
    }
}

fn one(ctx: &Ctx<'_>, label: &str, path: &str, cookies: &[&str]) -> Result<Outcome, String> {
    let o = ctx.opts;
    let (c, threads) = (o.http_conns, o.threads.min(o.http_conns));
    let host = ctx.target.addr.to_string();
    let request = |i: usize| -> Vec<u8> {
        let mut r = format!("GET {path} HTTP/1.1\r\nhost: {host}\r\naccept: */*\r\n");
        if !cookies.is_empty() {
            r.push_str(&format!("cookie: {}\r\n", cookies[i % cookies.len()]));
        }
        r.push_str("\r\n");
        r.into_bytes()
    };
    let gate = Gate::default();
    let pid = ctx.target.pid;
    let (results, phase) = run_threads(
        threads,
        ctx.target.addr,
        |t| {
            let mine: Vec<usize> = (t..c).step_by(threads).collect();
            HttpThread {
                gate: &gate,
                threads,
                requests: mine.iter().map(|&i| request(i)).collect(),
                conns: vec![None; mine.len()],
                sent_at: vec![0; mine.len()],
                opened: 0,
                active: 0,
                stage: Stage::Connecting,
                duration: o.http_duration.as_nanos() as u64,
                t0: 0,
                t_end: 0,
                latency: Histogram::default(),
                statuses: BTreeMap::new(),
                last_response: 0,
                reconnects: 0,
                failures: Vec::new(),
                sample: None,
            }
        },
        || gate.wait(Duration::from_secs(30)).map(|_| Phase::start(pid)),
    )?;
    let cpu = phase.map(|p| p.end());
    let failures: Vec<String> = results.iter().flat_map(|(h, _)| h.failures.iter().cloned()).collect();
    if !failures.is_empty() {
        return Err(format!("{label}: {}", first_few(&failures)));
    }
    let cpu = cpu.ok_or("the connections did not all open within 30 s")?;
    let (mut latency, mut statuses, mut reconnects, mut last) = (Histogram::default(), BTreeMap::new(), 0, 0);
    let mut read_delay = Histogram::default();
    for (h, counters) in &results {
        read_delay.merge(&counters.read_delay);
        latency.merge(&h.latency);
        for (s, n) in &h.statuses {
            *statuses.entry(*s).or_insert(0u64) += n;
        }
        reconnects += h.reconnects;
        last = last.max(h.last_response);
    }
    let t0 = results.iter().map(|(h, _)| h.t0).find(|&t| t > 0).unwrap_or(0);
    let span = last.saturating_sub(t0) as f64 / 1e9;
    let per_s = if span > 0.0 { latency.count as f64 / span } else { 0.0 };
    let non_200: u64 = statuses.iter().filter(|(s, _)| **s != 200).map(|(_, n)| n).sum();
    let sample = results.iter().find_map(|(h, _)| h.sample.clone()).unwrap_or_default();
    let mut results_json = json!({
        "requests": latency.count,
        "requests_per_s": stats::round2(per_s),
        "latency": latency.json_ms(),
        "bench_read_delay": read_delay.json_ms(),
        "statuses": Value::Object(statuses.iter().map(|(s, n)| (s.to_string(), json!(n))).collect()),
        "non_200": non_200,
        "reconnects": reconnects,
        "body_bytes": sample.len(),
    });
    if let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&sample) {
        results_json["items_in_body"] = json!(items.len());
    }
    let mut summary = format!("{} req/s; latency {}; non-200: {non_200}", thousands(per_s), latency.text_ms());
    if reconnects > 0 {
        summary.push_str(&format!("; {reconnects} reconnects (server closed keep-alive)"));
    }
    Ok(Outcome {
        name: label.into(),
        params: json!({ "path": path, "connections": c, "duration_s": o.http_duration.as_secs_f64() }),
        params_text: format!("GET {path}, {c} keep-alive connections, {:.0} s", o.http_duration.as_secs_f64()),
        results: results_json,
        summary,
        cpu: Some(cpu),
    })
}

/// The static asset, then the authenticated API call.
pub fn run(ctx: &mut Ctx<'_>) -> Vec<Result<Outcome, String>> {
    let c = ctx.opts.http_conns;
    if let Err(e) = ctx.setup.ensure_users(ctx.target.addr, c).and_then(|()| ctx.fresh_server()) {
        return vec![Err(e)];
    }
    let cookies: Vec<String> = ctx.setup.users[..c].iter().map(|u| u.cookie.to_string()).collect();
    let cookies: Vec<&str> = cookies.iter().map(String::as_str).collect();
    vec![one(ctx, "http-static", "/static/favicon.svg", &[]), one(ctx, "http-api", "/api/rooms", &cookies)]
}
