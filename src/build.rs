//! Build script: embeds `static/` and `templates/` into the binary, so the release binary is
//! the whole deployment. It writes `$OUT_DIR/embedded.rs` with every file's bytes
//! (`include_bytes!`), its content type and an ETag computed here, once.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

include!("assets/etag.rs");

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

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut code = String::new();
    for (name, dir) in [("STATIC_FILES", "static"), ("TEMPLATE_FILES", "templates")] {
        let root = manifest.join(dir);
        println!("cargo:rerun-if-changed={}", root.display());
        writeln!(code, "pub static {name}: &[EmbeddedFile] = &[").unwrap();
        for path in files_under(&root) {
            let bytes = std::fs::read(&path).expect("readable asset");
            let relative = path.strip_prefix(&root).expect("under root").to_string_lossy().replace('\\', "/");
            writeln!(
                code,
                "    EmbeddedFile {{ path: {relative:?}, bytes: include_bytes!({:?}), etag: {:?}, content_type: {:?} }},",
                path.display().to_string(),
                etag(&bytes),
                content_type(&relative),
            )
            .unwrap();
        }
        writeln!(code, "];").unwrap();
    }
    std::fs::write(out_dir.join("embedded.rs"), code).expect("writable OUT_DIR");
}
