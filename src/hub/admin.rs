//! Household administration on the hub: the accounts list, roles, disabling and deleting
//! accounts, and the audit log. Invitations, the registration mode and login links are in
//! [`super::invites`].
//!
//! Every method here checks again, in the closure that acts, that the caller is an
//! administrator — read from `users.db`, like the last-administrator rule, inside the batch's
//! write transaction. So `mychat admin promote|demote` (which writes the same file beside the
//! server) takes effect at the next request, and two demotions, one here and one at the
//! console, can't both pass the rule.

use super::audit::{Actor, audit_entry, last_admin};
use super::{Hub, SessionUser, UserId};
use crate::clock::iso_now;
use crate::db::{AccountFlags, AccountRow};
use crate::error::{ADMINS_ONLY, ApiError};
use crate::protocol::{AdminAccount, AdminAccountsPage, AuditItem, Event};

/// The most accounts and audit entries one page holds.
pub const MAX_ACCOUNTS_PAGE: u32 = 500;
pub const MAX_AUDIT_PAGE: u32 = 200;

impl Hub {
    /// 403 unless `user` is an administrator and not disabled, as `users.db` says now.
    pub fn require_admin(&self, user: &UserId) -> Result<(), ApiError> {
        match self.db.account_flags(user).map_err(|e| self.internal(e))? {
            Some(flags) if flags.is_admin && !flags.disabled => Ok(()),
            _ => Err(ApiError::Forbidden(ADMINS_ONLY)),
        }
    }

    /// Whether `user` is an active administrator (for what pages show; errors say no).
    pub fn is_admin(&self, user: &UserId) -> bool {
        self.require_admin(user).is_ok()
    }

    fn admin_account(&self, row: AccountRow) -> AdminAccount {
        AdminAccount {
            online: self.presence.is_online(&UserId::from(row.id.as_str())),
            disabled: row.disabled_at.is_some(),
            id: row.id,
            name: row.name,
            is_admin: row.is_admin,
            created_at: row.created_at,
            disabled_at: row.disabled_at,
            last_seen: row.last_seen,
        }
    }

    /// An account that exists, with its stored role and state.
    fn target(&self, target: &str) -> Result<(UserId, AccountFlags), ApiError> {
        let id = self.accounts.get(target).map(|u| u.id.clone()).ok_or(ApiError::NotFound("no such user"))?;
        let flags =
            self.db.account_flags(&id).map_err(|e| self.internal(e))?.ok_or(ApiError::NotFound("no such user"))?;
        Ok((id, flags))
    }

    fn account_of(&self, id: &str) -> Result<AdminAccount, ApiError> {
        let row = self.db.find_account(id).map_err(|e| self.internal(e))?.ok_or(ApiError::NotFound("no such user"))?;
        Ok(self.admin_account(row))
    }

    fn record(&mut self, admin: &SessionUser, action: &str, target: Option<(&str, &str)>, detail: Option<&str>) {
        if let Err(e) = audit_entry(&mut self.db, &Actor::Admin(admin), action, target, detail) {
            // The action stands; losing its log line is logged instead.
            log::error!("audit log: {action} by {}: {e}", admin.name);
        }
        log::info!("admin {} by {}{}", action, admin.name, target.map(|t| format!(" on {}", t.1)).unwrap_or_default());
    }

    /// `GET /api/admin/users?after=&limit=`: accounts in registration order.
    pub fn admin_accounts(&self, admin: &UserId, after: i64, limit: u32) -> Result<AdminAccountsPage, ApiError> {
        self.require_admin(admin)?;
        let rows = self.db.accounts_page(after, limit).map_err(|e| self.internal(e))?;
        let next = (rows.len() == limit as usize).then(|| rows.last().map(|r| r.seq)).flatten();
        Ok(AdminAccountsPage { users: rows.into_iter().map(|r| self.admin_account(r)).collect(), next })
    }

