//! Uploaded files on disk: the content-addressed store under `DATA/files/`, and what is done to
//! a file's bytes off the hub — hashing while writing, sniffing the type, stripping metadata
//! from images, thumbnails on a small pool of their own, and the janitor that moves files no
//! row refers to into the trash and empties it.
//!
//! Layout: `files/ab/abcdef…` (the BLAKE2s-256 of the served bytes, hex; the first two digits
//! name the folder), `files/tmp/` (uploads and thumbnails being written; a file there is never
//! referenced), `files/trash/<unix seconds>-<hash>` (unreferenced files, kept a day so a backup
//! whose databases were copied before the deletion still finds them).
//!
//! This module knows bytes and paths, not users or conversations: it imports nothing of the hub
//! or the HTTP side. Who may see a file, and which files are referenced, is the hub's
//! (`hub/files.rs`); the glue that asks the hub lives with the HTTP side (`http/files.rs`).

pub mod janitor;
pub mod meta;
pub mod sniff;
pub mod thumbs;

use blake2::{Blake2s256, Digest};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// A stored file's name: the BLAKE2s-256 of its bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContentHash(pub [u8; 32]);

impl ContentHash {
    pub fn hex(&self) -> String {
        let mut out = String::with_capacity(64);
        for b in self.0 {
            out.push_str(&format!("{b:02x}"));
        }
        out
    }

    /// Parses 64 lower-case hex digits.
    pub fn parse(text: &str) -> Option<ContentHash> {
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
            let pair = std::str::from_utf8(chunk).ok()?;
            out[i] = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(ContentHash(out))
    }
}

impl fmt::Display for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

impl fmt::Debug for ContentHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContentHash({})", &self.hex()[..12])
    }
}

/// How long an unreferenced file stays in the trash before it is deleted.
pub const TRASH_KEEP: Duration = Duration::from_secs(86_400);

