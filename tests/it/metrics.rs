//! `/metrics`: off by default, its names and format, counters that move with traffic, the
//! bearer token, and the separate listener.

use crate::util::*;
use serde_json::json;
use std::time::Duration;

/// The value of a sample line `name{labels} value` (or `name value`).
pub(crate) fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no {series} in:\n{text}"))
        .parse()
        .unwrap()
}

pub(crate) fn scrape(client: &mut Client) -> String {
    let response = client.get("/metrics");
    assert_eq!(response.status, 200, "{}", response.text());
    assert!(response.header("content-type").unwrap().starts_with("text/plain; version=0.0.4"));
    response.text()
}

#[test]
fn off_by_default() {
    let server = Server::start(&[]);
    assert_eq!(server.client().get("/metrics").status, 404);
}

#[test]
fn names_format_and_counters_that_move() {
    let server = Server::start(&["--metrics", "on"]);
    let mut scraper = server.client();
    let before = scrape(&mut scraper);
    for line in before.lines().filter(|l| l.starts_with("# TYPE ")) {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let (name, kind) = (parts[2], parts[3]);
        assert!(name.starts_with("mychat_"), "{line}");
        assert_eq!(kind == "counter", name.ends_with("_total"), "{line}");
        assert!(before.contains(&format!("# HELP {name} ")), "{name} has no HELP");
    }
    for family in [
        "mychat_sockets_open",
        "mychat_users_online",
        "mychat_messages_stored_total",
        "mychat_deliveries_total",
        "mychat_hub_batch_commands",
        "mychat_hub_commit_seconds",
        "mychat_http_responses_total",
        "mychat_rate_limited_total",
        "mychat_slow_consumers_total",
        "mychat_webhook_posts_total",
        "mychat_push_sent_total",
        "mychat_push_failed_total",
        "mychat_database_file_bytes",
        "mychat_process_resident_memory_bytes",
        "mychat_process_threads",
    ] {
        assert!(before.contains(&format!("# TYPE {family} ")), "{family} missing");
    }
    assert!(sample(&before, "mychat_process_resident_memory_bytes") > 1e6);
    assert!(sample(&before, "mychat_process_threads") >= 3.0);
    assert!(sample(&before, "mychat_database_file_bytes{file=\"users.db\"}") > 0.0);

    // Traffic: a user online in a room, a message, a webhook post, a refused one, a 404.
    let (mut alice, a) = user(&server, "alice");
    let room = alice.post_json("/api/rooms/create", &json!({ "name": "R" })).json()["id"].as_str().unwrap().to_string();
    let _global = alice.ws(&format!("/ws/global/{a}"));
    let mut ws = alice.ws(&format!("/ws/room/{room}/{a}"));
    ws.send_json(&json!({ "type": "message", "text": "hello" }));
    ws.recv_type("room_message");
    let token = alice.post_json(&format!("/api/rooms/{room}/bots"), &json!({ "name": "B" })).json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(server.client().request("POST", &format!("/hooks/{token}"), &[], b"up").status, 200);
    ws.recv_type("room_message");
    assert_eq!(server.client().request("POST", &format!("/hooks/mcb_{}", "A".repeat(43)), &[], b"x").status, 401);
    assert_eq!(server.client().get("/no-such-page").status, 404);

    let after = scrape(&mut scraper);
    assert_eq!(sample(&after, "mychat_sockets_open{kind=\"room\"}"), 1.0);
    assert_eq!(sample(&after, "mychat_sockets_open{kind=\"global\"}"), 1.0);
    assert_eq!(sample(&after, "mychat_users_online"), 1.0);
    assert_eq!(sample(&after, "mychat_messages_stored_total{kind=\"room\"}"), 2.0);
    assert_eq!(sample(&after, "mychat_webhook_posts_total{format=\"text\",result=\"ok\"}"), 1.0);
    assert_eq!(sample(&after, "mychat_webhook_posts_total{format=\"text\",result=\"unauthorized\"}"), 1.0);
    for series in
        ["mychat_deliveries_total", "mychat_http_responses_total{class=\"2xx\"}", "mychat_hub_commit_seconds_count"]
    {
        assert!(sample(&after, series) > sample(&before, series), "{series} did not move");
    }
    assert!(sample(&after, "mychat_http_responses_total{class=\"4xx\"}") >= 2.0);
    let batches = sample(&after, "mychat_hub_batch_commands_count");
    assert_eq!(sample(&after, "mychat_hub_batch_commands_bucket{le=\"+Inf\"}"), batches);
}

