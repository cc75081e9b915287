//! The rules on hand-built traces, for the cases the Linux lab cannot produce: Windows-like
//! hosts (TTL 128, no timestamps, no SACK), IPv6, long transfers (bounded evidence), and
//! the edges of the injected-reset rule.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use tcpsleuth_analyze::{Analyzer, Retention, RetireReason};
use tcpsleuth_decode::{Segment, TcpFlags, TcpOptions};
use tcpsleuth_diagnose::{Actor, ConnectionDiagnosis, Diagnoser, FindingId, VantagePoint};

const S: u16 = TcpFlags::SYN;
const A: u16 = TcpFlags::ACK;
const R: u16 = TcpFlags::RST;
const MSS: u32 = 1460;

/// A two-host trace: the client (port 50000) and the server (port 443), with per-side TTLs.
struct Trace {
    analyzer: Analyzer,
    diagnoser: Diagnoser,
    frame: u64,
    client: IpAddr,
    server: IpAddr,
    client_ttl: u8,
    server_ttl: u8,
    ip_id: [u16; 2],
}

impl Trace {
    fn new(client: IpAddr, server: IpAddr, client_ttl: u8, server_ttl: u8) -> Trace {
        Trace {
            analyzer: Analyzer::new(),
            diagnoser: Diagnoser::new(),
            frame: 0,
            client,
            server,
            client_ttl,
            server_ttl,
            ip_id: [100, 5000],
        }
    }

    fn v4(client_ttl: u8, server_ttl: u8) -> Trace {
        Trace::new(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
            IpAddr::V4(Ipv4Addr::new(198, 51, 100, 20)),
            client_ttl,
            server_ttl,
        )
    }

    /// One segment; `ms` is the capture time. Windows-like: no timestamps, no SACK.
    #[allow(clippy::too_many_arguments)]
    fn seg(
        &mut self,
        from_client: bool,
        ms: f64,
        seq: u32,
        ack: u32,
        len: u32,
        flags: u16,
        ttl: Option<u8>,
    ) {
        self.frame += 1;
        let side = usize::from(!from_client);
        self.ip_id[side] = self.ip_id[side].wrapping_add(1);
        let (src, dst, sp, dp, default_ttl) = if from_client {
            (self.client, self.server, 50000, 443, self.client_ttl)
        } else {
            (self.server, self.client, 443, 50000, self.server_ttl)
        };
        let segment = Segment {
            src,
            dst,
            src_port: sp,
            dst_port: dp,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: 64240,
            header_len: 20,
            payload_len: len,
            captured_payload_len: len,
            options: TcpOptions {
                mss: (flags & S != 0).then_some(MSS as u16),
                ..TcpOptions::default()
            },
            ttl: ttl.unwrap_or(default_ttl),
            ip_id: src.is_ipv4().then_some(self.ip_id[side]),
            checksum_ok: None,
            error: None,
        };
        let ns = (ms * 1e6).round() as i64 + 1_700_000_000_000_000_000;
        let analysis = self.analyzer.analyze(self.frame, ns, 54 + len, &segment);
        self.diagnoser.observe(self.frame, ns, &segment, &analysis);
    }

    fn c(&mut self, ms: f64, seq: u32, ack: u32, len: u32, flags: u16) {
        self.seg(true, ms, seq, ack, len, flags, None);
    }

    fn s(&mut self, ms: f64, seq: u32, ack: u32, len: u32, flags: u16) {
        self.seg(false, ms, seq, ack, len, flags, None);
    }

    /// Handshake: client ISN 1000, server ISN 9000, RTT 40 ms seen from the client's side.
    fn handshake(&mut self) {
        self.c(0.0, 1000, 0, 0, S);
        self.s(40.0, 9000, 1001, 0, S | A);
        self.c(40.1, 1001, 9001, 0, A);
    }

    fn finish(self) -> ConnectionDiagnosis {
        let summaries: Vec<_> = self.analyzer.summaries();
        let mut all = self.diagnoser.finish(summaries);
        assert_eq!(all.len(), 1);
        all.remove(0).1
    }
}

fn ids(d: &ConnectionDiagnosis) -> Vec<(FindingId, Actor)> {
    d.findings.iter().map(|f| (f.id, f.actor)).collect()
}

