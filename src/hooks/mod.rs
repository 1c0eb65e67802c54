//! Incoming webhooks: what home-lab tools send, read into one [`Post`] — the text, the alert's
//! title, priority, tags and link, and the status and key that pair a "resolved" with the
//! "firing" it ends. Pure functions of the request's parts (no hub, no I/O), so each format
//! is tested with the payloads the tools send; `http::hooks` does the HTTP side and the hub
//! (`hub::bots`) stores what is read here.
//!
//! Priority is ntfy's 1–5 scale (3 is the default). Other scales map onto it: Gotify's 0–10
//! as 0 → 1, 1–3 → 2, 4–6 → 3, 7–8 → 4, 9–10 → 5; an Alertmanager/Grafana `severity` label
//! `critical`/`page`/`emergency`/`fatal` → 5, `error`/`high`/`major` → 4, `warning` → 3,
//! `info`/`low`/`minor`/`none` → 2; Uptime Kuma's "down" → 4. 4 and up is urgent: it notifies
//! members whose level is "mentions" (`Level::alerts`), unless it reports a resolution.

pub mod formats;
pub mod multipart;

use crate::error::ApiError;
use crate::protocol::{AlertItem, MAX_TEXT_CHARS};
use blake2::{Blake2s256, Digest};

/// A title longer than this is cut (with "…").
pub const MAX_TITLE_CHARS: usize = 250;
/// Tags kept per post, and their length.
pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_CHARS: usize = 40;
/// The longest link kept.
pub const MAX_URL_CHARS: usize = 2000;
/// Alerts listed one by one in a grouped notification (Alertmanager); the rest are counted.
pub const MAX_LISTED_ALERTS: usize = 10;
/// Keys longer than this are stored as their hash.
const MAX_KEY_CHARS: usize = 200;

/// The formats, in the order `/metrics` counts them (`metrics::WEBHOOK_FORMATS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Ntfy,
    Gotify,
    Slack,
    Alertmanager,
    UptimeKuma,
    Text,
}

impl Format {
    pub fn name(self) -> &'static str {
        crate::metrics::WEBHOOK_FORMATS[self.index()]
    }

    pub fn index(self) -> usize {
        match self {
            Format::Ntfy => 0,
            Format::Gotify => 1,
            Format::Slack => 2,
            Format::Alertmanager => 3,
            Format::UptimeKuma => 4,
            Format::Text => 5,
        }
    }
}

/// Whether an alert is starting or over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Firing,
    Resolved,
}

impl Status {
    /// The words tools use: Alertmanager's `firing`/`resolved`, Healthchecks' `down`/`up`…
    pub fn parse(word: &str) -> Option<Status> {
        match word.trim().to_ascii_lowercase().as_str() {
            "firing" | "down" | "problem" | "alert" | "alerting" | "fail" | "failed" | "failure" | "critical"
            | "error" => Some(Status::Firing),
            "resolved" | "up" | "ok" | "recovered" | "recovery" | "success" | "normal" => Some(Status::Resolved),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Status::Firing => "firing",
            Status::Resolved => "resolved",
        }
    }
}

/// A webhook's message, checked and bounded, ready for the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub text: String,
    pub alert: AlertItem,
    /// Pairs a resolution with the alert it ends (namespaced by format: `kuma:12`, `am:{…}`).
    pub key: Option<String>,
}

/// A post as read from a request, before its bounds are checked.
#[derive(Debug, Default, Clone)]
pub struct Draft {
    pub text: String,
    pub title: Option<String>,
    pub priority: Option<u8>,
    pub tags: Vec<String>,
    pub click: Option<String>,
    pub status: Option<Status>,
    pub key: Option<String>,
    /// The text was composed by us from structured data (and may be cut), not sent verbatim
    /// (which is refused when too long).
    pub composed: bool,
}

