//! A streaming analyzer ([`Analyzer::streaming`]) hands finished connections out and forgets
//! them: memory follows the connections alive at once. These tests check what it must keep
//! exact while doing so (stream numbers, port reuse) and what it gives up past its limits.

use std::net::{IpAddr, Ipv4Addr};

use tcpsleuth_analyze::{Analyzer, PacketAnalysis, Retention, RetireReason, Retired};
use tcpsleuth_decode::{Segment, TcpFlags, TcpOptions};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const S: u16 = TcpFlags::SYN;
const A: u16 = TcpFlags::ACK;
const F: u16 = TcpFlags::FIN;
const R: u16 = TcpFlags::RST;
const SEC: i64 = 1_000_000_000;

struct Run {
    analyzer: Analyzer,
    frame: u64,
    retired: Vec<Retired>,
}

impl Run {
    fn new(retention: Retention) -> Run {
        Run {
            analyzer: Analyzer::streaming(retention),
            frame: 0,
            retired: Vec::new(),
        }
    }

    /// One segment at `secs`, client port `port` → server port 80 (or back).
    #[allow(clippy::too_many_arguments)]
    fn seg(
        &mut self,
        secs: f64,
        from_client: bool,
        port: u16,
        seq: u32,
        ack: u32,
        flags: u16,
    ) -> PacketAnalysis {
        self.frame += 1;
        let (src, dst, sp, dp) = if from_client {
            (CLIENT, SERVER, port, 80)
        } else {
            (SERVER, CLIENT, 80, port)
        };
        let segment = Segment {
            src,
            dst,
            src_port: sp,
            dst_port: dp,
            seq,
            ack,
            flags: TcpFlags(flags),
            window: 1000,
            header_len: 20,
            payload_len: 0,
            captured_payload_len: 0,
            options: TcpOptions::default(),
            ttl: 64,
            ip_id: Some(0),
            checksum_ok: None,
            error: None,
        };
        let ns = (secs * 1e9) as i64;
        let analysis = self.analyzer.analyze(self.frame, ns, 54, &segment);
        if self.frame % 64 == 0 || self.analyzer.over_limit() {
            self.tick(secs);
        }
        analysis
    }

    fn tick(&mut self, secs: f64) {
        let retired = &mut self.retired;
        self.analyzer
            .retire((secs * 1e9) as i64, |r| retired.push(r));
    }

    /// A whole short connection from `port`: handshake, FINs both ways.
    fn connection(&mut self, secs: f64, port: u16, isn: u32) {
        self.seg(secs, true, port, isn, 0, S);
        self.seg(secs + 0.01, false, port, 7000, isn + 1, S | A);
        self.seg(secs + 0.02, true, port, isn + 1, 7001, A);
        self.seg(secs + 0.03, true, port, isn + 1, 7001, F | A);
        self.seg(secs + 0.04, false, port, 7001, isn + 2, F | A);
        self.seg(secs + 0.05, true, port, isn + 2, 7002, A);
    }
}

fn streams(retired: &[Retired]) -> Vec<u32> {
    let mut s: Vec<u32> = retired.iter().map(|r| r.summary.stream).collect();
    s.sort_unstable();
    s
}

#[test]
fn closed_connections_retire_after_the_quiet_period_and_late_frames_keep_their_stream() {
    let mut run = Run::new(Retention::default());
    run.connection(0.0, 40000, 1000);
    run.tick(5.0);
    assert!(run.retired.is_empty(), "not quiet long enough yet");
    run.tick(10.1);
    assert_eq!(run.retired.len(), 1);
    assert_eq!(run.retired[0].reason, RetireReason::Closed);
    assert_eq!(run.retired[0].summary.client_to_server.packets, 4);
    assert_eq!(run.analyzer.live_connections(), 0);
    assert!(run.analyzer.summary(0).is_none(), "forgotten once retired");

    // A stray ACK on the retired connection: same stream, not analysed, counted.
    let late = run.seg(11.0, false, 40000, 7002, 1002, A);
    assert_eq!(late.stream, 0);
    assert!(late.retired);
    assert_eq!(run.analyzer.retention_stats().late_frames, 1);
    assert_eq!(run.analyzer.stream_count(), 1);
}