/// A Windows client (TTL 128, no SACK, no timestamps) downloading; the server's segment at
/// 1001+10*MSS is lost before the capture point: the hole fills a round trip later.
#[test]
fn windows_host_without_sack_or_timestamps_loss_is_seen_as_late_repair() {
    let mut t = Trace::v4(128, 50);
    t.handshake();
    let base: u32 = 9001;
    let mut ms = 50.0;
    for i in 0..30u32 {
        if i == 10 {
            continue; // lost before the capture point
        }
        t.s(ms, base + i * MSS, 1001, MSS, A);
        let acked = if i < 10 {
            base + (i + 1) * MSS
        } else {
            base + 10 * MSS
        };
        t.c(ms + 0.1, 1001, acked, 0, A);
        ms += 1.0;
    }
    // The repair arrives about one RTT after the hole opened.
    t.s(ms + 40.0, base + 10 * MSS, 1001, MSS, A);
    t.c(ms + 40.1, 1001, base + 30 * MSS, 0, A);
    let d = t.finish();
    assert_eq!(d.vantage.point, VantagePoint::NearClient, "{:?}", d.vantage);
    assert_eq!(
        ids(&d),
        vec![(FindingId::LossRetransmissions, Actor::Network)],
        "{:#?}",
        d.findings
    );
    assert!(
        d.findings[0].explanation.contains("No SACK blocks"),
        "{}",
        d.findings[0].explanation
    );
}

/// Without timestamps, a hole filled within a quarter of the RTT is reordering, not loss.
#[test]
fn early_hole_fill_without_timestamps_is_reordering() {
    let mut t = Trace::v4(128, 50);
    t.handshake();
    let base: u32 = 9001;
    t.s(50.0, base, 1001, MSS, A);
    t.s(50.1, base + 2 * MSS, 1001, MSS, A); // overtook the next one
    t.c(50.2, 1001, base + MSS, 0, A);
    t.s(50.3, base + MSS, 1001, MSS, A); // 0.2 ms late on a 40 ms path
    t.c(50.4, 1001, base + 3 * MSS, 0, A);
    let d = t.finish();
    assert_eq!(
        ids(&d),
        vec![(FindingId::Reordering, Actor::Network)],
        "{:#?}",
        d.findings
    );
}

/// A long transfer with a stall at the end: the evidence stays bounded (frames listed in the
/// finding do not grow with the number of retransmissions) and the backoff is reported.
#[test]
fn long_stall_keeps_bounded_evidence() {
    // Captured on the server (the sender): the stall is the network's until shown otherwise.
    let mut t = Trace::v4(57, 64);
    t.handshake();
    let base: u32 = 9001;
    let mut ms = 50.0;
    for i in 0..20_000u32 {
        t.s(ms, base.wrapping_add(i.wrapping_mul(MSS)), 1001, MSS, A);
        t.c(
            ms + 0.05,
            1001,
            base.wrapping_add((i + 1).wrapping_mul(MSS)),
            0,
            A,
        );
        ms += 0.1;
    }
    let stuck = base.wrapping_add(20_000u32.wrapping_mul(MSS));
    t.s(ms, stuck, 1001, MSS, A);
    let mut rto = 200.0;
    for _ in 0..500 {
        ms += rto;
        t.s(ms, stuck, 1001, MSS, A);
        rto = (rto * 2.0_f64).min(120_000.0);
    }
    let d = t.finish();
    let stall = d
        .findings
        .iter()
        .find(|f| f.id == FindingId::StallRetransmissionLoop)
        .expect("a stall");
    assert_eq!(stall.actor, Actor::Network);
    assert!(stall.frames.len() <= 40, "{} frames", stall.frames.len());
    assert!(stall.summary.contains("500 times"), "{}", stall.summary);
    let timeline: String = stall.timeline.iter().map(|e| e.text.clone()).collect();
    // The RTO has reached Linux's 120 s cap by then: the last gaps are constant.
    assert!(timeline.contains("last gaps 120.00"), "{timeline}");
}

