//! `multipart/form-data` bodies (RFC 7578): the fields of a form, as Gotify's and Uptime
//! Kuma's senders post them. Bounded by the body it reads (64 KiB) and by [`MAX_PARTS`].

/// Parts read at most.
const MAX_PARTS: usize = 32;

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Option<&str> {
    let (kind, params) = content_type.split_once(';')?;
    if !kind.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    params
        .split(';')
        .find_map(|p| {
            let (name, value) = p.split_once('=')?;
            name.trim().eq_ignore_ascii_case("boundary").then(|| value.trim().trim_matches('"'))
        })
        .filter(|b| !b.is_empty() && b.len() <= 200)
}

/// The named parts of a body: `(name, value)`. Errors name what is wrong.
pub fn parse(body: &[u8], boundary: &str) -> Result<Vec<(String, Vec<u8>)>, &'static str> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let mut at = find(body, delimiter, 0).ok_or("multipart body without its boundary")? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body[at..].starts_with(b"--") {
            return Ok(parts);
        }
        if !body[at..].starts_with(b"\r\n") {
            return Err("multipart boundary not followed by a line end");
        }
        at += 2;
        let head_end = find(body, b"\r\n\r\n", at).ok_or("multipart part without a blank line")?;
        let head = String::from_utf8_lossy(&body[at..head_end]);
        let name = part_name(&head).ok_or("multipart part without a name")?;
        let content_from = head_end + 4;
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(delimiter);
        let end = find(body, &closing, content_from).ok_or("multipart part not closed by the boundary")?;
        parts.push((name, body[content_from..end].to_vec()));
        if parts.len() > MAX_PARTS {
            return Err("too many multipart parts");
        }
        at = end + closing.len();
    }
}

/// The `name` of a part's `Content-Disposition: form-data; name="..."`.
fn part_name(head: &str) -> Option<String> {
    let disposition = head
        .split("\r\n")
        .find_map(|line| line.split_once(':').filter(|(n, _)| n.trim().eq_ignore_ascii_case("content-disposition")))?
        .1;
    disposition.split(';').find_map(|p| {
        let (key, value) = p.split_once('=')?;
        key.trim().eq_ignore_ascii_case("name").then(|| value.trim().trim_matches('"').to_string())
    })
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..].windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_named_parts() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHi\r\n--XyZ\r\n\
                     Content-Disposition: form-data; name=\"message\"\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2\r\n--XyZ--\r\n";
        let parts = parse(body, "XyZ").unwrap();
        assert_eq!(parts, vec![("title".into(), b"Hi".to_vec()), ("message".into(), b"line1\r\nline2".to_vec())]);
        assert_eq!(boundary("multipart/form-data; boundary=\"XyZ\""), Some("XyZ"));
        assert_eq!(boundary("application/json"), None);
        assert!(parse(b"--XyZ\r\nno blank line", "XyZ").is_err());
        assert!(parse(b"nothing", "XyZ").is_err());
    }
}