#[test]
fn port_reuse_after_retirement_is_told_apart_as_tshark_does() {
    let mut run = Run::new(Retention::default());
    run.connection(0.0, 40000, 1000);
    run.tick(20.0);
    assert_eq!(run.retired.len(), 1);
    // The client's SYN retransmitted (same ISN) still belongs to the old stream...
    let again = run.seg(20.5, true, 40000, 1000, 0, S);
    assert_eq!((again.stream, again.retired), (0, true));
    // ...a SYN with a new ISN starts stream 1, flagged as reused ports.
    let syn = run.seg(21.0, true, 40000, 555_000, 0, S);
    assert_eq!(syn.stream, 1);
    assert!(!syn.retired);
    assert!(syn.flags.names().any(|n| n == "reused_ports"));
}

#[test]
fn forgotten_ports_start_a_new_stream() {
    let retention = Retention::default();
    let mut run = Run::new(retention);
    run.connection(0.0, 40000, 1000);
    run.tick(20.0);
    let forget_at = 20.0 + retention.remember_ns as f64 / 1e9;
    run.tick(forget_at + 1.0);
    let stray = run.seg(forget_at + 2.0, false, 40000, 7002, 1002, R);
    assert_eq!((stray.stream, stray.retired), (1, false));
}

#[test]
fn a_connection_replaced_on_the_same_ports_is_handed_out_at_once() {
    let mut run = Run::new(Retention::default());
    // Never closed: only a SYN, then the same ports with a new ISN.
    run.seg(0.0, true, 40000, 1000, 0, S);
    run.seg(1.0, true, 40000, 9_000_000, 0, S);
    assert_eq!(
        run.analyzer.summary(0).map(|s| s.stream),
        Some(0),
        "still held"
    );
    assert_eq!(run.analyzer.summary(1).map(|s| s.stream), Some(1));
    run.tick(1.0);
    assert_eq!(run.retired.len(), 1);
    assert_eq!(run.retired[0].reason, RetireReason::Replaced);
    assert_eq!(run.retired[0].summary.stream, 0);
    assert_eq!(run.analyzer.live_connections(), 1);
}

#[test]
fn past_the_cap_the_least_recently_active_connections_are_evicted() {
    let retention = Retention {
        max_live: 100,
        ..Retention::default()
    };
    let mut run = Run::new(retention);
    // A SYN flood: 1000 half-open connections, one every millisecond, and one connection
    // that stays active throughout.
    for i in 0..1000u16 {
        let t = f64::from(i) / 1000.0;
        run.seg(t, true, 10_000 + i, 1, 0, S);
        run.seg(t, true, 5000, 100 + u32::from(i), 0, A);
        assert!(run.analyzer.live_connections() <= 101, "bounded by the cap");
    }
    let stats = run.analyzer.retention_stats();
    assert!(stats.evicted >= 900, "{stats:?}");
    assert!(stats.peak_live <= 101, "{stats:?}");
    assert!(run
        .retired
        .iter()
        .all(|r| r.reason == RetireReason::Evicted));
    // The busy connection (stream 1) is never the least recently active.
    assert!(!streams(&run.retired).contains(&1));
    run.analyzer.finish(|r| run.retired.push(r));
    // Every connection is handed out exactly once, evicted or at the end.
    let all = streams(&run.retired);
    assert_eq!(all, (0..1001).collect::<Vec<u32>>());
}

#[test]
fn a_plain_analyzer_retires_nothing() {
    let mut analyzer = Analyzer::new();
    let segment = Segment {
        src: CLIENT,
        dst: SERVER,
        src_port: 1,
        dst_port: 80,
        seq: 1,
        ack: 0,
        flags: TcpFlags(R),
        window: 0,
        header_len: 20,
        payload_len: 0,
        captured_payload_len: 0,
        options: TcpOptions::default(),
        ttl: 64,
        ip_id: None,
        checksum_ok: None,
        error: None,
    };
    analyzer.analyze(1, 0, 54, &segment);
    let mut retired = 0;
    analyzer.retire(3600 * SEC, |_| retired += 1);
    analyzer.finish(|_| retired += 1);
    assert_eq!(retired, 0);
    assert_eq!(analyzer.summaries().len(), 1);
}
