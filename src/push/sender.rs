//! The sender: a couple of threads that take jobs from a bounded queue and POST them — an
//! encrypted Web Push to a browser's push service, or a plain notification to a user's ntfy
//! or Gotify server. The hub only ever `try_send`s a job: a full queue drops it with a logged
//! reason, so a slow or hanging push service can never hold up messaging. A failed attempt
//! (a network error, 429 or 5xx) is retried a bounded number of times with growing delays,
//! kept in the thread's own timer list so one slow retry does not block other jobs. What
//! became of a push to a browser is reported through the callback given at start: delivered
//! (the subscription is in use), or gone (404/410: the browser dropped it).

use super::guard::{self, GuardedResolver, Policy};
use super::notification::Notification;
use super::vapid::Vapid;
use super::{Forward, ForwardKind, Subscription};
use crate::clock::unix_now;
use crate::metrics;
use crossbeam_channel::{Receiver, RecvTimeoutError, TrySendError};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Jobs waiting for a sender thread, at most.
const QUEUE: usize = 1024;
/// Sender threads; pushes are small and their services answer in milliseconds.
const THREADS: usize = 2;
/// TLS handshakes (ring) and HTTP buffers live on the heap; the stack stays small.
const STACK: usize = 256 * 1024;
/// Attempts per job, the first included.
pub const MAX_ATTEMPTS: u32 = 3;
/// The first retry waits this long; each further one twice as long as the one before.
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// A `Retry-After` longer than this is not waited for.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Retries one thread keeps waiting, at most; beyond that a failed job is dropped.
const MAX_PENDING_RETRIES: usize = 256;
/// A whole request (resolve, connect, TLS, send, answer) gets this long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a push service keeps an undelivered push (`TTL`, seconds): a day.
pub const TTL_SECS: u64 = 24 * 3600;

/// Where a job goes.
#[derive(Debug, Clone)]
pub enum Target {
    /// A browser, through its push service.
    Device(Subscription),
    /// The user's ntfy or Gotify server.
    Forward(Forward),
}

/// One notification for one destination.
pub struct Job {
    pub user: Arc<str>,
    pub target: Target,
    pub notification: Arc<Notification>,
    attempts: u32,
}

impl Job {
    pub fn new(user: Arc<str>, target: Target, notification: Arc<Notification>) -> Job {
        Job { user, target, notification, attempts: 0 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The push service (or forward) took it.
    Delivered,
    /// 404 or 410: the subscription no longer exists; forget it.
    Gone,
    /// Refused for good, or still failing after the last attempt.
    Failed,
}

/// What became of a job, for the hub.
#[derive(Debug, Clone)]
pub struct Report {
    pub user: Arc<str>,
    /// The subscription's endpoint; `None` for a forward.
    pub endpoint: Option<String>,
    pub outcome: Outcome,
}

pub type ReportFn = Arc<dyn Fn(Report) + Send + Sync>;

/// Settings of the sender.
pub struct Settings {
    pub vapid: Arc<Vapid>,
    pub policy: Policy,
    /// The VAPID `sub` claim; `None`: the app's origin the subscription was made on.
    pub contact: Option<String>,
}

/// The hub's end: enqueue without ever waiting.
#[derive(Clone)]
pub struct Pusher {
    tx: crossbeam_channel::Sender<Job>,
}

impl Pusher {
    /// Starts the sender threads; `report` is called on them with each job's outcome.
    pub fn start(settings: Settings, report: ReportFn) -> Result<Pusher, String> {
        let (tx, rx) = crossbeam_channel::bounded(QUEUE);
        let agent = agent(settings.policy);
        let shared = Arc::new(Shared { settings, agent, report });
        for index in 0..THREADS {
            let (rx, shared) = (rx.clone(), shared.clone());
            std::thread::Builder::new()
                .name(format!("push-{index}"))
                .stack_size(STACK)
                .spawn(move || run(&rx, &shared))
                .map_err(|e| format!("starting the push sender: {e}"))?;
        }
        Ok(Pusher { tx })
    }

    /// A pusher whose jobs land in the returned receiver (the hub's unit tests).
    pub fn channel(capacity: usize) -> (Pusher, Receiver<Job>) {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        (Pusher { tx }, rx)
    }

    /// Queues a job; `false` (and a log line) if the queue is full or the senders are gone.
    pub fn enqueue(&self, job: Job) -> bool {
        match self.tx.try_send(job) {
            Ok(()) => true,
            Err(TrySendError::Full(job)) => {
                log::warn!("push queue full: a notification for {} was dropped", job.user);
                metrics::push_failed();
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        }
    }
}

struct Shared {
    settings: Settings,
    agent: ureq::Agent,
    report: ReportFn,
}

fn agent(policy: Policy) -> ureq::Agent {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .proxy(None)
        .timeout_global(Some(REQUEST_TIMEOUT))
        .user_agent(concat!("mychat/", env!("CARGO_PKG_VERSION")))
        .build();
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::default(),
        GuardedResolver { policy },
    )
}

/// A job waiting for its next attempt, ordered by when that is due.
struct Pending {
    due: Instant,
    seq: u64,
    job: Job,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(other.due, other.seq))
    }
}

