//! Schema versions, one `PRAGMA user_version` per file, and the steps between them.
//!
//! Version 0 is the seed's schema exactly (or an empty file). Every step is additive: new
//! tables, new columns, indexes, and the in-place repair of legacy rows. All pending steps of
//! all three files run in one transaction; a file newer than this binary is refused.

use super::OpenError;
use rusqlite::Connection;
use std::path::Path;

type Step = fn(&Connection) -> rusqlite::Result<()>;

/// A file, its schema name in the connection, and the steps that build it: `steps[i]` takes
/// it from version `i` to `i + 1`, so the newest version this binary knows is `steps.len()`.
struct FileSchema {
    schema: &'static str,
    file: &'static str,
    steps: &'static [Step],
}

impl FileSchema {
    fn known(&self) -> i64 {
        self.steps.len() as i64
    }

    fn version(&self, conn: &Connection) -> rusqlite::Result<i64> {
        conn.query_row(&format!("PRAGMA {}.user_version", self.schema), [], |r| r.get(0))
    }
}

/// In migration order: users.db first, because the chat history step maps user names to
/// ids through it.
const SCHEMAS: [FileSchema; 3] = [
    FileSchema { schema: "main", file: "users.db", steps: &[users_v1, super::push::create_tables] },
    FileSchema { schema: "chat", file: "chathistory.db", steps: &[chat_v1] },
    FileSchema { schema: "rooms", file: "rooms.db", steps: &[rooms_v1] },
];

/// Each file with the version it has now.
fn versions(conn: &Connection) -> rusqlite::Result<Vec<(&'static FileSchema, i64)>> {
    SCHEMAS.iter().map(|f| Ok((f, f.version(conn)?))).collect()
}

pub fn run(conn: &Connection) -> Result<(), OpenError> {
    let versions = versions(conn)?;
    if let Some((f, found)) = versions.iter().find(|(f, v)| *v > f.known()) {
        return Err(OpenError::TooNew { file: f.file, found: *found, known: f.known() });
    }
    if versions.iter().all(|(f, v)| *v == f.known()) {
        return Ok(());
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let result = (|| {
        for (f, found) in &versions {
            for (i, step) in f.steps.iter().enumerate().skip(*found as usize) {
                log::info!("migrating {} from schema version {i} to {}", f.file, i + 1);
                step(conn)?;
                conn.execute_batch(&format!("PRAGMA {}.user_version = {}", f.schema, i + 1))?;
            }
        }
        conn.execute_batch("COMMIT")
    })();
    if result.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    Ok(result?)
}

/// Before the first migration of files that hold data (an install of the original app),
/// copies them to `DIR/pre-migration/`, so the upgrade can always be undone by hand.
pub fn backup_before_migrating(conn: &Connection, dir: &Path) -> Result<(), OpenError> {
    let legacy: i64 =
        conn.query_row("SELECT count(*) FROM main.sqlite_master WHERE name = 'users'", [], |r| r.get(0))?;
    let outdated = versions(conn)?.iter().any(|(f, v)| *v < f.known());
    if legacy == 0 || !outdated {
        return Ok(());
    }
    let target = dir.join("pre-migration");
    if target.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(&target).map_err(|e| OpenError::Io(target.clone(), e))?;
    for f in &SCHEMAS {
        let dest = target.join(f.file);
        let dest = dest.to_string_lossy();
        conn.execute(&format!("VACUUM {} INTO ?1", f.schema), [dest.as_ref()])?;
    }
    log::info!("copied the unmigrated files to {}", target.display());
    Ok(())
}

/// Unicode-aware case folding of user names, for case-insensitive uniqueness and lookup.
pub fn fold_name(name: &str) -> String {
    name.to_lowercase()
}

fn users_v1(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS main.users (
             id TEXT PRIMARY KEY,
             name TEXT UNIQUE,
             password_hash TEXT,
             online INTEGER
         );
         ALTER TABLE main.users ADD COLUMN name_folded TEXT;
         CREATE INDEX main.users_name_folded ON users (name_folded);
         CREATE TABLE main.sessions (
             token_hash BLOB PRIMARY KEY,
             user_id TEXT NOT NULL,
             created_at INTEGER NOT NULL,
             last_seen INTEGER NOT NULL
         ) WITHOUT ROWID;
         CREATE INDEX main.sessions_user ON sessions (user_id);",
    )?;
    let names: Vec<(i64, String)> = conn
        .prepare("SELECT rowid, name FROM main.users WHERE name IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = conn.prepare("UPDATE main.users SET name_folded = ?1 WHERE rowid = ?2")?;
    for (rowid, name) in names {
        update.execute((fold_name(&name), rowid))?;
    }
    Ok(())
}

/// The original app stored private messages' `sender`/`receiver` as user *names*; from now on
/// they hold user ids, like every other table. Rows whose value is already an id, or matches
/// no user, are left as they are.
fn chat_v1(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS chat.messages (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             sender TEXT,
             receiver TEXT,
             text TEXT,
             timestamp TEXT,
             read INTEGER DEFAULT 0
         );
         UPDATE chat.messages
            SET sender = (SELECT u.id FROM main.users u WHERE u.name = messages.sender)
          WHERE sender NOT IN (SELECT id FROM main.users)
            AND sender IN (SELECT name FROM main.users);
         UPDATE chat.messages
            SET receiver = (SELECT u.id FROM main.users u WHERE u.name = messages.receiver)
          WHERE receiver NOT IN (SELECT id FROM main.users)
            AND receiver IN (SELECT name FROM main.users);
         CREATE INDEX chat.messages_pair ON messages (sender, receiver, id);
         CREATE INDEX chat.messages_unread ON messages (receiver, sender) WHERE read = 0;",
    )
}

