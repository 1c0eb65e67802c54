//! The JSON API (the seed's REST endpoints, and ours). Each handler: the session's user,
//! the path's user must be that user, then one question to the hub.

use super::Ctx;
use super::response::Response;
use crate::error::ApiError;
use crate::http::request::Request;
use crate::hub::{Page, SessionUser, UserId};
use crate::identity::MessageRef;
use crate::protocol::AttachmentItem;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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

/// `?before=<id>` (scroll back), `?after=<id>` (catch up), `&limit=<n>`.
fn page(request: &Request) -> Result<Page, ApiError> {
    let before = id_param(request, "before", i64::MAX)?;
    let after = id_param(request, "after", 0)?;
    let limit = match request.query_param("limit") {
        None => DEFAULT_PAGE,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => return Err(ApiError::bad_request("limit must be 1 to 200")),
        },
    };
    Ok(Page { before, after, limit })
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

/// POST /api/mark_read/{user_id}/{target_id} — everything from target to user is read.
pub fn mark_read(ctx: &Ctx, request: &Request, user: &str, target: &str) -> Result<Response, ApiError> {
    let user = require_self(request, ctx, user)?.id;
    let target = target.to_string();
    ctx.hub.ask(move |hub| hub.mark_read(&user, &target))??;
    Ok(ok())
}

/// GET /api/history/{user_id}/{target_id}?before=&limit= (also /history/...) — a page of the
/// conversation, oldest first.
pub fn history(ctx: &Ctx, request: &Request, user: &str, target: &str) -> Result<Response, ApiError> {
    let user = require_self(request, ctx, user)?.id;
    let page = page(request)?;
    let target = target.to_string();
    let page = ctx.hub.ask(move |hub| {
        let items = hub.history(&user, &target, page)?;
        let refs: Vec<MessageRef> = items.iter().map(|m| MessageRef::Private(m.id)).collect();
        let attachments = hub.attachments_of(&refs);
        Ok::<_, ApiError>(with_attachments(items, |m| MessageRef::Private(m.id), attachments))
    })??;
    Ok(Response::json(200, &page))
}

/// History items with each message's `attachments` (only where it has some). A stopgap until the
/// message pipeline carries attachments in its items; the JSON is what it will send.
fn with_attachments<T: Serialize>(
    items: Vec<T>,
    key: impl Fn(&T) -> MessageRef,
    mut attachments: HashMap<MessageRef, Vec<AttachmentItem>>,
) -> Vec<serde_json::Value> {
    items
        .into_iter()
        .map(|item| {
            let files = attachments.remove(&key(&item));
            let mut value = serde_json::to_value(item).unwrap_or(serde_json::Value::Null);
            if let (Some(files), Some(map)) = (files, value.as_object_mut()) {
                map.insert("attachments".into(), serde_json::to_value(files).unwrap_or_default());
            }
            value
        })
        .collect()
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

/// GET /api/rooms/{room_id}/history?before=&limit= — a page of the room, oldest first.
pub fn room_history(ctx: &Ctx, request: &Request, room: &str) -> Result<Response, ApiError> {
    let user = caller(ctx, request)?;
    let page = page(request)?;
    let room = room.to_string();
    let page = ctx.hub.ask(move |hub| {
        let items = hub.room_history(&user, &room, page)?;
        let refs: Vec<MessageRef> = items.iter().map(|m| MessageRef::Room(m.id)).collect();
        let attachments = hub.attachments_of(&refs);
        Ok::<_, ApiError>(with_attachments(items, |m| MessageRef::Room(m.id), attachments))
    })??;
    Ok(Response::json(200, &page))
}
