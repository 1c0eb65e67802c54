//! `abuse-*`: the attacks of issue 11, reproduced against a fresh server of their own that
//! runs as in production (rate limits and per-address caps on, default workers and queue)
//! with `--trusted-proxies 127.0.0.1`, so `X-Forwarded-For` can play other clients'
//! addresses; silent connections come from real loopback addresses (127.0.0.2–6). Each
//! prints what bystanders or the account's owner got, and the server's RSS. Nothing is
//! asserted; `make abuse` runs all three.
//!
//! * `abuse-silent`: connections that send nothing, kept at the per-address cap from one
//!   address and then from five (more than the queue holds), reopened as soon as the server
//!   closes them; a bystander asks for `/healthz` every 200 ms meanwhile.
//! * `abuse-logins`: pipelined `POST /login` with never-repeating names from one address;
//!   RSS before, right after and after some idle time, then a real login from elsewhere.
//! * `abuse-lockout`: two wrong guesses a second at one account from one address; the owner
//!   logs in from another every 5 s.

use super::{Ctx, Outcome};
use crate::client::Client;
use crate::server::{Launch, ServerProcess, sibling_binary, start_process, temp_dir};
use crate::stats::Histogram;
use crate::sys;
use crate::wire::Rng;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A server of the scenario's own; stopped (and its data removed) when dropped.
struct Own {
    addr: SocketAddrV4,
    process: ServerProcess,
    dir: std::path::PathBuf,
}

