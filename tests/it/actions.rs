//! Messages people act on, the same in private chats and rooms: edit, delete (tombstones),
//! reactions, replies, mentions, typing, notification levels, catch-up with every change,
//! idempotent resends, the chat list, search and leaving a room. Every refusal is checked for
//! what it must not have done: nothing stored, nothing delivered.

use crate::util::*;
use serde_json::{Value, json};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

fn chat(client: &Client, me: &str, other: &str) -> Ws {
    client.ws(&format!("/ws/{me}/{other}"))
}

fn room_ws(client: &Client, room: &str, me: &str) -> Ws {
    client.ws(&format!("/ws/room/{room}/{me}"))
}

fn create_room(client: &mut Client, name: &str, members: &[&str]) -> String {
    let response = client.post_json("/api/rooms/create", &json!({ "name": name }));
    assert_eq!(response.status, 201, "{}", response.text());
    let id = response.json()["id"].as_str().unwrap().to_string();
    for member in members {
        let added = client.post_json(&format!("/api/rooms/{id}/add_user"), &json!({ "user_id": member }));
        assert_eq!(added.status, 200, "{}", added.text());
    }
    id
}

/// Sends a message frame and returns the echo.
fn say(ws: &mut Ws, text: &str) -> Value {
    ws.send_json(&json!({ "type": "message", "text": text }));
    ws.recv_where(WAIT, |f| (f["type"] == "message" || f["type"] == "room_message") && f["text"] == text)
        .unwrap_or_else(|| panic!("no echo of {text:?}"))
}

/// The next frame that is not a typing indicator.
fn next(ws: &mut Ws) -> Value {
    ws.recv_where(WAIT, |f| f["type"] != "typing").expect("a frame")
}

/// Asserts that the next thing `ws` hears is the marker message (nothing before it): a
/// refusal delivered nothing. Deterministic: the marker was sent after the refused frame.
fn hears_marker_next(ws: &mut Ws, marker: &str) {
    let frame = next(ws);
    assert_eq!(frame["text"], marker, "something arrived before the marker: {frame}");
}

fn history(client: &mut Client, path: &str) -> Vec<Value> {
    client.get_json(path).as_array().unwrap().clone()
}

#[test]
fn only_the_author_edits_and_everyone_sees_the_edit() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let (_carol, c) = user(&server, "carol");
    let mut a_ws = chat(&alice, &a, &b);
    let mut b_ws = chat(&bob, &b, &a);
    let original = say(&mut a_ws, "teh plan");
    assert_eq!(next(&mut b_ws)["text"], "teh plan");
    let id = original["id"].as_i64().unwrap();

    a_ws.send_json(&json!({ "type": "edit", "id": id, "text": "the plan" }));
    for ws in [&mut a_ws, &mut b_ws] {
        let update = ws.recv_type("message_updated");
        assert_eq!(update["message"]["id"], id);
        assert_eq!(update["message"]["text"], "the plan");
        assert!(update["message"]["edited_at"].is_string());
        assert!(update["message"]["seq"].as_i64().unwrap() > original["seq"].as_i64().unwrap());
    }

    // Bob may not edit Alice's message; an id from another conversation is not there.
    b_ws.send_json(&json!({ "type": "edit", "id": id, "text": "bob was here" }));
    assert_eq!(b_ws.recv_type("error")["error"], "only its author can edit a message");
    let mut c_ws = chat(&bob, &b, &c);
    let elsewhere = say(&mut c_ws, "to carol");
    a_ws.send_json(&json!({ "type": "edit", "id": elsewhere["id"], "text": "hijacked" }));
    assert_eq!(a_ws.recv_type("error")["error"], "no such message in this conversation");
    a_ws.send_json(&json!({ "type": "edit", "id": id, "text": "   " }));
    assert_eq!(a_ws.recv_type("error")["error"], "empty message");
    // Nothing of that reached anyone: the next frame each side hears is the marker.
    say(&mut a_ws, "marker");
    hears_marker_next(&mut b_ws, "marker");
    let stored = history(&mut alice, &format!("/api/history/{a}/{b}"));
    assert_eq!(stored[0]["text"], "the plan");
    let to_carol = history(&mut bob, &format!("/api/history/{b}/{c}"));
    assert_eq!(to_carol[0]["text"], "to carol", "the other conversation's message is untouched");
    assert!(to_carol[0].get("edited_at").is_none());
}

