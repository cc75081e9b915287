//! Resource bounds of `analyze` on adversarial traffic (docs/limits.md): a SYN flood of a
//! million half-open connections, and one connection of ten million segments whose holes
//! never fill. The captures are generated on the fly and streamed to the binary's standard
//! input; its peak memory is the kernel's own accounting of the child (wait4).

use std::io::{BufWriter, Read, Write};
use std::process::{Command, Stdio};

/// How much two runs' peaks may differ without memory growing with the input: the batches
/// passed between the pipeline's threads (up to about 12 MiB) fill more or less depending on
/// which thread runs ahead.
const IN_FLIGHT_KIB: u64 = 16 * 1024;

/// Microseconds between generated frames.
const FRAME_GAP_US: u64 = 10;

/// A pcap (Ethernet) writer of IPv4/TCP headers without payload bytes: the original length
/// says how long the segment was, as with a short snaplen.
struct Pcap<W: Write> {
    out: BufWriter<W>,
    frames: u64,
}

struct Tcp {
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: u16,
    /// SACK blocks (raw sequence numbers).
    sack: Vec<(u32, u32)>,
}

impl<W: Write> Pcap<W> {
    fn new(out: W) -> std::io::Result<Pcap<W>> {
        let mut out = BufWriter::with_capacity(1 << 20, out);
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&[0; 8])?;
        out.write_all(&96u32.to_le_bytes())?; // snaplen: headers only
        out.write_all(&1u32.to_le_bytes())?; // Ethernet
        Ok(Pcap { out, frames: 0 })
    }

    fn write(&mut self, t: &Tcp) -> std::io::Result<()> {
        let options_len = if t.sack.is_empty() {
            0
        } else {
            4 + 8 * t.sack.len()
        };
        let tcp_len = 20 + options_len;
        let ip_total = 20 + tcp_len + usize::from(t.payload);
        let captured = 14 + 20 + tcp_len;
        let original = 14 + ip_total;
        let at_us = self.frames * FRAME_GAP_US;
        self.frames += 1;
        let o = &mut self.out;
        o.write_all(&(1_700_000_000 + (at_us / 1_000_000) as u32).to_le_bytes())?;
        o.write_all(&((at_us % 1_000_000) as u32).to_le_bytes())?;
        o.write_all(&(captured as u32).to_le_bytes())?;
        o.write_all(&(original as u32).to_le_bytes())?;
        o.write_all(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0])?;
        let mut ip = [0u8; 20];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&(ip_total as u16).to_be_bytes());
        ip[8] = 64;
        ip[9] = 6;
        ip[12..16].copy_from_slice(&t.src);
        ip[16..20].copy_from_slice(&t.dst);
        let sum = !ip
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .fold(0u32, |a, w| {
                let s = a + w;
                (s & 0xffff) + (s >> 16)
            }) as u16;
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        o.write_all(&ip)?;
        o.write_all(&t.sport.to_be_bytes())?;
        o.write_all(&t.dport.to_be_bytes())?;
        o.write_all(&t.seq.to_be_bytes())?;
        o.write_all(&t.ack.to_be_bytes())?;
        o.write_all(&[((tcp_len / 4) as u8) << 4, t.flags])?;
        o.write_all(&65535u16.to_be_bytes())?;
        o.write_all(&[0, 0, 0, 0])?; // checksum (not verifiable: payload not captured), urgent
        if !t.sack.is_empty() {
            o.write_all(&[1, 1, 5, (2 + 8 * t.sack.len()) as u8])?;
            for (left, right) in &t.sack {
                o.write_all(&left.to_be_bytes())?;
                o.write_all(&right.to_be_bytes())?;
            }
        }
        Ok(())
    }
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;

/// Runs `tcpsleuth analyze --brief -` on a capture made by `generate`; returns (stdout, peak
/// RSS in KiB).
fn analyze_generated(
    extra: &[&str],
    generate: impl FnOnce(&mut Pcap<std::process::ChildStdin>) -> std::io::Result<()> + Send,
) -> (String, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tcpsleuth"))
        .args(["analyze", "--brief"])
        .args(extra)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tcpsleuth");
    let stdin = child.stdin.take().expect("stdin");
    let mut stdout = child.stdout.take().expect("stdout");
    let pid = child.id();
    let report = std::thread::scope(|scope| {
        let writer = scope.spawn(move || {
            let mut pcap = Pcap::new(stdin)?;
            generate(&mut pcap)?;
            pcap.out.flush()
        });
        let mut report = String::new();
        stdout.read_to_string(&mut report).expect("read report");
        writer.join().expect("generator").expect("write capture");
        report
    });
    let (status, max_rss_kib) = wait_with_peak_rss(pid);
    // The child is reaped: make sure `Child` does not try again.
    std::mem::forget(child);
    assert_eq!(status, 0, "tcpsleuth failed:\n{report}");
    (report, max_rss_kib)
}

