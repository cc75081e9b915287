//! Behaviour of `decode`, case by case. Each expectation was checked against tshark 4.0.17 on
//! the same bytes (see the crate docs for the rules).
#![allow(clippy::unwrap_used)] // tests may panic on unexpected results

mod common;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use common::*;
use tcpsleuth_decode::{decode, DecodeError, Decoded, Layer, Reason, Segment, TcpFlags};

fn full(link: u32, frame: &[u8]) -> Decoded {
    decode(link, frame, frame.len() as u32)
}

#[track_caller]
fn tcp(d: Decoded) -> Segment {
    match d {
        Decoded::Tcp(s) => s,
        other => panic!("expected Tcp, got {other:?}"),
    }
}

#[track_caller]
fn malformed(d: Decoded) -> DecodeError {
    match d {
        Decoded::Malformed(e) => e,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}
fn v6(a: [u8; 16]) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(a))
}

/// The segment every link-type test carries.
fn check_plain_v4(s: &Segment) {
    assert_eq!(s.src, v4(SRC4));
    assert_eq!(s.dst, v4(DST4));
    assert_eq!((s.src_port, s.dst_port), (40000, 80));
    assert_eq!((s.seq, s.ack), (1000, 2000));
    assert_eq!(s.flags, TcpFlags(0x018));
    assert_eq!(s.window, 65535);
    assert_eq!(s.header_len, 20);
    assert_eq!(s.payload_len, 10);
    assert_eq!(s.captured_payload_len, 10);
    assert_eq!(s.ttl, 64);
    assert_eq!(s.ip_id, Some(0x1234));
    assert_eq!(s.checksum_ok, Some(true));
    assert_eq!(s.error, None);
}

fn check_plain_v6(s: &Segment) {
    assert_eq!(s.src, v6(SRC6));
    assert_eq!(s.dst, v6(DST6));
    assert_eq!(s.payload_len, 10);
    assert_eq!(s.ttl, 64);
    assert_eq!(s.ip_id, None);
    assert_eq!(s.checksum_ok, Some(true));
    assert_eq!(s.error, None);
}

// ---------------------------------------------------------------------------------------------
// Link layers

#[test]
fn ethernet_ipv4_and_ipv6() {
    check_plain_v4(&tcp(full(
        LT_ETH,
        &eth(0x0800, &ipv4_tcp(&Tcp::payload(10))),
    )));
    check_plain_v6(&tcp(full(
        LT_ETH,
        &eth(0x86dd, &ipv6_tcp(&Tcp::payload(10))),
    )));
}

#[test]
fn vlan_tags_single_double_and_old_qinq() {
    let ip = ipv4_tcp(&Tcp::payload(10));
    let mut single = vlan_tag(5, 0x0800);
    single.extend_from_slice(&ip);
    check_plain_v4(&tcp(full(LT_ETH, &eth(0x8100, &single))));

    // 802.1ad outer, 802.1Q inner.
    let mut double = vlan_tag(10, 0x8100);
    double.extend_from_slice(&vlan_tag(20, 0x0800));
    double.extend_from_slice(&ip);
    check_plain_v4(&tcp(full(LT_ETH, &eth(0x88a8, &double))));
    check_plain_v4(&tcp(full(LT_ETH, &eth(0x9100, &single))));
    // 0x9200 is not a VLAN TPID for tshark.
    assert_eq!(full(LT_ETH, &eth(0x9200, &single)), Decoded::NotTcp);
}

#[test]
fn pppoe_session_ipv4_ipv6_and_over_qinq() {
    let ip4 = ipv4_tcp(&Tcp::payload(10));
    check_plain_v4(&tcp(full(LT_ETH, &eth(0x8864, &pppoe(0x0021, &ip4)))));
    let ip6 = ipv6_tcp(&Tcp::payload(10));
    check_plain_v6(&tcp(full(LT_ETH, &eth(0x8864, &pppoe(0x0057, &ip6)))));

    // As in zeek/pppoe-over-qinq.pcap: 802.1ad, 802.1Q, PPPoE, PPP, IPv4.
    let mut tagged = vlan_tag(10, 0x8100);
    tagged.extend_from_slice(&vlan_tag(20, 0x8864));
    tagged.extend_from_slice(&pppoe(0x0021, &ip4));
    check_plain_v4(&tcp(full(LT_ETH, &eth(0x88a8, &tagged))));

    // Protocol-field compression (one odd byte).
    let mut compressed = vec![0x11, 0x00, 0x12, 0x34];
    compressed.extend_from_slice(&((ip4.len() + 1) as u16).to_be_bytes());
    compressed.push(0x21);
    compressed.extend_from_slice(&ip4);
    check_plain_v4(&tcp(full(LT_ETH, &eth(0x8864, &compressed))));

    // Other PPP protocols (LCP) are not TCP.
    assert_eq!(
        full(LT_ETH, &eth(0x8864, &pppoe(0xc021, &ip4))),
        Decoded::NotTcp
    );
}

