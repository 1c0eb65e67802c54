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

/// The longest forward token accepted (ntfy tokens are 32 characters, Gotify's 15).
pub const MAX_TOKEN_CHARS: usize = 256;

/// Why a subscription or forward was refused (the client reads it).
pub type Invalid = std::borrow::Cow<'static, str>;

fn base64url(value: &str) -> Option<Vec<u8>> {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::decode_vec(value.trim().trim_end_matches('=')).ok()
}

impl Subscription {
    /// A subscription from what a browser's `PushSubscription.toJSON()` gives, its keys
    /// checked (a P-256 point, a 16-byte secret). The endpoint's address is checked apart
    /// ([`guard::check`]), since that needs DNS.
    pub fn from_browser(endpoint: &str, p256dh: &str, auth: &str, origin: &str) -> Result<Subscription, Invalid> {
        let p256dh = base64url(p256dh).ok_or("keys.p256dh must be base64url")?;
        if p256dh.len() != 65 || p256::PublicKey::from_sec1_bytes(&p256dh).is_err() {
            return Err("keys.p256dh must be an uncompressed P-256 public key".into());
        }
        let auth = base64url(auth).ok_or("keys.auth must be base64url")?;
        if auth.len() != 16 {
            return Err("keys.auth must be 16 bytes".into());
        }
        Ok(Subscription { endpoint: endpoint.to_string(), p256dh, auth, origin: origin.to_string() })
    }
}

impl Forward {
    /// A forward as a user gives it: an ntfy topic URL (`https://ntfy.sh/my-topic`) or a
    /// Gotify server URL, and an optional access token (ntfy) or application token (Gotify).
    /// The URL's address is checked apart ([`guard::check`]).
    pub fn new(kind: &str, url: &str, token: Option<&str>, origin: &str) -> Result<Forward, Invalid> {
        let kind = ForwardKind::parse(kind).ok_or("kind must be \"ntfy\" or \"gotify\"")?;
        let url = url.trim();
        if url.contains('?') || url.contains('#') {
            return Err("the URL must not have a query or fragment".into());
        }
        if kind == ForwardKind::Ntfy {
            let path = url.split_once("://").map_or("", |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
            let topic = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            if topic.is_empty()
                || topic.len() > 64
                || !topic.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
            {
                return Err("an ntfy URL names its topic: https://ntfy.example.org/my-topic".into());
            }
        }
        let token = match token.map(str::trim) {
            None | Some("") => None,
            Some(t) if t.chars().count() > MAX_TOKEN_CHARS => return Err("the token is too long".into()),
            Some(t) if !t.bytes().all(|b| b.is_ascii_graphic()) => {
                return Err("the token must be printable ASCII without spaces".into());
            }
            Some(t) => Some(t.to_string()),
        };
        Ok(Forward { kind, url: url.to_string(), token, origin: origin.to_string() })
    }
}
