//! The hub on its own: commands in, replies and outbound frames out, with an in-memory
//! database. (The integration tests drive the same paths through real sockets.)

use super::*;
use crate::protocol::ReplyRef;
use crate::transport::{BACKLOG_LIMIT_BYTES, SocketHandle, Wire};
use std::io::Read;
use std::os::unix::net::UnixStream;

fn hub() -> Hub {
    let config =
        Config { rate_limits: false, registration: Some(crate::config::Registration::Open), ..Config::default() };
    Hub::new(Db::open_in_memory().unwrap(), Arc::new(config)).unwrap()
}

/// Runs one question as a worker would (a command of its own batch) and returns the answer
/// released after the commit; `None` if the batch released nothing.
fn try_ask<T: Send + 'static>(hub: &mut Hub, question: impl FnOnce(&mut Hub) -> T + Send + 'static) -> Option<T> {
    let (tx, rx) = crossbeam_channel::bounded(1);
    let job: Job = Box::new(move |hub: &mut Hub| {
        let value = question(hub);
        hub.reply(tx, value);
    });
    hub.handle(Command::Ask { job, name: "test" });
    hub.finish_batch();
    rx.try_recv().ok()
}

fn ask<T: Send + 'static>(hub: &mut Hub, question: impl FnOnce(&mut Hub) -> T + Send + 'static) -> T {
    try_ask(hub, question).expect("a reply after the batch commits")
}

fn register(hub: &mut Hub, name: &str) -> (SessionUser, TokenHash) {
    let mut token = [0u8; 32];
    token[..name.len()].copy_from_slice(name.as_bytes());
    let name = name.to_string();
    let account = NewAccount { name, password_hash: "x".into(), invite: None, token, meta: SessionMeta::default() };
    let user = ask(hub, move |hub| hub.register(account)).unwrap();
    (user, token)
}

/// The client's end of a socket: reads and decodes what the server wrote.
struct Peer {
    stream: UnixStream,
    buf: Vec<u8>,
}

impl Peer {
    /// Every complete frame that has arrived: text frames as JSON, a close frame as
    /// `{"close": code}`; pings are skipped.
    fn frames(&mut self) -> Vec<serde_json::Value> {
        let mut chunk = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("reading the socket: {e}"),
            }
        }
        let mut out = Vec::new();
        while self.buf.len() >= 2 {
            let (start, len) = match self.buf[1] & 0x7f {
                126 => (4, u16::from_be_bytes([self.buf[2], self.buf[3]]) as usize),
                127 => (10, u64::from_be_bytes(self.buf[2..10].try_into().unwrap()) as usize),
                n => (2, n as usize),
            };
            if self.buf.len() < start + len {
                break;
            }
            let opcode = self.buf[0] & 0x0f;
            let payload: Vec<u8> = self.buf.drain(..start + len).skip(start).collect();
            match opcode {
                1 => out.push(serde_json::from_slice(&payload).unwrap()),
                8 => out.push(serde_json::json!({ "close": u16::from_be_bytes([payload[0], payload[1]]) })),
                _ => {}
            }
        }
        out
    }
}

static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1000);

/// A socket as a worker makes it: held, asked for, then released (with an empty "101").
fn open_socket(
    hub: &mut Hub,
    token: TokenHash,
    user: &SessionUser,
    target: SocketTarget,
) -> (ConnId, SocketHandle, Peer) {
    let conn = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (ours, theirs) = UnixStream::pair().unwrap();
    theirs.set_nonblocking(true).unwrap();
    let socket = SocketHandle::held(conn, Wire::Unix(ours));
    let request = SocketRequest {
        conn,
        credential: Credential::Session(token),
        peer: std::net::IpAddr::from([127, 0, 0, 1]),
        path_user: Some(user.id.to_string()),
        target,
        socket: socket.clone(),
    };
    ask(hub, move |hub| hub.open_socket(request)).unwrap();
    socket.release(b"");
    (conn, socket, Peer { stream: theirs, buf: Vec::new() })
}

fn open(hub: &mut Hub, token: TokenHash, user: &SessionUser, target: SocketTarget) -> (ConnId, Peer) {
    let (conn, _, peer) = open_socket(hub, token, user, target);
    (conn, peer)
}

