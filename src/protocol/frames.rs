//! What clients send on a socket, decoded and checked: the seed's plain text, and our typed
//! JSON frames for the actions on messages.
//!
//! A conversation socket (private or room) reads a text frame that is a JSON object with a
//! known `type` as that action; anything else is a message's text, as the original read it
//! (rooms also take the seed's untyped `{text, reply_to}`). So an old client that sends plain
//! text keeps working, and our client wraps every message in `{"type":"message", ...}`.

use serde::Deserialize;

/// The longest message text, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// The longest client-chosen message id, in bytes.
pub const MAX_CLIENT_ID: usize = 64;
/// Files one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;

/// A frame a client sent, decoded. Socket kinds accept different subsets (see [`decode`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// A new message. `client_id`, chosen by the client, makes a resend idempotent;
    /// `attachments` are uploaded files' ids (then the text, a caption, may be empty).
    Message { text: String, reply_to: Option<ReplyRef>, client_id: Option<String>, attachments: Vec<i64> },
    /// Replace the text of one's own message.
    Edit { id: i64, text: String },
    /// Delete a message (one's own; in a room, the creator may delete any).
    Delete { id: i64 },
    /// Add the reaction, or take it back if it is there.
    React { id: i64, emoji: String },
    /// The sender is typing (or has stopped).
    Typing { active: bool },
    /// The reader has seen the conversation up to this message.
    Read { up_to: i64 },
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
    /// A typed frame whose fields are missing or of the wrong kind.
    Malformed,
    BadClientId,
    BadEmoji,
    TooManyAttachments,
}

impl FrameError {
    pub fn message(self) -> &'static str {
        match self {
            FrameError::Empty => "empty message",
            FrameError::TooLong => "message too long (at most 4000 characters)",
            FrameError::BadReply => "reply_to must be {\"id\": <message id>} or {sender_id, sender_name, text}",
            FrameError::UnknownType => "unknown message type",
            FrameError::Binary => "binary frames are not supported; send text",
            FrameError::Malformed => "malformed frame: a field is missing or has the wrong type",
            FrameError::BadClientId => "client_id must be 1 to 64 letters, digits, '-' or '_'",
            FrameError::BadEmoji => "a reaction must be one emoji",
            FrameError::TooManyAttachments => "at most 10 attachments per message",
        }
    }
}

#[derive(Deserialize)]
struct TypedFrame {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct MessageFrame {
    #[serde(default)]
    text: String,
    #[serde(default)]
    attachments: Vec<i64>,
    #[serde(default)]
    reply_to: Option<serde_json::Value>,
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Deserialize)]
struct EditFrame {
    id: i64,
    text: String,
}

#[derive(Deserialize)]
struct IdFrame {
    id: i64,
}

#[derive(Deserialize)]
struct ReactFrame {
    id: i64,
    emoji: String,
}

#[derive(Deserialize)]
struct TypingFrame {
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct ReadFrame {
    up_to: i64,
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
        Channel::Private | Channel::Room => {
            let json = text.trim_start().starts_with('{').then(|| serde_json::from_str::<serde_json::Value>(text));
            match json {
                Some(Ok(value)) if value.is_object() => typed(channel, value, text).map(Some),
                _ => message(text.to_string(), None, None).map(Some),
            }
        }
    }
}

/// A JSON object on a conversation socket: an action if its `type` is one we know; in a room,
/// the seed's untyped `{text, reply_to}`; otherwise just text someone typed.
fn typed(channel: Channel, value: serde_json::Value, raw: &str) -> Result<ClientFrame, FrameError> {
    fn fields<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, FrameError> {
        serde_json::from_value(value).map_err(|_| FrameError::Malformed)
    }
    let kind = value.get("type").and_then(|t| t.as_str()).map(str::to_string);
    match kind.as_deref() {
        Some("message") => message_frame(channel, fields(value)?),
        Some("edit") => {
            let EditFrame { id, text } = fields(value)?;
            check_text(&text)?;
            Ok(ClientFrame::Edit { id, text })
        }
        Some("delete") => Ok(ClientFrame::Delete { id: fields::<IdFrame>(value)?.id }),
        Some("react") => {
            let ReactFrame { id, emoji } = fields(value)?;
            if !is_reaction(&emoji) {
                return Err(FrameError::BadEmoji);
            }
            Ok(ClientFrame::React { id, emoji })
        }
        Some("typing") => Ok(ClientFrame::Typing { active: fields::<TypingFrame>(value)?.active }),
        Some("read") => Ok(ClientFrame::Read { up_to: fields::<ReadFrame>(value)?.up_to }),
        Some("ping") => Ok(ClientFrame::Ping),
        Some("pong") => Ok(ClientFrame::Pong),
        // The seed's room form has a text; an object without one is just text someone typed.
        None if channel == Channel::Room && value.get("text").is_some_and(|t| t.is_string()) => {
            match serde_json::from_value::<MessageFrame>(value) {
                Ok(frame) => message_frame(channel, frame),
                // JSON that is not a room frame is just text someone typed.
                Err(_) => message(raw.to_string(), None, None),
            }
        }
        _ => message(raw.to_string(), None, None),
    }
}

