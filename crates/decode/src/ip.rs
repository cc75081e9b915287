//! IPv4, IPv6 (with extension headers) and the ICMP/ICMPv6 errors that quote a TCP header.
//!
//! Length rules (tshark 4.0.17, verified with crafted captures):
//! * IPv4 total length 0 → the IP layer's reported length is used (TSO, `ip.tso_support`);
//!   total length < IHL×4 → "Bogus IP length", nothing above IP is dissected; a total length
//!   larger than what the frame carries is ignored (the on-wire length is kept); a smaller one
//!   trims the layer (Ethernet padding and trailers drop out).
//! * IPv6 payload length 0 → only a Hop-by-Hop Jumbo Payload option > 65535 rescues it,
//!   otherwise the frame is malformed (no TSO rule for IPv6 in 4.0); larger than the frame →
//!   ignored; smaller → trims.
//! * IPv4 version 6 is handed to the IPv6 dissector ("Bogus IPv4 version" but decoded).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::buf::Buf;
use crate::tcp::{tcp, Net};
use crate::{Ctx, DecodeError, Decoded, Layer, Reason};

const IPPROTO_HOPOPTS: u8 = 0;
const IPPROTO_ICMP: u8 = 1;
const IPPROTO_TCP: u8 = 6;
const IPPROTO_ROUTING: u8 = 43;
const IPPROTO_FRAGMENT: u8 = 44;
const IPPROTO_AH: u8 = 51;
const IPPROTO_ICMPV6: u8 = 58;
const IPPROTO_DSTOPTS: u8 = 60;

macro_rules! try_dec {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Decoded::Malformed(e),
        }
    };
}

/// IPv4. `quoted`: this header is quoted inside an ICMP error.
pub(crate) fn ipv4(buf: Buf<'_>, cx: &mut Ctx, quoted: bool) -> Decoded {
    try_dec!(cx.push(Layer::Ipv4, buf.offset()));
    try_dec!(buf.need(Layer::Ipv4, 1));
    let b0 = buf.u8(0).unwrap_or(0);
    match b0 >> 4 {
        4 => {}
        6 => return ipv6(buf, cx, quoted),
        v => return malformed(&buf, Layer::Ipv4, 0, Reason::BadVersion(v)),
    }
    let hlen = usize::from(b0 & 0x0f) * 4;
    if hlen < 20 {
        return malformed(&buf, Layer::Ipv4, 0, Reason::BadHeaderLength(b0 & 0x0f));
    }
    try_dec!(buf.need(Layer::Ipv4, 4));
    let raw_total = buf.be16(2).unwrap_or(0);
    let total = if raw_total == 0 {
        // TCP segmentation offload: Wireshark uses the reported length of the IP layer.
        buf.reported()
    } else {
        usize::from(raw_total)
    };
    if total < hlen {
        return malformed(&buf, Layer::Ipv4, 2, Reason::BadTotalLength(raw_total));
    }
    try_dec!(buf.need(Layer::Ipv4, hlen));
    let ip = buf.limit(total);
    let (Some(id), Some(frag), Some(ttl), Some(proto), Some(src), Some(dst)) = (
        buf.be16(4),
        buf.be16(6),
        buf.u8(8),
        buf.u8(9),
        buf.array::<4>(12),
        buf.array::<4>(16),
    ) else {
        return malformed(&buf, Layer::Ipv4, 0, Reason::Truncated);
    };
    let more_fragments = frag & 0x2000 != 0;
    let frag_offset = frag & 0x1fff;
    if quoted {
        // A quoted first fragment is still dissected (nothing to reassemble in an error).
        if frag_offset != 0 {
            return Decoded::NotTcp;
        }
    } else if more_fragments || frag_offset != 0 {
        return Decoded::Fragment;
    }
    match proto {
        IPPROTO_TCP => {
            let net = Net::v4(Ipv4Addr::from(src), Ipv4Addr::from(dst), ttl, id);
            tcp(ip.skip(hlen), &net, cx, quoted)
        }
        IPPROTO_ICMP if !quoted => icmpv4(ip.skip(hlen), cx),
        _ => Decoded::NotTcp,
    }
}

