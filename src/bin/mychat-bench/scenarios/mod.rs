//! The scenarios, and what they share: running handlers on a few event-loop threads, a gate
//! that starts every thread's load at the same instant, and an [`Opener`] that opens a list
//! of WebSockets with bounded concurrency and retries refused handshakes.

pub mod abuse;
pub mod chat;
mod delivery;
pub mod floor;
pub mod http;
pub mod idle;
pub mod startup;
pub mod storm;

use crate::args::{Options, Retry};
use crate::reactor::{self, ConnId, Counters, Ended, Handler, Io};
use crate::server::Target;
use crate::setup::Setup;
use crate::stats::PhaseCpu;
use serde_json::Value;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// What a scenario hands the report.
pub struct Outcome {
    pub name: String,
    /// Parameters, for the JSON line; `params_text` for the table.
    pub params: Value,
    pub params_text: String,
    pub results: Value,
    pub summary: String,
    pub cpu: Option<PhaseCpu>,
}

/// What scenarios work with.
pub struct Ctx<'a> {
    pub opts: &'a Options,
    pub target: &'a mut Target,
    pub setup: &'a mut Setup,
}

impl Ctx<'_> {
    /// Before a measurement: a fresh server process (on the same data dir) when this bench
    /// started the server and `--restart each`, or when it has been stopped.
    pub fn fresh_server(&mut self) -> Result<(), String> {
        if self.target.managed() && (self.opts.restart || !self.target.running()) {
            self.target.restart()?;
        }
        Ok(())
    }
}

/// Runs one handler per thread (`make(thread index)`), each on its own event loop, while
/// `during` runs on the calling thread; returns the handlers and their loops' counters.
pub fn run_threads<H, M, D, R>(
    threads: usize,
    addr: SocketAddr,
    make: M,
    during: D,
) -> Result<(Vec<(H, Counters)>, R), String>
where
    H: Handler + Send,
    M: Fn(usize) -> H + Sync,
    D: FnOnce() -> R,
{
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let make = &make;
                std::thread::Builder::new()
                    .name(format!("bench-loop-{t}"))
                    .spawn_scoped(scope, move || -> Result<(H, Counters), String> {
                        let mut io = Io::new(addr).map_err(|e| format!("event loop: {e}"))?;
                        let mut handler = make(t);
                        reactor::run(&mut io, &mut handler).map_err(|e| format!("event loop: {e}"))?;
                        io.close_all();
                        Ok((handler, std::mem::take(&mut io.counters)))
                    })
                    .map_err(|e| format!("starting a thread: {e}"))
            })
            .collect::<Result<_, _>>()?;
        let during = during();
        let mut out = Vec::new();
        for handle in handles {
            out.push(handle.join().map_err(|_| "an event-loop thread panicked".to_string())??);
        }
        Ok((out, during))
    })
}

/// Starts every thread's load at one instant: each thread arrives when ready; the last
/// one sets the start a little ahead, so all see it before it comes.
#[derive(Default)]
pub struct Gate {
    arrived: AtomicUsize,
    start: AtomicU64,
    /// Set when a thread cannot go on; every thread then finishes.
    pub abort: AtomicBool,
}

/// Lead time between the last arrival and the start.
const GATE_LEAD_NS: u64 = 20_000_000;

impl Gate {
    pub fn arrive(&self, threads: usize, now: u64) {
        if self.arrived.fetch_add(1, Ordering::AcqRel) + 1 == threads {
            self.start.store(now + GATE_LEAD_NS, Ordering::Release);
        }
    }

    /// The common start, once every thread has arrived.
    pub fn start(&self) -> Option<u64> {
        match self.start.load(Ordering::Acquire) {
            0 => None,
            t => Some(t),
        }
    }