#[test]
fn deleting_leaves_a_tombstone_and_the_text_is_gone_everywhere() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let mut a_ws = chat(&alice, &a, &b);
    let mut b_ws = chat(&bob, &b, &a);
    let secret = say(&mut a_ws, "the safe code is 4711");
    next(&mut b_ws);
    let id = secret["id"].as_i64().unwrap();
    b_ws.send_json(&json!({ "type": "message", "text": "got it", "reply_to": { "id": id } }));
    let reply = b_ws.recv_where(WAIT, |f| f["text"] == "got it").unwrap();
    assert_eq!(reply["reply_to"]["text"], "the safe code is 4711");
    next(&mut a_ws);
    b_ws.send_json(&json!({ "type": "react", "id": id, "emoji": "👍" }));
    a_ws.recv_type("message_updated");
    b_ws.recv_type("message_updated");

    // Bob cannot delete Alice's message.
    b_ws.send_json(&json!({ "type": "delete", "id": id }));
    assert_eq!(b_ws.recv_type("error")["error"], "only its author (or the room's creator) can delete a message");
    say(&mut b_ws, "marker");
    hears_marker_next(&mut a_ws, "marker");

    a_ws.send_json(&json!({ "type": "delete", "id": id }));
    for ws in [&mut a_ws, &mut b_ws] {
        let update = ws.recv_type("message_updated")["message"].clone();
        assert_eq!(update["id"], id);
        assert_eq!(update["deleted"], true);
        assert_eq!(update["text"], "");
        assert!(update.get("reactions").is_none(), "reactions go with it: {update}");
    }
    let page = history(&mut alice, &format!("/api/history/{a}/{b}"));
    assert_eq!(page.len(), 3, "the tombstone keeps its place");
    assert_eq!(page[0]["deleted"], true);
    assert_eq!(page[0]["text"], "");
    assert_eq!(page[1]["reply_to"]["deleted"], true, "the reply shows its original as deleted");
    assert_eq!(page[1]["reply_to"]["text"], "");
    // Not in the files, not in the search index.
    let chat_db = open_db(server.data.path(), "chathistory.db");
    let found: i64 =
        chat_db.query_row("SELECT count(*) FROM messages WHERE text LIKE '%4711%'", [], |r| r.get(0)).unwrap();
    assert_eq!(found, 0);
    let hits = alice.get_json("/api/search?q=4711");
    assert_eq!(hits["messages"].as_array().unwrap().len(), 0, "{hits}");
    // A deleted message takes no replies, no edits, no reactions.
    b_ws.send_json(&json!({ "type": "react", "id": id, "emoji": "❤️" }));
    assert_eq!(b_ws.recv_type("error")["error"], "that message was deleted");
    a_ws.send_json(&json!({ "type": "edit", "id": id, "text": "back" }));
    assert_eq!(a_ws.recv_type("error")["error"], "that message was deleted");
    b_ws.send_json(&json!({ "type": "message", "text": "to a ghost", "reply_to": { "id": id } }));
    assert_eq!(b_ws.recv_type("error")["error"], "the message you reply to was deleted");
    let after = history(&mut alice, &format!("/api/history/{a}/{b}"));
    assert_eq!(after.len(), 3, "nothing was stored");
}

#[test]
fn a_rooms_creator_may_delete_any_message_members_only_their_own() {
    let server = Server::start(&[]);
    let (mut owner, o) = user(&server, "owner");
    let (member, m) = user(&server, "member");
    let (other, x) = user(&server, "other");
    let room = create_room(&mut owner, "Club", &[&m, &x]);
    let mut o_ws = room_ws(&owner, &room, &o);
    let mut m_ws = room_ws(&member, &room, &m);
    let mut x_ws = room_ws(&other, &room, &x);
    let spam = say(&mut m_ws, "buy cheap watches");
    next(&mut o_ws);
    next(&mut x_ws);
    x_ws.send_json(&json!({ "type": "delete", "id": spam["id"] }));
    assert_eq!(x_ws.recv_type("error")["error"], "only its author (or the room's creator) can delete a message");
    o_ws.send_json(&json!({ "type": "delete", "id": spam["id"] }));
    for ws in [&mut o_ws, &mut m_ws, &mut x_ws] {
        let update = ws.recv_type("room_message_updated")["message"].clone();
        assert_eq!(update["deleted"], true);
    }
}

