//! The admin page and the admin API (`/api/admin/...`). Each handler: the session's user
//! (401 without one), an administrator (403 otherwise, as `users.db` says now), then one
//! question to the hub, which checks the role again in the closure that acts.

use super::Ctx;
use super::pages::{page, user_or_login};
use super::response::Response;
use crate::auth;
use crate::error::ApiError;
use crate::http::request::Request;
use crate::hub::{MAX_ACCOUNTS_PAGE, MAX_AUDIT_PAGE, NewInvite, SessionUser};
use crate::protocol::IssuedLink;
use crate::templates::Value;
use serde::Deserialize;

/// The caller, if an administrator: 401 without a session, 403 for anyone else.
fn require_admin(ctx: &Ctx, request: &Request) -> Result<SessionUser, ApiError> {
    let user = ctx.require_user(request)?;
    let id = user.id.clone();
    ctx.hub.ask(move |hub| hub.require_admin(&id))??;
    Ok(user)
}

/// Where links point: `--public-url`, else the address this request was sent to.
pub fn origin(ctx: &Ctx, request: &Request) -> String {
    if let Some(url) = &ctx.config.public_url {
        return url.clone();
    }
    let scheme = if request.https { "https" } else { "http" };
    format!("{scheme}://{}", request.header("host").unwrap_or("localhost"))
}

/// `?name=<n>` within `min..=max`, or `default`.
fn number(request: &Request, name: &'static str, default: i64, min: i64, max: i64) -> Result<i64, ApiError> {
    match request.query_param(name) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!("{name} must be a number from {min} to {max}"))),
        },
    }
}

fn body<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    serde_json::from_slice(&request.body).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

/// GET /admin — the admin page (administrators only; others get a 403 page).
pub fn admin_page(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = match user_or_login(ctx, request)? {
        Ok(user) => user,
        Err(redirect) => return Ok(redirect),
    };
    let id = user.id.clone();
    ctx.hub.ask(move |hub| hub.require_admin(&id))??;
    Ok(page(
        ctx,
        request,
        200,
        "admin.html",
        &[("user_name", Value::Text(&user.name)), ("user_id", Value::Text(&user.id))],
    ))
}

/// GET /api/admin/users?after=&limit= — `{users: [...], next}`, in registration order.
pub fn users(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let admin = require_admin(ctx, request)?;
    let after = number(request, "after", 0, 0, i64::MAX)?;
    let limit = number(request, "limit", 100, 1, MAX_ACCOUNTS_PAGE as i64)? as u32;
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.admin_accounts(&admin.id, after, limit))??))
}

/// GET /api/admin/files?limit= — disk use: what the stored files take against the limits,
/// the disk's free space, and the users whose uploads take the most, largest first.
pub fn files(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let admin = require_admin(ctx, request)?;
    let limit = number(request, "limit", 100, 1, MAX_ACCOUNTS_PAGE as i64)? as usize;
    let (stored, users, more) = ctx.hub.ask(move |hub| hub.admin_disk_use(&admin.id, limit))??;
    let free = ctx.files.store.free_space().map_err(|e| {
        log::error!("statvfs on the file store failed: {e}");
        ApiError::Internal
    })?;
    let config = &ctx.config;
    Ok(Response::json(
        200,
        &serde_json::json!({
            "stored_bytes": stored,
            "total_quota": config.total_file_quota,
            "user_quota": config.user_file_quota,
            "max_file_size": config.max_file_size,
            "free_bytes": free,
            "min_free_space": config.min_free_space,
            "retention_seconds": config.file_retention.map(|d| d.as_secs()),
            "users": users,
            "more": more,
        }),
    ))
}

