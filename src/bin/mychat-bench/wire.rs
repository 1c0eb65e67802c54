//! Bytes on the wire, as a client writes and reads them: the WebSocket opening handshake,
//! client frames (always masked, RFC 6455 §5.3), server frames, and HTTP/1.1 response heads.
//! Pure functions over buffers, so the event loop owns all I/O.

/// Frame opcodes (RFC 6455 §5.2).
pub const CONTINUATION: u8 = 0x0;
pub const TEXT: u8 = 0x1;
pub const BINARY: u8 = 0x2;
pub const CLOSE: u8 = 0x8;
pub const PING: u8 = 0x9;
pub const PONG: u8 = 0xA;

/// A small, fast generator for masking keys and handshake nonces, seeded from the OS.
/// (A load generator's masks need not be secret; they must vary, which this ensures.)
pub struct Rng(u64);

impl Rng {
    pub fn from_os() -> Rng {
        let seed = getrandom::u64().unwrap_or_else(|_| crate::sys::now_ns() ^ 0x9E37_79B9_7F4A_7C15);
        Rng(seed | 1)
    }

    /// xorshift64*.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `[low, high)`.
    pub fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low { low } else { low + self.next() % (high - low) }
    }
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64.
pub fn handshake_key(rng: &mut Rng) -> String {
    let mut raw = [0u8; 16];
    raw[..8].copy_from_slice(&rng.next().to_le_bytes());
    raw[8..].copy_from_slice(&rng.next().to_le_bytes());
    base64(&raw)
}

/// The opening handshake of a WebSocket at `path`, authenticated with `cookie`.
pub fn handshake_request(host: &str, path: &str, cookie: Option<&str>, key: &str) -> Vec<u8> {
    let mut head = format!(
        "GET {path} HTTP/1.1\r\nhost: {host}\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\
         sec-websocket-version: 13\r\nsec-websocket-key: {key}\r\n"
    );
    if let Some(cookie) = cookie {
        head.push_str("cookie: ");
        head.push_str(cookie);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    head.into_bytes()
}

/// Appends a masked client frame (FIN set) to `out`.
pub fn encode_client_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8], mask: [u8; 4]) {
    out.push(0x80 | opcode);
    let len = payload.len();
    if len < 126 {
        out.push(0x80 | len as u8);
    } else if len <= 0xFFFF {
        out.push(0x80 | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0x80 | 127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
    out.extend_from_slice(&mask);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
}

/// One frame as the server sent it.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    pub fin: bool,
    pub opcode: u8,
    pub payload: &'a [u8],
}

/// Parses the frame at the start of `buf`: `Ok(None)` until it is complete, then the frame
/// and the bytes it took. Server frames must not be masked; payloads over `max` are refused.
pub fn parse_frame(buf: &[u8], max: usize) -> Result<Option<(Frame<'_>, usize)>, String> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let (b0, b1) = (buf[0], buf[1]);
    if b0 & 0x70 != 0 {
        return Err(format!("reserved bits set in frame header {b0:#04x}"));
    }
    if b1 & 0x80 != 0 {
        return Err("the server sent a masked frame".into());
    }
    let (len, header) = match b1 & 0x7F {
        126 if buf.len() >= 4 => (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4),
        127 if buf.len() >= 10 => {
            let mut raw = [0u8; 8];
            raw.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(raw), 10)
        }
        126 | 127 => return Ok(None),
        n => (u64::from(n), 2),
    };
    if len > max as u64 {
        return Err(format!("frame of {len} bytes is over the bench's limit of {max}"));
    }
    let end = header + len as usize;
    if buf.len() < end {
        return Ok(None);
    }
    let frame = Frame { fin: b0 & 0x80 != 0, opcode: b0 & 0x0F, payload: &buf[header..end] };
    Ok(Some((frame, end)))
}

