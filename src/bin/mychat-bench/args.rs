//! The command line, parsed once into validated [`Options`].

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Floor,
    Idle,
    Room,
    RoomMax,
    Private,
    Storm,
    Http,
    Startup,
    AbuseSilent,
    AbuseLogins,
    AbuseLockout,
}

impl Scenario {
    /// `all`, in the order it runs.
    pub const ALL: [Scenario; 8] = [
        Scenario::Floor,
        Scenario::Idle,
        Scenario::Room,
        Scenario::RoomMax,
        Scenario::Private,
        Scenario::Storm,
        Scenario::Http,
        Scenario::Startup,
    ];

    /// `abuse`: the attacks of issue 11, each against a server of its own (not in `all`).
    pub const ABUSE: [Scenario; 3] = [Scenario::AbuseSilent, Scenario::AbuseLogins, Scenario::AbuseLockout];

    pub fn name(self) -> &'static str {
        match self {
            Scenario::Floor => "floor",
            Scenario::Idle => "idle",
            Scenario::Room => "room",
            Scenario::RoomMax => "room-max",
            Scenario::Private => "private",
            Scenario::Storm => "storm",
            Scenario::Http => "http",
            Scenario::Startup => "startup",
            Scenario::AbuseSilent => "abuse-silent",
            Scenario::AbuseLogins => "abuse-logins",
            Scenario::AbuseLockout => "abuse-lockout",
        }
    }
}

/// How a refused handshake is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// As the web UI does: 250–500 ms, doubling per attempt up to 5–10 s.
    Ui,
    /// After a fixed delay.
    Fixed(Duration),
}

/// The socket kinds of the `idle` mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Global,
    Status,
    Room,
    Private,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub scenarios: Vec<Scenario>,
    pub url: Option<SocketAddr>,
    pub server_pid: Option<u32>,
    pub server_bin: Option<PathBuf>,
    pub server_args: Vec<String>,
    pub server_log: String,
    pub restart: bool,
    pub keep_data: bool,
    pub threads: usize,
    pub register_concurrency: usize,
    pub text_bytes: usize,
    pub drain: Duration,
    pub idle_sockets: usize,
    pub idle_per_user: usize,
    pub idle_kinds: Vec<Kind>,
    pub idle_settle: Duration,
    pub room_members: usize,
    pub room_senders: usize,
    pub room_rate: f64,
    pub room_window: usize,
    pub room_duration: Duration,
    pub room_max_duration: Duration,
    pub private_pairs: usize,
    pub private_rate: f64,
    pub private_duration: Duration,
    pub storm_users: usize,
    pub storm_retry: Retry,
    pub http_conns: usize,
    pub http_duration: Duration,
    pub startup_runs: usize,
    pub abuse_duration: Duration,
    pub abuse_idle: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            scenarios: Scenario::ALL.to_vec(),
            url: None,
            server_pid: None,
            server_bin: None,
            server_args: Vec::new(),
            server_log: "warn".into(),
            restart: true,
            keep_data: false,
            threads: 2,
            register_concurrency: 4,
            text_bytes: 64,
            drain: Duration::from_secs(3),
            idle_sockets: 1000,
            idle_per_user: 4,
            // Two browser tabs per user, as the web UI opens them: a global socket and the
            // open conversation's (a room in one tab, a private chat in the other).
            idle_kinds: vec![Kind::Global, Kind::Room, Kind::Global, Kind::Private],
            idle_settle: Duration::from_secs(1),
            room_members: 100,
            room_senders: 5,
            room_rate: 50.0,
            room_window: 8,
            room_duration: Duration::from_secs(10),
            room_max_duration: Duration::from_secs(5),
            private_pairs: 50,
            private_rate: 200.0,
            private_duration: Duration::from_secs(10),
            storm_users: 300,
            storm_retry: Retry::Ui,
            http_conns: 8,
            http_duration: Duration::from_secs(5),
            startup_runs: 5,
            abuse_duration: Duration::from_secs(20),
            abuse_idle: Duration::from_secs(15),
        }
    }
}

