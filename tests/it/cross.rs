//! The whole path a Raspberry Pi install takes — start, register, log in, chat, health, a
//! graceful stop — against whichever binary `server_command()` runs. `make test-pi` points it
//! at the cross-built aarch64 binary under qemu-user (`MYCHAT_TEST_BIN`, `MYCHAT_TEST_RUNNER`);
//! a plain `cargo test` runs it against this build's own binary.

use crate::util::*;
use std::io::Read;

#[test]
fn cross_built_binary_serves_a_login_and_a_message_round_trip() {
    let mut server = Server::start(&[]);
    eprintln!("server: {}", describe(&server));
    if let Ok(binary) = std::env::var("MYCHAT_TEST_BIN") {
        let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.pid())).unwrap_or_default();
        let words: Vec<String> = cmdline.split(|&b| b == 0).map(|w| String::from_utf8_lossy(w).into_owned()).collect();
        assert!(words.contains(&binary), "the server process runs MYCHAT_TEST_BIN ({binary}): {words:?}");
    }

    let (_, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let mut alice = server.client();
    let login = alice.login("alice", "alice-password");
    assert_eq!(login.status, 303, "login: {}", login.text());
    assert_eq!(login.header("location"), Some("/index"));
    assert!(alice.session_cookie().is_some(), "login sets the session cookie");
    assert_eq!(alice.me()["id"], a.as_str(), "the new session is alice's");

    let mut a_ws = alice.ws(&format!("/ws/{a}/{b}"));
    let mut b_ws = bob.ws(&format!("/ws/{b}/{a}"));
    a_ws.send("Hello from a Raspberry Pi ✓");
    let echo = a_ws.recv_type("message");
    let delivered = b_ws.recv_type("message");
    assert_eq!(echo, delivered, "the echo and the delivery are the same message");
    assert_eq!(delivered["text"], "Hello from a Raspberry Pi ✓");
    assert_eq!(delivered["sender_id"], a.as_str());
    assert_eq!(delivered["receiver_id"], b.as_str());
    assert!(delivered["id"].as_i64().is_some_and(|id| id > 0), "a stored id: {delivered}");

    let health = alice.get("/healthz");
    assert_eq!((health.status, health.text().trim()), (200, "ok"));

    a_ws.close();
    b_ws.close();
    assert_eq!(server.stop(), Some(0), "a graceful exit on SIGTERM:\n{}", server.log());
}

/// The server process's command line (a runner such as qemu-aarch64 comes first) and the
/// architecture in the binary's ELF header, so a test log shows what actually ran.
fn describe(server: &Server) -> String {
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", server.pid())).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    let binary = std::env::var("MYCHAT_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_mychat").to_string());
    let mut header = [0u8; 20];
    let machine = match std::fs::File::open(&binary).and_then(|mut f| f.read_exact(&mut header)) {
        Ok(()) if header.starts_with(b"\x7fELF") => match u16::from_le_bytes([header[18], header[19]]) {
            0x3e => "x86-64".to_string(),
            0xb7 => "aarch64".to_string(),
            0x28 => "arm".to_string(),
            other => format!("ELF machine {other:#x}"),
        },
        _ => "not an ELF file".to_string(),
    };
    format!("{} [{machine}]", cmdline.trim_end())
}
