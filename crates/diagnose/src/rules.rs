//! The decision rules: from one connection's evidence to its findings. Each rule is documented
//! in docs/findings.md (evidence, thresholds and why, what lowers confidence).

use tcpsleuth_analyze::ConnectionSummary;

use crate::advice;
use crate::evidence::{
    At, Evidence, FrameList, HoleFill, RetransRun, Retransmission, RstSeen, Side, STALLED_HOLE_NS,
};
use crate::finding::{Actor, Finding, FindingId, Severity, TimelineEntry};
use crate::vantage::{Vantage, VantagePoint};

/// Everything a rule needs about the connection, oriented client/server.
pub struct Ctx<'a> {
    pub ev: &'a Evidence,
    pub summary: &'a ConnectionSummary,
    pub client: usize,
    pub vantage: &'a Vantage,
    /// Timestamp of the capture's first frame, for `frame.time_relative`.
    pub capture_start_ns: i64,
    /// Select the connection by addresses and ports rather than `tcp.stream` (see
    /// `Diagnoser::filter_by_address`).
    pub address_filters: bool,
}

impl Ctx<'_> {
    pub fn server(&self) -> usize {
        1 - self.client
    }
    pub fn actor(&self, side: usize) -> Actor {
        if side == self.client {
            Actor::Client
        } else {
            Actor::Server
        }
    }
    pub fn name(&self, side: usize) -> &'static str {
        self.actor(side).as_str()
    }
    pub fn side(&self, side: usize) -> &Side {
        &self.ev.sides[side]
    }
    pub fn rel(&self, at: At) -> f64 {
        (at.1.saturating_sub(self.capture_start_ns)) as f64 / 1e9
    }
    fn entry(&self, at: At, text: impl Into<String>) -> TimelineEntry {
        TimelineEntry {
            frame: at.0,
            last_frame: None,
            time: self.rel(at),
            text: text.into(),
        }
    }
    fn span(&self, list: &FrameList, text: impl Into<String>) -> Option<TimelineEntry> {
        let first = list.first()?;
        let mut e = self.entry(first, text);
        e.last_frame = list.last.map(|l| l.0).filter(|&l| l != first.0);
        Some(e)
    }
    /// Is the capture on (or next to) this side's host?
    pub fn near(&self, side: usize) -> bool {
        let want = if side == self.client {
            VantagePoint::NearClient
        } else {
            VantagePoint::NearServer
        };
        self.vantage.point == want
    }
    /// The connection's round-trip time: the handshake's, else the smallest ACK RTT (ns).
    fn base_rtt_ns(&self) -> Option<i64> {
        let s = self.summary;
        s.handshake
            .rtt
            .or(s.ack_rtt.as_ref().map(|r| r.min))
            .map(|secs| (secs * 1e9) as i64)
            .filter(|&ns| ns > 0)
    }
    fn stream_filter(&self) -> String {
        if !self.address_filters {
            return format!("tcp.stream eq {}", self.ev.stream);
        }
        let [a, b] = self.ev.sides.each_ref().map(|s| s.endpoint);
        let field = if a.ip.is_ipv4() {
            "ip.addr"
        } else {
            "ipv6.addr"
        };
        // Bounded by the connection's first and last frame (a microsecond of slack each way:
        // the summary's times are floating point), so that an earlier or later connection
        // reusing the same ports in another file of the ring is left out.
        let micros = |seconds: f64, round: fn(f64) -> f64| round(seconds * 1e6) as i64;
        let epoch = |us: i64| {
            format!(
                "{}.{:06}",
                us.div_euclid(1_000_000),
                us.rem_euclid(1_000_000)
            )
        };
        format!(
            "({field} == {} && tcp.port == {} && {field} == {} && tcp.port == {} && \
             frame.time_epoch >= {} && frame.time_epoch <= {})",
            a.ip,
            a.port,
            b.ip,
            b.port,
            epoch(micros(self.summary.start, f64::floor).saturating_sub(1)),
            epoch(micros(self.summary.end, f64::ceil).saturating_add(1)),
        )
    }
    fn sender_filter(&self, side: usize) -> String {
        let ep = self.ev.sides[side].endpoint;
        let field = if ep.ip.is_ipv4() {
            "ip.src"
        } else {
            "ipv6.src"
        };
        format!("{field} == {} && tcp.srcport == {}", ep.ip, ep.port)
    }
}

/// Builds one finding; the rule fills in the text.
struct Draft {
    /// The endpoint whose data, RST or window the finding is about, when not the actor.
    about: Option<usize>,
    /// The finding's packets came before the connection was established.
    in_handshake: bool,
    id: FindingId,
    actor: Actor,
    severity: Severity,
    confidence: f64,
    frames: Vec<u64>,
    summary: String,
    explanation: String,
    timeline: Vec<TimelineEntry>,
    filter: String,
}

impl Draft {
    fn finish(mut self, cx: &Ctx<'_>) -> Finding {
        self.frames.sort_unstable();
        self.frames.dedup();
        self.timeline.sort_by_key(|e| e.frame);
        let next_steps = advice::next_steps(self.id, self.actor, self.about, cx);
        Finding {
            id: self.id,
            actor: self.actor,
            severity: self.severity,
            confidence: (self.confidence.clamp(0.05, 0.99) * 100.0).round() / 100.0,
            frames: self.frames,
            summary: self.summary,
            explanation: self.explanation,
            timeline: self.timeline,
            display_filter: self.filter,
            next_steps,
            about: self.about.map(|side| cx.actor(side)),
            in_handshake: self.in_handshake,
        }
    }
}

fn secs(ns: i64) -> String {
    let s = ns as f64 / 1e9;
    if s < 0.001 {
        format!("{:.0} µs", s * 1e6)
    } else if s < 0.01 {
        format!("{:.1} ms", s * 1e3)
    } else if s < 1.0 {
        format!("{:.0} ms", s * 1e3)
    } else {
        format!("{s:.1} s")
    }
}

/// "1 segment", "3 segments".
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn frames_of(list: &FrameList) -> Vec<u64> {
    list.frames()
}

/// Runs every rule over one connection.
pub fn diagnose(cx: &Ctx<'_>) -> Vec<Finding> {
    let mut out: Vec<Draft> = Vec::new();
    let stale = handshake(cx, &mut out);
    stalls(cx, &mut out);
    resets(cx, &mut out, stale);
    losses(cx, &mut out);
    windows(cx, &mut out);
    capture(cx, &mut out);

    // A capture that lost packets or shows offload artifacts makes every conclusion drawn
    // from missing or odd-looking segments less certain.
    let artifacts = out.iter().any(|d| {
        matches!(
            d.id,
            FindingId::CaptureMissedPackets | FindingId::CaptureOffload
        )
    });
    if artifacts {
        for d in &mut out {
            if matches!(
                d.id,
                FindingId::LossRetransmissions
                    | FindingId::StallRetransmissionLoop
                    | FindingId::LossSegmentRejected
                    | FindingId::Reordering
                    | FindingId::SpuriousRto
                    | FindingId::SpuriousDelayedAck
            ) {
                d.confidence -= 0.15;
                d.explanation.push_str(
                    " Confidence is lowered: this capture itself misses packets or shows offload artifacts (see the capture.* finding).",
                );
            }
        }
    }
    let mut findings: Vec<Finding> = out.into_iter().map(|d| d.finish(cx)).collect();
    findings.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(cause_rank(a.id).cmp(&cause_rank(b.id)))
            .then(b.confidence.total_cmp(&a.confidence))
            .then(a.id.cmp(&b.id))
    });
    findings
}

/// A RST with a TTL that none of its claimed sender's other packets carried, when they were
/// enough to profile it (at least two, at most two distinct TTLs: a path change is allowed).
fn forged(claimed: &Side, rst: &RstSeen) -> bool {
    claimed.ttl_samples() >= 2 && !claimed.ttl_was_seen(rst.ttl) && claimed.distinct_ttls() <= 2
}

