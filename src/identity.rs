//! Who and what the server talks about: the ids every layer shares (users, rooms, sockets,
//! session-token hashes) and the logged-in user behind a session. A leaf: it imports nothing
//! of ours, so the transport, the hub and the HTTP side can all name these without naming
//! each other.

use crate::protocol::Me;
use std::sync::Arc;

pub type UserId = Arc<str>;
pub type RoomId = Arc<str>;
/// A socket's number, unique for the life of the process.
pub type ConnId = u64;
/// A session token's hash; the token itself never reaches the hub.
pub type TokenHash = [u8; 32];

/// What a request presents to say who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A session cookie's token, hashed.
    Session(TokenHash),
    /// A user name that a trusted proxy asserted (`--auth-header`): single sign-on.
    Header(Arc<str>),
}

impl Credential {
    /// The session token, if it is one.
    pub fn token(&self) -> Option<&TokenHash> {
        match self {
            Credential::Session(token) => Some(token),
            Credential::Header(_) => None,
        }
    }
}

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

/// Where messages are exchanged: two people's private chat, or a room. A private
/// conversation is the same whoever of the two names it first.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Conversation {
    Private { a: UserId, b: UserId },
    Room(RoomId),
}

impl Conversation {
    /// The private conversation of `x` and `y`, in either order.
    pub fn private(x: &UserId, y: &UserId) -> Conversation {
        let (a, b) = if x <= y { (x.clone(), y.clone()) } else { (y.clone(), x.clone()) };
        Conversation::Private { a, b }
    }
}

/// A stored message: private messages and room messages live in different tables (the
/// original's), so an id alone is not enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MessageRef {
    Private(i64),
    Room(i64),
}

/// The prefix of a bot's `sender_id`: its messages are stored under `bot:<bot id>`.
const BOT_SENDER_PREFIX: &str = "bot:";

/// The `sender_id` a bot's messages are stored under.
pub fn bot_sender_id(bot: &str) -> String {
    format!("{BOT_SENDER_PREFIX}{bot}")
}

/// Whether a message's sender is a bot.
pub fn is_bot(sender_id: &str) -> bool {
    sender_id.starts_with(BOT_SENDER_PREFIX)
}

/// The bot id in a bot's `sender_id`.
pub fn bot_id(sender_id: &str) -> Option<&str> {
    sender_id.strip_prefix(BOT_SENDER_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_private_conversation_is_the_same_from_both_sides() {
        let (x, y): (UserId, UserId) = ("x".into(), "y".into());
        assert_eq!(Conversation::private(&x, &y), Conversation::private(&y, &x));
        assert_ne!(Conversation::private(&x, &y), Conversation::Room("x".into()));
    }
}
