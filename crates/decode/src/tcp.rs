//! TCP header, options and checksum, with tshark 4.0.17's notion of where dissection stops.
//!
//! What tshark does with a TCP header, in order (each step verified with crafted captures):
//! 1. It reads ports, seq, ack, data offset + flags and window (bytes 0..16). If those are not
//!    all present — captured *and* within the IP-reported TCP length — it throws: no tcp.stream.
//! 2. It looks up / creates the conversation: the frame gets a tcp.stream.
//! 3. If the IP-reported TCP length is smaller than data offset × 4 ("Short segment"), it does
//!    not analyse the segment (no tcp.len, no state change) → [`Decoded::TcpUnanalysed`].
//! 4. Otherwise it runs the sequence analysis with seglen = TCP length − data offset × 4 —
//!    even for a data offset < 5 ("Bogus TCP header length"), which then returns at once.
//! 5. It dissects the rest of the header and the options, then prints the analysis flags.
//!    A data offset < 5, a header not fully captured, or an option whose dissector throws
//!    stops it before step 5 prints anything: the segment *was* analysed (later frames see its
//!    effect) but the frame shows no tcp.analysis.* → [`Segment::error`] is `Some`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::buf::Buf;
use crate::{Ctx, DecodeError, Decoded, Layer, Reason, SackBlocks, Segment, TcpFlags, TcpOptions};

/// Network-layer facts the TCP decoder needs.
pub(crate) struct Net {
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    ip_id: Option<u16>,
    /// One's-complement sum of the pseudo-header addresses and protocol number.
    pseudo: u64,
}

impl Net {
    pub(crate) fn v4(src: Ipv4Addr, dst: Ipv4Addr, ttl: u8, id: u16) -> Self {
        let pseudo = word_sum(&src.octets(), 0) + word_sum(&dst.octets(), 0) + 6;
        Net {
            src: IpAddr::V4(src),
            dst: IpAddr::V4(dst),
            ttl,
            ip_id: Some(id),
            pseudo,
        }
    }

    pub(crate) fn v6(src: Ipv6Addr, dst: Ipv6Addr, hop_limit: u8) -> Self {
        let pseudo = word_sum(&src.octets(), 0) + word_sum(&dst.octets(), 0) + 6;
        Net {
            src: IpAddr::V6(src),
            dst: IpAddr::V6(dst),
            ttl: hop_limit,
            ip_id: None,
            pseudo,
        }
    }
}

/// TCP option kinds.
const OPT_EOL: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_MSS: u8 = 2;
const OPT_WS: u8 = 3;
const OPT_SACK_PERM: u8 = 4;
const OPT_SACK: u8 = 5;
const OPT_TIMESTAMP: u8 = 8;
/// SNACK.
const OPT_21: u8 = 21;
const OPT_MPTCP: u8 = 30;

