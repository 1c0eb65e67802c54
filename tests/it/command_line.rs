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

#[test]
fn environment_variables_configure_the_server() {
    let data = TempDir::new("env");
    let child = Command::new(env!("CARGO_BIN_EXE_mychat"))
        .env("MYCHAT_ADDR", "127.0.0.1:0")
        .env("MYCHAT_DATA_DIR", data.path())
        .env("MYCHAT_LOG", "info")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let output = std::thread::spawn(move || child.wait_with_output().unwrap());
    assert!(eventually(std::time::Duration::from_secs(10), || data.path().join("users.db").exists()));
    std::thread::sleep(std::time::Duration::from_millis(200));
    unsafe_free_kill(pid, "TERM");
    let output = output.join().unwrap();
    assert!(output.status.success(), "SIGTERM exits 0");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("serving http://127.0.0.1:"), "{log}");
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
