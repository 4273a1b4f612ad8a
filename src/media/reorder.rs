//! Small receive-side reorder window for one RTP stream.

use std::collections::{BTreeMap, VecDeque};

use crate::media::rtp::SeqNo;

/// Largest forward jump taken as in-stream (RFC 3550 App. A.1 MAX_DROPOUT).
const MAX_DROPOUT: i64 = 3000;
/// Largest backward step taken as reordering (RFC 3550 App. A.1 MAX_MISORDER).
const MAX_MISORDER: i64 = 100;

/// What [`ReorderWindow::push`] did with a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    /// Stored for release in sequence order.
    Buffered,
    /// Already buffered or released; dropped.
    Duplicate,
    /// Older than what was already released; dropped.
    Late,
    /// Far outside the window; dropped unless the next packet follows it,
    /// in which case the stream is taken to have restarted (RFC 3550 App. A.1).
    Jump,
}

/// Releases packets in sequence order, waiting for at most `capacity`
/// buffered packets before giving up on a gap.
#[derive(Debug)]
pub struct ReorderWindow<T> {
    capacity: usize,
    /// Keyed by extended (unwrapped) sequence number.
    buf: BTreeMap<u64, T>,
    /// Items of a previous stream, released before anything else.
    flush: VecDeque<T>,
    /// Extended number of the next packet to release.
    next: u64,
    /// Highest extended number seen; reference for unwrapping.
    highest: Option<u64>,
    /// Bit i set: packet `next - 1 - i` was released (not lost).
    released: u64,
    released_any: bool,
    /// Expected next packet after a jump (RFC 3550 App. A.1 `bad_seq`).
    bad_seq: Option<SeqNo>,
    duplicates: u64,
    late: u64,
    lost: u64,
}

impl<T> ReorderWindow<T> {
    /// A window holding at most `capacity` packets (at least 1).
    pub fn new(capacity: usize) -> ReorderWindow<T> {
        ReorderWindow {
            capacity: capacity.max(1),
            buf: BTreeMap::new(),
            flush: VecDeque::new(),
            next: 0,
            highest: None,
            released: 0,
            released_any: false,
            bad_seq: None,
            duplicates: 0,
            late: 0,
            lost: 0,
        }
    }

    /// Offers a received packet.
    pub fn push(&mut self, seq: SeqNo, item: T) -> Push {
        let Some(highest) = self.highest else {
            self.start(seq, item);
            return Push::Buffered;
        };
        // Signed distance from the highest packet seen, modulo 2^16.
        let delta = seq.0.wrapping_sub(highest as u16) as i16 as i64;
        if !(-MAX_MISORDER..=MAX_DROPOUT).contains(&delta) {
            if self.bad_seq == Some(seq) {
                // Two packets in a row agree: the sender restarted its sequence.
                self.flush
                    .extend(std::mem::take(&mut self.buf).into_values());
                self.start(seq, item);
                return Push::Buffered;
            }
            self.bad_seq = Some(seq.next());
            return Push::Jump;
        }
        self.bad_seq = None;
        // highest >= 2^16 and delta >= -100, so this stays positive.
        let ext = (highest as i64 + delta) as u64;
        if ext < self.next {
            if !self.released_any {
                // Nothing released yet: an earlier packet may still lead.
                self.next = ext;
            } else {
                let age = self.next - 1 - ext;
                if age < 64 && self.released >> age & 1 == 1 {
                    self.duplicates += 1;
                    return Push::Duplicate;
                }
                self.late += 1;
                return Push::Late;
            }
        }
        if self.buf.contains_key(&ext) {
            self.duplicates += 1;
            return Push::Duplicate;
        }
        self.buf.insert(ext, item);
        self.highest = Some(highest.max(ext));
        Push::Buffered
    }

    /// Next packet in order, if it is here or the window is full.
    pub fn pop_ready(&mut self) -> Option<T> {
        if let Some(item) = self.flush.pop_front() {
            return Some(item);
        }
        let (&first, _) = self.buf.first_key_value()?;
        if first != self.next && self.buf.len() < self.capacity {
            return None;
        }
        // Either `first` is next in line, or the window is full and the
        // packets in front of it are given up as lost.
        let gap = first - self.next;
        self.lost += gap;
        self.released = if gap >= 64 { 0 } else { self.released << gap };
        self.released = self.released << 1 | 1;
        self.next = first + 1;
        self.released_any = true;
        self.buf.remove(&first)
    }

    /// Packets dropped as duplicates.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }

    /// Packets dropped for arriving after their slot was released.
    pub fn late(&self) -> u64 {
        self.late
    }

    /// Sequence numbers skipped over when the window was full.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    fn start(&mut self, seq: SeqNo, item: T) {
        // Start one cycle up so packets slightly before the first stay positive.
        let ext = (1 << 16) + seq.0 as u64;
        self.highest = Some(ext);
        self.next = ext;
        self.released = 0;
        self.released_any = false;
        self.bad_seq = None;
        self.buf.insert(ext, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(w: &mut ReorderWindow<u16>) -> Vec<u16> {
        std::iter::from_fn(|| w.pop_ready()).collect()
    }

    fn feed(w: &mut ReorderWindow<u16>, seqs: &[u16]) -> Vec<u16> {
        let mut out = Vec::new();
        for &s in seqs {
            w.push(SeqNo(s), s);
            out.extend(drain(w));
        }
        out
    }

    #[test]
    fn in_order() {
        let mut w = ReorderWindow::new(5);
        assert_eq!(feed(&mut w, &[10, 11, 12, 13]), [10, 11, 12, 13]);
        assert_eq!((w.lost(), w.late(), w.duplicates()), (0, 0, 0));
    }

    #[test]
    fn swapped_pair() {
        let mut w = ReorderWindow::new(5);
        assert_eq!(feed(&mut w, &[1, 2, 4, 3, 5]), [1, 2, 3, 4, 5]);
        assert_eq!(w.lost(), 0);
    }

    #[test]
    fn earlier_packet_before_first_release() {
        let mut w = ReorderWindow::new(5);
        assert_eq!(w.push(SeqNo(8), 8), Push::Buffered);
        assert_eq!(w.push(SeqNo(7), 7), Push::Buffered);
        assert_eq!(drain(&mut w), [7, 8]);
    }

    #[test]
    fn wrap_at_65535() {
        let mut w = ReorderWindow::new(5);
        let got = feed(&mut w, &[65533, 65534, 0, 65535, 1, 2]);
        assert_eq!(got, [65533, 65534, 65535, 0, 1, 2]);
        assert_eq!((w.lost(), w.late()), (0, 0));
        // Many cycles in a row.
        let mut w = ReorderWindow::new(3);
        let seqs: Vec<u16> = (0..200_000u32).map(|i| (i % 65536) as u16).collect();
        assert_eq!(feed(&mut w, &seqs), seqs);
    }

    #[test]
    fn duplicates() {
        let mut w = ReorderWindow::new(5);
        assert_eq!(w.push(SeqNo(1), 1), Push::Buffered);
        assert_eq!(w.push(SeqNo(3), 3), Push::Buffered);
        assert_eq!(w.push(SeqNo(3), 3), Push::Duplicate);
        assert_eq!(drain(&mut w), [1]);
        assert_eq!(w.push(SeqNo(1), 1), Push::Duplicate);
        assert_eq!(w.duplicates(), 2);
        assert_eq!(w.late(), 0);
    }

    #[test]
    fn loss_and_late() {
        let mut w = ReorderWindow::new(3);
        // 2 never arrives in time; after 3 more packets the window gives up.
        assert_eq!(feed(&mut w, &[1, 3, 4]), [1]);
        assert_eq!(feed(&mut w, &[5]), [3, 4, 5]);
        assert_eq!(w.lost(), 1);
        assert_eq!(w.push(SeqNo(2), 2), Push::Late);
        assert_eq!(w.push(SeqNo(4), 4), Push::Duplicate);
        assert_eq!((w.late(), w.duplicates()), (1, 1));
        assert_eq!(feed(&mut w, &[6, 7]), [6, 7]);
    }

    #[test]
    fn stream_restart() {
        let mut w = ReorderWindow::new(5);
        assert_eq!(feed(&mut w, &[100, 101]), [100, 101]);
        w.push(SeqNo(103), 103);
        // A single stray far-off packet is dropped...
        assert_eq!(w.push(SeqNo(40000), 40000), Push::Jump);
        assert_eq!(w.push(SeqNo(104), 104), Push::Buffered);
        // ...but two consecutive ones restart the stream; the old
        // buffered packets come out first.
        assert_eq!(w.push(SeqNo(9000), 9000), Push::Jump);
        assert_eq!(w.push(SeqNo(9001), 9001), Push::Buffered);
        assert_eq!(feed(&mut w, &[9002]), [103, 104, 9001, 9002]);
    }
}
