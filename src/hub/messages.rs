//! Messages, one way for private chats and rooms: sending (with replies by id, mentions and
//! idempotent resends), editing, deleting (tombstones), reactions, typing and read positions.
//! Every action arrives on a conversation's socket and is checked against that conversation:
//! nobody acts on a conversation they are not in, only the author edits, only the author (or,
//! in a room, its creator) deletes.
//!
//! Each change gives the message a new change number (`seq`), so a client that was away asks
//! for what changed since the last number it saw and learns edits, deletions and reactions,
//! not only new messages.

use super::{ConnId, Effect, Hub, NOT_SAVED, RoomId, UserId};
use crate::clock::{display_parts, iso_now, millis_from_iso, millis_now};
use crate::db::{NewMessage, Quote, StoredMessage, Thread};
use crate::identity::{Conversation, MessageRef};
use crate::protocol::{
    AlertItem, AnyItem, BotRef, ChatRef, ClientFrame, Event, MessageMeta, PrivateItem, QuoteItem, ReactionItem,
    ReplyRef, RoomItem, UserRef,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A reaction frame may add at most this many different emoji to one message.
const MAX_EMOJI_PER_MESSAGE: usize = 20;
/// A typing indicator is forwarded at most this often per sender and conversation.
const TYPING_EVERY: Duration = Duration::from_secs(2);
/// A typing state nobody ended is forgotten after this (the clients' indicators fade sooner).
const TYPING_FORGET: Duration = Duration::from_secs(10);
/// Mentions looked at in one message, at most.
const MAX_MENTIONS: usize = 20;

/// How much a member wants to hear about a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Level {
    /// Every message notifies.
    #[default]
    All,
    /// Only messages that mention them (in a private chat: every message, all are for them).
    Mentions,
    /// Nothing notifies; the conversation is shown muted.
    Nothing,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::All => "all",
            Level::Mentions => "mentions",
            Level::Nothing => "none",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "all" => Some(Level::All),
            "mentions" => Some(Level::Mentions),
            "none" => Some(Level::Nothing),
            _ => None,
        }
    }

    /// Whether a new message alerts a member with this level (not counting whether they are
    /// looking at the conversation). `urgent`: a bot's high-priority alert (ntfy priority 4–5,
    /// Gotify 7–10, Alertmanager `severity=critical`…, see `AlertItem::urgent`), which reaches
    /// members who chose mentions only, as a mention would; muted is muted.
    pub fn alerts(self, mentioned: bool, private: bool, urgent: bool) -> bool {
        match self {
            Level::All => true,
            Level::Mentions => mentioned || private || urgent,
            Level::Nothing => false,
        }
    }
}

/// Who is typing where, for throttling and for telling others when they stop.
#[derive(Default)]
pub(super) struct Typing {
    /// `(user, conversation)` → when "typing" was last forwarded.
    active: HashMap<(UserId, Conversation), Instant>,
}

impl Typing {
    /// Forgets states nobody ended, so the map holds only what is live.
    pub fn sweep(&mut self, now: Instant) {
        self.active.retain(|_, at| now.duration_since(*at) < TYPING_FORGET);
    }
}

/// An action's refusal, read by the client in an error frame.
type Refusal = &'static str;

/// A message and the conversation it belongs to, as the socket saw it (or, for a bot's
/// message, as its room: `user` is then `bot:<id>`).
pub(super) struct Scope {
    pub(super) user: UserId,
    pub(super) conversation: Conversation,
}

impl Scope {
    fn thread(&self) -> Thread<'_> {
        match &self.conversation {
            // Oriented from the user: the sender of what they send.
            Conversation::Private { a, b } => {
                let other = if *a == self.user { b } else { a };
                Thread::Private(&self.user, other)
            }
            Conversation::Room(room) => Thread::Room(room),
        }
    }

    fn other(&self) -> Option<&UserId> {
        match &self.conversation {
            Conversation::Private { a, b } => Some(if *a == self.user { b } else { a }),
            Conversation::Room(_) => None,
        }
    }

    fn room(&self) -> Option<&RoomId> {
        match &self.conversation {
            Conversation::Room(room) => Some(room),
            Conversation::Private { .. } => None,
        }
    }

    pub(super) fn message_ref(&self, id: i64) -> MessageRef {
        match self.conversation {
            Conversation::Private { .. } => MessageRef::Private(id),
            Conversation::Room(_) => MessageRef::Room(id),
        }
    }

    /// Whether a stored message belongs to this conversation.
    fn holds(&self, m: &StoredMessage) -> bool {
        match &self.conversation {
            Conversation::Private { a, b } => {
                let pair = (m.sender_id.as_str(), m.to.as_str());
                pair == (a.as_ref(), b.as_ref()) || pair == (b.as_ref(), a.as_ref())
            }
            Conversation::Room(room) => m.to == **room,
        }
    }
}

