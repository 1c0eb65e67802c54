//! The hub thread: the one owner of mutable shared state — the database connection, the
//! directory of users and sessions, rooms and their members, every open socket, presence and
//! rate counters. Workers ask it questions as closures ([`HubClient::ask`]) and get answers on
//! reply channels; socket readers tell it what clients send ([`Command`]); it sends frames to
//! sockets through their [`SocketHandle`](crate::transport::SocketHandle)s.
//!
//! The loop takes a batch of commands (all that are waiting, up to a bound), applies them, and
//! commits their writes in one transaction. Only after the commit are the batch's effects
//! released: replies to workers, frames to sockets, and the closing of sockets the batch
//! decided to end. So a message is acknowledged to its sender and delivered to others only
//! once it is durable, and durability costs one commit per batch rather than per message. A
//! batch that fails to commit is undone (see `Hub::finish_batch`).
//!
//! The hub never blocks on a client: password hashing runs on workers, history is paged, and
//! a frame is written with a non-blocking send — what does not fit waits in the socket's
//! bounded backlog for a writer thread, and a socket whose backlog is full is cut off here and
//! now.

mod account;
mod accounts;
mod admin;
mod audit;
mod bots;
mod chats;
mod files;
mod invites;
mod messages;
mod presence;
mod private;
mod push;
mod rooms;
mod sockets;

pub use crate::db::Page;
pub use crate::identity::{ConnId, Credential, RoomId, SessionUser, TokenHash, UserId};
pub use account::{LinkProblem, PasswordCheck};
pub use accounts::{MAX_SESSIONS_PER_USER, NewAccount, SessionMeta};
pub use admin::{MAX_ACCOUNTS_PAGE, MAX_AUDIT_PAGE};
pub use audit::{Actor, audit_entry, last_admin};
pub use bots::{MAX_BOT_NAME_CHARS, MAX_BOTS_PER_ROOM, Posted};
pub use chats::MAX_QUERY_CHARS;
pub use files::{MAX_ATTACHMENTS, NewUpload, Recorded, Served, ThumbRecorded, ThumbWanted, UploadTicket};
pub use invites::{LOGIN_LINK_HOURS, MAX_INVITE_DAYS, MAX_INVITE_USES, MAX_INVITES, NewInvite};
pub use push::{ForwardView, MAX_SUBSCRIPTIONS_PER_USER};
pub use sockets::{SocketKind, SocketRequest, SocketTarget};

use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::limits::{Limiter, Rate};
use crate::protocol::{ClientFrame, Event};
use crate::transport::{PushError, frame};
use crossbeam_channel::{Receiver, RecvTimeoutError, SendTimeoutError, Sender};
use std::any::Any;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where the hub sends a worker its answer.
pub type Reply<T> = Sender<T>;

/// What a login attempt needs to check a password off the hub.
pub struct Credentials {
    pub user: SessionUser,
    /// `None`: the account has no password (made by single sign-on); nothing verifies.
    pub password_hash: Option<String>,
    /// A disabled account is refused, but only after its password checked out: the refusal
    /// must not tell a guesser which names exist.
    pub disabled: bool,
}

/// A worker's question: a closure run on the hub thread with the hub, which arranges its own
/// answer (see [`HubClient::ask`]).
pub type Job = Box<dyn FnOnce(&mut Hub) + Send>;

