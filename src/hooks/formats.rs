//! Each sender's format read into a [`Draft`]: ntfy (raw and JSON), Gotify (JSON, form,
//! multipart, query), Slack-compatible (`{text, attachments, blocks}`, Mattermost's
//! `payload=`), Alertmanager's webhook (version 4; Grafana's version 1 alike), Uptime Kuma's
//! webhook (JSON, form-data, GET), and plain text. [`detect`] tells them apart on the
//! generic endpoint by path and body, never by content type alone: curl-based senders label
//! everything `application/x-www-form-urlencoded`, Healthchecks sends no content type.

use super::{Draft, Format, Status, gotify_priority, is_web_url, multipart, ntfy_priority, severity_priority};
use crate::error::ApiError;
use crate::http::request::Request;
use serde_json::{Map, Value};

fn malformed(what: impl Into<std::borrow::Cow<'static, str>>) -> ApiError {
    ApiError::bad_request(what)
}

fn utf8(body: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(body.to_vec()).map_err(|_| malformed("the message must be UTF-8 text"))
}

fn str_of<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    object.get(key).and_then(Value::as_str)
}

/// A JSON object body, if the body is one (`Ok(None)`: not JSON at all; an error: it starts
/// like JSON but does not parse, or is JSON but not an object).
fn json_object(body: &[u8]) -> Result<Option<Map<String, Value>>, ApiError> {
    let start = body.iter().find(|b| !b.is_ascii_whitespace());
    if start != Some(&b'{') {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err(malformed("the JSON body must be an object")),
        Err(e) => Err(malformed(format!("invalid JSON body: {e}"))),
    }
}

/// The first of several header names (ntfy's `X-Title`, `Title`, `t`).
fn header_any<'a>(request: &'a Request, names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|n| request.header(n)).filter(|v| !v.is_empty())
}

fn query_any(request: &Request, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| request.query_param(n)).filter(|v| !v.is_empty())
}

fn split_tags(value: &str) -> Vec<String> {
    value.split(',').map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
}

/// ntfy's tags that mean down and up (Uptime Kuma's and Healthchecks' ntfy messages).
fn status_from_tags(tags: &[String]) -> Option<Status> {
    if tags.iter().any(|t| t == "red_circle" || t == "rotating_light") {
        Some(Status::Firing)
    } else if tags.iter().any(|t| t == "green_circle" || t == "white_check_mark") {
        Some(Status::Resolved)
    } else {
        None
    }
}

/// ntfy: a raw publish to `/TOPIC` (body = message) with its metadata in headers (`X-Title`,
/// `Title`, `t`; `X-Priority`, `Priority`, `prio`, `p`; `X-Tags`, `Tags`, `tag`, `ta`;
/// `X-Click`, `Click`) or the same names as query parameters; `X-Message`/`?message=` when
/// the body is empty (`GET /TOPIC/publish?message=`).
pub fn ntfy_raw(request: &Request) -> Result<Draft, ApiError> {
    let pick = |names: &[&str]| -> Option<String> {
        header_any(
            request,
            &names.iter().map(|n| format!("x-{n}")).collect::<Vec<_>>().iter().map(String::as_str).collect::<Vec<_>>(),
        )
        .map(str::to_string)
        .or_else(|| header_any(request, names).map(str::to_string))
        .or_else(|| query_any(request, names))
    };
    let mut text = utf8(&request.body)?;
    if text.trim().is_empty() {
        text = pick(&["message", "m"]).unwrap_or_default();
    }
    let priority = pick(&["priority", "prio", "p"]).map(|p| ntfy_priority(&p)).transpose()?;
    let tags = pick(&["tags", "tag", "ta"]).map(|t| split_tags(&t)).unwrap_or_default();
    let status = status_from_tags(&tags);
    Ok(Draft {
        text,
        title: pick(&["title", "t"]),
        priority,
        tags,
        click: pick(&["click"]),
        status,
        ..Draft::default()
    })
}

/// ntfy's JSON publish (to the root URL): `{topic, message, title, priority, tags, click,
/// actions}`. Returns the draft and the topic.
pub fn ntfy_json(body: &[u8]) -> Result<(Draft, String), ApiError> {
    let object = json_object(body)?.ok_or_else(|| malformed("expected ntfy's JSON message: {\"topic\": …}"))?;
    ntfy_object(&object)
}