impl Hub {
    /// The next change number.
    pub(super) fn next_seq(&mut self) -> i64 {
        self.seq += 1;
        self.seq
    }

    /// A message frame from a conversation socket (the socket's checks — rate, who — done).
    pub(super) fn conversation_frame(
        &mut self,
        conn: ConnId,
        user: UserId,
        conversation: Conversation,
        frame: ClientFrame,
    ) {
        let scope = Scope { user, conversation };
        let result = match frame {
            ClientFrame::Message { text, reply_to, client_id, attachments } => {
                self.send_message(conn, &scope, Outgoing { text, reply_to, client_id, attachments })
            }
            ClientFrame::Edit { id, text } => self.edit_message(&scope, id, text),
            ClientFrame::Delete { id } => self.delete_message(&scope, id),
            ClientFrame::React { id, emoji } => self.react(&scope, id, &emoji),
            ClientFrame::Typing { active } => {
                self.typing(&scope, active);
                Ok(())
            }
            ClientFrame::Read { up_to } => self.read_up_to(&scope.user, &scope.conversation, up_to).map(|_| ()),
            ClientFrame::Ping | ClientFrame::Pong => Ok(()),
        };
        if let Err(refusal) = result {
            self.error_frame(conn, refusal);
        }
    }

    /// Logs a database error; the client reads that its action was not saved.
    fn not_saved(&self, e: rusqlite::Error) -> Refusal {
        log::error!("database error: {e}");
        NOT_SAVED
    }

    /// A message of this conversation, for an action on it.
    pub(super) fn stored_in(&self, scope: &Scope, id: i64) -> Result<StoredMessage, Refusal> {
        match self.db.message(scope.message_ref(id)) {
            Ok(Some(m)) if scope.holds(&m) => Ok(m),
            Ok(_) => Err("no such message in this conversation"),
            Err(e) => Err(self.not_saved(e)),
        }
    }

    /// The quote a reply carries, from the stored message it points at.
    pub(super) fn resolve_reply(&self, scope: &Scope, reply: ReplyRef) -> Result<Quote, Refusal> {
        let found = match (reply, scope.room()) {
            (ReplyRef::Id(id), _) => self.stored_in(scope, id).ok(),
            (ReplyRef::Quote { sender_id, text }, Some(room)) => {
                self.db.find_quoted(room, &sender_id, &text).map_err(|e| self.not_saved(e))?
            }
            (ReplyRef::Quote { .. }, None) => None,
        };
        let m = found.ok_or("the message you reply to is not in this conversation")?;
        if m.deleted {
            return Err("the message you reply to was deleted");
        }
        let id = match m.id {
            MessageRef::Private(id) | MessageRef::Room(id) => id,
        };
        let sender_name = m.sender_name.or_else(|| Some(self.name_of(&m.sender_id).to_string()));
        Ok(Quote { id: Some(id), sender_id: m.sender_id, sender_name, text: m.text, deleted: false })
    }

    fn send_message(&mut self, conn: ConnId, scope: &Scope, outgoing: Outgoing) -> Result<(), Refusal> {
        let Outgoing { text, reply_to, client_id, attachments } = outgoing;
        self.undo.senders.push(conn);
        if let Some(client_id) = &client_id {
            // A resend of a message already stored: the sender hears of it again, nobody else.
            let found = self.db.message_by_client_id(scope.thread(), &scope.user, client_id);
            if let Some(existing) = found.map_err(|e| self.not_saved(e))?.filter(|m| scope.holds(m)) {
                let frame = self.new_message_frame(existing);
                self.effects.push(Effect::Deliver(conn, frame));
                return Ok(());
            }
        }
        let reply = reply_to.map(|r| self.resolve_reply(scope, r)).transpose()?;
        let sender_name = self.name_of(&scope.user);
        let draft = Draft { text, reply, client_id, attachments: &attachments, alert: None };
        self.post(scope, &sender_name, draft).map(|_| ())
    }