#[test]
fn reactions_toggle_and_say_who_reacted() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let room = create_room(&mut alice, "Garden", &[&b]);
    let mut a_ws = room_ws(&alice, &room, &a);
    let mut b_ws = room_ws(&bob, &room, &b);
    let message = say(&mut a_ws, "tomatoes are ripe");
    next(&mut b_ws);
    let id = message["id"].as_i64().unwrap();
    b_ws.send_json(&json!({ "type": "react", "id": id, "emoji": "🍅" }));
    a_ws.send_json(&json!({ "type": "react", "id": id, "emoji": "🍅" }));
    let mut last = Value::Null;
    for _ in 0..2 {
        last = a_ws.recv_type("room_message_updated")["message"].clone();
    }
    // The two reactions came on two sockets at once: either may have been first.
    let mut users: Vec<Value> = last["reactions"][0]["users"].as_array().unwrap().clone();
    users.sort_by_key(|u| u["name"].as_str().unwrap().to_string());
    assert_eq!(last["reactions"][0]["emoji"], "🍅");
    assert_eq!(last["reactions"][0]["count"], 2);
    assert_eq!(users, [json!({ "id": a, "name": "alice" }), json!({ "id": b, "name": "bob" })]);
    b_ws.send_json(&json!({ "type": "react", "id": id, "emoji": "🍅" }));
    let toggled = a_ws.recv_type("room_message_updated")["message"].clone();
    assert_eq!(toggled["reactions"][0]["count"], 1, "bob took his back");
    // Not an emoji: refused, nothing changed.
    for bad in ["<b>x</b>", "", "ab", "👍👍👍👍👍👍👍👍👍👍👍"] {
        b_ws.send_json(&json!({ "type": "react", "id": id, "emoji": bad }));
        assert_eq!(b_ws.recv_type("error")["error"], "a reaction must be one emoji", "{bad:?}");
    }
    say(&mut b_ws, "marker");
    hears_marker_next(&mut a_ws, "marker");
    let page = history(&mut alice, &format!("/api/rooms/{room}/history"));
    assert_eq!(page[0]["reactions"][0]["count"], 1);
}

#[test]
fn replies_in_private_chats_are_by_id_and_cannot_be_forged() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let (_carol, c) = user(&server, "carol");
    let mut a_ws = chat(&alice, &a, &b);
    let mut b_ws = chat(&bob, &b, &a);
    let question = say(&mut a_ws, "lunch?");
    next(&mut b_ws);
    b_ws.send_json(&json!({ "type": "message", "text": "yes", "reply_to": { "id": question["id"] } }));
    let answer = a_ws.recv_where(WAIT, |f| f["text"] == "yes").unwrap();
    assert_eq!(
        answer["reply_to"],
        json!({ "id": question["id"], "sender_id": a, "sender_name": "alice", "text": "lunch?" })
    );
    // A quote copy (the seed's room form) means nothing in a private chat, and another
    // conversation's message can't be quoted.
    b_ws.send_json(
        &json!({ "type": "message", "text": "forged", "reply_to": { "sender_id": a, "text": "I owe bob 100" } }),
    );
    assert!(b_ws.recv_type("error")["error"].as_str().unwrap().starts_with("reply_to must be"));
    let mut bc = chat(&bob, &b, &c);
    let private = say(&mut bc, "just for carol");
    b_ws.send_json(&json!({ "type": "message", "text": "leak", "reply_to": { "id": private["id"] } }));
    assert_eq!(b_ws.recv_type("error")["error"], "the message you reply to is not in this conversation");
    say(&mut b_ws, "marker");
    hears_marker_next(&mut a_ws, "marker");
    let page = history(&mut bob, &format!("/api/history/{b}/{a}"));
    assert_eq!(page.iter().map(|m| m["text"].as_str().unwrap()).collect::<Vec<_>>(), ["lunch?", "yes", "marker"]);
}

