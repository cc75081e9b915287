//! pcapng block constants, option walking, interfaces and timestamp conversion.

use std::ops::Range;

use crate::LinkType;

/// Section header block type: the same bytes in both byte orders.
pub(crate) const SHB_TYPE: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];

pub(crate) const SHB: u32 = 0x0a0d_0d0a;
pub(crate) const IDB: u32 = 1;
/// Obsolete Packet Block.
pub(crate) const OPB: u32 = 2;
pub(crate) const SPB: u32 = 3;
pub(crate) const EPB: u32 = 6;

pub(crate) const OPT_END: u16 = 0;
pub(crate) const OPT_COMMENT: u16 = 1;
pub(crate) const IF_NAME: u16 = 2;
pub(crate) const IF_DESCRIPTION: u16 = 3;
pub(crate) const IF_TSRESOL: u16 = 9;
pub(crate) const IF_TSOFFSET: u16 = 14;

/// Byte order of a pcap file or pcapng section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

impl Endian {
    /// The u32 at `at` in `b`, or 0 if `b` is too short (callers check lengths first).
    pub(crate) fn u32(self, b: &[u8], at: usize) -> u32 {
        let bytes: [u8; 4] = b
            .get(at..at.saturating_add(4))
            .and_then(|s| s.try_into().ok())
            .unwrap_or([0; 4]);
        match self {
            Endian::Little => u32::from_le_bytes(bytes),
            Endian::Big => u32::from_be_bytes(bytes),
        }
    }

    /// The u16 at `at` in `b`, or 0 if `b` is too short.
    pub(crate) fn u16(self, b: &[u8], at: usize) -> u16 {
        let bytes: [u8; 2] = b
            .get(at..at.saturating_add(2))
            .and_then(|s| s.try_into().ok())
            .unwrap_or([0; 2]);
        match self {
            Endian::Little => u16::from_le_bytes(bytes),
            Endian::Big => u16::from_be_bytes(bytes),
        }
    }

    fn u64(self, b: &[u8]) -> Option<u64> {
        let bytes: [u8; 8] = b.get(..8)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u64::from_le_bytes(bytes),
            Endian::Big => u64::from_be_bytes(bytes),
        })
    }
}

pub(crate) fn pad4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

pub(crate) fn block_name(block_type: u32) -> &'static str {
    match block_type {
        SHB => "section header block",
        IDB => "interface description block",
        OPB => "packet block",
        SPB => "simple packet block",
        4 => "name resolution block",
        5 => "interface statistics block",
        EPB => "enhanced packet block",
        _ => "block",
    }
}

/// Smallest legal total length of a block of this type (header, fixed fields, trailer).
pub(crate) fn min_block_len(block_type: u32) -> u32 {
    match block_type {
        SHB => 28,
        IDB => 20,
        OPB | EPB => 32,
        SPB => 16,
        _ => 12,
    }
}

/// Walks the options in `opts` (the part of a block body after its fixed fields), yielding each
/// option's code and the range of its value within `opts`. Stops at `opt_endofopt`, at the end,
/// or at an option that overruns the block (a damaged option list is not worth failing a file).
pub(crate) fn options(e: Endian, opts: &[u8]) -> impl Iterator<Item = (u16, Range<usize>)> + '_ {
    let mut at = 0usize;
    std::iter::from_fn(move || {
        let hdr = opts.get(at..at.checked_add(4)?)?;
        let code = e.u16(hdr, 0);
        let len = usize::from(e.u16(hdr, 2));
        if code == OPT_END {
            return None;
        }
        let start = at + 4;
        let end = start + len;
        opts.get(start..end)?;
        at = start + pad4(len);
        Some((code, start..end))
    })
}

/// How to turn an interface's timestamp units into nanoseconds.
#[derive(Debug, Clone, Copy)]
enum Scale {
    /// Units are 10^-k s with k <= 9: multiply.
    Mul(u64),
    /// Units are 10^-k s with k > 9: divide.
    Div(u64),
    /// Units are 2^-k s: multiply by 10^9, shift right by k.
    Shift(u32),
    /// Resolution so fine that every timestamp is below a nanosecond.
    Zero,
}

/// What a packet block needs to know about its interface. Kept small (32 bytes): a section
/// may have up to [`crate::MAX_INTERFACES`] of them.
#[derive(Debug, Clone)]
pub(crate) struct Interface {
    pub link_type: LinkType,
    pub snaplen: u32,
    scale: Scale,
    /// `if_tsoffset`, in seconds.
    offset_s: i64,
}

