//! Incoming webhooks: each format with a payload rebuilt from its sender (tests/data/hooks),
//! each way of authenticating, chunked and multipart bodies, the alert lifecycle, priority,
//! every refusal with nothing stored or delivered, and who may manage bots.

use crate::util::*;
use serde_json::{Value, json};
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(300);

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/hooks").join(name)).unwrap()
}

fn base64(bytes: &[u8]) -> String {
    <base64ct::Base64 as base64ct::Encoding>::encode_string(bytes)
}

/// A room of alice's with bob in it, a bot, and bob watching the room and his global socket.
struct Lab {
    server: Server,
    alice: Client,
    bob: Client,
    b: String,
    room: String,
    token: String,
    bot: String,
}

fn lab(args: &[&str]) -> Lab {
    let server = Server::start(args);
    let (mut alice, _) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let room =
        alice.post_json("/api/rooms/create", &json!({ "name": "Alerts" })).json()["id"].as_str().unwrap().to_string();
    assert_eq!(alice.post_json(&format!("/api/rooms/{room}/add_user"), &json!({ "user_id": b })).status, 200);
    let (bot, token) = new_bot(&mut alice, &room, "Monitor");
    Lab { server, alice, bob, b, room, token, bot }
}

fn new_bot(client: &mut Client, room: &str, name: &str) -> (String, String) {
    let created = client.post_json(&format!("/api/rooms/{room}/bots"), &json!({ "name": name }));
    assert_eq!(created.status, 201, "{}", created.text());
    let created = created.json();
    (created["bot"]["id"].as_str().unwrap().to_string(), created["token"].as_str().unwrap().to_string())
}

impl Lab {
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        Client::new(self.server.addr).request(method, path, headers, body)
    }

    fn history(&mut self) -> Vec<Value> {
        let page = self.bob.get_json(&format!("/api/rooms/{}/history?limit=200", self.room));
        page.as_array().unwrap().clone()
    }

    fn bob_unread(&mut self) -> i64 {
        let rooms = self.bob.get_json("/api/rooms");
        rooms.as_array().unwrap().iter().find(|r| r["id"] == self.room.as_str()).unwrap()["unread"].as_i64().unwrap()
    }

    fn watch(&self) -> Ws {
        self.bob.ws(&format!("/ws/room/{}/{}", self.room, self.b))
    }

    fn hook(&self) -> String {
        format!("/hooks/{}", self.token)
    }
}

/// The room message a post produced, from the room socket.
fn arrived(ws: &mut Ws) -> Value {
    ws.recv_where(Duration::from_secs(10), |f| f["type"] == "room_message").expect("a room message")
}

/// Sends raw bytes and reads the response.
fn raw(server: &Server, bytes: &[u8]) -> Response {
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    stream.write_all(bytes).unwrap();
    read_response(&mut stream).unwrap()
}

