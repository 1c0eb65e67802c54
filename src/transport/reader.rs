//! A socket's reader loop: reads frames through tungstenite's protocol state machine,
//! decodes them, checks the per-socket rate, and hands each message to the caller's callback
//! (which, in the server, tells the hub).
//!
//! The protocol's own replies (pong, the close handshake) and this loop's error frames go out
//! through the socket's one ordered path ([`SocketHandle::push`]) like any frame, so they
//! never interleave with the hub's, and they count against the same backlog bound: a client
//! that floods pings and never reads is cut off like any slow reader. The loop also keeps the
//! connection honest: a peer silent for a quarter of the timeout is pinged, and one silent for
//! all of it (gone without a close frame) is dropped.

use super::frame;
use super::socket::{PushError, SocketHandle};
use crate::limits::{Rate, TokenBucket, retry_after_secs};
use crate::protocol::{self, Channel, ClientFrame, Event};
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tungstenite::protocol::{Message, Role, WebSocketConfig, WebSocketContext};

/// The seed's application-level `{"type":"ping"}` on global sockets.
const APP_PING_EVERY: Duration = Duration::from_secs(60);
/// The largest message a client may send: 4,000 characters of 4-byte UTF-8 and a JSON
/// envelope with a quote. Larger ones close the socket with 1009.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
/// The read buffer; messages larger than this are assembled in a separate, growing buffer.
const READ_BUFFER: usize = 2048;
/// Messages (and edits, deletions, reactions) per socket: twenty at once, then ten a second.
const SOCKET_RATE: Rate = Rate::new(20, Duration::from_millis(100));
/// Typing and read signals per socket: ten at once, then five a second; beyond that they are
/// dropped without a word (the next one carries the same news).
const SIGNAL_RATE: Rate = Rate::new(10, Duration::from_millis(200));

/// The socket as tungstenite sees it: reads come from the stream, writes (protocol replies)
/// are collected and pushed on flush.
struct ReaderIo<'a> {
    socket: &'a SocketHandle,
    replies: Vec<u8>,
}

impl Read for ReaderIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.socket.wire().read(buf)
    }
}

impl Write for ReaderIo<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.replies.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.replies.is_empty() {
            let bytes: Arc<[u8]> = Arc::from(&self.replies[..]);
            self.replies.clear();
            push_or_sever(self.socket, bytes);
        }
        Ok(())
    }
}

/// Pushes a reply; a client whose backlog is full does not read what it provokes, and is cut
/// off like any slow reader.
fn push_or_sever(socket: &SocketHandle, bytes: Arc<[u8]>) {
    if socket.push(bytes) == Err(PushError::Full) {
        log::info!("ws #{} cut off: it does not read its replies", socket.conn());
        crate::metrics::SLOW_CONSUMERS.inc();
        socket.sever();
    }
}

/// How a reader treats its client.
#[derive(Debug, Clone, Copy)]
pub struct ReaderSettings {
    /// Which socket this is: decides how text is decoded.
    pub channel: Channel,
    /// Silence after which the peer counts as gone; it is pinged after a quarter of it.
    pub timeout: Duration,
    /// The per-socket message rate applies.
    pub rate_limits: bool,
}

/// Decodes a (possibly adversarial) stream of client bytes as a server would, returning the
/// frames it accepted and the close code it ended with. For the fuzzer and tests.
pub fn decode_client_bytes(
    channel: Channel,
    bytes: &[u8],
) -> (Vec<Result<Option<ClientFrame>, protocol::FrameError>>, Option<u16>) {
    let mut ctx = WebSocketContext::new(Role::Server, Some(socket_config()));
    let mut io = io::Cursor::new(bytes.to_vec());
    let mut frames = Vec::new();
    let mut sink = Vec::new();
    loop {
        let mut both = ReadWrite { read: &mut io, write: &mut sink };
        match ctx.read(&mut both) {
            Ok(Message::Text(text)) => frames.push(protocol::decode(channel, text.as_str())),
            Ok(Message::Binary(_)) => frames.push(Err(protocol::FrameError::Binary)),
            Ok(_) => {}
            Err(e) => return (frames, close_code(&e)),
        }
    }
}

struct ReadWrite<'a, R, W> {
    read: &'a mut R,
    write: &'a mut W,
}

impl<R: Read, W: Write> Read for ReadWrite<'_, R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read.read(buf)
    }
}

impl<R: Read, W: Write> Write for ReadWrite<'_, R, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.write.flush()
    }
}

fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