#[test]
fn pppoe_length_bounds_the_ip_packet() {
    // PPPoE length 20 leaves 18 bytes for IP: tshark reports the IP header malformed.
    let ip4 = ipv4_tcp(&Tcp::payload(10));
    let mut p = pppoe(0x0021, &ip4);
    p[4..6].copy_from_slice(&20u16.to_be_bytes());
    let e = malformed(full(LT_ETH, &eth(0x8864, &p)));
    assert_eq!((e.layer, e.reason), (Layer::Ipv4, Reason::Overrun));
}

#[test]
fn mpls_and_llc_snap() {
    let ip4 = ipv4_tcp(&Tcp::payload(10));
    let mut mpls = (100u32 << 12 | 1 << 8 | 64).to_be_bytes().to_vec();
    mpls.extend_from_slice(&ip4);
    check_plain_v4(&tcp(full(LT_ETH, &eth(0x8847, &mpls))));

    let mut two = (100u32 << 12 | 64).to_be_bytes().to_vec();
    two.extend_from_slice(&(200u32 << 12 | 1 << 8 | 64).to_be_bytes());
    two.extend_from_slice(&ipv6_tcp(&Tcp::payload(10)));
    check_plain_v6(&tcp(full(LT_ETH, &eth(0x8847, &two))));

    let mut snap = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
    snap.extend_from_slice(&ip4);
    check_plain_v4(&tcp(full(LT_ETH, &eth(snap.len() as u16, &snap))));
    // 802.3 frame with another LLC payload (e.g. STP).
    assert_eq!(
        full(LT_ETH, &eth(7, &[0x42, 0x42, 0x03, 0, 0, 0, 0])),
        Decoded::NotTcp
    );
}

#[test]
fn linux_cooked_v1_and_v2() {
    check_plain_v4(&tcp(full(
        LT_SLL,
        &sll(0x0800, &ipv4_tcp(&Tcp::payload(10))),
    )));
    check_plain_v6(&tcp(full(
        LT_SLL,
        &sll(0x86dd, &ipv6_tcp(&Tcp::payload(10))),
    )));
    check_plain_v4(&tcp(full(
        LT_SLL2,
        &sll2(0x0800, &ipv4_tcp(&Tcp::payload(10))),
    )));
    check_plain_v6(&tcp(full(
        LT_SLL2,
        &sll2(0x86dd, &ipv6_tcp(&Tcp::payload(10))),
    )));
    assert_eq!(full(LT_SLL, &sll(0x0806, &[0; 28])), Decoded::NotTcp);
}

#[test]
fn linux_cooked_pseudo_protocols_and_arphrd_types() {
    let ip4 = ipv4_tcp(&Tcp::payload(10));
    let with_hatype = |mut f: Vec<u8>, hatype: u16| {
        f[2..4].copy_from_slice(&hatype.to_be_bytes());
        f
    };
    // 0x0003: a whole Ethernet frame; 0x0004: 802.2 LLC; 0x0007: PPP (HDLC framing optional).
    check_plain_v4(&tcp(full(LT_SLL, &sll(0x0003, &eth(0x0800, &ip4)))));
    let mut snap = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
    snap.extend_from_slice(&ip4);
    check_plain_v4(&tcp(full(LT_SLL, &sll(0x0004, &snap))));
    let mut hdlc = vec![0xff, 0x03, 0x00, 0x21];
    hdlc.extend_from_slice(&ip4);
    check_plain_v4(&tcp(full(LT_SLL, &sll(0x0007, &hdlc))));
    check_plain_v4(&tcp(full(LT_SLL, &sll(0x0007, &hdlc[2..]))));
    // ARPHRD_IPGRE: the protocol is a GRE type; ARPHRD_NETLINK: never IP.
    check_plain_v4(&tcp(full(LT_SLL, &with_hatype(sll(0x0800, &ip4), 778))));
    assert_eq!(
        full(LT_SLL, &with_hatype(sll(0x0800, &ip4), 824)),
        Decoded::NotTcp
    );
    let mut tagged = vlan_tag(5, 0x0800);
    tagged.extend_from_slice(&ip4);
    check_plain_v4(&tcp(full(LT_SLL2, &sll2(0x8100, &tagged))));
}

#[test]
fn raw_ip_link_types() {
    let ip4 = ipv4_tcp(&Tcp::payload(10));
    let ip6 = ipv6_tcp(&Tcp::payload(10));
    for lt in [LT_RAW, 12, 14] {
        check_plain_v4(&tcp(full(lt, &ip4)));
        check_plain_v6(&tcp(full(lt, &ip6)));
        let mut bogus = ip4.clone();
        bogus[0] = 0x55;
        assert_eq!(full(lt, &bogus), Decoded::NotTcp);
    }
    check_plain_v4(&tcp(full(LT_IPV4, &ip4)));
    check_plain_v6(&tcp(full(LT_IPV6, &ip6)));
    // LINKTYPE_IPV4 goes through the IPv4 dissector, which hands version 6 to IPv6.
    check_plain_v6(&tcp(full(LT_IPV4, &ip6)));
    // LINKTYPE_IPV6 does not accept IPv4.
    let e = malformed(full(LT_IPV6, &ip4));
    assert_eq!((e.layer, e.reason), (Layer::Ipv6, Reason::BadVersion(4)));
}

