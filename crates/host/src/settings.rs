//! The TCP sysctls, read from /proc/sys of the calling thread's network namespace (most of
//! net.ipv4.tcp_* are per namespace; net.core.rmem_max and wmem_max are too since 5.x, the
//! values `sysctl` shows inside `ip netns exec`).

use std::fs;
use std::path::PathBuf;

/// `net.ipv4.tcp_retries2` → /proc/sys/net/ipv4/tcp_retries2.
fn path(name: &str) -> PathBuf {
    PathBuf::from("/proc/sys").join(name.replace('.', "/"))
}

/// The sysctl's text, or None when this kernel has no such setting.
pub fn read(name: &str) -> Option<String> {
    fs::read_to_string(path(name))
        .ok()
        .map(|s| s.trim().to_owned())
}

/// A one-number sysctl.
pub fn read_u64(name: &str) -> Option<u64> {
    read(name)?.parse().ok()
}

/// A three-number sysctl such as `net.ipv4.tcp_rmem` (min, default, max).
pub fn read_triple(name: &str) -> Option<[u64; 3]> {
    let text = read(name)?;
    let mut numbers = text.split_whitespace().map(|w| w.parse::<u64>().ok());
    Some([numbers.next()??, numbers.next()??, numbers.next()??])
}

/// The settings the socket diagnosis needs, read once per look.
#[derive(Debug, Clone, Copy)]
pub struct TcpSettings {
    pub retries2: u64,
    pub syn_retries: u64,
    /// The RTO's ceiling (TCP_RTO_MAX, 120 s; `net.ipv4.tcp_rto_max_ms` since 6.15).
    pub rto_max_ms: u64,
    pub rmem: Option<[u64; 3]>,
    pub wmem: Option<[u64; 3]>,
    pub rmem_max: Option<u64>,
    pub wmem_max: Option<u64>,
}

impl TcpSettings {
    /// The kernel's defaults stand in for a setting that cannot be read.
    pub fn read() -> TcpSettings {
        TcpSettings {
            retries2: read_u64("net.ipv4.tcp_retries2").unwrap_or(15),
            syn_retries: read_u64("net.ipv4.tcp_syn_retries").unwrap_or(6),
            rto_max_ms: read_u64("net.ipv4.tcp_rto_max_ms").unwrap_or(120_000),
            rmem: read_triple("net.ipv4.tcp_rmem"),
            wmem: read_triple("net.ipv4.tcp_wmem"),
            rmem_max: read_u64("net.core.rmem_max"),
            wmem_max: read_u64("net.core.wmem_max"),
        }
    }
}

/// How long the kernel retransmits before it gives up, in ms: `tcp_model_timeout()` of
/// net/ipv4/tcp_timer.c. The limit is a time, not a count: the RTO doubles from `rto_base_ms`
/// (TCP_RTO_MIN, 200 ms, for an established connection; the initial 1 s RTO for a SYN) up to
/// the ceiling, then stays there; the kernel gives up once that much time has passed since the
/// first retransmission, whatever the real RTO was.
pub fn give_up_after_ms(boundary: u64, rto_base_ms: u64, rto_max_ms: u64) -> u64 {
    let rto_base_ms = rto_base_ms.max(1);
    let linear_backoff_thresh = (rto_max_ms / rto_base_ms).max(1).ilog2() as u64;
    if boundary <= linear_backoff_thresh {
        ((2u64 << boundary) - 1) * rto_base_ms
    } else {
        ((2u64 << linear_backoff_thresh) - 1) * rto_base_ms
            + (boundary - linear_backoff_thresh) * rto_max_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_retries2_gives_up_after_924_6_seconds() {
        // tcp(7): "The default value of 15 yields a hypothetical timeout of 924.6 seconds".
        assert_eq!(give_up_after_ms(15, 200, 120_000), 924_600);
        // RFC 1122's minimum of 100 s corresponds to 8.
        assert_eq!(give_up_after_ms(8, 200, 120_000), 102_200);
    }

    #[test]
    fn the_default_syn_retries_gives_up_after_127_seconds() {
        assert_eq!(give_up_after_ms(6, 1_000, 120_000), 127_000);
    }

    #[test]
    fn reads_this_machines_settings() {
        // Every Linux since 2.6 has them; the test runs on Linux only.
        assert!(read_u64("net.ipv4.tcp_retries2").is_some());
        assert!(read_triple("net.ipv4.tcp_rmem").is_some_and(|[a, b, c]| a <= b && b <= c));
        assert_eq!(read("net.ipv4.no_such_setting"), None);
    }
}
