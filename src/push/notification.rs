//! What a push says: a small JSON document the service worker shows without fetching
//! anything (the sender, the conversation, a cut preview, the tag that collapses a
//! conversation's notifications into one, and the address that opens it), and the `Topic`
//! that lets a push service replace an undelivered push of the same conversation.

use super::ece::MAX_PLAINTEXT;
use base64ct::{Base64UrlUnpadded, Encoding};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The preview is cut to this many characters.
pub const PREVIEW_CHARS: usize = 140;
/// A payload is at most this long: it must fit one encrypted record (3993 bytes), and stays
/// well under the 4 KB a push service must accept.
pub const MAX_PAYLOAD: usize = MAX_PLAINTEXT;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    Private,
    Room,
    /// The test notification of `POST /api/push/test`.
    Test,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationRef {
    pub kind: ConversationKind,
    pub id: String,
    pub name: String,
}

/// One notification, as the service worker receives it (JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    pub title: String,
    pub body: String,
    /// Collapses a conversation's notifications: `user-<id>` or `room-<id>`, as the page's
    /// own notifications tag them.
    pub tag: String,
    /// Where a click leads, relative to the app's origin.
    pub url: String,
    pub sender: Party,
    pub conversation: ConversationRef,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<i64>,
}

/// `text` cut to [`PREVIEW_CHARS`] characters, with an ellipsis if it was longer.
pub fn preview(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(PREVIEW_CHARS) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text.to_string(),
    }
}

impl Notification {
    /// A private message from `sender`.
    pub fn private(sender: Party, text: &str, message_id: i64) -> Notification {
        Notification {
            title: sender.name.clone(),
            body: preview(text),
            tag: format!("user-{}", sender.id),
            url: format!("/index#user/{}", url_component(&sender.id)),
            conversation: ConversationRef {
                kind: ConversationKind::Private,
                id: sender.id.clone(),
                name: sender.name.clone(),
            },
            sender,
            message_id: Some(message_id),
        }
    }

    /// A message in a room.
    pub fn room(room_id: &str, room_name: &str, sender: Party, text: &str, message_id: i64) -> Notification {
        Notification {
            title: room_name.to_string(),
            body: preview(&format!("{}: {}", sender.name, text.trim())),
            tag: format!("room-{room_id}"),
            url: format!("/index#room/{}", url_component(room_id)),
            conversation: ConversationRef {
                kind: ConversationKind::Room,
                id: room_id.to_string(),
                name: room_name.to_string(),
            },
            sender,
            message_id: Some(message_id),
        }
    }

    /// The visible test notification.
    pub fn test(user: Party) -> Notification {
        Notification {
            title: "MyChat".into(),
            body: format!("Test notification for {}: notifications work on this device.", user.name),
            tag: "mychat-test".into(),
            url: "/index".into(),
            conversation: ConversationRef { kind: ConversationKind::Test, id: String::new(), name: String::new() },
            sender: user,
            message_id: None,
        }
    }

    /// The JSON payload, at most [`MAX_PAYLOAD`] bytes: the preview is shortened if
    /// anything (long names, many multi-byte characters) would make it longer.
    pub fn encode(&self) -> Option<Vec<u8>> {
        let json = serde_json::to_vec(self).ok()?;
        if json.len() <= MAX_PAYLOAD {
            return Some(json);
        }
        let mut shorter = self.clone();
        shorter.body = preview(&self.body.chars().take(PREVIEW_CHARS / 4).collect::<String>());
        let json = serde_json::to_vec(&shorter).ok()?;
        (json.len() <= MAX_PAYLOAD).then_some(json)
    }

    /// The `Topic` header: the same for every push of one conversation, so a push service
    /// keeps only the newest undelivered one. A hash (the tag names ids, which the push
    /// service need not see), 22 base64url characters.
    pub fn topic(&self) -> String {
        let digest = Sha256::digest(self.tag.as_bytes());
        Base64UrlUnpadded::encode_string(&digest[..16])
    }
}

/// Percent-encodes what is not safe in a URL fragment (ids are UUIDs today; legacy ones may
/// be anything).
fn url_component(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Party {
        Party { id: "a1".into(), name: "Alice".into() }
    }

    #[test]
    fn previews_are_cut_by_characters() {
        assert_eq!(preview("  hi  "), "hi");
        let long = "я".repeat(PREVIEW_CHARS + 10);
        let cut = preview(&long);
        assert_eq!(cut.chars().count(), PREVIEW_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn payloads_stay_small_and_topics_short() {
        let n = Notification::room("r 1", &"Ж".repeat(64), alice(), &"😀".repeat(4000), 7);
        assert_eq!(n.url, "/index#room/r%201");
        let json = n.encode().unwrap();
        assert!(json.len() <= MAX_PAYLOAD);
        let huge = Notification { title: "x".repeat(5000), ..n.clone() };
        assert_eq!(huge.encode(), None);
        let topic = n.topic();
        assert_eq!(topic.len(), 22);
        assert!(topic.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(topic, Notification::room("r 1", "other", alice(), "other", 8).topic());
        assert_ne!(topic, Notification::private(alice(), "x", 1).topic());
    }
}
