//! tcpsleuth's own judgement where tshark 4.0.17's flags are demonstrably wrong.
//!
//! The tshark-compatible flags stay untouched (users cross-check them in Wireshark); this
//! module records a separate, corrected verdict for the diagnosis layer. Each case is listed in
//! `docs/tshark-differences.md` with the capture that proves it, and tested in
//! `tests/tshark_errors.rs`. The three cases:
//!
//! 1. **Out-of-order that is a retransmission.** 4.0 never checks whether a segment was seen
//!    before (reference §5.12 notes): any segment behind nextseq arriving within the iRTT of the
//!    highest one is "out-of-order", so on long paths most fast retransmissions are labelled
//!    out-of-order. We track the holes in each direction's captured sequence space; a segment
//!    that fills no hole was captured before, so it is a retransmission.
//! 2. **Retransmission of data the receiver already SACKed.** 4.0 is SACK-blind (reference §5.15,
//!    Wireshark issue 13863): it compares against the cumulative ACK only. Data wholly inside
//!    blocks the receiver selectively acknowledged was not needed: a spurious retransmission.
//! 3. **"Spurious retransmission" of data seen for the first time.** 4.0 flags any data whose
//!    range the peer already acknowledged (§5.12 step 4), including the first copy of data whose
//!    ACK was simply captured first (capture reordering, merged captures). If the segment fills a
//!    hole it was never captured before: the capture saw the ACK before the data.

use crate::flags::AnalysisFlags;
use crate::seq::{gt, le, lt};

/// Ranges kept per direction. Past the cap the oldest range is dropped and the judgement for
/// it falls back to tshark's flag (we only ever correct on positive evidence).
const MAX_RANGES: usize = 32;

/// A corrected verdict, present only where it differs from tshark's flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    /// tshark: out_of_order. The data had been captured before: a retransmission.
    RetransmissionNotOutOfOrder,
    /// tshark: (fast) retransmission. The receiver had SACKed all of it: spurious.
    SpuriousPerSack,
    /// tshark: spurious_retransmission. First copy of this data in the capture; its ACK was
    /// captured first, so it is neither a retransmission nor spurious.
    FirstSeenAfterAck,
}

impl Correction {
    /// The verdict's name in JSON output.
    pub fn name(self) -> &'static str {
        match self {
            Correction::RetransmissionNotOutOfOrder => "retransmission",
            Correction::SpuriousPerSack => "spurious_retransmission",
            Correction::FirstSeenAfterAck => "first_seen_after_ack",
        }
    }
}

/// Half-open sequence ranges [start, end), disjoint, wrap-aware, at most `MAX_RANGES`.
#[derive(Debug, Clone, Default)]
struct Ranges(Vec<(u32, u32)>);

impl Ranges {
    fn add(&mut self, start: u32, end: u32) {
        if !lt(start, end) {
            return;
        }
        let (mut start, mut end) = (start, end);
        // Merge every overlapping or adjacent range into the new one.
        self.0.retain(|&(s, e)| {
            let touches = le(s, end) && le(start, e);
            if touches {
                if lt(s, start) {
                    start = s;
                }
                if gt(e, end) {
                    end = e;
                }
            }
            !touches
        });
        if self.0.len() >= MAX_RANGES {
            self.0.remove(0);
        }
        self.0.push((start, end));
    }

    fn remove(&mut self, start: u32, end: u32) {
        // Called for every segment and ACK: nothing to cut (the usual case) costs no allocation.
        if !lt(start, end) || !self.overlaps(start, end) {
            return;
        }
        let mut kept = Vec::with_capacity(self.0.len() + 1);
        for &(s, e) in &self.0 {
            if le(e, start) || le(end, s) {
                kept.push((s, e));
                continue;
            }
            if lt(s, start) {
                kept.push((s, start));
            }
            if gt(e, end) {
                kept.push((end, e));
            }
        }
        kept.truncate(MAX_RANGES);
        self.0 = kept;
    }

