//! Photos and files: uploads at and over every limit, refusals that store and read nothing,
//! truncated and too-slow uploads, decompression bombs, polyglots and SVG, EXIF stripping and
//! rotated thumbnails, who may download, ranges and ETags, de-duplication, deletion,
//! retention, backups that carry the files, and files sent in messages (`send_files`), which
//! is how other members come to download them.

use crate::util::*;
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(15);

fn upload(client: &mut Client, to: &str, name: &str, bytes: &[u8]) -> Response {
    client.request("POST", &format!("/api/files?to={}&name={}", encode(to), encode(name)), &[], bytes)
}

fn uploaded(client: &mut Client, to: &str, name: &str, bytes: &[u8]) -> Value {
    let response = upload(client, to, name, bytes);
    assert_eq!(response.status, 201, "upload {name}: {}", response.text());
    response.json()
}

/// Distinct bytes of `len` (so nothing is de-duplicated by accident).
fn bytes(len: usize, seed: u8) -> Vec<u8> {
    let mut state = 0x9E37_79B9u32 ^ u32::from(seed).wrapping_mul(0x0101_0101);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect()
}

fn file_rows(server: &Server) -> i64 {
    open_db(server.data.path(), "chathistory.db").query_row("SELECT count(*) FROM files", [], |r| r.get(0)).unwrap()
}

/// Stored objects (not the temporary or trashed files).
fn stored(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(root) = std::fs::read_dir(dir.join("files")) else { return out };
    for sub in root.flatten() {
        let name = sub.file_name().to_string_lossy().to_string();
        if name.len() == 2 {
            out.extend(std::fs::read_dir(sub.path()).unwrap().flatten().map(|e| e.path()));
        }
    }
    out.sort();
    out
}

fn temp_files(dir: &Path) -> usize {
    std::fs::read_dir(dir.join("files/tmp")).map(|d| d.count()).unwrap_or(0)
}

/// Nothing was stored: no row, no object, no temporary file.
fn assert_nothing_stored(server: &Server, rows_before: i64, objects_before: usize) {
    assert_eq!(file_rows(server), rows_before, "no row written");
    assert_eq!(stored(server.data.path()).len(), objects_before, "no file stored");
    assert!(eventually(WAIT, || temp_files(server.data.path()) == 0), "no temporary file left");
}

/// Sends uploads in a message on the conversation's socket (`to` as the upload named it);
/// returns the echoed message.
fn send_files(client: &Client, me: &str, to: &str, ids: &[i64], caption: &str) -> Value {
    let path = match to.split_once(':') {
        Some(("user", other)) => format!("/ws/{me}/{other}"),
        Some(("room", room)) => format!("/ws/room/{room}/{me}"),
        _ => panic!("bad conversation {to}"),
    };
    let mut ws = client.ws(&path);
    ws.send_json(&json!({ "type": "message", "text": caption, "attachments": ids }));
    let echo = ws.recv_where(WAIT, |f| f["type"] == "message" || f["type"] == "room_message" || f["type"] == "error");
    let echo = echo.expect("an echo");
    assert_ne!(echo["type"], "error", "{echo}");
    echo
}

fn create_room(client: &mut Client, name: &str) -> String {
    let response = client.post_json("/api/rooms/create", &json!({ "name": name }));
    assert_eq!(response.status, 201, "{}", response.text());
    response.json()["id"].as_str().unwrap().to_string()
}

fn id_of(item: &Value) -> i64 {
    item["id"].as_i64().unwrap()
}

#[test]
fn uploads_at_and_over_every_limit() {
    let server = Server::start(&["--max-file-size", "64K", "--user-file-quota", "192K", "--total-file-quota", "320K"]);
    let (mut alice, _) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let (_, a) = ("", alice.me()["id"].as_str().unwrap().to_string());
    let to_bob = format!("user:{b}");
    // Per file: exactly the limit is fine, more is refused with a sentence to show.
    let at = uploaded(&mut alice, &to_bob, "at.bin", &bytes(64 << 10, 1));
    assert_eq!(at["size"], 64 << 10);
    assert_eq!(at["type"], "application/octet-stream");
    let (rows, objects) = (file_rows(&server), stored(server.data.path()).len());
    let over = upload(&mut alice, &to_bob, "over.bin", &bytes(65 << 10, 2));
    assert_eq!(over.status, 413);
    assert_eq!(over.error(), "the file is too large: 65 KiB, at most 64 KiB per file");
    assert_nothing_stored(&server, rows, objects);
    // Per user: alice reaches 192 KiB, then even a small file is refused.
    uploaded(&mut alice, &to_bob, "two.bin", &bytes(64 << 10, 3));
    uploaded(&mut alice, &to_bob, "three.bin", &bytes(64 << 10, 4));
    let (rows, objects) = (file_rows(&server), stored(server.data.path()).len());
    let quota = upload(&mut alice, &to_bob, "four.bin", &bytes(10, 5));
    assert_eq!(quota.status, 413);
    assert!(quota.error().starts_with("your files take 192 KiB of your 192 KiB"), "{}", quota.error());
    assert_nothing_stored(&server, rows, objects);
    // In all: bob fills the rest of the 320 KiB, then nobody can upload.
    let to_alice = format!("user:{a}");
    uploaded(&mut bob, &to_alice, "b1.bin", &bytes(64 << 10, 6));
    uploaded(&mut bob, &to_alice, "b2.bin", &bytes(64 << 10, 7));
    let (rows, objects) = (file_rows(&server), stored(server.data.path()).len());
    let full = upload(&mut bob, &to_alice, "b3.bin", &bytes(1, 8));
    assert_eq!(full.status, 413);
    assert_eq!(full.error(), "the server's file storage is full (320 KiB of 320 KiB used)");
    assert_nothing_stored(&server, rows, objects);
    // The same bytes again cost bob quota but no disk, yet the total counts what is stored.
    assert_eq!(rows, 5);
    assert_eq!(objects, 5);
}

