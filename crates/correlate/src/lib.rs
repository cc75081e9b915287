//! Two vantage points: the same TCP connections seen in several captures, matched packet by
//! packet, with the captures' clocks aligned, so that a packet that left one capture point and
//! never reached the other is located, and a RST that only the receiving side ever saw is shown
//! to have been made between the two points.
//!
//! Each capture is streamed once into a [`Recorder`] (a compact record per TCP packet); then
//! [`correlate`] matches connections by their endpoints (and ISN when the handshake is seen)
//! and packets by direction, sequence number, length, control flags and IP ID.

mod verdict;

use std::collections::VecDeque;

use rustc_hash::FxHashMap;
use serde::Serialize;
use tcpsleuth_analyze::seq::gt;
use tcpsleuth_analyze::Endpoint;
use tcpsleuth_decode::{Segment, TcpFlags};

/// Packets recorded per capture; past this the rest of the capture is not correlated (and the
/// result says so), which bounds memory at about 40 bytes a packet.
pub const DEFAULT_PACKET_LIMIT: usize = 4_000_000;

/// Lost or unexpected packets listed per direction; the counts are complete.
const LISTED: usize = 24;

#[derive(Debug, Clone, Copy)]
struct StreamInfo {
    /// The endpoint that sent the stream's first packet, and its peer.
    a: Endpoint,
    b: Endpoint,
    /// ISN of each endpoint's SYN, when captured.
    isn: [Option<u32>; 2],
    /// Endpoint a sent the SYN (without ACK): it is the client. None without a handshake.
    a_is_client: Option<bool>,
}

#[derive(Debug, Clone, Copy)]
struct Sighting {
    stream: u32,
    from_a: bool,
    seq: u32,
    /// The cumulative ACK it carries, when its ACK flag is set.
    ack: Option<u32>,
    len: u32,
    /// SYN, FIN and RST only: the flags that make a packet distinct.
    control: u16,
    ip_id: Option<u16>,
    time_ns: i64,
    frame: u64,
}

/// Collects one capture's TCP packets for correlation.
pub struct Recorder {
    streams: Vec<Option<StreamInfo>>,
    packets: Vec<Sighting>,
    limit: usize,
    truncated_at: Option<u64>,
}

impl Recorder {
    pub fn new(limit: usize) -> Recorder {
        Recorder {
            streams: Vec::new(),
            packets: Vec::new(),
            limit,
            truncated_at: None,
        }
    }

    pub fn record(&mut self, frame: u64, time_ns: i64, seg: &Segment, stream: u32) {
        if self.packets.len() >= self.limit {
            self.truncated_at.get_or_insert(frame);
            return;
        }
        let (src, dst) = Endpoint::pair_of(seg);
        let index = stream as usize;
        if self.streams.len() <= index {
            self.streams.resize(index + 1, None);
        }
        let Some(slot) = self.streams.get_mut(index) else {
            return;
        };
        let info = slot.get_or_insert(StreamInfo {
            a: src,
            b: dst,
            isn: [None, None],
            a_is_client: None,
        });
        let from_a = info.a == src;
        if seg.flags.syn() {
            let side = usize::from(!from_a);
            info.isn[side].get_or_insert(seg.seq);
            if !seg.flags.ack() {
                info.a_is_client.get_or_insert(from_a);
            }
        }
        self.packets.push(Sighting {
            stream,
            from_a,
            seq: seg.seq,
            ack: seg.flags.ack().then_some(seg.ack),
            len: seg.payload_len,
            control: seg.flags.0 & (TcpFlags::SYN | TcpFlags::FIN | TcpFlags::RST),
            ip_id: seg.ip_id.filter(|id| *id != 0),
            time_ns,
            frame,
        });
    }

    pub fn finish(self) -> Recording {
        let mut by_stream: FxHashMap<u32, Vec<Sighting>> = FxHashMap::default();
        for p in self.packets {
            by_stream.entry(p.stream).or_default().push(p);
        }
        Recording {
            streams: self.streams,
            packets: by_stream,
            truncated_at: self.truncated_at,
        }
    }
}

