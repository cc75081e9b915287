//! `struct tcp_info` (include/uapi/linux/tcp.h) as INET_DIAG_INFO carries it.
//!
//! Our own reader rather than netlink-packet-sock-diag's: that one refuses structs shorter than
//! the 5.4 layout and drops every field after `tcpi_snd_wnd`, and the "application is not
//! reading" diagnosis needs `tcpi_rcv_wnd` (6.2) and the retransmission one `tcpi_total_rto_time`
//! (6.7). The struct only ever grows at its end, so a field is present exactly when the kernel's
//! struct is long enough to hold it; older kernels leave the newer fields `None`.

use serde::Serialize;

/// The fields tcpsleuth reads. Times are in microseconds unless named `_ms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TcpInfo {
    pub ca_state: u8,
    /// Consecutive retransmission timeouts of the segment at the head of the queue (reset when
    /// it is acknowledged): how far into giving up the kernel is.
    pub retransmits: u8,
    /// Zero-window (or keepalive) probes sent without an answer.
    pub probes: u8,
    /// Exponential backoff of the RTO: the timer is `rto`, already doubled `backoff` times.
    pub backoff: u8,
    pub snd_wscale: u8,
    pub rcv_wscale: u8,
    pub rto_us: u32,
    pub ato_us: u32,
    pub snd_mss: u32,
    pub rcv_mss: u32,
    /// Segments sent and not acknowledged.
    pub unacked: u32,
    pub lost: u32,
    /// Segments retransmitted and not yet acknowledged.
    pub retrans: u32,
    pub last_data_sent_ms: u32,
    pub last_data_recv_ms: u32,
    pub last_ack_recv_ms: u32,
    pub pmtu: u32,
    pub rtt_us: u32,
    pub rttvar_us: u32,
    pub snd_ssthresh: u32,
    /// Congestion window, in segments.
    pub snd_cwnd: u32,
    pub advmss: u32,
    /// The receive buffer space the kernel's autotuning currently aims for.
    pub rcv_space: u32,
    /// Every retransmission over the connection's life.
    pub total_retrans: u32,
    pub bytes_acked: Option<u64>,
    pub bytes_received: Option<u64>,
    /// Bytes the application wrote that TCP has not sent yet (4.6).
    pub notsent_bytes: Option<u32>,
    pub min_rtt_us: Option<u32>,
    /// Bytes per second (4.9).
    pub delivery_rate: Option<u64>,
    /// Time with data in flight, and how much of it the peer's receive window or our send
    /// buffer held the sender back (4.10).
    pub busy_time_us: Option<u64>,
    pub rwnd_limited_us: Option<u64>,
    pub sndbuf_limited_us: Option<u64>,
    pub bytes_sent: Option<u64>,
    pub bytes_retrans: Option<u64>,
    /// The peer's advertised receive window, scaled, in bytes (5.4).
    pub snd_wnd: Option<u32>,
    /// The receive window we last advertised, in bytes (6.2).
    pub rcv_wnd: Option<u32>,
    /// Time spent in RTO recoveries, including the one under way (6.7).
    pub total_rto_time_ms: Option<u32>,
}

impl TcpInfo {
    /// None when the attribute is shorter than the oldest layout we read (2.6's 104 bytes).
    pub fn parse(b: &[u8]) -> Option<TcpInfo> {
        let u8_at = |o: usize| b.get(o).copied();
        let u32_at = |o: usize| Some(u32::from_ne_bytes(b.get(o..o + 4)?.try_into().ok()?));
        let u64_at = |o: usize| Some(u64::from_ne_bytes(b.get(o..o + 8)?.try_into().ok()?));
        let wscale = u8_at(6)?;
        Some(TcpInfo {
            ca_state: u8_at(1)?,
            retransmits: u8_at(2)?,
            probes: u8_at(3)?,
            backoff: u8_at(4)?,
            snd_wscale: wscale & 0x0f,
            rcv_wscale: wscale >> 4,
            rto_us: u32_at(8)?,
            ato_us: u32_at(12)?,
            snd_mss: u32_at(16)?,
            rcv_mss: u32_at(20)?,
            unacked: u32_at(24)?,
            lost: u32_at(32)?,
            retrans: u32_at(36)?,
            last_data_sent_ms: u32_at(44)?,
            last_data_recv_ms: u32_at(52)?,
            last_ack_recv_ms: u32_at(56)?,
            pmtu: u32_at(60)?,
            rtt_us: u32_at(68)?,
            rttvar_us: u32_at(72)?,
            snd_ssthresh: u32_at(76)?,
            snd_cwnd: u32_at(80)?,
            advmss: u32_at(84)?,
            rcv_space: u32_at(96)?,
            total_retrans: u32_at(100)?,
            bytes_acked: u64_at(120),
            bytes_received: u64_at(128),
            notsent_bytes: u32_at(144),
            min_rtt_us: u32_at(148),
            delivery_rate: u64_at(160),
            busy_time_us: u64_at(168),
            rwnd_limited_us: u64_at(176),
            sndbuf_limited_us: u64_at(184),
            bytes_sent: u64_at(200),
            bytes_retrans: u64_at(208),
            snd_wnd: u32_at(228),
            rcv_wnd: u32_at(232),
            total_rto_time_ms: u32_at(244),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A struct as a 6.18 kernel sends it, built field by field at the uapi offsets.
    fn raw(len: usize) -> Vec<u8> {
        let mut b = vec![0u8; len];
        let mut put32 = |o: usize, v: u32| {
            if o + 4 <= b.len() {
                b[o..o + 4].copy_from_slice(&v.to_ne_bytes());
            }
        };
        put32(8, 204_000); // rto
        put32(68, 1_500); // rtt
        put32(80, 10); // cwnd
        put32(228, 65_535); // snd_wnd
        put32(232, 0); // rcv_wnd
        put32(244, 3_000); // total_rto_time
        b[2] = 4; // retransmits
        b[6] = 0x97; // rcv_wscale 9, snd_wscale 7
        b
    }

    #[test]
    fn reads_the_fields_at_their_uapi_offsets() {
        let info = TcpInfo::parse(&raw(280)).expect("long enough");
        assert_eq!(info.rto_us, 204_000);
        assert_eq!(info.rtt_us, 1_500);
        assert_eq!(info.snd_cwnd, 10);
        assert_eq!(info.retransmits, 4);
        assert_eq!((info.snd_wscale, info.rcv_wscale), (7, 9));
        assert_eq!(info.snd_wnd, Some(65_535));
        assert_eq!(info.rcv_wnd, Some(0));
        assert_eq!(info.total_rto_time_ms, Some(3_000));
    }

    #[test]
    fn an_older_kernel_leaves_the_newer_fields_out() {
        // 5.4's struct ends with tcpi_snd_wnd.
        let info = TcpInfo::parse(&raw(232)).expect("long enough");
        assert_eq!(info.snd_wnd, Some(65_535));
        assert_eq!(info.rcv_wnd, None);
        assert_eq!(info.total_rto_time_ms, None);
        assert!(TcpInfo::parse(&raw(100)).is_none());
    }
}
