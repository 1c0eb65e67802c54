//! The command line: help, version, flags, environment, bad arguments.

use crate::util::*;
use std::process::Command;
use std::sync::Arc;

fn mychat(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mychat")).args(args).output().unwrap()
}

#[test]
fn help_and_version() {
    let help = mychat(&["--help"]);
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for flag in ["--addr", "--data-dir", "--rate-limits", "MYCHAT_DATA_DIR", "backup DIR"] {
        assert!(text.contains(flag), "--help mentions {flag}:\n{text}");
    }
    let version = mychat(&["--version"]);
    assert!(version.status.success());
    assert_eq!(String::from_utf8_lossy(&version.stdout).trim(), format!("mychat {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn bad_arguments_exit_2_with_a_reason() {
    for (args, reason) in [
        (&["--workers", "zero"][..], "--workers"),
        (&["--bogus"][..], "unknown option --bogus"),
        (&["frobnicate"][..], "unknown command"),
        (&["--addr"][..], "needs a value"),
    ] {
        let out = mychat(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(reason), "{args:?}");
    }
}

/// Starts the binary configured only by environment variables; returns its stderr lines as
/// they come, and its pid.
fn start_with_env(data: &TempDir, log: &str) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = Command::new(env!("CARGO_BIN_EXE_mychat"))
        .env("MYCHAT_ADDR", "127.0.0.1:0")
        .env("MYCHAT_DATA_DIR", data.path())
        .env("MYCHAT_LOG", log)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    (child, rx)
}

/// Stops the child with SIGTERM; its exit code and every line it wrote.
fn stop(mut child: std::process::Child, lines: std::sync::mpsc::Receiver<String>) -> (Option<i32>, String) {
    unsafe_free_kill(child.id(), "TERM");
    let status = child.wait().unwrap();
    (status.code(), lines.into_iter().collect::<Vec<_>>().join("\n"))
}

#[test]
fn environment_variables_configure_the_server() {
    // MYCHAT_LOG=debug shows debug lines (the default, info, does not).
    let data = TempDir::new("env");
    let (child, lines) = start_with_env(&data, "debug");
    let mut seen = Vec::new();
    let timeout = std::time::Duration::from_secs(20);
    while !seen.iter().any(|l: &String| l.contains("serving http://127.0.0.1:")) {
        seen.push(lines.recv_timeout(timeout).expect("the server says where it serves"));
    }
    let (code, rest) = stop(child, lines);
    assert_eq!(code, Some(0), "SIGTERM exits 0");
    let log = seen.join("\n") + &rest;
    assert!(log.contains("DEBUG") && log.contains("hub running"), "debug lines with MYCHAT_LOG=debug:\n{log}");
    assert!(data.path().join("users.db").exists(), "MYCHAT_DATA_DIR was used");
    // MYCHAT_LOG=warn hides the info lines, the address among them.
    let quiet = TempDir::new("env-quiet");
    let (child, lines) = start_with_env(&quiet, "warn");
    assert!(eventually(timeout, || quiet.path().join("mychat.lock").exists() && quiet.path().join("rooms.db").exists()));
    let (code, log) = stop(child, lines);
    assert_eq!(code, Some(0));
    assert!(!log.contains("serving") && !log.contains("INFO"), "no info lines with MYCHAT_LOG=warn:\n{log}");
}

#[test]
fn sigterm_exits_zero_and_sockets_get_1001() {
    let mut server = Server::start(&[]);
    let (client, id) = user(&server, "ivy");
    let mut global = client.ws(&format!("/ws/global/{id}"));
    assert_eq!(server.stop(), Some(0));
    assert_eq!(global.ended(std::time::Duration::from_secs(5)), Ended::Closed(1001));
}

#[test]
fn healthz_and_startup() {
    let server = Server::start_in(Arc::new(TempDir::new("health")), &[]);
    let response = server.client().get("/healthz");
    assert_eq!(response.status, 200);
    assert_eq!(response.text(), "ok");
    assert!(server.log().contains("started in"));
}
