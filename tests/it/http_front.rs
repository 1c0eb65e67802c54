//! The HTTP front: keep-alive, HEAD, Expect, static files, limits and malformed requests,
//! each answered with the right status while the worker goes on serving.

use crate::util::*;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn raw(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream
}

/// Sends raw bytes on a new connection and reads one response.
fn send_raw(server: &Server, bytes: &[u8]) -> Response {
    let mut stream = raw(server);
    stream.write_all(bytes).unwrap();
    read_response(&mut stream).unwrap()
}

fn still_serving(server: &Server) {
    assert_eq!(server.client().get("/healthz").status, 200, "the server keeps serving");
}

#[test]
fn keep_alive_and_pipelining_on_one_connection() {
    let server = Server::start(&[]);
    let mut stream = raw(&server);
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let first = read_response(&mut stream).unwrap();
    assert_eq!(first.status, 200);
    assert_eq!(first.header("connection"), Some("keep-alive"));
    // Two pipelined requests in one write.
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    assert_eq!(read_response(&mut stream).unwrap().status, 200);
    assert_eq!(read_response(&mut stream).unwrap().status, 404);
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let last = read_response(&mut stream).unwrap();
    assert_eq!(last.header("connection"), Some("close"));
    let mut rest = Vec::new();
    assert_eq!(stream.read_to_end(&mut rest).unwrap(), 0, "closed after Connection: close");
}

