//! Messaging under load: `room` (M members on /ws/room, S of them sending), `room-max` (the
//! same, each sender keeping W messages in flight) and `private` (P pairs on /ws/{a}/{b}).
//!
//! Every message's text is `b:<slot>:<seq>:<sent ns>:` padded to `--text-bytes`: the sender's
//! slot in its group, its sequence number, and the send time on the clock all threads share.
//! Each receiver keeps, per sender, a bitmap of sequence numbers seen, so a delivery is
//! fresh or a duplicate, in order or not; what is missing after the drain is lost.

use super::delivery::{Fanout, Track, parse_delivery, write_text};
use super::{Ctx, Gate, Opener, Outcome, SocketSpec, first_few, merge_refusals, refusals_json, run_threads};
use crate::args::{Options, Retry};
use crate::reactor::{ConnId, Ended, Handler, Io};
use crate::stats::{self, Histogram, Phase, thousands};
use crate::sys::{self, now_ns};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Messages per second offered, spread evenly over all senders.
    Rate(f64),
    /// Each sender keeps this many messages unacknowledged (no echo yet).
    Window(usize),
}

/// Who is in which group and who sends, for all threads.
struct Plan {
    specs: Vec<SocketSpec>,
    /// Per socket: its group, and its sender slot in the group if it sends.
    group_of: Vec<usize>,
    slot_of: Vec<Option<usize>>,
    group_size: Vec<usize>,
    /// Per group: the global sender index of each slot.
    group_senders: Vec<Vec<usize>>,
    /// Per global sender: its group.
    sender_group: Vec<usize>,
    mode: Mode,
    duration: Duration,
    text_bytes: usize,
    drain: Duration,
}

struct Shared {
    gate: Gate,
    /// Messages sent so far, per global sender; final once `done` counts it.
    sent: Vec<AtomicU64>,
    done: AtomicUsize,
    /// Fresh deliveries, all receivers.
    delivered: AtomicU64,
}

impl Shared {
    fn expected(&self, plan: &Plan) -> Option<u64> {
        if self.done.load(Ordering::Acquire) < self.sent.len() {
            return None;
        }
        let per_sender = self.sent.iter().zip(&plan.sender_group);
        Some(per_sender.map(|(s, g)| s.load(Ordering::Acquire) * plan.group_size[*g] as u64).sum())
    }
}

struct Member {
    /// Index in the plan's sockets.
    socket: usize,
    group: usize,
    slot: Option<usize>,
    sender: Option<usize>,
    tracks: Vec<Track>,
    seq: u64,
    in_flight: usize,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Connecting,
    Ready,
    Running,
    Draining,
    Done,
}

#[derive(Default)]
struct Tally {
    latency: Histogram,
    /// The senders' own copies only: the round trip through the hub (the sender's place in
    /// the broadcast order still counts).
    echo: Histogram,
    lag: Histogram,
    deliveries: u64,
    last_delivery: u64,
    errors: u64,
    error_sample: Option<String>,
    foreign: u64,
}

struct ChatThread<'a> {
    plan: &'a Plan,
    shared: &'a Shared,
    threads: usize,
    opener: Opener,
    members: Vec<Member>,
    senders: Vec<usize>,
    stage: Stage,
    t0: u64,
    t_end: u64,
    tally: Tally,
    fanout: Fanout,
    text: String,
}