/// Within one severity, causes come before their consequences: a stall before the reset it
/// provoked, a rejected segment before the loss it caused.
fn cause_rank(id: FindingId) -> u8 {
    match id {
        FindingId::HandshakeRefused
        | FindingId::HandshakeNoResponse
        | FindingId::ResetStaleSyn
        | FindingId::ResetInjected => 0,
        FindingId::StallRetransmissionLoop | FindingId::ZeroWindowNotReading => 1,
        FindingId::LossSegmentRejected => 2,
        FindingId::ResetAfterRetransmissions | FindingId::ResetAbort => 3,
        _ => 4,
    }
}

/// Handshake findings. Returns true when the connection's SYN met a stale connection.
fn handshake(cx: &Ctx<'_>, out: &mut Vec<Draft>) -> bool {
    let (c, s) = (cx.side(cx.client), cx.side(cx.server()));
    let Some(first_syn) = c.syns.first() else {
        return false;
    };
    let isn = c.isn.unwrap_or_default();
    // A RST whose TTL the server's own packets never carry is someone else's (reset.injected).
    let refusal = s
        .rsts
        .iter()
        .find(|r| r.answers_syn && r.has_ack && r.raw_ack == isn.wrapping_add(1) && !forged(s, r));
    let stale_answer = s.challenge_ack.or_else(|| {
        s.rsts
            .iter()
            .find(|r| {
                r.answers_syn && (!r.has_ack || r.raw_ack != isn.wrapping_add(1)) && !forged(s, r)
            })
            .map(|r| r.at)
    });

    if let Some(answer) = stale_answer.filter(|_| s.syn_acks.first().is_none_or(|sa| sa.0 > 0)) {
        let synack_first = s.syn_acks.first();
        if synack_first.is_none_or(|sa| sa.0 > answer.0) {
            let client_rst = c.rsts.iter().find(|r| r.at.0 > answer.0).map(|r| r.at);
            let mut timeline = vec![
                cx.entry(first_syn, format!("client sends SYN, ISN {isn}")),
                cx.entry(
                    answer,
                    "server answers with an ACK for another sequence space (a challenge ACK) instead of a SYN-ACK: it still holds an older connection on these ports",
                ),
            ];
            let mut frames = vec![first_syn.0, answer.0];
            if let Some(rst) = client_rst {
                timeline.push(cx.entry(rst, "client resets the server's stale connection"));
                frames.push(rst.0);
            }
            if let Some(sa) = synack_first {
                timeline.push(cx.entry(
                    sa,
                    "server finally answers a retransmitted SYN with a SYN-ACK",
                ));
                frames.push(sa.0);
            }
            let reused = cx.ev.reused_ports.is_some();
            out.push(Draft {
                about: None,
                in_handshake: false,
                id: FindingId::ResetStaleSyn,
                actor: Actor::Client,
                severity: if synack_first.is_some() { Severity::Degraded } else { Severity::Failure },
                confidence: if reused { 0.9 } else { 0.8 },
                frames,
                summary: format!(
                    "The client's SYN (ports {} → {}) hit a connection the server still had open; it was answered with {} instead of a SYN-ACK",
                    c.endpoint.port,
                    s.endpoint.port,
                    if s.challenge_ack.is_some() { "a challenge ACK" } else { "a RST" }
                ),
                explanation: format!(
                    "A SYN with a new ISN arrived on a 4-tuple that the server still considered established{}. The server's stack answered it as an out-of-window segment, not as a new connection, so the connection attempt was delayed or failed. This happens when the client reuses a source port while the server still holds the old connection (the client lost its state, the old connection's FIN/RST never reached the server, or a NAT reuses ports).",
                    if reused { " (the same ports carried an earlier connection in this capture)" } else { "" }
                ),
                timeline,
                filter: format!("{} || (tcp.port == {} && tcp.port == {} && tcp.flags.syn == 1)", cx.stream_filter(), c.endpoint.port, s.endpoint.port),
            });
            return true;
        }
    }

    if s.syn_acks.is_empty() {
        if let Some(rst) = refusal {
            out.push(Draft {
                about: None,
                in_handshake: false,
                id: FindingId::HandshakeRefused,
                actor: Actor::Server,
                severity: Severity::Failure,
                confidence: 0.9,
                frames: vec![first_syn.0, rst.at.0],
                summary: format!(
                    "Connection refused: the SYN to port {} was answered with RST",
                    s.endpoint.port
                ),
                explanation: format!(
                    "The client's SYN (frame {}) was answered by a RST/ACK acknowledging SYN+1 (frame {}) and no SYN-ACK: nothing listens on {}:{}, or a firewall rejects the connection with a reset. The RST arrived with TTL {}; a firewall on the path would usually show a TTL that differs from the server's other traffic.",
                    first_syn.0, rst.at.0, s.endpoint.ip, s.endpoint.port, rst.ttl
                ),
                timeline: vec![
                    cx.entry(first_syn, format!("client sends SYN to port {}", s.endpoint.port)),
                    cx.entry(rst.at, format!("server answers RST/ACK after {}: connection refused", secs(rst.at.1.saturating_sub(first_syn.1)))),
                ],
                filter: format!("{} && (tcp.flags.syn == 1 || tcp.flags.reset == 1)", cx.stream_filter()),
            });
        } else if s.packets == 0 && c.syns.count >= 2 {
            let last = c.syns.last.unwrap_or(first_syn);
            let gaps: Vec<String> = c
                .syns
                .head
                .windows(2)
                .map(|w| format!("{:.1}", (w[1].1.saturating_sub(w[0].1)) as f64 / 1e9))
                .collect();
            let away = !matches!(cx.vantage.point, VantagePoint::NearClient);
            out.push(Draft {
                about: None,
                in_handshake: false,
                id: FindingId::HandshakeNoResponse,
                actor: Actor::Network,
                severity: Severity::Failure,
                confidence: if away { 0.7 } else { 0.85 },
                frames: frames_of(&c.syns),
                summary: format!(
                    "No answer to {} SYNs to {}:{} over {}: filtered, blackholed or the host is down",
                    c.syns.count,
                    s.endpoint.ip,
                    s.endpoint.port,
                    secs(last.1.saturating_sub(first_syn.1))
                ),
                explanation: format!(
                    "The client sent the same SYN (ISN {isn}) {} times, {} s apart, and nothing came back: no SYN-ACK, no RST, no ICMP error. A closed port would have answered with RST, so the SYNs are being dropped: by a firewall that drops instead of rejecting, by a route that goes nowhere, or by a host that is down. {}",
                    c.syns.count,
                    gaps.join(", "),
                    if away {
                        "The SYNs reached this capture point, which is away from the client, so the drop is further along: on the path or at the server host itself (host firewall, full accept queue)."
                    } else {
                        "From the client side alone the drop cannot be placed: capture at the server too."
                    }
                ),
                timeline: [
                    Some(cx.entry(first_syn, format!("client sends SYN to {}:{}", s.endpoint.ip, s.endpoint.port))),
                    cx.span(&c.syns, format!("the SYN is sent {} times in all, with backoff {} s; never answered", c.syns.count, gaps.join(", "))),
                ]
                .into_iter()
                .flatten()
                .collect(),
                filter: format!("{} && tcp.flags.syn == 1", cx.stream_filter()),
            });
        }
        return false;
    }

    let completed = cx.ev.handshake.ack.is_some();
    if completed && (c.syns.count >= 2 || s.syn_acks.count >= 2) {
        let (list, what) = if c.syns.count >= 2 {
            (&c.syns, "SYN")
        } else {
            (&s.syn_acks, "SYN-ACK")
        };
        let first = list.first().unwrap_or(first_syn);
        let last = list.last.unwrap_or(first);
        let delay = last.1.saturating_sub(first.1);
        out.push(Draft {
            about: None,
            in_handshake: false,
            id: FindingId::HandshakeSynRetransmitted,
            actor: Actor::Network,
            severity: Severity::Degraded,
            confidence: 0.85,
            frames: frames_of(list),
            summary: format!(
                "The {what} was sent {} times before the handshake completed, adding {} to connection setup",
                list.count,
                secs(delay)
            ),
            explanation: format!(
                "The handshake succeeded only after the {what} was retransmitted ({} copies with the same sequence number). The first copy, or its answer, was lost on the way: a SYN retransmission costs a whole initial RTO (1 s on Linux, 3 s on older Windows), which users see as a slow connect.",
                list.count
            ),
            timeline: [
                Some(cx.entry(first, format!("{} sends {what}", if what == "SYN" { "client" } else { "server" }))),
                cx.span(list, format!("{what} retransmitted; {} copies in all", list.count)),
                cx.ev.handshake.ack.map(|a| cx.entry(a, "handshake completes")),
            ]
            .into_iter()
            .flatten()
            .collect(),
            filter: format!("{} && tcp.flags.syn == 1", cx.stream_filter()),
        });
    }
    false
}

