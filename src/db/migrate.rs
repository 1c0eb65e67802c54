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
    FileSchema {
        schema: "main",
        file: "users.db",
        steps: &[users_v1, users_v2, super::push::create_tables, users_v3, users_v5_bots],
    },
    FileSchema { schema: "chat", file: "chathistory.db", steps: &[chat_v1, chat_v2, super::files::migrate] },
    FileSchema { schema: "rooms", file: "rooms.db", steps: &[rooms_v1, rooms_v2, rooms_v3_alerts] },
];

/// Each file with the version it has now.
fn versions(conn: &Connection) -> rusqlite::Result<Vec<(&'static FileSchema, i64)>> {
    SCHEMAS.iter().map(|f| Ok((f, f.version(conn)?))).collect()
}

/// Whether any file is older than this binary (a newer one is refused elsewhere, on open).
pub fn outdated(conn: &Connection) -> Result<bool, OpenError> {
    let versions = versions(conn)?;
    if let Some((f, found)) = versions.iter().find(|(f, v)| *v > f.known()) {
        return Err(OpenError::TooNew { file: f.file, found: *found, known: f.known() });
    }
    Ok(versions.iter().any(|(f, v)| *v < f.known()))
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

/// Before the first migration of files that hold data (an install of the original app, or
/// of an older mychat), copies them to `DIR/pre-migration/`, so the upgrade can always be
/// undone by hand.
///
/// The copy is written to `pre-migration.tmp/`, each file synced, then the folder renamed:
/// a kill during the copy leaves only the temporary folder, which the next start deletes and
/// writes again. A `pre-migration/` with a missing or empty file (left by a version that
/// copied in place) is reported, and written again if the files are still unmigrated, since
/// only then is a copy of them a copy of the original.
pub fn backup_before_migrating(conn: &Connection, dir: &Path) -> Result<(), OpenError> {
    let legacy: i64 =
        conn.query_row("SELECT count(*) FROM main.sqlite_master WHERE name = 'users'", [], |r| r.get(0))?;
    let versions = versions(conn)?;
    let outdated = versions.iter().any(|(f, v)| *v < f.known());
    if legacy == 0 || !outdated {
        return Ok(());
    }
    let target = dir.join("pre-migration");
    let temporary = dir.join("pre-migration.tmp");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |e| OpenError::Io(path, e)
    };
    if temporary.exists() {
        log::warn!("{} is left from an interrupted copy: copying again", temporary.display());
        std::fs::remove_dir_all(&temporary).map_err(io(&temporary))?;
    }
    if target.exists() {
        let missing: Vec<&str> = SCHEMAS
            .iter()
            .filter(|f| std::fs::metadata(target.join(f.file)).map_or(true, |m| m.len() == 0))
            .map(|f| f.file)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let unmigrated = versions.iter().all(|(_, v)| *v == 0);
        if !unmigrated {
            log::warn!(
                "{} is incomplete ({} missing or empty), and the files have been migrated since, \
                 so it cannot be made again; keep your own copy of the original files",
                target.display(),
                missing.join(", ")
            );
            return Ok(());
        }
        log::warn!("{} is incomplete ({} missing or empty): copying again", target.display(), missing.join(", "));
        std::fs::remove_dir_all(&target).map_err(io(&target))?;
    }
    std::fs::create_dir_all(&temporary).map_err(io(&temporary))?;
    for f in &SCHEMAS {
        let dest = temporary.join(f.file);
        conn.execute(&format!("VACUUM {} INTO ?1", f.schema), [dest.to_string_lossy().as_ref()])?;
        sync(&dest).map_err(io(&dest))?;
    }
    sync(&temporary).map_err(io(&temporary))?;
    std::fs::rename(&temporary, &target).map_err(io(&target))?;
    sync(dir).map_err(io(dir))?;
    log::info!("copied the unmigrated files to {}", target.display());
    Ok(())
}

/// Flushes a file, or a directory's entries, to the disk.
fn sync(path: &Path) -> std::io::Result<()> {
    std::fs::File::open(path)?.sync_all()
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
        update.execute((crate::names::fold_name(&name), rowid))?;
    }
    Ok(())
}