#[test]
fn mentions_are_found_counted_and_can_be_all_a_member_hears() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (mut anna, n) = user(&server, "Anna Maria");
    let (mut ann, x) = user(&server, "Ann");
    let room = create_room(&mut alice, "Family", &[&n, &x]);
    let mut a_ws = room_ws(&alice, &room, &a);
    let mut anna_global = anna.ws(&format!("/ws/global/{n}"));
    // Anna hears only mentions; Ann hears nothing.
    let level = |client: &mut Client, level: &str| {
        client.post_json("/api/chats/notify", &json!({ "chat": { "kind": "room", "id": room }, "level": level }))
    };
    assert_eq!(level(&mut anna, "mentions").status, 200);
    assert_eq!(anna_global.recv_type("chat_settings")["notify"], "mentions");
    assert_eq!(level(&mut ann, "none").status, 200);
    assert_eq!(level(&mut ann, "loud").status, 400, "not a level");
    let message = say(&mut a_ws, "@anna maria, dinner at 7? (not you @ann, nor @nobody)");
    let mut mentioned: Vec<&str> =
        message["mentions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    mentioned.sort();
    let mut expected = vec![n.as_str(), x.as_str()];
    expected.sort();
    assert_eq!(mentioned, expected, "the longest name wins: '@anna maria' is Anna Maria, '@ann' is Ann");
    let activity = anna_global.recv_type("activity");
    assert!(activity["message"]["mentions"].as_array().unwrap().contains(&json!(n)));
    say(&mut a_ws, "no names here");
    let chats = anna.get_json("/api/chats");
    let entry = chats.as_array().unwrap().iter().find(|c| c["id"] == room).unwrap().clone();
    assert_eq!(entry["unread"], 2);
    assert_eq!(entry["mentions"], 1);
    assert_eq!(entry["notify"], "mentions");
    assert_eq!(ann.get_json("/api/chats")[0]["notify"], "none");
    // Not a member: no level to set, nothing written.
    let (mut stranger, _) = user(&server, "stranger");
    assert_eq!(level(&mut stranger, "none").status, 403);
}

#[test]
fn a_muted_private_chat_sends_no_notification_but_still_counts() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let muted = bob.post_json("/api/chats/notify", &json!({ "chat": { "kind": "user", "id": a }, "level": "none" }));
    assert_eq!(muted.status, 200);
    let mut b_global = bob.ws(&format!("/ws/global/{b}"));
    let mut a_ws = chat(&alice, &a, &b);
    say(&mut a_ws, "psst");
    let mut seen = Vec::new();
    b_global
        .recv_where(WAIT, |f| {
            seen.push(f["type"].clone());
            f["type"] == "activity"
        })
        .expect("the chat list still hears of it");
    assert!(!seen.contains(&json!("notify")), "muted: {seen:?}");
    assert_eq!(bob.get_json(&format!("/api/unread/{b}"))[&a], 1);
}

#[test]
fn typing_is_throttled_and_stops_when_the_typist_leaves() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let mut a_ws = chat(&alice, &a, &b);
    let mut b_ws = chat(&bob, &b, &a);
    a_ws.send_json(&json!({ "type": "typing" }));
    a_ws.send_json(&json!({ "type": "typing" }));
    a_ws.send_json(&json!({ "type": "typing" }));
    say(&mut a_ws, "here it is");
    let typing = b_ws.recv();
    assert_eq!(typing, json!({ "type": "typing", "user_id": a, "name": "alice", "active": true }));
    assert_eq!(b_ws.recv()["text"], "here it is", "one indicator for three frames within two seconds");
    a_ws.send_json(&json!({ "type": "typing", "active": false }));
    a_ws.send_json(&json!({ "type": "typing", "active": false }));
    say(&mut a_ws, "marker");
    // Stopping after a message ended the state: nothing to tell.
    hears_marker_next(&mut b_ws, "marker");
    // Typing, then the tab goes away: bob sees alice stop.
    std::thread::sleep(2100 * Duration::from_millis(1)); // past the throttle interval
    a_ws.send_json(&json!({ "type": "typing" }));
    assert_eq!(b_ws.recv_type("typing")["active"], true);
    a_ws.close();
    assert_eq!(b_ws.recv_type("typing")["active"], false);
    // Never stored.
    let users = open_db(server.data.path(), "chathistory.db");
    let rows: i64 = users.query_row("SELECT count(*) FROM messages", [], |r| r.get(0)).unwrap();
    assert_eq!(rows, 2);
}

