//! The test harness: a real `mychat` binary on an ephemeral port with a fresh data directory,
//! a small HTTP client over raw TCP, and a WebSocket client (tungstenite).

#![allow(dead_code)]

use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::WebSocket;

/// A directory removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(label: &str) -> TempDir {
        static N: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "mychat-test-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies the original app's data directory (tests/data/legacy-mychat) into `dir`.
pub fn copy_legacy_fixture(dir: &Path) {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/legacy-mychat");
    for file in ["users.db", "chathistory.db", "rooms.db"] {
        std::fs::copy(fixture.join(file), dir.join(file)).unwrap();
    }
}

pub const ALICE: &str = "a7f83723-5f82-4497-9e16-b795d8b129ad";
pub const BOB: &str = "adf521f7-bb50-4266-aaf0-755d88c33b4e";
pub const CAROL: &str = "7c021afc-c0a0-41d8-8b53-c3e4b8965c9c";
pub const GARDEN: &str = "6dd2ee9c-e428-4aec-bcfb-466a2f39e4c5";
pub const EMPTY_ROOM: &str = "f513ae8a-921c-49d7-8053-bcf058e2f0ce";

/// The command that runs the server: this build's binary, or `MYCHAT_TEST_BIN` (e.g. a
/// cross-built one) run through `MYCHAT_TEST_RUNNER` (e.g. `qemu-aarch64`), if set.
pub fn server_command() -> Command {
    let binary = std::env::var("MYCHAT_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_mychat").to_string());
    match std::env::var("MYCHAT_TEST_RUNNER") {
        Ok(runner) if !runner.trim().is_empty() => {
            let mut words = runner.split_whitespace();
            let mut command = Command::new(words.next().unwrap_or_default());
            command.args(words).arg(binary);
            command
        }
        _ => Command::new(binary),
    }
}

/// A running server process. Stopped with SIGTERM when dropped.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub data: Arc<TempDir>,
    args: Vec<String>,
    log: Arc<Mutex<Vec<String>>>,
}

/// Options the suite's servers get unless a test passes its own: anyone may register, as on
/// the original app (tests register their users through the form). The registration tests
/// (`admin.rs`) start servers with `Server::start_in_mode`, which passes no such default.
const SUITE_DEFAULTS: [&str; 2] = ["--registration", "open"];

impl Server {
    /// A server with a fresh, empty data directory (open registration, see [`SUITE_DEFAULTS`]).
    pub fn start(args: &[&str]) -> Server {
        Server::start_in(Arc::new(TempDir::new("data")), args)
    }

    /// A server with a fresh data directory and exactly `args`: the registration mode is the
    /// server's own default unless `args` sets it.
    pub fn start_in_mode(data: Arc<TempDir>, args: &[&str]) -> Server {
        let mut args: Vec<&str> = args.to_vec();
        args.push("--suite-defaults=off");
        Server::start_in(data, &args)
    }

    /// A server on the original app's data files.
    pub fn start_legacy(args: &[&str]) -> Server {
        let data = Arc::new(TempDir::new("legacy"));
        copy_legacy_fixture(data.path());
        Server::start_in(data, args)
    }

    pub fn start_in(data: Arc<TempDir>, args: &[&str]) -> Server {
        Server::try_start(data, "127.0.0.1:0", args).unwrap_or_else(|log| panic!("server did not start:\n{log}"))
    }

