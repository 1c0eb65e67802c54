//! Build script: embeds `static/` and `templates/` into the binary, so the release binary is
//! the whole deployment. It writes `$OUT_DIR/embedded.rs` with every file's bytes
//! (`include_bytes!`), its content type and an ETag. A static file that gzip makes smaller is
//! stored gzipped only (and inflated for the rare client that does not take gzip): keeping
//! both copies would cost the binary ~0.8 MiB.
//!
//! Every asset a template names with `{{asset:PATH}}` also gets a content-hashed name
//! (`css/app.3f9a1c2b5d6e.css`), served with a year-long cache lifetime; a JavaScript entry
//! module named that way is bundled with every module it imports (`src/assets/bundle.rs`), so
//! a page loads one script. A template naming an asset that does not exist, or a module the
//! bundler cannot handle, fails the build with the reason.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

include!("assets/etag.rs");
include!("assets/bundle.rs");

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root).expect("under root").to_string_lossy().replace('\\', "/")
}

/// The paths templates name with `{{asset:PATH}}`, with the template naming each.
fn referenced_assets(templates: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for path in files_under(templates) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let mut rest = text.as_str();
        while let Some(start) = rest.find("{{") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else { break };
            if let Some(asset) = after[..end].trim().strip_prefix("asset:") {
                found.push((asset.trim().to_string(), relative(templates, &path)));
            }
            rest = &after[end + 2..];
        }
    }
    found
}

/// Formats that are compressed already gain nothing from gzip.
fn compressible(content_type: &str) -> bool {
    content_type.starts_with("text/")
        || content_type.ends_with("json")
        || content_type == "image/svg+xml"
        || content_type == "image/x-icon"
}

/// `css/app.css` → `css/app.3f9a1c2b5d6e.css`: the first 12 hex digits of the ETag's hash.
fn hashed_name(path: &str, content: &[u8]) -> String {
    let hash: String = etag(content).chars().filter(char::is_ascii_hexdigit).take(12).collect();
    let (dir, file) = path.rsplit_once('/').map_or(("", path), |(d, f)| (d, f));
    let hashed = match file.rsplit_once('.') {
        Some((stem, ext)) => format!("{stem}.{hash}.{ext}"),
        None => format!("{file}.{hash}"),
    };
    if dir.is_empty() { hashed } else { format!("{dir}/{hashed}") }
}

/// Gzip at the highest level, without a timestamp, so builds are reproducible.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).expect("gzip into memory");
    encoder.finish().expect("gzip into memory")
}

/// Writes one served file's entry: its bytes, and its gzip copy where that helps.
struct Writer {
    out_dir: PathBuf,
    code: String,
    blobs: usize,
}

impl Writer {
    /// A `static` holding `bytes` (from `source` if given, else written to OUT_DIR); its name.
    fn blob(&mut self, bytes: &[u8], source: Option<&Path>) -> String {
        let name = format!("BLOB{}", self.blobs);
        self.blobs += 1;
        let path = match source {
            Some(path) => path.to_path_buf(),
            None => {
                let path = self.out_dir.join("assets").join(&name);
                std::fs::write(&path, bytes).expect("writable OUT_DIR");
                path
            }
        };
        writeln!(self.code, "static {name}: &[u8] = include_bytes!({:?});", path.display().to_string()).unwrap();
        name
    }

    /// An `EmbeddedFile` literal for `path` served from blob `bytes`.
    /// `bytes`: the blob of the plain content, left out when there is a gzip copy.
    fn entry(&mut self, path: &str, content: &[u8], bytes: Option<&str>, gz: Option<&str>, immutable: bool) -> String {
        let tag = etag(content);
        let gzip_etag = format!("{}-gz\"", tag.trim_end_matches('"'));
        let some = |blob: Option<&str>| blob.map_or("None".to_string(), |b| format!("Some({b})"));
        format!(
            "    EmbeddedFile {{ path: {path:?}, bytes: {}, gzip: {}, etag: {tag:?}, gzip_etag: {gzip_etag:?}, \
             content_type: {:?}, immutable: {immutable} }},\n",
            some(bytes),
            some(gz),
            content_type(path),
        )
    }

