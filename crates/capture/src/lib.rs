//! Capture sources: pcap and pcapng files, plain or gzip/zstd-compressed, or standard input.
//!
//! The reader streams: it holds one bounded buffer and lends out one [`Frame`] at a time.
//! Frame numbers are Wireshark's: 1-based, in file order, counting every packet record.
//!
//! Block framing is parsed here rather than with `pcap-parser` 0.17, for concrete reasons found
//! in its source:
//! * its block parsers use nom's *streaming* combinators on the already-delimited block body, so
//!   a corrupt block (e.g. an EPB whose captured length exceeds its block length) comes back as
//!   `Incomplete` ("need more input") instead of an error: a streaming reader cannot tell it from
//!   a record split across reads, and on a truncated or huge one ends in `BufferTooSmall`;
//! * `PcapNGReader::from_buffer`/`LegacyPcapReader` need the whole file header in the *first*
//!   `read()` (a short read from a pipe or a decompressor fails the open) and turn every
//!   `io::Error` into a bare `ReadError`;
//! * its errors borrow the reader's buffer, which makes "skip non-packet blocks, return the
//!   packet borrowed from the buffer" loops fight the borrow checker (or parse each block twice);
//! * it does not know the obsolete Packet Block (type 2) and does not check that block lengths
//!   are multiples of 4.
//!
//! The framing itself is small (a length-prefixed record or block), and parsing it here gives
//! exact offsets and precise error messages.

mod error;
mod input;
mod pcapng;
mod rotation;
mod text;

use std::io::Read;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;

pub use error::{CaptureError, CaptureErrorKind};
use input::{RawStats, Window};
use pcapng::{Endian, Interface};
pub use rotation::{
    locate_frame, natural_cmp, order_directory, FilePlace, FileSequence, FileSpan, FileTable,
    OrderedFiles,
};
pub use text::printable;

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
    /// The captured bytes (may be shorter than `original_len`; in damaged or hand-made files it
    /// may also be longer: such frames are returned as they are).
    pub data: &'a [u8],
    /// Byte offset of the record in the (decompressed) input stream.
    pub offset: u64,
    /// pcapng interface id (0 for pcap).
    pub interface: u32,
    /// pcapng packet comment (`opt_comment` of an EPB or OPB), if any and if it is UTF-8 (an
    /// invalid tail is cut off). As the file has it: pass it through [`printable`] before
    /// printing it on a terminal, escape it for HTML.
    pub comment: Option<&'a str>,
}

/// The container format of a capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaptureFormat {
    Pcap,
    PcapNg,
}

/// The compression of the input, detected from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl std::fmt::Display for Compression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        })
    }
}

impl std::fmt::Display for CaptureFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CaptureFormat::Pcap => "pcap",
            CaptureFormat::PcapNg => "pcapng",
        })
    }
}

/// Largest packet record (pcap) or block (pcapng) accepted; anything larger is corrupt.
pub const MAX_RECORD_LEN: u32 = 256 << 20;

/// Interfaces accepted in one pcapng section (32 bytes each: 32 MiB at most, 48 MiB while the
/// table grows). Real captures have a handful; an interface description block past this is
/// reported as corrupt, after the frames before it.
pub const MAX_INTERFACES: usize = 1 << 20;

const PCAP_HEADER_LEN: usize = 24;
const PCAP_RECORD_HEADER_LEN: usize = 16;

/// Strings kept by [`CaptureReader::comments`]: at most this many, of at most this many bytes.
const MAX_COMMENTS: usize = 256;
const MAX_COMMENT_LEN: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct PcapInfo {
    endian: Endian,
    /// Nanoseconds per unit of the fractional timestamp field (1000 or 1).
    frac_ns: i64,
    link_type: LinkType,
}

#[derive(Debug)]
enum State {
    Pcap(PcapInfo),
    PcapNg {
        /// Byte order of the current section (set by each SHB).
        endian: Endian,
        /// Interfaces of the current section.
        interfaces: Vec<Interface>,
    },
}

