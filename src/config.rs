//! Command line and environment, parsed once into a validated [`Config`].
//!
//! Every flag `--some-flag` can also be set by the variable `MYCHAT_SOME_FLAG`; a flag on the
//! command line wins over the environment.

use log::LevelFilter;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

/// What the process was asked to do.
#[derive(Debug)]
pub enum Invocation {
    Serve(Config),
    /// `mychat backup DIR`: copy the three database files, consistently, into DIR.
    Backup(Config, PathBuf),
    /// `mychat admin ...`: manage accounts on the data directory, whether or not a server runs.
    Admin(Config, AdminCommand),
    Help,
    Version,
}

/// How hard a commit tries to survive power loss (SQLite's `synchronous`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Survives a crash of the process; power loss may undo the last commits (WAL, NORMAL).
    Normal,
    /// Every commit is on disk before it is acknowledged (WAL, FULL).
    Full,
}

/// Who may create an account (`--registration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Anyone who reaches the server (the original app's behaviour).
    Open,
    /// Only with an invitation link from an administrator.
    Invite,
    /// Nobody (the first account of an empty server excepted).
    Closed,
}

impl Registration {
    pub fn parse(value: &str) -> Option<Registration> {
        match value {
            "open" => Some(Registration::Open),
            "invite" => Some(Registration::Invite),
            "closed" => Some(Registration::Closed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Registration::Open => "open",
            Registration::Invite => "invite",
            Registration::Closed => "closed",
        }
    }
}

/// `mychat admin SUBCOMMAND`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminCommand {
    /// Every account with its role and state.
    List,
    /// Makes an account an administrator.
    Promote(String),
    /// Takes the administrator role away (not from the last one).
    Demote(String),
    /// Prints a one-time login link (and its QR code) for an account: the way back in when
    /// the only administrator is locked out.
    LoginLink(String),
}

/// The server's settings, validated.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: String,
    pub data_dir: PathBuf,
    pub workers: usize,
    /// Connections that may wait for a worker before new ones are answered 503; `None`: 64
    /// per worker, at least 1024.
    pub queue: Option<usize>,
    pub log_level: LevelFilter,
    pub rate_limits: bool,
    pub behind_tls: bool,
    pub trusted_proxies: Vec<IpAddr>,
    pub allowed_origins: Vec<String>,
    pub session_idle: Duration,
    pub session_lifetime: Duration,
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    pub max_sockets_per_user: usize,
    pub hash_concurrency: usize,
    /// A WebSocket peer silent this long is dropped; it is pinged after a quarter of it.
    pub socket_timeout: Duration,
    pub durability: Durability,
    pub assets_dir: Option<PathBuf>,
    /// How long after sending a message its author may edit or delete it; `None`: always.
    pub edit_window: Option<Duration>,
    /// The largest upload, in bytes.
    pub max_file_size: u64,
    /// What one user's uploads may take in all, in bytes.
    pub user_file_quota: u64,
    /// What all stored files (and thumbnails) may take, in bytes.
    pub total_file_quota: u64,
    /// Uploads are refused when they would leave less free disk space than this.
    pub min_free_space: u64,
    /// Files older than this are deleted (`None`: kept until their message, room or uploader is).
    pub file_retention: Option<Duration>,
    /// Uploads in progress at once, server-wide (then 503).
    pub max_uploads: usize,
    /// Threads making thumbnails.
    pub thumbnail_threads: usize,
    /// Push endpoints and forwards may be plain `http` and private or local addresses (a
    /// push service or ntfy on the LAN; the tests' fake push service).
    pub push_private_endpoints: bool,
    /// The VAPID `sub` contact (`mailto:` or `https:`); `None`: the app's own origin.
    pub push_contact: Option<String>,
    /// Who may register; `None`: as stored in the database (an admin sets it in the web app).
    pub registration: Option<Registration>,
    /// A header (lower case) naming the signed-in user, believed from `trusted_proxies` only.
    pub auth_header: Option<String>,
    /// How people reach the server (`https://chat.example.org`), for links the console prints.
    pub public_url: Option<String>,
    /// Where `/metrics` is served: nowhere (the default), on the main listener, or on a
    /// listener of its own.
    pub metrics: Metrics,
    /// A bearer token `/metrics` requires, if set.
    pub metrics_token: Option<String>,
}

