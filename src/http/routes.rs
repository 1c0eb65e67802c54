//! The routing table: path and method to handler. Checks every request of a kind needs run
//! here, once: the method, same-origin for state-changing requests, and the choice between a
//! JSON and an HTML error.

use super::origin::check_same_origin;
use super::pages::error_response;
use super::response::Response;
use super::{Ctx, account, admin, api, bots, files, hooks, language, pages};
use crate::error::ApiError;
use crate::http::request::Request;
use crate::hub::SocketTarget;

pub enum Outcome {
    Respond(Response),
    /// A WebSocket handshake for this target; the path's `{user_id}`, if any.
    Upgrade(SocketTarget, Option<String>),
    /// A stored file, whose body the connection's worker (or a sender thread) writes.
    Download(files::Download),
}

const GET: &str = "GET, HEAD";
const POST: &str = "POST";

fn allow(request: &Request, allowed: &'static str) -> Result<(), ApiError> {
    let method = request.method.as_str();
    let ok = allowed.split(", ").any(|m| m == method);
    if ok { Ok(()) } else { Err(ApiError::MethodNotAllowed(allowed)) }
}

pub fn route(ctx: &Ctx, request: &Request) -> Outcome {
    match dispatch(ctx, request) {
        Ok(outcome) => outcome,
        Err(error) => Outcome::Respond(error_response(ctx, request, &error)),
    }
}

