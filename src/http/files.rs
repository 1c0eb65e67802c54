//! Files over HTTP: `POST /api/files` streams an upload to disk on the worker, and
//! `GET /api/files/{id}` (`/thumb`) sends one back; plus the glue that lets the thumbnail pool
//! and the janitor (`files/`, which knows nothing of the hub) ask the hub.
//!
//! An upload is checked with the hub — session, membership, every limit — before a byte of its
//! body is read; then it is hashed while it is written to `files/tmp/`, its type sniffed, an
//! image's metadata stripped (the served bytes are what is hashed), its row recorded, and only
//! then is the file moved to its content address. Any refusal or failure on the way drops the
//! temporary file. A download of more than [`INLINE_SEND`] bytes is handed with its connection
//! to a sender thread of its own (at most [`MAX_SENDERS`]), so a slow phone fetching a video
//! never holds a worker.

use super::Ctx;
use super::origin::check_same_origin;
use super::request::{BodyError, HttpConn, Request};
use super::response::Response;
use crate::accept::ConnPermit;
use crate::config::Config;
use crate::error::ApiError;
use crate::files::janitor::{self, Nudge, Registry};
use crate::files::sniff::{self, ImageFormat, SNIFF_BYTES};
use crate::files::thumbs::{self, Job, Pool, Thumb};
use crate::files::{ContentHash, Store, meta};
use crate::hub::{Command, HubClient, NewUpload, Recorded, Served, ThumbRecorded};
use crossbeam_channel::Receiver;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The slowest average rate an upload may arrive at (after [`UPLOAD_GRACE`]): a 25 MiB photo
/// album over a poor mobile link passes, a client trickling bytes to hold a worker does not.
pub const UPLOAD_MIN_RATE: u64 = 16 * 1024;
/// Time every upload gets on top of its size at [`UPLOAD_MIN_RATE`].
const UPLOAD_GRACE: Duration = Duration::from_secs(10);
/// Images with more pixels than this are refused before decoding (decompression bombs).
pub const MAX_PIXELS: u64 = 40_000_000;
/// Downloads up to this size are sent by the worker on the kept-alive connection.
pub const INLINE_SEND: u64 = 256 * 1024;
/// Sender threads at once; a larger download beyond them is refused with 503.
pub const MAX_SENDERS: usize = 64;
/// A sender thread's stack: it only calls `sendfile`.
const SENDER_STACK: usize = 64 * 1024;
/// How long a refused upload's unread body is drained before the connection closes.
pub const LINGER: Duration = Duration::from_secs(2);
/// User content may never run script or be framed, whatever it is.
pub const USER_CONTENT_CSP: &str =
    "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'";

/// What the workers share for files.
pub struct Files {
    pub store: Store,
    thumbs: Pool,
    senders: Arc<AtomicUsize>,
}

impl Files {
    /// Prepares the store, starts the thumbnail pool and the janitor (which runs until the
    /// hub drops its end of `nudges`).
    pub fn start(config: &Config, hub: HubClient, nudges: Receiver<Nudge>) -> io::Result<Files> {
        let store = Store::new(&config.data_dir);
        store.prepare()?;
        let thumbs = Pool::start(store.clone(), config.thumbnail_threads, 32)?;
        let registry = HubRegistry { hub, store: store.clone(), thumbs: thumbs.clone() };
        let janitor_store = store.clone();
        std::thread::Builder::new()
            .name("janitor".into())
            .stack_size(256 * 1024)
            .spawn(move || janitor::run(janitor_store, Box::new(registry), nudges))?;
        Ok(Files { store, thumbs, senders: Arc::new(AtomicUsize::new(0)) })
    }
}

/// The janitor's and the thumbnail pool's way to the hub.
struct HubRegistry {
    hub: HubClient,
    store: Store,
    thumbs: Pool,
}

impl Registry for HubRegistry {
    fn take_orphans(&self, max: usize) -> Option<Vec<ContentHash>> {
        self.hub.ask(move |hub| hub.take_orphans(max)).ok()
    }

    fn claim_unreferenced(&self, candidates: Vec<ContentHash>) -> Option<Vec<ContentHash>> {
        self.hub.ask(move |hub| hub.claim_unreferenced(candidates)).ok()
    }