#[test]
fn the_free_space_floor_refuses_uploads() {
    let server = Server::start(&["--min-free-space", "1000T"]);
    let (mut alice, a) = user(&server, "alice");
    let refused = upload(&mut alice, &format!("user:{a}"), "notes.txt", b"hello");
    assert_eq!(refused.status, 413);
    assert_eq!(refused.error(), "the server's disk is nearly full, so uploads are refused");
    assert_nothing_stored(&server, 0, 0);
}

/// Sends a head (and `body` bytes of the body) on a raw connection.
fn raw_upload(client: &Client, path: &str, length: usize, body: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(client.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nContent-Length: {length}\r\n\r\n",
        client.addr,
        client.cookie_header()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    stream
}

#[test]
fn a_truncated_upload_stores_nothing() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let stream = raw_upload(&alice, &format!("/api/files?to=user:{a}&name=big.bin"), 1 << 20, &bytes(100_000, 9));
    assert!(eventually(WAIT, || temp_files(server.data.path()) == 1), "the upload is being written");
    drop(stream);
    assert!(server.wait_for_log("upload cut short", WAIT), "{}", server.log());
    assert_nothing_stored(&server, 0, 0);
    // Its reservation is given back: a full-size upload still fits.
    let mut alice = alice;
    uploaded(&mut alice, &format!("user:{a}"), "next.bin", &bytes(1 << 20, 10));
}

/// A client that keeps sending, but slower than `UPLOAD_MIN_RATE` (16 KiB/s after a 10 s
/// grace), is cut off at its deadline: a 408, nothing kept, and its upload slot and
/// reservation given back. (A silent client is the read timeout's; this one is never silent.)
#[test]
fn an_upload_slower_than_the_minimum_rate_is_cut_off() {
    let server = Server::start(&["--max-uploads", "1"]);
    let (mut alice, a) = user(&server, "alice");
    let length = 16 * 1024;
    // The deadline is 10 s + length / 16 KiB/s = 11 s; 100 bytes every 500 ms is 200 B/s, and
    // even 60 s of it (13,000 bytes in all) never completes the body.
    let mut stream = raw_upload(&alice, &format!("/api/files?to=user:{a}&name=slow.bin"), length, &bytes(1000, 12));
    stream.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut trickle = stream.try_clone().unwrap();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stopped = stop.clone();
    let trickler = std::thread::spawn(move || {
        let mut sent = 1000;
        for _ in 0..120 {
            std::thread::sleep(Duration::from_millis(500));
            if stopped.load(std::sync::atomic::Ordering::SeqCst) || trickle.write_all(&[b'x'; 100]).is_err() {
                break;
            }
            sent += 100;
        }
        sent
    });
    let response = read_response(&mut stream).unwrap();
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let sent = trickler.join().unwrap();
    assert_eq!(response.status, 408, "{}", response.text());
    assert_eq!(response.error(), "request timed out");
    assert_eq!(response.header("connection"), Some("close"));
    assert!(sent < length, "the client never finished its body ({sent} of {length} bytes)");
    assert!(server.wait_for_log("upload too slow: refused", WAIT), "{}", server.log());
    assert_nothing_stored(&server, 0, 0);
    // The one upload slot and the reservation are free again.
    let next = uploaded(&mut alice, &format!("user:{a}"), "next.bin", &bytes(length, 13));
    assert_eq!(next["size"], length, "{next}");
    assert_eq!(file_rows(&server), 1);
}

