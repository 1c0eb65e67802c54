//! Uploaded files' metadata (`chathistory.db`, table `files`): one row per upload, naming the
//! stored bytes by their content hash (several rows may share one), the conversation it was
//! uploaded to, and — once a message claims it — that message. The bytes themselves are
//! `files::Store`'s.

use super::{Db, DbResult};
use crate::identity::{Conversation, MessageRef};

/// A file row as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRow {
    pub id: i64,
    /// `None` once expired by the retention option (the row stays so the message can say so).
    pub hash: Option<String>,
    pub size: i64,
    pub mime: String,
    pub name: String,
    pub uploader: String,
    pub conversation: Conversation,
    /// `None` while pending: uploaded, not yet sent in a message.
    pub message: Option<MessageRef>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// The EXIF orientation the thumbnail applies (1–8).
    pub orientation: i64,
    pub thumb_hash: Option<String>,
    pub thumb_size: Option<i64>,
    pub thumb_mime: Option<String>,
    pub needs_thumb: bool,
    pub created_at: String,
    pub created_unix: i64,
}

/// A stored object that rows stopped referring to: `(hash, size)`.
pub type Released = Vec<(String, i64)>;

const COLUMNS: &str = "id, hash, size, mime, name, uploader, conv_kind, conv_a, conv_b, message_kind, message_id, \
                       width, height, orientation, thumb_hash, thumb_size, thumb_mime, needs_thumb, created_at, \
                       created_unix";

fn conversation_columns(c: &Conversation) -> (&'static str, &str, Option<&str>) {
    match c {
        Conversation::Private { a, b } => ("private", a, Some(b)),
        Conversation::Room(room) => ("room", room, None),
    }
}

fn message_columns(m: Option<MessageRef>) -> (Option<&'static str>, Option<i64>) {
    match m {
        Some(MessageRef::Private(id)) => (Some("private"), Some(id)),
        Some(MessageRef::Room(id)) => (Some("room"), Some(id)),
        None => (None, None),
    }
}

