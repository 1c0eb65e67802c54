//! Rooms: management, membership (live: sockets follow it), room messages with replies whose
//! quotes come from stored messages, and each member's unread count.

use super::{ConnId, Hub, Page, RoomId, UserId};
use crate::clock::{display_parts, iso_now};
use crate::db::{Db, Quote, RoomMessage, RoomRecord};
use crate::error::ApiError;
use crate::protocol::{Event, Member, QuoteItem, ReplyRef, RoomItem, RoomSummary};
use std::collections::{HashMap, HashSet};

pub const MAX_ROOM_NAME_CHARS: usize = 64;
pub const MAX_ROOM_DESCRIPTION_CHARS: usize = 500;

pub(super) struct RoomState {
    pub id: RoomId,
    name: String,
    description: String,
    creator: UserId,
    created_at: String,
    /// Members in the order they joined, each with the last message they have read.
    members: Vec<(UserId, i64)>,
    /// The newest message id in the room.
    latest_id: i64,
}

impl RoomState {
    fn is_member(&self, user: &UserId) -> bool {
        self.members.iter().any(|(u, _)| u == user)
    }

    fn last_read(&self, user: &UserId) -> Option<i64> {
        self.members.iter().find(|(u, _)| u == user).map(|(_, r)| *r)
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
        for (room, user, last_read) in db.load_memberships()? {
            if let Some(state) = self.by_id.get_mut(room.as_str()) {
                let user: UserId = user.into();
                state.members.push((user.clone(), last_read));
                self.of_user.entry(user).or_default().push(state.id.clone());
            }
        }
        Ok(())
    }

    fn get(&self, room: &str) -> Result<&RoomState, ApiError> {
        self.by_id.get(room).ok_or(ApiError::NotFound("no such room"))
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

    fn member_ids(&self, room: &RoomId) -> Vec<UserId> {
        self.by_id.get(room).map(|r| r.members.iter().map(|(u, _)| u.clone()).collect()).unwrap_or_default()
    }
}

/// Trims and checks a room name and description.
fn clean_room_fields(name: &str, description: &str) -> Result<(String, String), ApiError> {
    let name = name.trim();
    let description = description.trim();
    let name_chars = name.chars().count();
    if name_chars == 0 || name_chars > MAX_ROOM_NAME_CHARS {
        return Err(ApiError::bad_request("room name must be 1 to 64 characters"));
    }
    if description.chars().count() > MAX_ROOM_DESCRIPTION_CHARS {
        return Err(ApiError::bad_request("room description must be at most 500 characters"));
    }
    if name.chars().chain(description.chars()).any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::bad_request("room name and description must not contain control characters"));
    }
    Ok((name.to_string(), description.to_string()))
}

fn room_item(m: RoomMessage) -> RoomItem {
    let (time, created_at) = display_parts(&m.timestamp);
    RoomItem {
        id: m.id,
        user: m.sender_name,
        text: m.text,
        time,
        created_at,
        sender_id: m.sender_id,
        room_id: m.room_id,
        reply_to: m.reply_to.map(|q| QuoteItem {
            id: q.id,
            sender_id: q.sender_id,
            sender_name: q.sender_name,
            text: q.text,
        }),
    }
}

