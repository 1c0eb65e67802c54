//! A person's conversations as one list — rooms and the people they have talked with, newest
//! activity first, each with its latest message, unread counts and notification level — and
//! search across them.

use super::messages::Level;
use super::{Hub, UserId};
use crate::clock::display_parts;
use crate::db::StoredMessage;
use crate::error::ApiError;
use crate::identity::MessageRef;
use crate::protocol::{ChatItem, ChatItemName, ChatRef, Event, Preview, SearchHit, SearchResults};

/// A preview shows at most this many characters of the latest message.
const PREVIEW_CHARS: usize = 120;
/// Search answers at most this many of each kind.
const SEARCH_PEOPLE: usize = 20;
const SEARCH_MESSAGES: u32 = 30;
/// The longest search query, in characters, and the most words in it.
pub const MAX_QUERY_CHARS: usize = 200;
const MAX_QUERY_WORDS: usize = 10;

/// A query as FTS5 reads it: each word a quoted phrase (so nothing the user types is syntax),
/// the last one a prefix, so results come while typing. `None` if it has no words.
pub fn fts_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split_whitespace()
        .map(|w| w.chars().filter(|c| *c != '"' && !c.is_control()).collect::<String>())
        .filter(|w| !w.is_empty())
        .take(MAX_QUERY_WORDS)
        .collect();
    let (last, rest) = words.split_last()?;
    let mut query: Vec<String> = rest.iter().map(|w| format!("\"{w}\"")).collect();
    query.push(format!("\"{last}\" *"));
    Some(query.join(" "))
}

impl Hub {
    fn preview(&self, m: StoredMessage) -> Preview {
        let (time, created_at) = display_parts(&m.timestamp);
        let text: String = m.text.chars().take(PREVIEW_CHARS).collect();
        let id = match m.id {
            MessageRef::Private(id) | MessageRef::Room(id) => id,
        };
        Preview {
            id,
            sender_name: self.author_name(&m.sender_id, m.sender_name).into(),
            sender_id: m.sender_id.into(),
            text,
            time,
            created_at,
            deleted: m.deleted,
        }
    }

    fn latest(&self, id: MessageRef) -> Option<Preview> {
        match self.db.message(id) {
            Ok(found) => found.map(|m| self.preview(m)),
            Err(e) => {
                log::warn!("latest message {id:?}: {e}");
                None
            }
        }
    }

    /// `GET /api/chats`: the caller's rooms and the people they have talked with, newest
    /// activity first (rooms without messages by when they were made).
    pub fn chats(&self, user: &UserId) -> Result<Vec<ChatItem>, ApiError> {
        let mut chats: Vec<(String, ChatItem)> = Vec::new();
        for p in self.db.partners(user).map_err(|e| self.internal(e))? {
            // A deleted account's conversation stays readable, under "deleted account".
            let (other_id, other_name): (UserId, _) = match self.accounts.get(&p.other) {
                Some(other) => (other.id.clone(), other.name.clone()),
                None if self.accounts.is_deleted(&p.other) => (p.other.as_str().into(), self.name_of(&p.other)),
                None => continue,
            };
            let last = self.latest(MessageRef::Private(p.last_id));
            let level = p.notify.as_deref().and_then(Level::parse).unwrap_or_default();
            let key = last.as_ref().and_then(|l| l.created_at.clone()).unwrap_or_default();
            chats.push((
                key,
                ChatItem {
                    chat: ChatRef::user(&other_id),
                    name: other_name,
                    last,
                    unread: p.unread,
                    mentions: 0,
                    notify: level.as_str(),
                    online: Some(self.presence.is_online(&other_id)),
                    member_count: None,
                },
            ));
        }
        for room in self.rooms.of_user(user) {
            let last = (room.latest_id > 0).then(|| self.latest(MessageRef::Room(room.latest_id))).flatten();
            let (unread, mentions) = self.rooms.counts(&room.id, user);
            let key = last.as_ref().and_then(|l| l.created_at.clone()).unwrap_or_else(|| room.created_at.clone());
            chats.push((
                key,
                ChatItem {
                    chat: ChatRef::room(&room.id),
                    name: room.name.as_str().into(),
                    last,
                    unread,
                    mentions,
                    notify: room.level_of(user).unwrap_or_default().as_str(),
                    online: None,
                    member_count: Some(room.member_count()),
                },
            ));
        }
        // ISO-8601 sorts as text; the original app's `HH:MM` rows (no date) sort as oldest.
        chats.sort_by(|a, b| b.0.cmp(&a.0));
        Ok(chats.into_iter().map(|(_, chat)| chat).collect())
    }

