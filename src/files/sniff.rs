//! A file's type from its first bytes (magic numbers), never from its name. Only the four image
//! formats the chat shows inline are images; a few safe types keep their own type for the
//! browser's players and viewers; everything else — HEIC, HTML, SVG, executables — is
//! `application/octet-stream`, offered as a download.

/// The image formats shown inline (and thumbnailed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Jpeg,
    Gif,
    Webp,
}

impl ImageFormat {
    pub fn mime(self) -> &'static str {
        match self {
            ImageFormat::Png => "image/png",
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Gif => "image/gif",
            ImageFormat::Webp => "image/webp",
        }
    }

    pub fn from_mime(mime: &str) -> Option<ImageFormat> {
        [ImageFormat::Png, ImageFormat::Jpeg, ImageFormat::Gif, ImageFormat::Webp]
            .into_iter()
            .find(|f| f.mime() == mime)
    }

    pub fn codec(self) -> image::ImageFormat {
        match self {
            ImageFormat::Png => image::ImageFormat::Png,
            ImageFormat::Jpeg => image::ImageFormat::Jpeg,
            ImageFormat::Gif => image::ImageFormat::Gif,
            ImageFormat::Webp => image::ImageFormat::WebP,
        }
    }
}

/// How many leading bytes [`sniff`] looks at.
pub const SNIFF_BYTES: usize = 4096;

pub const OCTET_STREAM: &str = "application/octet-stream";

/// The type of a file whose first bytes are `head` (up to [`SNIFF_BYTES`]; all of it if the
/// file is shorter).
pub fn sniff(head: &[u8]) -> &'static str {
    if let Some(image) = sniff_image(head) {
        return image.mime();
    }
    if head.starts_with(b"%PDF-") {
        return "application/pdf";
    }
    if head.starts_with(b"OggS") {
        return "audio/ogg";
    }
    if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WAVE" {
        return "audio/wav";
    }
    if head.starts_with(b"ID3") || is_mpeg_audio_frame(head) {
        return "audio/mpeg";
    }
    if head.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        // EBML: WebM names its doctype near the start; Matroska and others are downloads.
        return if find(&head[..head.len().min(64)], b"webm") { "video/webm" } else { OCTET_STREAM };
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        return match &head[8..12] {
            b"M4A " | b"M4B " => "audio/mp4",
            b"isom" | b"iso2" | b"iso4" | b"iso5" | b"iso6" | b"mp41" | b"mp42" | b"avc1" | b"dash" | b"M4V "
            | b"qt  " => "video/mp4",
            // heic, heix, mif1, avif and the rest: offered as files.
            _ => OCTET_STREAM,
        };
    }
    if is_plain_text(head) {
        return "text/plain; charset=utf-8";
    }
    OCTET_STREAM
}

/// The image format `head` starts with, if it is one of ours.
pub fn sniff_image(head: &[u8]) -> Option<ImageFormat> {
    if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageFormat::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageFormat::Jpeg)
    } else if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        Some(ImageFormat::Gif)
    } else if head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP" {
        Some(ImageFormat::Webp)
    } else {
        None
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An MPEG audio frame header: 11 sync bits, a valid version, layer III, a valid bit rate.
fn is_mpeg_audio_frame(head: &[u8]) -> bool {
    head.len() >= 4
        && head[0] == 0xFF
        && head[1] & 0xE0 == 0xE0
        && head[1] & 0x18 != 0x08
        && head[1] & 0x06 == 0x02
        && head[2] & 0xF0 != 0xF0
        && head[2] & 0x0C != 0x0C
}

/// UTF-8 text (a multi-byte character cut at the end of `head` is fine) with no control
/// characters but tab, line feed, carriage return and form feed; and no markup a browser would
/// run if someone opened it as a page (`<html`, `<script`, `<svg`...): those are downloads.
fn is_plain_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() && head.len() - e.valid_up_to() < 4 => {
            // Cut mid-character at the end of the sniffed bytes.
            match std::str::from_utf8(&head[..e.valid_up_to()]) {
                Ok(text) => text,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    if text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c')) {
        return false;
    }
    let lower = text.to_ascii_lowercase();
    !["<html", "<script", "<svg", "<!doctype", "<?xml", "<body", "<iframe", "<head"].iter().any(|m| lower.contains(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_by_magic_number() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), "image/png");
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]), "image/jpeg");
        assert_eq!(sniff(b"GIF89a......"), "image/gif");
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), "image/webp");
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVEfmt "), "audio/wav", "a RIFF that is not WebP is not an image");
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAV"), OCTET_STREAM, "cut short before its form type");
    }

    #[test]
    fn safe_types_and_the_rest() {
        assert_eq!(sniff(b"%PDF-1.7\n"), "application/pdf");
        assert_eq!(sniff(b"OggS\0\x02"), "audio/ogg");
        assert_eq!(sniff(b"ID3\x04\0\0\0\0"), "audio/mpeg");
        assert_eq!(sniff(&[0xFF, 0xFB, 0x90, 0x64]), "audio/mpeg");
        assert_eq!(sniff(b"\0\0\0\x18ftypmp42\0\0\0\0"), "video/mp4");
        assert_eq!(sniff(b"\0\0\0\x18ftypheic\0\0\0\0"), OCTET_STREAM, "HEIC is a file");
        assert_eq!(sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"), "video/webm");
        assert_eq!(sniff("Привет, мир\nsecond line\t".as_bytes()), "text/plain; charset=utf-8");
        assert_eq!(sniff(b"<!DOCTYPE html><script>alert(1)</script>"), OCTET_STREAM);
        assert_eq!(sniff(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"), OCTET_STREAM);
        assert_eq!(sniff(b"MZ\x90\0\x03\0"), OCTET_STREAM);
        assert_eq!(sniff(b""), OCTET_STREAM);
        // A character cut at the end of the sniffed bytes is still text.
        let cut = &"ёж".as_bytes()[..3];
        assert_eq!(sniff(cut), "text/plain; charset=utf-8");
    }

    #[test]
    fn a_gif_that_is_also_html_is_a_gif() {
        assert_eq!(sniff(b"GIF89a/*<html><script>alert(1)</script>*/"), "image/gif");
    }
}
