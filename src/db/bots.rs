//! Bots (`users.db`) and the alert state of their messages (`rooms.db`, see
//! `migrate::rooms_v3_alerts`).

use super::{Db, DbResult};
use rusqlite::OptionalExtension;

/// A bot as stored: only a hash of its token, none once revoked.
pub struct BotRecord {
    pub id: String,
    pub room_id: String,
    pub name: String,
    pub token_hash: Option<[u8; 32]>,
    pub created_by: String,
    pub created_at: String,
}

impl Db {
    /// Every bot, oldest first.
    pub fn load_bots(&self) -> DbResult<Vec<BotRecord>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, room_id, name, token_hash, created_by, created_at FROM main.bots ORDER BY rowid")?;
        stmt.query_map([], |r| {
            Ok(BotRecord {
                id: r.get(0)?,
                room_id: r.get(1)?,
                name: r.get(2)?,
                token_hash: r.get(3)?,
                created_by: r.get(4)?,
                created_at: r.get(5)?,
            })
        })?
        .collect()
    }

    pub fn insert_bot(&mut self, bot: &BotRecord) -> DbResult<()> {
        self.writing()?
            .prepare_cached(
                "INSERT INTO main.bots (id, room_id, name, token_hash, created_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute((
                &bot.id,
                &bot.room_id,
                &bot.name,
                bot.token_hash.as_ref().map(|h| &h[..]),
                &bot.created_by,
                &bot.created_at,
            ))?;
        Ok(())
    }

    /// Replaces a bot's token hash (rotation), or removes it (revocation).
    pub fn set_bot_token(&mut self, id: &str, token_hash: Option<&[u8; 32]>) -> DbResult<()> {
        self.writing()?
            .prepare_cached("UPDATE main.bots SET token_hash = ?2 WHERE id = ?1")?
            .execute((id, token_hash.map(|h| &h[..])))?;
        Ok(())
    }

    pub fn delete_bot(&mut self, id: &str) -> DbResult<()> {
        self.writing()?.prepare_cached("DELETE FROM main.bots WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    /// The newest open alert of `sender_id` in `room_id` with this key: one index lookup.
    pub fn open_alert(&self, room_id: &str, sender_id: &str, key: &str) -> DbResult<Option<i64>> {
        self.conn
            .prepare_cached(
                "SELECT id FROM rooms.room_messages
                  WHERE room_id = ?1 AND sender_id = ?2 AND alert_key = ?3
                  ORDER BY id DESC LIMIT 1",
            )?
            .query_row((room_id, sender_id, key), |r| r.get(0))
            .optional()
    }

    /// Closes an alert: its data becomes `alert` (now resolved), its key is dropped (so it is
    /// no longer open), and the change gets number `seq`.
    pub fn resolve_alert(&mut self, id: i64, alert: &str, seq: i64) -> DbResult<()> {
        self.writing()?
            .prepare_cached("UPDATE rooms.room_messages SET alert = ?2, alert_key = NULL, seq = ?3 WHERE id = ?1")?
            .execute((id, alert, seq))?;
        Ok(())
    }
}