#[test]
fn uploads_by_non_members_and_strangers_are_refused_before_the_body_is_read() {
    let server = Server::start(&[]);
    let (mut alice, _) = user(&server, "alice");
    let (mut carol, _) = user(&server, "carol");
    let room = create_room(&mut alice, "Garden");
    // Head only: the refusal comes without the server waiting for a byte of the 5 MiB body.
    for (client, path, status) in [
        (&carol, format!("/api/files?to=room:{room}&name=x.bin"), 403),
        (&carol, "/api/files?to=room:no-such-room&name=x.bin".to_string(), 404),
        (&carol, "/api/files?to=user:no-such-user&name=x.bin".to_string(), 404),
        (&carol, "/api/files?name=x.bin".to_string(), 400),
        (&server.client(), format!("/api/files?to=room:{room}"), 401),
    ] {
        let mut stream = raw_upload(client, &path, 5 << 20, b"");
        let response = read_response(&mut stream).unwrap();
        assert_eq!(response.status, status, "{path}: {}", response.text());
        assert!(!response.error().is_empty());
        assert_eq!(response.header("connection"), Some("close"));
    }
    // A cross-site form post is refused too.
    let refused = carol.request(
        "POST",
        &format!("/api/files?to=room:{room}"),
        &[("Origin", "https://evil.example"), ("Sec-Fetch-Site", "cross-site")],
        b"x",
    );
    assert_eq!(refused.status, 403);
    assert_nothing_stored(&server, 0, 0);
    assert!(alice.get_json(&format!("/api/rooms/{room}/history")).as_array().unwrap().is_empty());
    // A GET of the upload path is no upload.
    assert_eq!(carol.get("/api/files").status, 405);
}

#[test]
fn too_many_uploads_at_once_get_503() {
    let server = Server::start(&["--max-uploads", "1"]);
    let (mut alice, a) = user(&server, "alice");
    let to = format!("/api/files?to=user:{a}&name=first.bin");
    let first = bytes(200_000, 11);
    let mut slow = raw_upload(&alice, &to, first.len(), &first[..1000]);
    assert!(eventually(WAIT, || temp_files(server.data.path()) == 1));
    let busy = upload(&mut alice, &format!("user:{a}"), "second.bin", b"second");
    assert_eq!(busy.status, 503);
    assert_eq!(busy.error(), "too many uploads at once, try again in a moment");
    slow.write_all(&first[1000..]).unwrap();
    let done = read_response(&mut slow).unwrap();
    assert_eq!(done.status, 201, "{}", done.text());
    uploaded(&mut alice, &format!("user:{a}"), "second.bin", b"second");
    assert_eq!(file_rows(&server), 2);
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn png_chunk(kind: &[u8], data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data].concat()).to_be_bytes());
    out
}

#[test]
fn a_decompression_bomb_is_refused() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    // A few hundred bytes claiming 100,000 × 100,000 pixels.
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&100_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut bomb = b"\x89PNG\r\n\x1a\n".to_vec();
    bomb.extend(png_chunk(b"IHDR", &ihdr));
    bomb.extend(png_chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0, 0, 0, 0, 1]));
    bomb.extend(png_chunk(b"IEND", b""));
    let refused = upload(&mut alice, &format!("user:{a}"), "bomb.png", &bomb);
    assert_eq!(refused.status, 413);
    assert_eq!(refused.error(), "the image is too large: 100000×100000 pixels, at most 40 megapixels");
    assert_nothing_stored(&server, 0, 0);
}

/// A 1×1 GIF with `comment` in a comment extension.
fn gif_with_comment(comment: &[u8]) -> Vec<u8> {
    let mut gif = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff".to_vec();
    for chunk in comment.chunks(255) {
        gif.extend_from_slice(&[0x21, 0xFE, chunk.len() as u8]);
        gif.extend_from_slice(chunk);
        gif.push(0);
    }
    gif.extend_from_slice(b"\x2c\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\0\x3b");
    gif
}