impl Drop for Own {
    fn drop(&mut self) {
        let _ = self.process.stop(Duration::from_secs(10));
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Own {
    fn rss_kib(&self) -> u64 {
        sys::proc_status(self.process.pid).map_or(0, |s| s.rss_kib)
    }
}

fn own_server(ctx: &Ctx<'_>, label: &str) -> Result<Own, String> {
    let o = ctx.opts;
    let bin = match (&o.server_bin, ctx.target.launch()) {
        (Some(bin), _) => bin.clone(),
        (None, Some(launch)) => launch.bin.clone(),
        (None, None) => sibling_binary().ok_or("abuse scenarios start their own server: pass --server-bin")?,
    };
    let dir = temp_dir(label)?;
    let mut extra: Vec<String> = ["--rate-limits", "on", "--trusted-proxies", "127.0.0.1"].map(String::from).to_vec();
    extra.extend(o.server_args.iter().cloned());
    let launch = Launch { bin, data_dir: dir.clone(), addr: "127.0.0.1:0".into(), log: o.server_log.clone(), extra };
    let (addr, process) = start_process(&launch)?;
    let SocketAddr::V4(addr) = addr else { return Err("expected an IPv4 address".into()) };
    Ok(Own { addr, process, dir })
}

/// One request on a kept-alive or new stream; the status (0: no answer or an error).
fn exchange(reader: &mut BufReader<TcpStream>, request: &[u8]) -> u16 {
    if reader.get_mut().write_all(request).is_err() {
        return 0;
    }
    read_status(reader)
}

/// Reads one response; its status (0 on an error).
fn read_status(reader: &mut BufReader<TcpStream>) -> u16 {
    let mut status = 0;
    let mut length = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return 0,
            Ok(_) => {}
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if status == 0 {
            status = trimmed.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        } else if let Some((name, value)) = trimmed.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0u8; length];
    if reader.read_exact(&mut body).is_err() {
        return 0;
    }
    status
}

fn form_post(path: &str, body: &str, forwarded_for: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\naccept: application/json\r\nx-forwarded-for: {forwarded_for}\r\n\
         content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn register(addr: SocketAddrV4, name: &str, password: &str) -> Result<(), String> {
    let mut client = Client::new(SocketAddr::V4(addr), Duration::from_secs(10));
    let body = format!("username={name}&password={password}");
    let response = client
        .request("POST", "/register", &[("content-type", "application/x-www-form-urlencoded")], body.as_bytes())
        .map_err(|e| format!("registering {name}: {e}"))?;
    if response.status() != 303 {
        return Err(format!("registering {name}: {} {}", response.status(), response.text()));
    }
    Ok(())
}

/// A login attempt on a new connection, as a client at `from`; the status.
fn login_once(addr: SocketAddrV4, name: &str, password: &str, from: &str) -> u16 {
    let Ok(stream) = TcpStream::connect(addr) else { return 0 };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream);
    exchange(&mut reader, &form_post("/login", &format!("username={name}&password={password}"), from))
}

fn counts_text(counts: &BTreeMap<u16, u64>) -> String {
    let parts: Vec<String> =
        counts.iter().map(|(s, n)| if *s == 0 { format!("{n}× no answer") } else { format!("{n}× {s}") }).collect();
    parts.join(", ")
}

fn counts_json(counts: &BTreeMap<u16, u64>) -> serde_json::Value {
    counts.iter().map(|(s, n)| (s.to_string(), json!(n))).collect::<serde_json::Map<_, _>>().into()
}

/// Silent connections held from each of `addresses`, reopened when the server closes them.
struct Crowd {
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<u64>>,
}

impl Crowd {
    fn start(to: SocketAddrV4, addresses: &[Ipv4Addr], per_address: usize) -> Crowd {
        let stop = Arc::new(AtomicBool::new(false));
        let threads = addresses
            .iter()
            .map(|&from| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let connect = || {
                        sys::connect_from(from, to).ok().inspect(|s| {
                            let _ = s.set_nonblocking(true);
                        })
                    };
                    let mut held: Vec<Option<TcpStream>> = (0..per_address).map(|_| connect()).collect();
                    let mut opened = per_address as u64;
                    while !stop.load(Ordering::Relaxed) {
                        for slot in &mut held {
                            let mut buf = [0u8; 512];
                            let alive = slot.as_mut().is_some_and(
                                |s| matches!(s.read(&mut buf), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
                            );
                            if !alive {
                                *slot = connect();
                                opened += 1;
                            }
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    opened
                })
            })
            .collect();
        Crowd { stop, threads }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.threads.into_iter().map(|t| t.join().unwrap_or(0)).sum()
    }
}

/// A bystander's `GET /healthz` on a new connection every `every` for `duration`.
fn bystander(addr: SocketAddrV4, duration: Duration, every: Duration) -> (BTreeMap<u16, u64>, Histogram) {
    let mut counts = BTreeMap::new();
    let mut latency = Histogram::default();
    let end = Instant::now() + duration;
    while Instant::now() < end {
        let started = Instant::now();
        let status = match TcpStream::connect(addr) {
            Ok(stream) => {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                let mut reader = BufReader::new(stream);
                exchange(&mut reader, b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
            }
            Err(_) => 0,
        };
        *counts.entry(status).or_insert(0) += 1;
        if status == 200 {
            latency.record(started.elapsed().as_nanos() as u64);
        }
        std::thread::sleep(every.saturating_sub(started.elapsed()));
    }
    (counts, latency)
}

pub fn silent(ctx: &mut Ctx<'_>) -> Result<Outcome, String> {
    let server = own_server(ctx, "abuse-silent")?;
    let (duration, per_address) = (ctx.opts.abuse_duration, 256);
    let rss_before = server.rss_kib();
    let mut phases = Vec::new();
    let mut summary = Vec::new();
    for (label, count) in [("one address", 1u8), ("five addresses", 5)] {
        let addresses: Vec<Ipv4Addr> = (0..count).map(|i| Ipv4Addr::new(127, 0, 0, 2 + i)).collect();
        eprintln!("  {label}: {per_address} silent connections from each, for {} s", duration.as_secs());
        let crowd = Crowd::start(server.addr, &addresses, per_address);
        let (counts, latency) = bystander(server.addr, duration, Duration::from_millis(200));
        let opened = crowd.stop();
        summary.push(format!(
            "{label}: bystanders {}; served in {} (crowd opened {opened})",
            counts_text(&counts),
            latency.text_ms()
        ));
        phases.push(json!({
            "phase": label, "silent_per_address": per_address, "bystander_statuses": counts_json(&counts),
            "bystander_latency": latency.json_ms(), "crowd_connections_opened": opened,
        }));
    }
    let rss_after = server.rss_kib();
    summary.push(format!("RSS {:.1} -> {:.1} MiB", rss_before as f64 / 1024.0, rss_after as f64 / 1024.0));
    Ok(Outcome {
        name: "abuse-silent".into(),
        params: json!({ "duration_s": duration.as_secs_f64(), "silent_per_address": per_address }),
        params_text: format!("{per_address} silent/address, 1 then 5 addresses, {} s each", duration.as_secs()),
        results: json!({ "phases": phases, "rss_before_kib": rss_before, "rss_after_kib": rss_after }),
        summary: summary.join("; "),
        cpu: None,
    })
}

pub fn logins(ctx: &mut Ctx<'_>) -> Result<Outcome, String> {
    let server = own_server(ctx, "abuse-logins")?;
    let (duration, idle) = (ctx.opts.abuse_duration, ctx.opts.abuse_idle);
    register(server.addr, "owner", "owner-password")?;
    let rss_before = server.rss_kib();
    let started = Instant::now();
    let end = started + duration;
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let addr = server.addr;
            std::thread::spawn(move || -> BTreeMap<u16, u64> {
                let mut counts = BTreeMap::new();
                let mut rng = Rng::from_os();
                let Ok(stream) = TcpStream::connect(addr) else { return counts };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
                let mut reader = BufReader::new(stream);
                while Instant::now() < end {
                    let mut batch = Vec::new();
                    for _ in 0..200 {
                        let name = format!("{:016x}{:016x}", rng.next(), rng.next());
                        let body = format!("username={name}&password=not-the-password");
                        batch.extend_from_slice(&form_post("/login", &body, "203.0.113.66"));
                    }
                    if reader.get_mut().write_all(&batch).is_err() {
                        break;
                    }
                    for _ in 0..200 {
                        *counts.entry(read_status(&mut reader)).or_insert(0) += 1;
                    }
                }
                counts
            })
        })
        .collect();
    let mut counts = BTreeMap::new();
    for thread in threads {
        for (status, n) in thread.join().unwrap_or_default() {
            *counts.entry(status).or_insert(0) += n;
        }
    }
    let elapsed = started.elapsed();
    let rss_after = server.rss_kib();
    eprintln!("  idle for {} s", idle.as_secs());
    std::thread::sleep(idle);
    let rss_idle = server.rss_kib();
    let owner = login_once(server.addr, "owner", "owner-password", "198.51.100.5");
    let total: u64 = counts.values().sum();
    let mib = |kib: u64| kib as f64 / 1024.0;
    Ok(Outcome {
        name: "abuse-logins".into(),
        params: json!({ "duration_s": duration.as_secs_f64(), "idle_s": idle.as_secs_f64(), "connections": 4 }),
        params_text: format!("pipelined random-name logins from 1 address, {} s", duration.as_secs()),
        results: json!({
            "attempts": total, "per_second": total as f64 / elapsed.as_secs_f64(), "statuses": counts_json(&counts),
            "rss_before_kib": rss_before, "rss_after_kib": rss_after, "rss_after_idle_kib": rss_idle,
            "owner_login_elsewhere": owner,
        }),
        summary: format!(
            "{total} attempts ({:.0}/s): {}; RSS {:.1} -> {:.1} MiB, {:.1} MiB after {} s idle; owner from elsewhere: {owner}",
            total as f64 / elapsed.as_secs_f64(),
            counts_text(&counts),
            mib(rss_before),
            mib(rss_after),
            mib(rss_idle),
            idle.as_secs()
        ),
        cpu: None,
    })
}