/// Where the Prometheus metrics are served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metrics {
    Off,
    /// `/metrics` on the main address.
    On,
    /// `/metrics` on a separate address only (e.g. a loopback or LAN-only one).
    Separate(String),
}

impl Default for Config {
    fn default() -> Self {
        Config {
            addr: "0.0.0.0:8000".into(),
            data_dir: PathBuf::from("data"),
            workers: 16,
            queue: None,
            log_level: LevelFilter::Info,
            rate_limits: true,
            behind_tls: false,
            trusted_proxies: Vec::new(),
            allowed_origins: Vec::new(),
            session_idle: Duration::from_secs(14 * 86_400),
            session_lifetime: Duration::from_secs(30 * 86_400),
            max_connections: 4096,
            max_connections_per_ip: 256,
            max_sockets_per_user: 32,
            hash_concurrency: 2,
            socket_timeout: Duration::from_secs(75),
            durability: Durability::Normal,
            assets_dir: None,
            edit_window: None,
            metrics: Metrics::Off,
            metrics_token: None,
            max_file_size: 25 << 20,
            user_file_quota: 2 << 30,
            total_file_quota: 10 << 30,
            min_free_space: 1 << 30,
            file_retention: None,
            max_uploads: 4,
            thumbnail_threads: 1,
            push_private_endpoints: false,
            push_contact: None,
            registration: None,
            auth_header: None,
            public_url: None,
        }
    }
}

/// One settable option: its flag, what its value looks like, and what it does.
struct Opt {
    flag: &'static str,
    value: &'static str,
    help: &'static str,
}

const OPTIONS: &[Opt] = &[
    Opt { flag: "addr", value: "HOST:PORT", help: "address to listen on [0.0.0.0:8000]" },
    Opt { flag: "data-dir", value: "DIR", help: "where users.db, chathistory.db and rooms.db live [./data]" },
    Opt { flag: "workers", value: "N", help: "HTTP worker threads [16]" },
    Opt {
        flag: "queue",
        value: "N",
        help: "connections waiting for a worker before new ones get 503 [64 per worker, at least 1024]",
    },
    Opt { flag: "log", value: "LEVEL", help: "error, warn, info, debug or off [info]" },
    Opt {
        flag: "rate-limits",
        value: "on|off",
        help: "off disables every rate limit and per-address cap, for load tests [on]",
    },
    Opt {
        flag: "behind-tls",
        value: "on|off",
        help: "a proxy terminates TLS for every request: Secure cookies, HSTS [off]",
    },
    Opt { flag: "trusted-proxies", value: "IP,IP", help: "peers whose X-Forwarded-For/-Proto are believed [none]" },
    Opt {
        flag: "allowed-origins",
        value: "URL,URL",
        help: "extra origins allowed besides the request's own host [none]",
    },
    Opt { flag: "session-idle", value: "DURATION", help: "a session unused this long expires, e.g. 14d, 12h [14d]" },
    Opt { flag: "session-lifetime", value: "DURATION", help: "a session expires this long after login [30d]" },
    Opt { flag: "max-connections", value: "N", help: "open TCP connections, HTTP and WebSocket together [4096]" },
    Opt { flag: "max-connections-per-ip", value: "N", help: "open connections from one address [256]" },
    Opt { flag: "max-sockets-per-user", value: "N", help: "open WebSockets of one user [32]" },
    Opt { flag: "hash-concurrency", value: "N", help: "password hashes computed at once (each takes 19-64 MiB) [2]" },
    Opt {
        flag: "socket-timeout",
        value: "DURATION",
        help: "drop a WebSocket peer silent this long (pinged at a quarter of it) [75s]",
    },
    Opt { flag: "durability", value: "normal|full", help: "full: fsync every commit, survives power loss [normal]" },
    Opt { flag: "max-file-size", value: "SIZE", help: "the largest upload, e.g. 25M [25M]" },
    Opt { flag: "user-file-quota", value: "SIZE", help: "what one user's uploads may take in all [2G]" },
    Opt { flag: "total-file-quota", value: "SIZE", help: "what all uploaded files may take [10G]" },
    Opt {
        flag: "min-free-space",
        value: "SIZE",
        help: "refuse uploads that would leave less free disk space than this [1G]",
    },
    Opt {
        flag: "file-retention",
        value: "DURATION|off",
        help: "delete uploaded files older than this, e.g. 365d [off]",
    },
    Opt { flag: "max-uploads", value: "N", help: "uploads in progress at once, then 503 [4]" },
    Opt { flag: "thumbnail-threads", value: "N", help: "threads making thumbnails of photos [1]" },
    Opt {
        flag: "edit-window",
        value: "DURATION|off",
        help: "how long an author may edit or delete a message after sending it [off: always]",
    },
    Opt { flag: "metrics", value: "on|off", help: "serve Prometheus metrics at /metrics [off]" },
    Opt {
        flag: "metrics-addr",
        value: "HOST:PORT",
        help: "serve /metrics on this address only, apart from the chat (implies --metrics on)",
    },
    Opt { flag: "metrics-token", value: "TOKEN", help: "require `Authorization: Bearer TOKEN` for /metrics [none]" },
    Opt {
        flag: "registration",
        value: "open|invite|closed",
        help: "who may register; overrides the choice made on the admin page [as stored: invite on a new server]",
    },
    Opt {
        flag: "auth-header",
        value: "NAME",
        help: "a header (e.g. Remote-User) naming the user, believed from --trusted-proxies only [none]",
    },
    Opt {
        flag: "public-url",
        value: "URL",
        help: "how people reach the server, e.g. https://chat.example.org (links printed by `mychat admin`) [none]",
    },
    Opt {
        flag: "assets-dir",
        value: "DIR",
        help: "serve static/ and templates/ from DIR instead of the binary (development)",
    },
    Opt {
        flag: "push-private-endpoints",
        value: "on|off",
        help: "allow push endpoints and ntfy/Gotify URLs on http and private addresses (LAN, tests) [off]",
    },
    Opt {
        flag: "push-contact",
        value: "URL",
        help: "contact push services see (VAPID sub): mailto:you@example.org or https://... [the app's URL]",
    },
];