fn ntfy_object(object: &Map<String, Value>) -> Result<(Draft, String), ApiError> {
    let topic = str_of(object, "topic").unwrap_or_default().to_string();
    let priority = match object.get("priority") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(ntfy_priority(&n.to_string())?),
        Some(Value::String(s)) => Some(ntfy_priority(s)?),
        Some(_) => return Err(malformed("priority must be 1 to 5")),
    };
    let tags: Vec<String> = match object.get("tags") {
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(str::to_string).collect(),
        Some(Value::String(s)) => split_tags(s),
        _ => Vec::new(),
    };
    let actions = object.get("actions").and_then(Value::as_array);
    // A "view" action's URL names what the message is about: the key that pairs a down
    // with its up (Healthchecks links the check, Uptime Kuma the monitored URL).
    let view = actions.and_then(|a| {
        a.iter().find(|x| x.get("action").and_then(Value::as_str) == Some("view")).and_then(|x| x.get("url")?.as_str())
    });
    let mut text = str_of(object, "message").unwrap_or_default().to_string();
    if let Some(url) = view.filter(|u| is_web_url(u)) {
        let label = actions
            .and_then(|a| a.iter().find(|x| x.get("url").and_then(Value::as_str) == Some(url)))
            .and_then(|x| x.get("label")?.as_str())
            .unwrap_or("Open");
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        text.push_str(&format!("{label}: {url}"));
    }
    let status = status_from_tags(&tags);
    let draft = Draft {
        text,
        title: str_of(object, "title").map(str::to_string),
        priority,
        click: str_of(object, "click").map(str::to_string),
        key: status.and(view).map(|u| format!("ntfy:{u}")),
        status,
        tags,
        ..Draft::default()
    };
    Ok((draft, topic))
}

/// Gotify's `POST /message`: `{title, message, priority, extras}` as JSON, as an urlencoded
/// or multipart form, or as query parameters. `extras` must be an object; its
/// `client::notification.click.url` is the link.
pub fn gotify(request: &Request) -> Result<Draft, ApiError> {
    let content_type = request.header("content-type").unwrap_or("");
    let object: Map<String, Value> = if let Some(object) = json_object(&request.body)? {
        object
    } else if let Some(boundary) = multipart::boundary(content_type) {
        let parts = multipart::parse(&request.body, boundary).map_err(malformed)?;
        parts.into_iter().map(|(k, v)| (k, Value::String(String::from_utf8_lossy(&v).into_owned()))).collect()
    } else {
        let mut pairs = crate::http::form::parse(&request.body);
        pairs.extend(crate::http::form::parse(request.query.as_bytes()));
        pairs.into_iter().filter(|(k, _)| k != "token").map(|(k, v)| (k, Value::String(v))).collect()
    };
    let message = str_of(&object, "message").ok_or_else(|| malformed("Gotify messages need a message"))?;
    let priority = match object.get("priority") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => Some(gotify_priority(n.as_i64().unwrap_or(0))),
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => {
            Some(gotify_priority(s.trim().parse().map_err(|_| malformed("priority must be a whole number"))?))
        }
        Some(_) => return Err(malformed("priority must be a whole number")),
    };
    let click = match object.get("extras") {
        None | Some(Value::Null) => None,
        Some(Value::Object(extras)) => {
            extras.get("client::notification").and_then(|n| n.get("click")?.get("url")?.as_str()).map(str::to_string)
        }
        Some(_) => return Err(malformed("extras must be an object")),
    };
    Ok(Draft {
        text: message.to_string(),
        title: str_of(&object, "title").map(str::to_string),
        priority,
        click,
        ..Draft::default()
    })
}

