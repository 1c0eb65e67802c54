//! One WebSocket's transport: its stream, and the one ordered path every byte written to it
//! takes.
//!
//! **Whoever pushes writes first.** When nothing is waiting and no write is in progress, a
//! push writes the frame at once with a non-blocking `send` (`MSG_DONTWAIT`: the descriptor is
//! shared with the blocking reader, so `O_NONBLOCK` is never flipped). Only what does not fit
//! — a partial write, `EAGAIN` — waits in the socket's backlog, and only then does a writer
//! thread exist: it is spawned for the backlog, writes it with blocking writes, lingers a
//! moment in case more comes, and ends. An idle or keeping-up socket therefore costs no thread
//! besides its reader, and a delivered frame costs one `send` on the pushing thread (the hub)
//! instead of a wake-up, a write and a sleep of another thread.
//!
//! One `Mutex` per socket orders its bytes: pushes from the hub and from the socket's reader
//! (pong, the close reply, error frames) and the backlog writer never interleave, and frames go
//! out in push order. The lock is held for a non-blocking `send` at most, never for a blocking
//! write, so the hub never waits on a client.
//!
//! The backlog is bounded in bytes ([`BACKLOG_LIMIT_BYTES`]); a push over the bound fails with
//! [`PushError::Full`] and the pusher cuts the client off ([`SocketHandle::sever`]). Broadcast
//! frames are shared (`Arc<[u8]>`), so the bound limits a client's lag, and memory held for
//! it, without copying.

use crate::identity::ConnId;
use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::Thread;
use std::time::Duration;

/// Bytes that may wait for one client before it counts as not keeping up.
pub const BACKLOG_LIMIT_BYTES: usize = 4 << 20;
/// Bookkeeping charged per waiting frame on top of its bytes, so a flood of tiny frames
/// (pongs, error frames) is bounded too.
const ITEM_OVERHEAD: usize = 64;
/// A backlog writer gathers at most this much into one write.
const GATHER_BYTES: usize = 64 * 1024;
/// A backlog writer only moves bytes.
const WRITER_STACK: usize = 64 * 1024;
/// How long a backlog writer waits for more work before it ends.
const WRITER_LINGER: Duration = Duration::from_millis(500);
/// How long one blocking write of a backlog may take before the client is given up.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Sockets released to their clients whose final shutdown has not happened yet; server
/// shutdown waits (briefly) for their close frames to be written.
pub static OPEN_SOCKETS: AtomicUsize = AtomicUsize::new(0);

/// The stream under a socket: TCP in the server, a Unix socket pair in unit tests.
#[derive(Debug)]
pub enum Wire {
    Tcp(TcpStream),
    Unix(UnixStream),
}

impl Wire {
    fn fd(&self) -> RawFd {
        match self {
            Wire::Tcp(s) => s.as_raw_fd(),
            Wire::Unix(s) => s.as_raw_fd(),
        }
    }

