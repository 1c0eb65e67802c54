//! The hub thread: the one owner of mutable shared state — the database connection, the
//! directory of users and sessions, rooms and their members, every open socket, presence and
//! rate counters. Everything else talks to it through [`Command`]s and hears back through
//! reply channels (HTTP workers) or outbound socket queues (WebSocket writers).
//!
//! The loop takes a batch of commands (all that are waiting, up to a bound), applies them, and
//! commits their writes in one transaction. Only after the commit are the batch's effects
//! released: replies to workers and frames to sockets. So a message is acknowledged to its
//! sender and delivered to others only once it is durable, and durability costs one commit
//! per batch rather than per message.
//!
//! The hub never blocks on a client: password hashing runs on workers, socket I/O on writer
//! threads, history is paged. A socket whose queue is full is cut off here and now.

mod accounts;
mod chat;
mod presence;
mod rooms;
mod sockets;

pub use sockets::{SocketKind, SocketRequest, SocketTarget};

use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::limits::{Limiter, Rate};
use crate::protocol::{ClientFrame, Event, Me, Member, PrivateItem, RoomItem, RoomSummary, UserStatus};
use crate::ws::{Outbound, OutboundQueue, PushError};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type UserId = Arc<str>;
pub type RoomId = Arc<str>;
/// A socket's number, unique for the life of the process.
pub type ConnId = u64;
/// A session token's hash; the token itself never reaches the hub.
pub type TokenHash = [u8; 32];
/// Where the hub sends a worker its answer.
pub type Reply<T> = Sender<T>;

/// The logged-in user behind a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionUser {
    pub id: UserId,
    pub name: Arc<str>,
}

impl SessionUser {
    pub fn me(&self) -> Me {
        Me { id: self.id.clone(), name: self.name.clone() }
    }
}

/// What a login attempt needs to check a password off the hub.
pub struct Credentials {
    pub user: SessionUser,
    pub password_hash: String,
}

pub use crate::db::Page;

/// Everything the hub can be asked. HTTP workers send the variants with a `reply`; socket
/// reader threads send the `Socket*` ones and hear back through their outbound queue.
pub enum Command {
    /// Resolve a session cookie's hash to its user (and note the session was used).
    Authenticate { token: TokenHash, reply: Reply<Option<SessionUser>> },
    /// Before hashing a new password: is the name free, and may this address register now?
    CheckRegistration { name: String, peer: IpAddr, reply: Reply<Result<(), ApiError>> },
    /// Create an account (the password already hashed) and its first session.
    Register { name: String, password_hash: String, token: TokenHash, reply: Reply<Result<SessionUser, ApiError>> },
    /// A login attempt begins: the account's hash, after the attempt counted against the
    /// account's and the address's failure budget. `None`: no such account.
    LoginLookup { name: String, peer: IpAddr, reply: Reply<Result<Option<Credentials>, ApiError>> },
    /// The password was right: the attempt is refunded, the session opened, and `rehash`
    /// stored if the old hash had old parameters.
    LoginSucceeded {
        user: SessionUser,
        name: String,
        peer: IpAddr,
        token: TokenHash,
        rehash: Option<String>,
        reply: Reply<Result<(), ApiError>>,
    },
    /// Revoke a session and close the sockets it opened.
    Logout { token: TokenHash, reply: Reply<()> },
    /// `GET /healthz`: the hub answers and the database answers.
    Health { reply: Reply<Result<(), ApiError>> },

    /// `GET /api/users`.
    Users { reply: Reply<Vec<UserStatus>> },
    /// One user by id (for `/chat/{target_id}`).
    FindUser { id: String, reply: Reply<Option<UserStatus>> },
    /// `GET /api/unread/{user_id}`: unread private messages per sender.
    Unread { user: UserId, reply: Reply<Result<BTreeMap<Arc<str>, i64>, ApiError>> },
    /// `POST /api/mark_read/{user_id}/{target_id}`.
    MarkRead { user: UserId, target: String, reply: Reply<Result<(), ApiError>> },
    /// `GET /api/history/{user_id}/{target_id}`.
    History { user: UserId, target: String, page: Page, reply: Reply<Result<Vec<PrivateItem>, ApiError>> },

