//! Private chat, presence, unread counts and read receipts over real WebSockets.

use crate::metrics::{sample, scrape};
use crate::util::*;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const SECOND: Duration = Duration::from_secs(1);

fn chat(client: &Client, me: &str, other: &str) -> Ws {
    client.ws(&format!("/ws/{me}/{other}"))
}

fn is_message(frame: &Value) -> bool {
    frame["type"] == "message"
}

/// In a presence event, whether user `id` is now online.
fn presence_of(frame: &Value, id: &str) -> Option<bool> {
    if frame["type"] != "presence" {
        return None;
    }
    frame["users"].as_array()?.iter().find(|u| u["id"] == id).and_then(|u| u["online"].as_bool())
}

#[test]
fn two_users_chat_both_ways() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let mut a_ws = chat(&alice, &a, &b);
    let mut b_ws = chat(&bob, &b, &a);
    a_ws.send("Hi Bob <3");
    let echo = a_ws.recv();
    let got = b_ws.recv();
    assert_eq!(echo, got, "the echo and the delivery are the same message");
    assert_eq!(got["type"], "message");
    assert_eq!(got["user"], "alice");
    assert_eq!(got["sender_id"], a.as_str());
    assert_eq!(got["receiver_id"], b.as_str());
    assert_eq!(got["text"], "Hi Bob <3");
    assert!(got["id"].as_i64().unwrap() > 0);
    let created = got["created_at"].as_str().unwrap();
    assert!(created.ends_with('Z') && created.len() == 24, "full UTC ISO-8601: {created}");
    assert_eq!(got["time"].as_str().unwrap(), &created[11..16]);
    b_ws.send("Hi Alice!");
    let reply = a_ws.recv();
    assert_eq!(reply["user"], "bob");
    assert!(reply["id"].as_i64() > got["id"].as_i64());
    assert_eq!(b_ws.recv()["text"], "Hi Alice!");
    let mut alice = alice;
    let history = alice.get_json(&format!("/api/history/{a}/{b}"));
    let texts: Vec<&str> = history.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["Hi Bob <3", "Hi Alice!"]);
}

#[test]
fn one_user_with_three_tabs() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let mut tabs: Vec<Ws> = (0..3).map(|_| chat(&alice, &a, &b)).collect();
    let mut b_ws = chat(&bob, &b, &a);
    tabs[1].send("from tab two");
    for tab in &mut tabs {
        assert_eq!(tab.recv()["text"], "from tab two", "every tab sees the echo");
    }
    assert_eq!(b_ws.recv()["text"], "from tab two");
    b_ws.send("to all tabs");
    for tab in &mut tabs {
        assert_eq!(tab.recv()["text"], "to all tabs");
    }
    // Presence holds while any one global socket is open.
    let mut watcher = bob.ws(&format!("/ws/global/{b}"));
    let g1 = alice.ws(&format!("/ws/global/{a}"));
    let g2 = alice.ws(&format!("/ws/global/{a}"));
    assert!(watcher.recv_where(5 * SECOND, |f| presence_of(f, &a) == Some(true)).is_some());
    g1.close();
    // Synchronise on the server: it has processed the close...
    assert!(server.wait_for_log("closed: global", 10 * SECOND));
    let mut users = bob.clone();
    let list = users.get_json("/api/users");
    let alice_entry = list.as_array().unwrap().iter().find(|u| u["id"] == a.as_str()).unwrap().clone();
    assert_eq!(alice_entry["online"], true, "still one global socket open");
    // ...and has flushed every presence change up to now: carol's coming online is flushed
    // with or after any change the close made, so no "alice offline" may come before it.
    let (carol, c) = user(&server, "carol");
    let _carol_global = carol.ws(&format!("/ws/global/{c}"));
    let mut alice_went_offline = false;
    watcher
        .recv_where(10 * SECOND, |f| {
            alice_went_offline |= presence_of(f, &a) == Some(false);
            presence_of(f, &c) == Some(true)
        })
        .expect("carol's presence");
    assert!(!alice_went_offline, "one global socket still open: alice stays online");
    g2.close();
    assert!(watcher.recv_where(5 * SECOND, |f| presence_of(f, &a) == Some(false)).is_some());
}

