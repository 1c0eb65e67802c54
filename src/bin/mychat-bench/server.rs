//! The server under test: either one this bench starts (a fresh release binary on a temp
//! data dir, port chosen by the OS) and may restart between scenarios, or one already
//! running at `--url`.

use crate::client;
use crate::sys;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How a started server is launched.
#[derive(Clone, Debug)]
pub struct Launch {
    pub bin: PathBuf,
    pub data_dir: PathBuf,
    /// `--addr`: `127.0.0.1:0` lets the OS choose the port.
    pub addr: String,
    pub log: String,
    pub extra: Vec<String>,
}

impl Launch {
    fn command(&self) -> Command {
        let mut command = Command::new(&self.bin);
        // The scenarios register their users themselves, as on the original app; builds from
        // before registration modes (compared with `--server-bin`) are open anyway.
        let help = Command::new(&self.bin).arg("--help").output().map(|o| o.stdout).unwrap_or_default();
        if String::from_utf8_lossy(&help).contains("--registration") {
            command.args(["--registration", "open"]);
        }
        command
            .arg("--addr")
            .arg(&self.addr)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--rate-limits", "off", "--log", &self.log])
            .args(&self.extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }
}

/// A server process we started. Dropping it stops it.
pub struct ServerProcess {
    child: Option<Child>,
    pub pid: u32,
    /// The port announced on stderr (`serving http://127.0.0.1:PORT/`), when it was.
    announced: mpsc::Receiver<u16>,
}

impl ServerProcess {
    /// Starts the process; its stderr is forwarded to ours (prefixed) and scanned for the
    /// address it serves.
    pub fn spawn(launch: &Launch) -> Result<ServerProcess, String> {
        let mut child = launch.command().spawn().map_err(|e| format!("starting {}: {e}", launch.bin.display()))?;
        let pid = child.id();
        let (tx, announced) = mpsc::channel();
        if let Some(stderr) = child.stderr.take() {
            std::thread::Builder::new()
                .name("server-stderr".into())
                .spawn(move || {
                    for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                        if let Some(port) = announced_port(&line) {
                            let _ = tx.send(port);
                        }
                        eprintln!("[server {pid}] {line}");
                    }
                })
                .map_err(|e| format!("reading the server's stderr: {e}"))?;
        }
        Ok(ServerProcess { child: Some(child), pid, announced })
    }

    /// The port it listens on: announced on stderr, or found in /proc (so any `--log` level
    /// works).
    pub fn discover_port(&mut self, within: Duration) -> Result<u16, String> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(port) = self.announced.try_recv() {
                return Ok(port);
            }
            if let Some(port) = sys::listening_port(self.pid) {
                return Ok(port);
            }
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!("the server exited during startup ({status}); see its stderr above"));
            }
            if Instant::now() >= deadline {
                return Err(format!("the server did not listen within {} s", within.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    pub fn running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// SIGTERM, then waits for an orderly exit (SIGKILL after `grace`).
    pub fn stop(&mut self, grace: Duration) -> Result<(), String> {
        let Some(mut child) = self.child.take() else { return Ok(()) };
        if matches!(child.try_wait(), Ok(None)) {
            sys::terminate(&child).map_err(|e| format!("SIGTERM: {e}"))?;
        }
        let deadline = Instant::now() + grace;
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => return Ok(()),
                Ok(Some(status)) => return Err(format!("the server exited with {status} after SIGTERM")),
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(format!("the server did not stop within {} s of SIGTERM; killed", grace.as_secs()));
                }
            }
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn announced_port(line: &str) -> Option<u16> {
    let rest = &line[line.find("serving http://")? + "serving http://".len()..];
    let authority = rest.split('/').next()?;
    authority.rsplit_once(':')?.1.parse().ok()
}

/// The server the scenarios talk to.
pub struct Target {
    pub addr: SocketAddr,
    pub pid: Option<u32>,
    managed: Option<(Launch, ServerProcess)>,
}

impl Target {
    /// A server someone else runs.
    pub fn external(addr: SocketAddr, pid: Option<u32>) -> Target {
        Target { addr, pid, managed: None }
    }

    /// Starts a server and waits until it answers `/healthz`.
    pub fn start(launch: Launch) -> Result<Target, String> {
        let (addr, process) = start_process(&launch)?;
        Ok(Target { addr, pid: Some(process.pid), managed: Some((launch, process)) })
    }

    pub fn managed(&self) -> bool {
        self.managed.is_some()
    }

    pub fn data_dir(&self) -> Option<&Path> {
        self.managed.as_ref().map(|(launch, _)| launch.data_dir.as_path())
    }

    pub fn launch(&self) -> Option<&Launch> {
        self.managed.as_ref().map(|(launch, _)| launch)
    }

    /// Whether a started server is running (an external one always counts as running).
    pub fn running(&mut self) -> bool {
        match self.managed.as_mut() {
            Some((_, process)) => process.running(),
            None => true,
        }
    }

    /// A fresh process on the same data dir (a no-op for an external server).
    pub fn restart(&mut self) -> Result<(), String> {
        let Some((launch, mut process)) = self.managed.take() else { return Ok(()) };
        process.stop(Duration::from_secs(10))?;
        let (addr, process) = start_process(&launch)?;
        self.addr = addr;
        self.pid = Some(process.pid);
        self.managed = Some((launch, process));
        Ok(())
    }

    /// Stops a started server (SIGTERM); the data dir stays.
    pub fn stop(&mut self) -> Result<(), String> {
        match self.managed.as_mut() {
            Some((_, process)) => process.stop(Duration::from_secs(10)),
            None => Ok(()),
        }
    }
}

/// Starts a server process and waits until it answers `/healthz`.
pub fn start_process(launch: &Launch) -> Result<(SocketAddr, ServerProcess), String> {
    let mut process = ServerProcess::spawn(launch)?;
    let port = process.discover_port(Duration::from_secs(20))?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    client::wait_healthy(addr, Duration::from_secs(20))?;
    Ok((addr, process))
}

/// The `mychat` binary next to this one (`target/release/mychat` for
/// `target/release/mychat-bench`).
pub fn sibling_binary() -> Option<PathBuf> {
    let me = std::env::current_exe().ok()?;
    let bin = me.parent()?.join("mychat");
    bin.is_file().then_some(bin)
}

/// A new, empty directory under the system's temp dir.
pub fn temp_dir(label: &str) -> Result<PathBuf, String> {
    let nonce = crate::wire::Rng::from_os().next();
    let dir = std::env::temp_dir().join(format!("mychat-bench-{label}-{}-{nonce:08x}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_the_announced_port() {
        let line = "2026-01-01T00:00:00Z INFO  mychat 0.1.0 serving http://127.0.0.1:40123/ (data in /tmp/x)";
        assert_eq!(super::announced_port(line), Some(40123));
        assert_eq!(super::announced_port("serving http://[::1]:8000/"), Some(8000));
        assert_eq!(super::announced_port("something else"), None);
    }
}
