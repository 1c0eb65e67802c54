//! The acceptor thread: accepts TCP connections, enforces the connection caps (in total and
//! per client network), and queues each connection for the worker pool. It never waits for a
//! worker: when a cap is reached it answers 503 (or 429) itself and closes.
//!
//! It owns the connection counts. A connection carries a [`ConnPermit`] whose drop (the
//! connection ended) sends a note back, which the acceptor applies before its next decision.
//! Per-address counts are per client *network* ([`address_key`]: an IPv4 address, an IPv6
//! /64), since one host is usually given a whole /64.
//!
//! # Silent connections
//!
//! A connection that sends nothing costs a queue slot, and a worker's time once one takes
//! it. Three things keep such connections from shutting others out:
//!
//! * Every connection carries the instant it was accepted, and its first request's head is
//!   due counting from then (`http::request`), not from when a worker got to it: a
//!   connection that waited out its deadline in the queue is dropped by the first worker
//!   that takes it, in microseconds, unless its request has arrived meanwhile.
//! * The per-network cap bounds what one network can open.
//! * When the queue is full, the acceptor makes room instead of refusing the newcomer: it
//!   takes the oldest queued connection and peeks at it (`MSG_PEEK | MSG_DONTWAIT`). One
//!   that has sent nothing (or has gone) is *shed*: answered 503 and closed. One with a
//!   request waiting moves to a short front lane that workers take from first, so it is
//!   served next rather than sent to the back. Either way the newcomer gets the freed slot.
//!   Only when the front lane is full too (the queue holds real requests: a reconnect storm)
//!   is the newcomer refused, as before.
//!
//! So a queue full of silent connections from many networks costs a bystander a place in
//! the queue, never a 503, and every connection ahead of it is done within its own deadline.

use crate::config::Config;
use crate::limits::address_key;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The front lane's share of the queue's capacity (connections with a request waiting that
/// were taken off a full queue's head, which workers serve first): a sixteenth, 1 to 64.
fn front_lane(capacity: usize) -> usize {
    (capacity / 16).clamp(1, 64)
}
/// Tries to make room in a full queue for one newcomer, at most (each try frees a slot
/// unless a worker raced us to it).
const ROOM_TRIES: usize = 4;

/// The workers' end of the queue: the front lane first, then the queue in order.
#[derive(Clone)]
pub struct WorkQueue {
    queued: Receiver<Accepted>,
    front: Receiver<Accepted>,
}

impl WorkQueue {
    /// The next connection to serve; `None` once the acceptor has stopped and both are empty.
    pub fn recv(&self) -> Option<Accepted> {
        if let Ok(accepted) = self.front.try_recv() {
            return Some(accepted);
        }
        crossbeam_channel::select! {
            recv(self.front) -> a => a.ok().or_else(|| self.queued.recv().ok()),
            recv(self.queued) -> a => a.ok().or_else(|| self.front.recv().ok()),
        }
    }

    /// Whether no connection waits for a worker.
    pub fn is_empty(&self) -> bool {
        self.queued.is_empty() && self.front.is_empty()
    }
}

/// The acceptor's end of the queue.
pub struct QueueSender {
    work: Sender<Accepted>,
    front: Sender<Accepted>,
    /// The queue's own receiving end, to take its oldest connection when it is full.
    queued: Receiver<Accepted>,
}

/// A queue of `capacity` connections between acceptor and workers, its front lane included.
pub fn work_queue(capacity: usize) -> (QueueSender, WorkQueue) {
    let front_capacity = front_lane(capacity);
    let (work, queued) = crossbeam_channel::bounded(capacity.saturating_sub(front_capacity).max(1));
    let (front_tx, front) = crossbeam_channel::bounded(front_capacity);
    (QueueSender { work, front: front_tx, queued: queued.clone() }, WorkQueue { queued, front })
}

/// A connection for a worker.
pub struct Accepted {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub permit: ConnPermit,
    /// When the connection was accepted: its first request's deadline counts from here.
    pub accepted_at: Instant,
}

/// A connection's place in the counts; given back when dropped.
pub struct ConnPermit {
    network: IpAddr,
    closed: Sender<IpAddr>,
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let _ = self.closed.send(self.network);
    }
}

/// Open connections, in total and per client network.
#[derive(Default)]
struct Counts {
    total: usize,
    per_network: HashMap<IpAddr, usize>,
}