/// Everything the hub is sent. Workers' requests are closures ([`HubClient::ask`]), so an
/// endpoint is a handler and a hub method, not a variant here; socket traffic and shutdown
/// are data.
pub enum Command {
    /// Run a worker's job; `name` says where it comes from (for the slow-command log).
    Ask { job: Job, name: &'static str },
    /// A decoded frame from a socket's reader.
    SocketFrame { conn: ConnId, frame: ClientFrame },
    /// A socket has ended: its reader finished, or its handshake was refused or failed after
    /// the hub registered it. Sent exactly once per socket (by its `SocketLease`).
    SocketClosed { conn: ConnId },
    /// Finish the batch in flight, close every socket with 1001, and stop.
    Shutdown,
}

/// The most commands applied in one batch (one transaction).
const MAX_BATCH: usize = 512;
/// What a sender reads when its message could not be stored.
const NOT_SAVED: &str = "message not saved, try again";
/// A command that keeps the hub longer than this is logged: the hub's work per command must
/// stay small (indexed lookups, paged answers). Tight in debug builds, which the tests run, so
/// the suite shows any command that scans.
const SLOW_COMMAND: Duration =
    if cfg!(debug_assertions) { Duration::from_millis(5) } else { Duration::from_millis(50) };

/// Rate limits the hub enforces.
pub(crate) struct Limits {
    /// Failed logins per account from one client network (see `account_from`): five at
    /// once, then one a minute.
    login_per_account: Limiter<String>,
    /// Failed logins per account from all networks together: fifty, then one per 20 s — a
    /// budget only an attack from many networks reaches.
    login_per_user: Limiter<UserId>,
    /// Failed logins per client address (or /64 network for IPv6).
    login_per_address: Limiter<IpAddr>,
    /// Registrations per client address.
    register_per_address: Limiter<IpAddr>,
    /// Messages per user across all their sockets.
    messages_per_user: Limiter<UserId>,
    /// Rooms created and members added, per user.
    room_changes_per_user: Limiter<UserId>,
    /// Webhook posts per bot.
    posts_per_bot: Limiter<Arc<str>>,
}

impl Limits {
    fn new(enabled: bool) -> Limits {
        Limits {
            login_per_account: Limiter::new(Rate::new(5, Duration::from_secs(60)), enabled),
            login_per_user: Limiter::new(Rate::new(50, Duration::from_secs(20)), enabled),
            login_per_address: Limiter::new(Rate::new(20, Duration::from_secs(30)), enabled),
            register_per_address: Limiter::new(Rate::new(10, Duration::from_secs(300)), enabled),
            messages_per_user: Limiter::new(Rate::new(40, Duration::from_millis(50)), enabled),
            room_changes_per_user: Limiter::new(Rate::new(60, Duration::from_secs(2)), enabled),
            posts_per_bot: Limiter::new(bots::POST_RATE, enabled),
        }
    }
}

/// Gives back a token taken in a batch that then failed to commit.
type Refund = Box<dyn FnOnce(&mut Limits) + Send>;

/// Something to do once the batch has committed.
enum Effect {
    /// Answer a worker.
    Reply(Box<dyn FnOnce() + Send>),
    /// Send a frame to a socket, if it is still registered then.
    Deliver(ConnId, Arc<[u8]>),
    /// Unregister a socket and close it with this code and reason: the end of a socket that
    /// the batch's changes decided (logout, removal from a room...), which a failed commit
    /// must not carry out.
    Close(ConnId, u16, &'static str),
    /// Hand a notification to the push sender (never waits: a full queue drops it).
    Push(crate::push::Job),
}

/// What a batch changed besides the database, to undo if its commit fails.
#[derive(Default)]
struct Undo {
    /// Sockets registered in the batch.
    opened: Vec<ConnId>,
    /// Rate-limit tokens the batch took.
    refunds: Vec<Refund>,
    /// Sockets whose messages are in the batch: told if it fails.
    senders: Vec<ConnId>,
}

pub struct Hub {
    db: Db,
    config: Arc<Config>,
    accounts: accounts::Accounts,
    sockets: sockets::Sockets,
    presence: presence::Presence,
    rooms: rooms::Rooms,
    bots: bots::Bots,
    files: files::FileState,
    push: push::PushState,
    /// The push sender's queue; `None` where nothing is sent (unit tests).
    pusher: Option<crate::push::Pusher>,
    limits: Limits,
    effects: Vec<Effect>,
    undo: Undo,
    /// The last change number given to a message (see `messages`).
    seq: i64,
    typing: messages::Typing,
    next_housekeeping: Instant,
    stopping: bool,
}

/// How a worker or reader reaches the hub.
#[derive(Clone)]
pub struct HubClient {
    tx: Sender<Command>,
}

/// How long a worker waits for the hub (to take its request, then to answer) before it
/// answers 503.
const ASK_TIMEOUT: Duration = Duration::from_secs(10);

impl HubClient {
    pub fn new(tx: Sender<Command>) -> HubClient {
        HubClient { tx }
    }

    /// Runs `question` on the hub thread and returns its answer, once the batch it ran in has
    /// committed. 503 if the hub is stopping, too busy to take it or answer in time, or the
    /// batch failed to commit.
    pub fn ask<T, F>(&self, question: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Hub) -> T + Send + 'static,
    {
        // The answer travels boxed, as one type: a channel per answer type would instantiate
        // crossbeam's channel code for each of the ~50 kinds of question (0.33 MiB of the
        // stripped release binary, measured); a box and a downcast per request cost nothing
        // we could see.
        let (reply, answer) = crossbeam_channel::bounded::<Box<dyn Any + Send>>(1);
        let job: Job = Box::new(move |hub: &mut Hub| {
            let value: Box<dyn Any + Send> = Box::new(question(hub));
            hub.reply(reply, value);
        });
        let deadline = Instant::now() + ASK_TIMEOUT;
        let command = Command::Ask { job, name: std::any::type_name::<F>() };
        self.tx.send_deadline(command, deadline).map_err(|e| match e {
            SendTimeoutError::Timeout(_) => ApiError::Unavailable("server is busy, try again"),
            SendTimeoutError::Disconnected(_) => ApiError::Unavailable("server is shutting down"),
        })?;
        let answer = answer.recv_deadline(deadline).map_err(|e| match e {
            RecvTimeoutError::Timeout => ApiError::Unavailable("server is busy, try again"),
            // The hub dropped the reply: its batch failed to commit, or it is stopping.
            RecvTimeoutError::Disconnected => ApiError::Unavailable("storage unavailable, try again"),
        })?;
        // The job above boxed a `T`: the downcast can't fail.
        answer.downcast::<T>().map(|value| *value).map_err(|_| ApiError::Internal)
    }

