//! The few system calls the standard library does not offer: epoll, a timerfd, a
//! non-blocking `connect`, the open-file limit and `getrusage`; and reading a process's
//! figures from `/proc`. Every `unsafe` block is here, each with its reason.

use std::fs;
use std::io;
use std::net::{SocketAddr, TcpStream};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Nanoseconds since the bench started, on the monotonic clock every thread shares. Send
/// timestamps written into messages and receive times are both read from it.
pub fn now_ns() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

fn check(rc: libc::c_int) -> io::Result<libc::c_int> {
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(rc) }
}

/// Readiness a connection waits for.
pub const READABLE: u32 = libc::EPOLLIN as u32 | libc::EPOLLRDHUP as u32;
pub const WRITABLE: u32 = libc::EPOLLOUT as u32;
pub const HANGUP: u32 = libc::EPOLLHUP as u32 | libc::EPOLLERR as u32;

/// An epoll instance (level-triggered).
pub struct Epoll {
    fd: OwnedFd,
    /// Where the kernel writes ready events; reused by every wait.
    events: Vec<libc::epoll_event>,
}

/// One readiness report: the token a descriptor was registered with, and its event bits.
#[derive(Clone, Copy)]
pub struct Ready {
    pub token: u64,
    pub events: u32,
}

impl Epoll {
    pub fn new() -> io::Result<Epoll> {
        // SAFETY: epoll_create1 takes no pointers; a non-negative result is a new descriptor
        // that nothing else owns, so OwnedFd may take it.
        let fd = check(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) })?;
        // SAFETY: see above — `fd` is fresh, open and exclusively ours.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(Epoll { fd, events: vec![libc::epoll_event { events: 0, u64: 0 }; 1024] })
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, token: u64, events: u32) -> io::Result<()> {
        let mut event = libc::epoll_event { events, u64: token };
        // SAFETY: both descriptors are open (the caller holds `fd`'s owner), and `event` is a
        // valid, live epoll_event the kernel only reads.
        check(unsafe { libc::epoll_ctl(self.fd.as_raw_fd(), op, fd, &mut event) })?;
        Ok(())
    }

    pub fn add(&self, fd: RawFd, token: u64, events: u32) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_ADD, fd, token, events)
    }

    pub fn modify(&self, fd: RawFd, token: u64, events: u32) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_MOD, fd, token, events)
    }

    pub fn delete(&self, fd: RawFd) -> io::Result<()> {
        self.ctl(libc::EPOLL_CTL_DEL, fd, 0, 0)
    }

    /// Waits up to `timeout` (`None`: forever); `out` is replaced by what is ready.
    pub fn wait(&mut self, out: &mut Vec<Ready>, timeout: Option<Duration>) -> io::Result<()> {
        out.clear();
        let capacity = self.events.len();
        let ms = match timeout {
            None => -1,
            Some(t) => t.as_millis().min(i32::MAX as u128) as libc::c_int,
        };
        let buffer = self.events.as_mut_ptr();
        // SAFETY: `buffer` points to `capacity` live epoll_events owned by `self`, which the
        // kernel may overwrite; nothing else borrows them during the call.
        let n = unsafe { libc::epoll_wait(self.fd.as_raw_fd(), buffer, capacity as libc::c_int, ms) };
        let n = match check(n) {
            Ok(n) => n as usize,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => return Err(e),
        };
        out.extend(self.events[..n].iter().map(|e| Ready { token: e.u64, events: e.events }));
        Ok(())
    }
}

/// A one-shot monotonic timer with nanosecond resolution, waited on through epoll (epoll's
/// own timeout has millisecond resolution, too coarse for a 5 ms send interval).
pub struct Timer {
    fd: OwnedFd,
}

