//! Wire types: what clients send on a socket ([`frames`]), the JSON items the server sends
//! over HTTP and inside events ([`items`]), and the socket events ([`events`]). Field names are
//! the seed's (`user`, `text`, `time`, `sender_id`, `room_id`, `reply_to`); fields we added
//! (`id`, `created_at`, `type`, ...) only extend them.

mod admin;
mod events;
mod frames;
mod items;

pub use admin::*;
pub use events::Event;
pub use frames::{
    Channel, ClientFrame, FrameError, MAX_ATTACHMENTS, MAX_CLIENT_ID, MAX_TEXT_CHARS, ReplyRef, decode, is_reaction,
};
pub use items::*;
