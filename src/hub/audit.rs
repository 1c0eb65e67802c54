//! The audit log's entries: who acted (an administrator or the console) and what they did,
//! written inside the acting batch's transaction; and the rule that keeps one administrator.
//! Shared by administration, invitations and the console.

use super::SessionUser;
use crate::db::{AccountFlags, AuditEntry};

/// Who performed an admin action, for the audit log.
pub enum Actor<'a> {
    Admin(&'a SessionUser),
    /// `mychat admin` on the server's console.
    Console,
}

impl Actor<'_> {
    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::Admin(user) => Some(&user.id),
            Actor::Console => None,
        }
    }

    pub fn name(&self) -> &str {
        match self {
            Actor::Admin(user) => &user.name,
            Actor::Console => "console",
        }
    }
}

/// Writes an audit entry (inside the caller's transaction).
pub fn audit_entry(
    db: &mut crate::db::Db,
    actor: &Actor,
    action: &str,
    target: Option<(&str, &str)>,
    detail: Option<&str>,
) -> rusqlite::Result<()> {
    db.audit(&AuditEntry {
        actor_id: actor.id(),
        actor_name: actor.name(),
        action,
        target_id: target.map(|t| t.0),
        target_name: target.map(|t| t.1),
        detail,
    })
}

/// Whether changing `target` away from an active administrator would leave the server
/// without one. Read inside a write transaction, so it holds against the console too.
pub fn last_admin(db: &crate::db::Db, target: AccountFlags) -> rusqlite::Result<bool> {
    Ok(target.is_admin && !target.disabled && db.active_admins()? <= 1)
}
