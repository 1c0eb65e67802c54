//! `mychat backup DIR`: a consistent copy of the three database files, safe while the server
//! runs (SQLite readers do not block the server's writes in WAL mode), and of the Web Push
//! (VAPID) key, without which every browser would have to subscribe again.
//!
//! Each file is copied with `VACUUM INTO` from its own read snapshot. The order makes the set
//! consistent where it matters: chat history and rooms first, users last, so every user a
//! copied message or membership refers to was committed before the users snapshot and is in
//! the copy.

use crate::config::Config;
use crate::db::FILES;
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
    match crate::push::vapid::copy_key(source, dest) {
        Ok(true) => println!("{}: copied (mode 0600)", crate::push::vapid::KEY_FILE),
        Ok(false) => {}
        Err(e) => return Err(format!("copying {}: {e}", crate::push::vapid::KEY_FILE)),
    }
    println!("backup written to {}", dest.display());
    Ok(())
}
