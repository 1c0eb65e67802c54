//! Starting and stopping the server: the hub thread, the worker pool, the acceptor, and the
//! orderly shutdown on SIGTERM/SIGINT (stop accepting, finish the batch in flight, close
//! every socket with 1001, exit 0).

use crate::accept::{Acceptor, WorkQueue};
use crate::assets::Assets;
use crate::auth::Passwords;
use crate::config::Config;
use crate::db::Db;
use crate::http::files::Files;
use crate::http::{self, Ctx};
use crate::hub::{Command, Hub, HubClient, Job};
use crate::push::{self, Pusher, Vapid};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

/// Commands waiting for the hub, at most; senders wait beyond that (backpressure).
const HUB_QUEUE: usize = 1024;
/// The hub runs SQLite, which wants a real stack.
const HUB_STACK: usize = 2 << 20;
/// Workers parse JSON (bounded depth) and run Argon2 (its memory is on the heap).
const WORKER_STACK: usize = 256 * 1024;
/// How long shutdown waits for sockets to flush their close frames.
const DRAIN_WAIT: Duration = Duration::from_secs(3);

/// Runs the server until SIGTERM or SIGINT.
pub fn run(config: Config) -> Result<(), String> {
    // Installed first, so a SIGTERM that arrives during start-up is a clean stop, not a kill.
    let mut signals = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT])
        .map_err(|e| format!("installing signal handlers: {e}"))?;
    raise_file_limit();
    tune_allocator();
    let config = Arc::new(config);
    let started = Instant::now();
    // Held until this function returns: one server per data directory.
    let _lock = crate::datalock::lock(&config.data_dir)?;
    let db = Db::open(&config.data_dir, config.durability).map_err(|e| e.to_string())?;
    let (stop_checkpoints, checkpoint_stop) = crossbeam_channel::bounded::<()>(1);
    let checkpointer = crate::db::checkpoint::spawn(&config.data_dir, checkpoint_stop)
        .map_err(|e| format!("starting the checkpointer: {e}"))?;
    let vapid = Arc::new(Vapid::load_or_create(&config.data_dir)?);
    let (hub_tx, hub_rx) = crossbeam_channel::bounded(HUB_QUEUE);
    let pusher = start_pusher(&config, vapid.clone(), HubClient::new(hub_tx.clone()))?;
    let mut hub = Hub::new(db, config.clone()).map_err(|e| format!("loading the database: {e}"))?.with_pusher(pusher);
    let (nudge_tx, nudges) = crossbeam_channel::bounded(16);
    hub.set_janitor(nudge_tx);
    let files = Files::start(&config, HubClient::new(hub_tx.clone()), nudges)
        .map_err(|e| format!("preparing the file store in {}: {e}", config.data_dir.display()))?;
    let hub_thread = thread::Builder::new()
        .name("hub".into())
        .stack_size(HUB_STACK)
        .spawn(move || hub.run(hub_rx))
        .map_err(|e| format!("starting the hub: {e}"))?;
    let listener = TcpListener::bind(&config.addr).map_err(|e| format!("listening on {}: {e}", config.addr))?;
    if let crate::config::Metrics::Separate(addr) = &config.metrics {
        let metrics = TcpListener::bind(addr).map_err(|e| format!("listening for /metrics on {addr}: {e}"))?;
        let bound = metrics.local_addr().map_err(|e| e.to_string())?;
        let config = config.clone();
        thread::Builder::new()
            .name("metrics".into())
            .stack_size(WORKER_STACK)
            .spawn(move || http::scrape::serve_separately(metrics, config))
            .map_err(|e| format!("starting the metrics listener: {e}"))?;
        log::info!("serving /metrics on http://{bound}/metrics");
    }
    deepen_backlog(&listener);
    let local = listener.local_addr().map_err(|e| e.to_string())?;

    let queue = config.queue.unwrap_or_else(|| work_queue(config.workers));
    let (work_tx, work_rx) = crate::accept::work_queue(queue);
    let ctx = Arc::new(Ctx {
        hub: HubClient::new(hub_tx.clone()),
        config: config.clone(),
        passwords: Passwords::new(config.hash_concurrency),
        assets: Assets::new(config.assets_dir.clone()),
        waiting: work_rx.clone(),
        files,
        push_key: vapid.public_key().to_string(),
    });
    for index in 0..config.workers {
        spawn_worker(ctx.clone(), work_rx.clone(), index);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let acceptor = Acceptor::new(listener, work_tx, config.clone(), stop.clone());
    thread::Builder::new()
        .name("acceptor".into())
        .stack_size(WORKER_STACK)
        .spawn(move || acceptor.run())
        .map_err(|e| format!("starting the acceptor: {e}"))?;
    log::info!(
        "mychat {} serving http://{local}/ (data in {}, started in {} ms)",
        env!("CARGO_PKG_VERSION"),
        config.data_dir.display(),
        started.elapsed().as_millis()
    );

    let signal = signals.forever().next().unwrap_or(signal_hook::consts::SIGTERM);
    log::info!("signal {signal}: shutting down");
    stop.store(true, Ordering::SeqCst);
    wake(local);
    // The hub's last act is a full checkpoint; the checkpointer must be out of its way.
    drop(stop_checkpoints);
    let _ = checkpointer.join();
    let _ = hub_tx.send(Command::Shutdown);
    if hub_thread.join().is_err() {
        return Err("the hub thread panicked".into());
    }
    let deadline = Instant::now() + DRAIN_WAIT;
    while crate::transport::OPEN_SOCKETS.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(10));
    }
    log::info!("stopped");
    Ok(())
}

