//! Trace-style tests of the tshark 4.0.17 rules, one scenario per test, read like a capture:
//! `c(...)` is a client segment, `s(...)` a server segment. Expected flags are the ones the
//! reference (shared/reference/wireshark-tcp-analysis.md) says tshark shows for that frame.

use std::net::{IpAddr, Ipv4Addr};

use tcpsleuth_analyze::{Analyzer, PacketAnalysis};
use tcpsleuth_decode::{Segment, TcpFlags, TcpOptions};

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));
const S: u16 = TcpFlags::SYN;
const A: u16 = TcpFlags::ACK;
const F: u16 = TcpFlags::FIN;
const R: u16 = TcpFlags::RST;
const P: u16 = TcpFlags::PSH;

struct Trace {
    analyzer: Analyzer,
    frame: u64,
}

struct Seg {
    from_client: bool,
    ms: f64,
    seq: u32,
    ack: u32,
    len: u32,
    flags: u16,
    win: u16,
    wscale: Option<u8>,
}

fn c(ms: f64, seq: u32, ack: u32, len: u32, flags: u16, win: u16) -> Seg {
    Seg {
        from_client: true,
        ms,
        seq,
        ack,
        len,
        flags,
        win,
        wscale: None,
    }
}

fn s(ms: f64, seq: u32, ack: u32, len: u32, flags: u16, win: u16) -> Seg {
    Seg {
        from_client: false,
        ..c(ms, seq, ack, len, flags, win)
    }
}

impl Seg {
    fn ws(mut self, shift: u8) -> Seg {
        self.wscale = Some(shift);
        self
    }
}

impl Trace {
    fn new() -> Trace {
        Trace {
            analyzer: Analyzer::new(),
            frame: 0,
        }
    }

    fn port(&mut self, seg: Seg, client_port: u16) -> PacketAnalysis {
        self.frame += 1;
        let (src, dst, sp, dp) = if seg.from_client {
            (CLIENT, SERVER, client_port, 80)
        } else {
            (SERVER, CLIENT, 80, client_port)
        };
        let segment = Segment {
            src,
            dst,
            src_port: sp,
            dst_port: dp,
            seq: seg.seq,
            ack: seg.ack,
            flags: TcpFlags(seg.flags),
            window: seg.win,
            header_len: 20,
            payload_len: seg.len,
            captured_payload_len: seg.len,
            options: TcpOptions {
                window_scale: seg.wscale,
                ..TcpOptions::default()
            },
            ttl: 64,
            ip_id: Some(0),
            checksum_ok: None,
            error: None,
        };
        let ns = (seg.ms * 1e6).round() as i64 + 1_000_000_000;
        self.analyzer
            .analyze(self.frame, ns, 54 + seg.len, &segment)
    }

    fn go(&mut self, seg: Seg) -> PacketAnalysis {
        self.port(seg, 40000)
    }
}

fn names(a: &PacketAnalysis) -> Vec<&'static str> {
    a.flags.names().collect()
}

/// A handshake with client ISN 1000 and server ISN 5000, at 0, 10 and 11 ms.
fn handshake(t: &mut Trace) {
    t.go(c(0.0, 1000, 0, 0, S, 64240));
    t.go(s(10.0, 5000, 1001, 0, S | A, 65160));
    t.go(c(11.0, 1001, 5001, 0, A, 502));
}

#[test]
fn handshake_rtts_and_relative_numbers() {
    let mut t = Trace::new();
    let syn = t.go(c(0.0, 1000, 0, 0, S, 64240));
    assert_eq!(syn.rel_seq, 0);
    let synack = t.go(s(10.0, 5000, 1001, 0, S | A, 65160));
    assert_eq!(synack.acks_frame, Some(1));
    assert_eq!(synack.ack_rtt_ns, Some(10_000_000));
    assert_eq!((synack.rel_seq, synack.rel_ack), (0, 1));
    let ack = t.go(c(11.0, 1001, 5001, 0, A, 502));
    assert_eq!(ack.acks_frame, Some(2));
    assert_eq!(ack.initial_rtt_ns, Some(11_000_000));
    assert!(names(&ack).is_empty());
}

