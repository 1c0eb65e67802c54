//! Rooms: management API, room chat with replies, live membership, per-room unread.

use crate::util::*;
use serde_json::{Value, json};
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

fn create(client: &mut Client, name: &str) -> Value {
    let response = client.post_json("/api/rooms/create", &json!({ "name": name, "description": "about it" }));
    assert_eq!(response.status, 201, "{}", response.text());
    response.json()
}

fn room_ws(client: &Client, room: &str, me: &str) -> Ws {
    client.ws(&format!("/ws/room/{room}/{me}"))
}

fn add(client: &mut Client, room: &str, member: &str) -> Response {
    client.post_json(&format!("/api/rooms/{room}/add_user"), &json!({ "user_id": member }))
}

fn remove(client: &mut Client, room: &str, member: &str) -> Response {
    client.post_json(&format!("/api/rooms/{room}/remove_user"), &json!({ "user_id": member }))
}

fn is_room_message(frame: &Value) -> bool {
    frame["type"] == "room_message"
}

#[test]
fn create_list_and_validate() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let room = alice.post_json("/api/rooms/create", &json!({ "name": "  Garden  ", "description": "  Tomatoes  " }));
    assert_eq!(room.status, 201);
    let room = room.json();
    assert_eq!(room["name"], "Garden");
    assert_eq!(room["description"], "Tomatoes");
    assert_eq!(room["creator_id"], a.as_str());
    assert_eq!(room["creator_name"], "alice");
    assert_eq!(room["member_count"], 1);
    assert!(room["created_at"].as_str().unwrap().ends_with('Z'));
    let no_description = alice.post_json("/api/rooms/create", &json!({ "name": "Bare" }));
    assert_eq!(no_description.status, 201);
    assert_eq!(no_description.json()["description"], "");
    for (body, error) in [
        (json!({ "name": "   " }), "room name must be 1 to 64 characters"),
        (json!({ "name": "n".repeat(65) }), "room name must be 1 to 64 characters"),
        (json!({ "name": "ok", "description": "d".repeat(501) }), "room description must be at most 500 characters"),
    ] {
        let response = alice.post_json("/api/rooms/create", &body);
        assert_eq!(response.status, 400);
        assert_eq!(response.error(), error);
    }
    let bad = alice.request("POST", "/api/rooms/create", &[("Content-Type", "application/json")], b"{not json");
    assert_eq!(bad.status, 400);
    assert!(bad.error().starts_with("invalid JSON body"), "{}", bad.error());
    assert_eq!(alice.post_json("/api/rooms/create", &json!({ "description": "no name" })).status, 400);
    let rooms = alice.get_json("/api/rooms");
    let names: Vec<&str> = rooms.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Garden", "Bare"]);
    assert_eq!(server.client().post_json("/api/rooms/create", &json!({ "name": "x" })).status, 401);
}

#[test]
fn only_members_see_a_room_and_only_its_creator_manages_it() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let (_carol, c) = user(&server, "carol");
    let room = create(&mut alice, "Garden");
    let id = room["id"].as_str().unwrap();
    // Bob is not a member: nothing about the room over REST or WebSocket.
    for path in [format!("/api/rooms/{id}"), format!("/api/rooms/{id}/members"), format!("/api/rooms/{id}/history")] {
        assert_eq!(bob.get(&path).status, 403, "{path}");
    }
    assert_eq!(bob.try_ws(&format!("/ws/room/{id}/{b}")).err(), Some(403));
    assert_eq!(bob.try_ws(&format!("/ws/room/{id}/{a}")).err(), Some(403), "not as alice either");
    assert_eq!(bob.get("/api/rooms/no-such-room").status, 404);
    assert_eq!(alice.try_ws(&format!("/ws/room/no-such-room/{a}")).err(), Some(404));
    assert_eq!(bob.get_json("/api/rooms"), json!([]));
    // Management is the creator's.
    assert_eq!(add(&mut bob, id, &b).status, 403);
    assert_eq!(add(&mut alice, id, "no-such-user").status, 404);
    let added = add(&mut alice, id, &b);
    assert_eq!(added.status, 200);
    assert_eq!(added.json()["member_count"], 2);
    assert_eq!(add(&mut alice, id, &b).json()["member_count"], 2, "adding twice is harmless");
    assert_eq!(bob.get(&format!("/api/rooms/{id}")).status, 200);
    assert_eq!(add(&mut bob, id, &c).status, 403, "members can't add");
    assert_eq!(remove(&mut bob, id, &a).status, 403);
    let creator = remove(&mut alice, id, &a);
    assert_eq!(creator.status, 400);
    assert_eq!(creator.error(), "the room's creator can't be removed");
    assert_eq!(remove(&mut alice, id, &c).status, 404, "not a member");
    assert_eq!(bob.delete(&format!("/api/rooms/{id}")).status, 403);
    let members = bob.get_json(&format!("/api/rooms/{id}/members"));
    assert_eq!(members.as_array().unwrap().len(), 2);
    assert_eq!(members[0]["name"], "alice");
    assert_eq!(members[0]["is_creator"], true);
    assert_eq!(members[1]["is_creator"], false);
    assert_eq!(remove(&mut alice, id, &b).json()["member_count"], 1);
    assert_eq!(bob.get(&format!("/api/rooms/{id}")).status, 403);
}

