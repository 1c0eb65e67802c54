//! The HTTP front: what a worker thread does with a connection. It reads requests
//! (keep-alive, pipelining), routes them, writes responses, and completes WebSocket handshakes
//! ([`upgrade`]). Every bad request gets its status and the worker moves on.

pub mod account;
pub mod admin;
pub mod api;
pub mod bots;
pub mod files;
pub mod form;
pub mod hooks;
pub mod language;
pub mod origin;
pub mod pages;
pub mod request;
pub mod response;
pub mod routes;
pub mod scrape;
pub mod upgrade;

use crate::accept::{Accepted, WorkQueue};
use crate::assets::Assets;
use crate::auth::Passwords;
use crate::config::Config;
use crate::error::ApiError;
use crate::hub::{Credential, HubClient, SessionUser, TokenHash};
use request::{HttpConn, Proxies, ReadError, Request, Wait};
use response::Response;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A response write that takes longer than this ends the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// What every worker shares.
pub struct Ctx {
    pub hub: HubClient,
    pub config: Arc<Config>,
    pub passwords: Passwords,
    pub assets: Assets,
    /// The queue of accepted connections, to see whether others are waiting.
    pub waiting: WorkQueue,
    /// The file store, the thumbnail pool and the download senders.
    pub files: files::Files,
    /// The VAPID public key (base64url) browsers subscribe with.
    pub push_key: String,
}

/// The session cookie's name: `__Host-` prefixed (and `Secure`) over TLS.
pub fn session_cookie_name(https: bool) -> &'static str {
    if https { "__Host-mychat_session" } else { "mychat_session" }
}

/// The session token in a request's cookies, hashed. Over TLS only the `__Host-` cookie
/// counts: a sibling subdomain can set a plain `mychat_session` cookie for our host (cookie
/// tossing), but not a `__Host-` one, so a tossed cookie can never log a browser in.
pub fn session_token(request: &Request) -> Option<TokenHash> {
    let cookies = request.header("cookie")?;
    let value = form::cookie(cookies, session_cookie_name(request.https))?;
    crate::auth::hash_token(value)
}

impl Ctx {
    /// Who the request says it is: the user a trusted proxy names in `--auth-header` (single
    /// sign-on; the header is ignored from any other peer), else the session cookie.
    pub fn credential(&self, request: &Request) -> Option<Credential> {
        if let Some(header) = &self.config.auth_header
            && request.from_trusted_proxy
            && let Some(name) = request.header(header).map(str::trim).filter(|n| !n.is_empty())
        {
            return Some(Credential::Header(name.into()));
        }
        session_token(request).map(Credential::Session)
    }

    /// The logged-in user, if the request carries a live session (or a trusted proxy's
    /// header: see [`Ctx::credential`]).
    pub fn session(&self, request: &Request) -> Result<Option<SessionUser>, ApiError> {
        match self.credential(request) {
            None => Ok(None),
            Some(credential) => {
                let peer = request.peer;
                self.hub.ask(move |hub| hub.authenticate_credential(&credential, peer))?
            }
        }
    }

    pub fn require_user(&self, request: &Request) -> Result<SessionUser, ApiError> {
        self.session(request)?.ok_or(ApiError::NotLoggedIn)
    }

    fn proxies(&self) -> Proxies<'_> {
        Proxies { trusted: &self.config.trusted_proxies, behind_tls: self.config.behind_tls }
    }
}

fn log_request(request: &Request, status: u16, bytes: u64, started: Instant) {
    crate::metrics::http_response(status);
    log::info!(
        "{} {} {} {} {}B {:.1}ms",
        request.peer,
        request.method,
        hooks::redacted(&request.path),
        status,
        bytes,
        started.elapsed().as_secs_f64() * 1000.0
    );
}

/// Serves one client connection until it closes, idles out, or becomes a WebSocket.
pub fn serve(ctx: &Ctx, accepted: Accepted) {
    let Accepted { stream, peer, permit, accepted_at } = accepted;
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let mut conn = HttpConn::new(stream, peer);
    let mut wait = Wait::FirstRequest { accepted_at };
    let busy = || !ctx.waiting.is_empty();
    loop {
        let request = match conn.read_request(wait, &ctx.proxies(), &busy) {
            Ok(request) => request,
            Err(ReadError::Idle) => return,
            Err(ReadError::Reject(error)) => {
                log::info!("{} bad request: {} {}", peer.ip(), error.status(), error);
                crate::metrics::http_response(error.status());
                let _ = Response::api_error(&error).write_to(&mut conn.stream, false, false, false);
                let _ = conn.stream.shutdown(std::net::Shutdown::Write);
                return;
            }
        };
        let started = Instant::now();
        if request::streams_body(&request) {
            // An upload: its body is streamed to disk by its handler, or left unread if refused.
            let files::UploadAnswer { response, body_read } = files::upload(ctx, &mut conn, &request);
            let keep_alive = body_read && request.keep_alive() && response.status < 500;
            let written = response.write_to(&mut conn.stream, false, keep_alive, request.https);
            log_request(&request, response.status, response.body().len() as u64, started);
            if !body_read {
                conn.linger(files::LINGER);
                return;
            }
            if written.is_err() || !keep_alive {
                return;
            }
            wait = Wait::KeepAlive;
            continue;
        }
        match routes::route(ctx, &request) {
            routes::Outcome::Respond(response) => {
                let keep_alive = request.keep_alive() && response.status < 500;
                let head_only = request.is_head();
                let written = response.write_to(&mut conn.stream, head_only, keep_alive, request.https);
                log_request(&request, response.status, response.body().len() as u64, started);
                if written.is_err() || !keep_alive {
                    return;
                }
            }
            routes::Outcome::Download(download) => {
                let (status, length) = (download.response.status, download.length());
                if download.is_big(&request) {
                    let Some(slot) = files::sender_slot(ctx) else {
                        let response = pages::error_response(ctx, &request, &files::SENDERS_BUSY);
                        let _ = response.write_to(&mut conn.stream, false, false, request.https);
                        log_request(&request, response.status, response.body().len() as u64, started);
                        return;
                    };
                    log_request(&request, status, length, started);
                    let (stream, _) = conn.into_parts();
                    files::hand_off(slot, stream, permit, &request, download);
                    return;
                }
                let keep_alive = request.keep_alive();
                let written = download.send_here(&mut conn.stream, &request, keep_alive);
                log_request(&request, status, length, started);
                if written.is_err() || !keep_alive {
                    return;
                }
            }
            routes::Outcome::Upgrade(target, path_user) => {
                upgrade::upgrade(ctx, conn, &request, target, path_user, permit);
                return;
            }
        }
        wait = Wait::KeepAlive;
    }
}
