//! Private conversations (`chathistory.db`): each person's list of them with unread counts,
//! read state and notification levels. The messages themselves are in [`super::messages`].
//!
//! `chat.conversations` keeps, per person and per other person, the latest message id and the
//! unread count, updated in the same transaction as the messages; so the chat list and the
//! unread counts cost a row per conversation, however long the history or the backlog.

use super::{Db, DbResult};
use rusqlite::OptionalExtension;

/// One of a person's private conversations.
pub struct Partner {
    pub other: String,
    pub last_id: i64,
    pub unread: i64,
    /// The person's notification level for it, if they set one.
    pub notify: Option<String>,
}

/// Unread counts are exact up to this and shown as "this or more" beyond.
pub const UNREAD_CAP: i64 = 999;

impl Db {
    /// A new message from `sender` to `receiver` is in both their lists; the receiver has one
    /// more unread (unless it is a note to self).
    pub fn note_private_message(&mut self, sender: &str, receiver: &str, id: i64) -> DbResult<()> {
        let conn = self.writing()?;
        let mut upsert = conn.prepare_cached(
            "INSERT INTO chat.conversations (user_id, other_id, last_id, unread) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (user_id, other_id) DO UPDATE SET last_id = max(last_id, ?3), unread = unread + ?4",
        )?;
        upsert.execute((sender, receiver, id, 0))?;
        if sender != receiver {
            upsert.execute((receiver, sender, id, 1))?;
        }
        Ok(())
    }

    /// Everyone `user` has a private conversation with.
    pub fn partners(&self, user: &str) -> DbResult<Vec<Partner>> {
        self.conn
            .prepare_cached(
                "SELECT c.other_id, c.last_id, min(c.unread, ?2), s.notify
                   FROM chat.conversations c
                   LEFT JOIN chat.private_settings s ON s.user_id = c.user_id AND s.other_id = c.other_id
                  WHERE c.user_id = ?1",
            )?
            .query_map((user, UNREAD_CAP), |r| {
                Ok(Partner { other: r.get(0)?, last_id: r.get(1)?, unread: r.get(2)?, notify: r.get(3)? })
            })?
            .collect()
    }

    /// Unread messages to `receiver`, per sender (only those with some).
    pub fn unread_counts(&self, receiver: &str) -> DbResult<Vec<(String, i64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT other_id, min(unread, ?2) FROM chat.conversations WHERE user_id = ?1 AND unread > 0",
        )?;
        stmt.query_map((receiver, UNREAD_CAP), |r| Ok((r.get(0)?, r.get(1)?)))?.collect()
    }

    /// Marks what `sender` sent `receiver` up to `up_to` as read. Returns the newest id marked
    /// (if any) and how many stay unread.
    pub fn mark_read(&mut self, receiver: &str, sender: &str, up_to: i64) -> DbResult<(Option<i64>, i64)> {
        let newest: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT max(id) FROM chat.messages WHERE receiver = ?1 AND sender = ?2 AND read = 0 AND id <= ?3",
            )?
            .query_row((receiver, sender, up_to), |r| r.get(0))?;
        if newest.is_some() {
            self.writing()?
                .prepare_cached(
                    "UPDATE chat.messages SET read = 1 WHERE receiver = ?1 AND sender = ?2 AND read = 0 AND id <= ?3",
                )?
                .execute((receiver, sender, up_to))?;
        }
        let left = self.count_unread(receiver, sender)?;
        self.writing()?
            .prepare_cached("UPDATE chat.conversations SET unread = ?3 WHERE user_id = ?1 AND other_id = ?2")?
            .execute((receiver, sender, left))?;
        Ok((newest, left))
    }

    /// Counts again what `sender` sent `receiver` that is unread (after a deletion), and
    /// stores it; returns it.
    pub fn recount_unread(&mut self, receiver: &str, sender: &str) -> DbResult<i64> {
        let left = self.count_unread(receiver, sender)?;
        self.writing()?
            .prepare_cached("UPDATE chat.conversations SET unread = ?3 WHERE user_id = ?1 AND other_id = ?2")?
            .execute((receiver, sender, left))?;
        Ok(left)
    }

    /// Unread messages from `sender` to `receiver`, counted up to a bound: a huge backlog
    /// costs no more than the bound.
    fn count_unread(&self, receiver: &str, sender: &str) -> DbResult<i64> {
        self.conn
            .prepare_cached(
                "SELECT count(*) FROM (SELECT 1 FROM chat.messages
                   WHERE receiver = ?1 AND sender = ?2 AND read = 0 AND deleted_at IS NULL AND ?1 != ?2 LIMIT ?3)",
            )?
            .query_row((receiver, sender, UNREAD_CAP + 1), |r| r.get(0))
    }

    /// `user`'s notification level for the conversation with `other`, if set.
    pub fn private_notify(&self, user: &str, other: &str) -> DbResult<Option<String>> {
        self.conn
            .prepare_cached("SELECT notify FROM chat.private_settings WHERE user_id = ?1 AND other_id = ?2")?
            .query_row((user, other), |r| r.get(0))
            .optional()
    }

    pub fn set_private_notify(&mut self, user: &str, other: &str, level: &str) -> DbResult<()> {
        self.writing()?
            .prepare_cached(
                "INSERT INTO chat.private_settings (user_id, other_id, notify) VALUES (?1, ?2, ?3)
                 ON CONFLICT (user_id, other_id) DO UPDATE SET notify = ?3",
            )?
            .execute((user, other, level))?;
        Ok(())
    }
}
