//! The error type of the capture reader.

use crate::Compression;

/// Something went wrong reading a capture. Displays as one line naming the file, the byte offset
/// in the decompressed stream and what is wrong, e.g.
/// `capture.pcap: byte 1234 (after frame 17): record length 4294967295 exceeds the 256 MiB limit`.
///
/// After an error, [`crate::CaptureReader::next_frame`] returns `Ok(None)`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
// The name may be a hostile file name: it is shown through `printable`.
#[error("{}: byte {offset}{}: {kind}", crate::printable(.file), after_frame(*.last_good_frame))]
pub struct CaptureError {
    /// The name of the input (a path, or `<stdin>`, or the name given to `from_read`).
    pub file: String,
    /// Byte offset in the decompressed stream of the header or record where the problem is.
    pub offset: u64,
    /// Number of the last frame returned before the error (0 if none).
    pub last_good_frame: u64,
    pub kind: CaptureErrorKind,
}

fn after_frame(n: u64) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" (after frame {n})")
    }
}

impl CaptureError {
    pub(crate) fn new(
        file: &str,
        offset: u64,
        last_good_frame: u64,
        kind: CaptureErrorKind,
    ) -> Self {
        CaptureError {
            file: file.to_owned(),
            offset,
            last_good_frame,
            kind,
        }
    }

    /// True if the input simply ends early (inside a header or record, or inside the compressed
    /// stream). Callers treat this as a warning: every frame before it has been returned.
    pub fn is_truncation(&self) -> bool {
        matches!(self.kind, CaptureErrorKind::Truncated)
    }
}

/// What is wrong; see [`CaptureError`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    /// Opening or reading the underlying input failed.
    #[error("I/O error: {0}")]
    Io(std::io::Error),
    /// The input (after decompression) starts with neither pcap nor pcapng magic.
    #[error("{}", describe_magic(magic))]
    UnknownFormat {
        /// The first bytes found (up to 4; fewer if the input is shorter).
        magic: Vec<u8>,
    },
    /// The input ends inside a file header, block or record (or inside the compressed stream).
    /// Everything before it has been returned; callers treat this as a warning.
    #[error("input ends in the middle of a header or record (truncated capture)")]
    Truncated,
    /// The data is impossible (bad block length, interface id out of range, ...).
    #[error("{0}")]
    Corrupt(String),
    /// The gzip or zstd decompressor rejected the data.
    #[error("{compression} data is corrupt: {error}")]
    Decompress {
        compression: Compression,
        error: std::io::Error,
    },
}

fn describe_magic(magic: &[u8]) -> String {
    if magic.is_empty() {
        return "input is empty: not a pcap or pcapng capture".to_owned();
    }
    let hex: Vec<String> = magic.iter().map(|b| format!("{b:02x}")).collect();
    let hint = match magic {
        [0x50, 0x4b, 0x03, 0x04, ..] => " (a zip archive? unzip it first)",
        [0x42, 0x5a, 0x68, ..] => " (bzip2-compressed? only gzip and zstd are supported)",
        [0xfd, 0x37, 0x7a, 0x58, ..] => " (xz-compressed? only gzip and zstd are supported)",
        [0x04, 0x22, 0x4d, 0x18, ..] => " (lz4-compressed? only gzip and zstd are supported)",
        [0x73, 0x6e, 0x6f, 0x6f, ..] => " (a Solaris snoop capture? convert it with editcap)",
        [0xa1, 0xb2, 0xcd, 0x34, ..] | [0x34, 0xcd, 0xb2, 0xa1, ..] => {
            " (a modified/Kuznetzov pcap? convert it with editcap -F pcap)"
        }
        [0x1f, 0x8b, ..] => " (gzip inside gzip? decompress it once first)",
        _ if magic
            .iter()
            .all(|b| b.is_ascii_graphic() || b.is_ascii_whitespace()) =>
        {
            " (looks like text, not a binary capture)"
        }
        _ => "",
    };
    format!(
        "not a pcap or pcapng capture: starts with bytes {}{hint}",
        hex.join(" ")
    )
}