    fn trashed(&self, hashes: Vec<ContentHash>) {
        // Until the hub hears it, uploads of these hashes wait: keep telling it.
        for _ in 0..30 {
            let hashes = hashes.clone();
            if self.hub.ask(move |hub| hub.trashed(hashes)).is_ok() {
                return;
            }
        }
        log::error!("could not tell the hub that {} files were trashed", hashes.len());
    }

    fn retry_thumbnails(&self) {
        let Ok(wanted) = self.hub.ask(|hub| hub.thumbnails_wanted(16)) else { return };
        for w in wanted {
            let Some(format) = ImageFormat::from_mime(&w.mime) else { continue };
            let job = thumbnail_job(&self.hub, &self.store, w.id, &w.hash, format, w.orientation);
            if !self.thumbs.submit(job) {
                return;
            }
        }
    }
}

/// A thumbnail job for file `id`; its result is recorded with the hub, then placed.
fn thumbnail_job(
    hub: &HubClient,
    store: &Store,
    id: i64,
    hash: &ContentHash,
    format: ImageFormat,
    orientation: u8,
) -> Job {
    let hub = hub.clone();
    let store = store.clone();
    Job {
        source: store.blob_path(hash),
        format,
        orientation,
        done: Box::new(move |result: Result<Thumb, String>| match result {
            Ok(thumb) => {
                let Thumb { temp, hash, size, mime, .. } = thumb;
                for _ in 0..100 {
                    let mime = mime.to_string();
                    match hub.ask(move |hub| hub.record_thumbnail(id, hash, size as i64, &mime)) {
                        Ok(ThumbRecorded::Place) => {
                            if let Err(e) = store.place(temp, &hash) {
                                log::error!("could not store a thumbnail: {e}");
                            }
                            return;
                        }
                        Ok(ThumbRecorded::Retry) => std::thread::sleep(Duration::from_millis(20)),
                        Ok(ThumbRecorded::Drop) | Err(_) => return,
                    }
                }
            }
            Err(_) => {
                let _ = hub.ask(move |hub| hub.thumbnail_failed(id));
            }
        }),
    }
}

/// Gives an upload's reservation back when the upload ends, however it ends.
struct Ticket {
    hub: HubClient,
    id: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let id = self.id;
        self.hub.tell(Command::Ask { job: Box::new(move |hub| hub.end_upload(id)), name: "end upload" });
    }
}

/// An upload's outcome: the answer, and whether the body was read (else the connection must
/// close after lingering).
pub struct UploadAnswer {
    pub response: Response,
    pub body_read: bool,
}

/// POST /api/files?to=user:<id>|room:<id>&name=<file name> — the raw bytes as the body, with a
/// Content-Length. 201 with the pending attachment `{id, name, size, type, width?, height?,
/// thumb, url, thumb_url?}`; a message claims it by id.
pub fn upload(ctx: &Ctx, conn: &mut HttpConn, request: &Request) -> UploadAnswer {
    let mut body_read = false;
    let result = receive(ctx, conn, request, &mut body_read);
    let response = match result {
        Ok(item) => Response::json(201, &item),
        Err(error) => super::pages::error_response(ctx, request, &error),
    };
    UploadAnswer { response, body_read }
}