fn dispatch(ctx: &Ctx, request: &Request) -> Result<Outcome, ApiError> {
    if !matches!(request.method.as_str(), "GET" | "HEAD") {
        check_same_origin(ctx, request)?;
    }
    let segments: Vec<&str> = request.path[1..].split('/').collect();
    let respond = |r: Result<Response, ApiError>| r.map(Outcome::Respond);
    let upgrade = |target, user: Option<&str>| -> Result<Outcome, ApiError> {
        allow(request, "GET")?;
        Ok(Outcome::Upgrade(target, user.map(str::to_string)))
    };
    match segments.as_slice() {
        [""] => allow(request, GET).and_then(|()| respond(pages::home(ctx, request))),
        ["login"] => allow(request, POST).and_then(|()| respond(pages::login(ctx, request))),
        ["register"] => allow(request, POST).and_then(|()| respond(pages::register(ctx, request))),
        ["logout"] => match request.method.as_str() {
            "POST" => respond(pages::logout(ctx, request)),
            _ => allow(request, "GET, HEAD, POST").and_then(|()| respond(pages::logout_page(ctx, request))),
        },
        ["language"] => allow(request, POST).and_then(|()| respond(language::switch(ctx, request))),
        ["index"] => allow(request, GET).and_then(|()| respond(pages::index(ctx, request))),
        ["chat", target] => allow(request, GET).and_then(|()| respond(pages::chat(ctx, request, target))),
        ["search"] => allow(request, GET).and_then(|()| respond(pages::search(ctx, request))),
        ["settings"] => allow(request, GET).and_then(|()| respond(account::settings_page(ctx, request))),
        ["admin"] => allow(request, GET).and_then(|()| respond(admin::admin_page(ctx, request))),
        ["login-link"] => match request.method.as_str() {
            "POST" => respond(account::redeem_login_link(ctx, request)),
            _ => allow(request, "GET, HEAD, POST").and_then(|()| respond(account::login_link_page(ctx, request))),
        },
        ["healthz"] => allow(request, GET).and_then(|()| respond(api::health(ctx))),
        ["metrics"] if ctx.config.metrics == crate::config::Metrics::On => {
            allow(request, GET).and_then(|()| respond(super::scrape::metrics(&ctx.config, request)))
        }
        ["favicon.ico"] => allow(request, GET).and_then(|()| respond(pages::asset(ctx, request, "favicon.svg"))),
        ["static", rest @ ..] => {
            allow(request, GET)?;
            respond(pages::asset(ctx, request, &rest.join("/")))
        }
        ["api", "me"] => allow(request, GET).and_then(|()| respond(api::me(ctx, request))),
        ["api", "users"] => allow(request, GET).and_then(|()| respond(api::users(ctx, request))),
        ["api", "unread", user] => allow(request, GET).and_then(|()| respond(api::unread(ctx, request, user))),
        ["api", "mark_read", user, target] => {
            allow(request, POST).and_then(|()| respond(api::mark_read(ctx, request, user, target)))
        }
        ["api", "history", user, target] | ["history", user, target] => {
            allow(request, GET).and_then(|()| respond(api::history(ctx, request, user, target)))
        }
        ["api", "chats"] => allow(request, GET).and_then(|()| respond(api::chats(ctx, request))),
        ["api", "chats", "notify"] => allow(request, POST).and_then(|()| respond(api::set_notify(ctx, request))),
        ["api", "search"] => allow(request, GET).and_then(|()| respond(api::search(ctx, request))),
        ["api", "rooms"] => allow(request, GET).and_then(|()| respond(api::rooms(ctx, request))),
        ["api", "rooms", "create"] => allow(request, POST).and_then(|()| respond(api::create_room(ctx, request))),
        ["api", "rooms", room] => match request.method.as_str() {
            "DELETE" => respond(api::delete_room(ctx, request, room)),
            _ => allow(request, "GET, HEAD, DELETE").and_then(|()| respond(api::room(ctx, request, room))),
        },
        ["api", "rooms", room, "add_user"] => {
            allow(request, POST).and_then(|()| respond(api::add_member(ctx, request, room)))
        }
        ["api", "rooms", room, "remove_user"] => {
            allow(request, POST).and_then(|()| respond(api::remove_member(ctx, request, room)))
        }
        ["api", "rooms", room, "leave"] => {
            allow(request, POST).and_then(|()| respond(api::leave_room(ctx, request, room)))
        }
        ["api", "rooms", room, "read"] => {
            allow(request, POST).and_then(|()| respond(api::read_room(ctx, request, room)))
        }
        ["api", "rooms", room, "members"] => {
            allow(request, GET).and_then(|()| respond(api::members(ctx, request, room)))
        }
        ["api", "rooms", room, "bots"] => match request.method.as_str() {
            "POST" => respond(bots::create(ctx, request, room)),
            _ => allow(request, "GET, HEAD, POST").and_then(|()| respond(bots::list(ctx, request, room))),
        },
        ["api", "rooms", room, "bots", bot] => {
            allow(request, "DELETE").and_then(|()| respond(bots::delete(ctx, request, room, bot)))
        }
        ["api", "rooms", room, "bots", bot, "rotate"] => {
            allow(request, POST).and_then(|()| respond(bots::rotate(ctx, request, room, bot)))
        }
        ["api", "rooms", room, "bots", bot, "revoke"] => {
            allow(request, POST).and_then(|()| respond(bots::revoke(ctx, request, room, bot)))
        }
        ["hooks", rest @ ..] => respond(Ok(hooks::handle(ctx, request, rest))),
        ["api", "rooms", room, "history"] => {
            allow(request, GET).and_then(|()| respond(api::room_history(ctx, request, room)))
        }
        ["api", "files", id] => {
            allow(request, GET)?;
            Ok(Outcome::Download(files::download(ctx, request, id, false)?))
        }
        ["api", "files", id, "thumb"] => {
            allow(request, GET)?;
            Ok(Outcome::Download(files::download(ctx, request, id, true)?))
        }
        ["api", "files"] => Err(ApiError::MethodNotAllowed(POST)),
        ["api", "push", "key"] => allow(request, GET).and_then(|()| respond(api::push_key(ctx, request))),
        ["api", "push", "subscribe"] => allow(request, POST).and_then(|()| respond(api::push_subscribe(ctx, request))),
        ["api", "push", "unsubscribe"] => {
            allow(request, POST).and_then(|()| respond(api::push_unsubscribe(ctx, request)))
        }
        ["api", "push", "test"] => allow(request, POST).and_then(|()| respond(api::push_test(ctx, request))),
        ["api", "push", "forward"] => match request.method.as_str() {
            "PUT" => respond(api::set_push_forward(ctx, request)),
            "DELETE" => respond(api::delete_push_forward(ctx, request)),
            _ => allow(request, "GET, HEAD, PUT, DELETE").and_then(|()| respond(api::push_forward(ctx, request))),
        },
        ["api", "push", "forward", "test"] => {
            allow(request, POST).and_then(|()| respond(api::push_forward_test(ctx, request)))
        }
        // The service worker is served from the root, so its scope is the whole app.
        ["sw.js"] => allow(request, GET).and_then(|()| respond(pages::asset(ctx, request, "sw.js"))),
        ["manifest.webmanifest"] => {
            allow(request, GET).and_then(|()| respond(pages::asset(ctx, request, "manifest.webmanifest")))
        }
        ["api", "account"] => allow(request, GET).and_then(|()| respond(account::account(ctx, request))),
        ["api", "account", "password"] => {
            allow(request, POST).and_then(|()| respond(account::change_password(ctx, request)))
        }
        ["api", "account", "sessions"] => allow(request, GET).and_then(|()| respond(account::sessions(ctx, request))),
        ["api", "account", "sessions", "end-others"] => {
            allow(request, POST).and_then(|()| respond(account::end_other_sessions(ctx, request)))
        }
        ["api", "account", "sessions", id] => {
            allow(request, "DELETE").and_then(|()| respond(account::end_session(ctx, request, id)))
        }
        ["api", "admin", "users"] => allow(request, GET).and_then(|()| respond(admin::users(ctx, request))),
        ["api", "admin", "users", id] => {
            allow(request, "DELETE").and_then(|()| respond(admin::delete_user(ctx, request, id)))
        }
        ["api", "admin", "users", id, "login-link"] => {
            allow(request, POST).and_then(|()| respond(admin::login_link(ctx, request, id)))
        }
        ["api", "admin", "users", id, action] => {
            allow(request, POST).and_then(|()| respond(admin::user_action(ctx, request, id, action)))
        }
        ["api", "admin", "invites"] => match request.method.as_str() {
            "POST" => respond(admin::create_invite(ctx, request)),
            _ => allow(request, "GET, HEAD, POST").and_then(|()| respond(admin::invites(ctx, request))),
        },
        ["api", "admin", "invites", id] => {
            allow(request, "DELETE").and_then(|()| respond(admin::revoke_invite(ctx, request, id)))
        }
        ["api", "admin", "registration"] => match request.method.as_str() {
            "POST" => respond(admin::set_registration(ctx, request)),
            _ => allow(request, "GET, HEAD, POST").and_then(|()| respond(admin::registration(ctx, request))),
        },
        ["api", "admin", "audit"] => allow(request, GET).and_then(|()| respond(admin::audit(ctx, request))),
        ["api", "admin", "files"] => allow(request, GET).and_then(|()| respond(admin::files(ctx, request))),
        ["ws", "status"] => upgrade(SocketTarget::Status, None),
        ["ws", "global", user] => upgrade(SocketTarget::Global, Some(user)),
        ["ws", "room", room, user] => upgrade(SocketTarget::Room { room: room.to_string() }, Some(user)),
        ["ws", user, target] => upgrade(SocketTarget::Private { target: target.to_string() }, Some(user)),
        _ => Err(ApiError::NotFound("no such page")),
    }
}
