//! Static files and templates: compiled into the binary, or (for development, with
//! `--assets-dir`) read from disk on every request so edits show without a rebuild.
//!
//! Compiled in (see `src/build.rs`), each static file has its plain path, revalidated on every
//! use, and is stored gzipped where that is smaller (inflated on the way out for a client that
//! does not take gzip); each asset a template names with
//! `{{asset:PATH}}` also has a content-hashed path that never changes meaning, so it may be
//! cached for a year, and a script named that way is the bundle of its modules. From disk,
//! files are served as they are, under their plain paths only: the page loads the modules
//! one by one, and an edit shows on reload.

#[cfg(test)]
mod bundle;
mod etag;

use std::borrow::Cow;
use std::path::PathBuf;

pub use etag::content_type;

/// A file compiled into the binary by `src/build.rs`.
pub struct EmbeddedFile {
    pub path: &'static str,
    /// The content, unless only its gzip copy is stored.
    pub bytes: Option<&'static [u8]>,
    /// The same content gzipped, where that is smaller.
    pub gzip: Option<&'static [u8]>,
    pub etag: &'static str,
    /// The gzip copy's ETag (a different representation needs its own).
    pub gzip_etag: &'static str,
    pub content_type: &'static str,
    /// A content-hashed path: its content never changes.
    pub immutable: bool,
}

mod embedded {
    use super::EmbeddedFile;
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// A file ready to serve.
pub struct Asset {
    /// The content; `None` when only the gzip copy is stored (see [`Asset::plain`]).
    bytes: Option<Cow<'static, [u8]>>,
    pub etag: Cow<'static, str>,
    /// The gzip copy and its ETag, where there is one.
    pub gzip: Option<(&'static [u8], &'static str)>,
    pub content_type: &'static str,
    /// Served under a content-hashed path: cacheable for good.
    pub immutable: bool,
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
                gzip: None,
                content_type: etag::content_type(path),
                immutable: false,
                bytes: Some(bytes.into()),
            });
        }
        list.iter().find(|f| f.path == path).map(|f| Asset {
            bytes: f.bytes.map(Cow::Borrowed),
            etag: Cow::Borrowed(f.etag),
            gzip: f.gzip.map(|g| (g, f.gzip_etag)),
            content_type: f.content_type,
            immutable: f.immutable,
        })
    }

    /// The URL to put in a page for static file `path`: its content-hashed URL when compiled
    /// in (if a template names it, see the module docs), its plain URL from disk.
    pub fn url(&self, path: &str) -> String {
        let hashed = if self.dir.is_some() {
            None
        } else {
            embedded::HASHED.iter().find(|(plain, _)| *plain == path).map(|(_, hashed)| *hashed)
        };
        format!("/static/{}", hashed.unwrap_or(path))
    }

    /// A file under `static/`.
    pub fn static_file(&self, path: &str) -> Option<Asset> {
        self.find("static", embedded::STATIC_FILES, path)
    }

    /// A template's text.
    pub fn template(&self, name: &str) -> Option<Cow<'static, str>> {
        let asset = self.find("templates", embedded::TEMPLATE_FILES, name)?;
        match asset.plain() {
            Cow::Borrowed(b) => std::str::from_utf8(b).ok().map(Cow::Borrowed),
            Cow::Owned(b) => String::from_utf8(b).ok().map(Cow::Owned),
        }
    }
}

impl Asset {
    /// The content, inflated from the gzip copy when that is all that is stored. Our own
    /// build wrote that copy, so it inflates; if it somehow did not, the answer is empty.
    pub fn plain(&self) -> Cow<'static, [u8]> {
        if let Some(bytes) = &self.bytes {
            return bytes.clone();
        }
        let mut plain = Vec::new();
        if let Some((gzip, _)) = self.gzip {
            let inflated = std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gzip), &mut plain);
            if let Err(e) = inflated {
                log::error!("an embedded file does not inflate: {e}");
                plain.clear();
            }
        }
        Cow::Owned(plain)
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

    #[test]
    fn templates_get_hashed_urls_of_bundles_when_compiled_in_and_plain_ones_from_disk() {
        let embedded = Assets::new(None);
        let url = embedded.url("js/main.js");
        let hashed = url.strip_prefix("/static/").unwrap();
        assert!(hashed.starts_with("js/main.") && hashed.ends_with(".js") && hashed.len() == "js/main..js".len() + 12);
        let bundle = embedded.static_file(hashed).unwrap();
        assert!(bundle.immutable && bundle.gzip.is_some());
        let text = bundle.plain();
        let text = std::str::from_utf8(&text).unwrap();
        assert!(text.contains("// js/dom.js") && !text.contains("\nimport "), "the bundle holds the modules");
        // Modules live in their bundles, except what a static file names (with its imports).
        assert!(embedded.static_file("js/main.js").is_none() && embedded.static_file("js/dom.js").is_none());
        for named in ["js/offline.js", "js/i18n.js"] {
            let plain = embedded.static_file(named).unwrap();
            assert!(!plain.immutable && plain.plain().starts_with(b"//"), "{named}");
        }
        assert_eq!(embedded.url("not/named/by/a/template.txt"), "/static/not/named/by/a/template.txt");
        let from_disk = Assets::new(Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))));
        assert_eq!(from_disk.url("js/main.js"), "/static/js/main.js");
    }

    #[test]
    fn files_stored_gzipped_only_inflate_to_what_is_on_disk() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("static");
        let mut gzipped_only = Vec::new();
        for file in embedded::STATIC_FILES.iter().filter(|f| !f.immutable) {
            let asset = Assets::new(None).static_file(file.path).unwrap();
            assert_eq!(&*asset.plain(), std::fs::read(root.join(file.path)).unwrap(), "{}", file.path);
            if file.bytes.is_none() {
                gzipped_only.push(file.path);
            }
        }
        for path in ["css/app.css", "js/i18n.js", "offline.html", "sw.js"] {
            assert!(gzipped_only.contains(&path), "{path} is stored gzipped only: {gzipped_only:?}");
        }
    }

    #[test]
    fn templates_name_static_files_through_the_asset_lookup() {
        for template in embedded::TEMPLATE_FILES {
            let text = std::str::from_utf8(template.bytes.unwrap()).unwrap();
            assert!(!text.contains("\"/static/"), "{} links /static/ directly: use {{{{asset:…}}}}", template.path);
        }
    }
}
