//! Messages of both kinds, as one thing: private messages (`chathistory.db`, the seed's
//! `messages`) and room messages (`rooms.db`, the seed's `room_messages`) keep their tables,
//! and everything done to a message — store, page through, edit, delete, react, index for
//! search — is written once here over a [`MessageRef`] or a [`Thread`].

use super::{Db, DbResult, Page};
use crate::identity::MessageRef;
use rusqlite::{OptionalExtension, Row};

/// The conversation a page of messages comes from, ids as stored.
#[derive(Debug, Clone, Copy)]
pub enum Thread<'a> {
    Private(&'a str, &'a str),
    Room(&'a str),
}

/// A reply's quote: the quoted message's current sender and text where its id is known, else
/// the copy the seed stored with the reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub id: Option<i64>,
    pub sender_id: String,
    /// Room rows carry the name; a private quote is named by the hub.
    pub sender_name: Option<String>,
    pub text: String,
    pub deleted: bool,
}

/// A stored message of either kind.
#[derive(Debug, Clone)]
pub struct StoredMessage {
    pub id: MessageRef,
    pub sender_id: String,
    /// Room rows carry the sender's name as it was; private rows are named by the hub.
    pub sender_name: Option<String>,
    /// The receiver (private) or the room (room).
    pub to: String,
    pub text: String,
    /// Full ISO-8601 for rows we wrote; `HH:MM` for rows the original app wrote.
    pub timestamp: String,
    /// Private only: the receiver has read it.
    pub read: bool,
    pub quote: Option<Quote>,
    pub edited_at: Option<String>,
    pub deleted: bool,
    pub client_id: Option<String>,
    pub seq: i64,
    /// Room messages of bots: the alert's data as stored (JSON).
    pub alert: Option<String>,
}

/// A message to store.
pub struct NewMessage<'a> {
    pub thread: Thread<'a>,
    pub sender_id: &'a str,
    pub sender_name: &'a str,
    pub text: &'a str,
    pub timestamp: &'a str,
    pub reply: Option<&'a Quote>,
    pub client_id: Option<&'a str>,
    pub seq: i64,
    /// Room messages of bots: the alert's data (JSON), and the key of an alert left open.
    pub alert: Option<&'a str>,
    pub alert_key: Option<&'a str>,
}

const PRIVATE_COLUMNS: &str = "m.id, COALESCE(m.sender, ''), NULL, COALESCE(m.receiver, ''), COALESCE(m.text, ''), \
     COALESCE(m.timestamp, ''), COALESCE(m.read, 0), \
     m.reply_to_id, q.sender, NULL, q.text, q.deleted_at IS NOT NULL, \
     m.edited_at, m.deleted_at IS NOT NULL, m.client_id, m.seq, NULL \
     FROM chat.messages m LEFT JOIN chat.messages q ON q.id = m.reply_to_id";

const ROOM_COLUMNS: &str = "m.id, m.sender_id, m.sender_name, m.room_id, m.text, m.timestamp, 0, \
     m.reply_to_id, COALESCE(q.sender_id, m.reply_to_sender_id), COALESCE(q.sender_name, m.reply_to_sender_name), \
     CASE WHEN q.id IS NOT NULL THEN q.text ELSE m.reply_to_text END, q.deleted_at IS NOT NULL, \
     m.edited_at, m.deleted_at IS NOT NULL, m.client_id, m.seq, m.alert \
     FROM rooms.room_messages m LEFT JOIN rooms.room_messages q ON q.id = m.reply_to_id";

