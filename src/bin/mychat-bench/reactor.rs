//! The event loop: many non-blocking connections (WebSocket or keep-alive HTTP) on one
//! thread, multiplexed with epoll. It connects, performs the WebSocket handshake, answers
//! pings and close frames, reassembles messages and parses HTTP responses; a [`Handler`]
//! decides what to send and records what arrives.
//!
//! Receive times are read right after the `read` that brought the bytes, so any time this
//! loop spends is counted against the server, never hidden from it.

use crate::stats::Histogram;
use crate::sys::{self, Epoll, HANGUP, READABLE, Ready, Timer, WRITABLE};
use crate::wire::{self, Rng};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::os::fd::AsRawFd;
use std::time::Duration;

/// The largest server frame or message the bench accepts.
const MAX_MESSAGE: usize = 16 << 20;
/// Reads per readiness event before other connections get their turn.
const READS_PER_EVENT: usize = 4;
/// The token of the timer in the epoll set (connection tokens are `generation << 32 | index`).
const TIMER_TOKEN: u64 = u64::MAX;
/// The longest the loop sleeps without looking at its handler.
const MAX_SLEEP: Duration = Duration::from_millis(50);

/// A connection as handlers name it; stale ids (of closed connections) are ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnId {
    index: u32,
    generation: u32,
}

/// How a connection ended, when the handler did not end it itself.
#[derive(Debug, Clone)]
pub enum Ended {
    /// The TCP connection could not be made.
    ConnectFailed(String),
    /// The WebSocket handshake was answered with this status instead of 101.
    Refused { status: u16, body: String },
    /// The server sent a close frame with this code.
    Closed(Option<u16>),
    /// The server closed the TCP connection without a close frame.
    Eof,
    /// An I/O error.
    Failed(String),
    /// The server broke the protocol (HTTP or WebSocket), as far as the bench can tell.
    Protocol(String),
}

impl std::fmt::Display for Ended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ended::ConnectFailed(e) => write!(f, "connect failed: {e}"),
            Ended::Refused { status, body } => write!(f, "refused with {status} {body}"),
            Ended::Closed(Some(code)) => write!(f, "closed by the server with {code}"),
            Ended::Closed(None) => write!(f, "closed by the server"),
            Ended::Eof => write!(f, "connection ended by the server"),
            Ended::Failed(e) => write!(f, "{e}"),
            Ended::Protocol(e) => write!(f, "protocol error: {e}"),
        }
    }
}

/// What a scenario does with its connections. `tag` is the handler's own number for a
/// connection, given when it was opened; `now` is [`sys::now_ns`].
pub trait Handler {
    /// A WebSocket got its 101, or an HTTP connection is connected.
    fn on_open(&mut self, io: &mut Io, conn: ConnId, tag: usize, now: u64);
    /// A complete text (or binary) message arrived on a WebSocket.
    fn on_text(&mut self, _io: &mut Io, _conn: ConnId, _tag: usize, _text: &[u8], _now: u64) {}
    /// A complete HTTP response arrived.
    fn on_response(&mut self, _io: &mut Io, _conn: ConnId, _tag: usize, _status: u16, _body: &[u8], _now: u64) {}
    /// The connection ended (not by [`Io::close`]); it is gone.
    fn on_ended(&mut self, io: &mut Io, tag: usize, ended: Ended, now: u64);
    /// Called after every round of events; returns when it wants to be called next.
    fn on_tick(&mut self, io: &mut Io, now: u64) -> Option<u64>;
    /// The loop returns once this is true.
    fn finished(&self) -> bool;
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Connecting,
    /// WebSocket: request sent, waiting for the 101.
    Handshake,
    Open,
}

struct Conn {
    stream: TcpStream,
    tag: usize,
    /// When `connect` was called (ns).
    started: u64,
    websocket: bool,
    state: State,
    /// The handshake request, sent once connected.
    request: Vec<u8>,
    /// The `sec-websocket-accept` the server must answer with.
    accept: String,
    inbuf: Vec<u8>,
    outbuf: Vec<u8>,
    /// EPOLLOUT is in the interest set.
    writing: bool,
    /// A fragmented message being reassembled: its opcode and bytes so far.
    partial: Option<(u8, Vec<u8>)>,
    /// Ended; removed at the end of the current callback.
    dead: bool,
}

