//! One's own account: the settings page, the self-service API (`/api/account/...`: password,
//! sessions), and the one-time login link's pages.
//!
//! A login link's token travels in the query (`/login-link?token=`), which the request log
//! leaves out, and opening it shows a page whose button signs in: a link preview (a chat app
//! or a mail scanner fetching it) must not use up a single-use link.

use super::pages::{error_text, form_field, page, session_meta, signed_in_to, user_or_login};
use super::response::Response;
use super::{Ctx, form};
use crate::auth;
use crate::error::ApiError;
use crate::http::request::Request;
use crate::hub::{Credential, LinkProblem, PasswordCheck, TokenHash};
use crate::templates::{self, Lang, Value};
use serde::Deserialize;

const WRONG_CURRENT: &str = "the current password is wrong";
const NO_SESSION_HERE: &str = "signed in through single sign-on: there is no session or password here to manage";

/// The caller and the session token their request carries (not for single sign-on).
fn session_caller(ctx: &Ctx, request: &Request) -> Result<(crate::hub::SessionUser, TokenHash), ApiError> {
    let user = ctx.require_user(request)?;
    match ctx.credential(request) {
        Some(Credential::Session(token)) => Ok((user, token)),
        _ => Err(ApiError::Forbidden(NO_SESSION_HERE)),
    }
}

/// GET /settings — password and devices (and, from others' work, notifications).
pub fn settings_page(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = match user_or_login(ctx, request)? {
        Ok(user) => user,
        Err(redirect) => return Ok(redirect),
    };
    Ok(page(
        ctx,
        request,
        200,
        "settings.html",
        &[("user_name", Value::Text(&user.name)), ("user_id", Value::Text(&user.id))],
    ))
}

/// GET /api/account — `{id, name, is_admin, has_password, may_reset_password, single_sign_on}`.
pub fn account(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = ctx.require_user(request)?;
    let credential = ctx.credential(request).ok_or(ApiError::NotLoggedIn)?;
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.account_info(&user, &credential))??))
}

#[derive(Deserialize)]
struct PasswordBody {
    #[serde(default)]
    current: Option<String>,
    new: String,
}

/// POST /api/account/password {current, new} — changes the caller's password and signs their
/// other sessions out: `{status, ended_sessions}`. The current password is needed, except
/// within an hour of signing in with a one-time login link. A wrong one is 403 and changes
/// nothing (and counts against the login budgets).
pub fn change_password(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let (user, token) = session_caller(ctx, request)?;
    let body: PasswordBody =
        serde_json::from_slice(&request.body).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    auth::check_new_password(&body.new)?;
    let peer = request.peer;
    let asker = user.clone();
    let check = ctx.hub.ask(move |hub| hub.password_check(&asker, &token, peer))??;
    let verified = match check {
        PasswordCheck::Reset => false,
        PasswordCheck::Verify(credentials) => {
            let current = body.current.unwrap_or_default();
            if auth::check_login_password(&current).is_err() {
                return Err(ApiError::Forbidden(WRONG_CURRENT));
            }
            if !ctx.passwords.verify(&current, credentials.password_hash.as_deref())?.ok {
                log::info!("wrong current password in a password change of {}", user.name);
                return Err(ApiError::Forbidden(WRONG_CURRENT));
            }
            true
        }
    };
    let hash = ctx.passwords.hash(&body.new)?;
    let ended = ctx.hub.ask(move |hub| hub.change_password(&user, &token, &hash, peer, verified))??;
    Ok(Response::json(200, &serde_json::json!({ "status": "ok", "ended_sessions": ended })))
}

/// GET /api/account/sessions — `[{id, created_at, last_seen, address, user_agent, current}]`.
pub fn sessions(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = ctx.require_user(request)?;
    let current = ctx.credential(request).and_then(|c| c.token().copied());
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.my_sessions(&user.id, current))??))
}

/// DELETE /api/account/sessions/{id} — signs that session out (its sockets close).
pub fn end_session(ctx: &Ctx, request: &Request, id: &str) -> Result<Response, ApiError> {
    let user = ctx.require_user(request)?;
    let id = id.to_string();
    ctx.hub.ask(move |hub| hub.end_my_session(&user.id, &id))??;
    Ok(Response::json(200, &serde_json::json!({ "status": "ok" })))
}