    /// Reads what has arrived, blocking up to the read timeout.
    pub fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Wire::Tcp(s) => (&*s).read(buf),
            Wire::Unix(s) => (&*s).read(buf),
        }
    }

    pub fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Wire::Tcp(s) => s.set_read_timeout(timeout),
            Wire::Unix(s) => s.set_read_timeout(timeout),
        }
    }

    fn set_write_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Wire::Tcp(s) => s.set_write_timeout(timeout),
            Wire::Unix(s) => s.set_write_timeout(timeout),
        }
    }

    /// Writes what fits without waiting; `WouldBlock` when nothing does.
    fn send_now(&self, bytes: &[u8]) -> io::Result<usize> {
        // SAFETY: `bytes` is a valid, initialized slice for the whole call and `len` is its
        // length; the descriptor belongs to `self`, which is alive. send(2) only reads the
        // buffer. MSG_DONTWAIT makes this one call non-blocking without changing the
        // descriptor's mode (the reader blocks on it); MSG_NOSIGNAL turns a closed peer into
        // EPIPE rather than a signal.
        let sent = unsafe {
            libc::send(self.fd(), bytes.as_ptr().cast(), bytes.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
        };
        if sent < 0 { Err(io::Error::last_os_error()) } else { Ok(sent as usize) }
    }

    /// Writes everything, blocking up to the write timeout per call.
    fn write_all(&self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Wire::Tcp(s) => (&*s).write_all(bytes),
            Wire::Unix(s) => (&*s).write_all(bytes),
        }
    }

    fn shutdown(&self, how: Shutdown) {
        let _ = match self {
            Wire::Tcp(s) => s.shutdown(how),
            Wire::Unix(s) => s.shutdown(how),
        };
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError {
    /// Over the backlog bound: the client does not keep up.
    Full,
    /// The socket is closing or closed.
    Closed,
}

/// Who may write the backlog right now.
#[derive(Debug, Default)]
enum Writer {
    /// Nobody: a push may write directly.
    #[default]
    Idle,
    /// A writer thread owns the backlog; pushes only append.
    Busy,
    /// A writer thread waits for more work; a push that leaves bytes behind wakes it.
    Lingering(Thread),
}

#[derive(Debug, Default)]
struct State {
    /// Frames not yet written, in order; the first may be partly written.
    backlog: VecDeque<Arc<[u8]>>,
    /// Bytes of the first frame already written.
    written: usize,
    /// The backlog's cost against [`BACKLOG_LIMIT_BYTES`].
    queued: usize,
    writer: Writer,
    /// Until the handshake's answer is released, everything waits.
    held: bool,
    /// Shut the stream down this way once the backlog is written (a close frame was queued,
    /// or the reader finished).
    ending: Option<Shutdown>,
    /// The final shutdown happened or the client was cut off: nothing more is written.
    ended: bool,
    /// Counted in [`OPEN_SOCKETS`].
    counted: bool,
}

fn cost(frame: &[u8]) -> usize {
    frame.len() + ITEM_OVERHEAD
}

#[derive(Debug)]
struct Inner {
    conn: ConnId,
    wire: Wire,
    state: Mutex<State>,
}

/// A socket's transport, shared by the hub (which delivers to it), its reader thread and its
/// backlog writer. Cloning shares it.
#[derive(Debug, Clone)]
pub struct SocketHandle {
    inner: Arc<Inner>,
}

impl SocketHandle {
    /// A new socket whose writes wait until [`SocketHandle::release`], so that the handshake's
    /// answer goes out before any frame.
    pub fn held(conn: ConnId, wire: Wire) -> SocketHandle {
        // A blocked backlog write gives up after this; the hub cuts a slow client off sooner.
        let _ = wire.set_write_timeout(Some(WRITE_TIMEOUT));
        let state = State { held: true, ..State::default() };
        SocketHandle { inner: Arc::new(Inner { conn, wire, state: Mutex::new(state) }) }
    }

    pub fn conn(&self) -> ConnId {
        self.inner.conn
    }

    /// The stream, for the reader.
    pub fn wire(&self) -> &Wire {
        &self.inner.wire
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while holding the lock, but a poisoned lock still holds valid state.
        self.inner.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `first` (the handshake's answer), then whatever was pushed meanwhile, and lets
    /// later pushes write directly.
    pub fn release(&self, first: &[u8]) {
        let mut s = self.lock();
        if s.ended || !s.held {
            return;
        }
        s.held = false;
        s.counted = true;
        OPEN_SOCKETS.fetch_add(1, Ordering::SeqCst);
        s.backlog.push_front(Arc::from(first));
        s.written = 0;
        s.queued += cost(first);
        self.write_backlog(&mut s);
    }

    /// Answers a handshake that was refused after the socket was made (the hub said no, or no
    /// reader thread could be started), then closes. Blocks up to the write timeout; for the
    /// worker that did the handshake.
    pub fn refuse(&self, response: &[u8]) {
        {
            let mut s = self.lock();
            if s.ended {
                return;
            }
            s.ended = true;
            s.backlog.clear();
            s.queued = 0;
        }
        let _ = self.inner.wire.write_all(response);
        self.inner.wire.shutdown(Shutdown::Write);
    }

    /// Sends a frame: written now if the way is clear, else appended to the backlog.
    pub fn push(&self, frame: Arc<[u8]>) -> Result<(), PushError> {
        let mut s = self.lock();
        if s.ended || s.ending.is_some() {
            return Err(PushError::Closed);
        }
        if s.backlog.is_empty() && !s.held && !matches!(s.writer, Writer::Busy) {
            return match self.inner.wire.send_now(&frame) {
                Ok(n) if n == frame.len() => Ok(()),
                Ok(n) => {
                    s.backlog.push_back(frame);
                    s.written = n;
                    s.queued = cost(&s.backlog[0]) - n;
                    self.start_writer(&mut s);
                    Ok(())
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted => {
                    s.queued = cost(&frame);
                    s.backlog.push_back(frame);
                    self.start_writer(&mut s);
                    Ok(())
                }
                Err(_) => {
                    self.end(&mut s, Shutdown::Both);
                    Err(PushError::Closed)
                }
            };
        }
        if s.queued + cost(&frame) > BACKLOG_LIMIT_BYTES {
            return Err(PushError::Full);
        }
        s.queued += cost(&frame);
        s.backlog.push_back(frame);
        if !s.held {
            self.start_writer(&mut s);
        }
        Ok(())
    }

    /// Sends several frames in order, as one write where the way is clear (a hub batch that
    /// has more than one frame for this socket).
    pub fn push_all(&self, frames: Vec<Arc<[u8]>>) -> Result<(), PushError> {
        match <[_; 1]>::try_from(frames) {
            Ok([one]) => self.push(one),
            Err(frames) => {
                let mut joined = Vec::with_capacity(frames.iter().map(|f| f.len()).sum());
                for frame in &frames {
                    joined.extend_from_slice(frame);
                }
                self.push(joined.into())
            }
        }
    }

    /// Sends a close frame (after what is already waiting; it always fits), then shuts the
    /// sending side down. The peer answers and its reader then ends.
    pub fn close(&self, code: u16, reason: &str) {
        let mut s = self.lock();
        if s.ended || s.ending.is_some() {
            return;
        }
        let frame: Arc<[u8]> = super::frame::close(code, reason).into();
        s.queued += cost(&frame);
        s.backlog.push_back(frame);
        s.ending = Some(Shutdown::Write);
        if !s.held {
            self.write_backlog(&mut s);
        }
    }

    /// The reader is done: write what is waiting, then shut the stream down.
    pub fn finish(&self) {
        let mut s = self.lock();
        if s.ended {
            return;
        }
        s.ending = Some(Shutdown::Both);
        if !s.held {
            self.write_backlog(&mut s);
        }
    }

    /// Cuts the client off now: nothing more is written, and its reader's next read fails.
    pub fn sever(&self) {
        let mut s = self.lock();
        self.end(&mut s, Shutdown::Both);
    }

    /// Writes the backlog without blocking as far as it goes; hands the rest to a writer. A
    /// busy writer already owns it.
    fn write_backlog(&self, s: &mut State) {
        if matches!(s.writer, Writer::Busy) {
            return;
        }
        while let Some(front) = s.backlog.front() {
            match self.inner.wire.send_now(&front[s.written..]) {
                Ok(n) => {
                    s.written += n;
                    s.queued -= n;
                    if s.written == front.len() {
                        s.backlog.pop_front();
                        s.queued -= ITEM_OVERHEAD;
                        s.written = 0;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return self.start_writer(s),
                Err(_) => return self.end(s, Shutdown::Both),
            }
        }
        if let Some(how) = s.ending {
            self.end(s, how);
        }
    }

    /// Makes sure a writer thread owns the backlog.
    fn start_writer(&self, s: &mut State) {
        match std::mem::replace(&mut s.writer, Writer::Busy) {
            Writer::Busy => {}
            Writer::Lingering(thread) => thread.unpark(),
            Writer::Idle => {
                let handle = self.clone();
                let spawned = std::thread::Builder::new()
                    .name("ws-writer".into())
                    .stack_size(WRITER_STACK)
                    .spawn(move || handle.drain());
                if let Err(e) = spawned {
                    log::warn!("ws #{}: no thread to write its backlog ({e}); cut off", self.inner.conn);
                    s.writer = Writer::Idle;
                    self.end(s, Shutdown::Both);
                }
            }
        }
    }

    /// The final shutdown: nothing more is written.
    fn end(&self, s: &mut State, how: Shutdown) {
        if s.ended {
            return;
        }
        s.ended = true;
        s.backlog.clear();
        s.queued = 0;
        self.inner.wire.shutdown(how);
        if std::mem::take(&mut s.counted) {
            OPEN_SOCKETS.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// The backlog writer's thread: blocking writes until the backlog is empty, then a short
    /// linger, then it ends.
    fn drain(self) {
        let mut gathered: Vec<u8> = Vec::new();
        let mut s = self.lock();
        loop {
            if s.ended {
                s.writer = Writer::Idle;
                return;
            }
            if s.backlog.is_empty() {
                if let Some(how) = s.ending {
                    self.end(&mut s, how);
                    s.writer = Writer::Idle;
                    return;
                }
                s.writer = Writer::Lingering(std::thread::current());
                drop(s);
                std::thread::park_timeout(WRITER_LINGER);
                s = self.lock();
                if matches!(s.writer, Writer::Lingering(_)) {
                    // Nobody came: end, and let the next backlog start a new writer.
                    s.writer = Writer::Idle;
                    return;
                }
                continue;
            }
            // Gather what waits into one write (the common case, one frame, without a copy).
            let first = s.backlog[0].clone();
            let start = s.written;
            let count = if s.backlog.len() == 1 || first.len() - start >= GATHER_BYTES {
                1
            } else {
                gathered.clear();
                gathered.extend_from_slice(&first[start..]);
                let mut count = 1;
                for frame in s.backlog.iter().skip(1) {
                    if gathered.len() + frame.len() > GATHER_BYTES {
                        break;
                    }
                    gathered.extend_from_slice(frame);
                    count += 1;
                }
                count
            };
            drop(s);
            let result = if count == 1 {
                self.inner.wire.write_all(&first[start..])
            } else {
                self.inner.wire.write_all(&gathered)
            };
            s = self.lock();
            if result.is_err() {
                self.end(&mut s, Shutdown::Both);
                continue;
            }
            if s.ended {
                continue;
            }
            // The first frame's written part was already taken off `queued`.
            s.queued += start;
            for _ in 0..count {
                if let Some(frame) = s.backlog.pop_front() {
                    s.queued = s.queued.saturating_sub(cost(&frame));
                }
            }
            s.written = 0;
            if gathered.capacity() > GATHER_BYTES {
                gathered = Vec::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn pair() -> (SocketHandle, UnixStream) {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let socket = SocketHandle::held(1, Wire::Unix(ours));
        (socket, theirs)
    }

    fn frame(bytes: &[u8]) -> Arc<[u8]> {
        Arc::from(bytes)
    }

    #[test]
    fn nothing_is_written_before_the_release_and_then_the_answer_goes_first() {
        let (socket, mut peer) = pair();
        socket.push(frame(b"one")).unwrap();
        peer.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        assert!(peer.read(&mut buf).is_err(), "held: nothing on the wire");
        socket.release(b"101;");
        socket.push(frame(b"two")).unwrap();
        peer.set_nonblocking(false).unwrap();
        peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut got = Vec::new();
        while got.len() < 10 {
            let n = peer.read(&mut buf).unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        assert_eq!(got, b"101;onetwo");
    }

    #[test]
    fn a_full_backlog_refuses_and_order_holds_through_a_writer() {
        let (socket, mut peer) = pair();
        socket.release(b"");
        // Fill the socket buffer and then the backlog, with numbered frames.
        let chunk = vec![7u8; 64 * 1024];
        let mut pushed = 0usize;
        let mut refused = false;
        for i in 0..200u32 {
            let mut bytes = i.to_be_bytes().to_vec();
            bytes.extend_from_slice(&chunk);
            match socket.push(bytes.into()) {
                Ok(()) => pushed += 1,
                Err(PushError::Full) => {
                    refused = true;
                    break;
                }
                Err(PushError::Closed) => panic!("closed"),
            }
        }
        assert!(refused, "the bound was reached");
        // Now read everything: frames arrive complete and in order.
        let size = 4 + chunk.len();
        let mut got = vec![0u8; size * pushed];
        peer.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        peer.read_exact(&mut got).unwrap();
        for (i, part) in got.chunks(size).enumerate() {
            assert_eq!(u32::from_be_bytes(part[..4].try_into().unwrap()), i as u32);
        }
        socket.close(1000, "bye");
        let mut rest = Vec::new();
        peer.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, super::super::frame::close(1000, "bye"), "the close frame, then the end");
        assert_eq!(socket.push(frame(b"late")), Err(PushError::Closed), "closed for good");
    }

    #[test]
    fn a_severed_socket_refuses_pushes_and_its_peer_sees_the_end() {
        let (socket, mut peer) = pair();
        socket.release(b"x");
        socket.sever();
        assert_eq!(socket.push(frame(b"late")), Err(PushError::Closed));
        let mut rest = Vec::new();
        peer.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        peer.read_to_end(&mut rest).unwrap();
        assert_eq!(rest, b"x");
    }
}