    /// Blocks the calling (non-loop) thread until the start is set; `None` if a thread
    /// aborted, or if `within` passed (then it aborts the run, so every thread ends).
    pub fn wait(&self, within: Duration) -> Option<u64> {
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline && !self.abort.load(Ordering::Relaxed) {
            if let Some(t) = self.start() {
                return Some(t);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        self.abort.store(true, Ordering::Relaxed);
        None
    }
}

/// A WebSocket to open: its path and the cookie to open it with.
#[derive(Clone, Debug)]
pub struct SocketSpec {
    pub path: String,
    pub cookie: Arc<str>,
}

/// Handshakes attempted at most per socket.
const MAX_ATTEMPTS: u32 = 30;

/// Opens a list of WebSockets (a thread's share) and tracks them. Refusals that say "later"
/// (503, 429) and connections dropped mid-handshake are retried per [`Retry`]; other
/// refusals are failures.
pub struct Opener {
    specs: Vec<SocketSpec>,
    pub conns: Vec<Option<ConnId>>,
    /// When each socket got its 101 (ns).
    pub opened_at: Vec<Option<u64>>,
    attempts: Vec<u32>,
    queue: VecDeque<usize>,
    retries: Vec<(u64, usize)>,
    in_flight: usize,
    /// Handshakes in flight at most; 0: no bound.
    max_in_flight: usize,
    retry: Retry,
    pub open: usize,
    /// Refusals by status (and dropped handshakes as status 0), all retried or failed.
    pub refusals: BTreeMap<u16, u64>,
    pub failures: Vec<String>,
    /// Sockets that were open and then ended, with why.
    pub lost: Vec<String>,
    /// The first retried refusal as the server worded it (status and body).
    pub refusal_sample: Option<String>,
}

impl Opener {
    pub fn new(specs: Vec<SocketSpec>, max_in_flight: usize, retry: Retry) -> Opener {
        let n = specs.len();
        Opener {
            specs,
            conns: vec![None; n],
            opened_at: vec![None; n],
            attempts: vec![0; n],
            queue: (0..n).collect(),
            retries: Vec::new(),
            in_flight: 0,
            max_in_flight,
            retry,
            open: 0,
            refusals: BTreeMap::new(),
            failures: Vec::new(),
            lost: Vec::new(),
            refusal_sample: None,
        }
    }

    pub fn all_open(&self) -> bool {
        self.open == self.specs.len()
    }

    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// Starts what may start now; returns when a retry is due.
    pub fn tick(&mut self, io: &mut Io, now: u64) -> Option<u64> {
        let mut i = 0;
        while i < self.retries.len() {
            if self.retries[i].0 <= now {
                let (_, tag) = self.retries.swap_remove(i);
                self.queue.push_back(tag);
            } else {
                i += 1;
            }
        }
        while self.max_in_flight == 0 || self.in_flight < self.max_in_flight {
            let Some(tag) = self.queue.pop_front() else { break };
            self.attempts[tag] += 1;
            let spec = &self.specs[tag];
            match io.connect_ws(&spec.path, Some(&spec.cookie), tag) {
                Ok(conn) => {
                    self.conns[tag] = Some(conn);
                    self.in_flight += 1;
                }
                Err(e) => self.failures.push(format!("{}: connect: {e}", spec.path)),
            }
        }
        self.retries.iter().map(|(at, _)| *at).min()
    }

    /// Call from `on_open`.
    pub fn opened(&mut self, tag: usize, now: u64) {
        self.in_flight -= 1;
        self.open += 1;
        self.opened_at[tag] = Some(now);
    }

    /// Call from `on_ended`; true if the socket had been open.
    pub fn ended(&mut self, io: &mut Io, tag: usize, ended: &Ended, now: u64) -> bool {
        self.conns[tag] = None;
        if self.opened_at[tag].is_some() {
            self.open -= 1;
            self.lost.push(format!("{}: {ended}", self.specs[tag].path));
            return true;
        }
        self.in_flight -= 1;
        let status = match ended {
            Ended::Refused { status: s @ (503 | 429), body } => {
                self.refusal_sample.get_or_insert_with(|| format!("{s} {body}"));
                *s
            }
            Ended::Eof | Ended::Failed(_) | Ended::ConnectFailed(_) => 0,
            other => {
                self.failures.push(format!("{}: {other}", self.specs[tag].path));
                return false;
            }
        };
        *self.refusals.entry(status).or_default() += 1;
        if self.attempts[tag] >= MAX_ATTEMPTS {
            self.failures
                .push(format!("{}: still refused after {MAX_ATTEMPTS} attempts: {ended}", self.specs[tag].path));
            return false;
        }
        let delay = match self.retry {
            Retry::Fixed(d) => d.as_nanos() as u64,
            Retry::Ui => {
                // The UI's backoffDelay: min(10 s, 0.5 s × 2^attempt) × (0.5..1.0).
                let ceiling = 500_000_000u64.saturating_mul(1 << self.attempts[tag].saturating_sub(1).min(10));
                let ceiling = ceiling.min(10_000_000_000);
                io.rng().between(ceiling / 2, ceiling)
            }
        };
        self.retries.push((now + delay, tag));
        false
    }
}

/// `{ "503": 12, "0": 1 }` → `"503×12, dropped×1"`.
pub fn refusals_text(refusals: &BTreeMap<u16, u64>) -> String {
    if refusals.is_empty() {
        return "none".into();
    }
    let parts: Vec<String> =
        refusals.iter().map(|(s, n)| if *s == 0 { format!("dropped×{n}") } else { format!("{s}×{n}") }).collect();
    parts.join(", ")
}

pub fn refusals_json(refusals: &BTreeMap<u16, u64>) -> Value {
    Value::Object(refusals.iter().map(|(s, n)| (s.to_string(), Value::from(*n))).collect())
}

/// Merges what each thread's opener saw.
pub fn merge_refusals<'a>(all: impl Iterator<Item = &'a Opener>) -> (BTreeMap<u16, u64>, Vec<String>, Vec<String>) {
    let mut refusals = BTreeMap::new();
    let (mut failures, mut lost) = (Vec::new(), Vec::new());
    for opener in all {
        for (s, n) in &opener.refusals {
            *refusals.entry(*s).or_default() += n;
        }
        failures.extend(opener.failures.iter().cloned());
        lost.extend(opener.lost.iter().cloned());
    }
    (refusals, failures, lost)
}

/// The first few of a list of problems, for an error message.
pub fn first_few(list: &[String]) -> String {
    let mut text = list.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
    if list.len() > 3 {
        text.push_str(&format!(" (and {} more)", list.len() - 3));
    }
    text
}