#[test]
fn offline_recipient_gets_unread_counts_then_history() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let mut a_ws = chat(&alice, &a, &b);
    for text in ["one", "two", "three"] {
        a_ws.send(text);
        a_ws.recv();
    }
    assert_eq!(bob.get_json(&format!("/api/unread/{b}")), serde_json::json!({ a.as_str(): 3 }));
    let history = bob.get_json(&format!("/history/{b}/{a}"));
    let items = history.as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|m| m["read"] == false && m["user"] == "alice"));
    // Paging: the newest two, then what came before them, then catching up after the first.
    let newest = bob.get_json(&format!("/api/history/{b}/{a}?limit=2"));
    let newest: Vec<&str> = newest.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(newest, ["two", "three"]);
    let first_id = items[0]["id"].as_i64().unwrap();
    let second_id = items[1]["id"].as_i64().unwrap();
    let older = bob.get_json(&format!("/api/history/{b}/{a}?before={second_id}"));
    assert_eq!(older.as_array().unwrap().len(), 1);
    assert_eq!(older[0]["text"], "one");
    let newer = bob.get_json(&format!("/api/history/{b}/{a}?after={first_id}&limit=1"));
    assert_eq!(newer.as_array().unwrap().len(), 1);
    assert_eq!(newer[0]["text"], "two");
    for bad in ["?limit=0", "?limit=201", "?before=-3", "?after=x"] {
        assert_eq!(bob.get(&format!("/api/history/{b}/{a}{bad}")).status, 400, "{bad}");
    }
    assert_eq!(bob.get(&format!("/api/history/{b}/no-such-user")).status, 404);
}

#[test]
fn notify_reaches_a_user_online_elsewhere() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let (_carol, c) = user(&server, "carol");
    let mut bob_global = bob.ws(&format!("/ws/global/{b}"));
    let _bob_with_carol = chat(&bob, &b, &c);
    let mut a_ws = chat(&alice, &a, &b);
    a_ws.send("are you there?");
    let echo = a_ws.recv();
    let notify = bob_global.recv_type("notify");
    assert_eq!(notify["from_id"], a.as_str(), "the original's field name");
    assert_eq!(notify["from"], a.as_str());
    assert_eq!(notify["from_name"], "alice");
    assert_eq!(notify["text"], "are you there?");
    assert_eq!(notify["id"], echo["id"]);
    // Viewing the conversation: no notify, the chat socket gets it instead; the global
    // socket only hears of it for the chat list (and a notify would have come first).
    let mut b_ws = chat(&bob, &b, &a);
    a_ws.send("now you see it");
    assert_eq!(b_ws.recv()["text"], "now you see it");
    let mut before = Vec::new();
    let activity = bob_global
        .recv_where(10 * SECOND, |f| {
            before.push(f["type"].clone());
            f["type"] == "activity" && f["message"]["text"] == "now you see it"
        })
        .expect("the chat list hears of it");
    assert_eq!(activity["chat"], serde_json::json!({ "kind": "user", "id": a }));
    assert!(!before.contains(&"notify".into()), "no notification while viewing: {before:?}");
}

#[test]
fn mark_read_resets_unread_and_sends_a_read_receipt() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let mut a_ws = chat(&alice, &a, &b);
    let mut a_global = alice.ws(&format!("/ws/global/{a}"));
    let mut b_global = bob.ws(&format!("/ws/global/{b}"));
    a_ws.send("first");
    a_ws.send("second");
    a_ws.recv();
    let last = a_ws.recv()["id"].as_i64().unwrap();
    assert_eq!(bob.get_json(&format!("/api/unread/{b}"))[&a], 2);
    let response = bob.post_json(&format!("/api/mark_read/{b}/{a}"), &serde_json::json!({}));
    assert_eq!(response.status, 200);
    assert_eq!(response.json()["status"], "ok");
    assert_eq!(bob.get_json(&format!("/api/unread/{b}")), serde_json::json!({}));
    let reset = b_global.recv_type("unread_reset");
    assert_eq!(reset["from_id"], a.as_str(), "the original's field name");
    assert_eq!(reset["user_id"], a.as_str());
    let receipt = a_ws.recv_type("read");
    assert_eq!(receipt["reader_id"], b.as_str());
    assert_eq!(receipt["up_to"], last);
    assert_eq!(a_global.recv_type("read")["up_to"], last);
    let history = bob.get_json(&format!("/api/history/{b}/{a}"));
    assert!(history.as_array().unwrap().iter().all(|m| m["read"] == true));
}