#[test]
fn bsd_null_both_byte_orders_and_loop() {
    let ip4 = ipv4_tcp(&Tcp::payload(10));
    let ip6 = ipv6_tcp(&Tcp::payload(10));
    let with = |h: [u8; 4], p: &[u8]| {
        let mut f = h.to_vec();
        f.extend_from_slice(p);
        f
    };
    check_plain_v4(&tcp(full(LT_NULL, &with(2u32.to_le_bytes(), &ip4))));
    check_plain_v4(&tcp(full(LT_NULL, &with(2u32.to_be_bytes(), &ip4))));
    for af in [24u32, 28, 30] {
        check_plain_v6(&tcp(full(LT_NULL, &with(af.to_le_bytes(), &ip6))));
        check_plain_v6(&tcp(full(LT_NULL, &with(af.to_be_bytes(), &ip6))));
    }
    // IRIX style (AF in the first 16 bits) and Linux's old Ethertype in NULL.
    check_plain_v4(&tcp(full(LT_NULL, &with([0, 2, 0, 0], &ip4))));
    check_plain_v4(&tcp(full(LT_NULL, &with(0x0800u32.to_le_bytes(), &ip4))));
    check_plain_v4(&tcp(full(LT_NULL, &with(0x0800u32.to_be_bytes(), &ip4))));
    // PPP in HDLC framing.
    check_plain_v4(&tcp(full(LT_NULL, &with([0xff, 0x03, 0x00, 0x21], &ip4))));
    // Linux AF_INET6 (10) is not a BSD family.
    assert_eq!(
        full(LT_NULL, &with(10u32.to_le_bytes(), &ip6)),
        Decoded::NotTcp
    );

    // LOOP: network byte order only.
    check_plain_v4(&tcp(full(LT_LOOP, &with(2u32.to_be_bytes(), &ip4))));
    check_plain_v6(&tcp(full(LT_LOOP, &with(30u32.to_be_bytes(), &ip6))));
    assert_eq!(
        full(LT_LOOP, &with(2u32.to_le_bytes(), &ip4)),
        Decoded::NotTcp
    );
}

#[test]
fn not_tcp_frames() {
    assert_eq!(full(LT_ETH, &eth(0x0806, &[0; 28])), Decoded::NotTcp);
    let udp = ipv4_with(
        &V4 {
            proto: 17,
            ..V4::default()
        },
        &[0; 16],
    );
    assert_eq!(full(LT_ETH, &eth(0x0800, &udp)), Decoded::NotTcp);
    assert_eq!(full(9999, &ipv4_tcp(&Tcp::payload(10))), Decoded::NotTcp);
    let echo = ipv4_with(
        &V4 {
            proto: 1,
            ..V4::default()
        },
        &icmp(8, 0, &[0; 32]),
    );
    assert_eq!(full(LT_ETH, &eth(0x0800, &echo)), Decoded::NotTcp);
}

// ---------------------------------------------------------------------------------------------
// IP layers

#[test]
fn ipv4_options_are_skipped() {
    let v = V4 {
        options: vec![0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00], // router alert, NOPs, EOL
        ..V4::default()
    };
    let s = tcp(full(
        LT_ETH,
        &eth(
            0x0800,
            &ipv4_with(&v, &Tcp::payload(10).bytes(&SRC4, &DST4)),
        ),
    ));
    check_plain_v4(&s);
}

#[test]
fn ipv4_bogus_headers() {
    let good = ipv4_tcp(&Tcp::payload(10));
    let mut ihl4 = good.clone();
    ihl4[0] = 0x44;
    let e = malformed(full(LT_RAW, &ihl4));
    assert_eq!(e.reason, Reason::BadHeaderLength(4));
    // Total length below the header length (but not 0): "Bogus IP length".
    let mut short = good.clone();
    short[2..4].copy_from_slice(&10u16.to_be_bytes());
    assert_eq!(
        malformed(full(LT_RAW, &short)).reason,
        Reason::BadTotalLength(10)
    );
    // On Ethernet type 0x0800 a version other than 4 or 6 is bogus.
    let mut v5 = good;
    v5[0] = 0x55;
    assert_eq!(
        malformed(full(LT_ETH, &eth(0x0800, &v5))).reason,
        Reason::BadVersion(5)
    );
}

#[test]
fn ipv4_fragments() {
    let seg = Tcp::payload(100).bytes(&SRC4, &DST4);
    let first = V4 {
        flags_frag: 0x2000,
        ..V4::default()
    };
    assert_eq!(
        full(LT_ETH, &eth(0x0800, &ipv4_with(&first, &seg[..40]))),
        Decoded::Fragment
    );
    let later = V4 {
        flags_frag: 0x0005,
        ..V4::default()
    };
    assert_eq!(
        full(LT_ETH, &eth(0x0800, &ipv4_with(&later, &seg[40..]))),
        Decoded::Fragment
    );
}