    /// A server with a fresh data directory and these environment variables set.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Server {
        Server::try_start_with_env(Arc::new(TempDir::new("data")), "127.0.0.1:0", args, env)
            .unwrap_or_else(|log| panic!("server did not start:\n{log}"))
    }

    /// Starts the binary; on failure returns what it printed.
    pub fn try_start(data: Arc<TempDir>, addr: &str, args: &[&str]) -> Result<Server, String> {
        Server::try_start_with_env(data, addr, args, &[])
    }

    fn try_start_with_env(
        data: Arc<TempDir>,
        addr: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<Server, String> {
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        // `--suite-defaults=off` is ours, not the server's: it leaves SUITE_DEFAULTS out.
        let defaults = !args.iter().any(|a| a == "--suite-defaults=off" || a == "--registration");
        let given: Vec<&String> = args.iter().filter(|a| *a != "--suite-defaults=off").collect();
        let mut child = server_command()
            .arg("--addr")
            .arg(addr)
            .arg("--data-dir")
            .arg(data.path())
            .args(if defaults { &SUITE_DEFAULTS[..] } else { &[] })
            .args(given)
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the mychat binary runs");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("serving http://").nth(1) {
                    let addr = rest.split('/').next().unwrap_or("").to_string();
                    let _ = tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(addr) => Ok(Server { child: Some(child), addr: addr.parse().unwrap(), data, args, log }),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                Err(log.lock().unwrap().join("\n"))
            }
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn client(&self) -> Client {
        Client::new(self.addr)
    }

    /// Everything the server has logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits until the log contains `needle`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// SIGTERM, then waits; returns the exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        unsafe_free_kill(child.id(), "TERM");
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.code();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("server did not stop on SIGTERM:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGKILL: no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same data (and the same port, so clients can reconnect).
    pub fn restart(&mut self) {
        self.stop();
        self.start_again();
    }

    /// Starts a stopped or killed server again on the same data and port.
    pub fn start_again(&mut self) {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let addr = self.addr.to_string();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match Server::try_start(self.data.clone(), &addr, &args) {
                Ok(mut fresh) => {
                    self.child = fresh.child.take();
                    self.log = fresh.log.clone();
                    return;
                }
                Err(log) if log.contains("Address already in use") && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(log) => panic!("server did not restart:\n{log}"),
            }
        }
    }
}

/// Where every test server's `slow hub command` lines are collected, so a run of the suite
/// shows which hub commands took long (a debug build logs any over 5 ms).
pub fn slow_command_log() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("slow-hub-commands.log")
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            unsafe_free_kill(child.id(), "TERM");
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline && !matches!(child.try_wait(), Ok(Some(_))) {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        let slow: Vec<String> =
            self.log.lock().unwrap().iter().filter(|l| l.contains("slow hub command")).cloned().collect();
        if !slow.is_empty()
            && let Ok(mut file) = std::fs::OpenOptions::new().create(true).append(true).open(slow_command_log())
        {
            let _ = writeln!(file, "{}", slow.join("\n"));
        }
    }
}

/// Sends a signal with kill(1), so the tests need no unsafe code.
pub fn unsafe_free_kill(pid: u32, signal: &str) {
    let _ = Command::new("kill").arg(format!("-{signal}")).arg(pid.to_string()).status();
}

/// An HTTP response as the tests see it.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str()).collect()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The `error` of a JSON error body.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_string()
    }
}

/// Reads one response off a stream: head, then a Content-Length body.
pub fn read_response(stream: &mut impl Read) -> std::io::Result<Response> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).into_owned();
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body)?;
    Ok(Response { status, headers, body })
}

/// A minimal HTTP/1.1 client with a cookie jar. One connection per request, as simple and
/// as real as it gets; keep-alive and malformed traffic are tested on raw streams.
#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub cookies: HashMap<String, String>,
    /// Sent as `Origin` on every request when set.
    pub origin: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    /// Connects from this loopback address (e.g. 127.0.0.2) to play another client or proxy.
    pub from: Option<std::net::Ipv4Addr>,
}

impl Client {
    pub fn new(addr: SocketAddr) -> Client {
        Client { addr, cookies: HashMap::new(), origin: None, extra_headers: Vec::new(), from: None }
    }

    fn connect(&self) -> TcpStream {
        match self.from {
            None => TcpStream::connect(self.addr).unwrap(),
            Some(from) => connect_from(self.addr, from),
        }
    }

    pub fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub fn session_cookie(&self) -> Option<&String> {
        self.cookies.get("mychat_session")
    }