impl Timer {
    pub fn new() -> io::Result<Timer> {
        let flags = libc::TFD_NONBLOCK | libc::TFD_CLOEXEC;
        // SAFETY: no pointers; a non-negative result is a new descriptor only we own.
        let fd = check(unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, flags) })?;
        // SAFETY: see above.
        Ok(Timer { fd: unsafe { OwnedFd::from_raw_fd(fd) } })
    }

    pub fn raw(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Fires once after `delay` (at least 1 ns: a zero value would disarm it).
    pub fn arm(&self, delay: Duration) -> io::Result<()> {
        let delay = delay.max(Duration::from_nanos(1));
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec {
                tv_sec: delay.as_secs() as libc::time_t,
                tv_nsec: delay.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: the descriptor is our open timerfd; `spec` is a valid itimerspec the kernel
        // reads; the old-value pointer may be null.
        check(unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, std::ptr::null_mut()) })?;
        Ok(())
    }

    /// Consumes an expiry so the descriptor stops being readable.
    pub fn clear(&self) {
        let mut expirations = [0u8; 8];
        // SAFETY: reads at most 8 bytes into a live 8-byte buffer; the descriptor is
        // non-blocking, so an unexpired timer just returns EAGAIN.
        let _ = unsafe { libc::read(self.fd.as_raw_fd(), expirations.as_mut_ptr().cast(), expirations.len()) };
    }
}

/// Starts a TCP connection without waiting for it: the socket is non-blocking and becomes
/// writable once connected (or failed; see `TcpStream::take_error`).
pub fn connect_nonblocking(addr: &SocketAddr) -> io::Result<TcpStream> {
    let domain = if addr.is_ipv4() { libc::AF_INET } else { libc::AF_INET6 };
    let kind = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: no pointers; a non-negative result is a new socket only we own.
    let fd = check(unsafe { libc::socket(domain, kind, 0) })?;
    // SAFETY: see above — ownership of the fresh descriptor moves into OwnedFd exactly once.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let rc = match addr {
        SocketAddr::V4(a) => {
            let raw = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: a.port().to_be(),
                sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(a.ip().octets()) },
                sin_zero: [0; 8],
            };
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            // SAFETY: `raw` is a fully initialised sockaddr_in that outlives the call, and
            // `len` is its exact size.
            unsafe { libc::connect(socket.as_raw_fd(), (&raw as *const libc::sockaddr_in).cast(), len) }
        }
        SocketAddr::V6(a) => {
            let raw = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: a.port().to_be(),
                sin6_flowinfo: a.flowinfo(),
                sin6_addr: libc::in6_addr { s6_addr: a.ip().octets() },
                sin6_scope_id: a.scope_id(),
            };
            let len = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
            // SAFETY: as above, for a fully initialised sockaddr_in6.
            unsafe { libc::connect(socket.as_raw_fd(), (&raw as *const libc::sockaddr_in6).cast(), len) }
        }
    };
    if rc != 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINPROGRESS) {
            return Err(e);
        }
    }
    let stream = TcpStream::from(socket);
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A blocking TCP connection to `to` from the local IPv4 address `from` (e.g. any of
/// 127.0.0.0/8, to play several clients' addresses on loopback).
pub fn connect_from(from: std::net::Ipv4Addr, to: std::net::SocketAddrV4) -> io::Result<TcpStream> {
    // SAFETY: no pointers; a non-negative result is a new socket only we own.
    let fd = check(unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: ownership of the fresh descriptor moves into OwnedFd exactly once.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let raw = |ip: std::net::Ipv4Addr, port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from_ne_bytes(ip.octets()) },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    let local = raw(from, 0);
    // SAFETY: `local` is a fully initialised sockaddr_in that outlives the call; `len` is its size.
    check(unsafe { libc::bind(socket.as_raw_fd(), (&local as *const libc::sockaddr_in).cast(), len) })?;
    let remote = raw(*to.ip(), to.port());
    // SAFETY: as above, for `remote`.
    check(unsafe { libc::connect(socket.as_raw_fd(), (&remote as *const libc::sockaddr_in).cast(), len) })?;
    Ok(TcpStream::from(socket))
}

/// Raises the soft open-file limit to the hard limit; returns the limit now in force.
// `rlim_t` is 32 bits wide on 32-bit targets (the Pi), so the casts are not no-ops there.
#[allow(clippy::unnecessary_cast)]
pub fn raise_file_limit() -> u64 {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit through a valid pointer to a live local.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 0;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: setrlimit reads one rlimit through a valid pointer to a live local.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return raised.rlim_cur as u64;
        }
    }
    limit.rlim_cur as u64
}

