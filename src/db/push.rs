//! Push subscriptions and notification forwards (`users.db`): one row per browser that
//! asked for Web Push, and at most one ntfy/Gotify forward per user.

use super::{Db, DbResult};
use rusqlite::Connection;

/// Schema step for `users.db`: the two tables. Additive; self-contained so it can sit at any
/// position in `users.db`'s list of steps.
pub(super) fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE main.push_subscriptions (
             id INTEGER PRIMARY KEY,
             user_id TEXT NOT NULL,
             endpoint TEXT NOT NULL UNIQUE,
             p256dh BLOB NOT NULL,
             auth BLOB NOT NULL,
             origin TEXT NOT NULL,
             user_agent TEXT,
             created_at TEXT NOT NULL,
             last_seen INTEGER NOT NULL,
             last_success INTEGER
         );
         CREATE INDEX main.push_subscriptions_user ON push_subscriptions (user_id);
         CREATE TABLE main.push_forwards (
             user_id TEXT PRIMARY KEY,
             kind TEXT NOT NULL,
             url TEXT NOT NULL,
             token TEXT,
             origin TEXT NOT NULL,
             updated_at TEXT NOT NULL
         ) WITHOUT ROWID;",
    )
}

/// A stored subscription. Times are Unix seconds: `last_seen` is when the browser last
/// (re)subscribed — the app does so whenever it starts — and `last_success` the last push a
/// push service accepted.
#[derive(Debug, Clone)]
pub struct SubscriptionRecord {
    pub user_id: String,
    pub endpoint: String,
    pub p256dh: Vec<u8>,
    pub auth: Vec<u8>,
    pub origin: String,
    pub user_agent: Option<String>,
    pub last_seen: i64,
    pub last_success: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct ForwardRecord {
    pub user_id: String,
    pub kind: String,
    pub url: String,
    pub token: Option<String>,
    pub origin: String,
}

impl Db {
    pub fn load_push_subscriptions(&self) -> DbResult<Vec<SubscriptionRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT user_id, endpoint, p256dh, auth, origin, user_agent, last_seen, last_success
               FROM main.push_subscriptions ORDER BY id",
        )?;
        stmt.query_map([], |r| {
            Ok(SubscriptionRecord {
                user_id: r.get(0)?,
                endpoint: r.get(1)?,
                p256dh: r.get(2)?,
                auth: r.get(3)?,
                origin: r.get(4)?,
                user_agent: r.get(5)?,
                last_seen: r.get(6)?,
                last_success: r.get(7)?,
            })
        })?
        .collect()
    }

    /// Stores a subscription; one that exists (same endpoint) is updated and now belongs to
    /// `s.user_id` (a browser profile that another user logged into).
    pub fn upsert_push_subscription(&mut self, s: &SubscriptionRecord, created_at: &str) -> DbResult<()> {
        self.writing()?
            .prepare_cached(
                "INSERT INTO main.push_subscriptions
                     (user_id, endpoint, p256dh, auth, origin, user_agent, created_at, last_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (endpoint) DO UPDATE SET
                     user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth,
                     origin = excluded.origin, user_agent = excluded.user_agent,
                     last_seen = excluded.last_seen",
            )?
            .execute((
                &s.user_id,
                &s.endpoint,
                &s.p256dh,
                &s.auth,
                &s.origin,
                &s.user_agent,
                created_at,
                s.last_seen,
            ))?;
        Ok(())
    }

    pub fn delete_push_subscription(&mut self, endpoint: &str) -> DbResult<()> {
        self.writing()?
            .prepare_cached("DELETE FROM main.push_subscriptions WHERE endpoint = ?1")?
            .execute([endpoint])?;
        Ok(())
    }

    pub fn push_delivered(&mut self, endpoint: &str, now: i64) -> DbResult<()> {
        self.writing()?
            .prepare_cached("UPDATE main.push_subscriptions SET last_success = ?2 WHERE endpoint = ?1")?
            .execute((endpoint, now))?;
        Ok(())
    }

    /// Deletes subscriptions neither confirmed by their browser nor delivered to since
    /// `before` (Unix seconds).
    pub fn delete_stale_push_subscriptions(&mut self, before: i64) -> DbResult<usize> {
        self.writing()?
            .prepare_cached("DELETE FROM main.push_subscriptions WHERE max(last_seen, COALESCE(last_success, 0)) < ?1")?
            .execute([before])
    }

    pub fn load_push_forwards(&self) -> DbResult<Vec<ForwardRecord>> {
        let mut stmt = self.conn.prepare("SELECT user_id, kind, url, token, origin FROM main.push_forwards")?;
        stmt.query_map([], |r| {
            Ok(ForwardRecord {
                user_id: r.get(0)?,
                kind: r.get(1)?,
                url: r.get(2)?,
                token: r.get(3)?,
                origin: r.get(4)?,
            })
        })?
        .collect()
    }

    pub fn set_push_forward(&mut self, f: &ForwardRecord, updated_at: &str) -> DbResult<()> {
        self.writing()?
            .prepare_cached(
                "INSERT OR REPLACE INTO main.push_forwards (user_id, kind, url, token, origin, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute((&f.user_id, &f.kind, &f.url, &f.token, &f.origin, updated_at))?;
        Ok(())
    }

    pub fn delete_push_forward(&mut self, user_id: &str) -> DbResult<()> {
        self.writing()?.prepare_cached("DELETE FROM main.push_forwards WHERE user_id = ?1")?.execute([user_id])?;
        Ok(())
    }
}
