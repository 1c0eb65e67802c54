//! Household administration (`users.db`): roles and account states, stored settings, the
//! audit log, one's own sessions, and what deleting an account removes.
//!
//! These functions serve the hub and `mychat admin` alike (the console opens the files beside
//! a running server; see [`Db::open_console`]), so the role and the disabled state are read
//! from the file where they are checked, never from a copy in memory.

use super::{Db, DbResult};
use crate::config::Registration;
use crate::protocol::AuditItem;
use rusqlite::OptionalExtension;

/// The audit log keeps this many entries; older ones are dropped as new ones come.
pub const MAX_AUDIT_ROWS: i64 = 10_000;
/// The stored registration mode's key in `settings`.
const REGISTRATION_KEY: &str = "registration";

/// An account as the admin page lists it.
pub struct AccountRow {
    /// Registration order, the page cursor.
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub is_admin: bool,
    pub created_at: Option<String>,
    pub disabled_at: Option<String>,
    pub last_seen: Option<String>,
}

/// The role and state of an account, read where they are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountFlags {
    pub is_admin: bool,
    pub disabled: bool,
}

/// One admin action, as written.
pub struct AuditEntry<'a> {
    pub actor_id: Option<&'a str>,
    pub actor_name: &'a str,
    pub action: &'a str,
    pub target_id: Option<&'a str>,
    pub target_name: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// One of a user's sessions, for their list of devices.
pub struct SessionRow {
    pub token_hash: [u8; 32],
    pub created_at: i64,
    pub last_seen: i64,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

impl Db {
    /// An account's role and state; `None` if there is no such account. A primary-key read.
    pub fn account_flags(&self, user_id: &str) -> DbResult<Option<AccountFlags>> {
        self.conn
            .prepare_cached("SELECT is_admin, disabled_at IS NOT NULL FROM main.users WHERE id = ?1")?
            .query_row([user_id], |r| Ok(AccountFlags { is_admin: r.get::<_, i64>(0)? != 0, disabled: r.get(1)? }))
            .optional()
    }

    /// Administrators who are not disabled (the partial index `users_admin` holds only admins).
    pub fn active_admins(&self) -> DbResult<i64> {
        self.conn
            .prepare_cached("SELECT count(*) FROM main.users WHERE is_admin = 1 AND disabled_at IS NULL")?
            .query_row([], |r| r.get(0))
    }