    /// Stores a new message and delivers it: the one way a message — a person's or a bot's —
    /// enters a conversation. Mentions and unread counts are counted, every socket on the
    /// conversation and every member's chat list hear of it once the batch commits. `alert`:
    /// a bot's alert data, and the key that leaves it open. Returns the stored message.
    pub(super) fn post(&mut self, scope: &Scope, sender_name: &str, draft: Draft) -> Result<StoredMessage, Refusal> {
        let Draft { text, reply, client_id, attachments, alert } = draft;
        let timestamp = iso_now();
        let seq = self.next_seq();
        let alert_json = alert.map(|(item, _)| serde_json::to_string(item).unwrap_or_default());
        let new = NewMessage {
            thread: scope.thread(),
            sender_id: &scope.user,
            sender_name,
            text: &text,
            timestamp: &timestamp,
            reply: reply.as_ref(),
            client_id: client_id.as_deref(),
            seq,
            alert: alert_json.as_deref(),
            alert_key: alert.and_then(|(_, key)| key),
        };
        // The message and its files' claim are one unit: a refused claim stores nothing.
        self.db.begin_unit().map_err(|e| self.not_saved(e))?;
        let stored = self.db.insert_message(&new).map_err(|e| self.not_saved(e)).and_then(|id| {
            let files = if attachments.is_empty() {
                Vec::new()
            } else {
                self.claim_attachments(&scope.user, &scope.conversation, attachments, id)?
            };
            Ok((id, files))
        });
        let kept = self.db.end_unit(stored.is_ok());
        let (id, files) = stored?;
        kept.map_err(|e| self.not_saved(e))?;
        let mentions = match (scope.room(), id) {
            (Some(room), MessageRef::Room(message_id)) => {
                let mentioned = self.mentioned_in(room, &text);
                let ids: Vec<&str> = mentioned.iter().map(|u| u.as_ref()).collect();
                self.db.set_mentions(room, message_id, &ids).map_err(|e| self.not_saved(e))?;
                if let Some(state) = self.rooms.get_mut(room) {
                    state.latest_id = message_id;
                }
                self.rooms.note_message(room, &scope.user, &mentioned);
                mentioned
            }
            (None, MessageRef::Private(message_id)) => {
                if let Some(other) = scope.other() {
                    self.db.note_private_message(&scope.user, other, message_id).map_err(|e| self.not_saved(e))?;
                }
                Vec::new()
            }
            _ => Vec::new(),
        };
        self.typing.active.remove(&(scope.user.clone(), scope.conversation.clone()));
        let stored = StoredMessage {
            id,
            sender_id: scope.user.to_string(),
            sender_name: Some(sender_name.to_string()),
            to: match scope.thread() {
                Thread::Private(_, to) | Thread::Room(to) => to.to_string(),
            },
            text,
            timestamp,
            read: false,
            quote: reply,
            edited_at: None,
            deleted: false,
            client_id,
            seq,
            alert: alert_json,
        };
        let meta = MessageMeta {
            seq,
            mentions,
            client_id: stored.client_id.clone(),
            attachments: files,
            ..MessageMeta::default()
        };
        match self.render(stored.clone(), meta) {
            Rendered::Private(item) => self.deliver_private(&scope.user, &item),
            Rendered::Room(item) => self.deliver_room(scope.room().cloned().unwrap_or_default(), &item),
        }
        Ok(stored)
    }

    /// The frame a new message travels in, built from its stored row.
    fn new_message_frame(&self, m: StoredMessage) -> Arc<[u8]> {
        match self.item(m) {
            Rendered::Private(item) => crate::transport::frame::event(&Event::Message(&item)),
            Rendered::Room(item) => crate::transport::frame::event(&Event::RoomMessage(&item)),
        }
    }