#[test]
fn presence_follows_global_sockets_even_when_they_vanish() {
    let server = Server::start(&["--socket-timeout", "4s"]);
    let (alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let mut status = bob.ws("/ws/status");
    let initial = status.recv();
    assert_eq!(initial.as_array().unwrap().len(), 2, "the seed's array on connect: {initial}");
    let mut watcher = bob.ws(&format!("/ws/global/{b}"));
    let alice_id = a.clone();
    let went = |online: bool| {
        let id = alice_id.clone();
        move |f: &Value| presence_of(f, &id) == Some(online)
    };
    // An abrupt TCP close: no close frame.
    let global = alice.ws(&format!("/ws/global/{a}"));
    assert!(watcher.recv_where(5 * SECOND, went(true)).is_some());
    let arr = status.recv_where(5 * SECOND, |f| f.is_array() && f[0]["online"] == true).expect("status array");
    assert_eq!(arr[0]["name"], "alice");
    assert_eq!(arr[1]["online"], true, "bob's global socket is open too");
    global.socket.get_ref().shutdown(std::net::Shutdown::Both).unwrap();
    drop(global);
    assert!(watcher.recv_where(5 * SECOND, went(false)).is_some(), "offline after an abrupt close");
    // A peer that stops answering without closing anything: dropped after the timeout. The
    // clock starts before the socket opens, so delays only lengthen what it measures: the
    // lower bound cannot fail because the machine is slow.
    let started = Instant::now();
    let silent = alice.ws(&format!("/ws/global/{a}"));
    assert!(watcher.recv_where(10 * SECOND, went(true)).is_some());
    assert!(watcher.recv_where(30 * SECOND, went(false)).is_some(), "a vanished peer is detected");
    assert!(started.elapsed() >= Duration::from_secs(4), "not before the timeout: {:?}", started.elapsed());
    drop(silent);
    assert!(server.log().contains("dropped"));
}

#[test]
fn impersonation_and_foreign_origins_are_refused_before_upgrading() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let anonymous = server.client();
    assert_eq!(anonymous.try_ws(&format!("/ws/global/{a}")).err(), Some(401));
    assert_eq!(anonymous.try_ws("/ws/status").err(), Some(401));
    assert_eq!(alice.try_ws(&format!("/ws/global/{b}")).err(), Some(403));
    assert_eq!(alice.try_ws(&format!("/ws/{b}/{a}")).err(), Some(403));
    assert_eq!(alice.try_ws(&format!("/ws/{a}/nobody")).err(), Some(404));
    let mut forged = alice.clone();
    forged.cookies.insert("mychat_session".into(), "0".repeat(64));
    assert_eq!(forged.try_ws(&format!("/ws/global/{a}")).err(), Some(401));
    let mut foreign = alice.clone();
    foreign.origin = Some("http://evil.example".into());
    assert_eq!(foreign.try_ws(&format!("/ws/global/{a}")).err(), Some(403));
    let mut same = alice.clone();
    same.origin = Some(format!("http://{}", server.addr));
    assert!(same.try_ws(&format!("/ws/global/{a}")).is_ok());
    // The REST side: another user's data is off limits, and so is any cross-site write —
    // with messages in play, so a refusal that still did its work would show.
    let mut b_ws = chat(&bob, &b, &a);
    let mut a_ws = chat(&alice, &a, &b);
    b_ws.send("secret for alice");
    assert_eq!(a_ws.recv()["text"], "secret for alice");
    b_ws.recv();
    for refused in [
        alice.get(&format!("/api/unread/{b}")),
        alice.get(&format!("/api/history/{b}/{a}")),
        alice.post_json(&format!("/api/mark_read/{b}/{a}"), &serde_json::json!({})),
    ] {
        assert_eq!(refused.status, 403);
        assert!(!refused.text().contains("secret"), "nothing leaks: {}", refused.text());
    }
    assert_eq!(anonymous.clone().get(&format!("/api/unread/{a}")).status, 401);
    assert_eq!(anonymous.clone().post_json(&format!("/api/mark_read/{a}/{b}"), &serde_json::json!({})).status, 401);
    let cross = foreign.post_json(&format!("/api/mark_read/{a}/{b}"), &serde_json::json!({}));
    assert_eq!(cross.status, 403);
    assert_eq!(cross.error(), "cross-origin request refused");
    let mut fetch_meta = alice.clone();
    fetch_meta.extra_headers.push(("Sec-Fetch-Site".into(), "cross-site".into()));
    assert_eq!(fetch_meta.post_json(&format!("/api/mark_read/{a}/{b}"), &serde_json::json!({})).status, 403);
    // None of the refused mark_reads read anything: alice's count stands, bob got no receipt
    // (the next thing his socket hears is the marker, sent after all of them).
    assert_eq!(alice.get_json(&format!("/api/unread/{a}"))[&b], 1);
    a_ws.send("marker");
    assert_eq!(b_ws.recv()["text"], "marker", "no read receipt came before it");
    let stored: i64 = open_db(server.data.path(), "chathistory.db")
        .query_row("SELECT count(*) FROM messages WHERE read = 1", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 0);
    // The real owner's mark_read works, for contrast.
    assert_eq!(alice.post_json(&format!("/api/mark_read/{a}/{b}"), &serde_json::json!({})).status, 200);
    assert_eq!(b_ws.recv_type("read")["reader_id"], a.as_str());
}

