//! Abuse limits, TLS-aware cookies, proxies, connection caps and WebSocket protocol abuse.

use crate::util::*;
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

fn json_client(server: &Server) -> Client {
    let mut client = server.client();
    client.extra_headers.push(("Accept".into(), "application/json".into()));
    client
}

#[test]
fn a_flood_of_wrong_passwords_for_one_account_is_refused_early() {
    let server = Server::start(&[]);
    server.client().register("victim", "the-real-password");
    let mut attacker = json_client(&server);
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(attacker.login("victim", "guess-guess").status);
    }
    let first_refusal = statuses.iter().position(|s| *s == 429).expect("refused at some point");
    assert!(first_refusal <= 5, "refused well before 30 attempts: {statuses:?}");
    assert!(statuses[..first_refusal].iter().all(|s| *s == 401));
    let refused = attacker.login("victim", "guess-guess");
    assert_eq!(refused.status, 429);
    let retry: u64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "the owner waits at most a minute: {retry}");
    assert!(refused.error().starts_with("too many attempts"));
    // Even the right password waits: otherwise the limit would leak which guess was right.
    assert_eq!(attacker.login("victim", "the-real-password").status, 429);
    // Other accounts are unaffected.
    server.client().register("bystander", "bystander-pw");
    assert_eq!(json_client(&server).login("bystander", "bystander-pw").status, 303);
}

#[test]
fn logins_from_one_address_are_limited_and_forwarded_addresses_only_trusted_from_proxies() {
    let server = Server::start(&["--trusted-proxies", "127.0.0.1"]);
    let from = |ip: &str| {
        let mut client = json_client(&server);
        client.extra_headers.push(("X-Forwarded-For".into(), ip.into()));
        client
    };
    let mut statuses = Vec::new();
    for i in 0..25 {
        statuses.push(from("203.0.113.7").login(&format!("nobody{i}"), "whatever-pw").status);
    }
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 5, "20 failures per address: {statuses:?}");
    assert_eq!(from("203.0.113.8").login("nobody", "whatever-pw").status, 401, "another client is not blocked");
    // Without the proxy setting, X-Forwarded-For is the client's own claim and is ignored.
    let direct = Server::start(&[]);
    for i in 0..20 {
        let mut client = json_client(&direct);
        client.extra_headers.push(("X-Forwarded-For".into(), format!("198.51.100.{i}")));
        assert_eq!(client.login(&format!("x{i}"), "whatever-pw").status, 401);
    }
    let mut spoofer = json_client(&direct);
    spoofer.extra_headers.push(("X-Forwarded-For".into(), "198.51.100.99".into()));
    assert_eq!(spoofer.login("x", "whatever-pw").status, 429, "the real address was limited");
}

#[test]
fn registrations_per_address_are_limited_and_rate_limits_can_be_switched_off() {
    let server = Server::start(&[]);
    let mut statuses = Vec::new();
    for i in 0..12 {
        statuses.push(
            json_client(&server)
                .post_form("/register", &[("username", &format!("u{i}")), ("password", "password1")])
                .status,
        );
    }
    assert_eq!(&statuses[..10], &[303; 10]);
    assert_eq!(&statuses[10..], &[429, 429]);
    let off = Server::start(&["--rate-limits", "off"]);
    for i in 0..15 {
        assert_eq!(
            json_client(&off)
                .post_form("/register", &[("username", &format!("u{i}")), ("password", "password1")])
                .status,
            303
        );
    }
}

#[test]
fn messages_are_limited_per_user_across_sockets() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let mut tabs: Vec<Ws> = (0..4).map(|_| alice.ws(&format!("/ws/{a}/{b}"))).collect();
    for (t, tab) in tabs.iter_mut().enumerate() {
        for i in 0..19 {
            tab.send(&format!("tab{t}-m{i}"));
        }
    }
    // Every tab hears every accepted message (they all show the conversation), and its own
    // refusals; count on the first tab what was accepted, and each tab's refusals.
    let (mut refused, mut accepted) = (0, std::collections::HashSet::new());
    for (t, tab) in tabs.iter_mut().enumerate() {
        let mut answered = 0;
        while answered < 19 {
            let frame = tab.recv_where(10 * SECOND, |f| f["type"] == "error" || f["type"] == "message").unwrap();
            if frame["type"] == "error" {
                refused += 1;
                answered += 1;
            } else {
                let text = frame["text"].as_str().unwrap().to_string();
                if text.starts_with(&format!("tab{t}-")) {
                    answered += 1;
                }
                accepted.insert(text);
            }
        }
    }
    // Each tab stays under its own limit (20 at once); together they exceed the user's (40,
    // then 20 a second): 76 sent, so at least 10 refused unless they took over 1.3 s.
    assert!(refused >= 10, "the per-user limit refused {refused} of 76");
    assert_eq!(refused + accepted.len(), 76);
    // Refused ones were not stored: the history holds exactly the accepted ones.
    let history = bob.get_json(&format!("/api/history/{b}/{a}?limit=200"));
    let stored: std::collections::HashSet<String> =
        history.as_array().unwrap().iter().map(|m| m["text"].as_str().unwrap().to_string()).collect();
    assert_eq!(stored, accepted);
}

