//! The JSON API (the seed's REST endpoints, and ours). Each handler: the session's user,
//! the path's user must be that user, then one question to the hub.

use super::Ctx;
use super::response::Response;
use crate::error::ApiError;
use crate::http::request::Request;
use crate::hub::{MAX_QUERY_CHARS, Page, SessionUser, UserId};
use crate::protocol::ChatRef;
use crate::push::{Forward, Subscription, guard};
use serde::Deserialize;
use serde::de::DeserializeOwned;

const DEFAULT_PAGE: u32 = 50;
const MAX_PAGE: u32 = 200;

/// `{user_id}` in a path must be the caller.
fn require_self(request: &Request, ctx: &Ctx, path_user: &str) -> Result<SessionUser, ApiError> {
    let user = ctx.require_user(request)?;
    if *user.id != *path_user {
        return Err(ApiError::Forbidden("you can only see your own conversations"));
    }
    Ok(user)
}

/// A message id from the query string; `default` when absent.
fn id_param(request: &Request, name: &'static str, default: i64) -> Result<i64, ApiError> {
    match request.query_param(name) {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(ApiError::bad_request(format!("{name} must be a positive message id"))),
        },
    }
}

/// `?before=<id>` (scroll back), `?after=<id>` (catch up with new messages),
/// `?changed_since=<seq>` (catch up with every change), `?around=<id>` (open at a message),
/// each with `&limit=<n>`.
fn page(request: &Request) -> Result<Page, ApiError> {
    let limit = match request.query_param("limit") {
        None => DEFAULT_PAGE,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => return Err(ApiError::bad_request("limit must be 1 to 200")),
        },
    };
    if let Some(seq) = request.query_param("changed_since") {
        return match seq.parse::<i64>() {
            Ok(seq) if seq >= 0 => Ok(Page::Changed { seq, limit }),
            _ => Err(ApiError::bad_request("changed_since must be a change number (0 or more)")),
        };
    }
    if request.query_param("around").is_some() {
        return Ok(Page::Around { id: id_param(request, "around", 1)?, limit });
    }
    let before = id_param(request, "before", i64::MAX)?;
    let after = id_param(request, "after", 0)?;
    Ok(Page::Range { before, after, limit })
}

fn body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    serde_json::from_slice(&request.body).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))
}

fn ok() -> Response {
    Response::json(200, &serde_json::json!({ "status": "ok" }))
}

/// GET /healthz — `ok` when the hub and the database answer.
pub fn health(ctx: &Ctx) -> Result<Response, ApiError> {
    ctx.hub.ask(|hub| hub.health())??;
    Ok(Response::text(200, "ok"))
}

/// GET /api/me — `{id, name}` of the session's user.
pub fn me(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    Ok(Response::json(200, &ctx.require_user(request)?.me()))
}

/// GET /api/users — every user, `[{id, name, online}]`, in registration order.
pub fn users(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    ctx.require_user(request)?;
    Ok(Response::json(200, &ctx.hub.ask(|hub| hub.user_statuses())?))
}

/// GET /api/unread/{user_id} — `{sender_id: count}` of unread private messages.
pub fn unread(ctx: &Ctx, request: &Request, user: &str) -> Result<Response, ApiError> {
    let user = require_self(request, ctx, user)?.id;
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.unread(&user))??))
}

/// POST /api/mark_read/{user_id}/{target_id}[?up_to=<id>] — what target sent user is read
/// (up to that message, or all of it).
pub fn mark_read(ctx: &Ctx, request: &Request, user: &str, target: &str) -> Result<Response, ApiError> {
    let user = require_self(request, ctx, user)?.id;
    let up_to = request.query_param("up_to").map(|_| id_param(request, "up_to", i64::MAX)).transpose()?;
    let target = target.to_string();
    ctx.hub.ask(move |hub| hub.mark_read(&user, &target, up_to))??;
    Ok(ok())
}

/// GET /api/chats — the caller's conversations, newest activity first.
pub fn chats(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.chats(&user))??))
}

#[derive(Deserialize)]
struct NotifyBody {
    chat: ChatBody,
    level: String,
}

#[derive(Deserialize)]
struct ChatBody {
    kind: String,
    id: String,
}