    pub fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        let mut stream = self.connect();
        stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        if !self.cookies.is_empty() {
            head.push_str(&format!("Cookie: {}\r\n", self.cookie_header()));
        }
        if let Some(origin) = &self.origin {
            head.push_str(&format!("Origin: {origin}\r\n"));
        }
        for (name, value) in
            headers.iter().copied().chain(self.extra_headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut bytes = head.into_bytes();
        bytes.extend_from_slice(body);
        stream.write_all(&bytes).unwrap();
        let response = read_response(&mut stream).unwrap();
        for cookie in response.headers_named("set-cookie") {
            let pair = cookie.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || cookie.contains("Max-Age=0") {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_string(), value.to_string());
                }
            }
        }
        response
    }

    pub fn get(&mut self, path: &str) -> Response {
        self.request("GET", path, &[], b"")
    }

    pub fn get_json(&mut self, path: &str) -> Value {
        let response = self.get(path);
        assert_eq!(response.status, 200, "GET {path}: {}", response.text());
        response.json()
    }

    pub fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Response {
        let body = fields.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&");
        self.request("POST", path, &[("Content-Type", "application/x-www-form-urlencoded")], body.as_bytes())
    }

    pub fn post_json(&mut self, path: &str, value: &Value) -> Response {
        let body = serde_json::to_vec(value).unwrap();
        self.request("POST", path, &[("Content-Type", "application/json")], &body)
    }

    pub fn delete(&mut self, path: &str) -> Response {
        self.request("DELETE", path, &[], b"")
    }

    /// Registers through the real form; returns the new user's id.
    pub fn register(&mut self, name: &str, password: &str) -> String {
        let response = self.post_form("/register", &[("username", name), ("password", password)]);
        assert_eq!(response.status, 303, "register {name}: {}", response.text());
        self.me()["id"].as_str().unwrap().to_string()
    }

    pub fn login(&mut self, name: &str, password: &str) -> Response {
        self.post_form("/login", &[("username", name), ("password", password)])
    }

    pub fn me(&mut self) -> Value {
        self.get_json("/api/me")
    }

    /// Opens a WebSocket on `path` with this client's cookies (and Origin, if set).
    pub fn ws(&self, path: &str) -> Ws {
        self.try_ws(path).unwrap_or_else(|e| panic!("ws {path}: {e}"))
    }

    /// Opens a WebSocket; on refusal, the HTTP status.
    pub fn try_ws(&self, path: &str) -> Result<Ws, u16> {
        let mut request = format!("ws://{}{}", self.addr, path).into_client_request().unwrap();
        if !self.cookies.is_empty() {
            request.headers_mut().insert("Cookie", self.cookie_header().parse().unwrap());
        }
        if let Some(origin) = &self.origin {
            request.headers_mut().insert("Origin", origin.parse().unwrap());
        }
        for (name, value) in &self.extra_headers {
            let name = tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            request.headers_mut().insert(name, value.parse().unwrap());
        }
        let stream = self.connect();
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        match tungstenite::client::client(request, stream) {
            Ok((socket, _)) => Ok(Ws { socket }),
            Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
                Err(response.status().as_u16())
            }
            Err(e) => panic!("handshake failed: {e}"),
        }
    }
}

/// A TCP connection to `to` from the loopback address `from` (e.g. 127.0.0.2), to play
/// another client.
pub fn connect_from(to: SocketAddr, from: std::net::Ipv4Addr) -> TcpStream {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.bind(&SocketAddr::from((from, 0)).into()).unwrap();
    socket.connect(&to.into()).unwrap();
    socket.into()
}

/// Percent-encodes a form value.
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A WebSocket client.
pub struct Ws {
    pub socket: WebSocket<TcpStream>,
}

/// How a socket ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// A close frame with this code.
    Closed(u16),
    /// The connection went away without a close frame.
    Dropped,
}

impl Ws {
    pub fn send(&mut self, text: &str) {
        self.socket.send(tungstenite::Message::text(text)).unwrap();
    }

    pub fn send_json(&mut self, value: &Value) {
        self.send(&value.to_string());
    }

    fn set_timeout(&self, timeout: Duration) {
        let _ = self.socket.get_ref().set_read_timeout(Some(timeout.max(Duration::from_millis(1))));
    }