fn kuma_form_data(json: &[u8]) -> (String, Vec<u8>) {
    let boundary = "--------------------------715219357812963018571235";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n").into_bytes();
    body.extend_from_slice(json);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `body` in chunks of `size`, as node's form-data stream sends it.
fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

#[test]
fn every_format_and_way_of_authenticating_posts_as_the_bot() {
    let mut lab = lab(&[]);
    let mut ws = lab.watch();
    let mut global = lab.bob.ws(&format!("/ws/global/{}", lab.b));
    let token = lab.token.clone();
    let bearer = format!("Bearer {token}");
    let basic = format!("Basic {}", base64(format!("homeassistant:{token}").as_bytes()));
    let auth_param = base64(bearer.as_bytes()).trim_end_matches('=').replace('+', "-").replace('/', "_");

    // ntfy, raw: X- headers with a Bearer token; plain names with Basic; short names with ?auth=.
    let r = lab.send(
        "POST",
        "/hooks/ntfy/alerts",
        &[("Authorization", &bearer), ("X-Title", "Disk"), ("X-Priority", "4"), ("X-Tags", "warning,skull")],
        b"Disk almost full",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let reply = r.json();
    assert_eq!((reply["event"].as_str(), reply["topic"].as_str()), (Some("message"), Some("alerts")));
    assert!(reply["id"].is_string() && reply["time"].is_i64() && reply["expires"].is_i64(), "{reply}");
    let m = arrived(&mut ws);
    assert_eq!(m["user"], "Monitor");
    assert_eq!(m["sender_id"], format!("bot:{}", lab.bot));
    assert_eq!(m["bot"], json!({ "id": lab.bot, "name": "Monitor" }));
    assert_eq!(m["text"], "Disk almost full");
    assert_eq!(m["alert"]["title"], "Disk");
    assert_eq!(m["alert"]["priority"], 4);
    assert_eq!(m["alert"]["tags"], json!(["warning", "skull"]));
    assert_eq!(m["alert"]["format"], "ntfy");
    assert_eq!(m["alert"]["urgent"], true);
    let activity = global.recv_where(Duration::from_secs(10), |f| f["type"] == "activity").expect("chat list");
    assert_eq!(activity["message"]["id"], m["id"]);

    let r = lab.send(
        "PUT",
        "/hooks/ntfy/alerts",
        &[("Authorization", &basic), ("Title", "T2"), ("Priority", "high")],
        b"two",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(arrived(&mut ws)["alert"]["title"], "T2");
    let r = lab.send(
        "POST",
        &format!("/hooks/ntfy/alerts?auth={auth_param}"),
        &[("t", "T3"), ("p", "1"), ("ta", "tada")],
        b"three",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let m = arrived(&mut ws);
    assert_eq!((m["alert"]["title"].as_str(), m["alert"]["priority"].as_i64()), (Some("T3"), Some(1)));
    let r = lab.send("GET", &format!("/hooks/ntfy/alerts/publish?message=four&title=T4&auth={auth_param}"), &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(arrived(&mut ws)["text"], "four");
    // The topic itself may be the token (a secret topic), with no credentials at all.
    let r = lab.send("POST", &format!("/hooks/ntfy/{token}"), &[], b"five");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(arrived(&mut ws)["text"], "five");

    // ntfy's JSON to the base URL, labelled as a form the way curl labels it: Home Assistant,
    // after the account check its integration makes while setting up.
    let anonymous = lab.send("GET", "/hooks/ntfy/v1/account", &[], b"");
    assert_eq!(anonymous.json()["username"], "*");
    let account = lab.send("GET", "/hooks/ntfy/v1/account", &[("Authorization", &basic)], b"");
    assert_eq!(account.status, 200);
    assert_eq!(account.json()["username"], "homeassistant");
    assert!(account.json()["stats"]["messages_remaining"].is_i64());
    let issued = lab.send(
        "POST",
        "/hooks/ntfy/v1/account/token",
        &[("Authorization", &basic)],
        br#"{"label":"Home Assistant","expires":0}"#,
    );
    assert_eq!(issued.json()["token"], token.as_str());
    let r = lab.send(
        "POST",
        "/hooks/ntfy",
        &[("Authorization", &bearer), ("Content-Type", "application/x-www-form-urlencoded")],
        &fixture("home-assistant-ntfy.json"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["topic"], "homeassistant");
    let m = arrived(&mut ws);
    assert_eq!(m["alert"]["click"], "http://homeassistant.local:8123/lovelace/0");
    assert_eq!(m["alert"]["priority"], 5);

    // Gotify: JSON with ?token=, a form with X-Gotify-Key, multipart with Bearer, the query alone.
    let r = lab.send(
        "POST",
        &format!("/hooks/gotify/message?token={token}"),
        &[("Content-Type", "application/json")],
        &fixture("healthchecks-gotify.json"),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!((r.json()["appid"].as_i64(), r.json()["title"].as_str()), (Some(1), Some("nightly-backup is DOWN")));
    assert_eq!(arrived(&mut ws)["alert"]["format"], "gotify");
    let r = lab.send(
        "POST",
        "/hooks/gotify/message",
        &[("X-Gotify-Key", &token), ("Content-Type", "application/x-www-form-urlencoded")],
        b"title=Door&message=Front+door+open&priority=8",
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let m = arrived(&mut ws);
    assert_eq!((m["text"].as_str(), m["alert"]["priority"].as_i64()), (Some("Front door open"), Some(4)));
    let body = b"--b1\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nWasher done\r\n--b1\r\nContent-Disposition: form-data; name=\"priority\"\r\n\r\n2\r\n--b1--\r\n";
    let r = lab.send(
        "POST",
        "/hooks/gotify/message",
        &[("Authorization", &bearer), ("Content-Type", "multipart/form-data; boundary=b1")],
        body,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(arrived(&mut ws)["text"], "Washer done");
    let r =
        lab.send("POST", &format!("/hooks/gotify/message?token={token}&message=Dryer+done&title=Laundry"), &[], b"");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(arrived(&mut ws)["alert"]["title"], "Laundry");

    // Slack-compatible (Grafana's contact point): the reply is exactly `ok`.
    let hook = lab.hook();
    let r = lab.send("POST", &hook, &[("Content-Type", "application/json")], &fixture("grafana-slack-firing.json"));
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));
    let m = arrived(&mut ws);
    assert_eq!(m["alert"]["title"], "[FIRING:1] HighTemperature Server room");
    assert!(m["text"].as_str().unwrap().contains("Value: A=41.5"), "{m}");
    // Mattermost's `payload=` form.
    let payload = format!("payload={}", encode(r#"{"text":"Build <https://ci.lan/42|#42> passed"}"#));
    let r = lab.send("POST", &hook, &[("Content-Type", "application/x-www-form-urlencoded")], payload.as_bytes());
    assert_eq!((r.status, r.text().as_str()), (200, "ok"));
    assert_eq!(arrived(&mut ws)["text"], "Build #42 (https://ci.lan/42) passed");

    // Alertmanager's webhook, Uptime Kuma's JSON webhook.
    let r = lab.send("POST", &hook, &[("Content-Type", "application/json")], &fixture("alertmanager-firing.json"));
    assert_eq!(r.status, 200, "{}", r.text());
    let m = arrived(&mut ws);
    assert_eq!((m["alert"]["format"].as_str(), m["alert"]["priority"].as_i64()), (Some("alertmanager"), Some(5)));
    assert!(m["text"].as_str().unwrap().contains("Disk on nas is 97% full (nas:9100) — firing"), "{m}");
    let r = lab.send("POST", &hook, &[("Content-Type", "application/json")], &fixture("kuma-webhook-down.json"));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(arrived(&mut ws)["alert"]["title"], "Router");

    // Plain text: curl's form label, and Healthchecks' no content type at all.
    let r = lab.send("POST", &hook, &[("Content-Type", "application/x-www-form-urlencoded")], b"backup done");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(arrived(&mut ws)["text"], "backup done");
    let r = lab.send("POST", &format!("{hook}?title=Backup&priority=high&tags=floppy_disk"), &[], b"nightly run ok");
    assert_eq!(r.status, 200, "{}", r.text());
    let m = arrived(&mut ws);
    assert_eq!((m["alert"]["format"].as_str(), m["alert"]["title"].as_str()), (Some("text"), Some("Backup")));

    // Uptime Kuma's form-data webhook, chunked, exactly as node sends it.
    let (content_type, body) = kuma_form_data(&fixture("kuma-webhook-up.json"));
    let mut request = format!(
        "POST {hook} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    request.extend_from_slice(&chunked(&body, 97));
    let r = raw(&lab.server, &request);
    assert_eq!(r.status, 200, "{}", r.text());
    let m = arrived(&mut ws);
    assert_eq!(
        (m["alert"]["format"].as_str(), m["text"].as_str()),
        (Some("uptime_kuma"), Some("[Router] [✅ Up] 200 - OK"))
    );

    // Every one of them is a stored room message, counted as unread for bob.
    let history = lab.history();
    assert_eq!(history.len(), 17);
    assert!(history.iter().all(|m| m["bot"]["id"] == lab.bot.as_str()));
    assert_eq!(lab.bob_unread(), 17);
    // Searched like any message, under the bot's name.
    let found = lab.bob.get_json("/api/search?q=nightly");
    assert!(found["messages"].as_array().unwrap().iter().any(|h| h["sender_name"] == "Monitor"), "{found}");
    // The room's creator may edit a bot's message (to annotate an alert); another member may not.
    let last = history.last().unwrap()["id"].clone();
    ws.send_json(&json!({ "type": "edit", "id": last, "text": "not mine" }));
    assert!(ws.recv_type("error")["error"].as_str().unwrap().contains("author"));
    let a = lab.alice.me()["id"].as_str().unwrap().to_string();
    let mut alice_ws = lab.alice.ws(&format!("/ws/room/{}/{a}", lab.room));
    alice_ws.send_json(&json!({ "type": "edit", "id": last, "text": "router back up, checked the cable" }));
    let edited = ws.recv_type("room_message_updated");
    assert_eq!(edited["message"]["text"], "router back up, checked the cable");
    assert_eq!(edited["message"]["bot"]["name"], "Monitor", "still the bot's message");
    // The token, in so many paths, never reaches the log.
    assert!(lab.server.wait_for_log("/hooks/mcb_…", Duration::from_secs(5)));
    assert!(!lab.server.log().contains(&token), "a bot token was logged");
}

#[test]
fn resolutions_reply_to_the_alert_they_end() {
    // More posts than one bot's burst: the rate limit is another test's subject.
    let mut lab = lab(&["--rate-limits", "off"]);
    let mut ws = lab.watch();
    let hook = lab.hook();
    let json = [("Content-Type", "application/json")];
    let bearer = format!("Bearer {}", lab.token);
    // (what fires, what resolves it, where it is sent)
    let pairs: [(&str, &str, String); 5] = [
        ("kuma-webhook-down.json", "kuma-webhook-up.json", hook.clone()),
        ("kuma-ntfy-down.json", "kuma-ntfy-up.json", "/hooks/ntfy".into()),
        ("alertmanager-firing.json", "alertmanager-resolved.json", hook.clone()),
        ("healthchecks-ntfy-down.json", "healthchecks-ntfy-up.json", "/hooks/ntfy".into()),
        ("grafana-slack-firing.json", "grafana-slack-resolved.json", hook.clone()),
    ];
    for (down, up, path) in &pairs {
        let fired = lab.send("POST", path, &[json[0], ("Authorization", &bearer)], &fixture(down));
        assert_eq!(fired.status, 200, "{down}: {}", fired.text());
        let original = arrived(&mut ws);
        assert_eq!(original["alert"]["status"], "firing", "{down}");
        // Another alert of the same kind in between must not be taken for it.
        let other = lab.send("POST", &format!("{hook}?id=other&status=down"), &[], b"something else");
        assert_eq!(other.status, 200);
        arrived(&mut ws);

        let resolved = lab.send("POST", path, &[json[0], ("Authorization", &bearer)], &fixture(up));
        assert_eq!(resolved.status, 200, "{up}: {}", resolved.text());
        let reply = arrived(&mut ws);
        assert_eq!(reply["reply_to"]["id"], original["id"], "{up} replies to {down}");
        assert_eq!(reply["alert"]["status"], "resolved");
        assert!(reply["alert"].get("urgent").is_none(), "good news is never urgent: {reply}");
        let updated = ws.recv_where(Duration::from_secs(10), |f| f["type"] == "room_message_updated").unwrap();
        let updated = &updated["message"];
        assert_eq!(updated["id"], original["id"]);
        assert_eq!(updated["alert"]["status"], "resolved");
        assert_eq!(updated["alert"]["resolved_by"], reply["id"]);
        assert!(updated["seq"].as_i64() > reply["seq"].as_i64(), "the update has the newest change number");
        // A client catching up with changes learns of it.
        let since = original["seq"].as_i64().unwrap();
        let changes = lab.bob.get_json(&format!("/api/rooms/{}/history?changed_since={since}", lab.room));
        assert!(
            changes.as_array().unwrap().iter().any(|m| m["id"] == original["id"] && m["alert"]["status"] == "resolved")
        );
        // A second resolution finds nothing open: it stands alone.
        let again = lab.send("POST", path, &[json[0], ("Authorization", &bearer)], &fixture(up));
        assert_eq!(again.status, 200);
        assert!(arrived(&mut ws).get("reply_to").is_none(), "{up} twice");
    }
    // Healthchecks' plain webhook pairs through the URL it fills in: ?id=$CODE&status=$STATUS.
    let code = "fc6a2d17-0ea1-4b8a-9a22-2d1c8c1b7a51";
    assert_eq!(lab.send("POST", &format!("{hook}?id={code}&status=down"), &[], b"backup is down").status, 200);
    let original = arrived(&mut ws);
    assert_eq!(lab.send("POST", &format!("{hook}?id={code}&status=up"), &[], b"backup is up").status, 200);
    assert_eq!(arrived(&mut ws)["reply_to"]["id"], original["id"]);
    // Deleting an open alert closes it: its resolution then stands alone.
    assert_eq!(lab.send("POST", &format!("{hook}?id=gone&status=down"), &[], b"x").status, 200);
    let doomed = arrived(&mut ws);
    let a = lab.alice.me()["id"].as_str().unwrap().to_string();
    let mut alice_ws = lab.alice.ws(&format!("/ws/room/{}/{a}", lab.room));
    alice_ws.send_json(&json!({ "type": "delete", "id": doomed["id"] }));
    ws.recv_where(Duration::from_secs(10), |f| f["type"] == "room_message_updated").unwrap();
    assert_eq!(lab.send("POST", &format!("{hook}?id=gone&status=up"), &[], b"y").status, 200);
    assert!(arrived(&mut ws).get("reply_to").is_none());
}

#[test]
fn high_priority_reaches_members_who_chose_mentions() {
    let mut lab = lab(&[]);
    let body = json!({ "chat": { "kind": "room", "id": lab.room }, "level": "mentions" });
    assert_eq!(lab.bob.post_json("/api/chats/notify", &body).status, 200);
    let mut global = lab.bob.ws(&format!("/ws/global/{}", lab.b));
    let hook = lab.hook();
    for (query, urgent) in
        [("priority=5", true), ("priority=4", true), ("priority=3", false), ("priority=5&id=x&status=up", false)]
    {
        assert_eq!(lab.send("POST", &format!("{hook}?{query}"), &[], b"alert").status, 200);
        let activity = global.recv_where(Duration::from_secs(10), |f| f["type"] == "activity").unwrap();
        assert_eq!(activity["message"]["alert"]["urgent"].as_bool().unwrap_or(false), urgent, "{query}");
    }
}

/// What a refusal must leave as it was: the room's history, bob's unread count, and both of
/// bob's sockets silent.
fn assert_nothing_happened(lab: &mut Lab, ws: &mut Ws, global: &mut Ws, before: usize, what: &str) {
    assert_eq!(lab.history().len(), before, "{what}: stored");
    assert_eq!(lab.bob_unread(), before as i64, "{what}: counted");
    ws.expect_silence(QUIET);
    global.expect_silence(Duration::from_millis(50));
}

#[test]
fn refused_posts_store_and_deliver_nothing() {
    let mut lab = lab(&[]);
    let mut ws = lab.watch();
    let mut global = lab.bob.ws(&format!("/ws/global/{}", lab.b));
    let hook = lab.hook();
    let (room, mut alice) = (lab.room.clone(), lab.alice.clone());
    assert_eq!(lab.send("POST", &hook, &[], b"first").status, 200);
    arrived(&mut ws);
    global.recv_where(Duration::from_secs(10), |f| f["type"] == "activity").unwrap();

    // Tokens: unknown, malformed, missing; then a rotated one's old value, and a revoked one.
    let fake = format!("mcb_{}", "A".repeat(43));
    for (path, what) in [(format!("/hooks/{fake}"), "unknown token"), ("/hooks/not-a-token".into(), "malformed token")]
    {
        let r = lab.send("POST", &path, &[], b"intruder");
        assert_eq!(r.status, 401, "{what}");
        assert_nothing_happened(&mut lab, &mut ws, &mut global, 1, what);
    }
    assert_eq!(lab.send("POST", "/hooks/ntfy/topic", &[], b"no credentials").json()["http"], 401);
    assert_eq!(lab.send("POST", "/hooks/gotify/message?token=nope", &[], b"message=x").json()["errorCode"], 401);
    let rotated = alice.post_json(&format!("/api/rooms/{room}/bots/{}/rotate", lab.bot), &json!({}));
    assert_eq!(rotated.status, 200);
    let new_token = rotated.json()["token"].as_str().unwrap().to_string();
    assert_ne!(new_token, lab.token);
    assert_eq!(lab.send("POST", &hook, &[], b"old token").status, 401);
    assert_nothing_happened(&mut lab, &mut ws, &mut global, 1, "rotated token");
    lab.token = new_token;
    let hook = lab.hook();
    assert_eq!(
        alice.post_json(&format!("/api/rooms/{room}/bots/{}/revoke", lab.bot), &json!({})).json()["bot"]["active"],
        false
    );
    assert_eq!(lab.send("POST", &hook, &[], b"revoked").status, 401);
    assert_nothing_happened(&mut lab, &mut ws, &mut global, 1, "revoked token");
    let again = alice.post_json(&format!("/api/rooms/{room}/bots/{}/rotate", lab.bot), &json!({}));
    lab.token = again.json()["token"].as_str().unwrap().to_string();
    let hook = lab.hook();

    // A bot of another room posts there, never here.
    let other = alice.post_json("/api/rooms/create", &json!({ "name": "Elsewhere" })).json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, other_token) = new_bot(&mut alice, &other, "Other");
    assert_eq!(lab.send("POST", &format!("/hooks/{other_token}"), &[], b"elsewhere").status, 200);
    assert_nothing_happened(&mut lab, &mut ws, &mut global, 1, "another room's bot");

    // Too big: a text over 4,000 characters, a body over 64 KiB (also chunked).
    let long = "x".repeat(4001);
    let r = lab.send("POST", &hook, &[], long.as_bytes());
    assert_eq!(r.status, 413);
    assert!(r.error().contains("4000"), "{}", r.error());
    assert_eq!(lab.send("POST", &hook, &[], &vec![b'y'; 70_000]).status, 413);
    let mut request = format!("POST {hook} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
    request.extend_from_slice(&chunked(&vec![b'z'; 70_000], 8192));
    assert_eq!(raw(&lab.server, &request).status, 413);
    assert_nothing_happened(&mut lab, &mut ws, &mut global, 1, "too big");

    // Malformed: each with a clear error.
    let json = [("Content-Type", "application/json")];
    for (path, headers, body, what) in [
        (hook.clone(), &json[..], &b"{\"text\": "[..], "invalid JSON"),
        (hook.clone(), &json[..], br#"{"attachments": []}"#, "Slack without text"),
        (hook.clone(), &[][..], b"   ", "empty"),
        (format!("{hook}?priority=9"), &[][..], b"x", "priority out of range"),
        (format!("{hook}?click=javascript:alert(1)"), &[][..], b"x", "a script link"),
        (format!("{hook}?status=maybe"), &[][..], b"x", "unknown status"),
        (hook.clone(), &[][..], &[0xff, 0xfe, 0x00][..], "not UTF-8"),
        (
            format!("/hooks/gotify/message?token={}", lab.token),
            &json[..],
            br#"{"message":"m","extras":"no"}"#,
            "extras not an object",
        ),
        (
            format!("/hooks/gotify/message?token={}", lab.token),
            &json[..],
            br#"{"title":"no message"}"#,
            "gotify without message",
        ),
        (format!("/hooks/ntfy/t?auth={}", lab.token), &[("X-Priority", "loud")][..], b"x", "ntfy priority"),
    ] {
        let r = lab.send("POST", &path, headers, body);
        assert_eq!(r.status, 400, "{what}: {}", r.text());
        assert!(!r.text().is_empty(), "{what}");
        assert_nothing_happened(&mut lab, &mut ws, &mut global, 1, what);
    }

    // Too fast: the bot's budget runs out (429 with Retry-After); what was refused is not stored.
    let mut accepted = 1;
    let refused = loop {
        let r = lab.send("POST", &hook, &[], b"flood");
        if r.status != 200 {
            break r;
        }
        accepted += 1;
        arrived(&mut ws);
        assert!(accepted < 200, "no rate limit");
    };
    assert_eq!(refused.status, 429);
    assert!(refused.header("retry-after").and_then(|s| s.parse::<u64>().ok()).is_some_and(|s| s >= 1));
    global.recv_where(Duration::from_secs(2), |_| false);
    assert_nothing_happened(&mut lab, &mut ws, &mut global, accepted, "too fast");
}

#[test]
fn only_the_creator_or_an_admin_manages_bots_and_a_deleted_room_takes_its_bots() {
    let mut lab = lab(&[]);
    let (room, bot) = (lab.room.clone(), lab.bot.clone());
    let (mut carol, _) = user(&lab.server, "carol");
    let rows = |lab: &Lab| -> (i64, Option<Vec<u8>>) {
        let db = open_db(lab.server.data.path(), "users.db");
        let count = db.query_row("SELECT count(*) FROM bots", [], |r| r.get(0)).unwrap();
        let hash = db.query_row("SELECT token_hash FROM bots WHERE id = ?1", [&bot], |r| r.get(0)).ok().flatten();
        (count, hash)
    };
    let before = rows(&lab);
    assert_eq!(before.0, 1);
    assert_eq!(before.1.as_ref().map(Vec::len), Some(32), "a hash, never the token");
    let listed = lab.bob.get_json(&format!("/api/rooms/{room}/bots"));
    assert_eq!(listed[0]["name"], "Monitor");
    assert!(listed[0].get("token").is_none());
    // Bob is a member, not the creator; carol is not even a member.
    for (client, name) in [(&mut lab.bob, "bob"), (&mut carol, "carol")] {
        let base = format!("/api/rooms/{room}/bots");
        assert_eq!(client.post_json(&base, &json!({ "name": "Mine" })).status, 403, "{name} creates");
        assert_eq!(client.post_json(&format!("{base}/{bot}/rotate"), &json!({})).status, 403, "{name} rotates");
        assert_eq!(client.post_json(&format!("{base}/{bot}/revoke"), &json!({})).status, 403, "{name} revokes");
        assert_eq!(client.delete(&format!("{base}/{bot}")).status, 403, "{name} deletes");
    }
    assert_eq!(carol.get(&format!("/api/rooms/{room}/bots")).status, 403);
    assert_eq!(rows(&lab), before, "nothing changed");
    assert_eq!(lab.send("POST", &lab.hook(), &[], b"still works").status, 200);

    // An administrator who is a member manages them too (alice, the first account, makes bob one).
    let b = lab.b.clone();
    assert_eq!(lab.alice.post_json(&format!("/api/admin/users/{b}/promote"), &json!({})).status, 200);
    let (admins, _) = new_bot(&mut lab.bob, &room, "Bob's");
    assert_eq!(lab.bob.delete(&format!("/api/rooms/{room}/bots/{admins}")).status, 200);
    assert_eq!(rows(&lab), before, "created and deleted");

    // Names are checked; ten bots at most.
    let base = format!("/api/rooms/{room}/bots");
    assert_eq!(lab.alice.post_json(&base, &json!({ "name": "  " })).status, 400);
    assert_eq!(lab.alice.post_json(&base, &json!({ "name": "monitor" })).status, 409, "taken");
    for i in 1..10 {
        new_bot(&mut lab.alice, &room, &format!("Bot {i}"));
    }
    assert_eq!(lab.alice.post_json(&base, &json!({ "name": "Eleventh" })).status, 409);
    assert_eq!(rows(&lab).0, 10);
    // The creator deletes a bot; deleting the room deletes the rest.
    assert_eq!(lab.alice.delete(&format!("{base}/{bot}")).status, 200);
    assert_eq!(lab.send("POST", &lab.hook(), &[], b"deleted").status, 401);
    assert_eq!(rows(&lab).0, 9);
    let (_, survivor) = new_bot(&mut lab.alice, &room, "Survivor");
    assert_eq!(lab.alice.delete(&format!("/api/rooms/{room}")).status, 200);
    assert_eq!(rows(&lab).0, 0);
    assert_eq!(lab.send("POST", &format!("/hooks/{survivor}"), &[], b"orphan").status, 401);
}
