//! Integration tests: the real `mychat` binary, real HTTP and WebSocket clients.

mod fake_push;
mod util;

mod accounts;
mod actions;
mod admin;
mod bounds;
mod command_line;
mod cross;
mod durability;
mod files;
mod fuzz_regressions;
mod hardening;
mod hooks;
mod http_front;
mod messaging;
mod metrics;
mod push;
mod rooms;
mod self_service;
mod storage;