fn run(rx: &Receiver<Job>, shared: &Shared) {
    let mut retries: BinaryHeap<Reverse<Pending>> = BinaryHeap::new();
    let mut seq = 0u64;
    loop {
        let job = match retries.peek().map(|r| r.0.due) {
            Some(due) if due <= Instant::now() => match retries.pop() {
                Some(Reverse(pending)) => pending.job,
                None => continue,
            },
            Some(due) => match rx.recv_deadline(due) {
                Ok(job) => job,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            },
            None => match rx.recv() {
                Ok(job) => job,
                Err(_) => return,
            },
        };
        if let Some((job, wait)) = attempt(shared, job) {
            if retries.len() >= MAX_PENDING_RETRIES {
                log::warn!("push retry list full: a notification for {} was dropped", job.user);
                metrics::push_failed();
                continue;
            }
            seq += 1;
            retries.push(Reverse(Pending { due: Instant::now() + wait, seq, job }));
        }
    }
}

/// What one attempt came to.
enum Attempt {
    Done(Outcome),
    /// Worth another try, after at least this long (`Retry-After`), if given.
    Retry(Option<Duration>),
}

/// Tries a job once; returns it with its delay if it should be tried again.
fn attempt(shared: &Shared, mut job: Job) -> Option<(Job, Duration)> {
    job.attempts += 1;
    let (result, what) = match &job.target {
        Target::Device(sub) => (send_push(shared, sub, &job.notification), origin_of(&sub.endpoint)),
        Target::Forward(forward) => (send_forward(&shared.agent, forward, &job.notification), forward.kind.name()),
    };
    let outcome = match result {
        Attempt::Done(outcome) => outcome,
        Attempt::Retry(after) if job.attempts < MAX_ATTEMPTS => {
            let backoff = FIRST_BACKOFF * 2u32.pow(job.attempts - 1);
            let wait = after.map_or(backoff, |a| a.clamp(backoff, MAX_BACKOFF));
            log::info!(
                "push to {what} for {}: attempt {} failed, retrying in {} s",
                job.user,
                job.attempts,
                wait.as_secs()
            );
            return Some((job, wait));
        }
        Attempt::Retry(_) => {
            log::warn!("push to {what} for {}: gave up after {} attempts", job.user, job.attempts);
            Outcome::Failed
        }
    };
    if outcome == Outcome::Delivered {
        log::debug!("push to {what} for {} delivered", job.user);
        metrics::push_sent();
    } else {
        metrics::push_failed();
    }
    // Only the hub's subscriptions have anything to learn; a forward's outcome is in the log.
    if let Target::Device(sub) = job.target {
        (shared.report)(Report { user: job.user, endpoint: Some(sub.endpoint), outcome });
    }
    None
}

/// The endpoint's origin, for logs: the rest of an endpoint is a capability, kept out of logs.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    url[after_scheme..].find('/').map_or(url, |i| &url[..after_scheme + i])
}

fn send_push(shared: &Shared, sub: &Subscription, notification: &Notification) -> Attempt {
    let Some(payload) = notification.encode() else {
        log::warn!("push payload over {} bytes, not sent", super::notification::MAX_PAYLOAD);
        return Attempt::Done(Outcome::Failed);
    };
    let body = match super::ece::encrypt(&payload, &sub.p256dh, &sub.auth) {
        Ok(body) => body,
        Err(e) => {
            log::warn!("push to {}: cannot encrypt for this subscription: {e:?}", origin_of(&sub.endpoint));
            return Attempt::Done(Outcome::Failed);
        }
    };
    let audience = match guard::parse(&sub.endpoint, shared.settings.policy) {
        Ok(target) => target.origin,
        Err(e) => {
            log::warn!("push to {}: {e}", origin_of(&sub.endpoint));
            return Attempt::Done(Outcome::Failed);
        }
    };
    let subject = shared.settings.contact.as_deref().unwrap_or(&sub.origin);
    let authorization = shared.settings.vapid.authorization(&audience, subject, unix_now().max(0) as u64);
    let request = shared
        .agent
        .post(sub.endpoint.as_str())
        .header("TTL", TTL_SECS.to_string())
        .header("Urgency", "high")
        .header("Topic", notification.topic())
        .header("Content-Encoding", "aes128gcm")
        .header("Content-Type", "application/octet-stream")
        .header("Authorization", authorization);
    classify(origin_of(&sub.endpoint), request.send(&body[..]), true)
}