fn row(room: bool) -> impl Fn(&Row) -> rusqlite::Result<StoredMessage> {
    move |r| {
        let id: i64 = r.get(0)?;
        let quote_id: Option<i64> = r.get(7)?;
        let quote_text: Option<String> = r.get(10)?;
        let quote = match (quote_id, quote_text) {
            (None, None) => None,
            (id, text) => Some(Quote {
                id,
                sender_id: r.get::<_, Option<String>>(8)?.unwrap_or_default(),
                sender_name: r.get(9)?,
                text: text.unwrap_or_default(),
                deleted: r.get(11)?,
            }),
        };
        Ok(StoredMessage {
            id: if room { MessageRef::Room(id) } else { MessageRef::Private(id) },
            sender_id: r.get(1)?,
            sender_name: r.get(2)?,
            to: r.get(3)?,
            text: r.get(4)?,
            timestamp: r.get(5)?,
            read: r.get::<_, i64>(6)? != 0,
            quote,
            edited_at: r.get(12)?,
            deleted: r.get(13)?,
            client_id: r.get(14)?,
            seq: r.get(15)?,
            alert: r.get(16)?,
        })
    }
}

/// The search index's rowid of a message.
fn search_rowid(id: MessageRef) -> i64 {
    match id {
        MessageRef::Private(id) => 2 * id,
        MessageRef::Room(id) => 2 * id + 1,
    }
}

/// The message a search index rowid stands for.
fn from_search_rowid(rowid: i64) -> MessageRef {
    if rowid % 2 == 0 { MessageRef::Private(rowid / 2) } else { MessageRef::Room(rowid / 2) }
}

/// `(in_room, id)` as the reactions table keys a message.
fn reaction_key(id: MessageRef) -> (i64, i64) {
    match id {
        MessageRef::Private(id) => (0, id),
        MessageRef::Room(id) => (1, id),
    }
}

/// How far back a quote in the seed's form (a copy, no id) is looked for among the quoted
/// sender's messages in the room: a bounded index range, not a scan of the room.
const QUOTE_LOOKBACK: i64 = 1000;

