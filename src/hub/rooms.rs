//! Rooms: management, membership (live: sockets follow it), history, and each member's read
//! position and notification level. Room messages are sent and acted on in
//! [`super::messages`], the same way as private ones.

use super::messages::{Level, Rendered};
use super::{Hub, Page, RoomId, UserId};
use crate::clock::iso_now;
use crate::db::{Db, RoomRecord, Thread};
use crate::error::ApiError;
use crate::identity::Conversation;
use crate::protocol::{ChatRef, Event, Member, RoomItem, RoomSummary};
use std::collections::HashMap;

pub const MAX_ROOM_NAME_CHARS: usize = 64;
pub const MAX_ROOM_DESCRIPTION_CHARS: usize = 500;

/// Rooms one user may have created (and not deleted).
pub const MAX_ROOMS_PER_CREATOR: usize = 100;
/// Rooms one user may be a member of.
pub const MAX_ROOMS_PER_MEMBER: usize = 500;
/// Members one room may have.
pub const MAX_MEMBERS_PER_ROOM: usize = 1000;
/// Unread counts are kept up to this (and shown as "999 or more" beyond).
const COUNT_CAP: i64 = crate::db::UNREAD_CAP + 1;

/// A member of a room.
pub(super) struct MemberState {
    pub id: UserId,
    /// The last message they have read.
    pub last_read: i64,
    pub level: Level,
    /// Others' messages after `last_read`, and those of them that mention this member: kept
    /// up to date here so listing rooms asks the database nothing.
    unread: i64,
    mentions: i64,
}

impl MemberState {
    fn new(id: UserId, last_read: i64) -> MemberState {
        MemberState { id, last_read, level: Level::All, unread: 0, mentions: 0 }
    }
}

pub(super) struct RoomState {
    pub id: RoomId,
    pub name: String,
    description: String,
    creator: UserId,
    pub created_at: String,
    /// Members in the order they joined.
    members: Vec<MemberState>,
    /// The newest message id in the room (0: none yet).
    pub latest_id: i64,
}

impl RoomState {
    fn member(&self, user: &UserId) -> Option<&MemberState> {
        self.members.iter().find(|m| m.id == *user)
    }

    fn is_member(&self, user: &UserId) -> bool {
        self.member(user).is_some()
    }

    pub fn member_count(&self) -> usize {
        self.members.len()
    }

    /// `user`'s notification level here (members only).
    pub fn level_of(&self, user: &UserId) -> Option<Level> {
        self.member(user).map(|m| m.level)
    }
}

#[derive(Default)]
pub(super) struct Rooms {
    by_id: HashMap<RoomId, RoomState>,
    /// Room ids per member, in the order they joined.
    of_user: HashMap<UserId, Vec<RoomId>>,
}

impl Rooms {
    pub fn load(&mut self, db: &Db) -> rusqlite::Result<()> {
        *self = Rooms::default();
        for r in db.load_rooms()? {
            let id: RoomId = r.id.into();
            let latest_id = db.room_latest_id(&id)?;
            let state = RoomState {
                id: id.clone(),
                name: r.name,
                description: r.description,
                creator: r.creator_id.into(),
                created_at: r.created_at,
                members: Vec::new(),
                latest_id,
            };
            self.by_id.insert(id, state);
        }
        for m in db.load_memberships()? {
            if let Some(state) = self.by_id.get_mut(m.room_id.as_str()) {
                let user: UserId = m.user_id.into();
                let level = Level::parse(&m.notify).unwrap_or_default();
                let unread = db.room_unread(&state.id, &user, m.last_read_id)?;
                let mentions = db.room_unread_mentions(&state.id, &user, m.last_read_id)?;
                let member = MemberState { id: user.clone(), last_read: m.last_read_id, level, unread, mentions };
                state.members.push(member);
                self.of_user.entry(user).or_default().push(state.id.clone());
            }
        }
        Ok(())
    }

    /// A member's unread messages and unread mentions here.
    pub fn counts(&self, room: &str, user: &UserId) -> (i64, i64) {
        let member = self.by_id.get(room).and_then(|r| r.member(user));
        member.map_or((0, 0), |m| (m.unread.min(crate::db::UNREAD_CAP), m.mentions.min(crate::db::UNREAD_CAP)))
    }

