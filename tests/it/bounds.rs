//! Bounds on what a client, an address or an account can make the server hold or refuse
//! others (issue 11): silent connections, login floods, lock-outs, names, cookies, sessions,
//! and the data directory's safety (interrupted migrations, a second server, lost files).

use crate::metrics::{sample, scrape};
use crate::util::*;
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

fn json_client(server: &Server) -> Client {
    let mut client = server.client();
    client.extra_headers.push(("Accept".into(), "application/json".into()));
    client
}

#[test]
fn behind_tls_only_the_host_prefixed_cookie_authenticates() {
    let server = Server::start(&["--behind-tls", "on"]);
    let (mut attacker, attacker_id) = user(&server, "mallory");
    let token = attacker.cookies.get("__Host-mychat_session").expect("a __Host- cookie over TLS").clone();
    assert_eq!(attacker.me()["id"], attacker_id.as_str());
    // A sibling subdomain can set a plain `mychat_session` cookie on the victim's browser
    // (cookie tossing): it must not log the victim in as the attacker.
    let mut victim = json_client(&server);
    victim.cookies.insert("mychat_session".into(), token.clone());
    let me = victim.get("/api/me");
    assert_eq!(me.status, 401, "a tossed plain cookie is ignored: {}", me.text());
    assert_eq!(victim.try_ws(&format!("/ws/global/{attacker_id}")).err(), Some(401), "nor for a WebSocket");
    assert_eq!(victim.get("/").status, 200, "the login page, not the attacker's app");
    // With the victim's own __Host- cookie beside a tossed one, the victim stays themself.
    let (victim_user, victim_id) = user(&server, "victim");
    let mut both = victim_user.clone();
    both.cookies.insert("mychat_session".into(), token);
    assert_eq!(both.me()["id"], victim_id.as_str());
    // Over plain HTTP the plain cookie is the session cookie, as before.
    let plain = Server::start(&[]);
    let (mut alice, alice_id) = user(&plain, "alice");
    assert!(alice.cookies.contains_key("mychat_session"));
    assert_eq!(alice.me()["id"], alice_id.as_str());
}

/// Runs the binary to its end (within a generous deadline); its exit code and stderr.
fn run_to_end(args: &[&str]) -> (Option<i32>, String) {
    let mut child = server_command()
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the mychat binary runs");
    let deadline = std::time::Instant::now() + 30 * SECOND;
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let output = child.wait_with_output().unwrap();
            panic!("still running after 30 s:\n{}", String::from_utf8_lossy(&output.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stderr).into_owned() + &String::from_utf8_lossy(&output.stdout);
    (output.status.code(), text)
}

#[test]
fn a_second_server_on_the_same_data_directory_refuses_to_start() {
    let server = Server::start(&[]);
    let (mut alice, _) = user(&server, "alice");
    let dir = server.data.path().to_str().unwrap().to_string();
    let (code, log) = run_to_end(&["--addr", "127.0.0.1:0", "--data-dir", &dir]);
    assert_ne!(code, Some(0), "the second server must not run: {log}");
    assert!(log.contains(&format!("pid {}", server.pid())), "the message names the holder: {log}");
    assert!(!log.contains("serving http://"), "{log}");
    // The first one is unharmed, and a backup still works while it runs.
    assert_eq!(alice.me()["name"], "alice");
    let dest = TempDir::new("backup");
    let target = dest.path().join("copy");
    let (code, log) = run_to_end(&["backup", target.to_str().unwrap(), "--data-dir", &dir]);
    assert_eq!(code, Some(0), "{log}");
    let copy = open_db(&target, "users.db");
    let names: i64 = copy.query_row("SELECT count(*) FROM users WHERE name = 'alice'", [], |r| r.get(0)).unwrap();
    assert_eq!(names, 1);
}

/// A stopped server's data directory with one account in it.
fn stopped_install_with_an_account() -> std::sync::Arc<TempDir> {
    let mut server = Server::start(&[]);
    user(&server, "alice");
    server.stop();
    server.data.clone()
}

fn start_fails(data: &std::sync::Arc<TempDir>) -> String {
    match Server::try_start(data.clone(), "127.0.0.1:0", &[]) {
        Ok(_) => panic!("the server must refuse to start"),
        Err(log) => log,
    }
}

#[test]
fn an_empty_history_or_rooms_file_beside_accounts_is_refused_by_name() {
    for file in ["chathistory.db", "rooms.db"] {
        let data = stopped_install_with_an_account();
        for leftover in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(data.path().join(format!("{file}{leftover}")));
        }
        std::fs::write(data.path().join(file), b"").unwrap();
        let log = start_fails(&data);
        assert!(log.contains(&format!("{file} is empty")), "{file}: {log}");
        assert_eq!(std::fs::metadata(data.path().join(file)).unwrap().len(), 0, "{file} left as it was");
    }
    // A new install (no accounts yet) with empty files starts as usual.
    let fresh = std::sync::Arc::new(TempDir::new("fresh"));
    for file in ["users.db", "chathistory.db", "rooms.db"] {
        std::fs::write(fresh.path().join(file), b"").unwrap();
    }
    let server = Server::start_in(fresh, &[]);
    user(&server, "first");
}