fn send(hub: &mut Hub, conn: ConnId, text: &str, reply_to: Option<ReplyRef>) {
    hub.handle(Command::SocketFrame {
        conn,
        frame: ClientFrame::Message { text: text.into(), reply_to, client_id: None, attachments: Vec::new() },
    });
    hub.finish_batch();
}

/// Adds a deferred foreign-key violation to the batch, so its COMMIT fails.
fn poison_batch(hub: &mut Hub) {
    hub.db
        .execute_in_batch(
            "PRAGMA defer_foreign_keys = ON;
             INSERT INTO rooms.room_members (room_id, user_id, added_at) VALUES ('no-such-room', 'x', 't')",
        )
        .unwrap();
}

const PAGE: Page = Page::Range { before: i64::MAX, after: 0, limit: 50 };

#[test]
fn names_are_unique_regardless_of_case() {
    let mut hub = hub();
    register(&mut hub, "Ирина");
    let peer: IpAddr = [10, 0, 0, 1].into();
    let taken = ask(&mut hub, move |hub| hub.check_registration("ирина", peer, None));
    assert_eq!(taken, Err(ApiError::Conflict("that user name is taken")));
    let account = NewAccount {
        name: "ИРИНА".into(),
        password_hash: "x".into(),
        invite: None,
        token: [9; 32],
        meta: SessionMeta::default(),
    };
    let again = ask(&mut hub, |hub| hub.register(account));
    assert!(matches!(again, Err(ApiError::Conflict(_))));
}

#[test]
fn sessions_authenticate_until_logout() {
    let mut hub = hub();
    let (alice, token) = register(&mut hub, "alice");
    assert_eq!(ask(&mut hub, move |hub| hub.authenticate(&token)), Some(alice));
    ask(&mut hub, move |hub| hub.logout(&token));
    assert_eq!(ask(&mut hub, move |hub| hub.authenticate(&token)), None);
}

