//! Metadata out of uploaded images, losslessly: the served copy of a photo keeps its pixels and
//! colour profile but not its EXIF (GPS position, camera serial, time), XMP, IPTC, comments or
//! embedded previews. The image data is copied segment by segment (chunk, block), never
//! decoded, so this is as fast as a file copy and cannot be a decompression bomb.
//!
//! - JPEG: keeps SOI, the JFIF APP0, ICC profiles (APP2 `ICC_PROFILE`), Adobe APP14 and every
//!   non-APP segment; drops APP1 (EXIF, XMP), APP13 (IPTC), the other APPn (MPF previews...),
//!   COM, and anything after EOI. A photo's EXIF orientation is kept as a minimal EXIF block of
//!   one tag, so it still shows upright.
//! - PNG: keeps the chunks that affect the pixels (IHDR, PLTE, IDAT, tRNS, colour chunks, APNG
//!   frames); drops text chunks, `eXIf`, `tIME` and unknown chunks, and anything after IEND.
//! - WebP: drops the `EXIF` and `XMP ` chunks (and clears their VP8X flags) and unknown chunks.
//! - GIF: drops comment, plain-text and application extensions other than the loop count.
//!
//! A file that does not parse is refused: it is not the image its first bytes claim.

use super::sniff::ImageFormat;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom, Write};

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// Copies `input` to `out` without its metadata; the EXIF orientation (1–8; 1 when none) of a
/// JPEG, which the copy keeps.
pub fn strip<R: Read + Seek>(format: ImageFormat, input: &mut R, out: &mut impl Write) -> io::Result<u8> {
    input.seek(SeekFrom::Start(0))?;
    match format {
        ImageFormat::Jpeg => strip_jpeg(&mut BufReader::with_capacity(64 * 1024, input), out),
        ImageFormat::Png => strip_png(&mut BufReader::with_capacity(64 * 1024, input), out).map(|()| 1),
        ImageFormat::Gif => strip_gif(&mut BufReader::with_capacity(64 * 1024, input), out).map(|()| 1),
        ImageFormat::Webp => strip_webp(input, out).map(|()| 1),
    }
}

fn read_u8(r: &mut impl Read) -> io::Result<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

fn copy_exact(r: &mut impl Read, out: &mut impl Write, len: u64) -> io::Result<()> {
    let copied = io::copy(&mut r.take(len), out)?;
    if copied == len { Ok(()) } else { Err(io::ErrorKind::UnexpectedEof.into()) }
}

fn skip_exact(r: &mut impl Read, len: u64) -> io::Result<()> {
    copy_exact(r, &mut io::sink(), len)
}

// ---------------------------------------------------------------------------------------------
// JPEG

const SOI: u8 = 0xD8;
const EOI: u8 = 0xD9;
const SOS: u8 = 0xDA;

fn strip_jpeg(r: &mut impl BufRead, out: &mut impl Write) -> io::Result<u8> {
    let mut head = [0u8; 2];
    r.read_exact(&mut head)?;
    if head != [0xFF, SOI] {
        return Err(invalid("not a JPEG"));
    }
    out.write_all(&head)?;
    let mut orientation = 1u8;
    let mut exif_written = false;
    let mut pending: Option<u8> = None;
    loop {
        let marker = match pending.take() {
            Some(m) => m,
            None => next_marker(r)?,
        };
        match marker {
            EOI => {
                out.write_all(&[0xFF, EOI])?;
                return Ok(orientation);
            }
            SOI => return Err(invalid("a JPEG inside a JPEG")),
            0x01 | 0xD0..=0xD7 => out.write_all(&[0xFF, marker])?,
            _ => {
                let mut len = [0u8; 2];
                r.read_exact(&mut len)?;
                let len = u16::from_be_bytes(len);
                if len < 2 {
                    return Err(invalid("bad JPEG segment length"));
                }
                let body_len = u64::from(len - 2);
                let is_app = (0xE0..=0xEF).contains(&marker) || marker == 0xFE;
                if is_app {
                    let mut body = vec![0u8; body_len as usize];
                    r.read_exact(&mut body)?;
                    if marker == 0xE1 && body.starts_with(b"Exif\0\0") {
                        orientation = exif_orientation(&body[6..]).unwrap_or(orientation);
                    }
                    let keep = (marker == 0xE0 && body.starts_with(b"JFIF\0"))
                        || (marker == 0xE2 && body.starts_with(b"ICC_PROFILE\0"))
                        || (marker == 0xEE && body.starts_with(b"Adobe"));
                    if keep {
                        out.write_all(&[0xFF, marker])?;
                        out.write_all(&len.to_be_bytes())?;
                        out.write_all(&body)?;
                    }
                    continue;
                }
                // The first segment after the APP segments: every EXIF block has been read.
                if !exif_written {
                    exif_written = true;
                    if orientation != 1 {
                        out.write_all(&minimal_exif(orientation))?;
                    }
                }
                out.write_all(&[0xFF, marker])?;
                out.write_all(&len.to_be_bytes())?;
                copy_exact(r, out, body_len)?;
                if marker == SOS {
                    pending = copy_scan(r, out)?;
                    if pending.is_none() {
                        // Data ends without EOI (some cameras): end it properly.
                        out.write_all(&[0xFF, EOI])?;
                        return Ok(orientation);
                    }
                }
            }
        }
    }
}

