//! A socket's reader thread: reads frames through tungstenite's protocol state machine,
//! decodes them, checks the per-socket rate, and hands messages to the hub.
//!
//! It never writes to the socket itself. The protocol's own replies (pong, the close
//! handshake) are captured by [`ReaderIo`] and queued for the writer like any other frame.
//! It also keeps the connection honest: a peer silent for a quarter of `--socket-timeout` is
//! pinged, and one silent for all of it (gone without a close frame) is dropped.

use super::frame;
use super::queue::{Outbound, OutboundQueue};
use crate::hub::{Command, ConnId, HubClient};
use crate::limits::{Rate, TokenBucket, retry_after_secs};
use crate::protocol::{self, Channel, ClientFrame, Event};
use std::io::{self, Read, Write};
use std::net::TcpStream;
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
/// Messages per socket: twenty at once, then ten a second.
const SOCKET_RATE: Rate = Rate::new(20, Duration::from_millis(100));

/// The socket as tungstenite sees it: reads come from the TCP stream, writes (protocol
/// replies) are collected and queued for the writer thread on flush.
struct ReaderIo<'a> {
    stream: &'a TcpStream,
    queue: &'a OutboundQueue,
    replies: Vec<u8>,
}

impl Read for ReaderIo<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        (&*self.stream).read(buf)
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
            // A full queue means the peer is being cut off anyway.
            let _ = self.queue.push(Outbound::Frame(bytes));
        }
        Ok(())
    }
}

pub struct Reader {
    pub conn: ConnId,
    pub channel: Channel,
    pub stream: Arc<TcpStream>,
    pub queue: OutboundQueue,
    pub hub: HubClient,
    /// Bytes the client sent right after its handshake, already read by the worker.
    pub leftover: Vec<u8>,
    pub rate_limits: bool,
    /// Silence after which the peer counts as gone.
    pub timeout: Duration,
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

impl Reader {
    fn push_event(&self, event: &Event) {
        let _ = self.queue.push(Outbound::Frame(frame::event(event)));
    }

    pub fn run(mut self) {
        let leftover = std::mem::take(&mut self.leftover);
        let mut ctx = WebSocketContext::from_partially_read(leftover, Role::Server, Some(socket_config()));
        let ping_after = self.timeout / 4;
        let _ = self.stream.set_read_timeout(Some(ping_after));
        let mut io = ReaderIo { stream: &self.stream, queue: &self.queue, replies: Vec::new() };
        let start = Instant::now();
        let mut last_heard = start;
        let mut last_ping = start;
        let mut next_app_ping = start + APP_PING_EVERY;
        let mut bucket = TokenBucket::full(SOCKET_RATE, start);
        let close = loop {
            match ctx.read(&mut io) {
                Ok(Message::Text(text)) => {
                    last_heard = Instant::now();
                    if !self.on_text(text.as_str(), &mut bucket, last_heard) {
                        break None;
                    }
                }
                Ok(Message::Binary(_)) => {
                    last_heard = Instant::now();
                    self.push_event(&Event::Error { error: protocol::FrameError::Binary.message() });
                }
                // Ping, pong, close (its reply is already queued; the next read ends the loop).
                Ok(_) => last_heard = Instant::now(),
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) =>
                {
                    let now = Instant::now();
                    let silent = now - last_heard;
                    if silent >= self.timeout {
                        log::info!("ws #{} silent for {} s, dropped", self.conn, silent.as_secs());
                        break None;
                    }
                    if silent >= ping_after && now - last_ping >= ping_after {
                        last_ping = now;
                        let _ = self.queue.push(Outbound::Frame(frame::ping()));
                    }
                    if self.channel == Channel::Global && now >= next_app_ping {
                        next_app_ping = now + APP_PING_EVERY;
                        self.push_event(&Event::Ping);
                    }
                }
                Err(e) => break close_code(&e),
            }
        };
        // The protocol's last words (the reply to a close frame) may still be buffered.
        let _ = io.flush();
        self.hub.tell(Command::SocketClosed { conn: self.conn });
        let last = match close {
            Some(code) => Outbound::Close(code, close_reason(code)),
            None => Outbound::Finish,
        };
        let _ = self.queue.push(last);
    }

    /// Handles one text message; `false` when the hub has gone.
    fn on_text(&self, text: &str, bucket: &mut TokenBucket, now: Instant) -> bool {
        let frame = match protocol::decode(self.channel, text) {
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
            ClientFrame::Message { .. } => {
                if self.rate_limits
                    && let Err(wait) = bucket.take(SOCKET_RATE, now)
                {
                    let error = format!("too many messages, wait {} s", retry_after_secs(wait));
                    self.push_event(&Event::Error { error: &error });
                    return true;
                }
                return self.hub.tell(Command::SocketFrame { conn: self.conn, frame });
            }
        }
        true
    }
}