#[test]
fn a_malformed_file_is_named_in_the_error() {
    for file in ["users.db", "chathistory.db", "rooms.db"] {
        let data = stopped_install_with_an_account();
        std::fs::write(data.path().join(file), vec![b'x'; 8192]).unwrap();
        let log = start_fails(&data);
        assert!(log.contains(file), "{file}: {log}");
    }
}

/// The pre-migration copy of the legacy fixture is complete and holds the original rows.
fn assert_complete_original_copy(dir: &std::path::Path) {
    let copy = dir.join("pre-migration");
    for file in ["users.db", "chathistory.db", "rooms.db"] {
        let db = open_db(&copy, file);
        let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok", "{file}");
        let version: i64 = db.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, 0, "{file} is the unmigrated original");
    }
    let chat = open_db(&copy, "chathistory.db");
    let sender: String = chat.query_row("SELECT sender FROM messages WHERE id = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(sender, "alice", "names, not ids: the original rows");
    let rooms: i64 = open_db(&copy, "rooms.db").query_row("SELECT count(*) FROM rooms", [], |r| r.get(0)).unwrap();
    assert_eq!(rooms, 2);
    assert!(!dir.join("pre-migration.tmp").exists(), "no temporary folder is left");
}

#[test]
fn an_interrupted_pre_migration_copy_is_redone() {
    // What a SIGKILL during the first start's copy left: the folder with one file whole,
    // one empty and one missing.
    let data = std::sync::Arc::new(TempDir::new("interrupted"));
    copy_legacy_fixture(data.path());
    let partial = data.path().join("pre-migration");
    std::fs::create_dir(&partial).unwrap();
    std::fs::copy(data.path().join("users.db"), partial.join("users.db")).unwrap();
    std::fs::write(partial.join("rooms.db"), b"").unwrap();
    let server = Server::start_in(data.clone(), &[]);
    assert!(server.log().contains("pre-migration is incomplete"), "reported: {}", server.log());
    assert_complete_original_copy(data.path());
    drop(server);

    // A leftover temporary folder (the copy is written there, then renamed) is redone too.
    let data = std::sync::Arc::new(TempDir::new("leftover"));
    copy_legacy_fixture(data.path());
    let temporary = data.path().join("pre-migration.tmp");
    std::fs::create_dir(&temporary).unwrap();
    std::fs::write(temporary.join("users.db"), b"half a copy").unwrap();
    let server = Server::start_in(data.clone(), &[]);
    assert!(server.log().contains("pre-migration.tmp"), "reported: {}", server.log());
    assert_complete_original_copy(data.path());
}

fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn a_session_made_while_the_clock_was_fast_still_expires_on_schedule() {
    let mut server = Server::start(&["--session-lifetime", "3s"]);
    let (mut alice, _) = user(&server, "alice");
    server.stop();
    // The clock was 400 days fast when the session was made, and has been corrected since.
    let fast = unix_now() + 400 * 86_400;
    let users = rusqlite::Connection::open(server.data.path().join("users.db")).unwrap();
    assert_eq!(users.execute("UPDATE sessions SET created_at = ?1, last_seen = ?1", [fast]).unwrap(), 1);
    drop(users);
    server.start_again();
    assert!(eventually(60 * SECOND, || alice.get("/api/me").status == 401), "a 3 s session must not live for 400 days");
    let sessions: i64 =
        open_db(server.data.path(), "users.db").query_row("SELECT count(*) FROM sessions", [], |r| r.get(0)).unwrap();
    assert_eq!(sessions, 0, "and its row is gone");
}