    /// Counts a new message for every member but its sender.
    pub fn note_message(&mut self, room: &str, sender: &UserId, mentioned: &[UserId]) {
        let Some(state) = self.by_id.get_mut(room) else { return };
        for m in state.members.iter_mut().filter(|m| m.id != *sender) {
            m.unread = (m.unread + 1).min(COUNT_CAP);
            if mentioned.contains(&m.id) {
                m.mentions = (m.mentions + 1).min(COUNT_CAP);
            }
        }
    }

    /// Un-counts message `id` (deleted) for members who had not read it; `mention_change`
    /// members had it counted as a mention.
    pub fn note_unmessage(&mut self, room: &str, sender: &str, id: i64, mentioned: &[UserId]) {
        let Some(state) = self.by_id.get_mut(room) else { return };
        for m in state.members.iter_mut().filter(|m| *m.id != *sender && m.last_read < id) {
            m.unread = (m.unread - 1).max(0);
            if mentioned.contains(&m.id) {
                m.mentions = (m.mentions - 1).max(0);
            }
        }
    }

    /// A message's mentions changed (an edit): members who had not read it count the change.
    pub fn note_mentions_changed(&mut self, room: &str, id: i64, before: &[UserId], after: &[UserId]) {
        let Some(state) = self.by_id.get_mut(room) else { return };
        for m in state.members.iter_mut().filter(|m| m.last_read < id) {
            match (before.contains(&m.id), after.contains(&m.id)) {
                (false, true) => m.mentions = (m.mentions + 1).min(COUNT_CAP),
                (true, false) => m.mentions = (m.mentions - 1).max(0),
                _ => {}
            }
        }
    }

    /// Stores a member's counts, counted again after their read position moved.
    pub fn set_counts(&mut self, room: &str, user: &UserId, unread: i64, mentions: i64) {
        if let Some(m) = self.by_id.get_mut(room).and_then(|r| r.members.iter_mut().find(|m| m.id == *user)) {
            m.unread = unread;
            m.mentions = mentions;
        }
    }

    fn get(&self, room: &str) -> Result<&RoomState, ApiError> {
        self.by_id.get(room).ok_or(ApiError::NotFound("no such room"))
    }

    pub fn get_mut(&mut self, room: &str) -> Option<&mut RoomState> {
        self.by_id.get_mut(room)
    }

    /// The room, if `user` is a member; 404 if there is no such room, 403 if not a member.
    pub fn require_member(&self, room: &str, user: &UserId) -> Result<&RoomState, ApiError> {
        let state = self.get(room)?;
        if state.is_member(user) { Ok(state) } else { Err(ApiError::Forbidden("you are not a member of this room")) }
    }

    fn require_creator(&self, room: &str, user: &UserId) -> Result<&RoomState, ApiError> {
        let state = self.get(room)?;
        if state.creator == *user { Ok(state) } else { Err(ApiError::Forbidden("only the room's creator can do that")) }
    }

    pub fn is_creator(&self, room: &str, user: &UserId) -> bool {
        self.by_id.get(room).is_some_and(|r| r.creator == *user)
    }

    pub fn member_ids(&self, room: &str) -> Vec<UserId> {
        self.by_id.get(room).map(|r| r.members.iter().map(|m| m.id.clone()).collect()).unwrap_or_default()
    }

    pub fn room_name(&self, room: &str) -> Option<String> {
        self.by_id.get(room).map(|r| r.name.clone())
    }

    /// `user`'s notification level in a room (members only).
    pub fn level_of(&self, room: &str, user: &UserId) -> Option<Level> {
        self.by_id.get(room).and_then(|r| r.level_of(user))
    }

    pub fn latest_id(&self, room: &str) -> Option<i64> {
        self.by_id.get(room).map(|r| r.latest_id)
    }

    pub fn last_read(&self, room: &str, user: &UserId) -> Option<i64> {
        self.by_id.get(room).and_then(|r| r.member(user)).map(|m| m.last_read)
    }

    /// Moves a member's read position forward; whether it moved.
    pub fn set_last_read(&mut self, room: &str, user: &UserId, up_to: i64) -> bool {
        let Some(member) = self.by_id.get_mut(room).and_then(|r| r.members.iter_mut().find(|m| m.id == *user)) else {
            return false;
        };
        if member.last_read >= up_to {
            return false;
        }
        member.last_read = up_to;
        true
    }

    /// `user`'s rooms, in the order they joined them.
    pub fn of_user(&self, user: &UserId) -> impl Iterator<Item = &RoomState> {
        self.of_user.get(user).into_iter().flatten().filter_map(|id| self.by_id.get(id))
    }
}

