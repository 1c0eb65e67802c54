//! Server-rendered pages: login and registration (they work without JavaScript), logout,
//! the app shell, the alternative chat view, user search, static files and error pages.

use super::response::Response;
use super::{Ctx, session_cookie_name, session_token};
use crate::auth;
use crate::error::ApiError;
use crate::error::{
    ACCOUNT_DISABLED, INVITE_EXPIRED, INVITE_INVALID, INVITE_NEEDED, INVITE_USED_UP, REGISTRATION_CLOSED,
};
use crate::http::form;
use crate::http::request::Request;
use crate::hub::{NewAccount, SessionMeta, SessionUser, TokenHash};
use crate::templates::{self, Html, Lang, Value};

pub(super) fn page(ctx: &Ctx, request: &Request, status: u16, template: &str, vars: &[(&str, Value)]) -> Response {
    // The upload limit, so the composer refuses a file too large before sending it.
    let max_file = ctx.config.max_file_size.to_string();
    let mut all = vars.to_vec();
    all.push(("max_file_bytes", Value::Text(&max_file)));
    Response::html(status, templates::render(&ctx.assets, template, Lang::of(request), &all))
}

pub(super) fn form_field(fields: &[(String, String)], name: &str) -> String {
    fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// The login page's sentence for an error, in the page's language.
pub(super) fn error_text(lang: Lang, error: &ApiError) -> String {
    let key = match error {
        ApiError::WrongCredentials | ApiError::NotLoggedIn => "err_credentials",
        ApiError::Conflict("that user name is taken") => "err_taken",
        ApiError::TooManyRequests { .. } => "err_too_many",
        ApiError::Unavailable(_) => "err_busy",
        ApiError::Forbidden(ACCOUNT_DISABLED) => "err_disabled",
        ApiError::Forbidden(REGISTRATION_CLOSED) => "err_registration_closed",
        ApiError::Forbidden(INVITE_NEEDED) => "err_invite_needed",
        ApiError::Forbidden(INVITE_INVALID) => "err_invite_invalid",
        ApiError::Forbidden(INVITE_EXPIRED) => "err_invite_expired",
        ApiError::Forbidden(INVITE_USED_UP) => "err_invite_used_up",
        _ => return error.to_string(),
    };
    templates::text(lang, key).to_string()
}

/// The invitation a registration carries (form field or `?invite=`), hashed. A malformed
/// token hashes to nothing that exists, so it reads as "not valid", not as "no invitation".
fn invite_of(request: &Request, fields: &[(String, String)]) -> Option<TokenHash> {
    let raw = Some(form_field(fields, "invite")).filter(|v| !v.is_empty()).or_else(|| request.query_param("invite"));
    let raw = raw.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())?;
    Some(auth::hash_token(&raw).unwrap_or([0; 32]))
}

/// Where a new session comes from: the client's address and user agent.
pub(super) fn session_meta(request: &Request) -> SessionMeta {
    SessionMeta::new(request.peer, request.header("user-agent"))
}

/// The login page, with the registration form as the server's mode allows it: the form, or
/// a note saying why not (no invitation, a bad one, registration closed).
fn login_page(ctx: &Ctx, request: &Request, status: u16, form: LoginForm) -> Result<Response, ApiError> {
    let invite_raw = request.query_param("invite").or(form.invite).unwrap_or_default();
    let invite = invite_of(request, &[("invite".to_string(), invite_raw.clone())]);
    let lang = Lang::of(request);
    let state = ctx.hub.ask(move |hub| hub.registration_state(invite))?;
    let note = match &state {
        Ok(()) => String::new(),
        Err(e) => error_text(lang, e),
    };
    let mode = if form.register || invite.is_some() { "register" } else { "login" };
    Ok(page(
        ctx,
        request,
        status,
        "login.html",
        &[
            ("error", Value::Text(&form.error)),
            ("username", Value::Text(&form.username)),
            ("mode", Value::Text(mode)),
            ("invite", Value::Text(&invite_raw)),
            ("register_note", Value::Text(&note)),
            ("register_form_hidden", Value::Text(if state.is_ok() { "" } else { "hidden" })),
        ],
    ))
}

/// What the login page shows again after a failed attempt.
#[derive(Default)]
struct LoginForm {
    error: String,
    username: String,
    register: bool,
    invite: Option<String>,
}

/// A failed login or registration: JSON for API clients, the form again for browsers.
fn form_error(ctx: &Ctx, request: &Request, username: &str, register: bool, error: &ApiError) -> Response {
    if request.wants_json() {
        return Response::api_error(error);
    }
    let fields = form::parse(&request.body);
    let invite = Some(form_field(&fields, "invite")).filter(|v| !v.is_empty());
    let form =
        LoginForm { error: error_text(Lang::of(request), error), username: username.to_string(), register, invite };
    match login_page(ctx, request, error.status(), form) {
        Ok(response) => super::response::error_headers(response, error),
        Err(e) => Response::api_error(&e),
    }
}