fn assert_user_content_headers(response: &Response) {
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    let csp = response.header("content-security-policy").unwrap();
    assert!(csp.starts_with("sandbox;") && csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(response.headers_named("content-security-policy").len(), 1);
    assert_eq!(response.header("cache-control"), Some("private, no-cache"));
}

#[test]
fn polyglots_html_and_svg_never_run_as_pages() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let to = format!("user:{a}");
    // A GIF that carries a script: a GIF, served as one, sandboxed, the script gone.
    let gif =
        uploaded(&mut alice, &to, "cat.html", &gif_with_comment(b"<html><script>alert(document.cookie)</script>"));
    assert_eq!(gif["type"], "image/gif");
    let served = alice.get(gif["url"].as_str().unwrap());
    assert_eq!(served.status, 200);
    assert_eq!(served.header("content-type"), Some("image/gif"));
    assert!(served.header("content-disposition").unwrap().starts_with("inline;"));
    assert_user_content_headers(&served);
    assert!(!served.text().contains("script"), "the comment is stripped");
    // Something that starts like a GIF and is not one is refused.
    let fake = upload(&mut alice, &to, "x.gif", b"GIF89a\x01\0\x01\0\0\0\0<html><script>alert(1)</script></html>");
    assert_eq!(fake.status, 400);
    assert!(fake.error().starts_with("the image could not be read"), "{}", fake.error());
    // HTML and SVG are downloads, never text/html or image/svg+xml.
    for (name, body) in [
        ("page.html", &b"<!doctype html><html><script>alert(1)</script></html>"[..]),
        ("logo.svg", &b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'><rect/></svg>"[..]),
        ("pic.svg", &b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>"[..]),
    ] {
        let item = uploaded(&mut alice, &to, name, body);
        assert_eq!(item["type"], "application/octet-stream", "{name}");
        let served = alice.get(item["url"].as_str().unwrap());
        assert_eq!(served.header("content-type"), Some("application/octet-stream"), "{name}");
        let disposition = served.header("content-disposition").unwrap();
        assert!(disposition.starts_with("attachment;") && disposition.contains(name), "{disposition}");
        assert_user_content_headers(&served);
        assert_eq!(served.body, body);
    }
    // Plain text is text, offered as a download.
    let text = uploaded(&mut alice, &to, "notes.txt", "Список покупок\n- хлеб\n".as_bytes());
    assert_eq!(text["type"], "text/plain; charset=utf-8");
    let served = alice.get(text["url"].as_str().unwrap());
    assert!(served.header("content-disposition").unwrap().starts_with("attachment;"));
}

/// An EXIF APP1 segment with `orientation` and a GPS position.
fn exif_segment(orientation: u16) -> Vec<u8> {
    let mut t = b"MM\0*\0\0\0\x08".to_vec();
    t.extend_from_slice(&[0, 2]);
    t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    t.extend_from_slice(&orientation.to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 38]);
    t.extend_from_slice(&[0, 0, 0, 0]);
    t.extend_from_slice(&[0, 1, 0, 2, 0, 2, 0, 0, 0, 20, 0, 0, 0, 56, 0, 0, 0, 0]);
    t.extend_from_slice(b"GPS 55.7558 N 37.61\0");
    let mut seg = vec![0xFF, 0xE1];
    seg.extend_from_slice(&((t.len() + 8) as u16).to_be_bytes());
    seg.extend_from_slice(b"Exif\0\0");
    seg.extend_from_slice(&t);
    seg
}

/// A `w`×`h` JPEG, red on the left half and blue on the right, with EXIF.
fn photo(w: u32, h: u32, orientation: u16) -> Vec<u8> {
    let img =
        image::RgbImage::from_fn(
            w,
            h,
            |x, _| if x < w / 2 { image::Rgb([230, 20, 20]) } else { image::Rgb([20, 20, 230]) },
        );
    let mut plain = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut plain), image::ImageFormat::Jpeg)
        .unwrap();
    let comment = [vec![0xFF, 0xFE, 0, 16], b"Taken at home!".to_vec()].concat();
    [plain[..2].to_vec(), exif_segment(orientation), comment, plain[2..].to_vec()].concat()
}

#[test]
fn photos_lose_their_location_and_thumbnails_stand_upright() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let original = photo(1200, 600, 6);
    assert!(String::from_utf8_lossy(&original).contains("GPS 55.7558"));
    let item = uploaded(&mut alice, &format!("user:{a}"), "IMG_0001.JPG", &original);
    assert_eq!(item["type"], "image/jpeg");
    // Orientation 6 turns it a quarter: it shows 600 wide and 1200 high.
    assert_eq!((item["width"].as_i64(), item["height"].as_i64()), (Some(600), Some(1200)));
    let served = alice.get(item["url"].as_str().unwrap());
    assert_eq!(served.status, 200);
    let text = String::from_utf8_lossy(&served.body);
    assert!(!text.contains("GPS") && !text.contains("Taken at home"), "location and comments stripped");
    // The only EXIF left is one orientation tag.
    let at = served.body.windows(6).position(|w| w == b"Exif\0\0").expect("an EXIF block with the orientation");
    assert_eq!(&served.body[at - 4..at], &[0xFF, 0xE1, 0, 34]);
    assert_eq!(&served.body[at + 6 + 8..at + 6 + 10], &[0, 1], "one tag");
    assert_eq!(&served.body[at + 6 + 10..at + 6 + 12], &[0x01, 0x12], "orientation");
    // The same pixels, and the ETag is the hash of what is served.
    let a_img = image::load_from_memory(&original).unwrap().to_rgb8();
    let b_img = image::load_from_memory(&served.body).unwrap().to_rgb8();
    assert_eq!(a_img.dimensions(), b_img.dimensions());
    let etag = served.header("etag").unwrap().trim_matches('"').to_string();
    assert!(stored(server.data.path()).iter().any(|p| p.ends_with(&etag)));
    // The thumbnail is made off the hub, upright: red on top, blue below.
    let thumb_url = format!("{}/thumb", item["url"].as_str().unwrap());
    assert!(eventually(WAIT, || alice.get(&thumb_url).status == 200), "a thumbnail is made");
    let thumb = alice.get(&thumb_url);
    assert_eq!(thumb.header("content-type"), Some("image/jpeg"));
    assert_user_content_headers(&thumb);
    let t = image::load_from_memory(&thumb.body).unwrap().to_rgb8();
    assert_eq!(t.dimensions(), (400, 800));
    let top = t.get_pixel(200, 100);
    let bottom = t.get_pixel(200, 700);
    assert!(top[0] > 150 && top[2] < 100, "top is red: {top:?}");
    assert!(bottom[2] > 150 && bottom[0] < 100, "bottom is blue: {bottom:?}");
    assert!(!String::from_utf8_lossy(&thumb.body).contains("GPS"));
}

