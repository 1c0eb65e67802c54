//! The WebSocket handshake, on the worker that received it, and the socket's reader thread.
//!
//! Order matters, and each step can refuse: the protocol (an upgrade, version 13, a key), the
//! `Origin`, the session cookie, then the hub, which checks the session, the path's user, the
//! caps and the target, and registers the socket. Only then is the reader thread started, and
//! only once it exists is the `101` written — through the socket's own ordered path, so no
//! frame the hub sends meanwhile can overtake it. Every refusal before the upgrade is an
//! ordinary HTTP error.
//!
//! A socket's lifecycle has one owner: its `SocketLease`, made before the hub is asked. It
//! travels with the socket (into the reader thread, once there is one) and tells the hub
//! `SocketClosed` exactly once when dropped — whether the handshake was refused after the hub
//! registered the socket, no thread could be started, or the reader ended. So the hub never
//! keeps a socket nobody reads.

use super::Ctx;
use super::request::{HttpConn, Request};
use super::response::Response;
use crate::accept::ConnPermit;
use crate::error::ApiError;
use crate::hub::{Command, HubClient, SocketRequest, SocketTarget};
use crate::identity::ConnId;
use crate::protocol::Channel;
use crate::transport::reader::{self, ReaderSettings};
use crate::transport::{SocketHandle, Wire};
use std::sync::atomic::{AtomicU64, Ordering};

/// Stack of a reader thread: tungstenite's state machine and serde_json's bounded recursion.
const READER_STACK: usize = 128 * 1024;

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

/// Tells the hub, once, that a socket has ended.
struct SocketLease {
    conn: ConnId,
    hub: HubClient,
}

impl Drop for SocketLease {
    fn drop(&mut self) {
        self.hub.tell(Command::SocketClosed { conn: self.conn });
    }
}

/// The channel a target reads frames as.
fn channel_of(target: &SocketTarget) -> Channel {
    match target {
        SocketTarget::Private { .. } => Channel::Private,
        SocketTarget::Global => Channel::Global,
        SocketTarget::Status => Channel::Status,
        SocketTarget::Room { .. } => Channel::Room,
    }
}

/// The protocol part of a handshake: a GET/1.1 asking to upgrade, version 13, a key. Gives the
/// accept key.
fn check_upgrade(request: &Request) -> Result<String, Response> {
    let upgrade = request.header_has_token("upgrade", "websocket") && request.header_has_token("connection", "upgrade");
    if !upgrade || request.minor_version < 1 {
        let error = ApiError::bad_request("this path needs a WebSocket handshake");
        return Err(Response::api_error(&error).with_header("upgrade", "websocket"));
    }
    if request.header("sec-websocket-version") != Some("13") {
        let error = ApiError::bad_request("unsupported WebSocket version (13 is supported)");
        return Err(Response::api_error(&error).with_header("sec-websocket-version", "13"));
    }
    let key = request.header("sec-websocket-key").unwrap_or("");
    let valid_key = key.len() == 24
        && key.ends_with("==")
        && key[..22].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/');
    if !valid_key {
        return Err(Response::api_error(&ApiError::bad_request("missing or malformed Sec-WebSocket-Key")));
    }
    Ok(tungstenite::handshake::derive_accept_key(key.as_bytes()))
}

/// A refusal's bytes on the wire.
fn response_bytes(response: &Response, request: &Request) -> Vec<u8> {
    let mut bytes = Vec::new();
    let _ = response.write_to(&mut bytes, false, false, request.https);
    bytes
}

/// Completes or refuses a handshake. On success the connection belongs to its reader thread
/// (and the hub, which writes to it).
pub fn upgrade(
    ctx: &Ctx,
    mut conn: HttpConn,
    request: &Request,
    target: SocketTarget,
    path_user: Option<String>,
    permit: ConnPermit,
) {
    let refused = |response: &Response| {
        crate::metrics::http_response(response.status);
        log::info!("{} ws refused {} {}", request.peer, request.path, response.status);
    };
    let checked = check_upgrade(request).and_then(|key| {
        if !super::origin::origin_allowed(ctx, request) {
            return Err(Response::api_error(&ApiError::Forbidden("cross-origin WebSocket refused")));
        }
        let credential = ctx.credential(request).ok_or_else(|| Response::api_error(&ApiError::NotLoggedIn))?;
        Ok((key, credential))
    });
    let (accept_key, credential) = match checked {
        Ok(checked) => checked,
        Err(response) => {
            refused(&response);
            let _ = response.write_to(&mut conn.stream, false, false, request.https);
            return;
        }
    };
    let (stream, leftover) = conn.into_parts();
    let conn = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
    let socket = SocketHandle::held(conn, Wire::Tcp(stream));
    let lease = SocketLease { conn, hub: ctx.hub.clone() };
    let settings = ReaderSettings {
        channel: channel_of(&target),
        timeout: ctx.config.socket_timeout,
        rate_limits: ctx.config.rate_limits,
    };
    let open = SocketRequest { conn, credential, peer: request.peer, path_user, target, socket: socket.clone() };
    if let Err(error) = ctx.hub.ask(move |hub| hub.open_socket(open)).and_then(|opened| opened) {
        let response = Response::api_error(&error);
        refused(&response);
        socket.refuse(&response_bytes(&response, request));
        return; // the lease tells the hub, in case it registered the socket
    }
    let hub = ctx.hub.clone();
    let reader_socket = socket.clone();
    let read = move || {
        let _lease = lease;
        let _permit = permit;
        reader::run(&reader_socket, leftover, settings, |frame| hub.tell(Command::SocketFrame { conn, frame }));
    };
    let spawned = if reader_threads_fail() {
        drop(read);
        Err(std::io::Error::other("injected by MYCHAT_FAULT_READER_THREADS"))
    } else {
        std::thread::Builder::new().name("ws-reader".into()).stack_size(READER_STACK).spawn(read)
    };
    if let Err(e) = spawned {
        // Out of threads: refuse before the 101, so the browser backs off instead of looping
        // on sockets that close at once. (The unstarted closure dropped the lease.)
        log::error!("ws #{conn}: no reader thread ({e}); refused");
        let response = Response::api_error(&ApiError::Unavailable("server is full, try again"));
        refused(&response);
        socket.refuse(&response_bytes(&response, request));
        return;
    }
    let switching = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept_key}\r\n\r\n"
    );
    crate::metrics::http_response(101);
    socket.release(switching.as_bytes());
}

/// Debug builds only: `MYCHAT_FAULT_READER_THREADS=fail` makes every reader thread fail to
/// start, as when the process is out of threads, so a test can show such a handshake is
/// refused before its `101` and leaves nothing registered.
fn reader_threads_fail() -> bool {
    #[cfg(debug_assertions)]
    {
        static FAIL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *FAIL.get_or_init(|| std::env::var("MYCHAT_FAULT_READER_THREADS").is_ok_and(|v| v == "fail"))
    }
    #[cfg(not(debug_assertions))]
    false
}
