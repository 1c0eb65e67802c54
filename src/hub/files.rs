//! Uploaded files as the hub sees them: who may upload to and download from which
//! conversation, the limits (per file, per user, in all, uploads at once), the metadata rows,
//! and which stored objects no row refers to any more. The bytes are never touched here: workers
//! stream them (`http/files.rs`), the thumbnail pool and the janitor (`files/`) move them. The
//! hub hands the janitor only hashes, and marks each hash it hands out as being trashed until the
//! janitor is done, refusing uploads of that hash meanwhile (they retry), so a file is never
//! moved away under a row just written for it.
//!
//! The interface for messages (wired by the message pipeline): a message frame carries
//! `attachments: [id, …]`; the hub calls [`Hub::claim_attachments`] before storing it,
//! [`Hub::attachments_of`] for history pages and [`Hub::release_attachments`] when a message is
//! deleted.

use super::{Effect, Hub, UserId};
use crate::clock::{iso_now, unix_now};
use crate::db::{FileRow, MessageKind, released};
use crate::error::ApiError;
use crate::files::ContentHash;
use crate::files::janitor::Nudge;
use crate::identity::{Conversation, MessageRef};
use crate::protocol::{AttachmentItem, DiskUse};
use crossbeam_channel::Sender;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

/// The most attachments one message may carry.
pub use crate::protocol::MAX_ATTACHMENTS;
/// An upload no message claimed within this long is deleted.
pub const PENDING_LIFETIME: i64 = 86_400;
/// Rows expired per housekeeping round; more wait for the next.
const EXPIRE_BATCH: u32 = 256;
/// Up to this many deleted rows, each object is checked and handed to the janitor; beyond it
/// the janitor sweeps the whole store instead (one cheap listing rather than many lookups on
/// the hub).
const CHECK_EACH_UP_TO: usize = 256;

/// An upload the hub has allowed and reserved room for; the worker streams its body.
#[derive(Debug, Clone)]
pub struct UploadTicket {
    pub id: u64,
    pub conversation: Conversation,
}

/// What a worker learned about an upload's bytes.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub hash: ContentHash,
    pub size: i64,
    pub mime: String,
    pub name: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub orientation: u8,
    pub needs_thumb: bool,
}

/// How recording an upload went.
#[derive(Debug)]
pub enum Recorded {
    /// Stored as this (pending) attachment; place the file now.
    Stored(AttachmentItem),
    /// The janitor is moving an identical file to the trash this instant: ask again shortly.
    Retry,
}

/// How recording a thumbnail went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThumbRecorded {
    /// Recorded: place the file.
    Place,
    /// The file is gone: drop the thumbnail.
    Drop,
    /// An identical object is being trashed: ask again shortly.
    Retry,
}

/// What a worker needs to serve a file it may send.
#[derive(Debug, Clone)]
pub struct Served {
    pub hash: ContentHash,
    pub size: i64,
    pub mime: String,
    pub name: String,
}

/// A file to thumbnail (a retry of one the pool skipped).
#[derive(Debug, Clone)]
pub struct ThumbWanted {
    pub id: i64,
    pub hash: ContentHash,
    pub mime: String,
    pub orientation: u8,
}

struct Reservation {
    user: UserId,
    conversation: Conversation,
    size: i64,
}

#[derive(Default)]
pub(super) struct FileState {
    /// Bytes and files per uploader (files not expired).
    usage: HashMap<UserId, (i64, i64)>,
    /// Bytes of distinct stored objects (files and thumbnails).
    stored: i64,
    reservations: HashMap<u64, Reservation>,
    next_ticket: u64,
    /// Hashes rows stopped referring to, for the janitor to check and collect.
    orphans: Vec<String>,
    /// Hashes the janitor is moving to the trash.
    trashing: HashSet<String>,
    janitor: Option<Sender<Nudge>>,
    next_expiry: Option<Instant>,
}

