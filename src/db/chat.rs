//! Private messages (`chathistory.db`).

use super::{Db, DbResult, Page};

pub struct PrivateMessage {
    pub id: i64,
    pub sender: String,
    pub receiver: String,
    pub text: String,
    /// Full ISO-8601 for rows we wrote; `HH:MM` for rows the original app wrote.
    pub timestamp: String,
    pub read: bool,
}

const COLUMNS: &str = "id, COALESCE(sender, ''), COALESCE(receiver, ''), COALESCE(text, ''), \
                       COALESCE(timestamp, ''), COALESCE(read, 0)";

fn message(r: &rusqlite::Row) -> rusqlite::Result<PrivateMessage> {
    Ok(PrivateMessage {
        id: r.get(0)?,
        sender: r.get(1)?,
        receiver: r.get(2)?,
        text: r.get(3)?,
        timestamp: r.get(4)?,
        read: r.get::<_, i64>(5)? != 0,
    })
}

impl Db {
    pub fn insert_private(&mut self, sender: &str, receiver: &str, text: &str, timestamp: &str) -> DbResult<i64> {
        let conn = self.writing()?;
        conn.prepare_cached(
            "INSERT INTO chat.messages (sender, receiver, text, timestamp, read) VALUES (?1, ?2, ?3, ?4, 0)",
        )?
        .execute((sender, receiver, text, timestamp))?;
        Ok(conn.last_insert_rowid())
    }

    /// A page of the conversation between `a` and `b`.
    pub fn private_history(&self, a: &str, b: &str, page: Page) -> DbResult<Vec<PrivateMessage>> {
        // Two index range scans (one per direction) instead of an OR the planner may not split.
        let sql = format!(
            "SELECT * FROM (
                 SELECT {COLUMNS} FROM chat.messages WHERE sender = ?1 AND receiver = ?2 AND id < ?3 AND id > ?4
                 UNION ALL
                 SELECT {COLUMNS} FROM chat.messages WHERE sender = ?2 AND receiver = ?1 AND id < ?3 AND id > ?4
             ) ORDER BY id {} LIMIT ?5",
            page.order()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map((a, b, page.before, page.after, page.limit), message)?.collect::<DbResult<_>>()?;
        Ok(page.oldest_first(rows))
    }

    /// Unread messages to `receiver`, counted per sender.
    pub fn unread_counts(&self, receiver: &str) -> DbResult<Vec<(String, i64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT sender, count(*) FROM chat.messages WHERE receiver = ?1 AND read = 0 GROUP BY sender",
        )?;
        stmt.query_map([receiver], |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
    }

    /// Marks everything `sender` sent to `receiver` as read; returns the newest id marked, if any.
    pub fn mark_read(&mut self, receiver: &str, sender: &str) -> DbResult<Option<i64>> {
        let newest: Option<i64> = self
            .conn
            .prepare_cached("SELECT max(id) FROM chat.messages WHERE receiver = ?1 AND sender = ?2 AND read = 0")?
            .query_row((receiver, sender), |r| r.get(0))?;
        if newest.is_some() {
            self.writing()?
                .prepare_cached("UPDATE chat.messages SET read = 1 WHERE receiver = ?1 AND sender = ?2 AND read = 0")?
                .execute((receiver, sender))?;
        }
        Ok(newest)
    }
}
