//! Invitations and one-time login links (`users.db`). Only hashes of their tokens are
//! stored, as for sessions: a copy of the file holds no usable link.

use super::{Db, DbResult};
use rusqlite::OptionalExtension;

/// An invitation as stored.
pub struct InviteRow {
    /// The public id an administrator revokes it by (not the token).
    pub id: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub max_uses: i64,
    pub uses: i64,
}

/// A one-time login link as stored.
pub struct LoginLinkRow {
    pub user_id: String,
    pub expires_at: i64,
}

impl Db {
    /// Every invitation still on file, newest first (their number is bounded on creation).
    pub fn invites(&self) -> DbResult<Vec<InviteRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, created_by, created_at, expires_at, max_uses, uses FROM main.invites ORDER BY created_at DESC",
        )?;
        stmt.query_map([], read_invite)?.collect()
    }

    pub fn invite_count(&self) -> DbResult<i64> {
        self.conn.prepare_cached("SELECT count(*) FROM main.invites")?.query_row([], |r| r.get(0))
    }

    pub fn invite_by_token(&self, token_hash: &[u8; 32]) -> DbResult<Option<InviteRow>> {
        self.conn
            .prepare_cached(
                "SELECT id, created_by, created_at, expires_at, max_uses, uses FROM main.invites WHERE token_hash = ?1",
            )?
            .query_row([&token_hash[..]], read_invite)
            .optional()
    }

    pub fn insert_invite(&mut self, invite: &InviteRow, token_hash: &[u8; 32]) -> DbResult<()> {
        self.writing()?
            .prepare_cached(
                "INSERT INTO main.invites (id, token_hash, created_by, created_at, expires_at, max_uses, uses)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0)",
            )?
            .execute((
                &invite.id,
                &token_hash[..],
                &invite.created_by,
                invite.created_at,
                invite.expires_at,
                invite.max_uses,
            ))?;
        Ok(())
    }

    /// Counts one registration against an invitation.
    pub fn use_invite(&mut self, id: &str) -> DbResult<()> {
        self.writing()?.prepare_cached("UPDATE main.invites SET uses = uses + 1 WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    /// Revokes an invitation; whether there was one.
    pub fn delete_invite(&mut self, id: &str) -> DbResult<bool> {
        Ok(self.writing()?.prepare_cached("DELETE FROM main.invites WHERE id = ?1")?.execute([id])? > 0)
    }

    /// Drops invitations that expired before `now`.
    pub fn purge_invites(&mut self, now: i64) -> DbResult<usize> {
        self.writing()?.prepare_cached("DELETE FROM main.invites WHERE expires_at <= ?1")?.execute([now])
    }

    /// Stores a login link for `user_id`, replacing any earlier one: one per account.
    pub fn insert_login_link(
        &mut self,
        user_id: &str,
        token_hash: &[u8; 32],
        created_by: Option<&str>,
        created_at: i64,
        expires_at: i64,
    ) -> DbResult<()> {
        self.writing()?
            .prepare_cached(
                "INSERT OR REPLACE INTO main.login_links (user_id, token_hash, created_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute((user_id, &token_hash[..], created_by, created_at, expires_at))?;
        Ok(())
    }

    pub fn login_link(&self, token_hash: &[u8; 32]) -> DbResult<Option<LoginLinkRow>> {
        self.conn
            .prepare_cached("SELECT user_id, expires_at FROM main.login_links WHERE token_hash = ?1")?
            .query_row([&token_hash[..]], |r| Ok(LoginLinkRow { user_id: r.get(0)?, expires_at: r.get(1)? }))
            .optional()
    }

    /// Uses up (or withdraws) the login link of `user_id`.
    pub fn delete_login_link(&mut self, user_id: &str) -> DbResult<()> {
        self.writing()?.prepare_cached("DELETE FROM main.login_links WHERE user_id = ?1")?.execute([user_id])?;
        Ok(())
    }

    /// Drops login links that expired before `before` (kept a while after expiry so that
    /// opening one says "expired" rather than "unknown").
    pub fn purge_login_links(&mut self, before: i64) -> DbResult<usize> {
        self.writing()?.prepare_cached("DELETE FROM main.login_links WHERE expires_at <= ?1")?.execute([before])
    }
}

fn read_invite(r: &rusqlite::Row) -> rusqlite::Result<InviteRow> {
    Ok(InviteRow {
        id: r.get(0)?,
        created_by: r.get(1)?,
        created_at: r.get(2)?,
        expires_at: r.get(3)?,
        max_uses: r.get(4)?,
        uses: r.get(5)?,
    })
}
