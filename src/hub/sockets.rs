//! The registry of open WebSockets: who holds each, what it is for, and the indexes the
//! routing needs (a user's sockets, a conversation's viewers, a room's listeners).

use super::{ConnId, Credential, Effect, Hub, RoomId, SessionUser, TokenHash, UserId};
use crate::error::ApiError;
use crate::identity::Conversation;
use crate::protocol::{ClientFrame, Event};
use crate::transport::SocketHandle;
use std::collections::HashMap;
use std::time::Instant;

/// What a handshake asked for, ids as the client wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketTarget {
    /// `/ws/{user_id}/{target_id}`
    Private { target: String },
    /// `/ws/global/{user_id}`
    Global,
    /// `/ws/status`
    Status,
    /// `/ws/room/{room_id}/{user_id}`
    Room { room: String },
}

/// A checked, registered socket's purpose.
#[derive(Debug, Clone)]
pub enum SocketKind {
    Private { target: UserId },
    Global,
    Status,
    Room { room: RoomId },
}

impl SocketKind {
    /// Where this kind is counted in [`crate::metrics::SOCKETS_OPEN`].
    fn metrics_index(&self) -> usize {
        match self {
            SocketKind::Private { .. } => 0,
            SocketKind::Room { .. } => 1,
            SocketKind::Global => 2,
            SocketKind::Status => 3,
        }
    }

    /// The conversation a socket of this kind shows `user`; none for global and status ones.
    pub fn conversation(&self, user: &UserId) -> Option<Conversation> {
        match self {
            SocketKind::Private { target } => Some(Conversation::private(user, target)),
            SocketKind::Room { room } => Some(Conversation::Room(room.clone())),
            SocketKind::Global | SocketKind::Status => None,
        }
    }
}

/// A worker's request to open a socket, sent before it answers 101.
pub struct SocketRequest {
    pub conn: ConnId,
    /// A session cookie, or a trusted proxy's user header.
    pub credential: Credential,
    /// The client's address (a user made on first sight by single sign-on is limited by it).
    pub peer: std::net::IpAddr,
    /// The `{user_id}` of the path; must be the session's user.
    pub path_user: Option<String>,
    pub target: SocketTarget,
    /// Held until the handshake's answer is released; the hub may push to it at once.
    pub socket: SocketHandle,
}

pub(super) struct Socket {
    pub user: UserId,
    pub kind: SocketKind,
    /// The session it was opened with; `None` for single sign-on (no session to end).
    pub token: Option<TokenHash>,
    pub handle: SocketHandle,
    opened: Instant,
}

#[derive(Default)]
pub(super) struct Sockets {
    all: HashMap<ConnId, Socket>,
    of_user: HashMap<UserId, Vec<ConnId>>,
    globals: HashMap<UserId, Vec<ConnId>>,
    status: Vec<ConnId>,
    /// `(viewer, other)` → the viewer's sockets on that conversation.
    private: HashMap<(UserId, UserId), Vec<ConnId>>,
    rooms: HashMap<RoomId, Vec<ConnId>>,
}

fn remove_from<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Vec<ConnId>>, key: &K, conn: ConnId) {
    if let Some(list) = map.get_mut(key) {
        list.retain(|c| *c != conn);
        if list.is_empty() {
            map.remove(key);
        }
    }
}

impl Sockets {
    pub fn get(&self, conn: ConnId) -> Option<&Socket> {
        self.all.get(&conn)
    }

    pub fn ids(&self) -> Vec<ConnId> {
        self.all.keys().copied().collect()
    }

    pub fn count_of(&self, user: &UserId) -> usize {
        self.of_user.get(user).map_or(0, Vec::len)
    }

    pub fn globals_of(&self, user: &UserId) -> &[ConnId] {
        self.globals.get(user).map_or(&[], Vec::as_slice)
    }

    pub fn all_globals(&self) -> Vec<ConnId> {
        self.globals.values().flatten().copied().collect()
    }

    pub fn status(&self) -> &[ConnId] {
        &self.status
    }