/// POST /api/account/sessions/end-others — signs every other session out: `{status, ended}`.
pub fn end_other_sessions(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let (user, token) = session_caller(ctx, request)?;
    let ended = ctx.hub.ask(move |hub| hub.end_other_sessions(&user.id, &token))??;
    Ok(Response::json(200, &serde_json::json!({ "status": "ok", "ended": ended })))
}

/// The page's sentence and status for a link that does not sign in.
fn link_problem(lang: Lang, problem: LinkProblem) -> (u16, String) {
    match problem {
        LinkProblem::Invalid => (404, templates::text(lang, "link_invalid").to_string()),
        LinkProblem::Expired => (410, templates::text(lang, "link_expired").to_string()),
        LinkProblem::Disabled => (403, error_text(lang, &ApiError::Forbidden(crate::error::ACCOUNT_DISABLED))),
    }
}

fn link_page(ctx: &Ctx, request: &Request, token: &str, found: Result<&str, LinkProblem>) -> Response {
    let lang = Lang::of(request);
    let (status, name, problem) = match found {
        Ok(name) => (200, name.to_string(), String::new()),
        Err(problem) => {
            let (status, text) = link_problem(lang, problem);
            (status, String::new(), text)
        }
    };
    page(
        ctx,
        request,
        status,
        "login-link.html",
        &[
            ("token", Value::Text(token)),
            ("name", Value::Text(&name)),
            ("problem", Value::Text(&problem)),
            ("form_hidden", Value::Text(if problem.is_empty() { "" } else { "hidden" })),
        ],
    )
}

/// GET /login-link?token= — "sign in as NAME on this device?", with a button that posts.
pub fn login_link_page(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let raw = link_token(&request.query_param("token").unwrap_or_default()).to_string();
    let found = match auth::hash_token(&raw) {
        None => Err(LinkProblem::Invalid),
        Some(hash) => ctx.hub.ask(move |hub| hub.login_link_target(&hash))??,
    };
    Ok(link_page(ctx, request, &raw, found.as_deref().map_err(|p| *p)))
}

/// The token of a login link as pasted on the sign-in page (an installed app has no address
/// bar): the whole link, or the token alone.
fn link_token(pasted: &str) -> &str {
    let pasted = pasted.trim();
    match pasted.rsplit_once("token=") {
        Some((_, rest)) => rest.split(['&', '#']).next().unwrap_or_default(),
        None => pasted,
    }
}

/// POST /login-link (form `token`) — signs this device in (a session like any other), uses
/// the link up, and opens the settings page, which offers to set a new password.
pub fn redeem_login_link(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let fields = form::parse(&request.body);
    let raw = form_field(&fields, "token");
    let (cookie, token) = auth::new_token()?;
    let meta = session_meta(request);
    let redeemed = match auth::hash_token(&raw) {
        None => Err(LinkProblem::Invalid),
        Some(link) => ctx.hub.ask(move |hub| hub.redeem_login_link(&link, token, meta))??,
    };
    match redeemed {
        Ok(user) if request.wants_json() => {
            let response = signed_in_to(ctx, request, &user, &cookie, "/settings");
            Ok(response_as_json(response, &user))
        }
        Ok(user) => Ok(signed_in_to(ctx, request, &user, &cookie, "/settings")),
        Err(problem) if request.wants_json() => {
            let (status, _) = link_problem(Lang::En, problem);
            let error = match problem {
                LinkProblem::Invalid => "this login link is not valid (mistyped, replaced, or already used)",
                LinkProblem::Expired => "this login link has expired",
                LinkProblem::Disabled => crate::error::ACCOUNT_DISABLED,
            };
            Ok(Response::json(status, &serde_json::json!({ "error": error })))
        }
        Err(problem) => Ok(link_page(ctx, request, "", Err(problem))),
    }
}

/// A sign-in's cookies on a JSON answer, for API clients.
fn response_as_json(redirect: Response, user: &crate::hub::SessionUser) -> Response {
    let mut response = Response::json(200, &user.me());
    for cookie in redirect.headers_named("set-cookie") {
        response = response.with_header("set-cookie", cookie.to_string());
    }
    response
}