#[test]
fn a_client_that_was_away_catches_up_with_every_change() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let room = create_room(&mut alice, "News", &[&b]);
    let mut a_ws = room_ws(&alice, &room, &a);
    let first = say(&mut a_ws, "first");
    let second = say(&mut a_ws, "second");
    let seen = bob.get_json(&format!("/api/rooms/{room}/history"));
    let cursor = seen.as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).max().unwrap();
    // While bob is away: an edit, a reaction, a new message, a deletion.
    a_ws.send_json(&json!({ "type": "edit", "id": first["id"], "text": "first (edited)" }));
    a_ws.recv_type("room_message_updated");
    a_ws.send_json(&json!({ "type": "react", "id": second["id"], "emoji": "🎉" }));
    a_ws.recv_type("room_message_updated");
    let third = say(&mut a_ws, "third");
    a_ws.send_json(&json!({ "type": "delete", "id": second["id"] }));
    a_ws.recv_type("room_message_updated");
    let changes = bob.get_json(&format!("/api/rooms/{room}/history?changed_since={cursor}"));
    let changes = changes.as_array().unwrap();
    let ids: Vec<i64> = changes.iter().map(|m| m["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, [first["id"].as_i64().unwrap(), third["id"].as_i64().unwrap(), second["id"].as_i64().unwrap()]);
    assert_eq!(changes[0]["text"], "first (edited)");
    assert_eq!(changes[2]["deleted"], true, "the final state: reacted to, then deleted");
    assert!(changes.windows(2).all(|w| w[0]["seq"].as_i64() < w[1]["seq"].as_i64()), "in change order");
    // The same works for a private chat, and a page limit pages the changes.
    let mut ab = chat(&alice, &a, &b);
    say(&mut ab, "one");
    say(&mut ab, "two");
    let page = bob.get_json(&format!("/api/history/{b}/{a}?changed_since={cursor}&limit=1"));
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["text"], "one");
    assert_eq!(bob.get(&format!("/api/history/{b}/{a}?changed_since=-1")).status, 400);
}

#[test]
fn a_resent_message_is_stored_and_delivered_once() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let mut a_ws = chat(&alice, &a, &b);
    let mut b_ws = chat(&bob, &b, &a);
    let frame = json!({ "type": "message", "text": "only once", "client_id": "tab1-42" });
    a_ws.send_json(&frame);
    let echo = a_ws.recv_where(WAIT, |f| f["text"] == "only once").unwrap();
    assert_eq!(echo["client_id"], "tab1-42");
    // The client did not see the echo (say, it reconnected) and sends the same again.
    let mut again = chat(&alice, &a, &b);
    again.send_json(&frame);
    let second_echo = again.recv_where(WAIT, |f| f["text"] == "only once").unwrap();
    assert_eq!(second_echo["id"], echo["id"], "the stored message, not a new one");
    assert_eq!(next(&mut b_ws)["text"], "only once");
    say(&mut a_ws, "marker");
    hears_marker_next(&mut b_ws, "marker");
    let page = history(&mut alice, &format!("/api/history/{a}/{b}"));
    assert_eq!(page.len(), 2);
    a_ws.send_json(&json!({ "type": "message", "text": "x", "client_id": "has spaces" }));
    assert_eq!(a_ws.recv_type("error")["error"], "client_id must be 1 to 64 letters, digits, '-' or '_'");
}