/// Adds each user name's confusable skeleton (see `crate::names`), indexed, so a new name
/// that looks like an existing one can be refused. Existing names that share a skeleton keep
/// working; only new registrations are refused.
fn users_v2(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "ALTER TABLE main.users ADD COLUMN name_skeleton TEXT;
         CREATE INDEX main.users_name_skeleton ON users (name_skeleton);",
    )?;
    let names: Vec<(i64, String)> = conn
        .prepare("SELECT rowid, name FROM main.users WHERE name IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = conn.prepare("UPDATE main.users SET name_skeleton = ?1 WHERE rowid = ?2")?;
    for (rowid, name) in names {
        update.execute((crate::names::skeleton(&name), rowid))?;
    }
    Ok(())
}

/// Household administration: roles and account states, what each session was opened from,
/// the stored settings (the registration mode), invitations, one-time login links, the audit
/// log of admin actions, and the ids of deleted accounts (so their messages read as from a
/// deleted account, not as a bare id). An install that already holds accounts keeps the open
/// registration it had; a new one (no accounts yet) starts invite-only, and its first account
/// becomes the administrator.
fn users_v3(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "ALTER TABLE main.users ADD COLUMN is_admin INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE main.users ADD COLUMN created_at TEXT;
         ALTER TABLE main.users ADD COLUMN disabled_at TEXT;
         ALTER TABLE main.users ADD COLUMN last_seen TEXT;
         CREATE INDEX main.users_admin ON users (is_admin) WHERE is_admin = 1;
         ALTER TABLE main.sessions ADD COLUMN address TEXT;
         ALTER TABLE main.sessions ADD COLUMN user_agent TEXT;
         ALTER TABLE main.sessions ADD COLUMN reset_until INTEGER;
         CREATE TABLE main.settings (
             key TEXT PRIMARY KEY,
             value TEXT NOT NULL
         ) WITHOUT ROWID;
         CREATE TABLE main.invites (
             id TEXT PRIMARY KEY,
             token_hash BLOB NOT NULL UNIQUE,
             created_by TEXT,
             created_at INTEGER NOT NULL,
             expires_at INTEGER NOT NULL,
             max_uses INTEGER NOT NULL,
             uses INTEGER NOT NULL DEFAULT 0
         );
         CREATE INDEX main.invites_creator ON invites (created_by);
         CREATE TABLE main.login_links (
             user_id TEXT PRIMARY KEY,
             token_hash BLOB NOT NULL UNIQUE,
             created_by TEXT,
             created_at INTEGER NOT NULL,
             expires_at INTEGER NOT NULL
         );
         CREATE TABLE main.audit_log (
             id INTEGER PRIMARY KEY AUTOINCREMENT,
             at TEXT NOT NULL,
             actor_id TEXT,
             actor_name TEXT NOT NULL,
             action TEXT NOT NULL,
             target_id TEXT,
             target_name TEXT,
             detail TEXT
         );
         CREATE TABLE main.deleted_users (
             id TEXT PRIMARY KEY,
             deleted_at TEXT NOT NULL
         ) WITHOUT ROWID;
         INSERT INTO main.settings (key, value)
             SELECT 'registration', 'open' WHERE EXISTS (SELECT 1 FROM main.users);",
    )
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