/// Slack's `<url|label>` and `<url>` links, readable.
fn slack_links(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let inner = &rest[open + 1..open + close];
        match inner.split_once('|') {
            Some((url, label)) if is_web_url(url) => out.push_str(&format!("{label} ({url})")),
            None if is_web_url(inner) => out.push_str(inner),
            _ => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// Slack-compatible: `text`, then each attachment (pretext, title, text, fields, or its
/// fallback) and the text of `blocks`, as readable lines. The first attachment's title is the
/// alert's title (and its link the link), so `[FIRING:1] …`/`[RESOLVED] …` titles pair.
pub fn slack(object: &Map<String, Value>) -> Result<Draft, ApiError> {
    fn push(lines: &mut Vec<String>, s: Option<&str>) {
        if let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) {
            lines.push(slack_links(s));
        }
    }
    let mut lines: Vec<String> = Vec::new();
    push(&mut lines, str_of(object, "text"));
    let attachments = object.get("attachments").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut title = None;
    let mut click = None;
    for a in attachments.iter().filter_map(Value::as_object) {
        if title.is_none() {
            title = str_of(a, "title").map(str::to_string);
            click = str_of(a, "title_link").filter(|u| is_web_url(u)).map(str::to_string);
        }
        let before = lines.len();
        push(&mut lines, str_of(a, "pretext"));
        if title.as_deref() != str_of(a, "title") {
            push(&mut lines, str_of(a, "title"));
        }
        push(&mut lines, str_of(a, "text"));
        for f in a.get("fields").and_then(Value::as_array).into_iter().flatten() {
            let (t, v) = (f.get("title").and_then(Value::as_str), f.get("value").and_then(Value::as_str));
            if let (Some(t), Some(v)) = (t, v) {
                push(&mut lines, Some(&format!("{t}: {v}")));
            }
        }
        if lines.len() == before {
            push(&mut lines, str_of(a, "fallback"));
        }
    }
    for block in object.get("blocks").and_then(Value::as_array).into_iter().flatten() {
        push(&mut lines, block.get("text").and_then(|t| t.get("text")).and_then(Value::as_str));
        for item in ["fields", "elements"].iter().filter_map(|k| block.get(*k)?.as_array()).flatten() {
            push(&mut lines, item.get("text").and_then(|t| t.as_str().or_else(|| t.get("text")?.as_str())));
        }
    }
    if lines.is_empty() && title.is_none() {
        return Err(malformed("a Slack message needs text, attachments or blocks"));
    }
    Ok(Draft { text: lines.join("\n"), title, click, composed: true, ..Draft::default() })
}

/// Alertmanager's webhook (version 4), and Grafana's (version 1, which adds `title` and
/// `message`): one post per notification of a group; `groupKey` pairs a firing group with
/// its resolution; the highest `severity` among its alerts sets the priority.
pub fn alertmanager(object: &Map<String, Value>) -> Result<Draft, ApiError> {
    let alerts = object.get("alerts").and_then(Value::as_array).ok_or_else(|| malformed("alerts must be a list"))?;
    let status = str_of(object, "status").and_then(Status::parse);
    let label = |a: &Value, key: &str| -> Option<String> {
        a.get("labels").and_then(|l| l.get(key)).and_then(Value::as_str).map(str::to_string)
    };
    let annotation = |a: &Value, key: &str| -> Option<String> {
        a.get("annotations").and_then(|l| l.get(key)).and_then(Value::as_str).map(str::to_string)
    };
    let common = |key: &str| -> Option<String> {
        ["groupLabels", "commonLabels"]
            .iter()
            .find_map(|g| object.get(*g).and_then(|l| l.get(key)).and_then(Value::as_str))
            .map(str::to_string)
    };
    let firing = alerts.iter().filter(|a| a.get("status").and_then(Value::as_str) == Some("firing")).count();
    let name = common("alertname").or_else(|| alerts.first().and_then(|a| label(a, "alertname")));
    let title = str_of(object, "title").map(str::to_string).or_else(|| {
        let name = name.clone().unwrap_or_else(|| "alerts".into());
        Some(match status {
            Some(Status::Resolved) => format!("[RESOLVED] {name}"),
            _ => format!("[FIRING:{firing}] {name}"),
        })
    });
    let mut lines = Vec::new();
    if let Some(message) = str_of(object, "message").filter(|m| !m.trim().is_empty()) {
        lines.push(message.trim().to_string());
    } else {
        for a in alerts.iter().take(super::MAX_LISTED_ALERTS) {
            let what = annotation(a, "summary")
                .or_else(|| annotation(a, "description"))
                .or_else(|| label(a, "alertname"))
                .unwrap_or_else(|| "alert".into());
            let state = a.get("status").and_then(Value::as_str).unwrap_or("firing");
            let mut line = format!("• {what}");
            if let Some(instance) = label(a, "instance") {
                line.push_str(&format!(" ({instance})"));
            }
            line.push_str(&format!(" — {state}"));
            lines.push(line);
        }
        let more = alerts.len().saturating_sub(super::MAX_LISTED_ALERTS)
            + object.get("truncatedAlerts").and_then(Value::as_u64).unwrap_or(0) as usize;
        if more > 0 {
            lines.push(format!("… and {more} more"));
        }
    }
    let priority = alerts
        .iter()
        .filter_map(|a| label(a, "severity"))
        .chain(common("severity"))
        .map(|s| severity_priority(&s))
        .max();
    let key = match str_of(object, "groupKey") {
        Some(group) => Some(format!("am:{group}")),
        None => {
            let mut prints: Vec<&str> =
                alerts.iter().filter_map(|a| a.get("fingerprint").and_then(Value::as_str)).collect();
            prints.sort_unstable();
            (!prints.is_empty()).then(|| format!("am:{}", prints.join(",")))
        }
    };
    let click = alerts
        .iter()
        .filter_map(|a| a.get("generatorURL").and_then(Value::as_str))
        .chain(str_of(object, "externalURL"))
        .find(|u| is_web_url(u))
        .map(str::to_string);
    Ok(Draft { text: lines.join("\n"), title, priority, click, status, key, composed: true, ..Draft::default() })
}

/// Uptime Kuma's webhook: `{heartbeat, monitor, msg}` (JSON, the form-data field `data`, or
/// GET's query). A heartbeat `status` 0 is down (firing, priority 4), 1 is up (its
/// resolution); `monitor.id` (or `heartbeat.monitorID`) pairs them. A test has neither.
pub fn uptime_kuma(object: &Map<String, Value>) -> Result<Draft, ApiError> {
    let heartbeat = object.get("heartbeat").and_then(Value::as_object);
    let monitor = object.get("monitor").and_then(Value::as_object);
    let text = str_of(object, "msg").or_else(|| heartbeat.and_then(|h| str_of(h, "msg"))).unwrap_or_default();
    let id = monitor
        .and_then(|m| m.get("id"))
        .or_else(|| heartbeat.and_then(|h| h.get("monitorID")))
        .filter(|v| !v.is_null())
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string));
    let (status, priority, tag) = match heartbeat.and_then(|h| h.get("status")).and_then(Value::as_i64) {
        Some(0) => (Some(Status::Firing), Some(4), Some("red_circle")),
        Some(1) => (Some(Status::Resolved), Some(3), Some("green_circle")),
        Some(3) => (None, Some(2), Some("wrench")),
        _ => (None, None, None),
    };
    let click = monitor.and_then(|m| str_of(m, "url")).filter(|u| is_web_url(u) && *u != "https://");
    Ok(Draft {
        text: text.to_string(),
        title: monitor.and_then(|m| str_of(m, "name")).map(str::to_string),
        priority,
        tags: tag.map(|t| vec![t.to_string()]).unwrap_or_default(),
        click: click.map(str::to_string),
        key: id.map(|id| format!("kuma:{id}")),
        status,
        ..Draft::default()
    })
}