#[test]
fn the_chat_list_holds_rooms_and_people_newest_first() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let (_nobody, _) = user(&server, "nobody");
    let room = create_room(&mut alice, "Quiet room", &[]);
    assert_eq!(alice.get_json("/api/chats")[0]["id"], room, "a room without messages is listed");
    let mut b_ws = chat(&bob, &b, &a);
    say(&mut b_ws, &format!("hello alice, {}", "and this goes on and on ".repeat(10)));
    let chats = alice.get_json("/api/chats");
    let chats = chats.as_array().unwrap();
    assert_eq!(chats.len(), 2, "people one talked with, and rooms — not every user: {chats:?}");
    assert_eq!(chats[0]["kind"], "user");
    assert_eq!(chats[0]["id"], b);
    assert_eq!(chats[0]["name"], "bob");
    assert_eq!(chats[0]["unread"], 1);
    assert_eq!(chats[0]["online"], false);
    assert_eq!(chats[0]["last"]["sender_name"], "bob");
    assert_eq!(chats[0]["last"]["text"].as_str().unwrap().chars().count(), 120);
    assert_eq!(chats[1]["kind"], "room");
    assert_eq!(chats[1]["member_count"], 1);
    let mut r_ws = room_ws(&alice, &room, &a);
    say(&mut r_ws, "now the room is newest");
    assert_eq!(alice.get_json("/api/chats")[0]["id"], room);
}

#[test]
fn search_finds_only_the_callers_own_conversations() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let (mut carol, c) = user(&server, "carol");
    let (_dave, d) = user(&server, "dave");
    let mut ab = chat(&alice, &a, &b);
    let mut cd = chat(&carol, &c, &d);
    say(&mut ab, "Plant the tomatoes on Friday");
    say(&mut cd, "Carol's secret tomato recipe");
    let room = create_room(&mut alice, "Garden", &[&b]);
    let mut r = room_ws(&bob, &room, &b);
    say(&mut r, "Помидоры уже созрели, and the tomato harvest is big");
    let closed_room = create_room(&mut carol, "Carol only", &[]);
    let mut cr = room_ws(&carol, &closed_room, &c);
    say(&mut cr, "tomato plans nobody else may read");

    let found = alice.get_json("/api/search?q=tomat");
    let messages = found["messages"].as_array().unwrap();
    let texts: Vec<&str> = messages.iter().map(|m| m["snippet"].as_str().unwrap()).collect();
    assert_eq!(messages.len(), 2, "{texts:?}");
    assert!(texts.iter().all(|t| t.contains("\u{e000}") && t.contains("\u{e001}")), "matches are marked: {texts:?}");
    assert!(!texts.iter().any(|t| t.contains("secret") || t.contains("nobody")), "never another's conversation");
    let kinds: Vec<&str> = messages.iter().map(|m| m["chat"]["kind"].as_str().unwrap()).collect();
    assert!(kinds.contains(&"user") && kinds.contains(&"room"));
    assert_eq!(alice.get_json("/api/search?q=помидоры")["messages"].as_array().unwrap().len(), 1);
    // People and rooms by name, too.
    assert_eq!(alice.get_json("/api/search?q=car")["users"][0]["name"], "carol");
    assert_eq!(alice.get_json("/api/search?q=gard")["rooms"][0]["name"], "Garden");
    // An edit moves a message in the index; query syntax is just text.
    let hit = &messages.iter().find(|m| m["chat"]["kind"] == "user").unwrap()["id"];
    ab.send_json(&json!({ "type": "edit", "id": hit, "text": "Plant the peppers on Friday" }));
    ab.recv_type("message_updated");
    assert_eq!(alice.get_json("/api/search?q=peppers")["messages"].as_array().unwrap().len(), 1);
    assert_eq!(alice.get_json("/api/search?q=tomatoes")["messages"].as_array().unwrap().len(), 0);
    assert_eq!(alice.get(&format!("/api/search?q={}", encode("\" OR * NEAR("))).status, 200);
    assert_eq!(alice.get(&format!("/api/search?q={}", "x".repeat(201))).status, 400);
    // Opening a result: the history around it.
    let around = alice.get_json(&format!("/api/history/{a}/{b}?around={hit}&limit=10"));
    assert!(around.as_array().unwrap().iter().any(|m| m["id"] == *hit));
}

#[test]
fn members_can_leave_a_room_but_its_creator_cannot() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let room = create_room(&mut alice, "Club", &[&b]);
    let mut a_global = alice.ws(&format!("/ws/global/{a}"));
    let mut b_room = room_ws(&bob, &room, &b);
    let left = bob.post_json(&format!("/api/rooms/{room}/leave"), &json!({}));
    assert_eq!(left.status, 200, "{}", left.text());
    assert_eq!(b_room.ended(WAIT), Ended::Closed(4403));
    assert_eq!(a_global.recv_type("room_updated")["room"]["member_count"], 1);
    assert_eq!(bob.get(&format!("/api/rooms/{room}")).status, 403);
    let refused = alice.post_json(&format!("/api/rooms/{room}/leave"), &json!({}));
    assert_eq!(refused.status, 400);
    assert_eq!(refused.error(), "the room's creator can't leave it; delete the room instead");
    assert_eq!(alice.get_json(&format!("/api/rooms/{room}"))["member_count"], 1);
    assert_eq!(bob.post_json(&format!("/api/rooms/{room}/leave"), &json!({})).status, 403, "not a member any more");
}