/// The `--help` text.
pub fn usage() -> String {
    let mut text = String::from(
        "mychat — a self-hosted real-time chat server\n\n\
         Usage:\n  mychat [serve] [OPTIONS]      serve the chat (the default)\n  \
         mychat backup DIR [OPTIONS]   copy the databases, consistently, into DIR (server may run)\n  \
         mychat admin list             accounts, roles and states (server may run)\n  \
         mychat admin promote NAME     make NAME an administrator (takes effect at once)\n  \
         mychat admin demote NAME      take the administrator role from NAME\n  \
         mychat admin login-link NAME  a one-time sign-in link for NAME (24 h)\n  \
         mychat --help | --version\n\nOptions (each also settable as MYCHAT_<FLAG>, e.g. MYCHAT_DATA_DIR):\n",
    );
    for opt in OPTIONS {
        let left = format!("--{} {}", opt.flag, opt.value);
        text.push_str(&format!("  {left:<36} {}\n", opt.help));
    }
    text
}

/// Parses the arguments (without the program name) and the environment.
pub fn parse<I, E>(args: I, env: E) -> Result<Invocation, String>
where
    I: IntoIterator<Item = String>,
    E: Fn(&str) -> Option<String>,
{
    let mut positional = Vec::new();
    let mut given: Vec<(&'static str, String)> = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--help" || arg == "-h" {
            return Ok(Invocation::Help);
        }
        if arg == "--version" || arg == "-V" {
            return Ok(Invocation::Version);
        }
        let Some(flag) = arg.strip_prefix("--") else {
            positional.push(arg);
            continue;
        };
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (flag.to_string(), None),
        };
        let opt =
            OPTIONS.iter().find(|o| o.flag == name).ok_or_else(|| format!("unknown option --{name} (see --help)"))?;
        let value = match inline {
            Some(v) => v,
            None => args.next().ok_or_else(|| format!("--{name} needs a value ({})", opt.value))?,
        };
        given.push((opt.flag, value));
    }
    for opt in OPTIONS {
        if !given.iter().any(|(f, _)| *f == opt.flag) {
            let var = format!("MYCHAT_{}", opt.flag.to_uppercase().replace('-', "_"));
            if let Some(v) = env(&var).filter(|v| !v.is_empty()) {
                given.push((opt.flag, v));
            }
        }
    }
    let mut config = Config::default();
    for (flag, value) in given {
        apply(&mut config, flag, &value).map_err(|e| format!("--{flag} {value:?}: {e}"))?;
    }
    let mut positional = positional.into_iter();
    match positional.next().as_deref() {
        None | Some("serve") => match positional.next() {
            None => Ok(Invocation::Serve(config)),
            Some(extra) => Err(format!("unexpected argument {extra:?} (see --help)")),
        },
        Some("backup") => match (positional.next(), positional.next()) {
            (Some(dir), None) => Ok(Invocation::Backup(config, PathBuf::from(dir))),
            _ => Err("usage: mychat backup DIR".into()),
        },
        Some("admin") => {
            let rest: Vec<String> = positional.collect();
            let command = match rest.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
                ["list"] => AdminCommand::List,
                ["promote", name] => AdminCommand::Promote(name.to_string()),
                ["demote", name] => AdminCommand::Demote(name.to_string()),
                ["login-link", name] => AdminCommand::LoginLink(name.to_string()),
                _ => return Err("usage: mychat admin list | promote NAME | demote NAME | login-link NAME".into()),
            };
            Ok(Invocation::Admin(config, command))
        }
        Some("help") => Ok(Invocation::Help),
        Some(other) => Err(format!("unknown command {other:?} (see --help)")),
    }
}