#[test]
fn private_message_reaches_every_tab_of_both_sides() {
    let mut hub = hub();
    let (alice, ta) = register(&mut hub, "alice");
    let (bob, tb) = register(&mut hub, "bob");
    let to_bob = SocketTarget::Private { target: bob.id.to_string() };
    let to_alice = SocketTarget::Private { target: alice.id.to_string() };
    let (a1, mut a1_rx) = open(&mut hub, ta, &alice, to_bob.clone());
    let (_a2, mut a2_rx) = open(&mut hub, ta, &alice, to_bob);
    let (_b1, mut b1_rx) = open(&mut hub, tb, &bob, to_alice);
    send(&mut hub, a1, "hi bob", None);
    for rx in [&mut a1_rx, &mut a2_rx, &mut b1_rx] {
        let got = rx.frames();
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
    let (_g, mut g_rx) = open(&mut hub, tb, &bob, SocketTarget::Global);
    g_rx.frames();
    send(&mut hub, a, "psst", None);
    let got = g_rx.frames();
    assert_eq!(got.len(), 2, "a notification, and the chat list's news: {got:?}");
    assert_eq!(got[0]["type"], "notify");
    assert_eq!(got[0]["from_id"], &*alice.id, "the original's field name");
    assert_eq!(got[0]["from"], &*alice.id);
    assert_eq!(got[0]["text"], "psst");
    assert_eq!(got[1]["type"], "activity");
    assert_eq!(got[1]["chat"], serde_json::json!({"kind": "user", "id": &*alice.id}));
    assert_eq!(got[1]["message"]["text"], "psst");
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
    for rx in &mut receivers {
        let got = rx.frames();
        assert_eq!(got.len(), 1, "one presence event, not one per connect: {got:?}");
        assert_eq!(got[0]["type"], "presence");
    }
    assert!(receivers[0].frames().is_empty());
}

#[test]
fn replies_quote_stored_messages_and_forged_quotes_are_refused() {
    let mut hub = hub();
    let (alice, ta) = register(&mut hub, "alice");
    let creator = alice.id.clone();
    let room = ask(&mut hub, move |hub| hub.create_room(&creator, " Garden ".into(), "".into())).unwrap();
    assert_eq!(room.name, "Garden");
    let (conn, mut rx) = open(&mut hub, ta, &alice, SocketTarget::Room { room: room.id.to_string() });
    send(&mut hub, conn, "original", None);
    let original = rx.frames().pop().unwrap();
    let id = original["id"].as_i64().unwrap();
    send(&mut hub, conn, "reply", Some(ReplyRef::Id(id)));
    let reply = rx.frames().pop().unwrap();
    assert_eq!(reply["reply_to"]["text"], "original");
    assert_eq!(reply["reply_to"]["sender_name"], "alice");
    let forged = ReplyRef::Quote { sender_id: alice.id.to_string(), text: "never said".into() };
    send(&mut hub, conn, "reply", Some(forged));
    let error = rx.frames().pop().unwrap();
    assert_eq!(error["type"], "error");
    let (reader, room_id) = (alice.id.clone(), room.id.to_string());
    let history = ask(&mut hub, move |hub| hub.room_history(&reader, &room_id, PAGE)).unwrap();
    assert_eq!(history.len(), 2, "the forged reply was not stored");
}

#[test]
fn a_socket_that_stops_reading_is_cut_off() {
    let mut hub = hub();
    let (alice, ta) = register(&mut hub, "alice");
    let (bob, tb) = register(&mut hub, "bob");
    let (a, mut a_rx) = open(&mut hub, ta, &alice, SocketTarget::Private { target: bob.id.to_string() });
    let (b, _b_rx) = open(&mut hub, tb, &bob, SocketTarget::Private { target: alice.id.to_string() });
    let big = "x".repeat(crate::protocol::MAX_TEXT_CHARS);
    // Bob's peer never reads: first the socket buffer fills, then his backlog, then he is cut.
    let mut sent = 0;
    while hub.sockets.get(b).is_some() {
        send(&mut hub, a, &big, None);
        a_rx.frames(); // alice's tab keeps up
        sent += 1;
        assert!(sent < 4 * BACKLOG_LIMIT_BYTES / big.len(), "bob was never cut off");
    }
    // Not at the first full socket buffer: only once the backlog bound was reached.
    assert!(sent * big.len() > BACKLOG_LIMIT_BYTES / 2, "cut off too early ({sent} sent)");
    assert!(hub.sockets.get(a).is_some(), "alice's socket is unaffected");
    send(&mut hub, a, "still here", None);
    assert_eq!(a_rx.frames().pop().unwrap()["text"], "still here");
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
    for rx in &mut status {
        let arrays: Vec<_> = rx.frames().into_iter().filter(|f| f.is_array()).collect();
        let last = arrays.last().expect("an array on connect at least");
        assert_eq!(last.as_array().unwrap().len(), 30);
        assert!(last.as_array().unwrap().iter().all(|u| u["online"] == true), "{last}");
    }
    // With no change pending, a new status socket gets the current array at once.
    let (late, _) = register(&mut hub, "late");
    hub.tick(Instant::now() + Duration::from_secs(10));
    hub.finish_batch();
    let mut rx = open(&mut hub, users[0].1, &users[0].0, SocketTarget::Status).1;
    let first = rx.frames().remove(0);
    assert_eq!(first.as_array().unwrap().len(), 31, "the late user is listed: {first}");
    assert_eq!(first[30]["name"], &*late.name);
}

#[test]
fn a_batch_that_fails_to_commit_releases_nothing_and_tells_the_sender() {
    let mut hub = hub();
    let (alice, ta) = register(&mut hub, "alice");
    let (bob, tb) = register(&mut hub, "bob");
    let (a, mut a_rx) = open(&mut hub, ta, &alice, SocketTarget::Private { target: bob.id.to_string() });
    let (_b, mut b_rx) = open(&mut hub, tb, &bob, SocketTarget::Private { target: alice.id.to_string() });
    hub.handle(Command::SocketFrame {
        conn: a,
        frame: ClientFrame::Message { text: "lost".into(), reply_to: None, client_id: None, attachments: Vec::new() },
    });
    poison_batch(&mut hub);
    hub.finish_batch();
    let told = a_rx.frames();
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["type"], "error");
    assert_eq!(told[0]["error"], NOT_SAVED);
    assert!(b_rx.frames().is_empty(), "nothing was delivered");
    let (reader, other) = (alice.id.clone(), bob.id.to_string());
    let history = ask(&mut hub, move |hub| hub.history(&reader, &other, PAGE));
    assert!(history.unwrap().is_empty(), "nothing was stored");
    send(&mut hub, a, "kept", None);
    assert_eq!(b_rx.frames()[0]["text"], "kept", "the next batch works");
}

