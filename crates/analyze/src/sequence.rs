//! Wireshark 4.0's sequence analysis, one call per analysed segment (reference §4).
//!
//! The order of the checks is part of the behaviour: block A runs in the reference's order with
//! four early exits, then B (dup-ACK reset), C (ACKed unseen), D (retransmission family) and E
//! (state updates). Every rule cites its section of `shared/reference/wireshark-tcp-analysis.md`.

use tcpsleuth_decode::TcpFlags;

use crate::flags::AnalysisFlags as F;
use crate::flow::{Flow, Unacked, MAX_UNACKED, WSCALE_NONE, WSCALE_UNKNOWN};
use crate::seq::{elapsed_unsigned, gt, le, lt};

/// Fast retransmission must follow the peer's last segment within 20 ms (§5.12 step 5).
const FAST_RETRANSMISSION_WINDOW_NS: u64 = 20_000_000;
/// Out-of-order threshold while the handshake RTT is unknown (§5.12 step 6).
const DEFAULT_OUT_OF_ORDER_NS: u64 = 3_000_000;
/// Bytes in flight at or above this are treated as nonsense and not shown (§5.17 step 4).
const MAX_BYTES_IN_FLIGHT: u32 = 2_000_000_000;

#[derive(Debug, Clone, Copy)]
pub struct SegmentFacts {
    pub frame: u64,
    pub time_ns: i64,
    pub seq: u32,
    pub ack: u32,
    pub seglen: u32,
    pub flags: TcpFlags,
    pub window: u16,
}

impl SegmentFacts {
    fn no_syn_fin_rst(&self) -> bool {
        self.flags.0 & (TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST) == 0
    }
    fn syn_or_fin(&self) -> bool {
        self.flags.0 & (TcpFlags::SYN | TcpFlags::FIN) != 0
    }
    /// end(seg): SYN and FIN each take one sequence number (§1).
    fn end(&self) -> u32 {
        self.seq
            .wrapping_add(self.seglen)
            .wrapping_add(u32::from(self.syn_or_fin()))
    }
}

/// What the analysis found for one segment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SequenceResult {
    pub flags: F,
    pub dup_ack: Option<(u32, u64)>,
    pub acks_frame: Option<u64>,
    pub ack_rtt_ns: Option<i64>,
    pub rto: Option<(i64, u64)>,
    pub bytes_in_flight: Option<u32>,
    pub push_bytes_sent: Option<u32>,
    /// Wireshark creates an analysis record for this frame (§10): it decides whether
    /// initial_rtt is displayed.
    pub has_record: bool,
}

/// Runs §4 for one segment. `irtt_ns` is the conversation's initial RTT (0 = unknown).
pub fn analyze(fwd: &mut Flow, rev: &mut Flow, irtt_ns: i64, s: &SegmentFacts) -> SequenceResult {
    let mut r = SequenceResult::default();

    // Step 0.
    if s.flags.ack() {
        rev.valid_bif = true;
    }

    block_a(fwd, rev, s, &mut r);

    // B: the dup-ACK counter restarts whenever this direction's ack value changes (§5.10).
    if s.ack != fwd.lastack {
        fwd.lastnondupack = s.frame;
        fwd.dupacknum = 0;
    }

    ack_lost_segment(rev, s, &mut r);
    retransmission_family(fwd, rev, irtt_ns, s, &mut r);
    update_state(fwd, rev, s, &mut r);
    r.has_record |= !r.flags.is_empty();
    r
}

