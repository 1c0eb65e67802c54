//! Reading requests off a connection: the head through httparse, then a body framed by
//! Content-Length or chunked transfer coding, each within a size bound and a deadline, so a
//! slow or hostile client cannot hold a worker or memory for long.

use crate::error::ApiError;
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// The longest request head (request line and headers).
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The longest request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// The most header lines.
const MAX_HEADERS: usize = 64;
/// Time for a whole head to arrive (from the first byte, or from the accept for a new
/// connection's first request, time in the queue included).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// ... while other connections wait for a worker.
pub const HEAD_TIMEOUT_BUSY: Duration = Duration::from_secs(2);
/// Wait for the next request on a kept-alive connection.
const KEEP_ALIVE_IDLE: Duration = Duration::from_secs(5);
/// ... while other connections wait for a worker: hand this one back quickly.
const KEEP_ALIVE_IDLE_BUSY: Duration = Duration::from_millis(50);
/// Waits are cut into slices this long, to notice when others start waiting.
const SLICE: Duration = Duration::from_millis(250);
/// Time for a whole body to arrive.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// The most bytes a chunked body may take on the wire, framing included: a body sent in
/// tiny chunks (six bytes of framing per byte of data) is refused rather than read for long.
pub const MAX_CHUNKED_WIRE_BYTES: usize = 2 * MAX_BODY_BYTES;
/// The longest chunk-size line (size, extensions) or trailer line.
const MAX_CHUNK_LINE: usize = 1024;

