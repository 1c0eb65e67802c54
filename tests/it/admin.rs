//! Household administration: the first admin, `mychat admin` beside a running server, the
//! registration modes, invitations, one-time login links, disabling, the last-admin rule,
//! deleting an account, the audit log, and the authorization sweep of every admin endpoint.
//! Every refusal checks the files: nothing written, no invitation used, no session made.

use crate::util::*;
use serde_json::{Value, json};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

const ROOT_PASSWORD: &str = "root-password";

/// A server with the registration mode of a new data directory (no flag unless `args` sets
/// one) and its first account, which is its administrator.
fn server_with_admin(args: &[&str]) -> (Server, Client) {
    let server = Server::start_in_mode(Arc::new(TempDir::new("admin")), args);
    let mut root = server.client();
    root.register("root", ROOT_PASSWORD);
    (server, root)
}

fn mychat_admin(server: &Server, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mychat"))
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(server.data.path())
        .output()
        .unwrap()
}

fn scalar(server: &Server, sql: &str) -> i64 {
    open_db(server.data.path(), "users.db").query_row(sql, [], |r| r.get(0)).unwrap()
}

fn users_named(server: &Server, name: &str) -> i64 {
    open_db(server.data.path(), "users.db")
        .query_row("SELECT count(*) FROM users WHERE name = ?1", [name], |r| r.get(0))
        .unwrap()
}

/// Registers through the form as a browser (with an invitation, if given); the response.
fn try_register(server: &Server, name: &str, invite: Option<&str>) -> (Client, Response) {
    let mut client = server.client();
    let password = format!("{name}-password");
    let mut fields = vec![("username", name), ("password", password.as_str())];
    if let Some(invite) = invite {
        fields.push(("invite", invite));
    }
    let response = client.post_form("/register", &fields);
    (client, response)
}

fn invite(admin: &mut Client, uses: i64) -> (String, String) {
    let made = admin.post_json("/api/admin/invites", &json!({"uses": uses, "hours": 24}));
    assert_eq!(made.status, 201, "{}", made.text());
    let made = made.json();
    let url = made["url"].as_str().unwrap().to_string();
    let token = url.split("invite=").nth(1).unwrap().split('#').next().unwrap().to_string();
    (made["invite"]["id"].as_str().unwrap().to_string(), token)
}

