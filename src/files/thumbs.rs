//! Thumbnails, made on a small pool of their own threads fed by a bounded queue: decoding a
//! 12-megapixel photo takes a good fraction of a second and a few dozen MiB, so it never runs on
//! the hub or holds a worker. When the queue is full the job is dropped with a log line (the
//! janitor offers it again later); the image is still shown, from the original.
//!
//! Decoding runs under [`image::Limits`] (and the upload refused anything over the pixel bound
//! from its header already), so a decompression bomb cannot take the memory. The EXIF
//! orientation is applied; the result fits in [`BOX`]×[`BOX`], as JPEG, or PNG for images with
//! transparency.

use super::sniff::ImageFormat;
use super::{ContentHash, Store, TempFile};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use image::{DynamicImage, ImageReader, Limits, metadata::Orientation};
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::PathBuf;
use std::time::Instant;

/// A thumbnail fits in a square this big.
pub const BOX: u32 = 800;
/// Memory one decode may allocate; a 40-megapixel RGBA image is 160 MiB.
const MAX_ALLOC: u64 = 192 << 20;
/// Pool threads' stacks; the decoders keep their buffers on the heap.
const STACK: usize = 512 * 1024;

/// A thumbnail written to a temporary file, not yet placed.
pub struct Thumb {
    pub temp: TempFile,
    pub hash: ContentHash,
    pub size: u64,
    pub mime: &'static str,
    pub width: u32,
    pub height: u32,
}

/// What to thumbnail, and what to do with the result (on the pool's thread).
pub struct Job {
    pub source: PathBuf,
    pub format: ImageFormat,
    pub orientation: u8,
    pub done: Box<dyn FnOnce(Result<Thumb, String>) + Send>,
}

/// The pool's queue. Cloning shares it.
#[derive(Clone)]
pub struct Pool {
    tx: Sender<Job>,
}

impl Pool {
    /// Starts `threads` threads taking jobs from a queue of `queue`.
    pub fn start(store: Store, threads: usize, queue: usize) -> std::io::Result<Pool> {
        let (tx, rx) = crossbeam_channel::bounded::<Job>(queue.max(1));
        for i in 0..threads.max(1) {
            let rx: Receiver<Job> = rx.clone();
            let store = store.clone();
            std::thread::Builder::new().name(format!("thumbs-{i}")).stack_size(STACK).spawn(move || {
                while let Ok(job) = rx.recv() {
                    let started = Instant::now();
                    let result = make(&store, &job.source, job.format, job.orientation);
                    match &result {
                        Ok(t) => log::debug!(
                            "thumbnail {}x{} made in {:.0} ms",
                            t.width,
                            t.height,
                            started.elapsed().as_secs_f64() * 1000.0
                        ),
                        Err(e) => log::info!("no thumbnail for {}: {e}", job.source.display()),
                    }
                    (job.done)(result);
                }
            })?;
        }
        Ok(Pool { tx })
    }

    /// Queues a job; `false` (the job dropped, logged) when the queue is full.
    pub fn submit(&self, job: Job) -> bool {
        match self.tx.try_send(job) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                log::info!("thumbnail queue full: skipped for now");
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }
}

/// Decodes `source` (under limits), applies the orientation, scales it to fit [`BOX`] and
/// encodes it into a temporary file of `store`.
pub fn make(store: &Store, source: &std::path::Path, format: ImageFormat, orientation: u8) -> Result<Thumb, String> {
    let mut image = decode(source, format)?;
    image.apply_orientation(Orientation::from_exif(orientation).unwrap_or(Orientation::NoTransforms));
    let image = if image.width() > BOX || image.height() > BOX { image.thumbnail(BOX, BOX) } else { image };
    let (codec, mime, image) = if image.color().has_alpha() {
        (image::ImageFormat::Png, "image/png", DynamicImage::ImageRgba8(image.to_rgba8()))
    } else {
        (image::ImageFormat::Jpeg, "image/jpeg", DynamicImage::ImageRgb8(image.to_rgb8()))
    };
    let mut temp = store.temp().map_err(|e| e.to_string())?;
    let (hash, size) = {
        let mut out = BufWriter::new(temp.hashing_writer().map_err(|e| e.to_string())?);
        encode(&image, codec, &mut out)?;
        let writer = out.into_inner().map_err(|e| e.to_string())?;
        writer.finish().map_err(|e| e.to_string())?
    };
    Ok(Thumb { temp, hash, size, mime, width: image.width(), height: image.height() })
}

fn decode(source: &std::path::Path, format: ImageFormat) -> Result<DynamicImage, String> {
    let file = File::open(source).map_err(|e| e.to_string())?;
    let mut reader = ImageReader::new(BufReader::new(file));
    reader.set_format(format.codec());
    let mut limits = Limits::default();
    limits.max_image_width = Some(1 << 15);
    limits.max_image_height = Some(1 << 15);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    reader.decode().map_err(|e| e.to_string())
}

fn encode(image: &DynamicImage, codec: image::ImageFormat, out: &mut impl std::io::Write) -> Result<(), String> {
    match codec {
        image::ImageFormat::Jpeg => {
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(out, 82);
            image.write_with_encoder(encoder).map_err(|e| e.to_string())
        }
        _ => {
            let encoder = image::codecs::png::PngEncoder::new(out);
            image.write_with_encoder(encoder).map_err(|e| e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The queue holds what it was made for and refuses the rest at once: the hub's and the
    /// workers' `submit` never waits for a thumbnail, and memory holds at most `queue` jobs.
    #[test]
    fn a_full_queue_drops_the_job_instead_of_waiting() {
        let dir = std::env::temp_dir().join(format!("mychat-thumbs-{}", std::process::id()));
        let store = Store::new(&dir);
        let pool = Pool::start(store, 1, 2).unwrap();
        let (started, on_thread) = crossbeam_channel::bounded::<()>(1);
        let (release, held) = crossbeam_channel::bounded::<()>(0);
        let job = |done: Box<dyn FnOnce(Result<Thumb, String>) + Send>| Job {
            source: dir.join("no-such-file"),
            format: ImageFormat::Png,
            orientation: 1,
            done,
        };
        // The thread takes the first job and is held in its `done`.
        assert!(pool.submit(job(Box::new(move |_| {
            let _ = started.send(());
            let _ = held.recv();
        }))));
        on_thread.recv().unwrap();
        let (finished, count) = crossbeam_channel::unbounded::<()>();
        for _ in 0..2 {
            let finished = finished.clone();
            assert!(
                pool.submit(job(Box::new(move |_| {
                    let _ = finished.send(());
                }))),
                "the queue takes two"
            );
        }
        let dropped = finished.clone();
        assert!(
            !pool.submit(job(Box::new(move |_| {
                let _ = dropped.send(());
            }))),
            "a third waits for nothing"
        );
        drop(release);
        drop(finished);
        assert_eq!(count.iter().count(), 2, "the two queued jobs ran; the refused one never did");
    }
}
