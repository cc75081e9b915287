//! Next steps per finding and what the application most likely saw. Every command named here
//! exists on the systems named (checked on Debian 12 / Linux 6.x; Windows commands are
//! built-in cmdlets and netsh contexts, plus Sysinternals Process Explorer where named);
//! docs/findings.md lists them per finding.

use serde::Serialize;

use crate::finding::{Actor, Finding, FindingId};
use crate::rules::Ctx;

/// `about`: the endpoint (side index) whose data or RST the finding concerns, if not the actor.
pub fn next_steps(id: FindingId, actor: Actor, about: Option<usize>, cx: &Ctx<'_>) -> Vec<String> {
    let c = cx.side(cx.client).endpoint;
    let s = cx.side(cx.server()).endpoint;
    let (sip, sport, cip) = (s.ip, s.port, c.ip);
    // Path measurements go from the capturing host towards its peer: a TCP probe to the
    // server's port, or a plain ICMP one to a client (its ephemeral port is closed).
    let (peer_ip, mtr) = if cx.near(cx.server()) {
        (cip, format!("mtr -rw -c 200 {cip}"))
    } else {
        (sip, format!("mtr -rwT -P {sport} -c 200 {sip}"))
    };
    // A hole whose copies never reached a capture taken at the receiver: nothing to look
    // for inside the receiver's host.
    let receiver_saw_nothing =
        actor == Actor::Network && about.is_some_and(|sender| cx.near(1 - sender));
    let both_ends = format!(
        "Capture at both ends at once to see where packets disappear: `tcpdump -i any -s 128 -w client.pcap host {sip} and port {sport}` on the client, the same on the server, then `tcpsleuth analyze client.pcap server.pcap`."
    );
    let role = |a: Actor| {
        if a == Actor::Client {
            "client"
        } else {
            "server"
        }
    };
    let steps: Vec<String> = match id {
        FindingId::HandshakeRefused => vec![
            format!("On the server, check that something listens on port {sport}: `ss -ltnp 'sport = :{sport}'` (Linux) or `Get-NetTCPConnection -State Listen -LocalPort {sport}` (Windows)."),
            "Check whether a firewall rejects the port: `nft list ruleset` / `iptables -S` on Linux hosts and routers, `Get-NetFirewallRule -Enabled True -Direction Inbound` on Windows.".into(),
            format!("From the client, `nc -vz {sip} {sport}` (Linux) or `Test-NetConnection {sip} -Port {sport}` (Windows) reproduces it; the application sees ECONNREFUSED / WSAECONNREFUSED (10061)."),
        ],
        FindingId::HandshakeNoResponse => vec![
            format!("Test reachability of the port: `nc -vz -w 3 {sip} {sport}` (Linux) or `Test-NetConnection {sip} -Port {sport}` (Windows); `traceroute -T -p {sport} {sip}` (as root) shows where TCP SYNs stop."),
            format!("Capture on the server: if the SYNs arrive there unanswered, look at the host firewall (`nft list ruleset`) and accept-queue overflows (`nstat -az TcpExtListenOverflows TcpExtListenDrops`); if they do not arrive, a firewall or route on the path drops them."),
            both_ends,
        ],
        FindingId::HandshakeSynRetransmitted => vec![
            format!("Measure loss on the path: `{mtr}` or `ping -c 100 {peer_ip}`."),
            "On a busy server, check for SYN drops: `nstat -az TcpExtListenOverflows TcpExtListenDrops TcpExtTCPReqQFullDrop`; raise the backlog (`net.core.somaxconn`, the application's listen() backlog) if they grow.".into(),
        ],
        FindingId::ResetAbort => vec![
            format!("Find why the {} application aborted: its logs around the reset time, and on Linux `strace -f -tt -e trace=close,shutdown,setsockopt -p PID` to catch SO_LINGER 0 or a close with unread data.", role(actor)),
            "On Linux, `nstat -az TcpExtTCPAbortOnClose TcpExtTCPAbortOnData` shows which kind of abort it was: TCPAbortOnClose counts resets sent because received data was unread at close(), TCPAbortOnData counts aborts with SO_LINGER 0 (and some data-after-shutdown cases).".into(),
            "If the reset hit a connection the peer was still reusing after the other side had closed it (HTTP keep-alive), make the client's idle timeout shorter than the server's, or retry idempotent requests on ECONNRESET.".into(),
        ],
        FindingId::ResetAfterRetransmissions | FindingId::StallRetransmissionLoop => [
            Some(both_ends),
            (!receiver_saw_nothing).then(|| "On the receiving host, look for the drop after the capture point: `nstat -az TcpInCsumErrors TcpExtTCPRcvQDrop TcpExtTCPZeroWindowDrop`, `ethtool -S IFACE | grep -i drop`, and the host firewall (`nft list ruleset`); on Windows, `netstat -s -p tcp` and the security software's logs.".to_string()),
            Some(format!("Measure loss on the path: `{mtr}`; a path that drops one particular segment and all its copies suggests a middlebox filtering on content (IPS, DLP) or a path-MTU black hole (`ping -M do -s 1472 {peer_ip}`).")),
            Some("If NIC offload is suspected on a Windows endpoint: `Get-NetAdapterAdvancedProperty`, then `Disable-NetAdapterLso -Name NAME` and `Disable-NetAdapterChecksumOffload -Name NAME` to test; on Linux `ethtool -K IFACE tso off gso off gro off`.".to_string()),
        ]
        .into_iter()
        .flatten()
        .collect(),
        FindingId::ResetInjected => vec![
            format!("Find the device: compare hop counts, `traceroute -T -p {sport} {sip}` (the RST's TTL says how many hops away it was made), and check firewalls, IPS and load balancers on the path for reset or idle-timeout rules."),
            "If resets follow idle periods, send keep-alives more often than the device's idle timeout: on Linux `setsockopt(SO_KEEPALIVE)` with `TCP_KEEPIDLE`, or `sysctl -w net.ipv4.tcp_keepalive_time=60` host-wide; on Windows the `KeepAliveTime` registry value (HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters, milliseconds) or `SIO_KEEPALIVE_VALS`.".into(),
            "On a Linux middlebox with conntrack, `sysctl net.netfilter.nf_conntrack_tcp_timeout_established` shows its idle timeout.".into(),
        ],
        FindingId::ResetStaleSyn => vec![
            format!("Check whether a NAT or load balancer in front of {cip} reuses source ports faster than the server forgets connections."),
            format!("On the server, the old connection shows in `ss -tn state established '( sport = :{sport} )'`; keep-alives (`net.ipv4.tcp_keepalive_time`) let it notice dead peers sooner."),
            "On the client, avoid binding fixed source ports; let the kernel pick from `net.ipv4.ip_local_port_range`.".into(),
        ],
        FindingId::LossRetransmissions => vec![
            format!("Measure loss and where it starts: `{mtr}`; check interface errors with `ip -s link` and `ethtool -S IFACE` on both hosts, `Get-NetAdapterStatistics` on Windows."),
            "On Linux, `ss -ti dst ADDRESS` shows per-connection retrans, rto and rtt; `nstat -az TcpRetransSegs TcpExtTCPLostRetransmit` counts host-wide.".into(),
            both_ends,
        ],
        FindingId::LossSegmentRejected => vec![
            "On the receiving Linux host: `nstat -az TcpInCsumErrors TcpExtTCPRcvQDrop` and `ethtool -S IFACE | grep -iE 'err|drop'`; check host firewall rules with `nft list ruleset`.".into(),
            "If the bad checksums come from a device on the path, find it by capturing hop by hop; on Windows receivers, check `netstat -s -p tcp` and the NIC driver's statistics.".into(),
        ],
        FindingId::SpuriousDelayedAck => vec![
            format!("On the {} (the sender), check for a lowered minimum RTO: `ip route show` (a route with `rto_min lock 5ms`, say), `sysctl net.ipv4.tcp_rto_min_us` on kernels that have it (6.11 and later), or a BPF sock_ops program; the Linux default minimum of 200 ms is above the 40 ms delayed-ACK timer.", role(actor)),
            "On a Linux receiver, ACK at once: `ip route change ROUTE quickack 1`, or set `TCP_QUICKACK` on the socket after each read. On a Windows receiver, the `TcpAckFrequency` registry value (DWORD 1, under HKLM\\SYSTEM\\CurrentControlSet\\Services\\Tcpip\\Parameters\\Interfaces\\{GUID}) disables delayed ACK.".into(),
            "If the sender uses Nagle plus small writes, `TCP_NODELAY` on the sender avoids the write-write-read pattern that waits on delayed ACKs.".into(),
        ],
        FindingId::SpuriousRto => vec![
            format!("Watch the RTT during the transfer: `ping -i 0.2 {peer_ip}` alongside it, or `ss -ti dst {peer_ip}` (rtt:avg/var, rto). A rising RTT under load is queueing (bufferbloat): enable a fair queue (`tc qdisc replace dev IFACE root fq_codel`) on the bottleneck."),
            "Keep F-RTO on (Linux `net.ipv4.tcp_frto = 2`, the default) so spurious timeouts are detected and undone.".into(),
        ],
        FindingId::Reordering => vec![
            "Look for parallel paths: ECMP routes (`ip route show`), link bonding in a round-robin mode (`cat /proc/net/bonding/BOND`), or a middlebox processing packets in parallel.".into(),
            "On Linux, `nstat -az TcpExtTCPSACKReorder TcpExtTCPTSReorder TcpExtTCPDSACKRecv` counts reordering seen by the stack; RACK (`net.ipv4.tcp_recovery = 1`, the default) tolerates it best.".into(),
        ],
        FindingId::ZeroWindowSlowReader => vec![
            format!("Profile the {} application's read loop: read in larger chunks, read from a dedicated thread, or use asynchronous I/O.", role(actor)),
            "A larger receive buffer absorbs bursts: on Linux, `sysctl net.ipv4.tcp_rmem` shows min, default and max; raise the max (the third value) if it is small, e.g. `sysctl -w net.ipv4.tcp_rmem='4096 131072 33554432'` (never below the current value), and do not fix SO_RCVBUF in the application (that disables autotuning); on Windows, `netsh interface tcp show global` should show `Receive Window Auto-Tuning Level: normal`.".into(),
        ],
        FindingId::ZeroWindowNotReading => vec![
            format!("On the {} host, find the socket with a full receive queue: `ss -tnp` (Recv-Q stays high) on Linux, `Get-NetTCPConnection` plus Resource Monitor on Windows.", role(actor)),
            "Check whether the process still reads: `strace -f -tt -e trace=read,recvfrom,recvmsg -p PID` (Linux), Sysinternals Process Explorer's thread stacks (Windows); look for a deadlock or a blocked thread.".into(),
        ],
        FindingId::ReceiveWindowLimited => vec![
            format!("On the {} host, let the receive buffer grow: Linux `sysctl net.ipv4.tcp_rmem net.core.rmem_max` (raise the maximum; do not set SO_RCVBUF in the application, which disables autotuning); Windows `netsh interface tcp set global autotuninglevel=normal`.", role(actor)),
            "Check that window scaling is negotiated in the SYN and SYN-ACK (`tcp.options.wscale` in Wireshark); Linux needs `net.ipv4.tcp_window_scaling = 1`.".into(),
        ],
        FindingId::CaptureMissedPackets => vec![
            "Capture with a larger buffer and a short snap length so the capture keeps up: `tcpdump -B 16384 -s 128 -w file.pcap` (or `dumpcap -B 64 -s 128`), and check the `packets dropped by kernel` line tcpdump prints at the end.".into(),
            "On a SPAN/mirror port, check the switch's mirror drop counters; mirror ports drop under load.".into(),
        ],
        FindingId::CaptureOffload => vec![
            "Nothing is wrong on the network. To capture what is on the wire, capture on another host or switch port, or disable offloads while capturing: `ethtool -K IFACE tso off gso off gro off tx off` (Linux), `Disable-NetAdapterLso -Name NAME` (Windows).".into(),
            "In Wireshark, leave `tcp.check_checksum` off for captures taken on the sending host.".into(),
        ],
    };
    steps
}