#[test]
fn connection_caps_answer_instead_of_growing() {
    let server = Server::start(&["--max-connections-per-ip", "4"]);
    let held: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(server.addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(100));
    let mut extra = TcpStream::connect(server.addr).unwrap();
    extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let response = read_response(&mut extra).unwrap();
    assert_eq!(response.status, 429);
    assert_eq!(response.error(), "too many connections from your address");
    drop(held);
    assert!(eventually(5 * SECOND, || server.client().get("/healthz").status == 200));

    let full = Server::start(&["--max-connections", "2"]);
    let _held: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(full.addr).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(100));
    let mut extra = TcpStream::connect(full.addr).unwrap();
    extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut extra).unwrap().status, 503);

    let sockets = Server::start(&["--max-sockets-per-user", "2"]);
    let (alice, a) = user(&sockets, "alice");
    let _one = alice.ws(&format!("/ws/global/{a}"));
    let _two = alice.ws("/ws/status");
    assert_eq!(alice.try_ws(&format!("/ws/global/{a}")).err(), Some(429));
}

#[test]
fn cookies_are_secure_and_host_prefixed_over_tls() {
    let server = Server::start(&["--behind-tls", "on"]);
    let mut client = server.client();
    let response = client.post_form("/register", &[("username", "tls"), ("password", "password1")]);
    let cookies = response.headers_named("set-cookie");
    let session = cookies.iter().find(|c| c.starts_with("__Host-mychat_session=")).expect("__Host- cookie");
    assert!(session.contains("; Secure") && session.contains("Path=/") && !session.contains("Domain"), "{session}");
    assert!(cookies.iter().find(|c| c.starts_with("user_id=")).unwrap().contains("; Secure"));
    assert_eq!(client.get("/api/me").status, 200, "the prefixed cookie authenticates");
    assert!(client.get("/").header("strict-transport-security").is_some(), "HSTS over TLS");

    let proxied = Server::start(&["--trusted-proxies", "127.0.0.1"]);
    let mut via_proxy = proxied.client();
    via_proxy.extra_headers.push(("X-Forwarded-Proto".into(), "https".into()));
    let response = via_proxy.post_form("/register", &[("username", "p"), ("password", "password1")]);
    assert!(response.headers_named("set-cookie").iter().any(|c| c.starts_with("__Host-mychat_session=")));
    let direct = Server::start(&[]);
    let mut claims = direct.client();
    claims.extra_headers.push(("X-Forwarded-Proto".into(), "https".into()));
    let response = claims.post_form("/register", &[("username", "d"), ("password", "password1")]);
    assert!(
        response.headers_named("set-cookie").iter().any(|c| c.starts_with("mychat_session=")),
        "untrusted claim ignored"
    );
}

#[test]
fn websocket_protocol_abuse_gets_the_right_close_codes() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let (bob, b) = user(&server, "bob");
    let mut watcher = bob.ws(&format!("/ws/{b}/{a}"));
    let path = format!("/ws/{a}/{b}");
    let key = Some([1, 2, 3, 4]);
    let cases: [(&str, Vec<u8>, u16); 5] = [
        ("unmasked client frame", client_frame(1, b"hello", None, true), 1002),
        ("invalid UTF-8 in a text frame", client_frame(1, &[0x68, 0xff, 0xfe], key, true), 1007),
        ("oversized frame", client_frame(1, &vec![b'a'; 40 * 1024], key, true), 1009),
        ("reserved opcode", client_frame(3, b"x", key, true), 1002),
        ("fragmented control frame", client_frame(9, b"", key, false), 1002),
    ];
    for (what, bytes, code) in cases {
        let mut stream = raw_ws(&alice, &path);
        stream.write_all(&bytes).unwrap();
        assert_eq!(read_until_close(&mut stream), Some(code), "{what}");
    }
    // A frame cut off mid-way by an abrupt close harms no one.
    let mut stream = raw_ws(&alice, &path);
    stream.write_all(&client_frame(1, b"half of this frame", key, true)[..10]).unwrap();
    drop(stream);
    // A message in two fragments is one message; a ping is answered.
    let mut stream = raw_ws(&alice, &path);
    stream.write_all(&client_frame(1, b"frag", key, false)).unwrap();
    stream.write_all(&client_frame(0, b"mented", key, true)).unwrap();
    assert_eq!(watcher.recv()["text"], "fragmented");
    stream.write_all(&client_frame(8, &1000u16.to_be_bytes(), key, true)).unwrap();
    assert_eq!(read_until_close(&mut stream), Some(1000), "close answered with close");
    // Binary frames are refused with an error frame; the socket stays.
    let mut ws = alice.ws(&path);
    ws.socket.send(tungstenite::Message::binary(vec![1, 2, 3])).unwrap();
    assert_eq!(ws.recv()["error"], "binary frames are not supported; send text");
    ws.send("still open");
    assert_eq!(watcher.recv()["text"], "still open");
}

