//! Checkpoints off the hub. In WAL mode each commit appends to the WAL, and SQLite's automatic
//! checkpoint copies it back into the database file inside the commit that crosses its size
//! (with an fsync): on the hub, that commit — and the deliveries waiting on it — stalled for
//! milliseconds every few hundred messages. This thread, with a connection of its own that
//! only checkpoints, copies the WAL back every second instead; a PASSIVE checkpoint never
//! blocks the hub's reads or writes. The hub keeps a large automatic checkpoint as a backstop
//! (see [`super::BACKSTOP_CHECKPOINT_PAGES`]), so the WAL stays bounded even without it.

use super::FILES;
use crossbeam_channel::{Receiver, RecvTimeoutError};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(1);

/// Starts the checkpointer for the data directory `dir`; it stops when `stop`'s sender is
/// dropped (or sends).
pub fn spawn(dir: &Path, stop: Receiver<()>) -> std::io::Result<JoinHandle<()>> {
    let mut files = Vec::new();
    for (_, file) in FILES {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(dir.join(file), flags).map_err(std::io::Error::other)?;
        files.push((file, conn));
    }
    std::thread::Builder::new().name("checkpoint".into()).stack_size(64 * 1024).spawn(move || {
        loop {
            match stop.recv_timeout(EVERY) {
                Err(RecvTimeoutError::Timeout) => {}
                _ => return,
            }
            for (file, conn) in &files {
                // Answers (busy, frames in the WAL, frames copied); nothing to do with them.
                if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                    log::warn!("checkpoint of {file} failed: {e}");
                }
            }
        }
    })
}