    /// The next JSON text frame within `timeout` (pings and pongs skipped); `None` only when
    /// the time is up. A socket that ends (a close frame, or the connection gone) fails the
    /// test: "nothing arrived" must never pass because nothing could.
    pub fn try_recv(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.set_timeout(left);
            match self.socket.read() {
                Ok(tungstenite::Message::Text(text)) => {
                    return Some(
                        serde_json::from_str(text.as_str()).unwrap_or_else(|_| Value::String(text.to_string())),
                    );
                }
                Ok(tungstenite::Message::Close(frame)) => panic!("the socket was closed: {frame:?}"),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    return None;
                }
                Err(e) => panic!("the socket ended: {e}"),
            }
        }
    }

    /// Like [`Ws::try_recv`], but a socket that ends is `None` too: for tests that stop the
    /// server on purpose.
    pub fn recv_unless_gone(&mut self, timeout: Duration) -> Option<Value> {
        self.set_timeout(timeout);
        loop {
            match self.socket.read() {
                Ok(tungstenite::Message::Text(text)) => return serde_json::from_str(text.as_str()).ok(),
                Ok(tungstenite::Message::Close(_)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    pub fn recv(&mut self) -> Value {
        self.try_recv(Duration::from_secs(10)).expect("a frame within 10 s")
    }

    /// The next frame that satisfies `pred`, skipping others, within `timeout`.
    pub fn recv_where(&mut self, timeout: Duration, mut pred: impl FnMut(&Value) -> bool) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        while let Some(frame) = self.try_recv(deadline.saturating_duration_since(Instant::now())) {
            if pred(&frame) {
                return Some(frame);
            }
        }
        None
    }

    /// The next frame of `type`.
    pub fn recv_type(&mut self, kind: &str) -> Value {
        self.recv_where(Duration::from_secs(10), |f| f["type"] == kind)
            .unwrap_or_else(|| panic!("no {kind} frame within 10 s"))
    }

    /// Asserts nothing but pings arrives for `duration`.
    pub fn expect_silence(&mut self, duration: Duration) {
        if let Some(frame) = self.recv_where(duration, |f| f["type"] != "ping" && f["type"] != "presence") {
            panic!("expected silence, got {frame}");
        }
    }

    /// Reads until the socket ends; how it ended.
    pub fn ended(&mut self, timeout: Duration) -> Ended {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "the socket did not end within {timeout:?}");
            self.set_timeout(left);
            match self.socket.read() {
                Ok(tungstenite::Message::Close(Some(frame))) => return Ended::Closed(frame.code.into()),
                Ok(tungstenite::Message::Close(None)) => return Ended::Closed(1005),
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) =>
                {
                    continue;
                }
                Err(_) => return Ended::Dropped,
            }
        }
    }

    pub fn close(mut self) {
        let _ = self.socket.close(None);
        let _ = self.socket.flush();
    }
}

/// Registers a user on a fresh client.
pub fn user(server: &Server, name: &str) -> (Client, String) {
    let mut client = server.client();
    let id = client.register(name, &format!("{name}-password"));
    (client, id)
}

/// Polls `check` until it holds or `timeout` passes.
pub fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    check()
}

/// Opens one of the data files read-only, for checks the API can't make.
pub fn open_db(dir: &Path, file: &str) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(dir.join(file), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

/// A WebSocket handshake done by hand, leaving the raw stream for hand-made frames.
pub fn raw_ws(client: &Client, path: &str) -> TcpStream {
    let mut stream = TcpStream::connect(client.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nCookie: {}\r\n\r\n",
        client.addr,
        client.cookie_header()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "handshake answered");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(head.contains("sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), "RFC 6455's example key: {head}");
    stream
}

/// A client frame: FIN, opcode, masked with `mask` (or unmasked when `None`).
pub fn client_frame(opcode: u8, payload: &[u8], mask: Option<[u8; 4]>, fin: bool) -> Vec<u8> {
    let mut out = vec![(if fin { 0x80 } else { 0 }) | opcode];
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    match mask {
        Some(key) => {
            out.extend_from_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
        None => out.extend_from_slice(payload),
    }
    out
}

/// Reads server frames off a raw stream until a close frame; its code (`None`: no close frame).
pub fn read_until_close(stream: &mut TcpStream) -> Option<u16> {
    let mut frames = Vec::new();
    let _ = stream.read_to_end(&mut frames);
    let mut at = 0;
    while at + 2 <= frames.len() {
        let opcode = frames[at] & 0x0f;
        let (len, header) = match frames[at + 1] & 0x7f {
            126 if at + 4 <= frames.len() => (u16::from_be_bytes([frames[at + 2], frames[at + 3]]) as usize, 4),
            127 if at + 10 <= frames.len() => {
                (u64::from_be_bytes(frames[at + 2..at + 10].try_into().unwrap()) as usize, 10)
            }
            n => (n as usize, 2),
        };
        if opcode == 8 && len >= 2 && at + header + 2 <= frames.len() {
            return Some(u16::from_be_bytes([frames[at + header], frames[at + header + 1]]));
        }
        at += header + len;
    }
    None
}

/// The server's resident memory, from /proc.
pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}