/// The files under the data directory. Cheap to clone; every method is plain file I/O, for
/// workers, the thumbnail pool and the janitor — never the hub.
#[derive(Clone, Debug)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    pub fn new(data_dir: &Path) -> Store {
        Store { root: data_dir.join("files") }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    fn trash_dir(&self) -> PathBuf {
        self.root.join("trash")
    }

    /// Creates the folders and removes what a previous run left in `tmp/` (uploads cut short by
    /// a crash: nothing refers to them).
    pub fn prepare(&self) -> io::Result<()> {
        fs::create_dir_all(self.tmp_dir())?;
        fs::create_dir_all(self.trash_dir())?;
        for entry in fs::read_dir(self.tmp_dir())? {
            let _ = fs::remove_file(entry?.path());
        }
        Ok(())
    }

    /// Where a file with this hash lives.
    pub fn blob_path(&self, hash: &ContentHash) -> PathBuf {
        let hex = hash.hex();
        self.root.join(&hex[..2]).join(hex)
    }

    /// A new, empty temporary file, removed when dropped unless placed.
    pub fn temp(&self) -> io::Result<TempFile> {
        let mut name = [0u8; 12];
        getrandom::fill(&mut name).map_err(|e| io::Error::other(e.to_string()))?;
        let name: String = name.iter().map(|b| format!("{b:02x}")).collect();
        let path = self.tmp_dir().join(name);
        let file = OpenOptions::new().write(true).read(true).create_new(true).open(&path)?;
        Ok(TempFile { path, file: Some(file) })
    }

    /// Moves a finished temporary file to its content address. An identical file already there
    /// is replaced by the same bytes (rename is atomic), so a reader never sees a partial file.
    pub fn place(&self, mut temp: TempFile, hash: &ContentHash) -> io::Result<()> {
        let target = self.blob_path(hash);
        if let Some(dir) = target.parent() {
            fs::create_dir_all(dir)?;
        }
        if let Some(file) = temp.file.take() {
            file.sync_all()?;
        }
        fs::rename(&temp.path, &target)?;
        temp.path = PathBuf::new();
        Ok(())
    }

    /// Moves a file no row refers to into the trash (a missing file is not an error).
    pub fn trash(&self, hash: &ContentHash) -> io::Result<bool> {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        match fs::rename(self.blob_path(hash), self.trash_dir().join(format!("{now}-{}", hash.hex()))) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Deletes trashed files older than `keep`; how many.
    pub fn empty_trash(&self, keep: Duration) -> io::Result<usize> {
        let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut removed = 0;
        for entry in fs::read_dir(self.trash_dir())? {
            let entry = entry?;
            let name = entry.file_name();
            let since: u64 = name.to_string_lossy().split('-').next().and_then(|s| s.parse().ok()).unwrap_or(0);
            if now.saturating_sub(since) >= keep.as_secs() && fs::remove_file(entry.path()).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Removes temporary files older than `age` (uploads abandoned without their worker
    /// noticing, which cannot happen short of a bug; a safety net).
    pub fn clean_tmp(&self, age: Duration) -> io::Result<()> {
        for entry in fs::read_dir(self.tmp_dir())? {
            let entry = entry?;
            let old = entry.metadata()?.modified()?.elapsed().is_ok_and(|e| e >= age);
            if old {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(())
    }

    /// Every stored file (not the temporary or trashed ones).
    pub fn list(&self) -> io::Result<Vec<ContentHash>> {
        let mut out = Vec::new();
        for dir in fs::read_dir(&self.root)? {
            let dir = dir?;
            let name = dir.file_name();
            let name = name.to_string_lossy();
            if name.len() != 2 || !dir.file_type()?.is_dir() {
                continue;
            }
            for entry in fs::read_dir(dir.path())? {
                if let Some(hash) = ContentHash::parse(&entry?.file_name().to_string_lossy()) {
                    out.push(hash);
                }
            }
        }
        Ok(out)
    }

    /// Where a backup finds a file: its place, or the trash (deleted after the databases were
    /// copied).
    pub fn locate(&self, hash: &ContentHash, trash: &[(String, PathBuf)]) -> Option<PathBuf> {
        let path = self.blob_path(hash);
        if path.exists() {
            return Some(path);
        }
        let hex = hash.hex();
        trash.iter().find(|(h, _)| *h == hex).map(|(_, p)| p.clone())
    }

    /// The trash's files as `(hash hex, path)`, for a backup.
    pub fn trash_entries(&self) -> Vec<(String, PathBuf)> {
        let Ok(dir) = fs::read_dir(self.trash_dir()) else { return Vec::new() };
        dir.filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let hex = name.split_once('-')?.1.to_string();
                Some((hex, e.path()))
            })
            .collect()
    }

    /// Bytes available to us on the store's file system (`statvfs`).
    pub fn free_space(&self) -> io::Result<u64> {
        free_space(&self.root)
    }
}

#[cfg(unix)]
fn free_space(path: &Path) -> io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c_path = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: an all-zero `statvfs` is a valid value of this plain C struct.
    let mut stat: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c_path` is a NUL-terminated string alive for the call, and `stat` is a valid,
    // exclusive pointer to a live `statvfs` that the call fills in.
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut stat) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((stat.f_bavail as u64).saturating_mul(stat.f_frsize as u64))
}

#[cfg(not(unix))]
fn free_space(_path: &Path) -> io::Result<u64> {
    Ok(u64::MAX)
}

/// A file in `files/tmp/`, deleted when dropped unless [`Store::place`] took it: an upload cut
/// short, refused or failed leaves nothing behind.
pub struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The open file, for writing (and reading back).
    pub fn file(&mut self) -> io::Result<&mut File> {
        self.file.as_mut().ok_or_else(|| io::Error::other("temporary file already closed"))
    }

    /// A writer that hashes and counts what goes through it.
    pub fn hashing_writer(&mut self) -> io::Result<HashingWriter<'_>> {
        Ok(HashingWriter { out: BufWriter::with_capacity(64 * 1024, self.file()?), hasher: Blake2s256::new(), len: 0 })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            self.file.take();
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Writes to a temporary file, hashing the bytes on the way.
pub struct HashingWriter<'a> {
    out: BufWriter<&'a mut File>,
    hasher: Blake2s256,
    len: u64,
}

impl HashingWriter<'_> {
    /// Flushes; the hash and length of everything written.
    pub fn finish(mut self) -> io::Result<(ContentHash, u64)> {
        self.out.flush()?;
        Ok((ContentHash(self.hasher.finalize().into()), self.len))
    }
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// The content hash of a file on disk (tests and checks).
pub fn hash_file(path: &Path) -> io::Result<ContentHash> {
    let mut file = File::open(path)?;
    let mut hasher = Blake2s256::new();
    io::copy(&mut file, &mut HashSink(&mut hasher))?;
    Ok(ContentHash(hasher.finalize().into()))
}

struct HashSink<'a>(&'a mut Blake2s256);

impl Write for HashSink<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (Store, PathBuf) {
        let dir = std::env::temp_dir().join(format!("mychat-store-{}-{}", std::process::id(), rand_suffix()));
        let store = Store::new(&dir);
        store.prepare().unwrap();
        (store, dir)
    }

    fn rand_suffix() -> u64 {
        let mut b = [0u8; 8];
        getrandom::fill(&mut b).unwrap();
        u64::from_le_bytes(b)
    }

    #[test]
    fn hashes_print_and_parse() {
        let h = ContentHash([0xab; 32]);
        assert_eq!(ContentHash::parse(&h.hex()), Some(h));
        assert_eq!(ContentHash::parse("xyz"), None);
        assert_eq!(ContentHash::parse(&"A".repeat(64)), None);
    }

    #[test]
    fn a_temp_file_is_gone_unless_placed_and_placing_twice_keeps_one() {
        let (store, dir) = store();
        let mut t = store.temp().unwrap();
        let path = t.path().to_path_buf();
        t.file().unwrap().write_all(b"x").unwrap();
        drop(t);
        assert!(!path.exists());
        let mut hashes = Vec::new();
        for _ in 0..2 {
            let mut t = store.temp().unwrap();
            let mut w = t.hashing_writer().unwrap();
            w.write_all(b"same bytes").unwrap();
            let (hash, len) = w.finish().unwrap();
            assert_eq!(len, 10);
            store.place(t, &hash).unwrap();
            hashes.push(hash);
        }
        assert_eq!(hashes[0], hashes[1]);
        assert_eq!(store.list().unwrap(), vec![hashes[0]]);
        assert_eq!(hash_file(&store.blob_path(&hashes[0])).unwrap(), hashes[0]);
        assert_eq!(fs::read_dir(dir.join("files/tmp")).unwrap().count(), 0);
        assert!(store.trash(&hashes[0]).unwrap());
        assert!(store.list().unwrap().is_empty());
        assert!(store.locate(&hashes[0], &store.trash_entries()).is_some());
        assert_eq!(store.empty_trash(Duration::from_secs(3600)).unwrap(), 0);
        assert_eq!(store.empty_trash(Duration::ZERO).unwrap(), 1);
        assert!(store.locate(&hashes[0], &store.trash_entries()).is_none());
        assert!(store.free_space().unwrap() > 0);
        let _ = fs::remove_dir_all(dir);
    }
}