/// One capture's recorded packets, grouped by stream.
pub struct Recording {
    streams: Vec<Option<StreamInfo>>,
    packets: FxHashMap<u32, Vec<Sighting>>,
    /// The first frame not recorded (the packet limit was reached).
    pub truncated_at: Option<u64>,
}

/// A frame of one of the captures given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FrameRef {
    pub capture: usize,
    pub frame: u64,
}

/// How the second capture's clock relates to the first's: `t_second = t_first + offset`.
#[derive(Debug, Clone, Serialize)]
pub struct Clock {
    /// Seconds.
    pub offset: f64,
    /// The true offset lies within ± this (seconds): half the smallest round trip between the
    /// two points, since one-way delays cannot be told apart from clock offset.
    pub uncertainty: f64,
    /// Parts per million the second clock runs fast, from the offset early and late in the
    /// connection; absent when the connection is too short to tell.
    pub drift_ppm: Option<f64>,
    /// Packets seen at both points.
    pub matched: u64,
}

/// One direction of a connection between the two capture points.
#[derive(Debug, Clone, Serialize)]
pub struct PathDirection {
    /// "ip:port → ip:port".
    pub direction: String,
    /// The capture nearer the sender (the packets pass it first).
    pub upstream: usize,
    /// Median one-way delay between the points (seconds), after clock alignment.
    pub one_way_delay: Option<f64>,
    /// Packets the upstream capture saw during the time both captures were running.
    pub seen_upstream: u64,
    /// Of those, how many never reached the downstream capture point.
    pub lost_between: u64,
    pub lost: Vec<FrameRef>,
    /// Unmatched upstream segments whose bytes the downstream capture holds in other segments:
    /// split or merged by NIC offload (TSO/GSO, GRO) at one of the capturing hosts.
    pub resegmented: u64,
    /// Upstream segments, never retransmitted, that the receiver acknowledged but the downstream
    /// capture never recorded: that capture missed them.
    pub missed_downstream: u64,
    /// Packets seen downstream that the upstream capture never saw: missed by the upstream
    /// capture, or made between the two points.
    pub appeared: u64,
    pub appeared_frames: Vec<FrameRef>,
    /// RSTs among them: made between the points, by a device impersonating the sender.
    pub injected_rsts: Vec<FrameRef>,
}

/// One connection seen in two captures.
#[derive(Debug, Clone, Serialize)]
pub struct Correlation {
    pub captures: [usize; 2],
    pub streams: [u32; 2],
    pub clock: Clock,
    pub directions: Vec<PathDirection>,
    /// What only the two captures together prove.
    pub findings: Vec<verdict::PathFinding>,
    /// Both captures' events of this connection on one clock (the first capture's).
    pub timeline: Vec<verdict::PathEvent>,
}

pub use verdict::{PathEvent, PathFinding};

