//! The JSON items the server sends over HTTP and inside socket events. Field names are the
//! seed's (`user`, `text`, `time`, `sender_id`, `room_id`, `reply_to`); fields we added only
//! extend them, and optional ones are left out when empty so old clients read what they knew.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `GET /api/me`.
#[derive(Debug, Clone, Serialize)]
pub struct Me {
    pub id: Arc<str>,
    pub name: Arc<str>,
}

/// An entry of `GET /api/users`, of the `/ws/status` array and of presence events.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UserStatus {
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub online: bool,
}

/// A user named inside another item (who reacted).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct UserRef {
    pub id: Arc<str>,
    pub name: Arc<str>,
}

/// One emoji's reactions to a message.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ReactionItem {
    pub emoji: String,
    pub count: usize,
    pub users: Vec<UserRef>,
}

/// What a message says besides its text: the same for private and room messages.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MessageMeta {
    /// Bumped by every change to the message (new, edited, deleted, reacted to): a client
    /// that has seen everything up to a `seq` asks for what changed since.
    pub seq: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<String>,
    /// A tombstone: the text is gone; the message keeps its place.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reactions: Vec<ReactionItem>,
    /// Users mentioned with `@name`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Arc<str>>,
    /// The id the sending client chose, so its queued copy can be matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Files sent with the message.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentItem>,
}

/// A private message, live or in history.
#[derive(Debug, Clone, Serialize)]
pub struct PrivateItem {
    pub id: i64,
    /// The sender's name (the seed's live field).
    pub user: Arc<str>,
    /// The sender's name again (the seed's history field).
    pub sender: Arc<str>,
    pub sender_id: Arc<str>,
    pub receiver_id: Arc<str>,
    pub text: String,
    pub time: String,
    pub created_at: Option<String>,
    pub read: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<QuoteItem>,
    #[serde(flatten)]
    pub meta: MessageMeta,
}

/// A quote inside a reply.
#[derive(Debug, Clone, Serialize)]
pub struct QuoteItem {
    pub id: Option<i64>,
    pub sender_id: String,
    pub sender_name: String,
    pub text: String,
    /// The quoted message was deleted (its text is gone here too).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// A room message, live or in history.
#[derive(Debug, Clone, Serialize)]
pub struct RoomItem {
    pub id: i64,
    pub user: String,
    pub text: String,
    pub time: String,
    pub created_at: Option<String>,
    pub sender_id: String,
    pub room_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<QuoteItem>,
    /// The bot that sent it (its `sender_id` is `bot:<id>`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot: Option<BotRef>,
    /// A bot's message: what the sending tool said besides the text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<Box<AlertItem>>,
    #[serde(flatten)]
    pub meta: MessageMeta,
}

/// A bot named in a message.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BotRef {
    pub id: String,
    pub name: String,
}

/// What an incoming webhook said besides the text, as stored with the message (JSON) and
/// sent with it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct AlertItem {
    /// The format it came in: `ntfy`, `gotify`, `slack`, `alertmanager`, `uptime_kuma`, `text`.
    pub format: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// 1 (min) to 5 (max), ntfy's scale; 3 is the default. 4 and 5 alert members whose level
    /// is "mentions" (see `Level::alerts`).
    pub priority: u8,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// An http(s) link the message points to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub click: Option<String>,
    /// `firing` or `resolved` for tools that report both; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A firing alert that was resolved since: when, and by which message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_by: Option<i64>,
    /// Set when sent (never stored): [`AlertItem::urgent`], so clients apply the same rule.
    #[serde(default, skip_deserializing, skip_serializing_if = "std::ops::Not::not")]
    pub urgent: bool,
}

impl AlertItem {
    /// Whether it alerts members who asked for mentions only: high priority, and not the
    /// good news of a resolution.
    pub fn urgent(&self) -> bool {
        self.priority >= 4 && self.status.as_deref() != Some("resolved")
    }
}

/// A bot as its room's managers see it (`GET /api/rooms/{id}/bots`).
#[derive(Debug, Clone, Serialize)]
pub struct BotItem {
    pub id: Arc<str>,
    pub room_id: Arc<str>,
    pub name: Arc<str>,
    /// Whether it has a token (a revoked bot has none until it is rotated).
    pub active: bool,
    pub created_by: Arc<str>,
    pub created_at: String,
}