#[test]
fn a_token_guards_it() {
    let server = Server::start(&["--metrics", "on", "--metrics-token", "s3cret-scrape"]);
    let mut client = server.client();
    assert_eq!(client.get("/metrics").status, 401);
    assert_eq!(client.request("GET", "/metrics", &[("Authorization", "Bearer wrong-token")], b"").status, 401);
    let ok = client.request("GET", "/metrics", &[("Authorization", "Bearer s3cret-scrape")], b"");
    assert_eq!(ok.status, 200);
    assert!(ok.text().contains("mychat_users_online"));
}

#[test]
fn a_separate_listener_serves_only_metrics() {
    let server = Server::start(&["--metrics-addr", "127.0.0.1:0"]);
    assert!(server.wait_for_log("serving /metrics on http://", Duration::from_secs(10)));
    let line = server.log().lines().find(|l| l.contains("serving /metrics on http://")).unwrap().to_string();
    let addr: std::net::SocketAddr =
        line.split("http://").nth(1).unwrap().trim_end_matches("/metrics").parse().unwrap();
    let mut separate = Client::new(addr);
    assert!(scrape(&mut separate).contains("# TYPE mychat_sockets_open gauge"));
    assert_eq!(separate.get("/api/me").status, 404, "nothing else there");
    assert_eq!(server.client().get("/metrics").status, 404, "not on the chat's address");
}

#[test]
fn refusals_count_as_rate_limited_and_upgrades_as_1xx() {
    let server = Server::start(&["--metrics", "on", "--max-connections-per-ip", "4"]);
    let counts = || {
        let text = scrape(&mut server.client());
        let class = |c: &str| sample(&text, &format!("mychat_http_responses_total{{class=\"{c}\"}}"));
        (sample(&text, "mychat_rate_limited_total"), class("1xx"), class("4xx"))
    };
    let (limited, upgrades, client_errors) = counts();
    assert_eq!((limited, upgrades), (0.0, 0.0));
    // A WebSocket handshake answered 101.
    let (alice, a) = user(&server, "alice");
    let global = alice.ws(&format!("/ws/global/{a}"));
    assert_eq!(counts().1, 1.0, "the 101 counts as 1xx");
    global.close();
    // Six wrong passwords: five answered 401, the sixth refused by the account's limiter.
    let mut guesses = server.client();
    let statuses: Vec<u16> = (0..6).map(|_| guesses.login("alice", "not the password").status).collect();
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    let (after_logins, _, _) = counts();
    assert_eq!(after_logins, 1.0, "the login limiter's 429 counts once");
    // Connections from another address (127.0.0.2) over its cap: the acceptor answers 429
    // itself, while the scrapes from 127.0.0.1 go on.
    let mut held = Vec::new();
    let mut capped = None;
    for _ in 0..8 {
        let mut stream = connect_from(server.addr, [127, 0, 0, 2].into());
        stream.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
        let mut first = [0u8; 12];
        match std::io::Read::read(&mut stream, &mut first) {
            Ok(n) if n > 0 => {
                capped = Some(String::from_utf8_lossy(&first[..n]).to_string());
                break;
            }
            _ => held.push(stream),
        }
    }
    assert_eq!(capped.as_deref(), Some("HTTP/1.1 429"), "a connection over the cap is refused");
    assert_eq!(held.len(), 4);
    let mut last = counts();
    assert!(
        eventually(Duration::from_secs(10), || {
            last = counts();
            last.0 == after_logins + 1.0
        }),
        "the acceptor's 429 counts as rate limited: {last:?}"
    );
    assert_eq!(last.2, client_errors + 7.0, "five 401s, the limiter's 429 and the acceptor's: {last:?}");
    drop(held);
}
