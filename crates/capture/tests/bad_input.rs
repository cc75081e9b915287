//! Damaged input: truncation at every length, wrong magic, corrupt lengths, garbage. The reader
//! must never panic or loop, must return every frame before the damage, and must say where.

#![allow(clippy::unwrap_used)] // tests may panic on unexpected results

mod common;

use common::*;
use tcpsleuth_capture::{CaptureErrorKind, Compression};

fn small_pcap(be: bool) -> Cap {
    let mut c = Cap::pcap(be, false, 1, 65535);
    c.record(1, 2, b"abc", 3);
    c.record(3, 4, b"", 0);
    c.record(5, 6, b"0123456789", 1500);
    c
}

fn small_pcapng(be: bool) -> Cap {
    let mut c = pcapng(be);
    c.shb(&[(1, b"comment")]);
    c.idb(1, 0, &[(9, &[9])]);
    c.epb(0, 10, b"abcde", 5, &[(1, b"pkt")]);
    c.block(0x0bad, &[9; 5]);
    c.spb(b"xy", 2);
    c.idb(101, 0, &[]);
    c.opb(1, 20, b"opb", 3);
    c.shb(&[]);
    c.idb(113, 0, &[]);
    c.epb(0, 30, b"second section", 14, &[]);
    c
}

/// Cuts `c` at every length and checks: no panic, the frames before the cut are returned
/// unchanged, then a clean end exactly when the cut is on a record/block boundary, otherwise a
/// truncation error located at the start of the record that was cut.
fn check_every_prefix(c: &Cap) {
    let (full, err) = read_bytes(&c.bytes);
    assert!(err.is_none());
    assert_eq!(full.len(), c.packets.len());
    for cut in 0..c.bytes.len() {
        let (frames, err) = read_bytes(&c.bytes[..cut]);
        let complete = c.packets.iter().filter(|(_, end)| *end <= cut).count();
        assert_eq!(frames.len(), complete, "cut at {cut}");
        assert_eq!(frames[..], full[..complete], "cut at {cut}");
        if cut == 0 {
            let err = err.expect("empty input is an error");
            assert!(
                matches!(err.kind, CaptureErrorKind::UnknownFormat { .. }),
                "{err}"
            );
            assert!(err.to_string().contains("empty"), "{err}");
        } else if c.boundaries.contains(&cut) {
            assert!(err.is_none(), "cut at {cut} (a boundary): {err:?}");
        } else {
            let err = err.unwrap_or_else(|| panic!("cut at {cut}: no error"));
            assert!(err.is_truncation(), "cut at {cut}: {err}");
            // The error points at the start of the record or block that was cut.
            let start = c
                .boundaries
                .iter()
                .copied()
                .filter(|b| *b <= cut)
                .max()
                .unwrap_or(0);
            assert_eq!(err.offset, start as u64, "cut at {cut}: {err}");
            assert_eq!(err.last_good_frame, complete as u64);
            assert_eq!(err.file, "test.cap");
        }
    }
}

#[test]
fn truncated_at_every_length_pcap() {
    check_every_prefix(&small_pcap(false));
    check_every_prefix(&small_pcap(true));
}

#[test]
fn truncated_at_every_length_pcapng() {
    check_every_prefix(&small_pcapng(false));
    check_every_prefix(&small_pcapng(true));
}

#[test]
fn truncated_compressed_input_is_a_truncation() {
    for plain in [small_pcap(false).bytes, small_pcapng(true).bytes] {
        let (full, _) = read_bytes(&plain);
        for packed in [gzip(&plain), zstd(&plain)] {
            for cut in 0..packed.len() {
                let (frames, err) = read_bytes(&packed[..cut]);
                assert!(frames.len() <= full.len());
                assert_eq!(frames[..], full[..frames.len()], "cut at {cut}");
                if cut == 0 {
                    continue;
                }
                // Anything may be decodable from a cut compressed stream, but it must end in a
                // truncation (or, for a cut inside the magic, an unknown format).
                let err =
                    err.unwrap_or_else(|| panic!("cut at {cut} of {}: no error", packed.len()));
                assert!(
                    err.is_truncation()
                        || (cut < 4 && matches!(err.kind, CaptureErrorKind::UnknownFormat { .. })),
                    "cut at {cut} of {}: {err}",
                    packed.len()
                );
            }
        }
    }
}