/// What a loop has moved, and how long its TCP connects took (SYN to established: a
/// dropped SYN shows as a 1 s retransmission).
#[derive(Default, Clone)]
pub struct Counters {
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub messages_in: u64,
    pub open: usize,
    pub connect: Histogram,
    /// From the loop's wake-up to the read of each ready socket: the part of every
    /// measured latency that is the bench's own doing (sockets are read one after another).
    pub read_delay: Histogram,
}

/// The connections of one loop, and what handlers may do with them.
pub struct Io {
    epoll: Epoll,
    addr: SocketAddr,
    host: String,
    conns: Vec<Option<Conn>>,
    gens: Vec<u32>,
    free: Vec<u32>,
    ended: Vec<(u32, Ended)>,
    rng: Rng,
    frame: Vec<u8>,
    pub counters: Counters,
}

impl Io {
    pub fn new(addr: SocketAddr) -> io::Result<Io> {
        Ok(Io {
            epoll: Epoll::new()?,
            addr,
            host: addr.to_string(),
            conns: Vec::new(),
            gens: Vec::new(),
            free: Vec::new(),
            ended: Vec::new(),
            rng: Rng::from_os(),
            frame: Vec::with_capacity(4096),
            counters: Counters::default(),
        })
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// Starts a WebSocket to `path`; the handler hears `on_open` after the 101.
    pub fn connect_ws(&mut self, path: &str, cookie: Option<&str>, tag: usize) -> io::Result<ConnId> {
        let key = wire::handshake_key(&mut self.rng);
        let request = wire::handshake_request(&self.host, path, cookie, &key);
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        self.connect(tag, true, request, accept)
    }

    /// Starts a keep-alive HTTP connection; the handler hears `on_open` once connected.
    pub fn connect_http(&mut self, tag: usize) -> io::Result<ConnId> {
        self.connect(tag, false, Vec::new(), String::new())
    }

    fn connect(&mut self, tag: usize, websocket: bool, request: Vec<u8>, accept: String) -> io::Result<ConnId> {
        let stream = sys::connect_nonblocking(&self.addr)?;
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.conns.push(None);
                self.gens.push(0);
                (self.conns.len() - 1) as u32
            }
        };
        let id = ConnId { index, generation: self.gens[index as usize] };
        self.epoll.add(stream.as_raw_fd(), token(id), READABLE | WRITABLE)?;
        self.conns[index as usize] = Some(Conn {
            stream,
            tag,
            started: sys::now_ns(),
            websocket,
            state: State::Connecting,
            request,
            accept,
            inbuf: Vec::new(),
            outbuf: Vec::new(),
            writing: true,
            partial: None,
            dead: false,
        });
        Ok(id)
    }

    fn live(&mut self, id: ConnId) -> Option<&mut Conn> {
        if self.gens.get(id.index as usize) != Some(&id.generation) {
            return None;
        }
        self.conns[id.index as usize].as_mut().filter(|c| !c.dead)
    }

    /// Sends a text message (masked, one frame) on an open WebSocket.
    pub fn send_text(&mut self, id: ConnId, text: &[u8]) {
        self.send_frame(id, wire::TEXT, text);
    }

    fn send_frame(&mut self, id: ConnId, opcode: u8, payload: &[u8]) {
        let mask = (self.rng.next() as u32).to_ne_bytes();
        let mut frame = std::mem::take(&mut self.frame);
        frame.clear();
        wire::encode_client_frame(&mut frame, opcode, payload, mask);
        self.send_raw(id, &frame);
        self.frame = frame;
    }

    /// Writes bytes as they are (an HTTP request); what the socket does not take now is
    /// written when it becomes writable.
    pub fn send_raw(&mut self, id: ConnId, bytes: &[u8]) {
        let Some(conn) = self.live(id) else { return };
        if conn.state == State::Connecting || !conn.outbuf.is_empty() {
            conn.outbuf.extend_from_slice(bytes);
            return;
        }
        let (written, error) = write_some(&conn.stream, bytes);
        let mut watch = None;
        if written < bytes.len() && error.is_none() {
            conn.outbuf.extend_from_slice(&bytes[written..]);
            if !conn.writing {
                conn.writing = true;
                watch = Some(conn.stream.as_raw_fd());
            }
        }
        if let Some(fd) = watch {
            let _ = self.epoll.modify(fd, token(id), READABLE | WRITABLE);
        }
        self.counters.bytes_out += written as u64;
        if let Some(e) = error {
            self.fail(id, Ended::Failed(e));
        }
    }

    /// Ends a connection (a WebSocket with a close frame, best effort) without telling the
    /// handler, which asked for it.
    pub fn close(&mut self, id: ConnId) {
        let mask = (self.rng.next() as u32).to_ne_bytes();
        let Some(conn) = self.live(id) else { return };
        if conn.websocket && conn.state == State::Open && conn.outbuf.is_empty() {
            let mut frame = Vec::with_capacity(8);
            wire::encode_client_frame(&mut frame, wire::CLOSE, &1000u16.to_be_bytes(), mask);
            let _ = (&conn.stream).write(&frame);
        }
        self.remove(id.index);
    }

    /// Closes every connection.
    pub fn close_all(&mut self) {
        for index in 0..self.conns.len() {
            if self.conns[index].is_some() {
                let id = ConnId { index: index as u32, generation: self.gens[index] };
                self.close(id);
            }
        }
    }

    fn remove(&mut self, index: u32) -> Option<Conn> {
        let conn = self.conns[index as usize].take()?;
        let _ = self.epoll.delete(conn.stream.as_raw_fd());
        if conn.state == State::Open {
            self.counters.open -= 1;
        }
        self.gens[index as usize] = self.gens[index as usize].wrapping_add(1);
        self.free.push(index);
        Some(conn)
    }

    /// Marks a connection ended; the handler hears of it once the current callback is over.
    fn fail(&mut self, id: ConnId, ended: Ended) {
        if let Some(conn) = self.live(id) {
            conn.dead = true;
            self.ended.push((id.index, ended));
        }
    }

    /// Removes ended connections and tells the handler (which may open new ones).
    fn settle<H: Handler>(&mut self, handler: &mut H) {
        while let Some((index, ended)) = self.ended.pop() {
            if let Some(conn) = self.remove(index) {
                handler.on_ended(self, conn.tag, ended, sys::now_ns());
            }
        }
    }

    fn on_event<H: Handler>(&mut self, handler: &mut H, ready: Ready, woke: u64, scratch: &mut [u8]) {
        let id = ConnId { index: ready.token as u32, generation: (ready.token >> 32) as u32 };
        let Some(conn) = self.live(id) else { return };
        if conn.state == State::Connecting {
            if ready.events & (WRITABLE | HANGUP) == 0 {
                return;
            }
            let error = match conn.stream.take_error() {
                Ok(None) if ready.events & HANGUP == 0 => None,
                Ok(None) => Some("connection refused".to_string()),
                Ok(Some(e)) | Err(e) => Some(e.to_string()),
            };
            if let Some(e) = error {
                return self.fail(id, Ended::ConnectFailed(e));
            }
            self.connected(handler, id);
            return;
        }
        if ready.events & WRITABLE != 0 {
            self.flush(id);
        }
        if ready.events & (READABLE | HANGUP) != 0 {
            self.read_from(handler, id, woke, scratch);
        }
    }

    fn connected<H: Handler>(&mut self, handler: &mut H, id: ConnId) {
        let Some(conn) = self.live(id) else { return };
        let (websocket, tag, started) = (conn.websocket, conn.tag, conn.started);
        let request = std::mem::take(&mut conn.request);
        let queued = std::mem::take(&mut conn.outbuf);
        conn.state = if websocket { State::Handshake } else { State::Open };
        self.counters.connect.record(sys::now_ns().saturating_sub(started));
        if websocket {
            self.send_raw(id, &request);
        } else {
            self.counters.open += 1;
            handler.on_open(self, id, tag, sys::now_ns());
        }
        if !queued.is_empty() {
            self.send_raw(id, &queued);
        }
        self.flush(id);
    }

    /// Writes what is waiting; stops watching for writability once nothing is.
    fn flush(&mut self, id: ConnId) {
        let Some(conn) = self.live(id) else { return };
        let (written, error) = write_some(&conn.stream, &conn.outbuf);
        conn.outbuf.drain(..written);
        if conn.outbuf.is_empty() && conn.writing {
            conn.writing = false;
            let fd = conn.stream.as_raw_fd();
            let _ = self.epoll.modify(fd, token(id), READABLE);
        }
        self.counters.bytes_out += written as u64;
        if let Some(e) = error {
            self.fail(id, Ended::Failed(e));
        }
    }

    fn read_from<H: Handler>(&mut self, handler: &mut H, id: ConnId, woke: u64, scratch: &mut [u8]) {
        for attempt in 0..READS_PER_EVENT {
            let Some(conn) = self.live(id) else { return };
            match (&conn.stream).read(scratch) {
                Ok(0) => return self.fail(id, Ended::Eof),
                Ok(n) => {
                    let now = sys::now_ns();
                    if attempt == 0 {
                        self.counters.read_delay.record(now.saturating_sub(woke));
                    }
                    self.counters.bytes_in += n as u64;
                    self.received(handler, id, &scratch[..n], now);
                    if n < scratch.len() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return self.fail(id, Ended::Failed(format!("read: {e}"))),
            }
        }
    }

    /// Feeds newly read bytes, after any kept from before, to the parser.
    fn received<H: Handler>(&mut self, handler: &mut H, id: ConnId, new: &[u8], now: u64) {
        let Some(conn) = self.live(id) else { return };
        let mut pending = std::mem::take(&mut conn.inbuf);
        if pending.is_empty() {
            let used = self.consume(handler, id, new, now);
            pending.extend_from_slice(&new[used..]);
        } else {
            pending.extend_from_slice(new);
            let used = self.consume(handler, id, &pending, now);
            pending.drain(..used);
        }
        if let Some(conn) = self.live(id) {
            conn.inbuf = pending;
        }
    }

    /// Parses as much of `data` as is complete; returns how many bytes that was.
    fn consume<H: Handler>(&mut self, handler: &mut H, id: ConnId, data: &[u8], now: u64) -> usize {
        let mut at = 0;
        loop {
            let Some(conn) = self.live(id) else { return data.len() };
            let (state, websocket, tag) = (conn.state, conn.websocket, conn.tag);
            let rest = &data[at..];
            if state != State::Open || !websocket {
                let head = match wire::parse_head(rest) {
                    Ok(Some(head)) => head,
                    Ok(None) => return at,
                    Err(e) => {
                        self.fail(id, Ended::Protocol(e));
                        return data.len();
                    }
                };
                if websocket {
                    if head.status != 101 {
                        let body = &rest[head.len..rest.len().min(head.len + head.content_length.unwrap_or(0))];
                        let body = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
                        self.fail(id, Ended::Refused { status: head.status, body });
                        return data.len();
                    }
                    if head.accept.as_deref() != Some(conn.accept.as_str()) {
                        self.fail(id, Ended::Protocol("wrong sec-websocket-accept in the 101".into()));
                        return data.len();
                    }
                    conn.state = State::Open;
                    self.counters.open += 1;
                    at += head.len;
                    handler.on_open(self, id, tag, now);
                    continue;
                }
                let body_len = head.content_length.unwrap_or(0);
                if rest.len() < head.len + body_len {
                    return at;
                }
                at += head.len + body_len;
                self.counters.messages_in += 1;
                handler.on_response(self, id, tag, head.status, &rest[head.len..head.len + body_len], now);
                if head.close {
                    self.fail(id, Ended::Eof);
                }
                continue;
            }
            let (frame, used) = match wire::parse_frame(rest, MAX_MESSAGE) {
                Ok(Some(parsed)) => parsed,
                Ok(None) => return at,
                Err(e) => {
                    self.fail(id, Ended::Protocol(e));
                    return data.len();
                }
            };
            at += used;
            self.on_frame(handler, id, tag, frame, now);
        }
    }

    fn on_frame<H: Handler>(&mut self, handler: &mut H, id: ConnId, tag: usize, frame: wire::Frame<'_>, now: u64) {
        match frame.opcode {
            wire::TEXT | wire::BINARY if frame.fin => {
                self.counters.messages_in += 1;
                handler.on_text(self, id, tag, frame.payload, now);
            }
            wire::TEXT | wire::BINARY | wire::CONTINUATION => {
                let Some(conn) = self.live(id) else { return };
                let partial = conn.partial.get_or_insert_with(|| (frame.opcode, Vec::new()));
                partial.1.extend_from_slice(frame.payload);
                if partial.1.len() > MAX_MESSAGE {
                    return self.fail(id, Ended::Protocol("fragmented message over the bench's limit".into()));
                }
                if frame.fin {
                    let (_, message) = conn.partial.take().unwrap_or_default();
                    self.counters.messages_in += 1;
                    handler.on_text(self, id, tag, &message, now);
                }
            }
            wire::PING => self.send_frame(id, wire::PONG, frame.payload),
            wire::PONG => {}
            wire::CLOSE => {
                let code = (frame.payload.len() >= 2).then(|| u16::from_be_bytes([frame.payload[0], frame.payload[1]]));
                self.send_frame(id, wire::CLOSE, &frame.payload[..frame.payload.len().min(2)]);
                self.fail(id, Ended::Closed(code));
            }
            other => self.fail(id, Ended::Protocol(format!("unknown opcode {other:#x}"))),
        }
    }
}

