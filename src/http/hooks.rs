//! The incoming-webhook endpoints, `/hooks/…`: each tool authenticated as it authenticates
//! (a token in the URL, a header, Basic or Bearer credentials), read by [`crate::hooks`], posted
//! by the hub as the token's bot, and answered the way that tool expects — ntfy's JSON,
//! Gotify's JSON, exactly `ok` for Slack senders (Grafana and Alertmanager check it).
//!
//! * `POST /hooks/{token}` (and `GET` with `?message=`, or Uptime Kuma's `?msg=`): any format,
//!   told apart by the body (see `hooks::formats::detect`); query parameters `title`,
//!   `priority`, `tags`, `click`, `id`, `status` add to it.
//! * `/hooks/ntfy` is an ntfy server's base URL: `POST`/`PUT /hooks/ntfy` (JSON with `topic`),
//!   `POST`/`PUT /hooks/ntfy/{topic}` (raw body, `X-Title`… headers), `GET …/{topic}/publish`,
//!   `GET /hooks/ntfy/v1/account`, `POST /hooks/ntfy/v1/account/token`; the token as the Basic
//!   password, a Bearer token, ntfy's `?auth=`, or the topic itself.
//! * `/hooks/gotify` is a Gotify server's base URL: `POST /hooks/gotify/message`, the token in
//!   `?token=`, `X-Gotify-Key` or `Authorization: Bearer`.

use super::Ctx;
use super::response::{Response, error_headers, reason};
use crate::error::ApiError;
use crate::hooks::{self, Draft, Format, base64_decode, formats};
use crate::http::request::Request;
use crate::hub::Posted;
use serde_json::json;

/// How long ntfy says a message is kept (its default cache duration), for its replies.
const NTFY_EXPIRES: i64 = 43_200;

/// A path as it may be logged: a bot token in it (`/hooks/{token}`, an ntfy topic) is a
/// secret, and becomes `mcb_…`.
pub fn redacted(path: &str) -> std::borrow::Cow<'_, str> {
    if !path.starts_with("/hooks/") || !path.contains("mcb_") {
        return path.into();
    }
    let parts: Vec<&str> = path.split('/').map(|s| if s.starts_with("mcb_") { "mcb_…" } else { s }).collect();
    parts.join("/").into()
}

/// Which family's reply shapes an endpoint uses.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Ntfy,
    Gotify,
    Generic,
}

/// Routes `/hooks/{rest…}`. Always a response: errors take the family's shape.
pub fn handle(ctx: &Ctx, request: &Request, rest: &[&str]) -> Response {
    let method = request.method.as_str();
    let family = match rest.first() {
        Some(&"ntfy") => Family::Ntfy,
        Some(&"gotify") => Family::Gotify,
        _ => Family::Generic,
    };
    let result = match (rest, method) {
        (["ntfy"], "POST" | "PUT") => ntfy_json(ctx, request),
        (["ntfy", "v1", "account"], "GET") => ntfy_account(ctx, request),
        (["ntfy", "v1", "account", "token"], "POST") => ntfy_account_token(ctx, request),
        (["ntfy", "v1", "health"], "GET") => Ok(Response::json(200, &json!({ "healthy": true }))),
        (["ntfy", topic], "POST" | "PUT")
        | (["ntfy", topic, "publish" | "send" | "trigger"], "GET" | "POST" | "PUT") => ntfy_raw(ctx, request, topic),
        (["gotify", "message"], "POST") => gotify(ctx, request),
        (["gotify", "version"], "GET") => {
            Ok(Response::json(200, &json!({ "version": "2.0.0", "commit": "mychat", "buildDate": "" })))
        }
        (["gotify", "health"], "GET") => Ok(Response::json(200, &json!({ "health": "green", "database": "green" }))),
        ([token], "POST" | "GET") if !matches!(*token, "ntfy" | "gotify") => generic(ctx, request, token),
        (["ntfy", ..] | ["gotify", ..] | [_], _) => Err(ApiError::MethodNotAllowed("POST")),
        _ => Err(ApiError::NotFound("no such webhook endpoint")),
    };
    result.unwrap_or_else(|error| error_response(family, &error))
}

fn error_response(family: Family, error: &ApiError) -> Response {
    let status = error.status();
    let response = match family {
        Family::Ntfy => Response::json(
            status,
            &json!({
                "code": u32::from(status) * 100 + 1,
                "http": status,
                "error": error.to_string(),
                "link": "https://docs.ntfy.sh/publish/",
            }),
        ),
        Family::Gotify => Response::json(
            status,
            &json!({ "error": reason(status), "errorCode": status, "errorDescription": error.to_string() }),
        ),
        Family::Generic => Response::api_error(error),
    };
    error_headers(response, error)
}

/// What `/metrics` calls the outcome of a post.
fn result_index(outcome: &Result<Posted, ApiError>) -> usize {
    match outcome {
        Ok(_) => 0,
        Err(e) => match e.status() {
            401 | 403 => 1,
            429 => 2,
            413 => 3,
            400 | 404 | 405 | 411 | 501 => 4,
            _ => 5,
        },
    }
}