#[test]
fn ipv6_extension_headers() {
    let t = Tcp::payload(10).bytes(&SRC6, &DST6);
    // Hop-by-hop then destination options (16 bytes) then TCP.
    let mut p = ext_header(60, 0);
    p.extend_from_slice(&ext_header(6, 1));
    p.extend_from_slice(&t);
    check_plain_v6(&tcp(full(
        LT_ETH,
        &eth(0x86dd, &ipv6_with(0, None, 64, &p)),
    )));

    // Routing header and AH.
    let mut p = ext_header(51, 0);
    p[2] = 4; // routing type 4 (SRH), segments left 0
    p[3] = 0;
    p.extend_from_slice(&[6, 4, 0, 0]);
    p.extend_from_slice(&[0; 20]); // AH: (4 + 2) * 4 = 24 bytes
    p.extend_from_slice(&t);
    check_plain_v6(&tcp(full(LT_RAW, &ipv6_with(43, None, 64, &p))));

    // No next header.
    let p = ext_header(59, 0);
    assert_eq!(full(LT_RAW, &ipv6_with(60, None, 64, &p)), Decoded::NotTcp);

    // An extension header running past the payload length is malformed.
    let mut p = ext_header(60, 0);
    p.extend_from_slice(&ext_header(6, 0));
    let e = malformed(full(LT_RAW, &ipv6_with(0, Some(12), 64, &p)));
    assert_eq!((e.layer, e.reason), (Layer::Ipv6, Reason::Overrun));
}

/// tshark stops at 500 protocol layers (frame included): on Ethernet
/// (frame, eth, ethertype, ipv6, …, tcp) 495 extension headers still decode, 496 do not.
#[test]
fn ipv6_extension_header_chain_bound() {
    let chain = |n: usize| {
        let mut p = Vec::new();
        for i in 0..n {
            p.extend_from_slice(&ext_header(if i + 1 == n { 6 } else { 60 }, 0));
        }
        p.extend_from_slice(&Tcp::payload(10).bytes(&SRC6, &DST6));
        ipv6_with(60, None, 64, &p)
    };
    assert_eq!(tcp(full(LT_ETH, &eth(0x86dd, &chain(495)))).payload_len, 10);
    let e = malformed(full(LT_ETH, &eth(0x86dd, &chain(496))));
    assert_eq!(e.reason, Reason::TooDeep);
    assert_eq!(e.reason.to_string(), "more than 500 protocol layers");
    // Raw IP has one link layer less.
    assert_eq!(tcp(full(LT_RAW, &chain(496))).payload_len, 10);
    assert_eq!(malformed(full(LT_RAW, &chain(497))).reason, Reason::TooDeep);
    // A huge chain ends on the bound, not on the frame.
    assert_eq!(
        malformed(full(LT_RAW, &chain(5000))).reason,
        Reason::TooDeep
    );
}

#[test]
fn ipv6_fragments() {
    let t = Tcp::payload(100).bytes(&SRC6, &DST6);
    let mut first = vec![6, 0, 0x00, 0x01, 0, 0, 0, 7]; // offset 0, M
    first.extend_from_slice(&t[..48]);
    assert_eq!(
        full(LT_RAW, &ipv6_with(44, None, 64, &first)),
        Decoded::Fragment
    );
    let mut later = vec![6, 0, 0x00, 0x30, 0, 0, 0, 7]; // offset 48, last
    later.extend_from_slice(&t[48..]);
    assert_eq!(
        full(LT_RAW, &ipv6_with(44, None, 64, &later)),
        Decoded::Fragment
    );
    // An atomic fragment (offset 0, M clear) is dissected through.
    let mut atomic = vec![6, 0, 0, 0, 0, 0, 0, 7];
    atomic.extend_from_slice(&t);
    assert_eq!(
        tcp(full(LT_RAW, &ipv6_with(44, None, 64, &atomic))).payload_len,
        100
    );
}

// ---------------------------------------------------------------------------------------------
// Length rules

#[test]
fn ethernet_padding_is_ignored() {
    let mut f = eth(0x0800, &ipv4_tcp(&Tcp::default()));
    f.resize(60, 0xee);
    let s = tcp(full(LT_ETH, &f));
    assert_eq!((s.payload_len, s.captured_payload_len), (0, 0));
    assert_eq!(s.checksum_ok, Some(true));
}

#[test]
fn snaplen_truncation_keeps_the_ip_length() {
    let f = eth(0x0800, &ipv4_tcp(&Tcp::payload(1000)));
    let s = tcp(decode(LT_ETH, &f[..64], f.len() as u32));
    assert_eq!((s.payload_len, s.captured_payload_len), (1000, 10));
    assert_eq!(s.checksum_ok, None);
    assert_eq!(s.error, None);
}

/// tcpdump/ipv4_tcp_http_xml_tso.pcap: IPv4 total length 0, TCP length from the frame.
#[test]
fn tso_total_length_zero_uses_the_on_wire_length() {
    let v = V4 {
        total: Some(0),
        ..V4::default()
    };
    let f = eth(
        0x0800,
        &ipv4_with(&v, &Tcp::payload(1976).bytes(&SRC4, &DST4)),
    );
    assert_eq!(f.len(), 2030);
    assert_eq!(tcp(full(LT_ETH, &f)).payload_len, 1976);
    // Snaplen-cut TSO frame: the original length counts, not the captured one.
    let s = tcp(decode(LT_ETH, &f[..100], 2030));
    assert_eq!((s.payload_len, s.captured_payload_len), (1976, 46));
    // Padding after a TSO frame is counted (the IP layer has no length to trim it).
    let mut small = eth(0x0800, &ipv4_with(&v, &Tcp::default().bytes(&SRC4, &DST4)));
    small.resize(60, 0);
    assert_eq!(tcp(full(LT_ETH, &small)).payload_len, 6);
}

