//! Link layers: pcap LINKTYPE → network layer, following the tshark 4.0 dissectors.

use crate::buf::Buf;
use crate::ip::{ipv4, ipv6};
use crate::{Ctx, Decoded, Layer};

pub(crate) const LINKTYPE_NULL: u32 = 0;
pub(crate) const LINKTYPE_ETHERNET: u32 = 1;
/// DLT_RAW on most platforms; libpcap writes LINKTYPE_RAW (101) but old files carry 12 or 14.
pub(crate) const DLT_RAW_12: u32 = 12;
pub(crate) const DLT_RAW_14: u32 = 14;
pub(crate) const LINKTYPE_RAW: u32 = 101;
pub(crate) const LINKTYPE_LOOP: u32 = 108;
pub(crate) const LINKTYPE_LINUX_SLL: u32 = 113;
pub(crate) const LINKTYPE_IPV4: u32 = 228;
pub(crate) const LINKTYPE_IPV6: u32 = 229;
pub(crate) const LINKTYPE_LINUX_SLL2: u32 = 276;

const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_IPV6: u16 = 0x86dd;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ_8021AD: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;
const ETHERTYPE_PPPOE_SESSION: u16 = 0x8864;
const ETHERTYPE_MPLS: u16 = 0x8847;
const ETHERTYPE_MPLS_MULTICAST: u16 = 0x8848;
/// Type/length values up to this are 802.3 lengths.
const IEEE_802_3_MAX_LEN: u16 = 1500;

/// BSD address families Wireshark's null dissector knows.
const BSD_AF_INET: u32 = 2;
const BSD_AF_INET6_BSD: u32 = 24;
const BSD_AF_INET6_FREEBSD: u32 = 28;
const BSD_AF_INET6_DARWIN: u32 = 30;

/// Linux `ARPHRD_IPGRE`: the SLL protocol field is then a GRE protocol type.
const ARPHRD_IPGRE: u16 = 778;
/// Linux `ARPHRD_NETLINK`: netlink messages, never IP.
const ARPHRD_NETLINK: u16 = 824;
/// Linux SLL pseudo protocols: an Ethernet frame, an 802.2 LLC frame, PPP in HDLC framing.
const LINUX_SLL_P_ETHERNET: u16 = 0x0003;
const LINUX_SLL_P_802_2: u16 = 0x0004;
const LINUX_SLL_P_PPPHDLC: u16 = 0x0007;

pub(crate) fn dispatch(link_type: u32, buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    match link_type {
        LINKTYPE_ETHERNET => ethernet(buf, cx),
        LINKTYPE_LINUX_SLL => sll(buf, cx),
        LINKTYPE_LINUX_SLL2 => sll2(buf, cx),
        LINKTYPE_RAW | DLT_RAW_12 | DLT_RAW_14 => raw(buf, cx),
        LINKTYPE_IPV4 => ipv4(buf, cx, false),
        LINKTYPE_IPV6 => ipv6(buf, cx, false),
        LINKTYPE_NULL => null(buf, cx),
        LINKTYPE_LOOP => loop_(buf, cx),
        _ => Decoded::NotTcp,
    }
}

/// Hands the payload to the dissector registered for `ethertype`. The caller has counted its
/// own protocol layers (Wireshark shows e.g. `eth:ethertype:ip` or `null:ip`).
fn ethertype(ethertype: u16, buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    match ethertype {
        ETHERTYPE_IPV4 => ipv4(buf, cx, false),
        ETHERTYPE_IPV6 => ipv6(buf, cx, false),
        ETHERTYPE_VLAN | ETHERTYPE_QINQ_8021AD | ETHERTYPE_QINQ_OLD => vlan(buf, cx),
        ETHERTYPE_PPPOE_SESSION => pppoe_session(buf, cx),
        ETHERTYPE_MPLS | ETHERTYPE_MPLS_MULTICAST => mpls(buf, cx),
        _ => Decoded::NotTcp,
    }
}

macro_rules! try_dec {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return Decoded::Malformed(e),
        }
    };
}

/// Ethernet II, or 802.3 with an LLC/SNAP header (type/length ≤ 1500).
fn ethernet(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    try_dec!(buf.need(Layer::Link, 14));
    let Some(type_or_len) = buf.be16(12) else {
        return Decoded::NotTcp;
    };
    try_dec!(cx.push(Layer::Link, buf.offset()));
    type_or_len_dispatch(type_or_len, buf.skip(14), cx)
}

