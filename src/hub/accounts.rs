//! Accounts and sessions: the directory of users (loaded at start, kept in step with
//! `users.db`), session lookup and expiry, registration and the two halves of a login.
//!
//! Roles and the disabled state are not in the directory: they are read from `users.db` where
//! they are checked, so `mychat admin` changes them under a running server (see
//! [`super::admin`]).

use super::{Credentials, Hub, SessionUser, TokenHash, UserId};
use crate::clock::SteadyWall;
use crate::db::{Db, SessionRecord, UserRecord};
use crate::error::{ACCOUNT_DISABLED, ApiError};
use crate::limits::{address_key, retry_after_secs};
use crate::protocol::UserStatus;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

/// Sessions one user may hold; logging in again beyond this ends the least recently used.
pub const MAX_SESSIONS_PER_USER: usize = 64;
/// The most characters of a user agent kept with a session.
pub const MAX_USER_AGENT_CHARS: usize = 256;
/// What messages of a deleted account show as their author.
pub const DELETED_NAME: &str = "deleted account";
/// A session's `last_seen` is written at most this often (seconds).
const TOUCH_EVERY: i64 = 60;

pub(super) struct UserEntry {
    pub id: UserId,
    pub name: Arc<str>,
}

struct Session {
    user: UserId,
    created_at: i64,
    last_seen: i64,
}

/// The oldest `last_seen` and `created_at` a live session may have (Unix seconds).
#[derive(Clone, Copy)]
struct Cutoffs {
    idle_before: i64,
    created_before: i64,
}

impl Session {
    fn expired(&self, cutoffs: Cutoffs) -> bool {
        self.last_seen < cutoffs.idle_before || self.created_at < cutoffs.created_before
    }
}

#[derive(Default)]
pub(super) struct Accounts {
    users: HashMap<UserId, UserEntry>,
    /// Ids in registration order, for listings.
    order: Vec<UserId>,
    by_name: HashMap<Arc<str>, UserId>,
    /// Case-folded name → ids. Legacy installs may hold names that differ only in case.
    by_folded: HashMap<String, Vec<UserId>>,
    /// Confusable skeletons of every name, with how many names have each (legacy installs
    /// may hold names that share one).
    skeletons: HashMap<String, u32>,
    /// Ids of deleted accounts: their messages stay, from "deleted account".
    deleted: HashSet<UserId>,
    sessions: HashMap<TokenHash, Session>,
    /// Session ages are measured on this clock, so correcting the system clock neither
    /// ends sessions early nor keeps them alive; it survives a reload.
    clock: SteadyWall,
}

impl Accounts {
    pub fn load(&mut self, db: &Db) -> rusqlite::Result<()> {
        *self = Accounts { clock: self.clock, ..Accounts::default() };
        for record in db.load_users()? {
            self.insert(record);
        }
        self.deleted = db.deleted_users()?.into_iter().map(UserId::from).collect();
        // A time in the future was written while the clock was fast: count from now, so the
        // session expires on schedule rather than when the clock catches up with it.
        let now = self.clock.now();
        for s in db.load_sessions()? {
            if let Some(user) = self.users.get(s.user_id.as_str()) {
                let (created_at, last_seen) = (s.created_at.min(now), s.last_seen.min(now));
                let session = Session { user: user.id.clone(), created_at, last_seen };
                self.sessions.insert(s.token_hash, session);
            }
        }
        Ok(())
    }

    fn insert(&mut self, record: UserRecord) -> SessionUser {
        let id: UserId = record.id.into();
        let name: Arc<str> = record.name.into();
        self.order.push(id.clone());
        self.by_name.insert(name.clone(), id.clone());
        self.by_folded.entry(record.name_folded).or_default().push(id.clone());
        *self.skeletons.entry(record.name_skeleton).or_default() += 1;
        self.users.insert(id.clone(), UserEntry { id: id.clone(), name: name.clone() });
        SessionUser { id, name }
    }