fn backoff_text(run: &RetransRun) -> String {
    let shown: Vec<String> = run.backoff().iter().map(|s| format!("{s:.2}")).collect();
    format!("{} s", shown.join(", "))
}

/// Do the last gaps between sends roughly double (RTO backoff)?
fn exponential(run: &RetransRun) -> bool {
    let gaps = run.backoff();
    let doubling = gaps
        .iter()
        .zip(gaps.iter().skip(1))
        .filter(|(a, b)| **a > 0.0 && *b / *a > 1.4 && *b / *a < 2.8)
        .count();
    doubling >= 2
}

/// "the same segment retransmitted N times: M right after duplicate ACKs, then on the timer
/// with backoff a, b, c s"
fn run_text(run: &RetransRun) -> String {
    let timer = run.retransmissions.count.saturating_sub(run.fast);
    let mut text = format!(
        "the same segment retransmitted {} times",
        run.retransmissions.count
    );
    if run.fast > 0 {
        text.push_str(&format!(
            ": {} fast retransmissions after duplicate ACKs",
            run.fast
        ));
        if timer > 0 {
            text.push_str(&format!(", then {timer} on the timer"));
        }
    }
    if exponential(run) {
        text.push_str(&format!(", backoff {}", backoff_text(run)));
    } else {
        text.push_str(&format!(", last gaps {}", backoff_text(run)));
    }
    text
}

fn stalls(cx: &Ctx<'_>, out: &mut Vec<Draft>) {
    for sender in [cx.server(), cx.client] {
        let receiver = 1 - sender;
        let (snd, rcv) = (cx.name(sender), cx.name(receiver));
        let s = cx.side(sender);
        if let Some(run) = s.run.as_ref().filter(|r| {
            r.retransmissions.count >= 3 || (r.original.is_some() && r.retransmissions.count >= 2)
        }) {
            let near_receiver = cx.near(receiver);
            let actor = if near_receiver {
                cx.actor(receiver)
            } else {
                Actor::Network
            };
            let backoff = exponential(run);
            let last = run.retransmissions.last.unwrap_or((0, 0));
            let since = run.original.or(run.retransmissions.first()).unwrap_or(last);
            let tail_ns = cx.ev.last.1.saturating_sub(last.1);
            let mut frames = frames_of(&run.retransmissions);
            frames.extend(run.original.map(|o| o.0));
            frames.extend(run.stuck_acks.frames().into_iter().take(4));
            let rst = cx
                .ev
                .sides
                .iter()
                .flat_map(|x| x.rsts.first())
                .map(|r| r.at)
                .min();
            frames.extend(rst.map(|r| r.0));
            let mut timeline = Vec::new();
            if let Some(o) = run.original {
                timeline.push(cx.entry(
                    o,
                    format!(
                        "{snd} sends seq {}, {} bytes; never acknowledged",
                        run.rel_seq, run.len
                    ),
                ));
            }
            let ack_note = match run.stuck_rel_ack {
                Some(ack) if run.stuck_acks.is_empty() => {
                    format!("; the {rcv}'s ACK never moves past {ack}")
                }
                _ => String::new(),
            };
            timeline.extend(cx.span(&run.retransmissions, format!("{}{ack_note}", run_text(run))));
            if let Some(rst) = cx
                .ev
                .sides
                .iter()
                .enumerate()
                .filter_map(|(i, x)| x.rsts.first().map(|r| (i, r.at)))
                .min_by_key(|r| r.1 .0)
            {
                timeline.push(cx.entry(rst.1, format!("{} sends RST", cx.name(rst.0))));
            }
            if let Some(first_stuck) = run.stuck_acks.first() {
                let mut e = cx.entry(
                    first_stuck,
                    format!(
                        "{rcv} ACK stuck at {} ({} ACKs)",
                        run.stuck_rel_ack.unwrap_or(run.rel_seq),
                        run.stuck_acks.count
                    ),
                );
                e.last_frame = run
                    .stuck_acks
                    .last
                    .map(|l| l.0)
                    .filter(|&l| l != first_stuck.0);
                timeline.push(e);
            }
            let place = if near_receiver {
                format!("This capture was taken at the {rcv} (its own packets carry an undecremented initial TTL), and it shows every copy arriving: the segment reached the {rcv}'s host but its TCP stack never accepted it (a host firewall, a bad checksum, or a NIC/driver drop after the capture point).")
            } else if cx.near(sender) {
                format!("This capture was taken at the {snd}: it proves the segment was sent, not whether it reached the {rcv}. A capture at the {rcv} tells a network drop from a drop inside the {rcv}'s host.")
            } else {
                format!("From this vantage point the copies may have been lost after the capture point, or discarded by the {rcv}.")
            };
            let confidence = if backoff { 0.9 } else { 0.8 }
                - if tail_ns < 200_000_000 && rst.is_none() {
                    0.2
                } else {
                    0.0
                };
            out.push(Draft {
                about: Some(sender),
                in_handshake: false,
                id: FindingId::StallRetransmissionLoop,
                actor,
                severity: Severity::Failure,
                confidence,
                frames: frames.clone(),
                summary: format!(
                    "The {snd} retransmitted seq {} {} times over {} while the {rcv}'s ACK stayed stuck: the segment is never accepted",
                    run.rel_seq,
                    run.retransmissions.count,
                    secs(last.1.saturating_sub(since.1))
                ),
                explanation: format!(
                    "Repeated retransmission of the same sequence number with a stagnant ACK means the {rcv} is not accepting that segment{}. Nothing after it can be delivered to the application (TCP delivers in order), so the transfer is stalled. {place}",
                    if backoff { ", and the doubling gaps between copies are the sender's RTO backoff" } else { "" }
                ),
                timeline,
                filter: format!(
                    "{} && ((tcp.seq_raw == {} && tcp.len > 0) || tcp.flags.reset == 1)",
                    cx.stream_filter(),
                    run.seq
                ),
            });
            if near_receiver {
                let checks = run.bad_checksums > 0;
                out.push(Draft {
                    about: None,
                    in_handshake: false,
                    id: FindingId::LossSegmentRejected,
                    actor: cx.actor(receiver),
                    severity: Severity::Failure,
                    confidence: if checks { 0.9 } else { 0.75 },
                    frames: frames.clone(),
                    summary: format!(
                        "Seq {} reached the {rcv}'s capture {} times but the {rcv} never acknowledged it",
                        run.rel_seq,
                        run.sends()
                    ),
                    explanation: format!(
                        "The capture on the {rcv}'s side shows every copy of the segment arriving, yet the {rcv}'s ACK never moves past it. The packet was dropped inside the {rcv}'s host, between the capture point and TCP: {}",
                        if checks { "the copies carry a bad TCP checksum, so the stack discards them." } else { "a host firewall rule, a checksum or validation failure, or a driver drop." }
                    ),
                    timeline: Vec::new(),
                    filter: format!("{} && tcp.seq_raw == {} && tcp.len > 0", cx.stream_filter(), run.seq),
                });
            }
            continue;
        }
        // No retransmission reached the capture, but the receiver waits on a hole for good.
        // A sender whose host later answers with a bare RST had lost the connection: the
        // receiver was waiting on a peer that was gone, not on a path that drops.
        let sender_gone = s.rsts.first().is_some_and(|r| r.answers_unknown);
        if let Some(stall) = cx
            .ev
            .stall_of(sender, cx.ev.last.1)
            .filter(|_| !sender_gone)
        {
            if let Some(opened) = stall.hole_since {
                let r = cx.side(receiver);
                let rst = r.rsts.first().map(|x| x.at);
                let end = rst.unwrap_or(cx.ev.last);
                if end.1.saturating_sub(opened.1) < STALLED_HOLE_NS {
                    continue;
                }
                let mut frames = vec![opened.0];
                frames.extend(r.dup_acks.frames().into_iter().take(6));
                frames.extend(rst.map(|x| x.0));
                let mut timeline = vec![cx.entry(opened, format!("a segment of the {snd}'s data is missing: later data arrives, the hole before it does not"))];
                timeline.extend(cx.span(
                    &r.dup_acks,
                    format!(
                        "{rcv} sends {} duplicate ACKs asking for it",
                        r.dup_acks.count
                    ),
                ));
                if let Some(x) = rst {
                    timeline.push(cx.entry(
                        x,
                        format!(
                            "{rcv} sends RST after waiting {}",
                            secs(x.1.saturating_sub(opened.1))
                        ),
                    ));
                }
                out.push(Draft {
                    about: Some(sender),
                    in_handshake: false,
                    id: FindingId::StallRetransmissionLoop,
                    actor: Actor::Network,
                    severity: Severity::Failure,
                    confidence: 0.65,
                    frames: frames.clone(),
                    summary: format!(
                        "A segment of the {snd}'s data never arrived: the {rcv}'s ACK stayed stuck at it for {} after later data had arrived",
                        secs(end.1.saturating_sub(opened.1))
                    ),
                    explanation: format!(
                        "The {rcv} received data beyond a hole and kept acknowledging the hole's start, and no copy of the missing segment ever reached this capture point. The {snd} must have retransmitted it (TCP always does), so every copy was lost before this point: a path that drops this particular segment and its retransmissions (a middlebox filtering on content, a path MTU problem, a broken link). A capture at the {snd} would show the retransmissions."
                    ),
                    timeline,
                    filter: format!("{} && (tcp.analysis.duplicate_ack || tcp.analysis.lost_segment || tcp.flags.reset == 1)", cx.stream_filter()),
                });
            }
        }
    }
}