impl<'a> ChatThread<'a> {
    fn new(plan: &'a Plan, shared: &'a Shared, threads: usize, thread: usize) -> ChatThread<'a> {
        let mine: Vec<usize> = (thread..plan.specs.len()).step_by(threads).collect();
        let specs = mine.iter().map(|&s| plan.specs[s].clone()).collect();
        let members: Vec<Member> = mine
            .iter()
            .map(|&s| {
                let group = plan.group_of[s];
                let slot = plan.slot_of[s];
                Member {
                    socket: s,
                    group,
                    slot,
                    sender: slot.map(|k| plan.group_senders[group][k]),
                    tracks: (0..plan.group_senders[group].len()).map(|_| Track::default()).collect(),
                    seq: 0,
                    in_flight: 0,
                }
            })
            .collect();
        let senders = (0..members.len()).filter(|&m| members[m].sender.is_some()).collect();
        ChatThread {
            plan,
            shared,
            threads,
            opener: Opener::new(specs, 8, Retry::Fixed(Duration::from_millis(20))),
            members,
            senders,
            stage: Stage::Connecting,
            t0: 0,
            t_end: 0,
            tally: Tally::default(),
            fanout: Fanout::new(plan.sender_group.len()),
            text: String::with_capacity(plan.text_bytes + 64),
        }
    }

    fn send(&mut self, io: &mut Io, local: usize) {
        let (Some(conn), Some(slot), Some(sender)) =
            (self.opener.conns[local], self.members[local].slot, self.members[local].sender)
        else {
            return;
        };
        let m = &mut self.members[local];
        write_text(&mut self.text, slot, m.seq, now_ns(), self.plan.text_bytes);
        io.send_text(conn, self.text.as_bytes());
        m.seq += 1;
        m.in_flight += 1;
        self.shared.sent[sender].store(m.seq, Ordering::Release);
    }

    /// Window mode: a sender's message was answered; the next takes its place.
    fn window_next(&mut self, io: &mut Io, local: usize, now: u64) {
        if matches!(self.plan.mode, Mode::Window(_)) && self.stage == Stage::Running && now < self.t_end {
            self.send(io, local);
        }
    }

    /// Rate mode: the `seq`-th message of global sender `k` is due at this time.
    fn due(&self, k: usize, seq: u64, rate: f64) -> u64 {
        let n = self.shared.sent.len() as f64;
        self.t0 + ((seq as f64 * n + k as f64) * 1e9 / rate) as u64
    }

    fn run_senders(&mut self, io: &mut Io, now: u64) -> Option<u64> {
        let Mode::Rate(rate) = self.plan.mode else { return Some(self.t_end) };
        let mut next = self.t_end;
        for i in 0..self.senders.len() {
            let local = self.senders[i];
            let Some(k) = self.members[local].sender else { continue };
            loop {
                let due = self.due(k, self.members[local].seq, rate);
                if due >= self.t_end {
                    break;
                }
                if due > now {
                    next = next.min(due);
                    break;
                }
                self.tally.lag.record(now - due);
                self.send(io, local);
            }
        }
        Some(next)
    }

    fn finish_sending(&mut self) {
        for &local in &self.senders {
            if let Some(k) = self.members[local].sender {
                self.shared.sent[k].store(self.members[local].seq, Ordering::Release);
            }
            self.shared.done.fetch_add(1, Ordering::AcqRel);
        }
    }
}

impl Handler for ChatThread<'_> {
    fn on_open(&mut self, _io: &mut Io, _conn: ConnId, tag: usize, now: u64) {
        self.opener.opened(tag, now);
    }

    fn on_text(&mut self, io: &mut Io, _conn: ConnId, tag: usize, text: &[u8], now: u64) {
        let Some((slot, seq, sent)) = parse_delivery(text) else {
            if text.starts_with(b"{\"type\":\"error\"") {
                self.tally.errors += 1;
                if self.tally.error_sample.is_none() {
                    self.tally.error_sample = Some(String::from_utf8_lossy(&text[..text.len().min(200)]).into_owned());
                }
                // A refused message will not be echoed: it leaves the window.
                let m = &mut self.members[tag];
                if m.in_flight > 0 {
                    m.in_flight -= 1;
                    self.window_next(io, tag, now);
                }
            } else {
                self.tally.foreign += 1;
            }
            return;
        };
        let m = &mut self.members[tag];
        let Some(track) = m.tracks.get_mut(slot) else {
            self.tally.foreign += 1;
            return;
        };
        if track.record(seq) {
            self.shared.delivered.fetch_add(1, Ordering::Relaxed);
            let sender = self.plan.group_senders[m.group][slot];
            // Only sequence numbers a sender has reached (the margin covers the instant
            // between its write and its count): the table grows with what was really sent.
            if seq < self.shared.sent[sender].load(Ordering::Relaxed) + 1024 {
                self.fanout.record(sender, seq, sent, now);
            }
        }
        let latency = now.saturating_sub(sent);
        self.tally.latency.record(latency);
        self.tally.deliveries += 1;
        self.tally.last_delivery = self.tally.last_delivery.max(now);
        if m.slot == Some(slot) {
            self.tally.echo.record(latency);
            m.in_flight = m.in_flight.saturating_sub(1);
            self.window_next(io, tag, now);
        }
    }

    fn on_ended(&mut self, io: &mut Io, tag: usize, ended: Ended, now: u64) {
        self.opener.ended(io, tag, &ended, now);
    }

    fn on_tick(&mut self, io: &mut Io, now: u64) -> Option<u64> {
        let gate = &self.shared.gate;
        if gate.abort.load(Ordering::Relaxed) && self.stage != Stage::Done {
            if matches!(self.stage, Stage::Connecting | Stage::Ready) {
                self.finish_sending();
            }
            self.stage = Stage::Done;
        }
        match self.stage {
            Stage::Connecting => {
                let retry = self.opener.tick(io, now);
                if self.opener.failed() {
                    gate.abort.store(true, Ordering::Relaxed);
                    return Some(now);
                }
                if self.opener.all_open() {
                    gate.arrive(self.threads, now);
                    self.stage = Stage::Ready;
                }
                Some(retry.unwrap_or(now + 1_000_000).min(now + 1_000_000))
            }
            Stage::Ready => match gate.start() {
                None => Some(now + 1_000_000),
                Some(t0) if now < t0 => Some(t0),
                Some(t0) => {
                    self.t0 = t0;
                    self.t_end = t0 + self.plan.duration.as_nanos() as u64;
                    self.stage = Stage::Running;
                    if let Mode::Window(w) = self.plan.mode {
                        for i in 0..self.senders.len() {
                            for _ in 0..w {
                                self.send(io, self.senders[i]);
                            }
                        }
                    }
                    self.on_tick(io, now)
                }
            },
            Stage::Running if now < self.t_end => self.run_senders(io, now),
            Stage::Running => {
                self.finish_sending();
                self.stage = Stage::Draining;
                Some(now)
            }
            Stage::Draining => {
                let complete = self.shared.expected(self.plan) == Some(self.shared.delivered.load(Ordering::Relaxed));
                if complete || now >= self.t_end + self.plan.drain.as_nanos() as u64 {
                    self.stage = Stage::Done;
                }
                Some(now + 2_000_000)
            }
            Stage::Done => None,
        }
    }

    fn finished(&self) -> bool {
        self.stage == Stage::Done
    }
}