/// POST /api/admin/users/{id}/promote|demote|disable|enable — the account as it is now.
pub fn user_action(ctx: &Ctx, request: &Request, target: &str, action: &str) -> Result<Response, ApiError> {
    let admin = require_admin(ctx, request)?;
    let target = target.to_string();
    let account = match action {
        "promote" | "demote" => {
            let promote = action == "promote";
            ctx.hub.ask(move |hub| hub.set_role(&admin, &target, promote))??
        }
        "disable" | "enable" => {
            let disable = action == "disable";
            ctx.hub.ask(move |hub| hub.set_disabled(&admin, &target, disable))??
        }
        _ => return Err(ApiError::NotFound("no such action")),
    };
    Ok(Response::json(200, &account))
}

/// POST /api/admin/users/{id}/login-link — a one-time login link for the account, with its
/// QR code: `{url, expires_at, qr}` (201). Shown this once; the server keeps only its hash.
pub fn login_link(ctx: &Ctx, request: &Request, target: &str) -> Result<Response, ApiError> {
    let admin = require_admin(ctx, request)?;
    let (raw, hash) = auth::new_token()?;
    let target = target.to_string();
    let (_, expires_at) = ctx.hub.ask(move |hub| hub.issue_login_link(&admin, &target, hash))??;
    let url = format!("{}/login-link?token={raw}", origin(ctx, request));
    let qr = crate::qr::data_url(&url).ok_or(ApiError::Internal)?;
    Ok(Response::json(201, &IssuedLink { url, expires_at, qr }))
}

/// DELETE /api/admin/users/{id} — deletes the account (see the README for what stays).
pub fn delete_user(ctx: &Ctx, request: &Request, target: &str) -> Result<Response, ApiError> {
    let admin = require_admin(ctx, request)?;
    let target = target.to_string();
    ctx.hub.ask(move |hub| hub.delete_account(&admin, &target))??;
    Ok(Response::json(200, &serde_json::json!({ "status": "ok" })))
}

/// GET /api/admin/invites — every invitation on file, newest first.
pub fn invites(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let admin = require_admin(ctx, request)?;
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.invites(&admin.id))??))
}

#[derive(Deserialize)]
struct InviteBody {
    uses: i64,
    hours: i64,
}

/// POST /api/admin/invites {uses, hours} — `{invite, url}` (201); the link is shown this once.
pub fn create_invite(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let admin = require_admin(ctx, request)?;
    let InviteBody { uses, hours } = body(request)?;
    let (raw, hash) = auth::new_token()?;
    let invite = ctx.hub.ask(move |hub| hub.create_invite(&admin, hash, NewInvite { uses, hours }))??;
    let url = format!("{}/?invite={raw}#register", origin(ctx, request));
    Ok(Response::json(201, &serde_json::json!({ "invite": invite, "url": url })))
}

/// DELETE /api/admin/invites/{id} — revokes an invitation.
pub fn revoke_invite(ctx: &Ctx, request: &Request, id: &str) -> Result<Response, ApiError> {
    let admin = require_admin(ctx, request)?;
    let id = id.to_string();
    ctx.hub.ask(move |hub| hub.revoke_invite(&admin, &id))??;
    Ok(Response::json(200, &serde_json::json!({ "status": "ok" })))
}

/// GET /api/admin/registration — `{mode, stored, overridden}`.
pub fn registration(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let admin = require_admin(ctx, request)?;
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.registration_settings(&admin.id))??))
}

#[derive(Deserialize)]
struct ModeBody {
    mode: String,
}

/// POST /api/admin/registration {mode: "open"|"invite"|"closed"}.
pub fn set_registration(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let admin = require_admin(ctx, request)?;
    let ModeBody { mode } = body(request)?;
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.set_registration(&admin, &mode))??))
}

/// GET /api/admin/audit?before=&limit= — the audit log, newest first.
pub fn audit(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let admin = require_admin(ctx, request)?;
    let before = number(request, "before", i64::MAX, 1, i64::MAX)?;
    let limit = number(request, "limit", 50, 1, MAX_AUDIT_PAGE as i64)? as u32;
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.audit_log(&admin.id, before, limit))??))
}