/// Either kind of message, where both may appear.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum AnyItem<'a> {
    Private(&'a PrivateItem),
    Room(&'a RoomItem),
}

/// A file attached to a message (or just uploaded, before a message claims it): what a client
/// needs to show it without loading it first. `width`/`height` are the displayed size of an
/// image (its EXIF orientation applied), so the chat can reserve the space.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct AttachmentItem {
    pub id: i64,
    pub name: String,
    pub size: i64,
    /// The sniffed type, e.g. `image/jpeg`, `application/pdf`, `application/octet-stream`.
    #[serde(rename = "type")]
    pub mime: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i64>,
    /// Whether a thumbnail exists (`thumb_url`); else an image is shown from `url`.
    pub thumb: bool,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub thumb_url: Option<String>,
    /// The retention option deleted the bytes; `url` answers 410.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub expired: bool,
}

/// A user's stored files, for the admin view of disk use.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DiskUse {
    pub user_id: Arc<str>,
    pub name: Arc<str>,
    pub bytes: i64,
    pub files: i64,
}

/// A room as listed by `GET /api/rooms` and returned by create and `GET /api/rooms/{id}`.
#[derive(Debug, Clone, Serialize)]
pub struct RoomSummary {
    pub id: Arc<str>,
    pub name: String,
    pub description: String,
    pub creator_id: Arc<str>,
    pub creator_name: Arc<str>,
    pub created_at: String,
    pub member_count: usize,
    /// The caller's unread messages in this room (absent in events sent to all members).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unread: Option<i64>,
    /// The caller's unread messages that mention them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mentions: Option<i64>,
    /// The caller's notification level for this room.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<&'static str>,
}

/// An entry of `GET /api/rooms/{id}/members`.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub online: bool,
    pub is_creator: bool,
}

/// Which conversation an event or list entry is about: `{kind: "user", id}` (the other
/// person) or `{kind: "room", id}`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ChatRef {
    pub kind: &'static str,
    pub id: Arc<str>,
}

impl ChatRef {
    pub fn user(id: &Arc<str>) -> ChatRef {
        ChatRef { kind: "user", id: id.clone() }
    }

    pub fn room(id: &Arc<str>) -> ChatRef {
        ChatRef { kind: "room", id: id.clone() }
    }
}

/// A conversation's latest message, as the chat list shows it.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub id: i64,
    pub sender_id: Arc<str>,
    pub sender_name: Arc<str>,
    /// The beginning of the text (empty for a deleted message).
    pub text: String,
    pub time: String,
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub deleted: bool,
}

/// An entry of `GET /api/chats`: a room, or a person the caller has talked with.
#[derive(Debug, Clone, Serialize)]
pub struct ChatItem {
    #[serde(flatten)]
    pub chat: ChatRef,
    pub name: Arc<str>,
    pub last: Option<Preview>,
    pub unread: i64,
    pub mentions: i64,
    /// The caller's notification level: `all`, `mentions` or `none`.
    pub notify: &'static str,
    /// People: whether they are online.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    /// Rooms: how many members.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member_count: Option<usize>,
}

/// A message that matched a search.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub chat: ChatRef,
    pub chat_name: Arc<str>,
    pub id: i64,
    pub sender_id: Arc<str>,
    pub sender_name: Arc<str>,
    pub time: String,
    pub created_at: Option<String>,
    /// The text around the match; each match is wrapped in U+E000 … U+E001 (private-use
    /// characters that never occur in stored text), so a client marks it up without HTML.
    pub snippet: String,
}

/// `GET /api/search?q=`: people, rooms and messages, all within the caller's reach.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub users: Vec<UserStatus>,
    pub rooms: Vec<ChatItemName>,
    pub messages: Vec<SearchHit>,
}

/// A room found by name.
#[derive(Debug, Clone, Serialize)]
pub struct ChatItemName {
    pub id: Arc<str>,
    pub name: String,
}
