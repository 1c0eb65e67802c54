//! Web Push and forwards, end to end: the real server pushes to a fake push service in this
//! process, which decrypts each push with the subscription's private key and checks its
//! VAPID signature and headers; refusals leave no row behind.

use crate::fake_push::{Answer, Browser, FakePushService, verify_vapid};
use crate::metrics::{sample, scrape};
use crate::util::*;
use serde_json::{Value, json};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const WAIT: Duration = Duration::from_secs(20);
/// The option under which plain-http, local endpoints (the fake service) are allowed.
const LAN: [&str; 2] = ["--push-private-endpoints", "on"];
/// The same, with `/metrics` on.
const LAN_METRICS: [&str; 4] = ["--push-private-endpoints", "on", "--metrics", "on"];

/// `(mychat_push_sent_total, mychat_push_failed_total)`.
fn push_counts(server: &Server) -> (f64, f64) {
    let text = scrape(&mut server.client());
    (sample(&text, "mychat_push_sent_total"), sample(&text, "mychat_push_failed_total"))
}

fn subscribe(client: &mut Client, browser: &Browser) -> Response {
    client.post_json("/api/push/subscribe", &browser.subscription())
}

fn subscribed(client: &mut Client, browser: &Browser) {
    let response = subscribe(client, browser);
    assert_eq!(response.status, 201, "{}", response.text());
}

fn server_key(client: &mut Client) -> String {
    client.get_json("/api/push/key")["key"].as_str().unwrap().to_string()
}

/// Rows of `push_subscriptions`, as `(user_id, endpoint)`.
fn subscription_rows(server: &Server) -> Vec<(String, String)> {
    let db = open_db(server.data.path(), "users.db");
    let mut stmt = db.prepare("SELECT user_id, endpoint FROM push_subscriptions ORDER BY id").unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap().map(Result::unwrap).collect()
}

