//! Rooms and their members (`rooms.db`). Room messages are in [`super::messages`].

use super::private::UNREAD_CAP;
use super::{Db, DbResult};

pub struct RoomRecord {
    pub id: String,
    pub name: String,
    pub description: String,
    pub creator_id: String,
    pub created_at: String,
}

/// A member of a room, as stored.
pub struct Membership {
    pub room_id: String,
    pub user_id: String,
    pub last_read_id: i64,
    pub notify: String,
}

impl Db {
    pub fn load_rooms(&self) -> DbResult<Vec<RoomRecord>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, name, COALESCE(description, ''), creator_id, created_at FROM rooms.rooms ORDER BY rowid",
        )?;
        stmt.query_map([], |r| {
            Ok(RoomRecord {
                id: r.get(0)?,
                name: r.get(1)?,
                description: r.get(2)?,
                creator_id: r.get(3)?,
                created_at: r.get(4)?,
            })
        })?
        .collect()
    }

    /// Every membership, in the order members were added.
    pub fn load_memberships(&self) -> DbResult<Vec<Membership>> {
        let mut stmt = self
            .conn
            .prepare("SELECT room_id, user_id, last_read_id, notify FROM rooms.room_members ORDER BY rowid")?;
        stmt.query_map([], |r| {
            Ok(Membership { room_id: r.get(0)?, user_id: r.get(1)?, last_read_id: r.get(2)?, notify: r.get(3)? })
        })?
        .collect()
    }

    /// Creates a room with its creator as the first member.
    pub fn insert_room(&mut self, room: &RoomRecord) -> DbResult<()> {
        self.atomically(|db| {
            let conn = db.writing()?;
            conn.prepare_cached(
                "INSERT INTO rooms.rooms (id, name, description, creator_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute((&room.id, &room.name, &room.description, &room.creator_id, &room.created_at))?;
            conn.prepare_cached(
                "INSERT INTO rooms.room_members (room_id, user_id, added_at, last_read_id) VALUES (?1, ?2, ?3, 0)",
            )?
            .execute((&room.id, &room.creator_id, &room.created_at))?;
            Ok(())
        })
    }

    /// Deletes a room with its members and messages, and what hangs off its messages. (The
    /// foreign keys cascade too; the explicit deletes keep it true for files where they were
    /// never declared.)
    pub fn delete_room(&mut self, room_id: &str) -> DbResult<()> {
        // The index's waiting changes go first, outside the unit, so the room's are among
        // those deleted below and a rolled-back unit undoes none of the others.
        self.flush_index()?;
        self.atomically(|db| {
            let conn = db.writing()?;
            // What hangs off the room's messages goes first: index entries, reactions, mentions.
            conn.prepare_cached(
                "DELETE FROM chat.message_search WHERE rowid IN (SELECT 2 * id + 1 FROM rooms.room_messages WHERE room_id = ?1)",
            )?
            .execute([room_id])?;
            conn.prepare_cached(
                "DELETE FROM chat.reactions WHERE in_room = 1
                   AND message_id IN (SELECT id FROM rooms.room_messages WHERE room_id = ?1)",
            )?
            .execute([room_id])?;
            conn.prepare_cached("DELETE FROM chat.mentions WHERE room_id = ?1")?.execute([room_id])?;
            conn.prepare_cached("DELETE FROM rooms.room_messages WHERE room_id = ?1")?.execute([room_id])?;
            conn.prepare_cached("DELETE FROM rooms.room_members WHERE room_id = ?1")?.execute([room_id])?;
            conn.prepare_cached("DELETE FROM rooms.rooms WHERE id = ?1")?.execute([room_id])?;
            conn.prepare_cached("DELETE FROM main.bots WHERE room_id = ?1")?.execute([room_id])?;
            Ok(())
        })
    }

    pub fn add_member(&mut self, room_id: &str, user_id: &str, added_at: &str, last_read_id: i64) -> DbResult<()> {
        self.writing()?
            .prepare_cached(
                "INSERT OR IGNORE INTO rooms.room_members (room_id, user_id, added_at, last_read_id)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute((room_id, user_id, added_at, last_read_id))?;
        Ok(())
    }

    pub fn remove_member(&mut self, room_id: &str, user_id: &str) -> DbResult<()> {
        self.writing()?
            .prepare_cached("DELETE FROM rooms.room_members WHERE room_id = ?1 AND user_id = ?2")?
            .execute((room_id, user_id))?;
        Ok(())
    }

    pub fn set_last_read(&mut self, room_id: &str, user_id: &str, last_read_id: i64) -> DbResult<()> {
        self.writing()?
            .prepare_cached(
                "UPDATE rooms.room_members SET last_read_id = ?3
                  WHERE room_id = ?1 AND user_id = ?2 AND last_read_id < ?3",
            )?
            .execute((room_id, user_id, last_read_id))?;
        Ok(())
    }

    pub fn set_member_notify(&mut self, room_id: &str, user_id: &str, level: &str) -> DbResult<()> {
        self.writing()?
            .prepare_cached("UPDATE rooms.room_members SET notify = ?3 WHERE room_id = ?1 AND user_id = ?2")?
            .execute((room_id, user_id, level))?;
        Ok(())
    }

    /// A member's unread messages (others' messages after `after_id`, deleted ones aside),
    /// counted up to a bound so a huge backlog costs no more than the bound.
    pub fn room_unread(&self, room_id: &str, user_id: &str, after_id: i64) -> DbResult<i64> {
        self.conn
            .prepare_cached(
                "SELECT count(*) FROM (SELECT 1 FROM rooms.room_messages
                   WHERE room_id = ?1 AND id > ?3 AND sender_id != ?2 AND deleted_at IS NULL LIMIT ?4)",
            )?
            .query_row((room_id, user_id, after_id, UNREAD_CAP + 1), |r| r.get(0))
    }

    /// A member's unread messages that mention them, counted up to the same bound.
    pub fn room_unread_mentions(&self, room_id: &str, user_id: &str, after_id: i64) -> DbResult<i64> {
        self.conn
            .prepare_cached(
                "SELECT count(*) FROM (SELECT 1 FROM chat.mentions
                   WHERE user_id = ?2 AND room_id = ?1 AND message_id > ?3 LIMIT ?4)",
            )?
            .query_row((room_id, user_id, after_id, UNREAD_CAP + 1), |r| r.get(0))
    }

    /// The newest message id of `room_id` (0 if none).
    pub fn room_latest_id(&self, room_id: &str) -> DbResult<i64> {
        self.conn
            .prepare_cached("SELECT COALESCE(max(id), 0) FROM rooms.room_messages WHERE room_id = ?1")?
            .query_row([room_id], |r| r.get(0))
    }
}
