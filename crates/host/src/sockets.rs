//! `tcpsleuth sockets`: the TCP sockets of this host with their owners, and what their kernel
//! counters say is wrong. The rules and thresholds are documented in docs/findings.md
//! ("Findings of the live-host commands").

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use serde::Serialize;
use tcpsleuth_diagnose::{FindingId, Severity};

use crate::finding::{ids, HostFinding};
use crate::owners::{socket_owners, Owner};
use crate::settings::{give_up_after_ms, TcpSettings};
use crate::sockdiag::{tcp_sockets, TcpSocket};

/// Which sockets to show.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter {
    /// Only sockets this process holds.
    pub pid: Option<u32>,
    /// Only sockets with this local or peer port.
    pub port: Option<u16>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SocketView {
    #[serde(flatten)]
    pub socket: TcpSocket,
    pub owners: Vec<Owner>,
}

impl SocketView {
    pub fn name(&self) -> String {
        format!("{} -> {}", self.socket.local, self.socket.peer)
    }

    fn owner_text(&self) -> String {
        match self.owners.first() {
            Some(o) => format!("{} (pid {})", o.name, o.pid),
            None => "an unknown process".to_owned(),
        }
    }
}

/// The sockets at one moment.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub taken: Instant,
    pub sockets: Vec<SocketView>,
}

pub fn snapshot(filter: Filter) -> io::Result<Snapshot> {
    let taken = Instant::now();
    let sockets = tcp_sockets()?;
    let mut owners = socket_owners();
    let sockets = sockets
        .into_iter()
        .map(|socket| SocketView {
            owners: owners.remove(&socket.inode).unwrap_or_default(),
            socket,
        })
        .filter(|v| {
            filter
                .pid
                .is_none_or(|pid| v.owners.iter().any(|o| o.pid == pid))
                && filter.port.is_none_or(|port| {
                    v.socket.local.port() == port || v.socket.peer.port() == port
                })
        })
        .collect();
    Ok(Snapshot { taken, sockets })
}

/// A fraction of the time with data in flight above which a limit is worth a finding.
pub const LIMITED_SHARE: f64 = 0.25;
/// Below this much busy time the shares say nothing yet.
pub const LIMITED_MIN_BUSY_US: u64 = 1_000_000;
/// Consecutive RTOs of the same segment from which the connection is stuck, not just lossy:
/// the segment has then been sent three times, as `stall.retransmission_loop` requires.
pub const STALL_RETRANSMITS: u8 = 2;

/// The findings for `now`; `before` (the previous look of `--watch`) tells growing queues from
/// draining ones.
pub fn diagnose(
    now: &Snapshot,
    before: Option<&Snapshot>,
    settings: &TcpSettings,
    target_rate_bps: u64,
) -> Vec<HostFinding> {
    let previous: HashMap<(SocketAddr, SocketAddr), &SocketView> = before
        .map(|b| {
            b.sockets
                .iter()
                .map(|v| ((v.socket.local, v.socket.peer), v))
                .collect()
        })
        .unwrap_or_default();
    let seconds = before.map(|b| now.taken.duration_since(b.taken).as_secs_f64());
    let mut findings = Vec::new();
    for view in &now.sockets {
        let prev = previous
            .get(&(view.socket.local, view.socket.peer))
            .copied();
        not_reading_here(view, prev, seconds, &mut findings);
        peer_not_reading(view, prev, seconds, &mut findings);
        retransmitting(view, settings, &mut findings);
        buffer_limited(view, settings, target_rate_bps, &mut findings);
    }
    crate::finding::sort(&mut findings);
    findings
}

fn connected(s: &TcpSocket) -> bool {
    matches!(
        s.state,
        "ESTAB" | "CLOSE-WAIT" | "FIN-WAIT-1" | "FIN-WAIT-2" | "LAST-ACK" | "CLOSING"
    )
}

