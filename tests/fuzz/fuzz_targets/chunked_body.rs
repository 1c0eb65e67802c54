#![no_main]
//! Chunked request bodies: the decoder's bounds and its agreement with itself.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mychat::fuzzing::chunked_body(data));