#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    pub query: String,
    pub minor_version: u8,
    /// Header names in lower case, values as sent (non-UTF-8 bytes replaced).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The length of a body left unread for its handler to stream ([`streams_body`]).
    pub streamed_length: u64,
    /// The client's address: the socket's peer, or the forwarded one from a trusted proxy.
    pub peer: IpAddr,
    /// Whether the client reached us over TLS (through a proxy that terminates it).
    pub https: bool,
    /// The connection comes from one of `--trusted-proxies` (whose headers are believed).
    pub from_trusted_proxy: bool,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> {
        self.headers.iter().filter(move |(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header contains `token` (case-insensitively).
    pub fn header_has_token(&self, name: &str, token: &str) -> bool {
        self.headers_named(name).flat_map(|v| v.split(',')).any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    pub fn is_head(&self) -> bool {
        self.method == "HEAD"
    }

    pub fn keep_alive(&self) -> bool {
        if self.minor_version == 0 {
            self.header_has_token("connection", "keep-alive")
        } else {
            !self.header_has_token("connection", "close")
        }
    }

    /// Whether an error should be JSON (API clients) or a page (browsers).
    pub fn wants_json(&self) -> bool {
        let path = self.path.as_str();
        if ["/api/", "/history/", "/ws/", "/hooks/"].iter().any(|p| path.starts_with(p))
            || path == "/healthz"
            || path == "/metrics"
        {
            return true;
        }
        let accept = self.header("accept").unwrap_or("");
        let content_type = self.header("content-type").unwrap_or("");
        (accept.contains("application/json") && !accept.contains("text/html"))
            || content_type.starts_with("application/json")
    }

    /// The value of a query parameter, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        crate::http::form::parse(self.query.as_bytes()).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// What a worker waits for.
#[derive(Debug, Clone, Copy)]
pub enum Wait {
    /// The first request of a new connection: its head is due counting from the accept, so
    /// time spent waiting in the queue counts (a silent connection that waited out its
    /// deadline there is dropped at once, unless its request has arrived meanwhile).
    FirstRequest { accepted_at: Instant },
    /// The next request on a kept-alive connection.
    KeepAlive,
}

/// Why no request came.
#[derive(Debug)]
pub enum ReadError {
    /// Closed, or idle between requests: end the connection without a word.
    Idle,
    /// Answer with this error, then close (the stream may be out of step).
    Reject(ApiError),
}

/// What reading needs to know about proxies.
pub struct Proxies<'a> {
    pub trusted: &'a [IpAddr],
    pub behind_tls: bool,
}

/// A client connection being served by a worker.
pub struct HttpConn {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    /// Bytes received but not yet consumed (the start of a pipelined request, or of the
    /// first WebSocket frames after a handshake).
    buf: Vec<u8>,
}

fn timed_out(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
}

impl HttpConn {
    pub fn new(stream: TcpStream, peer: SocketAddr) -> HttpConn {
        HttpConn { stream, peer, buf: Vec::new() }
    }

    /// The stream, and the bytes read past the last request (for a WebSocket reader).
    pub fn into_parts(self) -> (TcpStream, Vec<u8>) {
        (self.stream, self.buf)
    }

    /// Reads more bytes, waiting at most `timeout`. `Ok(0)`: the peer closed.
    fn fill(&mut self, timeout: Duration) -> Result<usize, io::Error> {
        if timeout.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(timeout))?;
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk)?;
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// `Expect: 100-continue` with nothing of the body sent yet: tell the client to go on.
    fn continue_if_expected(&mut self, request: &Request) {
        if request.header_has_token("expect", "100-continue") && self.buf.is_empty() {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
    }

    /// Reads more of a body before `deadline`.
    fn fill_body(&mut self, deadline: Instant) -> Result<(), ReadError> {
        match self.fill(deadline.saturating_duration_since(Instant::now())) {
            Ok(0) => Err(ReadError::Idle),
            Ok(_) => Ok(()),
            Err(e) if timed_out(&e) => Err(ReadError::Reject(ApiError::Timeout)),
            Err(_) => Err(ReadError::Idle),
        }
    }

    /// Reads what has arrived, without waiting; whether anything had.
    fn fill_now(&mut self) -> bool {
        if self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let mut chunk = [0u8; 4096];
        let n = self.stream.read(&mut chunk).unwrap_or(0);
        self.buf.extend_from_slice(&chunk[..n]);
        let _ = self.stream.set_nonblocking(false);
        n > 0
    }

    /// Reads the next request. `wait` says how long to wait for its first byte; `busy` says
    /// whether other connections are waiting for a worker, which shortens every wait: an idle
    /// keep-alive connection is handed back, a head must arrive within [`HEAD_TIMEOUT_BUSY`].
    /// So a client trickling its head holds a worker at most [`HEAD_TIMEOUT`], and at most
    /// [`HEAD_TIMEOUT_BUSY`] while anyone else waits.
    pub fn read_request(
        &mut self,
        wait: Wait,
        proxies: &Proxies,
        busy: &dyn Fn() -> bool,
    ) -> Result<Request, ReadError> {
        let waiting_since = match wait {
            Wait::FirstRequest { accepted_at } => accepted_at,
            Wait::KeepAlive => Instant::now(),
        };
        let mut head_since = (!self.buf.is_empty()).then_some(waiting_since);
        let mut looked_late = false;
        let (mut request, head_len) = loop {
            if !self.buf.is_empty() {
                if let Some(parsed) = parse_head(&self.buf)? {
                    break parsed;
                }
                if self.buf.len() >= MAX_HEAD_BYTES {
                    return Err(ReadError::Reject(ApiError::HeadersTooLarge));
                }
            }
            let busy = busy();
            let deadline = match (head_since, wait) {
                (Some(since), _) => since + if busy { HEAD_TIMEOUT_BUSY } else { HEAD_TIMEOUT },
                (None, Wait::FirstRequest { .. }) => {
                    waiting_since + if busy { HEAD_TIMEOUT_BUSY } else { HEAD_TIMEOUT }
                }
                (None, Wait::KeepAlive) => waiting_since + if busy { KEEP_ALIVE_IDLE_BUSY } else { KEEP_ALIVE_IDLE },
            };
            let now = Instant::now();
            if now >= deadline && head_since.is_none() && !looked_late {
                // Past the deadline before a worker got to it: whatever has arrived meanwhile
                // (a whole request, typically) is still served; a silent connection is not.
                looked_late = true;
                if self.fill_now() {
                    head_since = Some(waiting_since);
                    continue;
                }
            }
            if now >= deadline {
                return Err(match head_since {
                    Some(_) => ReadError::Reject(ApiError::Timeout),
                    None => ReadError::Idle,
                });
            }
            match self.fill((deadline - now).min(SLICE)) {
                Ok(0) => return Err(ReadError::Idle),
                Ok(_) => {
                    if head_since.is_none() {
                        head_since = Some(match wait {
                            Wait::FirstRequest { .. } => waiting_since,
                            Wait::KeepAlive => Instant::now(),
                        });
                    }
                }
                Err(e) if timed_out(&e) => continue,
                Err(_) => return Err(ReadError::Idle),
            }
        };
        self.buf.drain(..head_len);
        let (peer, https) = client_address(&request, self.peer.ip(), proxies);
        request.peer = peer;
        request.https = https;
        request.from_trusted_proxy = proxies.trusted.contains(&self.peer.ip());
        if streams_body(&request) {
            // An upload is streamed to disk by its handler, which needs its length up front.
            request.streamed_length = match body_framing(&request)? {
                BodyFraming::Empty => 0,
                BodyFraming::Length(length) => length,
                BodyFraming::Chunked => return Err(ReadError::Reject(ApiError::LengthRequired)),
            };
            return Ok(request);
        }
        match body_framing(&request)? {
            BodyFraming::Empty => {}
            BodyFraming::Length(length) => {
                let length = in_memory_length(length)?;
                self.continue_if_expected(&request);
                let deadline = Instant::now() + BODY_TIMEOUT;
                while self.buf.len() < length {
                    self.fill_body(deadline)?;
                }
                request.body = self.buf.drain(..length).collect();
            }
            BodyFraming::Chunked => {
                self.continue_if_expected(&request);
                let deadline = Instant::now() + BODY_TIMEOUT;
                loop {
                    match decode_chunked(&self.buf, MAX_BODY_BYTES) {
                        Ok(Some((body, used))) => {
                            self.buf.drain(..used);
                            request.body = body;
                            break;
                        }
                        Ok(None) if self.buf.len() >= MAX_CHUNKED_WIRE_BYTES => {
                            return Err(ReadError::Reject(ApiError::PayloadTooLarge));
                        }
                        Ok(None) => self.fill_body(deadline)?,
                        Err(e) => return Err(ReadError::Reject(e)),
                    }
                }
            }
        }
        Ok(request)
    }
}

/// Why a streamed body did not arrive whole.
#[derive(Debug)]
pub enum BodyError {
    /// The client closed (or reset) the connection before sending all of it.
    Closed,
    /// It did not arrive by the deadline.
    TimedOut,
    /// Writing it where it goes failed.
    Sink(io::Error),
}

impl HttpConn {
    /// Streams a body of `length` bytes — what was read past the head first, then the socket —
    /// into `sink`, all of it by `deadline`. For uploads, which are far larger than
    /// [`MAX_BODY_BYTES`] and never held in memory.
    pub fn stream_body(&mut self, length: u64, sink: &mut dyn Write, deadline: Instant) -> Result<(), BodyError> {
        let buffered = self.buf.len().min(usize::try_from(length).unwrap_or(usize::MAX));
        sink.write_all(&self.buf[..buffered]).map_err(BodyError::Sink)?;
        self.buf.drain(..buffered);
        let mut left = length - buffered as u64;
        let mut chunk = vec![0u8; 64 * 1024];
        while left > 0 {
            let now = Instant::now();
            if now >= deadline {
                return Err(BodyError::TimedOut);
            }
            let _ = self.stream.set_read_timeout(Some((deadline - now).min(SLICE * 8)));
            let want = chunk.len().min(usize::try_from(left).unwrap_or(usize::MAX));
            match self.stream.read(&mut chunk[..want]) {
                Ok(0) => return Err(BodyError::Closed),
                Ok(n) => {
                    sink.write_all(&chunk[..n]).map_err(BodyError::Sink)?;
                    left -= n as u64;
                }
                Err(e) if timed_out(&e) => continue,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(BodyError::Closed),
            }
        }
        Ok(())
    }

    /// Answers `Expect: 100-continue` (once a streamed body is wanted).
    pub fn send_continue(&mut self, request: &Request) {
        if request.header_has_token("expect", "100-continue") && self.buf.is_empty() {
            let _ = self.stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
    }

    /// After answering a request whose body was left unread (a refused upload): stop writing,
    /// then read and discard what the client still sends, for at most `max`, before closing —
    /// closing with unread bytes would reset the connection, and the client might lose the
    /// answer. Nothing read is kept.
    pub fn linger(mut self, max: Duration) {
        let _ = self.stream.shutdown(std::net::Shutdown::Write);
        let deadline = Instant::now() + max;
        let mut chunk = [0u8; 8192];
        loop {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            let _ = self.stream.set_read_timeout(Some(deadline - now));
            match self.stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }
}

/// Whether a request's body is left for its handler to stream rather than read here: uploads
/// (`POST /api/files`), the one request allowed a body over [`MAX_BODY_BYTES`].
pub fn streams_body(request: &Request) -> bool {
    request.method == "POST" && request.path == "/api/files"
}

/// Parses a complete head from the start of `buf`; `None` if more bytes are needed.
pub fn parse_head(buf: &[u8]) -> Result<Option<(Request, usize)>, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let head_len = match parsed.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(ReadError::Reject(ApiError::HeadersTooLarge)),
        Err(e) => return Err(ReadError::Reject(ApiError::bad_request(format!("malformed request: {e}")))),
    };
    if head_len > MAX_HEAD_BYTES {
        return Err(ReadError::Reject(ApiError::HeadersTooLarge));
    }
    let malformed = || ReadError::Reject(ApiError::bad_request("malformed request line"));
    let method = parsed.method.ok_or_else(malformed)?.to_string();
    let target = parsed.path.ok_or_else(malformed)?;
    let minor_version = parsed.version.ok_or_else(malformed)?;
    if !target.starts_with('/') {
        return Err(ReadError::Reject(ApiError::bad_request("the request target must be a path")));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).trim().to_string()))
        .collect();
    if headers.iter().filter(|(n, _)| n == "host").count() > 1 {
        return Err(ReadError::Reject(ApiError::bad_request("more than one Host header")));
    }
    let request = Request {
        method,
        path: path.to_string(),
        query: query.to_string(),
        minor_version,
        headers,
        body: Vec::new(),
        streamed_length: 0,
        peer: IpAddr::from([0, 0, 0, 0]),
        https: false,
        from_trusted_proxy: false,
    };
    Ok(Some((request, head_len)))
}

/// How a request's body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    Empty,
    /// A Content-Length, however large: uploads stream far more than [`MAX_BODY_BYTES`].
    Length(u64),
    Chunked,
}

