//! Private conversations: sending, history, unread counts and read receipts.

use super::{ConnId, Hub, Page, UserId};
use crate::clock::{display_parts, iso_now};
use crate::db::PrivateMessage;
use crate::error::ApiError;
use crate::protocol::{Event, PrivateItem};
use std::collections::BTreeMap;
use std::sync::Arc;

impl Hub {
    /// A user's display name, or the raw id for rows that name no known user.
    fn name_of(&self, id: &str) -> Arc<str> {
        self.accounts.get(id).map_or_else(|| id.into(), |u| u.name.clone())
    }

    fn user_id(&self, id: &str) -> Result<UserId, ApiError> {
        self.accounts.get(id).map(|u| u.id.clone()).ok_or(ApiError::NotFound("no such user"))
    }

    fn private_item(&self, m: PrivateMessage) -> PrivateItem {
        let (time, created_at) = display_parts(&m.timestamp);
        let name = self.name_of(&m.sender);
        PrivateItem {
            id: m.id,
            user: name.clone(),
            sender: name,
            sender_id: m.sender.into(),
            receiver_id: m.receiver.into(),
            text: m.text,
            time,
            created_at,
            read: m.read,
        }
    }

    /// Stores a message, then (after commit) echoes it to the sender's sockets on this
    /// conversation and delivers it to the recipient's — or notifies the recipient's global
    /// sockets when no tab of theirs shows the conversation.
    pub(super) fn send_private(&mut self, conn: ConnId, sender: &UserId, target: &UserId, text: String) {
        let timestamp = iso_now();
        let id = match self.db.insert_private(sender, target, &text, &timestamp) {
            Ok(id) => id,
            Err(e) => {
                log::error!("could not store a private message: {e}");
                self.error_frame(conn, super::NOT_SAVED);
                return;
            }
        };
        let item = self.private_item(PrivateMessage {
            id,
            sender: sender.to_string(),
            receiver: target.to_string(),
            text,
            timestamp,
            read: false,
        });
        let mut recipients = self.sockets.viewing(sender, target).to_vec();
        let target_views = self.sockets.viewing(target, sender);
        let target_viewing = !target_views.is_empty();
        if sender != target {
            recipients.extend_from_slice(target_views);
        }
        self.broadcast(&recipients, &Event::Message(&item));
        if !target_viewing {
            let notify = Event::Notify {
                id: item.id,
                from_id: &item.sender_id,
                from: &item.sender_id,
                from_name: &item.user,
                text: &item.text,
                time: &item.time,
                created_at: item.created_at.as_deref(),
            };
            let globals = self.sockets.globals_of(target).to_vec();
            self.broadcast(&globals, &notify);
        }
        self.push_private(&item);
    }

    pub fn history(&self, user: &UserId, target: &str, page: Page) -> Result<Vec<PrivateItem>, ApiError> {
        let target = self.user_id(target)?;
        let rows = self.db.private_history(user, &target, page).map_err(|e| self.internal(e))?;
        Ok(rows.into_iter().map(|m| self.private_item(m)).collect())
    }

    pub fn unread(&self, user: &UserId) -> Result<BTreeMap<Arc<str>, i64>, ApiError> {
        let counts = self.db.unread_counts(user).map_err(|e| self.internal(e))?;
        Ok(counts.into_iter().map(|(sender, n)| (Arc::from(sender), n)).collect())
    }

    /// Marks the conversation read; every tab of the reader resets its badge, and the other
    /// side learns (read receipt) how far it was read.
    pub fn mark_read(&mut self, user: &UserId, target: &str) -> Result<(), ApiError> {
        let target = self.user_id(target)?;
        let newest = self.db.mark_read(user, &target).map_err(|e| self.internal(e))?;
        self.tell_user(user, &Event::UnreadReset { from_id: &target, user_id: &target });
        if let Some(up_to) = newest {
            let mut conns = self.sockets.globals_of(&target).to_vec();
            if target != *user {
                conns.extend_from_slice(self.sockets.viewing(&target, user));
            }
            self.broadcast(&conns, &Event::Read { reader_id: user, up_to });
        }
        Ok(())
    }
}