/// Reads to the next marker (skipping fill bytes); its code.
fn next_marker(r: &mut impl BufRead) -> io::Result<u8> {
    if read_u8(r)? != 0xFF {
        return Err(invalid("JPEG marker expected"));
    }
    loop {
        match read_u8(r)? {
            0xFF => continue,
            0x00 => return Err(invalid("JPEG marker expected")),
            m => return Ok(m),
        }
    }
}

/// Copies entropy-coded data (with its stuffed `FF 00` and restart markers) up to the next
/// marker, which it returns unwritten; `None` at the end of the file.
fn copy_scan(r: &mut impl BufRead, out: &mut impl Write) -> io::Result<Option<u8>> {
    let mut after_ff = false;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        let mut i = 0;
        let mut start = 0;
        while i < buf.len() {
            let b = buf[i];
            if after_ff {
                match b {
                    0xFF => {
                        // Fill byte: the FF already counted stands.
                        i += 1;
                        start = i;
                        continue;
                    }
                    0x00 | 0xD0..=0xD7 => {
                        out.write_all(&[0xFF, b])?;
                        after_ff = false;
                        i += 1;
                        start = i;
                        continue;
                    }
                    m => {
                        // Everything before the FF is written; the marker is the caller's.
                        r.consume(i + 1);
                        return Ok(Some(m));
                    }
                }
            }
            if b == 0xFF {
                out.write_all(&buf[start..i])?;
                after_ff = true;
                i += 1;
                start = i;
                continue;
            }
            i += 1;
        }
        out.write_all(&buf[start..])?;
        let n = buf.len();
        r.consume(n);
    }
}

/// The orientation tag (0x0112) of IFD0 in a TIFF-structured EXIF block.
pub fn exif_orientation(tiff: &[u8]) -> Option<u8> {
    let big = match tiff.get(..4)? {
        b"MM\0*" => true,
        b"II*\0" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b: [u8; 2] = tiff.get(at..at + 2)?.try_into().ok()?;
        Some(if big { u16::from_be_bytes(b) } else { u16::from_le_bytes(b) })
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b: [u8; 4] = tiff.get(at..at + 4)?.try_into().ok()?;
        Some(if big { u32::from_be_bytes(b) } else { u32::from_le_bytes(b) })
    };
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    for i in 0..count.min(512) {
        let entry = ifd + 2 + i * 12;
        if u16_at(entry)? == 0x0112 && u16_at(entry + 2)? == 3 {
            let value = u16_at(entry + 8)?;
            return (1..=8).contains(&value).then_some(value as u8);
        }
    }
    None
}

/// An APP1 segment holding an EXIF block with the orientation tag and nothing else.
fn minimal_exif(orientation: u8) -> Vec<u8> {
    let mut seg = vec![0xFF, 0xE1, 0, 34];
    seg.extend_from_slice(b"Exif\0\0MM\0*\0\0\0\x08");
    seg.extend_from_slice(&[0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, orientation, 0, 0, 0, 0, 0, 0]);
    seg
}

// ---------------------------------------------------------------------------------------------
// PNG

const PNG_SIGNATURE: &[u8; 8] = b"\x89PNG\r\n\x1a\n";
/// Chunks that make up the picture (and APNG's frames); everything else is dropped.
const PNG_KEEP: [&[u8; 4]; 19] = [
    b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT", b"sRGB", b"cICP", b"mDCV",
    b"cLLI", b"bKGD", b"pHYs", b"hIST", b"acTL", b"fcTL", b"fdAT",
];

