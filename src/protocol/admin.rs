//! The JSON of household administration and of one's own account: what `/api/admin/...` and
//! `/api/account/...` answer. Times are full UTC ISO-8601 (`null` where unknown: accounts made
//! by the original app have no `created_at`).

use serde::Serialize;
use std::sync::Arc;

/// An account on the admin page.
#[derive(Debug, Clone, Serialize)]
pub struct AdminAccount {
    pub id: String,
    pub name: String,
    pub is_admin: bool,
    pub online: bool,
    pub disabled: bool,
    pub created_at: Option<String>,
    pub disabled_at: Option<String>,
    pub last_seen: Option<String>,
}

/// `GET /api/admin/users`: a page of accounts in registration order; `next` is the `after`
/// of the following page (`null`: this was the last).
#[derive(Debug, Clone, Serialize)]
pub struct AdminAccountsPage {
    pub users: Vec<AdminAccount>,
    pub next: Option<i64>,
}

/// An entry of the audit log.
#[derive(Debug, Clone, Serialize)]
pub struct AuditItem {
    pub id: i64,
    pub at: String,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub action: String,
    pub target_id: Option<String>,
    pub target_name: Option<String>,
    pub detail: Option<String>,
}

/// An invitation as the admin page lists it. Its link is shown once, when it is made.
#[derive(Debug, Clone, Serialize)]
pub struct InviteItem {
    pub id: String,
    pub created_by: Option<String>,
    pub created_by_name: Option<Arc<str>>,
    pub created_at: String,
    pub expires_at: String,
    pub max_uses: i64,
    pub uses: i64,
    pub uses_left: i64,
    pub expired: bool,
}

/// `GET /api/admin/registration`.
#[derive(Debug, Clone, Serialize)]
pub struct RegistrationSettings {
    /// What applies now.
    pub mode: &'static str,
    /// What the admin page stored (what applies when no flag overrides it).
    pub stored: &'static str,
    /// `--registration` (or its variable) is set and wins over the stored mode.
    pub overridden: bool,
}

/// A link made for someone to open: an invitation or a one-time login link. `token` is in
/// `url` and nowhere else; the server keeps only its hash.
#[derive(Debug, Clone, Serialize)]
pub struct IssuedLink {
    pub url: String,
    pub expires_at: String,
    /// The URL as a QR code: an SVG image in a `data:` URL.
    pub qr: String,
}

/// One of my sessions (`GET /api/account/sessions`).
#[derive(Debug, Clone, Serialize)]
pub struct SessionItem {
    /// Names the session for `DELETE /api/account/sessions/{id}` (not the token, nor its hash).
    pub id: String,
    pub created_at: String,
    pub last_seen: String,
    pub address: Option<String>,
    pub user_agent: Option<String>,
    /// The session this request came with.
    pub current: bool,
}

/// `GET /api/account`.
#[derive(Debug, Clone, Serialize)]
pub struct AccountInfo {
    pub id: Arc<str>,
    pub name: Arc<str>,
    pub is_admin: bool,
    /// The account has a password (one made by single sign-on has none).
    pub has_password: bool,
    /// This session came from a one-time login link and may set a password without the old
    /// one, for a while.
    pub may_reset_password: bool,
    /// Signed in by a trusted proxy's header: there is no session to list or end here.
    pub single_sign_on: bool,
}