#[test]
fn only_members_of_the_conversation_download() {
    let server = Server::start(&["--log", "debug"]);
    let (mut alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let (mut carol, c) = user(&server, "carol");
    // Private: alice to bob.
    let private = uploaded(&mut alice, &format!("user:{b}"), "for-bob.txt", b"just for bob");
    let url = private["url"].as_str().unwrap().to_string();
    assert_eq!(bob.get(&url).status, 404, "not sent yet: the uploader's only");
    assert_eq!(alice.get(&url).status, 200);
    send_files(&alice, &a, &format!("user:{b}"), &[id_of(&private)], "");
    assert_eq!(bob.get(&url).body, b"just for bob");
    assert_eq!(carol.get(&url).status, 403);
    assert_eq!(carol.get(&format!("{url}/thumb")).status, 403);
    assert_eq!(server.client().get(&url).status, 401);
    assert_eq!(carol.get("/api/files/999999").status, 404);
    assert_eq!(carol.get("/api/files/abc").status, 404);
    // A room: members only; a removed member loses access; a deleted room's files are gone.
    let room = create_room(&mut alice, "Garden");
    let added = alice.post_json(&format!("/api/rooms/{room}/add_user"), &json!({ "user_id": b }));
    assert_eq!(added.status, 200);
    let shared = uploaded(&mut alice, &format!("room:{room}"), "plan.txt", b"the garden plan");
    let url = shared["url"].as_str().unwrap().to_string();
    send_files(&alice, &a, &format!("room:{room}"), &[id_of(&shared)], "the plan");
    assert_eq!(bob.get(&url).body, b"the garden plan");
    assert_eq!(carol.get(&url).status, 403);
    let removed = alice.post_json(&format!("/api/rooms/{room}/remove_user"), &json!({ "user_id": b }));
    assert_eq!(removed.status, 200);
    let refused = bob.get(&url);
    assert_eq!(refused.status, 403);
    assert_eq!(refused.error(), "you are not a member of this room");
    let blob = stored(server.data.path());
    assert_eq!(blob.len(), 2);
    assert_eq!(alice.delete(&format!("/api/rooms/{room}")).status, 200);
    for client in [&mut alice, &mut bob, &mut carol] {
        assert_eq!(client.get(&url).status, 404);
    }
    assert!(eventually(WAIT, || stored(server.data.path()).len() == 1), "the room's file is trashed");
    let _ = c;
}

#[test]
fn ranges_etags_and_not_modified() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    for len in [1000usize, 600_000] {
        let body = bytes(len, 12 + (len % 7) as u8);
        let item = uploaded(&mut alice, &format!("user:{a}"), "song.bin", &body);
        let url = item["url"].as_str().unwrap().to_string();
        let full = alice.get(&url);
        assert_eq!(full.status, 200);
        assert_eq!(full.body, body, "{len} bytes whole");
        assert_eq!(full.header("accept-ranges"), Some("bytes"));
        let etag = full.header("etag").unwrap().to_string();
        let part = alice.request("GET", &url, &[("Range", "bytes=10-19")], b"");
        assert_eq!(part.status, 206);
        assert_eq!(part.header("content-range"), Some(format!("bytes 10-19/{len}").as_str()));
        assert_eq!(part.body, &body[10..20]);
        let tail = alice.request("GET", &url, &[("Range", "bytes=-10")], b"");
        assert_eq!(tail.status, 206);
        assert_eq!(tail.body, &body[len - 10..]);
        let open = alice.request("GET", &url, &[("Range", "bytes=500-")], b"");
        assert_eq!(open.body, &body[500..]);
        let beyond = alice.request("GET", &url, &[("Range", &format!("bytes={len}-"))], b"");
        assert_eq!(beyond.status, 416);
        assert_eq!(beyond.header("content-range"), Some(format!("bytes */{len}").as_str()));
        let cached = alice.request("GET", &url, &[("If-None-Match", &etag)], b"");
        assert_eq!(cached.status, 304);
        assert!(cached.body.is_empty());
        let stale = alice.request("GET", &url, &[("If-None-Match", "\"other\"")], b"");
        assert_eq!(stale.status, 200);
        let changed = alice.request("GET", &url, &[("Range", "bytes=0-1"), ("If-Range", "\"other\"")], b"");
        assert_eq!(changed.status, 200, "If-Range that does not match: the whole file");
    }
}