/// Data waits in our receive queue and the window we advertise is (nearly) closed: the local
/// application does not read. The seed's `netstat -tunp` + `strace -p` check, automated.
fn not_reading_here(
    view: &SocketView,
    prev: Option<&SocketView>,
    seconds: Option<f64>,
    out: &mut Vec<HostFinding>,
) {
    let s = &view.socket;
    let Some(info) = s.info.as_ref() else { return };
    let Some(rcv_wnd) = info.rcv_wnd else { return };
    // "Nearly closed": less than one full segment fits, so the sender must stop.
    if !connected(s) || s.recv_q == 0 || rcv_wnd >= info.rcv_mss.max(1) {
        return;
    }
    let pid = view.owners.first().map(|o| o.pid);
    let mut evidence = vec![
        format!("Recv-Q {} bytes unread by the application", s.recv_q),
        format!(
            "advertised receive window {rcv_wnd} bytes (segment size {})",
            info.rcv_mss
        ),
        format!("last data received {} ms ago", info.last_data_recv_ms),
    ];
    if let Some(rcvbuf) = s.rcvbuf {
        evidence.push(format!("receive buffer {rcvbuf} bytes"));
    }
    // With the window closed, data can only have come in if the application made room for it;
    // and a Recv-Q that fell was read from.
    let received_now = info.bytes_received;
    let received_before = prev
        .and_then(|p| p.socket.info.as_ref())
        .and_then(|i| i.bytes_received);
    if let Some(p) = prev {
        evidence.push(format!(
            "Recv-Q {} bytes at the previous look",
            p.socket.recv_q
        ));
    }
    let drained = prev.is_some_and(|p| s.recv_q < p.socket.recv_q);
    let (id, severity, confidence, summary) = match (received_before, received_now, seconds) {
        (Some(b), Some(n), Some(secs)) if n > b || drained => {
            evidence.push(format!(
                "{} bytes received in {secs:.1} s, and Recv-Q {}: the application reads",
                n.saturating_sub(b),
                if drained { "fell" } else { "did not fall" }
            ));
            (
                FindingId::ZeroWindowSlowReader,
                Severity::Degraded,
                0.8,
                format!(
                    "{} reads, but more slowly than data arrives: its receive window is closed",
                    view.owner_text()
                ),
            )
        }
        (Some(_), Some(_), Some(secs)) => {
            evidence.push(format!(
                "nothing received in {secs:.1} s and Recv-Q did not fall: nothing was read"
            ));
            (
                FindingId::ZeroWindowNotReading,
                Severity::Failure,
                0.9,
                format!(
                    "{} is not reading: {} bytes wait unread and the window is closed",
                    view.owner_text(),
                    s.recv_q
                ),
            )
        }
        _ => (
            FindingId::ZeroWindowNotReading,
            Severity::Failure,
            0.6,
            format!(
                "{} is not reading, or too slowly: {} bytes wait unread and the window is \
                 closed (watch it with --watch to tell which)",
                view.owner_text(),
                s.recv_q
            ),
        ),
    };
    let mut next_steps = Vec::new();
    match pid {
        Some(pid) => next_steps.push(format!(
            "strace -f -tt -e trace=read,recvfrom,recvmsg -p {pid}   # no reads while data waits: \
             the application is stuck elsewhere (look at its other threads, locks, a full \
             queue downstream)"
        )),
        None => next_steps.push(
            "run as root to see the owning process, then strace -f -tt -e \
             trace=read,recvfrom,recvmsg -p PID"
                .to_owned(),
        ),
    }
    if id == FindingId::ZeroWindowSlowReader {
        next_steps.push(
            "a larger receive buffer only absorbs bursts: sysctl net.ipv4.tcp_rmem (raise the \
             third value), and make the application read sooner or in larger chunks"
                .to_owned(),
        );
    }
    out.push(HostFinding {
        id: id.as_str(),
        severity,
        actor: "local application",
        confidence,
        socket: Some(view.name()),
        summary,
        evidence,
        next_steps,
    });
}

