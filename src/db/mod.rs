//! All SQL. The hub owns the one [`Db`]; nothing else opens the files while the server runs
//! (except `mychat backup`, which only reads).
//!
//! The seed's three files are opened through one connection: `users.db` is `main`,
//! `chathistory.db` is attached as `chat`, `rooms.db` as `rooms`. Each is in WAL mode.
//! Writes are batched by the hub: the first write of a batch opens a transaction, the hub
//! commits it once the batch is done, and only then are its effects (acks, deliveries) released.

mod admin;
mod bots;
pub mod checkpoint;
mod files;
mod invites;
mod messages;
mod migrate;
mod private;
mod push;
mod rooms;
mod users;

pub use bots::BotRecord;
pub use files::{FileRow, MessageKind, Released, released};
pub use messages::{NewMessage, Quote, StoredMessage, Thread};

pub use admin::{AccountFlags, AccountRow, AuditEntry, MAX_AUDIT_ROWS, SessionRow};
pub use invites::{InviteRow, LoginLinkRow};
pub use private::{Partner, UNREAD_CAP};
pub use push::{ForwardRecord, SubscriptionRecord};
pub use rooms::{Membership, RoomRecord};
pub use users::{LoginRecord, SessionRecord, UserRecord};

use crate::config::Durability;
use rusqlite::Connection;
use std::fmt;
use std::path::{Path, PathBuf};

pub type DbResult<T> = rusqlite::Result<T>;

/// Which messages of a conversation a page holds. Every page is returned oldest first
/// (a `Changed` page in the order of the changes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// Messages with `after < id < before`: the newest of them when scrolling back
    /// (`after` = 0), the oldest when catching up (`after` > 0).
    Range { before: i64, after: i64, limit: u32 },
    /// Up to `limit` messages around message `id` (half before it, half from it on): where a
    /// search result opens the conversation.
    Around { id: i64, limit: u32 },
    /// Messages changed (new, edited, deleted, reacted to) after change `seq`: how a client
    /// that was away catches up with everything, not only new messages.
    Changed { seq: i64, limit: u32 },
}

/// The three files, their schema names in the connection, in the order a consistent backup
/// copies them (see `backup.rs`).
/// The WAL size (pages) at which a commit checkpoints by itself: only when the checkpointer
/// thread has fallen far behind (8,000 pages of 4 KiB: 32 MiB per file).
pub const BACKSTOP_CHECKPOINT_PAGES: u32 = 8000;

pub const FILES: [(&str, &str); 3] = [("chat", "chathistory.db"), ("rooms", "rooms.db"), ("main", "users.db")];

/// Why the database could not be opened.
#[derive(Debug)]
pub enum OpenError {
    Io(PathBuf, std::io::Error),
    Sqlite(rusqlite::Error),
    /// One file could not be read as a database (malformed, not SQLite, unreadable).
    File(&'static str, rusqlite::Error),
    /// A file is empty while `users.db` holds accounts: its data was lost, not a new install.
    Emptied {
        file: &'static str,
        accounts: i64,
    },
    /// A file was written by a newer mychat than this one.
    TooNew {
        file: &'static str,
        found: i64,
        known: i64,
    },
}

impl fmt::Display for OpenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OpenError::Io(path, e) => write!(f, "{}: {e}", path.display()),
            OpenError::Sqlite(e) => write!(f, "database error: {e}"),
            OpenError::File(file, e) => write!(f, "{file}: {e}"),
            OpenError::Emptied { file, accounts } => write!(
                f,
                "{file} is empty (0 bytes), but users.db holds {accounts} accounts: its data is lost, \
                 not new; restore {file} from a backup (or delete it to start it afresh, knowingly)"
            ),
            OpenError::TooNew { file, found, known } => write!(
                f,
                "{file} has schema version {found}, but this mychat knows versions up to {known}; \
                 run the newer mychat that wrote it, or restore a backup"
            ),
        }
    }
}

impl std::error::Error for OpenError {}

impl From<rusqlite::Error> for OpenError {
    fn from(e: rusqlite::Error) -> Self {
        OpenError::Sqlite(e)
    }
}

/// Accounts in `users.db` (0 for a new install, whose `users` table doesn't exist yet).
fn count_accounts(conn: &Connection) -> rusqlite::Result<i64> {
    let has_table: i64 =
        conn.query_row("SELECT count(*) FROM main.sqlite_master WHERE type = 'table' AND name = 'users'", [], |r| {
            r.get(0)
        })?;
    if has_table == 0 {
        return Ok(0);
    }
    conn.query_row("SELECT count(*) FROM main.users", [], |r| r.get(0))
}

pub struct Db {
    conn: Connection,
    in_transaction: bool,
    /// Changes to the search index, written just before the batch commits: an FTS5 table
    /// flushes what it holds at every savepoint, so indexing each message as it is stored
    /// (inside its savepoint) wrote one index segment per message, then merged them.
    pending_index: Vec<IndexChange>,
    /// Where the open unit's changes begin (see [`Db::begin_unit`]).
    unit_mark: usize,
}

/// A change to the search index waiting for the commit.
enum IndexChange {
    Add(i64, String),
    Remove(i64),
}

