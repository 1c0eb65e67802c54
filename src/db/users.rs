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
    /// The client's address and user agent when the session was opened (for the list of
    /// one's devices); `None` for sessions from before they were recorded.
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// What a login needs to know about an account besides its name.
pub struct LoginRecord {
    /// `None`: the account has no password (made by single sign-on).
    pub password_hash: Option<String>,
    pub disabled: bool,
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

    /// The password hash and whether the account is disabled; `None` if there is no account.
    pub fn login_record(&self, user_id: &str) -> DbResult<Option<LoginRecord>> {
        let mut stmt =
            self.conn.prepare_cached("SELECT password_hash, disabled_at IS NOT NULL FROM main.users WHERE id = ?1")?;
        let mut rows = stmt.query([user_id])?;
        match rows.next()? {
            Some(row) => Ok(Some(LoginRecord { password_hash: row.get(0)?, disabled: row.get(1)? })),
            None => Ok(None),
        }
    }

    /// A new account; `password_hash` is `None` for one made by single sign-on.
    pub fn insert_user(
        &mut self,
        user: &UserRecord,
        password_hash: Option<&str>,
        is_admin: bool,
        created_at: &str,
    ) -> DbResult<()> {
        self.writing()?
            .prepare_cached(
                "INSERT INTO main.users (id, name, password_hash, online, name_folded, name_skeleton, is_admin,
                                         created_at, last_seen)
                 VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7, ?7)",
            )?
            .execute((
                &user.id,
                &user.name,
                password_hash,
                &user.name_folded,
                &user.name_skeleton,
                is_admin,
                created_at,
            ))?;
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
            Ok(SessionRecord {
                token_hash: r.get(0)?,
                user_id: r.get(1)?,
                created_at: r.get(2)?,
                last_seen: r.get(3)?,
                address: None,
                user_agent: None,
            })
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
                "INSERT OR REPLACE INTO main.sessions (token_hash, user_id, created_at, last_seen, address, user_agent)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute((&s.token_hash[..], &s.user_id, s.created_at, s.last_seen, &s.address, &s.user_agent))?;
        self.set_last_seen(&s.user_id, s.last_seen)
    }

    /// A session was used: its `last_seen`, and its user's.
    pub fn touch_session(&mut self, token_hash: &[u8; 32], user_id: &str, last_seen: i64) -> DbResult<()> {
        self.writing()?
            .prepare_cached("UPDATE main.sessions SET last_seen = ?2 WHERE token_hash = ?1")?
            .execute((&token_hash[..], last_seen))?;
        self.set_last_seen(user_id, last_seen)
    }

    /// When the user was last active (Unix seconds, stored as ISO-8601 like other account times).
    pub fn set_last_seen(&mut self, user_id: &str, at: i64) -> DbResult<()> {
        self.writing()?
            .prepare_cached("UPDATE main.users SET last_seen = ?2 WHERE id = ?1")?
            .execute((user_id, crate::clock::iso_from_millis(at * 1000)))?;
        Ok(())
    }

    pub fn delete_session(&mut self, token_hash: &[u8; 32]) -> DbResult<()> {
        self.writing()?
            .prepare_cached("DELETE FROM main.sessions WHERE token_hash = ?1")?
            .execute([&token_hash[..]])?;
        Ok(())
    }

    /// Removes every session of a user but `except`.
    pub fn delete_sessions_of(&mut self, user_id: &str, except: Option<&[u8; 32]>) -> DbResult<usize> {
        let except: &[u8] = except.map_or(&[], |t| &t[..]);
        self.writing()?
            .prepare_cached("DELETE FROM main.sessions WHERE user_id = ?1 AND token_hash != ?2")?
            .execute((user_id, except))
    }

    /// Removes sessions idle since before `idle_before` or created before `created_before`.
    pub fn delete_expired_sessions(&mut self, idle_before: i64, created_before: i64) -> DbResult<usize> {
        self.writing()?
            .prepare_cached("DELETE FROM main.sessions WHERE last_seen < ?1 OR created_at < ?2")?
            .execute((idle_before, created_before))
    }
}
