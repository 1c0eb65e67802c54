//! MyChat: a self-hosted, real-time chat server in one small binary.
//!
//! # Thread model
//!
//! ```text
//! TcpListener ── acceptor ──(bounded queue)──> HTTP workers (N)
//!                                               │ parse (httparse), route, respond
//!                                               │ WebSocket handshake ──> one reader thread per socket
//!                                               ▼
//!   socket reader ──Command──> HUB ──frames, non-blocking send──> socket
//!   HTTP worker ──ask(closure)──> HUB ──answer after commit──> worker
//!                                      (backlog that did not fit ──> a writer thread, while it lasts)
//! ```
//!
//! * [`accept`] owns the connection counts and never waits for a worker.
//! * [`http`] workers may block on a client (with deadlines), run Argon2 ([`auth`]) and do the
//!   WebSocket handshake ([`http::upgrade`]).
//! * [`hub`] owns all mutable shared state, including the one SQLite connection ([`db`]); it
//!   never blocks on a client and batches writes into one transaction per batch.
//! * [`transport`] is below the hub: a socket's stream and the one ordered, bounded path its
//!   bytes take, frame encoding, and the reader loop. It knows bytes, not users.
//! * [`identity`] holds the ids every layer shares, so none of them needs another's internals.
//!
//! Nothing but the hub holds state that others change; threads talk through typed channels.

pub mod accept;
pub mod assets;
pub mod auth;
pub mod backup;
pub mod clock;
pub mod config;
pub mod console;
pub mod datalock;
pub mod db;
pub mod error;
pub mod files;
#[doc(hidden)]
pub mod fuzzing;
pub mod hooks;
pub mod http;
pub mod hub;
pub mod identity;
pub mod limits;
pub mod logger;
pub mod metrics;
pub mod names;
pub mod protocol;
pub mod push;
pub mod qr;
pub mod server;
pub mod templates;
pub mod transport;
