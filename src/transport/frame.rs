//! Server-to-client frames, encoded once. Server frames are not masked, so one encoding of an
//! event serves every recipient of a broadcast byte for byte.

use serde::Serialize;
use std::sync::Arc;

const FIN_TEXT: u8 = 0x81;
const FIN_CLOSE: u8 = 0x88;
const FIN_PING: u8 = 0x89;
/// Room for the longest header: 2 bytes + 8 of extended length.
const MAX_HEADER: usize = 10;

/// Writes a frame header for `len` payload bytes right-aligned into `out[..MAX_HEADER]`,
/// returning where it starts.
fn put_header(out: &mut [u8], opcode: u8, len: usize) -> usize {
    let start = match len {
        0..=125 => {
            out[MAX_HEADER - 1] = len as u8;
            MAX_HEADER - 2
        }
        126..=0xFFFF => {
            out[MAX_HEADER - 3] = 126;
            out[MAX_HEADER - 2..MAX_HEADER].copy_from_slice(&(len as u16).to_be_bytes());
            MAX_HEADER - 4
        }
        _ => {
            out[MAX_HEADER - 9] = 127;
            out[MAX_HEADER - 8..MAX_HEADER].copy_from_slice(&(len as u64).to_be_bytes());
            MAX_HEADER - 10
        }
    };
    out[start] = opcode;
    start
}

fn frame_with(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; MAX_HEADER];
    out.extend_from_slice(payload);
    let start = put_header(&mut out, opcode, payload.len());
    out.drain(..start);
    out
}

/// A text frame carrying `value` as JSON.
pub fn json<T: Serialize + ?Sized>(value: &T) -> Arc<[u8]> {
    let mut out = vec![0u8; MAX_HEADER];
    if serde_json::to_writer(&mut out, value).is_err() {
        // Our wire types always serialize; an empty object keeps the socket consistent.
        out.truncate(MAX_HEADER);
        out.extend_from_slice(b"{}");
    }
    let len = out.len() - MAX_HEADER;
    let start = put_header(&mut out, FIN_TEXT, len);
    Arc::from(&out[start..])
}

/// A text frame carrying an event.
pub fn event(value: &crate::protocol::Event) -> Arc<[u8]> {
    json(value)
}

/// A close frame; the reason is cut to fit the 123 bytes a control frame allows.
pub fn close(code: u16, reason: &str) -> Vec<u8> {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(&reason.as_bytes()[..end]);
    frame_with(FIN_CLOSE, &payload)
}

/// A ping frame with an empty payload.
pub fn ping() -> Arc<[u8]> {
    Arc::from(&[FIN_PING, 0][..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_use_the_right_encoding() {
        let short = json(&"a");
        assert_eq!(&short[..], b"\x81\x03\"a\"");
        let medium = json(&"x".repeat(200));
        assert_eq!(&medium[..4], &[0x81, 126, 0, 202]);
        assert_eq!(medium.len(), 4 + 202);
        let long = json(&"y".repeat(70_000));
        assert_eq!(long[1], 127);
        assert_eq!(u64::from_be_bytes(long[2..10].try_into().unwrap()), 70_002);
    }

    #[test]
    fn close_frames_carry_code_and_reason() {
        assert_eq!(close(1001, "bye"), vec![0x88, 5, 0x03, 0xE9, b'b', b'y', b'e']);
        let long = close(4000, &"é".repeat(100));
        assert!(long.len() <= 2 + 125);
        assert!(std::str::from_utf8(&long[4..]).is_ok());
    }
}