fn token(id: ConnId) -> u64 {
    (u64::from(id.generation) << 32) | u64::from(id.index)
}

/// Runs the loop until the handler is finished, then closes what is still open.
pub fn run<H: Handler>(io: &mut Io, handler: &mut H) -> io::Result<()> {
    let timer = Timer::new()?;
    io.epoll.add(timer.raw(), TIMER_TOKEN, READABLE)?;
    let mut armed: Option<u64> = None;
    let mut ready = Vec::with_capacity(1024);
    let mut scratch = vec![0u8; 64 * 1024];
    loop {
        let now = sys::now_ns();
        let next = handler.on_tick(io, now);
        io.settle(handler);
        if handler.finished() {
            break;
        }
        let timeout = match next {
            Some(at) if at <= now => Some(Duration::ZERO),
            Some(at) => {
                if armed != Some(at) {
                    timer.arm(Duration::from_nanos(at - now))?;
                    armed = Some(at);
                }
                Some(MAX_SLEEP)
            }
            None => Some(MAX_SLEEP),
        };
        io.epoll.wait(&mut ready, timeout)?;
        let woke = sys::now_ns();
        for &event in &ready {
            if event.token == TIMER_TOKEN {
                timer.clear();
                armed = None;
                continue;
            }
            io.on_event(handler, event, woke, &mut scratch);
            io.settle(handler);
        }
    }
    let _ = io.epoll.delete(timer.raw());
    Ok(())
}

/// Writes as much of `bytes` as a non-blocking socket takes now: how much, and the error that
/// stopped it, if any (a full socket buffer is not an error).
fn write_some(mut stream: &TcpStream, bytes: &[u8]) -> (usize, Option<String>) {
    let mut written = 0;
    while written < bytes.len() {
        match stream.write(&bytes[written..]) {
            Ok(0) => return (written, Some("the socket took no bytes".to_string())),
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (written, Some(format!("write: {e}"))),
        }
    }
    (written, None)
}
