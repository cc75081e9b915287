//! Reading well-formed pcap and pcapng captures, plain and compressed, from files and streams.

#![allow(clippy::unwrap_used)] // tests may panic on unexpected results

mod common;

use std::path::Path;

use common::*;
use tcpsleuth_capture::{CaptureFormat, CaptureReader, Compression};

const NS: i64 = 1_000_000_000;

fn pcap_file(be: bool, nano: bool) -> Cap {
    // Link type field with FCS bits set above the low 16 bits: LINKTYPE_ETHERNET with a 4-byte
    // FCS (LT_FCS_LENGTH_PRESENT | LT_FCS_LENGTH(2)).
    let mut c = Cap::pcap(be, nano, 1 | 0x0400_0000 | (2 << 28), 0);
    c.record(1_600_000_000, 123_456, b"first packet", 60);
    c.record(1_600_000_001, 0, b"", 0);
    // incl_len > orig_len: returned as is.
    c.record(u32::MAX, 999_999, b"longer than original", 4);
    c
}

#[test]
fn pcap_both_magics_both_byte_orders() {
    for be in [false, true] {
        for nano in [false, true] {
            let c = pcap_file(be, nano);
            let r = CaptureReader::from_read(
                "x".into(),
                Box::new(std::io::Cursor::new(c.bytes.clone())),
            )
            .unwrap();
            assert_eq!(r.format(), CaptureFormat::Pcap);
            assert_eq!(r.compression(), Compression::None);
            assert!(r.comments().is_empty());
            let (frames, err) = read_all(r);
            assert!(err.is_none(), "{err:?}");
            let frac = if nano { 1 } else { 1000 };
            let want = [
                (
                    1_600_000_000 * NS + 123_456 * frac,
                    &b"first packet"[..],
                    60,
                ),
                (1_600_000_001 * NS, &b""[..], 0),
                (
                    i64::from(u32::MAX) * NS + 999_999 * frac,
                    &b"longer than original"[..],
                    4,
                ),
            ];
            assert_eq!(frames.len(), want.len());
            for (i, (f, (ts, data, orig))) in frames.iter().zip(want).enumerate() {
                assert_eq!(f.number, i as u64 + 1);
                assert_eq!(f.timestamp_ns, ts, "be={be} nano={nano} frame {}", f.number);
                assert_eq!(f.data, data);
                assert_eq!(f.original_len, orig);
                assert_eq!(f.link_type, 1, "FCS bits must be masked off");
                assert_eq!(f.interface, 0);
                assert_eq!(f.offset, c.packets[i].0 as u64);
                assert_eq!(f.comment, None);
            }
        }
    }
}

#[test]
fn pcap_snaplen_is_ignored_and_header_only_file_is_empty() {
    // snaplen 0 and snaplen 0xffffffff: records longer than snaplen are fine.
    for snaplen in [0, 4, u32::MAX] {
        let mut c = Cap::pcap(false, false, 101, snaplen);
        c.record(1, 2, &[7u8; 300], 300);
        let (frames, err) = read_bytes(&c.bytes);
        assert!(err.is_none());
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].data.len(), 300);
        assert_eq!(frames[0].link_type, 101);
    }
    let c = Cap::pcap(true, true, 1, 65535);
    let (frames, err) = read_bytes(&c.bytes);
    assert!(frames.is_empty() && err.is_none());
}

/// Two sections (first little-endian, then big-endian, or the reverse), two interfaces with
/// different link types and resolutions in the first, EPB, SPB, OPB, and skipped blocks.
fn two_sections(first_be: bool) -> Cap {
    let mut c = pcapng(first_be);
    c.shb(&[(1, b"section one")]);
    c.idb(1, 65535, &[(9, &[9]), (2, b"eth0"), (1, b"first iface")]);
    // if_tsoffset (100 s) is in the section's byte order.
    let off = if first_be {
        100u64.to_be_bytes()
    } else {
        100u64.to_le_bytes()
    };
    c.idb(101, 0, &[(9, &[0x80 | 10]), (14, &off), (3, b"tun0 desc")]);
    c.epb(
        0,
        1_600_000_000_123_456_789,
        b"alpha",
        60,
        &[(1, b"hello packet")],
    );
    c.block(0x0000_0bad, &[1, 2, 3, 4, 5, 6, 7, 8]);
    c.epb(1, 1_600_000_000 * 1024 + 512, b"beta", 4, &[]);
    c.block(5, &[0; 20]); // interface statistics: skipped
    c.spb(b"gamma-gamma", 11);
    c.opb(1, 2048, b"delta", 5);
    c.block(0x8000_0001, &[]); // local-use block type, empty body: skipped
                               // Second section, other byte order: interfaces reset.
    c.be = !first_be;
    c.shb(&[(1, b"section two")]);
    c.idb(113, 6, &[]);
    c.epb(0, 1_700_000_000_000_001, b"epsilon", 7, &[]);
    c.spb(b"zeta-l", 1000);
    c
}