/// What matters in an HTTP/1.1 response head.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub len: usize,
    pub content_length: Option<usize>,
    pub close: bool,
    pub accept: Option<String>,
    pub retry_after: Option<u64>,
    /// `name=value` of every `set-cookie`.
    pub cookies: Vec<String>,
    pub location: Option<String>,
}

/// Parses a response head at the start of `buf`; `Ok(None)` until it is complete.
pub fn parse_head(buf: &[u8]) -> Result<Option<Head>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 48];
    let mut response = httparse::Response::new(&mut headers);
    let len = match response.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("bad HTTP response: {e}")),
    };
    let mut head = Head { status: response.code.unwrap_or(0), len, ..Head::default() };
    for h in response.headers.iter() {
        let value = String::from_utf8_lossy(h.value);
        let value = value.trim();
        match h.name.to_ascii_lowercase().as_str() {
            "content-length" => {
                head.content_length = Some(value.parse().map_err(|_| format!("bad content-length {value:?}"))?)
            }
            "connection" => head.close = value.eq_ignore_ascii_case("close"),
            "sec-websocket-accept" => head.accept = Some(value.to_string()),
            "retry-after" => head.retry_after = value.parse().ok(),
            "set-cookie" => head.cookies.push(value.split(';').next().unwrap_or("").trim().to_string()),
            "location" => head.location = Some(value.to_string()),
            _ => {}
        }
    }
    Ok(Some(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        assert_eq!(base64(b"the sample nonce"), "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        let key = handshake_key(&mut Rng::from_os());
        assert_eq!(key.len(), 24);
        assert!(key.ends_with("=="));
    }

    #[test]
    fn client_frames_are_masked_and_sized() {
        let mut out = Vec::new();
        encode_client_frame(&mut out, TEXT, b"Hello", [0x37, 0xfa, 0x21, 0x3d]);
        // RFC 6455 §5.7: a masked "Hello".
        assert_eq!(out, [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        out.clear();
        encode_client_frame(&mut out, TEXT, &[b'x'; 300], [0; 4]);
        assert_eq!(&out[..4], &[0x81, 0x80 | 126, 1, 44]);
        assert_eq!(out.len(), 4 + 4 + 300);
    }

    #[test]
    fn server_frames_parse_incrementally() {
        let mut bytes = vec![0x81, 0x03, b'a', b'b', b'c', 0x89, 0x00];
        bytes.extend_from_slice(&[0x81, 126, 0x01, 0x00]);
        bytes.extend_from_slice(&[b'z'; 256]);
        assert_eq!(parse_frame(&bytes[..4], 1024), Ok(None));
        let (frame, used) = parse_frame(&bytes, 1024).unwrap().unwrap();
        assert_eq!(frame, Frame { fin: true, opcode: TEXT, payload: b"abc" });
        let (frame, used2) = parse_frame(&bytes[used..], 1024).unwrap().unwrap();
        assert_eq!((frame.opcode, frame.payload.len()), (PING, 0));
        let rest = &bytes[used + used2..];
        assert_eq!(parse_frame(&rest[..100], 1024), Ok(None));
        let (frame, _) = parse_frame(rest, 1024).unwrap().unwrap();
        assert_eq!(frame.payload.len(), 256);
        assert!(parse_frame(rest, 100).is_err());
        assert!(parse_frame(&[0x81, 0x81, 0, 0, 0, 0, 0], 1024).is_err(), "masked server frame");
    }

    #[test]
    fn response_heads() {
        let raw = b"HTTP/1.1 303 See Other\r\nlocation: /index\r\nset-cookie: mychat_session=abc; Path=/; HttpOnly\r\n\
                    set-cookie: user_id=u1; Path=/\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n";
        assert_eq!(parse_head(&raw[..20]), Ok(None));
        let head = parse_head(raw).unwrap().unwrap();
        assert_eq!(head.status, 303);
        assert_eq!(head.len, raw.len());
        assert_eq!(head.cookies, ["mychat_session=abc", "user_id=u1"]);
        assert_eq!(head.content_length, Some(0));
        assert!(!head.close);
    }
}