#[test]
fn a_handshake_whose_batch_fails_leaves_no_socket_and_no_presence() {
    let mut hub = hub();
    let (alice, ta) = register(&mut hub, "alice");
    let (bob, tb) = register(&mut hub, "bob");
    let (_watcher, mut watcher_rx) = open(&mut hub, tb, &bob, SocketTarget::Global);
    hub.tick(Instant::now() + Duration::from_secs(1));
    hub.finish_batch();
    watcher_rx.frames();

    // Alice's global socket is registered in a batch whose commit fails.
    let (ours, _theirs) = UnixStream::pair().unwrap();
    let socket = SocketHandle::held(1, Wire::Unix(ours));
    let request = SocketRequest {
        conn: 1,
        credential: Credential::Session(ta),
        peer: std::net::IpAddr::from([127, 0, 0, 1]),
        path_user: Some(alice.id.to_string()),
        target: SocketTarget::Global,
        socket,
    };
    let (tx, rx) = crossbeam_channel::bounded(1);
    let job: Job = Box::new(move |hub: &mut Hub| {
        let opened = hub.open_socket(request);
        hub.reply(tx, opened);
    });
    hub.handle(Command::Ask { job, name: "handshake" });
    poison_batch(&mut hub);
    hub.finish_batch();
    assert!(rx.try_recv().is_err(), "no answer: the worker refuses the handshake (503)");
    assert_eq!(hub.sockets.count_of(&alice.id), 0, "the socket no longer counts against alice's cap");
    assert!(hub.sockets.get(1).is_none());
    assert!(!hub.presence.is_online(&alice.id), "alice is not online");
    // The worker's lease then reports the socket closed: harmless, nothing changes.
    hub.handle(Command::SocketClosed { conn: 1 });
    hub.tick(Instant::now() + Duration::from_secs(2));
    hub.finish_batch();
    let seen: Vec<_> = watcher_rx.frames();
    assert!(
        seen.iter().all(|f| f["users"].as_array().is_none_or(|u| u.iter().all(|u| u["online"] == false))),
        "bob never sees alice online for good: {seen:?}"
    );
    assert_eq!(ask(&mut hub, |hub| hub.find_user("nobody")), None);
    let alice_id = alice.id.clone();
    assert!(!ask(&mut hub, move |hub| hub.find_user(&alice_id)).unwrap().online);
}

#[test]
fn a_removal_whose_batch_fails_keeps_the_member_and_the_socket() {
    let mut hub = hub();
    let (alice, ta) = register(&mut hub, "alice");
    let (bob, tb) = register(&mut hub, "bob");
    let creator = alice.id.clone();
    let room = ask(&mut hub, move |hub| hub.create_room(&creator, "Garden".into(), "".into())).unwrap();
    let (owner, room_id, member) = (alice.id.clone(), room.id.to_string(), bob.id.to_string());
    ask(&mut hub, move |hub| hub.add_member(&owner, &room_id, &member)).unwrap();
    let target = SocketTarget::Room { room: room.id.to_string() };
    let (b, mut b_rx) = open(&mut hub, tb, &bob, target.clone());
    let (a, _a_rx) = open(&mut hub, ta, &alice, target);

    let (owner, room_id, member) = (alice.id.clone(), room.id.to_string(), bob.id.to_string());
    let (tx, rx) = crossbeam_channel::bounded(1);
    let job: Job = Box::new(move |hub: &mut Hub| {
        let removed = hub.remove_member(&owner, &room_id, &member);
        hub.reply(tx, removed);
    });
    hub.handle(Command::Ask { job, name: "remove" });
    poison_batch(&mut hub);
    hub.finish_batch();
    assert!(rx.try_recv().is_err(), "the removal was not acknowledged");
    assert!(hub.sockets.get(b).is_some(), "bob's room socket stays registered");
    assert!(b_rx.frames().is_empty(), "and was not closed");
    send(&mut hub, a, "still a member", None);
    assert_eq!(b_rx.frames().pop().unwrap()["text"], "still a member", "bob still hears the room");

    // The same removal, committed: bob's socket is closed with 4403 and forgotten.
    let (owner, room_id, member) = (alice.id.clone(), room.id.to_string(), bob.id.to_string());
    ask(&mut hub, move |hub| hub.remove_member(&owner, &room_id, &member)).unwrap();
    assert!(hub.sockets.get(b).is_none());
    assert_eq!(b_rx.frames().pop().unwrap()["close"], 4403);
}