fn forward_rows(server: &Server) -> i64 {
    let db = open_db(server.data.path(), "users.db");
    db.query_row("SELECT count(*) FROM push_forwards", [], |r| r.get(0)).unwrap()
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// Sends a private message over a fresh socket and waits for its echo (it is committed).
fn send_private(client: &Client, me: &str, to: &str, text: &str) -> i64 {
    let mut ws = client.ws(&format!("/ws/{me}/{to}"));
    ws.send(text);
    let echo = ws.recv_type("message");
    assert_eq!(echo["text"], text);
    ws.close();
    echo["id"].as_i64().unwrap()
}

#[test]
fn an_away_user_gets_an_encrypted_signed_push_with_the_message() {
    let server = Server::start(&LAN);
    let service = FakePushService::start();
    let (alice, alice_id) = user(&server, "alice");
    let (mut bob, bob_id) = user(&server, "bob");
    let key = server_key(&mut bob);
    let browser = Browser::new(service.url("/push/bob"));
    subscribed(&mut bob, &browser);

    let id = send_private(&alice, &alice_id, &bob_id, "  Dinner at seven?  ");
    let push = service.wait_for("/push/bob", 1, WAIT).remove(0);
    assert_eq!(push.header("content-encoding"), "aes128gcm");
    assert_eq!(push.header("urgency"), "high");
    assert_eq!(push.header("ttl"), "86400");
    let topic = push.header("topic");
    assert!(!topic.is_empty() && topic.len() <= 32, "{topic}");
    assert!(topic.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{topic}");
    let claims = verify_vapid(push.header("authorization"), &key);
    assert_eq!(claims["aud"], format!("http://{}", service.addr));
    let exp = claims["exp"].as_i64().unwrap();
    assert!(exp > now() && exp <= now() + 24 * 3600, "exp {exp}");
    assert_eq!(claims["sub"], format!("http://{}", server.addr), "the app's origin by default");
    assert!(push.body.len() <= 4096);
    let payload = browser.decrypt(&push.body);
    assert_eq!(payload["title"], "alice");
    assert_eq!(payload["body"], "Dinner at seven?");
    assert_eq!(payload["sender"], json!({ "id": alice_id, "name": "alice" }));
    assert_eq!(payload["conversation"], json!({ "kind": "private", "id": alice_id, "name": "alice" }));
    assert_eq!(payload["tag"], format!("user-{alice_id}"));
    assert_eq!(payload["url"], format!("/index#user/{alice_id}"));
    assert_eq!(payload["message_id"], id);

    // A long message in a room: the preview is cut, the payload stays under 4 KB, and the
    // topic (one per conversation) differs from the private chat's.
    let room = alice.clone().post_json("/api/rooms/create", &json!({ "name": "Кухня" })).json();
    let room_id = room["id"].as_str().unwrap().to_string();
    let added = alice.clone().post_json(&format!("/api/rooms/{room_id}/add_user"), &json!({ "user_id": bob_id }));
    assert_eq!(added.status, 200);
    let mut ws = alice.ws(&format!("/ws/room/{room_id}/{alice_id}"));
    let long = "ж🍅".repeat(1900);
    ws.send(&long);
    let echo = ws.recv_type("room_message");
    let push = service.wait_for("/push/bob", 2, WAIT).remove(1);
    assert!(push.body.len() <= 4096, "{}", push.body.len());
    assert_ne!(push.header("topic"), topic);
    let payload = browser.decrypt(&push.body);
    assert_eq!(payload["title"], "Кухня");
    assert_eq!(payload["conversation"], json!({ "kind": "room", "id": room_id, "name": "Кухня" }));
    assert_eq!(payload["tag"], format!("room-{room_id}"));
    assert_eq!(payload["message_id"], echo["id"]);
    let body = payload["body"].as_str().unwrap();
    assert!(body.starts_with("alice: ж🍅") && body.ends_with('…'), "{body}");
    assert!(body.chars().count() <= 141, "{}", body.chars().count());
    assert_eq!(service.count("/push/bob"), 2, "alice, the sender, has no subscription; bob got two");
}

#[test]
fn a_user_with_an_open_socket_is_not_pushed() {
    let server = Server::start(&LAN);
    let service = FakePushService::start();
    let (alice, alice_id) = user(&server, "alice");
    let (mut bob, bob_id) = user(&server, "bob");
    let browser = Browser::new(service.url("/push/bob"));
    subscribed(&mut bob, &browser);
    let mut global = bob.ws(&format!("/ws/global/{bob_id}"));
    let first = send_private(&alice, &alice_id, &bob_id, "you are here");
    assert_eq!(global.recv_type("notify")["id"], first, "bob's open app hears it");
    global.close();
    // Once the server has seen bob's socket close, he is away: what follows is pushed.
    let offline = |c: &mut Client| {
        c.get_json("/api/users").as_array().unwrap().iter().any(|u| u["id"] == bob_id.as_str() && u["online"] == false)
    };
    let mut watcher = alice.clone();
    assert!(eventually(WAIT, || offline(&mut watcher)));
    let second = send_private(&alice, &alice_id, &bob_id, "now you are away");
    let third = send_private(&alice, &alice_id, &bob_id, "still away");
    let pushes = service.wait_for("/push/bob", 2, WAIT);
    let mut ids: Vec<i64> = pushes.iter().map(|p| browser.decrypt(&p.body)["message_id"].as_i64().unwrap()).collect();
    ids.sort();
    assert_eq!(ids, vec![second, third], "the message bob saw live was never pushed");
}

#[test]
fn the_test_button_pushes_to_every_device_socket_or_not() {
    let server = Server::start(&LAN);
    let service = FakePushService::start();
    let (mut bob, bob_id) = user(&server, "bob");
    let refused = bob.post_json("/api/push/test", &json!({}));
    assert_eq!(refused.status, 404, "nothing to test yet: {}", refused.text());
    let phone = Browser::new(service.url("/push/phone"));
    let laptop = Browser::new(service.url("/push/laptop"));
    subscribed(&mut bob, &phone);
    subscribed(&mut bob, &laptop);
    let _global = bob.ws(&format!("/ws/global/{bob_id}"));
    let response = bob.post_json("/api/push/test", &json!({}));
    assert_eq!(response.status, 202, "{}", response.text());
    assert_eq!(response.json()["devices"], 2);
    for (path, browser) in [("/push/phone", &phone), ("/push/laptop", &laptop)] {
        let payload = browser.decrypt(&service.wait_for(path, 1, WAIT)[0].body);
        assert_eq!(payload["conversation"]["kind"], "test");
        assert_eq!(payload["tag"], "mychat-test");
        assert_eq!(payload["url"], "/index");
    }
}

#[test]
fn subscriptions_answered_410_or_404_are_forgotten() {
    let server = Server::start(&LAN_METRICS);
    assert_eq!(push_counts(&server), (0.0, 0.0));
    let service = FakePushService::start();
    service.answer("/push/gone", Answer::GoneOnce);
    service.answer("/push/missing", Answer::NotFound);
    let (alice, alice_id) = user(&server, "alice");
    let (mut bob, bob_id) = user(&server, "bob");
    for path in ["/push/gone", "/push/missing", "/push/fine"] {
        subscribed(&mut bob, &Browser::new(service.url(path)));
    }
    assert_eq!(subscription_rows(&server).len(), 3);
    send_private(&alice, &alice_id, &bob_id, "one");
    for path in ["/push/gone", "/push/missing", "/push/fine"] {
        service.wait_for(path, 1, WAIT);
    }
    let fine = vec![(bob_id.clone(), service.url("/push/fine"))];
    assert!(eventually(WAIT, || subscription_rows(&server) == fine), "{:?}", subscription_rows(&server));
    // One delivered; the gone and the missing count as failed.
    assert!(eventually(WAIT, || push_counts(&server) == (1.0, 2.0)), "{:?}", push_counts(&server));
    send_private(&alice, &alice_id, &bob_id, "two");
    service.wait_for("/push/fine", 2, WAIT);
    assert_eq!(service.count("/push/gone"), 1, "a gone subscription is not pushed again");
    assert_eq!(service.count("/push/missing"), 1);
    assert!(eventually(WAIT, || push_counts(&server) == (2.0, 2.0)), "{:?}", push_counts(&server));
}

#[test]
fn server_errors_are_retried_a_bounded_number_of_times() {
    let server = Server::start(&LAN_METRICS);
    let service = FakePushService::start();
    service.answer("/push/broken", Answer::ServerError);
    let (alice, alice_id) = user(&server, "alice");
    let (mut bob, bob_id) = user(&server, "bob");
    subscribed(&mut bob, &Browser::new(service.url("/push/broken")));
    send_private(&alice, &alice_id, &bob_id, "are you there?");
    assert!(server.wait_for_log("gave up after 3 attempts", WAIT), "{}", server.log());
    assert_eq!(service.count("/push/broken"), 3, "one attempt and two retries");
    // (The counter moves just after that log line.)
    let given_up = || push_counts(&server) == (0.0, 1.0);
    assert!(
        eventually(WAIT, given_up),
        "one notification given up on, not one per attempt: {:?}",
        push_counts(&server)
    );
    assert_eq!(subscription_rows(&server).len(), 1, "a failing service is not a gone subscription");
}

#[test]
fn a_hanging_or_refusing_push_service_never_delays_messaging() {
    let server = Server::start(&["--push-private-endpoints", "on", "--rate-limits", "off"]);
    let service = FakePushService::start();
    service.answer("/push/hang", Answer::Hang);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refusing = format!("http://{}/push", closed.local_addr().unwrap());
    drop(closed);
    let (alice, alice_id) = user(&server, "alice");
    let (mut bob, bob_id) = user(&server, "bob");
    let (carol, carol_id) = user(&server, "carol");
    // Two subscriptions on the hanging path (the query tells them apart): both sender
    // threads get stuck; a third device's service refuses connections.
    for endpoint in [service.url("/push/hang?1"), refusing, service.url("/push/hang?2")] {
        subscribed(&mut bob, &Browser::new(endpoint));
    }
    let mut to_bob = alice.ws(&format!("/ws/{alice_id}/{bob_id}"));
    let mut carol_view = carol.ws(&format!("/ws/{carol_id}/{alice_id}"));
    let mut to_carol = alice.ws(&format!("/ws/{alice_id}/{carol_id}"));
    to_bob.send("first, while bob is away");
    to_bob.recv_type("message");
    assert!(eventually(WAIT, || service.hanging() >= 2), "both sender threads are stuck");
    // Messaging goes on: every message to the away user is stored and echoed, and every
    // message to someone reading arrives.
    for i in 0..40 {
        to_bob.send(&format!("to bob {i}"));
        to_carol.send(&format!("to carol {i}"));
    }
    for i in 0..40 {
        assert_eq!(to_bob.recv_type("message")["text"], format!("to bob {i}"));
        assert_eq!(carol_view.recv_type("message")["text"], format!("to carol {i}"));
    }
    assert!(service.hanging() >= 2, "the service was still hanging throughout");
    let history = bob.get_json(&format!("/api/history/{bob_id}/{alice_id}?limit=200"));
    assert_eq!(history.as_array().unwrap().len(), 41);
}

#[test]
fn private_and_local_endpoints_are_refused_without_the_option() {
    let server = Server::start(&[]);
    let (mut bob, _) = user(&server, "bob");
    for endpoint in [
        "http://127.0.0.1:9/push",
        "http://push.example.com/push",
        "https://127.0.0.1/push",
        "https://10.0.0.1/push",
        "https://192.168.1.20/push",
        "https://172.16.0.1/push",
        "https://169.254.169.254/latest",
        "https://[::1]/push",
        "https://[fe80::1]/push",
        "https://[fd00::1]/push",
        "https://[::ffff:127.0.0.1]/push",
        "https://0.0.0.0/push",
        "https://224.0.0.1/push",
        "https://localhost/push",
        "https://user:pw@push.example.com/push",
        "not a url",
    ] {
        let response = subscribe(&mut bob, &Browser::new(endpoint.to_string()));
        assert_eq!(response.status, 400, "{endpoint}: {}", response.text());
        let error = response.error();
        assert!(
            ["private or local", "https://", "invalid URL"].iter().any(|w| error.contains(w)),
            "{endpoint}: {error}"
        );
    }
    for (kind, url) in
        [("ntfy", "https://127.0.0.1/topic"), ("gotify", "https://[::1]"), ("ntfy", "https://localhost/t")]
    {
        let response = bob.request(
            "PUT",
            "/api/push/forward",
            &[("Content-Type", "application/json")],
            json!({ "kind": kind, "url": url }).to_string().as_bytes(),
        );
        assert_eq!(response.status, 400, "{url}: {}", response.text());
        assert!(response.error().contains("private or local"), "{}", response.error());
    }
    assert!(subscription_rows(&server).is_empty(), "no row was written");
    assert_eq!(forward_rows(&server), 0);
}

#[test]
fn bad_subscriptions_and_foreign_requests_change_nothing() {
    let server = Server::start(&LAN);
    let service = FakePushService::start();
    let (mut alice, _) = user(&server, "alice");
    let (mut bob, bob_id) = user(&server, "bob");
    let good = Browser::new(service.url("/push/bob"));
    let mut bad_key = good.subscription();
    bad_key["keys"]["p256dh"] = json!("BAAA");
    let mut bad_auth = good.subscription();
    bad_auth["keys"]["auth"] = json!("c2hvcnQ");
    let mut not_a_point = good.subscription();
    not_a_point["keys"]["p256dh"] = json!(base64url(&[4u8; 65]));
    for (body, needle) in [
        (bad_key, "p256dh"),
        (bad_auth, "auth"),
        (not_a_point, "p256dh"),
        (json!({ "endpoint": good.endpoint }), "invalid JSON"),
        (json!({ "endpoint": 5, "keys": {} }), "invalid JSON"),
    ] {
        let response = bob.post_json("/api/push/subscribe", &body);
        assert_eq!(response.status, 400, "{body}: {}", response.text());
        assert!(response.error().contains(needle), "{}", response.error());
    }
    // Another site's page cannot subscribe (CSRF), nor can a logged-out client.
    let mut foreign = bob.clone();
    foreign.origin = Some("https://evil.example".into());
    assert_eq!(subscribe(&mut foreign, &good).status, 403);
    assert_eq!(subscribe(&mut server.client(), &good).status, 401);
    assert!(subscription_rows(&server).is_empty());

    // Twenty devices at most: the 21st is refused with a clear 409, and nothing is stored.
    for i in 0..20 {
        subscribed(&mut bob, &Browser::new(service.url(&format!("/push/bob/{i}"))));
    }
    let refused = subscribe(&mut bob, &Browser::new(service.url("/push/bob/20")));
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert!(refused.error().contains("20 devices"), "{}", refused.error());
    // Subscribing an existing device again is a refresh, not a 21st device.
    subscribed(&mut bob, &Browser::new(service.url("/push/bob/3")));
    assert_eq!(subscription_rows(&server).len(), 20);
    assert!(subscription_rows(&server).iter().all(|(user, _)| *user == bob_id));

    // Nobody removes another user's subscription.
    let theirs = json!({ "endpoint": service.url("/push/bob/0") });
    let response = alice.post_json("/api/push/unsubscribe", &theirs);
    assert_eq!(response.status, 404, "{}", response.text());
    assert_eq!(subscription_rows(&server).len(), 20);
    let response = bob.post_json("/api/push/unsubscribe", &theirs);
    assert_eq!(response.status, 200, "{}", response.text());
    assert_eq!(subscription_rows(&server).len(), 19);
}

fn base64url(bytes: &[u8]) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(bytes)
}

fn put_forward(client: &mut Client, body: &Value) -> Response {
    client.request("PUT", "/api/push/forward", &[("Content-Type", "application/json")], body.to_string().as_bytes())
}

#[test]
fn ntfy_and_gotify_forwards_reach_their_servers() {
    let server = Server::start(&LAN);
    let receiver = FakePushService::start();
    let (alice, alice_id) = user(&server, "alice");
    let (mut bob, bob_id) = user(&server, "bob");
    assert_eq!(bob.get_json("/api/push/forward"), Value::Null);
    assert_eq!(bob.post_json("/api/push/forward/test", &json!({})).status, 404);

    let ntfy = json!({ "kind": "ntfy", "url": receiver.url("/ntfy/bob-phone"), "token": "tk_0123456789secret" });
    let response = put_forward(&mut bob, &ntfy);
    assert_eq!(response.status, 200, "{}", response.text());
    let shown = bob.get_json("/api/push/forward");
    assert_eq!(shown, json!({ "kind": "ntfy", "url": receiver.url("/ntfy/bob-phone"), "token_hint": "…cret" }));
    assert!(!response.text().contains("0123456789"), "the token is never echoed");
    send_private(&alice, &alice_id, &bob_id, "Привет, Боб");
    let got = receiver.wait_for("/ntfy", 1, WAIT).remove(0);
    assert_eq!(got.header("authorization"), "Bearer tk_0123456789secret");
    assert!(got.header("content-type").starts_with("application/json"));
    let body = got.json();
    assert_eq!(body["topic"], "bob-phone");
    assert_eq!(body["title"], "alice");
    assert_eq!(body["message"], "Привет, Боб");
    assert_eq!(body["priority"], 4);
    assert!(body["tags"].is_array());
    assert_eq!(body["click"], format!("http://{}/index#user/{alice_id}", server.addr));

    // Gotify: POST {server}/message?token=..., {title, message, priority}.
    let gotify = json!({ "kind": "gotify", "url": receiver.url("/gotify/"), "token": "AbCdEfGh123" });
    assert_eq!(put_forward(&mut bob, &gotify).status, 200);
    assert_eq!(forward_rows(&server), 1, "one forward per account: the new one replaced the old");
    send_private(&alice, &alice_id, &bob_id, "second");
    let got = receiver.wait_for("/gotify/message", 1, WAIT).remove(0);
    assert_eq!(got.query, "token=AbCdEfGh123");
    let body = got.json();
    assert_eq!((body["title"].as_str(), body["message"].as_str()), (Some("alice"), Some("second")));
    assert!(body["priority"].as_i64().unwrap() >= 5);
    // Changing the URL without a token keeps the stored token; the test button uses it.
    let moved = json!({ "kind": "gotify", "url": receiver.url("/gotify2") });
    assert_eq!(put_forward(&mut bob, &moved).json()["token_hint"], "…h123");
    assert_eq!(bob.post_json("/api/push/forward/test", &json!({})).status, 202);
    let got = receiver.wait_for("/gotify2/message", 1, WAIT).remove(0);
    assert_eq!(got.query, "token=AbCdEfGh123");
    assert_eq!(receiver.count("/ntfy"), 1, "only the current forward is used");

    // Bad settings are refused and change nothing.
    for bad in [
        json!({ "kind": "pushover", "url": receiver.url("/x") }),
        json!({ "kind": "ntfy", "url": receiver.url("/") }),
        json!({ "kind": "ntfy", "url": receiver.url("/t?x=1") }),
        json!({ "kind": "gotify", "url": receiver.url("/g"), "token": "has space" }),
    ] {
        assert_eq!(put_forward(&mut bob, &bad).status, 400, "{bad}");
    }
    assert_eq!(bob.get_json("/api/push/forward")["url"], receiver.url("/gotify2"));
    assert_eq!(bob.delete("/api/push/forward").status, 200);
    assert_eq!(forward_rows(&server), 0);
}

#[test]
fn the_vapid_key_survives_a_restart_and_is_backed_up() {
    let mut server = Server::start(&[]);
    let (mut bob, _) = user(&server, "bob");
    let key = server_key(&mut bob);
    assert_eq!(base64ct_len(&key), 65, "an uncompressed P-256 point");
    let file = server.data.path().join("vapid.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    server.restart();
    assert_eq!(server_key(&mut bob), key, "never rotated");
    let backup = TempDir::new("push-backup");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mychat"))
        .arg("backup")
        .arg(backup.path())
        .arg("--data-dir")
        .arg(server.data.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let copy = backup.path().join("vapid.key");
    assert_eq!(std::fs::read_to_string(&copy).unwrap().trim(), std::fs::read_to_string(&file).unwrap().trim());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&copy).unwrap().permissions().mode() & 0o777, 0o600);
    }
}

