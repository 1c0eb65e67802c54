//! Same-origin checks: a state-changing request or a WebSocket handshake that a page of
//! another site made the browser send is refused (CSRF, cross-site WebSocket hijacking).

use super::Ctx;
use crate::error::ApiError;
use crate::http::request::Request;

/// Refuses state-changing requests that a page of another site made the browser send.
pub fn check_same_origin(ctx: &Ctx, request: &Request) -> Result<(), ApiError> {
    if request.header("sec-fetch-site").is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
        return Err(ApiError::Forbidden("cross-site request refused"));
    }
    if origin_allowed(ctx, request) { Ok(()) } else { Err(ApiError::Forbidden("cross-origin request refused")) }
}

/// No `Origin` (not a browser, or a same-origin GET) is allowed; otherwise it must name the
/// host the request was sent to, or a configured extra origin.
pub fn origin_allowed(ctx: &Ctx, request: &Request) -> bool {
    let Some(origin) = request.header("origin") else { return true };
    let origin = origin.trim_end_matches('/');
    if ctx.config.allowed_origins.iter().any(|o| o.eq_ignore_ascii_case(origin)) {
        return true;
    }
    let authority = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    match (authority, request.header("host")) {
        (Some(authority), Some(host)) => authority.eq_ignore_ascii_case(host),
        _ => false,
    }
}
