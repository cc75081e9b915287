//! What the two captures prove together: packets lost between the capture points, segments
//! that reached the receiver's capture point and were refused, resets made between the points,
//! and one timeline of the connection on a single clock.

use std::collections::BTreeMap;

use serde::Serialize;
use tcpsleuth_analyze::seq::gt;
use tcpsleuth_decode::TcpFlags;
use tcpsleuth_diagnose::{Actor, FindingId};

use crate::{Fate, FrameRef, PathDirection, Sighting, StreamInfo};

/// Timeline events kept per connection.
const MAX_EVENTS: usize = 40;

/// A finding only the two captures together prove; its evidence names capture and frame.
#[derive(Debug, Clone, Serialize)]
pub struct PathFinding {
    pub id: FindingId,
    pub actor: Actor,
    pub confidence: f64,
    pub evidence: Vec<FrameRef>,
    pub summary: String,
    pub explanation: String,
}

/// One step of the merged timeline.
#[derive(Debug, Clone, Serialize)]
pub struct PathEvent {
    /// Seconds since the connection's first packet, on the first capture's clock.
    pub time: f64,
    /// Where it was seen: one frame, or the same packet at both points.
    pub at: Vec<FrameRef>,
    pub text: String,
}

/// One connection as both captures saw it, with the packets paired and the clocks aligned.
pub(crate) struct View<'a> {
    pub captures: [usize; 2],
    pub info: &'a StreamInfo,
    pub first: &'a [Sighting],
    pub second: &'a [Sighting],
    pub of_first: &'a [Option<usize>],
    pub of_second: &'a [Option<usize>],
    /// What became of each packet of the first and the second capture (upstream ones).
    pub fates: [&'a [Fate]; 2],
    pub flip: bool,
    /// t_second = t_first + offset (ns).
    pub offset: i64,
    /// Packets from endpoint a pass the first capture first.
    pub a_upstream_first: bool,
    /// The time both captures were running, on the first capture's clock.
    pub window: (i64, i64),
}

impl View<'_> {
    fn client_is_a(&self) -> bool {
        self.info
            .a_is_client
            .unwrap_or(self.info.a.port > self.info.b.port)
    }
    fn role(&self, from_a: bool) -> &'static str {
        if from_a == self.client_is_a() {
            "client"
        } else {
            "server"
        }
    }
    fn actor(&self, from_a: bool) -> Actor {
        if from_a == self.client_is_a() {
            Actor::Client
        } else {
            Actor::Server
        }
    }
    /// Sent by endpoint a? (`second`'s packets are oriented by its own first sender.)
    fn sent_by_a(&self, p: &Sighting, in_second: bool) -> bool {
        p.from_a != (self.flip && in_second)
    }
    fn aligned(&self, p: &Sighting, in_second: bool) -> i64 {
        if in_second {
            p.time_ns.saturating_sub(self.offset)
        } else {
            p.time_ns
        }
    }
    fn at(&self, p: &Sighting, in_second: bool) -> FrameRef {
        FrameRef {
            capture: self.captures[usize::from(in_second)],
            frame: p.frame,
        }
    }
    /// Sequence number relative to the sender's ISN, as Wireshark shows it.
    fn rel(&self, p: &Sighting, from_a: bool) -> u32 {
        self.info.isn[usize::from(!from_a)].map_or(p.seq, |isn| p.seq.wrapping_sub(isn))
    }
    /// Is the first capture the one nearer the sender of this direction?
    fn first_is_upstream(&self, from_a: bool) -> bool {
        from_a == self.a_upstream_first
    }
}

pub(crate) fn judge(
    v: &View<'_>,
    directions: &[PathDirection],
) -> (Vec<PathFinding>, Vec<PathEvent>) {
    let mut findings = Vec::new();
    for (from_a, d) in [true, false].into_iter().zip(directions) {
        injected(v, from_a, d, &mut findings);
        lost(v, from_a, d, &mut findings);
        rejected(v, from_a, &mut findings);
    }
    (findings, timeline(v))
}

fn capture_name(n: usize) -> String {
    format!("capture {n}")
}