#[test]
fn head_expect_and_method_errors() {
    let server = Server::start(&[]);
    let mut stream = raw(&server);
    stream.write_all(b"HEAD /static/favicon.svg HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut all = String::new();
    stream.read_to_string(&mut all).unwrap();
    assert!(all.starts_with("HTTP/1.1 200 OK\r\n"), "{all}");
    assert!(!all.contains("content-length: 0\r\n") && all.contains("content-length: "), "{all}");
    assert!(all.ends_with("\r\n\r\n"), "HEAD has no body: {all}");

    let mut stream = raw(&server);
    stream
        .write_all(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 29\r\nExpect: 100-continue\r\n\r\n")
        .unwrap();
    let mut interim = [0u8; 25];
    stream.read_exact(&mut interim).unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    stream.write_all(b"username=zed&password=secret1").unwrap();
    assert_eq!(read_response(&mut stream).unwrap().status, 401);

    let wrong = server.client().request("PUT", "/api/users", &[], b"");
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("GET, HEAD"));
    assert_eq!(wrong.error(), "method not allowed (allowed: GET, HEAD)");
}

#[test]
fn unknown_paths_are_404_json_for_the_api_and_a_page_for_browsers() {
    let server = Server::start(&[]);
    let api = server.client().get("/api/nothing/here");
    assert_eq!(api.status, 404);
    assert_eq!(api.header("content-type"), Some("application/json"));
    assert_eq!(api.error(), "no such page");
    let page = server.client().get("/nothing-here");
    assert_eq!(page.status, 404);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert_eq!(server.client().get("/static/../Cargo.toml").status, 404);
    assert_eq!(server.client().get("/static/nope.css").status, 404);
}

#[test]
fn oversized_heads_and_bodies() {
    let server = Server::start(&[]);
    let big_header = format!("GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(17 * 1024));
    let response = send_raw(&server, big_header.as_bytes());
    assert_eq!(response.status, 431);
    assert_eq!(response.error(), "request headers too large");

    let mut stream = raw(&server);
    stream
        .write_all(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\nExpect: 100-continue\r\n\r\n")
        .unwrap();
    let response = read_response(&mut stream).unwrap();
    assert_eq!(response.status, 413, "refused before any body is sent (no 100 Continue)");

    let chunked = send_raw(
        &server,
        b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    assert_eq!(chunked.status, 411);
    still_serving(&server);
}

#[test]
fn malformed_requests_get_400() {
    let server = Server::start(&[]);
    for bad in [
        &b"GARBAGE\r\n\r\n"[..],
        b"GET /\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad Header Line\r\n\r\n",
        b"GET http://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello",
        b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello",
        b"GET / HTTP/1.1\r\nHost: x\r\nX: \x01\r\n\r\n",
    ] {
        let response = send_raw(&server, bad);
        assert_eq!(response.status, 400, "{:?}", String::from_utf8_lossy(bad));
        assert!(!response.error().is_empty());
    }
    still_serving(&server);
}

#[test]
fn invalid_utf8_in_the_request_line_is_400_and_in_header_values_is_harmless() {
    let server = Server::start(&[]);
    let bad_path = send_raw(&server, b"GET /search?q=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(bad_path.status, 400);
    let bad_target = send_raw(&server, b"GET /\xc3\x28 HTTP/1.1\r\nHost: x\r\n\r\n");
    assert_eq!(bad_target.status, 400);
    // obs-text in a header value is legal HTTP; it is read as replacement characters.
    let value =
        send_raw(&server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nUser-Agent: \xff\xfe\r\nAccept-Language: \xd0\r\n\r\n");
    assert_eq!(value.status, 200);
    // In a form body, invalid UTF-8 decodes with replacement characters, and the rules apply.
    let mut client = server.client();
    let response = client.request(
        "POST",
        "/register",
        &[("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
        b"username=%FF%FE&password=\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8",
    );
    assert_eq!(response.status, 303, "{}", response.text());
    assert_eq!(client.me()["name"], "\u{FFFD}\u{FFFD}");
    still_serving(&server);
}

#[test]
fn static_files_have_types_etags_and_revalidate() {
    let server = Server::start(&[]);
    let mut client = server.client();
    let css = client.get("/static/css/app.css");
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("cache-control"), Some("no-cache"));
    let etag = css.header("etag").unwrap().to_string();
    let again = client.request("GET", "/static/css/app.css", &[("If-None-Match", &etag)], b"");
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(client.get("/favicon.ico").header("content-type"), Some("image/svg+xml"));
}

#[test]
fn html_responses_carry_the_security_headers() {
    let server = Server::start(&[]);
    let page = server.client().get("/");
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap();
    for directive in ["default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"] {
        assert!(csp.contains(directive), "{csp}");
    }
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(page.header("referrer-policy"), Some("same-origin"));
    assert!(page.header("strict-transport-security").is_none(), "no HSTS over plain HTTP");
}

#[test]
fn a_client_trickling_its_head_is_cut_off_and_others_are_served() {
    let server = Server::start(&[]);
    let mut slow = raw(&server);
    let started = Instant::now();
    slow.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    let trickler = std::thread::spawn(move || {
        for _ in 0..30 {
            if slow.write_all(b"X").is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        read_response(&mut slow).map(|r| r.status).unwrap_or(0)
    });
    for _ in 0..5 {
        still_serving(&server);
        std::thread::sleep(Duration::from_millis(300));
    }
    assert_eq!(trickler.join().unwrap(), 408);
    assert!(started.elapsed() < Duration::from_secs(14), "the head deadline is 10 s");
}

#[test]
fn a_full_worker_pool_answers_503_at_once() {
    // One worker and its queue of 256 fill up; per-address caps are off so they don't answer
    // first.
    let server = Server::start(&["--workers", "1", "--queue", "256", "--rate-limits", "off"]);
    let _occupy_worker = raw(&server);
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    let mut streams: Vec<TcpStream> = (0..300)
        .map(|_| {
            let mut stream = raw(&server);
            stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            stream
        })
        .collect();
    let last = streams.last_mut().unwrap();
    let response = read_response(last).unwrap();
    assert_eq!(response.status, 503, "the worker is busy and the queue is full");
    assert_eq!(response.header("retry-after"), Some("5"));
    assert!(started.elapsed() < Duration::from_secs(5), "answered at once, not after the busy worker");
    let mut refused = 0;
    for stream in &mut streams {
        stream.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
        if read_response(stream).is_ok_and(|r| r.status == 503) {
            refused += 1;
        }
    }
    assert!((1..=44).contains(&refused), "the queue held the rest: {refused} refused");
}

#[test]
fn trickling_clients_hold_workers_only_briefly_while_others_wait() {
    let server = Server::start(&["--workers", "2"]);
    let tricklers: Vec<_> = (0..4)
        .map(|_| {
            let mut stream = raw(&server);
            std::thread::spawn(move || {
                let started = Instant::now();
                let _ = stream.write_all(b"GET / HTTP/1.1\r\n");
                while started.elapsed() < Duration::from_secs(15) {
                    if stream.write_all(b"X").is_err() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(300));
                }
                (read_response(&mut stream).map(|r| r.status).unwrap_or(0), started.elapsed())
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(server.client().get("/healthz").status, 200);
    let waited = started.elapsed();
    assert!(waited < Duration::from_secs(6), "served after {waited:?}, not after every trickler's 10 s");
    // The first two are cut after 2 s because others wait; the last two then get a worker
    // with nobody waiting behind them, so they have the full 10 s.
    for trickler in tricklers {
        let (status, held) = trickler.join().unwrap();
        assert_eq!(status, 408);
        assert!(held < Duration::from_secs(14), "{held:?}");
    }
}