fn receive(
    ctx: &Ctx,
    conn: &mut HttpConn,
    request: &Request,
    body_read: &mut bool,
) -> Result<crate::protocol::AttachmentItem, ApiError> {
    check_same_origin(ctx, request)?;
    let user = ctx.require_user(request)?.id;
    let to = request.query_param("to").ok_or_else(|| ApiError::bad_request("to=user:<id> or room:<id> is missing"))?;
    let name = clean_name(request.query_param("name").as_deref());
    let length = request.streamed_length;
    if length == 0 {
        return Err(ApiError::bad_request("the file is empty"));
    }
    let files = &ctx.files;
    let free = files.store.free_space().map_err(|e| {
        log::error!("statvfs on the file store failed: {e}");
        ApiError::Internal
    })?;
    if free.saturating_sub(length) < ctx.config.min_free_space {
        log::warn!("upload of {length} bytes refused: {free} bytes free, the floor is {}", ctx.config.min_free_space);
        return Err(ApiError::TooLarge("the server's disk is nearly full, so uploads are refused".into()));
    }
    let ticket = {
        let user = user.clone();
        ctx.hub.ask(move |hub| hub.begin_upload(&user, &to, length))??
    };
    let ticket = Ticket { hub: ctx.hub.clone(), id: ticket.id };
    conn.send_continue(request);

    // The body, hashed on its way to a temporary file.
    let started = Instant::now();
    let mut temp = files.store.temp().map_err(internal)?;
    let deadline = started + UPLOAD_GRACE + Duration::from_secs(length / UPLOAD_MIN_RATE);
    let (mut hash, mut size) = {
        let mut writer = temp.hashing_writer().map_err(internal)?;
        match conn.stream_body(length, &mut writer, deadline) {
            Ok(()) => {}
            Err(BodyError::Closed) => {
                log::info!("{} upload cut short: the client went away", request.peer);
                return Err(ApiError::bad_request("the upload was cut short"));
            }
            Err(BodyError::TimedOut) => {
                log::info!("{} upload too slow: refused", request.peer);
                return Err(ApiError::Timeout);
            }
            Err(BodyError::Sink(e)) => return Err(internal(e)),
        }
        *body_read = true;
        writer.finish().map_err(internal)?
    };

    let head = read_head(temp.file().map_err(internal)?)?;
    let mut mime = sniff::sniff(&head).to_string();
    let (mut width, mut height, mut orientation, mut needs_thumb) = (None, None, 1u8, false);
    if let Some(format) = sniff::sniff_image(&head) {
        let file = temp.file().map_err(internal)?;
        file.seek(SeekFrom::Start(0)).map_err(internal)?;
        let (w, h) = meta::dimensions(format, BufReader::new(&mut *file))
            .map_err(|e| ApiError::bad_request(format!("the image could not be read: {e}")))?;
        if u64::from(w) * u64::from(h) > MAX_PIXELS {
            return Err(ApiError::TooLarge(
                format!("the image is too large: {w}×{h} pixels, at most {} megapixels", MAX_PIXELS / 1_000_000).into(),
            ));
        }
        let mut stripped = files.store.temp().map_err(internal)?;
        {
            let mut writer = stripped.hashing_writer().map_err(internal)?;
            orientation = meta::strip(format, temp.file().map_err(internal)?, &mut writer).map_err(|e| {
                if e.kind() == io::ErrorKind::InvalidData || e.kind() == io::ErrorKind::UnexpectedEof {
                    ApiError::bad_request(format!("the image could not be read: {e}"))
                } else {
                    internal(e)
                }
            })?;
            (hash, size) = writer.finish().map_err(internal)?;
        }
        temp = stripped;
        let (w, h) = if (5..=8).contains(&orientation) { (h, w) } else { (w, h) };
        (width, height) = (Some(i64::from(w)), Some(i64::from(h)));
        needs_thumb = w > thumbs::BOX || h > thumbs::BOX || orientation != 1;
        mime = format.mime().to_string();
    }

    let upload = NewUpload { hash, size: size as i64, mime, name, width, height, orientation, needs_thumb };
    let item = record(ctx, ticket.id, upload)?;
    if let Err(e) = files.store.place(temp, &hash) {
        log::error!("could not store an upload: {e}");
        let id = item.id;
        let _ = ctx.hub.ask(move |hub| hub.discard_upload(id));
        return Err(ApiError::Internal);
    }
    drop(ticket);
    if needs_thumb && let Some(format) = ImageFormat::from_mime(&item.mime) {
        files.thumbs.submit(thumbnail_job(&ctx.hub, &files.store, item.id, &hash, format, orientation));
    }
    log::info!(
        "{} uploaded file {} ({} bytes, {}) in {:.0} ms",
        request.peer,
        item.id,
        item.size,
        item.mime,
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(item)
}

/// Records the upload's row; waits while the janitor trashes an identical file.
fn record(ctx: &Ctx, ticket: u64, upload: NewUpload) -> Result<crate::protocol::AttachmentItem, ApiError> {
    for _ in 0..250 {
        let attempt = upload.clone();
        match ctx.hub.ask(move |hub| hub.record_upload(ticket, attempt))?? {
            Recorded::Stored(item) => return Ok(item),
            Recorded::Retry => std::thread::sleep(Duration::from_millis(20)),
        }
    }
    Err(ApiError::Unavailable("the server is busy, try again"))
}

fn internal(e: io::Error) -> ApiError {
    log::error!("file store: {e}");
    ApiError::Internal
}

fn read_head(file: &mut File) -> Result<Vec<u8>, ApiError> {
    file.seek(SeekFrom::Start(0)).map_err(internal)?;
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    file.take(SNIFF_BYTES as u64).read_to_end(&mut head).map_err(internal)?;
    Ok(head)
}

/// The name as given, without any path, control characters or surrounding spaces, at most
/// 200 characters; `file` if nothing is left. It is only ever shown and offered as a download
/// name, never used as a path.
pub fn clean_name(raw: Option<&str>) -> String {
    let raw = raw.unwrap_or("");
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." { "file".to_string() } else { cleaned.to_string() }
}

/// `Content-Disposition` with an ASCII fallback and the exact name (RFC 6266, RFC 5987).
pub fn disposition(kind: &str, name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| if (c.is_ascii_graphic() || c == ' ') && !"\"\\;%".contains(c) { c } else { '_' })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// A `Range` request, as we serve it.
#[derive(Debug, PartialEq, Eq)]
pub enum Range {
    /// No usable range (absent, several, malformed, another unit): the whole file.
    Full,
    /// Bytes `start..=end`.
    Part(u64, u64),
    Unsatisfiable,
}

/// One `bytes=` range against a file of `size` bytes.
pub fn parse_range(header: Option<&str>, size: u64) -> Range {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else { return Range::Full };
    if spec.contains(',') {
        return Range::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else { return Range::Full };
    let number = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) { None } else { s.parse().ok() }
    };
    match (number(first.trim()), number(last.trim())) {
        (Some(start), end) if last.trim().is_empty() || end.is_some() => {
            let end = end.unwrap_or(u64::MAX);
            if end < start {
                return Range::Full;
            }
            if start >= size {
                return Range::Unsatisfiable;
            }
            Range::Part(start, end.min(size - 1))
        }
        (None, Some(suffix)) if first.trim().is_empty() => {
            if suffix == 0 || size == 0 {
                Range::Unsatisfiable
            } else {
                Range::Part(size.saturating_sub(suffix), size - 1)
            }
        }
        _ => Range::Full,
    }
}

