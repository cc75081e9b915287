//! The streaming half of the diagnosis: per-connection evidence gathered frame by frame.
//!
//! Everything here is bounded: counters, and frame lists that keep their first few entries and
//! the last one. Memory per connection is a few kilobytes whatever the transfer's size.

use std::collections::VecDeque;

use tcpsleuth_analyze::seq::{gt, le, lt};
use tcpsleuth_analyze::{AnalysisFlags, Correction, Endpoint};

use crate::Observation;
use tcpsleuth_decode::Segment;

/// Frames kept per evidence list; past this only the count and the last frame are kept.
const HEAD_FRAMES: usize = 12;
/// Segments remembered per direction to find the original of a retransmission.
const RECENT_SENDS: usize = 256;
/// Sequence holes (and acknowledged holes) tracked per direction.
const MAX_GAPS: usize = 32;
/// Retransmissions waiting for the ACK that decides whether they were needed.
const MAX_PENDING: usize = 64;
/// Decided retransmissions kept per direction.
const MAX_OUTCOMES: usize = 64;
/// Zero-window episodes and RSTs kept per direction.
const MAX_EPISODES: usize = 16;
const MAX_RSTS: usize = 4;
/// A copy with the original's nonzero IP ID this soon after it is a capture duplicate (IDs of
/// one sender repeat only after 65536 packets).
const DUPLICATE_WITHIN_NS: i64 = 1_000_000_000;
/// SYNs or SYN-ACKs closer than this are one packet recorded twice.
const SYN_COPY_NS: i64 = 200_000_000;
/// Without IP IDs, copies this close together are the same packet captured twice.
const SAME_INSTANT_NS: i64 = 10_000;
/// Sends of a retransmission run kept to show its backoff.
const RUN_BACKOFF_SENDS: usize = 7;
/// Distinct TTL values profiled per direction.
const MAX_TTLS: usize = 8;

/// A frame and its capture timestamp (ns).
pub type At = (u64, i64);

/// A bounded list of frames: the first [`HEAD_FRAMES`], the last one and the total count.
#[derive(Debug, Clone, Default)]
pub struct FrameList {
    pub count: u64,
    pub head: Vec<At>,
    pub last: Option<At>,
}

impl FrameList {
    fn push(&mut self, at: At) {
        self.count += 1;
        if self.head.len() < HEAD_FRAMES {
            self.head.push(at);
        }
        self.last = Some(at);
    }

    pub fn first(&self) -> Option<At> {
        self.head.first().copied()
    }