/// Messages people can act on (private side): replies by id, edits and tombstones, the
/// client's id for idempotent resends, the change sequence for catch-up; reactions, room
/// mentions, per-conversation notification levels, each person's list of private
/// conversations with its unread counts (so lists and counts cost a row per conversation), and
/// the full-text index (which covers room messages too: they are indexed by `rooms_v2`). Index rowids: `2 × id` for a private
/// message, `2 × id + 1` for a room message.
fn chat_v2(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "ALTER TABLE chat.messages ADD COLUMN reply_to_id INTEGER;
         ALTER TABLE chat.messages ADD COLUMN edited_at TEXT;
         ALTER TABLE chat.messages ADD COLUMN deleted_at TEXT;
         ALTER TABLE chat.messages ADD COLUMN client_id TEXT;
         ALTER TABLE chat.messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
         CREATE UNIQUE INDEX chat.messages_client ON messages (sender, client_id) WHERE client_id IS NOT NULL;
         CREATE INDEX chat.messages_reply ON messages (reply_to_id) WHERE reply_to_id IS NOT NULL;
         CREATE INDEX chat.messages_changed ON messages (sender, receiver, seq) WHERE seq > 0;
         CREATE INDEX chat.messages_pair_in ON messages (receiver, sender, id);
         CREATE TABLE chat.reactions (
             in_room INTEGER NOT NULL,
             message_id INTEGER NOT NULL,
             emoji TEXT NOT NULL,
             user_id TEXT NOT NULL,
             created_at TEXT NOT NULL,
             PRIMARY KEY (in_room, message_id, emoji, user_id)
         ) WITHOUT ROWID;
         CREATE TABLE chat.mentions (
             user_id TEXT NOT NULL,
             room_id TEXT NOT NULL,
             message_id INTEGER NOT NULL,
             PRIMARY KEY (user_id, room_id, message_id)
         ) WITHOUT ROWID;
         CREATE INDEX chat.mentions_message ON mentions (room_id, message_id);
         CREATE TABLE chat.private_settings (
             user_id TEXT NOT NULL,
             other_id TEXT NOT NULL,
             notify TEXT NOT NULL,
             PRIMARY KEY (user_id, other_id)
         ) WITHOUT ROWID;
         CREATE TABLE chat.conversations (
             user_id TEXT NOT NULL,
             other_id TEXT NOT NULL,
             last_id INTEGER NOT NULL,
             unread INTEGER NOT NULL DEFAULT 0,
             PRIMARY KEY (user_id, other_id)
         ) WITHOUT ROWID;
         INSERT INTO chat.conversations (user_id, other_id, last_id, unread)
             SELECT u, o, max(id), sum(unread) FROM (
                 SELECT sender AS u, receiver AS o, id, 0 AS unread FROM chat.messages
                  WHERE sender IS NOT NULL AND receiver IS NOT NULL
                 UNION ALL
                 SELECT receiver, sender, id, (COALESCE(read, 0) = 0 AND sender != receiver) FROM chat.messages
                  WHERE sender IS NOT NULL AND receiver IS NOT NULL
             ) GROUP BY u, o;
         CREATE VIRTUAL TABLE chat.message_search USING fts5(
             text, tokenize = 'unicode61 remove_diacritics 2'
         );
         INSERT INTO chat.message_search (message_search, rank) VALUES ('secure-delete', 1);
         INSERT INTO chat.message_search (rowid, text)
             SELECT 2 * id, text FROM chat.messages WHERE text IS NOT NULL AND text != '';",
    )
}

/// Messages people can act on (room side): edits and tombstones, client ids, the change
/// sequence, each member's notification level; the room messages go into the search index;
/// and an index for the seed's quote-by-copy replies, so checking one is an index range, not
/// a scan of the room.
fn rooms_v2(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "ALTER TABLE rooms.room_messages ADD COLUMN edited_at TEXT;
         ALTER TABLE rooms.room_messages ADD COLUMN deleted_at TEXT;
         ALTER TABLE rooms.room_messages ADD COLUMN client_id TEXT;
         ALTER TABLE rooms.room_messages ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
         ALTER TABLE rooms.room_members ADD COLUMN notify TEXT NOT NULL DEFAULT 'all';
         CREATE UNIQUE INDEX rooms.room_messages_client ON room_messages (sender_id, client_id)
             WHERE client_id IS NOT NULL;
         CREATE INDEX rooms.room_messages_reply ON room_messages (reply_to_id) WHERE reply_to_id IS NOT NULL;
         CREATE INDEX rooms.room_messages_changed ON room_messages (room_id, seq) WHERE seq > 0;
         CREATE INDEX rooms.room_messages_sender ON room_messages (room_id, sender_id, id);
         INSERT INTO chat.message_search (rowid, text)
             SELECT 2 * id + 1, text FROM rooms.room_messages WHERE text != '';",
    )
}

/// Bots: a room's named senders for incoming webhooks. Only a hash of each token is kept;
/// a revoked bot has none. (Issue 17; self-contained, so it can take any place in the list.)
fn users_v5_bots(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE main.bots (
             id TEXT PRIMARY KEY,
             room_id TEXT NOT NULL,
             name TEXT NOT NULL,
             token_hash BLOB UNIQUE,
             created_by TEXT NOT NULL,
             created_at TEXT NOT NULL
         );
         CREATE INDEX main.bots_room ON bots (room_id);",
    )
}

/// What a bot's message says besides its text (`alert`: title, priority, tags, link, state,
/// as JSON), and the key that pairs an open alert with its resolution (`alert_key`, set only
/// while the alert is open, so the partial index holds open incidents only). (Issue 17.)
fn rooms_v3_alerts(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "ALTER TABLE rooms.room_messages ADD COLUMN alert TEXT;
         ALTER TABLE rooms.room_messages ADD COLUMN alert_key TEXT;
         CREATE INDEX rooms.room_messages_open_alert ON room_messages (room_id, sender_id, alert_key)
             WHERE alert_key IS NOT NULL;",
    )
}
