//! Real captures from the shared public corpus must read to the end with the frame counts
//! TShark 4.0.17 reports (`tshark -r FILE -T fields -e frame.number | tail -1`).

#![allow(clippy::unwrap_used)] // tests may panic on unexpected results

use std::path::{Path, PathBuf};

use tcpsleuth_capture::{CaptureFormat, CaptureReader, Compression};

/// (path relative to the corpus root, frames according to tshark).
const EXPECTED: &[(&str, u64)] = &[
    ("chrissanders-packets/inconsistent_printer.pcapng", 122),
    ("chrissanders-packets/nowebaccess2.pcapng", 8),
    ("chrissanders-packets/nowebaccess3.pcapng", 5),
    ("chrissanders-packets/synscan.pcapng", 2011),
    ("chrissanders-packets/tcp_dupack.pcapng", 9),
    ("chrissanders-packets/tcp_refuseconnection.pcapng", 2),
    ("chrissanders-packets/tcp_retransmissions.pcapng", 6),
    ("chrissanders-packets/tcp_zerowindowdead.pcapng", 8),
    ("chrissanders-packets/tcp_zerowindowrecovery.pcapng", 7),
    ("ndpi/http_asymmetric.pcapng", 23),
    ("ndpi/nest_log_sink.pcap", 1000),
    ("ndpi/netflix.pcap", 1793),
    ("ndpi/ocs.pcap", 946),
    ("ndpi/reasm_crash_anon.pcapng", 209),
    ("pcapplusplus/four_ipv6_http_streams.pcap", 81),
    ("pcapplusplus/many_interfaces-1.pcapng", 64),
    ("pcapplusplus/one_tcp_stream_fin_rst_close_packet.pcap", 13),
    ("pcapplusplus/raw_ip.pcap", 100),
    ("pcapplusplus/sll2.pcap", 3),
    ("pcapplusplus/tcp-malformed.pcap", 2),
    ("pcapplusplus/tls2.pcap", 7451),
    (
        "suricata-verify/bug-1450-04/tls_DER-incomplete-header.pcap",
        6,
    ),
    ("suricata-verify/bug-2769/issue_no_icmp.pcap", 34),
    ("suricata-verify/decode-sll2-01/input.pcap", 5),
    ("suricata-verify/http-body-hook-01/input.pcap", 2007),
    ("suricata-verify/http-mime-truncated/input.pcap", 2696),
    ("suricata-verify/http-sha256-drop-02/input.pcap", 158),
    ("tcpdump/ipv4_tcp_http_xml_tso.pcap", 1),
    ("tcpdump/resp_1_benchmark.pcap", 150),
    ("zeek/206_example_a.pcap", 672),
    ("zeek/bro.org-filtered.pcap", 50),
    ("zeek/ctu-62604-80.pcap", 20),
    ("zeek/docker-http-upgrade.pcap", 200),
    ("zeek/get-to-ssh-server.pcap", 9),
    ("zeek/get_nosyn.pcap", 11),
    ("zeek/ip4-tcp-bad-chksum.pcap", 1),
    ("zeek/irc-starttls.pcap", 20),
    ("zeek/iso-download.pcap.gz", 289),
    ("zeek/localhost-bad-chksum.pcap", 10),
    ("zeek/pppoe-over-qinq.pcap", 86),
    ("zeek/pubsub.pcap", 60),
    ("zeek/qi_internet_SYNACK_curl_jsonip.pcap", 14),
    ("zeek/rdp-unknown-keyboard.pcap", 11),
    ("zeek/retransmit-timeout.pcapng", 3),
    ("zeek/rst-inject-rae.pcap", 9),
    ("zeek/ssh-dups.pcap", 377),
    ("zeek/timestamp.pcap", 878),
    ("zeek/truncated-header.pcap", 24),
    ("zeek/vlan-collisions.pcap", 42),
    ("zeek/window-scale-range.pcap", 5),
    ("zeek/zero-length-bodies-with-drops.pcap", 44),
];

