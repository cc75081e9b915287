//! The per-frame driver: conversation lookup, port reuse, relative numbers, initial RTT,
//! window scaling and completeness around the sequence analysis (reference §3).

use std::collections::VecDeque;

use tcpsleuth_decode::{Segment, TcpFlags};

use crate::conversation::{flow_index, ConversationTable, Endpoint, Key};
use crate::flags::AnalysisFlags;
use crate::flow::{Flow, WSCALE_NONE, WSCALE_UNKNOWN};
use crate::judgement::{self, Correction, Scoreboard};
use crate::sequence::{self, SegmentFacts};
use crate::summary::{ConnectionStats, ConnectionSummary};

/// Window-scale shifts above 14 are clamped (RFC 7323 §2.3; Wireshark does the same).
const MAX_WINDOW_SHIFT: u8 = 14;

/// Everything tcpsleuth knows about one TCP frame after analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketAnalysis {
    pub stream: u32,
    pub flags: AnalysisFlags,
    /// (duplicate_ack_num, duplicate_ack_frame)
    pub dup_ack: Option<(u32, u64)>,
    pub acks_frame: Option<u64>,
    pub ack_rtt_ns: Option<i64>,
    pub initial_rtt_ns: Option<i64>,
    pub bytes_in_flight: Option<u32>,
    pub push_bytes_sent: Option<u32>,
    /// (rto, rto_frame), shown only on plain retransmissions with a nonzero rto.
    pub rto: Option<(i64, u64)>,
    /// Relative sequence number (§7).
    pub rel_seq: u32,
    /// Relative ack number when the ACK flag is set; otherwise the raw ack field.
    pub rel_ack: u32,
    /// Header window, scaled when this direction's scale is known (never on SYNs).
    pub window: u64,
    /// `tcp.completeness` as single-pass tshark shows it: the value before this frame.
    pub completeness: u8,
    /// tcpsleuth's own verdict where tshark's flags are demonstrably wrong (see
    /// `judgement`); `flags` stay tshark-compatible.
    pub corrected: Option<Correction>,
    /// The frame belongs to a connection already retired by a streaming run (see
    /// [`Retention`]): only `stream` is meaningful, and the frame changes nothing.
    pub retired: bool,
}

impl PacketAnalysis {
    fn retired(stream: u32) -> PacketAnalysis {
        PacketAnalysis {
            stream,
            flags: AnalysisFlags::default(),
            dup_ack: None,
            acks_frame: None,
            ack_rtt_ns: None,
            initial_rtt_ns: None,
            bytes_in_flight: None,
            push_bytes_sent: None,
            rto: None,
            rel_seq: 0,
            rel_ack: 0,
            window: 0,
            completeness: 0,
            corrected: None,
            retired: true,
        }
    }
}

/// How a streaming run ([`Analyzer::streaming`]) keeps memory bounded by the connections alive
/// at once rather than by the file: finished connections are handed out and forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// A connection closed (FIN both ways, or a RST) and silent this long is retired. Long
    /// enough for retransmitted FINs and the RSTs that answer late segments.
    pub retire_after_ns: i64,
    /// A retired connection's address/port pair is remembered this long, so that its late
    /// frames keep its `tcp.stream` and a SYN reusing the ports is recognised as tshark does.
    /// Past it a non-SYN frame on those ports starts a new stream (tshark would reuse the old).
    pub remember_ns: i64,
    /// The most connections held with full state at once. Past it the least recently active
    /// are retired early ("evicted"), with the analysis they had so far, down to half of it.
    pub max_live: usize,
    /// The most retired connections remembered at once; past it the oldest are forgotten
    /// before [`Retention::remember_ns`].
    pub max_remembered: usize,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            retire_after_ns: 10_000_000_000,
            remember_ns: 300_000_000_000,
            max_live: 20_000,
            max_remembered: 200_000,
        }
    }
}

