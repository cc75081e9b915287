//! Decoding: link layer → IPv4/IPv6 → TCP, into a compact [`Segment`].
//!
//! Decoding judges nothing: bad checksums, odd flag combinations and port 0 are evidence for
//! the analysis, so they are reported, not rejected.
//!
//! The decoder reproduces tshark 4.0.17's view of a frame, which is what the analysis must
//! match: which frames get a `tcp.stream`, which are analysed, and `tcp.len`. The rules, all
//! checked against tshark 4.0.17 with crafted captures, are documented on [`decode`], in
//! `ip.rs` (length rules) and `tcp.rs` (where TCP dissection stops).
//!
//! Everything is hand-decoded over bounds-checked slices rather than with `etherparse`:
//! Wireshark's results hinge on two lengths per layer (captured vs reported, see `buf.rs`),
//! on TSO/jumbo substitutions, on PPPoE/802.3 length trimming and on exactly which malformed
//! option makes its dissector throw; etherparse's (lax) slicing reports one length and stops
//! at the first inconsistency, so it cannot express these rules. The hot path allocates
//! nothing and `Segment` stays `Copy`.

use std::fmt;
use std::net::IpAddr;

mod buf;
mod ip;
mod link;
mod tcp;

/// TCP header flags (the low 9 bits of the flags field: NS CWR ECE URG ACK PSH RST SYN FIN).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpFlags(pub u16);

impl TcpFlags {
    pub const FIN: u16 = 0x001;
    pub const SYN: u16 = 0x002;
    pub const RST: u16 = 0x004;
    pub const PSH: u16 = 0x008;
    pub const ACK: u16 = 0x010;
    pub const URG: u16 = 0x020;
    pub const ECE: u16 = 0x040;
    pub const CWR: u16 = 0x080;
    pub const NS: u16 = 0x100;

    pub fn has(self, bit: u16) -> bool {
        self.0 & bit != 0
    }
    pub fn fin(self) -> bool {
        self.has(Self::FIN)
    }
    pub fn syn(self) -> bool {
        self.has(Self::SYN)
    }
    pub fn rst(self) -> bool {
        self.has(Self::RST)
    }
    pub fn psh(self) -> bool {
        self.has(Self::PSH)
    }
    pub fn ack(self) -> bool {
        self.has(Self::ACK)
    }
}

/// Up to four SACK blocks (left edge, right edge), raw sequence numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SackBlocks {
    pub blocks: [(u32, u32); 4],
    pub len: u8,
}

impl SackBlocks {
    pub fn as_slice(&self) -> &[(u32, u32)] {
        &self.blocks[..usize::from(self.len.min(4))]
    }
}

/// The TCP options tcpsleuth uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpOptions {
    pub mss: Option<u16>,
    /// Shift count as sent (not clamped).
    pub window_scale: Option<u8>,
    pub sack_permitted: bool,
    pub sack: SackBlocks,
    /// (TSval, TSecr)
    pub timestamps: Option<(u32, u32)>,
}

/// One decoded TCP segment. `Copy` and small: the analysis keeps none of the frame's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    /// Raw 16-bit header window, unscaled.
    pub window: u16,
    /// TCP header length in bytes (data offset × 4).
    pub header_len: u16,
    /// Payload length on the wire: the TCP length from the IP header minus the TCP header,
    /// as Wireshark computes it (ignores Ethernet padding and snaplen truncation).
    pub payload_len: u32,
    /// Payload bytes actually present in the capture.
    pub captured_payload_len: u32,
    pub options: TcpOptions,
    pub ttl: u8,
    /// IPv4 identification; None for IPv6.
    pub ip_id: Option<u16>,
    /// TCP checksum verdict (as tshark with `tcp.check_checksum` on), None when it cannot be
    /// checked: segment not fully captured, or a header quoted in an ICMP error.
    pub checksum_ok: Option<bool>,
    /// `Some` when tshark 4.0.17 stops dissecting this TCP header *after* its sequence analysis
    /// ran: data offset < 5, header/options not fully captured, or an option whose dissector
    /// throws. Such a segment must still be analysed (it updates the connection state), but
    /// tshark shows none of its `tcp.analysis.*` flags/values for this frame.
    /// In [`Decoded::TcpUnanalysed`] it holds the reason the segment is not analysed.
    pub error: Option<DecodeError>,
}

/// What one captured frame is, as far as TCP analysis is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    /// A TCP segment to analyse (see [`Segment::error`] for frames whose flags tshark hides).
    Tcp(Segment),
    /// A TCP header tshark gives a `tcp.stream` (conversation lookup/creation, including the
    /// SYN port-reuse check) but does not analyse: the TCP length reported by the IP layer is
    /// smaller than the header length ("Short segment"). `payload_len` is 0, options are not
    /// parsed; `error` says why.
    TcpUnanalysed(Segment),
    /// A TCP header quoted inside an ICMP/ICMPv6 error message. Wireshark creates/looks up the TCP
    /// conversation for it (it consumes a tcp.stream index) but does not analyse it.
    /// tshark does so when at least 16 bytes of the quoted TCP header are present (ports, seq,
    /// ack, offset/flags, window), within the quoted IP length. Addresses and ports are the
    /// quoted packet's (i.e. usually reversed relative to the ICMP).
    IcmpQuotedTcp(Segment),
    /// An IPv4 fragment (MF set or offset ≠ 0) or an IPv6 Fragment header: counted, not reassembled.
    /// (IPv6 atomic fragments — offset 0, M clear — are decoded through, as tshark does.)
    /// Known difference: tshark (`ip.defragment`/`ipv6.defragment` on by default) reassembles
    /// and gives the *completing* fragment a tcp.stream and a full analysis.
    Fragment,
    /// Anything that is not TCP (ARP, UDP, ICMP without a full TCP quote, unknown link type...).
    NotTcp,
    /// TCP (or its IP layer) that cannot be decoded; says where and why. tshark gives such a
    /// frame no `tcp.stream`.
    Malformed(DecodeError),
}

