//! What the fuzz targets share: reading a capture to the end while checking the reader's
//! promises, and the input layout of the decoder target.

use std::io::Cursor;

use tcpsleuth_capture::{CaptureErrorKind, CaptureReader};

/// The name the reader gives the input; every error message must start with it.
pub const NAME: &str = "fuzz.cap";

/// Reads `bytes` as a capture to the end and checks what the reader promises on any input:
/// frames numbered 1, 2, 3... at increasing offsets, no frame or error located past the
/// input, an error message naming the input and a byte offset, and `Ok(None)` for ever after
/// the end or an error. Returns the number of frames read.
pub fn read_capture(bytes: &[u8]) -> u64 {
    let mut reader =
        match CaptureReader::from_read(NAME.into(), Box::new(Cursor::new(bytes.to_vec()))) {
            Ok(r) => r,
            Err(e) => {
                check_error(&e.to_string(), e.offset, bytes.len());
                assert!(
                    !matches!(e.kind, CaptureErrorKind::Io(_)),
                    "an in-memory input cannot fail to read: {e}"
                );
                return 0;
            }
        };
    let compressed = reader.compression() != tcpsleuth_capture::Compression::None;
    let mut frames = 0u64;
    let mut last_offset = None;
    loop {
        match reader.next_frame() {
            Ok(Some(f)) => {
                frames += 1;
                assert_eq!(f.number, frames, "frames are numbered 1, 2, 3...");
                assert!(
                    last_offset.is_none_or(|o| f.offset > o),
                    "frame {} at offset {} does not follow the previous one at {last_offset:?}",
                    f.number,
                    f.offset
                );
                last_offset = Some(f.offset);
                if !compressed {
                    assert!(f.offset < bytes.len() as u64, "frame offset past the input");
                    assert!(f.data.len() <= bytes.len(), "frame longer than the input");
                }
                if let Some(c) = f.comment {
                    assert!(!c.is_empty() && !c.ends_with('\0'));
                }
                // Every frame record costs at least 12 bytes of the decompressed stream.
                assert!(frames <= 1 << 32, "reader loops");
            }
            Ok(None) => break,
            Err(e) => {
                assert!(
                    !matches!(e.kind, CaptureErrorKind::Io(_)),
                    "an in-memory input cannot fail to read: {e}"
                );
                assert_eq!(e.last_good_frame, frames, "{e}");
                let limit = if compressed { usize::MAX } else { bytes.len() };
                check_error(&e.to_string(), e.offset, limit);
                break;
            }
        }
    }
    for _ in 0..2 {
        assert!(
            matches!(reader.next_frame(), Ok(None)),
            "a frame after the end"
        );
    }
    for c in reader.comments() {
        assert!(
            !c.is_empty() && c.len() <= 4096 * 3,
            "comment of {} bytes",
            c.len()
        );
    }
    assert!(reader.comments().len() <= 256);
    frames
}

fn check_error(message: &str, offset: u64, input_len: usize) {
    assert!(
        message.starts_with(&format!("{NAME}: byte {offset}")),
        "error names neither the input nor the offset: {message}"
    );
    assert!(
        offset <= input_len as u64,
        "error offset {offset} past the input: {message}"
    );
    assert!(
        !message.contains('\n'),
        "error message is not one line: {message:?}"
    );
}

/// Splits a decoder-target input: the link type (u16), the on-wire length (u32; 0 means the
/// captured length), both little-endian, then the frame. (The seeds are written by
/// crates/capture/examples/fuzz_seeds.rs.)
pub fn split_decode_input(data: &[u8]) -> Option<(u32, u32, &[u8])> {
    let (link, rest) = data.split_first_chunk::<2>()?;
    let (len, frame) = rest.split_first_chunk::<4>()?;
    let orig = match u32::from_le_bytes(*len) {
        0 => u32::try_from(frame.len()).unwrap_or(u32::MAX),
        n => n,
    };
    Some((u32::from(u16::from_le_bytes(*link)), orig, frame))
}

/// pcap's magic numbers (µs and ns, both byte orders).
pub const PCAP_MAGICS: [[u8; 4]; 4] = [
    [0xd4, 0xc3, 0xb2, 0xa1],
    [0xa1, 0xb2, 0xc3, 0xd4],
    [0x4d, 0x3c, 0xb2, 0xa1],
    [0xa1, 0xb2, 0x3c, 0x4d],
];

/// pcapng's first four bytes (section header block type).
pub const PCAPNG_MAGIC: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