#[test]
fn room_messages_reach_every_member_socket_with_replies_by_id() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let room = create(&mut alice, "Garden");
    let id = room["id"].as_str().unwrap();
    add(&mut alice, id, &b);
    let mut a1 = room_ws(&alice, id, &a);
    let mut a2 = room_ws(&alice, id, &a);
    let mut b1 = room_ws(&bob, id, &b);
    a1.send("plain text <b>hi</b>");
    let first = b1.recv();
    assert_eq!(first["type"], "room_message");
    assert_eq!(first["text"], "plain text <b>hi</b>");
    assert_eq!(first["user"], "alice");
    assert_eq!(first["sender_id"], a.as_str());
    assert_eq!(first["room_id"], id);
    assert!(first.get("reply_to").is_none());
    assert_eq!(a1.recv(), first, "the sender's tab gets it");
    assert_eq!(a2.recv(), first, "and so does the sender's other tab");
    b1.send_json(&json!({ "text": "a reply", "reply_to": { "id": first["id"] } }));
    let reply = a2.recv();
    assert_eq!(reply["reply_to"]["id"], first["id"]);
    assert_eq!(reply["reply_to"]["sender_id"], a.as_str());
    assert_eq!(reply["reply_to"]["sender_name"], "alice");
    assert_eq!(reply["reply_to"]["text"], "plain text <b>hi</b>", "filled from the stored message");
    // The seed's form, matching a real message, is accepted (and gains the id).
    b1.send_json(&json!({ "text": "seed style", "reply_to": { "sender_id": a, "sender_name": "alice", "text": "plain text <b>hi</b>" } }));
    let seed = a1.recv_where(5 * SECOND, |f| f["text"] == "seed style").unwrap();
    assert_eq!(seed["reply_to"]["id"], first["id"]);
    // A quote of something never said, or of another room's message, is refused.
    b1.send_json(&json!({ "text": "forged", "reply_to": { "sender_id": a, "sender_name": "alice", "text": "I never said this" } }));
    let error = b1.recv_where(5 * SECOND, |f| f["type"] == "error").unwrap();
    assert_eq!(error["error"], "the message you reply to is not in this conversation");
    b1.send_json(&json!({ "text": "bad id", "reply_to": { "id": 999_999 } }));
    assert_eq!(
        b1.recv_where(5 * SECOND, |f| f["type"] == "error").unwrap()["error"],
        "the message you reply to is not in this conversation"
    );
    b1.send_json(&json!({ "text": "junk", "reply_to": "nonsense" }));
    assert_eq!(b1.recv_where(5 * SECOND, |f| f["type"] == "error").unwrap()["type"], "error");
    b1.send("still works");
    assert!(b1.recv_where(5 * SECOND, |f| f["text"] == "still works").is_some(), "the socket survived");
    let history = alice.get_json(&format!("/api/rooms/{id}/history"));
    let texts: Vec<&str> = history.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["plain text <b>hi</b>", "a reply", "seed style", "still works"], "nothing forged was stored");
    let page = alice.get_json(&format!("/api/rooms/{id}/history?limit=2"));
    assert_eq!(page[0]["text"], "seed style");
}