/// Loss, duplicates and disorder over a thread's receivers.
#[derive(Default)]
struct Loss {
    lost: u64,
    duplicates: u64,
    out_of_order: u64,
    receivers_with_loss: u64,
    worst_receiver_lost: u64,
    /// Receivers with anything wrong: (socket, lost, duplicates, out of order).
    problems: Vec<(usize, u64, u64, u64)>,
}

/// Receivers listed one by one in the JSON line, at most.
const PROBLEMS_LISTED: usize = 20;

fn loss(thread: &ChatThread<'_>) -> Loss {
    let mut out = Loss::default();
    for m in &thread.members {
        let (mut lost_here, mut dup_here, mut ooo_here) = (0, 0, 0);
        for (slot, track) in m.tracks.iter().enumerate() {
            let sender = thread.plan.group_senders[m.group][slot];
            let sent = thread.shared.sent[sender].load(Ordering::Acquire);
            lost_here += sent.saturating_sub(track.distinct);
            dup_here += track.duplicates;
            ooo_here += track.out_of_order;
        }
        if lost_here + dup_here + ooo_here > 0 {
            out.problems.push((m.socket, lost_here, dup_here, ooo_here));
        }
        out.duplicates += dup_here;
        out.out_of_order += ooo_here;
        out.lost += lost_here;
        out.receivers_with_loss += u64::from(lost_here > 0);
        out.worst_receiver_lost = out.worst_receiver_lost.max(lost_here);
    }
    out
}