    /// Sends a command that expects no answer; `false` if the hub has gone.
    pub fn tell(&self, command: Command) -> bool {
        self.tx.send(command).is_ok()
    }
}

impl Hub {
    /// Loads the directory of users, sessions and rooms from `db`.
    pub fn new(db: Db, config: Arc<Config>) -> Result<Hub, rusqlite::Error> {
        let mut hub = Hub {
            db,
            limits: Limits::new(config.rate_limits),
            config,
            accounts: accounts::Accounts::default(),
            sockets: sockets::Sockets::default(),
            presence: presence::Presence::default(),
            rooms: rooms::Rooms::default(),
            bots: bots::Bots::default(),
            files: files::FileState::default(),
            push: push::PushState::default(),
            pusher: None,
            effects: Vec::new(),
            undo: Undo::default(),
            seq: 0,
            typing: messages::Typing::default(),
            next_housekeeping: Instant::now(),
            stopping: false,
        };
        hub.load()?;
        Ok(hub)
    }

    /// Sends notifications for away users through `pusher` (see [`push`]).
    pub fn with_pusher(mut self, pusher: crate::push::Pusher) -> Hub {
        self.pusher = Some(pusher);
        self
    }

    /// (Re)builds the in-memory directory from the database; also after a failed commit, so
    /// memory never claims what the files don't hold.
    fn load(&mut self) -> rusqlite::Result<()> {
        self.accounts.load(&self.db)?;
        self.rooms.load(&self.db)?;
        self.bots.load(&self.db)?;
        self.seq = self.db.latest_seq()?;
        self.files.load(&self.db)?;
        self.push.load(&self.db)?;
        Ok(())
    }