    fn edit_message(&mut self, scope: &Scope, id: i64, text: String) -> Result<(), Refusal> {
        let m = self.stored_in(scope, id)?;
        // A bot's message is edited by those who manage the room's bots (to annotate an alert).
        let bot_manager = crate::identity::is_bot(&m.sender_id)
            && scope.room().is_some_and(|room| self.may_manage_bots(room, &scope.user));
        if m.sender_id != *scope.user && !bot_manager {
            return Err("only its author can edit a message");
        }
        if m.deleted {
            return Err("that message was deleted");
        }
        self.within_edit_window(&m)?;
        let seq = self.next_seq();
        let now = iso_now();
        self.db.edit_message(m.id, &text, &now, seq).map_err(|e| self.not_saved(e))?;
        if let (Some(room), MessageRef::Room(message_id)) = (scope.room().cloned(), m.id) {
            let before = self.mentions_of(&room, message_id)?;
            let mentioned = self.mentioned_in(&room, &text);
            let ids: Vec<&str> = mentioned.iter().map(|u| u.as_ref()).collect();
            self.db.set_mentions(&room, message_id, &ids).map_err(|e| self.not_saved(e))?;
            self.rooms.note_mentions_changed(&room, message_id, &before, &mentioned);
        }
        let edited = StoredMessage { text, edited_at: Some(now), seq, ..m };
        self.announce_change(scope, edited);
        Ok(())
    }

    fn delete_message(&mut self, scope: &Scope, id: i64) -> Result<(), Refusal> {
        let m = self.stored_in(scope, id)?;
        let own = m.sender_id == *scope.user;
        let moderator = scope.room().is_some_and(|room| self.rooms.is_creator(room, &scope.user));
        if !own && !moderator {
            return Err("only its author (or the room's creator) can delete a message");
        }
        if m.deleted {
            return Ok(());
        }
        if !moderator {
            self.within_edit_window(&m)?;
        }
        let seq = self.next_seq();
        let mentioned = match (scope.room(), m.id) {
            (Some(room), MessageRef::Room(id)) => self.mentions_of(room, id)?,
            _ => Vec::new(),
        };
        self.db.delete_message(m.id, &iso_now(), seq).map_err(|e| self.not_saved(e))?;
        self.release_attachments(m.id);
        if let (Some(room), MessageRef::Room(id)) = (scope.room(), m.id) {
            self.rooms.note_unmessage(room, &m.sender_id, id, &mentioned);
        }
        if let (Some(other), MessageRef::Private(_)) = (scope.other(), m.id) {
            // The receiver may have one unread fewer.
            let receiver: UserId = if m.sender_id == **other { scope.user.clone() } else { other.clone() };
            let sender: UserId = m.sender_id.as_str().into();
            if !m.read && receiver != sender {
                self.db.recount_unread(&receiver, &sender).map_err(|e| self.not_saved(e))?;
                self.tell_read_state(&receiver, &Conversation::private(&receiver, &sender));
            }
        }
        log::info!("message {:?} deleted by {}", m.id, self.name_of(&scope.user));
        let tombstone = StoredMessage { text: String::new(), deleted: true, edited_at: None, seq, quote: None, ..m };
        self.announce_change(scope, tombstone);
        Ok(())
    }

    fn react(&mut self, scope: &Scope, id: i64, emoji: &str) -> Result<(), Refusal> {
        let m = self.stored_in(scope, id)?;
        if m.deleted {
            return Err("that message was deleted");
        }
        let reactions = self.db.reactions(m.id).map_err(|e| self.not_saved(e))?;
        let known = reactions.iter().any(|(e, _)| e == emoji);
        let kinds = reactions.iter().map(|(e, _)| e).collect::<std::collections::HashSet<_>>().len();
        if !known && kinds >= MAX_EMOJI_PER_MESSAGE {
            return Err("this message has as many different reactions as it can take");
        }
        let seq = self.next_seq();
        self.db.toggle_reaction(m.id, emoji, &scope.user, &iso_now()).map_err(|e| self.not_saved(e))?;
        self.db.touch_message(m.id, seq).map_err(|e| self.not_saved(e))?;
        self.announce_change(scope, StoredMessage { seq, ..m });
        Ok(())
    }

