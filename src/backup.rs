//! `mychat backup DIR`: a consistent copy of the three database files and of the uploaded files
//! they refer to, safe while the server runs (SQLite readers do not block the server's writes
//! in WAL mode), and of the Web Push (VAPID) key, without which every browser would have to
//! subscribe again.
//!
//! Each database is copied with `VACUUM INTO` from its own read snapshot. The order makes the
//! set consistent where it matters: chat history and rooms first, users last, so every user a
//! copied message or membership refers to was committed before the users snapshot and is in
//! the copy. The uploaded files come last, read from the copy of `chathistory.db`: a file the
//! copy refers to was stored before that snapshot, and if it was deleted since, it waits a day
//! in `files/trash/` — so the backup never refers to a file it lacks.

use crate::config::Config;
use crate::db::FILES;
use crate::files::{ContentHash, Store};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

pub fn run(config: &Config, dest: &Path) -> Result<(), String> {
    let source = &config.data_dir;
    if !source.join("users.db").exists() {
        return Err(format!("{} holds no users.db: nothing to back up", source.display()));
    }
    std::fs::create_dir_all(dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    for (_, file) in FILES {
        if dest.join(file).exists() {
            return Err(format!("{} already holds {file}; back up into an empty directory", dest.display()));
        }
    }
    let conn = Connection::open_with_flags(source.join("users.db"), OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| format!("opening {}: {e}", source.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(|e| e.to_string())?;
    for (schema, file) in FILES.iter().filter(|(s, _)| *s != "main") {
        let path = source.join(file);
        conn.execute("ATTACH DATABASE ?1 AS ?2", (path.to_string_lossy().as_ref(), schema))
            .map_err(|e| format!("opening {}: {e}", path.display()))?;
    }
    for (schema, file) in FILES {
        let target = dest.join(file);
        conn.execute(&format!("VACUUM {schema} INTO ?1"), [target.to_string_lossy().as_ref()])
            .map_err(|e| format!("copying {file}: {e}"))?;
        let copy = Connection::open_with_flags(&target, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| e.to_string())?;
        let check: String = copy.query_row("PRAGMA integrity_check", [], |r| r.get(0)).map_err(|e| e.to_string())?;
        if check != "ok" {
            return Err(format!("the copy of {file} failed its integrity check: {check}"));
        }
        let bytes = std::fs::metadata(&target).map(|m| m.len()).unwrap_or(0);
        println!("{file}: {bytes} bytes, integrity ok");
    }
    copy_files(source, dest)?;
    match crate::push::vapid::copy_key(source, dest) {
        Ok(true) => println!("{}: copied (mode 0600)", crate::push::vapid::KEY_FILE),
        Ok(false) => {}
        Err(e) => return Err(format!("copying {}: {e}", crate::push::vapid::KEY_FILE)),
    }
    println!("backup written to {}", dest.display());
    Ok(())
}

/// Copies every stored object the copied `chathistory.db` refers to into `DEST/files/`.
fn copy_files(source: &Path, dest: &Path) -> Result<(), String> {
    let copy = Connection::open_with_flags(dest.join("chathistory.db"), OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| e.to_string())?;
    let has_files: bool = copy
        .query_row("SELECT count(*) > 0 FROM sqlite_master WHERE name = 'files'", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if !has_files {
        return Ok(());
    }
    let hashes: Vec<String> = copy
        .prepare("SELECT hash FROM files WHERE hash IS NOT NULL UNION SELECT thumb_hash FROM files WHERE thumb_hash IS NOT NULL")
        .and_then(|mut stmt| stmt.query_map([], |r| r.get(0))?.collect())
        .map_err(|e| format!("reading the copy of chathistory.db: {e}"))?;
    let store = Store::new(source);
    let target = Store::new(dest);
    let (mut copied, mut bytes, mut missing) = (0u64, 0u64, Vec::new());
    let mut trash = store.trash_entries();
    for hex in hashes {
        let Some(hash) = ContentHash::parse(&hex) else { continue };
        // An upload's row is committed a moment before its file is moved into place.
        let found = store.locate(&hash, &trash).or_else(|| {
            std::thread::sleep(std::time::Duration::from_millis(500));
            trash = store.trash_entries();
            store.locate(&hash, &trash)
        });
        let Some(from) = found else {
            missing.push(hex);
            continue;
        };
        let to = target.blob_path(&hash);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        bytes += std::fs::copy(&from, &to).map_err(|e| format!("copying {}: {e}", from.display()))?;
        copied += 1;
    }
    println!("files: {copied} ({bytes} bytes)");
    if !missing.is_empty() {
        return Err(format!(
            "{} files the database refers to are missing from {} (first: {})",
            missing.len(),
            store.root().display(),
            missing[0]
        ));
    }
    Ok(())
}