    fn overlaps(&self, start: u32, end: u32) -> bool {
        self.0.iter().any(|&(s, e)| lt(start, e) && lt(s, end))
    }

    fn covers(&self, start: u32, end: u32) -> bool {
        self.0.iter().any(|&(s, e)| le(s, start) && le(end, e))
    }

    /// Forgets everything below `mark` (acknowledged cumulatively).
    fn drop_below(&mut self, mark: u32) {
        self.remove(mark.wrapping_sub(1 << 30), mark);
    }
}

/// Per-direction evidence: what this direction's sender has sent that the capture missed, and
/// what of it the receiver selectively acknowledged.
#[derive(Debug, Clone, Default)]
pub struct Scoreboard {
    /// Gaps in the captured sequence space (created when a segment jumps past nextseq).
    holes: Ranges,
    /// Ranges of this direction's data that the peer SACKed above its cumulative ACK.
    sacked: Ranges,
}

/// Judges one data segment of the direction whose board is `own`, before `own` is updated.
/// `tshark` are the tshark-compatible flags just computed for it.
pub fn judge(own: &Scoreboard, seq: u32, seglen: u32, tshark: AnalysisFlags) -> Option<Correction> {
    if seglen == 0 {
        return None;
    }
    let end = seq.wrapping_add(seglen);
    let never_captured = own.holes.covers(seq, end);
    if tshark.has(AnalysisFlags::OUT_OF_ORDER) && !own.holes.overlaps(seq, end) {
        return Some(Correction::RetransmissionNotOutOfOrder);
    }
    if tshark.has(AnalysisFlags::RETRANSMISSION | AnalysisFlags::FAST_RETRANSMISSION)
        && own.sacked.covers(seq, end)
    {
        return Some(Correction::SpuriousPerSack);
    }
    if tshark.has(AnalysisFlags::SPURIOUS_RETRANSMISSION) && never_captured {
        return Some(Correction::FirstSeenAfterAck);
    }
    None
}

/// Updates `own` with a segment of its direction: `prev_nextseq` is tshark's nextseq before
/// the segment (0 = nothing seen yet), `end` the segment's end.
pub fn record_segment(own: &mut Scoreboard, prev_nextseq: u32, seq: u32, end: u32) {
    own.holes.remove(seq, end);
    if prev_nextseq != 0 && gt(seq, prev_nextseq) {
        own.holes.add(prev_nextseq, seq);
    }
}

/// Updates the board of the *peer's* data with this segment's ACK and SACK blocks.
pub fn record_ack(peer: &mut Scoreboard, ack: u32, ack_flag: bool, sack: &[(u32, u32)]) {
    if !ack_flag {
        return;
    }
    for &(left, right) in sack {
        peer.sacked.add(left, right);
    }
    // Holes are kept: acknowledged or not, their data was never captured.
    peer.sacked.drop_below(ack);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_split_and_cover() {
        let mut r = Ranges::default();
        r.add(100, 200);
        r.add(200, 300);
        assert_eq!(r.0, [(100, 300)]);
        r.remove(150, 160);
        assert!(r.covers(100, 150) && r.covers(160, 300) && !r.covers(100, 300));
        assert!(r.overlaps(140, 155) && !r.overlaps(150, 160));
        r.drop_below(170);
        assert_eq!(r.0, [(170, 300)]);
    }

    #[test]
    fn ranges_work_across_the_wrap() {
        let mut r = Ranges::default();
        r.add(0xffff_ff00, 0x100);
        assert!(r.covers(0xffff_fff0, 0x10));
    }

    #[test]
    fn ranges_stay_bounded() {
        let mut r = Ranges::default();
        for i in 0..1000u32 {
            r.add(i * 10, i * 10 + 5);
        }
        assert!(r.0.len() <= MAX_RANGES);
    }
}