/// A file answer: the head, and the bytes to send after it.
pub struct Download {
    pub response: Response,
    body: Option<(File, u64, u64)>,
}

impl Download {
    /// Bytes of body to send.
    pub fn length(&self) -> u64 {
        self.body.as_ref().map_or(0, |(_, _, len)| *len)
    }
}

/// GET /api/files/{id} and /api/files/{id}/thumb — members of the file's conversation only (a
/// file not yet sent: its uploader only). The sniffed type, `nosniff` and a sandboxing CSP;
/// images inline, everything else as an attachment; single `Range`s (206, 416); the content
/// hash as ETag (`If-None-Match` → 304).
pub fn download(ctx: &Ctx, request: &Request, id: &str, thumb: bool) -> Result<Download, ApiError> {
    let user = ctx.require_user(request)?.id;
    let id: i64 = id.parse().ok().filter(|n| *n > 0).ok_or(ApiError::NotFound("no such file"))?;
    let Served { hash, size, mime, name } = ctx.hub.ask(move |hub| hub.file_for(&user, id, thumb))??;
    let size = u64::try_from(size).unwrap_or(0);
    let etag = format!("\"{}\"", hash.hex());
    let inline = ImageFormat::from_mime(&mime).is_some();
    let name = if thumb { format!("thumb-{name}") } else { name };
    let head = |status: u16| {
        Response::new(status)
            .with_header("etag", etag.clone())
            .with_header("cache-control", "private, no-cache")
            .with_header("content-security-policy", USER_CONTENT_CSP)
            .with_header("accept-ranges", "bytes")
    };
    if request.header("if-none-match").is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*")) {
        return Ok(Download { response: head(304), body: None });
    }
    let range = match request.header("if-range") {
        Some(tag) if tag.trim() != etag => Range::Full,
        _ => parse_range(request.header("range"), size),
    };
    let (status, start, length) = match range {
        Range::Full => (200, 0, size),
        Range::Part(start, end) => (206, start, end - start + 1),
        Range::Unsatisfiable => {
            let response = head(416).with_header("content-range", format!("bytes */{size}"));
            return Ok(Download { response, body: None });
        }
    };
    let mut file = File::open(ctx.files.store.blob_path(&hash)).map_err(|e| {
        log::error!("file {id} ({hash}) is missing from the store: {e}");
        ApiError::NotFound("the file is missing on the server")
    })?;
    if start > 0 {
        file.seek(SeekFrom::Start(start)).map_err(internal)?;
    }
    let mut response = head(status)
        .with_header("content-type", mime)
        .with_header("content-disposition", disposition(if inline { "inline" } else { "attachment" }, &name))
        .streamed(length);
    if status == 206 {
        response = response.with_header("content-range", format!("bytes {start}-{}/{size}", start + length - 1));
    }
    Ok(Download { response, body: Some((file, start, length)) })
}