/// What an application most likely saw on one end.
#[derive(Debug, Clone, Serialize)]
pub struct AppOutcome {
    /// "client" or "server".
    pub endpoint: &'static str,
    /// POSIX name, e.g. "ECONNRESET"; "hang" when a call blocks with no error.
    pub error: &'static str,
    /// The Winsock equivalent, e.g. "WSAECONNRESET (10054)".
    pub windows: &'static str,
    pub detail: String,
}

pub fn application_outcomes(findings: &[Finding]) -> Vec<AppOutcome> {
    let mut out: Vec<AppOutcome> = Vec::new();
    let mut add =
        |endpoint: &'static str, error: &'static str, windows: &'static str, detail: String| {
            if !out.iter().any(|o| o.endpoint == endpoint) {
                out.push(AppOutcome {
                    endpoint,
                    error,
                    windows,
                    detail,
                });
            }
        };
    // Errors first: a reset or a refused connect is what the application reports, even when
    // it hung before.
    let errors_first = findings
        .iter()
        .filter(|f| {
            !matches!(
                f.id,
                FindingId::StallRetransmissionLoop | FindingId::ZeroWindowNotReading
            )
        })
        .chain(findings.iter().filter(|f| {
            matches!(
                f.id,
                FindingId::StallRetransmissionLoop | FindingId::ZeroWindowNotReading
            )
        }));
    for f in errors_first {
        let other = |a: Actor| {
            if a == Actor::Client {
                "server"
            } else {
                "client"
            }
        };
        match f.id {
            FindingId::HandshakeRefused => add("client", "ECONNREFUSED", "WSAECONNREFUSED (10061)", "connect() fails at once: connection refused".into()),
            FindingId::HandshakeNoResponse => add("client", "ETIMEDOUT", "WSAETIMEDOUT (10060)", "connect() blocks until its timeout (about 2 minutes with Linux defaults, 21 s on Windows), then fails".into()),
            FindingId::ResetInjected => {
                // The forged RST claims to come from `about` and reaches the other endpoint.
                if let Some(claimed) = f.about {
                    if f.in_handshake {
                        add(other(claimed), "ECONNREFUSED", "WSAECONNREFUSED (10061)", "connect() fails: the forged RST looks like a refusal".into());
                    } else {
                        add(other(claimed), "ECONNRESET", "WSAECONNRESET (10054)", "the next recv()/send() fails: connection reset by peer".into());
                    }
                    if !f.in_handshake {
                        add(claimed.as_str(), "hang", "hang", "still believes the connection is open (half-open) until it sends and gets a reset, or its keep-alive fails".into());
                    }
                }
            }
            FindingId::ResetAfterRetransmissions | FindingId::ResetAbort | FindingId::ResetStaleSyn if f.severity != crate::finding::Severity::Info => {
                if matches!(f.actor, Actor::Client | Actor::Server) {
                    let victim = other(f.actor);
                    add(victim, "ECONNRESET", "WSAECONNRESET (10054)", format!("the {victim}'s next recv()/send() fails: connection reset by peer"));
                    if f.id == FindingId::ResetAfterRetransmissions {
                        let me = f.actor.as_str();
                        if f.about == Some(f.actor) {
                            add(me, "ETIMEDOUT", "WSAECONNABORTED (10053)", "its stack gave up retransmitting".into());
                        } else {
                            add(me, "hang", "hang", "it waited for data that never came, then its own timeout aborted the connection".into());
                        }
                    }
                }
            }
            FindingId::StallRetransmissionLoop => {
                let Some(sender) = f.about else { continue };
                let (snd, rcv) = (sender.as_str(), other(sender));
                add(rcv, "hang", "hang", "recv() blocks: the data it waits for never arrives".into());
                add(snd, "hang", "hang", "send() eventually blocks; the stack gives up after its retransmission limit (ETIMEDOUT after ~15 min on Linux, WSAECONNABORTED 10053 on Windows)".into());
            }
            FindingId::ZeroWindowNotReading => {
                let sender = other(f.actor);
                add(sender, "hang", "hang", "send() blocks once its send buffer fills: the peer does not read".into());
            }
            _ => {}
        }
    }
    out
}