/// The summary counts the frame that completes the handshake (the per-frame completeness is
/// the value before the frame, as tshark shows it).
#[test]
fn summary_sees_the_handshake_completed_by_the_last_frame() {
    let mut t = Trace::new();
    t.go(c(0.0, 1000, 0, 0, S, 64240));
    t.go(s(10.0, 5000, 1001, 0, S | A, 65160));
    let before = t
        .analyzer
        .summaries()
        .into_iter()
        .next()
        .map(|s| s.handshake.complete);
    assert_eq!(before, Some(false));
    let ack = t.go(c(11.0, 1001, 5001, 0, A, 502));
    assert_eq!(
        ack.completeness, 3,
        "tshark shows SYN|SYN-ACK on the ACK itself"
    );
    let after = t
        .analyzer
        .summaries()
        .into_iter()
        .next()
        .map(|s| s.handshake.complete);
    assert_eq!(after, Some(true));
}

#[test]
fn server_ack_repeating_its_syn_ack_is_duplicate_ack_one() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.go(c(12.0, 1001, 5001, 100, A | P, 502));
    let a = t.go(s(13.0, 5001, 1001, 0, A, 65160));
    assert_eq!(names(&a), ["duplicate_ack"]);
    assert_eq!(a.dup_ack, Some((1, 2)));
}

#[test]
fn window_change_on_pure_ack_is_window_update() {
    let mut t = Trace::new();
    handshake(&mut t);
    let a = t.go(s(12.0, 5001, 1001, 0, A, 509));
    assert_eq!(names(&a), ["window_update"]);
}

#[test]
fn three_identical_acks_then_fast_retransmission() {
    let mut t = Trace::new();
    handshake(&mut t);
    for i in 0..4u32 {
        t.go(s(20.0 + f64::from(i), 5001 + i * 100, 1001, 100, A, 509));
    }
    // Segment 5101 is lost; the client acks 5101 for each later segment.
    t.go(c(30.0, 1001, 5101, 0, A, 502));
    let d1 = t.go(c(31.0, 1001, 5101, 0, A, 502));
    let d2 = t.go(c(32.0, 1001, 5101, 0, A, 502));
    assert_eq!(d1.dup_ack, Some((1, 8)));
    assert_eq!(d2.dup_ack, Some((2, 8)));
    let retx = t.go(s(40.0, 5101, 1001, 100, A, 509));
    assert_eq!(names(&retx), ["retransmission", "fast_retransmission"]);
}

#[test]
fn rto_retransmission_reports_rto_from_eldest_unacked() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.go(s(20.0, 5001, 1001, 100, A, 509));
    let r = t.go(s(220.0, 5001, 1001, 100, A, 509));
    assert_eq!(names(&r), ["retransmission"]);
    assert_eq!(r.rto, Some((200_000_000, 4)));
}

#[test]
fn data_already_acked_is_spurious() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.go(s(20.0, 5001, 1001, 100, A, 509));
    t.go(c(30.0, 1001, 5101, 0, A, 502));
    let r = t.go(s(300.0, 5001, 1001, 100, A, 509));
    assert_eq!(names(&r), ["retransmission", "spurious_retransmission"]);
}

#[test]
fn behind_segment_soon_after_the_highest_is_out_of_order() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.go(s(20.0, 5101, 1001, 100, A, 509));
    let hole_then = t.go(s(20.5, 5001, 1001, 100, A, 509));
    assert_eq!(names(&hole_then), ["out_of_order"]);
}

#[test]
fn gap_is_lost_segment_and_ack_beyond_is_acked_unseen() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.go(s(20.0, 5001, 1001, 100, A, 509));
    let gap = t.go(s(21.0, 5201, 1001, 100, A, 509));
    assert_eq!(names(&gap), ["lost_segment"]);
    let beyond = t.go(c(30.0, 1001, 5401, 0, A, 502));
    assert_eq!(names(&beyond), ["ack_lost_segment"]);
}