/// Why a connection was handed out before the end of the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetireReason {
    /// Closed and silent for [`Retention::retire_after_ns`].
    Closed,
    /// A new connection on the same ports (port reuse) took its place: no later frame can
    /// reach it.
    Replaced,
    /// Retired early because more than [`Retention::max_live`] connections were open at once.
    Evicted,
    /// Still open at the end of the capture.
    End,
}

/// A connection whose analysis is over.
#[derive(Debug, Clone)]
pub struct Retired {
    pub summary: ConnectionSummary,
    /// Its two endpoints (which is the client is in the summary).
    pub endpoints: (Endpoint, Endpoint),
    pub reason: RetireReason,
}

/// What a streaming run gave up to stay bounded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionStats {
    /// Frames that arrived on a connection after it was retired (not analysed).
    pub late_frames: u64,
    /// Connections retired early because of [`Retention::max_live`].
    pub evicted: u64,
    /// The most connections held with full state at once.
    pub peak_live: usize,
}

/// What the table holds for an address/port pair.
struct Slot {
    stream: u32,
    state: State,
}

enum State {
    Live(Box<Conversation>),
    /// Retired by a streaming run; kept to tell late frames and port reuse apart.
    Retired {
        /// Each flow's base sequence number, if it had one.
        base_seq: [Option<u32>; 2],
    },
}

struct Conversation {
    flows: [Flow; 2],
    mru_syn_time: i64,
    irtt_ns: i64,
    completeness: u8,
    /// Evidence for the corrected judgements, per flow.
    boards: [Scoreboard; 2],
    stats: ConnectionStats,
    /// Queued in `Analyzer::closing`.
    closing: bool,
}

impl Conversation {
    fn retired(&self, reason: RetireReason) -> Retired {
        let [a, b] = self.stats.senders();
        Retired {
            summary: self.stats.summary(),
            endpoints: (a, b),
            reason,
        }
    }
}

/// Streaming connection tracker and per-packet analyzer. Feed frames in file order.
///
/// Made with [`Analyzer::new`] it keeps every connection to the end, as tshark does. Made with
/// [`Analyzer::streaming`] it hands finished connections out through [`Analyzer::retire`] and
/// forgets them, so that memory follows the connections alive at once.
#[derive(Default)]
pub struct Analyzer {
    table: ConversationTable<Slot>,
    next_stream: u32,
    /// Conversations whose ports a newer one took over: kept for the summaries, or handed out
    /// at the next [`Analyzer::retire`] by a streaming analyzer.
    // Boxed as they come out of the table: unboxing would copy each one.
    #[allow(clippy::vec_box)]
    replaced: Vec<Box<Conversation>>,
    retention: Option<Retention>,
    live: usize,
    /// (time last looked at, pair, stream) of connections seen closing, about oldest first,
    /// waiting to go quiet.
    closing: VecDeque<(i64, Key, u32)>,
    /// (time retired, pair, stream) of the retired connections still remembered, oldest first.
    remembered: VecDeque<(i64, Key, u32)>,
    stats: RetentionStats,
}

impl Analyzer {
    pub fn new() -> Analyzer {
        Analyzer::default()
    }

    /// An analyzer that retires finished connections (see [`Retention`]).
    pub fn streaming(retention: Retention) -> Analyzer {
        Analyzer {
            retention: Some(retention),
            ..Analyzer::default()
        }
    }

    /// Number of streams created so far (the next `tcp.stream` index).
    pub fn stream_count(&self) -> u32 {
        self.next_stream
    }

    /// Connections held with full state now.
    pub fn live_connections(&self) -> usize {
        self.live
    }

    pub fn retention_stats(&self) -> RetentionStats {
        self.stats
    }