fn message_kind(m: MessageRef) -> (&'static str, i64) {
    match m {
        MessageRef::Private(id) => ("private", id),
        MessageRef::Room(id) => ("room", id),
    }
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<FileRow> {
    let kind: String = r.get(6)?;
    let a: String = r.get(7)?;
    let b: Option<String> = r.get(8)?;
    let conversation = match (kind.as_str(), b) {
        ("private", Some(b)) => Conversation::Private { a: a.into(), b: b.into() },
        _ => Conversation::Room(a.into()),
    };
    let message_kind: Option<String> = r.get(9)?;
    let message_id: Option<i64> = r.get(10)?;
    let message = match (message_kind.as_deref(), message_id) {
        (Some("private"), Some(id)) => Some(MessageRef::Private(id)),
        (Some("room"), Some(id)) => Some(MessageRef::Room(id)),
        _ => None,
    };
    Ok(FileRow {
        id: r.get(0)?,
        hash: r.get(1)?,
        size: r.get(2)?,
        mime: r.get(3)?,
        name: r.get(4)?,
        uploader: r.get(5)?,
        conversation,
        message,
        width: r.get(11)?,
        height: r.get(12)?,
        orientation: r.get(13)?,
        thumb_hash: r.get(14)?,
        thumb_size: r.get(15)?,
        thumb_mime: r.get(16)?,
        needs_thumb: r.get::<_, i64>(17)? != 0,
        created_at: r.get(18)?,
        created_unix: r.get(19)?,
    })
}

/// The stored objects of deleted or expired rows: each row's file and thumbnail.
pub fn released(rows: &[FileRow]) -> Released {
    let mut out = Vec::new();
    for f in rows {
        if let Some(h) = &f.hash {
            out.push((h.clone(), f.size));
        }
        if let Some(h) = &f.thumb_hash {
            out.push((h.clone(), f.thumb_size.unwrap_or(0)));
        }
    }
    out
}

impl Db {
    /// Stores a new (pending) row; its id.
    pub fn insert_file(&mut self, f: &FileRow) -> DbResult<i64> {
        let (kind, a, b) = conversation_columns(&f.conversation);
        let (message_kind, message_id) = message_columns(f.message);
        let conn = self.writing()?;
        conn.prepare_cached(
            "INSERT INTO chat.files (hash, size, mime, name, uploader, conv_kind, conv_a, conv_b, message_kind,
                 message_id, width, height, orientation, thumb_hash, thumb_size, thumb_mime, needs_thumb,
                 created_at, created_unix)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
        )?
        .execute(rusqlite::params![
            f.hash,
            f.size,
            f.mime,
            f.name,
            f.uploader,
            kind,
            a,
            b,
            message_kind,
            message_id,
            f.width,
            f.height,
            f.orientation,
            f.thumb_hash,
            f.thumb_size,
            f.thumb_mime,
            f.needs_thumb,
            f.created_at,
            f.created_unix
        ])?;
        Ok(conn.last_insert_rowid())
    }

    pub fn file(&self, id: i64) -> DbResult<Option<FileRow>> {
        let sql = format!("SELECT {COLUMNS} FROM chat.files WHERE id = ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query_map([id], row)?;
        rows.next().transpose()
    }

    /// Links pending rows to the message that carries them.
    pub fn attach_files(&mut self, ids: &[i64], message: MessageRef) -> DbResult<()> {
        let (kind, message_id) = message_kind(message);
        let conn = self.writing()?;
        let mut stmt = conn.prepare_cached(
            "UPDATE chat.files SET message_kind = ?1, message_id = ?2 WHERE id = ?3 AND message_id IS NULL",
        )?;
        for id in ids {
            stmt.execute((kind, message_id, id))?;
        }
        Ok(())
    }

    /// The rows of these messages (all of one kind), in upload order.
    pub fn files_of_messages(&self, kind: MessageKind, ids: &[i64]) -> DbResult<Vec<FileRow>> {
        let kind = match kind {
            MessageKind::Private => "private",
            MessageKind::Room => "room",
        };
        let mut out = Vec::new();
        for chunk in ids.chunks(200) {
            let marks = vec!["?"; chunk.len()].join(",");
            let sql = format!(
                "SELECT {COLUMNS} FROM chat.files WHERE message_kind = '{kind}' AND message_id IN ({marks}) ORDER BY id"
            );
            let mut stmt = self.conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(chunk.iter()), row)?;
            for r in rows {
                out.push(r?);
            }
        }
        Ok(out)
    }

    /// Applies `change` (a `DELETE` or `UPDATE` of `chat.files`, without its `WHERE`) to the
    /// rows matching `condition`; returns those rows as they were before.
    fn change_where(
        &mut self,
        change: &str,
        condition: &str,
        params: impl rusqlite::Params + Copy,
    ) -> DbResult<Vec<FileRow>> {
        let select = format!("SELECT {COLUMNS} FROM chat.files WHERE {condition}");
        let rows: Vec<FileRow> = {
            let conn = self.writing()?;
            let mut stmt = conn.prepare_cached(&select)?;
            stmt.query_map(params, row)?.collect::<DbResult<_>>()?
        };
        if !rows.is_empty() {
            self.writing()?.prepare_cached(&format!("{change} WHERE {condition}"))?.execute(params)?;
        }
        Ok(rows)
    }

    fn delete_where(&mut self, condition: &str, params: impl rusqlite::Params + Copy) -> DbResult<Vec<FileRow>> {
        self.change_where("DELETE FROM chat.files", condition, params)
    }

    /// Clears the bytes of the rows matching `condition` (hash and thumbnail), keeping the
    /// rows.
    fn clear_where(&mut self, condition: &str, params: impl rusqlite::Params + Copy) -> DbResult<Vec<FileRow>> {
        let clear = "UPDATE chat.files SET hash = NULL, thumb_hash = NULL, thumb_size = NULL, needs_thumb = 0";
        self.change_where(clear, condition, params)
    }

    /// Deletes a message's rows.
    pub fn delete_files_of_message(&mut self, message: MessageRef) -> DbResult<Vec<FileRow>> {
        let (kind, id) = message_kind(message);
        self.delete_where("message_kind = ?1 AND message_id = ?2", (kind, id))
    }

    /// Deletes a pending row.
    pub fn delete_pending_file(&mut self, id: i64) -> DbResult<Vec<FileRow>> {
        self.delete_where("id = ?1 AND message_id IS NULL", [id])
    }

    /// Deletes a room's rows.
    pub fn delete_files_of_room(&mut self, room: &str) -> DbResult<Vec<FileRow>> {
        self.delete_where("conv_kind = 'room' AND conv_a = ?1", [room])
    }

    /// An account goes: its pending uploads are deleted, and the files it sent lose their bytes
    /// but keep their rows, so the messages that carried them say the file is no longer kept
    /// instead of showing an empty attachment. Returns the rows as they were.
    pub fn delete_files_of_uploader(&mut self, user: &str) -> DbResult<Vec<FileRow>> {
        let mut rows = self.delete_where("uploader = ?1 AND message_id IS NULL", [user])?;
        rows.extend(self.clear_where("uploader = ?1 AND hash IS NOT NULL", [user])?);
        Ok(rows)
    }

    /// Deletes up to `limit` pending rows created before `before` (Unix seconds).
    pub fn expire_pending(&mut self, before: i64, limit: u32) -> DbResult<Vec<FileRow>> {
        self.delete_where(
            "id IN (SELECT id FROM chat.files WHERE message_id IS NULL AND created_unix < ?1 ORDER BY created_unix LIMIT ?2)",
            (before, limit),
        )
    }

    /// Expires up to `limit` attached rows created before `before`: their bytes go, the row
    /// stays (hash and thumbnail cleared) so the message can say the file is no longer kept.
    pub fn expire_retained(&mut self, before: i64, limit: u32) -> DbResult<Vec<FileRow>> {
        self.clear_where(
            "id IN (SELECT id FROM chat.files WHERE hash IS NOT NULL AND created_unix < ?1 ORDER BY created_unix LIMIT ?2)",
            (before, limit),
        )
    }

    /// Whether any row refers to this object (as a file or as a thumbnail).
    pub fn object_referenced(&self, hash: &str) -> DbResult<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM chat.files WHERE hash = ?1)
                     OR EXISTS(SELECT 1 FROM chat.files WHERE thumb_hash = ?1)",
            )?
            .query_row([hash], |r| r.get(0))
    }

    /// Records a made thumbnail; `false` if the row is gone.
    pub fn set_thumbnail(&mut self, id: i64, hash: &str, size: i64, mime: &str) -> DbResult<bool> {
        let n = self
            .writing()?
            .prepare_cached(
                "UPDATE chat.files SET thumb_hash = ?2, thumb_size = ?3, thumb_mime = ?4, needs_thumb = 0
                  WHERE id = ?1 AND hash IS NOT NULL",
            )?
            .execute((id, hash, size, mime))?;
        Ok(n > 0)
    }

    /// A thumbnail that could not be made is not asked for again.
    pub fn give_up_thumbnail(&mut self, id: i64) -> DbResult<()> {
        self.writing()?.prepare_cached("UPDATE chat.files SET needs_thumb = 0 WHERE id = ?1")?.execute([id])?;
        Ok(())
    }

    /// Up to `limit` rows whose thumbnail is wanted and missing.
    pub fn files_missing_thumbnails(&self, limit: u32) -> DbResult<Vec<FileRow>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM chat.files WHERE needs_thumb = 1 AND thumb_hash IS NULL AND hash IS NOT NULL LIMIT ?1"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        stmt.query_map([limit], row)?.collect()
    }

    /// Bytes and rows per uploader (at start; the hub keeps them up to date after).
    pub fn file_usage(&self) -> DbResult<Vec<(String, i64, i64)>> {
        let mut stmt = self.conn.prepare(
            "SELECT uploader, COALESCE(sum(size), 0), count(*) FROM chat.files WHERE hash IS NOT NULL GROUP BY uploader",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect()
    }

    /// Bytes of distinct stored objects, files and thumbnails (at start).
    pub fn stored_bytes(&self) -> DbResult<i64> {
        self.conn.query_row(
            "SELECT COALESCE((SELECT sum(size) FROM (SELECT max(size) size FROM chat.files
                                                      WHERE hash IS NOT NULL GROUP BY hash)), 0)
                  + COALESCE((SELECT sum(size) FROM (SELECT max(thumb_size) size FROM chat.files
                                                      WHERE thumb_hash IS NOT NULL GROUP BY thumb_hash)), 0)",
            [],
            |r| r.get(0),
        )
    }
}

