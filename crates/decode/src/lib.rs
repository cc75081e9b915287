//! Decoding: link layer → IPv4/IPv6 → TCP, into a compact [`Segment`].
//!
//! Decoding judges nothing: bad checksums, odd flag combinations and port 0 are evidence for
//! the analysis, so they are reported, not rejected.

use std::net::IpAddr;

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
    /// TCP checksum verdict, None when it cannot be checked (truncated payload).
    pub checksum_ok: Option<bool>,
}