    /// Forgets a deleted account (its sessions are ended separately) and remembers its id.
    pub fn remove(&mut self, id: &UserId) {
        let Some(entry) = self.users.remove(id) else { return };
        self.order.retain(|u| u != id);
        self.by_name.remove(&entry.name);
        let folded = crate::names::fold_name(&entry.name);
        if let Some(ids) = self.by_folded.get_mut(&folded) {
            ids.retain(|u| u != id);
            if ids.is_empty() {
                self.by_folded.remove(&folded);
            }
        }
        let skeleton = crate::names::skeleton(&entry.name);
        if let Some(count) = self.skeletons.get_mut(&skeleton) {
            *count -= 1;
            if *count == 0 {
                self.skeletons.remove(&skeleton);
            }
        }
        self.deleted.insert(id.clone());
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn is_deleted(&self, id: &str) -> bool {
        self.deleted.contains(id)
    }

    /// The sessions of `user`.
    pub fn sessions_of(&self, user: &UserId) -> Vec<TokenHash> {
        self.sessions.iter().filter(|(_, s)| s.user == *user).map(|(t, _)| *t).collect()
    }

    /// The user a session belongs to, if it is live in memory.
    pub fn session_owner(&self, token: &TokenHash) -> Option<&UserId> {
        self.sessions.get(token).map(|s| &s.user)
    }

    pub fn get(&self, id: &str) -> Option<&UserEntry> {
        self.users.get(id)
    }

    pub fn ordered(&self) -> impl Iterator<Item = &UserEntry> {
        self.order.iter().filter_map(|id| self.users.get(id))
    }

    pub fn session_user(&self, id: &UserId) -> Option<SessionUser> {
        self.users.get(id).map(|u| SessionUser { id: u.id.clone(), name: u.name.clone() })
    }

    /// Why a new account can't have `name`: taken (case-insensitively), or a look-alike of
    /// one that is.
    pub fn name_unavailable(&self, name: &str) -> Option<ApiError> {
        if self.by_folded.contains_key(&crate::names::fold_name(name)) {
            return Some(ApiError::Conflict("that user name is taken"));
        }
        if self.skeletons.contains_key(&crate::names::skeleton(name)) {
            return Some(ApiError::Conflict("that user name looks like one that is taken"));
        }
        None
    }

    /// An exact match first; else a case-insensitive one, if it is unambiguous.
    pub fn find_by_name(&self, name: &str) -> Option<&UserEntry> {
        if let Some(id) = self.by_name.get(name) {
            return self.users.get(id);
        }
        match self.by_folded.get(&crate::names::fold_name(name)).map(Vec::as_slice) {
            Some([id]) => self.users.get(id),
            _ => None,
        }
    }
}

/// The key of one account's failures from one client network.
fn account_from(user: &UserId, address: IpAddr) -> String {
    format!("{user} {address}")
}

/// Where a new session comes from, recorded for the owner's list of devices.
#[derive(Debug, Clone, Default)]
pub struct SessionMeta {
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

impl SessionMeta {
    /// The client's address and its user agent, cut to [`MAX_USER_AGENT_CHARS`].
    pub fn new(address: IpAddr, user_agent: Option<&str>) -> SessionMeta {
        let user_agent =
            user_agent.map(|ua| ua.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT_CHARS).collect());
        SessionMeta { address: Some(address.to_string()), user_agent }
    }
}

/// A registration, once the password is hashed.
pub struct NewAccount {
    pub name: String,
    pub password_hash: String,
    /// The invitation's token, hashed, when the page carried one.
    pub invite: Option<TokenHash>,
    pub token: TokenHash,
    pub meta: SessionMeta,
}

pub(super) fn too_many(wait: std::time::Duration) -> ApiError {
    ApiError::TooManyRequests { retry_after: retry_after_secs(wait) }
}

impl Hub {
    /// Sessions older than these have expired (ages in whole seconds).
    fn session_cutoffs(&self, now: i64) -> Cutoffs {
        Cutoffs {
            idle_before: now - self.config.session_idle.as_secs() as i64,
            created_before: now - self.config.session_lifetime.as_secs() as i64,
        }
    }

    pub fn authenticate(&mut self, token: &TokenHash) -> Option<SessionUser> {
        let now = self.accounts.clock.now();
        let cutoffs = self.session_cutoffs(now);
        let session = self.accounts.sessions.get_mut(token)?;
        if session.expired(cutoffs) {
            self.end_session(token);
            return None;
        }
        let user = session.user.clone();
        if now - session.last_seen >= TOUCH_EVERY {
            session.last_seen = now;
            if let Err(e) = self.db.touch_session(token, &user, now) {
                log::warn!("could not record session use: {e}");
            }
        }
        self.accounts.session_user(&user)
    }

    /// Whether `name` may register now (with `invite`, if given): checked before the password
    /// is hashed, and again when the account is made.
    pub fn check_registration(&mut self, name: &str, peer: IpAddr, invite: Option<TokenHash>) -> Result<(), ApiError> {
        self.admission(invite.as_ref())?;
        if let Some(unavailable) = self.accounts.name_unavailable(name) {
            return Err(unavailable);
        }
        let address = address_key(peer);
        self.limits.register_per_address.take(&address, Instant::now()).map_err(too_many)?;
        self.undo.refunds.push(Box::new(move |limits| limits.register_per_address.refund(&address)));
        Ok(())
    }