#[test]
fn too_long_and_too_fast_messages_get_error_frames_and_the_socket_survives() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let mut ws = chat(&alice, &a, &b);
    ws.send(&"x".repeat(4001));
    let error = ws.recv();
    assert_eq!(error["type"], "error");
    assert_eq!(error["error"], "message too long (at most 4000 characters)");
    ws.send("   ");
    assert_eq!(ws.recv()["error"], "empty message");
    ws.send(&"y".repeat(4000));
    assert_eq!(ws.recv()["text"].as_str().unwrap().len(), 4000, "exactly 4000 is fine");
    for i in 0..40 {
        ws.send(&format!("flood {i}"));
    }
    let (mut delivered, mut refused) = (Vec::new(), 0);
    while delivered.len() + refused < 40 {
        let frame = ws.recv_where(10 * SECOND, |f| is_message(f) || f["type"] == "error").expect("an answer per frame");
        if is_message(&frame) {
            delivered.push(frame["text"].as_str().unwrap().to_string());
        } else {
            assert!(frame["error"].as_str().unwrap().starts_with("too many messages"), "{frame}");
            refused += 1;
        }
    }
    assert!(refused > 0 && delivered.len() >= 19, "delivered {}, refused {refused}", delivered.len());
    // A refused message was neither stored nor delivered: bob's history is exactly what was
    // echoed (the 4000-character one, then the accepted part of the flood).
    let history = bob.get_json(&format!("/api/history/{b}/{a}?limit=200"));
    let texts: Vec<&str> = history.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap()).collect();
    assert_eq!(texts.len(), 1 + delivered.len());
    assert_eq!(texts[1..], delivered.iter().map(String::as_str).collect::<Vec<_>>()[..]);
    // The per-socket budget comes back at ten a second: wait long enough for one.
    std::thread::sleep(Duration::from_millis(1500));
    ws.send("after the flood");
    assert_eq!(ws.recv_where(5 * SECOND, is_message).unwrap()["text"], "after the flood");
    // A frame over 32 KiB closes the socket with 1009.
    ws.send(&"z".repeat(40 * 1024));
    assert_eq!(ws.ended(5 * SECOND), Ended::Closed(1009));
}