    /// Who a stored room message mentions.
    fn mentions_of(&self, room: &RoomId, id: i64) -> Result<Vec<UserId>, Refusal> {
        let found = self.db.mentions(room, id).map_err(|e| self.not_saved(e))?;
        Ok(found.into_iter().map(UserId::from).collect())
    }

    /// Within `--edit-window` of sending, if one is set.
    fn within_edit_window(&self, m: &StoredMessage) -> Result<(), Refusal> {
        let Some(window) = self.config.edit_window else { return Ok(()) };
        let sent = millis_from_iso(&m.timestamp).unwrap_or(i64::MIN);
        if millis_now().saturating_sub(sent) > window.as_millis() as i64 {
            return Err("too late to change that message");
        }
        Ok(())
    }

    /// Tells the conversation's sockets that a message changed; the chat lists too, if it is
    /// the conversation's latest.
    pub(super) fn announce_change(&mut self, scope: &Scope, m: StoredMessage) {
        let latest = self.is_latest(&scope.conversation, m.id);
        match (self.item(m), &scope.conversation) {
            (Rendered::Private(item), Conversation::Private { a, b }) => {
                let (a, b) = (a.clone(), b.clone());
                let mut conns = self.sockets.viewing(&a, &b).to_vec();
                if a != b {
                    conns.extend_from_slice(self.sockets.viewing(&b, &a));
                }
                self.broadcast(&conns, &Event::MessageUpdated { message: &item });
                if latest {
                    self.private_activity(&item, true);
                }
            }
            (Rendered::Room(item), Conversation::Room(room)) => {
                let room = room.clone();
                let conns = self.sockets.in_room(&room).to_vec();
                self.broadcast(&conns, &Event::RoomMessageUpdated { message: &item });
                if latest {
                    self.room_activity(&room, &item, true);
                }
            }
            _ => {}
        }
    }

    /// Whether `id` is the conversation's newest message.
    fn is_latest(&self, conversation: &Conversation, id: MessageRef) -> bool {
        match (conversation, id) {
            (Conversation::Room(room), MessageRef::Room(id)) => self.rooms.latest_id(room) == Some(id),
            (Conversation::Private { a, b }, MessageRef::Private(id)) => {
                let page = crate::db::Page::Range { before: i64::MAX, after: 0, limit: 1 };
                self.db.messages(Thread::Private(a, b), page).ok().and_then(|m| m.first().map(|m| m.id))
                    == Some(MessageRef::Private(id))
            }
            _ => false,
        }
    }

    /// A new private message reaches both sides' views of the conversation; the recipient's
    /// other tabs are notified (the original's `notify`), and every tab's chat list learns of it.
    fn deliver_private(&mut self, sender: &UserId, item: &PrivateItem) {
        let target: UserId = item.receiver_id.clone();
        let mut recipients = self.sockets.viewing(sender, &target).to_vec();
        let target_views = self.sockets.viewing(&target, sender);
        let target_viewing = !target_views.is_empty();
        if *sender != target {
            recipients.extend_from_slice(target_views);
        }
        self.broadcast(&recipients, &Event::Message(item));
        let level = self.private_level(&target, sender);
        if !target_viewing && *sender != target && level.alerts(false, true, false) {
            let notify = Event::Notify {
                id: item.id,
                from_id: &item.sender_id,
                from: &item.sender_id,
                from_name: &item.user,
                text: &item.text,
                time: &item.time,
                created_at: item.created_at.as_deref(),
            };
            let globals = self.sockets.globals_of(&target).to_vec();
            self.broadcast(&globals, &notify);
        }
        self.private_activity(item, false);
        self.push_private(item);
    }

    /// Both sides' chat lists: the conversation, named from each side, and its message.
    fn private_activity(&mut self, item: &PrivateItem, update: bool) {
        let (sender, receiver) = (item.sender_id.clone(), item.receiver_id.clone());
        for (me, other) in [(&sender, &receiver), (&receiver, &sender)] {
            let chat = ChatRef::user(other);
            let conns = self.sockets.globals_of(me).to_vec();
            self.broadcast(&conns, &Event::Activity { chat: &chat, message: AnyItem::Private(item), update });
            if sender == receiver {
                break;
            }
        }
    }