fn strip_png(r: &mut impl Read, out: &mut impl Write) -> io::Result<()> {
    let mut sig = [0u8; 8];
    r.read_exact(&mut sig)?;
    if &sig != PNG_SIGNATURE {
        return Err(invalid("not a PNG"));
    }
    out.write_all(&sig)?;
    loop {
        let mut head = [0u8; 8];
        r.read_exact(&mut head)?;
        let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
        if len > 0x7FFF_FFFF {
            return Err(invalid("bad PNG chunk length"));
        }
        let kind: [u8; 4] = [head[4], head[5], head[6], head[7]];
        // Data and CRC.
        let total = u64::from(len) + 4;
        if PNG_KEEP.contains(&&kind) {
            out.write_all(&head)?;
            copy_exact(r, out, total)?;
        } else {
            skip_exact(r, total)?;
        }
        if &kind == b"IEND" {
            return Ok(());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// GIF

fn strip_gif(r: &mut impl Read, out: &mut impl Write) -> io::Result<()> {
    let mut head = [0u8; 13];
    r.read_exact(&mut head)?;
    if &head[..6] != b"GIF87a" && &head[..6] != b"GIF89a" {
        return Err(invalid("not a GIF"));
    }
    out.write_all(&head)?;
    if head[10] & 0x80 != 0 {
        copy_exact(r, out, 3 << ((head[10] & 0x07) + 1))?;
    }
    loop {
        match read_u8(r)? {
            0x3B => {
                out.write_all(&[0x3B])?;
                return Ok(());
            }
            0x2C => {
                let mut desc = [0u8; 9];
                r.read_exact(&mut desc)?;
                out.write_all(&[0x2C])?;
                out.write_all(&desc)?;
                if desc[8] & 0x80 != 0 {
                    copy_exact(r, out, 3 << ((desc[8] & 0x07) + 1))?;
                }
                // LZW minimum code size, then the data sub-blocks.
                out.write_all(&[read_u8(r)?])?;
                sub_blocks(r, Some(out))?;
            }
            0x21 => {
                let label = read_u8(r)?;
                match label {
                    0xF9 => {
                        out.write_all(&[0x21, label])?;
                        sub_blocks(r, Some(out))?;
                    }
                    0xFF => {
                        let len = read_u8(r)?;
                        let mut id = vec![0u8; usize::from(len)];
                        r.read_exact(&mut id)?;
                        if id == b"NETSCAPE2.0" || id == b"ANIMEXTS1.0" {
                            out.write_all(&[0x21, label, len])?;
                            out.write_all(&id)?;
                            sub_blocks(r, Some(out))?;
                        } else {
                            sub_blocks::<io::Sink>(r, None)?;
                        }
                    }
                    _ => sub_blocks::<io::Sink>(r, None)?,
                }
            }
            _ => return Err(invalid("bad GIF block")),
        }
    }
}

/// Copies (or skips) data sub-blocks up to and including the empty terminator.
fn sub_blocks<W: Write>(r: &mut impl Read, mut out: Option<&mut W>) -> io::Result<()> {
    loop {
        let len = read_u8(r)?;
        match out.as_deref_mut() {
            Some(out) => {
                out.write_all(&[len])?;
                copy_exact(r, out, u64::from(len))?;
            }
            None => skip_exact(r, u64::from(len))?,
        }
        if len == 0 {
            return Ok(());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// WebP

const WEBP_KEEP: [&[u8; 4]; 7] = [b"VP8 ", b"VP8L", b"VP8X", b"ANIM", b"ANMF", b"ALPH", b"ICCP"];

fn strip_webp<R: Read + Seek>(r: &mut R, out: &mut impl Write) -> io::Result<()> {
    let mut head = [0u8; 12];
    r.read_exact(&mut head)?;
    if &head[..4] != b"RIFF" || &head[8..] != b"WEBP" {
        return Err(invalid("not a WebP"));
    }
    let riff_end = 8 + u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
    // First pass: which chunks, and how long the copy will be (the RIFF header says).
    let mut chunks = Vec::new();
    let mut at = 12u64;
    while at + 8 <= riff_end {
        r.seek(SeekFrom::Start(at))?;
        let mut ch = [0u8; 8];
        if r.read(&mut ch)? < 8 {
            break;
        }
        let kind: [u8; 4] = [ch[0], ch[1], ch[2], ch[3]];
        let size = u64::from(u32::from_le_bytes([ch[4], ch[5], ch[6], ch[7]]));
        let padded = size + (size & 1);
        if WEBP_KEEP.contains(&&kind) {
            chunks.push((at, kind, size, padded));
        }
        at += 8 + padded;
        if chunks.len() > 100_000 {
            return Err(invalid("too many WebP chunks"));
        }
    }
    if chunks.is_empty() {
        return Err(invalid("an empty WebP"));
    }
    let body: u64 = 4 + chunks.iter().map(|(_, _, _, padded)| 8 + padded).sum::<u64>();
    let body = u32::try_from(body).map_err(|_| invalid("WebP too long"))?;
    out.write_all(b"RIFF")?;
    out.write_all(&body.to_le_bytes())?;
    out.write_all(b"WEBP")?;
    for (offset, kind, size, padded) in chunks {
        r.seek(SeekFrom::Start(offset))?;
        let mut ch = [0u8; 8];
        r.read_exact(&mut ch)?;
        out.write_all(&ch)?;
        if &kind == b"VP8X" && size >= 1 {
            // Flags: the EXIF (0x08) and XMP (0x04) chunks are gone.
            let flags = read_u8(r)? & !0x0C;
            out.write_all(&[flags])?;
            copy_exact(r, out, padded - 1)?;
        } else {
            copy_exact(r, out, padded)?;
        }
    }
    Ok(())
}

/// An image's width and height from its header, without decoding it.
pub fn dimensions<R: BufRead + Seek>(format: ImageFormat, input: R) -> Result<(u32, u32), String> {
    let mut reader = image::ImageReader::new(input);
    reader.set_format(format.codec());
    reader.into_dimensions().map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn exif_with_gps(orientation: u16) -> Vec<u8> {
        // TIFF, big-endian: IFD0 with orientation and a GPS IFD pointer; GPS IFD with a latitude.
        let mut t = b"MM\0*\0\0\0\x08".to_vec();
        t.extend_from_slice(&[0, 2]);
        t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
        t.extend_from_slice(&orientation.to_be_bytes());
        t.extend_from_slice(&[0, 0]);
        t.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
        t.extend_from_slice(&[0, 0, 0, 0]);
        t.extend_from_slice(&[0, 1, 0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0, 0, 0, 0, 0]);
        t.extend_from_slice(b"GPS-SECRET-55.7558N");
        let mut seg = vec![0xFF, 0xE1];
        seg.extend_from_slice(&((t.len() + 8) as u16).to_be_bytes());
        seg.extend_from_slice(b"Exif\0\0");
        seg.extend_from_slice(&t);
        seg
    }

    fn jpeg_with(segments: &[Vec<u8>]) -> Vec<u8> {
        let mut img = image::RgbImage::new(16, 8);
        for (x, _, p) in img.enumerate_pixels_mut() {
            *p = image::Rgb([if x < 8 { 255 } else { 0 }, 0, 0]);
        }
        let mut plain = Vec::new();
        image::DynamicImage::ImageRgb8(img).write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Jpeg).unwrap();
        let mut out = plain[..2].to_vec();
        for s in segments {
            out.extend_from_slice(s);
        }
        out.extend_from_slice(&plain[2..]);
        out.extend_from_slice(b"trailing polyglot bytes");
        out
    }

    #[test]
    fn jpeg_loses_exif_and_comments_but_keeps_orientation_and_pixels() {
        let comment = [vec![0xFF, 0xFE, 0, 8], b"secret".to_vec()].concat();
        let xmp = [vec![0xFF, 0xE1, 0, 15], b"http://ns\0abc".to_vec()].concat();
        let input = jpeg_with(&[exif_with_gps(6), comment, xmp]);
        let mut out = Vec::new();
        let orientation = strip(ImageFormat::Jpeg, &mut Cursor::new(&input), &mut out).unwrap();
        assert_eq!(orientation, 6);
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("GPS-SECRET") && !text.contains("secret") && !text.contains("http://ns"));
        assert!(!text.contains("trailing"), "nothing after EOI");
        assert!(out.ends_with(&[0xFF, EOI]));
        // The kept EXIF block says 6 and nothing else.
        let at = out.windows(6).position(|w| w == b"Exif\0\0").unwrap();
        assert_eq!(exif_orientation(&out[at + 6..]), Some(6));
        assert_eq!(out[at - 4..at], [0xFF, 0xE1, 0, 34]);
        // Still the same picture.
        let a = image::load_from_memory(&input).unwrap().to_rgb8();
        let b = image::load_from_memory(&out).unwrap().to_rgb8();
        assert_eq!(a.as_raw(), b.as_raw());
        // Stripping what is already stripped changes nothing.
        let mut again = Vec::new();
        strip(ImageFormat::Jpeg, &mut Cursor::new(&out), &mut again).unwrap();
        assert_eq!(again, out);
    }

    #[test]
    fn png_loses_text_and_exif_chunks() {
        let img = image::RgbaImage::from_pixel(3, 2, image::Rgba([1, 2, 3, 4]));
        let mut plain = Vec::new();
        image::DynamicImage::ImageRgba8(img).write_to(&mut Cursor::new(&mut plain), image::ImageFormat::Png).unwrap();
        let chunk = |kind: &[u8], data: &[u8]| {
            let mut c = (data.len() as u32).to_be_bytes().to_vec();
            c.extend_from_slice(kind);
            c.extend_from_slice(data);
            c.extend_from_slice(&[0, 0, 0, 0]);
            c
        };
        let ihdr_end = 8 + 25;
        let mut input = plain[..ihdr_end].to_vec();
        input.extend(chunk(b"tEXt", b"Comment\0secret"));
        input.extend(chunk(b"eXIf", b"MM\0*GPS-SECRET"));
        input.extend_from_slice(&plain[ihdr_end..]);
        input.extend_from_slice(b"<script>after IEND</script>");
        let mut out = Vec::new();
        strip(ImageFormat::Png, &mut Cursor::new(&input), &mut out).unwrap();
        assert_eq!(out, plain);
    }

    #[test]
    fn gif_loses_comments_and_foreign_application_blocks() {
        let mut gif = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff".to_vec();
        gif.extend_from_slice(b"\x21\xfe\x06secret\0");
        gif.extend_from_slice(b"\x21\xff\x0bXMP DataXMP\x03abc\0");
        gif.extend_from_slice(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\0\0\0");
        gif.extend_from_slice(b"\x2c\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\0\x3b");
        let mut out = Vec::new();
        strip(ImageFormat::Gif, &mut Cursor::new(&gif), &mut out).unwrap();
        let text = String::from_utf8_lossy(&out);
        assert!(!text.contains("secret") && !text.contains("XMP"));
        assert!(text.contains("NETSCAPE2.0"));
        assert!(image::load_from_memory(&out).is_ok());
    }

    #[test]
    fn webp_loses_exif_and_xmp_chunks_and_flags() {
        let img = image::RgbaImage::from_pixel(2, 2, image::Rgba([9, 8, 7, 255]));
        let mut plain = Vec::new();
        image::DynamicImage::ImageRgba8(img).write_to(&mut Cursor::new(&mut plain), image::ImageFormat::WebP).unwrap();
        // Wrap it as an extended WebP with EXIF and XMP chunks.
        let mut body = b"WEBP".to_vec();
        body.extend_from_slice(b"VP8X\x0a\0\0\0\x0c\0\0\0\x01\0\0\x01\0\0");
        body.extend_from_slice(&plain[12..]);
        body.extend_from_slice(b"EXIF\x0a\0\0\0GPS-SECRET");
        body.extend_from_slice(b"XMP \x03\0\0\0abc\0");
        let mut input = b"RIFF".to_vec();
        input.extend_from_slice(&(body.len() as u32).to_le_bytes());
        input.extend_from_slice(&body);
        let mut out = Vec::new();
        strip(ImageFormat::Webp, &mut Cursor::new(&input), &mut out).unwrap();
        assert!(!String::from_utf8_lossy(&out).contains("GPS-SECRET"));
        assert_eq!(out[20] & 0x0C, 0, "flags cleared");
        assert_eq!(u32::from_le_bytes(out[4..8].try_into().unwrap()) as usize, out.len() - 8);
        assert!(image::load_from_memory(&out).is_ok());
    }

    #[test]
    fn garbage_is_refused() {
        for format in [ImageFormat::Jpeg, ImageFormat::Png, ImageFormat::Gif, ImageFormat::Webp] {
            let mut out = Vec::new();
            assert!(strip(format, &mut Cursor::new(b"nothing like an image"), &mut out).is_err(), "{format:?}");
        }
    }
}