/// Adds each member's last-read message (legacy members start with everything read, so an
/// upgrade shows no sudden unread counts) and the id of a reply's quoted message (recovered
/// for legacy replies from the quoted sender and text). Rows of rooms that no longer exist
/// (the original never enabled foreign keys) are removed.
fn rooms_v1(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS rooms.rooms (
             id TEXT PRIMARY KEY,
             name TEXT NOT NULL,
             description TEXT,
             creator_id TEXT NOT NULL,
             created_at TEXT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS rooms.room_members (
             room_id TEXT NOT NULL,
             user_id TEXT NOT NULL,
             added_at TEXT NOT NULL,
             PRIMARY KEY (room_id, user_id),
             FOREIGN KEY (room_id) REFERENCES rooms(id) ON DELETE CASCADE
         );
         CREATE TABLE IF NOT EXISTS rooms.room_messages (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             room_id TEXT NOT NULL,
             sender_id TEXT NOT NULL,
             sender_name TEXT NOT NULL,
             text TEXT NOT NULL,
             timestamp TEXT NOT NULL,
             reply_to_sender_id TEXT,
             reply_to_sender_name TEXT,
             reply_to_text TEXT,
             FOREIGN KEY (room_id) REFERENCES rooms(id) ON DELETE CASCADE
         );
         ALTER TABLE rooms.room_members ADD COLUMN last_read_id INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE rooms.room_messages ADD COLUMN reply_to_id INTEGER;
         DELETE FROM rooms.room_members WHERE room_id NOT IN (SELECT id FROM rooms.rooms);
         DELETE FROM rooms.room_messages WHERE room_id NOT IN (SELECT id FROM rooms.rooms);
         UPDATE rooms.room_members
            SET last_read_id = COALESCE(
                (SELECT max(m.id) FROM rooms.room_messages m WHERE m.room_id = room_members.room_id), 0);
         UPDATE rooms.room_messages
            SET reply_to_id = (
                SELECT max(q.id) FROM rooms.room_messages q
                 WHERE q.room_id = room_messages.room_id
                   AND q.id < room_messages.id
                   AND q.sender_id = room_messages.reply_to_sender_id
                   AND q.text = room_messages.reply_to_text)
          WHERE reply_to_text IS NOT NULL;
         CREATE INDEX rooms.room_messages_room ON room_messages (room_id, id);
         CREATE INDEX rooms.room_members_user ON room_members (user_id);",
    )
}