pub const USAGE: &str = "\
mychat-bench — load generator for MyChat: real sockets, figures printed, nothing asserted

Usage: mychat-bench [OPTIONS] [SCENARIO...]

Scenarios (default: all, in this order):
  floor      no server: this machine's CPU for a bare loopback send, the room's shape
  idle       N authenticated idle WebSockets; server RSS before/after, per socket
  room       a room of M members, S senders at an offered rate: deliveries/s, latency, loss
  room-max   the same room, each sender keeping W messages in flight: max deliveries/s
  private    P pairs chatting on /ws/{a}/{b} and /ws/{b}/{a} at an offered rate
  storm      N users each opening global, status and room sockets at once
  http       keep-alive GET /static/favicon.svg and /api/rooms on C connections
  startup    spawn the server, poll /healthz every 1 ms: time to first 200, RSS

Abuse scenarios (`abuse` runs the three; not part of `all`), each against a server of its
own with rate limits on and --trusted-proxies 127.0.0.1 (X-Forwarded-For plays addresses):
  abuse-silent   256 silent connections from 127.0.0.2, then from each of 127.0.0.2-6, kept
                 open; a bystander's GET /healthz every 200 ms: statuses, latency, RSS
  abuse-logins   pipelined POST /login with random names from one address: statuses,
                 RSS before, after, after --abuse-idle; then the owner logs in from elsewhere
  abuse-lockout  2 wrong guesses/s at an account from one address; its owner logs in from
                 another every 5 s: what the owner got

Target (default: start a fresh server: the `mychat` binary next to this one, a temp data
dir, --rate-limits off --log warn --addr 127.0.0.1:0, restarted before each scenario):
  --url http://HOST:PORT     use a running server instead (start it with --rate-limits off)
  --server-pid PID           its pid, for RSS and CPU figures
  --server-bin PATH          the server binary to start
  --server-arg ARG           pass ARG to a started server (repeatable, e.g. --server-arg=--workers=32)
  --server-log LEVEL         --log of a started server [warn]
  --restart each|never       restart a started server before each scenario [each]
  --keep-data                keep the started server's data dir

Load generator:
  --threads N                event-loop threads [2]
  --register-concurrency N   concurrent registrations during setup [4]
  --text-bytes N             chat message length [64]
  --drain SECS               wait for outstanding deliveries after sending stops [3]

Scenario parameters:
  --idle-sockets N [1000]    --idle-per-user K [4]    --idle-settle SECS [1]
  --idle-kinds LIST          socket kinds cycled per user; the default is two UI tabs
                             [global,room,global,private] (also: status)
  --room-members M [100]     --room-senders S [5]     --room-rate MSG/S [50] (0 = as room-max)
  --room-window W [8]        --room-duration SECS [10]  --room-max-duration SECS [5]
  --private-pairs P [50]     --private-rate MSG/S [200] (0 = --room-window in flight)
  --private-duration SECS [10]
  --storm-users N [300]      --storm-retry ui|MS      retry a refused handshake as the UI does, or after MS [ui]
  --http-conns C [8]         --http-duration SECS [5] (per path)
  --startup-runs N [5]
  --abuse-duration SECS [20] (each abuse phase)   --abuse-idle SECS [15]
  --duration SECS            sets every duration above at once

