//! Static files and templates: compiled into the binary, or (for development, with
//! `--assets-dir`) read from disk on every request so edits show without a rebuild.

mod etag;

use std::borrow::Cow;
use std::path::PathBuf;

pub use etag::content_type;

/// A file compiled into the binary by `src/build.rs`.
pub struct EmbeddedFile {
    pub path: &'static str,
    pub bytes: &'static [u8],
    pub etag: &'static str,
    pub content_type: &'static str,
}

mod embedded {
    use super::EmbeddedFile;
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// A file ready to serve.
pub struct Asset {
    pub bytes: Cow<'static, [u8]>,
    pub etag: Cow<'static, str>,
    pub content_type: &'static str,
}

#[derive(Clone)]
pub struct Assets {
    dir: Option<PathBuf>,
}

/// Relative paths of the form `a/b.css`: no `..`, no hidden files, no odd characters.
fn is_safe(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|seg| !seg.is_empty() && !seg.starts_with('.'))
        && path.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b))
}

impl Assets {
    pub fn new(dir: Option<PathBuf>) -> Assets {
        Assets { dir }
    }

    fn find(&self, sub: &str, list: &'static [EmbeddedFile], path: &str) -> Option<Asset> {
        if !is_safe(path) {
            return None;
        }
        if let Some(dir) = &self.dir {
            let bytes = std::fs::read(dir.join(sub).join(path)).ok()?;
            return Some(Asset {
                etag: etag::etag(&bytes).into(),
                content_type: etag::content_type(path),
                bytes: bytes.into(),
            });
        }
        list.iter().find(|f| f.path == path).map(|f| Asset {
            bytes: Cow::Borrowed(f.bytes),
            etag: Cow::Borrowed(f.etag),
            content_type: f.content_type,
        })
    }

    /// A file under `static/`.
    pub fn static_file(&self, path: &str) -> Option<Asset> {
        self.find("static", embedded::STATIC_FILES, path)
    }

    /// A template's text.
    pub fn template(&self, name: &str) -> Option<Cow<'static, str>> {
        let asset = self.find("templates", embedded::TEMPLATE_FILES, name)?;
        match asset.bytes {
            Cow::Borrowed(b) => std::str::from_utf8(b).ok().map(Cow::Borrowed),
            Cow::Owned(b) => String::from_utf8(b).ok().map(Cow::Owned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_unsafe_paths() {
        for bad in ["", "../x", "a/../b", ".env", "a//b", "a/.git/x", "a b", "%2e%2e/x", "/etc/passwd"] {
            assert!(!is_safe(bad), "{bad}");
        }
        assert!(is_safe("css/app.css"));
    }
}