impl Interface {
    /// Parses an interface description block body (after the block header).
    pub(crate) fn parse(e: Endian, body: &[u8]) -> Interface {
        let mut iface = Interface {
            link_type: LinkType(u32::from(e.u16(body, 0))),
            snaplen: e.u32(body, 4),
            scale: Scale::Mul(1000),
            offset_s: 0,
        };
        let opts = body.get(8..).unwrap_or(&[]);
        let (mut seen_resol, mut seen_offset) = (false, false);
        for (code, range) in options(e, opts) {
            let value = opts.get(range).unwrap_or(&[]);
            match code {
                IF_TSRESOL if !seen_resol => {
                    if let Some(&r) = value.first() {
                        iface.scale = scale_for(r);
                        seen_resol = true;
                    }
                }
                IF_TSOFFSET if !seen_offset => {
                    if let Some(secs) = e.u64(value) {
                        // Signed seconds to add to every timestamp.
                        iface.offset_s = secs as i64;
                        seen_offset = true;
                    }
                }
                _ => {}
            }
        }
        iface
    }

    /// Converts a 64-bit timestamp in this interface's units to nanoseconds since the epoch,
    /// saturating.
    pub(crate) fn timestamp_ns(&self, ts: u64) -> i64 {
        let ts = u128::from(ts);
        let ns = match self.scale {
            Scale::Mul(m) => ts * u128::from(m),
            Scale::Div(d) => ts / u128::from(d),
            Scale::Shift(k) => (ts * 1_000_000_000) >> k,
            Scale::Zero => 0,
        };
        // ns < 2^94 and |offset_ns| < 2^94: no overflow in i128.
        let offset_ns = i128::from(self.offset_s) * 1_000_000_000;
        let total = i128::try_from(ns).unwrap_or(i128::MAX) + offset_ns;
        i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX })
    }
}

/// `if_tsresol`: high bit clear, units are 10^-v s; high bit set, 2^-(v & 0x7f) s.
fn scale_for(resol: u8) -> Scale {
    let v = u32::from(resol & 0x7f);
    if resol & 0x80 != 0 {
        Scale::Shift(v)
    } else if v <= 9 {
        Scale::Mul(10u64.pow(9 - v))
    } else {
        match 10u64.checked_pow(v - 9) {
            Some(d) => Scale::Div(d),
            None => Scale::Zero,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(resol: u8, offset_s: i64) -> Interface {
        Interface {
            link_type: LinkType(1),
            snaplen: 0,
            scale: scale_for(resol),
            offset_s,
        }
    }

    #[test]
    fn interface_is_small() {
        // MAX_INTERFACES and docs/limits.md count on it.
        assert_eq!(std::mem::size_of::<Interface>(), 32);
    }

    #[test]
    fn timestamp_scales() {
        assert_eq!(iface(6, 0).timestamp_ns(1_500_000), 1_500_000_000);
        assert_eq!(iface(9, 0).timestamp_ns(123), 123);
        assert_eq!(iface(0, 0).timestamp_ns(2), 2_000_000_000);
        assert_eq!(iface(12, 0).timestamp_ns(123_456), 123);
        assert_eq!(
            iface(0x80 | 10, 0).timestamp_ns(1024 * 3 + 512),
            3_500_000_000
        );
        assert_eq!(iface(0x80 | 30, 0).timestamp_ns(1 << 30), 1_000_000_000);
        assert_eq!(iface(127, 0).timestamp_ns(u64::MAX), 0);
        assert_eq!(iface(0xff, 0).timestamp_ns(u64::MAX), 0);
        assert_eq!(iface(0, 0).timestamp_ns(u64::MAX), i64::MAX);
        assert_eq!(iface(6, 10).timestamp_ns(1), 10_000_001_000);
        assert_eq!(iface(6, -10).timestamp_ns(0), -10_000_000_000);
        assert_eq!(iface(6, i64::MIN).timestamp_ns(0), i64::MIN);
        assert_eq!(iface(6, i64::MAX).timestamp_ns(u64::MAX), i64::MAX);
    }

    #[test]
    fn options_walk_stops_on_damage() {
        // code 1 len 3 "abc" pad, code 2 len 100 (overruns)
        let opts = [1, 0, 3, 0, b'a', b'b', b'c', 0, 2, 0, 100, 0, 1, 2];
        let got: Vec<_> = options(Endian::Little, &opts).collect();
        assert_eq!(got, vec![(1, 4..7)]);
        assert_eq!(options(Endian::Little, &[]).count(), 0);
        assert_eq!(options(Endian::Big, &[0, 0, 0, 0, 0, 1, 0, 0]).count(), 0);
    }
}