/// A body read into memory must fit [`MAX_BODY_BYTES`].
pub fn in_memory_length(length: u64) -> Result<usize, ReadError> {
    match usize::try_from(length) {
        Ok(n) if n <= MAX_BODY_BYTES => Ok(n),
        _ => Err(ReadError::Reject(ApiError::PayloadTooLarge)),
    }
}

/// How the body is framed, refusing what we can't or won't read: both Transfer-Encoding and
/// Content-Length (the classic request-smuggling shape), any transfer coding but a lone
/// `chunked`, chunked in HTTP/1.0, conflicting or malformed lengths.
pub fn body_framing(request: &Request) -> Result<BodyFraming, ReadError> {
    let reject = |e| Err(ReadError::Reject(e));
    let lengths: Vec<&str> = request.headers_named("content-length").collect();
    let codings: Vec<&str> = request.headers_named("transfer-encoding").collect();
    if !codings.is_empty() && !lengths.is_empty() {
        return reject(ApiError::bad_request("both Transfer-Encoding and Content-Length"));
    }
    if !codings.is_empty() {
        let only_chunked = codings.len() == 1 && codings[0].trim().eq_ignore_ascii_case("chunked");
        if !only_chunked {
            return reject(ApiError::NotImplemented("the only transfer coding accepted is chunked"));
        }
        if request.minor_version == 0 {
            return reject(ApiError::bad_request("chunked transfer coding needs HTTP/1.1"));
        }
        return Ok(BodyFraming::Chunked);
    }
    let Some(first) = lengths.first() else { return Ok(BodyFraming::Empty) };
    if lengths.iter().any(|l| l != first) {
        return reject(ApiError::bad_request("conflicting Content-Length headers"));
    }
    if first.is_empty() || !first.bytes().all(|b| b.is_ascii_digit()) || first.len() > 18 {
        return reject(ApiError::bad_request("invalid Content-Length"));
    }
    match first.parse::<u64>() {
        Ok(0) => Ok(BodyFraming::Empty),
        Ok(n) => Ok(BodyFraming::Length(n)),
        Err(_) => reject(ApiError::bad_request("invalid Content-Length")),
    }
}