    pub fn viewing(&self, viewer: &UserId, other: &UserId) -> &[ConnId] {
        self.private.get(&(viewer.clone(), other.clone())).map_or(&[], Vec::as_slice)
    }

    pub fn in_room(&self, room: &RoomId) -> &[ConnId] {
        self.rooms.get(room).map_or(&[], Vec::as_slice)
    }

    /// A user's sockets in a room.
    pub fn in_room_of(&self, room: &RoomId, user: &UserId) -> Vec<ConnId> {
        self.in_room(room).iter().copied().filter(|c| self.all.get(c).is_some_and(|s| s.user == *user)).collect()
    }

    pub fn opened_with(&self, token: &TokenHash) -> Vec<ConnId> {
        self.all.iter().filter(|(_, s)| s.token.as_ref() == Some(token)).map(|(c, _)| *c).collect()
    }

    /// Every socket of `user`.
    pub fn of_user(&self, user: &UserId) -> Vec<ConnId> {
        self.of_user.get(user).cloned().unwrap_or_default()
    }

    fn insert(&mut self, conn: ConnId, socket: Socket) {
        let user = socket.user.clone();
        self.of_user.entry(user.clone()).or_default().push(conn);
        match &socket.kind {
            SocketKind::Private { target } => self.private.entry((user, target.clone())).or_default().push(conn),
            SocketKind::Global => self.globals.entry(user).or_default().push(conn),
            SocketKind::Status => self.status.push(conn),
            SocketKind::Room { room } => self.rooms.entry(room.clone()).or_default().push(conn),
        }
        crate::metrics::SOCKETS_OPEN[socket.kind.metrics_index()].inc();
        self.all.insert(conn, socket);
    }

    fn remove(&mut self, conn: ConnId) -> Option<Socket> {
        let socket = self.all.remove(&conn)?;
        crate::metrics::SOCKETS_OPEN[socket.kind.metrics_index()].dec();
        remove_from(&mut self.of_user, &socket.user, conn);
        match &socket.kind {
            SocketKind::Private { target } => {
                remove_from(&mut self.private, &(socket.user.clone(), target.clone()), conn)
            }
            SocketKind::Global => remove_from(&mut self.globals, &socket.user, conn),
            SocketKind::Status => self.status.retain(|c| *c != conn),
            SocketKind::Room { room } => remove_from(&mut self.rooms, room, conn),
        }
        Some(socket)
    }
}

impl Hub {
    /// A WebSocket handshake, checked and registered before the worker answers 101: the
    /// session, the path's user, the per-user cap, and the target (a user; a room the caller
    /// is a member of).
    pub fn open_socket(&mut self, request: SocketRequest) -> Result<SessionUser, ApiError> {
        let user = self.authenticate_credential(&request.credential, request.peer)?.ok_or(ApiError::NotLoggedIn)?;
        if request.path_user.as_deref().is_some_and(|id| id != &*user.id) {
            return Err(ApiError::Forbidden("that socket belongs to another user"));
        }
        if self.sockets.count_of(&user.id) >= self.config.max_sockets_per_user {
            return Err(ApiError::TooManyRequests { retry_after: 10 });
        }
        let kind = match request.target {
            SocketTarget::Private { target } => {
                let other = self.accounts.get(&target).ok_or(ApiError::NotFound("no such user"))?;
                SocketKind::Private { target: other.id.clone() }
            }
            SocketTarget::Global => SocketKind::Global,
            SocketTarget::Status => SocketKind::Status,
            SocketTarget::Room { room } => {
                let room = self.rooms.require_member(&room, &user.id)?.id.clone();
                SocketKind::Room { room }
            }
        };
        let socket = Socket {
            user: user.id.clone(),
            kind: kind.clone(),
            token: request.credential.token().copied(),
            handle: request.socket,
            opened: Instant::now(),
        };
        self.sockets.insert(request.conn, socket);
        self.undo.opened.push(request.conn);
        if matches!(kind, SocketKind::Global) {
            self.presence.connect(&user.id);
        }
        log::info!("ws #{} open: {} {}", request.conn, user.name, describe(&kind));
        if matches!(kind, SocketKind::Status) {
            let frame = self.status_frame();
            self.effects.push(Effect::Deliver(request.conn, frame));
        }
        Ok(user)
    }

