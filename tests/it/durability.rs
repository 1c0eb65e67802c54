//! Crash safety and backups: what a client saw acknowledged is in history exactly once, after
//! SIGKILL at random moments, after SIGTERM under load, and in a backup taken while writing.

use crate::util::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Messages acknowledged (echoed with an id) to the load's clients: text → id.
type Acked = Arc<Mutex<HashMap<String, i64>>>;

/// Clients chatting as fast as the server acknowledges, reconnecting whenever the server
/// goes away. A message whose echo never came is never sent again.
struct Load {
    stop: Arc<AtomicBool>,
    acked: Acked,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(server: &Server, pairs: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acked: Acked = Arc::default();
        let mut threads = Vec::new();
        for p in 0..pairs {
            let (sender, s) = user(server, &format!("sender{p}"));
            let (_receiver, r) = user(server, &format!("receiver{p}"));
            let (stop, acked) = (stop.clone(), acked.clone());
            threads.push(std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let Ok(mut ws) = sender.try_ws_quietly(&format!("/ws/{s}/{r}")) else {
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    };
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let text = format!("pair{p}-{n}");
                        if ws.socket.send(tungstenite::Message::text(text.clone())).is_err() {
                            break;
                        }
                        match ws.recv_unless_gone(Duration::from_secs(5)) {
                            Some(echo) if echo["text"] == text.as_str() => {
                                acked.lock().unwrap().insert(text, echo["id"].as_i64().unwrap());
                            }
                            _ => break,
                        }
                    }
                }
            }));
        }
        Load { stop, acked, threads }
    }

    fn count(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    fn finish(self) -> HashMap<String, i64> {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads {
            thread.join().unwrap();
        }
        Arc::try_unwrap(self.acked).unwrap().into_inner().unwrap()
    }
}

impl Client {
    /// Like `try_ws`, but a refused or failed connection is an error, not a panic.
    fn try_ws_quietly(&self, path: &str) -> Result<Ws, ()> {
        let stream = std::net::TcpStream::connect(self.addr).map_err(|_| ())?;
        stream.set_read_timeout(Some(Duration::from_secs(5))).map_err(|_| ())?;
        let mut request =
            tungstenite::client::IntoClientRequest::into_client_request(format!("ws://{}{}", self.addr, path))
                .map_err(|_| ())?;
        request.headers_mut().insert("Cookie", self.cookie_header().parse().map_err(|_| ())?);
        tungstenite::client::client(request, stream).map(|(socket, _)| Ws { socket }).map_err(|_| ())
    }
}

/// Checks every acknowledged message is stored exactly once, and the files are sound.
fn verify(dir: &std::path::Path, acked: &HashMap<String, i64>) {
    let chat = open_db(dir, "chathistory.db");
    let mut by_text: HashMap<String, Vec<i64>> = HashMap::new();
    let mut stmt = chat.prepare("SELECT id, text FROM messages").unwrap();
    for row in stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).unwrap() {
        let (id, text) = row.unwrap();
        by_text.entry(text).or_default().push(id);
    }
    for (text, id) in acked {
        assert_eq!(by_text.get(text), Some(&vec![*id]), "{text} (acknowledged as {id}) is stored exactly once");
    }
    assert!(by_text.values().all(|ids| ids.len() == 1), "no message is stored twice");
    for file in ["users.db", "chathistory.db", "rooms.db"] {
        let check: String = open_db(dir, file).query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok", "{file}");
    }
}

fn random_millis(from: u64, to: u64) -> Duration {
    let r = u64::from(getrandom::u32().unwrap());
    Duration::from_millis(from + r % (to - from))
}

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_message() {
    let mut server = Server::start(&["--rate-limits", "off"]);
    let load = Load::start(&server, 4);
    for round in 0..5 {
        let before = load.count();
        assert!(eventually(Duration::from_secs(20), || load.count() > before + 20), "round {round}: load flows");
        std::thread::sleep(random_millis(0, 300));
        server.kill();
        std::thread::sleep(random_millis(0, 100));
        server.start_again();
    }
    let before = load.count();
    assert!(eventually(Duration::from_secs(20), || load.count() > before + 20));
    let acked = load.finish();
    assert_eq!(server.stop(), Some(0));
    assert!(acked.len() > 100, "{} messages acknowledged", acked.len());
    verify(server.data.path(), &acked);
}