/// A packet found by a parser: positions in the window, so that nothing borrows while parsing.
pub(crate) struct Rec {
    timestamp_ns: i64,
    link_type: LinkType,
    original_len: u32,
    /// Absolute buffer indexes.
    data: (usize, usize),
    comment: Option<(usize, usize)>,
    offset: u64,
    interface: u32,
}

/// A parse failure, before it is dressed as a [`CaptureError`].
struct Fail {
    offset: u64,
    kind: CaptureErrorKind,
}

type Step<T> = Result<T, Fail>;

fn corrupt(offset: u64, msg: String) -> Fail {
    Fail {
        offset,
        kind: CaptureErrorKind::Corrupt(msg),
    }
}

fn truncated(offset: u64) -> Fail {
    Fail {
        offset,
        kind: CaptureErrorKind::Truncated,
    }
}

/// Streaming reader of pcap and pcapng captures, plain or gzip/zstd-compressed.
pub struct CaptureReader {
    name: String,
    window: Window,
    stats: Arc<RawStats>,
    input_len: Option<u64>,
    format: CaptureFormat,
    compression: Compression,
    state: State,
    /// Frames returned so far.
    frames: u64,
    /// Timestamp of the previous frame (used for Simple Packet Blocks, which have none).
    last_ts: i64,
    comments: Vec<String>,
    /// Set after a clean end or any error: `next_frame` then returns `Ok(None)`.
    finished: bool,
}