/// Checks the draft, has the hub post it as the token's bot, and counts the outcome.
fn post(
    ctx: &Ctx,
    format: Format,
    token: Option<&str>,
    draft: Result<Draft, ApiError>,
) -> Result<(Posted, hooks::Post), ApiError> {
    let outcome = (|| {
        let hash = token
            .and_then(hooks::hash_token)
            .ok_or(ApiError::Unauthorized("a bot token is needed (see the room's bots)"))?;
        let post = draft?.finish(format)?;
        let sent = post.clone();
        let posted = ctx.hub.ask(move |hub| hub.bot_post(&hash, sent))?;
        posted.map(|p| (p, post))
    })();
    let counted = outcome.as_ref().map(|(p, _)| p.clone()).map_err(Clone::clone);
    crate::metrics::webhook_post(format.index(), result_index(&counted));
    if let Err(e) = &outcome {
        log::info!("webhook ({}) refused: {} {e}", format.name(), e.status());
    }
    outcome
}

fn generic_reply(posted: &Posted) -> Response {
    Response::json(
        200,
        &json!({
            "status": "ok",
            "id": posted.id,
            "room_id": posted.room_id,
            "reply_to": posted.reply_to,
            "resolved": posted.resolved,
        }),
    )
}

/// `POST /hooks/{token}`.
fn generic(ctx: &Ctx, request: &Request, token: &str) -> Result<Response, ApiError> {
    let detected = formats::detect(request);
    let format = detected.as_ref().map_or(Format::Text, |(f, _)| *f);
    let draft = detected.and_then(|(_, mut draft)| formats::apply_query(request, &mut draft).map(|()| draft));
    let (posted, _) = post(ctx, format, Some(token), draft)?;
    Ok(match format {
        // Grafana's and Alertmanager's Slack senders accept nothing but `ok`.
        Format::Slack => Response::text(200, "ok"),
        _ => generic_reply(&posted),
    })
}

/// Credentials as ntfy clients send them: `(token, Basic user name)`. Basic's password is the
/// token (or its user name, with an empty password); `?auth=` is the Authorization header,
/// base64-encoded.
fn ntfy_credentials(request: &Request) -> (Option<String>, Option<String>) {
    let from_header = |value: &str| -> (Option<String>, Option<String>) {
        let value = value.trim();
        if let Some(token) = value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")) {
            return (Some(token.trim().to_string()), None);
        }
        if let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) {
            let decoded = base64_decode(encoded).map(|d| String::from_utf8_lossy(&d).into_owned()).unwrap_or_default();
            let (user, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
            let token = if password.is_empty() { user } else { password };
            return (Some(token.to_string()), Some(user.to_string()));
        }
        (Some(value.to_string()), None)
    };
    if let Some(header) = request.header("authorization") {
        return from_header(header);
    }
    if let Some(auth) = request.query_param("auth") {
        // ntfy's form is a base64url Authorization header; ours may also be the bare token.
        // A bare token is itself valid base64url, and its random bytes may hold a space, so
        // only a decoding that reads as a header ("Bearer …", "Basic …") counts as one.
        let decoded = base64_decode(&auth).and_then(|d| String::from_utf8(d).ok());
        return match decoded {
            Some(header) if is_header_form(&header) => from_header(&header),
            _ => (Some(auth), None),
        };
    }
    (None, None)
}

/// Whether a decoded `?auth=` value is an Authorization header: a scheme, a space, credentials.
fn is_header_form(header: &str) -> bool {
    header.split_once(' ').is_some_and(|(scheme, rest)| {
        ["bearer", "basic"].iter().any(|s| scheme.eq_ignore_ascii_case(s)) && !rest.trim().is_empty()
    })
}

/// The token for an ntfy publish: the credentials, or else the topic (a secret topic).
fn ntfy_token(request: &Request, topic: &str) -> Option<String> {
    ntfy_credentials(request).0.or_else(|| hooks::hash_token(topic).map(|_| topic.to_string()))
}

fn ntfy_reply(posted: &Posted, post: &hooks::Post, topic: &str) -> Response {
    let time = crate::clock::millis_from_iso(&posted.created_at).unwrap_or(0) / 1000;
    let mut reply = json!({
        "id": posted.id.to_string(),
        "time": time,
        "expires": time + NTFY_EXPIRES,
        "event": "message",
        "topic": topic,
        "message": post.text,
        "priority": post.alert.priority,
    });
    if let Some(title) = &post.alert.title {
        reply["title"] = json!(title);
    }
    if !post.alert.tags.is_empty() {
        reply["tags"] = json!(post.alert.tags);
    }
    if let Some(click) = &post.alert.click {
        reply["click"] = json!(click);
    }
    Response::json(200, &reply)
}

/// ntfy's JSON publish to the base URL.
fn ntfy_json(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let parsed = formats::ntfy_json(&request.body);
    let topic = parsed.as_ref().map(|(_, t)| t.clone()).unwrap_or_default();
    let token = ntfy_token(request, &topic);
    let (posted, post) = post(ctx, Format::Ntfy, token.as_deref(), parsed.map(|(d, _)| d))?;
    Ok(ntfy_reply(&posted, &post, &topic))
}

