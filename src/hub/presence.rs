//! Presence: a user is online while at least one of their global sockets is open.
//!
//! Changes are not broadcast one by one — a thousand users connecting at once would mean a
//! million frames (the seed's storm). They are collected and sent together: a small
//! `presence` event with just the changes to every global socket, at most every 100 ms, and
//! the seed's full `[{id, name, online}]` array to every `/ws/status` socket, at most every
//! 250 ms and less often when the array and the audience are large, so its cost stays bounded.

use super::{Effect, Hub, UserId};
use crate::protocol::{Event, UserStatus};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

const DELTA_EVERY: Duration = Duration::from_millis(100);
const STATUS_EVERY: Duration = Duration::from_millis(250);
/// Status array entries (users × status sockets) sent per second at most, when changes come
/// faster than arrays can usefully go out.
const STATUS_ENTRIES_PER_SECOND: f64 = 400_000.0;

#[derive(Default)]
pub(super) struct Presence {
    /// Open global sockets per online user.
    online: HashMap<UserId, u32>,
    /// Users whose presence (or existence) changed since the last delta.
    changed: HashSet<UserId>,
    delta_due: Option<Instant>,
    last_delta: Option<Instant>,
    status_due: Option<Instant>,
    last_status: Option<Instant>,
    /// The status array as last sent, framed. A status socket that connects gets it even if
    /// a change has happened since: that change has a flush scheduled, which sends the new
    /// array to every status socket, the new one included. So a connect storm serializes the
    /// array once per flush, not once per connect.
    status_cache: Option<Arc<[u8]>>,
    /// A change since the cached array was built.
    status_stale: bool,
}

impl Presence {
    pub fn is_online(&self, user: &UserId) -> bool {
        self.online.contains_key(user)
    }

    pub fn connect(&mut self, user: &UserId) {
        let count = self.online.entry(user.clone()).or_insert(0);
        *count += 1;
        if *count == 1 {
            self.changed(user.clone());
            crate::metrics::USERS_ONLINE.set(self.online.len() as i64);
        }
    }

    pub fn disconnect(&mut self, user: &UserId) {
        if let Some(count) = self.online.get_mut(user) {
            *count -= 1;
            if *count == 0 {
                self.online.remove(user);
                self.changed(user.clone());
                crate::metrics::USERS_ONLINE.set(self.online.len() as i64);
            }
        }
    }

    /// Notes a change to broadcast with the next flush.
    pub fn changed(&mut self, user: UserId) {
        self.changed.insert(user);
        self.status_stale = true;
        let now = Instant::now();
        let earliest = |last: Option<Instant>, every| last.map_or(now, |l: Instant| (l + every).max(now));
        self.delta_due.get_or_insert_with(|| earliest(self.last_delta, DELTA_EVERY));
        self.status_due.get_or_insert_with(|| earliest(self.last_status, STATUS_EVERY));
    }

    pub fn next_flush(&self) -> Option<Instant> {
        match (self.delta_due, self.status_due) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl Hub {
    /// The status array for a socket that just connected (see [`Presence::status_cache`]).
    pub(super) fn status_frame(&mut self) -> Arc<[u8]> {
        if let Some(frame) = &self.presence.status_cache {
            return frame.clone();
        }
        let users = self.user_statuses();
        let frame = crate::transport::frame::json(&users);
        self.presence.status_cache = Some(frame.clone());
        self.presence.status_stale = false;
        frame
    }

    pub(super) fn flush_presence(&mut self, now: Instant) {
        if self.presence.delta_due.is_some_and(|at| at <= now) {
            self.presence.delta_due = None;
            self.presence.last_delta = Some(now);
            let changed: Vec<UserStatus> = std::mem::take(&mut self.presence.changed)
                .iter()
                .filter_map(|id| self.accounts.get(id).map(|u| self.status_of(&u.id, &u.name)))
                .collect();
            if !changed.is_empty() {
                let globals = self.sockets.all_globals();
                self.broadcast(&globals, &Event::Presence { users: &changed });
            }
        }
        if self.presence.status_due.is_some_and(|at| at <= now) {
            self.presence.status_due = None;
            self.presence.last_status = Some(now);
            let audience = self.sockets.status().to_vec();
            if self.presence.status_stale {
                self.presence.status_cache = None;
            }
            if !audience.is_empty() {
                let frame = self.status_frame();
                for conn in &audience {
                    self.effects.push(Effect::Deliver(*conn, frame.clone()));
                }
                // Pace the next array by its cost: entries sent now over the entry budget.
                let entries = (audience.len() * self.accounts.ordered().count()) as f64;
                let pause = Duration::from_secs_f64(entries / STATUS_ENTRIES_PER_SECOND);
                self.presence.last_status = Some(now + pause.saturating_sub(STATUS_EVERY));
            }
        }
    }
}