fn two_sections_expected(c: &Cap) -> Vec<Owned> {
    let f = |i: usize,
             ts: i64,
             link: u32,
             orig: u32,
             data: &[u8],
             iface: u32,
             comment: Option<&str>| Owned {
        number: i as u64 + 1,
        timestamp_ns: ts,
        link_type: link,
        original_len: orig,
        data: data.to_vec(),
        offset: c.packets[i].0 as u64,
        interface: iface,
        comment: comment.map(str::to_owned),
    };
    let beta_ts = 1_600_000_100 * NS + NS / 2;
    vec![
        f(
            0,
            1_600_000_000_123_456_789,
            1,
            60,
            b"alpha",
            0,
            Some("hello packet"),
        ),
        f(1, beta_ts, 101, 4, b"beta", 1, None),
        // SPB: interface 0, previous frame's timestamp, original length from the block.
        f(2, beta_ts, 1, 11, b"gamma-gamma", 0, None),
        f(3, 102 * NS, 101, 5, b"delta", 1, None),
        f(4, 1_700_000_000_000_001_000, 113, 7, b"epsilon", 0, None),
        // SPB limited by the interface's snaplen (6), not by the padded block.
        f(5, 1_700_000_000_000_001_000, 113, 1000, b"zeta-l", 0, None),
    ]
}

#[test]
fn pcapng_two_sections_two_interfaces_spb_opb_unknown_blocks() {
    for first_be in [false, true] {
        let c = two_sections(first_be);
        let r =
            CaptureReader::from_read("ng".into(), Box::new(std::io::Cursor::new(c.bytes.clone())))
                .unwrap();
        assert_eq!(r.format(), CaptureFormat::PcapNg);
        let mut r = r;
        // Comments are collected as blocks are read.
        let first = r.next_frame().unwrap().unwrap();
        assert_eq!(first.comment, Some("hello packet"));
        assert_eq!(
            r.comments(),
            ["section one", "eth0", "first iface", "tun0 desc"]
        );
        drop(r);
        let r =
            CaptureReader::from_read("ng".into(), Box::new(std::io::Cursor::new(c.bytes.clone())))
                .unwrap();
        let (frames, err) = read_all_keep_comments(
            r,
            &[
                "section one",
                "eth0",
                "first iface",
                "tun0 desc",
                "section two",
            ],
        );
        assert!(err.is_none(), "{err:?}");
        assert_eq!(frames, two_sections_expected(&c), "first_be={first_be}");
    }
}

fn read_all_keep_comments(
    mut r: CaptureReader,
    want: &[&str],
) -> (Vec<Owned>, Option<tcpsleuth_capture::CaptureError>) {
    let mut frames = Vec::new();
    loop {
        match r.next_frame() {
            Ok(Some(f)) => frames.push(Owned {
                number: f.number,
                timestamp_ns: f.timestamp_ns,
                link_type: f.link_type.0,
                original_len: f.original_len,
                data: f.data.to_vec(),
                offset: f.offset,
                interface: f.interface,
                comment: f.comment.map(str::to_owned),
            }),
            Ok(None) => break,
            Err(e) => return (frames, Some(e)),
        }
    }
    assert_eq!(r.comments(), want);
    (frames, None)
}

#[test]
fn pcapng_interface_in_second_section_is_not_the_first_sections() {
    // Section 2 has one interface: id 1 (valid in section 1) is out of range there.
    let mut c = pcapng(false);
    c.shb(&[])
        .idb(1, 0, &[])
        .idb(1, 0, &[])
        .epb(1, 0, b"a", 1, &[]);
    c.shb(&[]).idb(1, 0, &[]).epb(1, 0, b"b", 1, &[]);
    let (frames, err) = read_bytes(&c.bytes);
    assert_eq!(frames.len(), 1);
    let err = err.unwrap();
    assert!(!err.is_truncation());
    assert_eq!(err.offset, c.packets[1].0 as u64);
    assert_eq!(err.last_good_frame, 1);
    let msg = err.to_string();
    assert!(
        msg.contains("enhanced packet block") && msg.contains("interface id 1"),
        "{msg}"
    );
}