#[test]
fn edits_deletions_and_reactions_share_the_message_rate() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (_bob, b) = user(&server, "bob");
    let mut a_ws = chat(&alice, &a, &b);
    let message = say(&mut a_ws, "rate me");
    for i in 0..60 {
        a_ws.send_json(&json!({ "type": "edit", "id": message["id"], "text": format!("edit {i}") }));
    }
    let (mut refused, mut applied, mut last) = (0, 0, Value::Null);
    while applied + refused < 60 {
        let frame = a_ws.recv_where(WAIT, |f| f["type"] == "error" || f["type"] == "message_updated").unwrap();
        if frame["type"] == "error" {
            refused += 1;
        } else {
            applied += 1;
            last = frame["message"]["text"].clone();
        }
    }
    assert!(refused > 0 && applied > 0, "the flood was limited: {applied} applied, {refused} refused");
    let page = history(&mut alice, &format!("/api/history/{a}/{b}"));
    assert_eq!(page[0]["text"], last, "a refused edit changed nothing");
}

#[test]
fn an_edit_window_can_be_set() {
    let server = Server::start(&["--edit-window", "1s"]);
    let (alice, a) = user(&server, "alice");
    let (_bob, b) = user(&server, "bob");
    let mut a_ws = chat(&alice, &a, &b);
    let message = say(&mut a_ws, "quick");
    a_ws.send_json(&json!({ "type": "edit", "id": message["id"], "text": "quick fix" }));
    assert_eq!(a_ws.recv_type("message_updated")["message"]["text"], "quick fix");
    std::thread::sleep(Duration::from_millis(1500)); // past the one-second window
    a_ws.send_json(&json!({ "type": "edit", "id": message["id"], "text": "too late" }));
    assert_eq!(a_ws.recv_type("error")["error"], "too late to change that message");
    a_ws.send_json(&json!({ "type": "delete", "id": message["id"] }));
    assert_eq!(a_ws.recv_type("error")["error"], "too late to change that message");
}