/// Trims and checks a room name and description.
fn clean_room_fields(name: &str, description: &str) -> Result<(String, String), ApiError> {
    let name = crate::names::clean(name, MAX_ROOM_NAME_CHARS, "room name")?;
    let description = description.trim();
    if description.chars().count() > MAX_ROOM_DESCRIPTION_CHARS {
        return Err(ApiError::bad_request("room description must be at most 500 characters"));
    }
    if name.chars().chain(description.chars()).any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::bad_request("room name and description must not contain control characters"));
    }
    Ok((name, description.to_string()))
}

impl Hub {
    /// A room as `viewer` sees it (unread counts and level are the viewer's); as everyone sees
    /// it without a viewer.
    fn summary(&self, room: &RoomState, viewer: Option<&UserId>) -> Result<RoomSummary, ApiError> {
        let (unread, mentions, notify) = match viewer.and_then(|user| room.member(user)) {
            Some(member) => (
                Some(member.unread.min(crate::db::UNREAD_CAP)),
                Some(member.mentions.min(crate::db::UNREAD_CAP)),
                Some(member.level.as_str()),
            ),
            None => (None, None, None),
        };
        let creator_name = self.accounts.get(&room.creator).map_or_else(|| room.creator.clone(), |u| u.name.clone());
        Ok(RoomSummary {
            id: room.id.clone(),
            name: room.name.clone(),
            description: room.description.clone(),
            creator_id: room.creator.clone(),
            creator_name,
            created_at: room.created_at.clone(),
            member_count: room.members.len(),
            unread,
            mentions,
            notify,
        })
    }

    /// `POST /api/rooms/create`: the caller is the creator and first member.
    pub fn create_room(&mut self, user: &UserId, name: String, description: String) -> Result<RoomSummary, ApiError> {
        let (name, description) = clean_room_fields(&name, &description)?;
        if self.rooms.of_user(user).filter(|r| r.creator == *user).count() >= MAX_ROOMS_PER_CREATOR {
            return Err(ApiError::Conflict("you have created as many rooms as one may (100): delete one first"));
        }
        if self.rooms.of_user(user).count() >= MAX_ROOMS_PER_MEMBER {
            return Err(ApiError::Conflict("you are in as many rooms as one may (500): leave one first"));
        }
        self.take_room_budget(user)?;
        let record = RoomRecord {
            id: uuid::Uuid::new_v4().to_string(),
            name,
            description,
            creator_id: user.to_string(),
            created_at: iso_now(),
        };
        self.db.insert_room(&record).map_err(|e| self.internal(e))?;
        let id: RoomId = record.id.into();
        let state = RoomState {
            id: id.clone(),
            name: record.name,
            description: record.description,
            creator: user.clone(),
            created_at: record.created_at,
            members: vec![MemberState::new(user.clone(), 0)],
            latest_id: 0,
        };
        let summary = self.summary(&state, Some(user))?;
        self.rooms.by_id.insert(id.clone(), state);
        self.rooms.of_user.entry(user.clone()).or_default().push(id);
        self.tell_user(user, &Event::RoomAdded { room: &summary });
        Ok(summary)
    }

    /// Creating rooms and adding members, per user: a burst, then a slow trickle — so no
    /// account can fill the files or someone's room list in a hurry.
    pub(super) fn take_room_budget(&mut self, user: &UserId) -> Result<(), ApiError> {
        let wait = self.limits.room_changes_per_user.take(user, std::time::Instant::now());
        wait.map_err(|wait| ApiError::TooManyRequests { retry_after: crate::limits::retry_after_secs(wait) })?;
        let refunded = user.clone();
        self.undo.refunds.push(Box::new(move |limits| limits.room_changes_per_user.refund(&refunded)));
        Ok(())
    }

    /// `GET /api/rooms`: the caller's rooms.
    pub fn rooms_of(&self, user: &UserId) -> Result<Vec<RoomSummary>, ApiError> {
        self.rooms.of_user(user).map(|room| self.summary(room, Some(user))).collect()
    }

    /// `GET /api/rooms/{id}`.
    pub fn room_summary_for(&self, user: &UserId, room: &str) -> Result<RoomSummary, ApiError> {
        let state = self.rooms.require_member(room, user)?;
        self.summary(state, Some(user))
    }