fn base64ct_len(key: &str) -> usize {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::decode_vec(key).map_or(0, |k| k.len())
}

/// One user holds at most 20 push subscriptions: the 21st browser is refused with 409 and no
/// row; renewing one already on file still works, and turning one off makes room.
#[test]
fn push_subscriptions_per_user_are_capped() {
    let server = Server::start(&LAN);
    let (mut bob, _) = user(&server, "bob");
    let browsers: Vec<Browser> = (0..21).map(|i| Browser::new(format!("http://127.0.0.1:9/push/device{i}"))).collect();
    for browser in &browsers[..20] {
        subscribed(&mut bob, browser);
    }
    let refused = subscribe(&mut bob, &browsers[20]);
    assert_eq!(refused.status, 409, "{}", refused.text());
    assert_eq!(refused.error(), "notifications are on for 20 devices already; turn them off on one you no longer use");
    let rows = subscription_rows(&server);
    assert_eq!(rows.len(), 20);
    assert!(!rows.iter().any(|(_, endpoint)| endpoint.ends_with("/device20")), "no row for the refused one");
    subscribed(&mut bob, &browsers[0]);
    assert_eq!(subscription_rows(&server).len(), 20, "a renewal is no new device");
    let off = bob.post_json("/api/push/unsubscribe", &json!({ "endpoint": browsers[0].endpoint }));
    assert_eq!(off.status, 200, "{}", off.text());
    subscribed(&mut bob, &browsers[20]);
    assert_eq!(subscription_rows(&server).len(), 20);
}

