//! `tcpsleuth live`: capture with libpcap and diagnose as the packets arrive.
//!
//! The frames go through the same stages as a capture file (`pipeline::Incremental`). A
//! connection's findings are printed as soon as they are certain, which here means: when one of
//! its RSTs arrives, when one side's zero window has lasted `--stall-after`, and when it has
//! retransmitted three times more (at most once a second); the diagnosis then run is the same
//! one the final report runs, on the evidence so far (`Diagnoser::diagnose_so_far`), and each
//! finding is printed once per connection. The full report comes at the end of `--duration` or
//! on Ctrl-C.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, Context};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use pcap_parser::{
    EnhancedPacketBlock, InterfaceDescriptionBlock, Linktype, SectionHeaderBlock, ToVec,
};
use tcpsleuth_analyze::Retention;
use tcpsleuth_capture::{Frame, LinkType};
use tcpsleuth_diagnose::{Actor, ConnectionDiagnosis, FindingId};

use crate::args::AnalyzeFormat;
use crate::pipeline::{Incremental, Pushed};
use crate::report::{self, Diagnosed, TextOptions};
use crate::results::{Keep, Store};

pub struct LiveOptions {
    pub interface: String,
    pub filter: Option<String>,
    pub duration: Option<Duration>,
    pub write: Option<PathBuf>,
    pub buffer_mib: u32,
    pub status_every: Duration,
    pub stall_after: Duration,
    pub format: AnalyzeFormat,
    pub text: TextOptions,
    pub quiet: bool,
}

/// Bytes kept of each packet: whole packets, so that --write keeps everything.
const SNAPLEN: i32 = 262_144;
/// How long the kernel holds captured packets before handing them over (the block timeout).
const POLL_MS: i32 = 100;
/// How long to wait for packets before looking at the clock and Ctrl-C again.
const IDLE_WAIT_MS: u16 = 100;
/// Retransmissions of one connection between two looks at its diagnosis.
const RETRANSMISSIONS_PER_LOOK: u32 = 3;
/// Kernel drops lower the confidences of the connections open since by this factor: a missing
/// packet can hide or fake evidence.
const DROP_CONFIDENCE_FACTOR: f64 = 0.8;
/// Frames between two reads of the kernel's drop counter (a system call).
const DROPS_EVERY_FRAMES: u64 = 1024;

/// Writes the raw packets as pcapng, as they arrive.
struct PcapngWriter {
    file: BufWriter<File>,
    path: PathBuf,
}

impl PcapngWriter {
    fn create(path: &Path, linktype: i32) -> anyhow::Result<PcapngWriter> {
        let file = File::create(path)
            .with_context(|| format!("{}: cannot write the capture", path.display()))?;
        let mut w = PcapngWriter {
            file: BufWriter::new(file),
            path: path.to_owned(),
        };
        let mut shb = SectionHeaderBlock {
            block_type: 0,
            block_len1: 0,
            bom: 0,
            major_version: 1,
            minor_version: 0,
            section_len: -1,
            options: Vec::new(),
            block_len2: 0,
        };
        let mut idb = InterfaceDescriptionBlock {
            block_type: 0,
            block_len1: 0,
            linktype: Linktype(linktype),
            reserved: 0,
            snaplen: SNAPLEN as u32,
            options: Vec::new(),
            block_len2: 0,
            // Nanoseconds, as libpcap is asked for.
            if_tsresol: 9,
            if_tsoffset: 0,
        };
        w.block(shb.to_vec())?;
        w.block(idb.to_vec())?;
        Ok(w)
    }

    fn block<E: std::fmt::Debug>(&mut self, bytes: Result<Vec<u8>, E>) -> anyhow::Result<()> {
        let bytes = bytes.map_err(|e| anyhow!("{}: pcapng block: {e:?}", self.path.display()))?;
        self.file
            .write_all(&bytes)
            .with_context(|| format!("{}: cannot write the capture", self.path.display()))
    }