    /// A new room message reaches every socket on the room, and every member's chat list.
    fn deliver_room(&mut self, room: RoomId, item: &RoomItem) {
        let listeners = self.sockets.in_room(&room).to_vec();
        self.broadcast(&listeners, &Event::RoomMessage(item));
        self.room_activity(&room, item, false);
        let members = self.rooms.member_ids(&room);
        let name = self.rooms.get_mut(&room).map(|r| r.name.clone()).unwrap_or_default();
        self.push_room(&members, &name, item);
    }

    fn room_activity(&mut self, room: &RoomId, item: &RoomItem, update: bool) {
        let chat = ChatRef::room(room);
        let conns: Vec<ConnId> =
            self.rooms.member_ids(room).iter().flat_map(|m| self.sockets.globals_of(m).iter().copied()).collect();
        self.broadcast(&conns, &Event::Activity { chat: &chat, message: AnyItem::Room(item), update });
    }

    /// Who of the room's members `text` mentions with `@name` (names matched whole,
    /// case-insensitively, the longest name first, so "@Anna Maria" is not "@Anna").
    fn mentioned_in(&self, room: &RoomId, text: &str) -> Vec<UserId> {
        if !text.contains('@') {
            return Vec::new();
        }
        let names: HashMap<String, UserId> = self
            .rooms
            .member_ids(room)
            .into_iter()
            .filter_map(|id| self.accounts.get(&id).map(|u| (u.name.to_lowercase(), id.clone())))
            .collect();
        let longest = names.keys().map(|n| n.chars().count()).max().unwrap_or(0);
        let lower = text.to_lowercase();
        let mut found: Vec<UserId> = Vec::new();
        for (at, _) in lower.match_indices('@').take(4 * MAX_MENTIONS) {
            let rest = &lower[at + 1..];
            let ends: Vec<usize> = rest.char_indices().map(|(i, c)| i + c.len_utf8()).take(longest).collect();
            let hit = ends.iter().rev().find_map(|&end| {
                let boundary = rest[end..].chars().next().is_none_or(|c| !c.is_alphanumeric() && c != '_');
                if boundary { names.get(&rest[..end]) } else { None }
            });
            if let Some(id) = hit
                && !found.contains(id)
            {
                found.push(id.clone());
                if found.len() == MAX_MENTIONS {
                    break;
                }
            }
        }
        found
    }

    /// Typing indicators: "typing" forwarded at most every couple of seconds per sender and
    /// conversation, "stopped" once, never stored.
    fn typing(&mut self, scope: &Scope, active: bool) {
        let key = (scope.user.clone(), scope.conversation.clone());
        let now = Instant::now();
        if active {
            if self.typing.active.get(&key).is_some_and(|at| now.duration_since(*at) < TYPING_EVERY) {
                return;
            }
            self.typing.active.insert(key, now);
        } else if self.typing.active.remove(&key).is_none() {
            return;
        }
        self.tell_typing(&scope.user, &scope.conversation, active);
    }

    fn tell_typing(&mut self, user: &UserId, conversation: &Conversation, active: bool) {
        let conns: Vec<ConnId> = match conversation {
            Conversation::Private { a, b } => {
                let other = if a == user { b } else { a };
                if other == user { Vec::new() } else { self.sockets.viewing(other, user).to_vec() }
            }
            Conversation::Room(room) => self
                .sockets
                .in_room(room)
                .iter()
                .copied()
                .filter(|c| self.sockets.get(*c).is_some_and(|s| s.user != *user))
                .collect(),
        };
        let name = self.name_of(user);
        self.broadcast(&conns, &Event::Typing { user_id: user, name: &name, active });
    }

    /// A socket that closed while its user was typing there: the others see them stop, unless
    /// another of their sockets is still on the conversation.
    pub(super) fn typing_ended_by_close(&mut self, user: &UserId, conversation: &Conversation) {
        let still_there = match conversation {
            Conversation::Private { a, b } => {
                let other = if a == user { b } else { a };
                !self.sockets.viewing(user, other).is_empty()
            }
            Conversation::Room(room) => !self.sockets.in_room_of(room, user).is_empty(),
        };
        if !still_there && self.typing.active.remove(&(user.clone(), conversation.clone())).is_some() {
            self.tell_typing(user, conversation, false);
        }
    }