fn all_variants() -> Vec<(&'static str, Vec<u8>)> {
    let mut v = vec![];
    for be in [false, true] {
        v.push(("pcapng", two_sections(be).bytes));
        for nano in [false, true] {
            v.push(("pcap", pcap_file(be, nano).bytes));
        }
    }
    v
}

#[test]
fn gzip_and_zstd_give_identical_frames() {
    for (kind, plain) in all_variants() {
        let (want, err) = read_bytes(&plain);
        assert!(err.is_none());
        for (compression, packed) in [
            (Compression::Gzip, gzip(&plain)),
            (Compression::Gzip, gzip_multi(&plain, 3)),
            (Compression::Zstd, zstd(&plain)),
            (Compression::Zstd, zstd_multi(&plain, 4)),
        ] {
            let len = packed.len() as u64;
            let mut r =
                CaptureReader::from_read("c".into(), Box::new(std::io::Cursor::new(packed)))
                    .unwrap();
            assert_eq!(r.compression(), compression);
            assert_eq!(r.input_len(), None);
            while r.next_frame().unwrap().is_some() {}
            assert_eq!(r.input_bytes_read(), len);
            let r = CaptureReader::from_read(
                "c".into(),
                Box::new(std::io::Cursor::new(match compression {
                    Compression::Gzip => gzip_multi(&plain, 3),
                    _ => zstd_multi(&plain, 4),
                })),
            )
            .unwrap();
            let (got, err) = read_all(r);
            assert!(err.is_none(), "{kind} {compression:?}: {err:?}");
            assert_eq!(got, want, "{kind} {compression:?}");
        }
    }
}

#[test]
fn stream_with_short_reads_like_stdin() {
    for (kind, plain) in all_variants() {
        let (want, _) = read_bytes(&plain);
        for (bytes, chunk) in [
            (plain.clone(), 1),
            (plain.clone(), 7),
            (gzip(&plain), 3),
            (zstd(&plain), 5),
        ] {
            let src = Trickle {
                data: bytes,
                pos: 0,
                chunk,
            };
            let r = CaptureReader::from_read("<stdin>".into(), Box::new(src)).unwrap();
            let (got, err) = read_all(r);
            assert!(err.is_none(), "{kind} chunk {chunk}: {err:?}");
            assert_eq!(got, want, "{kind} chunk {chunk}");
        }
    }
}

#[test]
fn open_detects_by_magic_not_extension() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("capture-open");
    std::fs::create_dir_all(&dir).unwrap();
    let plain = two_sections(false).bytes;
    let (want, _) = read_bytes(&plain);
    // Misleading names on purpose.
    for (name, bytes, compression) in [
        ("plain.pcap.gz", plain.clone(), Compression::None),
        ("gz.pcapng.zst", gzip(&plain), Compression::Gzip),
        ("zst.pcap", zstd(&plain), Compression::Zstd),
    ] {
        let path = dir.join(name);
        std::fs::write(&path, &bytes).unwrap();
        let r = CaptureReader::open(&path).unwrap();
        assert_eq!(r.compression(), compression);
        assert_eq!(r.format(), CaptureFormat::PcapNg);
        assert_eq!(r.input_len(), Some(bytes.len() as u64));
        let (got, err) = read_all(r);
        assert!(err.is_none());
        assert_eq!(got, want, "{name}");
    }
    let missing = dir.join("does-not-exist.pcap");
    let err = CaptureReader::open(&missing).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("does-not-exist.pcap") && msg.contains("I/O error"),
        "{msg}"
    );
    assert!(!err.is_truncation());
    let err = CaptureReader::open(&dir).unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");
}

#[test]
fn large_records_grow_the_buffer_and_many_records_stream() {
    // A 3 MiB record (larger than the initial 1 MiB buffer) among small ones.
    let big: Vec<u8> = (0..3 << 20).map(|i| (i % 251) as u8).collect();
    let mut c = Cap::pcap(false, false, 1, 0);
    for i in 0..5000u32 {
        c.record(i, 0, &i.to_le_bytes(), 4);
    }
    c.record(9, 9, &big, big.len() as u32);
    c.record(10, 10, b"after", 5);
    let (frames, err) = read_bytes(&c.bytes);
    assert!(err.is_none());
    assert_eq!(frames.len(), 5002);
    assert_eq!(frames[5000].data, big);
    assert_eq!(frames[5001].data, b"after");
    assert_eq!(frames[4999].data, 4999u32.to_le_bytes());
}

#[test]
fn reader_is_send() {
    fn assert_send<T: Send>() {}
    assert_send::<CaptureReader>();
    fn assert_sync<T: Sync>() {}
    assert_send::<tcpsleuth_capture::CaptureError>();
    assert_sync::<tcpsleuth_capture::CaptureError>();
}
