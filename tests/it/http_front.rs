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

    // Chunked bodies are read (see hooks.rs), within the same bound; other codings are not.
    let mut huge = b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    huge.extend_from_slice(format!("{:x}\r\n", 70_000).as_bytes());
    assert_eq!(send_raw(&server, &huge).status, 413, "refused when the chunk is announced");
    let gzip = send_raw(
        &server,
        b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    );
    assert_eq!(gzip.status, 501);
    let both = send_raw(
        &server,
        b"POST /login HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello",
    );
    assert_eq!(both.status, 400);
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
    slow.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    // The trickler would go on for 30 s (60 bytes, one per 500 ms); the head deadline (10 s)
    // must end it first: an order, not a stopwatch.
    let trickler = std::thread::spawn(move || {
        let mut written = 0;
        for _ in 0..60 {
            if slow.write_all(b"X").is_err() {
                break;
            }
            written += 1;
            std::thread::sleep(Duration::from_millis(500));
            // The answer has come: stop (a peek that does not wait).
            slow.set_nonblocking(true).unwrap();
            let answered = slow.peek(&mut [0u8; 1]).is_ok_and(|n| n > 0);
            slow.set_nonblocking(false).unwrap();
            if answered {
                break;
            }
        }
        (read_response(&mut slow).map(|r| r.status).unwrap_or(0), written)
    });
    for _ in 0..5 {
        still_serving(&server);
        std::thread::sleep(Duration::from_millis(300));
    }
    let (status, written) = trickler.join().unwrap();
    assert_eq!(status, 408);
    assert!(written < 60, "cut off while still trickling, after {written} bytes");
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
    // Without the busy rule it would wait for a trickler's full 10 s deadline (or two).
    assert!(waited < Duration::from_secs(9), "served after {waited:?}, not after a trickler's 10 s");
    // The first two are cut after 2 s because others wait; the last two then get a worker
    // with nobody waiting behind them, so they have the full 10 s.
    for trickler in tricklers {
        let (status, held) = trickler.join().unwrap();
        assert_eq!(status, 408);
        assert!(held < Duration::from_secs(15), "cut off while still trickling: {held:?}");
    }
}

/// The first `/static/…` URL in a page that ends with `suffix`.
fn static_url(page: &str, suffix: &str) -> String {
    page.split('"')
        .find(|s| s.starts_with("/static/") && s.ends_with(suffix))
        .unwrap_or_else(|| panic!("no /static/…{suffix} in:\n{page}"))
        .to_string()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("valid gzip");
    out
}