/// Which table a batch of message ids belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Private,
    Room,
}

/// `chat` schema step: the `files` table and its indexes.
pub(super) fn migrate(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE chat.files (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             hash TEXT,
             size INTEGER NOT NULL,
             mime TEXT NOT NULL,
             name TEXT NOT NULL,
             uploader TEXT NOT NULL,
             conv_kind TEXT NOT NULL,
             conv_a TEXT NOT NULL,
             conv_b TEXT,
             message_kind TEXT,
             message_id INTEGER,
             width INTEGER,
             height INTEGER,
             orientation INTEGER NOT NULL DEFAULT 1,
             thumb_hash TEXT,
             thumb_size INTEGER,
             thumb_mime TEXT,
             needs_thumb INTEGER NOT NULL DEFAULT 0,
             created_at TEXT NOT NULL,
             created_unix INTEGER NOT NULL
         );
         CREATE INDEX chat.files_hash ON files (hash) WHERE hash IS NOT NULL;
         CREATE INDEX chat.files_thumb ON files (thumb_hash) WHERE thumb_hash IS NOT NULL;
         CREATE INDEX chat.files_message ON files (message_kind, message_id) WHERE message_id IS NOT NULL;
         CREATE INDEX chat.files_pending ON files (created_unix) WHERE message_id IS NULL;
         CREATE INDEX chat.files_created ON files (created_unix) WHERE hash IS NOT NULL;
         CREATE INDEX chat.files_uploader ON files (uploader);
         CREATE INDEX chat.files_conversation ON files (conv_kind, conv_a);
         CREATE INDEX chat.files_missing_thumb ON files (id) WHERE needs_thumb = 1;",
    )
}
