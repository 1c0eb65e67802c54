//! All SQL. The hub owns the one [`Db`]; nothing else opens the files while the server runs
//! (except `mychat backup`, which only reads).
//!
//! The seed's three files are opened through one connection: `users.db` is `main`,
//! `chathistory.db` is attached as `chat`, `rooms.db` as `rooms`. Each is in WAL mode.
//! Writes are batched by the hub: the first write of a batch opens a transaction, the hub
//! commits it once the batch is done, and only then are its effects (acks, deliveries) released.

mod chat;
mod migrate;
mod push;
mod rooms;
mod users;

pub use chat::PrivateMessage;

pub use migrate::fold_name;
pub use push::{ForwardRecord, SubscriptionRecord};
pub use rooms::{Quote, RoomMessage, RoomRecord};
pub use users::{SessionRecord, UserRecord};

use crate::config::Durability;
use rusqlite::Connection;
use std::fmt;
use std::path::{Path, PathBuf};

pub type DbResult<T> = rusqlite::Result<T>;

/// A page of history. Messages with `after < id < before`, at most `limit`: the newest of
/// them when scrolling back (`after` = 0), the oldest when catching up (`after` > 0). Either
/// way a page is returned oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub before: i64,
    pub after: i64,
    pub limit: u32,
}

impl Page {
    fn order(&self) -> &'static str {
        if self.after > 0 { "ASC" } else { "DESC" }
    }

    /// Puts rows fetched in [`Page::order`] oldest first.
    fn oldest_first<T>(&self, mut rows: Vec<T>) -> Vec<T> {
        if self.after == 0 {
            rows.reverse();
        }
        rows
    }
}

/// The three files, their schema names in the connection, in the order a consistent backup
/// copies them (see `backup.rs`).
pub const FILES: [(&str, &str); 3] = [("chat", "chathistory.db"), ("rooms", "rooms.db"), ("main", "users.db")];

/// Why the database could not be opened.
#[derive(Debug)]
pub enum OpenError {
    Io(PathBuf, std::io::Error),
    Sqlite(rusqlite::Error),
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

pub struct Db {
    conn: Connection,
    in_transaction: bool,
}

impl Db {
    /// Opens (creating if needed) the three files in `dir` and migrates them.
    pub fn open(dir: &Path, durability: Durability) -> Result<Db, OpenError> {
        std::fs::create_dir_all(dir).map_err(|e| OpenError::Io(dir.to_path_buf(), e))?;
        let conn = Connection::open(dir.join("users.db"))?;
        for (schema, file) in FILES.iter().filter(|(s, _)| *s != "main") {
            let path = dir.join(file);
            let path =
                path.to_str().ok_or_else(|| OpenError::Io(path.clone(), std::io::Error::other("path is not UTF-8")))?;
            conn.execute("ATTACH DATABASE ?1 AS ?2", (path, schema))?;
        }
        let synchronous = match durability {
            Durability::Normal => "NORMAL",
            Durability::Full => "FULL",
        };
        for (schema, _) in FILES {
            // journal_mode answers with a row, so it is queried rather than executed.
            let mode: String = conn.query_row(&format!("PRAGMA {schema}.journal_mode = WAL"), [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                log::warn!("{schema}: journal_mode is {mode}, not WAL");
            }
            conn.execute_batch(&format!("PRAGMA {schema}.synchronous = {synchronous}"))?;
        }
        Self::configure(&conn)?;
        migrate::backup_before_migrating(&conn, dir)?;
        migrate::run(&conn)?;
        // Presence lives in memory; the seed's column is reset as the seed did at startup.
        conn.execute("UPDATE main.users SET online = 0 WHERE online IS NOT 0", [])?;
        Ok(Db { conn, in_transaction: false })
    }

    /// An empty in-memory database with the same schema, for the hub's unit tests.
    pub fn open_in_memory() -> Result<Db, OpenError> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch("ATTACH ':memory:' AS chat; ATTACH ':memory:' AS rooms;")?;
        Self::configure(&conn)?;
        migrate::run(&conn)?;
        Ok(Db { conn, in_transaction: false })
    }

    fn configure(conn: &Connection) -> Result<(), OpenError> {
        // The backup command may hold a read lock for a moment; wait rather than fail.
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
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

    /// Runs several writes as one unit inside the batch: all of them or none.
    pub fn atomically<T>(&mut self, f: impl FnOnce(&mut Db) -> DbResult<T>) -> DbResult<T> {
        self.writing()?.execute_batch("SAVEPOINT command")?;
        match f(self) {
            Ok(value) => {
                self.conn.execute_batch("RELEASE command")?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK TO command; RELEASE command");
                Err(e)
            }
        }
    }

    /// Runs `sql` inside the batch's transaction, as a write would.
    #[cfg(test)]
    pub fn execute_in_batch(&mut self, sql: &str) -> DbResult<()> {
        self.writing()?.execute_batch(sql)
    }

    /// Commits the batch, if it wrote anything. On failure everything is rolled back.
    pub fn commit(&mut self) -> DbResult<()> {
        if !self.in_transaction {
            return Ok(());
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