fn resets(cx: &Ctx<'_>, out: &mut Vec<Draft>, stale_syn: bool) {
    // Per endpoint, its first forged RST (reset.injected) and its first genuine one.
    let judged = [cx.client, cx.server()].into_iter().flat_map(|x| {
        let xs = cx.side(x);
        let first_forged = xs.rsts.iter().find(|r| forged(xs, r));
        let first_genuine = xs.rsts.iter().find(|r| !forged(xs, r));
        [first_forged, first_genuine]
            .into_iter()
            .flatten()
            .map(move |r| (x, r))
    });
    for (x, rst) in judged {
        let xs = cx.side(x);
        if rst.answers_syn && !forged(xs, rst) {
            continue; // handshake.refused / reset.stale_syn
        }
        let (who, peer) = (cx.name(x), cx.name(1 - x));
        if stale_syn
            && x == cx.client
            && cx
                .side(cx.server())
                .syn_acks
                .first()
                .is_none_or(|sa| sa.0 > rst.at.0)
        {
            continue;
        }
        let mut frames: Vec<u64> = xs
            .rsts
            .iter()
            .filter(|r| forged(xs, r) == forged(xs, rst))
            .map(|r| r.at.0)
            .collect();
        let usual = xs.usual_ttl();
        let profiled = xs.ttl_samples() >= 2;
        let ttl_odd = forged(xs, rst);
        if ttl_odd {
            let usual = usual.unwrap_or(0);
            let id_odd =
                matches!(rst.ip_id, Some(0)) && xs.ip_ids_nonzero > 0 && xs.ip_ids_zero == 0;
            let certain = cx.near(x);
            let mut confidence: f64 = if certain { 0.95 } else { 0.85 };
            if id_odd {
                confidence += 0.05;
            }
            let quiet_before = quiet_before(cx, rst.at);
            out.push(Draft {
                about: Some(x),
                in_handshake: rst.answers_syn,
                id: FindingId::ResetInjected,
                actor: Actor::Middlebox,
                severity: Severity::Failure,
                confidence,
                frames: frames.clone(),
                summary: format!(
                    "A RST claiming to come from the {who} (frame {}) was sent by a device on the path: TTL {} where the {who}'s packets carry {usual}",
                    rst.at.0, rst.ttl
                ),
                explanation: format!(
                    "Every other packet from the {who} arrived with TTL {usual}; this RST arrived with TTL {}, so it was generated {} hop(s) {} than the {who}: a firewall, IDS, NAT or load balancer forged it{}{}. {}The {peer} saw the connection reset; the {who} itself most likely never sent it and may still consider the connection open (half-open).",
                    rst.ttl,
                    (i32::from(rst.ttl) - i32::from(usual)).abs(),
                    if rst.ttl > usual { "closer" } else { "farther" },
                    if id_odd { ", and its IP ID 0 breaks the pattern of the sender's IP IDs" } else { "" },
                    if certain { " (the capture was taken on the claimed sender's own side, so this RST never came from its stack)" } else { "" },
                    match quiet_before {
                        Some(idle) if idle >= 5_000_000_000 => format!("The connection had been idle for {} before it: the typical signature of a stateful device that dropped the connection after an idle timeout. ", secs(idle)),
                        _ => String::new(),
                    }
                ),
                timeline: [
                    cx.ev.sides[x].first_data.map(|d| cx.entry(d, format!("{who} sends data (TTL {usual})"))),
                    Some(cx.entry(rst.at, format!("RST \"from the {who}\" with TTL {}, IP ID {}", rst.ttl, rst.ip_id.map_or("-".into(), |i| i.to_string())))),
                ]
                .into_iter()
                .flatten()
                .collect(),
                filter: format!("{} && ({} || tcp.flags.reset == 1)", cx.stream_filter(), cx.sender_filter(x)),
            });
            continue;
        }
        if let Some(stall) = rst.during_stall {
            let stuck_sender = cx.name(stall.sender);
            let gave_up = stall.sender == x;
            if gave_up && stall.retransmissions == 0 {
                // A sender that resets while its receiver waits on a hole did not give up on
                // retransmissions this capture shows: nothing proves a stall caused it.
                continue;
            }
            let run = cx.side(stall.sender).run.as_ref();
            frames.extend(
                run.map(|r| frames_of(&r.retransmissions))
                    .unwrap_or_default(),
            );
            let mut timeline: Vec<TimelineEntry> = run
                .and_then(|r| {
                    cx.span(
                        &r.retransmissions,
                        format!("{stuck_sender} retransmits seq {} again and again ({} times), unacknowledged", r.rel_seq, r.retransmissions.count),
                    )
                })
                .into_iter()
                .collect();
            if let Some(hole) = stall.hole_since {
                timeline.push(cx.entry(hole, format!("a segment of the {stuck_sender}'s data goes missing; the {}'s ACK stays stuck below it", cx.name(1 - stall.sender))));
            }
            timeline.push(cx.entry(
                rst.at,
                format!(
                        "{who} sends RST after {}",
                        secs(
                            rst.at.1.saturating_sub(
                                stall
                                    .hole_since
                                    .or(run.and_then(|r| r.original))
                                    .map_or(rst.at.1, |h| h.1)
                            )
                        )
                    ),
            ));
            out.push(Draft {
                about: Some(stall.sender),
                in_handshake: false,
                id: FindingId::ResetAfterRetransmissions,
                actor: cx.actor(x),
                severity: Severity::Failure,
                confidence: if profiled { 0.9 } else { 0.8 },
                frames,
                summary: if gave_up {
                    format!("The {who} gave up and reset the connection after its data went unacknowledged")
                } else {
                    format!("The {who} reset the connection while the {stuck_sender}'s data was stalled")
                },
                explanation: if gave_up {
                    format!("The {who} retransmitted the same segment {} times without an ACK, then aborted the connection with RST: its stack (or the application's timeout) decided the peer was unreachable. The {peer} application sees a reset; the {who}'s application sees a timeout.", stall.retransmissions)
                } else {
                    format!("The {who} sent RST while the {stuck_sender}'s data was stalled{}: the {who}'s application (or stack) gave up waiting for data that never arrived, as in the classic 10054 case. The root cause is the stall, not the reset.", if stall.retransmissions > 0 { format!(" ({} retransmissions of the same segment, ACK stuck)", stall.retransmissions) } else { String::new() })
                },
                timeline,
                filter: format!("{} && (tcp.analysis.retransmission || tcp.analysis.duplicate_ack || tcp.flags.reset == 1)", cx.stream_filter()),
            });
            continue;
        }
        if rst.after_own_fin && rst.after_peer_fin {
            continue; // both sides had closed: a reset of a finished connection is harmless
        }
        let severity = if rst.after_peer_fin && !rst.after_own_fin && !rst.answers_unknown {
            Severity::Info
        } else {
            Severity::Failure
        };
        let why = if rst.answers_unknown {
            format!("The {who}'s stack answered the {peer}'s packet with a bare RST (no ACK flag, sequence number = the {peer}'s ACK): it no longer has this connection. It was closed or reset on the {who}'s side earlier (by its application, a timeout, a host restart, or a reset that only the {who} received), so the {peer} was talking to a connection that no longer existed.")
        } else if rst.after_own_fin && rst.peer_data_before {
            format!("The {who} had already closed its side (FIN) and the {peer} still sent data; a closed socket answers data with RST. Typical of a server closing an idle keep-alive connection while the client reuses it.")
        } else if rst.after_peer_fin {
            format!("The {peer} had finished sending (FIN) and the {who} closed with RST instead of FIN: usually deliberate (SO_LINGER 0 to skip TIME_WAIT) and harmless once all data was delivered.")
        } else if rst.peer_data_before {
            format!("The {who} aborted after the {peer}'s last data had arrived, without answering it: typical of an application that closes a socket with unread data in its receive buffer (the kernel then sends RST instead of FIN, RFC 2525 §2.17; Linux counts it in TcpExtTCPAbortOnClose), or of an abort after a protocol error.")
        } else {
            format!("The {who}'s application aborted the connection: close() with SO_LINGER {{on, 0}}, close() with unread received data, or a process that exited or crashed.")
        };
        out.push(Draft {
            about: None,
            in_handshake: false,
            id: FindingId::ResetAbort,
            actor: cx.actor(x),
            severity,
            confidence: if profiled { 0.9 } else { 0.7 },
            frames,
            summary: if rst.answers_unknown {
                format!("The {who} answered with RST (frame {}): it no longer had this connection", rst.at.0)
            } else {
                format!("The {who} aborted the connection with RST (frame {})", rst.at.0)
            },
            explanation: format!(
                "{why} No delivery failure preceded the reset{}.",
                if profiled { format!(", and its TTL ({}) matches the {who}'s other packets, so the {who}'s own stack sent it", rst.ttl) } else { String::new() }
            ),
            timeline: [
                cx.side(1 - x).fin.filter(|_| rst.after_peer_fin).map(|f| cx.entry(f, format!("{peer} sends FIN"))),
                xs.fin.filter(|_| rst.after_own_fin).map(|f| cx.entry(f, format!("{who} sends FIN"))),
                Some(cx.entry(rst.at, format!("{who} sends RST{}", if xs.rst_count > 1 { format!(" ({} RSTs in all)", xs.rst_count) } else { String::new() }))),
            ]
            .into_iter()
            .flatten()
            .collect(),
            filter: format!("{} && tcp.flags.reset == 1", cx.stream_filter()),
        });
    }
}