/// We have data to send and the peer's window is zero: the peer's application does not read.
fn peer_not_reading(
    view: &SocketView,
    prev: Option<&SocketView>,
    seconds: Option<f64>,
    out: &mut Vec<HostFinding>,
) {
    let s = &view.socket;
    let Some(info) = s.info.as_ref() else { return };
    if !connected(s) || info.snd_wnd != Some(0) || s.send_q == 0 {
        return;
    }
    let mut evidence = vec![
        format!("peer's receive window 0 bytes"),
        format!(
            "Send-Q {} bytes waiting to be sent or acknowledged",
            s.send_q
        ),
        format!("zero-window probes without an opening: {}", info.probes),
        format!("last ACK from the peer {} ms ago", info.last_ack_recv_ms),
    ];
    if let Some(notsent) = info.notsent_bytes {
        evidence.push(format!("not yet sent: {notsent} bytes"));
    }
    let acked_now = info.bytes_acked;
    let acked_before = prev
        .and_then(|p| p.socket.info.as_ref())
        .and_then(|i| i.bytes_acked);
    let (id, severity, confidence, summary) = match (acked_before, acked_now, seconds) {
        (Some(b), Some(n), Some(secs)) if n > b => {
            evidence.push(format!(
                "the peer acknowledged {} bytes in {secs:.1} s",
                n - b
            ));
            (
                FindingId::ZeroWindowSlowReader,
                Severity::Degraded,
                0.8,
                "the peer reads, but more slowly than we send: its window keeps closing".to_owned(),
            )
        }
        (Some(_), Some(_), Some(secs)) => {
            evidence.push(format!("nothing acknowledged in {secs:.1} s"));
            (
                FindingId::ZeroWindowNotReading,
                Severity::Failure,
                0.9,
                format!(
                    "the peer {} is not reading: its window stays at zero and {} bytes wait here",
                    s.peer, s.send_q
                ),
            )
        }
        _ => (
            FindingId::ZeroWindowNotReading,
            Severity::Failure,
            0.6,
            format!(
                "the peer {} is not reading, or too slowly: its window is zero and {} bytes wait \
                 here (watch it with --watch to tell which)",
                s.peer, s.send_q
            ),
        ),
    };
    out.push(HostFinding {
        id: id.as_str(),
        severity,
        actor: "peer",
        confidence,
        socket: Some(view.name()),
        summary,
        evidence,
        next_steps: vec![format!(
            "on the peer: ss -tnp 'sport = :{}' and strace -f -tt -e trace=read,recvfrom,recvmsg \
             -p PID: the same check from its side",
            s.peer.port()
        )],
    });
}

/// The segment at the head of the queue keeps timing out: RTOs back off until the kernel gives
/// up (`tcp_retries2`; `tcp_syn_retries` for a connect).
fn retransmitting(view: &SocketView, settings: &TcpSettings, out: &mut Vec<HostFinding>) {
    let s = &view.socket;
    let Some(info) = s.info.as_ref() else { return };
    let syn = s.state == "SYN-SENT";
    if info.retransmits < STALL_RETRANSMITS || !(syn || connected(s)) {
        return;
    }
    // The kernel's limit is a time since the first retransmission, modelled from a 200 ms RTO
    // (1 s for a SYN); our estimate of the time spent walks the real RTO back through the
    // doublings, plus the time since the last retransmission.
    // The faster settings: 8 is RFC 1122's 100 s for data; 3 SYN retries wait 15 s.
    let (boundary, base_ms, setting, faster, per_socket) = if syn {
        (
            settings.syn_retries,
            1_000,
            "net.ipv4.tcp_syn_retries",
            3,
            "TCP_SYNCNT",
        )
    } else {
        (
            settings.retries2,
            200,
            "net.ipv4.tcp_retries2",
            8,
            "TCP_USER_TIMEOUT",
        )
    };
    let limit_ms = give_up_after_ms(boundary, base_ms, settings.rto_max_ms);
    let rto_ms = u64::from(info.rto_us / 1000);
    let first_rto_ms = (rto_ms >> info.backoff.min(32)).max(1);
    let mut spent_ms = u64::from(info.last_data_sent_ms);
    for k in 1..u32::from(info.retransmits) {
        spent_ms += (first_rto_ms << k.min(32)).min(settings.rto_max_ms);
    }
    let left_ms = limit_ms.saturating_sub(spent_ms);
    let evidence = vec![
        format!(
            "the same segment timed out {} times in a row (backoff {})",
            info.retransmits, info.backoff
        ),
        format!("RTO now {rto_ms} ms"),
        format!(
            "segments unacknowledged: {}, retransmitted and unacknowledged: {}, retransmissions \
             over the connection's life: {}",
            info.unacked, info.retrans, info.total_retrans
        ),
        format!("last ACK from the peer {} ms ago", info.last_ack_recv_ms),
        format!(
            "{setting} = {boundary}: the kernel gives up after about {:.1} s of retransmissions",
            limit_ms as f64 / 1000.0
        ),
    ];
    let (id, summary) = if syn {
        (
            FindingId::HandshakeNoResponse,
            format!(
                "the connect to {} gets no answer: SYN sent {} times; the kernel gives up in about \
                 {:.0} s",
                s.peer,
                u32::from(info.retransmits) + 1,
                left_ms as f64 / 1000.0
            ),
        )
    } else {
        (
            FindingId::StallRetransmissionLoop,
            format!(
                "nothing reaches {} or comes back: the same segment was retransmitted {} times \
                 with backoff; the kernel resets the connection in about {:.0} s (ETIMEDOUT)",
                s.peer,
                info.retransmits,
                left_ms as f64 / 1000.0
            ),
        )
    };
    out.push(HostFinding {
        id: id.as_str(),
        severity: Severity::Failure,
        actor: "network",
        confidence: 0.8,
        socket: Some(view.name()),
        summary,
        evidence,
        next_steps: vec![
            format!(
                "mtr -rwT -P {} -c 100 {}   # where on the path packets stop",
                s.peer.port(),
                s.peer.ip()
            ),
            "nft list ruleset; iptables -S   # a firewall here dropping the traffic".to_owned(),
            format!(
                "to fail faster than that: sysctl -w {setting}={faster} (about {:.0} s), or \
                 {per_socket} on the socket",
                give_up_after_ms(faster, base_ms, settings.rto_max_ms) as f64 / 1000.0
            ),
        ],
    });
}