/// After an Ethernet or 802.1Q header: an Ethertype (counted as the `ethertype` layer) or an
/// 802.3 length followed by LLC.
fn type_or_len_dispatch(type_or_len: u16, payload: Buf<'_>, cx: &mut Ctx) -> Decoded {
    try_dec!(cx.push(Layer::Link, payload.offset()));
    if type_or_len <= IEEE_802_3_MAX_LEN {
        // The 802.3 length bounds the payload (an over-long one is ignored, as in Wireshark).
        llc(payload.limit(usize::from(type_or_len)), cx)
    } else {
        ethertype(type_or_len, payload, cx)
    }
}

/// 802.2 LLC: only SNAP with an Ethertype-carrying OUI can lead to IP.
fn llc(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    // DSAP 0xAA, SSAP 0xAA, control 0x03 (UI), OUI 00-00-00 (RFC 1042) or 00-00-F8 (Cisco).
    match buf.array::<8>(0) {
        Some([0xaa, 0xaa, 0x03, 0x00, 0x00, oui, t0, t1]) if oui == 0x00 || oui == 0xf8 => {
            ethertype(u16::from_be_bytes([t0, t1]), buf.skip(8), cx)
        }
        _ => Decoded::NotTcp,
    }
}

/// 802.1Q / 802.1ad tag: TCI then the inner type or length.
fn vlan(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    try_dec!(buf.need(Layer::Link, 4));
    let Some(inner) = buf.be16(2) else {
        return Decoded::NotTcp;
    };
    try_dec!(cx.push(Layer::Link, buf.offset()));
    type_or_len_dispatch(inner, buf.skip(4), cx)
}

/// PPPoE session stage: 6-byte header whose length field bounds the PPP frame.
fn pppoe_session(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    try_dec!(buf.need(Layer::Link, 6));
    let Some(len) = buf.be16(4) else {
        return Decoded::NotTcp;
    };
    try_dec!(cx.push(Layer::Link, buf.offset()));
    ppp(buf.skip(6).limit(usize::from(len)), cx)
}

/// PPP without HDLC framing: protocol field (compressed to one byte when its first byte is odd).
fn ppp(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    try_dec!(buf.need(Layer::Link, 1));
    let Some(first) = buf.u8(0) else {
        return Decoded::NotTcp;
    };
    let (proto, hdr) = if first & 1 == 1 {
        (u16::from(first), 1)
    } else {
        try_dec!(buf.need(Layer::Link, 2));
        match buf.be16(0) {
            Some(p) => (p, 2),
            None => return Decoded::NotTcp,
        }
    };
    try_dec!(cx.push(Layer::Link, buf.offset()));
    match proto {
        0x0021 => ipv4(buf.skip(hdr), cx, false),
        0x0057 => ipv6(buf.skip(hdr), cx, false),
        _ => Decoded::NotTcp,
    }
}

/// MPLS label stack; the payload after the bottom-of-stack label is guessed from its first
/// nibble, as Wireshark does for IPv4/IPv6.
fn mpls(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    try_dec!(cx.push(Layer::Link, buf.offset()));
    let mut pos = 0usize;
    loop {
        try_dec!(buf.need(Layer::Link, pos.saturating_add(4)));
        let Some(bos) = buf.u8(pos.saturating_add(2)) else {
            return Decoded::NotTcp;
        };
        pos = pos.saturating_add(4);
        if bos & 1 == 1 {
            break;
        }
    }
    let payload = buf.skip(pos);
    match payload.u8(0).map(|b| b >> 4) {
        Some(4) => ipv4(payload, cx, false),
        Some(6) => ipv6(payload, cx, false),
        _ => Decoded::NotTcp,
    }
}

/// Linux cooked capture v1: 16-byte header, protocol at offset 14, ARPHRD type at 2.
fn sll(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    try_dec!(buf.need(Layer::Link, 16));
    let (Some(hatype), Some(protocol)) = (buf.be16(2), buf.be16(14)) else {
        return Decoded::NotTcp;
    };
    try_dec!(cx.push(Layer::Link, buf.offset()));
    sll_payload(hatype, protocol, buf.skip(16), cx)
}

/// Linux cooked capture v2: 20-byte header, protocol at offset 0, ARPHRD type at 8.
fn sll2(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    try_dec!(buf.need(Layer::Link, 20));
    let (Some(protocol), Some(hatype)) = (buf.be16(0), buf.be16(8)) else {
        return Decoded::NotTcp;
    };
    try_dec!(cx.push(Layer::Link, buf.offset()));
    sll_payload(hatype, protocol, buf.skip(20), cx)
}