#[test]
fn ipv4_total_length_larger_than_the_frame_is_ignored() {
    let v = V4 {
        total: Some(1000),
        ..V4::default()
    };
    let f = eth(
        0x0800,
        &ipv4_with(&v, &Tcp::payload(10).bytes(&SRC4, &DST4)),
    );
    assert_eq!(tcp(full(LT_ETH, &f)).payload_len, 10);
    // A frame whose record says original length < captured length: the captured length wins.
    let f = eth(0x0800, &ipv4_tcp(&Tcp::payload(100)));
    assert_eq!(tcp(decode(LT_ETH, &f, 30)).payload_len, 100);
}

#[test]
fn ipv6_payload_length_rules() {
    let t = Tcp::payload(10).bytes(&SRC6, &DST6);
    // Larger than the frame: ignored.
    assert_eq!(
        tcp(full(LT_RAW, &ipv6_with(6, Some(1000), 64, &t))).payload_len,
        10
    );
    // Smaller: trims (here to the bare header).
    assert_eq!(
        tcp(full(LT_RAW, &ipv6_with(6, Some(20), 64, &t))).payload_len,
        0
    );
    // Zero without a jumbo option: malformed (no TSO rule for IPv6 in tshark 4.0).
    assert_eq!(
        malformed(full(LT_RAW, &ipv6_with(6, Some(0), 64, &t))).reason,
        Reason::ZeroPayloadLength
    );
    // Jumbo payload option (> 65535) gives the length.
    let mut hbh = vec![6, 0, 0xc2, 4];
    hbh.extend_from_slice(&70_000u32.to_be_bytes());
    hbh.extend_from_slice(&t);
    let f = ipv6_with(0, Some(0), 64, &hbh);
    let s = tcp(decode(LT_RAW, &f, 40 + 70_000));
    assert_eq!(s.payload_len, 70_000 - 8 - 20);
    // A jumbo value ≤ 65535 is invalid: tshark treats the option as missing.
    hbh[4..8].copy_from_slice(&65_535u32.to_be_bytes());
    let f = ipv6_with(0, Some(0), 64, &hbh);
    assert_eq!(
        malformed(decode(LT_RAW, &f, 40 + 65_535)).reason,
        Reason::ZeroPayloadLength
    );
}

/// The TCP length from IP is 16..19 bytes: tshark assigns a tcp.stream ("Short segment") but
/// does not analyse the segment. Below 16 bytes: no stream.
#[test]
fn tcp_shorter_than_its_header() {
    for tcp_len in [16u16, 19] {
        let v = V4 {
            total: Some(20 + tcp_len),
            ..V4::default()
        };
        let f = eth(
            0x0800,
            &ipv4_with(&v, &Tcp::payload(10).bytes(&SRC4, &DST4)),
        );
        match full(LT_ETH, &f) {
            Decoded::TcpUnanalysed(s) => {
                assert_eq!((s.src_port, s.seq, s.window), (40000, 1000, 65535));
                assert_eq!(s.payload_len, 0);
                assert_eq!(
                    s.error.unwrap().reason,
                    Reason::ShortSegment {
                        header_len: 20,
                        tcp_len: tcp_len as u8
                    }
                );
            }
            other => panic!("{other:?}"),
        }
    }
    let v = V4 {
        total: Some(35),
        ..V4::default()
    };
    let f = eth(
        0x0800,
        &ipv4_with(&v, &Tcp::payload(10).bytes(&SRC4, &DST4)),
    );
    let e = malformed(full(LT_ETH, &f));
    assert_eq!(
        (e.layer, e.reason, e.offset),
        (Layer::Tcp, Reason::Overrun, 49)
    );
}

#[test]
fn data_offset_past_the_ip_payload() {
    let t = Tcp {
        doff: Some(15),
        ..Tcp::payload(20)
    };
    match full(LT_ETH, &eth(0x0800, &ipv4_tcp(&t))) {
        Decoded::TcpUnanalysed(s) => {
            assert_eq!(s.header_len, 60);
            assert!(matches!(
                s.error.unwrap().reason,
                Reason::ShortSegment {
                    header_len: 60,
                    tcp_len: 40
                }
            ));
        }
        other => panic!("{other:?}"),
    }
}

/// Data offset < 5: tshark analyses the segment with seglen = TCP length − offset × 4, then
/// stops ("Bogus TCP header length") without printing analysis flags.
#[test]
fn data_offset_below_five() {
    for (doff, len) in [(4u8, 14u32), (0, 30)] {
        let t = Tcp {
            doff: Some(doff),
            ..Tcp::payload(10)
        };
        let s = tcp(full(LT_ETH, &eth(0x0800, &ipv4_tcp(&t))));
        assert_eq!(s.header_len, u16::from(doff) * 4);
        assert_eq!(s.payload_len, len);
        assert_eq!(s.checksum_ok, None);
        assert_eq!(s.error.unwrap().reason, Reason::BadDataOffset(doff * 4));
        assert_eq!(s.error.unwrap().offset, 14 + 20 + 12);
    }
}