/// POST /api/chats/notify {chat: {kind: "user"|"room", id}, level: "all"|"mentions"|"none"}
pub fn set_notify(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let NotifyBody { chat, level } = body(request)?;
    let chat = match chat.kind.as_str() {
        "user" => ChatRef::user(&chat.id.into()),
        "room" => ChatRef::room(&chat.id.into()),
        _ => return Err(ApiError::bad_request("chat.kind must be user or room")),
    };
    ctx.hub.ask(move |hub| hub.set_notify_level(&user, &chat, &level))??;
    Ok(ok())
}

/// GET /api/search?q= — people, the caller's rooms, and messages of the caller's
/// conversations.
pub fn search(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let query = request.query_param("q").unwrap_or_default();
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request("the search is too long (at most 200 characters)"));
    }
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.search(&user, &query))??))
}

/// GET /api/history/{user_id}/{target_id}?before=&limit= (also /history/...) — a page of the
/// conversation, oldest first.
pub fn history(ctx: &Ctx, request: &Request, user: &str, target: &str) -> Result<Response, ApiError> {
    let user = require_self(request, ctx, user)?.id;
    let page = page(request)?;
    let target = target.to_string();
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.history(&user, &target, page))??))
}

fn caller(ctx: &Ctx, request: &Request) -> Result<UserId, ApiError> {
    Ok(ctx.require_user(request)?.id)
}

#[derive(Deserialize)]
struct NewRoom {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
struct MemberBody {
    user_id: String,
}

/// POST /api/rooms/create {name, description} — the new room; the caller is its creator.
pub fn create_room(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let NewRoom { name, description } = body(request)?;
    let description = description.unwrap_or_default();
    let room = ctx.hub.ask(move |hub| hub.create_room(&user, name, description))??;
    Ok(Response::json(201, &room))
}

/// GET /api/rooms — the caller's rooms with member counts and unread counts.
pub fn rooms(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.rooms_of(&user))??))
}

/// GET /api/rooms/{room_id} — one room (members only).
pub fn room(ctx: &Ctx, request: &Request, room: &str) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let room = room.to_string();
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.room_summary_for(&user, &room))??))
}

/// DELETE /api/rooms/{room_id} — creator only; closes the room's sockets.
pub fn delete_room(ctx: &Ctx, request: &Request, room: &str) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let room = room.to_string();
    ctx.hub.ask(move |hub| hub.delete_room(&user, &room))??;
    Ok(ok())
}

/// POST /api/rooms/{room_id}/add_user {user_id} — creator only; adding a member twice is
/// harmless.
pub fn add_member(ctx: &Ctx, request: &Request, room: &str) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let MemberBody { user_id: member } = body(request)?;
    let room = room.to_string();
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.add_member(&user, &room, &member))??))
}

/// POST /api/rooms/{room_id}/remove_user {user_id} — creator only; not the creator.
pub fn remove_member(ctx: &Ctx, request: &Request, room: &str) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let MemberBody { user_id: member } = body(request)?;
    let room = room.to_string();
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.remove_member(&user, &room, &member))??))
}

/// GET /api/rooms/{room_id}/members — `[{id, name, online, is_creator}]` (members only).
pub fn members(ctx: &Ctx, request: &Request, room: &str) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let room = room.to_string();
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.members(&user, &room))??))
}

/// POST /api/rooms/{room_id}/leave — a member (not the creator) leaves.
pub fn leave_room(ctx: &Ctx, request: &Request, room: &str) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let room = room.to_string();
    ctx.hub.ask(move |hub| hub.leave_room(&user, &room))??;
    Ok(ok())
}

#[derive(Deserialize)]
struct ReadBody {
    up_to: i64,
}

/// POST /api/rooms/{room_id}/read {up_to} — the caller has seen the room up to this message.
pub fn read_room(ctx: &Ctx, request: &Request, room: &str) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let ReadBody { up_to } = body(request)?;
    let room = room.to_string();
    ctx.hub.ask(move |hub| hub.read_room(&user, &room, up_to))??;
    Ok(ok())
}

/// GET /api/rooms/{room_id}/history?before=&limit= — a page of the room, oldest first.
pub fn room_history(ctx: &Ctx, request: &Request, room: &str) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let page = page(request)?;
    let room = room.to_string();
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.room_history(&user, &room, page))??))
}

// ---------------------------------------------------------------------------------------------
// Web Push and forwards. The checks that need DNS (the SSRF guard) run here, on the worker.