/// One CRLF-terminated line at `at`: its content and where the next begins; `None` if the
/// line is not complete yet. A bare LF, or a line longer than [`MAX_CHUNK_LINE`], is refused.
fn chunk_line(buf: &[u8], at: usize) -> Result<Option<(&[u8], usize)>, ApiError> {
    let rest = &buf[at.min(buf.len())..];
    match rest.iter().position(|b| *b == b'\n') {
        None if rest.len() > MAX_CHUNK_LINE => Err(ApiError::bad_request("chunked body: line too long")),
        None => Ok(None),
        Some(end) if end > MAX_CHUNK_LINE => Err(ApiError::bad_request("chunked body: line too long")),
        Some(0) => Err(ApiError::bad_request("chunked body: bare LF")),
        Some(end) if rest[end - 1] != b'\r' => Err(ApiError::bad_request("chunked body: bare LF")),
        Some(end) => Ok(Some((&rest[..end - 1], at + end + 1))),
    }
}

/// Decodes a chunked body (RFC 9112, section 7.1) from the start of `buf`:
/// `Some((body, bytes used))` once it is complete, `None` while more bytes are needed.
/// Chunk extensions and trailer fields are read and ignored; a decoded body over `limit` is
/// refused with 413 as soon as its size is announced, before the data is read.
pub fn decode_chunked(buf: &[u8], limit: usize) -> Result<Option<(Vec<u8>, usize)>, ApiError> {
    let malformed = |what: &'static str| ApiError::bad_request(what);
    let mut body = Vec::new();
    let mut at = 0;
    loop {
        let Some((line, next)) = chunk_line(buf, at)? else { return Ok(None) };
        let digits = line.split(|b| *b == b';').next().unwrap_or_default();
        if digits.is_empty() || digits.len() > 8 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(malformed("chunked body: invalid chunk size"));
        }
        let size = digits.iter().fold(0usize, |n, d| n * 16 + (*d as char).to_digit(16).unwrap_or(0) as usize);
        if line[digits.len()..].iter().any(|b| b.is_ascii_control() && *b != b'\t') {
            return Err(malformed("chunked body: invalid chunk extension"));
        }
        if body.len() + size > limit {
            return Err(ApiError::PayloadTooLarge);
        }
        at = next;
        if size == 0 {
            break;
        }
        let end = at + size;
        if buf.len() < end + 2 {
            return Ok(None);
        }
        if &buf[end..end + 2] != b"\r\n" {
            return Err(malformed("chunked body: chunk data does not end with CRLF"));
        }
        body.extend_from_slice(&buf[at..end]);
        at = end + 2;
    }
    // Trailer fields, up to the empty line; their total is bounded like a head.
    let trailers_from = at;
    loop {
        let Some((line, next)) = chunk_line(buf, at)? else { return Ok(None) };
        at = next;
        if line.is_empty() {
            return Ok(Some((body, at)));
        }
        if at - trailers_from > MAX_HEAD_BYTES {
            return Err(ApiError::HeadersTooLarge);
        }
        if !line.contains(&b':') {
            return Err(malformed("chunked body: malformed trailer field"));
        }
    }
}

