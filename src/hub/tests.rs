//! The hub on its own: commands in, replies and outbound frames out, with an in-memory
//! database. (The integration tests drive the same paths through real sockets.)

use super::*;
use crate::protocol::ReplyRef;
use crate::ws::queue::{self, OutboundReceiver};
use std::net::{TcpListener, TcpStream};

fn hub() -> Hub {
    let config = Config { rate_limits: false, ..Config::default() };
    Hub::new(Db::open_in_memory().unwrap(), Arc::new(config)).unwrap()
}

/// Runs one command as a batch of its own and returns its reply.
fn ask<T: Send + 'static>(hub: &mut Hub, make: impl FnOnce(Reply<T>) -> Command) -> T {
    let (tx, rx) = crossbeam_channel::bounded(1);
    hub.handle(make(tx));
    hub.finish_batch();
    rx.try_recv().expect("a reply after the batch commits")
}

fn register(hub: &mut Hub, name: &str) -> (SessionUser, TokenHash) {
    let mut token = [0u8; 32];
    token[..name.len()].copy_from_slice(name.as_bytes());
    let user =
        ask(hub, |reply| Command::Register { name: name.into(), password_hash: "x".into(), token, reply }).unwrap();
    (user, token)
}

/// A connected stream whose peer we don't need (the hub only keeps it to shut it down).
fn stream() -> Arc<TcpStream> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    Arc::new(client)
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);

fn open(hub: &mut Hub, token: TokenHash, user: &SessionUser, target: SocketTarget) -> (ConnId, OutboundReceiver) {
    let conn = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (queue, receiver) = queue::channel();
    let request = SocketRequest { conn, token, path_user: Some(user.id.to_string()), target, queue, stream: stream() };
    ask(hub, |reply| Command::OpenSocket { request: Box::new(request), reply }).unwrap();
    (conn, receiver)
}

/// Every JSON frame waiting on a socket.
fn frames(rx: &OutboundReceiver) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    while let Some(item) = rx.try_recv() {
        if let Outbound::Frame(bytes) = item {
            let start = match bytes[1] & 0x7f {
                126 => 4,
                127 => 10,
                _ => 2,
            };
            out.push(serde_json::from_slice(&bytes[start..]).unwrap());
        }
    }
    out
}

fn send(hub: &mut Hub, conn: ConnId, text: &str, reply_to: Option<ReplyRef>) {
    hub.handle(Command::SocketFrame { conn, frame: ClientFrame::Message { text: text.into(), reply_to } });
    hub.finish_batch();
}

#[test]
fn names_are_unique_regardless_of_case() {
    let mut hub = hub();
    register(&mut hub, "Ирина");
    let peer: IpAddr = [10, 0, 0, 1].into();
    let taken = ask(&mut hub, |reply| Command::CheckRegistration { name: "ирина".into(), peer, reply });
    assert_eq!(taken, Err(ApiError::Conflict("that user name is taken")));
    let again = ask(&mut hub, |reply| Command::Register {
        name: "ИРИНА".into(),
        password_hash: "x".into(),
        token: [9; 32],
        reply,
    });
    assert!(matches!(again, Err(ApiError::Conflict(_))));
}

#[test]
fn sessions_authenticate_until_logout() {
    let mut hub = hub();
    let (alice, token) = register(&mut hub, "alice");
    assert_eq!(ask(&mut hub, |reply| Command::Authenticate { token, reply }), Some(alice));
    ask(&mut hub, |reply| Command::Logout { token, reply });
    assert_eq!(ask(&mut hub, |reply| Command::Authenticate { token, reply }), None);
}

#[test]
fn private_message_reaches_every_tab_of_both_sides() {
    let mut hub = hub();
    let (alice, ta) = register(&mut hub, "alice");
    let (bob, tb) = register(&mut hub, "bob");
    let to_bob = SocketTarget::Private { target: bob.id.to_string() };
    let to_alice = SocketTarget::Private { target: alice.id.to_string() };
    let (a1, a1_rx) = open(&mut hub, ta, &alice, to_bob.clone());
    let (_a2, a2_rx) = open(&mut hub, ta, &alice, to_bob);
    let (_b1, b1_rx) = open(&mut hub, tb, &bob, to_alice);
    send(&mut hub, a1, "hi bob", None);
    for rx in [&a1_rx, &a2_rx, &b1_rx] {
        let got = frames(rx);
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0]["text"], "hi bob");
        assert_eq!(got[0]["user"], "alice");
        assert!(got[0]["id"].as_i64().unwrap() > 0);
    }
}

#[test]
fn recipient_elsewhere_is_notified_on_the_global_socket() {
    let mut hub = hub();
    let (alice, ta) = register(&mut hub, "alice");
    let (bob, tb) = register(&mut hub, "bob");
    let (a, _a_rx) = open(&mut hub, ta, &alice, SocketTarget::Private { target: bob.id.to_string() });
    let (_g, g_rx) = open(&mut hub, tb, &bob, SocketTarget::Global);
    frames(&g_rx);
    send(&mut hub, a, "psst", None);
    let got = frames(&g_rx);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["type"], "notify");
    assert_eq!(got[0]["from"], &*alice.id);
    assert_eq!(got[0]["text"], "psst");
}

#[test]
fn presence_changes_are_coalesced() {
    let mut hub = hub();
    let users: Vec<_> = (0..50).map(|i| register(&mut hub, &format!("user{i}"))).collect();
    let mut receivers = Vec::new();
    for (user, token) in &users {
        receivers.push(open(&mut hub, *token, user, SocketTarget::Global).1);
    }
    hub.tick(Instant::now() + Duration::from_secs(1));
    hub.finish_batch();
    for rx in &receivers {
        let got = frames(rx);
        assert_eq!(got.len(), 1, "one presence event, not one per connect: {got:?}");
        assert_eq!(got[0]["type"], "presence");
    }
    assert!(frames(&receivers[0]).is_empty());
}

