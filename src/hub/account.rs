//! One's own account: its sessions (devices) and signing them out, changing the password,
//! signing in with a one-time login link, and signing in by a trusted proxy's header (single
//! sign-on).

use super::accounts::{SessionMeta, too_many};
use super::{Credential, Credentials, Hub, SessionUser, TokenHash, UserId};
use crate::clock::{iso_from_millis, unix_now};
use crate::error::{ACCOUNT_DISABLED, ApiError};
use crate::limits::address_key;
use crate::protocol::{AccountInfo, SessionItem};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// A session opened by a login link may set a new password without the old one this long.
const RESET_WINDOW_SECS: i64 = 3600;

/// Why a login link does not sign anyone in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// Unknown: mistyped, already used, or replaced by a newer one.
    Invalid,
    Expired,
    /// The account was disabled since.
    Disabled,
}

/// What changing a password needs to check first.
pub enum PasswordCheck {
    /// The session came from a login link a short while ago: no current password needed.
    Reset,
    /// Verify the current password against this (off the hub).
    Verify(Credentials),
}

/// The public id of a session: the start of its token's hash, in hex (not enough to find
/// the token, and the hash itself never authenticates).
fn session_id(token: &TokenHash) -> String {
    token[..8].iter().map(|b| format!("{b:02x}")).collect()
}

impl Hub {
    /// The user a credential stands for: a session cookie's, or (single sign-on) the name a
    /// trusted proxy asserts — made into an account on first sight if registration allows.
    pub fn authenticate_credential(
        &mut self,
        credential: &Credential,
        peer: IpAddr,
    ) -> Result<Option<SessionUser>, ApiError> {
        match credential {
            Credential::Session(token) => Ok(self.authenticate(token)),
            Credential::Header(name) => self.authenticate_header(name, peer).map(Some),
        }
    }

    fn authenticate_header(&mut self, name: &str, peer: IpAddr) -> Result<SessionUser, ApiError> {
        let normalized = crate::names::normalize(name);
        let found = self.accounts.find_by_name(name).or_else(|| self.accounts.find_by_name(&normalized));
        if let Some(entry) = found {
            let user = SessionUser { id: entry.id.clone(), name: entry.name.clone() };
            let flags = self.db.account_flags(&user.id).map_err(|e| self.internal(e))?;
            if flags.is_some_and(|f| f.disabled) {
                return Err(ApiError::Forbidden(ACCOUNT_DISABLED));
            }
            return Ok(user);
        }
        // First sight: an account with no password, if the name passes the same rules as a
        // registration's and registration is open (an invitation can't come with a header).
        let clean = crate::auth::clean_username(name)?;
        let admission = self.admission(None)?;
        if let Some(unavailable) = self.accounts.name_unavailable(&clean) {
            return Err(unavailable);
        }
        let address = address_key(peer);
        self.limits.register_per_address.take(&address, Instant::now()).map_err(too_many)?;
        self.undo.refunds.push(Box::new(move |limits| limits.register_per_address.refund(&address)));
        log::info!("single sign-on: making an account for {clean}");
        self.create_account(clean, None, admission)
    }

    /// `GET /api/account`.
    pub fn account_info(&self, user: &SessionUser, credential: &Credential) -> Result<AccountInfo, ApiError> {
        let has_password =
            self.db.login_record(&user.id).map_err(|e| self.internal(e))?.is_some_and(|r| r.password_hash.is_some());
        let may_reset_password = match credential.token() {
            Some(token) => self.reset_allowed(token)?,
            None => false,
        };
        Ok(AccountInfo {
            id: user.id.clone(),
            name: user.name.clone(),
            is_admin: self.is_admin(&user.id),
            has_password,
            may_reset_password,
            single_sign_on: credential.token().is_none(),
        })
    }

    fn reset_allowed(&self, token: &TokenHash) -> Result<bool, ApiError> {
        let until = self.db.reset_until(token).map_err(|e| self.internal(e))?;
        Ok(until.is_some_and(|until| until > self.session_clock()))
    }

    /// `GET /api/account/sessions`: the caller's sessions, most recently used first.
    pub fn my_sessions(&self, user: &UserId, current: Option<TokenHash>) -> Result<Vec<SessionItem>, ApiError> {
        let rows = self.db.sessions_of(user).map_err(|e| self.internal(e))?;
        Ok(rows
            .into_iter()
            .filter(|r| self.accounts.session_owner(&r.token_hash) == Some(user))
            .map(|r| SessionItem {
                id: session_id(&r.token_hash),
                current: Some(r.token_hash) == current,
                created_at: iso_from_millis(r.created_at * 1000),
                last_seen: iso_from_millis(r.last_seen * 1000),
                address: r.address,
                user_agent: r.user_agent,
            })
            .collect())
    }

