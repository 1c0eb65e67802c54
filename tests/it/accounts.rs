//! Registration, login, sessions and logout.

use crate::util::*;
use std::time::Duration;

#[test]
fn register_sets_session_and_readable_user_id_cookies() {
    let server = Server::start(&[]);
    let mut client = server.client();
    let response = client.post_form("/register", &[("username", "  alice  "), ("password", "correct horse")]);
    assert_eq!(response.status, 303);
    assert_eq!(response.header("location"), Some("/index"));
    let cookies = response.headers_named("set-cookie");
    let session = cookies.iter().find(|c| c.starts_with("mychat_session=")).expect("session cookie");
    assert!(
        session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Max-Age="),
        "{session}"
    );
    assert!(!session.contains("Secure"), "plain HTTP: no Secure flag");
    let token = session.split(';').next().unwrap().trim_start_matches("mychat_session=");
    assert_eq!(token.len(), 64, "256-bit token as hex");
    let user_id = cookies.iter().find(|c| c.starts_with("user_id=")).expect("user_id cookie");
    assert!(!user_id.contains("HttpOnly"), "user_id is readable by scripts: {user_id}");
    let me = client.me();
    assert_eq!(me["name"], "alice", "the name is trimmed");
    assert_eq!(user_id.split(';').next().unwrap(), format!("user_id={}", me["id"].as_str().unwrap()));
    assert_eq!(client.get("/").status, 303, "a logged-in user goes straight to the app");
    assert_eq!(client.get("/index").status, 200);
}

#[test]
fn duplicate_names_conflict_case_insensitively() {
    let server = Server::start(&[]);
    server.client().register("Bob", "bob-password");
    let mut api = server.client();
    let response = api.request(
        "POST",
        "/register",
        &[("Accept", "application/json"), ("Content-Type", "application/x-www-form-urlencoded")],
        b"username=bob&password=another-password",
    );
    assert_eq!(response.status, 409);
    assert_eq!(response.error(), "that user name is taken");
    let mut browser = server.client();
    let page = browser.post_form("/register", &[("username", "BOB"), ("password", "another-password")]);
    assert_eq!(page.status, 409);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text().contains("That user name is taken."), "{}", page.text());
    assert!(browser.session_cookie().is_none());
}

#[test]
fn wrong_password_is_401_with_a_clear_message() {
    let server = Server::start(&[]);
    server.client().register("carol", "carol-password");
    let mut browser = server.client();
    let page = browser.login("carol", "not-her-password");
    assert_eq!(page.status, 401);
    assert!(page.text().contains("Wrong user name or password."));
    let mut api = server.client();
    let response = api.request(
        "POST",
        "/login",
        &[("Accept", "application/json"), ("Content-Type", "application/x-www-form-urlencoded")],
        b"username=nobody&password=whatever-it-is",
    );
    assert_eq!(response.status, 401);
    assert_eq!(response.error(), "wrong user name or password");
    let ok = browser.login("carol", "carol-password");
    assert_eq!(ok.status, 303);
    assert_eq!(browser.me()["name"], "carol");
}

#[test]
fn russian_browsers_read_russian_errors() {
    let server = Server::start(&[]);
    let mut browser = server.client();
    browser.extra_headers.push(("Accept-Language".into(), "ru-RU,ru;q=0.9,en;q=0.5".into()));
    let page = browser.login("nobody", "whatever-it-is");
    assert_eq!(page.status, 401);
    assert!(page.text().contains("Неверное имя пользователя или пароль."), "{}", page.text());
    assert!(page.text().contains("lang=\"ru\""));
}

#[test]
fn name_and_password_rules() {
    let server = Server::start(&[]);
    let mut api = server.client();
    api.extra_headers.push(("Accept".into(), "application/json".into()));
    let long_name = "x".repeat(33);
    let long_password = "p".repeat(1025);
    let cases: [(&str, &str, &str); 5] = [
        ("   ", "long enough", "user name must be 1 to 32 characters"),
        (&long_name, "long enough", "user name must be 1 to 32 characters"),
        ("bad\u{7}name", "long enough", "user name must not contain control characters"),
        ("dave", "short", "password must be 8 to 1024 characters"),
        ("dave", &long_password, "password must be 8 to 1024 characters"),
    ];
    for (name, password, error) in cases {
        let response = api.post_form("/register", &[("username", name), ("password", password)]);
        assert_eq!(response.status, 400, "{name:?}");
        assert_eq!(response.error(), error);
    }
    // 32 Cyrillic characters are 64 bytes but within the limit.
    let mut ok = server.client();
    ok.register(&"я".repeat(32), "long enough");
}