#[test]
fn a_room_takes_at_most_its_bound_of_members() {
    let config =
        Config { rate_limits: false, registration: Some(crate::config::Registration::Open), ..Config::default() };
    let mut hub = Hub::new(Db::open_in_memory().unwrap(), Arc::new(config)).unwrap();
    let (owner, _) = register(&mut hub, "owner");
    let creator = owner.id.clone();
    let room = ask(&mut hub, move |hub| hub.create_room(&creator, "Big".into(), "".into())).unwrap();
    for i in 1..rooms::MAX_MEMBERS_PER_ROOM {
        let (member, _) = register(&mut hub, &format!("m{i}"));
        let (by, id) = (owner.id.clone(), room.id.to_string());
        ask(&mut hub, move |hub| hub.add_member(&by, &id, &member.id)).unwrap();
    }
    let (late, _) = register(&mut hub, "late");
    let (by, id) = (owner.id.clone(), room.id.to_string());
    let refused = ask(&mut hub, move |hub| hub.add_member(&by, &id, &late.id));
    assert_eq!(refused.err(), Some(ApiError::Conflict("this room is full (1000 members)")));
    let (by, id) = (owner.id.clone(), room.id.to_string());
    assert_eq!(ask(&mut hub, move |hub| hub.members(&by, &id)).unwrap().len(), rooms::MAX_MEMBERS_PER_ROOM);
}

#[test]
fn urgent_alerts_reach_mentions_only_members_but_never_the_muted() {
    use messages::Level;
    // (level, mentioned, private, urgent) → alerts
    for (level, mentioned, private, urgent, alerts) in [
        (Level::All, false, false, false, true),
        (Level::Mentions, false, false, false, false),
        (Level::Mentions, true, false, false, true),
        (Level::Mentions, false, true, false, true),
        (Level::Mentions, false, false, true, true),
        (Level::Nothing, true, true, true, false),
    ] {
        assert_eq!(level.alerts(mentioned, private, urgent), alerts, "{level:?} {mentioned} {private} {urgent}");
    }
    let mut alert = crate::protocol::AlertItem { priority: 4, ..Default::default() };
    assert!(alert.urgent());
    alert.status = Some("resolved".into());
    assert!(!alert.urgent(), "a recovery is never urgent");
    alert.status = Some("firing".into());
    alert.priority = 3;
    assert!(!alert.urgent());
}

// ---------------------------------------------------------------------------------------------
// Files: the interface the message pipeline uses.

mod files {
    use super::*;
    use crate::files::ContentHash;
    use crate::hub::files::{PENDING_LIFETIME, human_size};
    use crate::identity::{Conversation, MessageRef};

    fn upload(hub: &mut Hub, user: &UserId, to: &str, seed: u8, size: i64) -> Result<i64, ApiError> {
        let ticket = hub.begin_upload(user, to, size as u64)?;
        let file = NewUpload {
            hash: ContentHash([seed; 32]),
            size,
            mime: "image/jpeg".into(),
            name: format!("photo-{seed}.jpg"),
            width: Some(600),
            height: Some(800),
            orientation: 6,
            needs_thumb: true,
        };
        match hub.record_upload(ticket.id, file)? {
            Recorded::Stored(item) => {
                hub.finish_batch();
                Ok(item.id)
            }
            Recorded::Retry => panic!("nothing is being trashed"),
        }
    }