fn sll_payload(hatype: u16, protocol: u16, payload: Buf<'_>, cx: &mut Ctx) -> Decoded {
    // "yes, 1536 - that's how Linux does it": values up to 1536 are Linux pseudo protocols,
    // looked up before the ARPHRD type is considered.
    if protocol <= 1536 {
        return match protocol {
            LINUX_SLL_P_ETHERNET => ethernet(payload, cx),
            LINUX_SLL_P_802_2 => {
                try_dec!(cx.push(Layer::Link, payload.offset()));
                llc(payload, cx)
            }
            LINUX_SLL_P_PPPHDLC => ppp_hdlc(payload, cx),
            _ => Decoded::NotTcp,
        };
    }
    match hatype {
        // A GRE protocol type, dissected through the GRE table (no `ethertype` layer).
        ARPHRD_IPGRE => ethertype(protocol, payload, cx),
        ARPHRD_NETLINK => Decoded::NotTcp,
        _ => {
            try_dec!(cx.push(Layer::Link, payload.offset()));
            ethertype(protocol, payload, cx)
        }
    }
}

/// Raw IP chosen by the version nibble (LINKTYPE_RAW and DLT_RAW 12/14).
fn raw(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    try_dec!(cx.push(Layer::Link, buf.offset()));
    match buf.u8(0).map(|b| b >> 4) {
        Some(4) => ipv4(buf, cx, false),
        Some(6) => ipv6(buf, cx, false),
        Some(_) => Decoded::NotTcp,
        None => Decoded::Malformed(buf.err_at(Layer::Link, 1, 0)),
    }
}

/// BSD loopback (DLT_NULL): 4-byte address family in the *capturing host's* byte order.
///
/// Mirrors Wireshark's `dissect_null` as run on a little-endian host (tshark reads the header
/// with `memcpy` into a host-order integer): both byte orders of BSD AF values, the IRIX
/// 16-bit variant, Linux's old Ethertype-in-NULL, and PPP-in-HDLC (`FF 03`).
fn null(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    try_dec!(buf.need(Layer::Link, 2));
    try_dec!(cx.push(Layer::Link, buf.offset()));
    if buf.be16(0) == Some(0xff03) {
        return ppp_hdlc(buf, cx);
    }
    try_dec!(buf.need(Layer::Link, 4));
    let Some(mut v) = buf.le32(0) else {
        return Decoded::NotTcp;
    };
    if v & 0xffff_0000 != 0 {
        if v & 0xff00_0000 == 0 && v & 0x00ff_0000 < 0x0006_0000 {
            // IRIX / UNICOS/mp: AF in the upper 16 bits.
            v >>= 16;
        } else {
            v = v.swap_bytes();
        }
    } else if v & 0x0000_00ff == 0 && v & 0x0000_ff00 < 0x0000_0600 {
        // IRIX / UNICOS/mp header in the other byte order.
        v = u32::from(((v & 0xffff) as u16).swap_bytes());
    }
    let payload = buf.skip(4);
    if v > u32::from(IEEE_802_3_MAX_LEN) {
        // Linux DLT_NULL with an Ethertype (no extra `ethertype` layer in Wireshark).
        return ethertype((v & 0xffff) as u16, payload, cx);
    }
    bsd_af(v, payload, cx)
}

/// PPP in HDLC-like framing: `FF 03` address/control (optional: they may be compressed away),
/// then the PPP protocol field.
fn ppp_hdlc(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    if buf.be16(0) == Some(0xff03) {
        ppp(buf.skip(2), cx)
    } else {
        ppp(buf, cx)
    }
}

/// OpenBSD DLT_LOOP: like DLT_NULL but always in network byte order, AF values only.
fn loop_(buf: Buf<'_>, cx: &mut Ctx) -> Decoded {
    try_dec!(buf.need(Layer::Link, 4));
    let Some(af) = buf.be32(0) else {
        return Decoded::NotTcp;
    };
    try_dec!(cx.push(Layer::Link, buf.offset()));
    bsd_af(af, buf.skip(4), cx)
}

fn bsd_af(af: u32, payload: Buf<'_>, cx: &mut Ctx) -> Decoded {
    match af {
        BSD_AF_INET => ipv4(payload, cx, false),
        BSD_AF_INET6_BSD | BSD_AF_INET6_FREEBSD | BSD_AF_INET6_DARWIN => ipv6(payload, cx, false),
        _ => Decoded::NotTcp,
    }
}