    fn new_conversation(&mut self, key: Key, src: Endpoint, dst: Endpoint, time_ns: i64) -> u32 {
        let stream = self.next_stream;
        self.next_stream = self.next_stream.saturating_add(1);
        let conversation = Box::new(Conversation {
            flows: [Flow::default(), Flow::default()],
            mru_syn_time: 0,
            irtt_ns: 0,
            completeness: 0,
            boards: Default::default(),
            stats: ConnectionStats::new(stream, src, dst, time_ns),
            closing: false,
        });
        self.live += 1;
        self.stats.peak_live = self.stats.peak_live.max(self.live);
        let slot = Slot {
            stream,
            state: State::Live(conversation),
        };
        if let Some(Slot {
            state: State::Live(old),
            ..
        }) = self.table.insert(key, slot)
        {
            self.live -= 1;
            self.replaced.push(old);
        }
        stream
    }

    /// A TCP header quoted inside an ICMP error: Wireshark looks up or creates the
    /// conversation (consuming a stream index) but analyses nothing (§1, §5.13).
    pub fn icmp_quote(&mut self, seg: &Segment, time_ns: i64) -> u32 {
        let (src, dst) = Endpoint::pair_of(seg);
        let key = Key::new(src, dst);
        match self.table.get(&key) {
            Some(slot) => slot.stream,
            None => self.new_conversation(key, src, dst, time_ns),
        }
    }

    /// A TCP header tshark gives a stream but cannot analyse (its IP-reported length is
    /// shorter than the header): the conversation lookup runs, with the SYN port-reuse check,
    /// and the frame counts in the connection's packets and bytes.
    pub fn track_only(&mut self, seg: &Segment, time_ns: i64, frame_len: u32) -> u32 {
        let (src, dst) = Endpoint::pair_of(seg);
        let key = Key::new(src, dst);
        let fwd_index = flow_index(src, dst);
        let (stream, _, _) = self.lookup(seg, key, src, dst, fwd_index, time_ns);
        match self.table.get_mut(&key).map(|slot| &mut slot.state) {
            Some(State::Live(conv)) => conv.stats.count_frame(time_ns, frame_len, fwd_index),
            _ => self.stats.late_frames += 1,
        }
        stream
    }

    /// Step 1 of §3: finds the conversation, applying port-reuse rule (a): a SYN with a new
    /// ISN on ports in use starts a new stream. Returns (stream, reused, created).
    fn lookup(
        &mut self,
        seg: &Segment,
        key: Key,
        src: Endpoint,
        dst: Endpoint,
        fwd_index: usize,
        time_ns: i64,
    ) -> (u32, bool, bool) {
        let is_syn_only = seg.flags.0 & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN;
        match self.table.get(&key) {
            Some(slot) => {
                let base = match &slot.state {
                    State::Live(conv) => {
                        let fwd = &conv.flows[fwd_index];
                        fwd.base_set.then_some(fwd.base_seq)
                    }
                    State::Retired { base_seq } => base_seq[fwd_index],
                };
                if is_syn_only && base.is_some_and(|base| seg.seq != base) {
                    (self.new_conversation(key, src, dst, time_ns), true, true)
                } else {
                    (slot.stream, false, false)
                }
            }
            None => (self.new_conversation(key, src, dst, time_ns), false, true),
        }
    }