/// The client's address and scheme: from X-Forwarded-For/-Proto only when the connection
/// comes from a trusted proxy. The rightmost address not itself a trusted proxy is the
/// client (the ones to its left are the client's claims, not the proxy's).
fn client_address(request: &Request, socket_peer: IpAddr, proxies: &Proxies) -> (IpAddr, bool) {
    if !proxies.trusted.contains(&socket_peer) {
        return (socket_peer, proxies.behind_tls);
    }
    let forwarded = request
        .headers_named("x-forwarded-for")
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    let client = forwarded.iter().rev().find(|a| !proxies.trusted.contains(a)).copied().unwrap_or(socket_peer);
    let https =
        proxies.behind_tls || request.header("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"));
    (client, https)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> Request {
        match parse_head(raw.as_bytes()) {
            Ok(Some((r, _))) => r,
            other => panic!("not parsed: {:?}", other.err()),
        }
    }

    fn rejected(raw: &str) -> ApiError {
        match parse_head(raw.as_bytes()).and_then(|r| match r {
            Some((req, _)) => body_framing(&req).and_then(|framing| match framing {
                BodyFraming::Length(length) => in_memory_length(length).map(|_| ()),
                _ => Ok(()),
            }),
            None => Ok(()),
        }) {
            Err(ReadError::Reject(e)) => e,
            _ => panic!("accepted: {raw:?}"),
        }
    }

    #[test]
    fn parses_path_query_and_headers() {
        let r = head("GET /search?q=a%20b HTTP/1.1\r\nHost: x\r\nX-Thing:  v \r\n\r\n");
        assert_eq!(r.path, "/search");
        assert_eq!(r.query_param("q").as_deref(), Some("a b"));
        assert_eq!(r.header("x-thing"), Some("v"));
        assert!(r.keep_alive());
        assert!(parse_head(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap().is_none(), "partial");
    }

    #[test]
    fn refuses_what_it_should() {
        assert_eq!(rejected("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n").status(), 400);
        assert_eq!(rejected("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n").status(), 400);
        assert_eq!(rejected("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n").status(), 400);
        assert_eq!(rejected("POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n").status(), 413);
        assert_eq!(rejected("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n").status(), 501);
        assert_eq!(
            rejected("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n").status(),
            501
        );
        assert_eq!(rejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n").status(), 400);
        assert_eq!(
            rejected("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n").status(),
            400
        );
        assert_eq!(rejected("GET http://x/ HTTP/1.1\r\n\r\n").status(), 400);
        assert_eq!(rejected("BAD\r\n\r\n").status(), 400);
        let many: String = (0..70).map(|i| format!("X-{i}: 1\r\n")).collect();
        assert_eq!(rejected(&format!("GET / HTTP/1.1\r\n{many}\r\n")).status(), 431);
    }

    #[test]
    fn chunked_bodies_decode_within_bounds() {
        let whole = b"5;name=v\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\nNEXT";
        let (body, used) = decode_chunked(whole, 100).unwrap().unwrap();
        assert_eq!(body, b"hello world");
        assert_eq!(&whole[used..], b"NEXT");
        for cut in 0..whole.len() - 4 {
            assert!(decode_chunked(&whole[..cut], 100).unwrap().is_none(), "complete at {cut}?");
        }
        assert_eq!(decode_chunked(b"A\r\n", 9).unwrap_err().status(), 413, "refused when announced");
        assert_eq!(decode_chunked(b"ffffffffff\r\n", 9).unwrap_err().status(), 400);
        for bad in
            [&b"x\r\n"[..], b"\r\n", b"5\nhello\r\n", b"5\r\nhelloXX0\r\n\r\n", b"-1\r\n", b"0\r\nnocolon\r\n\r\n"]
        {
            assert_eq!(decode_chunked(bad, 100).unwrap_err().status(), 400, "{:?}", String::from_utf8_lossy(bad));
        }
        let long = format!("1;{}\r\n", "e".repeat(2000));
        assert!(decode_chunked(long.as_bytes(), 100).is_err());
    }

    #[test]
    fn forwarded_address_only_from_trusted_proxies() {
        let r = head("GET / HTTP/1.1\r\nX-Forwarded-For: 6.6.6.6, 10.0.0.9\r\nX-Forwarded-Proto: https\r\n\r\n");
        let proxy: IpAddr = "127.0.0.1".parse().unwrap();
        let trusted = [proxy];
        let with = Proxies { trusted: &trusted, behind_tls: false };
        assert_eq!(client_address(&r, proxy, &with), ("10.0.0.9".parse().unwrap(), true));
        let without = Proxies { trusted: &[], behind_tls: false };
        assert_eq!(client_address(&r, proxy, &without), (proxy, false));
    }
}