/// Sets a chat's notification level for `client` (`"all"`, `"mentions"` or `"none"`).
fn set_level(client: &mut Client, kind: &str, id: &str, level: &str) {
    let body = json!({ "chat": { "kind": kind, "id": id }, "level": level });
    let response = client.post_json("/api/chats/notify", &body);
    assert_eq!(response.status, 200, "{}", response.text());
}

/// The message ids of the `n` pushes `path` received, sorted (two sender threads may deliver
/// out of order); exactly `n` arrived.
fn pushed_ids(service: &FakePushService, path: &str, browser: &Browser, n: usize) -> Vec<i64> {
    let pushes = service.wait_for(path, n, WAIT);
    assert_eq!(service.count(path), n, "{path}");
    let mut ids: Vec<i64> = pushes.iter().map(|p| browser.decrypt(&p.body)["message_id"].as_i64().unwrap()).collect();
    ids.sort();
    ids
}

#[test]
fn pushes_follow_each_members_notification_level() {
    let server = Server::start(&LAN_METRICS);
    let service = FakePushService::start();
    let (mut alice, alice_id) = user(&server, "alice");
    let mut away = Vec::new();
    for name in ["bob", "carol", "dave"] {
        let (mut client, id) = user(&server, name);
        let browser = Browser::new(service.url(&format!("/push/{name}")));
        subscribed(&mut client, &browser);
        away.push((client, id, browser));
    }
    let room = alice.post_json("/api/rooms/create", &json!({ "name": "Family" })).json();
    let room = room["id"].as_str().unwrap().to_string();
    for (_, id, _) in &away {
        let added = alice.post_json(&format!("/api/rooms/{room}/add_user"), &json!({ "user_id": id }));
        assert_eq!(added.status, 200, "{}", added.text());
    }
    // bob hears everything (the default), carol only mentions, dave nothing; dave has also
    // muted his private chat with alice.
    set_level(&mut away[1].0, "room", &room, "mentions");
    set_level(&mut away[2].0, "room", &room, "none");
    set_level(&mut away[2].0, "user", &alice_id, "none");

    let mut ws = alice.ws(&format!("/ws/room/{room}/{alice_id}"));
    ws.send("dinner is ready");
    let plain = ws.recv_type("room_message")["id"].as_i64().unwrap();
    ws.send("@carol and @dave, that means you");
    let mention = ws.recv_type("room_message")["id"].as_i64().unwrap();
    ws.close();
    let to_dave = send_private(&alice, &alice_id, &away[2].1, "muted, so no buzz");
    let to_carol = send_private(&alice, &alice_id, &away[1].1, "a private message reaches every level but none");

    // Every push the hub decided on has been delivered once the counter shows it: bob 2,
    // carol 2 (the mention and the private message); dave none.
    assert!(eventually(WAIT, || push_counts(&server) == (4.0, 0.0)), "{:?}", push_counts(&server));
    assert_eq!(pushed_ids(&service, "/push/bob", &away[0].2, 2), [plain, mention]);
    let carol = pushed_ids(&service, "/push/carol", &away[1].2, 2);
    assert_eq!(carol, [mention, to_carol], "carol hears mentions and private messages only");
    assert_eq!(service.count("/push/dave"), 0, "dave chose nothing, even when mentioned (message {to_dave})");
}