    /// Hands out the connections that are over (closed and quiet, replaced by a newer one on
    /// the same ports, or evicted past [`Retention::max_live`]) and frees their state. Does
    /// nothing on an analyzer made with [`Analyzer::new`]. Call it now and then with the time
    /// of the latest frame, and whenever [`Analyzer::over_limit`] says so.
    pub fn retire(&mut self, now_ns: i64, mut out: impl FnMut(Retired)) {
        let Some(retention) = self.retention else {
            return;
        };
        for conv in self.replaced.drain(..) {
            out(conv.retired(RetireReason::Replaced));
        }
        // Only the entries looked at long enough ago can be quiet by now: the scan stops at
        // the first younger one, so each call costs what it retires, not what is waiting.
        for _ in 0..self.closing.len() {
            let Some(&(looked_at, key, stream)) = self.closing.front() else {
                break;
            };
            if now_ns.saturating_sub(looked_at) < retention.retire_after_ns {
                break;
            }
            self.closing.pop_front();
            let quiet_since = match self.table.get(&key) {
                Some(Slot {
                    stream: s,
                    state: State::Live(conv),
                }) if *s == stream => conv.stats.last_ns(),
                _ => continue,
            };
            if now_ns.saturating_sub(quiet_since) >= retention.retire_after_ns {
                self.retire_one(key, RetireReason::Closed, now_ns, &mut out);
            } else {
                // Active since it closed: look again once it may have gone quiet.
                self.closing.push_back((quiet_since, key, stream));
            }
        }
        if self.live > retention.max_live {
            self.evict(retention.max_live, now_ns, &mut out);
        }
        while let Some(&(retired_at, key, stream)) = self.remembered.front() {
            let too_many = self.remembered.len() > retention.max_remembered;
            if !too_many && now_ns.saturating_sub(retired_at) < retention.remember_ns {
                break;
            }
            self.remembered.pop_front();
            if let Some(Slot {
                stream: s,
                state: State::Retired { .. },
            }) = self.table.get(&key)
            {
                if *s == stream {
                    self.table.remove(&key);
                }
            }
        }
    }

    /// More connections are live than [`Retention::max_live`] allows: call
    /// [`Analyzer::retire`].
    pub fn over_limit(&self) -> bool {
        self.retention.is_some_and(|r| self.live > r.max_live)
    }

    /// Retires the least recently active connections, down to half the limit: the scan goes
    /// over every pair in the table, so it must run only once per many new connections for
    /// the time to stay linear in a flood.
    fn evict(&mut self, max_live: usize, now_ns: i64, out: &mut impl FnMut(Retired)) {
        let target = max_live / 2;
        let excess = self.live.saturating_sub(target);
        if excess == 0 {
            return;
        }
        let mut idle: Vec<(i64, u32, Key)> = self
            .table
            .iter()
            .filter_map(|(key, slot)| match &slot.state {
                State::Live(conv) => Some((conv.stats.last_ns(), slot.stream, *key)),
                State::Retired { .. } => None,
            })
            .collect();
        if excess < idle.len() {
            idle.select_nth_unstable_by_key(excess, |&(last, stream, _)| (last, stream));
            idle.truncate(excess);
        }
        idle.sort_unstable_by_key(|&(_, stream, _)| stream);
        for (_, _, key) in idle {
            self.stats.evicted += 1;
            self.retire_one(key, RetireReason::Evicted, now_ns, out);
        }
    }

    fn retire_one(
        &mut self,
        key: Key,
        reason: RetireReason,
        now_ns: i64,
        out: &mut impl FnMut(Retired),
    ) {
        let Some(slot) = self.table.get_mut(&key) else {
            return;
        };
        let State::Live(conv) = &slot.state else {
            return;
        };
        let base = |flow: &Flow| flow.base_set.then_some(flow.base_seq);
        let tombstone = State::Retired {
            base_seq: [base(&conv.flows[0]), base(&conv.flows[1])],
        };
        let State::Live(conv) = std::mem::replace(&mut slot.state, tombstone) else {
            return;
        };
        self.live -= 1;
        self.remembered.push_back((now_ns, key, slot.stream));
        out(conv.retired(reason));
    }

    /// Hands out every connection still held, in stream order (the end of the capture). Does
    /// nothing on an analyzer made with [`Analyzer::new`], which keeps them.
    pub fn finish(&mut self, mut out: impl FnMut(Retired)) {
        if self.retention.is_none() {
            return;
        }
        let table = std::mem::take(&mut self.table);
        let mut left: Vec<Box<Conversation>> = table
            .into_values()
            .filter_map(|slot| match slot.state {
                State::Live(conv) => Some(conv),
                State::Retired { .. } => None,
            })
            .chain(self.replaced.drain(..))
            .collect();
        left.sort_unstable_by_key(|conv| conv.stats.stream());
        self.live = 0;
        self.remembered.clear();
        self.closing.clear();
        for conv in left {
            out(conv.retired(RetireReason::End));
        }
    }