/// TCP header not fully captured (≥ 16 bytes present): analysed, flags hidden.
#[test]
fn header_cut_by_the_snaplen() {
    let f = eth(
        0x0800,
        &ipv4_tcp(&Tcp {
            options: vec![1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
            ..Tcp::payload(10)
        }),
    );
    for cut in 16..32 {
        let s = tcp(decode(LT_ETH, &f[..34 + cut], f.len() as u32));
        assert_eq!(s.payload_len, 10, "cut {cut}");
        assert_eq!(s.error.unwrap().reason, Reason::Truncated, "cut {cut}");
        assert_eq!(s.options.timestamps, None);
    }
    let s = tcp(decode(LT_ETH, &f[..34 + 32], f.len() as u32));
    assert_eq!(s.error, None);
    assert_eq!(s.options.timestamps, Some((1, 2)));
    // Fewer than 16 TCP bytes captured: no tcp.stream.
    let e = malformed(decode(LT_ETH, &f[..34 + 15], f.len() as u32));
    assert_eq!((e.layer, e.reason), (Layer::Tcp, Reason::Truncated));
}

// ---------------------------------------------------------------------------------------------
// TCP options

fn opts(options: &[u8]) -> Segment {
    tcp(full(LT_RAW, &ipv4_tcp(&Tcp::with_options(options))))
}

#[test]
fn every_option_kind() {
    let s = opts(&[
        2, 4, 0x05, 0xb4, // MSS 1460
        1,    // NOP
        3, 3, 7, // WS 7
        4, 2, // SACK permitted
        8, 10, 0, 0, 0, 1, 0, 0, 0, 2, // TS
        5, 10, 0, 0, 0, 100, 0, 0, 0, 200, // SACK one block
        0xfe, 4, 0xab, 0xcd, // unknown (experimental), skipped by its length
        0,    // EOL
    ]);
    assert_eq!(s.options.mss, Some(1460));
    assert_eq!(s.options.window_scale, Some(7));
    assert!(s.options.sack_permitted);
    assert_eq!(s.options.timestamps, Some((1, 2)));
    assert_eq!(s.options.sack.as_slice(), &[(100, 200)]);
    assert_eq!(s.header_len, 56);
    assert_eq!(s.error, None);
}

#[test]
fn sack_blocks_in_order_at_most_four() {
    let mut o = vec![1, 1, 5, 34];
    for i in 0..4u32 {
        o.extend_from_slice(&(i * 100).to_be_bytes());
        o.extend_from_slice(&(i * 100 + 50).to_be_bytes());
    }
    let s = opts(&o);
    assert_eq!(
        s.options.sack.as_slice(),
        &[(0, 50), (100, 150), (200, 250), (300, 350)]
    );
    // Blocks of two SACK options are concatenated, in order.
    let mut o = Vec::new();
    for first in [1u32, 10] {
        o.extend_from_slice(&[5, 18]);
        for i in first..first + 2 {
            o.extend_from_slice(&i.to_be_bytes());
            o.extend_from_slice(&(i + 1).to_be_bytes());
        }
    }
    let s = opts(&o);
    assert_eq!(
        s.options.sack.as_slice(),
        &[(1, 2), (2, 3), (10, 11), (11, 12)]
    );
    // Length 11: one block, the extra byte ignored.
    let s = opts(&[5, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0]);
    assert_eq!(s.options.sack.as_slice(), &[(1, 2)]);
    assert_eq!(s.error, None);
}

#[test]
fn wrong_fixed_lengths_are_skipped() {
    // MSS length 5, WS length 2, TS length 8: skipped by their length, later options parsed.
    let s = opts(&[2, 5, 5, 0xb4, 0, 3, 2, 8, 8, 0, 0, 0, 1, 0, 0, 3, 3, 9]);
    assert_eq!(s.options.mss, None);
    assert_eq!(s.options.timestamps, None);
    assert_eq!(s.options.window_scale, Some(9));
    assert_eq!(s.error, None);
}

#[test]
fn option_parsing_stops_gracefully() {
    // Length < 2 ends the option loop; the segment is fine.
    for len in [0u8, 1] {
        let s = opts(&[2, len, 3, 3, 7]);
        assert_eq!(s.options.window_scale, None);
        assert_eq!(s.error, None);
    }
    // An option running past the header ends the loop; earlier options count.
    let s = opts(&[2, 4, 5, 0xb4, 3, 8, 1, 1]);
    assert_eq!(s.options.mss, Some(1460));
    assert_eq!(s.error, None);
    // EOL ends the options even if more follow.
    let s = opts(&[0, 2, 4, 5, 0xb4]);
    assert_eq!(s.options.mss, None);
    // A length byte past the end of the options.
    let s = opts(&[1, 1, 1, 3]);
    assert_eq!(s.error, None);
}

#[test]
fn options_tshark_throws_on() {
    // SACK without a complete block: tshark throws; earlier options are kept.
    for len in 2u8..10 {
        let mut o = vec![3, 3, 5, 5, len];
        o.resize(3 + usize::from(len), 0);
        let s = opts(&o);
        assert_eq!(s.options.window_scale, Some(5));
        let e = s.error.unwrap();
        assert_eq!(e.reason, Reason::BadOption { kind: 5, len });
        assert_eq!(e.offset, 20 + 23);
        assert_eq!(s.checksum_ok, Some(true));
    }
    // MPTCP with length 2, DSS shorter than its flags announce, MP_FAIL shorter than 12.
    let s = opts(&[30, 2]);
    assert_eq!(
        s.error.unwrap().reason,
        Reason::BadOption { kind: 30, len: 2 }
    );
    let s = opts(&[30, 8, 0x20, 0x05, 0, 0, 0, 0]);
    assert_eq!(
        s.error.unwrap().reason,
        Reason::BadOption { kind: 30, len: 8 }
    );
    let s = opts(&[30, 8, 0x20, 0x00, 0, 0, 0, 0]);
    assert_eq!(s.error, None);
    let s = opts(&[30, 8, 0x60, 0, 0, 0, 0, 0]);
    assert!(s.error.is_some());
    // Kind 21 with length 6.
    let s = opts(&[21, 6, 0, 0, 0, 0]);
    assert!(s.error.is_some());
    let s = opts(&[21, 7, 0, 0, 0, 0, 0]);
    assert_eq!(s.error, None);
}

#[test]
fn options_cut_by_the_snaplen() {
    let frame = |o: &[u8]| eth(0x0800, &ipv4_tcp(&Tcp::with_options(o)));
    // A correct MSS option cut after its length byte: tshark reads the value and throws.
    let f = frame(&[2, 4, 5, 0xb4]);
    let s = tcp(decode(LT_ETH, &f[..56], f.len() as u32));
    assert_eq!(s.error.unwrap().reason, Reason::Truncated);
    // A wrong-length MSS is not read: cut inside it, nothing is thrown.
    let f = frame(&[2, 8, 0, 0, 0, 0, 0, 0]);
    assert_eq!(tcp(decode(LT_ETH, &f[..58], f.len() as u32)).error, None);
    // "goes past end of options" needs all but the last two header bytes.
    let f = frame(&[3, 48, 0, 0, 0, 0, 0, 0]);
    assert!(tcp(decode(LT_ETH, &f[..59], f.len() as u32))
        .error
        .is_some());
    assert_eq!(tcp(decode(LT_ETH, &f[..60], f.len() as u32)).error, None);
    // Length < 2 only needs the kind and length bytes.
    let f = frame(&[3, 1, 0, 0, 0, 0, 0, 0]);
    assert_eq!(tcp(decode(LT_ETH, &f[..56], f.len() as u32)).error, None);
}

// ---------------------------------------------------------------------------------------------
// Checksums

#[test]
fn checksums() {
    let mut f = ipv4_tcp(&Tcp::payload(7)); // odd length
    assert_eq!(tcp(full(LT_RAW, &f)).checksum_ok, Some(true));
    f[40] ^= 0xff;
    assert_eq!(tcp(full(LT_RAW, &f)).checksum_ok, Some(false));
    assert_eq!(
        tcp(full(LT_RAW, &ipv6_tcp(&Tcp::payload(7)))).checksum_ok,
        Some(true)
    );
}

/// A checksum field of 0xFFFF where 0x0000 is due is bad for tshark (RFC 1624).
#[test]
fn checksum_ffff_instead_of_zero_is_bad() {
    // Find a payload whose correct checksum is 0x0000.
    let found = (0u16..=u16::MAX).find_map(|x| {
        let mut t = Tcp::payload(6);
        t.payload[..2].copy_from_slice(&x.to_be_bytes());
        let f = ipv4_tcp(&t);
        (f[36..38] == [0, 0]).then_some(f)
    });
    let mut f = found.unwrap();
    assert_eq!(tcp(full(LT_RAW, &f)).checksum_ok, Some(true));
    f[36..38].copy_from_slice(&[0xff, 0xff]);
    assert_eq!(tcp(full(LT_RAW, &f)).checksum_ok, Some(false));
}

/// Cross-check against frames built by etherparse (independent checksum code).
#[test]
fn etherparse_built_frames() {
    use etherparse::{PacketBuilder, TcpOptionElement};
    let payload = b"GET / HTTP/1.1\r\n\r\n";
    let builder = PacketBuilder::ethernet2([1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 12])
        .single_vlan(etherparse::VlanId::try_new(42).unwrap())
        .ipv4([192, 168, 1, 1], [192, 168, 1, 2], 33)
        .tcp(1234, 80, 0xdead_beef, 29200)
        .syn()
        .options(&[
            TcpOptionElement::MaximumSegmentSize(1400),
            TcpOptionElement::SelectiveAcknowledgementPermitted,
            TcpOptionElement::Timestamp(77, 0),
            TcpOptionElement::Noop,
            TcpOptionElement::WindowScale(9),
        ])
        .unwrap();
    let mut f = Vec::new();
    builder.write(&mut f, payload).unwrap();
    let s = tcp(full(LT_ETH, &f));
    assert_eq!(s.src, v4([192, 168, 1, 1]));
    assert_eq!(s.seq, 0xdead_beef);
    assert!(s.flags.syn() && !s.flags.ack());
    assert_eq!(s.ttl, 33);
    assert_eq!(s.options.mss, Some(1400));
    assert_eq!(s.options.window_scale, Some(9));
    assert!(s.options.sack_permitted);
    assert_eq!(s.options.timestamps, Some((77, 0)));
    assert_eq!(s.payload_len, payload.len() as u32);
    assert_eq!(s.checksum_ok, Some(true));

    let builder = PacketBuilder::ipv6([1; 16], [2; 16], 7)
        .tcp(443, 5555, 1, 100)
        .ack(99);
    let mut f = Vec::new();
    builder.write(&mut f, b"x").unwrap();
    let s = tcp(full(LT_RAW, &f));
    assert_eq!((s.ttl, s.ack, s.payload_len), (7, 99, 1));
    assert_eq!(s.checksum_ok, Some(true));
}

// ---------------------------------------------------------------------------------------------
// ICMP quotes

fn icmp4_frame(kind: u8, quote: &[u8]) -> Vec<u8> {
    let v = V4 {
        proto: 1,
        src: [192, 0, 2, 1],
        ..V4::default()
    };
    eth(0x0800, &ipv4_with(&v, &icmp(kind, 1, quote)))
}

/// The quoted packet travelled DST4 → SRC4.
fn quoted_v4() -> Vec<u8> {
    let t = Tcp {
        sport: 80,
        dport: 40000,
        ..Tcp::payload(100)
    };
    ipv4_with(
        &V4 {
            src: DST4,
            dst: SRC4,
            ..V4::default()
        },
        &t.bytes(&DST4, &SRC4),
    )
}

#[test]
fn icmp_quotes() {
    let inner = quoted_v4();
    for kind in [3u8, 4, 11, 12] {
        for n in [16usize, 20, 40] {
            match full(LT_ETH, &icmp4_frame(kind, &inner[..20 + n])) {
                Decoded::IcmpQuotedTcp(s) => {
                    assert_eq!((s.src, s.dst), (v4(DST4), v4(SRC4)));
                    assert_eq!((s.src_port, s.dst_port, s.seq), (80, 40000, 1000));
                    assert_eq!(s.checksum_ok, None);
                    assert_eq!(s.error, None);
                }
                other => panic!("type {kind}, {n} bytes: {other:?}"),
            }
        }
        // The classic 8-byte quote (and anything below 16 bytes) is not enough for tshark.
        for n in [8usize, 15] {
            assert_eq!(
                full(LT_ETH, &icmp4_frame(kind, &inner[..20 + n])),
                Decoded::NotTcp
            );
        }
    }
    // Redirects and echo replies are not dissected as quotes.
    assert_eq!(full(LT_ETH, &icmp4_frame(5, &inner)), Decoded::NotTcp);
    assert_eq!(full(LT_ETH, &icmp4_frame(0, &inner)), Decoded::NotTcp);
    // The quoted IP total length bounds the quote.
    let mut short = inner.clone();
    short[2..4].copy_from_slice(&35u16.to_be_bytes());
    assert_eq!(full(LT_ETH, &icmp4_frame(3, &short)), Decoded::NotTcp);
    // A quoted first fragment still counts; a later fragment does not.
    let mut mf = inner.clone();
    mf[6] = 0x20;
    assert!(matches!(
        full(LT_ETH, &icmp4_frame(3, &mf[..40])),
        Decoded::IcmpQuotedTcp(_)
    ));
    let mut later = inner;
    later[7] = 3;
    assert_eq!(full(LT_ETH, &icmp4_frame(3, &later)), Decoded::NotTcp);
}

#[test]
fn icmpv6_quotes() {
    let t = Tcp {
        sport: 80,
        dport: 40000,
        ..Tcp::payload(100)
    };
    let mut inner = ipv6_with(6, None, 64, &t.bytes(&SRC6, &DST6));
    inner[8..24].copy_from_slice(&DST6);
    inner[24..40].copy_from_slice(&SRC6);
    for kind in 1u8..=4 {
        let f = eth(
            0x86dd,
            &ipv6_with(58, None, 64, &icmp(kind, 0, &inner[..60])),
        );
        match full(LT_ETH, &f) {
            Decoded::IcmpQuotedTcp(s) => assert_eq!((s.src, s.src_port), (v6(DST6), 80)),
            other => panic!("{other:?}"),
        }
        let f = eth(
            0x86dd,
            &ipv6_with(58, None, 64, &icmp(kind, 0, &inner[..48])),
        );
        assert_eq!(full(LT_ETH, &f), Decoded::NotTcp);
    }
    let f = eth(0x86dd, &ipv6_with(58, None, 64, &icmp(128, 0, &inner)));
    assert_eq!(full(LT_ETH, &f), Decoded::NotTcp);
}

#[test]
fn error_display() {
    let e = malformed(decode(LT_ETH, &eth(0x0800, &[0x45, 0, 0]), 100));
    assert_eq!(
        e.to_string(),
        "IPv4 at byte 17: header cut short by the capture (snaplen)"
    );
    let e = malformed(full(LT_ETH, &eth(0x0800, &[0x45, 0, 0])));
    assert_eq!(e.reason, Reason::Overrun);
    let t = Tcp {
        doff: Some(3),
        ..Tcp::default()
    };
    let s = tcp(full(LT_RAW, &ipv4_tcp(&t)));
    assert_eq!(
        s.error.unwrap().to_string(),
        "TCP at byte 32: bogus TCP header length 12 (must be at least 20)"
    );
}
