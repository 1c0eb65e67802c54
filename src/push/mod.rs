//! Web Push and notification forwarding: everything that reaches a user whose app is closed.
//!
//! A leaf below the hub: it imports neither the hub nor the HTTP side. The hub decides *who*
//! gets a notification and hands [`Job`]s to a [`Pusher`] after its batch commits; the
//! sender threads here do the slow part (encryption, HTTPS) and report back through a
//! callback that `server.rs` wires to the hub.
//!
//! * [`vapid`]: the server's key pair and the signed JWT of RFC 8292.
//! * [`ece`]: RFC 8291 message encryption (`aes128gcm`).
//! * [`guard`]: the SSRF guard for every URL a user gives us.
//! * [`notification`]: the payload and its `Topic`.
//! * [`sender`]: the bounded queue, the threads, retries, ntfy and Gotify.

pub mod ece;
pub mod guard;
pub mod notification;
pub mod sender;
pub mod vapid;

pub use guard::Policy;
pub use notification::{Notification, Party};
pub use sender::{Job, Outcome, Pusher, Report, Settings, Target};
pub use vapid::Vapid;

/// A browser's push subscription (`PushSubscription.toJSON()`), decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub endpoint: String,
    /// The browser's P-256 public key, uncompressed (65 bytes).
    pub p256dh: Vec<u8>,
    /// The browser's authentication secret (16 bytes).
    pub auth: Vec<u8>,
    /// The app's origin the subscription was made on (the default VAPID contact).
    pub origin: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardKind {
    Ntfy,
    Gotify,
}

impl ForwardKind {
    pub fn name(self) -> &'static str {
        match self {
            ForwardKind::Ntfy => "ntfy",
            ForwardKind::Gotify => "gotify",
        }
    }

    pub fn parse(name: &str) -> Option<ForwardKind> {
        match name {
            "ntfy" => Some(ForwardKind::Ntfy),
            "gotify" => Some(ForwardKind::Gotify),
            _ => None,
        }
    }
}

/// A user's own notification server: an ntfy topic URL, or a Gotify server and app token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub kind: ForwardKind,
    pub url: String,
    pub token: Option<String>,
    /// The app's origin when it was set, for the notification's click link.
    pub origin: String,
}