impl FileState {
    pub fn load(&mut self, db: &crate::db::Db) -> rusqlite::Result<()> {
        self.usage = db.file_usage()?.into_iter().map(|(u, bytes, n)| (UserId::from(u), (bytes, n))).collect();
        self.stored = db.stored_bytes()?;
        Ok(())
    }

    fn reserved(&self) -> i64 {
        self.reservations.values().map(|r| r.size).sum()
    }

    fn reserved_by(&self, user: &UserId) -> i64 {
        self.reservations.values().filter(|r| r.user == *user).map(|r| r.size).sum()
    }

    pub fn next_expiry(&self) -> Option<Instant> {
        self.next_expiry
    }
}

/// `1.5 MiB`, for limit messages.
pub fn human_size(bytes: i64) -> String {
    let b = bytes.max(0) as f64;
    let (value, unit) = match bytes {
        n if n < 1 << 10 => return format!("{n} B"),
        n if n < 1 << 20 => (b / 1024.0, "KiB"),
        n if n < 1 << 30 => (b / 1048576.0, "MiB"),
        _ => (b / 1073741824.0, "GiB"),
    };
    let text = format!("{value:.1}");
    format!("{} {unit}", text.strip_suffix(".0").unwrap_or(&text))
}

fn attachment_item(f: &FileRow) -> AttachmentItem {
    let expired = f.hash.is_none();
    AttachmentItem {
        id: f.id,
        name: f.name.clone(),
        size: f.size,
        mime: f.mime.clone(),
        width: f.width,
        height: f.height,
        thumb: f.thumb_hash.is_some(),
        url: format!("/api/files/{}", f.id),
        thumb_url: f.thumb_hash.as_ref().map(|_| format!("/api/files/{}/thumb", f.id)),
        expired,
    }
}

fn parse_hash(text: &str) -> Option<ContentHash> {
    ContentHash::parse(text)
}

impl Hub {
    /// Where the janitor hears that rows were deleted.
    pub fn set_janitor(&mut self, nudges: Sender<Nudge>) {
        self.files.janitor = Some(nudges);
        self.files.next_expiry = Some(Instant::now());
    }

    /// Wakes the janitor once the batch has committed (never before: a failed commit brings the
    /// rows back).
    fn nudge_janitor(&mut self, nudge: Nudge) {
        if let Some(tx) = self.files.janitor.clone() {
            self.effects.push(Effect::Reply(Box::new(move || {
                let _ = tx.try_send(nudge);
            })));
        }
    }

    /// The conversation `to` names (`user:<id>` or `room:<id>`), if `user` may post in it.
    fn upload_conversation(&self, user: &UserId, to: &str) -> Result<Conversation, ApiError> {
        match to.split_once(':') {
            Some(("user", target)) => {
                let target =
                    self.accounts.get(target).map(|u| u.id.clone()).ok_or(ApiError::NotFound("no such user"))?;
                Ok(Conversation::private(user, &target))
            }
            Some(("room", room)) => Ok(Conversation::Room(self.rooms.require_member(room, user)?.id.clone())),
            _ => Err(ApiError::bad_request("to must be user:<id> or room:<id>")),
        }
    }

    /// Whether `user` takes part in `conversation` now.
    fn in_conversation(&self, user: &UserId, conversation: &Conversation) -> Result<(), ApiError> {
        match conversation {
            Conversation::Private { a, b } if a == user || b == user => Ok(()),
            Conversation::Private { .. } => Err(ApiError::Forbidden("you are not in this conversation")),
            Conversation::Room(room) => self.rooms.require_member(room, user).map(|_| ()),
        }
    }

