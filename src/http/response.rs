//! Responses: status, headers, body, and the security headers every response carries.

use crate::error::ApiError;
use serde::Serialize;
use std::borrow::Cow;
use std::io::{self, Write};

/// Scripts, styles and connections only from our own origin; no inline code, no plugins, no
/// framing, no `<base>`.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
     frame-ancestors 'none'; form-action 'self'";

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    headers: Vec<(&'static str, Cow<'static, str>)>,
    body: Cow<'static, [u8]>,
    /// The length of a body the caller writes after the head (a file), instead of `body`.
    streamed: Option<u64>,
}

pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        303 => "See Other",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        413 => "Content Too Large",
        416 => "Range Not Satisfiable",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "Unknown",
    }
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response { status, headers: Vec::new(), body: Cow::Borrowed(b""), streamed: None }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<Cow<'static, str>>) -> Response {
        self.headers.push((name, value.into()));
        self
    }

    pub fn with_body(mut self, content_type: &'static str, body: impl Into<Cow<'static, [u8]>>) -> Response {
        self.body = body.into();
        self.with_header("content-type", content_type)
    }

    /// A head whose body of `length` bytes the caller writes itself.
    pub fn streamed(mut self, length: u64) -> Response {
        self.streamed = Some(length);
        self
    }

    pub fn json<T: Serialize + ?Sized>(status: u16, value: &T) -> Response {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
        Response::new(status).with_body("application/json", body)
    }

    pub fn html(status: u16, page: String) -> Response {
        Response::new(status).with_body("text/html; charset=utf-8", page.into_bytes())
    }

    pub fn text(status: u16, text: &'static str) -> Response {
        Response::new(status).with_body("text/plain; charset=utf-8", text.as_bytes())
    }

    pub fn redirect(location: impl Into<Cow<'static, str>>) -> Response {
        Response::new(303).with_header("location", location)
    }

    /// `{"error": "..."}` with the error's status and the headers it implies.
    pub fn api_error(error: &ApiError) -> Response {
        #[derive(Serialize)]
        struct Body {
            error: String,
        }
        let response = Response::json(error.status(), &Body { error: error.to_string() });
        error_headers(response, error)
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref())
    }

    /// Every value of a header that may repeat (`set-cookie`).
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_ref())
    }

    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Writes the response in one write. `head_only` for HEAD requests and 304s.
    pub fn write_to(&self, out: &mut impl Write, head_only: bool, keep_alive: bool, https: bool) -> io::Result<()> {
        let mut head = String::with_capacity(512);
        head.push_str(&format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status)));
        for (name, value) in &self.headers {
            head.push_str(name);
            head.push_str(": ");
            head.push_str(value);
            head.push_str("\r\n");
        }
        if self.status != 304 && self.status >= 200 {
            let length = self.streamed.unwrap_or(self.body.len() as u64);
            head.push_str(&format!("content-length: {length}\r\n"));
        }
        if self.header("cache-control").is_none() {
            head.push_str("cache-control: no-store\r\n");
        }
        head.push_str("x-content-type-options: nosniff\r\nreferrer-policy: same-origin\r\nx-frame-options: DENY\r\n");
        if self.header("content-security-policy").is_none() {
            head.push_str("content-security-policy: ");
            head.push_str(CONTENT_SECURITY_POLICY);
            head.push_str("\r\n");
        }
        if https {
            head.push_str("strict-transport-security: max-age=31536000\r\n");
        }
        head.push_str(if keep_alive { "connection: keep-alive\r\n\r\n" } else { "connection: close\r\n\r\n" });
        let mut bytes = head.into_bytes();
        if !head_only && self.status != 304 {
            bytes.extend_from_slice(&self.body);
        }
        out.write_all(&bytes)
    }
}

/// Whether an `Accept-Encoding` header accepts gzip: named (or `*`) with a quality above 0.
pub fn accepts_gzip(header: Option<&str>) -> bool {
    let Some(header) = header else { return false };
    let mut star = false;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let quality = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            return quality > 0.0;
        }
        if coding == "*" {
            star = quality > 0.0;
        }
    }
    star
}

/// Headers an error status implies: when to retry, which methods are allowed.
pub fn error_headers(response: Response, error: &ApiError) -> Response {
    match error {
        ApiError::TooManyRequests { retry_after } => response.with_header("retry-after", retry_after.to_string()),
        ApiError::Unavailable(_) => response.with_header("retry-after", "5"),
        ApiError::MethodNotAllowed(allowed) => response.with_header("allow", *allowed),
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_status_headers_and_body() {
        let mut out = Vec::new();
        Response::json(201, &[1, 2]).write_to(&mut out, false, true, false).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("HTTP/1.1 201 Created\r\n"), "{text}");
        assert!(text.contains("content-length: 5\r\n"));
        assert!(text.contains("content-security-policy: default-src 'self'"));
        assert!(!text.contains("strict-transport-security"));
        assert!(text.ends_with("\r\n\r\n[1,2]"));
    }

    #[test]
    fn head_keeps_length_but_drops_body() {
        let mut out = Vec::new();
        Response::text(200, "hello").write_to(&mut out, true, false, true).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("content-length: 5\r\n"));
        assert!(text.contains("strict-transport-security"));
        assert!(text.ends_with("connection: close\r\n\r\n"));
    }

    #[test]
    fn gzip_is_accepted_only_when_named_or_starred_with_a_quality() {
        for yes in ["gzip", "gzip, deflate, br", "br;q=1.0, GZIP;q=0.5", "*", "identity, *;q=0.1", "x-gzip"] {
            assert!(accepts_gzip(Some(yes)), "{yes}");
        }
        for no in ["", "identity", "br", "gzip;q=0", "gzip; q=0.000, *", "*;q=0", "deflate, gzip;q=0"] {
            assert!(!accepts_gzip(Some(no)), "{no}");
        }
        assert!(!accepts_gzip(None));
    }

    #[test]
    fn errors_carry_retry_after_and_allow() {
        let r = Response::api_error(&ApiError::TooManyRequests { retry_after: 7 });
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("7"));
        assert_eq!(r.body(), br#"{"error":"too many attempts, try again in 7 s"}"#);
        let r = Response::api_error(&ApiError::MethodNotAllowed("GET, HEAD"));
        assert_eq!(r.header("allow"), Some("GET, HEAD"));
    }
}
