//! Who gets a push: the user's browsers that subscribed to Web Push, and their ntfy/Gotify
//! forward, for messages that arrive while the user has no socket open (a user who is reading
//! is not buzzed). The subscriptions and forwards are kept in memory, in step with
//! `users.db`; jobs go to the [`Pusher`](crate::push::Pusher) only once the batch that
//! stored the message has committed (an effect), and the sender threads report back
//! ([`Hub::push_report`]) which subscriptions their push services have dropped.

use super::{Effect, Hub, RoomId, SessionUser, UserId};
use crate::clock::{iso_now, unix_now};
use crate::db::{Db, ForwardRecord, SubscriptionRecord};
use crate::error::ApiError;
use crate::protocol::{PrivateItem, RoomItem};
use crate::push::{Forward, ForwardKind, Job, Notification, Outcome, Party, Report, Subscription, Target};
use std::collections::HashMap;
use std::sync::Arc;

/// Browsers (subscriptions) one user may have.
pub const MAX_SUBSCRIPTIONS_PER_USER: usize = 20;
/// A subscription neither confirmed by its browser nor delivered to for this long expires.
pub const SUBSCRIPTION_IDLE_SECS: i64 = 60 * 86_400;
/// A delivery updates `last_success` at most this often (seconds).
const SUCCESS_EVERY: i64 = 3600;

struct Device {
    sub: Subscription,
    last_seen: i64,
    last_success: Option<i64>,
}

impl Device {
    fn last_used(&self) -> i64 {
        self.last_seen.max(self.last_success.unwrap_or(0))
    }
}

#[derive(Default)]
pub(super) struct PushState {
    devices: HashMap<UserId, Vec<Device>>,
    /// Endpoint → the user holding it.
    owners: HashMap<String, UserId>,
    forwards: HashMap<UserId, Forward>,
}

impl PushState {
    pub fn load(&mut self, db: &Db) -> rusqlite::Result<()> {
        *self = PushState::default();
        for r in db.load_push_subscriptions()? {
            let device = Device {
                sub: Subscription { endpoint: r.endpoint, p256dh: r.p256dh, auth: r.auth, origin: r.origin },
                last_seen: r.last_seen,
                last_success: r.last_success,
            };
            self.insert(r.user_id.into(), device);
        }
        for r in db.load_push_forwards()? {
            let Some(kind) = ForwardKind::parse(&r.kind) else { continue };
            let forward = Forward { kind, url: r.url, token: r.token, origin: r.origin };
            self.forwards.insert(r.user_id.into(), forward);
        }
        Ok(())
    }

    fn insert(&mut self, user: UserId, device: Device) {
        self.owners.insert(device.sub.endpoint.clone(), user.clone());
        self.devices.entry(user).or_default().push(device);
    }

    fn device_mut(&mut self, endpoint: &str) -> Option<&mut Device> {
        let owner = self.owners.get(endpoint)?;
        self.devices.get_mut(owner)?.iter_mut().find(|d| d.sub.endpoint == endpoint)
    }

    /// Forgets a subscription; the device it was, if there was one.
    fn remove(&mut self, endpoint: &str) -> Option<Device> {
        let user = self.owners.remove(endpoint)?;
        let list = self.devices.get_mut(&user)?;
        let index = list.iter().position(|d| d.sub.endpoint == endpoint)?;
        let device = list.remove(index);
        if list.is_empty() {
            self.devices.remove(&user);
        }
        Some(device)
    }
}

/// A user's forward as the API shows it: the token only as a hint.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ForwardView {
    pub kind: &'static str,
    pub url: String,
    /// The token's last four characters, or `null` if none is set.
    pub token_hint: Option<String>,
}

fn party(id: &str, name: &str) -> Party {
    Party { id: id.to_string(), name: name.to_string() }
}

impl Hub {
    /// A deleted account's devices and forward go with it.
    pub(super) fn forget_push_of(&mut self, user: &UserId) -> Result<(), ApiError> {
        let endpoints: Vec<String> =
            self.push.devices.get(user).map(|l| l.iter().map(|d| d.sub.endpoint.clone()).collect()).unwrap_or_default();
        for endpoint in &endpoints {
            self.db.delete_push_subscription(endpoint).map_err(|e| self.internal(e))?;
            self.push.remove(endpoint);
        }
        self.db.delete_push_forward(user).map_err(|e| self.internal(e))?;
        self.push.forwards.remove(user);
        Ok(())
    }