    /// The kept frame numbers, ascending, the last one included.
    pub fn frames(&self) -> Vec<u64> {
        let mut out: Vec<u64> = self.head.iter().map(|a| a.0).collect();
        if let Some(last) = self.last {
            if !out.contains(&last.0) {
                out.push(last.0);
            }
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// The same segment sent again and again: one retransmission run.
#[derive(Debug, Clone)]
pub struct RetransRun {
    pub seq: u32,
    pub rel_seq: u32,
    pub len: u32,
    /// The first transmission, when it was captured.
    pub original: Option<At>,
    pub retransmissions: FrameList,
    /// The last few sends, each marked when sent on the ACK clock: the RTO backoff shows in
    /// the timer-driven sends at the end of a long run.
    pub recent: VecDeque<(At, bool)>,
    /// Retransmissions sent after duplicate ACKs rather than on the timer.
    pub fast: u64,
    /// The receiver's cumulative ACK (relative) when the run started.
    pub stuck_rel_ack: Option<u32>,
    /// The receiver's ACKs during the run that stayed at or below the run's sequence number.
    pub stuck_acks: FrameList,
    /// Copies of the segment captured with a bad checksum.
    pub bad_checksums: u32,
}

impl RetransRun {
    /// Times the segment was sent, the original included when captured.
    pub fn sends(&self) -> u64 {
        self.retransmissions.count + u64::from(self.original.is_some())
    }

    /// Gaps between the last timer-driven sends, in seconds: the RTO backoff. Sends on the
    /// ACK clock (fast retransmissions) end the backoff sequence.
    pub fn backoff(&self) -> Vec<f64> {
        let tail: Vec<i64> = self
            .recent
            .iter()
            .rev()
            .scan(false, |stop, (at, fast)| {
                // Keep timer sends back to (and including) the send before the first of them.
                if *stop {
                    return None;
                }
                *stop = *fast;
                Some(at.1)
            })
            .collect();
        tail.iter()
            .rev()
            .zip(tail.iter().rev().skip(1))
            .map(|(a, b)| b.saturating_sub(*a) as f64 / 1e9)
            .collect()
    }
}

/// A retransmission and, once known, the ACK that covered it.
#[derive(Debug, Clone, Copy)]
pub struct Retransmission {
    pub at: At,
    pub seq: u32,
    pub end: u32,
    pub original: Option<At>,
    /// Only this segment was unacknowledged when the original was sent (bytes in flight).
    pub alone_in_flight: bool,
    /// tshark's fast retransmission (after three duplicate ACKs).
    pub fast: bool,
    /// The receiver had sent a duplicate ACK after the original: from the sender's host this
    /// means the copy went out on the ACK clock (SACK/RACK recovery).
    pub after_dup_ack: bool,
    /// A copy of the highest data sent so far, with no duplicate ACK since the original: a
    /// tail-loss probe (RFC 8985 §7) or a timeout, never the ACK clock.
    pub tail_probe: bool,
    /// The receiver's ACK that reported the copy as a duplicate (D-SACK).
    pub dsack_at: Option<At>,
    /// The capture shows the data was already acknowledged when it was resent (tshark's
    /// spurious flag, or tcpsleuth's SACK-aware correction).
    pub already_acked: bool,
    /// The receiver reported it as a duplicate (D-SACK).
    pub dsack: bool,
    pub acked: Option<At>,
}

/// A stretch of zero-window advertisements from one side.
#[derive(Debug, Clone, Copy)]
pub struct ZeroWindowEpisode {
    pub start: At,
    pub last_zero: At,
    /// The first nonzero window after it, if any.
    pub reopened: Option<At>,
    /// Zero-window probes (or keep-alive-shaped probes) the peer sent during it.
    pub probes: u32,
    /// Zero-window advertisements during it (probe answers included).
    pub zero_acks: u32,
    /// It opened with an ACK that jumped over more than two segments: a hole fill handing the
    /// whole out-of-order queue to the socket at once, a loss effect rather than a slow reader.
    pub flush: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct RstSeen {
    pub at: At,
    pub ttl: u8,
    pub ip_id: Option<u16>,
    pub has_ack: bool,
    pub raw_ack: u32,
    /// A retransmission run (of either side) with at least two retransmissions was unresolved.
    pub during_stall: Option<StallRef>,
    /// Sent before any SYN-ACK from this side, after the peer's SYN.
    pub answers_syn: bool,
    /// This side had already sent a FIN.
    pub after_own_fin: bool,
    /// The peer had already sent a FIN.
    pub after_peer_fin: bool,
    /// The peer's latest data got no data in reply from this side before the RST.
    pub peer_data_before: bool,
    /// A bare RST (no ACK flag) whose sequence number is the peer's last ACK: how a stack
    /// answers a segment for a connection it does not have (RFC 9293 §3.10.7.1).
    pub answers_unknown: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StallRef {
    /// Index of the side whose data was stuck.
    pub sender: usize,
    /// Retransmissions of the stuck segment seen (0 when none reached the capture).
    pub retransmissions: u64,
    /// When the hole in the sender's data the receiver waited on opened, if one is open.
    pub hole_since: Option<At>,
}

/// Duplicate ACKs in a row a receiver must send for a hole to count as a stall: it got later
/// data again and again, so the sender was alive and sending.
pub const STALL_DUP_ACKS: u32 = 3;

/// A hole the receiver keeps waiting on for this long counts as a stall even when no
/// retransmission of it reaches the capture point (it was lost before it).
pub const STALLED_HOLE_NS: i64 = 1_000_000_000;

/// Everything observed about packets sent by one endpoint of a connection.
#[derive(Debug, Clone)]
pub struct Side {
    pub endpoint: Endpoint,
    pub packets: u64,
    pub last: At,
    ttls: Vec<(u8, u64)>,
    pub ip_ids_zero: u64,
    pub ip_ids_nonzero: u64,
    /// SYNs (without ACK) carrying this side's first ISN.
    pub syns: FrameList,
    pub isn: Option<u32>,
    /// This side's last SYN or SYN-ACK, to tell a copy the capture recorded twice.
    last_syn: Option<At>,
    pub syn_acks: FrameList,
    /// MSS announced in this side's SYN or SYN-ACK.
    pub mss: Option<u16>,
    /// A non-SYN packet answering the peer's SYN with an ACK that is not SYN+1: a challenge
    /// ACK from a host that still has the connection.
    pub challenge_ack: Option<At>,
    pub data_segments: u64,
    pub payload_bytes: u64,
    pub first_data: Option<At>,
    pub last_data: Option<At>,
    pub max_payload: u32,
    pub over_mss: FrameList,
    pub checksums_checked: u64,
    pub bad_checksums: FrameList,
    hi_end: Option<u32>,
    gaps: VecDeque<(u32, u32, At)>,
    /// Holes filled by a segment seen for the first time: (frame that filled it, how long
    /// after the hole opened, ns). Early fills are reordering, late ones loss repairs.
    pub hole_fills: Vec<HoleFill>,
    /// The newest TCP timestamp value this side sent (wrap-aware).
    max_tsval: Option<u32>,
    /// Right edges (ACK + window) this side advertised recently, as raw sequence numbers, with
    /// the window each one offered.
    edges: VecDeque<(u32, u64)>,
    /// The largest window this side advertised so far (scaled).
    max_window_so_far: u64,
    /// The peer's data segments that ended exactly at a right edge this side advertised: the
    /// peer had filled this side's receive window. Kept on the advertiser.
    pub filled_window: FrameList,
    /// A hole this side reported with SACK (cumulative ACK, when), until it closes.
    sack_hole: Option<(u32, At)>,
    /// SACK-reported holes that closed: (opened, closed, the peer retransmitted meanwhile).
    pub sack_holes_closed: Vec<(At, At, bool)>,
    /// Data segments captured with a bad checksum: (seq, frame).
    bad_data: VecDeque<(u32, At)>,
    /// Bad-checksum data segments that were later retransmitted.
    pub bad_then_resent: FrameList,
    /// Holes in this side's data that the peer acknowledged although they were never captured.
    acked_gaps: VecDeque<(u32, u32, At)>,
    recent: VecDeque<Sent>,
    /// Entries of `recent` before this index have been acknowledged.
    recent_acked: usize,
    pub retransmissions: FrameList,
    pub fast_retransmissions: u64,
    /// Retransmissions the peer eventually acknowledged: repairs, needed or not.
    pub acked_retransmissions: u64,
    pub run: Option<RetransRun>,
    pending: VecDeque<Retransmission>,
    pub decided: Vec<Retransmission>,
    pub out_of_order: FrameList,
    pub zero_window: Vec<ZeroWindowEpisode>,
    pub zero_window_episodes: u64,
    pub max_window: u64,
    pub dup_acks: FrameList,
    pub sack_blocks: u64,
    pub rsts: Vec<RstSeen>,
    pub rst_count: u64,
    pub fin: Option<At>,
    pub last_rel_ack: Option<u32>,
    /// ACKs in a row carrying the same cumulative ACK as the one before them (duplicates).
    pub repeated_acks: u32,
    pub last_raw_ack: Option<u32>,
    /// How far the latest ACK moved the cumulative ACK (bytes).
    last_ack_jump: u32,
}

impl Side {
    fn new(endpoint: Endpoint, at: At) -> Side {
        Side {
            endpoint,
            packets: 0,
            last: at,
            ttls: Vec::new(),
            ip_ids_zero: 0,
            ip_ids_nonzero: 0,
            syns: FrameList::default(),
            isn: None,
            last_syn: None,
            syn_acks: FrameList::default(),
            mss: None,
            challenge_ack: None,
            data_segments: 0,
            payload_bytes: 0,
            first_data: None,
            last_data: None,
            max_payload: 0,
            over_mss: FrameList::default(),
            checksums_checked: 0,
            bad_checksums: FrameList::default(),
            hi_end: None,
            gaps: VecDeque::new(),
            hole_fills: Vec::new(),
            max_tsval: None,
            edges: VecDeque::new(),
            max_window_so_far: 0,
            filled_window: FrameList::default(),
            sack_hole: None,
            sack_holes_closed: Vec::new(),
            bad_data: VecDeque::new(),
            bad_then_resent: FrameList::default(),
            acked_gaps: VecDeque::new(),
            recent: VecDeque::new(),
            recent_acked: 0,
            retransmissions: FrameList::default(),
            fast_retransmissions: 0,
            acked_retransmissions: 0,
            run: None,
            pending: VecDeque::new(),
            decided: Vec::new(),
            out_of_order: FrameList::default(),
            zero_window: Vec::new(),
            zero_window_episodes: 0,
            max_window: 0,
            dup_acks: FrameList::default(),
            sack_blocks: 0,
            rsts: Vec::new(),
            rst_count: 0,
            fin: None,
            last_rel_ack: None,
            repeated_acks: 0,
            last_raw_ack: None,
            last_ack_jump: 0,
        }
    }

    /// The TTL most of this side's packets (RSTs excluded) carried.
    pub fn usual_ttl(&self) -> Option<u8> {
        self.ttls
            .iter()
            .max_by_key(|(_, n)| *n)
            .map(|(ttl, _)| *ttl)
    }

    pub fn ttl_was_seen(&self, ttl: u8) -> bool {
        self.ttls.iter().any(|(t, _)| *t == ttl)
    }

    /// Packets (RSTs excluded) whose TTL was profiled.
    pub fn ttl_samples(&self) -> u64 {
        self.ttls.iter().map(|(_, n)| n).sum()
    }

    pub fn distinct_ttls(&self) -> usize {
        self.ttls.len()
    }

    /// Bytes this side sent that the peer acknowledged but the capture never saw, and the
    /// ACK frames that show it.
    pub fn missed(&self) -> (u64, Vec<At>) {
        let bytes = self
            .acked_gaps
            .iter()
            .map(|(s, e, _)| u64::from(e.wrapping_sub(*s)))
            .sum();
        (bytes, self.acked_gaps.iter().map(|g| g.2).collect())
    }

    /// The oldest hole in this side's data still open, with when it was seen to open.
    pub fn open_hole(&self) -> Option<(u32, At)> {
        self.gaps.front().map(|g| (g.0, g.2))
    }

    fn profile_ttl(&mut self, ttl: u8) {
        if let Some(slot) = self.ttls.iter_mut().find(|(t, _)| *t == ttl) {
            slot.1 += 1;
        } else if self.ttls.len() < MAX_TTLS {
            self.ttls.push((ttl, 1));
        }
    }

    /// Records this side's sequence space use; returns true when the segment fills a hole,
    /// that is, when it carries data this capture sees for the first time behind later data.
    fn track_sequence(&mut self, seq: u32, end: u32, at: At, tsval: Option<u32>) -> bool {
        let Some(hi) = self.hi_end else {
            self.hi_end = Some(end);
            return false;
        };
        let mut filled = false;
        if gt(seq, hi) {
            push_bounded(&mut self.gaps, (hi, seq, at));
        } else if lt(seq, hi) {
            let opened = self
                .gaps
                .iter()
                .find(|g| lt(seq, g.1) && lt(g.0, end))
                .map(|g| g.2);
            if let Some(opened) = opened {
                filled = true;
                let sent_earlier = match (tsval, self.max_tsval) {
                    (Some(ts), Some(max)) if ts != max => Some(lt(ts, max)),
                    _ => None,
                };
                if self.hole_fills.len() < MAX_OUTCOMES {
                    self.hole_fills.push(HoleFill {
                        at,
                        age_ns: at.1.saturating_sub(opened.1),
                        sent_earlier,
                    });
                }
            }
            fill(
                &mut self.gaps,
                seq,
                end,
                |g| (g.0, g.1),
                |g, s, e| (s, e, g.2),
            );
            fill(
                &mut self.acked_gaps,
                seq,
                end,
                |g| (g.0, g.1),
                |g, s, e| (s, e, g.2),
            );
        }
        if gt(end, hi) {
            self.hi_end = Some(end);
        }
        filled
    }

    /// The peer acknowledged up to `ack`: holes below it were delivered unseen.
    fn peer_acked(&mut self, ack: u32, at: At) {
        let Some(hi) = self.hi_end else { return };
        while let Some(&(s, e, _)) = self.gaps.front() {
            if le(e, ack) {
                self.gaps.pop_front();
                push_bounded(&mut self.acked_gaps, (s, e, at));
            } else {
                if lt(s, ack) {
                    if let Some(front) = self.gaps.front_mut() {
                        front.0 = ack;
                    }
                    push_bounded(&mut self.acked_gaps, (s, ack, at));
                }
                break;
            }
        }
        if gt(ack, hi) {
            push_bounded(&mut self.acked_gaps, (hi, ack, at));
            self.hi_end = Some(ack);
        }
    }
}

fn push_bounded<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() == MAX_GAPS {
        list.pop_front();
    }
    list.push_back(item);
}

/// Removes [seq, end) from a list of holes, splitting a hole it falls inside.
fn fill<T: Copy>(
    list: &mut VecDeque<T>,
    seq: u32,
    end: u32,
    range: impl Fn(&T) -> (u32, u32),
    make: impl Fn(T, u32, u32) -> T,
) {
    let mut out = VecDeque::with_capacity(list.len());
    for item in list.iter().copied() {
        let (s, e) = range(&item);
        if le(end, s) || le(e, seq) {
            out.push_back(item);
            continue;
        }
        if lt(s, seq) {
            out.push_back(make(item, s, seq));
        }
        if lt(end, e) {
            out.push_back(make(item, end, e));
        }
    }
    while out.len() > MAX_GAPS {
        out.pop_front();
    }
    *list = out;
}

/// A hole in one side's data filled by a segment this capture sees for the first time.
#[derive(Debug, Clone, Copy)]
pub struct HoleFill {
    pub at: At,
    /// Time since the hole opened (ns).
    pub age_ns: i64,
    /// From TCP timestamps: Some(true) when the segment is older than data captured before
    /// it (sent earlier, overtaken: reordering), Some(false) when it is the newest (sent
    /// after: a retransmission), None without timestamps or on a tie.
    pub sent_earlier: Option<bool>,
}

/// A first transmission, remembered to find its retransmissions' original.
#[derive(Debug, Clone, Copy)]
struct Sent {
    seq: u32,
    end: u32,
    at: At,
    ip_id: Option<u16>,
    alone_in_flight: bool,
    /// The peer's first ACK that covered it.
    acked: Option<At>,
}

/// Handshake timing, for the vantage point.
#[derive(Debug, Clone, Copy, Default)]
pub struct HandshakeTimes {
    pub syn: Option<At>,
    pub syn_ack: Option<At>,
    /// The SYN sender's first packet after the SYN-ACK.
    pub ack: Option<At>,
    /// Index of the side that sent the first SYN.
    pub syn_side: Option<usize>,
}

/// One connection's evidence. Side 0 is the endpoint that sent the connection's first frame.
#[derive(Debug, Clone)]
pub struct Evidence {
    pub stream: u32,
    pub sides: [Side; 2],
    pub handshake: HandshakeTimes,
    pub reused_ports: Option<At>,
    pub last: At,
}

impl Evidence {
    pub fn new(stream: u32, seg: &Segment, at: At) -> Evidence {
        let (src, dst) = Endpoint::pair_of(seg);
        Evidence {
            stream,
            sides: [Side::new(src, at), Side::new(dst, at)],
            handshake: HandshakeTimes::default(),
            reused_ports: None,
            last: at,
        }
    }

    pub fn side_of(&self, endpoint: Endpoint) -> usize {
        usize::from(self.sides[0].endpoint != endpoint)
    }

    /// Adds one analysed TCP frame of this connection.
    pub fn observe(&mut self, frame: u64, time_ns: i64, seg: &Segment, pa: &Observation) {
        let at = (frame, time_ns);
        let (src, _) = Endpoint::pair_of(seg);
        let me = self.side_of(src);
        let peer = 1 - me;
        self.last = at;
        let flags = seg.flags;
        let seglen = seg.payload_len;

        // Replies from the peer to this side's outstanding data happen first, so a D-SACK and
        // the ACK in the same packet are both seen before the run bookkeeping below.
        if flags.ack() && !flags.syn() {
            self.observe_ack(me, peer, seg, pa, at);
        }

        // Did the peer send data after this side's previous packet? (Read before `last` moves.)
        // Did the peer's latest data go unanswered (no data from this side after it)?
        let peer_data_since_mine = self.sides[peer]
            .last_data
            .is_some_and(|d| self.sides[me].last_data.is_none_or(|mine| mine.1 < d.1));
        let s = &mut self.sides[me];
        s.packets += 1;
        s.last = at;

        if flags.rst() {
            let during_stall = [0, 1].into_iter().find_map(|i| self.stall_of(i, time_ns));
            let answers_syn = self.sides[peer].syns.count > 0 && self.sides[me].syn_acks.count == 0;
            let answers_unknown = !flags.ack() && self.sides[peer].last_raw_ack == Some(seg.seq);
            let after_peer_fin = self.sides[peer].fin.is_some();
            let peer_data_before = peer_data_since_mine;
            let s = &mut self.sides[me];
            s.rst_count += 1;
            if s.rsts.len() < MAX_RSTS {
                s.rsts.push(RstSeen {
                    at,
                    ttl: seg.ttl,
                    ip_id: seg.ip_id,
                    has_ack: flags.ack(),
                    raw_ack: seg.ack,
                    during_stall,
                    answers_syn,
                    after_own_fin: s.fin.is_some(),
                    after_peer_fin,
                    peer_data_before,
                    answers_unknown,
                });
            }
            return;
        }

        s.profile_ttl(seg.ttl);
        match seg.ip_id {
            Some(0) => s.ip_ids_zero += 1,
            Some(_) => s.ip_ids_nonzero += 1,
            None => {}
        }
        if let Some(ok) = seg.checksum_ok {
            s.checksums_checked += 1;
            if !ok {
                s.bad_checksums.push(at);
            }
        }

        if flags.syn() {
            // No SYN or SYN-ACK timer fires within 200 ms (1 s initial RTO on Linux, 3 s on
            // older Windows): a copy sooner than that was recorded twice by the capture (several
            // VLANs or interfaces), not sent twice.
            let recorded_twice = s
                .last_syn
                .is_some_and(|prev| time_ns.saturating_sub(prev.1) < SYN_COPY_NS);
            s.last_syn = Some(at);
            if recorded_twice {
                // The same packet again: already counted.
            } else if flags.ack() {
                s.syn_acks.push(at);
                if self.handshake.syn_ack.is_none() {
                    self.handshake.syn_ack = Some(at);
                }
            } else {
                match s.isn {
                    None => {
                        s.isn = Some(seg.seq);
                        s.syns.push(at);
                    }
                    Some(isn) if isn == seg.seq => s.syns.push(at),
                    // A new ISN on these ports starts a new stream in the analyzer.
                    Some(_) => {}
                }
                if self.handshake.syn.is_none() {
                    self.handshake.syn = Some(at);
                    self.handshake.syn_side = Some(me);
                }
                if pa.flags.has(AnalysisFlags::REUSED_PORTS) {
                    self.reused_ports.get_or_insert(at);
                }
            }
            if s.mss.is_none() {
                s.mss = seg.options.mss;
            }
        } else if self.handshake.syn_side == Some(me)
            && self.handshake.syn_ack.is_some()
            && self.handshake.ack.is_none()
        {
            self.handshake.ack = Some(at);
        }

        // A non-SYN answer to the peer's SYN before any SYN-ACK: a host that still holds an
        // older connection on these ports answers with a challenge ACK (RFC 5961 §4).
        let peer_isn = self.sides[peer].isn;
        let s = &mut self.sides[me];
        if !flags.syn() && flags.ack() && s.syn_acks.count == 0 && s.challenge_ack.is_none() {
            if let Some(isn) = peer_isn {
                if seg.ack != isn.wrapping_add(1) && s.data_segments == 0 {
                    s.challenge_ack = Some(at);
                }
            }
        }

        if flags.fin() && s.fin.is_none() {
            s.fin = Some(at);
        }
        if !flags.syn() {
            s.max_window = s.max_window.max(pa.window);
        }
        if pa.flags.has(AnalysisFlags::DUPLICATE_ACK) {
            s.dup_acks.push(at);
        }

        // Zero window advertised by this side (SYNs and RSTs carry no usable window).
        let segment_size = self.sides[peer].max_payload.max(536);
        let s = &mut self.sides[me];
        if !flags.syn() {
            let open = s.zero_window.last_mut().filter(|e| e.reopened.is_none());
            match (seg.window == 0, open) {
                (true, Some(ep)) => {
                    ep.last_zero = at;
                    ep.zero_acks += 1;
                }
                (true, None) => {
                    let flush = flags.ack() && s.last_ack_jump > 2 * segment_size;
                    s.zero_window_episodes += 1;
                    if s.zero_window.len() == MAX_EPISODES {
                        s.zero_window.remove(0);
                    }
                    s.zero_window.push(ZeroWindowEpisode {
                        start: at,
                        last_zero: at,
                        reopened: None,
                        probes: 0,
                        zero_acks: 1,
                        flush,
                    });
                }
                (false, Some(ep)) => ep.reopened = Some(at),
                (false, None) => {}
            }
        }
        // A probe into the peer's zero window.
        let probe = pa.flags.has(AnalysisFlags::ZERO_WINDOW_PROBE)
            || pa.flags.has(AnalysisFlags::KEEP_ALIVE);
        if probe {
            if let Some(ep) = self.sides[peer]
                .zero_window
                .last_mut()
                .filter(|e| e.reopened.is_none())
            {
                ep.probes += 1;
            }
        }

        let s = &mut self.sides[me];
        let consumes = seglen
            .saturating_add(u32::from(flags.syn()))
            .saturating_add(u32::from(flags.fin()));
        if seglen > 0 {
            s.data_segments += 1;
            s.payload_bytes += u64::from(seglen);
            s.first_data.get_or_insert(at);
            s.last_data = Some(at);
            s.max_payload = s.max_payload.max(seglen);
            let peer_mss = self.sides[peer].mss;
            let s = &mut self.sides[me];
            // Without the peer's MSS only a segment no link could carry proves offload.
            let limit = peer_mss.map_or(8960, u32::from);
            if seglen > limit {
                s.over_mss.push(at);
            }
        }
        let s = &mut self.sides[me];
        // Holes are judged on what this capture saw, not on tshark's labels: a segment that
        // fills a hole is seen for the first time here, whatever tshark calls it.
        let tsval = seg.options.timestamps.map(|t| t.0);
        let fills_hole =
            consumes > 0 && s.track_sequence(seg.seq, seg.seq.wrapping_add(consumes), at, tsval);
        if let Some(ts) = tsval {
            if s.max_tsval.is_none_or(|max| gt(ts, max)) {
                s.max_tsval = Some(ts);
            }
        }
        let corrected = pa.corrected;
        let resent = (pa.flags.is_retransmission()
            || corrected == Some(Correction::RetransmissionNotOutOfOrder))
            && corrected != Some(Correction::FirstSeenAfterAck)
            && seglen > 0;
        // A sender gives every packet, retransmissions included, a new IP ID (unless it sends
        // them all with ID 0): the same nonzero ID within moments is the same packet recorded
        // twice. Without a usable ID only a near-identical timestamp says so, as no
        // retransmission can follow its original within microseconds.
        let duplicate = resent
            && s.recent
                .iter()
                .rev()
                .find(|r| r.seq == seg.seq)
                .is_some_and(|r| {
                    let apart = time_ns.saturating_sub(r.at.1);
                    match (r.ip_id, seg.ip_id) {
                        (Some(a), Some(b)) if a != 0 => a == b && apart < DUPLICATE_WITHIN_NS,
                        _ => apart <= SAME_INSTANT_NS,
                    }
                });
        let retransmission = resent && !duplicate && !fills_hole;
        if seglen > 0 && seg.checksum_ok == Some(false) {
            if s.bad_data.len() == MAX_EPISODES {
                s.bad_data.pop_front();
            }
            s.bad_data.push_back((seg.seq, at));
        }
        if pa.flags.has(AnalysisFlags::OUT_OF_ORDER)
            && corrected != Some(Correction::RetransmissionNotOutOfOrder)
        {
            s.out_of_order.push(at);
        }
        if retransmission {
            self.observe_retransmission(me, peer, seg, pa, at);
        } else if seglen > 0 && !duplicate {
            // A segment ending exactly at a right edge the peer advertised filled its window.
            // It counts only when that window was the peer's largest (a buffer too small, not
            // one holding out-of-order data behind a hole) and no hole is open.
            let end = seg.seq.wrapping_add(seglen);
            let receiver = &self.sides[peer];
            let at_max = receiver.edges.iter().any(|&(edge, window)| {
                edge == end
                    && window.saturating_mul(10) >= receiver.max_window_so_far.saturating_mul(9)
            });
            if at_max && receiver.sack_hole.is_none() && self.sides[me].gaps.is_empty() {
                self.sides[peer].filled_window.push(at);
            }
            let s = &mut self.sides[me];
            if s.recent.len() == RECENT_SENDS {
                s.recent.pop_front();
                s.recent_acked = s.recent_acked.saturating_sub(1);
            }
            s.recent.push_back(Sent {
                seq: seg.seq,
                end,
                at,
                ip_id: seg.ip_id,
                alone_in_flight: pa.bytes_in_flight.is_none_or(|b| b <= seglen),
                acked: None,
            });
        }
    }

    fn observe_retransmission(
        &mut self,
        me: usize,
        peer: usize,
        seg: &Segment,
        pa: &Observation,
        at: At,
    ) {
        let peer_rel_ack = self.sides[peer].last_rel_ack;
        let s = &mut self.sides[me];
        let seglen = seg.payload_len;
        s.retransmissions.push(at);
        if let Some(pos) = s.bad_data.iter().position(|b| b.0 == seg.seq && b.1 != at) {
            if let Some(bad) = s.bad_data.remove(pos) {
                s.bad_then_resent.push(bad.1);
            }
        }
        let sent = s.recent.iter().rev().find(|r| r.seq == seg.seq).copied();
        let original = sent.map(|r| (r.at, r.alone_in_flight));
        let end = seg.seq.wrapping_add(seglen);
        let is_highest = s.hi_end == Some(end);
        let receiver = &self.sides[peer];
        let dup_ack_since =
            sent.is_some_and(|o| receiver.dup_acks.last.is_some_and(|d| d.1 > o.at.1));
        let fast = pa.flags.has(AnalysisFlags::FAST_RETRANSMISSION);
        let tail_probe = !fast && !dup_ack_since && is_highest;
        let already_acked = pa.flags.has(AnalysisFlags::SPURIOUS_RETRANSMISSION)
            || pa.corrected == Some(Correction::SpuriousPerSack);
        // The ACK that first covered the original, for data acknowledged before it was resent.
        let earlier_ack = sent.and_then(|o| o.acked).filter(|_| already_acked);
        let s = &mut self.sides[me];
        if fast {
            s.fast_retransmissions += 1;
        }
        if s.pending.len() == MAX_PENDING {
            if let Some(old) = s.pending.pop_front() {
                push_decided(&mut s.decided, old);
            }
        }
        s.pending.push_back(Retransmission {
            at,
            seq: seg.seq,
            end: seg.seq.wrapping_add(seglen),
            original: original.map(|o| o.0),
            alone_in_flight: original.is_some_and(|o| o.1),
            fast,
            after_dup_ack: dup_ack_since,
            tail_probe,
            already_acked,
            dsack: false,
            dsack_at: None,
            acked: earlier_ack,
        });

        let same = s.run.as_ref().is_some_and(|r| r.seq == seg.seq);
        if !same {
            s.run = None;
            s.run = Some(RetransRun {
                seq: seg.seq,
                rel_seq: pa.rel_seq,
                len: seglen,
                original: original.map(|o| o.0),
                retransmissions: FrameList::default(),
                recent: original.map(|o| (o.0, false)).into_iter().collect(),
                fast: 0,
                stuck_rel_ack: peer_rel_ack,
                stuck_acks: FrameList::default(),
                bad_checksums: 0,
            });
        }
        if let Some(run) = s.run.as_mut() {
            run.retransmissions.push(at);
            run.fast += u64::from(fast);
            if run.recent.len() == RUN_BACKOFF_SENDS {
                run.recent.pop_front();
            }
            run.recent.push_back((at, fast));
            if seg.checksum_ok == Some(false) {
                run.bad_checksums += 1;
            }
        }
    }

    /// An ACK from `me` about `peer`'s data.
    fn observe_ack(&mut self, me: usize, peer: usize, seg: &Segment, pa: &Observation, at: At) {
        let ack = seg.ack;
        let sack = seg.options.sack.as_slice();
        {
            let s = &mut self.sides[me];
            // Duplicate ACKs proper: pure ACKs (no data, FIN or RST) repeating the last one, as
            // a receiver sends them when data arrives beyond a hole.
            let pure = seg.payload_len == 0 && !seg.flags.fin() && !seg.flags.rst();
            if s.last_raw_ack == Some(ack) && pure {
                s.repeated_acks = s.repeated_acks.saturating_add(1);
            } else if s.last_raw_ack != Some(ack) {
                s.repeated_acks = 0;
            }
            s.last_ack_jump = s.last_raw_ack.map_or(0, |prev| {
                if gt(ack, prev) {
                    ack.wrapping_sub(prev)
                } else {
                    0
                }
            });
            s.last_rel_ack = Some(pa.rel_ack);
            s.last_raw_ack = Some(ack);
            s.sack_blocks += sack.len() as u64;
            if !seg.flags.rst() {
                let edge = ack.wrapping_add(u32::try_from(pa.window).unwrap_or(u32::MAX));
                s.max_window_so_far = s.max_window_so_far.max(pa.window);
                if s.edges.back().map(|e| e.0) != Some(edge) {
                    if s.edges.len() == MAX_GAPS * 2 {
                        s.edges.pop_front();
                    }
                    s.edges.push_back((edge, pa.window));
                }
            }
        }
        let closing = self.sides[me].sack_hole.filter(|(hole, _)| gt(ack, *hole));
        if let Some((hole, opened)) = closing {
            let sender = &self.sides[peer];
            let resent = sender
                .pending
                .iter()
                .chain(&sender.decided)
                .any(|r| le(r.seq, hole) && lt(hole, r.end))
                || sender.hole_fills.iter().any(|f| f.at.1 >= opened.1);
            let s = &mut self.sides[me];
            s.sack_hole = None;
            if s.sack_holes_closed.len() < MAX_OUTCOMES {
                s.sack_holes_closed.push((opened, at, resent));
            }
        }
        let reports_hole = sack.iter().any(|&(l, _)| gt(l, ack));
        let s = &mut self.sides[me];
        if s.sack_hole.is_none() && reports_hole {
            s.sack_hole = Some((ack, at));
        }
        // RFC 2883: a first block below the cumulative ACK, or inside the second, reports a
        // duplicate.
        let dsack = sack.first().copied().filter(|&(l, r)| {
            le(r, ack) || sack.get(1).is_some_and(|&(l2, r2)| le(l2, l) && le(r, r2))
        });
        if seg.flags.rst() {
            return;
        }
        let sender = &mut self.sides[peer];
        if let Some((l, r)) = dsack {
            for p in sender.pending.iter_mut().chain(sender.decided.iter_mut()) {
                if lt(p.seq, r) && lt(l, p.end) {
                    p.dsack = true;
                    p.dsack_at.get_or_insert(at);
                }
            }
        }
        // Retransmissions are matched by sequence number, not by send order: a probe of higher
        // data may have been sent before a repair of lower data.
        let mut still_pending = VecDeque::with_capacity(sender.pending.len());
        while let Some(mut p) = sender.pending.pop_front() {
            if le(p.end, ack) {
                sender.acked_retransmissions += 1;
                p.acked.get_or_insert(at);
                push_decided(&mut sender.decided, p);
            } else {
                still_pending.push_back(p);
            }
        }
        sender.pending = still_pending;
        // First transmissions are kept in send order, so the ones a cumulative ACK covers form
        // a prefix: a cursor past the acknowledged ones makes this O(1) per ACK on average.
        while let Some(sent) = sender.recent.get_mut(sender.recent_acked) {
            if !le(sent.end, ack) {
                break;
            }
            sent.acked = Some(at);
            sender.recent_acked += 1;
        }
        // A run ends when the receiver acknowledges the segment; until then its ACKs are stuck.
        match sender.run.as_mut() {
            Some(run) if gt(ack, run.seq) => sender.run = None,
            Some(run) => run.stuck_acks.push(at),
            None => {}
        }
        sender.peer_acked(ack, at);
    }

    /// Is `sender`'s data stalled at `now`: the same segment retransmitted at least twice
    /// without being acknowledged, or a hole the receiver's ACK has been stuck at for a second?
    pub fn stall_of(&self, sender: usize, now: i64) -> Option<StallRef> {
        let s = &self.sides[sender];
        if let Some(run) = s.run.as_ref().filter(|r| r.retransmissions.count >= 2) {
            return Some(StallRef {
                sender,
                retransmissions: run.retransmissions.count,
                hole_since: None,
            });
        }
        // The receiver must keep asking for the hole (duplicate ACKs: later data kept
        // arriving), or a sender that simply stopped would look like a stall.
        let receiver = &self.sides[1 - sender];
        let receiver_ack = receiver.last_raw_ack?;
        let (start, opened) = s.open_hole()?;
        let asking = receiver.repeated_acks >= STALL_DUP_ACKS;
        (start == receiver_ack && asking && now.saturating_sub(opened.1) >= STALLED_HOLE_NS)
            .then_some(StallRef {
                sender,
                retransmissions: 0,
                hole_since: Some(opened),
            })
    }

    /// Retransmissions still waiting for their ACK at the end of the capture.
    pub fn unacked_retransmissions(&self, side: usize) -> impl Iterator<Item = &Retransmission> {
        self.sides[side].pending.iter()
    }
}

fn push_decided(list: &mut Vec<Retransmission>, r: Retransmission) {
    if list.len() < MAX_OUTCOMES {
        list.push(r);
    }
}
