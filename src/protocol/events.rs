//! Events: what the server sends on sockets, each with a `type`.

use super::items::{AnyItem, ChatRef, PrivateItem, RoomItem, RoomSummary, UserStatus};
use serde::Serialize;

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event<'a> {
    /// A private message on a chat socket.
    Message(&'a PrivateItem),
    /// A message on a room socket.
    RoomMessage(&'a RoomItem),
    /// Chat socket: a private message changed (edited, deleted, reacted to).
    MessageUpdated {
        message: &'a PrivateItem,
    },
    /// Room socket: a room message changed.
    RoomMessageUpdated {
        message: &'a RoomItem,
    },
    /// Chat and room sockets: someone in the conversation is typing, or stopped.
    Typing {
        user_id: &'a str,
        name: &'a str,
        active: bool,
    },
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
    /// Global socket: you were removed from a room, or left it.
    RoomRemoved {
        room_id: &'a str,
    },
    /// Global socket: a room you were in was deleted.
    RoomDeleted {
        room_id: &'a str,
        name: &'a str,
    },
    /// Global socket: a new message in one of your conversations (every tab keeps its chat
    /// list live with it), or a change to a conversation's latest message (`update`).
    Activity {
        chat: &'a ChatRef,
        message: AnyItem<'a>,
        update: bool,
    },
    /// Global socket: your read position in a conversation moved (in some tab).
    ReadState {
        chat: &'a ChatRef,
        up_to: i64,
        unread: i64,
        mentions: i64,
    },
    /// Global socket: your notification level for a conversation changed.
    ChatSettings {
        chat: &'a ChatRef,
        notify: &'a str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_serialize_with_their_type() {
        let json = serde_json::to_string(&Event::UnreadReset { from_id: "u1", user_id: "u1" }).unwrap();
        assert_eq!(json, r#"{"type":"unread_reset","from_id":"u1","user_id":"u1"}"#);
        let json = serde_json::to_string(&Event::Error { error: "x" }).unwrap();
        assert_eq!(json, r#"{"type":"error","error":"x"}"#);
        let chat = ChatRef::room(&"r1".into());
        let json = serde_json::to_string(&Event::ChatSettings { chat: &chat, notify: "none" }).unwrap();
        assert_eq!(json, r#"{"type":"chat_settings","chat":{"kind":"room","id":"r1"},"notify":"none"}"#);
    }
}