    /// Runs until [`Command::Shutdown`] or until every sender is gone.
    pub fn run(mut self, commands: Receiver<Command>) {
        log::debug!("hub running");
        while !self.stopping {
            let deadline = self.next_deadline();
            let first = match commands.recv_deadline(deadline) {
                Ok(command) => Some(command),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            if let Some(command) = first {
                self.handle(command);
                let mut size = 1;
                for _ in 1..MAX_BATCH {
                    match commands.try_recv() {
                        Ok(command) => self.handle(command),
                        Err(_) => break,
                    }
                    size += 1;
                }
                crate::metrics::HUB_BATCH_SIZE.observe(f64::from(size));
            }
            self.tick(Instant::now());
            self.finish_batch();
        }
        if self.stopping {
            // Whatever was sent before the stop request is applied, then every socket is told.
            while let Ok(command) = commands.try_recv() {
                self.handle(command);
            }
            self.finish_batch();
            for conn in self.sockets.ids() {
                self.close_socket(conn, 1001, "server shutting down");
            }
            self.finish_batch();
        }
        self.db.checkpoint();
        log::debug!("hub stopped");
    }

    fn next_deadline(&self) -> Instant {
        let mut deadline = self.next_housekeeping;
        if let Some(at) = self.presence.next_flush() {
            deadline = deadline.min(at);
        }
        if let Some(at) = self.files.next_expiry() {
            deadline = deadline.min(at);
        }
        deadline
    }

    /// Timed work: coalesced presence broadcasts, session, push subscription and file expiry.
    fn tick(&mut self, now: Instant) {
        if self.presence.next_flush().is_some_and(|at| at <= now) {
            self.flush_presence(now);
        }
        if self.files.next_expiry().is_some_and(|at| at <= now) {
            self.expire_files(now);
        }
        if now >= self.next_housekeeping {
            self.next_housekeeping = now + Duration::from_secs(600);
            self.expire_sessions();
            self.purge_links_and_invites();
            self.typing.sweep(now);
            self.expire_push_subscriptions();
        }
    }

    /// Commits the batch's writes, then releases its effects. If the commit fails, the batch
    /// is undone: its effects are dropped (workers answer 503, nothing is echoed or
    /// delivered, no socket it meant to close is closed), sockets it registered are
    /// unregistered (their handshakes are refused), rate-limit tokens it took are given back,
    /// each sender of a message gets an error frame, and the directory is reloaded from the
    /// files.
    fn finish_batch(&mut self) {
        let undo = std::mem::take(&mut self.undo);
        let effects = std::mem::take(&mut self.effects);
        let wrote = self.db.has_writes();
        let started = Instant::now();
        let committed = self.db.commit();
        if wrote {
            crate::metrics::HUB_COMMIT_SECONDS.observe_duration(started.elapsed());
        }
        match committed {
            Ok(()) => self.release(effects),
            Err(e) => {
                log::error!("commit failed, batch rolled back: {e}");
                drop(effects);
                self.roll_back(undo);
            }
        }
    }

    fn roll_back(&mut self, undo: Undo) {
        for conn in undo.opened {
            self.unregister(conn);
        }
        for refund in undo.refunds.into_iter().rev() {
            refund(&mut self.limits);
        }
        let frame = frame::event(&Event::Error { error: NOT_SAVED });
        for conn in undo.senders {
            if let Some(socket) = self.sockets.get(conn) {
                let _ = socket.handle.push(frame.clone());
            }
        }
        if let Err(e) = self.load() {
            log::error!("reloading state after a failed commit failed: {e}");
        }
    }

    /// Carries out a committed batch's effects in order. A socket's frames of the batch go
    /// out together, in one write where the way is clear.
    fn release(&mut self, effects: Vec<Effect>) {
        let mut frames: Vec<(ConnId, Arc<[u8]>)> = Vec::new();
        for effect in effects {
            match effect {
                Effect::Reply(send) => send(),
                Effect::Deliver(conn, frame) => frames.push((conn, frame)),
                Effect::Push(job) => {
                    if let Some(pusher) = &self.pusher {
                        pusher.enqueue(job);
                    }
                }
                Effect::Close(conn, code, reason) => {
                    // What the batch sent this socket before closing it goes first.
                    let (before, rest): (Vec<_>, Vec<_>) = frames.into_iter().partition(|(c, _)| *c == conn);
                    frames = rest;
                    self.send_frames(conn, before.into_iter().map(|(_, f)| f).collect());
                    if let Some(socket) = self.unregister(conn) {
                        socket.handle.close(code, reason);
                    }
                }
            }
        }
        // Stable: each socket's frames keep their order.
        frames.sort_by_key(|(conn, _)| *conn);
        let mut frames = frames.into_iter().peekable();
        while let Some((conn, first)) = frames.next() {
            let mut mine = vec![first];
            while let Some((_, frame)) = frames.next_if(|(c, _)| *c == conn) {
                mine.push(frame);
            }
            self.send_frames(conn, mine);
        }
    }

    fn send_frames(&mut self, conn: ConnId, frames: Vec<Arc<[u8]>>) {
        let Some(socket) = self.sockets.get(conn) else { return };
        if frames.is_empty() {
            return;
        }
        crate::metrics::DELIVERIES.add(frames.len() as u64);
        if socket.handle.push_all(frames) == Err(PushError::Full) {
            log::info!("ws #{conn} cut off: it does not read fast enough");
            crate::metrics::SLOW_CONSUMERS.inc();
            self.kick(conn);
        }
    }

    /// Answers a worker once the batch commits.
    fn reply<T: Send + 'static>(&mut self, to: Reply<T>, value: T) {
        self.effects.push(Effect::Reply(Box::new(move || {
            let _ = to.send(value);
        })));
    }

    /// Sends an event to every socket in `conns`, serialized and framed once, once the batch
    /// commits.
    fn broadcast(&mut self, conns: &[ConnId], event: &Event) {
        if conns.is_empty() {
            return;
        }
        let frame = frame::event(event);
        for &conn in conns {
            self.effects.push(Effect::Deliver(conn, frame.clone()));
        }
    }

    fn error_frame(&mut self, conn: ConnId, error: &str) {
        self.broadcast(&[conn], &Event::Error { error });
    }

    /// Logs a database error and turns it into what the client sees.
    fn internal(&self, e: rusqlite::Error) -> ApiError {
        log::error!("database error: {e}");
        ApiError::Internal
    }

    /// `GET /healthz`: the hub answers and the database answers.
    pub fn health(&mut self) -> Result<(), ApiError> {
        self.db.ping().map_err(|e| self.internal(e))
    }

    fn handle(&mut self, command: Command) {
        let started = Instant::now();
        let name = match command {
            Command::Ask { job, name } => {
                job(self);
                name
            }
            Command::SocketFrame { conn, frame } => {
                self.socket_frame(conn, frame);
                "socket frame"
            }
            Command::SocketClosed { conn } => {
                self.socket_closed(conn);
                "socket closed"
            }
            Command::Shutdown => {
                self.stopping = true;
                "shutdown"
            }
        };
        let took = started.elapsed();
        if took > SLOW_COMMAND {
            log::warn!("slow hub command: {name} took {:.1} ms", took.as_secs_f64() * 1000.0);
        }
    }
}

#[cfg(test)]
mod tests;