/// An acknowledgement sent before its commit would be lost by a kill right after it arrives:
/// kill the server the moment any client sees a new echo, many times, with `--durability full`
/// (a commit then waits for the disk, which widens that window), and every echoed message
/// must be there after each restart.
#[test]
fn a_kill_right_after_an_echo_loses_nothing_acknowledged() {
    let mut server = Server::start(&["--rate-limits", "off", "--durability", "full"]);
    let load = Load::start(&server, 8);
    for round in 0..8 {
        let before = load.count();
        assert!(eventually(Duration::from_secs(20), || load.count() > before + 5), "round {round}: load flows");
        let seen = load.count();
        let deadline = Instant::now() + Duration::from_secs(20);
        while load.count() == seen && Instant::now() < deadline {
            std::hint::spin_loop();
        }
        server.kill();
        let acked = load.acked.lock().unwrap().clone();
        server.start_again();
        verify(server.data.path(), &acked);
    }
    let acked = load.finish();
    assert_eq!(server.stop(), Some(0));
    verify(server.data.path(), &acked);
}

#[test]
fn sigterm_under_load_loses_nothing() {
    let mut server = Server::start(&["--rate-limits", "off"]);
    let load = Load::start(&server, 4);
    assert!(eventually(Duration::from_secs(20), || load.count() > 200));
    assert_eq!(server.stop(), Some(0), "SIGTERM exits 0 under load");
    let acked = load.finish();
    verify(server.data.path(), &acked);
    assert!(server.log().contains("shutting down"));
}

#[test]
fn a_backup_taken_under_load_is_consistent_and_restores() {
    let server = Server::start(&["--rate-limits", "off"]);
    let load = Load::start(&server, 3);
    assert!(eventually(Duration::from_secs(20), || load.count() > 100));
    let acked_before: HashMap<String, i64> = load.acked.lock().unwrap().clone();
    let backup = TempDir::new("backup");
    let started = Instant::now();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mychat"))
        .arg("backup")
        .arg(backup.path())
        .arg("--data-dir")
        .arg(server.data.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("chathistory.db") && report.contains("integrity ok"), "{report}");
    assert!(started.elapsed() < Duration::from_secs(10));
    let acked = load.finish();
    assert!(acked.len() > acked_before.len(), "the server kept writing during the backup");
    // Every message acknowledged before the backup began is in it; nothing is doubled.
    let chat = open_db(backup.path(), "chathistory.db");
    for (text, id) in &acked_before {
        let n: i64 = chat
            .query_row("SELECT count(*) FROM messages WHERE id = ?1 AND text = ?2", (id, text), |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "{text}");
    }
    // Backing up into a directory that already holds a backup is refused.
    let again = std::process::Command::new(env!("CARGO_BIN_EXE_mychat"))
        .args(["backup", &backup.path().to_string_lossy(), "--data-dir", &server.data.path().to_string_lossy()])
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already holds"));
    // Restoring is starting a server on the copy.
    let restored = Server::start_in(Arc::new(backup), &[]);
    let mut sender = restored.client();
    assert_eq!(sender.login("sender0", "sender0-password").status, 303);
    let users = sender.get_json("/api/users");
    assert_eq!(users.as_array().unwrap().len(), 6);
}

#[test]
fn backing_up_a_directory_without_databases_is_refused() {
    let empty = TempDir::new("empty");
    let dest = TempDir::new("dest");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mychat"))
        .args(["backup", &dest.path().to_string_lossy(), "--data-dir", &empty.path().to_string_lossy()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("holds no users.db: nothing to back up"));
    assert_eq!(std::fs::read_dir(dest.path()).unwrap().count(), 0, "nothing was written");
}
