//! Bots: a room's named senders for incoming webhooks. Whoever may manage a room's bots (its
//! creator; see [`Hub::may_manage_bots`]) creates one and gets its token once; the hub keeps
//! only the token's hash. A bot posts only to its room, through the same pipeline as people
//! ([`Hub::post`]), so its messages are stored, counted, delivered, searched and moderated
//! like any. Alerts that report both "firing" and "resolved" become incidents: a resolution
//! replies to the alert it resolves, which is marked resolved (an update with a new `seq`).

use super::messages::{Draft, Scope};
use super::{Hub, RoomId, TokenHash, UserId};
use crate::clock::iso_now;
use crate::db::{BotRecord, Db};
use crate::error::ApiError;
use crate::hooks::Post;
use crate::identity::{Conversation, bot_sender_id};
use crate::limits::Rate;
use crate::protocol::{AlertItem, BotItem, ReplyRef};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bots one room may have.
pub const MAX_BOTS_PER_ROOM: usize = 10;
pub const MAX_BOT_NAME_CHARS: usize = 32;
/// Posts per bot: a burst of 20 (an outage reported by many monitors at once), then one
/// every 3 s.
pub(super) const POST_RATE: Rate = Rate::new(20, Duration::from_secs(3));

#[derive(Clone)]
pub(super) struct Bot {
    id: Arc<str>,
    room: RoomId,
    name: Arc<str>,
    token: Option<TokenHash>,
    created_by: UserId,
    created_at: String,
}

impl Bot {
    fn item(&self) -> BotItem {
        BotItem {
            id: self.id.clone(),
            room_id: self.room.clone(),
            name: self.name.clone(),
            active: self.token.is_some(),
            created_by: self.created_by.clone(),
            created_at: self.created_at.clone(),
        }
    }
}

#[derive(Default)]
pub(super) struct Bots {
    by_id: HashMap<Arc<str>, Bot>,
    by_token: HashMap<TokenHash, Arc<str>>,
}

impl Bots {
    pub fn load(&mut self, db: &Db) -> rusqlite::Result<()> {
        *self = Bots::default();
        for r in db.load_bots()? {
            let bot = Bot {
                id: r.id.into(),
                room: r.room_id.into(),
                name: r.name.into(),
                token: r.token_hash,
                created_by: r.created_by.into(),
                created_at: r.created_at,
            };
            self.insert(bot);
        }
        Ok(())
    }

    fn insert(&mut self, bot: Bot) {
        if let Some(token) = bot.token {
            self.by_token.insert(token, bot.id.clone());
        }
        self.by_id.insert(bot.id.clone(), bot);
    }

    fn remove(&mut self, id: &str) -> Option<Bot> {
        let bot = self.by_id.remove(id)?;
        if let Some(token) = bot.token {
            self.by_token.remove(&token);
        }
        Some(bot)
    }

    fn of_room<'a>(&'a self, room: &'a str) -> impl Iterator<Item = &'a Bot> + 'a {
        self.by_id.values().filter(move |b| &*b.room == room)
    }

    /// A room was deleted (its bots' rows went with it).
    pub fn forget_room(&mut self, room: &str) {
        let ids: Vec<Arc<str>> = self.of_room(room).map(|b| b.id.clone()).collect();
        for id in ids {
            self.remove(&id);
        }
    }
}

/// What became of a webhook post.
#[derive(Debug, Clone)]
pub struct Posted {
    pub id: i64,
    pub room_id: RoomId,
    pub bot_name: Arc<str>,
    /// When it was stored (ISO-8601).
    pub created_at: String,
    /// The alert it answers (a resolution, or a repeat of an open alert).
    pub reply_to: Option<i64>,
    /// The alert it resolved.
    pub resolved: Option<i64>,
}

impl Hub {
    /// Who may create, rotate, revoke and delete a room's bots (being a member): its creator,
    /// and an administrator (a household's admin sets up the alerts of a room others made).
    pub(super) fn may_manage_bots(&self, room: &str, user: &UserId) -> bool {
        self.rooms.is_creator(room, user) || self.is_admin(user)
    }