/// Decodes the TCP header at `buf` (whose reported length is the TCP length per the IP layer).
pub(crate) fn tcp(buf: Buf<'_>, net: &Net, cx: &mut Ctx, quoted: bool) -> Decoded {
    let fail = |e: DecodeError| {
        if quoted {
            Decoded::NotTcp
        } else {
            Decoded::Malformed(e)
        }
    };
    if let Err(e) = cx.push(Layer::Tcp, buf.offset()) {
        return fail(e);
    }
    let captured = buf.captured();
    let reported = buf.reported();
    if captured < 16 {
        return fail(buf.err_at(Layer::Tcp, 16, captured));
    }
    let (Some(src_port), Some(dst_port), Some(seq), Some(ack), Some(off_flags), Some(window)) = (
        buf.be16(0),
        buf.be16(2),
        buf.be32(4),
        buf.be32(8),
        buf.be16(12),
        buf.be16(14),
    ) else {
        return fail(buf.err_at(Layer::Tcp, 16, captured));
    };
    let header_len = usize::from(off_flags >> 12) * 4;
    let mut seg = Segment {
        src: net.src,
        dst: net.dst,
        src_port,
        dst_port,
        seq,
        ack,
        flags: TcpFlags(off_flags & 0x01ff),
        window,
        header_len: header_len as u16,
        payload_len: 0,
        captured_payload_len: 0,
        options: TcpOptions::default(),
        ttl: net.ttl,
        ip_id: net.ip_id,
        checksum_ok: None,
        error: None,
    };
    let at = |rel: usize| buf.offset().saturating_add(rel);

    if quoted {
        // Conversation lookup only; tshark neither analyses nor checksums a quoted header.
        seg.payload_len = len_u32(reported.saturating_sub(header_len));
        seg.captured_payload_len = len_u32(captured.saturating_sub(header_len));
        if header_len > 20 {
            seg.options = walk_options(&buf, header_len).0;
        }
        return Decoded::IcmpQuotedTcp(seg);
    }

    if reported < header_len {
        seg.error = Some(DecodeError::new(
            Layer::Tcp,
            at(12),
            Reason::ShortSegment {
                header_len: header_len as u8,
                tcp_len: reported as u8,
            },
        ));
        return Decoded::TcpUnanalysed(seg);
    }
    seg.payload_len = len_u32(reported - header_len);
    seg.captured_payload_len = len_u32(captured.saturating_sub(header_len));
    if header_len < 20 {
        // tshark returns before it looks at the checksum.
        seg.error = Some(DecodeError::new(
            Layer::Tcp,
            at(12),
            Reason::BadDataOffset(header_len as u8),
        ));
        return Decoded::Tcp(seg);
    }
    if captured >= reported {
        seg.checksum_ok = Some(checksum_ok(&buf, net, reported));
    }
    if captured < 20 {
        // Checksum / urgent pointer not captured.
        seg.error = Some(buf.err_at(Layer::Tcp, 20, captured));
        return Decoded::Tcp(seg);
    }
    let (options, error) = walk_options(&buf, header_len);
    seg.options = options;
    seg.error = error;
    Decoded::Tcp(seg)
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Walks the options in `[20, header_len)` as tshark 4.0.17's option loop does and returns the
/// options it records plus, if tshark would throw while doing so, the error.
///
/// Graceful stops (tshark adds an expert item and ends the option loop, the segment is fully
/// dissected): an option length < 2, a length byte or option running past the header. EOL ends
/// the loop (tshark then reads the rest of the header to check that the padding is zero). A
/// fixed-size option with the wrong length is skipped by its length and not recorded (MSS 4,
/// WS 3, TS 10). SACK records ⌊(len−2)/8⌋ blocks, in order, across SACK options (at most 4).
///
/// Throws: a byte tshark reads was not captured — the option loop reads kind and length, each
/// option dissector then reads the bytes given by [`bytes_read`]; or an option dissector reads
/// past its own option (malformed option, also in [`bytes_read`]). Options recorded before the
/// throw are kept: tshark has processed them (e.g. a window scale sets the flow's shift).
///
/// Known difference: a SACK option without a complete block that *follows* another SACK
/// option in the same header does not always throw in tshark 4.0.17 (it depends on state
/// kept outside the frame); it is always treated as throwing here.
fn walk_options(buf: &Buf<'_>, header_len: usize) -> (TcpOptions, Option<DecodeError>) {
    let mut o = TcpOptions::default();
    let cap = buf.captured();
    let end = header_len;
    let at = |rel: usize| buf.offset().saturating_add(rel);
    let not_captured = |rel: usize| Some(DecodeError::new(Layer::Tcp, at(rel), Reason::Truncated));
    let mut pos = 20usize;
    while pos < end {
        let Some(kind) = buf.u8(pos) else {
            return (o, not_captured(pos));
        };
        if kind == OPT_EOL {
            if end > cap {
                return (o, not_captured(cap));
            }
            break;
        }
        if kind == OPT_NOP {
            pos += 1;
            continue;
        }
        if pos + 1 >= end {
            // "length byte past end of options"
            break;
        }
        let Some(len) = buf.u8(pos + 1) else {
            return (o, not_captured(pos + 1));
        };
        let len = usize::from(len);
        if len < 2 {
            // "with too-short option length"
            break;
        }
        if pos + len > end {
            // "option length says option goes past end of options". The expert item spans
            // [pos, end - 2), so tshark throws if those bytes were not all captured.
            if end - 2 > cap {
                return (o, not_captured(cap));
            }
            break;
        }
        let rest = buf.data().get(pos..).unwrap_or(&[]);
        // The captured part of this option.
        let opt = rest.get(..len).unwrap_or(rest);
        let read = bytes_read(kind, opt, len);
        if read > opt.len() {
            let err = if read > len {
                let reason = Reason::BadOption {
                    kind,
                    len: len as u8,
                };
                DecodeError::new(Layer::Tcp, at(pos), reason)
            } else {
                if kind == OPT_SACK {
                    // tshark has shown (and used) the blocks captured before the cut.
                    push_sack_blocks(&mut o.sack, opt);
                }
                DecodeError::new(Layer::Tcp, at(pos + opt.len()), Reason::Truncated)
            };
            return (o, Some(err));
        }
        match kind {
            OPT_MSS if len == 4 => o.mss = be16(opt, 2),
            OPT_WS if len == 3 => o.window_scale = opt.get(2).copied(),
            OPT_SACK_PERM => o.sack_permitted = true,
            OPT_SACK => push_sack_blocks(&mut o.sack, opt),
            OPT_TIMESTAMP if len == 10 => {
                if let (Some(val), Some(ecr)) = (be32(opt, 2), be32(opt, 6)) {
                    o.timestamps = Some((val, ecr));
                }
            }
            _ => {}
        }
        pos += len;
    }
    (o, None)
}

/// How many bytes of an option of kind `kind` and length `len` tshark 4.0.17's dissector reads
/// (kind and length included); more than `len` means the dissector reads past the option and
/// throws even when everything was captured. `opt` is the captured part of the option (some
/// dissectors read according to its content).
///
/// Measured with tshark 4.0.17 for every kind and lengths 3..20, cutting the capture inside the
/// option: dissectors of known fixed-size options read nothing when the length is wrong (only
/// an expert "option length should be N"); unknown kinds are added as bytes (all read).
/// Riverbed probe (76) is content-dependent in tshark; it is treated as read in full (true for
/// lengths ≤ 14, approximate above).
fn bytes_read(kind: u8, opt: &[u8], len: usize) -> usize {
    match kind {
        // MSS, SCPS capabilities, user timeout.
        OPT_MSS | 20 | 28 if len == 4 => len,
        OPT_WS if len == 3 => len,
        // Echo, echo reply, CC, CC.NEW, CC.ECHO.
        6 | 7 | 11 | 12 | 13 if len == 6 => len,
        OPT_TIMESTAMP if len == 10 => len,
        // TCP MD5 signature.
        19 if len == 18 => len,
        // Riverbed transparency.
        78 if len == 16 => len,
        // AccECN order 0 / order 1.
        172 | 174 if matches!(len, 5 | 8 | 11) => len,
        // Quick-Start response reads rate and TTL only.
        27 if len == 8 => 4,
        // SNACK: with the expected length 6 the 4.0.17 dissector reads past the option.
        OPT_21 if len == 6 => len + 1,
        // TCP-AO, experimental options (magic number).
        29 | 253 | 254 if len >= 4 => len,
        // The same kinds with another length, SACK permitted, record boundaries, corruption
        // experienced: nothing beyond kind and length.
        OPT_MSS | 20 | 28 | OPT_WS | 6 | 7 | 11 | 12 | 13 | OPT_TIMESTAMP | 19 | 78 | 172 | 174
        | 27 | OPT_21 | 29 | 253 | 254 | OPT_SACK_PERM | 22 | 23 => 2,
        OPT_SACK => {
            // tshark throws on a SACK option without a complete block (measured for every
            // length 2..9). A trailing partial block: the left edge is read if 4 bytes remain.
            let blocks = (len - 2) / 8;
            if blocks == 0 {
                len + 1
            } else {
                2 + 8 * blocks + if (len - 2) % 8 >= 4 { 4 } else { 0 }
            }
        }
        OPT_MPTCP => mptcp_read(opt, len),
        _ => len,
    }
}

/// Bytes tshark 4.0.17's MPTCP dissector reads (see [`bytes_read`]), measured for every
/// subtype and lengths 3..40 (subtype byte low nibble and following bytes 0x00 and 0xff):
/// MP_CAPABLE and MP_JOIN read their defined lengths in full, 4 / 3 bytes otherwise; DSS reads
/// the fields its flags announce (plus the checksum when 4 spare bytes follow a mapping);
/// ADD_ADDR reads its defined lengths; REMOVE_ADDR everything; MP_FAIL / MP_FASTCLOSE 12.
fn mptcp_read(opt: &[u8], len: usize) -> usize {
    let Some(subtype) = opt.get(2).map(|b| b >> 4) else {
        // Length 2 reads past the option; otherwise the subtype byte was not captured.
        return if len < 3 { len + 1 } else { 3 };
    };
    match subtype {
        // MP_CAPABLE
        0 if matches!(len, 12 | 20 | 22 | 24) => len,
        0 => 4,
        // MP_JOIN
        1 if matches!(len, 12 | 16 | 24) => len,
        1 => 3,
        // DSS
        2 => {
            let Some(&f) = opt.get(3) else {
                return 4;
            };
            let mut need = 4;
            if f & 0x01 != 0 {
                need += if f & 0x02 != 0 { 8 } else { 4 };
            }
            if f & 0x04 != 0 {
                need += if f & 0x08 != 0 { 8 } else { 4 } + 4 + 2;
                if len >= need + 4 {
                    need += 2;
                }
            }
            need
        }
        // ADD_ADDR
        3 if matches!(len, 8 | 10 | 16 | 18 | 20 | 22 | 28 | 30) => len,
        3 => 4,
        // REMOVE_ADDR
        4 => len,
        // MP_PRIO
        5 if len == 4 => 4,
        // MP_FAIL, MP_FASTCLOSE
        6 | 7 => 12,
        // MP_TCPRST
        8 => 4,
        _ => 3,
    }
}

/// Appends the complete blocks of a SACK option (`opt` with kind and length) to `s`, at most
/// four in all.
fn push_sack_blocks(s: &mut SackBlocks, opt: &[u8]) {
    for block in opt.get(2..).unwrap_or(&[]).chunks_exact(8) {
        if let (Some(l), Some(r), Some(slot)) = (
            be32(block, 0),
            be32(block, 4),
            s.blocks.get_mut(usize::from(s.len)),
        ) {
            *slot = (l, r);
            s.len += 1;
        }
    }
}

fn be16(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(i..i + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

/// Adds `data` as big-endian 16-bit words (odd trailing byte padded with zero) to `acc`.
fn word_sum(data: &[u8], acc: u64) -> u64 {
    let mut chunks = data.chunks_exact(2);
    let mut sum = acc;
    for c in &mut chunks {
        if let [a, b] = c {
            sum += u64::from(u16::from_be_bytes([*a, *b]));
        }
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    sum
}

/// Verifies the TCP checksum over the pseudo-header and the `len` captured TCP bytes, as tshark
/// does with `tcp.check_checksum` on: the one's-complement sum must be zero, and a checksum
/// field of 0xFFFF where 0x0000 was due is bad ("see RFC 1624").
fn checksum_ok(buf: &Buf<'_>, net: &Net, len: usize) -> bool {
    let bytes = buf.data().get(..len).unwrap_or(buf.data());
    let len64 = len as u64;
    let mut sum = word_sum(bytes, net.pseudo + (len64 >> 16) + (len64 & 0xffff));
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum == 0xffff && buf.be16(16) != Some(0xffff)
}
