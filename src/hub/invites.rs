//! Who may join: the registration mode, invitations, and one-time login links issued by an
//! administrator.
//!
//! The mode is stored in `users.db` (the admin page sets it) unless `--registration` overrides
//! it; it is read where a registration is checked. Invitations and login links are random
//! tokens of which only the hash is kept; both are bounded: at most [`MAX_INVITES`]
//! invitations on file (expired ones are dropped first), and one login link per account (a new
//! one replaces the old). Expiry is on the wall clock, which `mychat admin` shares.

use super::audit::{Actor, audit_entry};
use super::{Hub, SessionUser, TokenHash, UserId};
use crate::clock::{iso_from_millis, unix_now};
use crate::config::Registration;
use crate::db::InviteRow;
use crate::error::{ApiError, INVITE_EXPIRED, INVITE_INVALID, INVITE_NEEDED, INVITE_USED_UP, REGISTRATION_CLOSED};
use crate::protocol::{InviteItem, RegistrationSettings};

/// Invitations on file at most (used-up ones count until they expire; revoke to make room).
pub const MAX_INVITES: i64 = 100;
/// The most registrations one invitation admits, and the longest it may last.
pub const MAX_INVITE_USES: i64 = 100;
pub const MAX_INVITE_DAYS: i64 = 30;
/// How long a one-time login link works.
pub const LOGIN_LINK_HOURS: i64 = 24;
/// An expired login link is kept this long, so opening it says "expired", then dropped.
const EXPIRED_LINK_KEPT_SECS: i64 = 7 * 86_400;

/// Why a registration is let in.
pub(super) enum Admission {
    /// The server has no account: this one is its administrator.
    First,
    Open,
    /// By the invitation with this id (one use is counted when the account is made).
    Invited(String),
}

/// A new invitation's terms.
pub struct NewInvite {
    pub uses: i64,
    pub hours: i64,
}

fn stamp(unix: i64) -> String {
    iso_from_millis(unix * 1000)
}

impl Hub {
    /// The mode in force and the stored one.
    fn registration_modes(&self) -> Result<(Registration, Registration), ApiError> {
        let stored = self.db.stored_registration().map_err(|e| self.internal(e))?.unwrap_or(Registration::Invite);
        Ok((self.config.registration.unwrap_or(stored), stored))
    }

    /// Whether a registration (with `invite`, if any) may go ahead, and why. An empty server
    /// takes its first account whatever the mode.
    pub(super) fn admission(&self, invite: Option<&TokenHash>) -> Result<Admission, ApiError> {
        if self.accounts.is_empty() {
            return Ok(Admission::First);
        }
        match self.registration_modes()?.0 {
            Registration::Open => Ok(Admission::Open),
            Registration::Closed => Err(ApiError::Forbidden(REGISTRATION_CLOSED)),
            Registration::Invite => {
                let hash = invite.ok_or(ApiError::Forbidden(INVITE_NEEDED))?;
                let row = self.db.invite_by_token(hash).map_err(|e| self.internal(e))?;
                let row = row.ok_or(ApiError::Forbidden(INVITE_INVALID))?;
                if row.expires_at <= unix_now() {
                    Err(ApiError::Forbidden(INVITE_EXPIRED))
                } else if row.uses >= row.max_uses {
                    Err(ApiError::Forbidden(INVITE_USED_UP))
                } else {
                    Ok(Admission::Invited(row.id))
                }
            }
        }
    }

    /// What the registration form should say (the login page): `Ok` if it can be used (with
    /// this invitation), else why not.
    pub fn registration_state(&self, invite: Option<TokenHash>) -> Result<(), ApiError> {
        self.admission(invite.as_ref()).map(|_| ())
    }

    /// `GET /api/admin/registration`.
    pub fn registration_settings(&self, admin: &UserId) -> Result<RegistrationSettings, ApiError> {
        self.require_admin(admin)?;
        let (mode, stored) = self.registration_modes()?;
        Ok(RegistrationSettings {
            mode: mode.as_str(),
            stored: stored.as_str(),
            overridden: self.config.registration.is_some(),
        })
    }

    /// `POST /api/admin/registration {mode}`: stores the mode (a `--registration` flag still
    /// wins while it is set, and the answer says so).
    pub fn set_registration(&mut self, admin: &SessionUser, mode: &str) -> Result<RegistrationSettings, ApiError> {
        self.require_admin(&admin.id)?;
        let mode = Registration::parse(mode).ok_or(ApiError::bad_request("mode must be open, invite or closed"))?;
        let (_, stored) = self.registration_modes()?;
        if stored != mode {
            self.db.store_registration(mode).map_err(|e| self.internal(e))?;
            self.audit(admin, "registration", None, Some(mode.as_str()))?;
        }
        self.registration_settings(&admin.id)
    }

