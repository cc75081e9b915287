//! Broken and hostile captures, end to end: for each kind of damage the binary must not panic,
//! must say in one line which file and which byte, and must still analyse every frame before
//! the damage. Each capture is built here from the lab example's frames.

mod crafted;

use crafted::*;

/// The first `n` frames of the example as a pcapng (one section, one Ethernet interface),
/// preceded by a comment, an unknown block and custom options that must change nothing.
fn clean_pcapng(n: usize) -> Pcapng {
    let frames = example_frames();
    let mut c = Pcapng::new();
    c.shb(&[(1, b"made by tests/malformed.rs")]);
    c.idb(1, 0, &[(2, b"eth0")]);
    for (sec, usec, data) in frames.iter().take(n) {
        c.epb(0, u64::from(*sec) * 1_000_000 + u64::from(*usec), data);
    }
    c
}

fn clean_pcap(n: usize) -> Pcap {
    let mut c = Pcap::new(65535, 1);
    for (sec, usec, data) in example_frames().iter().take(n) {
        c.frame(*sec, *usec, data);
    }
    c
}

/// `analyze --format json` of `bytes`; the run's code, document (if any) and stderr.
fn analyze(name: &str, bytes: &[u8]) -> (Run, TempFile) {
    let f = TempFile::new(name, bytes);
    let r = run(&["analyze", "--format", "json", f.path()]);
    (r, f)
}

/// One line on stderr naming the file and containing each of `words`.
fn assert_message(r: &Run, f: &TempFile, words: &[&str]) {
    assert_eq!(r.stderr.lines().count(), 1, "stderr:\n{}", r.stderr);
    assert!(r.stderr.contains(f.path()), "{}", r.stderr);
    for w in words {
        assert!(r.stderr.contains(w), "stderr lacks {w:?}: {}", r.stderr);
    }
}

/// Damage after `good` frames: exit code 1, a message with `words`, and those frames analysed
/// as one connection.
fn assert_damage_after(name: &str, bytes: &[u8], good: u64, words: &[&str]) {
    let (r, f) = analyze(name, bytes);
    assert_eq!(r.code, 1, "{name}: stderr {}", r.stderr);
    let mut all = vec!["error"];
    all.extend_from_slice(words);
    let after = format!("after frame {good}");
    if good > 0 {
        all.push(&after);
    }
    assert_message(&r, &f, &all);
    let doc = r.json();
    assert_eq!(counts(&doc).0, good, "{name}");
    assert_eq!(counts(&doc).1, good, "{name}: every frame read is TCP");
    assert_eq!(connection_count(&doc), usize::from(good > 0), "{name}");
}

#[test]
fn truncated_at_and_inside_every_block() {
    // pcapng: cut at each block's start, inside its header, after its header, in its middle
    // and before its last byte.
    let c = clean_pcapng(6);
    let mut ends = c.blocks[1..].to_vec();
    ends.push(c.bytes.len());
    for (i, (&start, &end)) in c.blocks.iter().zip(&ends).enumerate() {
        let packets_before = i.saturating_sub(2) as u64;
        for cut in [start, start + 4, start + 8, (start + end) / 2, end - 1] {
            let (r, f) = analyze("cut.pcapng", &c.bytes[..cut]);
            if cut == 0 {
                assert_eq!(r.code, 1);
                assert_message(&r, &f, &["empty"]);
                continue;
            }
            if cut == start {
                // On a block boundary: a shorter, valid capture.
                assert_eq!(r.code, 0, "cut at {cut}: {}", r.stderr);
                assert_eq!(r.stderr, "", "cut at {cut}");
            } else {
                // A truncated capture is a warning: the frames before it are the answer.
                assert_eq!(r.code, 0, "cut at {cut}: {}", r.stderr);
                assert_message(&r, &f, &["warning", &format!("byte {start}"), "truncated"]);
            }
            let doc = r.json();
            assert_eq!(counts(&doc).0, packets_before, "cut at {cut}");
            assert_eq!(connection_count(&doc), usize::from(packets_before > 0));
        }
    }

    // pcap: inside the file header the capture cannot be opened; inside a record the records
    // before it are analysed.
    let p = clean_pcap(5);
    for cut in [4, 12, 23] {
        let (r, f) = analyze("cut.pcap", &p.bytes[..cut]);
        assert_eq!(r.code, 1, "cut at {cut}");
        assert_message(&r, &f, &["byte 0", "truncated"]);
        assert_eq!(r.stdout, "", "nothing to report");
    }
    for (i, &start) in p.records.iter().enumerate() {
        for cut in [start + 1, start + 15, start + 17] {
            let (r, f) = analyze("cut.pcap", &p.bytes[..cut]);
            assert_eq!(r.code, 0, "cut at {cut}: {}", r.stderr);
            assert_message(&r, &f, &["warning", &format!("byte {start}"), "truncated"]);
            assert_eq!(counts(&r.json()).0, i as u64, "cut at {cut}");
        }
    }
}

