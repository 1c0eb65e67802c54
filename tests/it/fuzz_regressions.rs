//! Replays the fuzzers' seeds and every input they ever crashed on (tests/fuzz), on stable.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut count = 0;
    for dir in ["seeds", "regressions"] {
        let Ok(entries) = std::fs::read_dir(root.join(dir).join(target)) else { continue };
        for entry in entries.flatten() {
            let bytes = std::fs::read(entry.path()).unwrap();
            run(&bytes);
            count += 1;
        }
    }
    assert!(count > 0, "no inputs for {target}");
}

#[test]
fn http_request_inputs() {
    replay("http_request", mychat::fuzzing::http_request);
}

#[test]
fn ws_frame_inputs() {
    replay("ws_frames", mychat::fuzzing::ws_frames);
}

#[test]
fn chunked_body_inputs() {
    replay("chunked_body", mychat::fuzzing::chunked_body);
}
