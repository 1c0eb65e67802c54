//! Users and rooms the scenarios need, made through the real API: `POST /register` (an
//! Argon2 hash each, so a small pool of concurrent clients), `POST /api/rooms/create` and
//! `add_user`. Made once per run and reused by every scenario (sessions live in the data
//! dir, so they survive a server restart).

use crate::client::Client;
use crate::stats::{self, Histogram};
use crate::sys;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench-password-1";
const TIMEOUT: Duration = Duration::from_secs(30);
/// Tries per registration while the server answers 503 (every hashing permit taken).
const BUSY_RETRIES: usize = 40;

/// What one registration thread made: (index, user, nanoseconds it took).
type Registered = Result<Vec<(usize, User, u64)>, String>;

#[derive(Clone, Debug)]
pub struct User {
    pub id: String,
    /// The `cookie` header value that authenticates as this user.
    pub cookie: Arc<str>,
}

pub struct Setup {
    pub users: Vec<User>,
    /// Rooms made so far: (member count, id); members are `users[..count]`.
    rooms: Vec<(usize, String)>,
    /// Unique per run, so names never collide with an existing data dir's.
    prefix: String,
    pub concurrency: usize,
    /// Registration timings, for the report.
    pub registration: Histogram,
    pub registration_wall: Duration,
}

impl Setup {
    pub fn new(concurrency: usize) -> Setup {
        let prefix = format!("b{:06x}", crate::wire::Rng::from_os().next() & 0xFF_FFFF);
        Setup {
            users: Vec::new(),
            rooms: Vec::new(),
            prefix,
            concurrency: concurrency.max(1),
            registration: Histogram::default(),
            registration_wall: Duration::ZERO,
        }
    }

    /// Registers users until there are `n`.
    pub fn ensure_users(&mut self, addr: SocketAddr, n: usize) -> Result<(), String> {
        let first = self.users.len();
        if n <= first {
            return Ok(());
        }
        eprintln!("registering {} users ({} at a time)...", n - first, self.concurrency);
        let started = Instant::now();
        let next = AtomicUsize::new(first);
        let results: Vec<Registered> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..self.concurrency)
                .map(|_| {
                    scope.spawn(|| {
                        let mut client = Client::new(addr, TIMEOUT);
                        let mut made = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= n {
                                return Ok(made);
                            }
                            let name = format!("{}u{i}", self.prefix);
                            let t = sys::now_ns();
                            let user = register(&mut client, &name)?;
                            made.push((i, user, sys::now_ns() - t));
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|_| Err("a registration thread panicked".into())))
                .collect()
        });
        let mut made = Vec::new();
        for result in results {
            made.extend(result?);
        }
        made.sort_by_key(|(i, _, _)| *i);
        for (_, user, ns) in made {
            self.registration.record(ns);
            self.users.push(user);
        }
        self.registration_wall += started.elapsed();
        eprintln!("  {} users in {:.1} s", n - first, started.elapsed().as_secs_f64());
        Ok(())
    }

    /// A room whose members are exactly `users[..members]` (created by `users[0]`).
    pub fn room_exact(&mut self, addr: SocketAddr, members: usize) -> Result<String, String> {
        if let Some((_, id)) = self.rooms.iter().find(|(m, _)| *m == members) {
            return Ok(id.clone());
        }
        self.make_room(addr, members)
    }

    /// A room whose members include `users[..members]`: an existing bigger one will do.
    pub fn room_at_least(&mut self, addr: SocketAddr, members: usize) -> Result<String, String> {
        if let Some((_, id)) = self.rooms.iter().filter(|(m, _)| *m >= members).min_by_key(|(m, _)| *m) {
            return Ok(id.clone());
        }
        self.make_room(addr, members.max(self.users.len()))
    }

    fn make_room(&mut self, addr: SocketAddr, members: usize) -> Result<String, String> {
        self.ensure_users(addr, members.max(1))?;
        let owner = self.users[0].cookie.clone();
        let mut client = Client::new(addr, TIMEOUT);
        let body = json!({ "name": format!("bench {} ({members})", self.prefix), "description": "mychat-bench" });
        let response = client
            .request(
                "POST",
                "/api/rooms/create",
                &[("cookie", &owner), ("content-type", "application/json")],
                body.to_string().as_bytes(),
            )
            .map_err(|e| format!("creating a room: {e}"))?;
        if response.status() != 201 {
            return Err(format!("creating a room: {} {}", response.status(), response.text()));
        }
        let room: Value = serde_json::from_slice(&response.body).map_err(|e| format!("room JSON: {e}"))?;
        let id = room.get("id").and_then(Value::as_str).ok_or("the new room has no id")?.to_string();
        for user in &self.users[1..members] {
            let body = json!({ "user_id": user.id }).to_string();
            let path = format!("/api/rooms/{id}/add_user");
            let headers = [("cookie", &*owner), ("content-type", "application/json")];
            let response =
                client.request("POST", &path, &headers, body.as_bytes()).map_err(|e| format!("add_user: {e}"))?;
            if response.status() != 200 {
                return Err(format!("add_user: {} {}", response.status(), response.text()));
            }
        }
        eprintln!("room {id} with {members} members ready");
        self.rooms.push((members, id.clone()));
        Ok(id)
    }

    /// The registration figures, as a report row's results.
    pub fn json(&self) -> Value {
        let n = self.registration.count;
        let wall = self.registration_wall.as_secs_f64();
        json!({
            "users": n,
            "wall_s": stats::round2(wall),
            "registrations_per_s": if wall > 0.0 { stats::round2(n as f64 / wall) } else { 0.0 },
            "latency": self.registration.json_ms(),
        })
    }
}

fn register(client: &mut Client, name: &str) -> Result<User, String> {
    let form = format!("username={name}&password={PASSWORD}");
    for _ in 0..BUSY_RETRIES {
        let response = client
            .request("POST", "/register", &[("content-type", "application/x-www-form-urlencoded")], form.as_bytes())
            .map_err(|e| format!("registering {name}: {e}"))?;
        match response.status() {
            303 => {
                let session = response.cookie("mychat_session").ok_or("no mychat_session cookie in the 303")?;
                let id = response.cookie("user_id").ok_or("no user_id cookie in the 303")?;
                return Ok(User { id: id.to_string(), cookie: format!("mychat_session={session}").into() });
            }
            503 => std::thread::sleep(Duration::from_millis(50)),
            429 => {
                return Err(format!(
                    "registering {name}: 429 {} — the server limits registrations per address; \
                     run it with --rate-limits off",
                    response.text()
                ));
            }
            status => return Err(format!("registering {name}: {status} {}", response.text())),
        }
    }
    Err(format!("registering {name}: the server stayed busy (503)"))
}