    fn require_bot_manager(&self, room: &str, user: &UserId) -> Result<RoomId, ApiError> {
        let state = self.rooms.require_member(room, user)?;
        if !self.may_manage_bots(room, user) {
            return Err(ApiError::Forbidden("only the room's creator or an administrator can manage its bots"));
        }
        Ok(state.id.clone())
    }

    fn room_bot(&self, room: &str, bot: &str) -> Result<Bot, ApiError> {
        match self.bots.by_id.get(bot) {
            Some(found) if &*found.room == room => Ok(found.clone()),
            _ => Err(ApiError::NotFound("no such bot in this room")),
        }
    }

    /// `GET /api/rooms/{id}/bots` (members).
    pub fn bots_of(&self, user: &UserId, room: &str) -> Result<Vec<BotItem>, ApiError> {
        let room = self.rooms.require_member(room, user)?.id.clone();
        let mut bots: Vec<&Bot> = self.bots.of_room(&room).collect();
        bots.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(bots.into_iter().map(Bot::item).collect())
    }

    /// `POST /api/rooms/{id}/bots {name}`: a new bot with the token whose hash is `token`.
    pub fn create_bot(&mut self, user: &UserId, room: &str, name: &str, token: TokenHash) -> Result<BotItem, ApiError> {
        let room = self.require_bot_manager(room, user)?;
        let name = crate::names::clean(name, MAX_BOT_NAME_CHARS, "bot name")?;
        if self.bots.of_room(&room).count() >= MAX_BOTS_PER_ROOM {
            return Err(ApiError::Conflict("this room has as many bots as it may (10): delete one first"));
        }
        if self.bots.of_room(&room).any(|b| b.name.to_lowercase() == name.to_lowercase()) {
            return Err(ApiError::Conflict("this room already has a bot of that name"));
        }
        self.take_room_budget(user)?;
        let record = BotRecord {
            id: uuid::Uuid::new_v4().simple().to_string(),
            room_id: room.to_string(),
            name,
            token_hash: Some(token),
            created_by: user.to_string(),
            created_at: iso_now(),
        };
        self.db.insert_bot(&record).map_err(|e| self.internal(e))?;
        let bot = Bot {
            id: record.id.into(),
            room,
            name: record.name.into(),
            token: Some(token),
            created_by: user.clone(),
            created_at: record.created_at,
        };
        log::info!("bot {} created in room {}", bot.name, bot.room);
        let item = bot.item();
        self.bots.insert(bot);
        Ok(item)
    }

    /// `POST /api/rooms/{id}/bots/{bot}/rotate`: a new token; the old one stops working.
    pub fn rotate_bot(&mut self, user: &UserId, room: &str, bot: &str, token: TokenHash) -> Result<BotItem, ApiError> {
        self.set_bot_token(user, room, bot, Some(token))
    }

    /// `POST /api/rooms/{id}/bots/{bot}/revoke`: no token works until the next rotation.
    pub fn revoke_bot(&mut self, user: &UserId, room: &str, bot: &str) -> Result<BotItem, ApiError> {
        self.set_bot_token(user, room, bot, None)
    }

    fn set_bot_token(
        &mut self,
        user: &UserId,
        room: &str,
        bot: &str,
        token: Option<TokenHash>,
    ) -> Result<BotItem, ApiError> {
        let room = self.require_bot_manager(room, user)?;
        let mut found = self.room_bot(&room, bot)?;
        self.db.set_bot_token(&found.id, token.as_ref()).map_err(|e| self.internal(e))?;
        self.bots.remove(&found.id);
        found.token = token;
        log::info!("bot {} {}", found.name, if token.is_some() { "has a new token" } else { "revoked" });
        let item = found.item();
        self.bots.insert(found);
        Ok(item)
    }

    /// `DELETE /api/rooms/{id}/bots/{bot}`: the bot is gone; its messages stay, under its name.
    pub fn delete_bot(&mut self, user: &UserId, room: &str, bot: &str) -> Result<(), ApiError> {
        let room = self.require_bot_manager(room, user)?;
        let found = self.room_bot(&room, bot)?;
        self.db.delete_bot(&found.id).map_err(|e| self.internal(e))?;
        self.bots.remove(&found.id);
        log::info!("bot {} deleted", found.name);
        Ok(())
    }

