//! Entry points shared by the fuzz targets (`tests/fuzz`) and the regression test that
//! replays their findings (`tests/it/fuzz_regressions.rs`). Each must never panic, whatever
//! the bytes.

use crate::http::form;
use crate::http::request::{BodyFraming, MAX_BODY_BYTES, body_framing, decode_chunked, parse_head};
use crate::protocol::Channel;

/// An HTTP request head (and what a handler would read from it).
pub fn http_request(data: &[u8]) {
    if let Ok(Some((request, head_len))) = parse_head(data) {
        assert!(head_len <= data.len());
        if let Ok(BodyFraming::Chunked) = body_framing(&request) {
            chunked_body(&data[head_len..]);
        }
        let _ = request.keep_alive();
        let _ = request.query_param("q");
        if let Some(cookies) = request.header("cookie") {
            let _ = form::cookie(cookies, "mychat_session");
        }
        let _ = form::parse(&data[head_len..]);
        let _ = crate::templates::Lang::of(&request);
    }
}

/// A chunked body: whatever it decodes to stays within the bound, and a decoded body is
/// found again (the same bytes, the same length used) with more bytes after it.
pub fn chunked_body(data: &[u8]) {
    if let Ok(Some((body, used))) = decode_chunked(data, MAX_BODY_BYTES) {
        assert!(body.len() <= MAX_BODY_BYTES && used <= data.len() && body.len() <= used);
        let mut longer = data[..used].to_vec();
        longer.extend_from_slice(b"0\r\n\r\n");
        assert_eq!(decode_chunked(&longer, MAX_BODY_BYTES).ok().flatten(), Some((body, used)));
    }
    for cut in [data.len() / 2, data.len().saturating_sub(1)] {
        if let Ok(Some((_, used))) = decode_chunked(&data[..cut], MAX_BODY_BYTES) {
            assert!(used <= cut);
        }
    }
}

/// Client WebSocket bytes, decoded as a server socket of the kind chosen by the first byte.
pub fn ws_frames(data: &[u8]) {
    let Some((selector, bytes)) = data.split_first() else { return };
    let channel = match selector % 4 {
        0 => Channel::Private,
        1 => Channel::Room,
        2 => Channel::Global,
        _ => Channel::Status,
    };
    let (frames, close) = crate::transport::reader::decode_client_bytes(channel, bytes);
    if let Some(code) = close {
        assert!(matches!(code, 1002 | 1007 | 1009), "unexpected close code {code}");
    }
    for frame in frames.into_iter().flatten().flatten() {
        if let crate::protocol::ClientFrame::Message { text, .. } = frame {
            assert!(!text.trim().is_empty() && text.chars().count() <= crate::protocol::MAX_TEXT_CHARS);
        }
    }
}
