//! The WebSocket transport, below the hub: a socket's stream and the ordered, bounded path its
//! bytes take ([`SocketHandle`]), the encoding of server frames ([`frame`]), and the reader loop that
//! turns a client's bytes into decoded frames ([`reader`]).
//!
//! It knows bytes, frames and sockets, not users or rooms: the hub holds [`SocketHandle`]s and
//! pushes frames to them; the HTTP side does the handshake and gives the reader a callback for
//! what the client says. Nothing here imports the hub or the HTTP side.

pub mod frame;
pub mod reader;
mod socket;

pub use socket::{BACKLOG_LIMIT_BYTES, OPEN_SOCKETS, PushError, SocketHandle, WRITE_TIMEOUT, Wire};