/// Uptime Kuma's GET webhook: `?msg=&heartbeat=<json>&monitor=<json>`.
fn uptime_kuma_query(request: &Request) -> Result<Option<Draft>, ApiError> {
    let Some(msg) = request.query_param("msg") else { return Ok(None) };
    let mut object = Map::new();
    object.insert("msg".into(), Value::String(msg));
    for key in ["heartbeat", "monitor"] {
        if let Some(json) = request.query_param(key) {
            let value = serde_json::from_str(&json).map_err(|e| malformed(format!("invalid {key} JSON: {e}")))?;
            object.insert(key.into(), value);
        }
    }
    uptime_kuma(&object).map(Some)
}

/// Which format a JSON object is, by its keys.
fn json_format(object: &Map<String, Value>) -> Option<Format> {
    let has = |k: &str| object.contains_key(k);
    if has("msg") && (has("heartbeat") || has("monitor")) {
        Some(Format::UptimeKuma)
    } else if has("alerts") && (has("groupKey") || has("version") || has("receiver")) {
        Some(Format::Alertmanager)
    } else if has("topic") && (has("message") || has("title")) {
        Some(Format::Ntfy)
    } else if has("text") || has("attachments") || has("blocks") {
        Some(Format::Slack)
    } else if has("message") {
        Some(Format::Gotify)
    } else {
        None
    }
}