    /// The bot a token belongs to: its name and its room's name (ntfy's `GET /v1/account`).
    pub fn bot_for_token(&self, token: &TokenHash) -> Result<(Arc<str>, String), ApiError> {
        let bot = self.bot_by_token(token)?;
        let room = self.rooms.room_name(&bot.room).unwrap_or_default();
        Ok((bot.name.clone(), room))
    }

    fn bot_by_token(&self, token: &TokenHash) -> Result<&Bot, ApiError> {
        self.bots
            .by_token
            .get(token)
            .and_then(|id| self.bots.by_id.get(id))
            .ok_or(ApiError::Unauthorized("unknown or revoked bot token"))
    }

    /// An incoming webhook's message, from the bot whose token hashes to `token`, into its
    /// room. Checked first, so a refused post changes nothing: the token, the room, the bot's
    /// rate. Then the alert's lifecycle: a post with a key that an open alert of this bot
    /// has replies to it; if it reports a resolution, the open alert is marked resolved;
    /// a firing alert with a new key is left open.
    pub fn bot_post(&mut self, token: &TokenHash, post: Post) -> Result<Posted, ApiError> {
        let bot = self.bot_by_token(token)?.clone();
        if self.rooms.latest_id(&bot.room).is_none() {
            return Err(ApiError::NotFound("the bot's room is gone"));
        }
        let wait = self.limits.posts_per_bot.take(&bot.id, Instant::now());
        wait.map_err(|wait| ApiError::TooManyRequests { retry_after: crate::limits::retry_after_secs(wait) })?;
        let refunded = bot.id.clone();
        self.undo.refunds.push(Box::new(move |limits| limits.posts_per_bot.refund(&refunded)));

        let scope = Scope { user: bot_sender_id(&bot.id).into(), conversation: Conversation::Room(bot.room.clone()) };
        let open = match &post.key {
            Some(key) => self.db.open_alert(&bot.room, &scope.user, key).map_err(|e| self.internal(e))?,
            None => None,
        };
        let resolving = post.alert.status.as_deref() == Some("resolved");
        let firing = post.alert.status.as_deref() == Some("firing");
        let reply = match open {
            Some(id) => self.resolve_reply(&scope, ReplyRef::Id(id)).ok(),
            None => None,
        };
        let keep_open = if firing && open.is_none() { post.key.as_deref() } else { None };
        let stored = self
            .post(
                &scope,
                &bot.name,
                Draft {
                    text: post.text,
                    reply,
                    client_id: None,
                    attachments: &[],
                    alert: Some((&post.alert, keep_open)),
                },
            )
            .map_err(ApiError::Unavailable)?;
        let id = match stored.id {
            crate::identity::MessageRef::Room(id) | crate::identity::MessageRef::Private(id) => id,
        };
        let resolved = match open {
            Some(original) if resolving => {
                self.resolve_alert(&scope, original, id, &stored.timestamp)?;
                Some(original)
            }
            _ => None,
        };
        Ok(Posted { id, room_id: bot.room, bot_name: bot.name, created_at: stored.timestamp, reply_to: open, resolved })
    }

    /// Marks alert `original` resolved by message `by`, and tells the room.
    fn resolve_alert(&mut self, scope: &Scope, original: i64, by: i64, at: &str) -> Result<(), ApiError> {
        let m = self.stored_in(scope, original).map_err(ApiError::Unavailable)?;
        let mut alert: AlertItem = m.alert.as_deref().and_then(|j| serde_json::from_str(j).ok()).unwrap_or_default();
        alert.status = Some("resolved".into());
        alert.resolved_at = Some(at.to_string());
        alert.resolved_by = Some(by);
        let json = serde_json::to_string(&alert).map_err(|_| ApiError::Internal)?;
        let seq = self.next_seq();
        self.db.resolve_alert(original, &json, seq).map_err(|e| self.internal(e))?;
        self.announce_change(scope, crate::db::StoredMessage { alert: Some(json), seq, ..m });
        Ok(())
    }
}