/// 303 to the app, with the session cookie and the readable `user_id` cookie.
fn signed_in(ctx: &Ctx, request: &Request, user: &SessionUser, token: &str) -> Response {
    signed_in_to(ctx, request, user, token, "/index")
}

/// 303 to `location`, with the session cookie and the readable `user_id` cookie.
pub(super) fn signed_in_to(
    ctx: &Ctx,
    request: &Request,
    user: &SessionUser,
    token: &str,
    location: &'static str,
) -> Response {
    let max_age = ctx.config.session_lifetime.as_secs();
    let secure = if request.https { "; Secure" } else { "" };
    Response::redirect(location)
        .with_header(
            "set-cookie",
            format!(
                "{}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
                session_cookie_name(request.https)
            ),
        )
        .with_header("set-cookie", format!("user_id={}; Path=/; SameSite=Lax; Max-Age={max_age}{secure}", user.id))
}

/// GET / — the login and registration page; the app for a logged-in user.
pub fn home(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    if ctx.session(request)?.is_some() {
        return Ok(Response::redirect("/index"));
    }
    login_page(ctx, request, 200, LoginForm::default())
}

/// POST /login — form fields `username`, `password`; 303 to /index on success.
pub fn login(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let fields = form::parse(&request.body);
    let name = form_field(&fields, "username").trim().to_string();
    let password = form_field(&fields, "password");
    match attempt_login(ctx, request, &name, &password) {
        Ok((user, token)) => Ok(signed_in(ctx, request, &user, &token)),
        Err(e) => Ok(form_error(ctx, request, &name, false, &e)),
    }
}

fn attempt_login(ctx: &Ctx, request: &Request, name: &str, password: &str) -> Result<(SessionUser, String), ApiError> {
    if name.is_empty() || name.chars().count() > auth::MAX_NAME_CHARS {
        return Err(ApiError::WrongCredentials);
    }
    auth::check_login_password(password)?;
    let peer = request.peer;
    let lookup = name.to_string();
    let credentials = ctx.hub.ask(move |hub| hub.login_lookup(&lookup, peer))??;
    let stored = credentials.as_ref().and_then(|c| c.password_hash.as_deref());
    let verified = ctx.passwords.verify(password, stored)?;
    let Some(credentials) = credentials.filter(|_| verified.ok) else {
        log::info!("failed login for {name:?} from {peer}");
        return Err(ApiError::WrongCredentials);
    };
    let user = credentials.user;
    if credentials.disabled {
        let id = user.id.clone();
        return Err(ctx.hub.ask(move |hub| hub.login_refused_disabled(&id, peer))?);
    }
    let (cookie, token) = auth::new_token()?;
    let (rehash, meta) = (verified.rehash, session_meta(request));
    let who = user.clone();
    ctx.hub.ask(move |hub| hub.login_succeeded(who, peer, token, rehash, meta))??;
    Ok((user, cookie))
}

/// POST /register — form fields `username`, `password`; 303 to /index on success.
pub fn register(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let fields = form::parse(&request.body);
    let raw_name = form_field(&fields, "username");
    let password = form_field(&fields, "password");
    match attempt_register(ctx, request, &raw_name, &password) {
        Ok((user, token)) => Ok(signed_in(ctx, request, &user, &token)),
        Err(e) => Ok(form_error(ctx, request, raw_name.trim(), true, &e)),
    }
}

fn attempt_register(
    ctx: &Ctx,
    request: &Request,
    raw_name: &str,
    password: &str,
) -> Result<(SessionUser, String), ApiError> {
    let name = auth::clean_username(raw_name)?;
    auth::check_new_password(password)?;
    let invite = invite_of(request, &form::parse(&request.body));
    let (peer, check) = (request.peer, name.clone());
    ctx.hub.ask(move |hub| hub.check_registration(&check, peer, invite))??;
    let password_hash = ctx.passwords.hash(password)?;
    let (cookie, token) = auth::new_token()?;
    let account = NewAccount { name, password_hash, invite, token, meta: session_meta(request) };
    let user = ctx.hub.ask(move |hub| hub.register(account))??;
    Ok((user, cookie))
}

/// GET /logout — a page whose button signs out (a link alone must not, or any page could).
pub fn logout_page(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    match ctx.session(request)? {
        None => Ok(Response::redirect("/")),
        Some(user) => Ok(page(ctx, request, 200, "logout.html", &[("user_name", Value::Text(&user.name))])),
    }
}