#[test]
fn handshakes_without_the_protocol_are_refused() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let plain = alice.get(&format!("/ws/global/{a}"));
    assert_eq!(plain.status, 400);
    assert_eq!(plain.error(), "this path needs a WebSocket handshake");
    let old_version = alice.request(
        "GET",
        &format!("/ws/global/{a}"),
        &[
            ("Upgrade", "websocket"),
            ("Connection", "Upgrade"),
            ("Sec-WebSocket-Version", "8"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ],
        b"",
    );
    assert_eq!(old_version.status, 400);
    assert_eq!(old_version.header("sec-websocket-version"), Some("13"));
    let no_key = alice.request(
        "GET",
        &format!("/ws/global/{a}"),
        &[("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Version", "13")],
        b"",
    );
    assert_eq!(no_key.status, 400);
}

#[test]
fn a_flood_of_large_frames_cannot_grow_memory_without_bound() {
    let server = Server::start(&["--rate-limits", "off"]);
    let (alice, a) = user(&server, "alice");
    let (_bob, b) = user(&server, "bob");
    let before = rss_kib(server.pid());
    let path = format!("/ws/{a}/{b}");
    let attackers: Vec<_> = (0..12)
        .map(|i| {
            let client = alice.clone();
            let path = path.clone();
            std::thread::spawn(move || {
                let mut closes = Vec::new();
                for _ in 0..10 {
                    let mut stream = raw_ws(&client, &path);
                    // Claims 1 GiB; the server stops at its frame limit without buffering it.
                    let mut header = vec![0x81, 0x80 | 127];
                    header.extend_from_slice(&(1u64 << 30).to_be_bytes());
                    header.extend_from_slice(&[i as u8, 1, 2, 3]);
                    let _ = stream.write_all(&header);
                    let _ = stream.write_all(&vec![b'a'; 64 * 1024]);
                    closes.push(read_until_close(&mut stream));
                }
                closes
            })
        })
        .collect();
    for attacker in attackers {
        for close in attacker.join().unwrap() {
            assert_eq!(close, Some(1009));
        }
    }
    let after = rss_kib(server.pid());
    assert!(after < before + 24 * 1024, "RSS grew from {before} KiB to {after} KiB");
    let mut ws = alice.ws(&path);
    ws.send("served as usual");
    assert_eq!(ws.recv()["text"], "served as usual");
}

#[test]
fn a_household_behind_one_address_is_not_refused() {
    let server = Server::start(&[]);
    // Three browsers' worth of kept-alive connections from one address.
    let mut browsers: Vec<TcpStream> = (0..18)
        .map(|_| {
            let mut stream = TcpStream::connect(server.addr).unwrap();
            stream.write_all(b"GET /static/favicon.svg HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            stream
        })
        .collect();
    for stream in &mut browsers {
        assert_eq!(read_response(stream).unwrap().status, 200);
    }
    let mut another = TcpStream::connect(server.addr).unwrap();
    another.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut another).unwrap().status, 200, "a fourth browser is served");
}

/// Pings and refused frames provoke replies; a client that provokes them and never reads is
/// bounded like any slow reader (its replies count against the same backlog) and cut off.
#[test]
fn a_client_that_floods_pings_and_never_reads_its_pongs_is_cut_off() {
    let server = Server::start(&["--rate-limits", "off"]);
    let mut alice = server.client();
    let a = alice.register("alice", "password1");
    let b = server.client().register("bob", "password1");
    let before = rss_kib(server.pid());
    let mut flooder = alice.ws(&format!("/ws/global/{a}"));
    let payload = vec![b'p'; 125];
    let mut sent = 0u64;
    while sent < 2_000_000 {
        let ping = tungstenite::Message::Ping(payload.clone().into());
        if flooder.socket.send(ping).is_err() {
            break;
        }
        sent += 1;
    }
    assert!(server.wait_for_log("does not read its replies", 30 * SECOND), "cut off after {sent} pings");
    let after = rss_kib(server.pid());
    assert!(after < before + 40 * 1024, "memory stays bounded: {before} KiB → {after} KiB");
    // The server is fine and so is the flooder's account: a new socket works.
    let mut again = alice.ws(&format!("/ws/{a}/{b}"));
    again.send("after the flood");
    assert_eq!(again.recv()["text"], "after the flood");
}