/// How long the connection had been silent before `at` (ns), if any packet preceded it.
fn quiet_before(cx: &Ctx<'_>, at: At) -> Option<i64> {
    // The sides keep only their last packet; when the RST is the last packet, the other
    // side's last packet before it bounds the idle time.
    let before = cx
        .ev
        .sides
        .iter()
        .map(|s| s.last)
        .filter(|l| l.0 < at.0)
        .map(|l| l.1)
        .max()?;
    Some(at.1.saturating_sub(before))
}

/// A hole filled by a segment that was sent before data captured ahead of it (TCP timestamps
/// say so), or, without timestamps, that arrived within a quarter of the RTT: overtaken on the
/// way, not lost. A repair takes a round trip, but with several holes in one flight a later
/// hole's repair can come sooner than that after the hole opened, hence the quarter.
fn is_reordered(fill: &HoleFill, rtt: Option<i64>) -> bool {
    match fill.sent_earlier {
        Some(earlier) => earlier,
        None => rtt.is_some_and(|rtt| fill.age_ns < rtt / 4),
    }
}

/// A hole filled by a retransmission of data lost before this capture point.
fn is_repair(fill: &HoleFill, rtt: Option<i64>) -> bool {
    match fill.sent_earlier {
        Some(earlier) => !earlier,
        None => rtt.is_none_or(|rtt| fill.age_ns >= rtt / 4),
    }
}

/// Was the copy sent by a retransmission timer? A timer cannot fire before the original's
/// round trip is over, nor within a couple of milliseconds; copies sooner than that were sent
/// on the ACK clock.
fn timer_fired(r: &Retransmission, rtt: Option<i64>) -> bool {
    r.original.is_none_or(|o| {
        let waited = r.at.1.saturating_sub(o.1);
        waited >= 2_000_000 && rtt.is_none_or(|rtt| waited >= rtt.saturating_add(rtt / 2))
    })
}

/// A real retransmission timeout: at least the 200 ms minimum RTO of Linux (300 ms on
/// Windows) and well above the usual RTT, so not a tail-loss probe (2 × SRTT).
fn real_rto(r: &Retransmission, rtt: Option<i64>) -> bool {
    let rtt = rtt.unwrap_or(i64::MAX);
    r.original.is_some_and(|o| {
        let waited = r.at.1.saturating_sub(o.1);
        waited >= 200_000_000 && waited >= rtt.saturating_mul(3)
    })
}

/// A needless timer retransmission of a lone segment that the receiver had not yet
/// acknowledged, sent sooner than a delayed-ACK timer runs (40 ms minimum on Linux, 200 ms on
/// Windows, plus the path): the receiver was holding its ACK. Retransmitted after 250 ms or
/// more, or after the receiver had ACKed (as seen here), the ACK was late on the path instead.
fn waits_for_delayed_ack(r: &Retransmission) -> bool {
    r.alone_in_flight
        && !r.already_acked
        && r.original
            .is_some_and(|o| r.at.1.saturating_sub(o.1) < 250_000_000)
}

/// Spurious judgement for one retransmission, given where the capture is.
fn is_spurious(cx: &Ctx<'_>, sender: usize, r: &Retransmission) -> bool {
    if r.already_acked || r.dsack {
        return true;
    }
    // On the sender's host an ACK cannot answer the retransmission in less than a round trip:
    // one that covers it sooner was sent for the original.
    match (cx.near(sender), cx.base_rtt_ns(), r.acked) {
        (true, Some(rtt), Some(ack)) if rtt >= 1_000_000 => ack.1.saturating_sub(r.at.1) < rtt / 2,
        _ => false,
    }
}