fn injected(v: &View<'_>, from_a: bool, d: &PathDirection, out: &mut Vec<PathFinding>) {
    let Some(first_rst) = d.injected_rsts.first() else {
        return;
    };
    let claimed = v.role(from_a);
    let peer = v.role(!from_a);
    out.push(PathFinding {
        id: FindingId::ResetInjected,
        actor: Actor::Middlebox,
        confidence: 0.97,
        evidence: d.injected_rsts.clone(),
        summary: format!(
            "The RST at {} frame {} claims to come from the {claimed}, but it never passed {}, nearer the {claimed}: a device between the two capture points made it",
            capture_name(first_rst.capture),
            first_rst.frame,
            capture_name(d.upstream)
        ),
        explanation: format!(
            "Every other packet from the {claimed} passed {} first and then reached the {peer}'s side; this RST was only ever seen downstream. It was forged between the two points (a firewall, IPS, NAT or load balancer), and the {claimed} never sent it.",
            capture_name(d.upstream)
        ),
    });
}

fn lost(v: &View<'_>, from_a: bool, d: &PathDirection, out: &mut Vec<PathFinding>) {
    if d.missed_downstream > 0 {
        let (snd, downc) = (v.role(from_a), capture_name(down_capture(v, from_a)));
        out.push(PathFinding {
            id: FindingId::CaptureMissedPackets,
            actor: Actor::Capture,
            confidence: 0.95,
            evidence: fate_frames(v, from_a, Fate::MissedDownstream),
            summary: {
                let n = d.missed_downstream;
                let (segments, verb, them) = if n == 1 {
                    ("segment", "appears", "it")
                } else {
                    ("segments", "appear", "them")
                };
                format!(
                    "{n} of the {snd}'s {segments}, acknowledged by the {}, never {verb} in {downc}: that capture missed {them}",
                    v.role(!from_a)
                )
            },
            explanation: format!("They left the {snd}'s side, were never retransmitted, and the receiver's ACK covered them, so they arrived: {downc} simply did not record them (capture buffer overflow, a mirror port dropping under load, or frames removed later)."),
        });
    }
    if d.resegmented > 0 {
        let snd = v.role(from_a);
        out.push(PathFinding {
            id: FindingId::CaptureOffload,
            actor: Actor::Capture,
            confidence: 0.9,
            evidence: fate_frames(v, from_a, Fate::Resegmented),
            summary: format!(
                "{} of the {snd}'s segments in {} arrived in other sizes at {}: NIC offload (TSO/GSO or GRO) at a capturing host",
                d.resegmented,
                capture_name(d.upstream),
                capture_name(down_capture(v, from_a))
            ),
            explanation: "The same bytes crossed both capture points, cut into different segments: one capture was taken on a host whose NIC or kernel splits (TSO/GSO) or merges (GRO/LRO) segments after or before the capture point. Nothing was lost.".into(),
        });
    }
    if d.lost_between == 0 {
        return;
    }
    let first_up = v.first_is_upstream(from_a);
    let (up, pairs) = if first_up {
        (v.first, v.of_first)
    } else {
        (v.second, v.of_second)
    };
    let (lo, hi) = v.window;
    // Lost copies per sequence number, and whether the handshake itself lost packets.
    let mut by_seq: BTreeMap<u32, Vec<&Sighting>> = BTreeMap::new();
    let mut syn_lost = Vec::new();
    let fates = v.fates[usize::from(!first_up)];
    for (n, p) in up.iter().enumerate() {
        let t = v.aligned(p, !first_up);
        let fate = fates.get(n).copied().unwrap_or(Fate::Arrived);
        let handshake_lost = p.control & TcpFlags::SYN != 0 && pairs[n].is_none();
        if v.sent_by_a(p, !first_up) != from_a
            || t < lo
            || t > hi
            || !(fate == Fate::Lost || handshake_lost)
        {
            continue;
        }
        if p.control & TcpFlags::SYN != 0 {
            syn_lost.push(v.at(p, !first_up));
        } else if p.len > 0 {
            by_seq.entry(p.seq).or_default().push(p);
        }
    }
    let (snd, rcv) = (v.role(from_a), v.role(!from_a));
    let (upc, downc) = (
        capture_name(d.upstream),
        capture_name(down_capture(v, from_a)),
    );
    if !syn_lost.is_empty() {
        out.push(PathFinding {
            id: if established(v) { FindingId::HandshakeSynRetransmitted } else { FindingId::HandshakeNoResponse },
            actor: Actor::Network,
            confidence: 0.95,
            evidence: syn_lost.clone(),
            summary: format!(
                "{} from the {snd} passed {upc} and never reached {downc}: lost between the two capture points",
                if syn_lost.len() == 1 { "A SYN".to_string() } else { format!("{} SYNs", syn_lost.len()) }
            ),
            explanation: format!("The handshake packets left the {snd}'s side and did not arrive at the {rcv}'s: the network between the two points dropped them (a filter, a route, a congested link), not the {rcv}."),
        });
    }
    let Some((&seq, copies)) = by_seq.iter().max_by_key(|(_, c)| c.len()) else {
        return;
    };
    let evidence: Vec<FrameRef> = by_seq
        .values()
        .flatten()
        .take(24)
        .map(|p| v.at(p, !first_up))
        .collect();
    let rel = copies.first().map_or(seq, |p| v.rel(p, from_a));
    if copies.len() >= 3 {
        out.push(PathFinding {
            id: FindingId::StallRetransmissionLoop,
            actor: Actor::Network,
            confidence: 0.95,
            evidence,
            summary: format!(
                "The {snd} sent seq {rel} {} times and no copy reached {downc}: every copy was lost between the two capture points",
                copies.len()
            ),
            explanation: format!(
                "{upc} saw each copy leave the {snd}'s side; {downc}, on the {rcv}'s side, never saw one. The network between the points drops this segment and its retransmissions (a device filtering on content, a path-MTU black hole, a broken link), so the {rcv} cannot accept what never arrives."
            ),
        });
    } else {
        out.push(PathFinding {
            id: FindingId::LossRetransmissions,
            actor: Actor::Network,
            confidence: 0.9,
            evidence,
            summary: format!(
                "{} of the {snd}'s {} packets {} lost between {upc} and {downc}",
                d.lost_between,
                d.seen_upstream,
                if d.lost_between == 1 { "was" } else { "were" }
            ),
            explanation: format!("These packets passed the capture point on the {snd}'s side and never reached the one on the {rcv}'s side: loss on the path between the two points."),
        });
    }
}