    /// `POST /api/files`, before a byte of the body is read: may `user` upload `size` bytes to
    /// `to`? Reserves the room under every limit until [`Hub::record_upload`] or
    /// [`Hub::end_upload`].
    pub fn begin_upload(&mut self, user: &UserId, to: &str, size: u64) -> Result<UploadTicket, ApiError> {
        let conversation = self.upload_conversation(user, to)?;
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        let config = &self.config;
        let per_file = config.max_file_size as i64;
        if size > per_file {
            return Err(ApiError::TooLarge(
                format!("the file is too large: {}, at most {} per file", human_size(size), human_size(per_file))
                    .into(),
            ));
        }
        if self.files.reservations.len() >= config.max_uploads {
            return Err(ApiError::Unavailable("too many uploads at once, try again in a moment"));
        }
        let quota = config.user_file_quota as i64;
        let used = self.files.usage.get(user).map_or(0, |u| u.0) + self.files.reserved_by(user);
        if used.saturating_add(size) > quota {
            return Err(ApiError::TooLarge(
                format!(
                    "your files take {} of your {}; this one ({}) does not fit — delete some first",
                    human_size(used),
                    human_size(quota),
                    human_size(size)
                )
                .into(),
            ));
        }
        let total = config.total_file_quota as i64;
        if (self.files.stored + self.files.reserved()).saturating_add(size) > total {
            return Err(ApiError::TooLarge(
                format!(
                    "the server's file storage is full ({} of {} used)",
                    human_size(self.files.stored),
                    human_size(total)
                )
                .into(),
            ));
        }
        self.files.next_ticket += 1;
        let id = self.files.next_ticket;
        self.files
            .reservations
            .insert(id, Reservation { user: user.clone(), conversation: conversation.clone(), size });
        Ok(UploadTicket { id, conversation })
    }

    /// An upload ended without being recorded (refused, cut short, failed): its reservation
    /// goes. Harmless after [`Hub::record_upload`].
    pub fn end_upload(&mut self, ticket: u64) {
        self.files.reservations.remove(&ticket);
    }

    /// The upload's bytes are in a temporary file: store its row (pending until a message
    /// claims it). The uploader must still be in the conversation.
    pub fn record_upload(&mut self, ticket: u64, file: NewUpload) -> Result<Recorded, ApiError> {
        let Some(reservation) = self.files.reservations.get(&ticket) else {
            return Err(ApiError::Unavailable("the upload took too long, try again"));
        };
        let (user, conversation) = (reservation.user.clone(), reservation.conversation.clone());
        self.in_conversation(&user, &conversation)?;
        let hex = file.hash.hex();
        if self.files.trashing.contains(&hex) {
            return Ok(Recorded::Retry);
        }
        let known = self.db.object_referenced(&hex).map_err(|e| self.internal(e))?;
        let row = FileRow {
            id: 0,
            hash: Some(hex),
            size: file.size,
            mime: file.mime,
            name: file.name,
            uploader: user.to_string(),
            conversation,
            message: None,
            width: file.width,
            height: file.height,
            orientation: i64::from(file.orientation),
            thumb_hash: None,
            thumb_size: None,
            thumb_mime: None,
            needs_thumb: file.needs_thumb,
            created_at: iso_now(),
            created_unix: unix_now(),
        };
        let id = self.db.insert_file(&row).map_err(|e| self.internal(e))?;
        self.files.reservations.remove(&ticket);
        let usage = self.files.usage.entry(user).or_default();
        usage.0 += row.size;
        usage.1 += 1;
        if !known {
            self.files.stored += row.size;
        }
        Ok(Recorded::Stored(attachment_item(&FileRow { id, ..row })))
    }

    /// An upload's row whose file could not be stored: the row goes too.
    pub fn discard_upload(&mut self, id: i64) {
        match self.db.delete_pending_file(id) {
            Ok(rows) => self.forget_files(rows),
            Err(e) => log::error!("could not delete a failed upload's row: {e}"),
        }
    }