/// IPv6 endpoints: the display filter uses ipv6.src, and an injected RST (hop limit differing
/// from the server's other packets) is attributed to a middlebox.
#[test]
fn ipv6_injected_reset() {
    let mut t = Trace::new(
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, 2)),
        64,
        52,
    );
    t.handshake();
    t.c(50.0, 1001, 9001, 100, A);
    t.s(90.0, 9001, 1101, 500, A);
    t.c(90.1, 1101, 9501, 0, A);
    t.seg(false, 95.0, 9501, 1101, 0, R, Some(61));
    let d = t.finish();
    let injected = d
        .findings
        .iter()
        .find(|f| f.id == FindingId::ResetInjected)
        .unwrap_or_else(|| panic!("{:#?}", d.findings));
    assert_eq!(injected.actor, Actor::Middlebox);
    assert!(
        injected
            .display_filter
            .contains("ipv6.src == 2001:db8:0:1::2"),
        "{}",
        injected.display_filter
    );
    assert!(d
        .application
        .iter()
        .any(|a| a.endpoint == "client" && a.error == "ECONNRESET"));
}

/// One packet of the claimed sender is not a TTL profile: a RST after a single SYN-ACK is
/// not called injected.
#[test]
fn injection_needs_a_ttl_profile() {
    let mut t = Trace::v4(64, 52);
    t.c(0.0, 1000, 0, 0, S);
    t.s(40.0, 9000, 1001, 0, S | A);
    t.c(40.1, 1001, 9001, 100, A);
    t.seg(false, 80.0, 9001, 1101, 0, R | A, Some(60));
    let d = t.finish();
    assert!(
        d.findings.iter().all(|f| f.id != FindingId::ResetInjected),
        "{:#?}",
        d.findings
    );
    assert!(d
        .findings
        .iter()
        .any(|f| f.id == FindingId::ResetAbort && f.actor == Actor::Server));
}

/// Hosts on one link (same TTLs): the handshake leg that crosses the path tells the vantage.
#[test]
fn vantage_from_handshake_timing_when_ttls_agree() {
    let mut near_client = Trace::v4(64, 64);
    near_client.handshake(); // SYN→SYN-ACK 40 ms, SYN-ACK→ACK 0.1 ms
    assert_eq!(near_client.finish().vantage.point, VantagePoint::NearClient);

    let mut near_server = Trace::v4(64, 64);
    near_server.c(0.0, 1000, 0, 0, S);
    near_server.s(0.1, 9000, 1001, 0, S | A);
    near_server.c(40.1, 1001, 9001, 0, A);
    assert_eq!(near_server.finish().vantage.point, VantagePoint::NearServer);

    let mut unclear = Trace::v4(64, 64);
    unclear.c(0.0, 1000, 0, 0, S);
    unclear.s(20.0, 9000, 1001, 0, S | A);
    unclear.c(40.0, 1001, 9001, 0, A);
    assert_eq!(unclear.finish().vantage.point, VantagePoint::Unknown);
}

/// In a streaming run, a connection that closed long ago is retired and diagnosed early, and
/// its evidence freed; its diagnosis is the one it would have had at the end, and a late
/// frame on it keeps its stream but changes nothing.
#[test]
fn closed_quiet_connections_are_retired_with_the_same_diagnosis() {
    let later = 20_000.0;
    let trace = |streaming: bool| {
        let mut t = Trace::v4(64, 57);
        if streaming {
            t.analyzer = Analyzer::streaming(Retention::default());
        }
        t.handshake();
        t.c(50.0, 1001, 9001, 100, A);
        t.seg(false, 90.0, 9001, 1101, 0, R | A, None);
        t
    };
    let mut t = trace(true);
    // Twenty seconds later something else is still going on in the capture.
    let ns = (later * 1e6) as i64 + 1_700_000_000_000_000_000;
    let mut retired = Vec::new();
    t.analyzer.retire(ns, |r| retired.push(r));
    assert_eq!(retired.len(), 1);
    assert_eq!(retired[0].reason, RetireReason::Closed);
    assert_eq!(t.analyzer.live_connections(), 0);
    let early = t.diagnoser.retire(&retired[0].summary);
    assert_eq!(t.diagnoser.live_connections(), 0, "evidence freed");
    t.c(later, 1101, 9001, 0, A);
    assert_eq!(t.analyzer.retention_stats().late_frames, 1);
    assert_eq!(
        t.diagnoser.live_connections(),
        0,
        "the late frame is ignored"
    );

    let whole = trace(false).finish();
    assert_eq!(ids(&early), ids(&whole));
    assert!(
        ids(&early).contains(&(FindingId::ResetAbort, Actor::Server)),
        "{:?}",
        ids(&early)
    );
}