    /// `POST /api/rooms/create`.
    CreateRoom { user: UserId, name: String, description: String, reply: Reply<Result<RoomSummary, ApiError>> },
    /// `GET /api/rooms`.
    Rooms { user: UserId, reply: Reply<Result<Vec<RoomSummary>, ApiError>> },
    /// `GET /api/rooms/{room_id}`.
    Room { user: UserId, room: String, reply: Reply<Result<RoomSummary, ApiError>> },
    /// `DELETE /api/rooms/{room_id}`.
    DeleteRoom { user: UserId, room: String, reply: Reply<Result<(), ApiError>> },
    /// `POST /api/rooms/{room_id}/add_user`.
    AddMember { user: UserId, room: String, member: String, reply: Reply<Result<RoomSummary, ApiError>> },
    /// `POST /api/rooms/{room_id}/remove_user`.
    RemoveMember { user: UserId, room: String, member: String, reply: Reply<Result<RoomSummary, ApiError>> },
    /// `GET /api/rooms/{room_id}/members`.
    Members { user: UserId, room: String, reply: Reply<Result<Vec<Member>, ApiError>> },
    /// `GET /api/rooms/{room_id}/history`.
    RoomHistory { user: UserId, room: String, page: Page, reply: Reply<Result<Vec<RoomItem>, ApiError>> },

    /// A WebSocket handshake, checked and registered before the worker answers 101.
    OpenSocket { request: Box<SocketRequest>, reply: Reply<Result<SessionUser, ApiError>> },
    /// A decoded frame from a socket's reader.
    SocketFrame { conn: ConnId, frame: ClientFrame },
    /// A socket's reader has finished (closed by the peer, an error, or a kick).
    SocketClosed { conn: ConnId },
    /// Finish the batch in flight, close every socket with 1001, and stop.
    Shutdown,
}

/// The most commands applied in one batch (one transaction).
const MAX_BATCH: usize = 512;
/// What a sender reads when its message could not be stored.
const NOT_SAVED: &str = "message not saved, try again";

/// Rate limits the hub enforces.
pub(crate) struct Limits {
    /// Failed logins per account: five at once, then one a minute.
    login_per_account: Limiter<String>,
    /// Failed logins per client address (or /64 network for IPv6).
    login_per_address: Limiter<IpAddr>,
    /// Registrations per client address.
    register_per_address: Limiter<IpAddr>,
    /// Messages per user across all their sockets.
    messages_per_user: Limiter<UserId>,
}

impl Limits {
    fn new(enabled: bool) -> Limits {
        Limits {
            login_per_account: Limiter::new(Rate::new(5, Duration::from_secs(60)), enabled),
            login_per_address: Limiter::new(Rate::new(20, Duration::from_secs(30)), enabled),
            register_per_address: Limiter::new(Rate::new(10, Duration::from_secs(300)), enabled),
            messages_per_user: Limiter::new(Rate::new(40, Duration::from_millis(50)), enabled),
        }
    }
}

/// Something to do once the batch has committed.
enum Effect {
    /// Answer a worker.
    Reply(Box<dyn FnOnce() + Send>),
    /// Queue a frame on a socket, if it is still registered then.
    Deliver(ConnId, Outbound),
    /// Close a socket that has already left the registry.
    Close(OutboundQueue, u16, &'static str),
}

pub struct Hub {
    db: Db,
    config: Arc<Config>,
    accounts: accounts::Accounts,
    sockets: sockets::Sockets,
    presence: presence::Presence,
    rooms: rooms::Rooms,
    limits: Limits,
    effects: Vec<Effect>,
    /// Sockets whose messages are in the batch: told if it fails to commit.
    senders: Vec<ConnId>,
    next_housekeeping: Instant,
    stopping: bool,
}

/// How a worker or reader reaches the hub.
#[derive(Clone)]
pub struct HubClient {
    tx: Sender<Command>,
}

/// How long a worker waits for the hub before answering 503.
const ASK_TIMEOUT: Duration = Duration::from_secs(15);

impl HubClient {
    pub fn new(tx: Sender<Command>) -> HubClient {
        HubClient { tx }
    }