#[test]
fn zero_huge_and_odd_block_lengths() {
    let good = clean_pcapng(4);
    let at = good.bytes.len();
    let byte = format!("byte {at}");
    let with_len = |len: u32| {
        let mut v = good.bytes.clone();
        v.extend_from_slice(&6u32.to_le_bytes());
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(&[0; 64]);
        v
    };
    for (len, words) in [
        (0, vec!["block length 0 is too small"]),
        (12, vec!["block length 12 is too small (minimum 32)"]),
        (46, vec!["not a multiple of 4"]),
        (u32::MAX, vec!["exceeds the 256 MiB limit"]),
        ((256 << 20) + 4, vec!["exceeds the 256 MiB limit"]),
    ] {
        let mut w = words.clone();
        w.push(&byte);
        assert_damage_after("len.pcapng", &with_len(len), 4, &w);
    }

    // A length just under the limit in a short file is a truncation, found without allocating
    // the 256 MiB first.
    let (r, f) = analyze("len.pcapng", &with_len(256 << 20));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_message(&r, &f, &["warning", &byte, "truncated"]);
    assert_eq!(counts(&r.json()).0, 4);

    // Leading and trailing lengths that disagree.
    let mut v = good.bytes.clone();
    let last = *good.blocks.last().expect("blocks");
    let n = v.len();
    v[n - 4..].copy_from_slice(&4000u32.to_le_bytes());
    let w = format!("byte {last}");
    assert_damage_after("trailer.pcapng", &v, 3, &["trailing block length 4000", &w]);

    // pcap: a record length of 4 GiB is corrupt; a record of 0 bytes is a (non-TCP) frame.
    let mut p = clean_pcap(3);
    let at = p.bytes.len();
    p.raw(1, 0, u32::MAX, 60, &[0; 40]);
    let w = format!("byte {at}");
    assert_damage_after("len.pcap", &p.bytes, 3, &["record length 4294967295", &w]);
    let mut p = clean_pcap(3);
    p.raw(1, 0, 0, 0, &[]);
    let (r, _f) = analyze("zero.pcap", &p.bytes);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // An empty Ethernet frame is a malformed frame, not a damaged file.
    assert_eq!(counts(&r.json()), (4, 3, 1));
}

#[test]
fn wrong_magic() {
    for (bytes, words) in [
        (&b""[..], &["empty"][..]),
        (
            b"GET / HTTP/1.1\r\n",
            &["not a pcap or pcapng capture", "looks like text"],
        ),
        (b"PK\x03\x04rest of a zip", &["unzip it first"]),
        (&[0xa1, 0xb2, 0xcd, 0x34, 0, 0, 0, 0], &["editcap"]),
        (
            &[0xd4, 0xc3, 0xb2, 0xa2, 0, 0, 0, 0],
            &["starts with bytes d4 c3 b2 a2"],
        ),
    ] {
        let (r, f) = analyze("magic.cap", bytes);
        assert_eq!(r.code, 1);
        assert_message(&r, &f, &[&["error", "byte 0"][..], words].concat());
        assert_eq!(r.stdout, "");
    }
}