#[test]
fn subscriptions_unused_for_60_days_expire() {
    let mut server = Server::start(&LAN);
    let service = FakePushService::start();
    let (alice, alice_id) = user(&server, "alice");
    let (mut bob, bob_id) = user(&server, "bob");
    let old = Browser::new(service.url("/push/old"));
    let recent = Browser::new(service.url("/push/recent"));
    subscribed(&mut bob, &old);
    subscribed(&mut bob, &recent);
    server.stop();
    // The old phone was last seen 61 days ago and last pushed to 60 days and a minute ago;
    // the recent one was seen as long ago but pushed to 59 days ago.
    let day = 86_400;
    let db = rusqlite::Connection::open(server.data.path().join("users.db")).unwrap();
    let aged = "UPDATE push_subscriptions SET last_seen = ?1, last_success = ?2 WHERE endpoint = ?3";
    db.execute(aged, rusqlite::params![now() - 61 * day, now() - 60 * day - 60, service.url("/push/old")]).unwrap();
    db.execute(aged, rusqlite::params![now() - 61 * day, now() - 59 * day, service.url("/push/recent")]).unwrap();
    drop(db);
    server.start_again();
    let expected = vec![(bob_id.clone(), service.url("/push/recent"))];
    assert!(eventually(WAIT, || subscription_rows(&server) == expected), "{:?}", subscription_rows(&server));
    assert!(server.wait_for_log("1 push subscriptions unused for 60 days expired", WAIT), "{}", server.log());
    let id = send_private(&alice, &alice_id, &bob_id, "only the recent device hears this");
    assert_eq!(recent.decrypt(&service.wait_for("/push/recent", 1, WAIT)[0].body)["message_id"], id);
    assert_eq!(service.count("/push/old"), 0, "an expired subscription is never pushed");
}