fn push_policy(ctx: &Ctx) -> guard::Policy {
    guard::Policy { allow_private: ctx.config.push_private_endpoints }
}

/// The app's origin as the browser reached it, for links in notifications and the default
/// VAPID contact.
fn app_origin(request: &Request) -> String {
    let host = request.header("host").filter(|h| {
        !h.is_empty() && h.len() <= 255 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
    });
    format!("{}://{}", if request.https { "https" } else { "http" }, host.unwrap_or("localhost"))
}

fn checked_url(ctx: &Ctx, url: &str) -> Result<(), ApiError> {
    guard::check(url, push_policy(ctx)).map(|_| ()).map_err(|e| ApiError::bad_request(e.to_string()))
}

#[derive(Deserialize)]
struct SubscriptionKeys {
    p256dh: String,
    auth: String,
}

#[derive(Deserialize)]
struct SubscriptionBody {
    endpoint: String,
    keys: SubscriptionKeys,
}

#[derive(Deserialize)]
struct EndpointBody {
    endpoint: String,
}

#[derive(Deserialize)]
struct ForwardBody {
    kind: String,
    url: String,
    /// Absent: keep the stored token; `""`: no token.
    #[serde(default)]
    token: Option<String>,
}

/// GET /api/push/key — `{key}`: the server's VAPID public key, base64url, for
/// `pushManager.subscribe({applicationServerKey})`.
pub fn push_key(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    caller(ctx, request)?;
    Ok(Response::json(200, &serde_json::json!({ "key": ctx.push_key })))
}

/// POST /api/push/subscribe {endpoint, keys: {p256dh, auth}} — this browser gets pushes.
/// The endpoint must be https and public (see `push::guard`); at most 20 per user (409).
pub fn push_subscribe(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let SubscriptionBody { endpoint, keys } = body(request)?;
    let sub = Subscription::from_browser(&endpoint, &keys.p256dh, &keys.auth, &app_origin(request))
        .map_err(ApiError::bad_request)?;
    checked_url(ctx, &endpoint)?;
    let agent = request.header("user-agent").map(|a| a.chars().take(200).collect::<String>());
    ctx.hub.ask(move |hub| hub.push_subscribe(&user, sub, agent))??;
    Ok(Response::json(201, &serde_json::json!({ "status": "ok" })))
}

/// POST /api/push/unsubscribe {endpoint} — this browser no longer gets pushes (404 if the
/// caller has no such subscription).
pub fn push_unsubscribe(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let EndpointBody { endpoint } = body(request)?;
    ctx.hub.ask(move |hub| hub.push_unsubscribe(&user, &endpoint))??;
    Ok(ok())
}

/// POST /api/push/test — a visible test notification to each of the caller's subscribed
/// browsers, open app or not → `{status, devices}`; 404 if there are none.
pub fn push_test(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = ctx.require_user(request)?;
    let devices = ctx.hub.ask(move |hub| hub.push_test(&user))??;
    Ok(Response::json(202, &serde_json::json!({ "status": "queued", "devices": devices })))
}

/// GET /api/push/forward — `{kind, url, token_hint}` or `null`: the token is never shown.
pub fn push_forward(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.push_forward_view(&user))?))
}

/// PUT /api/push/forward {kind: "ntfy"|"gotify", url, token?} — forward notifications to
/// the caller's own ntfy topic or Gotify server; an absent token keeps the stored one.
pub fn set_push_forward(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let ForwardBody { kind, url, token } = body(request)?;
    let keep_token = token.is_none();
    let forward = Forward::new(&kind, &url, token.as_deref(), &app_origin(request)).map_err(ApiError::bad_request)?;
    checked_url(ctx, &forward.url)?;
    let view = ctx.hub.ask(move |hub| hub.set_push_forward(&user, Some(forward), keep_token))??;
    Ok(Response::json(200, &view))
}

/// DELETE /api/push/forward — no more forwarding.
pub fn delete_push_forward(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    ctx.hub.ask(move |hub| hub.set_push_forward(&user, None, false))??;
    Ok(ok())
}

/// POST /api/push/forward/test — the test notification through the forward (404 if none).
pub fn push_forward_test(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = ctx.require_user(request)?;
    ctx.hub.ask(move |hub| hub.push_forward_test(&user))??;
    Ok(Response::json(202, &serde_json::json!({ "status": "queued" })))
}
