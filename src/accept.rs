//! The acceptor thread: accepts TCP connections, enforces the connection caps (in total, per
//! client address, HTTP connections per address), and queues each connection for the worker
//! pool. It never waits for a worker: when the queue is full, or a cap is reached, it answers
//! 503 (or 429) itself and closes.
//!
//! It owns the connection counts. A connection carries a [`ConnPermit`]; dropping the permit
//! (the connection ended) or upgrading it (it became a WebSocket and no longer occupies a
//! worker) sends a note back, which the acceptor applies before its next decision.

use crate::config::Config;
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::collections::HashMap;
use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// A connection for a worker.
pub struct Accepted {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub permit: ConnPermit,
}

enum Note {
    Closed { ip: IpAddr, http: bool },
    Upgraded { ip: IpAddr },
}

/// A connection's place in the counts; given back when dropped.
pub struct ConnPermit {
    ip: IpAddr,
    http: bool,
    notes: Sender<Note>,
}

impl ConnPermit {
    /// The connection became a WebSocket: it no longer counts as HTTP.
    pub fn upgraded(&mut self) {
        if self.http {
            self.http = false;
            let _ = self.notes.send(Note::Upgraded { ip: self.ip });
        }
    }
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let _ = self.notes.send(Note::Closed { ip: self.ip, http: self.http });
    }
}

#[derive(Default, Clone, Copy)]
struct PerAddress {
    all: usize,
    http: usize,
}

pub struct Acceptor {
    listener: TcpListener,
    work: Sender<Accepted>,
    config: Arc<Config>,
    stop: Arc<AtomicBool>,
    notes_tx: Sender<Note>,
    notes: Receiver<Note>,
    total: usize,
    per_address: HashMap<IpAddr, PerAddress>,
}

/// Why a connection was turned away.
enum Refusal {
    Full,
    Address,
    Busy,
}

impl Acceptor {
    pub fn new(listener: TcpListener, work: Sender<Accepted>, config: Arc<Config>, stop: Arc<AtomicBool>) -> Acceptor {
        let (notes_tx, notes) = crossbeam_channel::unbounded();
        Acceptor { listener, work, config, stop, notes_tx, notes, total: 0, per_address: HashMap::new() }
    }

    /// HTTP connections one address may have at once: enough for a browser's parallel
    /// requests, too few for one client to occupy the whole pool (a slowloris).
    fn http_per_address(&self) -> usize {
        (self.config.workers / 2).max(4)
    }

    fn apply_notes(&mut self) {
        while let Ok(note) = self.notes.try_recv() {
            let (ip, closed, http) = match note {
                Note::Closed { ip, http } => (ip, true, http),
                Note::Upgraded { ip } => (ip, false, true),
            };
            if closed {
                self.total = self.total.saturating_sub(1);
            }
            if let Some(counts) = self.per_address.get_mut(&ip) {
                if closed {
                    counts.all = counts.all.saturating_sub(1);
                }
                if http {
                    counts.http = counts.http.saturating_sub(1);
                }
                if counts.all == 0 {
                    self.per_address.remove(&ip);
                }
            }
        }
    }

    fn admit(&mut self, ip: IpAddr) -> Result<(), Refusal> {
        if self.total >= self.config.max_connections {
            return Err(Refusal::Full);
        }
        // Behind a proxy every connection has the proxy's address; per-address caps then
        // belong to the proxy (or to our per-client rate limits).
        let capped = self.config.rate_limits && !self.config.trusted_proxies.contains(&ip);
        let counts = self.per_address.get(&ip).copied().unwrap_or_default();
        if capped && counts.all >= self.config.max_connections_per_ip {
            return Err(Refusal::Address);
        }
        if capped && counts.http >= self.http_per_address() {
            return Err(Refusal::Busy);
        }
        Ok(())
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
            self.apply_notes();
            if let Err(refusal) = self.admit(peer.ip()) {
                refuse(stream, &refusal);
                log::info!("{} refused: {}", peer.ip(), describe(&refusal));
                continue;
            }
            let _ = stream.set_nodelay(true);
            self.total += 1;
            let counts = self.per_address.entry(peer.ip()).or_default();
            counts.all += 1;
            counts.http += 1;
            let permit = ConnPermit { ip: peer.ip(), http: true, notes: self.notes_tx.clone() };
            match self.work.try_send(Accepted { stream, peer, permit }) {
                Ok(()) => {}
                Err(TrySendError::Full(accepted) | TrySendError::Disconnected(accepted)) => {
                    refuse(accepted.stream, &Refusal::Full);
                    log::info!("{} refused: every worker is busy", peer.ip());
                }
            }
        }
        log::debug!("acceptor stopped");
    }
}

fn describe(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::Full => "server full",
        Refusal::Address => "too many connections from this address",
        Refusal::Busy => "too many HTTP requests at once from this address",
    }
}

/// Answers without blocking and closes: the acceptor never waits on a client.
fn refuse(stream: TcpStream, refusal: &Refusal) {
    let (status, reason, message) = match refusal {
        Refusal::Full => (503, "Service Unavailable", "server is full, try again"),
        Refusal::Address | Refusal::Busy => (429, "Too Many Requests", "too many connections from your address"),
    };
    let body = format!("{{\"error\":\"{message}\"}}");
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nretry-after: 5\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.set_nonblocking(true);
    let _ = (&stream).write_all(response.as_bytes());
    let _ = stream.shutdown(std::net::Shutdown::Write);
}