    /// A private message: its recipient, if away and not muting the sender.
    pub(super) fn push_private(&mut self, item: &PrivateItem) {
        let (recipient, sender): (UserId, UserId) = (item.receiver_id.clone(), item.sender_id.clone());
        if recipient == sender || !self.is_away(&recipient) {
            return;
        }
        if !self.private_level(&recipient, &sender).alerts(false, true, false) {
            return;
        }
        let text = preview(&item.text, item.meta.attachments.len());
        let notification = Notification::private(party(&item.sender_id, &item.user), &text, item.id);
        self.push_to(&recipient, notification);
    }

    /// A room message: every member but the sender who is away and whose level it reaches
    /// (a mention reaches "mentions").
    pub(super) fn push_room(&mut self, members: &[UserId], room_name: &str, item: &RoomItem) {
        // Most members of a busy room are online: they are skipped before anything is built.
        let mut away = members.iter().filter(|m| ***m != *item.sender_id && self.is_away(m)).peekable();
        if away.peek().is_none() {
            return;
        }
        let room: RoomId = item.room_id.as_str().into();
        // An urgent alert of a bot reaches members who only want mentions (never the muted).
        let urgent = item.alert.as_ref().is_some_and(|alert| alert.urgent);
        let notified: Vec<UserId> = away
            .filter(|member| {
                let mentioned = item.meta.mentions.contains(member);
                self.rooms.level_of(&room, member).unwrap_or_default().alerts(mentioned, false, urgent)
            })
            .cloned()
            .collect();
        if notified.is_empty() {
            return;
        }
        let text = preview(&item.text, item.meta.attachments.len());
        for member in &notified {
            let sender = party(&item.sender_id, &item.user);
            self.push_to(member, Notification::room(&item.room_id, room_name, sender, &text, item.id));
        }
    }

    /// No socket of `user` is open: what a push is for (a user who is reading is not buzzed).
    fn is_away(&self, user: &UserId) -> bool {
        self.sockets.count_of(user) == 0
    }

    /// Pushes to `user`'s browsers and forward, unless a socket of theirs is open.
    pub(super) fn push_to(&mut self, user: &UserId, notification: Notification) {
        if !self.is_away(user) {
            return;
        }
        let notification = Arc::new(notification);
        self.push_devices(user, &notification);
        self.push_forward(user, &notification);
    }

    fn push_devices(&mut self, user: &UserId, notification: &Arc<Notification>) -> usize {
        let subs: Vec<Subscription> =
            self.push.devices.get(user).map(|l| l.iter().map(|d| d.sub.clone()).collect()).unwrap_or_default();
        for sub in &subs {
            let job = Job::new(user.clone(), Target::Device(sub.clone()), notification.clone());
            self.effects.push(Effect::Push(job));
        }
        subs.len()
    }

    fn push_forward(&mut self, user: &UserId, notification: &Arc<Notification>) -> bool {
        let Some(forward) = self.push.forwards.get(user).cloned() else { return false };
        self.effects.push(Effect::Push(Job::new(user.clone(), Target::Forward(forward), notification.clone())));
        true
    }

    /// `POST /api/push/subscribe`: stores (or refreshes) a browser's subscription, checked by
    /// the worker. A subscription another user held moves to this one.
    pub fn push_subscribe(
        &mut self,
        user: &UserId,
        sub: Subscription,
        user_agent: Option<String>,
    ) -> Result<(), ApiError> {
        let mine =
            self.push.devices.get(user).map_or(0, |l| l.iter().filter(|d| d.sub.endpoint != sub.endpoint).count());
        if mine >= MAX_SUBSCRIPTIONS_PER_USER {
            return Err(ApiError::Conflict(
                "notifications are on for 20 devices already; turn them off on one you no longer use",
            ));
        }
        let now = unix_now();
        let record = SubscriptionRecord {
            user_id: user.to_string(),
            endpoint: sub.endpoint.clone(),
            p256dh: sub.p256dh.clone(),
            auth: sub.auth.clone(),
            origin: sub.origin.clone(),
            user_agent,
            last_seen: now,
            last_success: None,
        };
        self.db.upsert_push_subscription(&record, &iso_now()).map_err(|e| self.internal(e))?;
        let last_success = self.push.remove(&sub.endpoint).and_then(|d| d.last_success);
        self.push.insert(user.clone(), Device { sub, last_seen: now, last_success });
        Ok(())
    }

    /// `POST /api/push/unsubscribe`: forgets one of the caller's subscriptions.
    pub fn push_unsubscribe(&mut self, user: &UserId, endpoint: &str) -> Result<(), ApiError> {
        if self.push.owners.get(endpoint) != Some(user) {
            return Err(ApiError::NotFound("no such subscription of yours"));
        }
        self.db.delete_push_subscription(endpoint).map_err(|e| self.internal(e))?;
        self.push.remove(endpoint);
        Ok(())
    }