#[test]
fn unknown_blocks_and_options_change_nothing() {
    let frames = example_frames();
    // Custom option (2988: private enterprise number + data), unknown codes, an option whose
    // length overruns the block (the rest of the list is ignored).
    let custom: &[u8] = &[0x7b, 0, 0, 0, b'x', b'y'];
    let mut c = Pcapng::new();
    c.shb(&[(2988, custom), (0x7777, b"??"), (4, b"linux")]);
    c.block(0x0bad_cafe, b"an unknown block type");
    c.block(0x8000_0001, &[0xff; 19]);
    let mut idb = vec![1, 0, 0, 0, 0, 0, 0, 0];
    let opts = options(&[(0x5555, b"unknown"), (9, &[6])]);
    // Without its end marker, then an option announcing 200 bytes that are not there.
    idb.extend_from_slice(&opts[..opts.len() - 4]);
    idb.extend_from_slice(&[3, 0, 200, 0, b'a', b'b', b'c', b'd']);
    c.block(1, &idb);
    for (i, (sec, usec, data)) in frames.iter().enumerate() {
        let n = data.len() as u32;
        let ts = u64::from(*sec) * 1_000_000 + u64::from(*usec);
        c.epb_raw(
            0,
            ts,
            n,
            n,
            data,
            &[(1, b"comment"), (0x4444, &[1, 2, 3]), (2, &[0; 4])],
        );
        if i == 3 {
            // Name resolution and interface statistics blocks full of garbage.
            c.block(5, &[0x11; 7]);
        }
    }
    let (r, _f) = analyze("unknown.pcapng", &c.bytes);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let plain = {
        let mut p = Pcap::new(65535, 1);
        for (sec, usec, data) in &frames {
            p.frame(*sec, *usec, data);
        }
        p
    };
    let (reference, _g) = analyze("plain.pcap", &plain.bytes);
    let (a, b) = (r.json(), reference.json());
    assert_eq!(counts(&a), counts(&b));
    assert_eq!(
        a["connections"], b["connections"],
        "same diagnosis as the plain pcap"
    );
}

#[test]
fn interface_ids_out_of_range() {
    let frames = example_frames();
    let mut c = clean_pcapng(3);
    let at = c.bytes.len();
    c.epb(1, 1, &frames[3].2);
    let w = format!("byte {at}");
    assert_damage_after(
        "ifid.pcapng",
        &c.bytes,
        3,
        &["interface id 1 out of range", "1 interface)", &w],
    );

    // A new section forgets the interfaces of the previous one.
    let mut c = clean_pcapng(2);
    c.shb(&[]);
    let at = c.bytes.len();
    c.epb(0, 1, &frames[2].2);
    let w = format!("byte {at}");
    assert_damage_after(
        "section.pcapng",
        &c.bytes,
        2,
        &["interface id 0", "0 interfaces", &w],
    );

    // A simple packet block needs interface 0.
    let mut c = Pcapng::new();
    c.shb(&[]);
    c.block(3, &[60, 0, 0, 0]);
    assert_damage_after(
        "spb.pcapng",
        &c.bytes,
        0,
        &["no interface description block"],
    );
}

/// Timestamps that go backwards, jump to the ends of the range, or sit before 1970: read and
/// analysed like any others.
#[test]
fn timestamps_backwards_and_extreme() {
    let frames = example_frames();
    let n = frames.len();
    let mut p = Pcap::new(65535, 1);
    for (i, (_, _, data)) in frames.iter().enumerate() {
        // Backwards a second per frame, from the last second pcap can hold.
        p.frame(u32::MAX - i as u32, 999_999, data);
    }
    let (r, _f) = analyze("backwards.pcap", &p.bytes);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let doc = r.json();
    assert_eq!(counts(&doc), (n as u64, n as u64, 0));
    assert_eq!(connection_count(&doc), 1);
}

/// pcapng: the largest 64-bit timestamp, and an if_tsoffset pushing times before 1970, on
/// alternate frames of one connection. The diagnosis used to overflow subtracting such
/// timestamps (crates/diagnose/src/evidence.rs); time differences now saturate.
#[test]
fn timestamps_at_both_ends_of_the_range() {
    let frames = example_frames();
    let n = frames.len();
    let mut c = Pcapng::new();
    c.shb(&[]);
    c.idb(1, 0, &[]);
    c.idb(1, 0, &[(14, &(-4_000_000_000i64).to_le_bytes())]);
    for (i, (_, _, data)) in frames.iter().enumerate() {
        let ts = if i % 2 == 0 {
            u64::MAX - i as u64
        } else {
            i as u64
        };
        c.epb((i % 2) as u32, ts, data);
    }
    let (r, _f) = analyze("extreme.pcapng", &c.bytes);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(counts(&r.json()), (n as u64, n as u64, 0));
}

