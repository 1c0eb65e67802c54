#![no_main]
//! Client WebSocket bytes decoded into commands, as a server socket reads them.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mychat::fuzzing::ws_frames(data));