    /// `POST /api/push/test`: a visible notification to every browser of the caller that has
    /// notifications on, socket or not; how many.
    pub fn push_test(&mut self, user: &SessionUser) -> Result<usize, ApiError> {
        let notification = Arc::new(Notification::test(party(&user.id, &user.name)));
        match self.push_devices(&user.id, &notification) {
            0 => Err(ApiError::NotFound("no device of yours has notifications on")),
            n => Ok(n),
        }
    }

    /// `POST /api/push/forward/test`: the test notification through the caller's forward.
    pub fn push_forward_test(&mut self, user: &SessionUser) -> Result<(), ApiError> {
        let notification = Arc::new(Notification::test(party(&user.id, &user.name)));
        if self.push_forward(&user.id, &notification) {
            Ok(())
        } else {
            Err(ApiError::NotFound("no forward is set up"))
        }
    }

    /// `GET /api/push/forward`.
    pub fn push_forward_view(&self, user: &UserId) -> Option<ForwardView> {
        self.push.forwards.get(user).map(|f| ForwardView {
            kind: f.kind.name(),
            url: f.url.clone(),
            token_hint: f.token.as_deref().map(token_hint),
        })
    }

    /// `PUT /api/push/forward` (checked by the worker) and `DELETE`: `None` removes it. A
    /// `token` of `None` with `keep_token` keeps the stored one (the API never shows it).
    pub fn set_push_forward(
        &mut self,
        user: &UserId,
        forward: Option<Forward>,
        keep_token: bool,
    ) -> Result<Option<ForwardView>, ApiError> {
        let Some(mut forward) = forward else {
            self.db.delete_push_forward(user).map_err(|e| self.internal(e))?;
            self.push.forwards.remove(user);
            return Ok(None);
        };
        if keep_token && forward.token.is_none() {
            forward.token = self.push.forwards.get(user).and_then(|f| f.token.clone());
        }
        let record = ForwardRecord {
            user_id: user.to_string(),
            kind: forward.kind.name().to_string(),
            url: forward.url.clone(),
            token: forward.token.clone(),
            origin: forward.origin.clone(),
        };
        self.db.set_push_forward(&record, &iso_now()).map_err(|e| self.internal(e))?;
        self.push.forwards.insert(user.clone(), forward);
        Ok(self.push_forward_view(user))
    }

    /// What a sender thread learned: a push service dropped a subscription (forget it), or
    /// took a push (the subscription is in use).
    pub fn push_report(&mut self, report: Report) {
        let Some(endpoint) = report.endpoint else { return };
        match report.outcome {
            Outcome::Gone => {
                if self.push.remove(&endpoint).is_some() {
                    log::info!("a push subscription of {} is gone; forgotten", report.user);
                    if let Err(e) = self.db.delete_push_subscription(&endpoint) {
                        log::warn!("could not delete a push subscription: {e}");
                    }
                }
            }
            Outcome::Delivered => {
                let now = unix_now();
                let Some(device) = self.push.device_mut(&endpoint) else { return };
                if device.last_success.is_some_and(|t| now - t < SUCCESS_EVERY) {
                    return;
                }
                device.last_success = Some(now);
                if let Err(e) = self.db.push_delivered(&endpoint, now) {
                    log::warn!("could not record a push delivery: {e}");
                }
            }
            Outcome::Failed => {}
        }
    }

    /// Forgets subscriptions unused for [`SUBSCRIPTION_IDLE_SECS`] (housekeeping).
    pub(super) fn expire_push_subscriptions(&mut self) {
        let before = unix_now() - SUBSCRIPTION_IDLE_SECS;
        let stale: Vec<String> = self
            .push
            .devices
            .values()
            .flatten()
            .filter(|d| d.last_used() < before)
            .map(|d| d.sub.endpoint.clone())
            .collect();
        let expired = stale.len();
        for endpoint in stale {
            self.push.remove(&endpoint);
        }
        match self.db.delete_stale_push_subscriptions(before) {
            Ok(_) if expired > 0 => log::info!("{expired} push subscriptions unused for 60 days expired"),
            Ok(_) => {}
            Err(e) => log::warn!("could not expire push subscriptions: {e}"),
        }
    }
}

/// The last four characters of a token, so its owner can tell which one is stored.
fn token_hint(token: &str) -> String {
    let chars: Vec<char> = token.chars().collect();
    if chars.len() <= 8 {
        return "…".into();
    }
    format!("…{}", chars[chars.len() - 4..].iter().collect::<String>())
}

/// What a notification says of a message: its text, or that it brought files.
fn preview(text: &str, files: usize) -> String {
    match (text.trim().is_empty(), files) {
        (true, 1) => "📎 a file".to_string(),
        (true, n) if n > 1 => format!("📎 {n} files"),
        _ => text.to_string(),
    }
}