/// The protocol layer a [`DecodeError`] refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layer {
    /// Ethernet, 802.1Q, PPPoE, MPLS, SLL, NULL/LOOP, raw IP framing.
    Link,
    Ipv4,
    Ipv6,
    Icmp,
    Tcp,
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Layer::Link => "link layer",
            Layer::Ipv4 => "IPv4",
            Layer::Ipv6 => "IPv6",
            Layer::Icmp => "ICMP",
            Layer::Tcp => "TCP",
        })
    }
}

/// Why a layer could not be (fully) decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Reason {
    /// The header continues past the captured bytes (snaplen).
    #[error("header cut short by the capture (snaplen)")]
    Truncated,
    /// The header runs past the length the enclosing layer gives it.
    #[error("header runs past the length given by the enclosing layer")]
    Overrun,
    #[error("bogus IP version {0}")]
    BadVersion(u8),
    /// IPv4 IHL (in 32-bit words) below 5.
    #[error("bogus IPv4 header length ({0} words, must be at least 5)")]
    BadHeaderLength(u8),
    /// IPv4 total length (non-zero) below the header length.
    #[error("bogus IPv4 total length {0}")]
    BadTotalLength(u16),
    /// IPv6 payload length 0 without a valid Jumbo Payload option.
    #[error("IPv6 payload length is 0 and there is no jumbo payload option")]
    ZeroPayloadLength,
    /// More protocol layers than tshark's limit (500, counting the frame): a huge extension
    /// header or tag chain.
    #[error("more than {MAX_LAYERS} protocol layers")]
    TooDeep,
    /// TCP data offset below 5; the value is the header length in bytes.
    #[error("bogus TCP header length {0} (must be at least 20)")]
    BadDataOffset(u8),
    /// The TCP length from the IP layer is smaller than the TCP header length.
    #[error("short segment: TCP length {tcp_len} is smaller than the header length {header_len}")]
    ShortSegment { header_len: u8, tcp_len: u8 },
    /// A TCP option tshark's dissector throws on.
    #[error("malformed TCP option kind {kind} length {len}")]
    BadOption { kind: u8, len: u8 },
}

/// Where and why decoding stopped. `offset` is the byte offset within the frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[error("{layer} at byte {offset}: {reason}")]
pub struct DecodeError {
    pub layer: Layer,
    pub offset: u32,
    pub reason: Reason,
}

impl DecodeError {
    pub(crate) fn new(layer: Layer, offset: usize, reason: Reason) -> Self {
        DecodeError {
            layer,
            offset: u32::try_from(offset).unwrap_or(u32::MAX),
            reason,
        }
    }
}

/// tshark's protocol-layer limit (`gui_max_tree_depth`, 500): a layer beyond it is not dissected.
pub const MAX_LAYERS: u32 = 500;

/// Per-frame decoding context: counts protocol layers as tshark's `frame.protocols` does
/// (plus the `frame` layer itself).
pub(crate) struct Ctx {
    layers: u32,
}

impl Ctx {
    pub(crate) fn push(&mut self, layer: Layer, offset: usize) -> Result<(), DecodeError> {
        self.layers += 1;
        if self.layers > MAX_LAYERS {
            Err(DecodeError::new(layer, offset, Reason::TooDeep))
        } else {
            Ok(())
        }
    }
}

/// Decodes one captured frame. `link_type` is the pcap LINKTYPE value; `data` the captured bytes;
/// `original_len` the on-wire length (needed for the TSO case below).
///
/// Link types: 1 Ethernet (802.1Q/802.1ad/0x9100 tags, PPPoE session, MPLS, 802.3 + LLC/SNAP),
/// 113 Linux SLL, 276 Linux SLL2, 101/12/14 raw IP by version nibble, 228 IPv4, 229 IPv6,
/// 0 BSD NULL (both byte orders, as tshark on a little-endian host), 108 LOOP. Others: NotTcp.
///
/// Lengths follow tshark 4.0.17: `payload_len` is the TCP length given by the IP layer minus
/// the header length. The IP layer's length is the IPv4 total length / IPv6 payload length when
/// that is smaller than what the frame carries on the wire (`max(original_len, data.len())`
/// minus the link headers), else the on-wire length; an IPv4 total length of 0 means "use the
/// on-wire length" (TSO). Captured length and Ethernet padding never enter it.
pub fn decode(link_type: u32, data: &[u8], original_len: u32) -> Decoded {
    let mut cx = Ctx { layers: 1 };
    link::dispatch(link_type, buf::Buf::frame(data, original_len), &mut cx)
}
