//! WebSockets: the handshake (on the HTTP worker that received it), then two threads per
//! socket — a reader ([`reader`]) and a writer ([`writer`]) sharing one `TcpStream` through an
//! `Arc` (`&TcpStream` is both `Read` and `Write`, so no second file descriptor is needed).
//! Only the writer writes once the handshake is done.

pub mod frame;
pub mod queue;
pub mod reader;
pub mod writer;

pub use queue::{Outbound, OutboundQueue, PushError};

use crate::accept::ConnPermit;
use crate::error::ApiError;
use crate::http::Ctx;
use crate::http::request::{HttpConn, Request};
use crate::http::response::Response;
use crate::hub::{Command, SocketRequest, SocketTarget};
use crate::protocol::Channel;
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Stack of a reader thread: tungstenite's state machine and serde_json's bounded recursion.
const READER_STACK: usize = 128 * 1024;
/// Stack of a writer thread: it only moves bytes.
const WRITER_STACK: usize = 64 * 1024;

/// How long one write to a socket may block.
const WRITE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);
/// Sockets whose writer is still running; shutdown waits for them to drain.
pub static OPEN_SOCKETS: AtomicUsize = AtomicUsize::new(0);

/// The channel a target reads frames as.
fn channel_of(target: &SocketTarget) -> Channel {
    match target {
        SocketTarget::Private { .. } => Channel::Private,
        SocketTarget::Global => Channel::Global,
        SocketTarget::Status => Channel::Status,
        SocketTarget::Room { .. } => Channel::Room,
    }
}

/// The protocol part of a handshake: a GET/1.1 asking to upgrade, version 13, a key.
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

/// Completes or refuses a handshake. Refusals (401, 403, 404, 429...) happen before any
/// upgrade; on success the connection belongs to its two new threads.
pub fn accept(
    ctx: &Ctx,
    mut conn: HttpConn,
    request: &Request,
    target: SocketTarget,
    path_user: Option<String>,
    permit: ConnPermit,
) {
    let refuse = |conn: &mut HttpConn, response: Response| {
        log::info!("{} ws refused {} {}", request.peer, request.path, response.status);
        let _ = response.write_to(&mut conn.stream, false, false, request.https);
    };
    let accept_key = match check_upgrade(request) {
        Ok(key) => key,
        Err(response) => return refuse(&mut conn, response),
    };
    if !crate::http::routes::origin_allowed(ctx, request) {
        return refuse(&mut conn, Response::api_error(&ApiError::Forbidden("cross-origin WebSocket refused")));
    }
    let Some(token) = crate::http::session_token(request) else {
        return refuse(&mut conn, Response::api_error(&ApiError::NotLoggedIn));
    };
    let (stream, leftover) = conn.into_parts();
    // A peer that stops reading blocks its writer at most this long (the hub cuts it off
    // sooner when its queue overflows).
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let stream = Arc::new(stream);
    let conn_id = NEXT_CONN.fetch_add(1, Ordering::Relaxed);
    let (queue, receiver) = queue::channel();
    let channel = channel_of(&target);
    let open = SocketRequest { conn: conn_id, token, path_user, target, queue: queue.clone(), stream: stream.clone() };
    let opened = ctx.hub.ask(|reply| Command::OpenSocket { request: Box::new(open), reply }).and_then(|r| r);
    if let Err(error) = opened {
        let response = Response::api_error(&error);
        log::info!("{} ws refused {} {}", request.peer, request.path, response.status);
        let _ = response.write_to(&mut &*stream, false, false, request.https);
        return;
    }
    let switching = format!(
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-accept: {accept_key}\r\n\r\n"
    );
    if (&*stream).write_all(switching.as_bytes()).is_err() {
        ctx.hub.tell(Command::SocketClosed { conn: conn_id });
        return;
    }
    let reader = reader::Reader {
        conn: conn_id,
        channel,
        stream: stream.clone(),
        queue,
        hub: ctx.hub.clone(),
        leftover,
        rate_limits: ctx.config.rate_limits,
        timeout: ctx.config.socket_timeout,
    };
    OPEN_SOCKETS.fetch_add(1, Ordering::SeqCst);
    let writer_stream = stream.clone();
    let spawned_writer =
        std::thread::Builder::new().name("ws-writer".into()).stack_size(WRITER_STACK).spawn(move || {
            writer::run(writer_stream, receiver);
            OPEN_SOCKETS.fetch_sub(1, Ordering::SeqCst);
        });
    let spawned_reader = spawned_writer.is_ok().then(|| {
        std::thread::Builder::new().name("ws-reader".into()).stack_size(READER_STACK).spawn(move || {
            let _permit = permit;
            reader.run();
        })
    });
    if !matches!(spawned_reader, Some(Ok(_))) {
        log::error!("could not start the threads of ws #{conn_id}; closing it");
        if spawned_writer.is_err() {
            OPEN_SOCKETS.fetch_sub(1, Ordering::SeqCst);
        }
        let _ = stream.shutdown(std::net::Shutdown::Both);
        ctx.hub.tell(Command::SocketClosed { conn: conn_id });
    }
}
