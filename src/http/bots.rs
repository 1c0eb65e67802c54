//! Managing a room's bots (`/api/rooms/{room_id}/bots…`): listing them (members), and creating,
//! rotating, revoking and deleting them (those who may manage the room's bots). A token is
//! made here, on the worker, shown once in the answer, and only its hash reaches the hub.

use super::Ctx;
use super::response::Response;
use crate::error::ApiError;
use crate::http::request::Request;
use crate::protocol::BotItem;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
struct NewBot {
    name: String,
}

fn with_token(status: u16, bot: &BotItem, token: &str) -> Response {
    Response::json(status, &json!({ "bot": bot, "token": token }))
}

/// GET /api/rooms/{room_id}/bots — `[{id, room_id, name, active, created_by, created_at}]`.
pub fn list(ctx: &Ctx, request: &Request, room: &str) -> Result<Response, ApiError> {
    let user = ctx.require_user(request)?.id;
    let room = room.to_string();
    Ok(Response::json(200, &ctx.hub.ask(move |hub| hub.bots_of(&user, &room))??))
}

/// POST /api/rooms/{room_id}/bots {name} — 201 `{bot, token}`; the token is shown only here.
pub fn create(ctx: &Ctx, request: &Request, room: &str) -> Result<Response, ApiError> {
    let user = ctx.require_user(request)?.id;
    let NewBot { name } =
        serde_json::from_slice(&request.body).map_err(|e| ApiError::bad_request(format!("invalid JSON body: {e}")))?;
    let (token, hash) = crate::hooks::new_token()?;
    let room = room.to_string();
    let bot = ctx.hub.ask(move |hub| hub.create_bot(&user, &room, &name, hash))??;
    Ok(with_token(201, &bot, &token))
}

/// POST /api/rooms/{room_id}/bots/{bot_id}/rotate — `{bot, token}`: a new token; the old one
/// stops working (a revoked bot is active again).
pub fn rotate(ctx: &Ctx, request: &Request, room: &str, bot: &str) -> Result<Response, ApiError> {
    let user = ctx.require_user(request)?.id;
    let (token, hash) = crate::hooks::new_token()?;
    let (room, bot) = (room.to_string(), bot.to_string());
    let bot = ctx.hub.ask(move |hub| hub.rotate_bot(&user, &room, &bot, hash))??;
    Ok(with_token(200, &bot, &token))
}

/// POST /api/rooms/{room_id}/bots/{bot_id}/revoke — `{bot}`: its token stops working.
pub fn revoke(ctx: &Ctx, request: &Request, room: &str, bot: &str) -> Result<Response, ApiError> {
    let user = ctx.require_user(request)?.id;
    let (room, bot) = (room.to_string(), bot.to_string());
    let bot = ctx.hub.ask(move |hub| hub.revoke_bot(&user, &room, &bot))??;
    Ok(Response::json(200, &json!({ "bot": bot })))
}

/// DELETE /api/rooms/{room_id}/bots/{bot_id} — the bot is gone; its messages stay.
pub fn delete(ctx: &Ctx, request: &Request, room: &str, bot: &str) -> Result<Response, ApiError> {
    let user = ctx.require_user(request)?.id;
    let (room, bot) = (room.to_string(), bot.to_string());
    ctx.hub.ask(move |hub| hub.delete_bot(&user, &room, &bot))??;
    Ok(Response::json(200, &json!({ "status": "ok" })))
}
