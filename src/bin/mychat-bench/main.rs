//! `mychat-bench`: the load generator of MyChat. It speaks the server's real protocol over
//! real sockets — registration through `POST /register`, WebSockets with masked frames,
//! keep-alive HTTP — and prints figures: one JSON line per scenario and a table. It asserts
//! nothing; comparing figures with budgets is for whoever reads them.
//!
//! It must not be the bottleneck: every measured connection is driven by a few event-loop
//! threads ([`reactor`], epoll over non-blocking sockets), and each scenario reports the
//! CPU the bench itself used beside the server's.
//!
//! By default it starts a fresh release server of its own (the `mychat` binary next to it,
//! a temp data dir, `--rate-limits off --log warn --addr 127.0.0.1:0`), restarts it before
//! each scenario so one scenario's leftovers never weigh on the next, and stops it with
//! SIGTERM. `--url` targets a server that is already running instead.

mod args;
mod client;
mod reactor;
mod report;
mod scenarios;
mod server;
mod setup;
mod stats;
mod sys;
mod wire;

use args::{Options, Parsed, Scenario};
use scenarios::{Ctx, Outcome};
use serde_json::json;
use server::{Launch, Target};
use setup::Setup;
use std::process::ExitCode;

fn main() -> ExitCode {
    let opts = match args::parse(std::env::args().skip(1)) {
        Ok(Parsed::Run(opts)) => *opts,
        Ok(Parsed::Help) => {
            print!("{}", args::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("mychat-bench: {e}");
            return ExitCode::from(2);
        }
    };
    sys::now_ns();
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mychat-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Users the scenario needs registered.
fn users_needed(opts: &Options, scenario: Scenario) -> usize {
    match scenario {
        Scenario::Idle => opts.idle_sockets.div_ceil(opts.idle_per_user).max(2),
        Scenario::Room | Scenario::RoomMax => opts.room_members,
        Scenario::Private => 2 * opts.private_pairs,
        Scenario::Storm => opts.storm_users,
        Scenario::Http => opts.http_conns,
        Scenario::Floor
        | Scenario::Startup
        | Scenario::AbuseSilent
        | Scenario::AbuseLogins
        | Scenario::AbuseLockout => 0,
    }
}

fn start_target(opts: &Options) -> Result<Target, String> {
    if let Some(addr) = opts.url {
        eprintln!(
            "target: {addr} (already running{})",
            opts.server_pid.map_or(String::new(), |p| format!(", pid {p}"))
        );
        return Ok(Target::external(addr, opts.server_pid));
    }
    let bin = match &opts.server_bin {
        Some(bin) => bin.clone(),
        None => server::sibling_binary().ok_or(
            "no `mychat` binary next to this one: build with `cargo build --release --bins` or pass --server-bin",
        )?,
    };
    let launch = Launch {
        bin,
        data_dir: server::temp_dir("data")?,
        addr: "127.0.0.1:0".into(),
        log: opts.server_log.clone(),
        extra: opts.server_args.clone(),
    };
    eprintln!("starting {} (data in {})", launch.bin.display(), launch.data_dir.display());
    let target = Target::start(launch)?;
    eprintln!("target: {} (pid {})", target.addr, target.pid.unwrap_or(0));
    Ok(target)
}

fn run(opts: &Options) -> Result<(), String> {
    let files = sys::raise_file_limit();
    let most_sockets = opts.idle_sockets.max(3 * opts.storm_users);
    if files < most_sockets as u64 + 64 {
        eprintln!("warning: the open-file limit is {files}; {most_sockets} sockets need more (ulimit -Hn)");
    }
    let mut target = start_target(opts)?;
    let context = json!({
        "target": if target.managed() { "started" } else { "url" },
        "bench_threads": opts.threads,
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "server_restarted_per_scenario": target.managed() && opts.restart,
    });
    let mut setup = Setup::new(opts.register_concurrency);
    let mut rows = Vec::new();
    let needed = opts.scenarios.iter().map(|&s| users_needed(opts, s)).max().unwrap_or(0);
    let mut ready = true;
    if needed > 0 {
        let made = setup.ensure_users(target.addr, needed).map(|()| Outcome {
            name: "setup".into(),
            params: json!({ "concurrency": setup.concurrency }),
            params_text: format!("POST /register × {needed}, {} at a time", setup.concurrency),
            results: setup.json(),
            summary: format!(
                "{} users in {:.1} s ({:.1}/s); per registration {}",
                setup.registration.count,
                setup.registration_wall.as_secs_f64(),
                setup.registration.count as f64 / setup.registration_wall.as_secs_f64().max(1e-9),
                setup.registration.text_ms()
            ),
            cpu: None,
        });
        ready = made.is_ok();
        rows.push(report::emit(made, "setup", &context));
    }
    for &scenario in opts.scenarios.iter().filter(|_| ready) {
        eprintln!("== {}", scenario.name());
        let mut ctx = Ctx { opts, target: &mut target, setup: &mut setup };
        let outcomes = match scenario {
            Scenario::Idle => vec![scenarios::idle::run(&mut ctx)],
            Scenario::Room => vec![scenarios::chat::room(&mut ctx, false)],
            Scenario::RoomMax => vec![scenarios::chat::room(&mut ctx, true)],
            Scenario::Private => vec![scenarios::chat::private(&mut ctx)],
            Scenario::Storm => vec![scenarios::storm::run(&mut ctx)],
            Scenario::Http => scenarios::http::run(&mut ctx),
            Scenario::Startup => vec![scenarios::startup::run(&mut ctx)],
            Scenario::Floor => vec![scenarios::floor::run(&mut ctx)],
            Scenario::AbuseSilent => vec![scenarios::abuse::silent(&mut ctx)],
            Scenario::AbuseLogins => vec![scenarios::abuse::logins(&mut ctx)],
            Scenario::AbuseLockout => vec![scenarios::abuse::lockout(&mut ctx)],
        };
        for outcome in outcomes {
            if let Err(e) = &outcome {
                eprintln!("{}: {e}", scenario.name());
            }
            rows.push(report::emit(outcome, scenario.name(), &context));
        }
    }
    let stopped = target.stop();
    if let Some(dir) = target.data_dir() {
        if opts.keep_data {
            eprintln!("data dir kept: {}", dir.display());
        } else {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
    println!();
    print!("{}", report::table(&rows));
    stopped
}