fn from_object(format: Format, object: &Map<String, Value>) -> Result<Draft, ApiError> {
    match format {
        Format::UptimeKuma => uptime_kuma(object),
        Format::Alertmanager => alertmanager(object),
        Format::Ntfy => ntfy_object(object).map(|(d, _)| d),
        Format::Slack => slack(object),
        Format::Gotify => {
            let mut draft = Draft {
                text: str_of(object, "message").unwrap_or_default().to_string(),
                title: str_of(object, "title").map(str::to_string),
                ..Draft::default()
            };
            draft.priority = object.get("priority").and_then(Value::as_i64).map(gotify_priority);
            Ok(draft)
        }
        Format::Text => {
            Ok(Draft { text: serde_json::to_string_pretty(object).unwrap_or_default(), ..Draft::default() })
        }
    }
}

/// The generic endpoint (`/hooks/{token}`): the format told by the body — a form-data body
/// with a `data` field (Uptime Kuma) or a `payload` field (Mattermost), an urlencoded
/// `payload=` (Mattermost, Slack), a JSON object recognised by its keys (any other JSON object
/// is shown as it came), otherwise plain text — and Uptime Kuma's GET form by its query.
pub fn detect(request: &Request) -> Result<(Format, Draft), ApiError> {
    if request.method == "GET" {
        if let Some(draft) = uptime_kuma_query(request)? {
            return Ok((Format::UptimeKuma, draft));
        }
        let text = request.query_param("message").or_else(|| request.query_param("text"));
        let text = text.ok_or_else(|| malformed("GET needs ?message= (or Uptime Kuma's ?msg=)"))?;
        return Ok((Format::Text, Draft { text, ..Draft::default() }));
    }
    let content_type = request.header("content-type").unwrap_or("");
    if let Some(boundary) = multipart::boundary(content_type) {
        let parts = multipart::parse(&request.body, boundary).map_err(malformed)?;
        let field = |name: &str| parts.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_slice());
        if let Some(data) = field("data").or_else(|| field("payload")) {
            let object = json_object(data)?.ok_or_else(|| malformed("the form's data field must be JSON"))?;
            let format = json_format(&object).unwrap_or(Format::Text);
            return Ok((format, from_object(format, &object)?));
        }
        let text = field("message").or_else(|| field("text")).ok_or_else(|| malformed("no message in the form"))?;
        let mut draft = Draft { text: utf8(text)?, ..Draft::default() };
        draft.title = field("title").map(|t| String::from_utf8_lossy(t).into_owned());
        return Ok((Format::Text, draft));
    }
    if request.body.starts_with(b"payload=") {
        let pairs = crate::http::form::parse(&request.body);
        let payload = pairs.iter().find(|(k, _)| k == "payload").map(|(_, v)| v.as_bytes()).unwrap_or_default();
        let object = json_object(payload)?.ok_or_else(|| malformed("payload must be a JSON object"))?;
        return Ok((Format::Slack, slack(&object)?));
    }
    if let Some(object) = json_object(&request.body)? {
        let format = json_format(&object).unwrap_or(Format::Text);
        return Ok((format, from_object(format, &object)?));
    }
    Ok((Format::Text, Draft { text: utf8(&request.body)?, ..Draft::default() }))
}

/// Query parameters any tool can add to the URL it is given (Healthchecks fills in
/// `$NAME`, `$STATUS`, `$CODE` there): `title`, `priority` (1–5 or ntfy's names), `tags`,
/// `click`, and `id` with `status` (`down`/`up`, `firing`/`resolved`…) to pair alerts.
pub fn apply_query(request: &Request, draft: &mut Draft) -> Result<(), ApiError> {
    if let Some(title) = request.query_param("title").filter(|t| !t.is_empty()) {
        draft.title = Some(title);
    }
    if let Some(priority) = request.query_param("priority").filter(|p| !p.is_empty()) {
        draft.priority = Some(ntfy_priority(&priority)?);
    }
    if let Some(tags) = request.query_param("tags") {
        draft.tags.extend(split_tags(&tags));
    }
    if let Some(click) = request.query_param("click").filter(|c| !c.is_empty()) {
        draft.click = Some(click);
    }
    if let Some(status) = request.query_param("status").filter(|s| !s.is_empty()) {
        let status =
            Status::parse(&status).ok_or_else(|| malformed("status must be e.g. down or up, firing or resolved"))?;
        draft.status = Some(status);
    }
    if let Some(id) = request.query_param("id").filter(|i| !i.is_empty()) {
        draft.key = Some(format!("id:{id}"));
    }
    Ok(())
}