fn message_frame(channel: Channel, frame: MessageFrame) -> Result<ClientFrame, FrameError> {
    let reply_to = match frame.reply_to {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => Some(reply_ref(channel, &value).ok_or(FrameError::BadReply)?),
    };
    let client_id = match frame.client_id {
        None => None,
        Some(id) if is_client_id(&id) => Some(id),
        Some(_) => return Err(FrameError::BadClientId),
    };
    if frame.attachments.len() > MAX_ATTACHMENTS {
        return Err(FrameError::TooManyAttachments);
    }
    if frame.attachments.is_empty() {
        return message(frame.text, reply_to, client_id);
    }
    // A caption may be empty, but not too long.
    if frame.text.len() > MAX_TEXT_CHARS && frame.text.chars().count() > MAX_TEXT_CHARS {
        return Err(FrameError::TooLong);
    }
    Ok(ClientFrame::Message { text: frame.text, reply_to, client_id, attachments: frame.attachments })
}

fn check_text(text: &str) -> Result<(), FrameError> {
    if text.trim().is_empty() {
        return Err(FrameError::Empty);
    }
    if text.len() > MAX_TEXT_CHARS && text.chars().count() > MAX_TEXT_CHARS {
        return Err(FrameError::TooLong);
    }
    Ok(())
}

fn message(text: String, reply_to: Option<ReplyRef>, client_id: Option<String>) -> Result<ClientFrame, FrameError> {
    check_text(&text)?;
    Ok(ClientFrame::Message { text, reply_to, client_id, attachments: Vec::new() })
}

/// Replies by id anywhere; the seed's quote form only in rooms, where the seed had it.
fn reply_ref(channel: Channel, value: &serde_json::Value) -> Option<ReplyRef> {
    if let Some(id) = value.get("id") {
        return id.as_i64().map(ReplyRef::Id);
    }
    if channel != Channel::Room {
        return None;
    }
    let sender_id = value.get("sender_id")?.as_str()?.to_string();
    let text = value.get("text")?.as_str()?.to_string();
    Some(ReplyRef::Quote { sender_id, text })
}