impl std::fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("compression", &self.compression)
            .field("offset", &self.window.pos())
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl CaptureReader {
    /// Opens a file; "-" means standard input. Detects pcap/pcapng and gzip/zstd compression by
    /// magic bytes, never by extension.
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        if path.as_os_str() == "-" {
            return Self::from_read("<stdin>".to_owned(), Box::new(std::io::stdin()));
        }
        let name = path.display().to_string();
        let io_err = |e| CaptureError::new(&name, 0, 0, CaptureErrorKind::Io(e));
        let file = std::fs::File::open(path).map_err(io_err)?;
        let meta = file.metadata().map_err(io_err)?;
        if meta.is_dir() {
            return Err(CaptureError::new(
                &name,
                0,
                0,
                CaptureErrorKind::Io(std::io::Error::other("is a directory")),
            ));
        }
        let input_len = meta.is_file().then_some(meta.len());
        let mut reader = Self::from_read(name, Box::new(file))?;
        reader.input_len = input_len;
        Ok(reader)
    }

    /// Same from any reader; `name` is used in error messages.
    pub fn from_read(
        name: String,
        input: Box<dyn Read + Send>,
    ) -> Result<CaptureReader, CaptureError> {
        let stats = Arc::new(RawStats::default());
        let (compression, stream) = input::decompressed(input, Arc::clone(&stats))
            .map_err(|e| CaptureError::new(&name, 0, 0, CaptureErrorKind::Io(e)))?;
        let mut reader = CaptureReader {
            name,
            window: Window::new(stream),
            stats,
            input_len: None,
            format: CaptureFormat::Pcap,
            compression,
            state: State::PcapNg {
                endian: Endian::Little,
                interfaces: Vec::new(),
            },
            frames: 0,
            last_ts: 0,
            comments: Vec::new(),
            finished: false,
        };
        match reader.read_file_header() {
            Ok(()) => Ok(reader),
            Err(fail) => Err(reader.error(fail)),
        }
    }

    /// Next packet record, or `Ok(None)` at a clean end of input. After an error, always
    /// `Ok(None)`.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        Ok(self.advance()?.map(|rec| self.lend(&rec, self.frames)))
    }

    /// Parses the next packet record without lending it out, so that a caller looping over
    /// several readers can decide what to do before borrowing (see [`Self::lend`]).
    pub(crate) fn advance(&mut self) -> Result<Option<Rec>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        let step = match self.state {
            State::Pcap(info) => self.next_pcap(info),
            State::PcapNg { .. } => self.next_pcapng(),
        };
        match step {
            Ok(Some(rec)) => {
                self.frames += 1;
                self.last_ts = rec.timestamp_ns;
                Ok(Some(rec))
            }
            Ok(None) => {
                self.finished = true;
                Ok(None)
            }
            Err(fail) => {
                self.finished = true;
                Err(self.error(fail))
            }
        }
    }

    /// The frame of a record `advance` just returned, numbered `number`.
    pub(crate) fn lend(&self, rec: &Rec, number: u64) -> Frame<'_> {
        let comment = rec
            .comment
            .and_then(|(a, b)| utf8_prefix(self.window.slice(a, b)));
        Frame {
            number,
            timestamp_ns: rec.timestamp_ns,
            link_type: rec.link_type,
            original_len: rec.original_len,
            data: self.window.slice(rec.data.0, rec.data.1),
            offset: rec.offset,
            interface: rec.interface,
            comment,
        }
    }

    /// Frames returned so far.
    pub fn frames_read(&self) -> u64 {
        self.frames
    }

    /// Bytes consumed so far from the underlying (compressed, if compressed) input: for
    /// progress bars. Includes read-ahead (up to a few MiB).
    pub fn input_bytes_read(&self) -> u64 {
        self.stats.bytes.load(Ordering::Relaxed)
    }

    /// Total input size if known (regular file), for progress bars.
    pub fn input_len(&self) -> Option<u64> {
        self.input_len
    }

    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// pcapng section-header comments and interface comments, names and descriptions seen so
    /// far, as found in the file (duplicates dropped; at most 256 kept, of at most 4096 bytes
    /// each). As the file has them: see [`Frame::comment`] before showing them.
    pub fn comments(&self) -> &[String] {
        &self.comments
    }

    fn error(&self, fail: Fail) -> CaptureError {
        let kind = match fail.kind {
            CaptureErrorKind::Io(e) => self.classify_io(e),
            k => k,
        };
        CaptureError::new(&self.name, fail.offset, self.frames, kind)
    }

    /// An I/O error from the decompressed stream is either the raw input failing, or the
    /// decompressor: unexpected end of the compressed data is a truncation, anything else corrupt
    /// compressed data.
    fn classify_io(&self, e: std::io::Error) -> CaptureErrorKind {
        if self.compression == Compression::None || self.stats.failed.load(Ordering::Relaxed) {
            CaptureErrorKind::Io(e)
        } else if e.kind() == std::io::ErrorKind::UnexpectedEof {
            CaptureErrorKind::Truncated
        } else {
            CaptureErrorKind::Decompress {
                compression: self.compression,
                error: e,
            }
        }
    }

    /// Fills the window with `n` bytes; `Ok(false)` at end of input.
    fn fill(&mut self, n: usize) -> Step<bool> {
        let offset = self.window.pos();
        self.window.fill(n).map_err(|e| Fail {
            offset,
            kind: CaptureErrorKind::Io(e),
        })
    }

    /// Reads the magic number, and for pcap the file header.
    fn read_file_header(&mut self) -> Step<()> {
        const MAGICS: [[u8; 4]; 5] = [
            [0xd4, 0xc3, 0xb2, 0xa1],
            [0xa1, 0xb2, 0xc3, 0xd4],
            [0x4d, 0x3c, 0xb2, 0xa1],
            [0xa1, 0xb2, 0x3c, 0x4d],
            pcapng::SHB_TYPE,
        ];
        let complete = self.fill(4)?;
        let head = self.window.data();
        let magic: [u8; 4] = match head.get(..4).and_then(|m| m.try_into().ok()) {
            Some(m) if complete => m,
            _ => {
                let partial = !head.is_empty() && MAGICS.iter().any(|m| m.starts_with(head));
                return Err(Fail {
                    offset: 0,
                    kind: if partial {
                        CaptureErrorKind::Truncated
                    } else {
                        CaptureErrorKind::UnknownFormat {
                            magic: head.to_vec(),
                        }
                    },
                });
            }
        };
        let (endian, frac_ns) = match magic {
            [0xd4, 0xc3, 0xb2, 0xa1] => (Endian::Little, 1000),
            [0xa1, 0xb2, 0xc3, 0xd4] => (Endian::Big, 1000),
            [0x4d, 0x3c, 0xb2, 0xa1] => (Endian::Little, 1),
            [0xa1, 0xb2, 0x3c, 0x4d] => (Endian::Big, 1),
            pcapng::SHB_TYPE => {
                // The section header is parsed as the first block by `next_pcapng`.
                self.format = CaptureFormat::PcapNg;
                return Ok(());
            }
            _ => {
                return Err(Fail {
                    offset: 0,
                    kind: CaptureErrorKind::UnknownFormat {
                        magic: magic.to_vec(),
                    },
                })
            }
        };
        if !self.fill(PCAP_HEADER_LEN)? {
            return Err(truncated(0));
        }
        let h = self.window.data();
        // Version (4..8), thiszone (8..12), sigfigs (12..16) and snaplen (16..20) do not matter:
        // each record's incl_len does. The upper bits of the link type field carry FCS
        // information (LT_FCS_LENGTH_PRESENT etc.); the link type is the low 16 bits.
        let link_type = LinkType(endian.u32(h, 20) & 0xffff);
        self.format = CaptureFormat::Pcap;
        self.state = State::Pcap(PcapInfo {
            endian,
            frac_ns,
            link_type,
        });
        self.window.consume(PCAP_HEADER_LEN);
        Ok(())
    }

    fn next_pcap(&mut self, info: PcapInfo) -> Step<Option<Rec>> {
        let offset = self.window.pos();
        if !self.fill(PCAP_RECORD_HEADER_LEN)? {
            return if self.window.data().is_empty() {
                Ok(None)
            } else {
                Err(truncated(offset))
            };
        }
        let h = self.window.data();
        let e = info.endian;
        let ts_sec = e.u32(h, 0);
        let ts_frac = e.u32(h, 4);
        let incl_len = e.u32(h, 8);
        let orig_len = e.u32(h, 12);
        if incl_len > MAX_RECORD_LEN {
            return Err(corrupt(
                offset,
                format!("record length {incl_len} exceeds the 256 MiB limit"),
            ));
        }
        let total = PCAP_RECORD_HEADER_LEN + incl_len as usize;
        if !self.fill(total)? {
            return Err(truncated(offset));
        }
        let timestamp_ns = i64::from(ts_sec)
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::from(ts_frac).saturating_mul(info.frac_ns));
        let data = (
            self.window.abs(PCAP_RECORD_HEADER_LEN),
            self.window.abs(total),
        );
        self.window.consume(total);
        Ok(Some(Rec {
            timestamp_ns,
            link_type: info.link_type,
            original_len: orig_len,
            data,
            comment: None,
            offset,
            interface: 0,
        }))
    }

    fn next_pcapng(&mut self) -> Step<Option<Rec>> {
        loop {
            let offset = self.window.pos();
            if !self.fill(8)? {
                return if self.window.data().is_empty() {
                    Ok(None)
                } else {
                    Err(truncated(offset))
                };
            }
            let State::PcapNg { endian, .. } = &mut self.state else {
                return Ok(None);
            };
            if self.window.data().get(..4) == Some(&pcapng::SHB_TYPE[..]) {
                // A section header carries its own byte order, in its byte-order magic.
                let Some(bom) = self.window.data().get(8..12) else {
                    let offset = self.window.pos();
                    // 12 bytes are not there yet: a short read or the end of the input.
                    if !self.window.fill(12).map_err(|e| Fail {
                        offset,
                        kind: CaptureErrorKind::Io(e),
                    })? {
                        return Err(truncated(offset));
                    }
                    continue;
                };
                *endian = match bom {
                    [0x4d, 0x3c, 0x2b, 0x1a] => Endian::Little,
                    [0x1a, 0x2b, 0x3c, 0x4d] => Endian::Big,
                    m => {
                        let hex: Vec<String> = m.iter().map(|b| format!("{b:02x}")).collect();
                        return Err(corrupt(
                            offset,
                            format!(
                                "section header block: bad byte-order magic {}",
                                hex.join(" ")
                            ),
                        ));
                    }
                };
            }
            let e = *endian;
            let d = self.window.data();
            let block_type = e.u32(d, 0);
            let block_len = e.u32(d, 4);
            let name = pcapng::block_name(block_type);
            let min_len = pcapng::min_block_len(block_type);
            if block_len > MAX_RECORD_LEN {
                return Err(corrupt(
                    offset,
                    format!("{name}: block length {block_len} exceeds the 256 MiB limit"),
                ));
            }
            if block_len < min_len {
                return Err(corrupt(
                    offset,
                    format!("{name}: block length {block_len} is too small (minimum {min_len})"),
                ));
            }
            if block_len % 4 != 0 {
                return Err(corrupt(
                    offset,
                    format!("{name}: block length {block_len} is not a multiple of 4"),
                ));
            }
            let len = block_len as usize;
            if !self.fill(len)? {
                return Err(truncated(offset));
            }
            if let Some(rec) = self.pcapng_block(e, block_type, len, offset)? {
                return Ok(Some(rec));
            }
        }
    }

    /// Handles one complete pcapng block at the start of the window, of total length `len`
    /// (checked: at least the minimum for its type, a multiple of 4, all in the window), and
    /// consumes it. Returns the packet if it is a packet block.
    fn pcapng_block(
        &mut self,
        e: Endian,
        block_type: u32,
        len: usize,
        offset: u64,
    ) -> Step<Option<Rec>> {
        let State::PcapNg { interfaces, .. } = &mut self.state else {
            return Ok(None);
        };
        let name = pcapng::block_name(block_type);
        let block = self.window.data().get(..len).unwrap_or(&[]);
        let trailer = e.u32(block, len.saturating_sub(4));
        if trailer as usize != len {
            return Err(corrupt(
                offset,
                format!(
                    "{name}: trailing block length {trailer} differs from leading block length {len}"
                ),
            ));
        }
        // The body: without the 8-byte header and the 4-byte trailer.
        const BODY: usize = 8;
        let body = block.get(BODY..len.saturating_sub(4)).unwrap_or(&[]);
        let mut rec = None;
        match block_type {
            pcapng::SHB => {
                let major = e.u16(body, 4);
                let minor = e.u16(body, 6);
                if major != 1 {
                    return Err(corrupt(
                        offset,
                        format!("{name}: unsupported pcapng version {major}.{minor}"),
                    ));
                }
                interfaces.clear();
                let opts = body.get(16..).unwrap_or(&[]);
                for (code, range) in pcapng::options(e, opts) {
                    if code == pcapng::OPT_COMMENT {
                        push_comment(&mut self.comments, opts.get(range).unwrap_or(&[]));
                    }
                }
            }
            pcapng::IDB => {
                if interfaces.len() >= MAX_INTERFACES {
                    return Err(corrupt(
                        offset,
                        format!("{name}: more than {MAX_INTERFACES} interfaces in one section"),
                    ));
                }
                interfaces.push(Interface::parse(e, body));
                let opts = body.get(8..).unwrap_or(&[]);
                for (code, range) in pcapng::options(e, opts) {
                    if matches!(
                        code,
                        pcapng::OPT_COMMENT | pcapng::IF_NAME | pcapng::IF_DESCRIPTION
                    ) {
                        push_comment(&mut self.comments, opts.get(range).unwrap_or(&[]));
                    }
                }
            }
            pcapng::EPB | pcapng::OPB => {
                // EPB: interface id (4), timestamp high (4) and low (4), captured length (4),
                // original length (4), data, options. OPB: the same, but a 2-byte interface id
                // followed by a 2-byte drop count.
                let if_id = if block_type == pcapng::EPB {
                    e.u32(body, 0)
                } else {
                    u32::from(e.u16(body, 0))
                };
                let Some(iface) = interfaces.get(if_id as usize) else {
                    let n = interfaces.len();
                    return Err(corrupt(
                        offset,
                        format!(
                            "{name}: interface id {if_id} out of range (this section has {n} interface{})",
                            if n == 1 { "" } else { "s" }
                        ),
                    ));
                };
                let ts = (u64::from(e.u32(body, 4)) << 32) | u64::from(e.u32(body, 8));
                let caplen = e.u32(body, 12) as usize;
                let original_len = e.u32(body, 16);
                if caplen > body.len().saturating_sub(20) {
                    return Err(corrupt(
                        offset,
                        format!("{name}: captured length {caplen} exceeds block length {len}"),
                    ));
                }
                let data_at = BODY + 20;
                let opts_at = BODY + 20 + pcapng::pad4(caplen);
                let opts = body.get(opts_at - BODY..).unwrap_or(&[]);
                let comment = pcapng::options(e, opts)
                    .find(|(code, _)| *code == pcapng::OPT_COMMENT)
                    .map(|(_, r)| {
                        (
                            self.window.abs(opts_at + r.start),
                            self.window.abs(opts_at + r.end),
                        )
                    });
                rec = Some(Rec {
                    timestamp_ns: iface.timestamp_ns(ts),
                    link_type: iface.link_type,
                    original_len,
                    data: (self.window.abs(data_at), self.window.abs(data_at + caplen)),
                    comment,
                    offset,
                    interface: if_id,
                });
            }
            pcapng::SPB => {
                // Original length (4), data. No timestamp, interface 0; the captured length is
                // what fits in the block, at most the original length and the snap length.
                let Some(iface) = interfaces.first() else {
                    return Err(corrupt(
                        offset,
                        format!("{name}: no interface description block in this section"),
                    ));
                };
                let original_len = e.u32(body, 0);
                let mut caplen = (original_len as usize).min(body.len().saturating_sub(4));
                if iface.snaplen != 0 {
                    caplen = caplen.min(iface.snaplen as usize);
                }
                let data_at = BODY + 4;
                rec = Some(Rec {
                    timestamp_ns: self.last_ts,
                    link_type: iface.link_type,
                    original_len,
                    data: (self.window.abs(data_at), self.window.abs(data_at + caplen)),
                    comment: None,
                    offset,
                    interface: 0,
                });
            }
            // Name resolution, statistics, decryption secrets, custom, unknown: skipped.
            _ => {}
        }
        self.window.consume(len);
        Ok(rec)
    }
}

/// The valid UTF-8 prefix of `bytes`, without trailing NULs; `None` if empty.
fn utf8_prefix(bytes: &[u8]) -> Option<&str> {
    let s = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(bytes.get(..e.valid_up_to()).unwrap_or(&[])).ok()?,
    };
    let s = s.trim_end_matches('\0');
    (!s.is_empty()).then_some(s)
}

fn push_comment(comments: &mut Vec<String>, value: &[u8]) {
    if comments.len() >= MAX_COMMENTS {
        return;
    }
    let value = value.get(..MAX_COMMENT_LEN).unwrap_or(value);
    let s = String::from_utf8_lossy(value);
    let s = s.trim_end_matches('\0');
    if !s.is_empty() && !comments.iter().any(|c| c == s) {
        comments.push(s.to_owned());
    }
}
