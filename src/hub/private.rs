//! Private conversations: their history, unread counts and read receipts over HTTP. Sending
//! and the actions on messages are in [`super::messages`], the same for rooms.

use super::messages::Rendered;
use super::{Hub, Page, UserId};
use crate::db::Thread;
use crate::error::ApiError;
use crate::identity::Conversation;
use crate::protocol::PrivateItem;
use std::collections::BTreeMap;
use std::sync::Arc;

impl Hub {
    /// A conversation partner: an account, or a deleted one (whose history stays readable).
    fn user_id(&self, id: &str) -> Result<UserId, ApiError> {
        match self.accounts.get(id) {
            Some(user) => Ok(user.id.clone()),
            None if self.accounts.is_deleted(id) => Ok(id.into()),
            None => Err(ApiError::NotFound("no such user")),
        }
    }

    /// `GET /api/history/{user}/{target}`: a page of the conversation.
    pub fn history(&self, user: &UserId, target: &str, page: Page) -> Result<Vec<PrivateItem>, ApiError> {
        let target = self.user_id(target)?;
        let rows = self.db.messages(Thread::Private(user, &target), page).map_err(|e| self.internal(e))?;
        Ok(self
            .items(rows)
            .into_iter()
            .filter_map(|item| match item {
                Rendered::Private(item) => Some(item),
                Rendered::Room(_) => None,
            })
            .collect())
    }

    /// `GET /api/unread/{user}`: unread private messages per sender (999 stands for "999 or
    /// more").
    pub fn unread(&self, user: &UserId) -> Result<BTreeMap<Arc<str>, i64>, ApiError> {
        let counts = self.db.unread_counts(user).map_err(|e| self.internal(e))?;
        Ok(counts.into_iter().filter(|(_, n)| *n > 0).map(|(sender, n)| (Arc::from(sender), n)).collect())
    }

    /// `POST /api/mark_read/{user}/{target}`: marks the conversation read up to `up_to` (all
    /// of it if `None`); every tab of the reader updates its badge, and the other side learns
    /// (read receipt) how far it was read.
    pub fn mark_read(&mut self, user: &UserId, target: &str, up_to: Option<i64>) -> Result<(), ApiError> {
        let target = self.user_id(target)?;
        let conversation = Conversation::private(user, &target);
        self.read_up_to(user, &conversation, up_to.unwrap_or(i64::MAX)).map_err(|_| ApiError::Internal)?;
        Ok(())
    }
}
