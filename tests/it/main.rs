//! Integration tests: the real `mychat` binary, real HTTP and WebSocket clients.

mod util;

mod accounts;
mod actions;
mod bounds;
mod command_line;
mod cross;
mod durability;
mod fuzz_regressions;
mod hardening;
mod hooks;
mod http_front;
mod messaging;
mod metrics;
mod rooms;
mod storage;
