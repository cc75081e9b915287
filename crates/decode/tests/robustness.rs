//! `decode` never panics, whatever the bytes: every prefix of valid frames, random bytes for
//! every link type, and randomly mutated valid frames.
#![allow(clippy::unwrap_used)] // tests may panic on unexpected results

mod common;

use common::*;
use tcpsleuth_decode::{decode, Decoded, Reason};

const LINK_TYPES: [u32; 11] = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 9999];

/// Invariants every decoded segment satisfies.
fn check(d: &Decoded) {
    match d {
        Decoded::Tcp(s) | Decoded::TcpUnanalysed(s) | Decoded::IcmpQuotedTcp(s) => {
            assert!(s.header_len <= 60 && s.header_len % 4 == 0);
            assert!(
                s.captured_payload_len <= s.payload_len || matches!(d, Decoded::TcpUnanalysed(_))
            );
            assert!(s.options.sack.len <= 4);
            if let Decoded::Tcp(s) = d {
                if s.error.is_none() {
                    assert!(s.header_len >= 20);
                }
            }
            let _ = s.error.map(|e| e.to_string());
        }
        Decoded::Malformed(e) => {
            let _ = e.to_string();
        }
        Decoded::Fragment | Decoded::NotTcp => {}
    }
}

/// Valid frames of every link type, with where their TCP header starts.
fn samples() -> Vec<(u32, Vec<u8>, usize)> {
    // MSS, NOP, WS, SACK permitted, timestamps, NOP padding: 24 bytes.
    let t = Tcp {
        options: vec![
            2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1, 1, 1,
        ],
        ..Tcp::payload(50)
    };
    let ip4 = ipv4_tcp(&t);
    let ip6 = ipv6_tcp(&t);
    let mut tagged = vlan_tag(10, 0x8100);
    tagged.extend_from_slice(&vlan_tag(20, 0x8864));
    tagged.extend_from_slice(&pppoe(0x0021, &ip4));
    let with = |h: &[u8], p: &[u8]| [h, p].concat();
    let mut hbh = ext_header(60, 0);
    hbh.extend_from_slice(&ext_header(6, 1));
    hbh.extend_from_slice(&t.bytes(&SRC6, &DST6));
    vec![
        (LT_ETH, eth(0x0800, &ip4), 34),
        (LT_ETH, eth(0x86dd, &ip6), 54),
        (LT_ETH, eth(0x88a8, &tagged), 14 + 8 + 8 + 20),
        (LT_SLL, sll(0x0800, &ip4), 36),
        (LT_SLL2, sll2(0x86dd, &ip6), 60),
        (LT_RAW, ip4.clone(), 20),
        (LT_RAW, ipv6_with(0, None, 64, &hbh), 64),
        (LT_IPV4, ip4.clone(), 20),
        (LT_IPV6, ip6.clone(), 40),
        (LT_NULL, with(&2u32.to_le_bytes(), &ip4), 24),
        (LT_NULL, with(&30u32.to_be_bytes(), &ip6), 44),
        (LT_LOOP, with(&2u32.to_be_bytes(), &ip4), 24),
    ]
}

#[test]
fn every_prefix_of_valid_frames() {
    for (lt, frame, tcp_at) in samples() {
        let full_len = frame.len() as u32;
        let whole = decode(lt, &frame, full_len);
        let Decoded::Tcp(reference) = whole else {
            panic!("sample on link type {lt} does not decode: {whole:?}");
        };
        assert_eq!(reference.error, None);
        let header_end = tcp_at + usize::from(reference.header_len);
        for n in 0..=frame.len() {
            // Snaplen-cut: on-wire length is the full frame.
            let d = decode(lt, &frame[..n], full_len);
            check(&d);
            if n < tcp_at + 16 {
                assert!(
                    matches!(d, Decoded::Malformed(e) if e.reason == Reason::Truncated),
                    "link {lt}, prefix {n}: {d:?}"
                );
            } else {
                let Decoded::Tcp(s) = d else {
                    panic!("link {lt}, prefix {n}: {d:?}");
                };
                assert_eq!(s.payload_len, reference.payload_len);
                assert_eq!(
                    s.captured_payload_len as usize,
                    n.saturating_sub(header_end)
                );
                assert_eq!(s.error.is_some(), n < header_end, "link {lt}, prefix {n}");
                assert_eq!(s.checksum_ok.is_some(), n == frame.len());
            }
            // A frame that really is that short.
            check(&decode(lt, &frame[..n], n as u32));
        }
    }
}

#[test]
fn random_bytes_on_every_link_type() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let len = rng.below(160);
        let data = rng.bytes(len);
        let original = match rng.below(3) {
            0 => len as u32,
            1 => len as u32 + rng.below(70_000) as u32,
            _ => rng.next_u64() as u32,
        };
        for lt in LINK_TYPES {
            check(&decode(lt, &data, original));
        }
    }
}

/// Random bytes behind plausible headers reach the deeper layers more often.
#[test]
fn random_mutations_of_valid_frames() {
    let mut rng = Rng(42);
    let samples = samples();
    let quote = {
        let inner = ipv4_tcp(&Tcp::payload(30));
        let v = V4 {
            proto: 1,
            ..V4::default()
        };
        eth(0x0800, &ipv4_with(&v, &icmp(3, 1, &inner)))
    };
    for round in 0..200_000 {
        let (lt, base) = if round % 7 == 0 {
            (LT_ETH, &quote)
        } else {
            let (lt, f, _) = &samples[rng.below(samples.len())];
            (*lt, f)
        };
        let mut f = base.clone();
        for _ in 0..1 + rng.below(6) {
            let i = rng.below(f.len());
            f[i] = rng.next_u64() as u8;
        }
        if rng.below(4) == 0 {
            f.truncate(rng.below(f.len() + 1));
        }
        if rng.below(8) == 0 {
            let n = rng.below(64);
            let extra = rng.bytes(n);
            f.extend_from_slice(&extra);
        }
        let original = if rng.below(2) == 0 {
            f.len() as u32
        } else {
            base.len() as u32
        };
        check(&decode(lt, &f, original));
    }
}
