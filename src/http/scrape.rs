//! `GET /metrics`: the Prometheus text exposition of [`crate::metrics`], on the main listener
//! (`--metrics on`) or on a listener of its own (`--metrics-addr`), optionally behind a bearer
//! token (`--metrics-token`).

use super::request::{HttpConn, Proxies, ReadError, Wait};
use super::response::Response;
use crate::config::Config;
use crate::error::ApiError;
use crate::http::request::Request;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Prometheus' text format, version 0.0.4.
const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The exposition, if the request may see it.
pub fn metrics(config: &Config, request: &Request) -> Result<Response, ApiError> {
    if let Some(token) = &config.metrics_token {
        let given = request.header("authorization").and_then(|h| h.strip_prefix("Bearer ")).unwrap_or("");
        if !same(given.trim().as_bytes(), token.as_bytes()) {
            return Err(ApiError::NotLoggedIn);
        }
    }
    let files: Vec<&str> = crate::db::FILES.iter().map(|(_, file)| *file).collect();
    let text = crate::metrics::render(&config.data_dir, &files);
    Ok(Response::new(200).with_body(CONTENT_TYPE, text.into_bytes()))
}

/// Compares without stopping at the first difference, so timing tells nothing of the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Serves `/metrics` (and nothing else) on a listener of its own, one connection at a time:
/// a scraper is one client, and this thread never touches the chat's workers or hub.
pub fn serve_separately(listener: TcpListener, config: Arc<Config>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let Ok(peer) = stream.peer_addr() else { continue };
        let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
        let mut conn = HttpConn::new(stream, peer);
        let proxies = Proxies { trusted: &[], behind_tls: false };
        let mut wait = Wait::FirstRequest { accepted_at: Instant::now() };
        loop {
            let request = match conn.read_request(wait, &proxies, &|| true) {
                Ok(request) => request,
                Err(ReadError::Idle) => break,
                Err(ReadError::Reject(error)) => {
                    let _ = Response::api_error(&error).write_to(&mut conn.stream, false, false, false);
                    break;
                }
            };
            let response = match (request.method.as_str(), request.path.as_str()) {
                ("GET" | "HEAD", "/metrics") => metrics(&config, &request),
                (_, "/metrics") => Err(ApiError::MethodNotAllowed("GET, HEAD")),
                _ => Err(ApiError::NotFound("only /metrics is served here")),
            };
            let response = response.unwrap_or_else(|e| super::response::error_headers(Response::api_error(&e), &e));
            let keep_alive = request.keep_alive();
            if response.write_to(&mut conn.stream, request.is_head(), keep_alive, false).is_err() || !keep_alive {
                break;
            }
            wait = Wait::KeepAlive;
        }
    }
}