fn run_plan(ctx: &mut Ctx<'_>, name: &str, plan: Plan, params: Value, params_text: String) -> Result<Outcome, String> {
    let senders = plan.sender_group.len();
    let shared = Shared {
        gate: Gate::default(),
        sent: (0..senders).map(|_| AtomicU64::new(0)).collect(),
        done: AtomicUsize::new(0),
        delivered: AtomicU64::new(0),
    };
    let (threads, pid) = (ctx.opts.threads, ctx.target.pid);
    let (results, phase) = run_threads(
        threads,
        ctx.target.addr,
        |t| ChatThread::new(&plan, &shared, threads, t),
        || shared.gate.wait(Duration::from_secs(120)).map(|_| Phase::start(pid)),
    )?;
    let cpu = phase.map(|p| p.end());
    let (refusals, failures, lost_sockets) = merge_refusals(results.iter().map(|(h, _)| &h.opener));
    if !failures.is_empty() {
        return Err(format!("opening sockets: {}", first_few(&failures)));
    }
    let cpu = cpu.ok_or("the sockets did not all open within 120 s")?;
    let (mut tally, mut total) = (Tally::default(), Loss::default());
    let t0 = results.first().map_or(0, |(h, _)| h.t0);
    let mut fanout = Fanout::new(senders);
    let mut read_delay = Histogram::default();
    for (h, counters) in &results {
        read_delay.merge(&counters.read_delay);
        tally.latency.merge(&h.tally.latency);
        tally.lag.merge(&h.tally.lag);
        tally.deliveries += h.tally.deliveries;
        tally.last_delivery = tally.last_delivery.max(h.tally.last_delivery);
        tally.echo.merge(&h.tally.echo);
        tally.errors += h.tally.errors;
        tally.error_sample = tally.error_sample.or(h.tally.error_sample.clone());
        tally.foreign += h.tally.foreign;
        fanout.merge(&h.fanout);
        let l = loss(h);
        total.lost += l.lost;
        total.duplicates += l.duplicates;
        total.out_of_order += l.out_of_order;
        total.receivers_with_loss += l.receivers_with_loss;
        total.worst_receiver_lost = total.worst_receiver_lost.max(l.worst_receiver_lost);
        total.problems.extend(l.problems);
    }
    let sent: u64 = shared.sent.iter().map(|s| s.load(Ordering::Acquire)).sum();
    let (reach_all, partial) = fanout.whole(|k| plan.group_size[plan.sender_group[k]]);
    let secs = plan.duration.as_secs_f64();
    let span = tally.last_delivery.saturating_sub(t0) as f64 / 1e9;
    let per_s = |n: u64| if span > 0.0 { n as f64 / span } else { 0.0 };
    let rss = ctx.target.pid.and_then(|pid| sys::proc_status(pid).ok());
    let mut results_json = json!({
        "sent": sent,
        "sent_per_s": stats::round2(sent as f64 / secs),
        "deliveries": tally.deliveries,
        "deliveries_per_s": stats::round2(per_s(tally.deliveries)),
        "expected_deliveries": shared.expected(&plan),
        "latency": tally.latency.json_ms(),
        "echo_latency": tally.echo.json_ms(),
        "reach_all_latency": reach_all.json_ms(),
        "bench_read_delay": read_delay.json_ms(),
        "messages_not_reaching_all": partial,
        "lost": total.lost,
        "duplicates": total.duplicates,
        "out_of_order": total.out_of_order,
        "receivers_with_loss": total.receivers_with_loss,
        "worst_receiver_lost": total.worst_receiver_lost,
        "receivers_with_problems": total.problems.len(),
        "problem_receivers": receivers_json(&plan, &mut total.problems),
        "error_frames": tally.errors,
        "unrecognised_frames": tally.foreign,
        "sockets_lost": lost_sockets.len(),
        "handshake_refusals": refusals_json(&refusals),
    });
    if let Mode::Rate(_) = plan.mode {
        results_json["send_lag"] = tally.lag.json_ms();
    }
    // The server's CPU per delivered frame: what one more recipient costs it.
    let cpu_per_delivery_us = cpu
        .server
        .filter(|_| tally.deliveries > 0)
        .map(|server| stats::round2(server.as_secs_f64() * 1e6 / tally.deliveries as f64));
    if let Some(us) = cpu_per_delivery_us {
        results_json["server_cpu_per_delivery_us"] = json!(us);
    }
    if let Some(rss) = rss {
        results_json["server_rss_kib"] = json!(rss.rss_kib);
        results_json["server_threads"] = json!(rss.threads);
    }
    if let Some(sample) = &tally.error_sample {
        results_json["error_sample"] = json!(sample);
    }
    if !lost_sockets.is_empty() {
        results_json["sockets_lost_sample"] = json!(first_few(&lost_sockets));
    }
    let mut summary = format!(
        "{} deliveries/s ({} msg/s sent); latency {}; all receivers reached {}; lost {}, dup {}, out-of-order {}",
        thousands(per_s(tally.deliveries)),
        thousands(sent as f64 / secs),
        tally.latency.text_ms(),
        reach_all.text_ms(),
        total.lost,
        total.duplicates,
        total.out_of_order
    );
    if let Some(us) = cpu_per_delivery_us {
        summary.push_str(&format!("; server CPU {us} µs per delivery"));
    }
    summary.push_str(&format!("; bench read delay p99 {} ms", stats::fmt_ms(read_delay.quantile(0.99))));
    if let Mode::Rate(_) = plan.mode {
        // How late the bench sent against its schedule: large values mean the machine, not
        // the server, held the bench up (latencies are still measured from the real send).
        summary.push_str(&format!(", send lag p99 {} ms", stats::fmt_ms(tally.lag.quantile(0.99))));
    }
    if tally.errors > 0 {
        summary.push_str(&format!("; {} error frames", tally.errors));
    }
    if !lost_sockets.is_empty() {
        summary.push_str(&format!("; {} sockets lost", lost_sockets.len()));
    }
    Ok(Outcome { name: name.into(), params, params_text, results: results_json, summary, cpu: Some(cpu) })
}