/// A message takes at most 20 different reactions: the 21st kind is refused with an error
/// frame, stores no row and tells nobody; toggling a kind it already has still works.
#[test]
fn reactions_per_message_are_capped() {
    let server = Server::start(&["--rate-limits", "off"]);
    let (mut alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let room = create_room(&mut alice, "Garden", &[&b]);
    let mut a_ws = room_ws(&alice, &room, &a);
    let mut b_ws = room_ws(&bob, &room, &b);
    let id = say(&mut a_ws, "react to this")["id"].as_i64().unwrap();
    next(&mut b_ws);
    let kinds = [
        "🍅", "🥕", "🥦", "🌽", "🍆", "🥔", "🧅", "🧄", "🍓", "🍒", "🍑", "🍐", "🍏", "🍎", "🍋", "🍊", "🍉", "🍇",
        "🍌", "🍍",
    ];
    for emoji in kinds {
        b_ws.send_json(&json!({ "type": "react", "id": id, "emoji": emoji }));
        assert_eq!(next(&mut a_ws)["type"], "room_message_updated");
        assert_eq!(next(&mut b_ws)["type"], "room_message_updated");
    }
    let rows = || -> i64 {
        open_db(server.data.path(), "chathistory.db")
            .query_row("SELECT count(*) FROM reactions", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(rows(), 20);
    b_ws.send_json(&json!({ "type": "react", "id": id, "emoji": "🥝" }));
    assert_eq!(next(&mut b_ws)["error"], "this message has as many different reactions as it can take");
    assert_eq!(rows(), 20, "no row for the refused reaction");
    say(&mut b_ws, "marker");
    hears_marker_next(&mut a_ws, "marker");
    // A kind the message already has: alice adds herself to it.
    a_ws.send_json(&json!({ "type": "react", "id": id, "emoji": "🍅" }));
    let updated = next(&mut a_ws)["message"].clone();
    assert_eq!(updated["reactions"].as_array().unwrap().len(), 20);
    assert_eq!(rows(), 21);
}

/// A message names at most 20 members: the 21st mention is text, no row, no alert.
#[test]
fn mentions_per_message_are_capped() {
    let server = Server::start(&["--rate-limits", "off"]);
    let (mut alice, a) = user(&server, "alice");
    let members: Vec<String> = (0..21).map(|i| user(&server, &format!("m{i:02}")).1).collect();
    let member_refs: Vec<&str> = members.iter().map(String::as_str).collect();
    let room = create_room(&mut alice, "Everyone", &member_refs);
    let mut a_ws = room_ws(&alice, &room, &a);
    let text: String = (0..21).map(|i| format!("@m{i:02} ")).collect();
    let message = say(&mut a_ws, text.trim_end());
    let mentioned = message["mentions"].as_array().unwrap();
    assert_eq!(mentioned.len(), 20, "{message}");
    assert!(!mentioned.contains(&json!(members[20])), "the 21st name is plain text");
    let rows: i64 = open_db(server.data.path(), "chathistory.db")
        .query_row("SELECT count(*) FROM mentions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 20);
}

#[test]
fn no_action_reaches_another_conversations_message_or_a_room_one_was_removed_from() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let (carol, c) = user(&server, "carol");
    // A message between bob and carol; alice tries to act on it from her chat with bob.
    let mut bc = chat(&bob, &b, &c);
    let mut cb = chat(&carol, &c, &b);
    let theirs = say(&mut bc, "between us");
    next(&mut cb);
    let mut ab = chat(&alice, &a, &b);
    let mut ba = chat(&bob, &b, &a);
    for (frame, refusal) in [
        (json!({ "type": "react", "id": theirs["id"], "emoji": "👍" }), "no such message in this conversation"),
        (json!({ "type": "delete", "id": theirs["id"] }), "no such message in this conversation"),
        (
            json!({ "type": "message", "text": "hijack", "reply_to": { "id": theirs["id"] } }),
            "the message you reply to is not in this conversation",
        ),
    ] {
        ab.send_json(&frame);
        assert_eq!(ab.recv_type("error")["error"], refusal, "{frame}");
    }
    say(&mut ab, "marker");
    hears_marker_next(&mut ba, "marker");
    say(&mut bc, "second marker");
    hears_marker_next(&mut cb, "second marker");
    let stored = history(&mut bob, &format!("/api/history/{b}/{c}"));
    assert_eq!(stored[0]["text"], "between us");
    assert!(stored[0].get("deleted").is_none() && stored[0].get("reactions").is_none(), "{}", stored[0]);
    let texts: Vec<Value> =
        history(&mut alice, &format!("/api/history/{a}/{b}")).iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, [json!("marker")], "the refused reply was not stored");

    // A member removed from a room: whatever their open socket still sends is refused.
    let room = create_room(&mut alice, "Club", &[&b]);
    let mut a_room = room_ws(&alice, &room, &a);
    let mut b_room = room_ws(&bob, &room, &b);
    let notice = say(&mut a_room, "members only");
    assert_eq!(next(&mut b_room)["text"], "members only");
    let removed = alice.post_json(&format!("/api/rooms/{room}/remove_user"), &json!({ "user_id": b }));
    assert_eq!(removed.status, 200, "{}", removed.text());
    b_room.send_json(&json!({ "type": "react", "id": notice["id"], "emoji": "👎" }));
    b_room.send_json(&json!({ "type": "message", "text": "still here?" }));
    assert_eq!(b_room.ended(WAIT), Ended::Closed(4403));
    say(&mut a_room, "room marker");
    let room_history = history(&mut alice, &format!("/api/rooms/{room}/history"));
    let texts: Vec<&Value> = room_history.iter().map(|m| &m["text"]).collect();
    assert_eq!(texts, [&json!("members only"), &json!("room marker")], "nothing of bob's was stored");
    assert!(room_history[0].get("reactions").is_none(), "{}", room_history[0]);
}