fn source_file(path: &str) -> Vec<u8> {
    std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

#[test]
fn static_files_are_gzipped_only_for_clients_that_accept_it() {
    let server = Server::start(&[]);
    let mut client = server.client();
    let css = source_file("static/css/app.css");
    for accept in ["gzip", "br, gzip;q=0.8", "*"] {
        let packed = client.request("GET", "/static/css/app.css", &[("Accept-Encoding", accept)], b"");
        assert_eq!(packed.status, 200);
        assert_eq!(packed.header("content-encoding"), Some("gzip"), "{accept}");
        assert_eq!(packed.header("vary"), Some("Accept-Encoding"));
        assert_eq!(packed.header("content-type"), Some("text/css; charset=utf-8"));
        assert!(packed.body.len() * 2 < css.len(), "{} of {} bytes", packed.body.len(), css.len());
        assert_eq!(gunzip(&packed.body), css, "the same file");
    }
    // No Accept-Encoding, or one that refuses gzip: the file as it is.
    for headers in [&[][..], &[("Accept-Encoding", "identity")], &[("Accept-Encoding", "gzip;q=0, br")]] {
        let plain = client.request("GET", "/static/css/app.css", headers, b"");
        assert_eq!(plain.status, 200);
        assert_eq!(plain.header("content-encoding"), None, "{headers:?}");
        assert_eq!(plain.header("vary"), Some("Accept-Encoding"), "caches must keep the two apart");
        assert_eq!(plain.body, css);
    }
    // HEAD says what GET would send, without the body.
    let mut stream = raw(&server);
    stream
        .write_all(
            b"HEAD /static/css/app.css HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n",
        )
        .unwrap();
    let mut head = String::new();
    stream.read_to_string(&mut head).unwrap();
    assert!(head.contains("content-encoding: gzip\r\n") && head.ends_with("\r\n\r\n"), "{head}");
}

#[test]
fn hashed_urls_are_cached_for_a_year_and_plain_ones_revalidate_both_by_etag() {
    let server = Server::start(&[]);
    let mut client = server.client();
    let login = client.get("/").text();
    client.register("hazel", "correct horse battery");
    let app = client.get("/index").text();
    let css = static_url(&login, ".css");
    let script = static_url(&app, ".js");
    let icon = static_url(&login, ".svg");
    assert!(script.starts_with("/static/js/main.") && script.len() == "/static/js/main..js".len() + 12, "{script}");
    assert!(css.starts_with("/static/css/app."), "{css}");
    assert_eq!(static_url(&app, ".css"), css, "one URL for the stylesheet everywhere");

    for url in [&css, &script, &icon] {
        for accept in ["gzip", "identity"] {
            let first = client.request("GET", url, &[("Accept-Encoding", accept)], b"");
            assert_eq!(first.status, 200, "{url}");
            assert_eq!(first.header("cache-control"), Some("public, max-age=31536000, immutable"), "{url}");
            let etag = first.header("etag").unwrap().to_string();
            let again = client.request("GET", url, &[("Accept-Encoding", accept), ("If-None-Match", &etag)], b"");
            assert_eq!(again.status, 304, "{url} {accept}");
            assert!(again.body.is_empty());
            assert_eq!(again.header("etag"), Some(etag.as_str()));
            assert_eq!(again.header("cache-control"), Some("public, max-age=31536000, immutable"));
        }
        let gz = client.request("GET", url, &[("Accept-Encoding", "gzip")], b"");
        let id = client.request("GET", url, &[], b"");
        assert_ne!(gz.header("etag"), id.header("etag"), "{url}: each encoding has its own ETag");
        // The identity ETag does not validate the gzip copy (nor the other way round).
        let cross = client.request(
            "GET",
            url,
            &[("Accept-Encoding", "gzip"), ("If-None-Match", id.header("etag").unwrap())],
            b"",
        );
        assert_eq!(cross.status, 200, "{url}");
    }

    // The script is the bundle of every module main.js reaches, without import statements.
    let bundle = client.get(&script).text();
    for module in ["js/main.js", "js/dom.js", "js/conversation.js", "js/i18n.js", "js/rooms.js"] {
        assert!(bundle.contains(&format!("// {module}\n")), "{module} is in the bundle");
    }
    assert!(!bundle.lines().any(|l| l.starts_with("import ") || l.starts_with("export ")), "no module syntax left");
    let me = client.me()["id"].as_str().unwrap().to_string();
    let chat_page = client.get(&format!("/chat/{me}")).text();
    let single = static_url(&chat_page, ".js");
    assert!(single.starts_with("/static/js/chat-page."), "{single}");
    assert!(!client.get(&single).text().contains("// js/rooms.js\n"), "each page bundles only what it imports");

    // A module lives only in its bundles, unless a static file names it (the offline page's
    // script and what it imports); plain paths are revalidated on use.
    for bundled_only in ["/static/js/main.js", "/static/js/dom.js", "/static/js/conversation.js"] {
        assert_eq!(client.get(bundled_only).status, 404, "{bundled_only}");
    }
    for plain in ["/static/js/offline.js", "/static/js/i18n.js", "/static/css/app.css", "/static/favicon.svg"] {
        let first = client.request("GET", plain, &[("Accept-Encoding", "gzip")], b"");
        assert_eq!(first.status, 200, "{plain}");
        assert_eq!(first.header("cache-control"), Some("no-cache"), "{plain}");
        let etag = first.header("etag").unwrap().to_string();
        let again = client.request("GET", plain, &[("Accept-Encoding", "gzip"), ("If-None-Match", &etag)], b"");
        assert_eq!(again.status, 304, "{plain}");
        assert_eq!(again.header("cache-control"), Some("no-cache"));
    }
    assert_eq!(
        gunzip(&client.request("GET", "/static/js/i18n.js", &[("Accept-Encoding", "gzip")], b"").body),
        source_file("static/js/i18n.js")
    );
    // Stored gzipped only, it is inflated for a client that does not take gzip.
    let plain = client.get("/static/css/app.css");
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.body, source_file("static/css/app.css"));
    assert_eq!(client.get("/static/js/main.0000000000aa.js").status, 404, "a made-up hash is not found");
}

