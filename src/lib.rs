//! MyChat: a self-hosted, real-time chat server in one small binary.
//!
//! # Thread model
//!
//! ```text
//! TcpListener ── acceptor ──(bounded queue)──> HTTP workers (N)
//!                                               │ parse (httparse), route, respond
//!                                               │ WebSocket handshake ──> two threads per socket
//!                                               ▼
//!   socket reader ──Command──> HUB ──Outbound──> socket writer
//!   HTTP worker ──Command + reply channel──> HUB
//! ```
//!
//! * [`accept`] owns the connection counts and never waits for a worker.
//! * [`http`] workers may block on a client (with deadlines) and run Argon2 ([`auth`]).
//! * [`hub`] owns all mutable shared state, including the one SQLite connection ([`db`]); it
//!   never blocks on a client and batches writes into one transaction per batch.
//! * [`ws`] readers decode frames and never write; writers are the only writers of a socket.
//!
//! Nothing but the hub holds state that others change; threads talk through typed channels.

pub mod accept;
pub mod assets;
pub mod auth;
pub mod backup;
pub mod clock;
pub mod config;
pub mod datalock;
pub mod db;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod hub;
pub mod limits;
pub mod logger;
pub mod names;
pub mod protocol;
pub mod server;
pub mod templates;
pub mod ws;