/// The worst receivers first: `[{"socket": path, "lost", "duplicates", "out_of_order"}]`.
fn receivers_json(plan: &Plan, problems: &mut [(usize, u64, u64, u64)]) -> Value {
    problems.sort_by_key(|&(socket, lost, dup, ooo)| (std::cmp::Reverse(lost + dup + ooo), socket));
    let listed = problems.iter().take(PROBLEMS_LISTED).map(|&(socket, lost, duplicates, out_of_order)| {
        json!({ "socket": plan.specs[socket].path, "lost": lost, "duplicates": duplicates, "out_of_order": out_of_order })
    });
    Value::Array(listed.collect())
}

fn mode_of(rate: f64, window: usize) -> Mode {
    if rate > 0.0 { Mode::Rate(rate) } else { Mode::Window(window) }
}

fn mode_json(mode: Mode) -> (Value, String) {
    match mode {
        Mode::Rate(r) => (json!({ "rate": r }), format!("{r} msg/s offered")),
        Mode::Window(w) => (json!({ "rate": 0, "window": w }), format!("saturation, {w} in flight per sender")),
    }
}

/// `room` and `room-max`: one room of M members, the first S of them sending.
pub fn room(ctx: &mut Ctx<'_>, saturate: bool) -> Result<Outcome, String> {
    let o: &Options = ctx.opts;
    let (m, s) = (o.room_members, o.room_senders);
    let mode = if saturate { Mode::Window(o.room_window) } else { mode_of(o.room_rate, o.room_window) };
    let duration = if saturate { o.room_max_duration } else { o.room_duration };
    ctx.setup.ensure_users(ctx.target.addr, m)?;
    let room = ctx.setup.room_exact(ctx.target.addr, m)?;
    ctx.fresh_server()?;
    let users = &ctx.setup.users[..m];
    let plan = Plan {
        specs: users
            .iter()
            .map(|u| SocketSpec { path: format!("/ws/room/{room}/{}", u.id), cookie: u.cookie.clone() })
            .collect(),
        group_of: vec![0; m],
        slot_of: (0..m).map(|i| (i < s).then_some(i)).collect(),
        group_size: vec![m],
        group_senders: vec![(0..s).collect()],
        sender_group: vec![0; s],
        mode,
        duration,
        text_bytes: o.text_bytes,
        drain: o.drain,
    };
    let (mut params, mode_text) = mode_json(mode);
    params["members"] = json!(m);
    params["senders"] = json!(s);
    params["duration_s"] = json!(duration.as_secs_f64());
    params["text_bytes"] = json!(o.text_bytes);
    let text = format!("{m} members, {s} senders, {mode_text}, {:.0} s", duration.as_secs_f64());
    run_plan(ctx, if saturate { "room-max" } else { "room" }, plan, params, text)
}

/// `private`: P pairs, each on /ws/{a}/{b} and /ws/{b}/{a}, both sides sending.
pub fn private(ctx: &mut Ctx<'_>) -> Result<Outcome, String> {
    let o: &Options = ctx.opts;
    let p = o.private_pairs;
    let mode = mode_of(o.private_rate, o.room_window);
    ctx.setup.ensure_users(ctx.target.addr, 2 * p)?;
    ctx.fresh_server()?;
    let users = &ctx.setup.users;
    let mut specs = Vec::with_capacity(2 * p);
    for pair in 0..p {
        let (a, b) = (&users[2 * pair], &users[2 * pair + 1]);
        specs.push(SocketSpec { path: format!("/ws/{}/{}", a.id, b.id), cookie: a.cookie.clone() });
        specs.push(SocketSpec { path: format!("/ws/{}/{}", b.id, a.id), cookie: b.cookie.clone() });
    }
    let plan = Plan {
        specs,
        group_of: (0..2 * p).map(|i| i / 2).collect(),
        slot_of: (0..2 * p).map(|i| Some(i % 2)).collect(),
        group_size: vec![2; p],
        group_senders: (0..p).map(|g| vec![2 * g, 2 * g + 1]).collect(),
        sender_group: (0..2 * p).map(|i| i / 2).collect(),
        mode,
        duration: o.private_duration,
        text_bytes: o.text_bytes,
        drain: o.drain,
    };
    let (mut params, mode_text) = mode_json(mode);
    params["pairs"] = json!(p);
    params["duration_s"] = json!(o.private_duration.as_secs_f64());
    params["text_bytes"] = json!(o.text_bytes);
    let text = format!("{p} pairs, both sides sending, {mode_text}, {:.0} s", o.private_duration.as_secs_f64());
    run_plan(ctx, "private", plan, params, text)
}