/// Time with data in flight spent held back by the peer's window or our send buffer, with the
/// buffer a target rate needs at this RTT (bandwidth-delay product).
fn buffer_limited(
    view: &SocketView,
    settings: &TcpSettings,
    target_rate_bps: u64,
    out: &mut Vec<HostFinding>,
) {
    let s = &view.socket;
    let Some(info) = s.info.as_ref() else { return };
    let Some(busy) = info.busy_time_us.filter(|b| *b >= LIMITED_MIN_BUSY_US) else {
        return;
    };
    let rtt_s = f64::from(info.rtt_us) / 1e6;
    // Bytes in flight needed to keep the target rate going for one RTT; buffers twice that,
    // as the kernel keeps part of a buffer for its own overhead.
    let bdp = (target_rate_bps as f64 / 8.0 * rtt_s).ceil() as u64;
    let wanted = (2 * bdp).max(4 << 20).next_power_of_two();
    let mb = |b: u64| format!("{:.1} MiB", b as f64 / f64::from(1 << 20));
    let rate = |bps: f64| format!("{:.1} Mbit/s", bps / 1e6);
    let bdp_line = format!(
        "RTT {:.2} ms: {} at the target rate is a bandwidth-delay product of {} bytes",
        rtt_s * 1000.0,
        rate(target_rate_bps as f64),
        bdp
    );
    let cases = [
        (info.rwnd_limited_us, true),
        (info.sndbuf_limited_us, false),
    ];
    for (limited, by_peer_window) in cases {
        let Some(limited) = limited else { continue };
        // A window at zero now is a reader's problem, which the zero-window findings tell;
        // "limited" is for an open window too small for the path.
        if by_peer_window && info.snd_wnd == Some(0) {
            continue;
        }
        let share = limited as f64 / busy as f64;
        if share < LIMITED_SHARE {
            continue;
        }
        let mut evidence = vec![format!(
            "held back {:.0}% of the {:.1} s with data in flight ({} ms)",
            share * 100.0,
            busy as f64 / 1e6,
            limited / 1000
        )];
        evidence.push(bdp_line.clone());
        if let Some(rate_now) = info.delivery_rate {
            evidence.push(format!("delivery rate now {}", rate(rate_now as f64 * 8.0)));
        }
        let (id, actor, summary, next_steps) = if by_peer_window {
            if let Some(w) = info.snd_wnd {
                evidence.push(format!(
                    "peer's window {w} bytes: at most {} at this RTT",
                    rate(f64::from(w) * 8.0 / rtt_s.max(1e-6))
                ));
            }
            let mut steps = vec![format!(
                "on the receiver (the peer): sysctl net.ipv4.tcp_rmem net.core.rmem_max; for {} \
                 the third value of tcp_rmem should be at least {wanted} (sysctl -w \
                 net.ipv4.tcp_rmem='4096 131072 {wanted}')",
                rate(target_rate_bps as f64)
            )];
            steps.push(
                "if the receiving application sets SO_RCVBUF it turns autotuning off and is \
                 capped by net.core.rmem_max: raise that too, or let it autotune"
                    .to_owned(),
            );
            (
                FindingId::ReceiveWindowLimited.as_str(),
                "peer",
                format!(
                    "throughput is capped by the peer's receive window ({:.0}% of the busy time)",
                    share * 100.0
                ),
                steps,
            )
        } else {
            if let Some(sndbuf) = s.sndbuf {
                evidence.push(format!("send buffer {sndbuf} bytes"));
            }
            if let Some([_, _, max]) = settings.wmem {
                evidence.push(format!("net.ipv4.tcp_wmem max {}", mb(max)));
            }
            (
                ids::SEND_BUFFER_LIMITED,
                "local application",
                format!(
                    "throughput is capped by this socket's send buffer ({:.0}% of the busy time)",
                    share * 100.0
                ),
                vec![
                    format!(
                        "sysctl -w net.ipv4.tcp_wmem='4096 16384 {wanted}' (for {} at this RTT)",
                        rate(target_rate_bps as f64)
                    ),
                    format!(
                        "if {} sets SO_SNDBUF, it is capped by net.core.wmem_max (now {}): \
                         sysctl -w net.core.wmem_max={wanted}, or stop setting it",
                        view.owner_text(),
                        settings
                            .wmem_max
                            .map_or("unknown".to_owned(), |v| v.to_string())
                    ),
                ],
            )
        };
        out.push(HostFinding {
            id,
            severity: Severity::Degraded,
            actor,
            confidence: 0.7,
            socket: Some(view.name()),
            summary,
            evidence,
            next_steps,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcpinfo::TcpInfo;

    fn view(info: TcpInfo) -> SocketView {
        SocketView {
            socket: TcpSocket {
                local: "10.0.0.1:40000".parse().expect("address"),
                peer: "10.0.0.2:443".parse().expect("address"),
                state: "ESTAB",
                recv_q: 0,
                send_q: 100_000,
                inode: 1,
                uid: 0,
                info: Some(info),
                rcvbuf: Some(131_072),
                sndbuf: Some(87_040),
                rmem_alloc: Some(0),
                congestion: None,
            },
            owners: Vec::new(),
        }
    }

    /// 20 ms RTT, 2 s busy, a 64 KiB window: the counters of a window-bound bulk transfer.
    fn info(rwnd_limited_us: u64, sndbuf_limited_us: u64, snd_wnd: u32) -> TcpInfo {
        let mut raw = vec![0u8; 248];
        let mut put = |o: usize, v: &[u8]| raw[o..o + v.len()].copy_from_slice(v);
        put(20, &1448u32.to_ne_bytes()); // rcv_mss
        put(68, &20_000u32.to_ne_bytes()); // rtt
        put(168, &2_000_000u64.to_ne_bytes()); // busy_time
        put(176, &rwnd_limited_us.to_ne_bytes());
        put(184, &sndbuf_limited_us.to_ne_bytes());
        put(228, &snd_wnd.to_ne_bytes());
        put(232, &65_535u32.to_ne_bytes()); // rcv_wnd: open
        TcpInfo::parse(&raw).expect("long enough")
    }

    fn findings(info: TcpInfo) -> Vec<HostFinding> {
        let snapshot = Snapshot {
            taken: Instant::now(),
            sockets: vec![view(info)],
        };
        let settings = TcpSettings {
            retries2: 15,
            syn_retries: 6,
            rto_max_ms: 120_000,
            rmem: Some([4096, 131_072, 6_291_456]),
            wmem: Some([4096, 16_384, 4_194_304]),
            rmem_max: Some(212_992),
            wmem_max: Some(212_992),
        };
        diagnose(&snapshot, None, &settings, 1_000_000_000)
    }

    #[test]
    fn an_open_window_that_holds_the_sender_back_is_receive_window_limited() {
        let found = findings(info(1_500_000, 0, 65_535));
        assert_eq!(found.len(), 1, "{found:#?}");
        let f = &found[0];
        assert_eq!(f.id, "receive_window.limited");
        assert_eq!(f.actor, "peer");
        // 1 Gbit/s × 20 ms = 2.5 MB in flight; twice that, as a power of two: 8 MiB.
        assert!(
            f.next_steps[0].contains("tcp_rmem='4096 131072 8388608'"),
            "{f:#?}"
        );
        // 64 KiB per 20 ms is at most 26.2 Mbit/s.
        assert!(
            f.evidence.iter().any(|e| e.contains("26.2 Mbit/s")),
            "{f:#?}"
        );
    }

    #[test]
    fn a_window_at_zero_is_left_to_the_zero_window_findings() {
        let found = findings(info(1_500_000, 0, 0));
        assert!(
            found.iter().all(|f| f.id != "receive_window.limited"),
            "{found:#?}"
        );
        assert!(found
            .iter()
            .any(|f| f.id == "zero_window.not_reading" && f.actor == "peer"));
    }

    #[test]
    fn a_full_send_buffer_is_send_buffer_limited_and_a_small_share_is_nothing() {
        let found = findings(info(0, 600_000, 65_535));
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].id, "send_buffer.limited");
        assert_eq!(found[0].actor, "local application");
        assert!(found[0].next_steps[0].contains("tcp_wmem='4096 16384 8388608'"));
        // 20% of the busy time is under the 25% threshold.
        assert!(findings(info(0, 400_000, 65_535)).is_empty());
    }
}
