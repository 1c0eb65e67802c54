//! Accounts and sessions (`users.db`).

use super::{Db, DbResult};

pub struct UserRecord {
    pub id: String,
    pub name: String,
    pub name_folded: String,
    /// The name's confusable skeleton (`crate::names::skeleton`).
    pub name_skeleton: String,
}

/// A session as stored: only a hash of the token, never the token.
pub struct SessionRecord {
    pub token_hash: [u8; 32],
    pub user_id: String,
    pub created_at: i64,
    pub last_seen: i64,
}

impl Db {
    /// Every account, in registration order.
    pub fn load_users(&self) -> DbResult<Vec<UserRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, name, COALESCE(name_folded, lower(name)), name_skeleton FROM main.users
              WHERE id IS NOT NULL AND name IS NOT NULL ORDER BY rowid",
        )?;
        stmt.query_map([], |r| {
            let name: String = r.get(1)?;
            let name_skeleton = match r.get::<_, Option<String>>(3)? {
                Some(skeleton) => skeleton,
                None => crate::names::skeleton(&name),
            };
            Ok(UserRecord { id: r.get(0)?, name, name_folded: r.get(2)?, name_skeleton })
        })?
        .collect()
    }

    pub fn password_hash(&self, user_id: &str) -> DbResult<Option<String>> {
        let mut stmt = self.conn.prepare_cached("SELECT password_hash FROM main.users WHERE id = ?1")?;
        let mut rows = stmt.query([user_id])?;
        match rows.next()? {
            Some(row) => row.get(0),
            None => Ok(None),
        }
    }

    pub fn insert_user(&mut self, user: &UserRecord, password_hash: &str) -> DbResult<()> {
        self.writing()?
            .prepare_cached(
                "INSERT INTO main.users (id, name, password_hash, online, name_folded, name_skeleton)
                 VALUES (?1, ?2, ?3, 0, ?4, ?5)",
            )?
            .execute((&user.id, &user.name, password_hash, &user.name_folded, &user.name_skeleton))?;
        Ok(())
    }

    pub fn set_password_hash(&mut self, user_id: &str, password_hash: &str) -> DbResult<()> {
        self.writing()?
            .prepare_cached("UPDATE main.users SET password_hash = ?2 WHERE id = ?1")?
            .execute((user_id, password_hash))?;
        Ok(())
    }

    pub fn load_sessions(&self) -> DbResult<Vec<SessionRecord>> {
        let mut stmt = self.conn.prepare("SELECT token_hash, user_id, created_at, last_seen FROM main.sessions")?;
        stmt.query_map([], |r| {
            Ok(SessionRecord { token_hash: r.get(0)?, user_id: r.get(1)?, created_at: r.get(2)?, last_seen: r.get(3)? })
        })?
        .collect()
    }

    /// Sets session times later than `now` to `now`: written while the clock was fast, they
    /// would otherwise keep a session alive until the clock caught up. The number changed.
    pub fn clamp_future_sessions(&self, now: i64) -> DbResult<usize> {
        self.conn.execute(
            "UPDATE main.sessions SET created_at = min(created_at, ?1), last_seen = min(last_seen, ?1)
              WHERE created_at > ?1 OR last_seen > ?1",
            [now],
        )
    }

    pub fn insert_session(&mut self, s: &SessionRecord) -> DbResult<()> {
        self.writing()?
            .prepare_cached(
                "INSERT OR REPLACE INTO main.sessions (token_hash, user_id, created_at, last_seen)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute((&s.token_hash[..], &s.user_id, s.created_at, s.last_seen))?;
        Ok(())
    }

    pub fn touch_session(&mut self, token_hash: &[u8; 32], last_seen: i64) -> DbResult<()> {
        self.writing()?
            .prepare_cached("UPDATE main.sessions SET last_seen = ?2 WHERE token_hash = ?1")?
            .execute((&token_hash[..], last_seen))?;
        Ok(())
    }

    pub fn delete_session(&mut self, token_hash: &[u8; 32]) -> DbResult<()> {
        self.writing()?
            .prepare_cached("DELETE FROM main.sessions WHERE token_hash = ?1")?
            .execute([&token_hash[..]])?;
        Ok(())
    }

    /// Removes sessions idle since before `idle_before` or created before `created_before`.
    pub fn delete_expired_sessions(&mut self, idle_before: i64, created_before: i64) -> DbResult<usize> {
        self.writing()?
            .prepare_cached("DELETE FROM main.sessions WHERE last_seen < ?1 OR created_at < ?2")?
            .execute((idle_before, created_before))
    }
}