impl Hub {
    /// A room as `viewer` sees it; `unread` only where it means something to the viewer.
    fn summary(&self, room: &RoomState, viewer: Option<&UserId>) -> Result<RoomSummary, ApiError> {
        let unread = match viewer {
            Some(user) if self.sockets.in_room_of(&room.id, user).is_empty() => {
                let last_read = room.last_read(user).unwrap_or(room.latest_id);
                if last_read >= room.latest_id {
                    Some(0)
                } else {
                    Some(self.db.room_count_after(&room.id, last_read).map_err(|e| self.internal(e))?)
                }
            }
            Some(_) => Some(0),
            None => None,
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
        })
    }

    pub fn create_room(&mut self, user: &UserId, name: String, description: String) -> Result<RoomSummary, ApiError> {
        let (name, description) = clean_room_fields(&name, &description)?;
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
            members: vec![(user.clone(), 0)],
            latest_id: 0,
        };
        let summary = self.summary(&state, Some(user))?;
        self.rooms.by_id.insert(id.clone(), state);
        self.rooms.of_user.entry(user.clone()).or_default().push(id);
        self.tell_user(user, &Event::RoomAdded { room: &summary });
        Ok(summary)
    }

    pub fn rooms_of(&self, user: &UserId) -> Result<Vec<RoomSummary>, ApiError> {
        let ids = self.rooms.of_user.get(user).map_or(&[][..], Vec::as_slice);
        ids.iter().filter_map(|id| self.rooms.by_id.get(id)).map(|room| self.summary(room, Some(user))).collect()
    }

    pub fn room_summary_for(&self, user: &UserId, room: &str) -> Result<RoomSummary, ApiError> {
        let state = self.rooms.require_member(room, user)?;
        self.summary(state, Some(user))
    }

    pub fn delete_room(&mut self, user: &UserId, room: &str) -> Result<(), ApiError> {
        let id = self.rooms.require_creator(room, user)?.id.clone();
        self.db.delete_room(&id).map_err(|e| self.internal(e))?;
        let Some(state) = self.rooms.by_id.remove(&id) else { return Ok(()) };
        for conn in self.sockets.in_room(&id).to_vec() {
            self.close_socket(conn, 4404, "room deleted");
        }
        for (member, _) in &state.members {
            if let Some(list) = self.rooms.of_user.get_mut(member) {
                list.retain(|r| *r != id);
            }
            self.tell_user(member, &Event::RoomDeleted { room_id: &id, name: &state.name });
        }
        log::info!("room {} deleted", state.name);
        Ok(())
    }

    pub fn add_member(&mut self, user: &UserId, room: &str, member: &str) -> Result<RoomSummary, ApiError> {
        let state = self.rooms.require_creator(room, user)?;
        let id = state.id.clone();
        let member = self.accounts.get(member).map(|u| u.id.clone()).ok_or(ApiError::NotFound("no such user"))?;
        if state.is_member(&member) {
            return self.summary(state, Some(user));
        }
        // A new member starts with the history read: being added is not a flood of unread.
        let latest = state.latest_id;
        self.db.add_member(&id, &member, &iso_now(), latest).map_err(|e| self.internal(e))?;
        if let Some(state) = self.rooms.by_id.get_mut(&id) {
            state.members.push((member.clone(), latest));
        }
        self.rooms.of_user.entry(member.clone()).or_default().push(id.clone());
        self.membership_changed(&id, &member, true)?;
        let state = self.rooms.get(&id)?;
        self.summary(state, Some(user))
    }

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
        self.db.remove_member(&id, &member).map_err(|e| self.internal(e))?;
        if let Some(state) = self.rooms.by_id.get_mut(&id) {
            state.members.retain(|(u, _)| *u != member);
        }
        if let Some(list) = self.rooms.of_user.get_mut(&member) {
            list.retain(|r| *r != id);
        }
        for conn in self.sockets.in_room_of(&id, &member) {
            self.close_socket(conn, 4403, "removed from the room");
        }
        self.membership_changed(&id, &member, false)?;
        let state = self.rooms.get(&id)?;
        self.summary(state, Some(user))
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

    pub fn members(&self, user: &UserId, room: &str) -> Result<Vec<Member>, ApiError> {
        let state = self.rooms.require_member(room, user)?;
        Ok(state
            .members
            .iter()
            .map(|(id, _)| {
                let name = self.accounts.get(id).map_or_else(|| id.clone(), |u| u.name.clone());
                Member { id: id.clone(), name, online: self.presence.is_online(id), is_creator: *id == state.creator }
            })
            .collect())
    }

    pub fn room_history(&self, user: &UserId, room: &str, page: Page) -> Result<Vec<RoomItem>, ApiError> {
        let state = self.rooms.require_member(room, user)?;
        let rows = self.db.room_history(&state.id, page).map_err(|e| self.internal(e))?;
        Ok(rows.into_iter().map(room_item).collect())
    }

    /// A member opened the room, or closed their last view of it: all of it counts as read.
    pub(super) fn room_viewed(&mut self, room: &RoomId, user: &UserId) {
        let Some(state) = self.rooms.by_id.get_mut(room) else { return };
        let latest = state.latest_id;
        let Some(entry) = state.members.iter_mut().find(|(u, _)| u == user) else { return };
        if entry.1 >= latest {
            return;
        }
        entry.1 = latest;
        if let Err(e) = self.db.set_last_read(room, user, latest) {
            log::warn!("could not record a room as read: {e}");
        }
    }

    /// The quote a reply carries, taken from the stored message it points at.
    fn resolve_reply(&self, room: &RoomId, reply: ReplyRef) -> Result<Quote, &'static str> {
        let found = match reply {
            ReplyRef::Id(id) => self.db.room_message(room, id),
            ReplyRef::Quote { sender_id, text } => self.db.find_room_message(room, &sender_id, &text),
        };
        match found {
            Ok(Some(m)) => {
                Ok(Quote { id: Some(m.id), sender_id: m.sender_id, sender_name: m.sender_name, text: m.text })
            }
            Ok(None) => Err("the message you reply to is not in this room"),
            Err(e) => {
                log::error!("reply lookup failed: {e}");
                Err(super::NOT_SAVED)
            }
        }
    }

    pub(super) fn send_room_message(
        &mut self,
        conn: ConnId,
        user: &UserId,
        room: &RoomId,
        text: String,
        reply_to: Option<ReplyRef>,
    ) {
        if self.rooms.require_member(room, user).is_err() {
            self.close_socket(conn, 4403, "not a member of the room");
            return;
        }
        let reply_to = match reply_to.map(|r| self.resolve_reply(room, r)).transpose() {
            Ok(quote) => quote,
            Err(error) => return self.error_frame(conn, error),
        };
        let sender_name = self.accounts.get(user).map_or_else(|| user.to_string(), |u| u.name.to_string());
        let mut message = RoomMessage {
            id: 0,
            room_id: room.to_string(),
            sender_id: user.to_string(),
            sender_name,
            text,
            timestamp: iso_now(),
            reply_to,
        };
        message.id = match self.db.insert_room_message(&message) {
            Ok(id) => id,
            Err(e) => {
                log::error!("could not store a room message: {e}");
                return self.error_frame(conn, super::NOT_SAVED);
            }
        };
        let Some(state) = self.rooms.by_id.get_mut(room) else { return };
        state.latest_id = message.id;
        let room_name = state.name.clone();
        let members: Vec<UserId> = state.members.iter().map(|(u, _)| u.clone()).collect();
        let item = room_item(message);
        let listeners = self.sockets.in_room(room).to_vec();
        self.broadcast(&listeners, &Event::RoomMessage(&item));
        // Members with no view of the room hear about it on their global sockets.
        let viewers: HashSet<&UserId> =
            listeners.iter().filter_map(|c| self.sockets.get(*c)).map(|s| &s.user).collect();
        let away: Vec<ConnId> = members
            .iter()
            .filter(|m| !viewers.contains(m))
            .flat_map(|m| self.sockets.globals_of(m).iter().copied())
            .collect();
        self.broadcast(&away, &Event::RoomNotify { room_id: room, room_name: &room_name, message: &item });
        self.push_room(&members, &room_name, &item);
    }
}