/// IPv6 and its extension headers.
pub(crate) fn ipv6(buf: Buf<'_>, cx: &mut Ctx, quoted: bool) -> Decoded {
    try_dec!(cx.push(Layer::Ipv6, buf.offset()));
    try_dec!(buf.need(Layer::Ipv6, 40));
    let version = buf.u8(0).unwrap_or(0) >> 4;
    if version != 6 {
        return malformed(&buf, Layer::Ipv6, 0, Reason::BadVersion(version));
    }
    let (Some(plen), Some(first_next), Some(hop_limit), Some(src), Some(dst)) = (
        buf.be16(4),
        buf.u8(6),
        buf.u8(7),
        buf.array::<16>(8),
        buf.array::<16>(24),
    ) else {
        return malformed(&buf, Layer::Ipv6, 0, Reason::Truncated);
    };
    let body = buf.skip(40);
    let plen = if plen != 0 {
        usize::from(plen)
    } else {
        match (first_next == IPPROTO_HOPOPTS)
            .then(|| jumbo_length(&body))
            .flatten()
        {
            // RFC 2675: a Jumbo Payload length ≤ 65535 is invalid; tshark then reports the
            // option as missing.
            Some(j) if j > 65535 => usize::try_from(j).unwrap_or(usize::MAX),
            _ => return malformed(&buf, Layer::Ipv6, 4, Reason::ZeroPayloadLength),
        }
    };
    let body = body.limit(plen);
    let net = Net::v6(Ipv6Addr::from(src), Ipv6Addr::from(dst), hop_limit);

    let mut next = first_next;
    let mut pos = 0usize;
    loop {
        match next {
            IPPROTO_TCP => return tcp(body.skip(pos), &net, cx, quoted),
            IPPROTO_ICMPV6 if !quoted => return icmpv6(body.skip(pos), cx),
            IPPROTO_HOPOPTS | IPPROTO_ROUTING | IPPROTO_DSTOPTS | IPPROTO_AH => {
                try_dec!(cx.push(Layer::Ipv6, body.offset().saturating_add(pos)));
                try_dec!(body.need(Layer::Ipv6, pos.saturating_add(2)));
                let (Some(n), Some(l)) = (body.u8(pos), body.u8(pos.saturating_add(1))) else {
                    return malformed(&body, Layer::Ipv6, pos, Reason::Truncated);
                };
                let len = if next == IPPROTO_AH {
                    (usize::from(l) + 2) * 4
                } else {
                    (usize::from(l) + 1) * 8
                };
                try_dec!(body.need(Layer::Ipv6, pos.saturating_add(len)));
                next = n;
                pos = pos.saturating_add(len);
            }
            IPPROTO_FRAGMENT => {
                try_dec!(cx.push(Layer::Ipv6, body.offset().saturating_add(pos)));
                try_dec!(body.need(Layer::Ipv6, pos.saturating_add(8)));
                let (Some(n), Some(fo)) = (body.u8(pos), body.be16(pos.saturating_add(2))) else {
                    return malformed(&body, Layer::Ipv6, pos, Reason::Truncated);
                };
                if fo & 0xfff9 != 0 {
                    // Offset ≠ 0 or M set. An atomic fragment (both clear) is dissected on.
                    // In an ICMPv6 quote tshark (defragmentation on) dissects no first fragment.
                    return if quoted {
                        Decoded::NotTcp
                    } else {
                        Decoded::Fragment
                    };
                }
                next = n;
                pos = pos.saturating_add(8);
            }
            // 59 No Next Header, ESP, Mobility, unknown: nothing TCP above.
            _ => return Decoded::NotTcp,
        }
    }
}

/// Value of a Jumbo Payload option (type 0xC2, length 4) in a Hop-by-Hop header at `body[0..]`.
fn jumbo_length(body: &Buf<'_>) -> Option<u32> {
    let hbh_len = (usize::from(body.u8(1)?) + 1) * 8;
    let mut p = 2usize;
    while p < hbh_len {
        let t = body.u8(p)?;
        if t == 0 {
            p += 1;
            continue;
        }
        let l = usize::from(body.u8(p + 1)?);
        if t == 0xc2 && l == 4 {
            return body.be32(p + 2);
        }
        p += 2 + l;
    }
    None
}

/// ICMP: the error types whose quote tshark dissects as IP + TCP (a Redirect's quote is not).
fn icmpv4(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    if cx.push(Layer::Icmp, buf.offset()).is_err() {
        return Decoded::NotTcp;
    }
    match buf.u8(0) {
        // Destination unreachable, source quench, time exceeded, parameter problem.
        Some(3 | 4 | 11 | 12) => quoted(ipv4(buf.skip(8), cx, true)),
        _ => Decoded::NotTcp,
    }
}

/// ICMPv6 error messages (types 1–4) quote the offending packet after an 8-byte header.
fn icmpv6(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    if cx.push(Layer::Icmp, buf.offset()).is_err() {
        return Decoded::NotTcp;
    }
    match buf.u8(0) {
        Some(1..=4) => quoted(ipv6(buf.skip(8), cx, true)),
        _ => Decoded::NotTcp,
    }
}

/// Inside an error quote only a TCP header counts; any failure is just "not TCP".
fn quoted(d: Decoded) -> Decoded {
    match d {
        Decoded::IcmpQuotedTcp(s) => Decoded::IcmpQuotedTcp(s),
        _ => Decoded::NotTcp,
    }
}

fn malformed(buf: &Buf<'_>, layer: Layer, at: usize, reason: Reason) -> Decoded {
    Decoded::Malformed(DecodeError::new(
        layer,
        buf.offset().saturating_add(at),
        reason,
    ))
}