    /// Analyses one TCP segment. `frame_len` is the on-wire frame length (for byte counts).
    pub fn analyze(
        &mut self,
        frame: u64,
        time_ns: i64,
        frame_len: u32,
        seg: &Segment,
    ) -> PacketAnalysis {
        let (src, dst) = Endpoint::pair_of(seg);
        let key = Key::new(src, dst);
        let fwd_index = flow_index(src, dst);
        let flags = seg.flags;
        let is_syn_only = flags.0 & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN;
        let is_syn_ack =
            flags.0 & (TcpFlags::SYN | TcpFlags::ACK) == (TcpFlags::SYN | TcpFlags::ACK);

        let (stream, mut reused, created) = self.lookup(seg, key, src, dst, fwd_index, time_ns);
        let streaming = self.retention.is_some();
        let Some(Slot {
            state: State::Live(conv),
            ..
        }) = self.table.get_mut(&key)
        else {
            self.stats.late_frames += 1;
            return PacketAnalysis::retired(stream);
        };
        let (fwd, rev) = split_flows(&mut conv.flows, fwd_index);

        // Rule (b): a SYN-ACK with a new ISN rewrites the base and stays in this stream.
        if is_syn_ack && fwd.base_set && seg.seq != fwd.base_seq {
            reused = true;
            fwd.base_seq = seg.seq;
        }

        // Step 2, §7: relative-number bases.
        if !fwd.base_set {
            fwd.base_seq = if flags.syn() {
                seg.seq
            } else {
                seg.seq.wrapping_sub(1)
            };
            fwd.base_set = true;
        }
        if !rev.base_set && flags.ack() {
            rev.base_seq = seg.ack.wrapping_sub(1);
            rev.base_set = true;
        }

        let rel_seq = seg.seq.wrapping_sub(fwd.base_seq);
        let rel_ack = if flags.ack() {
            seg.ack.wrapping_sub(rev.base_seq)
        } else {
            seg.ack
        };
        let window = match fwd.display_shift() {
            Some(shift) if !flags.syn() => u64::from(seg.window) << shift,
            _ => u64::from(seg.window),
        };

        // Step 3: the sequence analysis.
        let facts = SegmentFacts {
            frame,
            time_ns,
            seq: seg.seq,
            ack: seg.ack,
            seglen: seg.payload_len,
            flags,
            window: seg.window,
        };
        let nextseq_before = fwd.nextseq;
        let mut result = sequence::analyze(fwd, rev, conv.irtt_ns, &facts);
        let corrected = judgement::judge(
            &conv.boards[fwd_index],
            seg.seq,
            seg.payload_len,
            result.flags,
        );
        if !flags.rst() {
            let end = seg.seq.wrapping_add(seg.payload_len);
            judgement::record_segment(&mut conv.boards[fwd_index], nextseq_before, seg.seq, end);
        }
        judgement::record_ack(
            &mut conv.boards[1 - fwd_index],
            seg.ack,
            flags.ack(),
            seg.options.sack.as_slice(),
        );
        if reused {
            result.flags.set(AnalysisFlags::REUSED_PORTS);
            result.has_record = true;
        }

        // Step 4, §5.19: shown before the update; the creating packet only counts a SYN.
        let completeness = conv.completeness;
        conv.completeness |= completeness_bits(flags, seg.payload_len, created);

        // Steps 5–7, §5.16.
        if is_syn_only {
            conv.mru_syn_time = time_ns;
        }
        if flags.syn() {
            fwd.is_first_ack = true;
        }
        if flags.ack() && !flags.syn() {
            if conv.mru_syn_time != 0 && conv.irtt_ns == 0 {
                conv.irtt_ns = time_ns.wrapping_sub(conv.mru_syn_time);
            }
            fwd.is_first_ack = false;
        }

        // Step 8: options affect analysis from the next frame on.
        if let Some(shift) = seg.options.window_scale {
            fwd.win_scale = shift.min(MAX_WINDOW_SHIFT) as i8;
        }
        let sack = seg.options.sack.as_slice();
        fwd.sack_len = 0;
        for (slot, block) in fwd.sack.iter_mut().zip(sack) {
            *slot = *block;
            fwd.sack_len += 1;
        }

        // Step 10, §8: window-scale verification after a SYN's options.
        if flags.syn() {
            if fwd.win_scale == WSCALE_UNKNOWN {
                fwd.win_scale = WSCALE_NONE;
                rev.win_scale = WSCALE_NONE;
            } else if flags.ack() && rev.win_scale == WSCALE_NONE {
                fwd.win_scale = WSCALE_NONE;
            }
        }

        // §10: initial_rtt shows only on frames with an analysis record.
        let initial_rtt_ns = (result.has_record && conv.irtt_ns != 0).then_some(conv.irtt_ns);
        let rto = result.rto.filter(|(rto, _)| *rto != 0);
        let analysis = PacketAnalysis {
            stream,
            flags: result.flags,
            dup_ack: result.dup_ack,
            acks_frame: result.acks_frame,
            ack_rtt_ns: result.ack_rtt_ns.filter(|rtt| *rtt != 0),
            initial_rtt_ns,
            bytes_in_flight: result.bytes_in_flight,
            push_bytes_sent: result.push_bytes_sent,
            rto,
            rel_seq,
            rel_ack,
            window,
            completeness,
            corrected,
            retired: false,
        };
        conv.stats.record(
            frame,
            time_ns,
            frame_len,
            seg,
            fwd_index,
            &analysis,
            conv.irtt_ns,
        );
        conv.stats.set_completeness(conv.completeness);
        if streaming && !conv.closing && conv.stats.closed() {
            conv.closing = true;
            self.closing.push_back((time_ns, key, stream));
        }
        analysis
    }

