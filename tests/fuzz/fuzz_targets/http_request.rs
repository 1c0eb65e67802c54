#![no_main]
//! HTTP request parsing: the head, Content-Length rules, query, form and cookie decoding.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mychat::fuzzing::http_request(data));