impl Db {
    /// Opens (creating if needed) the three files in `dir` and migrates them.
    pub fn open(dir: &Path, durability: Durability) -> Result<Db, OpenError> {
        std::fs::create_dir_all(dir).map_err(|e| OpenError::Io(dir.to_path_buf(), e))?;
        // Seen before anything is written: SQLite takes an empty file for a new database.
        let empty: Vec<&'static str> = FILES
            .iter()
            .filter(|(_, file)| std::fs::metadata(dir.join(file)).is_ok_and(|m| m.len() == 0))
            .map(|(_, file)| *file)
            .collect();
        // Each file is read as it is opened, so a damaged one is named now rather than an
        // anonymous error later (ATTACH itself reads the files opened before).
        let read = |conn: &Connection, schema: &str, file: &'static str| {
            conn.query_row(&format!("SELECT count(*) FROM {schema}.sqlite_master"), [], |_| Ok(()))
                .map_err(|e| OpenError::File(file, e))
        };
        let conn = Connection::open(dir.join("users.db")).map_err(|e| OpenError::File("users.db", e))?;
        read(&conn, "main", "users.db")?;
        for (schema, file) in FILES.iter().filter(|(s, _)| *s != "main") {
            let path = dir.join(file);
            let path =
                path.to_str().ok_or_else(|| OpenError::Io(path.clone(), std::io::Error::other("path is not UTF-8")))?;
            conn.execute("ATTACH DATABASE ?1 AS ?2", (path, schema)).map_err(|e| OpenError::File(file, e))?;
            read(&conn, schema, file)?;
        }
        if let Some(file) = empty.iter().find(|f| **f != "users.db") {
            let accounts = count_accounts(&conn).map_err(|e| OpenError::File("users.db", e))?;
            if accounts > 0 {
                return Err(OpenError::Emptied { file, accounts });
            }
        }
        let synchronous = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        for (schema, file) in FILES {
            // journal_mode answers with a row, so it is queried rather than executed.
            let mode: String = conn
                .query_row(&format!("PRAGMA {schema}.journal_mode = WAL"), [], |r| r.get(0))
                .map_err(|e| OpenError::File(file, e))?;
            if !mode.eq_ignore_ascii_case("wal") {
                log::warn!("{file}: journal_mode is {mode}, not WAL");
            }
            conn.execute_batch(&format!("PRAGMA {schema}.synchronous = {synchronous}"))
                .map_err(|e| OpenError::File(file, e))?;
        }
        Self::configure(&conn)?;
        migrate::backup_before_migrating(&conn, dir)?;
        migrate::run(&conn)?;
        // Presence lives in memory; the seed's column is reset as the seed did at startup.
        conn.execute("UPDATE main.users SET online = 0 WHERE online IS NOT 0", [])?;
        let db = Db { conn, in_transaction: false, pending_index: Vec::new(), unit_mark: 0 };
        let clamped = db.clamp_future_sessions(crate::clock::unix_now())?;
        if clamped > 0 {
            log::warn!("{clamped} sessions were made while the clock was ahead; their age counts from now");
        }
        Ok(db)
    }

    /// Opens the files for `mychat admin`, beside a server that may be running: no lock, no
    /// migration, a busy timeout so a write waits for the server's batch rather than failing.
    /// Files at an older schema are migrated first, but only when no server holds the data
    /// directory (its lock is free); a server that runs on them would have migrated them.
    pub fn open_console(dir: &Path) -> Result<Db, String> {
        if !dir.join("users.db").exists() {
            return Err(format!("{} holds no users.db: start the server there first", dir.display()));
        }
        let connect = || -> Result<Connection, String> {
            let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE;
            let conn =
                Connection::open_with_flags(dir.join("users.db"), flags).map_err(|e| format!("users.db: {e}"))?;
            for (schema, file) in FILES.iter().filter(|(s, _)| *s != "main") {
                let path = dir.join(file);
                conn.execute("ATTACH DATABASE ?1 AS ?2", (path.to_string_lossy().as_ref(), schema))
                    .map_err(|e| format!("{file}: {e}"))?;
            }
            // The server commits a batch in milliseconds; waiting for it is the normal case.
            conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(|e| e.to_string())?;
            conn.execute_batch("PRAGMA foreign_keys = ON").map_err(|e| e.to_string())?;
            Ok(conn)
        };
        let mut conn = connect()?;
        if migrate::outdated(&conn).map_err(|e| e.to_string())? {
            drop(conn);
            let _lock = crate::datalock::lock(dir).map_err(|e| {
                format!(
                    "{e}\n(its files are older than this mychat: stop it and run this command again, or upgrade it)"
                )
            })?;
            drop(Db::open(dir, Durability::Normal).map_err(|e| e.to_string())?);
            conn = connect()?;
        }
        Ok(Db { conn, in_transaction: false, pending_index: Vec::new(), unit_mark: 0 })
    }

    /// An empty in-memory database with the same schema, for the hub's unit tests.
    pub fn open_in_memory() -> Result<Db, OpenError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("ATTACH ':memory:' AS chat; ATTACH ':memory:' AS rooms;")?;
        Self::configure(&conn)?;
        migrate::run(&conn)?;
        Ok(Db { conn, in_transaction: false, pending_index: Vec::new(), unit_mark: 0 })
    }

    fn configure(conn: &Connection) -> Result<(), OpenError> {
        // The backup command may hold a read lock for a moment; wait rather than fail.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // The checkpointer thread copies the WAL back (see `checkpoint`); this only bounds it.
        conn.execute_batch(&format!("PRAGMA wal_autocheckpoint = {BACKSTOP_CHECKPOINT_PAGES}"))?;
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
        // A deleted message's text must be gone from the files, not just unlinked: freed
        // pages of the message files are overwritten.
        conn.execute_batch("PRAGMA chat.secure_delete = ON; PRAGMA rooms.secure_delete = ON")?;
        conn.set_prepared_statement_cache_capacity(64);
        Ok(())
    }

    /// Opens the batch's transaction on the first write; later writes join it.
    fn writing(&mut self) -> DbResult<&Connection> {
        if !self.in_transaction {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.in_transaction = true;
        }
        Ok(&self.conn)
    }

    /// Opens a unit of writes inside the batch that the caller ends with [`Db::end_unit`]:
    /// kept, or taken back when a later step of the same action fails (for steps that are not
    /// all the database's, as `atomically` needs).
    pub fn begin_unit(&mut self) -> DbResult<()> {
        self.unit_mark = self.pending_index.len();
        self.writing()?.execute_batch("SAVEPOINT unit")
    }

    pub fn end_unit(&mut self, keep: bool) -> DbResult<()> {
        if keep {
            self.conn.execute_batch("RELEASE unit")
        } else {
            self.pending_index.truncate(self.unit_mark);
            self.conn.execute_batch("ROLLBACK TO unit; RELEASE unit")
        }
    }

    /// Opens the batch's write transaction now, so that what is read next stays true until
    /// the commit (no other connection — `mychat admin` — can write in between).
    pub fn lock_for_write(&mut self) -> DbResult<()> {
        self.writing().map(|_| ())
    }

    /// Runs several writes as one unit inside the batch: all of them or none.
    pub fn atomically<T>(&mut self, f: impl FnOnce(&mut Db) -> DbResult<T>) -> DbResult<T> {
        let mark = self.pending_index.len();
        self.writing()?.execute_batch("SAVEPOINT command")?;
        match f(self) {
            Ok(value) => {
                self.conn.execute_batch("RELEASE command")?;
                Ok(value)
            }
            Err(e) => {
                self.pending_index.truncate(mark);
                let _ = self.conn.execute_batch("ROLLBACK TO command; RELEASE command");
                Err(e)
            }
        }
    }

    /// Writes the search index's waiting changes (before the commit, or before a statement
    /// that changes the index by itself).
    pub(crate) fn flush_index(&mut self) -> DbResult<()> {
        if self.pending_index.is_empty() {
            return Ok(());
        }
        let changes = std::mem::take(&mut self.pending_index);
        let conn = self.writing()?;
        for change in changes {
            match change {
                IndexChange::Add(rowid, text) => conn
                    .prepare_cached("INSERT INTO chat.message_search (rowid, text) VALUES (?1, ?2)")?
                    .execute((rowid, text))?,
                IndexChange::Remove(rowid) => {
                    conn.prepare_cached("DELETE FROM chat.message_search WHERE rowid = ?1")?.execute([rowid])?
                }
            };
        }
        Ok(())
    }

    /// Runs `sql` inside the batch's transaction, as a write would.
    #[cfg(test)]
    pub fn execute_in_batch(&mut self, sql: &str) -> DbResult<()> {
        self.writing()?.execute_batch(sql)
    }

    /// Whether the batch has written anything (a commit will be a real one).
    pub fn has_writes(&self) -> bool {
        self.in_transaction
    }

    /// Commits the batch, if it wrote anything. On failure everything is rolled back.
    pub fn commit(&mut self) -> DbResult<()> {
        if !self.in_transaction {
            return Ok(());
        }
        if let Err(e) = self.flush_index() {
            self.rollback();
            return Err(e);
        }
        self.in_transaction = false;
        match self.conn.execute_batch("COMMIT") {
            Ok(()) => Ok(()),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Abandons the open transaction, if any (`mychat admin` after a refused change).
    pub fn rollback(&mut self) {
        self.pending_index.clear();
        if self.in_transaction {
            self.in_transaction = false;
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }

    /// A trivial query, for `/healthz`.
    pub fn ping(&self) -> DbResult<()> {
        self.conn.query_row("SELECT count(*) FROM main.sqlite_master", [], |_| Ok(()))
    }

    /// Copies the WAL into the database files, so a stopped server leaves tidy files.
    pub fn checkpoint(&self) {
        for (schema, _) in FILES {
            if let Err(e) = self.conn.query_row(&format!("PRAGMA {schema}.wal_checkpoint(TRUNCATE)"), [], |_| Ok(())) {
                log::warn!("checkpoint of {schema} failed: {e}");
            }
        }
    }
}