/// Copies `static/` and `templates/` to `dir`, as a developer's working tree.
fn copy_tree(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn with_assets_dir_pages_load_the_modules_from_disk_and_edits_show_at_once() {
    let tree = TempDir::new("assets");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_tree(&root.join("static"), &tree.path().join("static"));
    copy_tree(&root.join("templates"), &tree.path().join("templates"));
    let server = Server::start(&["--assets-dir", tree.path().to_str().unwrap()]);
    let mut client = server.client();
    client.register("ivy", "correct horse battery");
    let app = client.get("/index").text();
    assert_eq!(static_url(&app, ".js"), "/static/js/main.js", "the entry module itself, unbundled");
    assert_eq!(static_url(&app, ".css"), "/static/css/app.css");
    let module = client.request("GET", "/static/js/dom.js", &[("Accept-Encoding", "gzip")], b"");
    assert_eq!(module.header("cache-control"), Some("no-cache"));
    assert_eq!(module.body, source_file("static/js/dom.js"));

    std::fs::write(tree.path().join("static/js/dom.js"), "export const edited = true;\n").unwrap();
    assert_eq!(client.get("/static/js/dom.js").text(), "export const edited = true;\n", "no rebuild, no restart");
}

#[test]
fn the_language_cookie_wins_over_accept_language_on_server_rendered_pages() {
    let server = Server::start(&[]);
    let mut client = server.client();
    let page = |client: &mut Client, path: &str, accept: &str| {
        client.request("GET", path, &[("Accept-Language", accept), ("Accept", "text/html")], b"").text()
    };
    assert!(page(&mut client, "/", "ru-RU,ru;q=0.9").contains("<html lang=\"ru\">"));
    assert!(page(&mut client, "/", "en-GB").contains("<html lang=\"en\">"));

    // The switch: a form post, answered with the cookie and a way back to the page.
    client.origin = Some(format!("http://{}", server.addr));
    let switched = client.request(
        "POST",
        "/language",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Referer", &format!("http://{}/search?q=a#x", server.addr)),
        ],
        b"lang=ru",
    );
    assert_eq!(switched.status, 303);
    assert_eq!(switched.header("location"), Some("/search?q=a"));
    let cookie = switched.header("set-cookie").unwrap();
    assert!(cookie.starts_with("lang=ru; Path=/; SameSite=Lax; Max-Age="), "{cookie}");
    assert_eq!(client.cookies.get("lang").map(String::as_str), Some("ru"));

    // Every server-rendered page follows it, whatever the browser prefers.
    let login = page(&mut client, "/", "en-US,en;q=0.9");
    assert!(login.contains("<html lang=\"ru\">") && login.contains("Войти"), "{login}");
    let missing = client.request("GET", "/nothing-here", &[("Accept-Language", "en")], b"");
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("<html lang=\"ru\">"), "the error page too");
    client.register("juniper", "correct horse battery");
    let app = page(&mut client, "/index", "en");
    assert!(app.contains("<html lang=\"ru\">") && app.contains("Чаты"), "and the app");

    // Back to English from another page; without a usable Referer the way back is /.
    let english =
        client.request("POST", "/language", &[("Content-Type", "application/x-www-form-urlencoded")], b"lang=en");
    assert_eq!(english.status, 303);
    assert_eq!(english.header("location"), Some("/"));
    assert!(page(&mut client, "/index", "ru").contains("<html lang=\"en\">"));
    let foreign = client.request(
        "POST",
        "/language",
        &[("Content-Type", "application/x-www-form-urlencoded"), ("Referer", "http://evil.example/x")],
        b"lang=en",
    );
    assert_eq!(foreign.header("location"), Some("/"), "never a redirect to another site");

    // An unknown cookie value is ignored: Accept-Language decides again.
    let mut stranger = server.client();
    stranger.cookies.insert("lang".into(), "xx".into());
    assert!(page(&mut stranger, "/", "ru").contains("<html lang=\"ru\">"));
}

#[test]
fn a_bad_or_cross_site_language_switch_sets_nothing() {
    let server = Server::start(&[]);
    let mut client = server.client();
    client.origin = Some(format!("http://{}", server.addr));
    for body in [&b"lang=de"[..], b"", b"language=ru", b"lang=ru%00"] {
        let refused = client.request(
            "POST",
            "/language",
            &[("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body,
        );
        assert_eq!(refused.status, 400, "{:?}", String::from_utf8_lossy(body));
        assert_eq!(refused.error(), "lang must be \"en\" or \"ru\"");
        assert!(refused.header("set-cookie").is_none());
    }
    client.origin = Some("http://evil.example".into());
    let forged =
        client.request("POST", "/language", &[("Content-Type", "application/x-www-form-urlencoded")], b"lang=ru");
    assert_eq!(forged.status, 403);
    assert!(forged.header("set-cookie").is_none(), "another site cannot change the language");
    assert!(client.cookies.is_empty());
    let get = server.client().get("/language");
    assert_eq!(get.status, 405);
    assert!(get.header("set-cookie").is_none());
}