    /// A stored message as the API shows it, with its reactions, mentions and files.
    fn item(&self, m: StoredMessage) -> Rendered {
        let files = self.attachments_of(&[m.id]).remove(&m.id).unwrap_or_default();
        self.item_with(m, files)
    }

    fn item_with(&self, m: StoredMessage, attachments: Vec<crate::protocol::AttachmentItem>) -> Rendered {
        let reactions = self.db.reactions(m.id).unwrap_or_else(|e| {
            log::warn!("reactions of {:?}: {e}", m.id);
            Vec::new()
        });
        let mentions = match m.id {
            MessageRef::Room(id) => self.db.mentions(&m.to, id).unwrap_or_default(),
            MessageRef::Private(_) => Vec::new(),
        };
        let meta = MessageMeta {
            seq: m.seq,
            edited_at: m.edited_at.clone(),
            deleted: m.deleted,
            reactions: self.group_reactions(reactions),
            mentions: mentions.into_iter().map(Arc::from).collect(),
            client_id: m.client_id.clone(),
            attachments,
        };
        self.render(m, meta)
    }

    /// Many messages as the API shows them (a page of history), their files looked up at once.
    pub(super) fn items(&self, rows: Vec<StoredMessage>) -> Vec<Rendered> {
        let ids: Vec<MessageRef> = rows.iter().map(|m| m.id).collect();
        let mut files = self.attachments_of(&ids);
        rows.into_iter()
            .map(|m| {
                let mine = files.remove(&m.id).unwrap_or_default();
                self.item_with(m, mine)
            })
            .collect()
    }

    fn group_reactions(&self, reactions: Vec<(String, String)>) -> Vec<ReactionItem> {
        let mut grouped: Vec<ReactionItem> = Vec::new();
        for (emoji, user) in reactions {
            let user = UserRef { name: self.name_of(&user), id: user.into() };
            match grouped.iter_mut().find(|r| r.emoji == emoji) {
                Some(r) => {
                    r.count += 1;
                    r.users.push(user);
                }
                None => grouped.push(ReactionItem { emoji, count: 1, users: vec![user] }),
            }
        }
        grouped
    }

    fn render(&self, m: StoredMessage, meta: MessageMeta) -> Rendered {
        let (time, created_at) = display_parts(&m.timestamp);
        let quote = m.quote.map(|q| QuoteItem {
            sender_name: self.author_name(&q.sender_id, q.sender_name),
            id: q.id,
            sender_id: q.sender_id,
            text: q.text,
            deleted: q.deleted,
        });
        match m.id {
            MessageRef::Private(id) => {
                let name = self.name_of(&m.sender_id);
                Rendered::Private(PrivateItem {
                    id,
                    user: name.clone(),
                    sender: name,
                    sender_id: m.sender_id.into(),
                    receiver_id: m.to.into(),
                    text: m.text,
                    time,
                    created_at,
                    read: m.read,
                    reply_to: quote,
                    meta,
                })
            }
            MessageRef::Room(id) => {
                let user = self.author_name(&m.sender_id, m.sender_name);
                let bot =
                    crate::identity::bot_id(&m.sender_id).map(|id| BotRef { id: id.to_string(), name: user.clone() });
                let alert =
                    m.alert.as_deref().and_then(|json| serde_json::from_str::<AlertItem>(json).ok()).map(|mut a| {
                        a.urgent = a.urgent();
                        Box::new(a)
                    });
                Rendered::Room(RoomItem {
                    id,
                    user,
                    text: m.text,
                    time,
                    created_at,
                    sender_id: m.sender_id,
                    room_id: m.to,
                    reply_to: quote,
                    bot,
                    alert,
                    meta,
                })
            }
        }
    }

    /// A user's display name; "deleted account" for a deleted one; the raw value for rows
    /// that name no known user (the original app's rows may hold a name there).
    pub(super) fn name_of(&self, id: &str) -> Arc<str> {
        match self.accounts.get(id) {
            Some(user) => user.name.clone(),
            None if self.accounts.is_deleted(id) => super::accounts::DELETED_NAME.into(),
            None => id.into(),
        }
    }

    /// The author's name as a message shows it: the copy the row keeps (room messages do),
    /// unless the account was deleted since.
    pub(super) fn author_name(&self, id: &str, stored: Option<String>) -> String {
        match stored {
            Some(name) if !self.accounts.is_deleted(id) => name,
            _ => self.name_of(id).to_string(),
        }
    }