#[test]
fn corrupt_compressed_data() {
    let plain = small_pcapng(false).bytes;
    let mut packed = gzip(&plain);
    let n = packed.len();
    for b in &mut packed[12..n - 8] {
        *b ^= 0x55;
    }
    let (_, err) = read_bytes(&packed);
    let err = err.unwrap();
    assert!(
        matches!(
            err.kind,
            CaptureErrorKind::Decompress {
                compression: Compression::Gzip,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("gzip data is corrupt"), "{err}");
    let mut packed = zstd(&plain);
    let n = packed.len();
    for b in &mut packed[8..n] {
        *b ^= 0x55;
    }
    let (_, err) = read_bytes(&packed);
    assert!(err.is_some());
}

#[test]
fn wrong_magic() {
    for (bytes, hint) in [
        (&b"hello world\n"[..], "68 65 6c 6c"),
        (&[0x50, 0x4b, 0x03, 0x04, 0, 0][..], "zip"),
        (&[0x42, 0x5a, 0x68, 0x39, 0x31][..], "bzip2"),
        (&[0xa1, 0xb2, 0xcd, 0x34, 0, 0, 0, 0][..], "editcap"),
        (&[0, 0, 0, 0, 0, 0, 0, 0][..], "00 00 00 00"),
        (&[0xab][..], "ab"),
    ] {
        let (frames, err) = read_bytes(bytes);
        assert!(frames.is_empty());
        let err = err.unwrap();
        assert!(
            matches!(err.kind, CaptureErrorKind::UnknownFormat { .. }),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with("test.cap: byte 0: not a pcap or pcapng capture"),
            "{msg}"
        );
        assert!(msg.contains(hint), "{msg}");
        assert!(!msg.contains('\n'));
    }
    // A gzip file containing something else: the magic after decompression is reported.
    let (_, err) = read_bytes(&gzip(b"not a capture at all"));
    let err = err.unwrap();
    assert!(err.to_string().contains("6e 6f 74 20"), "{err}");
}

/// The bytes of `small_pcapng` with the length of the block starting at `block` patched (both
/// copies if `both`).
fn patch_block_len(c: &Cap, block: usize, len: u32, both: bool) -> Vec<u8> {
    let mut b = c.bytes.clone();
    let enc = |v: u32| {
        if c.be {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    };
    let old = u32::from_le_bytes(b[block + 4..block + 8].try_into().unwrap());
    let old = if c.be { old.swap_bytes() } else { old } as usize;
    b[block + 4..block + 8].copy_from_slice(&enc(len));
    if both {
        b[block + old - 4..block + old].copy_from_slice(&enc(len));
    }
    b
}

#[test]
fn corrupt_pcapng_block_lengths() {
    for be in [false, true] {
        let c = small_pcapng(be);
        let epb = c.packets[0].0; // the first EPB, after SHB and IDB
        for (len, what) in [
            (0, "too small"),
            (8, "too small"),
            (16, "too small (minimum 32)"),
            (45, "not a multiple of 4"),
            (0xffff_fff0, "exceeds the 256 MiB limit"),
            (0x8000_0000, "exceeds the 256 MiB limit"),
        ] {
            let (frames, err) = read_bytes(&patch_block_len(&c, epb, len, false));
            assert!(frames.is_empty());
            let err = err.unwrap();
            assert!(
                matches!(err.kind, CaptureErrorKind::Corrupt(_)),
                "{len}: {err}"
            );
            assert_eq!(err.offset, epb as u64);
            let msg = err.to_string();
            assert!(
                msg.contains(what) && msg.contains("enhanced packet block"),
                "{msg}"
            );
            assert!(msg.starts_with(&format!("test.cap: byte {epb}: ")), "{msg}");
        }
        // Leading and trailing lengths differ.
        let (frames, err) = read_bytes(&patch_block_len(&c, epb, 36, false));
        assert!(frames.is_empty());
        let msg = err.unwrap().to_string();
        assert!(msg.contains("trailing block length"), "{msg}");
        // Zero length on the section header itself.
        let (_, err) = read_bytes(&patch_block_len(&c, 0, 0, false));
        assert!(err.unwrap().to_string().contains("section header block"));
    }
}

#[test]
fn pcapng_other_corruption() {
    // Captured length larger than the block.
    let mut c = pcapng(false);
    c.shb(&[]).idb(1, 0, &[]).epb(0, 0, b"abcd", 4, &[]);
    let at = c.packets[0].0 + 20;
    c.bytes[at..at + 4].copy_from_slice(&1000u32.to_le_bytes());
    let err = read_bytes(&c.bytes).1.unwrap();
    assert!(
        err.to_string()
            .contains("captured length 1000 exceeds block length"),
        "{err}"
    );

    // Bad byte-order magic in the first and in a later section header.
    let mut c = small_pcapng(false);
    c.bytes[8] = 0x99;
    let err = read_bytes(&c.bytes).1.unwrap();
    assert!(
        err.to_string().contains("byte-order magic 99 3c 2b 1a"),
        "{err}"
    );
    let c = small_pcapng(false);
    let second_shb = c.packets[2].1;
    let mut b = c.bytes.clone();
    b[second_shb + 8] = 0;
    let (frames, err) = read_bytes(&b);
    assert_eq!(frames.len(), 3);
    let err = err.unwrap();
    assert_eq!(err.offset, second_shb as u64);
    assert_eq!(err.last_good_frame, 3);
    assert!(err.to_string().contains("(after frame 3)"), "{err}");

    // Unsupported major version.
    let mut c = small_pcapng(false);
    c.bytes[12] = 2;
    assert!(read_bytes(&c.bytes)
        .1
        .unwrap()
        .to_string()
        .contains("version 2.0"));

    // Packets before any interface.
    let mut c = pcapng(true);
    c.shb(&[]).spb(b"x", 1);
    let err = read_bytes(&c.bytes).1.unwrap();
    assert!(
        err.to_string()
            .contains("simple packet block: no interface"),
        "{err}"
    );
    let mut c = pcapng(true);
    c.shb(&[]).opb(0, 0, b"x", 1);
    let err = read_bytes(&c.bytes).1.unwrap();
    assert!(
        err.to_string()
            .contains("packet block: interface id 0 out of range (this section has 0 interfaces)"),
        "{err}"
    );

    // Damaged options are ignored, not fatal.
    let mut c = pcapng(false);
    c.shb(&[]).idb(1, 0, &[(2, b"eth0")]);
    let idb = c.boundaries[0];
    c.bytes[idb + 16 + 2] = 0xff; // option length 255+, overruns the block
    c.epb(0, 5, b"ok", 2, &[]);
    let (frames, err) = read_bytes(&c.bytes);
    assert!(err.is_none());
    assert_eq!(frames.len(), 1);
}

#[test]
fn interface_id_out_of_range() {
    let mut c = pcapng(false);
    c.shb(&[])
        .idb(1, 0, &[])
        .epb(0, 0, b"ok", 2, &[])
        .epb(7, 0, b"bad", 3, &[]);
    let (frames, err) = read_bytes(&c.bytes);
    assert_eq!(frames.len(), 1);
    let err = err.unwrap();
    assert!(matches!(err.kind, CaptureErrorKind::Corrupt(_)));
    assert_eq!(
        err.to_string(),
        format!(
            "test.cap: byte {} (after frame 1): enhanced packet block: interface id 7 out of range (this section has 1 interface)",
            c.packets[1].0
        )
    );
}

#[test]
fn pcap_record_length_huge() {
    let mut c = small_pcap(false);
    let at = c.bytes.len();
    c.record(1, 1, b"", 0);
    c.bytes[at + 8..at + 12].copy_from_slice(&u32::MAX.to_le_bytes());
    let (frames, err) = read_bytes(&c.bytes);
    assert_eq!(frames.len(), 3);
    let err = err.unwrap();
    assert!(!err.is_truncation());
    assert_eq!(
        err.to_string(),
        format!("test.cap: byte {at} (after frame 3): record length 4294967295 exceeds the 256 MiB limit")
    );
    // Just above the limit: corrupt; just at it (with nothing behind): truncated, and without
    // allocating the 256 MiB it announces.
    c.bytes[at + 8..at + 12].copy_from_slice(&((256u32 << 20) + 1).to_le_bytes());
    assert!(matches!(
        read_bytes(&c.bytes).1.unwrap().kind,
        CaptureErrorKind::Corrupt(_)
    ));
    c.bytes[at + 8..at + 12].copy_from_slice(&(256u32 << 20).to_le_bytes());
    assert!(read_bytes(&c.bytes).1.unwrap().is_truncation());
}

#[test]
fn garbage_never_panics() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let prefixes: [&[u8]; 6] = [
        &[0xd4, 0xc3, 0xb2, 0xa1],
        &[0xa1, 0xb2, 0x3c, 0x4d],
        &[0x0a, 0x0d, 0x0d, 0x0a],
        &[
            0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a,
        ],
        &[0x1f, 0x8b],
        &[],
    ];
    for round in 0..3000 {
        let mut b = prefixes[round % prefixes.len()].to_vec();
        let n = rng.below(300);
        b.extend((0..n).map(|_| rng.next() as u8));
        let (frames, _err) = read_bytes(&b);
        assert!(frames.len() <= b.len() / 12 + 1);
    }
}

#[test]
fn mutated_valid_files_never_panic() {
    let mut rng = Rng(12345);
    let bases = [
        small_pcap(false).bytes,
        small_pcap(true).bytes,
        small_pcapng(false).bytes,
        small_pcapng(true).bytes,
    ];
    for round in 0..8000 {
        let mut b = bases[round % bases.len()].clone();
        for _ in 0..1 + rng.below(4) {
            let i = rng.below(b.len());
            b[i] = match rng.below(4) {
                0 => 0,
                1 => 0xff,
                _ => rng.next() as u8,
            };
        }
        if rng.below(4) == 0 {
            let cut = rng.below(b.len());
            b.truncate(cut);
        }
        let (frames, err) = read_bytes(&b);
        assert!(frames.len() <= 8);
        if let Some(e) = err {
            let msg = e.to_string();
            assert!(
                !msg.contains('\n') && msg.starts_with("test.cap: byte "),
                "{msg}"
            );
        }
    }
}
