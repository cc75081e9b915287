//! Capture sources: pcap and pcapng files, plain or gzip/zstd-compressed, or standard input.
//!
//! The reader streams: it holds one bounded buffer and lends out one [`Frame`] at a time.
//! Frame numbers are Wireshark's: 1-based, in file order, counting every packet record.

/// A link-layer header type, as in pcap's LINKTYPE_* registry. Unknown values pass intact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LinkType(pub u32);

/// One packet record, borrowed from the reader's buffer until the next call to `next_frame`.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    /// 1-based, in file order, as Wireshark numbers frames.
    pub number: u64,
    /// Nanoseconds since the Unix epoch.
    pub timestamp_ns: i64,
    pub link_type: LinkType,
    /// Length of the packet on the wire.
    pub original_len: u32,
    /// The captured bytes (may be shorter than `original_len`).
    pub data: &'a [u8],
    /// Byte offset of the record in the (decompressed) input stream.
    pub offset: u64,
    /// pcapng interface id (0 for pcap).
    pub interface: u32,
}