/// `count` pipelined `POST /login` attempts with never-repeating names over `conns`
/// keep-alive connections, sent as an address behind a trusted proxy when `forwarded_for`
/// is set. Each name is 32 four-byte characters, as large as a name may be. Returns how
/// many got each status, and the error messages seen.
fn login_flood(
    server: &Server,
    forwarded_for: Option<&str>,
    count: usize,
    conns: usize,
) -> (std::collections::BTreeMap<u16, usize>, std::collections::BTreeSet<String>) {
    use std::io::{BufReader, Write};
    let per_conn = count / conns;
    let threads: Vec<_> = (0..conns)
        .map(|t| {
            let addr = server.addr;
            let forwarded = forwarded_for.map(|f| format!("X-Forwarded-For: {f}\r\n")).unwrap_or_default();
            std::thread::spawn(move || {
                let mut statuses = std::collections::BTreeMap::new();
                let mut errors = std::collections::BTreeSet::new();
                let stream = std::net::TcpStream::connect(addr).unwrap();
                stream.set_read_timeout(Some(60 * SECOND)).unwrap();
                let mut writer = stream.try_clone().unwrap();
                let mut reader = BufReader::new(stream);
                let mut sent = 0;
                while sent < per_conn {
                    let batch = (per_conn - sent).min(200);
                    let mut bytes = Vec::new();
                    for i in sent..sent + batch {
                        // 32 characters from the Mathematical Alphanumeric block, unique per attempt.
                        let n = (t * per_conn + i) as u32;
                        let name: String =
                            (0..32).map(|k| char::from_u32(0x1D400 + (n >> (k % 20)) % 52).unwrap_or('x')).collect();
                        let body = format!("username={}&password=not-the-password", encode(&name));
                        bytes.extend_from_slice(
                            format!(
                                "POST /login HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n{forwarded}\
                                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                                body.len()
                            )
                            .as_bytes(),
                        );
                    }
                    writer.write_all(&bytes).unwrap();
                    for _ in 0..batch {
                        let response = read_response(&mut reader).unwrap();
                        *statuses.entry(response.status).or_insert(0) += 1;
                        if errors.len() < 8 {
                            errors.insert(response.error());
                        }
                    }
                    sent += batch;
                }
                (statuses, errors)
            })
        })
        .collect();
    let mut statuses = std::collections::BTreeMap::new();
    let mut errors = std::collections::BTreeSet::new();
    for thread in threads {
        let (s, e) = thread.join().unwrap();
        for (status, n) in s {
            *statuses.entry(status).or_insert(0) += n;
        }
        errors.extend(e);
    }
    (statuses, errors)
}

#[test]
fn a_flood_of_logins_with_random_names_does_not_grow_memory() {
    let server = Server::start(&["--trusted-proxies", "127.0.0.1"]);
    let mut owner = json_client(&server);
    owner.register("owner", "owner-password");
    login_flood(&server, Some("203.0.113.66"), 400, 2);
    let before = rss_kib(server.pid());
    let started = std::time::Instant::now();
    // Before the fix, each made-up name left ~250 bytes behind: 30,000 of them grew RSS by
    // ~8 MiB (60,000: 8 -> 23.6 MiB).
    let (statuses, errors) = login_flood(&server, Some("203.0.113.66"), 30_000, 4);
    let after = rss_kib(server.pid());
    eprintln!(
        "login flood: 30,000 attempts in {:.1} s, {statuses:?}; RSS {before} KiB -> {after} KiB",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(statuses.values().sum::<usize>(), 30_000, "every attempt answered: {statuses:?}");
    // The address was out of attempts throughout: its budget gives one more every 30 s, so a
    // flood slowed down by a busy machine may see that one through (a wrong password, 401).
    let refills = (started.elapsed().as_secs() / 30) as usize + 1;
    let tried = statuses.get(&401).copied().unwrap_or(0);
    assert_eq!(statuses.get(&429).copied().unwrap_or(0) + tried, 30_000, "only 401 and 429: {statuses:?}");
    assert!(tried <= refills, "{tried} attempts let through in {refills} refills: {statuses:?}");
    assert!(
        errors.iter().all(|e| e.starts_with("too many attempts") || e == "wrong user name or password"),
        "{errors:?}"
    );
    assert!(after < before + 4 * 1024, "RSS grew from {before} KiB to {after} KiB");
    assert_eq!(count_rows(server.data.path(), "users.db", "sessions"), 1, "only the registration's session");
    // A real user from another address is not affected.
    let mut elsewhere = json_client(&server);
    elsewhere.extra_headers.push(("X-Forwarded-For".into(), "198.51.100.5".into()));
    assert_eq!(elsewhere.login("owner", "owner-password").status, 303);
}

#[test]
fn guesses_from_one_network_never_lock_the_owner_out() {
    let server = Server::start(&["--trusted-proxies", "127.0.0.1"]);
    server.client().register("owner", "the-owners-password");
    let from = |ip: &str| {
        let mut client = json_client(&server);
        client.extra_headers.push(("X-Forwarded-For".into(), ip.into()));
        client
    };
    // Two wrong guesses a second from one address, for ten seconds.
    let mut attacker = from("203.0.113.9");
    let mut statuses = Vec::new();
    for _ in 0..20 {
        let started = std::time::Instant::now();
        statuses.push(attacker.login("owner", "a-wrong-guess").status);
        std::thread::sleep(Duration::from_millis(500).saturating_sub(started.elapsed()));
    }
    assert_eq!(&statuses[..5], &[401; 5], "{statuses:?}");
    assert!(statuses[5..].iter().all(|s| *s == 429), "the attacker is refused: {statuses:?}");
    assert_eq!(attacker.login("owner", "the-owners-password").status, 429, "even with the right password");
    assert_eq!(count_rows(server.data.path(), "users.db", "sessions"), 1, "the refused attempt opened no session");
    // The owner, elsewhere, gets in at once.
    let mut owner = from("198.51.100.20");
    assert_eq!(owner.login("owner", "the-owners-password").status, 303);
    assert_eq!(owner.me()["name"], "owner");
    // Another /64 of IPv6 is another network; the same /64 is the same one.
    let mut v6 = from("2001:db8:aa:1::1");
    for _ in 0..5 {
        assert_eq!(v6.login("owner", "a-wrong-guess").status, 401);
    }
    assert_eq!(from("2001:db8:aa:1::ffff").login("owner", "the-owners-password").status, 429, "same /64");
    assert_eq!(from("2001:db8:aa:2::1").login("owner", "the-owners-password").status, 303, "another /64");
}

#[test]
fn an_attack_from_many_networks_meets_the_accounts_own_budget() {
    let server = Server::start(&["--trusted-proxies", "127.0.0.1"]);
    server.client().register("owner", "the-owners-password");
    let from = |ip: String| {
        let mut client = json_client(&server);
        client.extra_headers.push(("X-Forwarded-For".into(), ip));
        client
    };
    // 50 failures are allowed across networks (5 from each of 10 here), then one per 20 s.
    let mut statuses = Vec::new();
    for network in 0..11 {
        let mut attacker = from(format!("203.0.113.{}", 100 + network));
        for _ in 0..5 {
            statuses.push(attacker.login("owner", "a-wrong-guess").status);
        }
    }
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 50, "{statuses:?}");
    let refused = from("198.51.100.30".into()).login("owner", "the-owners-password");
    assert_eq!(refused.status, 429, "the owner, too, waits while the account's budget is spent");
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=20).contains(&retry), "for at most 20 s at a time: {retry}");
    // The refusals left no session behind.
    let sessions: i64 =
        open_db(server.data.path(), "users.db").query_row("SELECT count(*) FROM sessions", [], |r| r.get(0)).unwrap();
    assert_eq!(sessions, 1, "only the registration's session");
}