#[test]
fn membership_is_live() {
    let server = Server::start(&[]);
    let (mut alice, _a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let (carol, c) = user(&server, "carol");
    let room = create(&mut alice, "Garden");
    let id = room["id"].as_str().unwrap();
    let mut b_global = bob.ws(&format!("/ws/global/{b}"));
    let mut c_global = carol.ws(&format!("/ws/global/{c}"));
    add(&mut alice, id, &c);
    add(&mut alice, id, &b);
    let added = b_global.recv_type("room_added");
    assert_eq!(added["room"]["id"], id);
    assert_eq!(added["room"]["member_count"], 3);
    let updated = c_global.recv_type("room_updated");
    assert_eq!(updated["room"]["member_count"], 3, "other members hear of the change");
    let mut b_room = room_ws(&bob, id, &b);
    let mut c_room = room_ws(&carol, id, &c);
    b_room.send("joined at once");
    assert_eq!(c_room.recv()["text"], "joined at once");
    remove(&mut alice, id, &b);
    assert_eq!(b_room.ended(5 * SECOND), Ended::Closed(4403));
    assert_eq!(b_global.recv_type("room_removed")["room_id"], id);
    let mut bob_rest = bob.clone();
    assert_eq!(bob_rest.get_json("/api/rooms"), json!([]));
    // Deleting the room closes every socket and tells every member.
    let response = alice.delete(&format!("/api/rooms/{id}"));
    assert_eq!(response.status, 200);
    assert_eq!(c_room.ended(5 * SECOND), Ended::Closed(4404));
    let deleted = c_global.recv_type("room_deleted");
    assert_eq!(deleted["room_id"], id);
    assert_eq!(deleted["name"], "Garden");
    assert_eq!(alice.get(&format!("/api/rooms/{id}")).status, 404);
    assert_eq!(alice.get(&format!("/api/rooms/{id}/history")).status, 404);
    assert_eq!(alice.get_json("/api/rooms"), json!([]));
}

#[test]
fn deleting_a_room_removes_its_members_and_messages() {
    let mut server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (_bob, b) = user(&server, "bob");
    let room = create(&mut alice, "Doomed");
    let id = room["id"].as_str().unwrap().to_string();
    add(&mut alice, &id, &b);
    let mut ws = room_ws(&alice, &id, &a);
    ws.send("soon gone");
    ws.recv();
    assert_eq!(alice.delete(&format!("/api/rooms/{id}")).status, 200);
    server.stop();
    let db = open_db(server.data.path(), "rooms.db");
    for table in ["rooms", "room_members", "room_messages"] {
        let column = if table == "rooms" { "id" } else { "room_id" };
        let n: i64 =
            db.query_row(&format!("SELECT count(*) FROM {table} WHERE {column} = ?1"), [&id], |r| r.get(0)).unwrap();
        assert_eq!(n, 0, "{table} keeps no orphans");
    }
}

#[test]
fn unread_counts_per_room() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let room = create(&mut alice, "Garden");
    let id = room["id"].as_str().unwrap();
    add(&mut alice, id, &b);
    let mut b_global = bob.ws(&format!("/ws/global/{b}"));
    let mut a_room = room_ws(&alice, id, &a);
    let mut ids = Vec::new();
    for i in 0..3 {
        a_room.send(&format!("news {i}"));
        ids.push(a_room.recv()["id"].as_i64().unwrap());
    }
    // Every member's chat list hears of each message.
    let activity = b_global.recv_type("activity");
    assert_eq!(activity["chat"], json!({ "kind": "room", "id": id }));
    assert_eq!(activity["message"]["text"], "news 0");
    assert_eq!(bob.get_json("/api/rooms")[0]["unread"], 3);
    assert_eq!(alice.get_json("/api/rooms")[0]["unread"], 0, "one's own messages are not unread");
    // Opening the room reads nothing by itself: only what the reader reports seeing.
    let mut b_room = room_ws(&bob, id, &b);
    assert_eq!(bob.get_json("/api/rooms")[0]["unread"], 3);
    b_room.send_json(&json!({ "type": "read", "up_to": ids[1] }));
    let state = b_global.recv_where(10 * SECOND, |f| f["type"] == "read_state").expect("the tabs learn the new count");
    assert_eq!(state["chat"], json!({ "kind": "room", "id": id }));
    assert_eq!(state["unread"], 1);
    assert_eq!(bob.get_json("/api/rooms")[0]["unread"], 1);
    // A read position never moves back, and never past the room's newest message.
    b_room.send_json(&json!({ "type": "read", "up_to": ids[0] }));
    assert_eq!(b_global.recv_where(10 * SECOND, |f| f["type"] == "read_state").unwrap()["unread"], 1);
    b_room.send_json(&json!({ "type": "read", "up_to": i64::MAX }));
    assert_eq!(b_global.recv_where(10 * SECOND, |f| f["type"] == "read_state").unwrap()["unread"], 0);
    a_room.send("after bob read");
    a_room.recv();
    assert_eq!(bob.get_json("/api/rooms")[0]["unread"], 1, "a later message is unread");
    // The same over HTTP, for clients without a socket.
    let last = b_room.recv_where(10 * SECOND, |f| f["text"] == "after bob read").unwrap();
    let read = bob.post_json(&format!("/api/rooms/{id}/read"), &json!({ "up_to": last["id"] }));
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(bob.get_json("/api/rooms")[0]["unread"], 0);
}

