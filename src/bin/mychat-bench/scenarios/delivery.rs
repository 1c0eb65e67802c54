//! What a receiver makes of a delivered chat message: whose it is, which one, when it was
//! sent (from the text the sender wrote), and whether it is new, a duplicate or out of order.

use crate::stats::Histogram;
use serde_json::Value;

/// Sequence numbers above this are not ours (and would make a huge bitmap).
const MAX_SEQ: u64 = 10_000_000;

/// The text a sender writes: `b:<slot>:<seq>:<sent ns>:` padded with `x` to `len` bytes.
pub fn write_text(out: &mut String, slot: usize, seq: u64, sent: u64, len: usize) {
    use std::fmt::Write as _;
    out.clear();
    let _ = write!(out, "b:{slot}:{seq}:{sent}:");
    while out.len() < len {
        out.push('x');
    }
}

/// What one receiver saw of one sender.
#[derive(Default)]
pub struct Track {
    seen: Vec<u64>,
    pub distinct: u64,
    highest: Option<u64>,
    pub duplicates: u64,
    pub out_of_order: u64,
}

impl Track {
    /// Records a sequence number; false if it was a duplicate.
    pub fn record(&mut self, seq: u64) -> bool {
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        if word >= self.seen.len() {
            self.seen.resize(word + 1, 0);
        }
        if self.seen[word] & bit != 0 {
            self.duplicates += 1;
            return false;
        }
        self.seen[word] |= bit;
        self.distinct += 1;
        match self.highest {
            Some(h) if seq < h => self.out_of_order += 1,
            _ => self.highest = Some(seq),
        }
        true
    }
}

/// When one message reached its first and its last receiver.
#[derive(Clone, Copy, Default)]
struct Reach {
    sent: u64,
    first: u64,
    last: u64,
    receivers: u32,
}

/// Per message (global sender, sequence number): when it reached its receivers. Each loop
/// thread keeps one for its receivers; merged, they say when a message had reached everyone.
pub struct Fanout {
    per_sender: Vec<Vec<Reach>>,
}

impl Fanout {
    pub fn new(senders: usize) -> Fanout {
        Fanout { per_sender: vec![Vec::new(); senders] }
    }

    /// A fresh delivery of message `seq` of `sender`, sent at `sent`, received `now`.
    pub fn record(&mut self, sender: usize, seq: u64, sent: u64, now: u64) {
        let list = &mut self.per_sender[sender];
        let i = seq as usize;
        if i >= list.len() {
            list.resize(i + 1, Reach::default());
        }
        let r = &mut list[i];
        if r.receivers == 0 {
            *r = Reach { sent, first: now, last: now, receivers: 1 };
        } else {
            r.first = r.first.min(now);
            r.last = r.last.max(now);
            r.receivers += 1;
        }
    }

    pub fn merge(&mut self, other: &Fanout) {
        for (mine, theirs) in self.per_sender.iter_mut().zip(&other.per_sender) {
            if theirs.len() > mine.len() {
                mine.resize(theirs.len(), Reach::default());
            }
            for (a, b) in mine.iter_mut().zip(theirs) {
                if b.receivers == 0 {
                    continue;
                }
                if a.receivers == 0 {
                    *a = *b;
                } else {
                    a.first = a.first.min(b.first);
                    a.last = a.last.max(b.last);
                    a.receivers += b.receivers;
                }
            }
        }
    }

    /// Send to last receiver, for every message that reached all `audience(sender)`
    /// receivers; and how many did not.
    pub fn whole(&self, audience: impl Fn(usize) -> usize) -> (Histogram, u64) {
        let (mut reach, mut partial) = (Histogram::default(), 0);
        for (sender, list) in self.per_sender.iter().enumerate() {
            for r in list.iter().filter(|r| r.receivers > 0) {
                if r.receivers as usize >= audience(sender) {
                    reach.record(r.last.saturating_sub(r.sent));
                } else {
                    partial += 1;
                }
            }
        }
        (reach, partial)
    }
}

/// `(slot, seq, sent ns)` from a delivered message frame, if it is one of ours.
pub fn parse_delivery(frame: &[u8]) -> Option<(usize, u64, u64)> {
    const KEY: &[u8] = b"\"text\":\"";
    let fast = frame.starts_with(b"{\"type\":\"room_message\"") || frame.starts_with(b"{\"type\":\"message\"");
    if fast && let Some(at) = frame.windows(KEY.len()).position(|w| w == KEY) {
        return parse_text(&frame[at + KEY.len()..]);
    }
    // Not in the field order we expect: read it properly.
    let value: Value = serde_json::from_slice(frame).ok()?;
    let kind = value.get("type")?.as_str()?;
    if kind != "room_message" && kind != "message" {
        return None;
    }
    parse_text(value.get("text")?.as_str()?.as_bytes())
}

fn parse_text(text: &[u8]) -> Option<(usize, u64, u64)> {
    let rest = text.strip_prefix(b"b:")?;
    let mut fields = rest.splitn(4, |&b| b == b':');
    let mut number = || -> Option<u64> {
        let digits = fields.next()?;
        if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        digits.iter().try_fold(0u64, |n, d| n.checked_mul(10)?.checked_add(u64::from(d - b'0')))
    };
    let slot = usize::try_from(number()?).ok()?;
    let (seq, sent) = (number()?, number()?);
    (seq <= MAX_SEQ).then_some((slot, seq, sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_deliveries_fast_and_slow() {
        let frame = br#"{"type":"room_message","id":7,"user":"bu1","text":"b:3:42:123456789:xxxx","time":"10:00"}"#;
        assert_eq!(parse_delivery(frame), Some((3, 42, 123_456_789)));
        let reordered = br#"{"text":"b:1:2:3:","type":"message","id":1}"#;
        assert_eq!(parse_delivery(reordered), Some((1, 2, 3)));
        assert_eq!(parse_delivery(br#"{"type":"notify","text":"b:1:2:3:"}"#), None);
        assert_eq!(parse_delivery(br#"{"type":"room_message","text":"hello"}"#), None);
        assert_eq!(parse_delivery(br#"{"type":"message","text":"b:1:99999999999:3:"}"#), None);
    }

    #[test]
    fn what_senders_write_receivers_read() {
        let mut text = String::new();
        write_text(&mut text, 4, 17, 987_654_321, 64);
        assert_eq!(text.len(), 64);
        let frame = format!(r#"{{"type":"message","id":1,"user":"u","text":"{text}"}}"#);
        assert_eq!(parse_delivery(frame.as_bytes()), Some((4, 17, 987_654_321)));
    }

    #[test]
    fn fanout_reaches_everyone_or_not() {
        let (mut a, mut b) = (Fanout::new(2), Fanout::new(2));
        a.record(0, 0, 100, 150);
        b.record(0, 0, 100, 400);
        a.record(1, 3, 1000, 1100);
        a.merge(&b);
        let (reach, partial) = a.whole(|_| 2);
        assert_eq!((reach.count, reach.max, partial), (1, 300, 1));
    }

    #[test]
    fn tracks_duplicates_disorder_and_gaps() {
        let mut t = Track::default();
        assert!(t.record(0));
        assert!(t.record(2));
        assert!(t.record(1));
        assert!(!t.record(2));
        assert!(t.record(200));
        assert_eq!((t.distinct, t.duplicates, t.out_of_order), (4, 1, 1));
    }
}