/// Writes to the server's files as `mychat admin` or an administrator with sqlite3 would:
/// beside the running server.
fn write_db(server: &Server, sql: &str) {
    let db = rusqlite::Connection::open(server.data.path().join("users.db")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    db.execute_batch(sql).unwrap();
}

#[test]
fn the_first_account_is_the_admin_and_a_new_server_is_invite_only() {
    let (server, mut root) = server_with_admin(&[]);
    assert_eq!(root.get_json("/api/account")["is_admin"], true);
    assert_eq!(
        root.get_json("/api/admin/registration"),
        json!({"mode": "invite", "stored": "invite", "overridden": false})
    );
    // The login page says why there is no registration form.
    let page = server.client().get("/");
    assert!(page.text().contains("New accounts need an invitation."), "{}", page.text());
    assert!(page.text().contains("id=\"register-form\" hidden"), "the form is hidden");
    // A second account needs an invitation: refused, and nothing is stored.
    let (mut bob, refused) = try_register(&server, "bob", None);
    assert_eq!(refused.status, 403);
    assert!(refused.text().contains("New accounts need an invitation."), "{}", refused.text());
    assert!(bob.session_cookie().is_none());
    assert_eq!(bob.get("/api/me").status, 401);
    assert_eq!(users_named(&server, "bob"), 0);
    assert_eq!(scalar(&server, "SELECT count(*) FROM sessions"), 1, "root's session only");
    assert_eq!(scalar(&server, "SELECT count(*) FROM users WHERE is_admin = 1"), 1);
}

#[test]
fn a_migrated_install_stays_open_and_the_console_promotes_at_once() {
    let server = {
        let data = Arc::new(TempDir::new("legacy-admin"));
        copy_legacy_fixture(data.path());
        Server::start_in_mode(data, &[])
    };
    let mut alice = server.client();
    assert_eq!(alice.login("alice", "alice-pass-1").status, 303);
    assert_eq!(alice.get("/api/admin/users").status, 403, "no administrator yet");
    assert_eq!(alice.get("/admin").status, 403);
    // Registration stays open, as the original app had it; a new account is no admin.
    let (mut newcomer, made) = try_register(&server, "newcomer", None);
    assert_eq!(made.status, 303, "{}", made.text());
    assert_eq!(newcomer.get_json("/api/account")["is_admin"], false);

    // The console names the administrator while the server runs: the next request sees it.
    let out = mychat_admin(&server, &["promote", "alice"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("alice is an administrator now"));
    assert_eq!(alice.get("/api/admin/users").status, 200, "at once, no restart");
    assert_eq!(alice.get("/admin").status, 200);
    let list = mychat_admin(&server, &["list"]);
    let listing = String::from_utf8_lossy(&list.stdout);
    assert!(listing.lines().any(|l| l.starts_with("alice ") && l.contains("admin")), "{listing}");
    // The last administrator can't be demoted from the console either; nothing changes.
    let out = mychat_admin(&server, &["demote", "alice"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("last administrator"));
    assert_eq!(alice.get("/api/admin/users").status, 200);
    let audit = alice.get_json("/api/admin/audit");
    assert_eq!(audit.as_array().unwrap().len(), 1, "{audit}");
    assert_eq!((audit[0]["actor_name"].as_str(), audit[0]["action"].as_str()), (Some("console"), Some("promote")));
    assert_eq!(audit[0]["target_name"], "alice");
    // Demoting from the console works once there is another administrator.
    assert!(mychat_admin(&server, &["promote", "bob"]).status.success());
    assert!(mychat_admin(&server, &["demote", "alice"]).status.success());
    assert_eq!(alice.get("/api/admin/users").status, 403, "demoted at once");
    assert!(!mychat_admin(&server, &["promote", "nobody-here"]).status.success());
}

#[test]
fn registration_modes_and_the_flag_that_overrides_them() {
    // Closed, by flag: even the admin page can't open it while the flag is set.
    let (server, mut root) = server_with_admin(&["--registration", "closed"]);
    let (_, refused) = try_register(&server, "bob", None);
    assert_eq!(refused.status, 403);
    assert!(refused.text().contains("Registration is closed on this server."));
    assert_eq!(users_named(&server, "bob"), 0);
    let settings = root.post_json("/api/admin/registration", &json!({"mode": "open"})).json();
    assert_eq!(settings, json!({"mode": "closed", "stored": "open", "overridden": true}));
    let (_, still) = try_register(&server, "bob", None);
    assert_eq!(still.status, 403, "the flag wins");
    assert_eq!(users_named(&server, "bob"), 0);
    let (_, token) = invite(&mut root, 1);
    assert_eq!(try_register(&server, "bob", Some(&token)).1.status, 403, "closed: no invitation helps");
    assert_eq!(scalar(&server, "SELECT uses FROM invites"), 0, "the invitation was not used");
    drop(server);

    // Without the flag the stored mode applies, as the admin page sets it.
    let (server, mut root) = server_with_admin(&[]);
    assert_eq!(root.post_json("/api/admin/registration", &json!({"mode": "open"})).status, 200);
    assert_eq!(try_register(&server, "carol", None).1.status, 303, "open");
    assert_eq!(root.post_json("/api/admin/registration", &json!({"mode": "closed"})).status, 200);
    assert_eq!(try_register(&server, "dave", None).1.status, 403, "closed");
    let bad = root.post_json("/api/admin/registration", &json!({"mode": "sometimes"}));
    assert_eq!(bad.status, 400);
    assert_eq!(root.get_json("/api/admin/registration")["stored"], "closed", "a bad mode changes nothing");
    // The first account of an empty server registers whatever the mode.
    let empty = Server::start_in_mode(Arc::new(TempDir::new("closed")), &["--registration", "closed"]);
    let (mut first, made) = try_register(&empty, "first", None);
    assert_eq!(made.status, 303);
    assert_eq!(first.get_json("/api/account")["is_admin"], true);
}

#[test]
fn invitations_expire_run_out_and_can_be_revoked() {
    let (server, mut root) = server_with_admin(&[]);
    let (_, token) = invite(&mut root, 2);
    // The page opened from the link offers the form.
    let page = server.client().get(&format!("/?invite={token}"));
    assert!(page.text().contains(&format!("name=\"invite\" value=\"{token}\"")), "{}", page.text());
    assert!(!page.text().contains("id=\"register-form\" hidden"));
    assert_eq!(try_register(&server, "bob", Some(&token)).1.status, 303);
    // The API takes `?invite=` as well.
    let mut api = server.client();
    let made = api.request(
        "POST",
        &format!("/register?invite={token}"),
        &[("Accept", "application/json"), ("Content-Type", "application/x-www-form-urlencoded")],
        b"username=carol&password=carol-password",
    );
    assert_eq!(made.status, 303, "{}", made.text());
    // Used up: refused with the reason, nothing stored, no use counted.
    let (mut dave, used_up) = try_register(&server, "dave", Some(&token));
    assert_eq!(used_up.status, 403);
    assert!(used_up.text().contains("This invitation has been used up."), "{}", used_up.text());
    assert!(dave.session_cookie().is_none() && dave.get("/api/me").status == 401);
    assert_eq!(users_named(&server, "dave"), 0);
    assert_eq!(scalar(&server, "SELECT uses FROM invites"), 2);
    let listed = root.get_json("/api/admin/invites");
    assert_eq!((listed[0]["uses"].as_i64(), listed[0]["uses_left"].as_i64()), (Some(2), Some(0)), "{listed}");
    // A mistyped one, as a page and as JSON.
    let page = server.client().get("/?invite=0000");
    assert!(page.text().contains("This invitation is not valid"), "{}", page.text());
    let mut api = server.client();
    let bad = api.request(
        "POST",
        "/register",
        &[("Accept", "application/json"), ("Content-Type", "application/x-www-form-urlencoded")],
        format!("username=erin&password=erin-password&invite={}", "ab".repeat(32)).as_bytes(),
    );
    assert_eq!((bad.status, bad.error().as_str()), (403, "this invitation is not valid (mistyped, or revoked)"));
    assert_eq!(users_named(&server, "erin"), 0);
    // Expired (the clock moved on: its expiry is set to the past in the file).
    let (expiring, token2) = invite(&mut root, 5);
    write_db(&server, &format!("UPDATE invites SET expires_at = 1 WHERE id = '{expiring}'"));
    let (_, expired) = try_register(&server, "frank", Some(&token2));
    assert_eq!(expired.status, 403);
    assert!(expired.text().contains("This invitation has expired."));
    assert_eq!(users_named(&server, "frank"), 0);
    assert_eq!(scalar(&server, &format!("SELECT uses FROM invites WHERE id = '{expiring}'")), 0);
    // Revoked.
    let (revoked, token3) = invite(&mut root, 5);
    assert_eq!(root.delete(&format!("/api/admin/invites/{revoked}")).status, 200);
    assert_eq!(root.delete(&format!("/api/admin/invites/{revoked}")).status, 404);
    assert_eq!(try_register(&server, "gina", Some(&token3)).1.status, 403);
    assert_eq!(users_named(&server, "gina"), 0);
    // Bounds: uses and lifetime, and the number on file.
    for body in [json!({"uses": 0, "hours": 1}), json!({"uses": 101, "hours": 1}), json!({"uses": 1, "hours": 721})] {
        assert_eq!(root.post_json("/api/admin/invites", &body).status, 400, "{body}");
    }
    let on_file = scalar(&server, "SELECT count(*) FROM invites");
    for _ in on_file..100 {
        invite(&mut root, 1);
    }
    let full = root.post_json("/api/admin/invites", &json!({"uses": 1, "hours": 1}));
    assert_eq!(
        (full.status, full.error().as_str()),
        (409, "there are 100 invitations on file already: revoke some first")
    );
    assert_eq!(scalar(&server, "SELECT count(*) FROM invites"), 100);
}

/// Opens a login link as a fresh browser: the confirmation page, then its button.
fn open_link(server: &Server, url: &str) -> (Client, Response, Response) {
    let path = url.split_once("127.0.0.1").map(|(_, rest)| &rest[rest.find('/').unwrap()..]).unwrap();
    let token = path.split("token=").nth(1).unwrap().to_string();
    let mut phone = server.client();
    let page = phone.get(path);
    let signed = phone.post_form("/login-link", &[("token", &token)]);
    (phone, page, signed)
}

#[test]
fn login_links_sign_in_once_and_expire() {
    let (server, mut root) = server_with_admin(&["--registration", "open"]);
    let (mut bob, bob_id) = user(&server, "bob");
    let issued = root.request("POST", &format!("/api/admin/users/{bob_id}/login-link"), &[], b"");
    assert_eq!(issued.status, 201, "{}", issued.text());
    let link = issued.json();
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("http://{}/login-link?token=", server.addr)), "{url}");
    let qr = link["qr"].as_str().unwrap();
    assert!(qr.starts_with("data:image/svg+xml,%3Csvg") && qr.contains("h1v1h-1z"), "a QR code as SVG: {qr}");
    assert!(!server.log().contains(url.split("token=").nth(1).unwrap()), "the token is not in the log");

    let (mut phone, page, signed) = open_link(&server, url);
    assert_eq!(page.status, 200);
    assert!(page.text().contains("Sign in on this device as") && page.text().contains("<strong id=\"link-name\">bob"));
    assert_eq!(signed.status, 303);
    assert_eq!(signed.header("location"), Some("/settings"));
    assert_eq!(phone.me()["name"], "bob");
    let account = phone.get_json("/api/account");
    assert_eq!(account["may_reset_password"], true, "{account}");
    // A new password without the old one, once; bob's other session ends.
    let changed = phone.post_json("/api/account/password", &json!({"new": "a brand new password"}));
    assert_eq!(changed.status, 200, "{}", changed.text());
    assert_eq!(changed.json()["ended_sessions"], 1);
    assert_eq!(bob.get("/api/me").status, 401);
    assert_eq!(server.client().login("bob", "a brand new password").status, 303);
    let again = phone.post_json("/api/account/password", &json!({"new": "yet another password"}));
    assert_eq!(again.status, 403, "the reset window closed with the change: {}", again.text());

    // Single use: the same link again is refused, and signs nobody in.
    // (Pasted whole into the sign-in page's form, as in an installed app, it is recognised.)
    let pasted = server.client().get(&format!("/login-link?token={}", encode(&format!(" {url} "))));
    assert_eq!(pasted.status, 404, "the same answer as the link itself: used");
    assert!(pasted.text().contains("This sign-in link is not valid"));
    let (mut second, page, refused) = open_link(&server, url);
    assert_eq!(page.status, 404);
    assert!(page.text().contains("This sign-in link is not valid"));
    assert_eq!(refused.status, 404);
    assert!(second.session_cookie().is_none() && second.get("/api/me").status == 401);
    // Expired.
    let url = root.request("POST", &format!("/api/admin/users/{bob_id}/login-link"), &[], b"").json()["url"]
        .as_str()
        .unwrap()
        .to_string();
    write_db(&server, "UPDATE login_links SET expires_at = 1");
    let (mut late, page, refused) = open_link(&server, &url);
    assert_eq!((page.status, refused.status), (410, 410));
    assert!(page.text().contains("This sign-in link has expired."));
    assert!(late.get("/api/me").status == 401);
    // One link per account: a new one replaces the old.
    let first = root.request("POST", &format!("/api/admin/users/{bob_id}/login-link"), &[], b"").json();
    let second = root.request("POST", &format!("/api/admin/users/{bob_id}/login-link"), &[], b"").json();
    assert_eq!(scalar(&server, "SELECT count(*) FROM login_links"), 1);
    assert_eq!(open_link(&server, first["url"].as_str().unwrap()).2.status, 404, "replaced");
    let pasted = server.client().get(&format!("/login-link?token={}", encode(second["url"].as_str().unwrap())));
    assert!(
        pasted.text().contains("<strong id=\"link-name\">bob"),
        "a pasted link finds its account: {}",
        pasted.text()
    );
    // Whatever else is pasted is a link that is not valid, and signs nobody in.
    for junk in ["", "token=", "https://chat.example.org/login-link?token=not-hex", "hello there"] {
        let page = server.client().get(&format!("/login-link?token={}", encode(junk)));
        assert_eq!(page.status, 404, "{junk:?}");
        assert!(page.text().contains("This sign-in link is not valid"), "{junk:?}");
    }
    assert_eq!(open_link(&server, second["url"].as_str().unwrap()).2.status, 303);
}

#[test]
fn the_console_issues_a_login_link_that_a_running_server_honours() {
    let (server, _root) = server_with_admin(&[]);
    let out = mychat_admin(&server, &["login-link", "root", "--public-url", &format!("http://{}", server.addr)]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let url = text.split_whitespace().find(|w| w.contains("/login-link?token=")).unwrap().to_string();
    assert!(text.contains('█'), "a QR code for the terminal:\n{text}");
    let (mut phone, _, signed) = open_link(&server, &url);
    assert_eq!(signed.status, 303);
    assert_eq!(phone.get_json("/api/account")["is_admin"], true, "the locked-out admin is back in");
    let audit = phone.get_json("/api/admin/audit");
    assert_eq!((audit[0]["actor_name"].as_str(), audit[0]["action"].as_str()), (Some("console"), Some("login_link")));
}

#[test]
fn disabling_ends_sessions_closes_sockets_and_refuses_login() {
    let (server, mut root) = server_with_admin(&["--registration", "open"]);
    let (mut bob, bob_id) = user(&server, "bob");
    let (alice, alice_id) = user(&server, "alice");
    let mut global = bob.ws(&format!("/ws/global/{bob_id}"));
    let mut chat = bob.ws(&format!("/ws/{bob_id}/{alice_id}"));
    let mut watcher = alice.ws(&format!("/ws/global/{alice_id}"));
    let disabled = root.request("POST", &format!("/api/admin/users/{bob_id}/disable"), &[], b"");
    assert_eq!(disabled.status, 200, "{}", disabled.text());
    assert_eq!(disabled.json()["disabled"], true);
    assert_eq!(global.ended(Duration::from_secs(10)), Ended::Closed(4401));
    assert_eq!(chat.ended(Duration::from_secs(10)), Ended::Closed(4401));
    assert_eq!(bob.get("/api/me").status, 401);
    assert_eq!(scalar(&server, &format!("SELECT count(*) FROM sessions WHERE user_id = '{bob_id}'")), 0);
    assert_eq!(bob.try_ws(&format!("/ws/global/{bob_id}")).err(), Some(401));
    // The right password gets the reason; a wrong one says no more than for anyone.
    let mut again = server.client();
    let refused = again.login("bob", "bob-password");
    assert_eq!(refused.status, 403);
    assert!(refused.text().contains("This account is disabled."), "{}", refused.text());
    assert!(again.session_cookie().is_none());
    let wrong = again.login("bob", "not-bobs-password");
    assert_eq!(wrong.status, 401);
    assert!(wrong.text().contains("Wrong user name or password."));
    let mut api = server.client();
    let json = api.request(
        "POST",
        "/login",
        &[("Accept", "application/json"), ("Content-Type", "application/x-www-form-urlencoded")],
        b"username=bob&password=bob-password",
    );
    assert_eq!((json.status, json.error().as_str()), (403, "this account is disabled"));
    assert_eq!(scalar(&server, &format!("SELECT count(*) FROM sessions WHERE user_id = '{bob_id}'")), 0);
    // No login link for a disabled account.
    assert_eq!(root.request("POST", &format!("/api/admin/users/{bob_id}/login-link"), &[], b"").status, 409);
    assert_eq!(scalar(&server, "SELECT count(*) FROM login_links"), 0);
    // Presence: alice saw bob go offline.
    let offline = watcher.recv_where(Duration::from_secs(10), |f| {
        f["type"] == "presence"
            && f["users"].as_array().is_some_and(|u| u.iter().any(|u| u["id"] == *bob_id && u["online"] == false))
    });
    assert!(offline.is_some());
    // Enabled again, bob signs in.
    assert_eq!(root.request("POST", &format!("/api/admin/users/{bob_id}/enable"), &[], b"").status, 200);
    assert_eq!(server.client().login("bob", "bob-password").status, 303);
}

#[test]
fn the_last_admin_can_not_be_demoted_disabled_or_deleted() {
    let (server, mut root) = server_with_admin(&["--registration", "open"]);
    let root_id = root.me()["id"].as_str().unwrap().to_string();
    let (_, bob_id) = user(&server, "bob");
    for (method, path, message) in [
        (
            "POST",
            format!("/api/admin/users/{root_id}/demote"),
            "the last administrator can't be demoted; promote someone else first",
        ),
        ("POST", format!("/api/admin/users/{root_id}/disable"), "the last administrator can't be disabled"),
        ("DELETE", format!("/api/admin/users/{root_id}"), "the last administrator can't be deleted"),
    ] {
        let refused = root.request(method, &path, &[], b"");
        assert_eq!((refused.status, refused.error().as_str()), (409, message), "{method} {path}");
    }
    assert_eq!(scalar(&server, "SELECT count(*) FROM users WHERE is_admin = 1 AND disabled_at IS NULL"), 1);
    assert_eq!(scalar(&server, "SELECT count(*) FROM audit_log"), 0, "nothing happened");
    assert_eq!(root.get("/api/me").status, 200);
    // With a second administrator, the first may step down.
    assert_eq!(root.request("POST", &format!("/api/admin/users/{bob_id}/promote"), &[], b"").status, 200);
    assert_eq!(root.request("POST", &format!("/api/admin/users/{root_id}/demote"), &[], b"").status, 200);
    assert_eq!(root.get("/api/admin/users").status, 403);
}

#[test]
fn deleting_an_account_keeps_its_messages_and_hands_its_rooms_over() {
    let (server, mut root) = server_with_admin(&["--registration", "open"]);
    let (mut bob, bob_id) = user(&server, "bob");
    let (mut carol, carol_id) = user(&server, "carol");
    let (mut alice, alice_id) = user(&server, "alice");
    let shared =
        bob.post_json("/api/rooms/create", &json!({"name": "Garden"})).json()["id"].as_str().unwrap().to_string();
    for member in [&carol_id, &alice_id] {
        assert_eq!(bob.post_json(&format!("/api/rooms/{shared}/add_user"), &json!({"user_id": member})).status, 200);
    }
    let alone =
        bob.post_json("/api/rooms/create", &json!({"name": "Notes"})).json()["id"].as_str().unwrap().to_string();
    let mut room = bob.ws(&format!("/ws/room/{shared}/{bob_id}"));
    room.send("hello garden");
    room.recv_type("room_message");
    let mut private = bob.ws(&format!("/ws/{bob_id}/{alice_id}"));
    private.send("hello alice");
    private.recv_type("message");
    // A file bob uploaded (and never sent) goes with him.
    let upload = bob.request(
        "POST",
        &format!("/api/files?to=user:{alice_id}&name=bob.txt"),
        &[("Content-Type", "application/octet-stream")],
        b"bob's notes",
    );
    assert_eq!(upload.status, 201, "{}", upload.text());
    // Bob is an administrator too, with an invitation on file.
    assert_eq!(root.request("POST", &format!("/api/admin/users/{bob_id}/promote"), &[], b"").status, 200);
    invite(&mut bob, 3);
    let mut carol_global = carol.ws(&format!("/ws/global/{carol_id}"));

    assert_eq!(root.delete(&format!("/api/admin/users/{bob_id}")).status, 200);
    assert_eq!(room.ended(Duration::from_secs(10)), Ended::Closed(4401));
    assert_eq!(bob.get("/api/me").status, 401);
    assert_eq!(server.client().login("bob", "bob-password").status, 401);
    // What goes, in the files.
    let dir = server.data.path();
    let users = open_db(dir, "users.db");
    let count = |db: &rusqlite::Connection, sql: &str| -> i64 { db.query_row(sql, [&bob_id], |r| r.get(0)).unwrap() };
    assert_eq!(count(&users, "SELECT count(*) FROM users WHERE id = ?1"), 0);
    assert_eq!(count(&users, "SELECT count(*) FROM sessions WHERE user_id = ?1"), 0);
    assert_eq!(count(&users, "SELECT count(*) FROM invites WHERE created_by = ?1"), 0);
    assert_eq!(count(&users, "SELECT count(*) FROM deleted_users WHERE id = ?1"), 1);
    assert_eq!(
        count(&open_db(dir, "chathistory.db"), "SELECT count(*) FROM files WHERE uploader = ?1"),
        0,
        "his uploads go"
    );
    let rooms = open_db(dir, "rooms.db");
    assert_eq!(count(&rooms, "SELECT count(*) FROM room_members WHERE user_id = ?1"), 0);
    let creator: String =
        rooms.query_row("SELECT creator_id FROM rooms WHERE id = ?1", [&shared], |r| r.get(0)).unwrap();
    assert_eq!(creator, carol_id, "the longest-standing other member");
    let notes: i64 = rooms.query_row("SELECT count(*) FROM rooms WHERE id = ?1", [&alone], |r| r.get(0)).unwrap();
    assert_eq!(notes, 0, "a room with no other member is deleted");
    // What stays: the messages, from "deleted account".
    assert_eq!(count(&rooms, "SELECT count(*) FROM room_messages WHERE sender_id = ?1"), 1);
    assert_eq!(count(&open_db(dir, "chathistory.db"), "SELECT count(*) FROM messages WHERE sender = ?1"), 1);
    let history = carol.get_json(&format!("/api/rooms/{shared}/history"));
    assert_eq!(
        (history[0]["user"].as_str(), history[0]["text"].as_str()),
        (Some("deleted account"), Some("hello garden"))
    );
    let private = alice.get_json(&format!("/api/history/{alice_id}/{bob_id}"));
    assert_eq!(
        (private[0]["sender"].as_str(), private[0]["text"].as_str()),
        (Some("deleted account"), Some("hello alice"))
    );
    let chats = alice.get_json("/api/chats");
    assert!(chats.as_array().unwrap().iter().any(|c| c["name"] == "deleted account"), "{chats}");
    // Carol owns the room now, and was told.
    let updated = carol_global.recv_where(Duration::from_secs(10), |f| f["type"] == "room_updated");
    assert_eq!(updated.unwrap()["room"]["creator_id"], *carol_id);
    assert_eq!(carol.post_json(&format!("/api/rooms/{shared}/remove_user"), &json!({"user_id": alice_id})).status, 200);
    assert!(root.get_json("/api/users").as_array().unwrap().iter().all(|u| u["id"] != *bob_id));
    // The name is free again; the new account is someone else.
    let (_, new_bob) = user(&server, "bob");
    assert_ne!(new_bob, bob_id);
    let audit = root.get_json("/api/admin/audit");
    assert_eq!((audit[0]["action"].as_str(), audit[0]["target_name"].as_str()), (Some("delete"), Some("bob")));
    assert_eq!(root.delete(&format!("/api/admin/users/{bob_id}")).status, 404);
}

#[test]
fn the_audit_log_records_who_did_what_to_whom_and_pages() {
    let (server, mut root) = server_with_admin(&["--registration", "open"]);
    let (_, bob_id) = user(&server, "bob");
    for action in ["promote", "demote", "disable", "enable"] {
        assert_eq!(root.request("POST", &format!("/api/admin/users/{bob_id}/{action}"), &[], b"").status, 200);
    }
    let (invite_id, _) = invite(&mut root, 1);
    root.delete(&format!("/api/admin/invites/{invite_id}"));
    root.post_json("/api/admin/registration", &json!({"mode": "closed"}));
    let all = root.get_json("/api/admin/audit");
    let actions: Vec<&str> = all.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["registration", "revoke_invite", "invite", "enable", "disable", "demote", "promote"]);
    assert!(
        all.as_array().unwrap().iter().all(|e| e["actor_name"] == "root" && e["at"].as_str().unwrap().ends_with('Z'))
    );
    assert_eq!(all[6]["target_id"], *bob_id);
    assert_eq!(all[0]["detail"], "closed");
    let page = root.get_json("/api/admin/audit?limit=3");
    assert_eq!(page.as_array().unwrap().len(), 3);
    let before = page[2]["id"].as_i64().unwrap();
    let next = root.get_json(&format!("/api/admin/audit?before={before}&limit=3"));
    assert_eq!(next[0]["action"], "enable");
    assert_eq!(root.get("/api/admin/audit?limit=201").status, 400);
    // Repeating a change that changes nothing writes no entry.
    root.request("POST", &format!("/api/admin/users/{bob_id}/enable"), &[], b"");
    assert_eq!(root.get_json("/api/admin/audit").as_array().unwrap().len(), 7);
}

/// What an admin endpoint could change, read from the files.
fn state(server: &Server) -> String {
    let users = open_db(server.data.path(), "users.db");
    let dump = |sql: &str| -> Vec<String> {
        let mut stmt = users.prepare(sql).unwrap();
        let columns = stmt.column_count();
        stmt.query_map([], |r| {
            Ok((0..columns).map(|i| format!("{:?}", r.get_ref(i).unwrap())).collect::<Vec<_>>().join("|"))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        dump("SELECT id, name, is_admin, disabled_at, password_hash FROM users ORDER BY rowid"),
        dump("SELECT id, uses, max_uses, expires_at FROM invites ORDER BY id"),
        dump("SELECT user_id, token_hash FROM login_links"),
        dump("SELECT id, action FROM audit_log ORDER BY id"),
        dump("SELECT key, value FROM settings"),
        dump("SELECT token_hash, user_id FROM sessions ORDER BY token_hash"),
        dump("SELECT id FROM deleted_users"),
    )
}

#[test]
fn every_admin_endpoint_refuses_everyone_but_admins_and_changes_nothing() {
    let (server, mut root) = server_with_admin(&["--registration", "open"]);
    let root_id = root.me()["id"].as_str().unwrap().to_string();
    let (mut member, member_id) = user(&server, "member");
    let (mut disabled, disabled_id) = user(&server, "dora");
    let (mut fallen, fallen_id) = user(&server, "eve");
    root.request("POST", &format!("/api/admin/users/{fallen_id}/promote"), &[], b"");
    root.request("POST", &format!("/api/admin/users/{disabled_id}/disable"), &[], b"");
    root.request("POST", &format!("/api/admin/users/{fallen_id}/disable"), &[], b"");
    let (invite_id, _) = invite(&mut root, 1);
    let mut nobody = server.client();
    let endpoints: Vec<(&str, String, Value)> = vec![
        ("GET", "/api/admin/users".into(), Value::Null),
        ("GET", "/api/admin/users?after=1&limit=5".into(), Value::Null),
        ("POST", format!("/api/admin/users/{member_id}/promote"), Value::Null),
        ("POST", format!("/api/admin/users/{root_id}/demote"), Value::Null),
        ("POST", format!("/api/admin/users/{root_id}/disable"), Value::Null),
        ("POST", format!("/api/admin/users/{disabled_id}/enable"), Value::Null),
        ("POST", format!("/api/admin/users/{root_id}/login-link"), Value::Null),
        ("DELETE", format!("/api/admin/users/{root_id}"), Value::Null),
        ("GET", "/api/admin/invites".into(), Value::Null),
        ("POST", "/api/admin/invites".into(), json!({"uses": 5, "hours": 24})),
        ("DELETE", format!("/api/admin/invites/{invite_id}"), Value::Null),
        ("GET", "/api/admin/registration".into(), Value::Null),
        ("POST", "/api/admin/registration".into(), json!({"mode": "closed"})),
        ("GET", "/api/admin/audit".into(), Value::Null),
        ("GET", "/api/admin/audit?before=5".into(), Value::Null),
        ("GET", "/api/admin/files".into(), Value::Null),
    ];
    let before = state(&server);
    for (who, client, expected) in [
        ("a member", &mut member, 403),
        ("a disabled user", &mut disabled, 401),
        ("a disabled admin", &mut fallen, 401),
        ("no session", &mut nobody, 401),
    ] {
        for (method, path, body) in &endpoints {
            let response = match body {
                Value::Null => client.request(method, path, &[], b""),
                body => client.post_json(path, body),
            };
            assert_eq!(response.status, expected, "{who}: {method} {path}: {}", response.text());
            let error = response.error();
            assert!(error == "administrators only" || error == "not logged in", "{who}: {method} {path}: {error}");
        }
        // The page too: 403 for a member, the login page for anyone without a session.
        let page = client.get("/admin");
        assert_eq!(page.status, if expected == 403 { 403 } else { 303 }, "{who}: /admin");
    }
    assert_eq!(state(&server), before, "nothing changed");
    assert_eq!(member.get_json("/api/account")["is_admin"], false);
    assert!(member.get("/index").text().contains("aria-label=\"Administration\" hidden>"), "no link for members");
    assert!(root.get("/index").text().contains("aria-label=\"Administration\" >"), "a link for admins");
}

#[test]
fn the_console_works_on_a_directory_no_server_has_opened_yet() {
    let data = TempDir::new("console-legacy");
    copy_legacy_fixture(data.path());
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_mychat"))
            .arg("admin")
            .args(args)
            .arg("--data-dir")
            .arg(data.path())
            .output()
            .unwrap()
    };
    // The original app's files: migrated first (with the undo copy), then changed.
    let out = run(&["promote", "ALICE"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(data.path().join("pre-migration/users.db").exists());
    let admins: i64 = open_db(data.path(), "users.db")
        .query_row("SELECT count(*) FROM users WHERE is_admin = 1 AND name = 'alice'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(admins, 1, "found case-insensitively, as a login finds it");
    let missing = run(&["list"]);
    assert!(missing.status.success());
    let empty = TempDir::new("console-empty");
    let out = Command::new(env!("CARGO_BIN_EXE_mychat"))
        .args(["admin", "list", "--data-dir"])
        .arg(empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no users.db"));
}