    /// `POST /api/admin/users/{id}/promote|demote`. The last active administrator keeps the role.
    pub fn set_role(&mut self, admin: &SessionUser, target: &str, make_admin: bool) -> Result<AdminAccount, ApiError> {
        self.require_admin(&admin.id)?;
        self.db.lock_for_write().map_err(|e| self.internal(e))?;
        let (id, flags) = self.target(target)?;
        if flags.is_admin != make_admin {
            if !make_admin && last_admin(&self.db, flags).map_err(|e| self.internal(e))? {
                return Err(ApiError::Conflict("the last administrator can't be demoted; promote someone else first"));
            }
            self.db.set_admin(&id, make_admin).map_err(|e| self.internal(e))?;
            let name = self.name_of(&id);
            self.record(admin, if make_admin { "promote" } else { "demote" }, Some((&id, &name)), None);
        }
        self.account_of(&id)
    }

    /// `POST /api/admin/users/{id}/disable|enable`. Disabling ends every session of the
    /// account and closes its sockets (4401) in this batch; its login is refused from then on.
    /// The last active administrator can't be disabled.
    pub fn set_disabled(&mut self, admin: &SessionUser, target: &str, disable: bool) -> Result<AdminAccount, ApiError> {
        self.require_admin(&admin.id)?;
        self.db.lock_for_write().map_err(|e| self.internal(e))?;
        let (id, flags) = self.target(target)?;
        if flags.disabled != disable {
            if disable && last_admin(&self.db, flags).map_err(|e| self.internal(e))? {
                return Err(ApiError::Conflict("the last administrator can't be disabled"));
            }
            let at = disable.then(iso_now);
            self.db.set_disabled(&id, at.as_deref()).map_err(|e| self.internal(e))?;
            if disable {
                self.end_all_sessions(&id, None, "account disabled")?;
                self.db.delete_login_link(&id).map_err(|e| self.internal(e))?;
            }
            let name = self.name_of(&id);
            self.record(admin, if disable { "disable" } else { "enable" }, Some((&id, &name)), None);
        }
        self.account_of(&id)
    }

    /// `DELETE /api/admin/users/{id}`: the account goes, its messages stay (from "deleted
    /// account"); rooms it created pass to their longest-standing other member, or are
    /// deleted when it was alone in them. Not the last active administrator.
    pub fn delete_account(&mut self, admin: &SessionUser, target: &str) -> Result<(), ApiError> {
        self.require_admin(&admin.id)?;
        self.db.lock_for_write().map_err(|e| self.internal(e))?;
        let (id, flags) = self.target(target)?;
        if last_admin(&self.db, flags).map_err(|e| self.internal(e))? {
            return Err(ApiError::Conflict("the last administrator can't be deleted"));
        }
        let name = self.name_of(&id);
        let (kept, dropped) = self.leave_all_rooms(&id)?;
        self.end_all_sessions(&id, None, "account deleted")?;
        self.forget_push_of(&id)?;
        self.delete_files_of_user(&id)?;
        self.db.delete_account(&id, &iso_now()).map_err(|e| self.internal(e))?;
        self.accounts.remove(&id);
        let detail = format!("rooms handed over: {kept}, rooms deleted (no other member): {dropped}");
        self.record(admin, "delete", Some((&id, &name)), Some(&detail));
        // Everyone's list of people drops the account at once.
        let gone =
            [crate::protocol::UserStatus { id: id.clone(), name: super::accounts::DELETED_NAME.into(), online: false }];
        let globals = self.sockets.all_globals();
        self.broadcast(&globals, &Event::Presence { users: &gone });
        Ok(())
    }

    /// `GET /api/admin/audit?before=&limit=`: newest first.
    pub fn audit_log(&self, admin: &UserId, before: i64, limit: u32) -> Result<Vec<AuditItem>, ApiError> {
        self.require_admin(admin)?;
        self.db.audit_page(before, limit).map_err(|e| self.internal(e))
    }
}