    fn audit(
        &mut self,
        admin: &SessionUser,
        action: &str,
        target: Option<(&str, &str)>,
        detail: Option<&str>,
    ) -> Result<(), ApiError> {
        audit_entry(&mut self.db, &Actor::Admin(admin), action, target, detail).map_err(|e| self.internal(e))?;
        log::info!("admin {action} by {}", admin.name);
        Ok(())
    }

    fn invite_item(&self, row: InviteRow, now: i64) -> InviteItem {
        InviteItem {
            created_by_name: row.created_by.as_deref().map(|id| self.name_of(id)),
            uses_left: (row.max_uses - row.uses).max(0),
            expired: row.expires_at <= now,
            created_at: stamp(row.created_at),
            expires_at: stamp(row.expires_at),
            id: row.id,
            created_by: row.created_by,
            max_uses: row.max_uses,
            uses: row.uses,
        }
    }

    /// `GET /api/admin/invites`: every invitation on file, newest first.
    pub fn invites(&self, admin: &UserId) -> Result<Vec<InviteItem>, ApiError> {
        self.require_admin(admin)?;
        let rows = self.db.invites().map_err(|e| self.internal(e))?;
        let now = unix_now();
        Ok(rows.into_iter().map(|row| self.invite_item(row, now)).collect())
    }

    /// `POST /api/admin/invites {uses, hours}`: a new invitation for `token` (its hash).
    pub fn create_invite(
        &mut self,
        admin: &SessionUser,
        token: TokenHash,
        terms: NewInvite,
    ) -> Result<InviteItem, ApiError> {
        self.require_admin(&admin.id)?;
        if !(1..=MAX_INVITE_USES).contains(&terms.uses) {
            return Err(ApiError::bad_request("uses must be 1 to 100"));
        }
        if !(1..=MAX_INVITE_DAYS * 24).contains(&terms.hours) {
            return Err(ApiError::bad_request("hours must be 1 to 720 (30 days)"));
        }
        let now = unix_now();
        self.db.lock_for_write().map_err(|e| self.internal(e))?;
        self.db.purge_invites(now).map_err(|e| self.internal(e))?;
        if self.db.invite_count().map_err(|e| self.internal(e))? >= MAX_INVITES {
            return Err(ApiError::Conflict("there are 100 invitations on file already: revoke some first"));
        }
        let row = InviteRow {
            id: uuid::Uuid::new_v4().simple().to_string()[..12].to_string(),
            created_by: Some(admin.id.to_string()),
            created_at: now,
            expires_at: now + terms.hours * 3600,
            max_uses: terms.uses,
            uses: 0,
        };
        self.db.insert_invite(&row, &token).map_err(|e| self.internal(e))?;
        let detail = format!("{} uses, {} h", terms.uses, terms.hours);
        self.audit(admin, "invite", None, Some(&detail))?;
        Ok(self.invite_item(row, now))
    }

    /// `DELETE /api/admin/invites/{id}`.
    pub fn revoke_invite(&mut self, admin: &SessionUser, id: &str) -> Result<(), ApiError> {
        self.require_admin(&admin.id)?;
        if !self.db.delete_invite(id).map_err(|e| self.internal(e))? {
            return Err(ApiError::NotFound("no such invitation"));
        }
        self.audit(admin, "revoke_invite", None, Some(id))
    }

    /// `POST /api/admin/users/{id}/login-link`: a one-time login link for `token` (its hash),
    /// replacing any earlier one of the account. Not for a disabled account. The account's
    /// name and the link's expiry.
    pub fn issue_login_link(
        &mut self,
        admin: &SessionUser,
        target: &str,
        token: TokenHash,
    ) -> Result<(String, String), ApiError> {
        self.require_admin(&admin.id)?;
        let user = self.accounts.get(target).map(|u| u.id.clone()).ok_or(ApiError::NotFound("no such user"))?;
        if self.db.account_flags(&user).map_err(|e| self.internal(e))?.is_some_and(|f| f.disabled) {
            return Err(ApiError::Conflict("this account is disabled: enable it first"));
        }
        let now = unix_now();
        let expires = now + LOGIN_LINK_HOURS * 3600;
        self.db.insert_login_link(&user, &token, Some(&admin.id), now, expires).map_err(|e| self.internal(e))?;
        let name = self.name_of(&user);
        self.audit(admin, "login_link", Some((&user, &name)), None)?;
        Ok((name.to_string(), stamp(expires)))
    }

    /// Housekeeping: expired invitations, and login links a week past their expiry.
    pub(super) fn purge_links_and_invites(&mut self) {
        let now = unix_now();
        if let Err(e) = self.db.purge_invites(now).and_then(|_| self.db.purge_login_links(now - EXPIRED_LINK_KEPT_SECS))
        {
            log::warn!("could not drop expired invitations and login links: {e}");
        }
    }
}