/// CPU time this process (all its threads) has used: user, system.
pub fn own_cpu() -> (Duration, Duration) {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::uninit();
    // SAFETY: getrusage fills the whole rusage it is given a valid pointer to; we read it
    // only when the call succeeded.
    let usage = unsafe {
        if libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) != 0 {
            return (Duration::ZERO, Duration::ZERO);
        }
        usage.assume_init()
    };
    let tv = |t: libc::timeval| Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64);
    (tv(usage.ru_utime), tv(usage.ru_stime))
}

/// A process's memory and thread figures from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcStatus {
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
    pub threads: u64,
}

pub fn proc_status(pid: u32) -> io::Result<ProcStatus> {
    let text = fs::read_to_string(format!("/proc/{pid}/status"))?;
    let mut status = ProcStatus::default();
    for line in text.lines() {
        let number = || line.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        if line.starts_with("VmRSS:") {
            status.rss_kib = number();
        } else if line.starts_with("VmHWM:") {
            status.peak_rss_kib = number();
        } else if line.starts_with("Threads:") {
            status.threads = number();
        }
    }
    Ok(status)
}

/// CPU time (user + system) a process has used, from `/proc/<pid>/stat`.
pub fn proc_cpu(pid: u32) -> io::Result<Duration> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The command name is in parentheses and may contain spaces; fields follow the last ')'.
    let rest = text.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ')': state is field 3 of stat(5), so utime (14) and stime (15) are at 11 and 12.
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    let total = ticks(11) + ticks(12);
    Ok(Duration::from_nanos(total * 1_000_000_000 / hz))
}

/// The kernel's count of connections dropped because a listen queue was full
/// (`TcpExt: ListenOverflows`, `ListenDrops`), for this network namespace.
pub fn listen_drops() -> Option<(u64, u64)> {
    let text = fs::read_to_string("/proc/net/netstat").ok()?;
    let mut lines = text.lines();
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        if !names.starts_with("TcpExt:") {
            continue;
        }
        let pairs: Vec<(&str, &str)> = names.split_whitespace().zip(values.split_whitespace()).collect();
        let get = |key: &str| pairs.iter().find(|(k, _)| *k == key).and_then(|(_, v)| v.parse::<u64>().ok());
        return Some((get("ListenOverflows")?, get("ListenDrops")?));
    }
    None
}

/// The TCP port a process listens on, found through its socket inodes and `/proc/net/tcp*`:
/// works whatever the process logs.
pub fn listening_port(pid: u32) -> Option<u16> {
    let mut inodes = Vec::new();
    for entry in fs::read_dir(format!("/proc/{pid}/fd")).ok()?.flatten() {
        if let Ok(target) = fs::read_link(entry.path()) {
            let target = target.to_string_lossy();
            if let Some(inode) = target.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                inodes.push(inode.to_string());
            }
        }
    }
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = fs::read_to_string(table) else { continue };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            if f.len() > 9 && f[3] == "0A" && inodes.iter().any(|i| i == f[9]) {
                let port = f[1].rsplit_once(':').and_then(|(_, p)| u16::from_str_radix(p, 16).ok());
                if port.is_some() {
                    return port;
                }
            }
        }
    }
    None
}

/// Sends SIGTERM to a child we have not reaped yet.
pub fn terminate(child: &std::process::Child) -> io::Result<()> {
    let pid = libc::pid_t::try_from(child.id()).map_err(io::Error::other)?;
    // SAFETY: kill takes no pointers. The pid is our own un-reaped child (we hold its
    // `Child` and have not waited on it), so it cannot have been reused by another process.
    check(unsafe { libc::kill(pid, libc::SIGTERM) })?;
    Ok(())
}