pub fn lockout(ctx: &mut Ctx<'_>) -> Result<Outcome, String> {
    let server = own_server(ctx, "abuse-lockout")?;
    let duration = ctx.opts.abuse_duration;
    register(server.addr, "owner", "the-owners-password")?;
    let addr = server.addr;
    let end = Instant::now() + duration;
    let attacker = std::thread::spawn(move || {
        let mut counts = BTreeMap::new();
        while Instant::now() < end {
            let started = Instant::now();
            *counts.entry(login_once(addr, "owner", "a-wrong-guess", "203.0.113.9")).or_insert(0) += 1;
            std::thread::sleep(Duration::from_millis(500).saturating_sub(started.elapsed()));
        }
        counts
    });
    let mut owner = BTreeMap::new();
    let (mut refused_since, mut longest_refused) = (None::<Instant>, Duration::ZERO);
    while Instant::now() < end {
        let started = Instant::now();
        let status = login_once(addr, "owner", "the-owners-password", "198.51.100.20");
        *owner.entry(status).or_insert(0) += 1;
        if status == 303 {
            refused_since = None;
        } else {
            let since = *refused_since.get_or_insert(started);
            longest_refused = longest_refused.max(since.elapsed());
        }
        std::thread::sleep(Duration::from_secs(5).saturating_sub(started.elapsed()));
    }
    let attacks = attacker.join().unwrap_or_default();
    Ok(Outcome {
        name: "abuse-lockout".into(),
        params: json!({ "duration_s": duration.as_secs_f64(), "guesses_per_s": 2, "owner_every_s": 5 }),
        params_text: format!("2 guesses/s from 1 address, owner every 5 s elsewhere, {} s", duration.as_secs()),
        results: json!({
            "attacker_statuses": counts_json(&attacks), "owner_statuses": counts_json(&owner),
            "owner_longest_refused_s": longest_refused.as_secs_f64(),
        }),
        summary: format!(
            "attacker: {}; owner: {}; owner refused for up to {:.0} s in a row",
            counts_text(&attacks),
            counts_text(&owner),
            longest_refused.as_secs_f64()
        ),
        cpu: None,
    })
}