/// `count` bystander requests, one after another, each on a new connection from 127.0.0.1;
/// the statuses they got (0: no answer within 30 s).
fn bystanders(server: &Server, count: usize) -> Vec<u16> {
    use std::io::Write;
    (0..count)
        .map(|_| {
            let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
            stream.set_read_timeout(Some(30 * SECOND)).unwrap();
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
            read_response(&mut stream).map_or(0, |r| r.status)
        })
        .collect()
}

/// An attacker keeping `per_address` silent connections open from each of `addresses`,
/// opening a new one whenever the server closes (or refuses) one, until stopped.
struct SilentCrowd {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<std::thread::JoinHandle<usize>>,
}

impl SilentCrowd {
    fn start(server: &Server, addresses: &[std::net::Ipv4Addr], per_address: usize) -> SilentCrowd {
        use std::io::Read;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (connected_tx, connected) = std::sync::mpsc::channel();
        let threads: Vec<_> = addresses
            .iter()
            .map(|&from| {
                let (stop, server_addr, connected_tx) = (stop.clone(), server.addr, connected_tx.clone());
                let connect = move || {
                    let stream = connect_from(server_addr, from);
                    stream.set_nonblocking(true).unwrap();
                    stream
                };
                std::thread::spawn(move || {
                    let mut held: Vec<std::net::TcpStream> = (0..per_address).map(|_| connect()).collect();
                    let mut opened = per_address;
                    let _ = connected_tx.send(());
                    // Bounded: two minutes at most (longer than a bystander waits), whatever
                    // the test does.
                    let deadline = std::time::Instant::now() + 120 * SECOND;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) && std::time::Instant::now() < deadline {
                        for stream in &mut held {
                            let mut byte = [0u8; 512];
                            match stream.read(&mut byte) {
                                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                                // Closed by the server (or answered with a refusal): open another.
                                _ => {
                                    *stream = connect();
                                    opened += 1;
                                }
                            }
                        }
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    opened
                })
            })
            .collect();
        for _ in addresses {
            connected.recv().unwrap();
        }
        SilentCrowd { stop, threads }
    }