#[test]
fn the_same_bytes_are_stored_once_and_deleted_with_their_last_row() {
    let server = Server::start(&["--log", "debug"]);
    let (mut alice, _) = user(&server, "alice");
    let first = create_room(&mut alice, "First");
    let second = create_room(&mut alice, "Second");
    let body = bytes(50_000, 13);
    let one = uploaded(&mut alice, &format!("room:{first}"), "a.bin", &body);
    let two = uploaded(&mut alice, &format!("room:{second}"), "b.bin", &body);
    assert_ne!(one["id"], two["id"]);
    assert_eq!(stored(server.data.path()).len(), 1, "one file on disk");
    assert_eq!(file_rows(&server), 2);
    // Deleting one room leaves the file its other row needs.
    assert_eq!(alice.delete(&format!("/api/rooms/{first}")).status, 200);
    assert!(server.wait_for_log("janitor: no unreferenced files", WAIT), "the janitor looked");
    assert_eq!(stored(server.data.path()).len(), 1);
    assert_eq!(alice.get(two["url"].as_str().unwrap()).body, body);
    // Deleting the other moves it to the trash (kept a day for backups).
    assert_eq!(alice.delete(&format!("/api/rooms/{second}")).status, 200);
    assert!(eventually(WAIT, || stored(server.data.path()).is_empty()), "the file is trashed");
    let trash: Vec<_> = std::fs::read_dir(server.data.path().join("files/trash")).unwrap().flatten().collect();
    assert_eq!(trash.len(), 1);
    assert_eq!(file_rows(&server), 0);
}

#[test]
fn retention_expires_old_files() {
    let server = Server::start(&["--file-retention", "2s"]);
    let (mut alice, a) = user(&server, "alice");
    let item = uploaded(&mut alice, &format!("user:{a}"), "old.txt", b"soon gone");
    send_files(&alice, &a, &format!("user:{a}"), &[id_of(&item)], "");
    let url = item["url"].as_str().unwrap().to_string();
    assert!(eventually(WAIT, || alice.get(&url).status == 410), "expired");
    assert_eq!(alice.get(&url).error(), "this file is no longer kept: it expired, or its account was deleted");
    assert!(eventually(WAIT, || stored(server.data.path()).is_empty()), "its bytes are gone");
    // The row stays, so the message can say the file expired.
    assert_eq!(file_rows(&server), 1);
}

#[test]
fn backups_carry_the_files_and_restore() {
    let mut server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let text = uploaded(&mut alice, &format!("user:{a}"), "a.txt", b"kept in the backup");
    let picture = uploaded(&mut alice, &format!("user:{a}"), "p.jpg", &photo(1000, 900, 1));
    let thumb_url = format!("{}/thumb", picture["url"].as_str().unwrap());
    assert!(eventually(WAIT, || alice.get(&thumb_url).status == 200));
    let expected_text = alice.get(text["url"].as_str().unwrap()).body;
    let expected_picture = alice.get(picture["url"].as_str().unwrap()).body;
    let expected_thumb = alice.get(&thumb_url).body;
    // A file deleted after the databases were copied is still found, in the trash.
    server.stop();
    let victim = stored(server.data.path()).into_iter().find(|p| std::fs::read(p).unwrap() == expected_text).unwrap();
    let hash = victim.file_name().unwrap().to_string_lossy().to_string();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    std::fs::rename(&victim, server.data.path().join(format!("files/trash/{now}-{hash}"))).unwrap();
    server.start_again();
    let backup = TempDir::new("backup");
    let output = server_command()
        .args(["backup", &backup.path().to_string_lossy(), "--data-dir", &server.data.path().to_string_lossy()])
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("files: 3"),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_eq!(stored(backup.path()).len(), 3);
    server.stop();
    // Restore: the copy is a data directory of its own.
    let restored = Server::start_in(std::sync::Arc::new(backup), &[]);
    let mut alice = restored.client();
    assert_eq!(alice.login("alice", "alice-password").status, 303);
    assert_eq!(alice.get(text["url"].as_str().unwrap()).body, expected_text);
    assert_eq!(alice.get(picture["url"].as_str().unwrap()).body, expected_picture);
    assert_eq!(alice.get(&thumb_url).body, expected_thumb);
}