    fn packet(&mut self, timestamp_ns: i64, data: &[u8], original_len: u32) -> anyhow::Result<()> {
        let ts = u64::try_from(timestamp_ns).unwrap_or(0);
        let mut epb = EnhancedPacketBlock {
            block_type: 0,
            block_len1: 0,
            if_id: 0,
            ts_high: (ts >> 32) as u32,
            ts_low: ts as u32,
            caplen: data.len() as u32,
            origlen: original_len,
            data,
            options: Vec::new(),
            block_len2: 0,
        };
        self.block(epb.to_vec())
    }
}

/// What the loop remembers to decide when to look at a connection's diagnosis.
#[derive(Default)]
struct Triggers {
    /// (stream, sender ip, sender port) → time its zero window began.
    zero_since: HashMap<(u32, std::net::IpAddr, u16), i64>,
    /// When to look again at a zero window that has lasted: once every `--stall-after`, as
    /// long as it stays closed (the rules may want more probes before they are sure).
    zero_next_look: HashMap<(u32, std::net::IpAddr, u16), i64>,
    retransmissions: HashMap<u32, u32>,
    last_look_ns: HashMap<u32, i64>,
    printed: HashMap<u32, HashSet<(FindingId, Actor)>>,
    /// Findings printed as they came.
    announced: usize,
}