    #[test]
    fn claims_check_owner_conversation_and_state_then_history_and_deletion_see_them() {
        let mut hub = hub();
        let (alice, _) = register(&mut hub, "alice");
        let (bob, _) = register(&mut hub, "bob");
        let (carol, _) = register(&mut hub, "carol");
        let to_bob = format!("user:{}", bob.id);
        let pair = Conversation::private(&alice.id, &bob.id);
        let photo = upload(&mut hub, &alice.id, &to_bob, 1, 1000).unwrap();
        let other = upload(&mut hub, &alice.id, &to_bob, 2, 2000).unwrap();
        let carols = upload(&mut hub, &carol.id, &format!("user:{}", alice.id), 3, 10).unwrap();
        // Pending: only the uploader sees it.
        assert!(hub.file_for(&alice.id, photo, false).is_ok());
        assert_eq!(hub.file_for(&bob.id, photo, false).unwrap_err().status(), 404);
        // Refusals change nothing.
        let m = MessageRef::Private(7);
        assert_eq!(hub.claim_attachments(&bob.id, &pair, &[photo], m), Err("no such attachment"));
        let wrong = Conversation::private(&alice.id, &carol.id);
        assert_eq!(hub.claim_attachments(&alice.id, &wrong, &[photo], m), Err("no such attachment"));
        assert_eq!(hub.claim_attachments(&alice.id, &pair, &[photo, carols], m), Err("no such attachment"));
        assert_eq!(hub.claim_attachments(&alice.id, &pair, &[photo, photo], m), Err("an attachment is listed twice"));
        assert_eq!(hub.claim_attachments(&alice.id, &pair, &[photo, 999], m), Err("no such attachment"));
        let eleven: Vec<i64> = (1..=11).collect();
        assert_eq!(hub.claim_attachments(&alice.id, &pair, &eleven, m), Err("at most 10 attachments per message"));
        hub.finish_batch();
        assert_eq!(hub.file_for(&bob.id, photo, false).unwrap_err().status(), 404, "still pending");
        assert!(hub.attachments_of(&[m]).is_empty());
        // A claim: the items in the order given, with what a client needs to lay them out.
        let items = hub.claim_attachments(&alice.id, &pair, &[other, photo], m).unwrap();
        hub.finish_batch();
        assert_eq!(items.iter().map(|i| i.id).collect::<Vec<_>>(), [other, photo]);
        assert_eq!(items[1].url, format!("/api/files/{photo}"));
        assert_eq!((items[1].width, items[1].height, items[1].thumb), (Some(600), Some(800), false));
        assert_eq!(
            hub.claim_attachments(&alice.id, &pair, &[photo], MessageRef::Private(8)),
            Err("that attachment was already sent")
        );
        // Now both sides see it; a third user does not.
        assert!(hub.file_for(&bob.id, photo, false).is_ok());
        assert_eq!(hub.file_for(&carol.id, photo, false).unwrap_err().status(), 403);
        assert_eq!(hub.file_for(&bob.id, photo, true).unwrap_err().status(), 404, "no thumbnail yet");
        assert_eq!(hub.record_thumbnail(photo, ContentHash([9; 32]), 50, "image/jpeg"), ThumbRecorded::Place);
        hub.finish_batch();
        assert_eq!(hub.file_for(&bob.id, photo, true).unwrap().hash, ContentHash([9; 32]));
        // History pages get each message's attachments.
        let pages = hub.attachments_of(&[m, MessageRef::Room(7), MessageRef::Private(8)]);
        assert_eq!(pages.len(), 1);
        let shown = &pages[&m];
        assert_eq!(shown.iter().map(|i| i.id).collect::<Vec<_>>(), [photo, other]);
        assert!(shown[0].thumb && shown[0].thumb_url.as_deref() == Some(&*format!("/api/files/{photo}/thumb")));
        // Disk use per user, largest first.
        let usage = hub.disk_use();
        assert_eq!(
            usage.iter().map(|u| (&*u.name, u.bytes, u.files)).collect::<Vec<_>>(),
            [("alice", 3000, 2), ("carol", 10, 1)]
        );
        assert_eq!(hub.stored_bytes(), 3060);
        // Deleting the message deletes its files; their objects go to the janitor.
        hub.release_attachments(m);
        hub.finish_batch();
        assert!(hub.attachments_of(&[m]).is_empty());
        assert_eq!(hub.file_for(&bob.id, photo, false).unwrap_err().status(), 404);
        let mut orphans = hub.take_orphans(10);
        orphans.sort();
        assert_eq!(orphans, [ContentHash([1; 32]), ContentHash([2; 32]), ContentHash([9; 32])]);
        assert_eq!(hub.stored_bytes(), 10);
        assert_eq!(hub.disk_use().len(), 1);
        // While trashed, an upload of the same bytes waits; afterwards it is stored again.
        let ticket = hub.begin_upload(&alice.id, &to_bob, 5).unwrap();
        let again = NewUpload {
            hash: ContentHash([1; 32]),
            size: 5,
            mime: "text/plain".into(),
            name: "a".into(),
            width: None,
            height: None,
            orientation: 1,
            needs_thumb: false,
        };
        assert!(matches!(hub.record_upload(ticket.id, again.clone()), Ok(Recorded::Retry)));
        hub.trashed(orphans);
        assert!(matches!(hub.record_upload(ticket.id, again), Ok(Recorded::Stored(_))));
    }