    /// Stops the attack; how many connections it opened in all.
    fn stop(self) -> usize {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.threads.into_iter().map(|t| t.join().unwrap()).sum()
    }
}

#[test]
fn silent_connections_do_not_shut_bystanders_out() {
    // Scaled down (4 workers, 256 queue slots, 64 connections per address) so the test fits
    // the default open-file limit; the mechanism is the same at the defaults.
    let server = Server::start(&["--workers", "4", "--queue", "256", "--max-connections-per-ip", "64"]);
    // One address: its cap keeps it from filling the queue.
    let crowd = SilentCrowd::start(&server, &[[127, 0, 0, 2].into()], 64);
    let started = std::time::Instant::now();
    assert_eq!(bystanders(&server, 10), vec![200; 10]);
    eprintln!("one address: 10 bystanders took {:?}", started.elapsed());
    crowd.stop();
    // Five addresses, each close to its cap, reconnecting as soon as they are closed:
    // together more silent connections than the queue and the workers hold.
    let addresses: Vec<std::net::Ipv4Addr> = (2..=6).map(|last| [127, 0, 0, last].into()).collect();
    let crowd = SilentCrowd::start(&server, &addresses, 56);
    let started = std::time::Instant::now();
    let statuses = bystanders(&server, 10);
    let took = started.elapsed();
    let opened = crowd.stop();
    eprintln!("five addresses: the crowd opened {opened} connections; 10 bystanders took {took:?}: {statuses:?}");
    assert_eq!(statuses, vec![200; 10], "every bystander is served");
}

fn count_rows(dir: &std::path::Path, file: &str, table: &str) -> i64 {
    open_db(dir, file).query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

#[test]
fn invisible_and_look_alike_names_are_refused() {
    let server = Server::start(&["--rate-limits", "off"]);
    let (mut alice, _) = user(&server, "alice");
    let register = |name: &str| {
        json_client(&server).post_form("/register", &[("username", name), ("password", "a-good-password")])
    };
    for (what, name) in [
        ("zero-width space", "al\u{200B}ice"),
        ("zero-width joiner", "bo\u{200D}b"),
        ("right-to-left override", "\u{202E}ecila"),
        ("byte order mark", "\u{FEFF}eve"),
        ("line separator", "eve\u{2028}x"),
        ("Hangul filler", "\u{3164}"),
        ("tag characters", "eve\u{E0065}\u{E0076}"),
        ("only zero-width spaces", "\u{200B}\u{200B}\u{200B}"),
        ("control character", "eve\u{7}"),
        ("empty", "   "),
    ] {
        let response = register(name);
        assert_eq!(response.status, 400, "{what}: {}", response.text());
        let error = response.error();
        assert!(
            error.contains("invisible") || error.contains("control") || error.contains("1 to 32"),
            "{what}: a clear error: {error}"
        );
    }
    // "аlice" with a Cyrillic а looks like alice: refused, as is a capital I for the l.
    for look_alike in ["\u{0430}lice", "AIice"] {
        let response = register(look_alike);
        assert_eq!(response.status, 409, "{look_alike}: {}", response.text());
        assert_eq!(response.error(), "that user name looks like one that is taken");
    }
    assert_eq!(count_rows(server.data.path(), "users.db", "users"), 1, "no row was written");
    // Compatibility forms are stored as the plain letters they show, and log in either way.
    let mut bob = json_client(&server);
    assert_eq!(bob.post_form("/register", &[("username", "ｂｏｂ"), ("password", "bobs-password")]).status, 303);
    assert_eq!(bob.me()["name"], "bob");
    assert_eq!(register("bob").status, 409);
    assert_eq!(json_client(&server).login("ｂｏｂ", "bobs-password").status, 303);
    // Room names are cleaned the same way.
    let refused = alice.post_json("/api/rooms/create", &serde_json::json!({ "name": "\u{202E}nedrag" }));
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.error().contains("invisible"), "{}", refused.error());
    let refused = alice.post_json("/api/rooms/create", &serde_json::json!({ "name": "\u{200B}" }));
    assert_eq!(refused.status, 400);
    assert_eq!(count_rows(server.data.path(), "rooms.db", "rooms"), 0, "no room was written");
    let room = alice.post_json("/api/rooms/create", &serde_json::json!({ "name": "ｇａｒｄｅｎ" }));
    assert_eq!(room.status, 201, "{}", room.text());
    assert_eq!(room.json()["name"], "garden");
}