fn is_client_id(id: &str) -> bool {
    (1..=MAX_CLIENT_ID).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// One emoji, as a reaction: a short run of pictographs and the characters that join or
/// modify them (variation selector, zero-width joiner, skin tones, keycaps, flag tags), with
/// at least one pictograph. Not a full Unicode emoji grammar — enough that a reaction is
/// never text, markup or an invisible string.
pub fn is_reaction(emoji: &str) -> bool {
    fn pictograph(c: char) -> bool {
        matches!(c as u32,
            0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0x2300..=0x23FF | 0x2190..=0x21FF
            | 0x3030 | 0x303D | 0x3297 | 0x3299 | 0xA9 | 0xAE | 0x203C | 0x2049 | 0x2122 | 0x2139)
    }
    fn joiner(c: char) -> bool {
        matches!(c as u32, 0xFE0F | 0x200D | 0x20E3 | 0xE0020..=0xE007F)
    }
    let keycap = emoji.contains('\u{20E3}');
    let count = emoji.chars().count();
    (1..=10).contains(&count)
        && emoji.len() <= 40
        && emoji.chars().any(|c| pictograph(c) || (keycap && matches!(c, '0'..='9' | '#' | '*')))
        && emoji.chars().all(|c| pictograph(c) || joiner(c) || (keycap && matches!(c, '0'..='9' | '#' | '*')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(text: &str, reply_to: Option<ReplyRef>) -> Result<Option<ClientFrame>, FrameError> {
        Ok(Some(ClientFrame::Message { text: text.into(), reply_to, client_id: None, attachments: Vec::new() }))
    }

    #[test]
    fn private_text_is_taken_literally_unless_it_is_a_typed_frame() {
        assert_eq!(decode(Channel::Private, "hi"), msg("hi", None));
        assert_eq!(decode(Channel::Private, "{\"text\":\"x\"}"), msg("{\"text\":\"x\"}", None));
        assert_eq!(decode(Channel::Private, "{\"type\":\"other\"}"), msg("{\"type\":\"other\"}", None));
        assert_eq!(decode(Channel::Private, "  \n"), Err(FrameError::Empty));
        assert_eq!(
            decode(Channel::Private, r#"{"type":"message","text":"yo","reply_to":{"id":3},"client_id":"c-1"}"#),
            Ok(Some(ClientFrame::Message {
                text: "yo".into(),
                reply_to: Some(ReplyRef::Id(3)),
                client_id: Some("c-1".into()),
                attachments: Vec::new()
            }))
        );
        // The seed's quote form is a room thing.
        assert_eq!(
            decode(Channel::Private, r#"{"type":"message","text":"a","reply_to":{"sender_id":"u","text":"t"}}"#),
            Err(FrameError::BadReply)
        );
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
    fn actions_are_typed_and_checked() {
        for channel in [Channel::Private, Channel::Room] {
            assert_eq!(
                decode(channel, r#"{"type":"edit","id":5,"text":"fixed"}"#),
                Ok(Some(ClientFrame::Edit { id: 5, text: "fixed".into() }))
            );
            assert_eq!(decode(channel, r#"{"type":"edit","id":5,"text":" "}"#), Err(FrameError::Empty));
            assert_eq!(decode(channel, r#"{"type":"edit","id":"5","text":"x"}"#), Err(FrameError::Malformed));
            assert_eq!(decode(channel, r#"{"type":"delete","id":5}"#), Ok(Some(ClientFrame::Delete { id: 5 })));
            assert_eq!(decode(channel, r#"{"type":"delete"}"#), Err(FrameError::Malformed));
            assert_eq!(
                decode(channel, r#"{"type":"react","id":5,"emoji":"👍"}"#),
                Ok(Some(ClientFrame::React { id: 5, emoji: "👍".into() }))
            );
            assert_eq!(decode(channel, r#"{"type":"react","id":5,"emoji":"<b>"}"#), Err(FrameError::BadEmoji));
            assert_eq!(decode(channel, r#"{"type":"typing"}"#), Ok(Some(ClientFrame::Typing { active: true })));
            assert_eq!(
                decode(channel, r#"{"type":"typing","active":false}"#),
                Ok(Some(ClientFrame::Typing { active: false }))
            );
            assert_eq!(decode(channel, r#"{"type":"read","up_to":9}"#), Ok(Some(ClientFrame::Read { up_to: 9 })));
            assert_eq!(
                decode(channel, r#"{"type":"message","text":"a","client_id":"no spaces"}"#),
                Err(FrameError::BadClientId)
            );
        }
    }

    #[test]
    fn files_may_go_without_a_caption_but_not_too_many() {
        assert_eq!(
            decode(Channel::Private, r#"{"type":"message","text":"","attachments":[4,5]}"#),
            Ok(Some(ClientFrame::Message {
                text: String::new(),
                reply_to: None,
                client_id: None,
                attachments: vec![4, 5]
            }))
        );
        let eleven = format!(r#"{{"type":"message","attachments":{:?}}}"#, (1..=11).collect::<Vec<_>>());
        assert_eq!(decode(Channel::Room, &eleven), Err(FrameError::TooManyAttachments));
        assert_eq!(decode(Channel::Room, r#"{"type":"message","text":""}"#), Err(FrameError::Empty));
    }

    #[test]
    fn reactions_are_one_emoji() {
        for good in
            ["👍", "❤️", "😂", "🙏", "👍🏽", "👨‍👩‍👧", "🇫🇷", "1️⃣", "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}"]
        {
            assert!(is_reaction(good), "{good:?}");
        }
        for bad in ["", "a", "👍a", "<script>", "\u{200D}", "\u{FE0F}", "1", "😀😀😀😀😀😀😀😀😀😀😀", " 👍"]
        {
            assert!(!is_reaction(bad), "{bad:?}");
        }
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
}