#[test]
fn replies_quote_stored_messages_and_forged_quotes_are_refused() {
    let mut hub = hub();
    let (alice, ta) = register(&mut hub, "alice");
    let room = ask(&mut hub, |reply| Command::CreateRoom {
        user: alice.id.clone(),
        name: " Garden ".into(),
        description: "".into(),
        reply,
    })
    .unwrap();
    assert_eq!(room.name, "Garden");
    let (conn, rx) = open(&mut hub, ta, &alice, SocketTarget::Room { room: room.id.to_string() });
    send(&mut hub, conn, "original", None);
    let original = frames(&rx).pop().unwrap();
    let id = original["id"].as_i64().unwrap();
    send(&mut hub, conn, "reply", Some(ReplyRef::Id(id)));
    let reply = frames(&rx).pop().unwrap();
    assert_eq!(reply["reply_to"]["text"], "original");
    assert_eq!(reply["reply_to"]["sender_name"], "alice");
    let forged = ReplyRef::Quote { sender_id: alice.id.to_string(), text: "never said".into() };
    send(&mut hub, conn, "reply", Some(forged));
    let error = frames(&rx).pop().unwrap();
    assert_eq!(error["type"], "error");
    let history = ask(&mut hub, |reply| Command::RoomHistory {
        user: alice.id.clone(),
        room: room.id.to_string(),
        page: Page { before: i64::MAX, after: 0, limit: 50 },
        reply,
    })
    .unwrap();
    assert_eq!(history.len(), 2, "the forged reply was not stored");
}

#[test]
fn a_socket_that_stops_reading_is_cut_off() {
    let mut hub = hub();
    let (alice, ta) = register(&mut hub, "alice");
    let (bob, tb) = register(&mut hub, "bob");
    let (a, a_rx) = open(&mut hub, ta, &alice, SocketTarget::Private { target: bob.id.to_string() });
    let (b, b_rx) = open(&mut hub, tb, &bob, SocketTarget::Private { target: alice.id.to_string() });
    let big = "x".repeat(crate::protocol::MAX_TEXT_CHARS);
    for _ in 0..(queue::QUEUE_LIMIT_BYTES / big.len() + 2) {
        send(&mut hub, a, &big, None);
        frames(&a_rx); // alice's tab keeps up; bob's never reads
    }
    assert!(hub.sockets.get(b).is_none(), "bob's socket was dropped");
    assert!(hub.sockets.get(a).is_some(), "alice's socket is unaffected");
    drop(b_rx);
}

#[test]
fn status_sockets_end_with_the_current_array_after_a_storm() {
    let mut hub = hub();
    let users: Vec<_> = (0..30).map(|i| register(&mut hub, &format!("user{i}"))).collect();
    let mut status = Vec::new();
    for (user, token) in &users {
        open(&mut hub, *token, user, SocketTarget::Global);
        status.push(open(&mut hub, *token, user, SocketTarget::Status).1);
    }
    hub.tick(Instant::now() + Duration::from_secs(5));
    hub.finish_batch();
    for rx in &status {
        let arrays: Vec<_> = frames(rx).into_iter().filter(|f| f.is_array()).collect();
        let last = arrays.last().expect("an array on connect at least");
        assert_eq!(last.as_array().unwrap().len(), 30);
        assert!(last.as_array().unwrap().iter().all(|u| u["online"] == true), "{last}");
    }
    // With no change pending, a new status socket gets the current array at once.
    let (late, _) = register(&mut hub, "late");
    hub.tick(Instant::now() + Duration::from_secs(10));
    hub.finish_batch();
    let rx = open(&mut hub, users[0].1, &users[0].0, SocketTarget::Status).1;
    let first = frames(&rx).remove(0);
    assert_eq!(first.as_array().unwrap().len(), 31, "the late user is listed: {first}");
    assert_eq!(first[30]["name"], &*late.name);
}

#[test]
fn a_batch_that_fails_to_commit_releases_nothing_and_tells_the_sender() {
    let mut hub = hub();
    let (alice, ta) = register(&mut hub, "alice");
    let (bob, tb) = register(&mut hub, "bob");
    let (a, a_rx) = open(&mut hub, ta, &alice, SocketTarget::Private { target: bob.id.to_string() });
    let (_b, b_rx) = open(&mut hub, tb, &bob, SocketTarget::Private { target: alice.id.to_string() });
    hub.handle(Command::SocketFrame { conn: a, frame: ClientFrame::Message { text: "lost".into(), reply_to: None } });
    // A deferred foreign-key violation in the same batch makes its COMMIT fail.
    hub.db
        .execute_in_batch(
            "PRAGMA defer_foreign_keys = ON;
             INSERT INTO rooms.room_members (room_id, user_id, added_at) VALUES ('no-such-room', 'x', 't')",
        )
        .unwrap();
    hub.finish_batch();
    let told = frames(&a_rx);
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["type"], "error");
    assert_eq!(told[0]["error"], NOT_SAVED);
    assert!(frames(&b_rx).is_empty(), "nothing was delivered");
    let page = Page { before: i64::MAX, after: 0, limit: 50 };
    let history =
        ask(&mut hub, |reply| Command::History { user: alice.id.clone(), target: bob.id.to_string(), page, reply });
    assert!(history.unwrap().is_empty(), "nothing was stored");
    send(&mut hub, a, "kept", None);
    assert_eq!(frames(&b_rx)[0]["text"], "kept", "the next batch works");
}