fn losses(cx: &Ctx<'_>, out: &mut Vec<Draft>) {
    let mut delayed: Vec<(usize, Retransmission)> = Vec::new();
    let mut rto: Vec<(usize, Retransmission)> = Vec::new();
    for sender in [cx.server(), cx.client] {
        let s = cx.side(sender);
        let (snd, rcv) = (cx.name(sender), cx.name(1 - sender));
        let decided = &s.decided;
        let mut spurious_fast: Vec<&Retransmission> = Vec::new();
        for r in decided.iter().chain(cx.ev.unacked_retransmissions(sender)) {
            if !is_spurious(cx, sender, r) {
                continue;
            }
            let ack_clocked = r.fast
                || (r.after_dup_ack && cx.near(sender))
                || (!timer_fired(r, cx.base_rtt_ns()) && !r.tail_probe);
            if ack_clocked {
                // Resent on the ACK clock (duplicate or reordered ACKs), not on a timer.
                spurious_fast.push(r);
            } else if waits_for_delayed_ack(r) {
                delayed.push((sender, *r));
            } else if real_rto(r, cx.base_rtt_ns()) {
                rto.push((sender, *r));
            }
            // Other needless timer resends (tail-loss probes, r.tail_probe) are noise.
        }
        // Loss that was repaired: retransmissions the receiver acknowledged, less the needless
        // ones. Unacknowledged ones belong to a stall (reported by its own finding). The
        // decided list is a bounded sample, so its proportions scale to the counters.
        let sample = decided.len().max(1) as f64;
        let scale = |n: usize| (n as f64 / sample * s.acked_retransmissions as f64).round() as u64;
        let needless = scale(
            decided
                .iter()
                .filter(|r| is_spurious(cx, sender, r))
                .count(),
        );
        // Holes filled a round trip or more after they opened: data lost before this capture
        // point and repaired (seen once, as the retransmission).
        let rtt = cx.base_rtt_ns();
        let late_fills = s.hole_fills.iter().filter(|f| is_repair(f, rtt)).count() as u64;
        let genuine = s.acked_retransmissions.saturating_sub(needless) + late_fills;
        let genuine_fast = scale(
            decided
                .iter()
                .filter(|r| r.fast && !is_spurious(cx, sender, r))
                .count(),
        ) + late_fills;
        let timer_based = genuine.saturating_sub(genuine_fast);
        if genuine >= 1 {
            let rate = if s.data_segments > 0 {
                100.0 * genuine as f64 / s.data_segments as f64
            } else {
                0.0
            };
            let bad = &s.bad_then_resent;
            let corrupted = !bad.is_empty() && !offload_checksums(cx, sender);
            let rejected_here = corrupted && cx.near(1 - sender);
            let r = cx.side(1 - sender);
            let mut timeline: Vec<TimelineEntry> = Vec::new();
            timeline.extend(cx.span(
                &s.retransmissions,
                format!(
                    "{snd} retransmits {} segments ({} of them fast retransmissions)",
                    s.retransmissions.count, s.fast_retransmissions
                ),
            ));
            timeline.extend(cx.span(
                &r.dup_acks,
                format!("{rcv} sends {} duplicate ACKs", r.dup_acks.count),
            ));
            out.push(Draft {
                about: None,
                in_handshake: false,
                id: FindingId::LossRetransmissions,
                actor: Actor::Network,
                severity: Severity::Degraded,
                confidence: if corrupted { 0.7 } else { 0.85 },
                frames: {
                    let mut f = frames_of(&s.retransmissions);
                    f.extend(s.hole_fills.iter().filter(|f| is_repair(f, rtt)).take(12).map(|f| f.at.0));
                    f
                },
                summary: format!(
                    "{genuine} of the {snd}'s {} data segments {} lost and retransmitted ({rate:.1}%); the connection recovered",
                    s.data_segments,
                    if genuine == 1 { "was" } else { "were" }
                ),
                explanation: format!(
                    "The {snd} retransmitted {} that the {rcv} had not acknowledged: {} on duplicate ACKs (fast retransmission), {} on a timer (a timeout stalls the flow for at least 200 ms). {}{}{}",
                    count(genuine as usize, "segment"),
                    genuine_fast.min(genuine),
                    timer_based,
                    if r.sack_blocks > 0 { "The receiver used SACK, so only the missing segments were resent. " } else { "No SACK blocks were seen: with SACK off (a common Windows or middlebox default) a loss costs more resends. " },
                    if corrupted { format!("{} of the lost segments reached this capture point with a bad TCP checksum: they were corrupted on the way, not dropped. ", bad.count) } else { String::new() },
                    if cx.near(1 - sender) && !rejected_here { "This capture is near the receiver: a retransmitted segment whose first copy also appears here reached the receiver's host, so for those the ACK was lost on the way back or the host discarded the data." } else { "" }
                ),
                timeline,
                filter: format!("{} && (tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.duplicate_ack)", cx.stream_filter()),
            });
            if rejected_here {
                out.push(Draft {
                    about: None,
                    in_handshake: false,
                    id: FindingId::LossSegmentRejected,
                    actor: cx.actor(1 - sender),
                    severity: Severity::Degraded,
                    confidence: 0.9,
                    frames: frames_of(bad),
                    summary: format!("{} from the {snd} reached the {rcv} with a bad TCP checksum and {} discarded", count(bad.count as usize, "segment"), if bad.count == 1 { "was" } else { "were" }),
                    explanation: format!(
                        "This capture, taken at the {rcv}, shows the segment arriving with a wrong TCP checksum; the {rcv}'s stack discarded it (Linux counts it in TcpInCsumErrors) and the {snd} had to retransmit. The {snd}'s other packets have correct checksums, so this is corruption on the path (a faulty link, NIC or middlebox), not checksum offload."
                    ),
                    timeline: cx.span(bad, format!("segment from the {snd} arrives with a bad checksum")).into_iter().collect(),
                    filter: format!("{} && tcp.checksum.status == \"Bad\"", cx.stream_filter()),
                });
            }
        }
        let ooo_fast = spurious_fast.len();
        let rtt = cx.base_rtt_ns();
        let early = |age: i64| rtt.is_some_and(|rtt| age < rtt / 4 * 3);
        // Late data seen first at this capture point: filled within a fraction of the RTT it
        // was overtaken, later it was a retransmission of data lost before this point.
        let arrived_late: Vec<At> = s
            .hole_fills
            .iter()
            .filter(|f| is_reordered(f, rtt))
            .map(|f| f.at)
            .collect();
        // Seen from the sender's host: the receiver reported a hole with SACK and closed it
        // sooner than a repair could arrive, and the sender never resent it: the data was
        // only late. Elsewhere a fill this capture did not see may just be a missed packet.
        let closed_without_resend: Vec<At> = if cx.near(sender) {
            cx.side(1 - sender)
                .sack_holes_closed
                .iter()
                .filter(|(open, close, resent)| !resent && early(close.1.saturating_sub(open.1)))
                .map(|(_, close, _)| *close)
                .collect()
        } else {
            Vec::new()
        };
        let events = arrived_late.len() + closed_without_resend.len() + ooo_fast;
        if events > 0 {
            let mut frames: Vec<u64> = arrived_late
                .iter()
                .chain(&closed_without_resend)
                .map(|a| a.0)
                .collect();
            frames.extend(spurious_fast.iter().map(|r| r.at.0));
            let mut timeline: Vec<TimelineEntry> = arrived_late
                .iter()
                .take(6)
                .map(|a| cx.entry(*a, format!("{snd}'s segment arrives after later data, within a fraction of the RTT: reordered, not lost")))
                .collect();
            timeline.extend(closed_without_resend.iter().take(6).map(|a| cx.entry(*a, format!("{rcv}'s ACK closes a hole it had reported with SACK, sooner than a repair could arrive; the {snd} never resent it: the data was only late"))));
            timeline.extend(spurious_fast.iter().take(6).map(|r| cx.entry(r.at, format!("{snd} retransmits a segment on duplicate ACKs that the {rcv} then reports as a duplicate (D-SACK): it had only been delayed"))));
            out.push(Draft {
                about: None,
                in_handshake: false,
                id: FindingId::Reordering,
                actor: Actor::Network,
                severity: Severity::Degraded,
                confidence: if events >= 3 { 0.85 } else { 0.7 },
                frames,
                summary: {
                    let late = arrived_late.len() + closed_without_resend.len();
                    let mut parts = Vec::new();
                    if late > 0 {
                        parts.push(format!("{} arrived late without being lost", count(late, "segment")));
                    }
                    if ooo_fast > 0 {
                        parts.push(format!("{} needlessly on duplicate ACKs", count(ooo_fast, "segment") + " resent"));
                    }
                    format!("The path reordered the {snd}'s segments or the {rcv}'s ACKs: {}", parts.join(", "))
                },
                explanation: {
                    let mut text = String::new();
                    if !arrived_late.is_empty() || !closed_without_resend.is_empty() {
                        text.push_str(&format!("Holes in the {snd}'s data were filled sooner than a retransmission could have filled them (a repair takes at least one round trip), so the segments were overtaken on the way rather than lost. "));
                    }
                    if ooo_fast > 0 {
                        text.push_str(&format!("The {snd} resent data on duplicate ACKs, and the {rcv} then reported the copies as duplicates (D-SACK): the originals, or the ACKs, had only been delayed. "));
                    }
                    text.push_str("Reordering makes the receiver send duplicate ACKs and can trigger needless fast retransmissions; typical causes are multipath routing (ECMP, link bonding) and parallel processing in middleboxes.");
                    text
                },
                timeline,
                filter: format!("{} && (tcp.analysis.out_of_order || tcp.analysis.duplicate_ack || tcp.options.sack.dsack)", cx.stream_filter()),
            });
        }
    }
    spurious_finding(cx, out, &delayed, true);
    spurious_finding(cx, out, &rto, false);
}