/// Two captures matched against each other, of a connection at the end of time. The matching
/// used to overflow on such times (`t < lo + margin` in crates/correlate/src/lib.rs); found by
/// the `pipeline` fuzz target (fuzz/regressions/pipeline/correlate-timestamp-overflow).
#[test]
fn two_captures_with_extreme_timestamps() {
    // One connection in the last microsecond before the largest time there is (nanosecond
    // timestamps).
    let mut c = Pcapng::new();
    c.shb(&[]);
    c.idb(1, 0, &[(9, &[9])]);
    for (i, (_, _, data)) in example_frames().iter().enumerate() {
        c.epb(0, i64::MAX as u64 - 1000 + i as u64, data);
    }
    let f = TempFile::new("extreme-a.pcapng", &c.bytes);
    let g = TempFile::new("extreme-b.pcapng", &c.bytes);
    let r = run(&["analyze", "--format", "json", f.path(), g.path()]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
}

#[test]
fn snaplen_zero() {
    // pcap: the header's snaplen is never used to cut records.
    let mut p = clean_pcap(6);
    p.bytes[16..20].copy_from_slice(&0u32.to_le_bytes());
    let (r, _f) = analyze("snap0.pcap", &p.bytes);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(counts(&r.json()), (6, 6, 0));

    // pcapng: an interface with snaplen 0 (no limit) carrying simple packet blocks, whose
    // captured length is what the block holds.
    let frames = example_frames();
    let mut c = Pcapng::new();
    c.shb(&[]);
    c.idb(1, 0, &[]);
    for (_, _, data) in frames.iter().take(6) {
        let mut body = (data.len() as u32).to_le_bytes().to_vec();
        body.extend_from_slice(data);
        c.block(3, &body);
    }
    let (r, _f) = analyze("snap0.pcapng", &c.bytes);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    let doc = r.json();
    assert_eq!(counts(&doc), (6, 6, 0));
    assert_eq!(connection_count(&doc), 1);
}

#[test]
fn captured_length_above_original_length() {
    let frames = example_frames();
    // pcap and pcapng records claiming an on-wire length of 20 bytes: the captured bytes are
    // decoded (Wireshark does the same: "frame length is less than captured length").
    let mut p = Pcap::new(65535, 1);
    let mut c = Pcapng::new();
    c.shb(&[]);
    c.idb(1, 0, &[]);
    for (sec, usec, data) in &frames {
        p.raw(*sec, *usec, data.len() as u32, 20, data);
        c.epb_raw(
            0,
            u64::from(*sec) * 1_000_000,
            data.len() as u32,
            20,
            data,
            &[],
        );
    }
    for (name, bytes) in [("big.pcap", &p.bytes), ("big.pcapng", &c.bytes)] {
        let (r, _f) = analyze(name, bytes);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{name}");
        let doc = r.json();
        assert_eq!(counts(&doc).1, frames.len() as u64, "{name}");
        assert_eq!(connection_count(&doc), 1, "{name}");
    }

    // A captured length beyond the block is corrupt.
    let mut c = clean_pcapng(2);
    let at = c.bytes.len();
    c.epb_raw(0, 1, 5000, 60, &frames[2].2, &[]);
    let w = format!("byte {at}");
    assert_damage_after("caplen.pcapng", &c.bytes, 2, &["captured length 5000", &w]);
}

/// The example with frame `i` (0-based) replaced by `f(frame)`, as a pcap.
fn with_frame(i: usize, f: impl Fn(&mut Vec<u8>)) -> Vec<u8> {
    let mut p = Pcap::new(65535, 1);
    for (n, (sec, usec, data)) in example_frames().into_iter().enumerate() {
        let mut data = data;
        if n == i {
            f(&mut data);
        }
        p.frame(sec, usec, &data);
    }
    p.bytes
}

/// Byte offsets in the example's Ethernet/IPv4/TCP frames.
const IP: usize = 14;
const TCP: usize = 34;

#[test]
fn tcp_data_offset_below_5_or_past_the_packet() {
    let n = example_frames().len() as u64;
    // Frame 4 carries the request (13 bytes). Data offset 4 (16 bytes): Wireshark's "bogus TCP
    // header length"; the segment still moves the connection on.
    let below = with_frame(3, |d| d[TCP + 12] = (d[TCP + 12] & 0x0f) | 0x40);
    // Data offset 15 (60 bytes) runs past the 45 bytes of TCP in the packet.
    let past = with_frame(3, |d| d[TCP + 12] = (d[TCP + 12] & 0x0f) | 0xf0);
    for (name, bytes) in [("off4.pcap", below), ("off15.pcap", past)] {
        let (r, _f) = analyze(name, &bytes);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{name}");
        let doc = r.json();
        assert_eq!(counts(&doc).0, n, "{name}");
        assert_eq!(connection_count(&doc), 1, "{name}");
    }
    // The frame itself is shown without analysis, the others with it.
    let f = TempFile::new("off15p.pcap", &with_frame(3, |d| d[TCP + 12] |= 0xf0));
    let r = run(&["packets", f.path()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line4 = r.stdout.lines().nth(4).expect("frame 4");
    assert!(line4.contains("(malformed header)"), "{line4}");
}

#[test]
fn ip_total_length_lying_both_ways() {
    let n = example_frames().len() as u64;
    let set_total =
        |total: u16| move |d: &mut Vec<u8>| d[IP + 2..IP + 4].copy_from_slice(&total.to_be_bytes());
    // Larger than the frame: ignored (the on-wire length counts), the frame is analysed as is.
    let (r, _f) = analyze("ip-big.pcap", &with_frame(3, set_total(0xffff)));
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(counts(&r.json()), (n, n, 0));
    // Smaller than the IPv4 header: malformed, no TCP.
    let (r, _f) = analyze("ip-tiny.pcap", &with_frame(3, set_total(12)));
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(counts(&r.json()), (n, n - 1, 1));
    // Room for 10 bytes of TCP: not even the ports and flags, malformed.
    let (r, _f) = analyze("ip-short.pcap", &with_frame(3, set_total(30)));
    assert_eq!(counts(&r.json()), (n, n - 1, 1));
    // Room for the first 24 bytes of a 32-byte TCP header: a "short segment", tracked but not
    // analysed.
    let (r, _f) = analyze("ip-short-hdr.pcap", &with_frame(3, set_total(44)));
    let doc = r.json();
    assert_eq!(counts(&doc), (n, n, 1));
    assert_eq!(connection_count(&doc), 1);
}

/// An Ethernet/IPv6/TCP SYN whose TCP header follows `ext` (a chain of extension headers that
/// starts with header type `first`).
fn ipv6_frame(first: u8, ext: &[u8]) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd];
    let tcp: [u8; 20] = [
        0x9c, 0x40, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
    ];
    let plen = (ext.len() + tcp.len()) as u16;
    f.extend_from_slice(&[0x60, 0, 0, 0]);
    f.extend_from_slice(&plen.to_be_bytes());
    f.extend_from_slice(&[first, 64]);
    f.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    f.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
    f.extend_from_slice(ext);
    f.extend_from_slice(&tcp);
    f
}

/// `count` destination-options headers (8 bytes each), the last one followed by TCP.
fn dstopts_chain(count: usize) -> Vec<u8> {
    let mut ext = Vec::new();
    for i in 0..count {
        let next = if i + 1 == count { 6 } else { 60 };
        ext.extend_from_slice(&[next, 0, 1, 4, 0, 0, 0, 0]);
    }
    ext
}

#[test]
fn ipv6_extension_header_chains() {
    let mut p = Pcap::new(65535, 1);
    // A short chain is walked: TCP.
    p.frame(1, 0, &ipv6_frame(60, &dstopts_chain(3)));
    // 600 headers, each naming another: past the 500-layer limit, malformed (not a hang).
    p.frame(1, 1, &ipv6_frame(60, &dstopts_chain(600)));
    // A hop-by-hop header whose length runs past the packet.
    p.frame(1, 2, &ipv6_frame(0, &[6, 200, 1, 4, 0, 0, 0, 0]));
    // A header naming itself as next, 8000 times over, in a jumbo-sized frame.
    p.frame(
        1,
        3,
        &ipv6_frame(43, &[43, 0, 0, 0, 0, 0, 0, 0].repeat(8000)),
    );
    let (r, _f) = analyze("ipv6.pcap", &p.bytes);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(counts(&r.json()), (4, 1, 3));
}

/// A handshake whose ACK comes 136 years after the SYN-ACK. The vantage point's comparison of
/// the handshake's legs used to overflow (crates/diagnose/src/vantage.rs); found by the
/// `pipeline` fuzz target (fuzz/regressions/pipeline/diagnose-vantage-overflow).
#[test]
fn handshake_spanning_the_range() {
    let mut p = Pcap::new(65535, 1);
    for (i, (_, usec, data)) in example_frames().iter().enumerate() {
        p.frame([0, 1].get(i).copied().unwrap_or(u32::MAX), *usec, data);
    }
    let (r, _f) = analyze("long-handshake.pcap", &p.bytes);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""));
    assert_eq!(connection_count(&r.json()), 1);
}