/// Figures for the README, not a check: `cargo test --release --test it files::upload_figures
/// -- --ignored --nocapture` prints the throughput and the server's peak RSS while four
/// clients upload 25 MiB each, and the time to thumbnail a 12-megapixel photo.
#[test]
#[ignore]
fn upload_figures() {
    let server = Server::start(&[]);
    let (alice, a) = user(&server, "alice");
    let pid = server.pid();
    let rss_before = rss_kib(pid);
    let payloads: Vec<Vec<u8>> = (0..4).map(|i| bytes(25 << 20, 100 + i)).collect();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watcher = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                peak.fetch_max(rss_kib(pid), std::sync::atomic::Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let started = Instant::now();
    let uploads: Vec<_> = payloads
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let client = alice.clone();
            let path = format!("/api/files?to=user:{a}&name=big-{i}.bin");
            std::thread::spawn(move || {
                let mut stream = raw_upload(&client, &path, body.len(), &body);
                let response = read_response(&mut stream).unwrap();
                assert_eq!(response.status, 201, "{}", response.text());
            })
        })
        .collect();
    for u in uploads {
        u.join().unwrap();
    }
    let took = started.elapsed();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    watcher.join().unwrap();
    println!(
        "4 × 25 MiB uploads: {:.2} s, {:.0} MiB/s in all; server RSS {} KiB before, peak {} KiB",
        took.as_secs_f64(),
        100.0 / took.as_secs_f64(),
        rss_before,
        peak.load(std::sync::atomic::Ordering::SeqCst)
    );
    let dir = TempDir::new("thumb");
    let store = mychat::files::Store::new(dir.path());
    store.prepare().unwrap();
    let img = image::RgbImage::from_fn(4000, 3000, |x, y| {
        image::Rgb([(x % 251) as u8, (y % 241) as u8, ((x ^ y) % 239) as u8])
    });
    let source = dir.path().join("photo.jpg");
    image::DynamicImage::ImageRgb8(img).save(&source).unwrap();
    for _ in 0..3 {
        let started = Instant::now();
        let thumb = mychat::files::thumbs::make(&store, &source, mychat::files::sniff::ImageFormat::Jpeg, 6).unwrap();
        println!(
            "thumbnail of a 12 MP JPEG ({} KiB): {:.0} ms → {}×{}, {} KiB",
            std::fs::metadata(&source).unwrap().len() / 1024,
            started.elapsed().as_secs_f64() * 1000.0,
            thumb.width,
            thumb.height,
            thumb.size / 1024
        );
    }
    let _ = std::io::stdout().flush();
    let _ = Read::bytes(std::io::empty());
}

/// The message pipeline carries files: live to both sides, in history, once per message; a
/// refused claim stores no message; deleting the message deletes its file.
#[test]
fn files_travel_in_messages_and_go_with_them() {
    let server = Server::start(&[]);
    let (mut alice, a) = user(&server, "alice");
    let (mut bob, b) = user(&server, "bob");
    let (carol, c) = user(&server, "carol");
    let to_bob = format!("user:{b}");
    let photo = uploaded(&mut alice, &to_bob, "note.txt", b"a note for bob");
    let mut b_ws = bob.ws(&format!("/ws/{b}/{a}"));
    let mut a_ws = alice.ws(&format!("/ws/{a}/{b}"));
    a_ws.send_json(&json!({ "type": "message", "text": "", "attachments": [id_of(&photo)] }));
    let echo = a_ws.recv_type("message");
    assert_eq!(echo["text"], "", "a file without a caption");
    assert_eq!(echo["attachments"][0]["id"], photo["id"]);
    assert_eq!(echo["attachments"][0]["name"], "note.txt");
    let live = b_ws.recv_type("message");
    assert_eq!(live["attachments"], echo["attachments"]);
    let url = echo["attachments"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(bob.get(&url).body, b"a note for bob", "sent: the recipient may fetch it");
    let history = bob.get_json(&format!("/api/history/{b}/{a}"));
    assert_eq!(history[0]["attachments"], echo["attachments"]);
    // An upload is claimed once; another's upload, or one for another conversation, never.
    a_ws.send_json(&json!({ "type": "message", "text": "again", "attachments": [id_of(&photo)] }));
    assert_eq!(a_ws.recv_type("error")["error"], "that attachment was already sent");
    let carols = uploaded(&mut carol.clone(), &format!("user:{a}"), "c.txt", b"carol's");
    a_ws.send_json(&json!({ "type": "message", "text": "stolen", "attachments": [id_of(&carols)] }));
    assert_eq!(a_ws.recv_type("error")["error"], "no such attachment");
    a_ws.send_json(&json!({ "type": "message", "text": "marker" }));
    assert_eq!(b_ws.recv_type("message")["text"], "marker", "nothing was delivered before it");
    let texts: Vec<String> = bob
        .get_json(&format!("/api/history/{b}/{a}"))
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts, ["", "marker"], "refused messages were not stored");
    // Deleting the message deletes its file.
    a_ws.send_json(&json!({ "type": "delete", "id": echo["id"] }));
    a_ws.recv_type("message_updated");
    assert_eq!(bob.get(&url).status, 404);
    assert_eq!(file_rows(&server), 1, "only carol's pending upload is left");
    assert!(eventually(WAIT, || stored(server.data.path()).len() == 1), "the note's bytes are trashed");
    let _ = c;
}