fn fate_frames(v: &View<'_>, from_a: bool, fate: Fate) -> Vec<FrameRef> {
    let first_up = v.first_is_upstream(from_a);
    let up = if first_up { v.first } else { v.second };
    let fates = v.fates[usize::from(!first_up)];
    up.iter()
        .enumerate()
        .filter(|(n, _)| fates.get(*n) == Some(&fate))
        .take(24)
        .map(|(_, p)| v.at(p, !first_up))
        .collect()
}

fn down_capture(v: &View<'_>, from_a: bool) -> usize {
    v.captures[usize::from(v.first_is_upstream(from_a))]
}

/// Did the handshake complete (a SYN-ACK seen at both points)?
fn established(v: &View<'_>) -> bool {
    v.first
        .iter()
        .enumerate()
        .any(|(n, p)| p.control & TcpFlags::SYN != 0 && p.ack.is_some() && v.of_first[n].is_some())
}

/// Segments whose copies reached the downstream capture point again and again while the
/// receiver, as seen there, never acknowledged them.
fn rejected(v: &View<'_>, from_a: bool, out: &mut Vec<PathFinding>) {
    let down_is_second = v.first_is_upstream(from_a);
    let (down, pairs) = if down_is_second {
        (v.second, v.of_second)
    } else {
        (v.first, v.of_first)
    };
    let mut arrived: BTreeMap<u32, Vec<&Sighting>> = BTreeMap::new();
    for (n, p) in down.iter().enumerate() {
        if v.sent_by_a(p, down_is_second) == from_a && p.len > 0 && pairs[n].is_some() {
            arrived.entry(p.seq).or_default().push(p);
        }
    }
    let refused = arrived
        .iter()
        .filter(|(_, c)| c.len() >= 3)
        .find(|(&seq, copies)| {
            let since = copies.first().map_or(0, |p| p.time_ns);
            !down.iter().any(|p| {
                v.sent_by_a(p, down_is_second) != from_a
                    && p.time_ns >= since
                    && p.ack.is_some_and(|ack| gt(ack, seq))
            })
        });
    let Some((_, copies)) = refused else { return };
    let (snd, rcv) = (v.role(from_a), v.role(!from_a));
    let downc = capture_name(v.captures[usize::from(down_is_second)]);
    let rel = copies.first().map_or(0, |p| v.rel(p, from_a));
    out.push(PathFinding {
        id: FindingId::LossSegmentRejected,
        actor: v.actor(!from_a),
        confidence: 0.95,
        evidence: copies.iter().take(24).map(|p| v.at(p, down_is_second)).collect(),
        summary: format!(
            "Every copy of the {snd}'s seq {rel} reached {downc}, on the {rcv}'s side, and the {rcv} never acknowledged it: refused inside the {rcv}'s host, not lost on the path",
        ),
        explanation: format!(
            "The {} copies passed both capture points, so the network delivered them; the {rcv}'s ACK never moved past them. The {rcv}'s host discarded the segment after its capture point: a host firewall rule, a checksum or validation failure, or a NIC/driver drop.",
            copies.len()
        ),
    });
}