#[test]
fn a_client_that_never_reads_is_cut_off_while_others_keep_chatting() {
    let server = Server::start(&["--rate-limits", "off", "--metrics", "on"]);
    let slow_consumers = || sample(&scrape(&mut server.client()), "mychat_slow_consumers_total");
    assert_eq!(slow_consumers(), 0.0);
    let (alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let (carol, c) = user(&server, "carol");
    let (dave, d) = user(&server, "dave");
    let stalled = chat(&bob, &b, &a);
    let mut sender = chat(&alice, &a, &b);
    // Alice floods until told to stop, and reads her echoes on another thread, so only Bob
    // (who never reads) falls behind.
    let sender_stream = sender.socket.get_ref().try_clone().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let flooding = stop.clone();
    let flood = std::thread::spawn(move || {
        let big = "x".repeat(4000);
        let mut sent = 0;
        let drain = std::thread::spawn(move || {
            let mut reader =
                tungstenite::WebSocket::from_raw_socket(sender_stream, tungstenite::protocol::Role::Client, None);
            let _ = reader.get_ref().set_read_timeout(Some(Duration::from_secs(30)));
            while reader.read().is_ok() {}
        });
        while !flooding.load(Ordering::SeqCst) {
            if sender.socket.send(tungstenite::Message::text(big.clone())).is_err() {
                break;
            }
            sent += 1;
        }
        let _ = sender.socket.close(None);
        drop(sender);
        let _ = drain.join();
        sent
    });
    assert!(server.wait_for_log("does not read fast enough", 60 * SECOND), "bob was cut off");
    // While the flood goes on, carol and dave keep chatting: every message arrives, in order.
    let mut c_ws = chat(&carol, &c, &d);
    let mut d_ws = chat(&dave, &d, &c);
    for i in 0..20 {
        c_ws.send(&format!("still here {i}"));
        let got = d_ws.recv_where(30 * SECOND, is_message).expect("carol's message arrives");
        assert_eq!(got["text"], format!("still here {i}"));
        assert_eq!(c_ws.recv_where(30 * SECOND, is_message).expect("carol's echo")["text"], format!("still here {i}"));
    }
    assert!(!flood.is_finished(), "the flood was still going while they chatted");
    stop.store(true, Ordering::SeqCst);
    let sent = flood.join().unwrap();
    assert!(sent > 1000, "alice kept sending: {sent}");
    assert_eq!(slow_consumers(), 1.0, "bob's socket, and only his, counted as cut off");
    drop(stalled);
}

#[test]
fn an_acknowledged_message_survives_sigkill() {
    let mut server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (_bob, b) = user(&server, "bob");
    let mut ws = chat(&alice, &a, &b);
    ws.send("written before the crash");
    let echo = ws.recv();
    server.kill();
    server.start_again();
    let history = alice.get_json(&format!("/api/history/{a}/{b}"));
    assert_eq!(history.as_array().unwrap().len(), 1);
    assert_eq!(history[0]["id"], echo["id"]);
    assert_eq!(history[0]["text"], "written before the crash");
}

#[test]
fn legacy_conversation_continues_with_ids() {
    let server = Server::start_legacy(&[]);
    let mut alice = server.client();
    alice.login("alice", "alice-pass-1");
    let mut bob = server.client();
    bob.login("bob", "bob-pass-2");
    let mut a_ws = alice.ws(&format!("/ws/{ALICE}/{BOB}"));
    let mut b_ws = bob.ws(&format!("/ws/{BOB}/{ALICE}"));
    a_ws.send("Still on for lunch?");
    let got = b_ws.recv();
    assert_eq!(got["id"], 9, "ids continue after the legacy rows");
    assert_eq!(bob.get_json(&format!("/api/unread/{BOB}"))[ALICE], 3);
    bob.post_json(&format!("/api/mark_read/{BOB}/{ALICE}"), &serde_json::json!({}));
    assert_eq!(a_ws.recv_type("read")["up_to"], 9);
    let history = alice.get_json(&format!("/api/history/{ALICE}/{BOB}"));
    assert_eq!(history.as_array().unwrap().len(), 7);
    assert_eq!(history[6]["user"], "alice");
}
