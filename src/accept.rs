//! The acceptor thread: accepts TCP connections, enforces the connection caps (in total and
//! per client address), and queues each connection for the worker pool. It never waits for a
//! worker: when the queue is full, or a cap is reached, it answers 503 (or 429) itself and
//! closes.
//!
//! It owns the connection counts. A connection carries a [`ConnPermit`] whose drop (the
//! connection ended) sends a note back, which the acceptor applies before its next decision.
//! (A slow client's hold on a worker is bounded by the workers' own deadlines, see
//! `http::request::HEAD_TIMEOUT_BUSY`.)

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

/// A connection's place in the counts; given back when dropped.
pub struct ConnPermit {
    ip: IpAddr,
    closed: Sender<IpAddr>,
}

impl Drop for ConnPermit {
    fn drop(&mut self) {
        let _ = self.closed.send(self.ip);
    }
}

pub struct Acceptor {
    listener: TcpListener,
    work: Sender<Accepted>,
    config: Arc<Config>,
    stop: Arc<AtomicBool>,
    closed_tx: Sender<IpAddr>,
    closed: Receiver<IpAddr>,
    total: usize,
    per_address: HashMap<IpAddr, usize>,
}

/// Why a connection was turned away.
enum Refusal {
    /// The server as a whole: 503.
    Full,
    /// One address has too many: 429.
    Address,
}

impl Acceptor {
    pub fn new(listener: TcpListener, work: Sender<Accepted>, config: Arc<Config>, stop: Arc<AtomicBool>) -> Acceptor {
        let (closed_tx, closed) = crossbeam_channel::unbounded();
        Acceptor { listener, work, config, stop, closed_tx, closed, total: 0, per_address: HashMap::new() }
    }

    fn apply_closes(&mut self) {
        while let Ok(ip) = self.closed.try_recv() {
            self.total = self.total.saturating_sub(1);
            if let Some(count) = self.per_address.get_mut(&ip) {
                *count -= 1;
                if *count == 0 {
                    self.per_address.remove(&ip);
                }
            }
        }
    }

    fn admit(&self, ip: IpAddr) -> Result<(), Refusal> {
        if self.total >= self.config.max_connections {
            return Err(Refusal::Full);
        }
        // Behind a proxy every connection has the proxy's address; the per-address cap then
        // belongs to the proxy (our per-client rate limits still apply).
        let capped = self.config.rate_limits && !self.config.trusted_proxies.contains(&ip);
        if capped && self.per_address.get(&ip).copied().unwrap_or(0) >= self.config.max_connections_per_ip {
            return Err(Refusal::Address);
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
            self.apply_closes();
            if let Err(refusal) = self.admit(peer.ip()) {
                refuse(stream, &refusal);
                log::info!("{} refused: {}", peer.ip(), describe(&refusal));
                continue;
            }
            let _ = stream.set_nodelay(true);
            self.total += 1;
            *self.per_address.entry(peer.ip()).or_default() += 1;
            let permit = ConnPermit { ip: peer.ip(), closed: self.closed_tx.clone() };
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
    }
}

/// Answers without blocking and closes: the acceptor never waits on a client.
fn refuse(stream: TcpStream, refusal: &Refusal) {
    let (status, reason, message) = match refusal {
        Refusal::Full => (503, "Service Unavailable", "server is full, try again"),
        Refusal::Address => (429, "Too Many Requests", "too many connections from your address"),
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