    /// `DELETE /api/rooms/{id}`: creator only; its sockets close and its members are told.
    pub fn delete_room(&mut self, user: &UserId, room: &str) -> Result<(), ApiError> {
        let id = self.rooms.require_creator(room, user)?.id.clone();
        self.db.delete_room(&id).map_err(|e| self.internal(e))?;
        self.release_room_files(&id);
        let Some(state) = self.rooms.by_id.remove(&id) else { return Ok(()) };
        self.bots.forget_room(&id);
        for conn in self.sockets.in_room(&id).to_vec() {
            self.close_socket(conn, 4404, "room deleted");
        }
        for member in &state.members {
            if let Some(list) = self.rooms.of_user.get_mut(&member.id) {
                list.retain(|r| *r != id);
            }
            self.tell_user(&member.id, &Event::RoomDeleted { room_id: &id, name: &state.name });
        }
        log::info!("room {} deleted", state.name);
        Ok(())
    }

    /// `POST /api/rooms/{id}/add_user`: creator only; adding a member twice is harmless.
    pub fn add_member(&mut self, user: &UserId, room: &str, member: &str) -> Result<RoomSummary, ApiError> {
        let state = self.rooms.require_creator(room, user)?;
        let id = state.id.clone();
        let member = self.accounts.get(member).map(|u| u.id.clone()).ok_or(ApiError::NotFound("no such user"))?;
        if state.is_member(&member) {
            return self.summary(state, Some(user));
        }
        if state.members.len() >= MAX_MEMBERS_PER_ROOM {
            return Err(ApiError::Conflict("this room is full (1000 members)"));
        }
        if self.rooms.of_user(&member).count() >= MAX_ROOMS_PER_MEMBER {
            return Err(ApiError::Conflict("that user is in as many rooms as one may (500)"));
        }
        self.take_room_budget(user)?;
        let state = self.rooms.get(room)?;
        // A new member starts with the history read: being added is not a flood of unread.
        let latest = state.latest_id;
        self.db.add_member(&id, &member, &iso_now(), latest).map_err(|e| self.internal(e))?;
        if let Some(state) = self.rooms.by_id.get_mut(&id) {
            state.members.push(MemberState::new(member.clone(), latest));
        }
        self.rooms.of_user.entry(member.clone()).or_default().push(id.clone());
        self.membership_changed(&id, &member, true)?;
        let state = self.rooms.get(&id)?;
        self.summary(state, Some(user))
    }

    /// `POST /api/rooms/{id}/remove_user`: creator only; not the creator.
    pub fn remove_member(&mut self, user: &UserId, room: &str, member: &str) -> Result<RoomSummary, ApiError> {
        let state = self.rooms.require_creator(room, user)?;
        let id = state.id.clone();
        let member = self.accounts.get(member).map(|u| u.id.clone()).ok_or(ApiError::NotFound("no such user"))?;
        if member == state.creator {
            return Err(ApiError::bad_request("the room's creator can't be removed"));
        }
        if !state.is_member(&member) {
            return Err(ApiError::NotFound("that user is not a member of this room"));
        }
        self.drop_member(&id, &member, "removed from the room")?;
        let state = self.rooms.get(&id)?;
        self.summary(state, Some(user))
    }

    /// `POST /api/rooms/{id}/leave`: a member who is not the creator leaves.
    pub fn leave_room(&mut self, user: &UserId, room: &str) -> Result<(), ApiError> {
        let state = self.rooms.require_member(room, user)?;
        if state.creator == *user {
            return Err(ApiError::bad_request("the room's creator can't leave it; delete the room instead"));
        }
        let id = state.id.clone();
        self.drop_member(&id, user, "you left the room")
    }

    /// Takes a member out: the row, the directory, their sockets on the room (4403), and
    /// everyone is told.
    fn drop_member(&mut self, room: &RoomId, member: &UserId, reason: &'static str) -> Result<(), ApiError> {
        self.db.remove_member(room, member).map_err(|e| self.internal(e))?;
        if let Some(state) = self.rooms.by_id.get_mut(room) {
            state.members.retain(|m| m.id != *member);
        }
        if let Some(list) = self.rooms.of_user.get_mut(member) {
            list.retain(|r| r != room);
        }
        for conn in self.sockets.in_room_of(room, member) {
            self.close_socket(conn, 4403, reason);
        }
        self.membership_changed(room, member, false)
    }