Output: progress on stderr; one JSON line per scenario on stdout (starting {\"bench\":),
then a table.
";

/// Every option that takes a value.
const VALUE_FLAGS: &[&str] = &[
    "url",
    "server-pid",
    "server-bin",
    "server-arg",
    "server-log",
    "restart",
    "threads",
    "register-concurrency",
    "text-bytes",
    "drain",
    "idle-sockets",
    "idle-per-user",
    "idle-kinds",
    "idle-settle",
    "room-members",
    "room-senders",
    "room-rate",
    "room-window",
    "room-duration",
    "room-max-duration",
    "private-pairs",
    "private-rate",
    "private-duration",
    "storm-users",
    "storm-retry",
    "http-conns",
    "http-duration",
    "startup-runs",
    "abuse-duration",
    "abuse-idle",
    "duration",
];

pub enum Parsed {
    Run(Box<Options>),
    Help,
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value.parse().map_err(|_| format!("--{flag}: {value:?} is not a valid number"))
}

fn seconds(flag: &str, value: &str) -> Result<Duration, String> {
    let secs: f64 = number(flag, value)?;
    if !(secs > 0.0 && secs < 86_400.0) {
        return Err(format!("--{flag}: expected seconds, more than 0"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn positive(flag: &str, value: &str) -> Result<usize, String> {
    match number::<usize>(flag, value)? {
        0 => Err(format!("--{flag} must be at least 1")),
        n => Ok(n),
    }
}

fn url(value: &str) -> Result<SocketAddr, String> {
    let authority = value.strip_prefix("http://").unwrap_or(value).trim_end_matches('/');
    if value.starts_with("https://") || authority.contains('/') {
        return Err(format!("--url {value:?}: expected http://HOST:PORT (no TLS, no path)"));
    }
    authority
        .to_socket_addrs()
        .map_err(|e| format!("--url {value:?}: {e}"))?
        .next()
        .ok_or_else(|| format!("--url {value:?}: no address"))
}

fn kinds(value: &str) -> Result<Vec<Kind>, String> {
    let list: Result<Vec<Kind>, String> = value
        .split(',')
        .map(|k| match k.trim() {
            "global" => Ok(Kind::Global),
            "status" => Ok(Kind::Status),
            "room" => Ok(Kind::Room),
            "private" => Ok(Kind::Private),
            other => Err(format!("--idle-kinds: unknown kind {other:?} (global, status, room, private)")),
        })
        .collect();
    list.and_then(|l| if l.is_empty() { Err("--idle-kinds is empty".into()) } else { Ok(l) })
}

pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut o = Options::default();
    let mut scenarios = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(Parsed::Help);
        }
        let Some(flag) = arg.strip_prefix("--") else {
            if arg == "all" {
                scenarios.extend(Scenario::ALL);
            } else if arg == "abuse" {
                scenarios.extend(Scenario::ABUSE);
            } else {
                let s = Scenario::ALL.into_iter().chain(Scenario::ABUSE).find(|s| s.name() == arg);
                scenarios.push(s.ok_or_else(|| format!("unknown scenario {arg:?} (see --help)"))?);
            }
            continue;
        };
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) => (f.to_string(), Some(v.to_string())),
            None => (flag.to_string(), None),
        };
        if flag == "keep-data" {
            o.keep_data = true;
            continue;
        }
        if !VALUE_FLAGS.contains(&flag.as_str()) {
            return Err(format!("unknown option --{flag} (see --help)"));
        }
        let v = match inline {
            Some(v) => v,
            None => args.next().ok_or_else(|| format!("--{flag} needs a value"))?,
        };
        let f = flag.as_str();
        match f {
            "url" => o.url = Some(url(&v)?),
            "server-pid" => o.server_pid = Some(number(f, &v)?),
            "server-bin" => o.server_bin = Some(PathBuf::from(v)),
            "server-arg" => o.server_args.push(v),
            "server-log" => o.server_log = v,
            "restart" => {
                o.restart = match v.as_str() {
                    "each" => true,
                    "never" => false,
                    _ => return Err("--restart: expected each or never".into()),
                }
            }
            "threads" => o.threads = positive(f, &v)?,
            "register-concurrency" => o.register_concurrency = positive(f, &v)?,
            "text-bytes" => o.text_bytes = number(f, &v)?,
            "drain" => o.drain = seconds(f, &v)?,
            "idle-sockets" => o.idle_sockets = positive(f, &v)?,
            "idle-per-user" => o.idle_per_user = positive(f, &v)?,
            "idle-kinds" => o.idle_kinds = kinds(&v)?,
            "idle-settle" => o.idle_settle = seconds(f, &v)?,
            "room-members" => o.room_members = positive(f, &v)?,
            "room-senders" => o.room_senders = positive(f, &v)?,
            "room-rate" => o.room_rate = number(f, &v)?,
            "room-window" => o.room_window = positive(f, &v)?,
            "room-duration" => o.room_duration = seconds(f, &v)?,
            "room-max-duration" => o.room_max_duration = seconds(f, &v)?,
            "private-pairs" => o.private_pairs = positive(f, &v)?,
            "private-rate" => o.private_rate = number(f, &v)?,
            "private-duration" => o.private_duration = seconds(f, &v)?,
            "storm-users" => o.storm_users = positive(f, &v)?,
            "storm-retry" => {
                o.storm_retry = match v.as_str() {
                    "ui" => Retry::Ui,
                    ms => Retry::Fixed(Duration::from_millis(number(f, ms)?)),
                }
            }
            "http-conns" => o.http_conns = positive(f, &v)?,
            "http-duration" => o.http_duration = seconds(f, &v)?,
            "startup-runs" => o.startup_runs = positive(f, &v)?,
            "abuse-duration" => o.abuse_duration = seconds(f, &v)?,
            "abuse-idle" => o.abuse_idle = seconds(f, &v)?,
            "duration" => {
                let d = seconds(f, &v)?;
                o.room_duration = d;
                o.room_max_duration = d;
                o.private_duration = d;
                o.http_duration = d;
            }
            _ => return Err(format!("unknown option --{flag} (see --help)")),
        }
    }
    if !scenarios.is_empty() {
        scenarios.dedup();
        o.scenarios = scenarios;
    }
    if o.room_senders > o.room_members {
        return Err("--room-senders cannot exceed --room-members".into());
    }
    if o.room_rate < 0.0 || o.private_rate < 0.0 {
        return Err("rates must be 0 (saturation) or positive".into());
    }
    if o.text_bytes > 3900 {
        return Err("--text-bytes: the server accepts at most 4000 characters".into());
    }
    if o.url.is_none() && o.server_pid.is_some() {
        return Err("--server-pid goes with --url (a started server's pid is known)".into());
    }
    Ok(Parsed::Run(Box::new(o)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(list: &[&str]) -> Result<Options, String> {
        match parse(list.iter().map(|s| s.to_string()))? {
            Parsed::Run(o) => Ok(*o),
            Parsed::Help => Err("help".into()),
        }
    }

    #[test]
    fn defaults_and_flags() {
        let o = run(&[]).unwrap();
        assert_eq!(o.scenarios, Scenario::ALL);
        assert_eq!((o.idle_sockets, o.room_members, o.private_pairs, o.storm_users), (1000, 100, 50, 300));
        let o = run(&["room", "--room-rate=0", "--url", "http://127.0.0.1:8000/", "--duration", "2"]).unwrap();
        assert_eq!(o.scenarios, [Scenario::Room]);
        assert_eq!(o.room_rate, 0.0);
        assert_eq!(o.url, Some(SocketAddr::from(([127, 0, 0, 1], 8000))));
        assert_eq!(o.http_duration, Duration::from_secs(2));
        assert!(run(&["nope"]).is_err());
        assert!(run(&["--bogus"]).is_err_and(|e| e.contains("unknown option --bogus")));
        assert!(run(&["--room-senders", "200"]).is_err());
        assert!(run(&["--idle-kinds", "global,bogus"]).is_err());
        assert_eq!(run(&["--storm-retry", "20"]).unwrap().storm_retry, Retry::Fixed(Duration::from_millis(20)));
        assert_eq!(run(&["abuse"]).unwrap().scenarios, Scenario::ABUSE);
        assert_eq!(run(&["abuse-logins", "--abuse-idle", "2"]).unwrap().abuse_idle, Duration::from_secs(2));
    }
}
