//! Every error a client can see, with its HTTP status and the sentence it reads.
//!
//! Internal details (SQL errors, I/O errors) are logged where they happen and surface here only
//! as [`ApiError::Internal`] or [`ApiError::Unavailable`]: a client never reads our internals.

use std::borrow::Cow;
use std::fmt;

/// Refusals the pages translate (see `http::pages`), named once.
pub const ACCOUNT_DISABLED: &str = "this account is disabled";
pub const REGISTRATION_CLOSED: &str = "registration is closed on this server";
pub const INVITE_NEEDED: &str = "registration needs an invitation: ask an administrator for a link";
pub const INVITE_INVALID: &str = "this invitation is not valid (mistyped, or revoked)";
pub const INVITE_EXPIRED: &str = "this invitation has expired";
pub const INVITE_USED_UP: &str = "this invitation has been used up";
pub const ADMINS_ONLY: &str = "administrators only";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// 400: the request is malformed or a field breaks a rule; the text says which.
    BadRequest(Cow<'static, str>),
    /// 401: no valid session.
    NotLoggedIn,
    /// 401: login with an unknown name or a wrong password (the two are not told apart).
    WrongCredentials,
    /// 401: a credential other than a session (a bot's token) is missing, unknown or revoked.
    Unauthorized(&'static str),
    /// 403: authenticated, but not allowed to do this.
    Forbidden(&'static str),
    /// 404: no such thing (or not visible to the caller).
    NotFound(&'static str),
    /// 408: the request did not arrive in time.
    Timeout,
    /// 405: the path exists, the method does not; lists the allowed ones.
    MethodNotAllowed(&'static str),
    /// 409: conflicts with existing state, e.g. a taken user name.
    Conflict(&'static str),
    /// 411: a request body without a length.
    LengthRequired,
    /// 413: the body is over the limit.
    PayloadTooLarge,
    /// 413: a part of the request (a message's text) is over its limit; the text says which.
    TooLong(&'static str),
    /// 413: an upload over one of the file limits; the text says which, for the user to read.
    TooLarge(Cow<'static, str>),
    /// 410: it existed and was deleted on purpose (an expired file).
    Gone(&'static str),
    /// 431: the request head is over the limit.
    HeadersTooLarge,
    /// 429: too many attempts; try again after this many seconds.
    TooManyRequests { retry_after: u64 },
    /// 501: a request framing or feature we do not implement (a transfer coding but chunked).
    NotImplemented(&'static str),
    /// 503: the server is overloaded or shutting down.
    Unavailable(&'static str),
    /// 500: something failed on our side; the details are in the server log.
    Internal,
}

impl ApiError {
    pub fn bad_request(message: impl Into<Cow<'static, str>>) -> ApiError {
        ApiError::BadRequest(message.into())
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest(_) => 400,
            ApiError::NotLoggedIn | ApiError::WrongCredentials | ApiError::Unauthorized(_) => 401,
            ApiError::Forbidden(_) => 403,
            ApiError::NotFound(_) => 404,
            ApiError::MethodNotAllowed(_) => 405,
            ApiError::Timeout => 408,
            ApiError::Conflict(_) => 409,
            ApiError::LengthRequired => 411,
            ApiError::PayloadTooLarge | ApiError::TooLong(_) | ApiError::TooLarge(_) => 413,
            ApiError::Gone(_) => 410,
            ApiError::HeadersTooLarge => 431,
            ApiError::TooManyRequests { .. } => 429,
            ApiError::NotImplemented(_) => 501,
            ApiError::Unavailable(_) => 503,
            ApiError::Internal => 500,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::BadRequest(m) | ApiError::TooLarge(m) => f.write_str(m),
            ApiError::Gone(m) => f.write_str(m),
            ApiError::NotLoggedIn => f.write_str("not logged in"),
            ApiError::WrongCredentials => f.write_str("wrong user name or password"),
            ApiError::Forbidden(m) | ApiError::NotFound(m) | ApiError::Conflict(m) | ApiError::Unauthorized(m) => {
                f.write_str(m)
            }
            ApiError::MethodNotAllowed(allowed) => write!(f, "method not allowed (allowed: {allowed})"),
            ApiError::Timeout => f.write_str("request timed out"),
            ApiError::LengthRequired => f.write_str("a request body needs a Content-Length header"),
            ApiError::PayloadTooLarge => f.write_str("request body too large"),
            ApiError::HeadersTooLarge => f.write_str("request headers too large"),
            ApiError::TooManyRequests { retry_after } => {
                write!(f, "too many attempts, try again in {retry_after} s")
            }
            ApiError::Unavailable(m) | ApiError::NotImplemented(m) | ApiError::TooLong(m) => f.write_str(m),
            ApiError::Internal => f.write_str("internal error"),
        }
    }
}

impl std::error::Error for ApiError {}