    /// `user`'s notification level for the private conversation with `other`.
    pub(super) fn private_level(&self, user: &UserId, other: &UserId) -> Level {
        match self.db.private_notify(user, other) {
            Ok(level) => level.as_deref().and_then(Level::parse).unwrap_or_default(),
            Err(e) => {
                log::warn!("notification level of {user}: {e}");
                Level::All
            }
        }
    }

    /// Moves `user`'s read position in a conversation forward to `up_to` (never back): the
    /// other side of a private chat gets a read receipt, and every tab of the reader learns
    /// the new unread counts. Returns how many stay unread.
    pub(super) fn read_up_to(
        &mut self,
        user: &UserId,
        conversation: &Conversation,
        up_to: i64,
    ) -> Result<i64, Refusal> {
        match conversation {
            Conversation::Private { a, b } => {
                let other = if a == user { b.clone() } else { a.clone() };
                let (newest, left) = self.db.mark_read(user, &other, up_to).map_err(|e| self.not_saved(e))?;
                if left == 0 {
                    self.tell_user(user, &Event::UnreadReset { from_id: &other, user_id: &other });
                }
                let chat = ChatRef::user(&other);
                self.tell_user(user, &Event::ReadState { chat: &chat, up_to, unread: left, mentions: 0 });
                if let Some(up_to) = newest {
                    let mut conns = self.sockets.globals_of(&other).to_vec();
                    if other != *user {
                        conns.extend_from_slice(self.sockets.viewing(&other, user));
                    }
                    self.broadcast(&conns, &Event::Read { reader_id: user, up_to });
                }
                Ok(left)
            }
            Conversation::Room(room) => {
                let latest = self.rooms.latest_id(room).unwrap_or(0);
                let up_to = up_to.min(latest);
                if self.rooms.set_last_read(room, user, up_to) {
                    self.db.set_last_read(room, user, up_to).map_err(|e| self.not_saved(e))?;
                    let unread = self.db.room_unread(room, user, up_to).map_err(|e| self.not_saved(e))?;
                    let mentions = self.db.room_unread_mentions(room, user, up_to).map_err(|e| self.not_saved(e))?;
                    self.rooms.set_counts(room, user, unread, mentions);
                }
                Ok(self.tell_read_state(user, conversation))
            }
        }
    }

    /// Tells every tab of `user` their unread counts of a conversation; returns the unread.
    pub(super) fn tell_read_state(&mut self, user: &UserId, conversation: &Conversation) -> i64 {
        let (chat, up_to, unread, mentions) = match conversation {
            Conversation::Private { a, b } => {
                let other = if a == user { b } else { a };
                let unread = self
                    .db
                    .unread_counts(user)
                    .ok()
                    .and_then(|counts| counts.into_iter().find(|(s, _)| *s == **other).map(|(_, n)| n))
                    .unwrap_or(0);
                (ChatRef::user(other), 0, unread, 0)
            }
            Conversation::Room(room) => {
                let last_read = self.rooms.last_read(room, user).unwrap_or(0);
                let (unread, mentions) = self.rooms.counts(room, user);
                (ChatRef::room(room), last_read, unread, mentions)
            }
        };
        self.tell_user(user, &Event::ReadState { chat: &chat, up_to, unread, mentions });
        unread
    }
}

/// A new message as its sender's frame gave it.
/// A message about to be stored: what [`Hub::post`] takes from a person or a bot.
pub(super) struct Draft<'a> {
    pub text: String,
    pub reply: Option<Quote>,
    pub client_id: Option<String>,
    /// Ids of the sender's uploads the message claims.
    pub attachments: &'a [i64],
    /// A bot's alert data, and the key that leaves it open.
    pub alert: Option<(&'a AlertItem, Option<&'a str>)>,
}

struct Outgoing {
    text: String,
    reply_to: Option<ReplyRef>,
    client_id: Option<String>,
    attachments: Vec<i64>,
}

/// A message rendered for the wire: the seed's private or room shape.
pub(super) enum Rendered {
    Private(PrivateItem),
    Room(RoomItem),
}