/// Block A of §4: A1–A9, with early exits after A1, A7 and A8 (and A9 is last).
fn block_a(fwd: &mut Flow, rev: &Flow, s: &SegmentFacts, r: &mut SequenceResult) {
    let pure = s.seglen == 0;
    let win = u32::from(s.window);

    // A1, §5.1: one byte at nextseq into a closed window. SYN/FIN/RST are not checked.
    if s.seglen == 1 && s.seq == fwd.nextseq && rev.window == 0 {
        r.flags.set(F::ZERO_WINDOW_PROBE);
        return;
    }
    // A2, §5.2.
    if win == 0 && s.no_syn_fin_rst() {
        r.flags.set(F::ZERO_WINDOW);
    }
    // A3, §5.3: only RST is exempt; the first segment of a direction never qualifies.
    if fwd.nextseq != 0 && gt(s.seq, fwd.nextseq) && !s.flags.rst() {
        r.flags.set(F::LOST_SEGMENT);
        fwd.valid_bif = false;
    }
    // A4, §5.4.
    if s.seglen <= 1 && s.seq == fwd.nextseq.wrapping_sub(1) && s.no_syn_fin_rst() {
        r.flags.set(F::KEEP_ALIVE);
    }
    let repeats_state = s.seq == fwd.nextseq && s.ack == fwd.lastack && s.no_syn_fin_rst();
    // A5, §5.5: raw windows are compared, the SYN's included.
    if pure && win != 0 && win != fwd.window && repeats_state {
        r.flags.set(F::WINDOW_UPDATE);
    }
    // A6, §5.6: wrapping 32-bit arithmetic, as in C.
    if s.seglen > 0 && rev.win_scale != WSCALE_UNKNOWN && s.no_syn_fin_rst() {
        let shift = if rev.is_first_ack || rev.win_scale == WSCALE_NONE {
            0
        } else {
            u32::from(rev.win_scale.unsigned_abs())
        };
        let edge = rev.lastack.wrapping_add(rev.window.wrapping_shl(shift));
        if s.seq.wrapping_add(s.seglen) == edge {
            r.flags.set(F::WINDOW_FULL);
        }
    }
    // A7, §5.7.
    if pure
        && win != 0
        && win == fwd.window
        && repeats_state
        && rev.lastsegmentflags.has(F::KEEP_ALIVE)
    {
        r.flags.set(F::KEEP_ALIVE_ACK);
        return;
    }
    // A8, §5.8.
    if pure
        && win == 0
        && fwd.window == 0
        && repeats_state
        && rev.lastsegmentflags.has(F::ZERO_WINDOW_PROBE)
    {
        r.flags.set(F::ZERO_WINDOW_PROBE_ACK);
        return;
    }
    // A9, §5.10. MPTCP's tolerated duplicates are not modelled (MPTCP options are not decoded).
    if pure && win != 0 && win == fwd.window && repeats_state {
        fwd.dupacknum = if fwd.dupacknum == -1 {
            1
        } else {
            fwd.dupacknum.saturating_add(1)
        };
        r.flags.set(F::DUPLICATE_ACK);
        r.dup_ack = Some((fwd.dupacknum.unsigned_abs(), fwd.lastnondupack));
    }
}

/// C, §5.11: an ACK beyond everything the peer was seen to send.
fn ack_lost_segment(rev: &mut Flow, s: &SegmentFacts, r: &mut SequenceResult) {
    if !(s.flags.ack() && rev.maxseqtobeacked != 0 && gt(s.ack, rev.maxseqtobeacked)) {
        return;
    }
    r.has_record = true;
    // Branch 1: a hole in the peer's data; move the mark to the peer's nextseq.
    if lt(rev.maxseqtobeacked, rev.nextseq) {
        rev.maxseqtobeacked = rev.nextseq;
        r.flags.set(F::ACK_LOST_SEGMENT);
    } else {
        // Throttle: report once until the peer's own ack value changes.
        if rev.dupacknum == 0 {
            r.flags.set(F::ACK_LOST_SEGMENT);
        }
        rev.dupacknum = -1;
    }
}

/// D, §5.12: retransmission, fast retransmission, spurious retransmission, out-of-order.
fn retransmission_family(
    fwd: &Flow,
    rev: &Flow,
    irtt_ns: i64,
    s: &SegmentFacts,
    r: &mut SequenceResult,
) {
    if !(s.seglen > 0 || s.syn_or_fin()) {
        return;
    }
    // Step 1: keep-alives are never retransmissions (§9).
    if r.flags.has(F::KEEP_ALIVE) {
        return;
    }
    // Steps 2–3.
    let mut behind = fwd.nextseq != 0 && lt(s.seq, fwd.nextseq);
    if s.seglen > 1 && fwd.nextseq.wrapping_sub(1) == s.seq {
        behind = false;
    }
    // Step 4: not gated by `behind` (checked on 4.0.17).
    if s.seglen > 0 && rev.lastack != 0 && le(s.seq.wrapping_add(s.seglen), rev.lastack) {
        r.flags.set(F::SPURIOUS_RETRANSMISSION);
        return;
    }
    // Step 5 (tcp.fastrt_supersedes_ooo TRUE, the default, runs it before step 6).
    let since_peer = elapsed_unsigned(s.time_ns, rev.lastack_time);
    if behind
        && rev.dupacknum >= 2
        && rev.lastack == s.seq
        && since_peer < FAST_RETRANSMISSION_WINDOW_NS
    {
        r.flags.set(F::FAST_RETRANSMISSION);
        return;
    }
    // Step 6: the reference is the segment that last advanced nextseq.
    let since_highest = elapsed_unsigned(s.time_ns, fwd.nextseq_time);
    let threshold = if irtt_ns == 0 {
        DEFAULT_OUT_OF_ORDER_NS
    } else {
        irtt_ns as u64
    };
    if behind && since_highest < threshold && fwd.nextseq != s.end() {
        r.flags.set(F::OUT_OF_ORDER);
        return;
    }
    // Step 7: the RTO is measured from the eldest unacked segment, else from nextseq's time.
    if behind {
        r.flags.set(F::RETRANSMISSION);
        let (time, frame) = match fwd.unacked.back() {
            Some(eldest) => (eldest.time_ns, eldest.frame),
            None => (fwd.nextseq_time, fwd.nextseq_frame),
        };
        r.rto = Some((s.time_ns.wrapping_sub(time), frame));
    }
}

