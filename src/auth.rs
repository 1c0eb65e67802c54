//! Passwords and session tokens.
//!
//! New hashes are Argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1). The original
//! app's passlib hashes (`$argon2id$v=19$m=65536,t=3,p=4$...`) verify as they are and are
//! rehashed with the current parameters on the next successful login. Hashing takes tens of
//! milliseconds and up to 64 MiB, so it runs on HTTP workers, at most `hash_concurrency` at
//! a time; a worker that can't get a turn within a few seconds answers 503.
//!
//! A session token is 32 random bytes, given to the browser as 64 hex digits in an HttpOnly
//! cookie. The server stores only its BLAKE2s hash, so a copy of `users.db` holds no usable
//! session.

use crate::error::ApiError;
use crate::identity::TokenHash;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use blake2::{Blake2s256, Digest};
use crossbeam_channel::{Receiver, Sender};
use std::time::Duration;

/// OWASP's Argon2id recommendation: 19 MiB, 2 passes, 1 lane.
const MEMORY_KIB: u32 = 19 * 1024;
const PASSES: u32 = 2;
const LANES: u32 = 1;
/// Longest user name, in characters.
pub const MAX_NAME_CHARS: usize = 32;
/// Shortest and longest password for new accounts, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 1024;
/// How long a worker waits for a hashing turn.
const PERMIT_WAIT: Duration = Duration::from_secs(5);

fn current() -> Argon2<'static> {
    // The parameters are constants inside Argon2's accepted ranges.
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes and verifies passwords, a bounded number at a time.
#[derive(Clone)]
pub struct Passwords {
    take: Receiver<()>,
    give: Sender<()>,
}

/// A hash, with today's parameters, of 32 random bytes nobody kept: verified against when the
/// account doesn't exist, so that a wrong name costs as much time as a wrong password.
/// (A constant, so start-up doesn't spend an Argon2 run making one.)
const DECOY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$lcRxFZqvfM9RgHwsae8Y7w$yOy7b68VkmAsFWZc7AEzNARsaMlnnoJOwRb4Gtmz37I";

/// A turn at hashing; given back on drop.
struct Permit<'a>(&'a Sender<()>);

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// What checking a password found.
pub struct Verified {
    pub ok: bool,
    /// The stored hash uses old parameters; store this one instead.
    pub rehash: Option<String>,
}

impl Passwords {
    pub fn new(concurrency: usize) -> Passwords {
        let (give, take) = crossbeam_channel::bounded(concurrency);
        for _ in 0..concurrency {
            let _ = give.send(());
        }
        Passwords { take, give }
    }

    fn permit(&self) -> Result<Permit<'_>, ApiError> {
        self.take
            .recv_timeout(PERMIT_WAIT)
            .map(|()| Permit(&self.give))
            .map_err(|_| ApiError::Unavailable("server is busy, try again"))
    }

    pub fn hash(&self, password: &str) -> Result<String, ApiError> {
        let _turn = self.permit()?;
        hash_now(password.as_bytes())
    }

    /// Checks `password` against `stored` (or against the decoy when there is no account).
    pub fn verify(&self, password: &str, stored: Option<&str>) -> Result<Verified, ApiError> {
        let _turn = self.permit()?;
        let (phc, real) = match stored.map(PasswordHash::new) {
            Some(Ok(phc)) => (phc, true),
            Some(Err(_)) => {
                log::warn!("a stored password hash is not a PHC string; that account can't log in");
                (PasswordHash::new(DECOY_HASH).map_err(|_| ApiError::Internal)?, false)
            }
            None => (PasswordHash::new(DECOY_HASH).map_err(|_| ApiError::Internal)?, false),
        };
        let ok = real && current().verify_password(password.as_bytes(), &phc).is_ok();
        if !real {
            let _ = current().verify_password(password.as_bytes(), &phc);
        }
        let rehash = if ok && is_outdated(&phc) { Some(hash_now(password.as_bytes())?) } else { None };
        Ok(Verified { ok, rehash })
    }
}

fn hash_now(password: &[u8]) -> Result<String, ApiError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|_| ApiError::Internal)?;
    current().hash_password_with_salt(password, &salt).map(|h| h.to_string()).map_err(|e| {
        log::error!("hashing failed: {e}");
        ApiError::Internal
    })
}

