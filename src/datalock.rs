//! The data directory's lock: one server per data directory.
//!
//! Two servers on the same files would each keep their own in-memory directory of users,
//! sessions and rooms, and contradict each other (logins that work on one and not the other,
//! a name taken in the file but free in memory). `serve` therefore takes an exclusive
//! `flock` on `DATA/mychat.lock` before it opens the databases, and writes its pid there so a
//! second server can say who holds it. The kernel releases the lock when the process ends,
//! however it ends (a SIGKILL included), so a stale file never blocks a restart; the file
//! itself is left in place.
//!
//! `mychat backup` does not take the lock: it only reads, and SQLite's own locking makes its
//! copy consistent while the server runs.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "mychat.lock";

/// Held for as long as the server runs; dropping it (or exiting) releases the lock.
#[derive(Debug)]
pub struct DataLock {
    _file: File,
}

/// Takes the data directory's lock, creating the directory if needed; an error names the
/// process that holds it.
pub fn lock(dir: &Path) -> Result<DataLock, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    // SAFETY: flock takes a descriptor and flags; the descriptor belongs to `file`, which is
    // open for the duration of the call. It touches no memory of ours.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
        let error = std::io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(format!("locking {}: {error}", path.display()));
        }
        let mut holder = String::new();
        let _ = file.read_to_string(&mut holder);
        let holder = holder.trim();
        let who = if holder.is_empty() { "another mychat".to_string() } else { format!("mychat (pid {holder})") };
        return Err(format!(
            "{} is in use: {who} is serving it; one data directory takes one server \
             (`mychat backup` works while it runs)",
            dir.display()
        ));
    }
    let written = file
        .set_len(0)
        .and_then(|()| file.seek(SeekFrom::Start(0)))
        .and_then(|_| writeln!(file, "{}", std::process::id()))
        .and_then(|()| file.flush());
    if let Err(e) = written {
        // The lock holds all the same; only the message a second server prints is poorer.
        log::warn!("could not write the pid to {}: {e}", path.display());
    }
    Ok(DataLock { _file: file })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_is_refused_and_names_the_holder() {
        let dir = std::env::temp_dir().join(format!("mychat-lock-{}", std::process::id()));
        let held = lock(&dir).unwrap();
        // flock locks belong to the open file description, so a second open in this very
        // process conflicts just as another process would.
        let error = lock(&dir).unwrap_err();
        assert!(error.contains(&format!("pid {}", std::process::id())), "{error}");
        drop(held);
        assert!(lock(&dir).is_ok(), "released on drop");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
