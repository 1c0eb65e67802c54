//! A small blocking HTTP/1.1 client with keep-alive, for setting up (registering users,
//! creating rooms) and for health checks — never for the measured load.

use crate::wire::{self, Head};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

pub struct Response {
    pub head: Head,
    pub body: Vec<u8>,
}

impl Response {
    pub fn status(&self) -> u16 {
        self.head.status
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The value of cookie `name` among the `set-cookie` headers.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.head.cookies.iter().find_map(|c| c.strip_prefix(name)?.strip_prefix('='))
    }
}

pub struct Client {
    addr: SocketAddr,
    host: String,
    timeout: Duration,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
}

impl Client {
    pub fn new(addr: SocketAddr, timeout: Duration) -> Client {
        Client { addr, host: addr.to_string(), timeout, stream: None, buf: Vec::new() }
    }

    /// Sends a request and reads its response. A kept-alive connection the server has
    /// closed meanwhile is replaced once.
    pub fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> io::Result<Response> {
        let mut raw = format!("{method} {path} HTTP/1.1\r\nhost: {}\r\naccept: application/json\r\n", self.host);
        for (name, value) in headers {
            raw.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            raw.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        raw.push_str("\r\n");
        let mut raw = raw.into_bytes();
        raw.extend_from_slice(body);
        let reused = self.stream.is_some();
        match self.exchange(&raw) {
            Err(e) if reused && e.kind() != io::ErrorKind::TimedOut && e.kind() != io::ErrorKind::WouldBlock => {
                self.stream = None;
                self.exchange(&raw)
            }
            other => other,
        }
    }

    fn exchange(&mut self, raw: &[u8]) -> io::Result<Response> {
        let result = self.exchange_inner(raw);
        if result.as_ref().map_or(true, |r| r.head.close) {
            self.stream = None;
        }
        result
    }

    fn exchange_inner(&mut self, raw: &[u8]) -> io::Result<Response> {
        if self.stream.is_none() {
            let stream = TcpStream::connect_timeout(&self.addr, self.timeout)?;
            stream.set_nodelay(true)?;
            stream.set_read_timeout(Some(self.timeout))?;
            stream.set_write_timeout(Some(self.timeout))?;
            self.stream = Some(stream);
        }
        let Some(stream) = self.stream.as_mut() else { return Err(io::Error::other("no connection")) };
        stream.write_all(raw)?;
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(head) = wire::parse_head(&self.buf).map_err(io::Error::other)? {
                let length = head.content_length.unwrap_or(0);
                if self.buf.len() >= head.len + length {
                    let body = self.buf[head.len..head.len + length].to_vec();
                    return Ok(Response { head, body });
                }
            }
            let n = stream.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the server closed the connection"));
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// One `GET` on a fresh connection; the status, or the error.
pub fn get_once(addr: SocketAddr, path: &str, timeout: Duration) -> io::Result<u16> {
    let mut client = Client::new(addr, timeout);
    Ok(client.request("GET", path, &[("connection", "close")], b"")?.status())
}

/// Waits until `GET /healthz` answers 200.
pub fn wait_healthy(addr: SocketAddr, within: Duration) -> Result<(), String> {
    let deadline = Instant::now() + within;
    let mut last = String::from("no answer");
    while Instant::now() < deadline {
        match get_once(addr, "/healthz", Duration::from_secs(2)) {
            Ok(200) => return Ok(()),
            Ok(status) => last = format!("status {status}"),
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Err(format!("{addr} not healthy within {} s: {last}", within.as_secs()))
}
