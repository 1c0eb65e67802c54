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