    /// The summary so far of one connection still held (a scan of the table: for occasional
    /// use, such as a live capture announcing a finding).
    pub fn summary(&self, stream: u32) -> Option<ConnectionSummary> {
        self.table
            .values()
            .find_map(|slot| match &slot.state {
                State::Live(conv) if slot.stream == stream => Some(&**conv),
                _ => None,
            })
            .or_else(|| {
                self.replaced
                    .iter()
                    .map(|conv| &**conv)
                    .find(|conv| conv.stats.stream() == stream)
            })
            .map(|conv| conv.stats.summary())
    }

    /// Summaries of every connection held (every one seen, unless retired), in stream order.
    pub fn summaries(&self) -> Vec<ConnectionSummary> {
        let mut all: Vec<&Conversation> = self
            .table
            .values()
            .filter_map(|slot| match &slot.state {
                State::Live(conv) => Some(&**conv),
                State::Retired { .. } => None,
            })
            .chain(self.replaced.iter().map(|conv| &**conv))
            .collect();
        all.sort_unstable_by_key(|conv| conv.stats.stream());
        all.into_iter().map(|conv| conv.stats.summary()).collect()
    }
}

fn split_flows(flows: &mut [Flow; 2], fwd_index: usize) -> (&mut Flow, &mut Flow) {
    let [zero, one] = flows;
    if fwd_index == 0 {
        (zero, one)
    } else {
        (one, zero)
    }
}

/// §5.19, 4.0 rules: bits 1 SYN, 2 SYN-ACK, 4 ACK, 8 DATA, 16 FIN, 32 RST.
fn completeness_bits(flags: TcpFlags, seglen: u32, creates: bool) -> u8 {
    if creates {
        if flags.syn() && !flags.ack() {
            return 1 | if seglen > 0 { 8 } else { 0 };
        }
        return 0;
    }
    let mut bits = 0;
    if flags.syn() && flags.ack() {
        bits |= 2;
    }
    if flags.ack() && !flags.syn() {
        bits |= if seglen > 0 { 8 } else { 4 };
    }
    if flags.fin() && flags.ack() {
        bits |= 16;
    }
    if flags.rst() {
        bits |= 32;
    }
    bits
}