    /// Up to `limit` accounts registered after `after` (a [`AccountRow::seq`]; 0 for the first).
    pub fn accounts_page(&self, after: i64, limit: u32) -> DbResult<Vec<AccountRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid, id, name, is_admin, created_at, disabled_at, last_seen FROM main.users
              WHERE rowid > ?1 AND id IS NOT NULL AND name IS NOT NULL ORDER BY rowid LIMIT ?2",
        )?;
        stmt.query_map((after, limit), |r| {
            Ok(AccountRow {
                seq: r.get(0)?,
                id: r.get(1)?,
                name: r.get(2)?,
                is_admin: r.get::<_, i64>(3)? != 0,
                created_at: r.get(4)?,
                disabled_at: r.get(5)?,
                last_seen: r.get(6)?,
            })
        })?
        .collect()
    }

    /// One account's row, by id or by name (exact first, then case-insensitively if that is
    /// unambiguous), as `mychat admin` finds it.
    pub fn find_account(&self, id_or_name: &str) -> DbResult<Option<AccountRow>> {
        let select = "SELECT rowid, id, name, is_admin, created_at, disabled_at, last_seen FROM main.users";
        let read = |r: &rusqlite::Row| {
            Ok(AccountRow {
                seq: r.get(0)?,
                id: r.get(1)?,
                name: r.get(2)?,
                is_admin: r.get::<_, i64>(3)? != 0,
                created_at: r.get(4)?,
                disabled_at: r.get(5)?,
                last_seen: r.get(6)?,
            })
        };
        let exact = self
            .conn
            .prepare_cached(&format!("{select} WHERE id = ?1 OR name = ?1 LIMIT 1"))?
            .query_row([id_or_name], read)
            .optional()?;
        if exact.is_some() {
            return Ok(exact);
        }
        let folded = crate::names::fold_name(&crate::names::normalize(id_or_name));
        let mut found: Vec<AccountRow> = self
            .conn
            .prepare_cached(&format!("{select} WHERE name_folded = ?1 LIMIT 2"))?
            .query_map([folded], read)?
            .collect::<DbResult<_>>()?;
        Ok(if found.len() == 1 { found.pop() } else { None })
    }

    pub fn set_admin(&mut self, user_id: &str, is_admin: bool) -> DbResult<()> {
        self.writing()?
            .prepare_cached("UPDATE main.users SET is_admin = ?2 WHERE id = ?1")?
            .execute((user_id, is_admin))?;
        Ok(())
    }

    /// Disables (with the time) or enables (`None`) an account.
    pub fn set_disabled(&mut self, user_id: &str, disabled_at: Option<&str>) -> DbResult<()> {
        self.writing()?
            .prepare_cached("UPDATE main.users SET disabled_at = ?2 WHERE id = ?1")?
            .execute((user_id, disabled_at))?;
        Ok(())
    }

    /// The registration mode stored by an administrator; `None` if never stored (a new
    /// install: invite-only).
    pub fn stored_registration(&self) -> DbResult<Option<Registration>> {
        let value: Option<String> = self
            .conn
            .prepare_cached("SELECT value FROM main.settings WHERE key = ?1")?
            .query_row([REGISTRATION_KEY], |r| r.get(0))
            .optional()?;
        Ok(value.as_deref().and_then(Registration::parse))
    }

    pub fn store_registration(&mut self, mode: Registration) -> DbResult<()> {
        self.writing()?
            .prepare_cached("INSERT OR REPLACE INTO main.settings (key, value) VALUES (?1, ?2)")?
            .execute((REGISTRATION_KEY, mode.as_str()))?;
        Ok(())
    }

    /// Appends an entry to the audit log and drops what falls out of its bound (one row per
    /// entry once full: a primary-key range).
    pub fn audit(&mut self, entry: &AuditEntry) -> DbResult<()> {
        let conn = self.writing()?;
        conn.prepare_cached(
            "INSERT INTO main.audit_log (at, actor_id, actor_name, action, target_id, target_name, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute((
            crate::clock::iso_now(),
            entry.actor_id,
            entry.actor_name,
            entry.action,
            entry.target_id,
            entry.target_name,
            entry.detail,
        ))?;
        let newest = conn.last_insert_rowid();
        conn.prepare_cached("DELETE FROM main.audit_log WHERE id <= ?1")?.execute([newest - MAX_AUDIT_ROWS])?;
        Ok(())
    }

    /// Up to `limit` audit entries older than `before`, newest first.
    pub fn audit_page(&self, before: i64, limit: u32) -> DbResult<Vec<AuditItem>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, at, actor_id, actor_name, action, target_id, target_name, detail FROM main.audit_log
              WHERE id < ?1 ORDER BY id DESC LIMIT ?2",
        )?;
        stmt.query_map((before, limit), |r| {
            Ok(AuditItem {
                id: r.get(0)?,
                at: r.get(1)?,
                actor_id: r.get(2)?,
                actor_name: r.get(3)?,
                action: r.get(4)?,
                target_id: r.get(5)?,
                target_name: r.get(6)?,
                detail: r.get(7)?,
            })
        })?
        .collect()
    }

    /// A user's sessions (at most `MAX_SESSIONS_PER_USER`), newest use first.
    pub fn sessions_of(&self, user_id: &str) -> DbResult<Vec<SessionRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT token_hash, created_at, last_seen, address, user_agent FROM main.sessions
              WHERE user_id = ?1 ORDER BY last_seen DESC",
        )?;
        stmt.query_map([user_id], |r| {
            Ok(SessionRow {
                token_hash: r.get(0)?,
                created_at: r.get(1)?,
                last_seen: r.get(2)?,
                address: r.get(3)?,
                user_agent: r.get(4)?,
            })
        })?
        .collect()
    }

    /// Until when a session may set a new password without the current one (a session opened
    /// by a one-time login link); `None` if it may not.
    pub fn reset_until(&self, token_hash: &[u8; 32]) -> DbResult<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached("SELECT reset_until FROM main.sessions WHERE token_hash = ?1")?
            .query_row([&token_hash[..]], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten())
    }

    pub fn set_reset_until(&mut self, token_hash: &[u8; 32], until: Option<i64>) -> DbResult<()> {
        self.writing()?
            .prepare_cached("UPDATE main.sessions SET reset_until = ?2 WHERE token_hash = ?1")?
            .execute((&token_hash[..], until))?;
        Ok(())
    }

    /// Deletes an account's row and what is only its own: sessions, the invitations it made,
    /// a login link for it, its notification settings, its list of private conversations and
    /// its mentions, its room memberships. Its messages stay (see the README); its id is
    /// remembered so they read as from a deleted account. (Its uploads and push devices are
    /// deleted by the hub first: `delete_files_of_user`, `forget_push_of`.)
    pub fn delete_account(&mut self, user_id: &str, deleted_at: &str) -> DbResult<()> {
        self.atomically(|db| {
            let conn = db.writing()?;
            for sql in [
                "DELETE FROM main.sessions WHERE user_id = ?1",
                "DELETE FROM main.invites WHERE created_by = ?1",
                "DELETE FROM main.login_links WHERE user_id = ?1",
                "DELETE FROM chat.private_settings WHERE user_id = ?1",
                "DELETE FROM chat.conversations WHERE user_id = ?1",
                "DELETE FROM chat.mentions WHERE user_id = ?1",
                "DELETE FROM rooms.room_members WHERE user_id = ?1",
                "DELETE FROM main.users WHERE id = ?1",
            ] {
                conn.prepare_cached(sql)?.execute([user_id])?;
            }
            conn.prepare_cached("INSERT OR REPLACE INTO main.deleted_users (id, deleted_at) VALUES (?1, ?2)")?
                .execute((user_id, deleted_at))?;
            Ok(())
        })
    }

    /// Ids of deleted accounts (one row per deletion, an admin action).
    pub fn deleted_users(&self) -> DbResult<Vec<String>> {
        self.conn.prepare("SELECT id FROM main.deleted_users")?.query_map([], |r| r.get(0))?.collect()
    }

    /// Hands a room to another member (its creator's account was deleted).
    pub fn set_room_creator(&mut self, room_id: &str, user_id: &str) -> DbResult<()> {
        self.writing()?
            .prepare_cached("UPDATE rooms.rooms SET creator_id = ?2 WHERE id = ?1")?
            .execute((room_id, user_id))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_audit_log_keeps_its_newest_entries_up_to_its_bound() {
        let mut db = Db::open_in_memory().unwrap();
        let extra = 3;
        for i in 0..MAX_AUDIT_ROWS + extra {
            let detail = i.to_string();
            let entry = AuditEntry {
                actor_id: None,
                actor_name: "console",
                action: "promote",
                target_id: None,
                target_name: None,
                detail: Some(&detail),
            };
            db.audit(&entry).unwrap();
        }
        db.commit().unwrap();
        let count: i64 = db.conn.query_row("SELECT count(*) FROM main.audit_log", [], |r| r.get(0)).unwrap();
        assert_eq!(count, MAX_AUDIT_ROWS);
        let oldest = db.audit_page(i64::MAX, 200).unwrap();
        assert_eq!(
            oldest[0].detail.as_deref(),
            Some((MAX_AUDIT_ROWS + extra - 1).to_string().as_str()),
            "newest first"
        );
        let last_page = db.audit_page(extra + 200, 200).unwrap();
        assert_eq!(
            last_page.last().unwrap().detail.as_deref(),
            Some(extra.to_string().as_str()),
            "the oldest are gone"
        );
    }
}