/// Whether a hash was made with other parameters than today's.
fn is_outdated(phc: &PasswordHash) -> bool {
    let wanted = Params::new(MEMORY_KIB, PASSES, LANES, None).ok();
    let actual = Params::try_from(phc).ok();
    phc.algorithm.as_str() != "argon2id"
        || phc.version != Some(0x13)
        || match (actual, wanted) {
            (Some(a), Some(w)) => a.m_cost() != w.m_cost() || a.t_cost() != w.t_cost() || a.p_cost() != w.p_cost(),
            _ => true,
        }
}

/// A new session token: the cookie value, and the hash the server keeps.
pub fn new_token() -> Result<(String, TokenHash), ApiError> {
    let mut raw = [0u8; 32];
    getrandom::fill(&mut raw).map_err(|_| ApiError::Internal)?;
    let cookie: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    Ok((cookie, hash_raw(&raw)))
}

fn hash_raw(raw: &[u8; 32]) -> TokenHash {
    Blake2s256::digest(raw).into()
}

/// The hash of a token as a cookie carries it; `None` if it isn't one of ours.
pub fn hash_token(cookie: &str) -> Option<TokenHash> {
    if cookie.len() != 64 {
        return None;
    }
    let mut raw = [0u8; 32];
    for (i, pair) in cookie.as_bytes().chunks(2).enumerate() {
        let text = std::str::from_utf8(pair).ok()?;
        raw[i] = u8::from_str_radix(text, 16).ok()?;
    }
    Some(hash_raw(&raw))
}

/// A user name as stored: NFKC, trimmed, 1–32 characters, nothing invisible (see
/// [`crate::names`]).
pub fn clean_username(raw: &str) -> Result<String, ApiError> {
    crate::names::clean(raw, MAX_NAME_CHARS, "user name")
}

/// A new account's password: 8–1024 characters.
pub fn check_new_password(password: &str) -> Result<(), ApiError> {
    let chars = password.chars().count();
    if !(MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars) {
        return Err(ApiError::bad_request("password must be 8 to 1024 characters"));
    }
    Ok(())
}

/// A login's password: bounded, so a huge one can't make hashing expensive.
pub fn check_login_password(password: &str) -> Result<(), ApiError> {
    if password.is_empty() || password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(ApiError::WrongCredentials);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// alice's hash from the legacy fixture, written by passlib.
    const LEGACY_ALICE: &str = include_str!("../tests/data/legacy-alice-hash.txt");

    #[test]
    fn legacy_passlib_hash_verifies_and_is_marked_for_rehash() {
        let passwords = Passwords::new(1);
        let v = passwords.verify("alice-pass-1", Some(LEGACY_ALICE.trim())).unwrap();
        assert!(v.ok);
        let new = v.rehash.expect("legacy parameters are outdated");
        assert!(new.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{new}");
        let again = passwords.verify("alice-pass-1", Some(&new)).unwrap();
        assert!(again.ok && again.rehash.is_none());
        assert!(!passwords.verify("wrong", Some(LEGACY_ALICE.trim())).unwrap().ok);
    }

    #[test]
    fn the_decoy_has_current_parameters() {
        let decoy = PasswordHash::new(DECOY_HASH).unwrap();
        assert!(!is_outdated(&decoy), "a wrong name must cost what a wrong password costs");
    }

    #[test]
    fn missing_or_broken_hashes_never_verify() {
        let passwords = Passwords::new(1);
        assert!(!passwords.verify("anything", None).unwrap().ok);
        assert!(!passwords.verify("anything", Some("not a hash")).unwrap().ok);
    }

    #[test]
    fn tokens_round_trip_through_their_cookie_form() {
        let (cookie, hash) = new_token().unwrap();
        assert_eq!(cookie.len(), 64);
        assert_eq!(hash_token(&cookie), Some(hash));
        assert_eq!(hash_token("zz"), None);
        assert_eq!(hash_token(&"g".repeat(64)), None);
    }

    #[test]
    fn names_and_passwords_follow_the_rules() {
        assert_eq!(clean_username("  bob ").unwrap(), "bob");
        assert!(clean_username("   ").is_err());
        assert!(clean_username(&"x".repeat(33)).is_err());
        assert!(clean_username(&"я".repeat(32)).is_ok());
        assert!(clean_username("a\u{7}b").is_err());
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough").is_ok());
        assert!(check_new_password(&"p".repeat(1025)).is_err());
    }
}
