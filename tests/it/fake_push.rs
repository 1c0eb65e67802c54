//! A fake push service and a fake browser, for the Web Push tests. The service is plain HTTP
//! on 127.0.0.1 (the server allows it with `--push-private-endpoints on`); it records every
//! request and answers each path as told (201, 404, 410 once, 500, or never). The browser
//! side makes a subscription as a browser would (a P-256 key pair and an auth secret), and
//! decrypts what arrives with its private key (RFC 8291, written here independently of the
//! server's encoder) and checks the VAPID JWT's ES256 signature (RFC 8292).

#![allow(dead_code)]

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64ct::{Base64UrlUnpadded, Encoding};
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::{PublicKey, SecretKey};
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How the fake service answers a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Created,
    /// 410 the first time, 201 afterwards (it must never be asked again).
    GoneOnce,
    NotFound,
    ServerError,
    /// Reads the request and never answers (until the service is dropped).
    Hang,
}

/// A request the service received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub query: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).map_or("", String::as_str)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct State {
    answers: HashMap<String, Answer>,
    received: Vec<Received>,
    hanging: usize,
    stopped: bool,
}

pub struct FakePushService {
    pub addr: SocketAddr,
    state: Arc<(Mutex<State>, Condvar)>,
}

impl FakePushService {
    pub fn start() -> FakePushService {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state: Arc<(Mutex<State>, Condvar)> = Arc::default();
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                if shared.0.lock().unwrap().stopped {
                    return;
                }
                let shared = shared.clone();
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        FakePushService { addr, state }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// How `path` is answered from now on (unlisted paths: 201).
    pub fn answer(&self, path: &str, answer: Answer) {
        self.state.0.lock().unwrap().answers.insert(path.to_string(), answer);
    }

    pub fn received(&self, path: &str) -> Vec<Received> {
        self.state.0.lock().unwrap().received.iter().filter(|r| r.path == path).cloned().collect()
    }

    pub fn count(&self, path: &str) -> usize {
        self.received(path).len()
    }

    /// Requests being held unanswered right now.
    pub fn hanging(&self) -> usize {
        self.state.0.lock().unwrap().hanging
    }

    /// Waits until `path` has received at least `n` requests; returns them all.
    pub fn wait_for(&self, path: &str, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        let (lock, ready) = &*self.state;
        let mut state = lock.lock().unwrap();
        loop {
            let got: Vec<Received> = state.received.iter().filter(|r| r.path == path).cloned().collect();
            if got.len() >= n {
                return got;
            }
            let now = Instant::now();
            assert!(now < deadline, "{path}: {} of {n} requests arrived", got.len());
            state = ready.wait_timeout(state, deadline - now).unwrap().0;
        }
    }
}

impl Drop for FakePushService {
    fn drop(&mut self) {
        self.state.0.lock().unwrap().stopped = true;
        self.state.1.notify_all();
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(mut stream: TcpStream, state: &(Mutex<State>, Condvar)) {
    stream.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let (request, head_len) = loop {
        let Ok(n) = stream.read(&mut chunk) else { return };
        if n == 0 {
            return;
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Request::new(&mut headers);
        if let Ok(httparse::Status::Complete(len)) = parsed.parse(&buf) {
            let target = parsed.path.unwrap_or("/").to_string();
            let (path, query) = target.split_once('?').unwrap_or((&target, ""));
            let headers: HashMap<String, String> = parsed
                .headers
                .iter()
                .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).to_string()))
                .collect();
            break (Received { path: path.to_string(), query: query.to_string(), headers, body: Vec::new() }, len);
        }
    };
    let length: usize = request.headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    while buf.len() < head_len + length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let request = Received { body: buf[head_len..head_len + length].to_vec(), ..request };
    let (lock, ready) = state;
    let mut s = lock.lock().unwrap();
    let answer = s.answers.get(&request.path).copied().unwrap_or(Answer::Created);
    let seen_before = s.received.iter().any(|r| r.path == request.path);
    s.received.push(request);
    ready.notify_all();
    let status = match answer {
        Answer::Created => "201 Created",
        Answer::GoneOnce if !seen_before => "410 Gone",
        Answer::GoneOnce => "201 Created",
        Answer::NotFound => "404 Not Found",
        Answer::ServerError => "500 Internal Server Error",
        Answer::Hang => {
            s.hanging += 1;
            while !s.stopped {
                s = ready.wait(s).unwrap();
            }
            return;
        }
    };
    drop(s);
    let _ = stream.write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
}

/// A browser's side of a subscription.
pub struct Browser {
    secret: SecretKey,
    pub public: Vec<u8>,
    pub auth: [u8; 16],
    pub endpoint: String,
}

impl Browser {
    pub fn new(endpoint: String) -> Browser {
        let secret = loop {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).unwrap();
            if let Ok(key) = SecretKey::from_slice(&bytes) {
                break key;
            }
        };
        let mut auth = [0u8; 16];
        getrandom::fill(&mut auth).unwrap();
        let public = secret.public_key().to_sec1_bytes().to_vec();
        Browser { secret, public, auth, endpoint }
    }