/// E, §4: remember the segment, advance nextseq, match ACKs, bytes in flight.
fn update_state(fwd: &mut Flow, rev: &mut Flow, s: &SegmentFacts, r: &mut SequenceResult) {
    let is_probe = r.flags.has(F::ZERO_WINDOW_PROBE);
    let end = s.end();

    // E1.
    if (s.seglen > 0 || s.syn_or_fin()) && fwd.unacked.len() < MAX_UNACKED {
        fwd.unacked.push_front(Unacked {
            frame: s.frame,
            seq: s.seq,
            end,
            time_ns: s.time_ns,
        });
        fwd.settled_ack = None;
        fwd.span = fwd.span.and_then(|(base, first, last)| {
            (base == fwd.base_seq).then(|| {
                (
                    base,
                    first.min(s.seq.wrapping_sub(base)),
                    last.max(end.wrapping_sub(base)),
                )
            })
        });
    }
    // E2: a zero-window probe does not advance nextseq (§5.1). A pure ACK has end = seq.
    if (gt(end, fwd.nextseq) || fwd.nextseq == 0) && !is_probe {
        fwd.nextseq = end;
        fwd.nextseq_frame = s.frame;
        fwd.nextseq_time = s.time_ns;
    }
    // E3.
    if (s.seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == 0) && !is_probe {
        fwd.maxseqtobeacked = fwd.nextseq;
    }
    // E4.
    fwd.window = u32::from(s.window);
    fwd.lastack = s.ack;
    fwd.lastack_time = s.time_ns;
    fwd.lastsegmentflags = r.flags;

    // E5, §5.14: walk the peer's list newest to eldest; the eldest exact match wins. A walk
    // leaves the list a fixed point for the same ACK: repeating it changes nothing until a
    // segment is added.
    let ack = s.ack;
    if rev.settled_ack != Some(ack) {
        let mut changed = false;
        rev.unacked.retain_mut(|entry| {
            if ack == entry.end {
                r.acks_frame = Some(entry.frame);
                r.ack_rtt_ns = Some(s.time_ns.wrapping_sub(entry.time_ns));
                r.has_record = true;
                changed = true;
                false
            } else if gt(ack, entry.seq) && le(ack, entry.end) {
                entry.seq = ack;
                changed = true;
                true
            } else {
                let keep = gt(entry.end, ack);
                changed |= !keep;
                keep
            }
        });
        rev.settled_ack = Some(ack);
        if changed {
            rev.span = None;
        }
    }

    // E6, §5.17 (payload-based method, tcp.bif_seq_based FALSE) and §5.18.
    if s.seglen == 0 || !fwd.valid_bif || fwd.unacked.is_empty() {
        return;
    }
    r.has_record = true;
    let base = fwd.base_seq;
    let (first, last) = match fwd.span {
        Some((b, first, last)) if b == base => (first, last),
        _ => {
            let mut first = u32::MAX;
            let mut last = 0u32;
            for entry in &fwd.unacked {
                last = last.max(entry.end.wrapping_sub(base));
                first = first.min(entry.seq.wrapping_sub(base));
            }
            fwd.span = Some((base, first, last));
            (first, last)
        }
    };
    let mut in_flight = last.wrapping_sub(first);
    for (left, right) in rev.sack_blocks() {
        in_flight = in_flight.wrapping_sub(right.wrapping_sub(*left));
    }
    if in_flight > 0 && in_flight < MAX_BYTES_IN_FLIGHT {
        let shown = in_flight - u32::from(s.syn_or_fin());
        if shown != 0 {
            r.bytes_in_flight = Some(shown);
        }
    }
    let psh = s.flags.psh();
    if psh && !fwd.push_set_last {
        fwd.push_bytes_sent = fwd.push_bytes_sent.wrapping_add(s.seglen);
        fwd.push_set_last = true;
    } else if psh || fwd.push_set_last {
        fwd.push_bytes_sent = s.seglen;
        fwd.push_set_last = psh;
    } else {
        fwd.push_bytes_sent = fwd.push_bytes_sent.wrapping_add(s.seglen);
    }
    if r.bytes_in_flight.is_some() {
        r.push_bytes_sent = Some(fwd.push_bytes_sent);
    }
}