fn timeline(v: &View<'_>) -> Vec<PathEvent> {
    let start = v
        .first
        .iter()
        .map(|p| p.time_ns)
        .chain(v.second.iter().map(|p| p.time_ns.saturating_sub(v.offset)))
        .min()
        .unwrap_or(0);
    let sides = [(false, v.first, v.of_first), (true, v.second, v.of_second)];
    // A matched packet is told once, from the capture it passed first; a lost one once per
    // segment, with the number of copies lost.
    let lost_here = |in_second: bool, n: usize, p: &Sighting, _: &[Option<usize>]| {
        p.len > 0 && v.fates[usize::from(in_second)].get(n) == Some(&Fate::Lost)
    };
    let mut lost_copies: BTreeMap<(bool, u32), usize> = BTreeMap::new();
    for (in_second, packets, pairs) in sides {
        for (n, p) in packets.iter().enumerate() {
            if control_name(p).is_none() && lost_here(in_second, n, p, pairs) {
                *lost_copies
                    .entry((v.sent_by_a(p, in_second), p.seq))
                    .or_insert(0) += 1;
            }
        }
    }
    let mut events: Vec<(i64, PathEvent)> = Vec::new();
    for (in_second, packets, pairs) in sides {
        for (n, p) in packets.iter().enumerate() {
            let from_a = v.sent_by_a(p, in_second);
            let upstream_here = v.first_is_upstream(from_a) != in_second;
            let who = v.role(from_a);
            let t = v.aligned(p, in_second);
            let here = v.at(p, in_second);
            let other = capture_name(v.captures[usize::from(!in_second)]);
            // Outside the time both captures cover, absence from the other proves nothing.
            let covered = t >= v.window.0 && t <= v.window.1;
            let (at, text) = match (control_name(p), pairs[n]) {
                (Some(what), Some(m)) if upstream_here => {
                    let there = if in_second { &v.first[m] } else { &v.second[m] };
                    let delay = (v.aligned(there, !in_second) - t).max(0);
                    (
                        vec![here, v.at(there, !in_second)],
                        format!(
                            "{who} sends {what}; it reaches the other capture point {:.3} ms later",
                            delay as f64 / 1e6
                        ),
                    )
                }
                (Some(what), None) if !covered => (
                    vec![here],
                    format!("{who} sends {what} ({other} has no packet of this connection from that time)"),
                ),
                (Some(what), None) if upstream_here => {
                    (vec![here], format!("{who} sends {what}; it never reaches {other}"))
                }
                (Some(what), None) => (
                    vec![here],
                    format!("{what} \"from the {who}\" appears here but never passed {other}"),
                ),
                (None, _) if lost_here(in_second, n, p, pairs) => {
                    // Only the first lost copy of a segment gets a line.
                    let Some(copies) = lost_copies.remove(&(from_a, p.seq)) else {
                        continue;
                    };
                    let count = if copies > 1 {
                        format!(" ({copies} copies, none arrived)")
                    } else {
                        String::new()
                    };
                    (
                        vec![here],
                        format!(
                            "{who} sends seq {}, {} bytes; it never reaches {other}{count}",
                            v.rel(p, from_a),
                            p.len
                        ),
                    )
                }
                _ => continue,
            };
            events.push((
                t,
                PathEvent {
                    time: secs(t - start),
                    at,
                    text,
                },
            ));
        }
    }
    events.sort_by_key(|e| e.0);
    let mut out: Vec<PathEvent> = events.into_iter().map(|e| e.1).collect();
    if out.len() > MAX_EVENTS {
        let dropped = out.len() - MAX_EVENTS;
        out.truncate(MAX_EVENTS);
        if let Some(last) = out.last_mut() {
            last.text.push_str(&format!(" … ({dropped} more events)"));
        }
    }
    out
}

fn control_name(p: &Sighting) -> Option<&'static str> {
    let c = p.control;
    if c & TcpFlags::RST != 0 {
        Some("RST")
    } else if c & TcpFlags::SYN != 0 && p.ack.is_some() {
        Some("SYN-ACK")
    } else if c & TcpFlags::SYN != 0 {
        Some("SYN")
    } else if c & TcpFlags::FIN != 0 {
        Some("FIN")
    } else {
        None
    }
}

fn secs(ns: i64) -> f64 {
    ns as f64 / 1e9
}
