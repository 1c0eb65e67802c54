//! One's own account: changing the password, the list of sessions (devices) and signing them
//! out; and single sign-on by a trusted proxy's header, ignored from anyone else.

use crate::util::*;
use serde_json::json;
use std::time::Duration;

fn password_hash(server: &Server, id: &str) -> String {
    open_db(server.data.path(), "users.db")
        .query_row("SELECT password_hash FROM users WHERE id = ?1", [id], |r| r.get(0))
        .unwrap()
}

fn sessions_of(server: &Server, id: &str) -> i64 {
    open_db(server.data.path(), "users.db")
        .query_row("SELECT count(*) FROM sessions WHERE user_id = ?1", [id], |r| r.get(0))
        .unwrap()
}

#[test]
fn changing_the_password_needs_the_current_one_and_ends_the_other_sessions() {
    let server = Server::start(&[]);
    let (mut laptop, id) = user(&server, "alice");
    let mut phone = server.client();
    assert_eq!(phone.login("alice", "alice-password").status, 303);
    let mut phone_socket = phone.ws(&format!("/ws/global/{id}"));
    let before = password_hash(&server, &id);

    // A wrong current password: refused, and nothing changes — the hash, the sessions, the
    // other device's socket.
    let wrong = laptop.post_json("/api/account/password", &json!({"current": "not-it", "new": "new password 1"}));
    assert_eq!((wrong.status, wrong.error().as_str()), (403, "the current password is wrong"));
    let missing = laptop.post_json("/api/account/password", &json!({"new": "new password 1"}));
    assert_eq!(missing.status, 403);
    assert_eq!(password_hash(&server, &id), before);
    assert_eq!(sessions_of(&server, &id), 2);
    assert_eq!(phone.get("/api/me").status, 200);
    phone_socket.expect_silence(Duration::from_millis(300));
    // A new password that breaks the rules is refused before anything is checked.
    let short = laptop.post_json("/api/account/password", &json!({"current": "alice-password", "new": "short"}));
    assert_eq!(short.status, 400);
    assert_eq!(password_hash(&server, &id), before);

    let changed =
        laptop.post_json("/api/account/password", &json!({"current": "alice-password", "new": "new password 1"}));
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(changed.json()["ended_sessions"], 1);
    assert_eq!(phone_socket.ended(Duration::from_secs(10)), Ended::Closed(4401));
    assert_eq!(phone.get("/api/me").status, 401);
    assert_eq!(laptop.get("/api/me").status, 200, "this device stays signed in");
    assert_eq!(sessions_of(&server, &id), 1);
    assert_eq!(server.client().login("alice", "alice-password").status, 401);
    assert_eq!(server.client().login("alice", "new password 1").status, 303);
}

#[test]
fn wrong_current_passwords_spend_the_login_budget() {
    let server = Server::start(&[]);
    let (mut alice, _) = user(&server, "alice");
    let statuses: Vec<u16> = (0..7)
        .map(|_| alice.post_json("/api/account/password", &json!({"current": "guess", "new": "new password 1"})).status)
        .collect();
    assert_eq!(&statuses[..5], &[403; 5]);
    assert_eq!(statuses[6], 429, "a stolen session guesses no faster than a login: {statuses:?}");
    let right =
        alice.post_json("/api/account/password", &json!({"current": "alice-password", "new": "new password 1"}));
    assert_eq!(right.status, 429, "the budget is spent for everyone, right password included");
}

#[test]
fn the_sessions_list_shows_each_device_and_signs_them_out() {
    let server = Server::start(&[]);
    let (mut laptop, id) = user(&server, "alice");
    let mut phone = server.client();
    let agent = format!("Mozilla/5.0 (Linux; Android 14) Firefox/130.0 {}", "x".repeat(500));
    phone.extra_headers.push(("User-Agent".into(), agent.clone()));
    assert_eq!(phone.login("alice", "alice-password").status, 303);
    let mut tablet = server.client();
    assert_eq!(tablet.login("alice", "alice-password").status, 303);
    let (mut bob, _) = user(&server, "bob");

    let sessions = laptop.get_json("/api/account/sessions");
    let sessions = sessions.as_array().unwrap();
    assert_eq!(sessions.len(), 3, "{sessions:?}");
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    let phone_entry =
        sessions.iter().find(|s| s["user_agent"].as_str().is_some_and(|a| a.contains("Android"))).unwrap();
    assert_eq!(phone_entry["user_agent"].as_str().unwrap().chars().count(), 256, "the user agent is cut to 256");
    assert_eq!(phone_entry["address"], "127.0.0.1");
    assert!(phone_entry["created_at"].as_str().unwrap().ends_with('Z'));
    let phone_id = phone_entry["id"].as_str().unwrap().to_string();
    assert!(!phone_id.is_empty() && phone_id.len() < 64, "not the token, nor its hash");

    // Someone else's session id is unknown to bob: 404, and it stays signed in.
    assert_eq!(bob.delete(&format!("/api/account/sessions/{phone_id}")).status, 404);
    assert_eq!(phone.get("/api/me").status, 200);
    let mut socket = phone.ws(&format!("/ws/global/{id}"));
    assert_eq!(laptop.delete(&format!("/api/account/sessions/{phone_id}")).status, 200);
    assert_eq!(socket.ended(Duration::from_secs(10)), Ended::Closed(4401));
    assert_eq!(phone.get("/api/me").status, 401);
    assert_eq!(tablet.get("/api/me").status, 200);
    assert_eq!(sessions_of(&server, &id), 2);
    // Everywhere else.
    let ended = laptop.request("POST", "/api/account/sessions/end-others", &[], b"");
    assert_eq!(ended.json()["ended"], 1);
    assert_eq!(tablet.get("/api/me").status, 401);
    assert_eq!(laptop.get("/api/me").status, 200);
    assert_eq!(laptop.get_json("/api/account/sessions").as_array().unwrap().len(), 1);
    assert_eq!(bob.get("/api/me").status, 200, "nobody else's sessions");
    assert_eq!(server.client().get("/api/account/sessions").status, 401);
}

