//! Wire types: what clients send on a socket, and the JSON the server sends back over HTTP and
//! WebSockets. Field names are the seed's (`user`, `text`, `time`, `sender_id`, `room_id`,
//! `reply_to`); fields we added (`id`, `created_at`, `type`, ...) only extend them.

use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The longest message text, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;

/// A frame a client sent, decoded. Socket kinds accept different subsets (see [`decode`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// A chat message; `reply_to` only in rooms.
    Message { text: String, reply_to: Option<ReplyRef> },
    /// The seed's application-level keepalive, `{"type":"ping"}`.
    Ping,
    /// The answer to our `{"type":"ping"}`.
    Pong,
}

/// What a reply points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyRef {
    /// `reply_to: {id}`: the server fills in the quote from the stored message.
    Id(i64),
    /// The seed's `reply_to: {sender_id, sender_name, text}`: accepted only if it matches a real
    /// message of the room.
    Quote { sender_id: String, text: String },
}

/// Which socket a frame arrived on; decides how its text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Private,
    Room,
    Global,
    Status,
}

/// Why a frame was refused; the socket stays open and the client reads this text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    Empty,
    TooLong,
    BadReply,
    UnknownType,
    Binary,
}

impl FrameError {
    pub fn message(self) -> &'static str {
        match self {
            FrameError::Empty => "empty message",
            FrameError::TooLong => "message too long (at most 4000 characters)",
            FrameError::BadReply => "reply_to must be {\"id\": <message id>} or {sender_id, sender_name, text}",
            FrameError::UnknownType => "unknown message type",
            FrameError::Binary => "binary frames are not supported; send text",
        }
    }
}

#[derive(Deserialize)]
struct RoomFrame {
    text: String,
    #[serde(default)]
    reply_to: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct TypedFrame {
    #[serde(rename = "type")]
    kind: String,
}

/// Decodes one text frame. `Ok(None)`: nothing to do (status sockets ignore what they get).
pub fn decode(channel: Channel, text: &str) -> Result<Option<ClientFrame>, FrameError> {
    match channel {
        Channel::Status => Ok(None),
        Channel::Global => match serde_json::from_str::<TypedFrame>(text) {
            Ok(f) if f.kind == "ping" => Ok(Some(ClientFrame::Ping)),
            Ok(f) if f.kind == "pong" => Ok(Some(ClientFrame::Pong)),
            _ => Err(FrameError::UnknownType),
        },
        Channel::Private => message(text.to_string(), None).map(Some),
        Channel::Room => {
            // The seed's room client sends plain text, or JSON {text, reply_to} for replies.
            let structured = text.trim_start().starts_with('{');
            match structured.then(|| serde_json::from_str::<RoomFrame>(text)) {
                Some(Ok(frame)) => {
                    let reply_to = match frame.reply_to {
                        None | Some(serde_json::Value::Null) => None,
                        Some(value) => Some(reply_ref(&value).ok_or(FrameError::BadReply)?),
                    };
                    message(frame.text, reply_to).map(Some)
                }
                _ => message(text.to_string(), None).map(Some),
            }
        }
    }
}

fn message(text: String, reply_to: Option<ReplyRef>) -> Result<ClientFrame, FrameError> {
    if text.trim().is_empty() {
        return Err(FrameError::Empty);
    }
    if text.len() > MAX_TEXT_CHARS && text.chars().count() > MAX_TEXT_CHARS {
        return Err(FrameError::TooLong);
    }
    Ok(ClientFrame::Message { text, reply_to })
}

fn reply_ref(value: &serde_json::Value) -> Option<ReplyRef> {
    if let Some(id) = value.get("id") {
        return id.as_i64().map(ReplyRef::Id);
    }
    let sender_id = value.get("sender_id")?.as_str()?.to_string();
    let text = value.get("text")?.as_str()?.to_string();
    Some(ReplyRef::Quote { sender_id, text })
}

// ---------------------------------------------------------------------------------------------
// Server to client.

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
}

/// A quote inside a room message.
#[derive(Debug, Clone, Serialize)]
pub struct QuoteItem {
    pub id: Option<i64>,
    pub sender_id: String,
    pub sender_name: String,
    pub text: String,
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
}

/// An entry of `GET /api/rooms/{id}/members`.
#[derive(Debug, Clone, Serialize)]
pub struct Member {
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub online: bool,
    pub is_creator: bool,
}