    /// The blob of the gzip copy of `content`, if it is worth serving.
    fn gzip_blob(&mut self, path: &str, content: &[u8]) -> Option<String> {
        if !compressible(content_type(path)) {
            return None;
        }
        let packed = gzip(content);
        (packed.len() < content.len()).then(|| self.blob(&packed, None))
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::create_dir_all(out_dir.join("assets")).expect("writable OUT_DIR");
    let static_root = manifest.join("static");
    let template_root = manifest.join("templates");
    println!("cargo:rerun-if-changed={}", static_root.display());
    println!("cargo:rerun-if-changed={}", template_root.display());

    let mut w = Writer { out_dir, code: String::new(), blobs: 0 };
    let mut files = String::new();
    let mut urls = String::new();

    let referenced = referenced_assets(&template_root);
    let mut wanted = BTreeSet::new();
    for (asset, template) in &referenced {
        if !static_root.join(asset).is_file() {
            panic!("templates/{template} names {{{{asset:{asset}}}}}, but static/{asset} does not exist");
        }
        wanted.insert(asset.clone());
    }

    // A module that a bundle carries is stored on its own only if a static file names it (the
    // offline page's script, the service worker's list), with the modules it imports: the
    // pages load bundles, so the others would be dead weight in the binary.
    let read_module = |p: &str| std::fs::read_to_string(static_root.join(p)).ok();
    let mut bundled = BTreeSet::new();
    for name in wanted.iter().filter(|n| n.ends_with(".js")) {
        bundled.extend(bundle(name, &mut |p| read_module(p)).map(|b| b.modules).unwrap_or_default());
    }
    let mut standalone = BTreeSet::new();
    for path in files_under(&static_root) {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (at, _) in text.match_indices("/static/js/") {
            let rest = &text[at + "/static/".len()..];
            let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || "._-/".contains(c))).unwrap_or(rest.len());
            let module = &rest[..end];
            if let Ok(found) = bundle(module, &mut |p| read_module(p)) {
                standalone.extend(found.modules);
            }
        }
    }

    for path in files_under(&static_root) {
        let bytes = std::fs::read(&path).expect("readable asset");
        let name = relative(&static_root, &path);
        let in_bundle_only = bundled.contains(&name) && !standalone.contains(&name);
        let (gz, blob) = if in_bundle_only {
            (None, None)
        } else {
            let gz = w.gzip_blob(&name, &bytes);
            let blob = if gz.is_none() { Some(w.blob(&bytes, Some(&path))) } else { None };
            files.push_str(&w.entry(&name, &bytes, blob.as_deref(), gz.as_deref(), false));
            (gz, blob)
        };
        if !wanted.contains(&name) {
            continue;
        }
        // The content-hashed name: of the bundle for a script, of the file itself otherwise.
        let (content, blob, gz) = if name.ends_with(".js") {
            let bundled = bundle(&name, &mut |p| std::fs::read_to_string(static_root.join(p)).ok())
                .unwrap_or_else(|e| panic!("cannot bundle static/{name}: {e}"));
            writeln!(w.code, "// {name} bundles {}", bundled.modules.join(", ")).unwrap();
            let code = bundled.code.into_bytes();
            let gz = w.gzip_blob(&name, &code);
            let blob = if gz.is_none() { Some(w.blob(&code, None)) } else { None };
            (code, blob, gz)
        } else {
            (bytes, blob, gz)
        };
        let hashed = hashed_name(&name, &content);
        files.push_str(&w.entry(&hashed, &content, blob.as_deref(), gz.as_deref(), true));
        writeln!(urls, "    ({name:?}, {hashed:?}),").unwrap();
    }

    let mut templates = String::new();
    for path in files_under(&template_root) {
        let bytes = std::fs::read(&path).expect("readable template");
        let name = relative(&template_root, &path);
        let blob = w.blob(&bytes, Some(&path));
        templates.push_str(&w.entry(&name, &bytes, Some(&blob), None, false));
    }

    let mut code = w.code;
    writeln!(code, "pub static STATIC_FILES: &[EmbeddedFile] = &[\n{files}];").unwrap();
    writeln!(code, "pub static TEMPLATE_FILES: &[EmbeddedFile] = &[\n{templates}];").unwrap();
    writeln!(code, "/// Asset path → its content-hashed path.\npub static HASHED: &[(&str, &str)] = &[\n{urls}];")
        .unwrap();
    std::fs::write(w.out_dir.join("embedded.rs"), code).expect("writable OUT_DIR");
}
