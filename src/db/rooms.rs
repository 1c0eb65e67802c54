//! Rooms, their members and their messages (`rooms.db`).

use super::{Db, DbResult, Page};

pub struct RoomRecord {
    pub id: String,
    pub name: String,
    pub description: String,
    pub creator_id: String,
    pub created_at: String,
}

/// A reply's quote: a copy of the quoted message's sender and text, as the seed stored it,
/// plus the quoted message's id where known.
#[derive(Clone)]
pub struct Quote {
    pub id: Option<i64>,
    pub sender_id: String,
    pub sender_name: String,
    pub text: String,
}

pub struct RoomMessage {
    pub id: i64,
    pub room_id: String,
    pub sender_id: String,
    pub sender_name: String,
    pub text: String,
    pub timestamp: String,
    pub reply_to: Option<Quote>,
}

const MESSAGE_COLUMNS: &str = "id, room_id, sender_id, sender_name, text, timestamp, \
                               reply_to_id, reply_to_sender_id, reply_to_sender_name, reply_to_text";

fn room_message(r: &rusqlite::Row) -> rusqlite::Result<RoomMessage> {
    let quoted_text: Option<String> = r.get(9)?;
    Ok(RoomMessage {
        id: r.get(0)?,
        room_id: r.get(1)?,
        sender_id: r.get(2)?,
        sender_name: r.get(3)?,
        text: r.get(4)?,
        timestamp: r.get(5)?,
        reply_to: match quoted_text {
            Some(text) => Some(Quote {
                id: r.get(6)?,
                sender_id: r.get::<_, Option<String>>(7)?.unwrap_or_default(),
                sender_name: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
                text,
            }),
            None => None,
        },
    })
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

    /// Every membership as `(room_id, user_id, last_read_id)`, in the order members were added.
    pub fn load_memberships(&self) -> DbResult<Vec<(String, String, i64)>> {
        let mut stmt =
            self.conn.prepare("SELECT room_id, user_id, last_read_id FROM rooms.room_members ORDER BY rowid")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect()
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

    /// Deletes a room with its members and messages. (The foreign keys cascade too; the
    /// explicit deletes keep it true for files where they were never declared.)
    pub fn delete_room(&mut self, room_id: &str) -> DbResult<()> {
        self.atomically(|db| {
            let conn = db.writing()?;
            conn.prepare_cached("DELETE FROM rooms.room_messages WHERE room_id = ?1")?.execute([room_id])?;
            conn.prepare_cached("DELETE FROM rooms.room_members WHERE room_id = ?1")?.execute([room_id])?;
            conn.prepare_cached("DELETE FROM rooms.rooms WHERE id = ?1")?.execute([room_id])?;
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

    pub fn insert_room_message(&mut self, m: &RoomMessage) -> DbResult<i64> {
        let conn = self.writing()?;
        let quote = m.reply_to.as_ref();
        conn.prepare_cached(
            "INSERT INTO rooms.room_messages
                 (room_id, sender_id, sender_name, text, timestamp,
                  reply_to_id, reply_to_sender_id, reply_to_sender_name, reply_to_text)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?
        .execute((
            &m.room_id,
            &m.sender_id,
            &m.sender_name,
            &m.text,
            &m.timestamp,
            quote.and_then(|q| q.id),
            quote.map(|q| &q.sender_id),
            quote.map(|q| &q.sender_name),
            quote.map(|q| &q.text),
        ))?;
        Ok(conn.last_insert_rowid())
    }

    /// Message `id` of `room_id`, if it exists in that room.
    pub fn room_message(&self, room_id: &str, id: i64) -> DbResult<Option<RoomMessage>> {
        let sql = format!("SELECT {MESSAGE_COLUMNS} FROM rooms.room_messages WHERE id = ?1 AND room_id = ?2");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query_map((id, room_id), room_message)?;
        rows.next().transpose()
    }

    /// The newest message of `room_id` sent by `sender_id` with exactly `text`: how a quote in
    /// the seed's form (a copy, no id) is checked against what was really said.
    pub fn find_room_message(&self, room_id: &str, sender_id: &str, text: &str) -> DbResult<Option<RoomMessage>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM rooms.room_messages
              WHERE room_id = ?1 AND sender_id = ?2 AND text = ?3 ORDER BY id DESC LIMIT 1"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query_map((room_id, sender_id, text), room_message)?;
        rows.next().transpose()
    }

    /// A page of `room_id`'s messages.
    pub fn room_history(&self, room_id: &str, page: Page) -> DbResult<Vec<RoomMessage>> {
        let sql = format!(
            "SELECT {MESSAGE_COLUMNS} FROM rooms.room_messages
              WHERE room_id = ?1 AND id < ?2 AND id > ?3 ORDER BY id {} LIMIT ?4",
            page.order()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows =
            stmt.query_map((room_id, page.before, page.after, page.limit), room_message)?.collect::<DbResult<_>>()?;
        Ok(page.oldest_first(rows))
    }

    /// Messages of `room_id` newer than `after_id`.
    pub fn room_count_after(&self, room_id: &str, after_id: i64) -> DbResult<i64> {
        self.conn
            .prepare_cached("SELECT count(*) FROM rooms.room_messages WHERE room_id = ?1 AND id > ?2")?
            .query_row((room_id, after_id), |r| r.get(0))
    }

    /// The newest message id of `room_id` (0 if none).
    pub fn room_latest_id(&self, room_id: &str) -> DbResult<i64> {
        self.conn
            .prepare_cached("SELECT COALESCE(max(id), 0) FROM rooms.room_messages WHERE room_id = ?1")?
            .query_row([room_id], |r| r.get(0))
    }
}