impl Draft {
    /// Checks and bounds the draft: the text (verbatim text over 4,000 characters is refused
    /// with 413; composed text is cut), the title, tags, the link (http or https only), and
    /// pairing by title where the format carried no key.
    pub fn finish(mut self, format: Format) -> Result<Post, ApiError> {
        let mut text = clean_text(&self.text);
        let title = self.title.as_deref().map(|t| cut(&clean_line(t), MAX_TITLE_CHARS)).filter(|t| !t.is_empty());
        if text.is_empty() {
            text = match &title {
                Some(title) => title.clone(),
                None => return Err(ApiError::bad_request("the message is empty")),
            };
        }
        if text.chars().count() > MAX_TEXT_CHARS {
            if !self.composed {
                return Err(ApiError::TooLong("the message is too long (at most 4000 characters)"));
            }
            text = cut(&text, MAX_TEXT_CHARS);
        }
        let click = match self.click.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(url) if is_web_url(url) && url.chars().count() <= MAX_URL_CHARS => Some(url.to_string()),
            Some(_) => return Err(ApiError::bad_request("click must be an http or https URL")),
        };
        if self.status.is_none() || self.key.is_none() {
            if let Some((status, key)) = title.as_deref().and_then(lifecycle_from_title) {
                self.status = self.status.or(Some(status));
                self.key = self.key.or(Some(format!("title:{key}")));
            }
        }
        let tags = self
            .tags
            .iter()
            .map(|t| cut(&clean_line(t), MAX_TAG_CHARS))
            .filter(|t| !t.is_empty())
            .take(MAX_TAGS)
            .collect();
        let key = self.status.and(self.key).map(|k| bounded_key(&k));
        let alert = AlertItem {
            format: format.name().to_string(),
            title,
            priority: self.priority.unwrap_or(3).clamp(1, 5),
            tags,
            click,
            status: self.status.map(|s| s.as_str().to_string()),
            ..AlertItem::default()
        };
        Ok(Post { text, alert, key })
    }
}

/// ntfy's priority: 1–5, or its names.
pub fn ntfy_priority(value: &str) -> Result<u8, ApiError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "min" => Ok(1),
        "2" | "low" => Ok(2),
        "" | "3" | "default" => Ok(3),
        "4" | "high" => Ok(4),
        "5" | "max" | "urgent" => Ok(5),
        _ => Err(ApiError::bad_request("priority must be 1 to 5 (or min, low, default, high, max, urgent)")),
    }
}

/// Gotify's 0–10 onto ntfy's 1–5.
pub fn gotify_priority(value: i64) -> u8 {
    match value {
        i64::MIN..=0 => 1,
        1..=3 => 2,
        4..=6 => 3,
        7..=8 => 4,
        _ => 5,
    }
}

/// An Alertmanager/Grafana `severity` label onto ntfy's 1–5.
pub fn severity_priority(severity: &str) -> u8 {
    match severity.trim().to_ascii_lowercase().as_str() {
        "critical" | "page" | "emergency" | "fatal" | "disaster" => 5,
        "error" | "high" | "major" => 4,
        "warning" | "warn" | "average" | "medium" => 3,
        "info" | "information" | "low" | "minor" | "none" => 2,
        _ => 3,
    }
}

/// The status and the alert's name in titles that tools give a firing and its resolution:
/// `[FIRING:2] Name` / `[RESOLVED] Name` (Grafana and Alertmanager's Slack messages),
/// `Name is DOWN` / `Name is UP` (Healthchecks), `Name Down [Uptime-Kuma]` /
/// `Name Up [Uptime-Kuma]` (Uptime Kuma's ntfy messages).
pub fn lifecycle_from_title(title: &str) -> Option<(Status, String)> {
    let title = title.trim();
    if let Some(rest) = title.strip_prefix("[FIRING") {
        let name = rest.split_once(']')?.1.trim();
        return (!name.is_empty()).then(|| (Status::Firing, name.to_string()));
    }
    if let Some(rest) = title.strip_prefix("[RESOLVED]") {
        let name = rest.trim();
        return (!name.is_empty()).then(|| (Status::Resolved, name.to_string()));
    }
    for (suffix, status) in [(" is DOWN", Status::Firing), (" is UP", Status::Resolved)] {
        if let Some(name) = title.strip_suffix(suffix).filter(|n| !n.trim().is_empty()) {
            return Some((status, name.trim().to_string()));
        }
    }
    if let Some(rest) = title.strip_suffix(" [Uptime-Kuma]") {
        for (word, status) in [(" Down", Status::Firing), (" Up", Status::Resolved)] {
            if let Some(name) = rest.strip_suffix(word).filter(|n| !n.trim().is_empty()) {
                return Some((status, format!("{} [Uptime-Kuma]", name.trim())));
            }
        }
    }
    None
}

pub fn is_web_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://")) && !url.chars().any(char::is_whitespace)
}

/// Text without control characters other than newlines and tabs, CRLF as LF, trimmed.
fn clean_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let cleaned: String = text.chars().filter(|c| !c.is_control() || *c == '\n' || *c == '\t').collect();
    cleaned.trim().to_string()
}

/// One line: controls (newlines included) become spaces.
fn clean_line(text: &str) -> String {
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    line.trim().to_string()
}