impl Db {
    /// Stores a message; returns its id.
    pub fn insert_message(&mut self, m: &NewMessage) -> DbResult<MessageRef> {
        let conn = self.writing()?;
        let id =
            match m.thread {
                Thread::Private(sender, receiver) => {
                    conn.prepare_cached(
                    "INSERT INTO chat.messages (sender, receiver, text, timestamp, read, reply_to_id, client_id, seq)
                     VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?7)",
                )?
                .execute((sender, receiver, m.text, m.timestamp, m.reply.and_then(|q| q.id), m.client_id, m.seq))?;
                    MessageRef::Private(conn.last_insert_rowid())
                }
                Thread::Room(room) => {
                    let quote = m.reply;
                    conn.prepare_cached(
                        "INSERT INTO rooms.room_messages
                         (room_id, sender_id, sender_name, text, timestamp,
                          reply_to_id, reply_to_sender_id, reply_to_sender_name, reply_to_text, client_id, seq,
                          alert, alert_key)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                    )?
                    .execute((
                        room,
                        m.sender_id,
                        m.sender_name,
                        m.text,
                        m.timestamp,
                        quote.and_then(|q| q.id),
                        quote.map(|q| &q.sender_id),
                        quote.and_then(|q| q.sender_name.as_ref()),
                        quote.map(|q| &q.text),
                        m.client_id,
                        m.seq,
                        m.alert,
                        m.alert_key,
                    ))?;
                    MessageRef::Room(conn.last_insert_rowid())
                }
            };
        self.index_text(id, m.text)?;
        crate::metrics::MESSAGES_STORED[usize::from(matches!(id, MessageRef::Room(_)))].inc();
        Ok(id)
    }

    /// One message, if it exists.
    pub fn message(&self, id: MessageRef) -> DbResult<Option<StoredMessage>> {
        let (sql, key, room) = match id {
            MessageRef::Private(id) => (format!("SELECT {PRIVATE_COLUMNS} WHERE m.id = ?1"), id, false),
            MessageRef::Room(id) => (format!("SELECT {ROOM_COLUMNS} WHERE m.id = ?1"), id, true),
        };
        self.conn.prepare_cached(&sql)?.query_row([key], row(room)).optional()
    }

    /// The message `sender` sent with `client_id` in `thread`, if any: a resend.
    pub fn message_by_client_id(
        &self,
        thread: Thread,
        sender: &str,
        client_id: &str,
    ) -> DbResult<Option<StoredMessage>> {
        let (sql, room) = match thread {
            Thread::Private(..) => {
                (format!("SELECT {PRIVATE_COLUMNS} WHERE m.sender = ?1 AND m.client_id = ?2"), false)
            }
            Thread::Room(_) => (format!("SELECT {ROOM_COLUMNS} WHERE m.sender_id = ?1 AND m.client_id = ?2"), true),
        };
        self.conn.prepare_cached(&sql)?.query_row((sender, client_id), row(room)).optional()
    }

    /// The newest message of `room` sent by `sender_id` with exactly `text`, among that
    /// sender's latest [`QUOTE_LOOKBACK`] there: how a quote in the seed's form (a copy, no id)
    /// is checked against what was really said.
    pub fn find_quoted(&self, room: &str, sender_id: &str, text: &str) -> DbResult<Option<StoredMessage>> {
        let sql = format!(
            "SELECT {ROOM_COLUMNS} WHERE m.id IN (
                 SELECT id FROM rooms.room_messages WHERE room_id = ?1 AND sender_id = ?2
                  ORDER BY id DESC LIMIT {QUOTE_LOOKBACK})
               AND m.text = ?3 AND m.deleted_at IS NULL
             ORDER BY m.id DESC LIMIT 1"
        );
        self.conn.prepare_cached(&sql)?.query_row((room, sender_id, text), row(true)).optional()
    }

    /// A page of a conversation, oldest first (a `Changed` page: in change order).
    pub fn messages(&self, thread: Thread, page: Page) -> DbResult<Vec<StoredMessage>> {
        match page {
            Page::Range { before, after, limit } => {
                let descending = after == 0;
                let ids = self.thread_ids(thread, "id < ?3 AND id > ?4", before, after, limit, descending, "id")?;
                let mut rows = self.rows_by_id(thread, &ids)?;
                rows.sort_by_key(|m| m.id);
                Ok(rows)
            }
            Page::Around { id, limit } => {
                let older = self.thread_ids(thread, "id < ?3 AND id > ?4", id, 0, limit / 2, true, "id")?;
                let newer =
                    self.thread_ids(thread, "id < ?3 AND id > ?4", i64::MAX, id - 1, limit - limit / 2, false, "id")?;
                let ids: Vec<i64> = older.into_iter().chain(newer).collect();
                let mut rows = self.rows_by_id(thread, &ids)?;
                rows.sort_by_key(|m| m.id);
                Ok(rows)
            }
            Page::Changed { seq, limit } => {
                // `seq > 0` is spelled out so the partial index on changes can be used.
                let ids = self.thread_ids(thread, "seq > ?3 AND seq > 0 AND ?4 = 0", seq, 0, limit, false, "seq")?;
                let mut rows = self.rows_by_id(thread, &ids)?;
                rows.sort_by_key(|m| m.seq);
                Ok(rows)
            }
        }
    }

    /// Ids of a conversation's messages matching `condition` (over `?3`, `?4`), ordered by
    /// `order`, at most `limit`.
    #[allow(clippy::too_many_arguments)]
    fn thread_ids(
        &self,
        thread: Thread,
        condition: &str,
        p3: i64,
        p4: i64,
        limit: u32,
        descending: bool,
        order: &str,
    ) -> DbResult<Vec<i64>> {
        let direction = if descending { "DESC" } else { "ASC" };
        let (sql, a, b) = match thread {
            // Two index range scans (one per direction) instead of an OR the planner may not split.
            Thread::Private(a, b) => (
                format!(
                    "SELECT id FROM (
                         SELECT id, seq FROM chat.messages WHERE sender = ?1 AND receiver = ?2 AND {condition}
                         UNION ALL
                         SELECT id, seq FROM chat.messages WHERE sender = ?2 AND receiver = ?1 AND {condition} AND ?1 != ?2
                     ) ORDER BY {order} {direction} LIMIT ?5"
                ),
                a,
                b,
            ),
            Thread::Room(room) => (
                format!(
                    "SELECT id FROM rooms.room_messages WHERE room_id = ?1 AND ?2 = ?2 AND {condition}
                      ORDER BY {order} {direction} LIMIT ?5"
                ),
                room,
                room,
            ),
        };
        self.conn.prepare_cached(&sql)?.query_map((a, b, p3, p4, limit), |r| r.get(0))?.collect()
    }

    fn rows_by_id(&self, thread: Thread, ids: &[i64]) -> DbResult<Vec<StoredMessage>> {
        let (sql, room) = match thread {
            Thread::Private(..) => (format!("SELECT {PRIVATE_COLUMNS} WHERE m.id = ?1"), false),
            Thread::Room(_) => (format!("SELECT {ROOM_COLUMNS} WHERE m.id = ?1"), true),
        };
        let mut stmt = self.conn.prepare_cached(&sql)?;
        ids.iter().map(|id| stmt.query_row([id], row(room))).collect()
    }

    /// Replaces a message's text (the index follows).
    pub fn edit_message(&mut self, id: MessageRef, text: &str, edited_at: &str, seq: i64) -> DbResult<()> {
        let conn = self.writing()?;
        match id {
            MessageRef::Private(id) => conn
                .prepare_cached("UPDATE chat.messages SET text = ?2, edited_at = ?3, seq = ?4 WHERE id = ?1")?
                .execute((id, text, edited_at, seq))?,
            MessageRef::Room(id) => conn
                .prepare_cached("UPDATE rooms.room_messages SET text = ?2, edited_at = ?3, seq = ?4 WHERE id = ?1")?
                .execute((id, text, edited_at, seq))?,
        };
        self.unindex(id)?;
        self.index_text(id, text)
    }

    /// Makes a message a tombstone: its text, the copies of it in replies (the seed's quote
    /// columns), its reactions, mentions and index entry are gone; the row keeps its place.
    pub fn delete_message(&mut self, id: MessageRef, deleted_at: &str, seq: i64) -> DbResult<()> {
        self.atomically(|db| {
            let conn = db.writing()?;
            match id {
                MessageRef::Private(id) => {
                    conn.prepare_cached(
                        "UPDATE chat.messages SET text = '', deleted_at = ?2, edited_at = NULL, seq = ?3 WHERE id = ?1",
                    )?
                    .execute((id, deleted_at, seq))?;
                }
                MessageRef::Room(id) => {
                    conn.prepare_cached(
                        "UPDATE rooms.room_messages SET text = '', deleted_at = ?2, edited_at = NULL, seq = ?3,
                                alert_key = NULL
                          WHERE id = ?1",
                    )?
                    .execute((id, deleted_at, seq))?;
                    conn.prepare_cached("UPDATE rooms.room_messages SET reply_to_text = '' WHERE reply_to_id = ?1")?
                        .execute([id])?;
                    conn.prepare_cached("DELETE FROM chat.mentions WHERE room_id = (SELECT room_id FROM rooms.room_messages WHERE id = ?1) AND message_id = ?1")?
                        .execute([id])?;
                }
            }
            let (in_room, key) = reaction_key(id);
            conn.prepare_cached("DELETE FROM chat.reactions WHERE in_room = ?1 AND message_id = ?2")?
                .execute((in_room, key))?;
            db.unindex(id)
        })
    }

    /// Marks a message changed (a reaction came or went).
    pub fn touch_message(&mut self, id: MessageRef, seq: i64) -> DbResult<()> {
        let conn = self.writing()?;
        match id {
            MessageRef::Private(id) => {
                conn.prepare_cached("UPDATE chat.messages SET seq = ?2 WHERE id = ?1")?.execute((id, seq))?
            }
            MessageRef::Room(id) => {
                conn.prepare_cached("UPDATE rooms.room_messages SET seq = ?2 WHERE id = ?1")?.execute((id, seq))?
            }
        };
        Ok(())
    }

    /// The highest change number given so far (0 for an install that never had one).
    pub fn latest_seq(&self) -> DbResult<i64> {
        // `seq > 0` lets SQLite read the partial `*_changed` indexes, which hold only the
        // messages ever changed, instead of scanning every message.
        self.conn.query_row(
            "SELECT max(COALESCE((SELECT max(seq) FROM chat.messages WHERE seq > 0), 0),
                        COALESCE((SELECT max(seq) FROM rooms.room_messages WHERE seq > 0), 0))",
            [],
            |r| r.get(0),
        )
    }

    /// Indexes a message's text for search, at the batch's commit (see `Db::flush_index`).
    fn index_text(&mut self, id: MessageRef, text: &str) -> DbResult<()> {
        if text.is_empty() {
            return Ok(());
        }
        self.writing()?;
        self.pending_index.push(super::IndexChange::Add(search_rowid(id), text.to_string()));
        Ok(())
    }

    fn unindex(&mut self, id: MessageRef) -> DbResult<()> {
        self.writing()?;
        self.pending_index.push(super::IndexChange::Remove(search_rowid(id)));
        Ok(())
    }

    /// Adds `user`'s reaction, or takes it back if it was there; `true` if added.
    pub fn toggle_reaction(&mut self, id: MessageRef, emoji: &str, user: &str, now: &str) -> DbResult<bool> {
        let (in_room, key) = reaction_key(id);
        let conn = self.writing()?;
        let removed = conn
            .prepare_cached(
                "DELETE FROM chat.reactions WHERE in_room = ?1 AND message_id = ?2 AND emoji = ?3 AND user_id = ?4",
            )?
            .execute((in_room, key, emoji, user))?;
        if removed > 0 {
            return Ok(false);
        }
        conn.prepare_cached(
            "INSERT INTO chat.reactions (in_room, message_id, emoji, user_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute((in_room, key, emoji, user, now))?;
        Ok(true)
    }

    /// A message's reactions as `(emoji, user_id)`, in the order they were given.
    pub fn reactions(&self, id: MessageRef) -> DbResult<Vec<(String, String)>> {
        let (in_room, key) = reaction_key(id);
        self.conn
            .prepare_cached(
                "SELECT emoji, user_id FROM chat.reactions WHERE in_room = ?1 AND message_id = ?2 ORDER BY created_at",
            )?
            .query_map((in_room, key), |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect()
    }

    /// Records who a room message mentions.
    pub fn set_mentions(&mut self, room: &str, message_id: i64, users: &[&str]) -> DbResult<()> {
        let conn = self.writing()?;
        conn.prepare_cached("DELETE FROM chat.mentions WHERE room_id = ?1 AND message_id = ?2")?
            .execute((room, message_id))?;
        let mut insert = conn
            .prepare_cached("INSERT OR IGNORE INTO chat.mentions (user_id, room_id, message_id) VALUES (?1, ?2, ?3)")?;
        for user in users {
            insert.execute((user, room, message_id))?;
        }
        Ok(())
    }

    /// Who a room message mentions.
    pub fn mentions(&self, room: &str, message_id: i64) -> DbResult<Vec<String>> {
        self.conn
            .prepare_cached("SELECT user_id FROM chat.mentions WHERE room_id = ?1 AND message_id = ?2")?
            .query_map((room, message_id), |r| r.get(0))?
            .collect()
    }

    /// Messages of `user`'s conversations matching `query` (FTS5 syntax, already made safe),
    /// best first: `(message, snippet)`. Only conversations `user` is in: private messages
    /// they sent or received, and messages of `rooms`.
    /// (What the open batch indexed is written at its commit, so a search sees it after.)
    pub fn search(&self, user: &str, rooms: &[&str], query: &str, limit: u32) -> DbResult<Vec<(MessageRef, String)>> {
        // Rooms are passed as one JSON array, so the statement is the same for every caller.
        let rooms = serde_json::to_string(rooms).unwrap_or_else(|_| "[]".into());
        let sql = "SELECT s.rowid, snippet(message_search, 0, char(57344), char(57345), '…', 16)
                     FROM chat.message_search s
                    WHERE message_search MATCH ?1
                      AND (
                        (s.rowid % 2 = 0 AND EXISTS (
                            SELECT 1 FROM chat.messages m
                             WHERE m.id = s.rowid / 2 AND (m.sender = ?2 OR m.receiver = ?2)))
                        OR
                        (s.rowid % 2 = 1 AND EXISTS (
                            SELECT 1 FROM rooms.room_messages r
                             WHERE r.id = s.rowid / 2 AND r.room_id IN (SELECT value FROM json_each(?3))))
                      )
                    ORDER BY rank LIMIT ?4";
        self.conn
            .prepare_cached(sql)?
            .query_map((query, user, rooms, limit), |r| Ok((from_search_rowid(r.get(0)?), r.get(1)?)))?
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Db {
        let mut db = Db::open_in_memory().unwrap();
        for room in ["r", "r1", "r2"] {
            let record = super::super::RoomRecord {
                id: room.into(),
                name: room.into(),
                description: String::new(),
                creator_id: "a".into(),
                created_at: "t".into(),
            };
            db.insert_room(&record).unwrap();
        }
        db
    }

    fn new<'a>(thread: Thread<'a>, sender: &'a str, text: &'a str, seq: i64) -> NewMessage<'a> {
        NewMessage {
            thread,
            sender_id: sender,
            sender_name: sender,
            text,
            timestamp: "2026-12-01T00:00:00.000Z",
            reply: None,
            client_id: None,
            seq,
            alert: None,
            alert_key: None,
        }
    }

    #[test]
    fn pages_of_both_kinds_and_changes_since() {
        let mut db = db();
        let pair = Thread::Private("a", "b");
        let back = Thread::Private("b", "a");
        let mut ids = Vec::new();
        for i in 0..6 {
            let thread = if i % 2 == 0 { pair } else { back };
            ids.push(db.insert_message(&new(thread, if i % 2 == 0 { "a" } else { "b" }, "hi", i + 1)).unwrap());
        }
        db.insert_message(&new(Thread::Private("a", "c"), "a", "other chat", 7)).unwrap();
        let all = db.messages(pair, Page::Range { before: i64::MAX, after: 0, limit: 50 }).unwrap();
        assert_eq!(all.iter().map(|m| m.id).collect::<Vec<_>>(), ids);
        let last_two = db.messages(back, Page::Range { before: i64::MAX, after: 0, limit: 2 }).unwrap();
        assert_eq!(last_two.iter().map(|m| m.id).collect::<Vec<_>>(), ids[4..]);
        let MessageRef::Private(third) = ids[2] else { panic!() };
        let around = db.messages(pair, Page::Around { id: third, limit: 4 }).unwrap();
        assert_eq!(around.iter().map(|m| m.id).collect::<Vec<_>>(), ids[..4].to_vec());
        db.edit_message(ids[0], "edited", "later", 8).unwrap();
        let changed = db.messages(pair, Page::Changed { seq: 4, limit: 50 }).unwrap();
        assert_eq!(changed.iter().map(|m| m.id).collect::<Vec<_>>(), vec![ids[4], ids[5], ids[0]]);
        assert_eq!(changed[2].text, "edited");
        assert_eq!(db.latest_seq().unwrap(), 8);
    }

    #[test]
    fn a_deleted_message_is_gone_from_replies_reactions_and_the_index() {
        let mut db = db();
        let room = Thread::Room("r");
        let original = db.insert_message(&new(room, "a", "secret plans", 1)).unwrap();
        let MessageRef::Room(oid) = original else { panic!() };
        let quote = Quote {
            id: Some(oid),
            sender_id: "a".into(),
            sender_name: Some("a".into()),
            text: "secret plans".into(),
            deleted: false,
        };
        let mut reply = new(room, "b", "what plans?", 2);
        reply.reply = Some(&quote);
        let reply = db.insert_message(&reply).unwrap();
        assert!(db.toggle_reaction(original, "👍", "b", "now").unwrap());
        db.set_mentions("r", oid, &["b"]).unwrap();
        db.commit().unwrap(); // the index is written at the commit
        assert_eq!(db.search("b", &["r"], "secret", 10).unwrap().len(), 1);
        db.delete_message(original, "now", 3).unwrap();
        let gone = db.message(original).unwrap().unwrap();
        assert!(gone.deleted && gone.text.is_empty());
        let quoted = db.message(reply).unwrap().unwrap().quote.unwrap();
        assert!(quoted.deleted && quoted.text.is_empty(), "{quoted:?}");
        assert!(db.reactions(original).unwrap().is_empty());
        assert!(db.mentions("r", oid).unwrap().is_empty());
        db.commit().unwrap(); // the index is written at the commit
        assert!(db.search("b", &["r"], "secret", 10).unwrap().is_empty());
        let copies: i64 = db
            .conn
            .query_row("SELECT count(*) FROM rooms.room_messages WHERE reply_to_text LIKE '%secret%'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(copies, 0, "the seed's quote copy is gone too");
    }

    #[test]
    fn search_sees_only_the_callers_conversations() {
        let mut db = db();
        db.insert_message(&new(Thread::Private("a", "b"), "a", "the blue boat", 1)).unwrap();
        db.insert_message(&new(Thread::Private("c", "d"), "c", "the blue house", 2)).unwrap();
        db.insert_message(&new(Thread::Room("r1"), "c", "blue skies", 3)).unwrap();
        db.insert_message(&new(Thread::Room("r2"), "c", "blue moon", 4)).unwrap();
        db.commit().unwrap(); // the index is written at the commit
        let hits = db.search("b", &["r1"], "\"blue\"", 10).unwrap();
        let found: Vec<_> = hits.iter().map(|(id, _)| *id).collect();
        assert_eq!(found.len(), 2, "{hits:?}");
        assert!(found.contains(&MessageRef::Private(1)) && found.contains(&MessageRef::Room(1)));
        assert!(hits.iter().all(|(_, s)| s.contains("\u{E000}blue\u{E001}")), "{hits:?}");
        // Russian, and diacritics folded.
        db.insert_message(&new(Thread::Private("a", "b"), "a", "Привет, café", 5)).unwrap();
        db.commit().unwrap(); // the index is written at the commit
        assert_eq!(db.search("a", &[], "\"привет\"", 10).unwrap().len(), 1);
        db.commit().unwrap(); // the index is written at the commit
        assert_eq!(db.search("a", &[], "\"cafe\"", 10).unwrap().len(), 1);
    }

    #[test]
    fn reactions_toggle() {
        let mut db = db();
        let id = db.insert_message(&new(Thread::Private("a", "b"), "a", "hi", 1)).unwrap();
        assert!(db.toggle_reaction(id, "👍", "b", "t1").unwrap());
        assert!(db.toggle_reaction(id, "❤️", "a", "t2").unwrap());
        assert_eq!(db.reactions(id).unwrap(), vec![("👍".into(), "b".into()), ("❤️".into(), "a".into())]);
        assert!(!db.toggle_reaction(id, "👍", "b", "t3").unwrap());
        assert_eq!(db.reactions(id).unwrap().len(), 1);
        // Room and private ids do not mix.
        assert!(db.reactions(MessageRef::Room(1)).unwrap().is_empty());
    }
}
