//! The janitor thread: moves stored files that no row refers to into the trash, empties the
//! trash of what has been there a day, and removes abandoned temporary files. The hub decides
//! what is referenced (it owns the database) but never touches a file; the janitor touches files
//! but decides nothing: it asks through a [`Registry`], which marks each hash it hands out as
//! "being trashed" until told it is done, and refuses uploads of that hash meanwhile. So a file
//! is never moved away under a row that was just written for it.
//!
//! It wakes when nudged (the hub deleted rows) and every [`SWEEP_EVERY`] for a full sweep of the
//! store, which also catches files left behind by a crash between a commit and a move.

use super::{ContentHash, Store, TRASH_KEEP};
use crossbeam_channel::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// A full sweep of the store this often (and once at start).
pub const SWEEP_EVERY: Duration = Duration::from_secs(6 * 3600);
/// Hashes asked about at once.
const BATCH: usize = 256;
/// A temporary file this old belongs to no upload (an upload's deadline is far shorter).
const TMP_MAX_AGE: Duration = Duration::from_secs(86_400);

/// The janitor's questions to whoever knows what is referenced (the hub). Each answers `None`
/// when it cannot be asked (the server is stopping or busy): the janitor tries again later.
pub trait Registry: Send {
    /// Hashes that rows stopped referring to and that are still unreferenced, now marked as
    /// being trashed.
    fn take_orphans(&self, max: usize) -> Option<Vec<ContentHash>>;
    /// Of `candidates` (stored files), those no row refers to, now marked as being trashed.
    fn claim_unreferenced(&self, candidates: Vec<ContentHash>) -> Option<Vec<ContentHash>>;
    /// These are in the trash (or were already gone): unmark them.
    fn trashed(&self, hashes: Vec<ContentHash>);
    /// A chance to queue thumbnails that were skipped (a full queue) or lost (a restart).
    fn retry_thumbnails(&self) {}
}

/// Why the janitor is woken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nudge {
    /// Rows were deleted: collect the files they leave unreferenced.
    Orphans,
    /// Many rows were deleted at once: sweep the whole store.
    Sweep,
}

/// Runs until `nudges` is disconnected (the hub has stopped).
pub fn run(store: Store, registry: Box<dyn Registry>, nudges: Receiver<Nudge>) {
    let mut next_sweep = Instant::now();
    loop {
        if Instant::now() >= next_sweep {
            next_sweep = Instant::now() + SWEEP_EVERY;
            sweep(&store, registry.as_ref());
        }
        match nudges.recv_deadline(next_sweep) {
            Ok(first) => {
                let mut full = first == Nudge::Sweep;
                while let Ok(more) = nudges.try_recv() {
                    full |= more == Nudge::Sweep;
                }
                if full {
                    sweep(&store, registry.as_ref());
                } else {
                    collect_orphans(&store, registry.as_ref());
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

/// Moves what the registry hands out to the trash.
fn collect_orphans(store: &Store, registry: &dyn Registry) {
    while let Some(hashes) = registry.take_orphans(BATCH) {
        if hashes.is_empty() {
            log::debug!("janitor: no unreferenced files");
            return;
        }
        let full = hashes.len() == BATCH;
        trash(store, registry, hashes);
        if !full {
            return;
        }
    }
}

fn trash(store: &Store, registry: &dyn Registry, hashes: Vec<ContentHash>) {
    log::debug!("janitor: {} unreferenced files to the trash", hashes.len());
    for hash in &hashes {
        match store.trash(hash) {
            Ok(true) => log::debug!("file {hash} moved to the trash"),
            Ok(false) => {}
            Err(e) => log::warn!("could not move file {hash} to the trash: {e}"),
        }
    }
    registry.trashed(hashes);
}

/// Every stored file no row refers to goes to the trash; the trash and `tmp/` are emptied of
/// what is old enough.
pub fn sweep(store: &Store, registry: &dyn Registry) {
    collect_orphans(store, registry);
    match store.list() {
        Ok(all) => {
            for chunk in all.chunks(BATCH) {
                match registry.claim_unreferenced(chunk.to_vec()) {
                    Some(unreferenced) => trash(store, registry, unreferenced),
                    None => break,
                }
            }
        }
        Err(e) => log::warn!("could not list the stored files: {e}"),
    }
    match store.empty_trash(TRASH_KEEP) {
        Ok(0) => {}
        Ok(n) => log::info!("deleted {n} files from the trash"),
        Err(e) => log::warn!("could not empty the trash: {e}"),
    }
    if let Err(e) = store.clean_tmp(TMP_MAX_AGE) {
        log::warn!("could not clean the temporary files: {e}");
    }
    registry.retry_thumbnails();
}