/// Matches the connections every pair of captures has in common.
pub fn correlate(recordings: &[Recording]) -> Vec<Correlation> {
    let mut out = Vec::new();
    let indexes: Vec<Index> = recordings.iter().map(index).collect();
    for i in 0..recordings.len() {
        for j in i + 1..recordings.len() {
            let (ri, rj) = (&recordings[i], &recordings[j]);
            for (si, info_i) in ri.streams.iter().enumerate() {
                let Some(info_i) = info_i else { continue };
                let Some((sj, flip)) = find_stream(info_i, rj, &indexes[j]) else {
                    continue;
                };
                let (Some(pi), Some(pj)) =
                    (ri.packets.get(&(si as u32)), rj.packets.get(&(sj as u32)))
                else {
                    continue;
                };
                if let Some(c) =
                    correlate_stream([i, j], [si as u32, sj as u32], info_i, pi, pj, flip)
                {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// A connection's endpoints, in a fixed order.
type PairKey = (Endpoint, Endpoint);

fn pair_key(info: &StreamInfo) -> PairKey {
    if info.a <= info.b {
        (info.a, info.b)
    } else {
        (info.b, info.a)
    }
}

/// Streams of one recording by their endpoints (several when ports were reused).
/// Streams of one recording by their endpoints (several when ports were reused), and by the
/// client's ISN (to find a connection behind a NAT that rewrote addresses or ports).
struct Index {
    by_pair: FxHashMap<PairKey, Vec<usize>>,
    by_client_isn: FxHashMap<u32, Vec<usize>>,
}

fn client_isn(info: &StreamInfo) -> Option<u32> {
    let client = usize::from(!info.a_is_client?);
    info.isn[client]
}

fn index(recording: &Recording) -> Index {
    let mut by_pair: FxHashMap<PairKey, Vec<usize>> = FxHashMap::default();
    let mut by_client_isn: FxHashMap<u32, Vec<usize>> = FxHashMap::default();
    for (s, info) in recording.streams.iter().enumerate() {
        if let Some(info) = info {
            by_pair.entry(pair_key(info)).or_default().push(s);
            if let Some(isn) = client_isn(info) {
                by_client_isn.entry(isn).or_default().push(s);
            }
        }
    }
    Index {
        by_pair,
        by_client_isn,
    }
}

/// The stream of `other` carrying the same connection, and whether its first sender is the
/// other endpoint (`flip`). Same endpoints and, where both saw the SYN, the same ISNs; else,
/// behind a NAT, the same ISNs on both sides (32 random bits each: a coincidence is unlikely).
fn find_stream(info: &StreamInfo, other: &Recording, index: &Index) -> Option<(usize, bool)> {
    let isns_agree = |candidate: &StreamInfo, flip: bool| {
        (0..2).all(|side| {
            match (
                info.isn[side],
                candidate.isn[if flip { 1 - side } else { side }],
            ) {
                (Some(x), Some(y)) => x == y,
                _ => true,
            }
        })
    };
    let same_endpoints = index.by_pair.get(&pair_key(info)).and_then(|streams| {
        streams.iter().find_map(|&s| {
            let candidate = (*other.streams.get(s)?)?;
            let flip = info.a != candidate.a;
            isns_agree(&candidate, flip).then_some((s, flip))
        })
    });
    same_endpoints.or_else(|| {
        let isn = client_isn(info)?;
        index.by_client_isn.get(&isn)?.iter().find_map(|&s| {
            let candidate = (*other.streams.get(s)?)?;
            let flip = info.a_is_client? != candidate.a_is_client?;
            let both_isns = info.isn.iter().all(Option::is_some);
            (both_isns && isns_agree(&candidate, flip)).then_some((s, flip))
        })
    })
}

type Key = (bool, u32, u32, u16, Option<u16>);

fn key(p: &Sighting, flip: bool, with_ip_id: bool) -> Key {
    (
        p.from_a != flip,
        p.seq,
        p.len,
        p.control,
        if with_ip_id { p.ip_id } else { None },
    )
}

/// Pairs each packet of `first` with the same packet in `second` (the k-th copy with the k-th
/// copy). Returns, per packet of each capture, the index of its partner.
fn pair(
    first: &[Sighting],
    second: &[Sighting],
    flip: bool,
    with_ip_id: bool,
) -> (Vec<Option<usize>>, Vec<Option<usize>>) {
    let mut waiting: FxHashMap<Key, VecDeque<usize>> = FxHashMap::default();
    for (n, p) in second.iter().enumerate() {
        waiting
            .entry(key(p, flip, with_ip_id))
            .or_default()
            .push_back(n);
    }
    let mut of_first = vec![None; first.len()];
    let mut of_second = vec![None; second.len()];
    for (n, p) in first.iter().enumerate() {
        let k = key(p, false, with_ip_id);
        if let Some(m) = waiting.get_mut(&k).and_then(VecDeque::pop_front) {
            of_first[n] = Some(m);
            of_second[m] = Some(n);
        }
    }
    (of_first, of_second)
}

fn correlate_stream(
    captures: [usize; 2],
    streams: [u32; 2],
    info: &StreamInfo,
    first: &[Sighting],
    second: &[Sighting],
    flip: bool,
) -> Option<Correlation> {
    // IP IDs tell retransmissions apart; a NAT or a stack sending ID 0 makes them useless.
    let (mut of_first, mut of_second) = pair(first, second, flip, true);
    let matched = of_first.iter().flatten().count();
    if matched * 2 < first.len().min(second.len()) {
        (of_first, of_second) = pair(first, second, flip, false);
    }
    // d = t_second - t_first per matched packet, by direction (true: sent by endpoint a).
    let mut deltas: [Vec<(i64, i64)>; 2] = [Vec::new(), Vec::new()];
    for (n, m) in of_first.iter().enumerate() {
        if let Some(m) = m {
            let p = &first[n];
            deltas[usize::from(p.from_a)]
                .push((p.time_ns, second[*m].time_ns.saturating_sub(p.time_ns)));
        }
    }
    let total = deltas[0].len() + deltas[1].len();
    if total == 0 {
        return None;
    }
    let (offset, half_rtt, a_upstream_first) = estimate(&deltas[1], &deltas[0])?;
    let drift_ppm = drift(&deltas[1], &deltas[0]);

    // The span both captures cover, on the first capture's clock.
    let span = |ps: &[Sighting], shift: i64| {
        let lo = ps
            .iter()
            .map(|p| p.time_ns)
            .min()
            .unwrap_or(0)
            .saturating_sub(shift);
        let hi = ps
            .iter()
            .map(|p| p.time_ns)
            .max()
            .unwrap_or(0)
            .saturating_sub(shift);
        (lo, hi)
    };
    let (f_lo, f_hi) = span(first, 0);
    let (s_lo, s_hi) = span(second, offset);
    let (lo, hi) = (f_lo.max(s_lo), f_hi.min(s_hi));

    let mut directions = Vec::new();
    let mut fates_first = vec![Fate::Arrived; first.len()];
    let mut fates_second = vec![Fate::Arrived; second.len()];
    for from_a in [true, false] {
        // Which capture the packets of this direction pass first.
        let first_is_upstream = from_a == a_upstream_first;
        let (up, down, up_pairs, down_pairs, up_shift, down_shift) = if first_is_upstream {
            (first, second, &of_first, &of_second, 0, offset)
        } else {
            (second, first, &of_second, &of_first, offset, 0)
        };
        let (up_capture, down_capture) = if first_is_upstream {
            (captures[0], captures[1])
        } else {
            (captures[1], captures[0])
        };
        let sent_by = |p: &Sighting, is_second: bool| (p.from_a != (flip && is_second)) == from_a;
        let up_is_second = !first_is_upstream;
        // Packets sent upstream by the time the downstream capture stopped, less a round trip.
        let margin = half_rtt.saturating_mul(2).saturating_add(1_000_000);
        let mut seen_upstream = 0;
        let mut lost = Vec::new();
        let mut lost_between = 0;
        let mut resegmented = 0;
        let mut missed_downstream = 0;
        let covered = Coverage::of(down.iter().filter(|p| sent_by(p, !up_is_second)));
        let receiver_acked = down
            .iter()
            .filter(|p| !sent_by(p, !up_is_second))
            .filter_map(|p| p.ack)
            .reduce(|a, b| if gt(b, a) { b } else { a });
        let mut copies: FxHashMap<u32, u32> = FxHashMap::default();
        for p in up.iter().filter(|p| sent_by(p, up_is_second) && p.len > 0) {
            *copies.entry(p.seq).or_insert(0) += 1;
        }
        let fates = if first_is_upstream {
            &mut fates_first
        } else {
            &mut fates_second
        };
        for (n, p) in up.iter().enumerate() {
            let t = p.time_ns.saturating_sub(up_shift);
            if !sent_by(p, up_is_second) || t < lo || t > hi.saturating_sub(margin) {
                continue;
            }
            seen_upstream += 1;
            if up_pairs[n].is_some() {
                continue;
            }
            let end = p.seq.wrapping_add(p.len);
            // A segment sent once whose bytes arrived in other segments was split or merged by
            // offload; one that was resent was lost (its copy covers the same bytes).
            let sent_once = copies.get(&p.seq) == Some(&1);
            let fate = if p.len > 0 && sent_once && covered.contains(p.seq, end) {
                resegmented += 1;
                Fate::Resegmented
            } else if p.len > 0 && sent_once && receiver_acked.is_some_and(|ack| !gt(end, ack)) {
                missed_downstream += 1;
                Fate::MissedDownstream
            } else {
                lost_between += 1;
                if lost.len() < LISTED {
                    lost.push(FrameRef {
                        capture: up_capture,
                        frame: p.frame,
                    });
                }
                Fate::Lost
            };
            if let Some(slot) = fates.get_mut(n) {
                *slot = fate;
            }
        }
        let mut appeared = 0;
        let mut appeared_frames = Vec::new();
        let mut injected_rsts = Vec::new();
        for (n, p) in down.iter().enumerate() {
            let t = p.time_ns.saturating_sub(down_shift);
            if !sent_by(p, !up_is_second)
                || t < lo.saturating_add(margin)
                || t > hi
                || down_pairs[n].is_some()
            {
                continue;
            }
            appeared += 1;
            let at = FrameRef {
                capture: down_capture,
                frame: p.frame,
            };
            if appeared_frames.len() < LISTED {
                appeared_frames.push(at);
            }
            if p.control & TcpFlags::RST != 0 && injected_rsts.len() < LISTED {
                injected_rsts.push(at);
            }
        }
        let delays: Vec<i64> = deltas[usize::from(from_a)]
            .iter()
            .map(|(_, d)| {
                if first_is_upstream {
                    d.saturating_sub(offset)
                } else {
                    offset.saturating_sub(*d)
                }
            })
            .collect();
        let (src, dst) = if from_a {
            (info.a, info.b)
        } else {
            (info.b, info.a)
        };
        directions.push(PathDirection {
            direction: format!("{src} → {dst}"),
            upstream: up_capture,
            one_way_delay: median(delays).map(|d| d.max(0) as f64 / 1e9),
            seen_upstream,
            lost_between,
            lost,
            resegmented,
            missed_downstream,
            appeared,
            appeared_frames,
            injected_rsts,
        });
    }
    let view = verdict::View {
        captures,
        info,
        first,
        second,
        of_first: &of_first,
        of_second: &of_second,
        fates: [&fates_first, &fates_second],
        flip,
        offset,
        a_upstream_first,
        window: (lo, hi),
    };
    let (findings, timeline) = verdict::judge(&view, &directions);
    Some(Correlation {
        captures,
        streams,
        clock: Clock {
            offset: offset as f64 / 1e9,
            uncertainty: half_rtt as f64 / 1e9,
            drift_ppm,
            matched: total as u64,
        },
        directions,
        findings,
        timeline,
    })
}

/// What became of an upstream packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Matched downstream (or not judged: downstream-only, outside the common time).
    Arrived,
    Resegmented,
    MissedDownstream,
    Lost,
}

/// The byte ranges a set of data segments covers, merged.
struct Coverage {
    base: u32,
    ranges: Vec<(u32, u32)>,
}

impl Coverage {
    fn of<'a>(segments: impl Iterator<Item = &'a Sighting>) -> Coverage {
        let data: Vec<&Sighting> = segments.filter(|p| p.len > 0).collect();
        let base = data.first().map_or(0, |p| p.seq);
        // Offsets from the first segment keep the comparison wrap-safe within 2 GB.
        let mut ranges: Vec<(u32, u32)> = data
            .iter()
            .map(|p| {
                let start = p.seq.wrapping_sub(base);
                (start, start.saturating_add(p.len))
            })
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
        for (s, e) in ranges {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        Coverage {
            base,
            ranges: merged,
        }
    }

    fn contains(&self, seq: u32, end: u32) -> bool {
        let s = seq.wrapping_sub(self.base);
        let e = s.saturating_add(end.wrapping_sub(seq));
        let i = self.ranges.partition_point(|r| r.0 <= s);
        i > 0 && self.ranges.get(i - 1).is_some_and(|r| e <= r.1)
    }
}

fn median(mut v: Vec<i64>) -> Option<i64> {
    v.sort_unstable();
    v.get(v.len() / 2).copied()
}

/// Offset and half round trip between the points from the (time, t_second − t_first) samples
/// of each direction, and whether packets from endpoint a pass the first capture first.
///
/// Packets travelling first → second satisfy d = offset + delay ≥ offset, those travelling
/// second → first d = offset − delay ≤ offset: the offset lies between the largest d of one
/// direction and the smallest of the other, whichever way round is consistent.
fn estimate(from_a: &[(i64, i64)], from_b: &[(i64, i64)]) -> Option<(i64, i64, bool)> {
    let min = |v: &[(i64, i64)]| v.iter().map(|s| s.1).min();
    let max = |v: &[(i64, i64)]| v.iter().map(|s| s.1).max();
    let bounds = |down: &[(i64, i64)], up: &[(i64, i64)]| -> Option<(i64, i64)> {
        // `down` travels first → second (d ≥ offset), `up` the other way (d ≤ offset).
        match (min(down), max(up)) {
            (Some(hi), Some(lo)) => Some((lo, hi)),
            (Some(hi), None) => Some((hi, hi)),
            (None, Some(lo)) => Some((lo, lo)),
            (None, None) => None,
        }
    };
    let a_first = bounds(from_a, from_b)?;
    let b_first = bounds(from_b, from_a)?;
    // The consistent orientation leaves a non-negative interval (the round trip); take the
    // wider one when both do (identical captures: both are a point).
    let width = |(lo, hi): (i64, i64)| hi.saturating_sub(lo);
    let (interval, a_upstream) = if width(a_first) >= width(b_first) {
        (a_first, true)
    } else {
        (b_first, false)
    };
    let (lo, hi) = interval;
    let half = hi.saturating_sub(lo) / 2;
    Some((lo.saturating_add(half), half.saturating_abs(), a_upstream))
}

/// Drift from the offsets estimated over the first and the last third of the samples.
fn drift(from_a: &[(i64, i64)], from_b: &[(i64, i64)]) -> Option<f64> {
    let mut all: Vec<(i64, i64, bool)> = from_a
        .iter()
        .map(|&(t, d)| (t, d, true))
        .chain(from_b.iter().map(|&(t, d)| (t, d, false)))
        .collect();
    all.sort_unstable_by_key(|s| s.0);
    if all.len() < 30 {
        return None;
    }
    let third = all.len() / 3;
    let part = |s: &[(i64, i64, bool)]| {
        let a: Vec<(i64, i64)> = s.iter().filter(|x| x.2).map(|x| (x.0, x.1)).collect();
        let b: Vec<(i64, i64)> = s.iter().filter(|x| !x.2).map(|x| (x.0, x.1)).collect();
        if a.is_empty() || b.is_empty() {
            return None;
        }
        // Mean time, relative to the first sample (absolute nanosecond times would overflow).
        let first = s.first()?.0;
        let t = first
            + s.iter()
                .map(|x| (x.0 - first) / s.len() as i64)
                .sum::<i64>();
        estimate(&a, &b).map(|(off, _, _)| (t, off))
    };
    let (t0, o0) = part(&all[..third])?;
    let (t1, o1) = part(&all[all.len() - third..])?;
    let span = t1 - t0;
    (span >= 1_000_000_000).then(|| (o1 - o0) as f64 / span as f64 * 1e6)
}