#[test]
fn keep_alive_and_its_ack() {
    let mut t = Trace::new();
    handshake(&mut t);
    let ka = t.go(c(5000.0, 1000, 5001, 0, A, 502));
    assert_eq!(names(&ka), ["keep_alive"]);
    let kaa = t.go(s(5010.0, 5001, 1001, 0, A, 65160));
    assert_eq!(names(&kaa), ["keep_alive_ack"]);
}

#[test]
fn zero_window_probe_and_probe_ack() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.go(c(20.0, 1001, 5001, 100, A, 502));
    let zw = t.go(s(21.0, 5001, 1101, 0, A, 0));
    assert_eq!(names(&zw), ["zero_window"]);
    let probe = t.go(c(300.0, 1101, 5001, 1, A, 502));
    assert_eq!(names(&probe), ["zero_window_probe"]);
    let probe_ack = t.go(s(301.0, 5001, 1101, 0, A, 0));
    assert_eq!(names(&probe_ack), ["zero_window", "zero_window_probe_ack"]);
    // A repeated probe at the same seq is still a probe: probes do not advance nextseq.
    let again = t.go(c(900.0, 1101, 5001, 1, A, 502));
    assert_eq!(names(&again), ["zero_window_probe"]);
}

#[test]
fn window_full_uses_the_peer_scale_once_it_acked() {
    let mut t = Trace::new();
    t.go(c(0.0, 1000, 0, 0, S, 64240).ws(7));
    t.go(s(10.0, 5000, 1001, 0, S | A, 65160).ws(2));
    // Client window 4 << 7 = 512 bytes.
    t.go(c(11.0, 1001, 5001, 0, A, 4));
    let full = t.go(s(12.0, 5001, 1001, 512, A, 509));
    assert_eq!(names(&full), ["window_full"]);
    assert_eq!(full.window, 509 << 2);
}

#[test]
fn window_full_never_without_a_handshake() {
    let mut t = Trace::new();
    t.go(c(11.0, 1001, 5001, 0, A, 4));
    let no = t.go(s(12.0, 5001, 1001, 4, A, 509));
    assert!(names(&no).is_empty());
}

#[test]
fn syn_with_new_isn_on_used_ports_starts_a_new_stream() {
    let mut t = Trace::new();
    handshake(&mut t);
    t.go(c(20.0, 1001, 5001, 0, F | A, 502));
    t.go(s(21.0, 5001, 1002, 0, F | A, 509));
    t.go(c(22.0, 1002, 5002, 0, A, 502));
    let same_isn = t.go(c(500.0, 1000, 0, 0, S, 64240));
    assert_eq!(same_isn.stream, 0);
    assert_eq!(names(&same_isn), ["retransmission"]);
    let new_isn = t.go(c(5000.0, 90000, 0, 0, S, 64240));
    assert_eq!(new_isn.stream, 1);
    assert_eq!(names(&new_isn), ["reused_ports"]);
    let other = t.port(c(5001.0, 1, 0, 0, S, 64240), 40001);
    assert_eq!(other.stream, 2);
}

#[test]
fn rst_is_never_a_lost_segment() {
    let mut t = Trace::new();
    handshake(&mut t);
    let rst = t.go(c(20.0, 9999, 0, 0, R, 0));
    assert!(names(&rst).is_empty());
}

#[test]
fn bytes_in_flight_counts_unacked_payload() {
    let mut t = Trace::new();
    handshake(&mut t);
    let first = t.go(s(20.0, 5001, 1001, 1000, A, 509));
    assert_eq!(first.bytes_in_flight, Some(1000));
    let second = t.go(s(20.1, 6001, 1001, 1000, A | P, 509));
    assert_eq!(second.bytes_in_flight, Some(2000));
    assert_eq!(second.push_bytes_sent, Some(2000));
    t.go(c(30.0, 1001, 6001, 0, A, 502));
    let third = t.go(s(40.0, 7001, 1001, 500, A, 509));
    assert_eq!(third.bytes_in_flight, Some(1500));
}