impl Download {
    /// Whether a sender thread should send it (a body over [`INLINE_SEND`]).
    pub fn is_big(&self, request: &Request) -> bool {
        !request.is_head() && self.length() > INLINE_SEND
    }

    /// Writes the answer on this thread.
    pub fn send_here(self, stream: &mut TcpStream, request: &Request, keep_alive: bool) -> io::Result<()> {
        let head_only = request.is_head();
        self.response.write_to(stream, true, keep_alive, request.https)?;
        match (head_only, self.body) {
            (false, Some((file, _, length))) => copy_file(file, length, stream),
            _ => Ok(()),
        }
    }
}

/// One of the [`MAX_SENDERS`] sender threads, taken until dropped.
pub struct SenderSlot(Arc<AtomicUsize>);

impl Drop for SenderSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// A sender slot, if one is free.
pub fn sender_slot(ctx: &Ctx) -> Option<SenderSlot> {
    let senders = &ctx.files.senders;
    if senders.fetch_add(1, Ordering::SeqCst) >= MAX_SENDERS {
        senders.fetch_sub(1, Ordering::SeqCst);
        return None;
    }
    Some(SenderSlot(senders.clone()))
}

/// Hands the connection to a sender thread that writes the answer and closes it.
pub fn hand_off(slot: SenderSlot, mut stream: TcpStream, permit: ConnPermit, request: &Request, download: Download) {
    let https = request.https;
    let spawned = std::thread::Builder::new().name("file-sender".into()).stack_size(SENDER_STACK).spawn(move || {
        let (_slot, _permit) = (slot, permit);
        let Download { response, body } = download;
        let written = response.write_to(&mut stream, true, false, https).and_then(|()| match body {
            Some((file, _, length)) => copy_file(file, length, &mut stream),
            None => Ok(()),
        });
        if let Err(e) = written {
            log::debug!("download cut short: {e}");
        }
        let _ = stream.shutdown(std::net::Shutdown::Write);
    });
    if let Err(e) = spawned {
        log::error!("could not start a file sender: {e}");
    }
}

/// Copies `length` bytes of `file` (from its current position) to the socket; `sendfile` on
/// Linux, through std's copy specialisation.
fn copy_file(file: File, length: u64, stream: &mut TcpStream) -> io::Result<()> {
    let copied = io::copy(&mut file.take(length), stream)?;
    stream.flush()?;
    if copied == length { Ok(()) } else { Err(io::ErrorKind::UnexpectedEof.into()) }
}

/// The refusal for a big download while every sender is busy.
pub const SENDERS_BUSY: ApiError = ApiError::Unavailable("too many downloads at once, try again in a moment");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range(None, 10), Range::Full);
        assert_eq!(parse_range(Some("bytes=0-3"), 10), Range::Part(0, 3));
        assert_eq!(parse_range(Some("bytes=5-"), 10), Range::Part(5, 9));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), Range::Part(5, 9));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Range::Part(7, 9));
        assert_eq!(parse_range(Some("bytes=-30"), 10), Range::Part(0, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=4-2"), 10), Range::Full);
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 10), Range::Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), Range::Full);
        assert_eq!(parse_range(Some("bytes=x-1"), 10), Range::Full);
    }

    #[test]
    fn names_and_dispositions() {
        assert_eq!(clean_name(Some("../../etc/passwd")), "passwd");
        assert_eq!(clean_name(Some("C:\\Users\\me\\photo.jpg")), "photo.jpg");
        assert_eq!(clean_name(Some("  a\u{0}b\n.txt ")), "ab.txt");
        assert_eq!(clean_name(Some("..")), "file");
        assert_eq!(clean_name(None), "file");
        assert_eq!(
            disposition("attachment", "отчёт \"2024\".pdf"),
            "attachment; filename=\"_____ _2024_.pdf\"; filename*=UTF-8''%D0%BE%D1%82%D1%87%D1%91%D1%82%20%222024%22.pdf"
        );
    }
}