    /// `DELETE /api/account/sessions/{id}`: signs one of the caller's sessions out (its
    /// sockets close). 404 for an id that is not one of theirs.
    pub fn end_my_session(&mut self, user: &UserId, id: &str) -> Result<(), ApiError> {
        let token = self
            .accounts
            .sessions_of(user)
            .into_iter()
            .find(|t| session_id(t) == id)
            .ok_or(ApiError::NotFound("no such session"))?;
        log::info!("user {} signed a session out", self.name_of(user));
        self.end_session(&token);
        Ok(())
    }

    /// `POST /api/account/sessions/end-others`: signs every other session out; how many.
    pub fn end_other_sessions(&mut self, user: &UserId, current: &TokenHash) -> Result<usize, ApiError> {
        let ended = self.end_all_sessions(user, Some(current), "signed out from another device")?;
        log::info!("user {} signed {ended} other sessions out", self.name_of(user));
        Ok(ended)
    }

    /// The first half of a password change: what must be checked. The current password
    /// spends the same failure budgets as a login (a stolen session can't guess it faster).
    pub fn password_check(
        &mut self,
        user: &SessionUser,
        token: &TokenHash,
        peer: IpAddr,
    ) -> Result<PasswordCheck, ApiError> {
        if self.reset_allowed(token)? {
            return Ok(PasswordCheck::Reset);
        }
        match self.login_lookup(&user.name, peer)? {
            Some(credentials) if credentials.user.id == user.id && credentials.password_hash.is_some() => {
                Ok(PasswordCheck::Verify(credentials))
            }
            _ => Err(ApiError::Forbidden("this account has no password: it signs in through single sign-on")),
        }
    }

    /// The second half: stores the new hash and ends the caller's other sessions. `verified`:
    /// the current password was right, so the attempt gives its budget back.
    pub fn change_password(
        &mut self,
        user: &SessionUser,
        token: &TokenHash,
        password_hash: &str,
        peer: IpAddr,
        verified: bool,
    ) -> Result<usize, ApiError> {
        if verified {
            self.refund_login(&user.id, peer);
        } else if !self.reset_allowed(token)? {
            return Err(ApiError::Forbidden("the reset window of this session has closed; enter the current password"));
        }
        self.db.set_password_hash(&user.id, password_hash).map_err(|e| self.internal(e))?;
        self.db.set_reset_until(token, None).map_err(|e| self.internal(e))?;
        let ended = self.end_all_sessions(&user.id, Some(token), "password changed")?;
        log::info!("user {} changed their password; {ended} other sessions ended", user.name);
        Ok(ended)
    }

    /// The name a login link signs in as, or why it doesn't (the confirmation page).
    pub fn login_link_target(&self, link: &TokenHash) -> Result<Result<Arc<str>, LinkProblem>, ApiError> {
        Ok(self.check_link(link)?.map(|(_, name)| name))
    }

    fn check_link(&self, link: &TokenHash) -> Result<Result<(UserId, Arc<str>), LinkProblem>, ApiError> {
        let Some(row) = self.db.login_link(link).map_err(|e| self.internal(e))? else {
            return Ok(Err(LinkProblem::Invalid));
        };
        let Some(user) = self.accounts.get(&row.user_id) else { return Ok(Err(LinkProblem::Invalid)) };
        if row.expires_at <= unix_now() {
            return Ok(Err(LinkProblem::Expired));
        }
        let flags = self.db.account_flags(&user.id).map_err(|e| self.internal(e))?;
        if flags.is_some_and(|f| f.disabled) {
            return Ok(Err(LinkProblem::Disabled));
        }
        Ok(Ok((user.id.clone(), user.name.clone())))
    }

    /// Signs in with a login link: the link is used up, and the new session (a session like
    /// any other) may set a new password without the old one for a while.
    pub fn redeem_login_link(
        &mut self,
        link: &TokenHash,
        token: TokenHash,
        meta: SessionMeta,
    ) -> Result<Result<SessionUser, LinkProblem>, ApiError> {
        self.db.lock_for_write().map_err(|e| self.internal(e))?;
        let (id, name) = match self.check_link(link)? {
            Ok(found) => found,
            Err(problem) => return Ok(Err(problem)),
        };
        self.db.delete_login_link(&id).map_err(|e| self.internal(e))?;
        self.open_session(&id, token, meta)?;
        let until = self.session_clock() + RESET_WINDOW_SECS;
        self.db.set_reset_until(&token, Some(until)).map_err(|e| self.internal(e))?;
        log::info!("user {name} signed in with a one-time login link");
        Ok(Ok(SessionUser { id, name }))
    }
}