    /// The thumbnail pool made a thumbnail of file `id`: record it.
    pub fn record_thumbnail(&mut self, id: i64, hash: ContentHash, size: i64, mime: &str) -> ThumbRecorded {
        let hex = hash.hex();
        if self.files.trashing.contains(&hex) {
            return ThumbRecorded::Retry;
        }
        let known = self.db.object_referenced(&hex).unwrap_or(true);
        match self.db.set_thumbnail(id, &hex, size, mime) {
            Ok(true) => {
                if !known {
                    self.files.stored += size;
                }
                ThumbRecorded::Place
            }
            Ok(false) => ThumbRecorded::Drop,
            Err(e) => {
                log::error!("could not record a thumbnail: {e}");
                ThumbRecorded::Drop
            }
        }
    }

    /// A thumbnail could not be made (the image does not decode): not asked for again.
    pub fn thumbnail_failed(&mut self, id: i64) {
        if let Err(e) = self.db.give_up_thumbnail(id) {
            log::warn!("could not record a failed thumbnail: {e}");
        }
    }

    /// Up to `max` files whose thumbnail is wanted and missing.
    pub fn thumbnails_wanted(&self, max: u32) -> Vec<ThumbWanted> {
        let rows = self.db.files_missing_thumbnails(max).unwrap_or_else(|e| {
            log::warn!("could not list missing thumbnails: {e}");
            Vec::new()
        });
        rows.into_iter()
            .filter_map(|f| {
                Some(ThumbWanted {
                    id: f.id,
                    hash: parse_hash(f.hash.as_deref()?)?,
                    mime: f.mime,
                    orientation: u8::try_from(f.orientation).unwrap_or(1),
                })
            })
            .collect()
    }

    /// `GET /api/files/{id}` (`thumb`: `/thumb`): the file, if `user` may see it — a member of
    /// its conversation, or for a file no message has claimed yet, its uploader only.
    pub fn file_for(&self, user: &UserId, id: i64, thumb: bool) -> Result<Served, ApiError> {
        let not_found = ApiError::NotFound("no such file");
        let row = self.db.file(id).map_err(|e| self.internal(e))?.ok_or(not_found.clone())?;
        if row.message.is_none() {
            if *row.uploader != **user {
                return Err(not_found);
            }
        } else {
            self.in_conversation(user, &row.conversation)?;
        }
        let Some(hash) = row.hash.as_deref() else {
            return Err(ApiError::Gone("this file is no longer kept: it expired, or its account was deleted"));
        };
        let (hash, size, mime) = if thumb {
            match (row.thumb_hash.as_deref(), row.thumb_size, row.thumb_mime) {
                (Some(h), Some(s), Some(m)) => (h, s, m),
                _ => return Err(ApiError::NotFound("this file has no thumbnail")),
            }
        } else {
            (hash, row.size, row.mime)
        };
        let hash = parse_hash(hash).ok_or(ApiError::Internal)?;
        Ok(Served { hash, size, mime, name: row.name })
    }