fn send_forward(agent: &ureq::Agent, forward: &Forward, n: &Notification) -> Attempt {
    let click = format!("{}{}", forward.origin, n.url);
    let (url, body) = match forward.kind {
        // ntfy's JSON publishing: POST to the server's root with the topic in the body.
        ForwardKind::Ntfy => {
            let (base, topic) = forward.url.trim_end_matches('/').rsplit_once('/').unwrap_or((&forward.url, ""));
            let body = serde_json::json!({
                "topic": topic,
                "title": n.title,
                "message": n.body,
                "priority": 4,
                "tags": ["speech_balloon"],
                "click": click,
            });
            (base.to_string(), body)
        }
        ForwardKind::Gotify => {
            let url = format!("{}/message", forward.url.trim_end_matches('/'));
            let body = serde_json::json!({
                "title": n.title,
                "message": n.body,
                "priority": 8,
                "extras": { "client::notification": { "click": { "url": click } } },
            });
            (url, body)
        }
    };
    let mut request = agent.post(url.as_str()).header("Content-Type", "application/json");
    match (forward.kind, &forward.token) {
        (ForwardKind::Ntfy, Some(token)) => request = request.header("Authorization", format!("Bearer {token}")),
        (ForwardKind::Gotify, Some(token)) => request = request.query("token", token),
        (_, None) => {}
    }
    classify(forward.kind.name(), request.send(body.to_string().as_bytes()), false)
}

/// Turns an answer into an outcome: 2xx delivered; 404/410 gone (for subscriptions); 429,
/// 5xx and network errors worth a retry; anything else refused for good.
fn classify(what: &str, result: Result<ureq::http::Response<ureq::Body>, ureq::Error>, device: bool) -> Attempt {
    let mut response = match result {
        Ok(response) => response,
        Err(ureq::Error::Io(e)) if e.kind() == guard::REFUSED => {
            log::warn!("push to {what} refused: {e}");
            return Attempt::Done(Outcome::Failed);
        }
        Err(e) => {
            log::info!("push to {what}: {e}");
            return Attempt::Retry(None);
        }
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    // Read (a little of) the answer so the connection can be reused, and for the log.
    let detail = response.body_mut().with_config().limit(512).read_to_string().unwrap_or_default();
    match status {
        200..=299 => Attempt::Done(Outcome::Delivered),
        404 | 410 if device => {
            log::info!("push to {what}: subscription gone ({status})");
            Attempt::Done(Outcome::Gone)
        }
        429 | 500..=599 => {
            log::info!("push to {what}: {status}");
            Attempt::Retry(retry_after)
        }
        _ => {
            log::warn!("push to {what} refused: {status} {}", detail.trim());
            Attempt::Done(Outcome::Failed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::push::{Party, Subscription};

    /// The hub hands a push over without waiting: a full queue drops the job (logged), so at
    /// most the queue's bound of notifications is ever held, however slow the push services.
    #[test]
    fn a_full_queue_drops_the_job_instead_of_waiting() {
        let (pusher, jobs) = Pusher::channel(2);
        let job = |id: i64| {
            let sub = Subscription {
                endpoint: format!("https://push.example.net/{id}"),
                p256dh: vec![4; 65],
                auth: vec![0; 16],
                origin: "https://chat.example.org".into(),
            };
            let from = Party { id: "alice".into(), name: "alice".into() };
            Job::new("bob".into(), Target::Device(sub), Arc::new(Notification::private(from, "hi", id)))
        };
        assert!(pusher.enqueue(job(1)));
        assert!(pusher.enqueue(job(2)));
        assert!(!pusher.enqueue(job(3)), "the third is dropped");
        let queued: Vec<String> = jobs.try_iter().map(|j| format!("{:?}", j.target)).collect();
        assert_eq!(queued.len(), 2);
        assert!(queued[1].contains("/2"), "the queue kept the first two: {queued:?}");
    }
}