    /// Sends a command built around a fresh reply channel and waits for the answer.
    pub fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Command) -> Result<T, ApiError> {
        let (reply, answer) = crossbeam_channel::bounded(1);
        self.tx.send(make(reply)).map_err(|_| ApiError::Unavailable("server is shutting down"))?;
        answer.recv_timeout(ASK_TIMEOUT).map_err(|e| match e {
            RecvTimeoutError::Timeout => ApiError::Unavailable("server is busy, try again"),
            // The hub dropped the reply: its batch failed to commit, or it is stopping.
            RecvTimeoutError::Disconnected => ApiError::Unavailable("storage unavailable, try again"),
        })
    }

    /// Sends a command that expects no answer.
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
            effects: Vec::new(),
            senders: Vec::new(),
            next_housekeeping: Instant::now(),
            stopping: false,
        };
        hub.load()?;
        Ok(hub)
    }

    /// (Re)builds the in-memory directory from the database; also after a failed commit, so
    /// memory never claims what the files don't hold.
    fn load(&mut self) -> rusqlite::Result<()> {
        self.accounts.load(&self.db)?;
        self.rooms.load(&self.db)?;
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
                for _ in 1..MAX_BATCH {
                    match commands.try_recv() {
                        Ok(command) => self.handle(command),
                        Err(_) => break,
                    }
                }
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
        deadline
    }

    /// Timed work: coalesced presence broadcasts, session expiry.
    fn tick(&mut self, now: Instant) {
        if self.presence.next_flush().is_some_and(|at| at <= now) {
            self.flush_presence(now);
        }
        if now >= self.next_housekeeping {
            self.next_housekeeping = now + Duration::from_secs(600);
            self.expire_sessions();
        }
    }

    /// Commits the batch's writes, then releases its effects. If the commit fails, nothing of
    /// the batch is released: replies are dropped (workers answer 503), no message is echoed
    /// or delivered, each sender of a message gets an error frame instead, and the in-memory
    /// state is reloaded from the files.
    fn finish_batch(&mut self) {
        let senders = std::mem::take(&mut self.senders);
        let effects = std::mem::take(&mut self.effects);
        if let Err(e) = self.db.commit() {
            log::error!("commit failed, batch rolled back: {e}");
            drop(effects);
            let frame = crate::ws::frame::event(&Event::Error { error: NOT_SAVED });
            for conn in senders {
                if let Some(socket) = self.sockets.get(conn) {
                    let _ = socket.queue.push(Outbound::Frame(frame.clone()));
                }
            }
            if let Err(e) = self.load() {
                log::error!("reloading state after a failed commit failed: {e}");
            }
            return;
        }
        let mut overflowed = Vec::new();
        let mut touched = Vec::new();
        for effect in effects {
            match effect {
                Effect::Reply(send) => send(),
                Effect::Deliver(conn, outbound) => {
                    if let Some(socket) = self.sockets.get(conn) {
                        match socket.queue.push_quietly(outbound) {
                            Ok(()) => touched.push(conn),
                            Err(PushError::Full) => overflowed.push(conn),
                            Err(PushError::Closed) => {}
                        }
                    }
                }
                Effect::Close(queue, code, reason) => {
                    let _ = queue.push(Outbound::Close(code, reason));
                }
            }
        }
        // One wake-up per socket per batch, however many frames it got.
        touched.sort_unstable();
        touched.dedup();
        for conn in touched {
            if let Some(socket) = self.sockets.get(conn) {
                socket.queue.wake();
            }
        }
        for conn in overflowed {
            if self.sockets.get(conn).is_some() {
                log::info!("ws #{conn} cut off: it does not read fast enough");
                self.kick(conn);
            }
        }
    }

    /// Answers a worker once the batch commits.
    fn reply<T: Send + 'static>(&mut self, to: Reply<T>, value: T) {
        self.effects.push(Effect::Reply(Box::new(move || {
            let _ = to.send(value);
        })));
    }

    /// Queues an outbound item for a socket once the batch commits.
    fn deliver(&mut self, conn: ConnId, outbound: Outbound) {
        self.effects.push(Effect::Deliver(conn, outbound));
    }

    /// Sends an event to every socket in `conns`, serialized and framed once.
    fn broadcast(&mut self, conns: &[ConnId], event: &Event) {
        if conns.is_empty() {
            return;
        }
        let frame = crate::ws::frame::event(event);
        for &conn in conns {
            self.deliver(conn, Outbound::Frame(frame.clone()));
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

    fn handle(&mut self, command: Command) {
        match command {
            Command::Authenticate { token, reply } => {
                let user = self.authenticate(&token);
                self.reply(reply, user)
            }
            Command::CheckRegistration { name, peer, reply } => {
                let r = self.check_registration(&name, peer);
                self.reply(reply, r)
            }
            Command::Register { name, password_hash, token, reply } => {
                let r = self.register(name, &password_hash, token);
                self.reply(reply, r)
            }
            Command::LoginLookup { name, peer, reply } => {
                let r = self.login_lookup(&name, peer);
                self.reply(reply, r)
            }
            Command::LoginSucceeded { user, name, peer, token, rehash, reply } => {
                let r = self.login_succeeded(user, &name, peer, token, rehash);
                self.reply(reply, r)
            }
            Command::Logout { token, reply } => {
                self.logout(&token);
                self.reply(reply, ())
            }
            Command::Health { reply } => {
                let r = self.db.ping().map_err(|e| self.internal(e));
                self.reply(reply, r)
            }
            Command::Users { reply } => {
                let users = self.user_statuses();
                self.reply(reply, users)
            }
            Command::FindUser { id, reply } => {
                let user = self.accounts.get(&id).map(|u| self.status_of(&u.id, &u.name));
                self.reply(reply, user)
            }
            Command::Unread { user, reply } => {
                let r = self.unread(&user);
                self.reply(reply, r)
            }
            Command::MarkRead { user, target, reply } => {
                let r = self.mark_read(&user, &target);
                self.reply(reply, r)
            }
            Command::History { user, target, page, reply } => {
                let r = self.history(&user, &target, page);
                self.reply(reply, r)
            }
            Command::CreateRoom { user, name, description, reply } => {
                let r = self.create_room(&user, name, description);
                self.reply(reply, r)
            }
            Command::Rooms { user, reply } => {
                let r = self.rooms_of(&user);
                self.reply(reply, r)
            }
            Command::Room { user, room, reply } => {
                let r = self.room_summary_for(&user, &room);
                self.reply(reply, r)
            }
            Command::DeleteRoom { user, room, reply } => {
                let r = self.delete_room(&user, &room);
                self.reply(reply, r)
            }
            Command::AddMember { user, room, member, reply } => {
                let r = self.add_member(&user, &room, &member);
                self.reply(reply, r)
            }
            Command::RemoveMember { user, room, member, reply } => {
                let r = self.remove_member(&user, &room, &member);
                self.reply(reply, r)
            }
            Command::Members { user, room, reply } => {
                let r = self.members(&user, &room);
                self.reply(reply, r)
            }
            Command::RoomHistory { user, room, page, reply } => {
                let r = self.room_history(&user, &room, page);
                self.reply(reply, r)
            }
            Command::OpenSocket { request, reply } => {
                let r = self.open_socket(*request);
                self.reply(reply, r)
            }
            Command::SocketFrame { conn, frame } => self.socket_frame(conn, frame),
            Command::SocketClosed { conn } => self.socket_closed(conn),
            Command::Shutdown => self.stopping = true,
        }
    }
}

#[cfg(test)]
mod tests;