    #[test]
    fn room_files_follow_membership_and_go_with_the_room_and_the_uploader() {
        let mut hub = hub();
        let (alice, _) = register(&mut hub, "alice");
        let (bob, _) = register(&mut hub, "bob");
        let room = ask(&mut hub, {
            let a = alice.id.clone();
            move |hub| hub.create_room(&a, "Garden".into(), String::new())
        })
        .unwrap();
        let id = room.id.to_string();
        assert_eq!(upload(&mut hub, &bob.id, &format!("room:{id}"), 1, 10).unwrap_err().status(), 403);
        ask(&mut hub, {
            let (a, r, b) = (alice.id.clone(), id.clone(), bob.id.to_string());
            move |hub| hub.add_member(&a, &r, &b)
        })
        .unwrap();
        let file = upload(&mut hub, &bob.id, &format!("room:{id}"), 1, 10).unwrap();
        let mine = upload(&mut hub, &alice.id, &format!("room:{id}"), 2, 20).unwrap();
        let conversation = Conversation::Room(room.id.clone());
        hub.claim_attachments(&bob.id, &conversation, &[file], MessageRef::Room(1)).unwrap();
        hub.claim_attachments(&alice.id, &conversation, &[mine], MessageRef::Room(2)).unwrap();
        hub.finish_batch();
        assert!(hub.file_for(&alice.id, file, false).is_ok());
        // The uploader's account goes: their files' bytes go (the row stays for the message
        // to say so), the others' stay.
        assert_eq!(hub.delete_files_of_user(&bob.id).unwrap(), 1);
        hub.finish_batch();
        assert_eq!(hub.file_for(&alice.id, file, false).unwrap_err().status(), 410);
        assert!(hub.file_for(&alice.id, mine, false).is_ok());
        assert_eq!(hub.take_orphans(10), [ContentHash([1; 32])]);
        // The room goes: its files go.
        ask(&mut hub, {
            let (a, r) = (alice.id.clone(), id.clone());
            move |hub| hub.delete_room(&a, &r)
        })
        .unwrap();
        assert_eq!(hub.file_for(&alice.id, mine, false).unwrap_err().status(), 404);
        assert_eq!(hub.take_orphans(10), [ContentHash([2; 32])]);
        assert_eq!(hub.stored_bytes(), 0);
    }