fn spurious_finding(
    cx: &Ctx<'_>,
    out: &mut Vec<Draft>,
    events: &[(usize, Retransmission)],
    delayed_ack: bool,
) {
    // A delayed-ACK pattern needs repetition (one lone resend can be a tail-loss probe); each
    // spurious RTO event was a real timeout already (see `real_rto`).
    let enough = if delayed_ack {
        events.len() >= 2
    } else {
        !events.is_empty()
    };
    if !enough {
        return;
    }
    let sender = events[0].0;
    let (snd, rcv) = (cx.name(sender), cx.name(1 - sender));
    let frames: Vec<u64> = events.iter().map(|(_, r)| r.at.0).collect();
    let lags: Vec<i64> = events
        .iter()
        .filter_map(|(_, r)| Some(r.acked?.1.saturating_sub(r.original?.1)))
        .collect();
    let timers: Vec<i64> = events
        .iter()
        .filter_map(|(_, r)| Some(r.at.1.saturating_sub(r.original?.1)))
        .collect();
    let median = |v: &[i64]| {
        let mut v = v.to_vec();
        v.sort_unstable();
        v.get(v.len() / 2).copied()
    };
    let lag = median(&lags).map_or("?".into(), secs);
    let timer = median(&timers).map_or("?".into(), secs);
    let dsacked = events.iter().filter(|(_, r)| r.dsack).count();
    let timeline: Vec<TimelineEntry> = events
        .iter()
        .take(4)
        .flat_map(|(_, r)| {
            [
                r.original
                    .map(|o| cx.entry(o, format!("{snd} sends a segment"))),
                Some(cx.entry(
                    r.at,
                    format!(
                        "{snd} retransmits it after {}",
                        r.original.map_or("?".into(), |o| secs(r.at.1.saturating_sub(o.1)))
                    ),
                )),
                r.acked.map(|a| {
                    cx.entry(
                        a,
                        format!(
                            "{rcv}'s ACK covers the original{}",
                            if r.dsack {
                                " and reports the copy as a duplicate (D-SACK)"
                            } else {
                                ""
                            }
                        ),
                    )
                }),
            ]
        })
        .flatten()
        .collect();
    let filter = format!("{} && (tcp.analysis.retransmission || tcp.analysis.spurious_retransmission || tcp.options.sack.dsack)", cx.stream_filter());
    if delayed_ack {
        out.push(Draft {
            about: None,
            in_handshake: false,
            id: FindingId::SpuriousDelayedAck,
            actor: cx.actor(sender),
            severity: Severity::Degraded,
            confidence: if dsacked > 0 { 0.85 } else { 0.7 },
            frames,
            summary: format!(
                "The {snd} retransmitted {} lone segments needlessly: its retransmission timer ({timer}) fires before the {rcv}'s delayed ACK (40 ms or more)",
                events.len()
            ),
            explanation: format!(
                "Each time a lone segment was outstanding and not yet acknowledged, the {snd} resent it after {timer}{}: the data was never lost, the {rcv} was only holding its ACK. A receiver holds the ACK of a single segment for its delayed-ACK timer (40 ms minimum on Linux, 200 ms on Windows) hoping to piggyback it on a reply; a sender whose RTO is below that timer retransmits every such segment. Every retransmission wastes bandwidth and resets congestion state.",
                if dsacked > 0 { format!(", and the {rcv} reported {} as duplicates (D-SACK)", if dsacked == 1 { "1 copy".to_string() } else { format!("{dsacked} copies") }) } else { String::new() }
            ),
            timeline,
            filter,
        });
    } else {
        out.push(Draft {
            about: None,
            in_handshake: false,
            id: FindingId::SpuriousRto,
            actor: Actor::Network,
            severity: Severity::Degraded,
            confidence: if dsacked > 0 { 0.85 } else { 0.7 },
            frames,
            summary: format!(
                "{} by the {snd} {} spurious: the round-trip time rose above its retransmission timeout",
                count(events.len(), "retransmission"),
                if events.len() == 1 { "was" } else { "were" }
            ),
            explanation: format!(
                "The {snd}'s timer fired (after {timer}) although its data was not lost{}{}. Usual base RTT: {}. {}A sudden RTT increase (queueing in a congested or bufferbloated link, a route change, a Wi-Fi or cellular link retrying) beyond the RTO makes the sender resend data that was only late.",
                if lags.is_empty() { String::new() } else { format!("; the ACKs for the originals came {lag} after them") },
                if dsacked > 0 { format!(", and the {rcv} reported {dsacked} copies as duplicates (D-SACK)") } else { String::new() },
                cx.base_rtt_ns().map_or("unknown".into(), secs),
                if !cx.near(sender) && events.iter().any(|(_, r)| r.already_acked) {
                    format!("This capture saw the {rcv}'s ACK before the retransmission: the ACK was late (or lost) between this point and the {snd}. ")
                } else {
                    String::new()
                }
            ),
            timeline,
            filter,
        });
    }
}

/// Bad checksums on most of one side's packets, and none on the other's: offload on the
/// capturing host.
fn offload_checksums(cx: &Ctx<'_>, side: usize) -> bool {
    let s = cx.side(side);
    let other = cx.side(1 - side);
    s.bad_checksums.count >= 2
        && s.bad_checksums.count * 2 >= s.checksums_checked
        && other.bad_checksums.count * 10 <= other.checksums_checked.max(1)
}

/// A zero-window episode shorter than this is a buffer flush, not a slow reader (episodes that
/// open with an ACK jumping over a hole's worth of data are flushes whatever their length).
const MIN_ZERO_WINDOW_NS: i64 = 1_000_000;

/// Window fills needed before throughput counts as capped by the receive window (with at
/// least 10% of the sender's data segments ending at the window's edge).
const WINDOW_FILLS_MIN: u64 = 8;

