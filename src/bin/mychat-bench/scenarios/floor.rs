//! `floor`: what this machine charges for one delivery before any server code runs. One
//! thread writes a frame-sized message to each of M loopback TCP sockets, R rounds a second
//! (the `room` scenario's shape: M members, R messages a second), with a non-blocking
//! `send` as the server's hub does; another thread drains them through epoll, as the bench's
//! clients do. The sender's CPU per send is the floor under the server's "CPU per delivery":
//! on loopback the sender also pays for the receiver's TCP receive path and its wake-up,
//! which over a real network the receiving machine would pay.

use super::{Ctx, Outcome};
use crate::stats;
use crate::sys::{Epoll, READABLE, Ready};
use serde_json::json;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// About the size of a room message frame with a short text.
const FRAME_BYTES: usize = 200;

/// This thread's CPU time so far.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes one timespec through a valid, exclusive pointer to a live
    // local; CLOCK_THREAD_CPUTIME_ID needs nothing else.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec.max(0) as u64, ts.tv_nsec.clamp(0, 999_999_999) as u32)
}

pub fn run(ctx: &mut Ctx) -> Result<Outcome, String> {
    let (sockets, rate, duration) = (ctx.opts.room_members, ctx.opts.room_rate.max(1.0), ctx.opts.room_duration);
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("listening: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let (mut readers, mut writers) = (Vec::new(), Vec::new());
    for _ in 0..sockets {
        let reader = TcpStream::connect(addr).map_err(|e| format!("connecting: {e}"))?;
        let (writer, _) = listener.accept().map_err(|e| format!("accepting: {e}"))?;
        for s in [&reader, &writer] {
            s.set_nodelay(true).map_err(|e| e.to_string())?;
        }
        reader.set_nonblocking(true).map_err(|e| e.to_string())?;
        readers.push(reader);
        writers.push(writer);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = stop.clone();
    let drain = std::thread::spawn(move || -> Result<u64, String> {
        let mut epoll = Epoll::new().map_err(|e| e.to_string())?;
        for (i, r) in readers.iter().enumerate() {
            epoll.add(r.as_raw_fd(), i as u64, READABLE).map_err(|e| e.to_string())?;
        }
        let (mut ready, mut buf, mut bytes) = (Vec::<Ready>::new(), vec![0u8; 64 * 1024], 0u64);
        while !stopping.load(Ordering::Relaxed) {
            epoll.wait(&mut ready, Some(Duration::from_millis(100))).map_err(|e| e.to_string())?;
            for r in &ready {
                let mut stream = &readers[r.token as usize];
                while let Ok(n @ 1..) = stream.read(&mut buf) {
                    bytes += n as u64;
                }
            }
        }
        Ok(bytes)
    });
    let frame = [b'x'; FRAME_BYTES];
    let rounds = (rate * duration.as_secs_f64()).ceil() as u64;
    let (started, cpu_before) = (Instant::now(), thread_cpu());
    let mut sent = 0u64;
    for round in 0..rounds {
        let due = started + Duration::from_secs_f64(round as f64 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        for w in &writers {
            // SAFETY: `frame` is a live, initialized buffer of `len` bytes that send(2) only
            // reads, and the descriptor belongs to `w`, which is open for the whole call.
            let n = unsafe {
                libc::send(w.as_raw_fd(), frame.as_ptr().cast(), frame.len(), libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL)
            };
            if n > 0 {
                sent += 1;
            }
        }
    }
    let cpu = thread_cpu().saturating_sub(cpu_before);
    let wall = started.elapsed();
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    let received = drain.join().map_err(|_| "the draining thread panicked".to_string())??;
    let per_send_us = if sent > 0 { cpu.as_secs_f64() * 1e6 / sent as f64 } else { 0.0 };
    let results = json!({
        "sends": sent,
        "bytes_received": received,
        "sender_cpu_s": stats::round2(cpu.as_secs_f64()),
        "sender_cpu_per_send_us": stats::round2(per_send_us),
    });
    Ok(Outcome {
        name: "floor".into(),
        params: json!({ "sockets": sockets, "rate": rate, "duration_s": duration.as_secs_f64(), "frame_bytes": FRAME_BYTES }),
        params_text: format!("{sockets} loopback sockets, {rate} rounds/s, {} s, no server", duration.as_secs()),
        results,
        summary: format!(
            "{sent} sends in {:.1} s: the sending thread's CPU {} µs per send — the floor under the server's CPU per delivery",
            wall.as_secs_f64(),
            stats::round2(per_send_us)
        ),
        cpu: None,
    })
}
