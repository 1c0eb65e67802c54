//! A socket's outbound queue: the hub (and the socket's reader, for protocol replies) push,
//! the socket's writer thread pops.
//!
//! Bounded by bytes rather than slots: a bounded crossbeam channel allocates every slot up
//! front, which thousands of idle sockets would pay for; the list channel allocates as it
//! fills, and a shared counter enforces the bound. A push over the bound fails, and the
//! hub cuts that client off (it resyncs from history when it reconnects).

use crossbeam_channel::{Receiver, Sender};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

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

#[derive(Clone, Debug)]
pub struct OutboundQueue {
    tx: Sender<Outbound>,
    queued: Arc<AtomicUsize>,
}

pub struct OutboundReceiver {
    rx: Receiver<Outbound>,
    queued: Arc<AtomicUsize>,
}

pub fn channel() -> (OutboundQueue, OutboundReceiver) {
    let (tx, rx) = crossbeam_channel::unbounded();
    let queued = Arc::new(AtomicUsize::new(0));
    (OutboundQueue { tx, queued: queued.clone() }, OutboundReceiver { rx, queued })
}

impl OutboundQueue {
    /// Queues an item. Close and finish always fit; frames only within the bound.
    pub fn push(&self, item: Outbound) -> Result<(), PushError> {
        let cost = item.cost();
        if cost > 0 {
            let before = self.queued.fetch_add(cost, Ordering::Relaxed);
            if before + cost > QUEUE_LIMIT_BYTES {
                self.queued.fetch_sub(cost, Ordering::Relaxed);
                return Err(PushError::Full);
            }
        }
        self.tx.send(item).map_err(|_| PushError::Closed)
    }
}

impl OutboundReceiver {
    fn account(&self, item: Outbound) -> Outbound {
        self.queued.fetch_sub(item.cost(), Ordering::Relaxed);
        item
    }

    /// Waits for the next item; `None` once every sender is gone.
    pub fn recv(&self) -> Option<Outbound> {
        self.rx.recv().ok().map(|item| self.account(item))
    }

    /// The next item if one is waiting.
    pub fn try_recv(&self) -> Option<Outbound> {
        self.rx.try_recv().ok().map(|item| self.account(item))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