/// At most `max` characters, the last one "…" if cut.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn bounded_key(key: &str) -> String {
    if key.chars().count() <= MAX_KEY_CHARS {
        return key.to_string();
    }
    let digest = Blake2s256::digest(key.as_bytes());
    format!("hash:{}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

/// A bot token's prefix: says what it is to people and secret scanners.
const TOKEN_PREFIX: &str = "mcb_";
/// Base64url without padding: 32 random bytes are 43 characters.
const TOKEN_CHARS: usize = 43;
const BASE64URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A new bot token (256 random bits, 47 characters: short enough for an ntfy topic) and the
/// hash the server keeps.
pub fn new_token() -> Result<(String, [u8; 32]), ApiError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|_| ApiError::Internal)?;
    let mut token = String::from(TOKEN_PREFIX);
    let mut bits = 0u32;
    let mut acc = 0u32;
    for byte in raw {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            token.push(BASE64URL[((acc >> bits) & 63) as usize] as char);
        }
    }
    if bits > 0 {
        token.push(BASE64URL[((acc << (6 - bits)) & 63) as usize] as char);
    }
    let hash = hash_token(&token).ok_or(ApiError::Internal)?;
    Ok((token, hash))
}

/// The hash of something that may be a bot token; `None` if it cannot be one (so nothing
/// else is ever looked up).
pub fn hash_token(token: &str) -> Option<[u8; 32]> {
    let body = token.trim().strip_prefix(TOKEN_PREFIX)?;
    if body.len() != TOKEN_CHARS || !body.bytes().all(|b| BASE64URL.contains(&b)) {
        return None;
    }
    Some(Blake2s256::digest(token.trim().as_bytes()).into())
}

/// Decodes standard or URL-safe base64, with or without padding (ntfy's `?auth=`, Basic
/// credentials). A `+` that form decoding of a query turned into a space is still a `+`.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    use base64ct::{Base64Unpadded, Encoding};
    let standard: String = text
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' | ' ' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    Base64Unpadded::decode_vec(&standard).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_hash_only_when_well_formed() {
        let (token, hash) = new_token().unwrap();
        assert_eq!(token.len(), 47);
        assert_eq!(hash_token(&token), Some(hash));
        assert_eq!(hash_token(&token[..46]), None);
        assert_eq!(hash_token(&token.replace("mcb_", "xyz_")), None);
        assert_ne!(new_token().unwrap().0, token);
        assert_eq!(base64_decode("dXNlcjpwYXNz").unwrap(), b"user:pass");
        assert_eq!(base64_decode("QmVhcmVyIHRr").unwrap(), b"Bearer tk");
    }

    #[test]
    fn titles_pair_firings_with_resolutions() {
        assert_eq!(
            lifecycle_from_title("[FIRING:1] DiskFull Grafana"),
            Some((Status::Firing, "DiskFull Grafana".into()))
        );
        assert_eq!(
            lifecycle_from_title("[RESOLVED] DiskFull Grafana"),
            Some((Status::Resolved, "DiskFull Grafana".into()))
        );
        assert_eq!(lifecycle_from_title("backup is DOWN"), Some((Status::Firing, "backup".into())));
        assert_eq!(lifecycle_from_title("backup is UP"), Some((Status::Resolved, "backup".into())));
        assert_eq!(lifecycle_from_title("NAS Down [Uptime-Kuma]"), Some((Status::Firing, "NAS [Uptime-Kuma]".into())));
        assert_eq!(lifecycle_from_title("NAS Up [Uptime-Kuma]"), Some((Status::Resolved, "NAS [Uptime-Kuma]".into())));
        assert_eq!(lifecycle_from_title("Backup finished"), None);
    }

    #[test]
    fn drafts_are_bounded() {
        let long = Draft { text: "x".repeat(MAX_TEXT_CHARS + 1), ..Draft::default() };
        assert_eq!(long.clone().finish(Format::Text).unwrap_err().status(), 413);
        let composed = Draft { composed: true, ..long }.finish(Format::Alertmanager).unwrap();
        assert_eq!(composed.text.chars().count(), MAX_TEXT_CHARS);
        let bad_link = Draft { text: "x".into(), click: Some("javascript:alert(1)".into()), ..Draft::default() };
        assert_eq!(bad_link.finish(Format::Ntfy).unwrap_err().status(), 400);
        assert_eq!(Draft::default().finish(Format::Text).unwrap_err().status(), 400);
        let only_title = Draft { title: Some("Title\nline".into()), ..Draft::default() }.finish(Format::Ntfy).unwrap();
        assert_eq!((only_title.text.as_str(), only_title.alert.title.as_deref()), ("Title line", Some("Title line")));
        assert_eq!(gotify_priority(7), 4);
        assert_eq!(gotify_priority(0), 1);
        assert_eq!(severity_priority("critical"), 5);
    }
}