    /// Makes the account and its first session. The first account of an empty server is its
    /// administrator; an invitation, if one admitted it, counts one use. A refusal writes
    /// nothing and uses no invitation.
    pub fn register(&mut self, account: NewAccount) -> Result<SessionUser, ApiError> {
        let NewAccount { name, password_hash, invite, token, meta } = account;
        // Checked again: another registration may have taken the name (or the invitation's
        // last use, or the first account's place) while we hashed.
        let admission = self.admission(invite.as_ref())?;
        if let Some(unavailable) = self.accounts.name_unavailable(&name) {
            return Err(unavailable);
        }
        let user = self.create_account(name, Some(&password_hash), admission)?;
        self.open_session(&user.id, token, meta)?;
        Ok(user)
    }

    /// Writes a new account (after every check) and adds it to the directory.
    pub(super) fn create_account(
        &mut self,
        name: String,
        password_hash: Option<&str>,
        admission: super::invites::Admission,
    ) -> Result<SessionUser, ApiError> {
        let first = matches!(admission, super::invites::Admission::First);
        let record = UserRecord {
            id: uuid::Uuid::new_v4().to_string(),
            name_folded: crate::names::fold_name(&name),
            name_skeleton: crate::names::skeleton(&name),
            name,
        };
        self.db.insert_user(&record, password_hash, first, &crate::clock::iso_now()).map_err(|e| self.internal(e))?;
        if let super::invites::Admission::Invited(invite) = &admission {
            self.db.use_invite(invite).map_err(|e| self.internal(e))?;
        }
        let user = self.accounts.insert(record);
        self.presence.changed(user.id.clone());
        if first {
            log::info!("registered user {}, the first account: administrator", user.name);
        } else {
            log::info!("registered user {}", user.name);
        }
        Ok(user)
    }

