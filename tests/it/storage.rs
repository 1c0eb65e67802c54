//! The seed's three files: legacy data opens, migrates in place, and stays intact.

use crate::util::*;
use rusqlite::Connection;
use std::sync::Arc;

/// Every row of every seed table, as text, in a stable order: to compare states.
fn dump(dir: &std::path::Path) -> Vec<String> {
    let mut rows = Vec::new();
    for (file, table, order) in [
        ("users.db", "users", "rowid"),
        ("chathistory.db", "messages", "id"),
        ("rooms.db", "rooms", "rowid"),
        ("rooms.db", "room_members", "rowid"),
        ("rooms.db", "room_messages", "id"),
    ] {
        let db = open_db(dir, file);
        let mut stmt = db.prepare(&format!("SELECT * FROM {table} ORDER BY {order}")).unwrap();
        let columns = stmt.column_count();
        let mut query = stmt.query([]).unwrap();
        while let Some(row) = query.next().unwrap() {
            let values: Vec<String> = (0..columns).map(|i| format!("{:?}", row.get_ref(i).unwrap())).collect();
            rows.push(format!("{table}: {}", values.join(" | ")));
        }
    }
    rows
}

fn count(db: &Connection, table: &str) -> i64 {
    db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0)).unwrap()
}

#[test]
fn legacy_data_migrates_in_place_and_nothing_is_lost() {
    let mut server = Server::start_legacy(&[]);
    server.stop();
    let dir = server.data.path();
    let chat = open_db(dir, "chathistory.db");
    assert_eq!(count(&chat, "messages"), 8);
    let senders: Vec<(String, String)> = chat
        .prepare("SELECT sender, receiver FROM messages ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(senders[0], (ALICE.to_string(), BOB.to_string()), "names became ids");
    assert_eq!(senders[1], (BOB.to_string(), ALICE.to_string()));
    assert_eq!(senders[7], (ALICE.to_string(), CAROL.to_string()));
    let text6: String = chat.query_row("SELECT text FROM messages WHERE id = 6", [], |r| r.get(0)).unwrap();
    assert_eq!(text6, "Bring the tomato seeds 🍅");
    let read: i64 = chat.query_row("SELECT count(*) FROM messages WHERE read = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(read, 2);
    let rooms = open_db(dir, "rooms.db");
    assert_eq!(count(&rooms, "rooms"), 2);
    assert_eq!(count(&rooms, "room_members"), 4);
    assert_eq!(count(&rooms, "room_messages"), 6);
    let users = open_db(dir, "users.db");
    assert_eq!(count(&users, "users"), 3);
    for (db, file, latest) in [(&users, "users.db", 5), (&chat, "chathistory.db", 3), (&rooms, "rooms.db", 3)] {
        let version: i64 = db.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(version, latest, "{file}");
        let mode: String = db.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal", "{file}");
        let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
        assert_eq!(check, "ok");
    }
    assert!(dir.join("pre-migration/users.db").exists(), "the unmigrated files were copied first");
    let original = open_db(&dir.join("pre-migration"), "chathistory.db");
    let sender: String = original.query_row("SELECT sender FROM messages WHERE id = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(sender, "alice", "the copy is the original");
}

#[test]
fn starting_twice_changes_nothing() {
    let mut server = Server::start_legacy(&[]);
    server.stop();
    let first = dump(server.data.path());
    server.start_again();
    server.stop();
    assert_eq!(dump(server.data.path()), first);
}

#[test]
fn legacy_users_log_in_with_their_passwords_and_are_rehashed() {
    let mut server = Server::start_legacy(&[]);
    for (name, password, id) in
        [("alice", "alice-pass-1", ALICE), ("bob", "bob-pass-2", BOB), ("carol", "carol-pass-3", CAROL)]
    {
        let mut client = server.client();
        assert_eq!(client.login(name, "wrong-password").status, 401);
        assert_eq!(client.login(name, password).status, 303, "{name}");
        assert_eq!(client.me()["id"], id);
    }
    server.stop();
    let users = open_db(server.data.path(), "users.db");
    let hashes: Vec<String> = users
        .prepare("SELECT password_hash FROM users ORDER BY rowid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for hash in &hashes {
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "rehashed to current parameters: {hash}");
    }
    drop(users);
    server.start_again();
    let mut client = server.client();
    assert_eq!(client.login("alice", "alice-pass-1").status, 303, "the new hash works");
}

#[test]
fn legacy_history_and_unread_counts_are_as_the_original_answered() {
    let server = Server::start_legacy(&[]);
    let mut alice = server.client();
    alice.login("alice", "alice-pass-1");
    let history = alice.get_json(&format!("/history/{ALICE}/{BOB}"));
    let items = history.as_array().unwrap();
    assert_eq!(items.len(), 6);
    let expected = [
        ("alice", "Hi Bob!"),
        ("bob", "Hi Alice! How are you?"),
        ("alice", "Good, thanks. Lunch tomorrow?"),
        ("bob", "Sure, 12:30 at the usual place?"),
        ("alice", "Perfect, see you there."),
        ("alice", "Bring the tomato seeds 🍅"),
    ];
    for (item, (user, text)) in items.iter().zip(expected) {
        assert_eq!(item["user"], user);
        assert_eq!(item["sender"], user);
        assert_eq!(item["text"], text);
        assert_eq!(item["time"], "22:32");
        assert!(item["created_at"].is_null(), "legacy rows have no full timestamp");
    }
    assert_eq!(items[0]["id"], 1);
    assert_eq!(alice.get_json(&format!("/api/unread/{ALICE}")), serde_json::json!({ BOB: 2 }));
    let mut bob = server.client();
    bob.login("bob", "bob-pass-2");
    assert_eq!(bob.get_json(&format!("/api/unread/{BOB}")), serde_json::json!({ ALICE: 2 }));
    let mut carol = server.client();
    carol.login("carol", "carol-pass-3");
    assert_eq!(carol.get_json(&format!("/api/unread/{CAROL}")), serde_json::json!({ ALICE: 2 }));
    let users = alice.get_json("/api/users");
    let names: Vec<&str> = users.as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
}

#[test]
fn a_schema_newer_than_the_binary_is_refused() {
    let data = Arc::new(TempDir::new("newer"));
    copy_legacy_fixture(data.path());
    Connection::open(data.path().join("rooms.db")).unwrap().execute_batch("PRAGMA user_version = 7").unwrap();
    let log = match Server::try_start(data.clone(), "127.0.0.1:0", &[]) {
        Ok(_) => panic!("a newer schema must be refused"),
        Err(log) => log,
    };
    assert!(log.contains("rooms.db has schema version 7, but this mychat knows versions up to 3"), "{log}");
    let chat = open_db(data.path(), "chathistory.db");
    let sender: String = chat.query_row("SELECT sender FROM messages WHERE id = 1", [], |r| r.get(0)).unwrap();
    assert_eq!(sender, "alice", "nothing was migrated");
}

/// The database file as it is on disk, without the WAL: what a checkpoint has copied back.
fn rows_in_file_itself(dir: &std::path::Path, file: &str, sql: &str) -> i64 {
    let uri = format!("file:{}?immutable=1", dir.join(file).display());
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
    Connection::open_with_flags(uri, flags).and_then(|db| db.query_row(sql, [], |r| r.get(0))).unwrap_or(-1)
}

#[test]
fn the_checkpointer_copies_the_wal_back_while_the_server_runs() {
    // The hub's own automatic checkpoint waits for 32 MiB of WAL; a few writes reach the
    // database files only through the checkpointer thread, within seconds.
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (_, b) = user(&server, "bob");
    let mut ws = alice.ws(&format!("/ws/{a}/{b}"));
    ws.send("kept in the file");
    assert_eq!(ws.recv_type("message")["text"], "kept in the file");
    let dir = server.data.path();
    let checkpointed = eventually(std::time::Duration::from_secs(30), || {
        rows_in_file_itself(dir, "users.db", "SELECT count(*) FROM users WHERE name = 'bob'") == 1
            && rows_in_file_itself(
                dir,
                "chathistory.db",
                "SELECT count(*) FROM messages WHERE text = 'kept in the file'",
            ) == 1
    });
    assert!(checkpointed, "the new rows reached the database files while the server ran");
}