/// Waits for child `pid`; returns its exit code and peak resident set (KiB).
#[allow(unsafe_code)]
fn wait_with_peak_rss(pid: u32) -> (i32, u64) {
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of the plain C struct (integers and
    // `timeval`s only).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `status` and `usage` are live, writable, properly aligned locals for the whole
    // call; `pid` is our own unreaped child, so wait4 touches nothing else.
    let got = unsafe { libc::wait4(pid as libc::pid_t, &mut status, 0, &mut usage) };
    assert_eq!(got, pid as libc::pid_t, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, u64::try_from(usage.ru_maxrss).unwrap_or(0))
}

/// Half-open connections from `count` distinct clients, 10 µs apart.
fn syn_flood(
    count: u32,
) -> impl FnOnce(&mut Pcap<std::process::ChildStdin>) -> std::io::Result<()> {
    move |pcap| {
        for i in 0..count {
            pcap.write(&Tcp {
                src: [10, (i >> 16) as u8, (i >> 8) as u8, i as u8],
                dst: [192, 0, 2, 1],
                sport: 1024 + (i % 60_000) as u16,
                dport: 80,
                seq: i.wrapping_mul(7919),
                ack: 0,
                flags: SYN,
                payload: 0,
                sack: Vec::new(),
            })?;
        }
        Ok(())
    }
}

fn connections_line(report: &str) -> &str {
    report.lines().next().unwrap_or_default()
}

#[test]
fn a_syn_flood_of_a_million_connections_stays_within_the_cap() {
    // Both past every cap (20,000 live, 200,000 remembered, and the table's largest size).
    let (small, small_rss) = analyze_generated(&[], syn_flood(500_000));
    let (big, big_rss) = analyze_generated(&[], syn_flood(1_000_000));
    assert!(
        connections_line(&big).contains("1000000 TCP connections"),
        "{big}"
    );
    assert!(
        big.contains("connections were diagnosed before they ended")
            && big.contains("--max-connections"),
        "the report says the cap was reached:\n{big}"
    );
    assert!(connections_line(&small).contains("500000 TCP connections"));
    // docs/limits.md: 20,000 live connections of about 5 KiB, and 200,000 remembered ones.
    assert!(big_rss < 256 * 1024, "peak RSS {big_rss} KiB");
    // Flat: twice the connections, not twice the memory.
    assert!(
        big_rss < small_rss + IN_FLIGHT_KIB,
        "500 k: {small_rss} KiB, 1 M: {big_rss} KiB"
    );
}

/// A server sends `segments` full-size segments on one connection; one in a hundred never
/// arrives and is never retransmitted, and the client acknowledges with SACK blocks up to the
/// newest segment: holes that never fill.
fn endless_holes(
    segments: u32,
) -> impl FnOnce(&mut Pcap<std::process::ChildStdin>) -> std::io::Result<()> {
    move |pcap| {
        let client = [10, 0, 0, 1];
        let server = [10, 0, 0, 2];
        let seg = |src, dst, sport, dport, seq, ack, flags, payload, sack| Tcp {
            src,
            dst,
            sport,
            dport,
            seq,
            ack,
            flags,
            payload,
            sack,
        };
        pcap.write(&seg(client, server, 40000, 443, 1000, 0, SYN, 0, vec![]))?;
        pcap.write(&seg(
            server,
            client,
            443,
            40000,
            5000,
            1001,
            SYN | ACK,
            0,
            vec![],
        ))?;
        pcap.write(&seg(client, server, 40000, 443, 1001, 5001, ACK, 0, vec![]))?;
        let mss: u32 = 1448;
        let first_lost = 5001 + 50 * mss;
        for i in 0..segments {
            let seq = 5001u32.wrapping_add(i.wrapping_mul(mss));
            if i % 100 == 50 {
                continue;
            }
            pcap.write(&seg(
                server,
                client,
                443,
                40000,
                seq,
                1001,
                ACK,
                mss as u16,
                vec![],
            ))?;
            if i % 2 == 1 && i > 50 {
                let right = seq.wrapping_add(mss);
                let left = right.wrapping_sub(mss * (1 + i % 100 % 49));
                pcap.write(&seg(
                    client,
                    server,
                    40000,
                    443,
                    1001,
                    first_lost,
                    ACK,
                    0,
                    vec![(left, right)],
                ))?;
            }
        }
        Ok(())
    }
}

#[test]
fn one_connection_of_ten_million_segments_with_holes_that_never_fill() {
    let (small, small_rss) = analyze_generated(&[], endless_holes(1_000_000));
    let (big, big_rss) = analyze_generated(&[], endless_holes(10_000_000));
    assert!(connections_line(&big).contains("1 TCP connection"), "{big}");
    assert!(
        connections_line(&small).contains("1 TCP connection"),
        "{small}"
    );
    assert!(
        big_rss < small_rss + IN_FLIGHT_KIB,
        "1 M segments: {small_rss} KiB, 10 M: {big_rss} KiB"
    );
    assert!(big_rss < 128 * 1024, "peak RSS {big_rss} KiB");
}