    #[test]
    fn limits_reserve_room_for_uploads_in_flight_and_pending_uploads_expire() {
        let mut hub = Hub::new(
            Db::open_in_memory().unwrap(),
            Arc::new(Config {
                user_file_quota: 100,
                total_file_quota: 150,
                max_uploads: 2,
                registration: Some(crate::config::Registration::Open),
                ..Config::default()
            }),
        )
        .unwrap();
        let (alice, _) = register(&mut hub, "alice");
        let (bob, _) = register(&mut hub, "bob");
        let to = format!("user:{}", bob.id);
        let first = hub.begin_upload(&alice.id, &to, 60).unwrap();
        assert_eq!(hub.begin_upload(&alice.id, &to, 60).unwrap_err().status(), 413, "60 + 60 > 100");
        let second = hub.begin_upload(&bob.id, &format!("user:{}", alice.id), 60).unwrap();
        assert_eq!(hub.begin_upload(&bob.id, &to, 1).unwrap_err().status(), 503, "two at once");
        hub.end_upload(second.id);
        assert_eq!(
            hub.begin_upload(&bob.id, &to, 91).unwrap_err().to_string(),
            "the server's file storage is full (0 B of 150 B used)"
        );
        hub.end_upload(first.id);
        let pending = upload(&mut hub, &alice.id, &to, 4, 60).unwrap();
        // A day later, an upload no message claimed is gone.
        hub.expire_files_at(Instant::now(), crate::clock::unix_now() + PENDING_LIFETIME - 10);
        hub.finish_batch();
        assert!(hub.file_for(&alice.id, pending, false).is_ok());
        hub.expire_files_at(Instant::now(), crate::clock::unix_now() + PENDING_LIFETIME + 10);
        hub.finish_batch();
        assert_eq!(hub.file_for(&alice.id, pending, false).unwrap_err().status(), 404);
        assert_eq!(hub.take_orphans(10), [ContentHash([4; 32])]);
        assert!(hub.begin_upload(&alice.id, &to, 100).is_ok(), "the quota is free again");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(25 << 20), "25 MiB");
    }
}

fn subscription(endpoint: &str) -> crate::push::Subscription {
    crate::push::Subscription {
        endpoint: endpoint.into(),
        p256dh: vec![4; 65],
        auth: vec![0; 16],
        origin: "https://chat.example.org".into(),
    }
}

#[test]
fn pushes_leave_only_after_the_commit_and_only_for_away_users() {
    let (pusher, jobs) = crate::push::Pusher::channel(16);
    let mut hub = hub().with_pusher(pusher);
    let (alice, ta) = register(&mut hub, "alice");
    let (bob, tb) = register(&mut hub, "bob");
    let bob_id = bob.id.clone();
    ask(&mut hub, move |hub| hub.push_subscribe(&bob_id, subscription("https://push.example.net/1"), None)).unwrap();
    let (a, _a_rx) = open(&mut hub, ta, &alice, SocketTarget::Private { target: bob.id.to_string() });

    // A batch that fails to commit pushes nothing.
    hub.handle(Command::SocketFrame {
        conn: a,
        frame: ClientFrame::Message { text: "lost".into(), reply_to: None, client_id: None, attachments: Vec::new() },
    });
    poison_batch(&mut hub);
    assert!(jobs.try_recv().is_err(), "nothing is queued before the commit");
    hub.finish_batch();
    assert!(jobs.try_recv().is_err(), "nor after a failed one");

    send(&mut hub, a, "away", None);
    let job = jobs.try_recv().expect("bob, with no socket, is pushed");
    assert_eq!(&*job.user, &*bob.id);
    assert_eq!(job.notification.body, "away");
    assert!(jobs.try_recv().is_err(), "the sender is not pushed");

    let (_b, _b_rx) = open(&mut hub, tb, &bob, SocketTarget::Global);
    send(&mut hub, a, "here", None);
    assert!(jobs.try_recv().is_err(), "bob has a socket open");
}

/// A worker waits for the hub at most [`ASK_TIMEOUT`], both to hand over its question (the
/// hub's queue is full) and for the answer (the hub took it but is stuck), then answers 503.
#[test]
fn a_worker_waits_for_a_stalled_hub_at_most_its_deadline() {
    // A hub that never runs anything: its queue holds one command.
    let (tx, rx) = crossbeam_channel::bounded::<Command>(1);
    let client = HubClient::new(tx);
    let first = {
        let client = client.clone();
        std::thread::spawn(move || client.ask(|_| ()))
    };
    let deadline = Instant::now() + ASK_TIMEOUT;
    while rx.is_empty() && Instant::now() < deadline {
        std::thread::yield_now();
    }
    assert_eq!(rx.len(), 1, "the first question is queued");
    let busy = ApiError::Unavailable("server is busy, try again");
    assert_eq!(client.ask(|_| ()).unwrap_err(), busy, "the queue stayed full");
    assert_eq!(first.join().unwrap().unwrap_err(), busy, "no answer came");
    drop(rx);
}