impl Counts {
    fn admit(&self, network: IpAddr, capped: bool, config: &Config) -> Result<(), Refusal> {
        if self.total >= config.max_connections {
            return Err(Refusal::Full);
        }
        if capped && self.per_network.get(&network).copied().unwrap_or(0) >= config.max_connections_per_ip {
            return Err(Refusal::Address);
        }
        Ok(())
    }

    fn opened(&mut self, network: IpAddr) {
        self.total += 1;
        *self.per_network.entry(network).or_default() += 1;
    }

    fn closed(&mut self, network: IpAddr) {
        self.total = self.total.saturating_sub(1);
        if let Some(count) = self.per_network.get_mut(&network) {
            *count -= 1;
            if *count == 0 {
                self.per_network.remove(&network);
            }
        }
    }
}

pub struct Acceptor {
    listener: TcpListener,
    queue: QueueSender,
    config: Arc<Config>,
    stop: Arc<AtomicBool>,
    closed_tx: Sender<IpAddr>,
    closed: Receiver<IpAddr>,
    counts: Counts,
}

/// Why a connection was turned away.
enum Refusal {
    /// The server as a whole: 503.
    Full,
    /// One address has too many: 429.
    Address,
}

impl Acceptor {
    pub fn new(listener: TcpListener, queue: QueueSender, config: Arc<Config>, stop: Arc<AtomicBool>) -> Acceptor {
        let (closed_tx, closed) = crossbeam_channel::unbounded();
        Acceptor { listener, queue, config, stop, closed_tx, closed, counts: Counts::default() }
    }

    fn apply_closes(&mut self) {
        while let Ok(network) = self.closed.try_recv() {
            self.counts.closed(network);
        }
    }

    pub fn run(mut self) {
        loop {
            let incoming = self.listener.accept();
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let (stream, peer) = match incoming {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, or a connection reset before accept: keep going.
                    log::warn!("accept failed: {e}");
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
            };
            let accepted_at = Instant::now();
            self.apply_closes();
            let network = address_key(peer.ip());
            // Behind a proxy every connection has the proxy's address; the per-address cap then
            // belongs to the proxy (our per-client rate limits still apply).
            let capped = self.config.rate_limits && !self.config.trusted_proxies.contains(&peer.ip());
            if let Err(refusal) = self.counts.admit(network, capped, &self.config) {
                refuse(stream, &refusal);
                log::info!("{} refused: {}", peer.ip(), describe(&refusal));
                continue;
            }
            let _ = stream.set_nodelay(true);
            self.counts.opened(network);
            let permit = ConnPermit { network, closed: self.closed_tx.clone() };
            self.enqueue(Accepted { stream, peer, permit, accepted_at });
        }
        log::debug!("acceptor stopped");
    }

    /// Queues a connection for the workers, making room in a full queue (see the module
    /// doc); refuses it only when the queue holds nothing but requests waiting.
    fn enqueue(&self, mut accepted: Accepted) {
        let queue = &self.queue;
        for _ in 0..ROOM_TRIES {
            match queue.work.try_send(accepted) {
                Ok(()) | Err(TrySendError::Disconnected(_)) => return,
                Err(TrySendError::Full(back)) => accepted = back,
            }
            // The oldest queued connection (if a worker took it first, the queue has room now).
            let Ok(oldest) = queue.queued.try_recv() else { continue };
            if !has_sent_something(&oldest.stream) {
                log::info!("{} shed: silent while others wait for a worker", oldest.peer.ip());
                refuse(oldest.stream, &Refusal::Full);
                continue;
            }
            // A request waits there: served next, from the front lane.
            if let Err(TrySendError::Full(oldest) | TrySendError::Disconnected(oldest)) = queue.front.try_send(oldest) {
                // Nothing but requests waiting: the oldest keeps its (now last) place, and the
                // newcomer is refused.
                if let Err(TrySendError::Full(oldest) | TrySendError::Disconnected(oldest)) =
                    queue.work.try_send(oldest)
                {
                    refuse(oldest.stream, &Refusal::Full);
                }
                break;
            }
        }
        refuse(accepted.stream, &Refusal::Full);
        log::info!("{} refused: every worker is busy", accepted.peer.ip());
    }
}