fn windows(cx: &Ctx<'_>, out: &mut Vec<Draft>) {
    for adv in [cx.client, cx.server()] {
        let a = cx.side(adv);
        let (who, peer) = (cx.name(adv), cx.name(1 - adv));
        let end = a
            .rsts
            .first()
            .map(|r| r.at)
            .or(cx.side(1 - adv).rsts.first().map(|r| r.at))
            .unwrap_or(cx.ev.last);
        // A window that closes for a moment when a hole fill delivers a whole out-of-order
        // queue at once, and reopens microseconds later, is not a slow reader.
        let reopened: Vec<_> = a
            .zero_window
            .iter()
            .filter(|e| {
                !e.flush
                    && e.reopened
                        .is_some_and(|r| r.1.saturating_sub(e.start.1) >= MIN_ZERO_WINDOW_NS)
            })
            .collect();
        if let Some(open) = a.zero_window.last().filter(|e| e.reopened.is_none()) {
            let lasted = end.1.saturating_sub(open.start.1);
            if lasted >= 1_000_000_000 || open.probes >= 2 {
                let mut frames = vec![open.start.0, open.last_zero.0];
                frames.extend(a.rsts.first().map(|r| r.at.0));
                out.push(Draft {
                    about: None,
                    in_handshake: false,
                    id: FindingId::ZeroWindowNotReading,
                    actor: cx.actor(adv),
                    severity: Severity::Failure,
                    confidence: if open.probes >= 2 || lasted >= 5_000_000_000 { 0.9 } else { 0.75 },
                    frames,
                    summary: format!(
                        "The {who}'s application stopped reading: its receive window stayed at zero for {}{}",
                        secs(lasted),
                        if a.rsts.is_empty() && cx.side(1 - adv).rsts.is_empty() { " until the end of the capture" } else { " until the reset" }
                    ),
                    explanation: format!(
                        "The {who} advertised a zero window (frame {}) and never opened it again; the window stayed at zero through {} from the {peer}. The {who}'s kernel buffer is full because its application is not calling recv()/read() on the socket (blocked elsewhere, deadlocked, or waiting on something else). The {peer}'s application is stuck in send().",
                        open.start.0, count(open.probes as usize, "probe")
                    ),
                    timeline: vec![
                        cx.entry(open.start, format!("{who} advertises a zero window")),
                        cx.entry(open.last_zero, format!("{who} still advertises zero after {} ({} zero-window packets, {} probes from the {peer})", secs(open.last_zero.1.saturating_sub(open.start.1)), open.zero_acks, open.probes)),
                    ],
                    filter: format!("{} && (tcp.analysis.zero_window || tcp.analysis.zero_window_probe || tcp.analysis.keep_alive || tcp.flags.reset == 1)", cx.stream_filter()),
                });
            }
        }
        if !reopened.is_empty() {
            let total: i64 = reopened
                .iter()
                .filter_map(|e| Some(e.reopened?.1.saturating_sub(e.start.1)))
                .sum();
            let mut frames: Vec<u64> = Vec::new();
            let mut timeline = Vec::new();
            for e in reopened.iter().take(4) {
                frames.push(e.start.0);
                timeline.push(cx.entry(e.start, format!("{who} advertises a zero window")));
                if let Some(r) = e.reopened {
                    frames.push(r.0);
                    timeline.push(cx.entry(
                        r,
                        format!(
                            "{who} reopens the window after {}",
                            secs(r.1.saturating_sub(e.start.1))
                        ),
                    ));
                }
            }
            out.push(Draft {
                about: None,
                in_handshake: false,
                id: FindingId::ZeroWindowSlowReader,
                actor: cx.actor(adv),
                severity: Severity::Degraded,
                confidence: 0.85,
                frames,
                summary: format!(
                    "The {who}'s application reads more slowly than data arrives: its window closed to zero {}, {} in all",
                    if reopened.len() == 1 { "once".to_string() } else { format!("{} times", reopened.len()) },
                    secs(total)
                ),
                explanation: format!(
                    "The {who}'s receive buffer filled up and it advertised a zero window, pausing the {peer}; each time it reopened once the application had read some data. The bottleneck is the {who}'s application (or a receive buffer too small for its read pattern), not the network."
                ),
                timeline,
                filter: format!("{} && (tcp.analysis.zero_window || tcp.analysis.window_update)", cx.stream_filter()),
            });
        }
        // The sender filling this side's window again and again, without it ever closing. A
        // healthy transfer fills it now and then while the receiver's buffer autotunes (a few
        // percent of its segments in the lab); a capped one on most flights (half of them).
        let sender = cx.side(1 - adv);
        let full = &a.filled_window;
        let rtt = cx.base_rtt_ns();
        // Window / RTT bounds a window-limited flow's rate (Mbit/s); a flow that moved far less
        // than that was held back by something else (TSO super-segments make few, large fills).
        let cap = rtt
            .filter(|&r| r > 0)
            .map(|r| a.max_window as f64 * 8.0 / (r as f64 / 1e9) / 1e6);
        let achieved = match (sender.first_data, sender.last_data) {
            (Some(first), Some(last)) if last.1 > first.1 => Some(
                sender.payload_bytes as f64 * 8.0
                    / ((last.1.saturating_sub(first.1)) as f64 / 1e9)
                    / 1e6,
            ),
            _ => None,
        };
        let near_cap = match (cap, achieved) {
            (Some(cap), Some(achieved)) => achieved * 4.0 >= cap,
            _ => true,
        };
        if a.zero_window_episodes == 0
            && full.count >= WINDOW_FILLS_MIN
            && full.count * 10 >= sender.data_segments
            && near_cap
        {
            let scale_note = match (
                cx.summary.client_options.as_ref(),
                cx.summary.server_options.as_ref(),
            ) {
                (Some(c), Some(s)) if c.window_scale.is_none() || s.window_scale.is_none() => {
                    " Window scaling was not negotiated, which caps the window at 64 KB."
                }
                _ => "",
            };
            out.push(Draft {
                about: None,
                in_handshake: false,
                id: FindingId::ReceiveWindowLimited,
                actor: cx.actor(adv),
                severity: Severity::Degraded,
                confidence: 0.8,
                frames: frames_of(full),
                summary: format!(
                    "Throughput is capped by the {who}'s receive window ({} bytes at most){}",
                    a.max_window,
                    cap.map_or(String::new(), |c| format!(": at most {c:.1} Mbit/s at this RTT"))
                ),
                explanation: format!(
                    "The {peer} filled the {who}'s advertised window {} times ({} of its {} data segments) and had to wait for ACKs to send more, while the window never closed to zero: the application keeps up, but the buffer is too small for the path's bandwidth-delay product.{scale_note}",
                    full.count, full.count, sender.data_segments
                ),
                timeline: cx.span(full, format!("{peer}'s segments fill the {who}'s window ({} times)", full.count)).into_iter().collect(),
                filter: format!("{} && (tcp.analysis.window_full || {})", cx.stream_filter(), cx.sender_filter(adv)),
            });
        }
    }
}

fn capture(cx: &Ctx<'_>, out: &mut Vec<Draft>) {
    let mut missed_frames = Vec::new();
    let mut missed_bytes = 0;
    for side in [cx.client, cx.server()] {
        let (bytes, acks) = cx.side(side).missed();
        missed_bytes += bytes;
        missed_frames.extend(acks);
    }
    if missed_bytes > 0 {
        missed_frames.sort_unstable();
        let timeline = missed_frames
            .iter()
            .take(6)
            .map(|a| {
                cx.entry(
                    *a,
                    "ACK covers data that the capture never saw (and that was never retransmitted)",
                )
            })
            .collect();
        out.push(Draft {
            about: None,
            in_handshake: false,
            id: FindingId::CaptureMissedPackets,
            actor: Actor::Capture,
            severity: Severity::Info,
            confidence: 0.9,
            frames: missed_frames.iter().map(|a| a.0).collect(),
            summary: format!("The capture missed {missed_bytes} bytes of data that the network delivered"),
            explanation: "The receiver acknowledged data that never appears in this capture and that the sender never had to retransmit: it was delivered, the capture just did not record it (capture buffer overflow, a SPAN port dropping under load, or frames removed later). Gaps in this capture are not network loss.".into(),
            timeline,
            filter: format!("{} && (tcp.analysis.ack_lost_segment || tcp.analysis.lost_segment)", cx.stream_filter()),
        });
    }
    for side in [cx.client, cx.server()] {
        let s = cx.side(side);
        let who = cx.name(side);
        let big = &s.over_mss;
        let checksums = offload_checksums(cx, side);
        if big.is_empty() && !checksums {
            continue;
        }
        let mss = cx.side(1 - side).mss;
        let mut parts = Vec::new();
        if !big.is_empty() {
            parts.push(format!(
                "{} segments from the {who} are larger than {} (up to {} bytes): the capturing host's NIC or kernel had not yet split them (TSO/GSO on send, GRO/LRO on receive)",
                big.count,
                mss.map_or("any link MTU".to_string(), |m| format!("the MSS the peer announced ({m})")),
                s.max_payload
            ));
        }
        if checksums {
            parts.push(format!(
                "{} of the {who}'s {} checked packets carry a bad TCP checksum while the other side's are correct: checksum offload, the NIC fills the checksum in after the capture point",
                s.bad_checksums.count, s.checksums_checked
            ));
        }
        let mut frames = frames_of(big);
        frames.extend(s.bad_checksums.frames().into_iter().take(6));
        out.push(Draft {
            about: None,
            in_handshake: false,
            id: FindingId::CaptureOffload,
            actor: Actor::Capture,
            severity: Severity::Info,
            confidence: 0.9,
            frames,
            summary: if checksums || cx.near(side) {
                format!("The capture was taken on the {who}'s host with NIC offloads on (TSO/GSO, checksum offload): what it shows differs from the wire")
            } else if cx.near(1 - side) {
                format!("The capture was taken on the {}'s host with receive offload on (GRO/LRO merges the {who}'s segments): what it shows differs from the wire", cx.name(1 - side))
            } else {
                format!("The {who}'s segments were captured merged by NIC offload (TSO/GSO on the sender or GRO/LRO on the receiver): what the capture shows differs from the wire")
            },
            explanation: format!(
                "{}. These are artifacts of capturing on a host with offloads, not corruption or oversized packets on the network.",
                parts.join("; ")
            ),
            timeline: cx.span(if big.is_empty() { &s.bad_checksums } else { big }, "offload artifact").into_iter().collect(),
            filter: format!(
                "{} && {} && (tcp.len > {} || tcp.checksum.status == \"Bad\")",
                cx.stream_filter(),
                cx.sender_filter(side),
                mss.unwrap_or(1460)
            ),
        });
    }
}