#[test]
fn a_room_of_fifty_gets_every_message_once_and_in_order() {
    let server = Server::start(&["--rate-limits", "off"]);
    let (mut owner, o) = user(&server, "owner");
    let room = create(&mut owner, "Fifty");
    let id = room["id"].as_str().unwrap().to_string();
    let mut members = vec![(owner.clone(), o)];
    for i in 1..50 {
        let (client, uid) = user(&server, &format!("member{i}"));
        add(&mut owner, &id, &uid);
        members.push((client, uid));
    }
    let mut sockets: Vec<Ws> = members.iter().map(|(c, uid)| room_ws(c, &id, uid)).collect();
    let senders = [0usize, 7, 23, 49];
    let per_sender = 25;
    for round in 0..per_sender {
        for &s in &senders {
            sockets[s].send(&format!("{s}:{round}"));
        }
    }
    let total = senders.len() * per_sender;
    let mut first_order: Option<Vec<i64>> = None;
    for (i, socket) in sockets.iter_mut().enumerate() {
        let mut ids = Vec::new();
        let mut next_round = std::collections::HashMap::new();
        while ids.len() < total {
            let frame = socket
                .recv_where(10 * SECOND, is_room_message)
                .unwrap_or_else(|| panic!("member {i} got {} of {total}", ids.len()));
            let (sender, round) = frame["text"].as_str().unwrap().split_once(':').unwrap();
            let expected = next_round.entry(sender.to_string()).or_insert(0);
            assert_eq!(round.parse::<usize>().unwrap(), *expected, "member {i}: {sender}'s messages in order");
            *expected += 1;
            ids.push(frame["id"].as_i64().unwrap());
        }
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "member {i}: ids ascend, no duplicates");
        socket.expect_silence(Duration::from_millis(50));
        match &first_order {
            None => first_order = Some(ids),
            Some(order) => assert_eq!(&ids, order, "member {i} saw the same sequence"),
        }
    }
}

#[test]
fn legacy_rooms_members_messages_and_the_reply() {
    let server = Server::start_legacy(&[]);
    let mut bob = server.client();
    bob.login("bob", "bob-pass-2");
    let rooms = bob.get_json("/api/rooms");
    let rooms = rooms.as_array().unwrap();
    assert_eq!(rooms.len(), 2);
    let garden = rooms.iter().find(|r| r["id"] == GARDEN).unwrap();
    assert_eq!(garden["name"], "Garden");
    assert_eq!(garden["description"], "Tomatoes and such");
    assert_eq!(garden["member_count"], 3, "the true count (the original said 1)");
    assert_eq!(garden["creator_name"], "alice");
    assert_eq!(garden["unread"], 0, "an upgrade brings no sudden unread counts");
    let empty = rooms.iter().find(|r| r["id"] == EMPTY_ROOM).unwrap();
    assert_eq!(empty["description"], "");
    assert_eq!(empty["member_count"], 1);
    let members = bob.get_json(&format!("/api/rooms/{GARDEN}/members"));
    let names: Vec<&str> = members.as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["alice", "bob", "carol"]);
    let history = bob.get_json(&format!("/api/rooms/{GARDEN}/history"));
    let history = history.as_array().unwrap();
    assert_eq!(history.len(), 6);
    assert_eq!(history[2]["text"], "Mine got blight last year 😞");
    assert_eq!(history[2]["user"], "carol");
    let reply = &history[4];
    assert_eq!(reply["text"], "Good tip, will do!");
    assert_eq!(reply["reply_to"]["sender_id"], ALICE);
    assert_eq!(reply["reply_to"]["sender_name"], "alice");
    assert_eq!(reply["reply_to"]["text"], "Try copper spray early in the season.");
    assert_eq!(reply["reply_to"]["id"], 4, "the quoted message was found");
    assert!(history.iter().enumerate().filter(|(i, _)| *i != 4).all(|(_, m)| m.get("reply_to").is_none()));
    let mut ws = bob.ws(&format!("/ws/room/{GARDEN}/{BOB}"));
    ws.send_json(&json!({ "text": "Yes, Saturday!", "reply_to": { "id": 6 } }));
    let sent = ws.recv();
    assert_eq!(sent["id"], 7);
    assert_eq!(sent["reply_to"]["text"], "Seed swap on Saturday?");
}