/// Whether a connection has bytes waiting to be read (its request), without reading them or
/// waiting. A connection whose peer has gone (end of file or an error) counts as silent.
fn has_sent_something(stream: &TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut byte = 0u8;
    // SAFETY: recv writes at most 1 byte into `byte`, a live local that outlives the call;
    // the descriptor belongs to `stream`, open for the call. MSG_PEEK leaves the byte queued
    // and MSG_DONTWAIT makes the call return at once.
    let n = unsafe { libc::recv(stream.as_raw_fd(), (&raw mut byte).cast(), 1, libc::MSG_PEEK | libc::MSG_DONTWAIT) };
    n > 0
}

fn describe(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::Full => "server full",
        Refusal::Address => "too many connections from this address",
    }
}

/// Answers without blocking and closes: the acceptor never waits on a client.
fn refuse(stream: TcpStream, refusal: &Refusal) {
    let (status, reason, message) = match refusal {
        Refusal::Full => (503, "Service Unavailable", "server is full, try again"),
        Refusal::Address => (429, "Too Many Requests", "too many connections from your address"),
    };
    crate::metrics::http_response(status);
    if matches!(refusal, Refusal::Address) {
        crate::metrics::RATE_LIMITED.inc();
    }
    let body = format!("{{\"error\":\"{message}\"}}");
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 5\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.set_nonblocking(true);
    let _ = (&stream).write_all(response.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_per_address_cap_counts_ipv6_per_64() {
        let config = Config { max_connections_per_ip: 2, ..Config::default() };
        let mut counts = Counts::default();
        let ip = |s: &str| address_key(s.parse().unwrap());
        counts.opened(ip("2001:db8:1:2::1"));
        counts.opened(ip("2001:db8:1:2::ffff"));
        assert!(counts.admit(ip("2001:db8:1:2:abcd::9"), true, &config).is_err(), "the same /64");
        assert!(counts.admit(ip("2001:db8:1:3::1"), true, &config).is_ok(), "another /64");
        assert!(counts.admit(ip("2001:db8:1:2::1"), false, &config).is_ok(), "uncapped (a trusted proxy)");
        counts.closed(ip("2001:db8:1:2::1"));
        assert!(counts.admit(ip("2001:db8:1:2::7"), true, &config).is_ok());
        counts.opened(ip("192.0.2.1"));
        counts.opened(ip("192.0.2.1"));
        assert!(counts.admit(ip("192.0.2.1"), true, &config).is_err());
        assert!(counts.admit(ip("192.0.2.2"), true, &config).is_ok(), "IPv4 per address");
    }

    #[test]
    fn a_full_queue_sheds_its_oldest_silent_connection_and_puts_a_waiting_request_first() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // Three places: two in the queue, one in the front lane.
        let (sender, queue) = work_queue(3);
        let acceptor = Acceptor::new(
            TcpListener::bind("127.0.0.1:0").unwrap(),
            sender,
            Arc::new(Config::default()),
            Arc::new(AtomicBool::new(false)),
        );
        let mut clients = Vec::new();
        let mut accept = |request: &[u8]| {
            let mut client = TcpStream::connect(addr).unwrap();
            client.write_all(request).unwrap();
            let (stream, peer) = listener.accept().unwrap();
            clients.push(client);
            let permit = ConnPermit { network: peer.ip(), closed: acceptor.closed_tx.clone() };
            Accepted { stream, peer, permit, accepted_at: Instant::now() }
        };
        let silent = accept(b"");
        let talking = accept(b"GET / HTTP/1.1\r\n\r\n");
        // Wait until the talking client's request has reached the server's side.
        let deadline = Instant::now() + Duration::from_secs(5);
        while !has_sent_something(&talking.stream) {
            assert!(Instant::now() < deadline, "the request never arrived");
            std::thread::sleep(Duration::from_millis(5));
        }
        let port = |a: &Accepted| a.peer.port();
        let (silent_port, talking_port) = (port(&silent), port(&talking));
        acceptor.enqueue(silent);
        acceptor.enqueue(talking);
        // Full: the oldest, silent, is shed for the newcomer.
        let first = accept(b"");
        let first_port = port(&first);
        acceptor.enqueue(first);
        // Full again: the oldest has a request waiting, so it moves to the front lane.
        let second = accept(b"");
        let second_port = port(&second);
        acceptor.enqueue(second);
        let mut order = Vec::new();
        while !queue.is_empty() {
            order.push(queue.recv().map(|a| port(&a)).unwrap());
        }
        assert_eq!(order, [talking_port, first_port, second_port]);
        assert!(!order.contains(&silent_port));
    }
}
