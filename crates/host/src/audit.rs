//! `tcpsleuth host`: the TCP settings and NIC offloads the seeds keep pointing at, read from
//! this host (this network namespace), with what they mean for a connection and the commands
//! that change them. Rules and thresholds: docs/findings.md, "Findings of the live-host
//! commands".

use std::fs;

use serde::Serialize;
use tcpsleuth_diagnose::Severity;

use crate::finding::{ids, HostFinding};
use crate::settings::{give_up_after_ms, read, read_triple, read_u64};

/// What the buffers are sized for: a rate and a round-trip time, whose product (the
/// bandwidth-delay product) is what one connection must keep in flight.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub rate_bps: u64,
    pub rtt_ms: u64,
}

impl Target {
    /// Twice the bandwidth-delay product, as a power of two: the kernel gives part of a buffer
    /// to overhead, so the window it can advertise is smaller than the buffer.
    pub fn buffer_bytes(&self) -> u64 {
        let bdp = self.rate_bps / 8 * self.rtt_ms / 1000;
        (2 * bdp).max(1).next_power_of_two()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub name: String,
    /// None: this kernel has no such setting.
    pub value: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Offloads {
    pub interface: String,
    pub tso: Option<bool>,
    pub gso: Option<bool>,
    pub gro: Option<bool>,
    pub lro: Option<bool>,
    pub rx_checksum: Option<bool>,
    pub tx_checksum: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    pub settings: Vec<Setting>,
    pub offloads: Vec<Offloads>,
    pub findings: Vec<HostFinding>,
}

/// The settings shown, in the order shown.
pub const SETTINGS: [&str; 15] = [
    "net.core.rmem_max",
    "net.core.wmem_max",
    "net.ipv4.tcp_rmem",
    "net.ipv4.tcp_wmem",
    "net.ipv4.tcp_moderate_rcvbuf",
    "net.ipv4.tcp_window_scaling",
    "net.ipv4.tcp_sack",
    "net.ipv4.tcp_timestamps",
    "net.ipv4.tcp_retries2",
    "net.ipv4.tcp_syn_retries",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.tcp_rto_min_us",
    "net.ipv4.tcp_rto_max_ms",
];

/// tcp_retries2 above this (RFC 1122's 100 s minimum is 8) leaves a dead peer undetected for
/// many minutes.
pub const RETRIES2_MAX: u64 = 8;
/// Idle timeouts of NATs and firewalls are commonly 5 to 60 minutes; keepalives must come
/// sooner to keep an idle connection's state alive there.
pub const KEEPALIVE_TIME_MAX_S: u64 = 300;

pub fn audit(target: Target) -> Audit {
    let settings = SETTINGS
        .iter()
        .map(|name| Setting {
            name: (*name).to_owned(),
            value: read(name),
        })
        .collect();
    let offloads = interfaces()
        .into_iter()
        .map(|i| offloads(&i))
        .collect::<Vec<_>>();
    let mut findings = Vec::new();
    buffers(target, &mut findings);
    options(&mut findings);
    timeouts(&mut findings);
    for o in &offloads {
        offload_finding(o, &mut findings);
    }
    crate::finding::sort(&mut findings);
    Audit {
        settings,
        offloads,
        findings,
    }
}

fn finding(
    id: &'static str,
    severity: Severity,
    summary: String,
    evidence: Vec<String>,
    next_steps: Vec<String>,
) -> HostFinding {
    HostFinding {
        id,
        severity,
        actor: "host settings",
        confidence: 1.0,
        socket: None,
        summary,
        evidence,
        next_steps,
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

fn buffers(target: Target, out: &mut Vec<HostFinding>) {
    let wanted = target.buffer_bytes();
    let goal = format!(
        "{} Mbit/s at {} ms RTT needs {} in flight (bandwidth-delay product); buffers of {}",
        target.rate_bps / 1_000_000,
        target.rtt_ms,
        mib(target.rate_bps / 8 * target.rtt_ms / 1000),
        mib(wanted)
    );
    // Autotuned sockets (the usual case) grow up to the third value of tcp_rmem/tcp_wmem.
    for (name, side) in [
        ("net.ipv4.tcp_rmem", "receive"),
        ("net.ipv4.tcp_wmem", "send"),
    ] {
        let Some([min, default, max]) = read_triple(name) else {
            continue;
        };
        if max < wanted {
            out.push(finding(
                ids::HOST_BUFFER_MAX,
                Severity::Degraded,
                format!(
                    "{name} lets a {side} buffer grow to {} only: one connection stays below \
                     the target rate",
                    mib(max)
                ),
                vec![
                    format!("{name} = {min} {default} {max}"),
                    goal.clone(),
                    format!(
                        "at {} ms RTT a {} buffer carries at most about {} Mbit/s",
                        target.rtt_ms,
                        mib(max),
                        max / 2 * 8 * 1000 / target.rtt_ms.max(1) / 1_000_000
                    ),
                ],
                vec![format!("sysctl -w {name}='{min} {default} {wanted}'")],
            ));
        }
    }
    // SO_RCVBUF / SO_SNDBUF are capped by these, and setting them turns autotuning off.
    for (name, opt) in [
        ("net.core.rmem_max", "SO_RCVBUF"),
        ("net.core.wmem_max", "SO_SNDBUF"),
    ] {
        let Some(max) = read_u64(name) else { continue };
        if max < wanted {
            out.push(finding(
                ids::HOST_BUFFER_MAX,
                Severity::Info,
                format!(
                    "{name} caps applications that set {opt} at {}: they stay below the target rate",
                    mib(max)
                ),
                vec![format!("{name} = {max}"), goal.clone()],
                vec![format!(
                    "sysctl -w {name}={wanted}   # on the host (read-only inside a container's \
                     network namespace); only matters for applications that set {opt}"
                )],
            ));
        }
    }
}

fn options(out: &mut Vec<HostFinding>) {
    let cases = [
        (
            "net.ipv4.tcp_window_scaling",
            Severity::Degraded,
            "without window scaling no window exceeds 64 KiB: one connection carries at most \
             64 KiB per RTT (receive_window.limited)",
        ),
        (
            "net.ipv4.tcp_sack",
            Severity::Degraded,
            "without SACK a loss costs a whole window of retransmissions or an RTO instead of \
             one segment (loss.retransmissions, stall.retransmission_loop)",
        ),
        (
            "net.ipv4.tcp_timestamps",
            Severity::Info,
            "without timestamps RTT is measured once per window and PAWS cannot reject old \
             duplicates on fast connections",
        ),
    ];
    for (name, severity, why) in cases {
        if read_u64(name) == Some(0) {
            out.push(finding(
                ids::HOST_TCP_OPTION_OFF,
                severity,
                format!("{name} is off: {why}"),
                vec![format!("{name} = 0")],
                vec![format!("sysctl -w {name}=1")],
            ));
        }
    }
}

fn timeouts(out: &mut Vec<HostFinding>) {
    let rto_max = read_u64("net.ipv4.tcp_rto_max_ms").unwrap_or(120_000);
    if let Some(r2) = read_u64("net.ipv4.tcp_retries2").filter(|r| *r > RETRIES2_MAX) {
        let secs = give_up_after_ms(r2, 200, rto_max) as f64 / 1000.0;
        out.push(finding(
            ids::HOST_RETRIES2,
            Severity::Info,
            format!(
                "a connection whose peer vanished with data unacknowledged is given up only \
                 after about {secs:.0} s: until then the application's writes and reads just hang"
            ),
            vec![
                format!("net.ipv4.tcp_retries2 = {r2} (about {secs:.1} s of retransmissions)"),
                format!(
                    "{RETRIES2_MAX} gives about {:.1} s, RFC 1122's minimum",
                    give_up_after_ms(RETRIES2_MAX, 200, rto_max) as f64 / 1000.0
                ),
            ],
            vec![
                format!("sysctl -w net.ipv4.tcp_retries2={RETRIES2_MAX}"),
                "or per socket: TCP_USER_TIMEOUT (milliseconds)".to_owned(),
            ],
        ));
    }
    if let Some(idle) =
        read_u64("net.ipv4.tcp_keepalive_time").filter(|t| *t > KEEPALIVE_TIME_MAX_S)
    {
        let intvl = read_u64("net.ipv4.tcp_keepalive_intvl").unwrap_or(75);
        let probes = read_u64("net.ipv4.tcp_keepalive_probes").unwrap_or(9);
        out.push(finding(
            ids::HOST_KEEPALIVE,
            Severity::Info,
            format!(
                "keepalives start after {idle} s idle: a NAT or firewall that forgets idle \
                 connections sooner resets them (reset.injected) or silently drops them"
            ),
            vec![
                format!("net.ipv4.tcp_keepalive_time = {idle}"),
                format!(
                    "a dead idle peer is noticed after {} s ({idle} + {probes} × {intvl})",
                    idle + probes * intvl
                ),
                "only sockets with SO_KEEPALIVE send keepalives".to_owned(),
            ],
            vec![
                format!(
                    "sysctl -w net.ipv4.tcp_keepalive_time={}",
                    KEEPALIVE_TIME_MAX_S / 5
                ),
                "and SO_KEEPALIVE on the socket (or TCP_KEEPIDLE per socket)".to_owned(),
            ],
        ));
    }
}

fn offload_finding(o: &Offloads, out: &mut Vec<HostFinding>) {
    let on: Vec<&str> = [
        ("tso", o.tso),
        ("gso", o.gso),
        ("gro", o.gro),
        ("lro", o.lro),
    ]
    .into_iter()
    .filter(|(_, v)| *v == Some(true))
    .map(|(n, _)| n)
    .collect();
    if on.is_empty() {
        return;
    }
    let mut finding = finding(
        ids::HOST_OFFLOAD,
        Severity::Info,
        format!(
            "{}: {} on: a capture taken on this host shows segments larger than the MTU and \
             outgoing packets with wrong checksums (capture.offload), not what the wire carried",
            o.interface,
            on.join(", ")
        ),
        vec![format!("{}: {} on", o.interface, on.join(", "))],
        vec![format!(
            "while capturing, to see the packets as sent: ethtool -K {} {} off",
            o.interface,
            on.join(" off ")
        )],
    );
    finding.actor = "capture";
    out.push(finding);
}

/// The network interfaces of this namespace, loopback excluded (it never reaches a wire).
pub fn interfaces() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir("/sys/class/net")
        .map(|dir| {
            dir.flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n != "lo")
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

pub fn offloads(interface: &str) -> Offloads {
    use ethtool::{get_flag, get_value, GGRO, GGSO, GRXCSUM, GTSO, GTXCSUM};
    Offloads {
        interface: interface.to_owned(),
        tso: get_value(interface, GTSO),
        gso: get_value(interface, GGSO),
        gro: get_value(interface, GGRO),
        lro: get_flag(interface, ethtool::ETH_FLAG_LRO),
        rx_checksum: get_value(interface, GRXCSUM),
        tx_checksum: get_value(interface, GTXCSUM),
    }
}

/// The legacy SIOCETHTOOL "get value" commands (include/uapi/linux/ethtool.h), as
/// `ethtool -k` falls back to them. They are read-only and need no privilege.
#[allow(unsafe_code)]
mod ethtool {
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    pub const GRXCSUM: u32 = 0x14;
    pub const GTXCSUM: u32 = 0x16;
    pub const GTSO: u32 = 0x1e;
    pub const GGSO: u32 = 0x23;
    const GFLAGS: u32 = 0x25;
    pub const GGRO: u32 = 0x2b;
    pub const ETH_FLAG_LRO: u32 = 1 << 15;

    /// struct ethtool_value.
    #[repr(C)]
    struct EthtoolValue {
        cmd: u32,
        data: u32,
    }

    fn get(interface: &str, cmd: u32) -> Option<u32> {
        let name = interface.as_bytes();
        // The name and its terminating NUL must fit IFNAMSIZ.
        if name.len() >= libc::IFNAMSIZ || name.contains(&0) {
            return None;
        }
        // Any socket will do as a handle for the ioctl; binding a UDP socket sends nothing.
        let socket = UdpSocket::bind("127.0.0.1:0").ok()?;
        let mut value = EthtoolValue { cmd, data: 0 };
        // SAFETY: an all-zero ifreq is valid (a zeroed name and union of integers and a null
        // pointer), which the name copy below leaves NUL-terminated as it is shorter than
        // IFNAMSIZ.
        let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
        for (dst, src) in request.ifr_name.iter_mut().zip(name) {
            *dst = *src as libc::c_char;
        }
        request.ifr_ifru.ifru_data = (&mut value as *mut EthtoolValue).cast();
        // SAFETY: SIOCETHTOOL reads the interface name from `request` and, for these "get"
        // commands, writes one struct ethtool_value through ifru_data, which points to
        // `value`, alive and exclusively borrowed for the whole call. The fd is open for
        // as long as `socket` lives, which outlasts the call.
        let rc = unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCETHTOOL, &mut request) };
        (rc == 0).then_some(value.data)
    }

    /// Whether the feature is on; None when the driver does not say (EOPNOTSUPP).
    pub fn get_value(interface: &str, cmd: u32) -> Option<bool> {
        get(interface, cmd).map(|v| v != 0)
    }

    pub fn get_flag(interface: &str, flag: u32) -> Option<bool> {
        get(interface, GFLAGS).map(|v| v & flag != 0)
    }
}