    /// What `PushSubscription.toJSON()` gives.
    pub fn subscription(&self) -> Value {
        json!({
            "endpoint": self.endpoint,
            "expirationTime": null,
            "keys": {
                "p256dh": Base64UrlUnpadded::encode_string(&self.public),
                "auth": Base64UrlUnpadded::encode_string(&self.auth),
            }
        })
    }

    /// Decrypts an `aes128gcm` push body (RFC 8291 / RFC 8188) and parses the JSON payload.
    pub fn decrypt(&self, body: &[u8]) -> Value {
        assert!(body.len() > 21 + 65 + 16, "body too short: {}", body.len());
        let salt = &body[..16];
        let record_size = u32::from_be_bytes(body[16..20].try_into().unwrap()) as usize;
        let id_len = body[20] as usize;
        assert_eq!(id_len, 65, "the key id is the sender's uncompressed public key");
        let as_public = &body[21..21 + id_len];
        let ciphertext = &body[21 + id_len..];
        assert!(ciphertext.len() <= record_size, "one record");
        let sender = PublicKey::from_sec1_bytes(as_public).expect("a P-256 point");
        let shared = self.secret.diffie_hellman(&sender);
        let mut info = b"WebPush: info\0".to_vec();
        info.extend_from_slice(&self.public);
        info.extend_from_slice(as_public);
        let mut ikm = [0u8; 32];
        Hkdf::<Sha256>::new(Some(&self.auth), shared.raw_secret_bytes()).expand(&info, &mut ikm).unwrap();
        let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
        let (mut key, mut nonce) = ([0u8; 16], [0u8; 12]);
        prk.expand(b"Content-Encoding: aes128gcm\0", &mut key).unwrap();
        prk.expand(b"Content-Encoding: nonce\0", &mut nonce).unwrap();
        let mut plain = Aes128Gcm::new_from_slice(&key)
            .unwrap()
            .decrypt(&Nonce::from(nonce), ciphertext)
            .expect("decrypts with the subscription's private key");
        // The last record: data, then the delimiter 0x02, then zero padding.
        while plain.last() == Some(&0) {
            plain.pop();
        }
        assert_eq!(plain.pop(), Some(2), "last-record delimiter");
        serde_json::from_slice(&plain).expect("a JSON payload")
    }
}

/// Checks a push's `Authorization: vapid t=<jwt>, k=<key>` against the server's public key
/// and returns the JWT's claims.
pub fn verify_vapid(authorization: &str, server_key: &str) -> Value {
    let rest = authorization.strip_prefix("vapid ").expect("the vapid scheme");
    let mut token = None;
    let mut key = None;
    for part in rest.split(',') {
        let (name, value) = part.trim().split_once('=').expect("t=... and k=...");
        match name {
            "t" => token = Some(value),
            "k" => key = Some(value),
            _ => {}
        }
    }
    let (token, key) = (token.expect("t="), key.expect("k="));
    assert_eq!(key, server_key, "k= is the key of GET /api/push/key");
    let (input, signature) = token.rsplit_once('.').unwrap();
    let (header, claims) = input.split_once('.').unwrap();
    let header: Value = serde_json::from_slice(&Base64UrlUnpadded::decode_vec(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "ES256");
    let verifying = VerifyingKey::from_sec1_bytes(&Base64UrlUnpadded::decode_vec(key).unwrap()).unwrap();
    let signature = Signature::from_slice(&Base64UrlUnpadded::decode_vec(signature).unwrap()).unwrap();
    verifying.verify(input.as_bytes(), &signature).expect("the JWT's signature verifies");
    serde_json::from_slice(&Base64UrlUnpadded::decode_vec(claims).unwrap()).unwrap()
}