pub fn live(out: &mut impl Write, opts: &LiveOptions) -> anyhow::Result<bool> {
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst))
            .context("cannot catch Ctrl-C")?;
    }
    let mut capture = pcap::Capture::from_device(opts.interface.as_str())
        .and_then(|c| {
            c.snaplen(SNAPLEN)
                .promisc(true)
                // Not immediate mode: on Linux that makes the ring a fixed array of
                // snaplen-sized slots (64 of 256 KiB in 16 MiB). Without it the kernel packs
                // packets into blocks, handed over when full or after POLL_MS: a latency the
                // findings can bear.
                .timeout(POLL_MS)
                .precision(pcap::Precision::Nano)
                .buffer_size(
                    i32::try_from(u64::from(opts.buffer_mib.max(1)) << 20).unwrap_or(i32::MAX),
                )
                .open()
        })
        // Non-blocking, so that the loop sees the clock and Ctrl-C even on a quiet interface
        // (a blocking read on Linux can wait for the next packet however long).
        .and_then(|c| c.setnonblock())
        .map_err(|e| {
            anyhow!(
                "cannot capture on {}: {e} (capturing needs root or CAP_NET_RAW)",
                opts.interface
            )
        })?;
    if let Some(filter) = &opts.filter {
        capture
            .filter(filter, true)
            .map_err(|e| anyhow!("the filter {filter:?}: {e}"))?;
    }
    let linktype = capture.get_datalink().0;
    let mut writer = match &opts.write {
        Some(path) => Some(PcapngWriter::create(path, linktype)?),
        None => None,
    };
    if !opts.quiet {
        eprintln!(
            "tcpsleuth: capturing on {}{}{}; Ctrl-C for the report",
            opts.interface,
            opts.filter
                .as_ref()
                .map(|f| format!(" ({f})"))
                .unwrap_or_default(),
            opts.duration
                .map(|d| format!(" for {} s", d.as_secs_f64()))
                .unwrap_or_default()
        );
    }

    let keep = match opts.format {
        AnalyzeFormat::Json => Keep::Json,
        AnalyzeFormat::Text => Keep::Text(opts.text),
        // The HTML report's graphs come from a second pass over the capture file.
        AnalyzeFormat::Html => anyhow::bail!(
            "live writes no HTML report: capture with -w FILE.pcapng, then tcpsleuth analyze \
             --format html FILE.pcapng"
        ),
        AnalyzeFormat::Parquet => anyhow::bail!(
            "live writes no Parquet tables: capture with -w FILE.pcapng, then tcpsleuth analyze \
             --format parquet -o DIR FILE.pcapng"
        ),
    };
    let mut store = Store::new(keep, 0);
    // Kernel drops so far: a connection handed to the report after drops began may miss
    // packets, so its confidences are lowered; one that ended before keeps them.
    let drops = AtomicU64::new(0);
    let mut sink = |summary, mut diagnosis: ConnectionDiagnosis| {
        if drops.load(Ordering::Relaxed) > 0 {
            for f in &mut diagnosis.findings {
                f.confidence *= DROP_CONFIDENCE_FACTOR;
            }
        }
        store.add(summary, diagnosis)
    };
    let kernel_drops = |capture: &mut pcap::Capture<pcap::Active>| {
        capture
            .stats()
            .map(|s| u64::from(s.dropped) + u64::from(s.if_dropped))
            .unwrap_or(0)
    };

    let started = Instant::now();
    let start_ns = now_ns();
    let mut pipeline = Incremental::new(Retention::default());
    let mut triggers = Triggers::default();
    let mut next_status = started + opts.status_every;
    let mut number = 0u64;
    let mut failure = None;
    // Bounded by --duration or Ctrl-C, which the user chose; each turn waits at most
    // IDLE_WAIT_MS.
    loop {
        if stop.load(Ordering::SeqCst) || opts.duration.is_some_and(|d| started.elapsed() >= d) {
            break;
        }
        match capture.next_packet() {
            Ok(packet) => {
                number += 1;
                let ts = &packet.header.ts;
                // With nanosecond precision libpcap puts nanoseconds in tv_usec. The fields
                // are 32-bit on some targets, hence the conversions.
                #[allow(clippy::useless_conversion)]
                let timestamp_ns = i64::from(ts.tv_sec) * 1_000_000_000 + i64::from(ts.tv_usec);
                if let Some(w) = writer.as_mut() {
                    w.packet(timestamp_ns, packet.data, packet.header.len)?;
                }
                let frame = Frame {
                    number,
                    timestamp_ns,
                    link_type: LinkType(linktype as u32),
                    original_len: packet.header.len,
                    data: packet.data,
                    offset: 0,
                    interface: 0,
                    comment: None,
                };
                if let Some(pushed) = pipeline.push(&frame, &mut sink)? {
                    on_segment(
                        out,
                        &pipeline,
                        &mut triggers,
                        &pushed,
                        timestamp_ns,
                        start_ns,
                    )?;
                }
            }
            Err(pcap::Error::TimeoutExpired) => {
                // Nothing ready: sleep in poll(2) until the kernel hands over a block (a fixed
                // pause would let a busy link fill the ring meanwhile), or IDLE_WAIT_MS.
                let mut fds = [PollFd::new(capture.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, PollTimeout::from(IDLE_WAIT_MS)) {
                    Ok(_) | Err(nix::errno::Errno::EINTR) => {}
                    Err(e) => {
                        failure = Some(format!("capture on {} stopped: {e}", opts.interface));
                        break;
                    }
                }
            }
            Err(e) => {
                // The interface went away, say: what was captured is still reported.
                failure = Some(format!("capture on {} stopped: {e}", opts.interface));
                break;
            }
        }
        if number % DROPS_EVERY_FRAMES == 0 {
            drops.store(kernel_drops(&mut capture), Ordering::Relaxed);
        }
        let now = now_ns();
        stalled_windows(
            out,
            &pipeline,
            &mut triggers,
            now,
            start_ns,
            opts.stall_after,
        )?;
        if Instant::now() >= next_status {
            next_status += opts.status_every;
            if let Some(w) = writer.as_mut() {
                w.file.flush()?;
            }
            let dropped = kernel_drops(&mut capture);
            drops.store(dropped, Ordering::Relaxed);
            if !opts.quiet {
                eprintln!(
                    "tcpsleuth: +{:.0} s: {} packets, {} TCP, {} connections, {} findings so far{}",
                    started.elapsed().as_secs_f64(),
                    pipeline.counts.frames,
                    pipeline.counts.tcp,
                    pipeline.analyzer.stream_count(),
                    triggers.announced,
                    if dropped > 0 {
                        format!(", {dropped} dropped by the kernel")
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    let dropped = kernel_drops(&mut capture);
    drops.store(dropped, Ordering::Relaxed);
    if let Some(mut w) = writer {
        w.file.flush()?;
    }
    if let Some(f) = &failure {
        eprintln!("tcpsleuth: error: {f}; the packets before it were analysed");
    }
    if dropped > 0 {
        eprintln!(
            "tcpsleuth: warning: the kernel dropped {dropped} packets this capture did not see; \
             the confidences of the connections open since are lowered ×{DROP_CONFIDENCE_FACTOR}"
        );
    }

    let outcome = pipeline.finish(&mut sink)?;
    let frames = outcome.counts.frames;
    let name = PathBuf::from(format!("live:{}", opts.interface));
    let input = crate::pipeline::Input::file(&name);
    let mut all = [Diagnosed::new(&input, outcome, store.into_report()?)];
    match opts.format {
        AnalyzeFormat::Json => report::json(out, &mut all, &[])?,
        _ => {
            writeln!(
                out,
                "== report: {frames} packets on {}, {dropped} dropped by the kernel",
                opts.interface
            )?;
            report::text(out, &mut all, &[], &opts.text)?;
        }
    }
    out.flush()?;
    Ok(failure.is_some())
}

fn now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn on_segment(
    out: &mut impl Write,
    pipeline: &Incremental,
    t: &mut Triggers,
    pushed: &Pushed,
    timestamp_ns: i64,
    start_ns: i64,
) -> anyhow::Result<()> {
    let seg = &pushed.segment;
    let stream = pushed.analysis.stream;
    let key = (stream, seg.src, seg.src_port);
    if !seg.flags.syn() && !seg.flags.rst() {
        if seg.window == 0 {
            t.zero_since.entry(key).or_insert(timestamp_ns);
        } else {
            t.zero_since.remove(&key);
            t.zero_next_look.remove(&key);
        }
    }
    let mut look = seg.flags.rst();
    if pushed.analysis.flags.is_retransmission() {
        let n = t.retransmissions.entry(stream).or_default();
        *n += 1;
        let last = t.last_look_ns.get(&stream).copied().unwrap_or(i64::MIN);
        if *n >= RETRANSMISSIONS_PER_LOOK && timestamp_ns.saturating_sub(last) >= 1_000_000_000 {
            *n = 0;
            look = true;
        }
    }
    if look {
        t.last_look_ns.insert(stream, timestamp_ns);
        announce(
            out,
            pipeline,
            t,
            pushed.analysis.stream,
            timestamp_ns,
            start_ns,
        )?;
    }
    Ok(())
}

fn stalled_windows(
    out: &mut impl Write,
    pipeline: &Incremental,
    t: &mut Triggers,
    now: i64,
    start_ns: i64,
    stall_after: Duration,
) -> anyhow::Result<()> {
    let after = i64::try_from(stall_after.as_nanos()).unwrap_or(i64::MAX);
    let due: Vec<(u32, std::net::IpAddr, u16)> = t
        .zero_since
        .iter()
        .filter(|(key, since)| {
            let next = t
                .zero_next_look
                .get(*key)
                .copied()
                .unwrap_or(since.saturating_add(after));
            now >= next
        })
        .map(|(key, _)| *key)
        .collect();
    for key in due {
        t.zero_next_look.insert(key, now.saturating_add(after));
        announce(out, pipeline, t, key.0, now, start_ns)?;
    }
    Ok(())
}

/// Prints the connection's findings not printed yet.
fn announce(
    out: &mut impl Write,
    pipeline: &Incremental,
    t: &mut Triggers,
    stream: u32,
    at_ns: i64,
    start_ns: i64,
) -> anyhow::Result<()> {
    let Some(summary) = pipeline.analyzer.summary(stream) else {
        return Ok(());
    };
    let Some(diagnosis) = pipeline.diagnoser.diagnose_so_far(&summary) else {
        return Ok(());
    };
    let printed = t.printed.entry(stream).or_default();
    for f in &diagnosis.findings {
        if !printed.insert((f.id, f.actor)) {
            continue;
        }
        t.announced += 1;
        let actor = match f.actor {
            Actor::Client => format!("client {}", summary.client),
            Actor::Server => format!("server {}", summary.server),
            other => other.to_string(),
        };
        writeln!(
            out,
            "+{:.1}s {} [{}] {actor}, confidence {:.2}: stream {} {} -> {}: {}",
            at_ns.saturating_sub(start_ns) as f64 / 1e9,
            f.id,
            f.severity.as_str(),
            f.confidence,
            stream,
            summary.client,
            summary.server,
            f.summary
        )?;
    }
    out.flush()?;
    Ok(())
}