    /// An account is being deleted: each room it created passes to its longest-standing other
    /// member, or is deleted when it has no other member; then the account leaves every room,
    /// and the other members are told (the room's creator changed with it). Returns how many
    /// rooms were handed over and how many deleted.
    pub(super) fn leave_all_rooms(&mut self, user: &UserId) -> Result<(usize, usize), ApiError> {
        let rooms: Vec<RoomId> = self.rooms.of_user(user).map(|r| r.id.clone()).collect();
        let (mut handed, mut deleted) = (0, 0);
        for id in rooms {
            let Some(state) = self.rooms.by_id.get(&id) else { continue };
            if state.creator == *user {
                // Members are kept in the order they joined: the first other one has stood longest.
                match state.members.iter().find(|m| m.id != *user).map(|m| m.id.clone()) {
                    Some(heir) => {
                        self.db.set_room_creator(&id, &heir).map_err(|e| self.internal(e))?;
                        if let Some(state) = self.rooms.by_id.get_mut(&id) {
                            log::info!("room {} passes to {}", state.name, heir);
                            state.creator = heir;
                        }
                        handed += 1;
                    }
                    None => {
                        self.delete_room(user, &id)?;
                        deleted += 1;
                        continue;
                    }
                }
            }
            self.db.remove_member(&id, user).map_err(|e| self.internal(e))?;
            if let Some(state) = self.rooms.by_id.get_mut(&id) {
                state.members.retain(|m| m.id != *user);
            }
            if let Some(list) = self.rooms.of_user.get_mut(user) {
                list.retain(|r| *r != id);
            }
            self.membership_changed(&id, user, false)?;
        }
        self.rooms.of_user.remove(user);
        Ok((handed, deleted))
    }

    /// Tells the member who joined or left, and the other members, about the change.
    fn membership_changed(&mut self, room: &RoomId, member: &UserId, added: bool) -> Result<(), ApiError> {
        let state = self.rooms.get(room)?;
        let shared = self.summary(state, None)?;
        if added {
            let own = self.summary(state, Some(member))?;
            self.tell_user(member, &Event::RoomAdded { room: &own });
        } else {
            self.tell_user(member, &Event::RoomRemoved { room_id: room });
        }
        for other in self.rooms.member_ids(room) {
            if other != *member {
                self.tell_user(&other, &Event::RoomUpdated { room: &shared });
            }
        }
        Ok(())
    }

    /// `GET /api/rooms/{id}/members`.
    pub fn members(&self, user: &UserId, room: &str) -> Result<Vec<Member>, ApiError> {
        let state = self.rooms.require_member(room, user)?;
        Ok(state
            .members
            .iter()
            .map(|m| Member {
                name: self.name_of(&m.id),
                online: self.presence.is_online(&m.id),
                is_creator: m.id == state.creator,
                id: m.id.clone(),
            })
            .collect())
    }

    /// `GET /api/rooms/{id}/history`: a page of the room (members only).
    pub fn room_history(&self, user: &UserId, room: &str, page: Page) -> Result<Vec<RoomItem>, ApiError> {
        let state = self.rooms.require_member(room, user)?;
        let rows = self.db.messages(Thread::Room(&state.id), page).map_err(|e| self.internal(e))?;
        Ok(self
            .items(rows)
            .into_iter()
            .filter_map(|item| match item {
                Rendered::Room(item) => Some(item),
                Rendered::Private(_) => None,
            })
            .collect())
    }

    /// Sets a member's notification level for a room; their tabs learn of it.
    pub(super) fn set_room_level(&mut self, user: &UserId, room: &str, level: Level) -> Result<(), ApiError> {
        let id = self.rooms.require_member(room, user)?.id.clone();
        self.db.set_member_notify(&id, user, level.as_str()).map_err(|e| self.internal(e))?;
        if let Some(member) = self.rooms.by_id.get_mut(&id).and_then(|r| r.members.iter_mut().find(|m| m.id == *user)) {
            member.level = level;
        }
        let chat = ChatRef::room(&id);
        self.tell_user(user, &Event::ChatSettings { chat: &chat, notify: level.as_str() });
        Ok(())
    }

    /// `POST /api/rooms/{id}/read {up_to}` (clients without a socket on the room).
    pub fn read_room(&mut self, user: &UserId, room: &str, up_to: i64) -> Result<(), ApiError> {
        let id = self.rooms.require_member(room, user)?.id.clone();
        self.read_up_to(user, &Conversation::Room(id), up_to).map_err(|_| ApiError::Internal)?;
        Ok(())
    }
}
