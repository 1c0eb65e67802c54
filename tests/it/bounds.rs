//! Bounds on what a client, an address or an account can make the server hold or refuse
//! others (issue 11): silent connections, login floods, lock-outs, names, cookies, sessions,
//! and the data directory's safety (interrupted migrations, a second server, lost files).

use crate::util::*;
use std::time::Duration;

const SECOND: Duration = Duration::from_secs(1);

fn json_client(server: &Server) -> Client {
    let mut client = server.client();
    client.extra_headers.push(("Accept".into(), "application/json".into()));
    client
}

#[test]
fn behind_tls_only_the_host_prefixed_cookie_authenticates() {
    let server = Server::start(&["--behind-tls", "on"]);
    let (mut attacker, attacker_id) = user(&server, "mallory");
    let token = attacker.cookies.get("__Host-mychat_session").expect("a __Host- cookie over TLS").clone();
    assert_eq!(attacker.me()["id"], attacker_id.as_str());
    // A sibling subdomain can set a plain `mychat_session` cookie on the victim's browser
    // (cookie tossing): it must not log the victim in as the attacker.
    let mut victim = json_client(&server);
    victim.cookies.insert("mychat_session".into(), token.clone());
    let me = victim.get("/api/me");
    assert_eq!(me.status, 401, "a tossed plain cookie is ignored: {}", me.text());
    assert_eq!(victim.try_ws(&format!("/ws/global/{attacker_id}")).err(), Some(401), "nor for a WebSocket");
    assert_eq!(victim.get("/").status, 200, "the login page, not the attacker's app");
    // With the victim's own __Host- cookie beside a tossed one, the victim stays themself.
    let (victim_user, victim_id) = user(&server, "victim");
    let mut both = victim_user.clone();
    both.cookies.insert("mychat_session".into(), token);
    assert_eq!(both.me()["id"], victim_id.as_str());
    // Over plain HTTP the plain cookie is the session cookie, as before.
    let plain = Server::start(&[]);
    let (mut alice, alice_id) = user(&plain, "alice");
    assert!(alice.cookies.contains_key("mychat_session"));
    assert_eq!(alice.me()["id"], alice_id.as_str());
}