/// The push sender, whose reports go back to the hub as jobs of their own.
fn start_pusher(config: &Config, vapid: Arc<Vapid>, hub: HubClient) -> Result<Pusher, String> {
    let settings = push::Settings {
        vapid,
        policy: push::Policy { allow_private: config.push_private_endpoints },
        contact: config.push_contact.clone(),
    };
    let report: push::sender::ReportFn = Arc::new(move |report: push::Report| {
        let job: Job = Box::new(move |hub: &mut Hub| hub.push_report(report));
        hub.tell(Command::Ask { job, name: "push report" });
    });
    Pusher::start(settings, report)
}

/// Connections waiting for a worker. A WebSocket handshake takes a worker for well under a
/// millisecond, so a deep queue absorbs a reconnect storm (every browser at once after a
/// restart) instead of answering it with 503s; a client that then dawdles is handed back
/// within 2 s (see `http::request::HEAD_TIMEOUT_BUSY`), so the queue keeps moving.
fn work_queue(workers: usize) -> usize {
    (workers * 64).max(1024)
}

/// The kernel's queue of connections not yet accepted. std listens with a backlog of 128,
/// which a reconnect storm overflows (the client's SYN is dropped and retried a second
/// later); ask for 4096 (the kernel caps it at `net.core.somaxconn`).
fn deepen_backlog(listener: &TcpListener) {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor belongs to `listener`, which is alive and already listening for
    // the duration of the call; listen(2) on a listening socket only changes its backlog.
    if unsafe { libc::listen(listener.as_raw_fd(), 4096) } != 0 {
        log::warn!("could not deepen the listen backlog: {}", std::io::Error::last_os_error());
    }
}

/// Unblocks the acceptor's `accept()` so it sees the stop flag.
fn wake(local: SocketAddr) {
    let mut target = local;
    if target.ip().is_unspecified() {
        target.set_ip(if local.is_ipv4() { [127, 0, 0, 1].into() } else { std::net::Ipv6Addr::LOCALHOST.into() });
    }
    let _ = TcpStream::connect_timeout(&target, Duration::from_secs(1));
}

/// A worker that panics (a bug) is replaced, so the pool never shrinks.
struct Respawn {
    ctx: Arc<Ctx>,
    work: WorkQueue,
    index: usize,
}

impl Drop for Respawn {
    fn drop(&mut self) {
        if thread::panicking() {
            log::error!("worker {} panicked; starting a new one", self.index);
            spawn_worker(self.ctx.clone(), self.work.clone(), self.index);
        }
    }
}

fn spawn_worker(ctx: Arc<Ctx>, work: WorkQueue, index: usize) {
    let guard = Respawn { ctx, work, index };
    let spawned = thread::Builder::new().name(format!("http-{index}")).stack_size(WORKER_STACK).spawn(move || {
        let guard = guard;
        while let Some(accepted) = guard.work.recv() {
            http::serve(&guard.ctx, accepted);
        }
    });
    if let Err(e) = spawned {
        log::error!("could not start worker {index}: {e}");
    }
}

/// Every socket is a file descriptor; the usual soft limit of 1,024 would cap the server at a
/// few hundred browsers. Raise it to the hard limit.
fn raise_file_limit() {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one `rlimit` through a valid, exclusive pointer to a live local.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return;
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit { rlim_cur: limit.rlim_max, rlim_max: limit.rlim_max };
        // SAFETY: setrlimit reads one `rlimit` through a valid pointer to a live local.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            log::warn!("could not raise the open-file limit above {}", limit.rlim_cur);
        }
    }
}

/// glibc's allocator gives every busy thread an arena and keeps freed big blocks; with
/// thousands of socket threads and Argon2's 19–64 MiB buffers that is memory we never use
/// again. Two arenas, and big blocks mapped and unmapped directly, keep RSS honest.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    // SAFETY: mallopt only sets allocator parameters; it is called before any other thread
    // of ours exists, and both parameters and values are documented as valid.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}