    /// Links pending uploads to the message that carries them: each id must be `uploader`'s,
    /// pending, and uploaded to `conversation`. All or nothing; the items for the message.
    pub fn claim_attachments(
        &mut self,
        uploader: &UserId,
        conversation: &Conversation,
        ids: &[i64],
        message: MessageRef,
    ) -> Result<Vec<AttachmentItem>, &'static str> {
        if ids.len() > MAX_ATTACHMENTS {
            return Err("at most 10 attachments per message");
        }
        let mut seen = HashSet::new();
        let mut rows = Vec::with_capacity(ids.len());
        for &id in ids {
            if !seen.insert(id) {
                return Err("an attachment is listed twice");
            }
            let row = match self.db.file(id) {
                Ok(Some(row)) => row,
                Ok(None) => return Err("no such attachment"),
                Err(e) => {
                    log::error!("attachment lookup failed: {e}");
                    return Err(super::NOT_SAVED);
                }
            };
            if *row.uploader != **uploader || row.conversation != *conversation {
                return Err("no such attachment");
            }
            if row.message.is_some() || row.hash.is_none() {
                return Err("that attachment was already sent");
            }
            rows.push(row);
        }
        if let Err(e) = self.db.attach_files(ids, message) {
            log::error!("could not attach files: {e}");
            return Err(super::NOT_SAVED);
        }
        Ok(rows.iter().map(|f| attachment_item(&FileRow { message: Some(message), ..f.clone() })).collect())
    }

    /// The attachments of these messages (a history page), each message's in upload order.
    pub fn attachments_of(&self, messages: &[MessageRef]) -> HashMap<MessageRef, Vec<AttachmentItem>> {
        let mut out: HashMap<MessageRef, Vec<AttachmentItem>> = HashMap::new();
        let private: Vec<i64> =
            messages.iter().filter_map(|m| if let MessageRef::Private(id) = m { Some(*id) } else { None }).collect();
        let room: Vec<i64> =
            messages.iter().filter_map(|m| if let MessageRef::Room(id) = m { Some(*id) } else { None }).collect();
        for (kind, ids) in [(MessageKind::Private, private), (MessageKind::Room, room)] {
            if ids.is_empty() {
                continue;
            }
            match self.db.files_of_messages(kind, &ids) {
                Ok(rows) => {
                    for f in rows {
                        if let Some(m) = f.message {
                            out.entry(m).or_default().push(attachment_item(&f));
                        }
                    }
                }
                Err(e) => log::error!("could not load attachments: {e}"),
            }
        }
        out
    }

    /// A message was deleted: its files go (their bytes once nothing else refers to them).
    pub fn release_attachments(&mut self, message: MessageRef) {
        match self.db.delete_files_of_message(message) {
            Ok(rows) => self.forget_files(rows),
            Err(e) => log::error!("could not delete a message's files: {e}"),
        }
    }

    /// A room was deleted: every file uploaded to it goes.
    pub(super) fn release_room_files(&mut self, room: &str) {
        match self.db.delete_files_of_room(room) {
            Ok(rows) => self.forget_files(rows),
            Err(e) => log::error!("could not delete a room's files: {e}"),
        }
    }

    /// An account is being deleted: every file it uploaded goes, from every conversation.
    pub fn delete_files_of_user(&mut self, user: &UserId) -> Result<usize, ApiError> {
        let rows = self.db.delete_files_of_uploader(user).map_err(|e| self.internal(e))?;
        let n = rows.len();
        self.forget_files(rows);
        self.files.usage.remove(user);
        Ok(n)
    }

    /// Disk use per user (files not expired), largest first: for the admin view.
    pub fn disk_use(&self) -> Vec<DiskUse> {
        let mut out: Vec<DiskUse> = self
            .files
            .usage
            .iter()
            .filter(|(_, (_, n))| *n > 0)
            .map(|(id, (bytes, n))| DiskUse {
                user_id: id.clone(),
                name: self.accounts.get(id).map_or_else(|| id.clone(), |u| u.name.clone()),
                bytes: *bytes,
                files: *n,
            })
            .collect();
        out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.name.cmp(&b.name)));
        out
    }

    /// `GET /api/admin/files`: the bytes the store holds, and the `limit` users whose uploads
    /// take the most (`more`: others have files too).
    pub fn admin_disk_use(&self, admin: &UserId, limit: usize) -> Result<(i64, Vec<DiskUse>, bool), ApiError> {
        self.require_admin(admin)?;
        let mut users = self.disk_use();
        let more = users.len() > limit;
        users.truncate(limit);
        Ok((self.stored_bytes(), users, more))
    }

    /// Bytes of all stored objects, as the total limit counts them.
    pub fn stored_bytes(&self) -> i64 {
        self.files.stored
    }

    /// Rows are gone (or expired): usage shrinks, and objects nothing refers to any more are
    /// handed to the janitor.
    fn forget_files(&mut self, rows: Vec<FileRow>) {
        if rows.is_empty() {
            return;
        }
        for f in rows.iter().filter(|f| f.hash.is_some()) {
            if let Some(u) = self.files.usage.get_mut(f.uploader.as_str()) {
                u.0 -= f.size;
                u.1 -= 1;
            }
        }
        let objects = released(&rows);
        if objects.len() > CHECK_EACH_UP_TO {
            match self.db.stored_bytes() {
                Ok(bytes) => self.files.stored = bytes,
                Err(e) => log::warn!("could not total the stored files: {e}"),
            }
            self.nudge_janitor(Nudge::Sweep);
            return;
        }
        let mut checked = HashSet::new();
        for (hash, size) in objects {
            if !checked.insert(hash.clone()) {
                continue;
            }
            if !self.db.object_referenced(&hash).unwrap_or(true) {
                self.files.stored -= size;
                self.files.orphans.push(hash);
            }
        }
        self.nudge_janitor(Nudge::Orphans);
    }

    /// The janitor: up to `max` objects rows stopped referring to that are still unreferenced,
    /// marked as being trashed.
    pub fn take_orphans(&mut self, max: usize) -> Vec<ContentHash> {
        let n = self.files.orphans.len().min(max);
        let candidates: Vec<String> = self.files.orphans.drain(..n).collect();
        self.claim(candidates)
    }

    /// The janitor's sweep: of these stored objects, those no row refers to, marked as being
    /// trashed.
    pub fn claim_unreferenced(&mut self, candidates: Vec<ContentHash>) -> Vec<ContentHash> {
        self.claim(candidates.iter().map(ContentHash::hex).collect())
    }

    fn claim(&mut self, candidates: Vec<String>) -> Vec<ContentHash> {
        let mut out = Vec::new();
        for hex in candidates {
            if self.files.trashing.contains(&hex) || self.db.object_referenced(&hex).unwrap_or(true) {
                continue;
            }
            if let Some(hash) = parse_hash(&hex) {
                self.files.trashing.insert(hex);
                out.push(hash);
            }
        }
        out
    }

    /// The janitor has moved these to the trash.
    pub fn trashed(&mut self, hashes: Vec<ContentHash>) {
        for hash in hashes {
            self.files.trashing.remove(&hash.hex());
        }
    }

    /// Timed: uploads never sent in a message expire after a day; with `--file-retention`,
    /// older files expire (the row stays, marked expired). In bounded rounds.
    pub(super) fn expire_files(&mut self, now: Instant) {
        self.expire_files_at(now, unix_now());
    }

    pub(super) fn expire_files_at(&mut self, now: Instant, now_unix: i64) {
        let retention = self.config.file_retention;
        let every = retention
            .map_or(Duration::from_secs(60), |r| (r / 2).clamp(Duration::from_secs(1), Duration::from_secs(60)));
        let mut more = false;
        match self.db.expire_pending(now_unix - PENDING_LIFETIME, EXPIRE_BATCH) {
            Ok(rows) => {
                more |= rows.len() as u32 == EXPIRE_BATCH;
                if !rows.is_empty() {
                    log::info!("{} uploads never sent in a message expired", rows.len());
                }
                self.forget_files(rows);
            }
            Err(e) => log::warn!("could not expire pending uploads: {e}"),
        }
        if let Some(retention) = retention {
            match self.db.expire_retained(now_unix - retention.as_secs() as i64, EXPIRE_BATCH) {
                Ok(rows) => {
                    more |= rows.len() as u32 == EXPIRE_BATCH;
                    if !rows.is_empty() {
                        log::info!("{} files older than the retention period expired", rows.len());
                    }
                    self.forget_files(rows);
                }
                Err(e) => log::warn!("could not expire old files: {e}"),
            }
        }
        self.files.next_expiry = Some(now + if more { Duration::from_millis(100) } else { every });
    }
}