fn apply(config: &mut Config, flag: &str, value: &str) -> Result<(), String> {
    match flag {
        "addr" => config.addr = value.to_string(),
        "data-dir" => config.data_dir = PathBuf::from(value),
        "workers" => config.workers = count(value, 1, 1024)?,
        "queue" => config.queue = Some(count(value, 1, 1 << 20)?),
        "log" => {
            config.log_level = match value.to_ascii_lowercase().as_str() {
                "off" => LevelFilter::Off,
                "error" => LevelFilter::Error,
                "warn" => LevelFilter::Warn,
                "info" => LevelFilter::Info,
                "debug" => LevelFilter::Debug,
                "trace" => LevelFilter::Trace,
                _ => return Err("expected error, warn, info, debug or off".into()),
            }
        }
        "rate-limits" => config.rate_limits = switch(value)?,
        "behind-tls" => config.behind_tls = switch(value)?,
        "trusted-proxies" => {
            config.trusted_proxies = list(value)
                .map(|ip| ip.parse().map_err(|_| format!("{ip:?} is not an IP address")))
                .collect::<Result<_, _>>()?
        }
        "allowed-origins" => {
            config.allowed_origins = list(value).map(|o| o.trim_end_matches('/').to_string()).collect()
        }
        "session-idle" => config.session_idle = duration(value)?,
        "session-lifetime" => config.session_lifetime = duration(value)?,
        "max-connections" => config.max_connections = count(value, 1, 1 << 20)?,
        "max-connections-per-ip" => config.max_connections_per_ip = count(value, 1, 1 << 20)?,
        "max-sockets-per-user" => config.max_sockets_per_user = count(value, 1, 1 << 16)?,
        "hash-concurrency" => config.hash_concurrency = count(value, 1, 64)?,
        "socket-timeout" => config.socket_timeout = duration(value)?,
        "durability" => {
            config.durability = match value {
                "normal" => Durability::Normal,
                "full" => Durability::Full,
                _ => return Err("expected normal or full".into()),
            }
        }
        "assets-dir" => config.assets_dir = Some(PathBuf::from(value)),
        "metrics" => {
            // A separate address, given too, wins over `on`; `off` always wins.
            let on = switch(value)?;
            config.metrics = match (&config.metrics, on) {
                (_, false) => Metrics::Off,
                (Metrics::Separate(addr), true) => Metrics::Separate(addr.clone()),
                (_, true) => Metrics::On,
            }
        }
        "metrics-addr" => {
            if value.parse::<std::net::SocketAddr>().is_err() && !value.contains(':') {
                return Err("expected HOST:PORT".into());
            }
            config.metrics = Metrics::Separate(value.to_string())
        }
        "metrics-token" => {
            if value.len() < 8 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err("expected at least 8 characters, no spaces".into());
            }
            config.metrics_token = Some(value.to_string())
        }
        "edit-window" => config.edit_window = if value == "off" { None } else { Some(duration(value)?) },
        "max-file-size" => config.max_file_size = size(value)?,
        "user-file-quota" => config.user_file_quota = size(value)?,
        "total-file-quota" => config.total_file_quota = size(value)?,
        "min-free-space" => {
            config.min_free_space = if value == "0" { 0 } else { size(value)? };
        }
        "file-retention" => {
            config.file_retention = if value.eq_ignore_ascii_case("off") { None } else { Some(duration(value)?) };
        }
        "max-uploads" => config.max_uploads = count(value, 1, 1024)?,
        "thumbnail-threads" => config.thumbnail_threads = count(value, 1, 64)?,
        "push-private-endpoints" => config.push_private_endpoints = switch(value)?,
        "push-contact" => {
            let ok = (value.starts_with("mailto:") && value.len() > 8 && value.contains('@'))
                || value.starts_with("https://") && value.len() > 8;
            if !ok || value.len() > 256 || value.chars().any(|c| c.is_control() || c == ' ') {
                return Err("expected mailto:you@example.org or an https:// URL".into());
            }
            config.push_contact = Some(value.to_string())
        }
        "registration" => {
            config.registration =
                Some(Registration::parse(value).ok_or_else(|| "expected open, invite or closed".to_string())?)
        }
        "auth-header" => {
            let valid = !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !valid {
                return Err("expected a header name such as Remote-User".into());
            }
            config.auth_header = Some(value.to_ascii_lowercase());
        }
        "public-url" => {
            let url = value.trim_end_matches('/');
            if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(char::is_whitespace) {
                return Err("expected an address such as https://chat.example.org".into());
            }
            config.public_url = Some(url.to_string());
        }
        _ => return Err("unknown option".into()),
    }
    Ok(())
}

fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn count(value: &str, min: usize, max: usize) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("expected a whole number from {min} to {max}")),
    }
}

fn switch(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err("expected on or off".into()),
    }
}

/// Bytes: `512K`, `25M`, `2G`, `1T` (powers of 1024; `MiB`, `MB` and the like read the same), or
/// a plain number of bytes.
fn size(value: &str) -> Result<u64, String> {
    let value = value.trim();
    let split = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
    let (digits, unit) = value.split_at(split);
    let n: u64 = digits.parse().map_err(|_| "expected e.g. 512K, 25M or 2G".to_string())?;
    let unit = unit.trim().to_ascii_uppercase();
    let shift = match unit.trim_end_matches('B').trim_end_matches('I') {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err("unit must be K, M, G or T".into()),
    };
    let bytes = n.checked_mul(1 << shift).ok_or("too large")?;
    if bytes == 0 {
        return Err("must be more than zero".into());
    }
    Ok(bytes)
}

/// `90s`, `15m`, `12h`, `14d`, or plain seconds.
fn duration(value: &str) -> Result<Duration, String> {
    let (digits, unit) = match value.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => value.split_at(i),
        None => (value, "s"),
    };
    let n: u64 = digits.parse().map_err(|_| "expected e.g. 90s, 15m, 12h or 14d".to_string())?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err("unit must be s, m, h or d".into()),
    };
    if secs == 0 {
        return Err("must be longer than zero".into());
    }
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_win_over_environment() {
        let env = |k: &str| match k {
            "MYCHAT_ADDR" => Some("127.0.0.1:1".to_string()),
            "MYCHAT_DATA_DIR" => Some("/env".to_string()),
            _ => None,
        };
        let Ok(Invocation::Serve(c)) = parse(args(&["--data-dir=/flag"]), env) else { panic!("expected serve") };
        assert_eq!(c.addr, "127.0.0.1:1");
        assert_eq!(c.data_dir, PathBuf::from("/flag"));
    }

    #[test]
    fn rejects_bad_values_with_the_flag_named() {
        let err = parse(args(&["--workers", "0"]), |_| None).unwrap_err();
        assert!(err.contains("--workers"), "{err}");
        let err = parse(args(&["--nope"]), |_| None).unwrap_err();
        assert!(err.contains("unknown option --nope"), "{err}");
        assert!(parse(args(&["--session-idle", "3w"]), |_| None).is_err());
    }

    #[test]
    fn metrics_are_off_unless_asked_for() {
        let serve = |list: &[&str]| match parse(args(list), |_| None) {
            Ok(Invocation::Serve(c)) => c,
            other => panic!("{other:?}"),
        };
        assert_eq!(serve(&[]).metrics, Metrics::Off);
        assert_eq!(serve(&["--metrics", "on"]).metrics, Metrics::On);
        let separate = Metrics::Separate("127.0.0.1:9101".into());
        assert_eq!(serve(&["--metrics-addr", "127.0.0.1:9101"]).metrics, separate);
        assert_eq!(serve(&["--metrics-addr", "127.0.0.1:9101", "--metrics", "on"]).metrics, separate);
        assert_eq!(serve(&["--metrics-token", "long-enough"]).metrics_token.as_deref(), Some("long-enough"));
        assert!(parse(args(&["--metrics-token", "short"]), |_| None).is_err());
        assert!(parse(args(&["--metrics-addr", "nowhere"]), |_| None).is_err());
    }

    #[test]
    fn parses_commands_and_durations() {
        assert!(matches!(parse(args(&["backup", "/x"]), |_| None), Ok(Invocation::Backup(_, _))));
        assert!(matches!(parse(args(&["--version"]), |_| None), Ok(Invocation::Version)));
        let Ok(Invocation::Serve(c)) = parse(args(&["serve", "--session-idle", "12h"]), |_| None) else {
            panic!("expected serve")
        };
        assert_eq!(c.session_idle, Duration::from_secs(12 * 3600));
        let Ok(Invocation::Serve(c)) = parse(args(&["--rate-limits", "off"]), |_| None) else {
            panic!("expected serve")
        };
        assert!(!c.rate_limits);
        let Ok(Invocation::Serve(c)) =
            parse(args(&["--push-private-endpoints", "on", "--push-contact", "mailto:a@b.org"]), |_| None)
        else {
            panic!("expected serve")
        };
        assert!(c.push_private_endpoints);
        assert_eq!(c.push_contact.as_deref(), Some("mailto:a@b.org"));
        assert!(parse(args(&["--push-contact", "a@b.org"]), |_| None).is_err());
    }

    #[test]
    fn parses_file_sizes_and_retention() {
        assert_eq!(size("25M"), Ok(25 << 20));
        assert_eq!(size("2GiB"), Ok(2 << 30));
        assert_eq!(size("512kb"), Ok(512 << 10));
        assert_eq!(size("1000"), Ok(1000));
        assert!(size("0").is_err() && size("5X").is_err() && size("M").is_err());
        let Ok(Invocation::Serve(c)) = parse(args(&["--file-retention", "365d", "--min-free-space", "0"]), |_| None)
        else {
            panic!("expected serve")
        };
        assert_eq!(c.file_retention, Some(Duration::from_secs(365 * 86_400)));
        assert_eq!(c.min_free_space, 0);
        let Ok(Invocation::Serve(c)) = parse(args(&["--file-retention", "off"]), |_| None) else { panic!() };
        assert_eq!(c.file_retention, None);
    }

    #[test]
    fn parses_admin_commands_and_their_flags() {
        let Ok(Invocation::Admin(c, AdminCommand::Promote(name))) =
            parse(args(&["admin", "promote", "alice", "--data-dir", "/d"]), |_| None)
        else {
            panic!("expected admin promote")
        };
        assert_eq!((name.as_str(), c.data_dir), ("alice", PathBuf::from("/d")));
        assert!(matches!(parse(args(&["admin", "list"]), |_| None), Ok(Invocation::Admin(_, AdminCommand::List))));
        assert!(parse(args(&["admin", "promote"]), |_| None).unwrap_err().contains("usage: mychat admin"));
        let Ok(Invocation::Serve(c)) =
            parse(args(&["--registration", "closed", "--auth-header", "Remote-User"]), |_| None)
        else {
            panic!("expected serve")
        };
        assert_eq!(c.registration, Some(Registration::Closed));
        assert_eq!(c.auth_header.as_deref(), Some("remote-user"));
        assert!(parse(args(&["--registration", "maybe"]), |_| None).is_err());
        assert!(parse(args(&["--auth-header", "Bad Header"]), |_| None).is_err());
        assert!(parse(args(&["--public-url", "chat.example.org"]), |_| None).is_err());
    }
}