/// Events with a `type`, sent on sockets.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event<'a> {
    /// A private message on a chat socket.
    Message(&'a PrivateItem),
    /// A message on a room socket.
    RoomMessage(&'a RoomItem),
    /// A frame was refused; the socket stays open.
    Error {
        error: &'a str,
    },
    Ping,
    Pong,
    /// Global socket: a private message arrived in a conversation the user is not viewing.
    /// `from_id` is the original's name for the sender; `from` is the same id, kept for
    /// clients of earlier versions of this server.
    Notify {
        id: i64,
        from_id: &'a str,
        from: &'a str,
        from_name: &'a str,
        text: &'a str,
        time: &'a str,
        created_at: Option<&'a str>,
    },
    /// Global socket: the user read the conversation with `from_id` (the original's name) in
    /// some tab; `user_id` is the same id, kept for clients of earlier versions.
    UnreadReset {
        from_id: &'a str,
        user_id: &'a str,
    },
    /// Global and chat sockets: `reader_id` has read your messages up to `up_to`.
    Read {
        reader_id: &'a str,
        up_to: i64,
    },
    /// Global socket: these users came online, went offline, or registered.
    Presence {
        users: &'a [UserStatus],
    },
    /// Global socket: you were added to a room (or created it).
    RoomAdded {
        room: &'a RoomSummary,
    },
    /// Global socket: a room you are in changed (members, name).
    RoomUpdated {
        room: &'a RoomSummary,
    },
    /// Global socket: you were removed from a room.
    RoomRemoved {
        room_id: &'a str,
    },
    /// Global socket: a room you were in was deleted.
    RoomDeleted {
        room_id: &'a str,
        name: &'a str,
    },
    /// Global socket: a message arrived in a room you are not viewing.
    RoomNotify {
        room_id: &'a str,
        room_name: &'a str,
        message: &'a RoomItem,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str, reply_to: Option<ReplyRef>) -> Result<Option<ClientFrame>, FrameError> {
        Ok(Some(ClientFrame::Message { text: text.into(), reply_to }))
    }

    #[test]
    fn private_text_is_taken_literally() {
        assert_eq!(decode(Channel::Private, "hi"), msg("hi", None));
        assert_eq!(decode(Channel::Private, "{\"text\":\"x\"}"), msg("{\"text\":\"x\"}", None));
        assert_eq!(decode(Channel::Private, "  \n"), Err(FrameError::Empty));
    }

    #[test]
    fn room_frames_carry_replies() {
        assert_eq!(decode(Channel::Room, "plain"), msg("plain", None));
        assert_eq!(decode(Channel::Room, r#"{"text":"yes","reply_to":{"id":4}}"#), msg("yes", Some(ReplyRef::Id(4))));
        assert_eq!(
            decode(Channel::Room, r#"{"text":"yes","reply_to":{"sender_id":"u","sender_name":"n","text":"t"}}"#),
            msg("yes", Some(ReplyRef::Quote { sender_id: "u".into(), text: "t".into() }))
        );
        assert_eq!(decode(Channel::Room, r#"{"text":"a","reply_to":null}"#), msg("a", None));
        assert_eq!(decode(Channel::Room, r#"{"text":"a","reply_to":{"id":"x"}}"#), Err(FrameError::BadReply));
        assert_eq!(decode(Channel::Room, r#"{"text":"a","reply_to":7}"#), Err(FrameError::BadReply));
        // JSON that is not a room frame is just text someone typed.
        assert_eq!(decode(Channel::Room, r#"{"hello":1}"#), msg(r#"{"hello":1}"#, None));
    }

    #[test]
    fn length_is_counted_in_characters() {
        let ok = "я".repeat(MAX_TEXT_CHARS);
        assert!(matches!(decode(Channel::Private, &ok), Ok(Some(_))));
        let long = "a".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(decode(Channel::Private, &long), Err(FrameError::TooLong));
    }

    #[test]
    fn global_frames_are_typed() {
        assert_eq!(decode(Channel::Global, r#"{"type":"pong"}"#), Ok(Some(ClientFrame::Pong)));
        assert_eq!(decode(Channel::Global, r#"{"type":"ping"}"#), Ok(Some(ClientFrame::Ping)));
        assert_eq!(decode(Channel::Global, "hello"), Err(FrameError::UnknownType));
        assert_eq!(decode(Channel::Status, "anything"), Ok(None));
    }

    #[test]
    fn events_serialize_with_their_type() {
        let json = serde_json::to_string(&Event::UnreadReset { from_id: "u1", user_id: "u1" }).unwrap();
        assert_eq!(json, r#"{"type":"unread_reset","from_id":"u1","user_id":"u1"}"#);
        let json = serde_json::to_string(&Event::Error { error: "x" }).unwrap();
        assert_eq!(json, r#"{"type":"error","error":"x"}"#);
    }
}