/// The close code a read error ends the socket with; `None` when the peer simply went away.
fn close_code(error: &tungstenite::Error) -> Option<u16> {
    use tungstenite::Error;
    match error {
        Error::Protocol(tungstenite::error::ProtocolError::ResetWithoutClosingHandshake) => None,
        Error::Capacity(_) => Some(1009),
        Error::Utf8(_) => Some(1007),
        Error::Protocol(_) => Some(1002),
        _ => None,
    }
}

fn close_reason(code: u16) -> &'static str {
    match code {
        1009 => "message too big",
        1007 => "invalid UTF-8",
        _ => "protocol error",
    }
}

/// Reads the client until it goes away, is cut off or breaks the protocol; `deliver` gets each
/// accepted message and returns `false` to stop (the hub has gone). `leftover`: bytes the
/// client sent right after its handshake, already read by the worker. Ends with the socket
/// finished (what is waiting is written, then the stream is shut down).
pub fn run(
    socket: &SocketHandle,
    leftover: Vec<u8>,
    settings: ReaderSettings,
    mut deliver: impl FnMut(ClientFrame) -> bool,
) {
    let mut ctx = WebSocketContext::from_partially_read(leftover, Role::Server, Some(socket_config()));
    let ping_after = settings.timeout / 4;
    let _ = socket.wire().set_read_timeout(Some(ping_after));
    let mut io = ReaderIo { socket, replies: Vec::new() };
    let reader = Reader { socket, settings };
    let start = Instant::now();
    let mut last_heard = start;
    let mut last_ping = start;
    let mut next_app_ping = start + APP_PING_EVERY;
    let mut buckets =
        Buckets { messages: TokenBucket::full(SOCKET_RATE, start), signals: TokenBucket::full(SIGNAL_RATE, start) };
    let close = loop {
        match ctx.read(&mut io) {
            Ok(Message::Text(text)) => {
                last_heard = Instant::now();
                if !reader.on_text(text.as_str(), &mut buckets, last_heard, &mut deliver) {
                    break None;
                }
            }
            Ok(Message::Binary(_)) => {
                last_heard = Instant::now();
                reader.push_event(&Event::Error { error: protocol::FrameError::Binary.message() });
            }
            // Ping, pong, close (its reply is already pushed; the next read ends the loop).
            Ok(_) => last_heard = Instant::now(),
            Err(tungstenite::Error::Io(e))
                if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
            {
                let now = Instant::now();
                let silent = now - last_heard;
                if silent >= settings.timeout {
                    log::info!("ws #{} silent for {} s, dropped", socket.conn(), silent.as_secs());
                    break None;
                }
                if silent >= ping_after && now - last_ping >= ping_after {
                    last_ping = now;
                    push_or_sever(socket, frame::ping());
                }
                if settings.channel == Channel::Global && now >= next_app_ping {
                    next_app_ping = now + APP_PING_EVERY;
                    reader.push_event(&Event::Ping);
                }
            }
            Err(e) => break close_code(&e),
        }
    };
    // The protocol's last words (the reply to a close frame) may still be buffered.
    let _ = io.flush();
    if let Some(code) = close {
        socket.close(code, close_reason(code));
    }
    socket.finish();
}

struct Reader<'a> {
    socket: &'a SocketHandle,
    settings: ReaderSettings,
}

impl Reader<'_> {
    fn push_event(&self, event: &Event) {
        push_or_sever(self.socket, frame::event(event));
    }

    /// Handles one text message; `false` when the caller wants no more.
    fn on_text(
        &self,
        text: &str,
        buckets: &mut Buckets,
        now: Instant,
        deliver: &mut impl FnMut(ClientFrame) -> bool,
    ) -> bool {
        let frame = match protocol::decode(self.settings.channel, text) {
            Ok(Some(frame)) => frame,
            Ok(None) => return true,
            Err(e) => {
                self.push_event(&Event::Error { error: e.message() });
                return true;
            }
        };
        match frame {
            ClientFrame::Ping => self.push_event(&Event::Pong),
            ClientFrame::Pong => {}
            ClientFrame::Typing { .. } | ClientFrame::Read { .. } => {
                if !self.settings.rate_limits || buckets.signals.take(SIGNAL_RATE, now).is_ok() {
                    return deliver(frame);
                }
            }
            ClientFrame::Message { .. }
            | ClientFrame::Edit { .. }
            | ClientFrame::Delete { .. }
            | ClientFrame::React { .. } => {
                if self.settings.rate_limits
                    && let Err(wait) = buckets.messages.take(SOCKET_RATE, now)
                {
                    let error = format!("too many messages, wait {} s", retry_after_secs(wait));
                    self.push_event(&Event::Error { error: &error });
                    return true;
                }
                return deliver(frame);
            }
        }
        true
    }
}

/// A socket's rate budgets.
struct Buckets {
    messages: TokenBucket,
    signals: TokenBucket,
}
