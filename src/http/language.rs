//! The language switch: `POST /language` remembers the reader's choice in the `lang` cookie,
//! which every server-rendered page reads before `Accept-Language` (see [`crate::templates`]).
//! It works without JavaScript; the app sets the same cookie from script instead, so the
//! open conversation (in the address's fragment) stays open.

use super::Ctx;
use super::form;
use super::response::Response;
use crate::error::ApiError;
use crate::http::request::Request;
use crate::templates::{LANG_COOKIE, Lang};

/// A year: the choice outlives sessions.
const MAX_AGE: u64 = 365 * 24 * 3600;

/// POST /language — form field `lang` (`en` or `ru`); 303 back to the page it came from.
pub fn switch(_ctx: &Ctx, request: &Request) -> Result<Response, ApiError> {
    let fields = form::parse(&request.body);
    let code = fields.iter().find(|(k, _)| k == "lang").map(|(_, v)| v.as_str()).unwrap_or("");
    let lang = Lang::from_code(code).ok_or(ApiError::bad_request("lang must be \"en\" or \"ru\""))?;
    let secure = if request.https { "; Secure" } else { "" };
    Ok(Response::redirect(back_to(request)).with_header(
        "set-cookie",
        format!("{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age={MAX_AGE}{secure}", lang.code()),
    ))
}

/// The path of the page the form was on (from `Referer`, when it is this site's), else `/`.
fn back_to(request: &Request) -> String {
    let Some(referer) = request.header("referer") else { return "/".into() };
    let Some(host) = request.header("host") else { return "/".into() };
    let own = ["http://", "https://"].iter().find_map(|scheme| referer.strip_prefix(scheme));
    let path = own.and_then(|rest| rest.strip_prefix(host)).filter(|p| p.starts_with('/') && !p.starts_with("//"));
    path.map_or_else(|| "/".into(), |p| p.split('#').next().unwrap_or("/").to_string())
}