/// POST /logout — ends the session (its sockets close too) and clears the cookies.
pub fn logout(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    if let Some(token) = session_token(request) {
        ctx.hub.ask(move |hub| hub.logout(&token))?;
    }
    Ok(Response::redirect("/")
        .with_header("set-cookie", "mychat_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
        .with_header("set-cookie", "__Host-mychat_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure")
        .with_header("set-cookie", "user_id=; Path=/; SameSite=Lax; Max-Age=0"))
}

/// The user, or a redirect to the login page.
pub(super) fn user_or_login(ctx: &Ctx, request: &Request) -> Result<Result<SessionUser, Response>, ApiError> {
    Ok(ctx.session(request)?.ok_or_else(|| Response::redirect("/")))
}

/// GET /index — the app.
pub fn index(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = match user_or_login(ctx, request)? {
        Ok(user) => user,
        Err(redirect) => return Ok(redirect),
    };
    let id = user.id.clone();
    let is_admin = ctx.hub.ask(move |hub| hub.is_admin(&id))?;
    Ok(page(
        ctx,
        request,
        200,
        "index.html",
        &[
            ("user_name", Value::Text(&user.name)),
            ("user_id", Value::Text(&user.id)),
            ("admin_link_hidden", Value::Text(if is_admin { "" } else { "hidden" })),
        ],
    ))
}

/// GET /chat/{target_id} — the alternative single-conversation view.
pub fn chat(ctx: &Ctx, request: &Request, target: &str) -> Result<Response, ApiError> {
    let user = match user_or_login(ctx, request)? {
        Ok(user) => user,
        Err(redirect) => return Ok(redirect),
    };
    let id = target.to_string();
    let target = ctx.hub.ask(move |hub| hub.find_user(&id))?.ok_or(ApiError::NotFound("no such user"))?;
    Ok(page(
        ctx,
        request,
        200,
        "chat.html",
        &[
            ("user_name", Value::Text(&user.name)),
            ("user_id", Value::Text(&user.id)),
            ("target_id", Value::Text(&target.id)),
            ("target_name", Value::Text(&target.name)),
        ],
    ))
}

/// GET /search?q= — users whose name contains `q`, each linking to a chat.
pub fn search(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let user = match user_or_login(ctx, request)? {
        Ok(user) => user,
        Err(redirect) => return Ok(redirect),
    };
    let query = request.query_param("q").unwrap_or_default();
    let needle = query.trim().to_lowercase();
    let users = ctx.hub.ask(|hub| hub.user_statuses())?;
    let lang = Lang::of(request);
    let mut results = Html::default();
    let mut found = 0;
    for u in users.iter().filter(|u| u.id != user.id && u.name.to_lowercase().contains(&needle)) {
        found += 1;
        results.tag("<li class=\"search-result\"><a href=\"/chat/").text(&u.id).tag("\">");
        results
            .tag("<span class=\"dot")
            .tag(if u.online { " online" } else { "" })
            .tag("\" aria-hidden=\"true\"></span>");
        results.tag("<span class=\"name\">").text(&u.name).tag("</span>");
        results.tag("<span class=\"status\">").text(templates::text(lang, if u.online { "online" } else { "offline" }));
        results.tag("</span></a></li>");
    }
    if found == 0 {
        results.tag("<li class=\"empty\">").text(templates::text(lang, "no_results")).tag("</li>");
    }
    Ok(page(
        ctx,
        request,
        200,
        "search.html",
        &[("query", Value::Text(&query)), ("results", Value::Markup(&results)), ("user_name", Value::Text(&user.name))],
    ))
}

/// GET /static/{path} — static files: gzip for clients that accept it (`Vary`), a year's
/// cache for content-hashed paths, revalidation by ETag for plain ones.
pub fn asset(ctx: &Ctx, request: &Request, path: &str) -> Result<Response, ApiError> {
    let asset = ctx.assets.static_file(path).ok_or(ApiError::NotFound("no such file"))?;
    let gzip = asset.gzip.filter(|_| super::response::accepts_gzip(request.header("accept-encoding")));
    let etag: &str = gzip.map_or(&asset.etag, |(_, etag)| etag);
    let matches = request
        .header("if-none-match")
        .is_some_and(|v| v.trim() == "*" || v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag));
    let cache = if asset.immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut response = Response::new(if matches { 304 } else { 200 })
        .with_header("etag", etag.to_string())
        .with_header("cache-control", cache);
    if asset.gzip.is_some() {
        response = response.with_header("vary", "Accept-Encoding");
    }
    Ok(match (matches, gzip) {
        (true, _) => response,
        (false, Some((bytes, _))) => {
            response.with_header("content-encoding", "gzip").with_body(asset.content_type, bytes)
        }
        (false, None) => response.with_body(asset.content_type, asset.plain()),
    })
}

/// An error as JSON for the API and scripts, as a page for browsers.
pub fn error_response(ctx: &Ctx, request: &Request, error: &ApiError) -> Response {
    if request.wants_json() {
        Response::api_error(error)
    } else {
        super::response::error_headers(error_page(ctx, request, error), error)
    }
}

/// An error as a page, for browsers.
pub fn error_page(ctx: &Ctx, request: &Request, error: &ApiError) -> Response {
    let status = error.status().to_string();
    let message = error.to_string();
    page(
        ctx,
        request,
        error.status(),
        "error.html",
        &[("status", Value::Text(&status)), ("message", Value::Text(&message))],
    )
}