/// Deliberately damaged files: (path, frames before the damage, offset of the damaged record).
/// tshark reads the same frames; for the first it says "File has 4325376-byte packet, bigger
/// than maximum of 262144" (our limit is 256 MiB, so the cut-off record is a truncation), for the
/// second "cut short in the middle of a packet".
const DAMAGED: &[(&str, u64, u64)] = &[
    (
        "suricata-verify/bug-1450-04/tls_DER-incomplete-header.pcap",
        6,
        5035,
    ),
    (
        "suricata-verify/http-mime-truncated/input.pcap",
        2696,
        2_715_459,
    ),
];

fn corpus_root() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/public");
    if root.is_dir() {
        Some(root)
    } else {
        println!(
            "SKIPPED: corpus not found at {} (the corpus tests need /work/shared/corpus/public)",
            root.display()
        );
        None
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else if !entry.file_name().to_string_lossy().starts_with("MANIFEST.") {
            out.push(path);
        }
    }
}

/// Reads a whole file: (frames, last frame number, error).
fn read(path: &Path) -> (u64, Option<tcpsleuth_capture::CaptureError>, CaptureReader) {
    let mut r = CaptureReader::open(path).unwrap_or_else(|e| panic!("{e}"));
    let mut n = 0;
    let err = loop {
        match r.next_frame() {
            Ok(Some(f)) => {
                n += 1;
                assert_eq!(f.number, n);
                assert!(f.data.len() <= 256 << 20);
            }
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    (n, err, r)
}

#[test]
fn corpus_files_read_to_the_end_with_tsharks_frame_counts() {
    let Some(root) = corpus_root() else { return };
    let mut files = Vec::new();
    files_under(&root, &mut files);
    files.sort();
    assert!(!files.is_empty());
    let mut checked = 0;
    for path in &files {
        let rel = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let (frames, err, reader) = read(path);
        if let Some(&(_, want, offset)) = DAMAGED.iter().find(|d| d.0 == rel) {
            let err = err.unwrap_or_else(|| panic!("{rel}: damaged file read without error"));
            assert!(err.is_truncation(), "{rel}: {err}");
            assert_eq!(frames, want, "{rel}");
            assert_eq!(err.last_good_frame, want, "{rel}");
            assert_eq!(err.offset, offset, "{rel}");
            checked += 1;
            continue;
        }
        if let Some(err) = err {
            panic!("{rel}: {err}");
        }
        assert_eq!(
            reader.input_bytes_read(),
            reader.input_len().unwrap(),
            "{rel}"
        );
        match EXPECTED.iter().find(|e| e.0 == rel) {
            Some(&(_, want)) => {
                assert_eq!(frames, want, "{rel}: frame count differs from tshark's");
                checked += 1;
            }
            None => println!("note: {rel} is not in the table; read {frames} frames without error"),
        }
        let want_format = if rel.contains(".pcapng") {
            CaptureFormat::PcapNg
        } else {
            CaptureFormat::Pcap
        };
        assert_eq!(reader.format(), want_format, "{rel}");
        let want_compression = if rel.ends_with(".gz") {
            Compression::Gzip
        } else {
            Compression::None
        };
        assert_eq!(reader.compression(), want_compression, "{rel}");
    }
    for (rel, _) in EXPECTED {
        assert!(
            root.join(rel).is_file(),
            "{rel} listed but missing from the corpus"
        );
    }
    assert_eq!(checked, EXPECTED.len(), "every listed file was checked");
}

#[test]
fn corpus_details() {
    let Some(root) = corpus_root() else { return };
    // pcapng interface names and comments are collected.
    let (_, err, r) = read(&root.join("pcapplusplus/many_interfaces-1.pcapng"));
    assert!(err.is_none());
    assert_eq!(r.comments().len(), 11);
    assert_eq!(r.comments()[0], "en0");
    let (_, _, r) = read(&root.join("ndpi/reasm_crash_anon.pcapng"));
    assert_eq!(
        r.comments(),
        ["Sanitized by TraceWrangler v0.6.8 build 949", "eth0"]
    );
    // Nanosecond pcap: frame 1 at 1770126425.732560000 per tshark.
    let mut r = CaptureReader::open(&root.join("zeek/get-to-ssh-server.pcap")).unwrap();
    let f = r.next_frame().unwrap().unwrap();
    assert_eq!(f.timestamp_ns, 1_770_126_425_732_560_000);
    assert_eq!(f.offset, 24);
}
