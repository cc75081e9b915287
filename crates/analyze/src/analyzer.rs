//! The per-frame driver: conversation lookup, port reuse, relative numbers, initial RTT,
//! window scaling and completeness around the sequence analysis (reference §3).

use tcpsleuth_decode::{Segment, TcpFlags};

use crate::conversation::{flow_index, ConversationTable, Endpoint};
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
}

struct Conversation {
    flows: [Flow; 2],
    mru_syn_time: i64,
    irtt_ns: i64,
    completeness: u8,
    /// Evidence for the corrected judgements, per flow.
    boards: [Scoreboard; 2],
    stats: ConnectionStats,
}

/// Streaming connection tracker and per-packet analyzer. Feed frames in file order.
#[derive(Default)]
pub struct Analyzer {
    table: ConversationTable,
    conversations: Vec<Conversation>,
}

impl Analyzer {
    pub fn new() -> Analyzer {
        Analyzer::default()
    }

    /// Number of streams created so far (the next `tcp.stream` index).
    pub fn stream_count(&self) -> u32 {
        u32::try_from(self.conversations.len()).unwrap_or(u32::MAX)
    }

    fn new_conversation(&mut self, src: Endpoint, dst: Endpoint, time_ns: i64) -> u32 {
        let stream = self.stream_count();
        self.conversations.push(Conversation {
            flows: [Flow::default(), Flow::default()],
            mru_syn_time: 0,
            irtt_ns: 0,
            completeness: 0,
            boards: Default::default(),
            stats: ConnectionStats::new(stream, src, dst, time_ns),
        });
        self.table.insert(src, dst, stream);
        stream
    }

    /// A TCP header quoted inside an ICMP error: Wireshark looks up or creates the
    /// conversation (consuming a stream index) but analyses nothing (§1, §5.13).
    pub fn icmp_quote(&mut self, seg: &Segment, time_ns: i64) -> u32 {
        let (src, dst) = endpoints(seg);
        match self.table.get(src, dst) {
            Some(stream) => stream,
            None => self.new_conversation(src, dst, time_ns),
        }
    }

    /// A TCP header tshark gives a stream but cannot analyse (its IP-reported length is
    /// shorter than the header): the conversation lookup runs, with the SYN port-reuse check,
    /// and the frame counts in the connection's packets and bytes.
    pub fn track_only(&mut self, seg: &Segment, time_ns: i64, frame_len: u32) -> u32 {
        let (src, dst) = endpoints(seg);
        let fwd_index = flow_index(src, dst);
        let (stream, _, _) = self.lookup(seg, src, dst, fwd_index, time_ns);
        self.conversations[stream as usize]
            .stats
            .count_frame(time_ns, frame_len, fwd_index);
        stream
    }

    /// Step 1 of §3: finds the conversation, applying port-reuse rule (a): a SYN with a new
    /// ISN on ports in use starts a new stream. Returns (stream, reused, created).
    fn lookup(
        &mut self,
        seg: &Segment,
        src: Endpoint,
        dst: Endpoint,
        fwd_index: usize,
        time_ns: i64,
    ) -> (u32, bool, bool) {
        let is_syn_only = seg.flags.0 & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN;
        match self.table.get(src, dst) {
            Some(stream) => {
                let fwd = &self.conversations[stream as usize].flows[fwd_index];
                if is_syn_only && fwd.base_set && seg.seq != fwd.base_seq {
                    (self.new_conversation(src, dst, time_ns), true, true)
                } else {
                    (stream, false, false)
                }
            }
            None => (self.new_conversation(src, dst, time_ns), false, true),
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
        let (src, dst) = endpoints(seg);
        let fwd_index = flow_index(src, dst);
        let flags = seg.flags;
        let is_syn_only = flags.0 & (TcpFlags::SYN | TcpFlags::ACK) == TcpFlags::SYN;
        let is_syn_ack =
            flags.0 & (TcpFlags::SYN | TcpFlags::ACK) == (TcpFlags::SYN | TcpFlags::ACK);

        let (stream, mut reused, created) = self.lookup(seg, src, dst, fwd_index, time_ns);
        let conv = &mut self.conversations[stream as usize];
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
        analysis
    }

    /// The summary of one connection so far.
    pub fn summary(&self, stream: u32) -> Option<ConnectionSummary> {
        self.conversations
            .get(stream as usize)
            .map(|c| c.stats.summary())
    }

    /// Summaries of every connection seen, in stream order.
    pub fn summaries(&self) -> impl Iterator<Item = ConnectionSummary> + '_ {
        self.conversations.iter().map(|c| c.stats.summary())
    }
}

fn endpoints(seg: &Segment) -> (Endpoint, Endpoint) {
    (
        Endpoint {
            ip: seg.src,
            port: seg.src_port,
        },
        Endpoint {
            ip: seg.dst,
            port: seg.dst_port,
        },
    )
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