#[test]
fn a_trusted_proxy_signs_users_in_by_header_and_nobody_else_can() {
    let server = Server::start(&["--auth-header", "Remote-User", "--trusted-proxies", "127.0.0.1"]);
    let mut proxy = server.client();
    proxy.extra_headers.push(("Remote-User".into(), "dave".into()));
    // First sight: an account is made (the first, so the administrator), and used.
    let me = proxy.get_json("/api/me");
    assert_eq!(me["name"], "dave");
    let dave = me["id"].as_str().unwrap().to_string();
    assert_eq!(proxy.get("/").status, 303, "signed in: straight to the app");
    assert_eq!(proxy.get_json("/api/account")["single_sign_on"], true);
    let _socket = proxy.ws(&format!("/ws/global/{dave}"));
    assert!(proxy.session_cookie().is_none(), "no session: the proxy vouches for every request");
    let has_password: Option<String> = open_db(server.data.path(), "users.db")
        .query_row("SELECT password_hash FROM users WHERE id = ?1", [&dave], |r| r.get(0))
        .unwrap();
    assert_eq!(has_password, None, "no password to guess");
    // The same name again is the same account.
    assert_eq!(proxy.get_json("/api/me")["id"], *dave);

    // The same header from a peer that is not a trusted proxy is ignored: no user, no account.
    let mut stranger = server.client();
    stranger.from = Some([127, 0, 0, 2].into());
    stranger.extra_headers.push(("Remote-User".into(), "dave".into()));
    assert_eq!(stranger.get("/api/me").status, 401);
    assert_eq!(stranger.try_ws(&format!("/ws/global/{dave}")).err(), Some(401));
    stranger.extra_headers = vec![("Remote-User".into(), "mallory".into())];
    assert_eq!(stranger.get("/api/me").status, 401);
    let users: i64 =
        open_db(server.data.path(), "users.db").query_row("SELECT count(*) FROM users", [], |r| r.get(0)).unwrap();
    assert_eq!(users, 1, "nothing was made for the stranger");

    // Names follow the same rules as registration; a disabled account is refused.
    let mut odd = server.client();
    odd.extra_headers.push(("Remote-User".into(), "e\u{200b}ve".into()));
    assert_eq!(odd.get("/api/me").status, 400);
    let mut erin = server.client();
    erin.extra_headers.push(("Remote-User".into(), "erin".into()));
    let erin_id = erin.get_json("/api/me")["id"].as_str().unwrap().to_string();
    assert_eq!(proxy.request("POST", &format!("/api/admin/users/{erin_id}/disable"), &[], b"").status, 200);
    let refused = erin.get("/api/me");
    assert_eq!((refused.status, refused.error().as_str()), (403, "this account is disabled"));
}

#[test]
fn single_sign_on_makes_accounts_only_when_registration_allows() {
    let server = Server::start_in_mode(
        std::sync::Arc::new(TempDir::new("sso")),
        &["--auth-header", "X-Forwarded-User", "--trusted-proxies", "127.0.0.1"],
    );
    let mut first = server.client();
    first.extra_headers.push(("X-Forwarded-User".into(), "root".into()));
    assert_eq!(first.get_json("/api/account")["is_admin"], true, "the first account, as ever");
    let mut second = server.client();
    second.extra_headers.push(("X-Forwarded-User".into(), "bob".into()));
    let refused = second.get("/api/me");
    assert_eq!(refused.status, 403, "invite-only: a header brings no invitation");
    let users: i64 =
        open_db(server.data.path(), "users.db").query_row("SELECT count(*) FROM users", [], |r| r.get(0)).unwrap();
    assert_eq!(users, 1);
}