    pub(super) fn socket_frame(&mut self, conn: ConnId, frame: ClientFrame) {
        let Some(socket) = self.sockets.get(conn) else { return };
        let (user, kind) = (socket.user.clone(), socket.kind.clone());
        let Some(conversation) = kind.conversation(&user) else { return };
        if let SocketKind::Room { room } = &kind
            && self.rooms.require_member(room, &user).is_err()
        {
            self.close_socket(conn, 4403, "not a member of the room");
            return;
        }
        // What creates or changes stored messages counts against the user's message rate.
        let costs = matches!(
            frame,
            ClientFrame::Message { .. }
                | ClientFrame::Edit { .. }
                | ClientFrame::Delete { .. }
                | ClientFrame::React { .. }
        );
        if costs {
            if let Err(wait) = self.limits.messages_per_user.take(&user, Instant::now()) {
                let secs = crate::limits::retry_after_secs(wait);
                self.error_frame(conn, &format!("too many messages, wait {secs} s"));
                return;
            }
            let refunded = user.clone();
            self.undo.refunds.push(Box::new(move |limits| limits.messages_per_user.refund(&refunded)));
        }
        self.conversation_frame(conn, user, conversation, frame);
    }

    /// A socket has ended (its reader finished, or its handshake did not complete). Nothing
    /// if the hub already let it go.
    pub(super) fn socket_closed(&mut self, conn: ConnId) {
        let Some(socket) = self.unregister(conn) else { return };
        log::info!(
            "ws #{conn} closed: {} after {:.1} s",
            describe(&socket.kind),
            socket.opened.elapsed().as_secs_f64()
        );
        if let Some(conversation) = socket.kind.conversation(&socket.user) {
            self.typing_ended_by_close(&socket.user, &conversation);
        }
    }

    /// Forgets a socket: the registry and presence no longer count it. Whoever calls this
    /// ends the socket itself (or it has ended).
    pub(super) fn unregister(&mut self, conn: ConnId) -> Option<Socket> {
        let socket = self.sockets.remove(conn)?;
        if matches!(socket.kind, SocketKind::Global) {
            self.presence.disconnect(&socket.user);
            if !self.presence.is_online(&socket.user) {
                // Gone offline: the admin page's "last seen" is now.
                let now = self.session_clock();
                if let Err(e) = self.db.set_last_seen(&socket.user, now) {
                    log::warn!("could not record when {} was last seen: {e}", socket.user);
                }
            }
        }
        Some(socket)
    }

    /// Cuts a socket off at once (it does not keep up): no more frames; its reader's next
    /// read fails and the reader ends.
    pub(super) fn kick(&mut self, conn: ConnId) {
        if let Some(socket) = self.unregister(conn) {
            socket.handle.sever();
        }
    }

    /// Sends an event to every global socket of `user`.
    pub(super) fn tell_user(&mut self, user: &UserId, event: &Event) {
        let conns = self.sockets.globals_of(user).to_vec();
        self.broadcast(&conns, event);
    }

    /// Closes a socket with a code and reason once the batch commits (frames the batch sent it
    /// before go out first; none after). If the commit fails, the socket stays.
    pub(super) fn close_socket(&mut self, conn: ConnId, code: u16, reason: &'static str) {
        if self.sockets.get(conn).is_some() {
            self.effects.push(Effect::Close(conn, code, reason));
        }
    }
}

fn describe(kind: &SocketKind) -> String {
    match kind {
        SocketKind::Private { target } => format!("private chat with {target}"),
        SocketKind::Global => "global".into(),
        SocketKind::Status => "status".into(),
        SocketKind::Room { room } => format!("room {room}"),
    }
}