#[test]
fn legacy_look_alike_names_keep_working() {
    // An install of the original app where "аlice" (Cyrillic а) registered beside "alice".
    let data = std::sync::Arc::new(TempDir::new("look-alikes"));
    copy_legacy_fixture(data.path());
    let users = rusqlite::Connection::open(data.path().join("users.db")).unwrap();
    users
        .execute(
            "INSERT INTO users (id, name, password_hash, online)
             SELECT 'cyrillic-alice', 'аlice', password_hash, 0 FROM users WHERE name = 'alice'",
            [],
        )
        .unwrap();
    drop(users);
    let server = Server::start_in(data.clone(), &[]);
    let skeletons: Vec<String> = open_db(data.path(), "users.db")
        .prepare("SELECT name_skeleton FROM users WHERE name IN ('alice', 'аlice')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(skeletons, ["alice", "alice"], "the migration filled in the skeletons");
    for (name, id) in [("alice", ALICE), ("аlice", "cyrillic-alice")] {
        let mut client = json_client(&server);
        assert_eq!(client.login(name, "alice-pass-1").status, 303, "{name}");
        assert_eq!(client.me()["id"], id);
    }
}

/// Issue 11, item 3: one account created 300,000 rooms, another added a victim to 20,000.
#[test]
fn rooms_and_memberships_are_bounded_and_refusals_store_nothing() {
    let server = Server::start(&["--rate-limits", "off"]);
    let (mut owner, _) = user(&server, "owner");
    let (mut victim, v) = user(&server, "victim");
    let create = |client: &mut Client, i: usize| {
        client.post_json("/api/rooms/create", &serde_json::json!({ "name": format!("r{i}") }))
    };
    let mut rooms = Vec::new();
    for i in 0..100 {
        let made = create(&mut owner, i);
        assert_eq!(made.status, 201, "{}", made.text());
        rooms.push(made.json()["id"].as_str().unwrap().to_string());
    }
    let refused = create(&mut owner, 100);
    assert_eq!(refused.status, 409);
    assert_eq!(refused.error(), "you have created as many rooms as one may (100): delete one first");
    assert_eq!(count_rows(server.data.path(), "rooms.db", "rooms"), 100, "the refused room was not stored");
    // Deleting one makes room for another.
    assert_eq!(owner.delete(&format!("/api/rooms/{}", rooms.pop().unwrap())).status, 200);
    assert_eq!(create(&mut owner, 101).status, 201);
    // A victim can be added to at most 500 rooms: five accounts fill them.
    let mut added = 0;
    for f in 0..5 {
        let (mut filler, _) = user(&server, &format!("filler{f}"));
        for i in 0..100 {
            let id = if f == 0 && i < rooms.len() {
                rooms[i].clone()
            } else {
                create(&mut filler, i).json()["id"].as_str().unwrap().to_string()
            };
            let by = if f == 0 && i < rooms.len() { &mut owner } else { &mut filler };
            let response = by.post_json(&format!("/api/rooms/{id}/add_user"), &serde_json::json!({ "user_id": v }));
            assert_eq!(response.status, 200, "{}", response.text());
            added += 1;
        }
    }
    assert_eq!(added, 500);
    let (mut one_more, _) = user(&server, "one-more");
    let extra = create(&mut one_more, 0).json()["id"].as_str().unwrap().to_string();
    let refused = one_more.post_json(&format!("/api/rooms/{extra}/add_user"), &serde_json::json!({ "user_id": v }));
    assert_eq!(refused.status, 409);
    assert_eq!(refused.error(), "that user is in as many rooms as one may (500)");
    assert_eq!(victim.get_json("/api/rooms").as_array().unwrap().len(), 500);
    let memberships: i64 = open_db(server.data.path(), "rooms.db")
        .query_row("SELECT count(*) FROM room_members WHERE user_id = ?1", [&v], |r| r.get(0))
        .unwrap();
    assert_eq!(memberships, 500, "nothing stored past the bound");
    // And the victim can leave them.
    let first = victim.get_json("/api/rooms")[0]["id"].as_str().unwrap().to_string();
    assert_eq!(victim.post_json(&format!("/api/rooms/{first}/leave"), &serde_json::json!({})).status, 200);
}

#[test]
fn creating_rooms_and_adding_members_is_rate_limited() {
    let server = Server::start(&[]);
    let (mut owner, _) = user(&server, "owner");
    let mut statuses = Vec::new();
    for i in 0..70 {
        statuses.push(owner.post_json("/api/rooms/create", &serde_json::json!({ "name": format!("r{i}") })).status);
    }
    let made = statuses.iter().filter(|s| **s == 201).count();
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(made >= 60, "a household's worth at once: {made}");
    assert_eq!(count_rows(server.data.path(), "rooms.db", "rooms"), made as i64, "refused rooms were not stored");
}

/// Every login adds a session row; an account keeps at most 64, so a script logging in in a
/// loop grows nothing: the 65th login ends the least recently used session (its cookie no
/// longer signs anyone in), and the rest keep working.
#[test]
fn sessions_per_account_are_capped() {
    let server = Server::start(&["--rate-limits", "off"]);
    let (first, a) = user(&server, "alice");
    let mut clients = vec![first];
    for _ in 0..64 {
        let mut client = server.client();
        assert_eq!(client.login("alice", "alice-password").status, 303);
        clients.push(client);
    }
    let sessions = || -> i64 {
        open_db(server.data.path(), "users.db")
            .query_row("SELECT count(*) FROM sessions WHERE user_id = ?1", [&a], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(sessions(), 64, "65 logins, 64 sessions on file");
    let statuses: Vec<u16> = clients.iter_mut().map(|c| c.get("/api/me").status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 64, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 1, "one session ended: {statuses:?}");
    assert_eq!(statuses[64], 200, "the newest login works");
}

/// Unread counts are counted up to a bound: 1,001 unread messages show as 999, and asking
/// for them costs one row per conversation, however long the backlog.
#[test]
fn unread_counts_stop_at_their_cap() {
    let server = Server::start(&["--rate-limits", "off"]);
    let (mut alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let mut ws = bob.ws(&format!("/ws/{b}/{a}"));
    for i in 0..1001 {
        ws.send(&format!("m{i}"));
    }
    ws.recv_where(Duration::from_secs(60), |f| f["type"] == "message" && f["text"] == "m1000").expect("the last echo");
    let stored: i64 = open_db(server.data.path(), "chathistory.db")
        .query_row("SELECT count(*) FROM messages WHERE receiver = ?1", [&a], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 1001, "every message is kept");
    assert_eq!(alice.get_json(&format!("/api/unread/{a}")), serde_json::json!({ b.as_str(): 999 }));
    let chats = alice.get_json("/api/chats");
    assert_eq!(chats[0]["unread"], 999, "{chats}");
}

/// A download that does not read: a GET of a file bigger than the kernel's buffers take,
/// through a small receive window, so the sender thread serving it stays busy. Returns once the head
/// has arrived (the sender thread has taken it).
fn stalled_download(client: &Client, url: &str) -> std::net::TcpStream {
    use socket2::{Domain, Socket, Type};
    use std::io::{Read, Write};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket.connect(&client.addr.into()).unwrap();
    let mut stream: std::net::TcpStream = socket.into();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let head = format!("GET {url} HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\n\r\n", client.addr, client.cookie_header());
    stream.write_all(head.as_bytes()).unwrap();
    let mut seen = Vec::new();
    let mut byte = [0u8; 1];
    while !seen.ends_with(b"\r\n\r\n") {
        assert_eq!(stream.read(&mut byte).unwrap(), 1, "the head of the download");
        seen.push(byte[0]);
    }
    assert!(seen.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&seen));
    stream
}

/// Big downloads are written by sender threads, at most 64 at once: the next big one is
/// answered 503 at once (no thread started), a small one is still served by its worker, and
/// the slots come back when the downloads end.
#[test]
fn downloads_at_once_are_capped() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let big: Vec<u8> = (0..16usize << 20).map(|i| (i % 251) as u8).collect();
    let mut upload = |name: &str, body: &[u8]| -> String {
        let path = format!("/api/files?to=user:{a}&name={name}");
        let response = alice.request("POST", &path, &[], body);
        assert_eq!(response.status, 201, "{}", response.text());
        response.json()["url"].as_str().unwrap().to_string()
    };
    let big_url = upload("big.bin", &big);
    let small_url = upload("small.txt", b"small enough to be sent inline");
    let threads = || std::fs::read_dir(format!("/proc/{}/task", server.pid())).unwrap().count();
    let before = threads();
    let stalled: Vec<_> = (0..64).map(|_| stalled_download(&alice, &big_url)).collect();
    let busy = alice.get(&big_url);
    assert_eq!(busy.status, 503, "{}", busy.text());
    assert_eq!(busy.error(), "too many downloads at once, try again in a moment");
    assert!(threads() <= before + 64, "no sender thread beyond the 64: {} more", threads() - before);
    let small = alice.get(&small_url);
    assert_eq!(small.status, 200, "a small file is sent by the worker");
    drop(stalled);
    assert!(
        eventually(Duration::from_secs(30), || {
            let whole = alice.get(&big_url);
            whole.status == 200 && whole.body == big
        }),
        "the slots came back"
    );
}

/// A message names at most 10 attachments: an 11th is refused with an error frame before
/// anything is looked up, and nothing is stored or delivered.
#[test]
fn attachments_per_message_are_capped() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let mut a_ws = alice.ws(&format!("/ws/{a}/{b}"));
    let mut b_ws = bob.ws(&format!("/ws/{b}/{a}"));
    let ids: Vec<i64> = (1..=11).collect();
    a_ws.send_json(&serde_json::json!({ "type": "message", "text": "eleven", "attachments": ids }));
    let refused = a_ws.recv_where(Duration::from_secs(10), |f| f["type"] == "error").expect("an error frame");
    assert_eq!(refused["error"], "at most 10 attachments per message");
    a_ws.send("marker");
    let next = b_ws.recv_where(Duration::from_secs(10), |f| f["type"] == "message").expect("the marker");
    assert_eq!(next["text"], "marker", "nothing arrived before the marker");
    assert_eq!(count_rows(server.data.path(), "chathistory.db", "messages"), 1, "only the marker is stored");
}

/// A reply in the seed's quote form (a copy of the text, no id) is looked for among its
/// author's latest 1,000 messages in the room, an indexed range: quoting anything older, or
/// text that matches nothing, costs the hub that much and no more, and is refused.
#[test]
fn quotes_look_back_a_bounded_number_of_messages() {
    let server = Server::start(&["--rate-limits", "off"]);
    let (mut alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let room = alice.post_json("/api/rooms/create", &serde_json::json!({ "name": "long" })).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let added = alice.post_json(&format!("/api/rooms/{room}/add_user"), &serde_json::json!({ "user_id": b }));
    assert_eq!(added.status, 200);
    let mut a_ws = alice.ws(&format!("/ws/room/{room}/{a}"));
    let mut b_ws = bob.ws(&format!("/ws/room/{room}/{b}"));
    for i in 0..1001 {
        a_ws.send(&format!("m{i}"));
    }
    let last = |f: &serde_json::Value| f["type"] == "room_message" && f["text"] == "m1000";
    a_ws.recv_where(Duration::from_secs(60), last).expect("alice's last echo");
    b_ws.recv_where(Duration::from_secs(60), last).expect("bob heard them all");
    let quote = |text: &str| serde_json::json!({ "text": "re", "reply_to": { "sender_id": a, "text": text } });
    // m1 is among alice's latest 1,000; m0 is not.
    b_ws.send_json(&quote("m1"));
    let found = b_ws.recv_where(Duration::from_secs(10), |f| f["type"] != "typing").unwrap();
    assert_eq!(found["reply_to"]["text"], "m1", "{found}");
    for missing in ["m0", "never said"] {
        b_ws.send_json(&quote(missing));
        let refused = b_ws.recv_where(Duration::from_secs(10), |f| f["type"] != "typing").unwrap();
        assert_eq!(refused["error"], "the message you reply to is not in this conversation", "{missing}");
    }
    a_ws.send("marker");
    let next = a_ws.recv_where(Duration::from_secs(10), |f| f["type"] == "room_message").unwrap();
    assert_eq!(next["text"], "re", "alice heard the one reply that was found");
    let next = a_ws.recv_where(Duration::from_secs(10), |f| f["type"] == "room_message").unwrap();
    assert_eq!(next["text"], "marker", "and nothing of the refused ones");
    assert_eq!(count_rows(server.data.path(), "rooms.db", "room_messages"), 1003);
}

#[test]
fn a_socket_without_a_reader_thread_is_refused_before_its_101_and_leaves_nothing() {
    // Every reader thread fails to start, as in a process out of threads (debug builds only).
    let server = Server::start_with_env(
        &["--max-sockets-per-user", "1", "--metrics", "on"],
        &[("MYCHAT_FAULT_READER_THREADS", "fail")],
    );
    let (alice, a) = user(&server, "alice");
    let (mut bob, _) = user(&server, "bob");
    // Each try is 503 before any 101 (a browser backs off), and none leaves a socket
    // registered: with one socket allowed, a ghost would turn the next try into 429.
    for _ in 0..3 {
        let refused = alice.try_ws(&format!("/ws/global/{a}")).err();
        assert_eq!(refused, Some(503), "refused before the 101 (the fault needs a debug build)");
    }
    assert!(server.wait_for_log("no reader thread (injected by MYCHAT_FAULT_READER_THREADS); refused", 10 * SECOND));
    let users = bob.get_json("/api/users");
    let entry = users.as_array().unwrap().iter().find(|u| u["id"] == a.as_str()).expect("alice is listed").clone();
    assert_eq!(entry["online"], false, "nobody counts alice online: {entry}");
    let metrics = scrape(&mut server.client());
    assert_eq!(sample(&metrics, "mychat_sockets_open{kind=\"global\"}"), 0.0, "no socket registered");
}