    /// `POST /api/chats/notify {chat, level}`: the caller's notification level for a room or a
    /// private conversation; every tab of theirs learns of it.
    pub fn set_notify_level(&mut self, user: &UserId, chat: &ChatRef, level: &str) -> Result<(), ApiError> {
        let level = Level::parse(level).ok_or(ApiError::bad_request("level must be all, mentions or none"))?;
        match chat.kind {
            "room" => self.set_room_level(user, &chat.id, level),
            _ => {
                let other =
                    self.accounts.get(&chat.id).map(|u| u.id.clone()).ok_or(ApiError::NotFound("no such user"))?;
                self.db.set_private_notify(user, &other, level.as_str()).map_err(|e| self.internal(e))?;
                let chat = ChatRef::user(&other);
                self.tell_user(user, &Event::ChatSettings { chat: &chat, notify: level.as_str() });
                Ok(())
            }
        }
    }

    /// `GET /api/search?q=`: people by name, the caller's rooms by name, and messages of the
    /// caller's conversations by text — never anyone else's.
    pub fn search(&self, user: &UserId, query: &str) -> Result<SearchResults, ApiError> {
        let needle = query.trim().to_lowercase();
        let users = if needle.is_empty() {
            Vec::new()
        } else {
            self.accounts
                .ordered()
                .filter(|u| u.id != *user && u.name.to_lowercase().contains(&needle))
                .take(SEARCH_PEOPLE)
                .map(|u| self.status_of(&u.id, &u.name))
                .collect()
        };
        let rooms = self
            .rooms
            .of_user(user)
            .filter(|r| !needle.is_empty() && r.name.to_lowercase().contains(&needle))
            .take(SEARCH_PEOPLE)
            .map(|r| ChatItemName { id: r.id.clone(), name: r.name.clone() })
            .collect();
        let mut messages = Vec::new();
        if let Some(fts) = fts_query(query) {
            let room_ids: Vec<&str> = self.rooms.of_user(user).map(|r| r.id.as_ref()).collect();
            let hits = self.db.search(user, &room_ids, &fts, SEARCH_MESSAGES).map_err(|e| self.internal(e))?;
            for (id, snippet) in hits {
                let Ok(Some(m)) = self.db.message(id) else { continue };
                let (chat, chat_name) = match id {
                    MessageRef::Private(_) => {
                        let other = if m.sender_id == **user { m.to.as_str() } else { m.sender_id.as_str() };
                        let Some(other) = self.accounts.get(other) else { continue };
                        (ChatRef::user(&other.id), other.name.clone())
                    }
                    MessageRef::Room(_) => {
                        let Ok(room) = self.rooms.require_member(&m.to, user) else { continue };
                        (ChatRef::room(&room.id), room.name.as_str().into())
                    }
                };
                let p = self.preview(m);
                messages.push(SearchHit {
                    chat,
                    chat_name,
                    id: p.id,
                    sender_id: p.sender_id,
                    sender_name: p.sender_name,
                    time: p.time,
                    created_at: p.created_at,
                    snippet,
                });
            }
        }
        Ok(SearchResults { users, rooms, messages })
    }
}

#[cfg(test)]
mod tests {
    use super::fts_query;

    #[test]
    fn queries_are_quoted_words_with_a_prefix_last() {
        assert_eq!(fts_query("hello world").as_deref(), Some("\"hello\" \"world\" *"));
        assert_eq!(fts_query("  \"drop\" OR  ").as_deref(), Some("\"drop\" \"OR\" *"));
        assert_eq!(fts_query(" \" ").as_deref(), None);
        assert_eq!(fts_query("").as_deref(), None);
    }
}