#[test]
fn logout_needs_a_post_and_makes_the_old_cookie_useless() {
    let server = Server::start(&[]);
    let mut client = server.client();
    client.register("erin", "erin-password");
    let stolen = client.clone();
    let page = client.get("/logout");
    assert_eq!(page.status, 200, "GET only shows a confirmation page");
    assert!(page.text().contains("method=\"post\" action=\"/logout\""));
    assert_eq!(client.get("/api/me").status, 200, "still logged in");
    let id = client.me()["id"].as_str().unwrap().to_string();
    let mut global = client.ws(&format!("/ws/global/{id}"));
    let response = client.post_form("/logout", &[]);
    assert_eq!(response.status, 303);
    assert_eq!(response.header("location"), Some("/"));
    assert_eq!(client.get("/api/me").status, 401);
    let mut replay = stolen;
    assert_eq!(replay.get("/api/me").status, 401, "the old cookie is useless");
    assert_eq!(replay.get("/index").status, 303);
    assert_eq!(global.ended(Duration::from_secs(5)), Ended::Closed(4401), "the session's sockets close");
}

#[test]
fn sessions_and_users_survive_a_restart() {
    let mut server = Server::start(&[]);
    let mut client = server.client();
    let id = client.register("frank", "frank-password");
    server.restart();
    assert_eq!(client.me()["id"], id.as_str(), "the session cookie still works");
    let mut again = server.client();
    assert_eq!(again.login("frank", "frank-password").status, 303);
}

#[test]
fn expired_sessions_are_refused_and_removed() {
    // Wide margins both ways: the first use comes well within 3 s of the login, and the
    // second after 6 s, past the limit however slow the machine.
    let mut server = Server::start(&["--session-idle", "3s"]);
    let mut client = server.client();
    client.register("gina", "gina-password");
    server.client().register("hal", "hal-password");
    assert_eq!(client.get("/api/me").status, 200);
    std::thread::sleep(Duration::from_secs(6));
    assert_eq!(client.get("/api/me").status, 401, "idle longer than --session-idle");
    // Hal's session was never used again; the housekeeping at start-up removes it from the file.
    server.restart();
    assert!(server.client().get("/healthz").status == 200);
    server.stop();
    let sessions: i64 =
        open_db(server.data.path(), "users.db").query_row("SELECT count(*) FROM sessions", [], |r| r.get(0)).unwrap();
    assert_eq!(sessions, 0, "no expired session is left in users.db");
}

#[test]
fn sessions_end_at_their_lifetime_however_busy() {
    // Used every second (never idle), yet it ends at its lifetime. Wide margins: the uses
    // fall in the first half of the 6 s lifetime, the refusal comes after twice that.
    let server = Server::start(&["--session-lifetime", "6s", "--session-idle", "1d"]);
    let mut client = server.client();
    client.register("ursula", "ursula-password");
    for _ in 0..3 {
        assert_eq!(client.get("/api/me").status, 200, "in use and within its lifetime");
        std::thread::sleep(Duration::from_secs(1));
    }
    std::thread::sleep(Duration::from_secs(9));
    assert_eq!(client.get("/api/me").status, 401, "past --session-lifetime");
}

#[test]
fn logs_never_show_passwords_or_tokens() {
    let server = Server::start(&["--log", "debug"]);
    let mut client = server.client();
    client.register("hank", "super-secret-pw");
    client.login("hank", "super-secret-pw");
    client.login("hank", "wrong-secret-pw");
    let token = client.session_cookie().unwrap().clone();
    client.get("/api/me");
    let log = server.log();
    assert!(log.contains("registered user hank"), "{log}");
    for secret in ["super-secret-pw", "wrong-secret-pw", token.as_str()] {
        assert!(!log.contains(secret), "{secret} leaked into the log");
    }
}
