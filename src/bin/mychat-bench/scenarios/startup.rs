//! `startup`: how long from spawning the server binary to its first `200` on `/healthz`
//! (polled every millisecond), and its RSS right then. Runs on fresh, empty data dirs, and
//! once more on the run's populated data dir when this bench started the server.

use super::{Ctx, Outcome};
use crate::client;
use crate::server::{Launch, ServerProcess, sibling_binary, temp_dir};
use crate::stats::{self, Histogram, fmt_ms};
use crate::sys::{self, ProcStatus};
use serde_json::json;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::{Duration, Instant};

const POLL: Duration = Duration::from_millis(1);
const GIVE_UP: Duration = Duration::from_secs(20);

/// A port the OS just gave us and took back: free unless someone races for it.
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("finding a free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

struct Start {
    ready: Duration,
    status: ProcStatus,
    attempts: u32,
    /// How the SIGTERM sent right after the first 200 ended the process, if not cleanly.
    unclean_stop: Option<String>,
}

/// Spawns the server on `data_dir` and polls until the first 200.
fn start_once(bin: &Path, data_dir: &Path, extra: &[String], log: &str) -> Result<Start, String> {
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let launch = Launch {
        bin: bin.to_path_buf(),
        data_dir: data_dir.to_path_buf(),
        addr: addr.to_string(),
        log: log.to_string(),
        extra: extra.to_vec(),
    };
    let spawned = Instant::now();
    let mut process = ServerProcess::spawn(&launch)?;
    let mut attempts = 0;
    let ready = loop {
        attempts += 1;
        if let Ok(200) = client::get_once(addr, "/healthz", Duration::from_secs(2)) {
            break spawned.elapsed();
        }
        if spawned.elapsed() > GIVE_UP {
            return Err(format!("no 200 on /healthz within {} s", GIVE_UP.as_secs()));
        }
        std::thread::sleep(POLL);
    };
    let status = sys::proc_status(process.pid).map_err(|e| format!("reading the server's status: {e}"))?;
    // A server that dies of this SIGTERM (rather than shutting down and exiting 0) is a
    // finding, not a reason to drop the measurement.
    let unclean_stop = process.stop(Duration::from_secs(10)).err();
    Ok(Start { ready, status, attempts, unclean_stop })
}

pub fn run(ctx: &mut Ctx<'_>) -> Result<Outcome, String> {
    let o = ctx.opts;
    let bin = match (&o.server_bin, ctx.target.launch()) {
        (Some(bin), _) => bin.clone(),
        (None, Some(launch)) => launch.bin.clone(),
        (None, None) => sibling_binary().ok_or("startup needs the server binary: pass --server-bin")?,
    };
    let mut fresh = Histogram::default();
    let mut last = None;
    let mut unclean = Vec::new();
    for run in 0..o.startup_runs {
        let dir = temp_dir("startup")?;
        let start = start_once(&bin, &dir, &o.server_args, &o.server_log);
        let _ = std::fs::remove_dir_all(&dir);
        let start = start?;
        eprintln!("  startup run {}: first 200 after {} ms", run + 1, fmt_ms(start.ready.as_nanos() as u64));
        fresh.record(start.ready.as_nanos() as u64);
        unclean.extend(start.unclean_stop.clone());
        last = Some(start);
    }
    let last = last.ok_or("no startup run")?;
    let mut results = json!({
        "fresh": fresh.json_ms(),
        "fresh_min_ms": stats::ms(fresh.min),
        "rss_kib": last.status.rss_kib,
        "threads": last.status.threads,
        "polls_until_200": last.attempts,
    });
    let mut summary = format!(
        "first 200 after {} ms (min {}, max {}; fresh data dir); RSS then {:.1} MiB, {} threads",
        fmt_ms(fresh.quantile(0.5)),
        fmt_ms(fresh.min),
        fmt_ms(fresh.max),
        last.status.rss_kib as f64 / 1024.0,
        last.status.threads
    );
    // The run's own data dir, with its users, rooms and messages: the server that used it
    // must be stopped first (one process per SQLite files).
    let populated = ctx.target.data_dir().map(Path::to_path_buf).filter(|_| !ctx.setup.users.is_empty());
    if let Some(dir) = populated {
        ctx.target.stop()?;
        let start = start_once(&bin, &dir, &o.server_args, &o.server_log)?;
        unclean.extend(start.unclean_stop.clone());
        let users = ctx.setup.users.len();
        results["populated"] = json!({
            "users": users,
            "ready_ms": stats::ms(start.ready.as_nanos() as u64),
            "rss_kib": start.status.rss_kib,
        });
        summary.push_str(&format!(
            "; with the run's data ({users} users): {} ms, RSS {:.1} MiB",
            fmt_ms(start.ready.as_nanos() as u64),
            start.status.rss_kib as f64 / 1024.0
        ));
    }
    if !unclean.is_empty() {
        summary.push_str(&format!(
            "; {} of the servers did not exit 0 on the SIGTERM sent right after their first 200: {}",
            unclean.len(),
            unclean[0]
        ));
    }
    results["unclean_stops"] = json!(unclean);
    Ok(Outcome {
        name: "startup".into(),
        params: json!({ "runs": o.startup_runs, "poll_ms": 1 }),
        params_text: format!("{} spawns, /healthz polled every 1 ms", o.startup_runs),
        results,
        summary,
        cpu: None,
    })
}