    /// Three failure budgets guard a login, checked in this order so that nothing is kept
    /// for an attempt refused early: the client network's (20, then one per 30 s; checked
    /// first, so a flood of made-up names from one network creates no state per name), the
    /// account's from that network (5, then one a minute), and the account's from all
    /// networks together (50, then one per 20 s). An attacker at one network therefore never
    /// locks the owner, elsewhere, out; only an attack from many networks can, and then for
    /// at most 20 s at a time. The attempt counts before the password is checked, so
    /// parallel guesses can't overrun a budget; a correct password gives it back.
    pub fn login_lookup(&mut self, name: &str, peer: IpAddr) -> Result<Option<Credentials>, ApiError> {
        let now = Instant::now();
        let address = address_key(peer);
        self.limits.login_per_address.take(&address, now).map_err(too_many)?;
        // As typed (legacy names predate normalization), else as a new name would be stored.
        let normalized = crate::names::normalize(name);
        let found = self.accounts.find_by_name(name).or_else(|| self.accounts.find_by_name(&normalized));
        let Some(entry) = found else {
            return Ok(None);
        };
        let user = SessionUser { id: entry.id.clone(), name: entry.name.clone() };
        // `login_per_account` is keyed by (account, network).
        let pair = account_from(&user.id, address);
        if let Err(wait) = self.limits.login_per_account.take(&pair, now) {
            self.limits.login_per_address.refund(&address);
            return Err(too_many(wait));
        }
        if let Err(wait) = self.limits.login_per_user.take(&user.id, now) {
            self.limits.login_per_address.refund(&address);
            self.limits.login_per_account.refund(&pair);
            log::warn!("failed logins for {} from many networks: refusing all for now", user.name);
            return Err(too_many(wait));
        }
        let who = user.id.clone();
        self.undo.refunds.push(Box::new(move |limits| {
            limits.login_per_address.refund(&address);
            limits.login_per_account.refund(&pair);
            limits.login_per_user.refund(&who);
        }));
        match self.db.login_record(&user.id) {
            Ok(Some(record)) => {
                Ok(Some(Credentials { user, password_hash: record.password_hash, disabled: record.disabled }))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(self.internal(e)),
        }
    }

    /// The right password of a disabled account: its budgets are given back (it was no guess),
    /// and the answer says why it can't sign in.
    pub fn login_refused_disabled(&mut self, user: &UserId, peer: IpAddr) -> ApiError {
        self.refund_login(user, peer);
        log::info!("refused login of disabled account {}", self.name_of(user));
        ApiError::Forbidden(ACCOUNT_DISABLED)
    }

    /// A right password gives back what its attempt took from the failure budgets.
    pub(super) fn refund_login(&mut self, user: &UserId, peer: IpAddr) {
        let address = address_key(peer);
        self.limits.login_per_account.refund(&account_from(user, address));
        self.limits.login_per_address.refund(&address);
        self.limits.login_per_user.refund(user);
    }

    pub fn login_succeeded(
        &mut self,
        user: SessionUser,
        peer: IpAddr,
        token: TokenHash,
        rehash: Option<String>,
        meta: SessionMeta,
    ) -> Result<(), ApiError> {
        self.refund_login(&user.id, peer);
        if let Some(hash) = rehash
            && let Err(e) = self.db.set_password_hash(&user.id, &hash)
        {
            log::warn!("could not store the rehashed password of {}: {e}", user.name);
        }
        // Disabled while the password was being checked: no session.
        if self.db.account_flags(&user.id).map_err(|e| self.internal(e))?.is_some_and(|f| f.disabled) {
            return Err(ApiError::Forbidden(ACCOUNT_DISABLED));
        }
        self.open_session(&user.id, token, meta)?;
        log::info!("user {} logged in", user.name);
        Ok(())
    }

    pub(super) fn open_session(&mut self, user: &UserId, token: TokenHash, meta: SessionMeta) -> Result<(), ApiError> {
        let now = self.accounts.clock.now();
        let record = SessionRecord {
            token_hash: token,
            user_id: user.to_string(),
            created_at: now,
            last_seen: now,
            address: meta.address,
            user_agent: meta.user_agent,
        };
        self.db.insert_session(&record).map_err(|e| self.internal(e))?;
        self.accounts.sessions.insert(token, Session { user: user.clone(), created_at: now, last_seen: now });
        let mut mine: Vec<(i64, TokenHash)> =
            self.accounts.sessions.iter().filter(|(_, s)| s.user == *user).map(|(t, s)| (s.last_seen, *t)).collect();
        if mine.len() > MAX_SESSIONS_PER_USER {
            mine.sort();
            for (_, oldest) in &mine[..mine.len() - MAX_SESSIONS_PER_USER] {
                self.end_session(oldest);
            }
        }
        Ok(())
    }

    pub fn logout(&mut self, token: &TokenHash) {
        if let Some(user) = self.accounts.sessions.get(token).map(|s| s.user.clone()) {
            log::info!("user {} logged out", self.accounts.get(&user).map_or("?", |u| &u.name));
        }
        self.end_session(token);
    }

    /// Forgets a session and closes the sockets opened with it.
    pub(super) fn end_session(&mut self, token: &TokenHash) {
        if self.forget_session(token)
            && let Err(e) = self.db.delete_session(token)
        {
            log::warn!("could not delete a session: {e}");
        }
    }

    /// Ends every session of `user` but `except` (in memory and in the file) and closes their
    /// sockets with 4401 and `reason` — every socket of the user when `except` is `None`,
    /// single sign-on ones included. The number of sessions ended.
    pub(super) fn end_all_sessions(
        &mut self,
        user: &UserId,
        except: Option<&TokenHash>,
        reason: &'static str,
    ) -> Result<usize, ApiError> {
        let tokens: Vec<TokenHash> =
            self.accounts.sessions_of(user).into_iter().filter(|t| Some(t) != except).collect();
        for token in &tokens {
            self.accounts.sessions.remove(token);
            for conn in self.sockets.opened_with(token) {
                self.close_socket(conn, 4401, reason);
            }
        }
        if except.is_none() {
            for conn in self.sockets.of_user(user) {
                self.close_socket(conn, 4401, reason);
            }
        }
        self.db.delete_sessions_of(user, except).map_err(|e| self.internal(e))?;
        Ok(tokens.len())
    }

    /// Drops a session from memory and closes the sockets opened with it; whether it existed.
    fn forget_session(&mut self, token: &TokenHash) -> bool {
        if self.accounts.sessions.remove(token).is_none() {
            return false;
        }
        for conn in self.sockets.opened_with(token) {
            self.close_socket(conn, 4401, "session ended");
        }
        true
    }

    /// Ends every expired session: in memory one by one, in the file with one statement
    /// (which also catches rows whose user no longer exists, never loaded into memory).
    pub(super) fn expire_sessions(&mut self) {
        let cutoffs = self.session_cutoffs(self.accounts.clock.now());
        let expired: Vec<TokenHash> =
            self.accounts.sessions.iter().filter(|(_, s)| s.expired(cutoffs)).map(|(t, _)| *t).collect();
        for token in &expired {
            self.forget_session(token);
        }
        if let Err(e) = self.db.delete_expired_sessions(cutoffs.idle_before, cutoffs.created_before) {
            log::warn!("could not delete expired sessions: {e}");
        }
    }

    /// The clock session times are kept on (Unix seconds).
    pub(super) fn session_clock(&self) -> i64 {
        self.accounts.clock.now()
    }

    pub(super) fn status_of(&self, id: &UserId, name: &Arc<str>) -> UserStatus {
        UserStatus { id: id.clone(), name: name.clone(), online: self.presence.is_online(id) }
    }

    /// One user by id, with presence.
    pub fn find_user(&self, id: &str) -> Option<UserStatus> {
        self.accounts.get(id).map(|u| self.status_of(&u.id, &u.name))
    }

    /// Every user, in registration order.
    pub fn user_statuses(&self) -> Vec<UserStatus> {
        self.accounts.ordered().map(|u| self.status_of(&u.id, &u.name)).collect()
    }
}
