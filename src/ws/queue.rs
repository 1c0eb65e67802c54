//! A socket's outbound queue: the hub (and the socket's reader, for protocol replies) push,
//! the socket's writer thread pops.
//!
//! Bounded by bytes rather than slots: a bounded crossbeam channel allocates every slot up
//! front, which thousands of idle sockets would pay for; the list channel allocates as it
//! fills, and a shared counter enforces the bound. A push over the bound fails, and the
//! hub cuts that client off (it resyncs from history when it reconnects).
//!
//! The writer waits with `thread::park`, woken by the push that finds it asleep. (A blocking
//! `recv` spins and calls `sched_yield` before it sleeps; with a hundred writers woken per
//! room message that spinning was half the server's CPU.)

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering, fence};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;

/// Bytes a socket may have waiting before it counts as not keeping up. Broadcast frames are
/// shared, so this bounds a socket's backlog, not memory per socket: a slow reader in a busy
/// room holds references to frames every other member also holds.
pub const QUEUE_LIMIT_BYTES: usize = 4 << 20;
/// Bookkeeping charged per queued item on top of its bytes, so a flood of tiny frames is
/// bounded too.
const ITEM_OVERHEAD: usize = 64;

#[derive(Debug)]
pub enum Outbound {
    /// A complete, encoded frame; shared by every recipient of a broadcast.
    Frame(Arc<[u8]>),
    /// Send a close frame with this code and reason, then end the connection.
    Close(u16, &'static str),
    /// The reader is done: write what is queued and end the connection.
    Finish,
}

impl Outbound {
    fn cost(&self) -> usize {
        match self {
            Outbound::Frame(bytes) => bytes.len() + ITEM_OVERHEAD,
            Outbound::Close(..) | Outbound::Finish => 0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushError {
    /// Over the byte bound.
    Full,
    /// The writer has gone.
    Closed,
}

/// What both ends share.
#[derive(Debug)]
struct Shared {
    queued: AtomicUsize,
    /// Live `OutboundQueue`s; the writer stops when none is left and the queue is empty.
    senders: AtomicUsize,
    /// The writer is (about to be) parked.
    sleeping: AtomicBool,
    writer: OnceLock<Thread>,
}

impl Shared {
    fn wake_writer(&self) {
        if self.sleeping.swap(false, Ordering::SeqCst)
            && let Some(writer) = self.writer.get()
        {
            writer.unpark();
        }
    }
}

#[derive(Debug)]
pub struct OutboundQueue {
    tx: Sender<Outbound>,
    shared: Arc<Shared>,
}

pub struct OutboundReceiver {
    rx: Receiver<Outbound>,
    shared: Arc<Shared>,
}

pub fn channel() -> (OutboundQueue, OutboundReceiver) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let shared = Arc::new(Shared {
        queued: AtomicUsize::new(0),
        senders: AtomicUsize::new(1),
        sleeping: AtomicBool::new(false),
        writer: OnceLock::new(),
    });
    (OutboundQueue { tx, shared: shared.clone() }, OutboundReceiver { rx, shared })
}

impl Clone for OutboundQueue {
    fn clone(&self) -> Self {
        self.shared.senders.fetch_add(1, Ordering::SeqCst);
        OutboundQueue { tx: self.tx.clone(), shared: self.shared.clone() }
    }
}

impl Drop for OutboundQueue {
    fn drop(&mut self) {
        if self.shared.senders.fetch_sub(1, Ordering::SeqCst) == 1
            && let Some(writer) = self.shared.writer.get()
        {
            // The last sender: a parked writer must wake to see the queue is finished.
            writer.unpark();
        }
    }
}

impl OutboundQueue {
    /// Queues an item and wakes the writer. Close and finish always fit; frames only within
    /// the bound.
    pub fn push(&self, item: Outbound) -> Result<(), PushError> {
        self.push_quietly(item)?;
        self.wake();
        Ok(())
    }

    /// Queues an item without waking the writer: for a batch of pushes followed by one
    /// [`OutboundQueue::wake`], so a busy room costs one wake-up per writer per batch, not
    /// one per frame.
    pub fn push_quietly(&self, item: Outbound) -> Result<(), PushError> {
        let cost = item.cost();
        if cost > 0 {
            let before = self.shared.queued.fetch_add(cost, Ordering::Relaxed);
            if before + cost > QUEUE_LIMIT_BYTES {
                self.shared.queued.fetch_sub(cost, Ordering::Relaxed);
                return Err(PushError::Full);
            }
        }
        self.tx.send(item).map_err(|_| PushError::Closed)
    }

    /// Wakes the writer if it sleeps, after items were queued.
    pub fn wake(&self) {
        // Pairs with the fence in `recv`: either the writer sees the items, or we see it asleep.
        fence(Ordering::SeqCst);
        self.shared.wake_writer();
    }
}

impl OutboundReceiver {
    fn account(&self, item: Outbound) -> Outbound {
        self.shared.queued.fetch_sub(item.cost(), Ordering::Relaxed);
        item
    }

    /// The next item if one is waiting; `Err(true)` once the queue is finished (no senders
    /// left and nothing queued).
    fn poll(&self) -> Result<Outbound, bool> {
        match self.rx.try_recv() {
            Ok(item) => Ok(self.account(item)),
            Err(TryRecvError::Disconnected) => Err(true),
            Err(TryRecvError::Empty) => Err(self.shared.senders.load(Ordering::SeqCst) == 0),
        }
    }

    /// Waits for the next item; `None` once every sender is gone and the queue is empty.
    /// Only the writer thread may call this (it is the thread that gets unparked).
    pub fn recv(&self) -> Option<Outbound> {
        loop {
            match self.poll() {
                Ok(item) => return Some(item),
                Err(true) => return None,
                Err(false) => {}
            }
            self.shared.writer.get_or_init(std::thread::current);
            self.shared.sleeping.store(true, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            match self.poll() {
                Ok(item) => {
                    self.shared.sleeping.store(false, Ordering::SeqCst);
                    return Some(item);
                }
                Err(true) => return None,
                // A push after this point sees `sleeping` and unparks us (or already did:
                // then `park` returns at once).
                Err(false) => std::thread::park(),
            }
        }
    }

    /// The next item if one is waiting.
    pub fn try_recv(&self) -> Option<Outbound> {
        self.poll().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn bound_is_in_bytes_and_frees_as_the_writer_drains() {
        let (queue, receiver) = channel();
        let big: Arc<[u8]> = vec![0u8; QUEUE_LIMIT_BYTES / 2].into();
        assert!(queue.push(Outbound::Frame(big.clone())).is_ok());
        assert_eq!(queue.push(Outbound::Frame(big.clone())), Err(PushError::Full));
        assert!(queue.push(Outbound::Close(1000, "bye")).is_ok(), "a close always fits");
        assert!(matches!(receiver.recv(), Some(Outbound::Frame(_))));
        assert!(queue.push(Outbound::Frame(big)).is_ok());
        drop(receiver);
        let tiny: Arc<[u8]> = vec![1u8].into();
        assert_eq!(queue.push(Outbound::Frame(tiny)), Err(PushError::Closed));
    }

    #[test]
    fn a_parked_writer_wakes_for_every_push_and_when_the_senders_are_gone() {
        let (queue, receiver) = channel();
        let writer = std::thread::spawn(move || {
            let mut got = 0;
            while receiver.recv().is_some() {
                got += 1;
            }
            got
        });
        let second = queue.clone();
        for i in 0..10_000 {
            let sender = if i % 2 == 0 { &queue } else { &second };
            sender.push(Outbound::Frame(vec![1u8].into())).unwrap();
            if i % 1000 == 0 {
                std::thread::sleep(Duration::from_millis(2)); // let the writer park
            }
        }
        drop(queue);
        std::thread::sleep(Duration::from_millis(20));
        let started = Instant::now();
        drop(second);
        assert_eq!(writer.join().unwrap(), 10_000, "nothing lost, and the writer ended");
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