#[test]
fn administrators_see_disk_use_per_person() {
    let server = Server::start(&[
        "--user-file-quota",
        "1M",
        "--total-file-quota",
        "4M",
        "--min-free-space",
        "0",
        "--file-retention",
        "30d",
    ]);
    let (mut admin, a) = user(&server, "alice");
    assert_eq!(admin.get_json("/api/account")["is_admin"], true, "the first account administers");
    let (mut bob, b) = user(&server, "bob");
    let (mut carol, c) = user(&server, "carol");
    let empty = admin.get_json("/api/admin/files");
    assert_eq!(empty["users"], json!([]));
    assert_eq!(empty["stored_bytes"], 0);
    assert_eq!((empty["user_quota"].as_u64(), empty["total_quota"].as_u64()), (Some(1 << 20), Some(4 << 20)));
    assert_eq!(empty["min_free_space"], 0);
    assert_eq!(empty["retention_seconds"], 30 * 86_400);
    assert!(empty["free_bytes"].as_u64().unwrap() > 0, "{empty}");
    // Bob's two uploads (one sent, one not yet) and carol's one; identical bytes count per upload.
    let to_alice = format!("user:{a}");
    let sent = uploaded(&mut bob, &to_alice, "a.bin", &bytes(3000, 1));
    send_files(&bob, &b, &to_alice, &[id_of(&sent)], "");
    uploaded(&mut bob, &to_alice, "b.bin", &bytes(1000, 2));
    let carols = uploaded(&mut carol, &to_alice, "c.bin", &bytes(500, 3));
    let carols_message = send_files(&carol, &c, &to_alice, &[id_of(&carols)], "the receipt");
    let use_now = admin.get_json("/api/admin/files");
    let people: Vec<(String, i64, i64)> = use_now["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["name"].as_str().unwrap().to_string(), u["bytes"].as_i64().unwrap(), u["files"].as_i64().unwrap()))
        .collect();
    assert_eq!(people, [("bob".to_string(), 4000, 2), ("carol".to_string(), 500, 1)], "largest first");
    assert_eq!(use_now["users"][1]["user_id"], c.as_str());
    assert_eq!(use_now["stored_bytes"], 4500);
    assert_eq!(use_now["more"], false);
    let first = admin.get_json("/api/admin/files?limit=1");
    assert_eq!((first["users"].as_array().unwrap().len(), &first["more"]), (1, &json!(true)));
    for bad in ["0", "501", "ten"] {
        assert_eq!(admin.get(&format!("/api/admin/files?limit={bad}")).status, 400, "limit={bad}");
    }
    // Only administrators: a member learns nothing.
    let refused = bob.get("/api/admin/files");
    assert_eq!((refused.status, refused.error()), (403, "administrators only".to_string()));
    // Deleting carol's account deletes her files, and her line; her message keeps its text
    // and says its file is no longer kept, instead of showing an empty attachment.
    let objects = stored(server.data.path()).len();
    assert_eq!(admin.request("DELETE", &format!("/api/admin/users/{c}"), &[], b"").status, 200);
    let after = admin.get_json("/api/admin/files");
    assert_eq!(after["users"].as_array().unwrap().len(), 1);
    assert_eq!(after["users"][0]["name"], "bob");
    assert_eq!(after["stored_bytes"], 4000);
    assert!(eventually(WAIT, || stored(server.data.path()).len() == objects - 1), "carol's bytes are gone");
    let history = admin.get_json(&format!("/api/history/{a}/{c}"));
    let kept = history.as_array().unwrap().iter().find(|m| m["id"] == carols_message["id"]).expect("her message stays");
    assert_eq!(kept["text"], "the receipt");
    assert_eq!(kept["attachments"][0]["name"], "c.bin");
    assert_eq!(kept["attachments"][0]["expired"], true, "{kept}");
    let url = carols["url"].as_str().unwrap();
    let gone = admin.get(url);
    assert_eq!(
        (gone.status, gone.error()),
        (410, "this file is no longer kept: it expired, or its account was deleted".into())
    );
}