/// ntfy's raw publish to `/{topic}` (and `GET /{topic}/publish?message=`).
fn ntfy_raw(ctx: &Ctx, request: &Request, topic: &str) -> Result<Response, ApiError> {
    let token = ntfy_token(request, topic);
    let (posted, post) = post(ctx, Format::Ntfy, token.as_deref(), formats::ntfy_raw(request))?;
    Ok(ntfy_reply(&posted, &post, topic))
}

/// ntfy's limits and usage, all generous or zero: what Home Assistant's integration reads.
fn ntfy_account_body(username: &str, role: &str) -> serde_json::Value {
    json!({
        "username": username,
        "role": role,
        "limits": {
            "basis": "role", "messages": 100_000, "messages_expiry_duration": NTFY_EXPIRES, "emails": 0,
            "calls": 0, "reservations": 0, "attachment_total_size": 0, "attachment_file_size": 0,
            "attachment_expiry_duration": 0, "attachment_bandwidth": 0,
        },
        "stats": {
            "messages": 0, "messages_remaining": 100_000, "emails": 0, "emails_remaining": 0, "calls": 0,
            "calls_remaining": 0, "reservations": 0, "reservations_remaining": 0, "attachment_total_size": 0,
            "attachment_total_size_remaining": 0,
        },
    })
}

/// `GET /hooks/ntfy/v1/account`: anonymous without credentials (as ntfy answers), the bot
/// with a valid token, 401 with a wrong one.
fn ntfy_account(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let (token, user) = ntfy_credentials(request);
    let Some(token) = token else { return Ok(Response::json(200, &ntfy_account_body("*", "anonymous"))) };
    let (bot, _) = bot_of(ctx, &token)?;
    Ok(Response::json(200, &ntfy_account_body(user.as_deref().unwrap_or(&bot), "user")))
}

/// `POST /hooks/ntfy/v1/account/token`: a client that logged in with the bot's token as its
/// password asks for an access token: it is the same token.
fn ntfy_account_token(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let token = ntfy_credentials(request).0.ok_or(ApiError::Unauthorized("credentials needed"))?;
    let (bot, _) = bot_of(ctx, &token)?;
    let label: Option<String> = serde_json::from_slice::<serde_json::Value>(&request.body)
        .ok()
        .and_then(|v| v.get("label")?.as_str().map(str::to_string));
    let now = crate::clock::unix_now();
    Ok(Response::json(
        200,
        &json!({ "token": token.trim(), "label": label.unwrap_or_else(|| bot.to_string()), "last_access": now, "last_origin": request.peer.to_string() }),
    ))
}

fn bot_of(ctx: &Ctx, token: &str) -> Result<(std::sync::Arc<str>, String), ApiError> {
    let hash = hooks::hash_token(token).ok_or(ApiError::Unauthorized("unknown or revoked bot token"))?;
    ctx.hub.ask(move |hub| hub.bot_for_token(&hash))?
}

/// Gotify's `POST /message`.
fn gotify(ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let token = request
        .query_param("token")
        .or_else(|| request.header("x-gotify-key").map(str::to_string))
        .or_else(|| request.header("authorization").and_then(|h| h.strip_prefix("Bearer ")).map(str::to_string));
    let (posted, post) = post(ctx, Format::Gotify, token.as_deref(), formats::gotify(request))?;
    Ok(Response::json(
        200,
        &json!({
            "id": posted.id,
            "appid": 1,
            "message": post.text,
            "title": post.alert.title.clone().unwrap_or_default(),
            "priority": post.alert.priority,
            "date": posted.created_at,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::request::parse_head;
    use base64ct::{Base64UrlUnpadded, Encoding};

    fn base64url(bytes: &[u8]) -> String {
        Base64UrlUnpadded::encode_string(bytes)
    }

    fn credentials(query: &str) -> (Option<String>, Option<String>) {
        let head = format!("POST /hooks/ntfy/t?{query} HTTP/1.1\r\nHost: h\r\n\r\n");
        let (request, _) = parse_head(head.as_bytes()).unwrap().unwrap();
        ntfy_credentials(&request)
    }

    #[test]
    fn a_bare_token_in_auth_is_the_token_whatever_its_bytes_decode_to() {
        // A bare token is valid base64url; about one in eight decodes to bytes holding a space,
        // which once made it read as a header and fail (401) at random.
        for _ in 0..500 {
            let (token, _) = hooks::new_token().unwrap();
            assert_eq!(credentials(&format!("auth={token}")).0.as_deref(), Some(&*token));
        }
        // ntfy's own form: the Authorization header, base64url.
        let (token, _) = hooks::new_token().unwrap();
        let header = format!("Bearer {token}");
        let encoded = base64url(header.as_bytes());
        assert_eq!(credentials(&format!("auth={encoded}")).0.as_deref(), Some(&*token));
        let basic = base64url(format!("Basic {}", base64url(format!("alerts:{token}").as_bytes())).as_bytes());
        assert_eq!(credentials(&format!("auth={basic}")), (Some(token), Some("alerts".into())));
    }
}
