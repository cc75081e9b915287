//! Byte sources: counting the raw input, detecting and undoing compression, and the bounded
//! look-ahead buffer the parsers read records from.

use std::io::{self, BufReader, Cursor, Read};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use crate::Compression;

/// Size of read buffers (the compressed-input buffer and the initial record buffer).
pub(crate) const IO_BUF_SIZE: usize = 1 << 20;

/// Shared between the raw input (deep inside the decompressor) and the reader.
#[derive(Debug, Default)]
pub(crate) struct RawStats {
    /// Bytes read from the raw (possibly compressed) input.
    pub bytes: AtomicU64,
    /// Set when the raw input itself failed, so that an error coming out of the decompressor
    /// can be told apart from corrupt compressed data.
    pub failed: AtomicBool,
}

/// Counts the bytes read from the raw input.
struct Counting<R> {
    inner: R,
    stats: Arc<RawStats>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.stats.bytes.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
            Err(e) => {
                if e.kind() != io::ErrorKind::Interrupted {
                    self.stats.failed.store(true, Ordering::Relaxed);
                }
                Err(e)
            }
        }
    }
}

/// Reads until `buf` is full or end of input; returns the number of bytes read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        let Some(space) = buf.get_mut(n..) else { break };
        match r.read(space) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n.min(buf.len()))
}

/// Wraps the raw input: sniffs its first bytes for gzip or zstd magic and returns the
/// decompressed stream (or the raw stream, with the sniffed bytes put back in front).
pub(crate) fn decompressed(
    raw: Box<dyn Read + Send>,
    stats: Arc<RawStats>,
) -> io::Result<(Compression, Box<dyn Read + Send>)> {
    let mut counting = Counting { inner: raw, stats };
    let mut head = [0u8; 4];
    let n = read_up_to(&mut counting, &mut head)?;
    let prefix = head.get(..n).unwrap_or(&[]).to_vec();
    let compression = match prefix.as_slice() {
        [0x1f, 0x8b, ..] => Compression::Gzip,
        [0x28, 0xb5, 0x2f, 0xfd] => Compression::Zstd,
        _ => Compression::None,
    };
    let chained = Cursor::new(prefix).chain(counting);
    let stream: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(chained),
        // Multi-member gzip (e.g. `cat a.gz b.gz`, or pigz/bgzip output) is one stream.
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(
            BufReader::with_capacity(IO_BUF_SIZE, chained),
        )),
        // Concatenated zstd frames are decoded one after the other (the crate's default).
        Compression::Zstd => {
            let mut dec = zstd::stream::read::Decoder::with_buffer(BufReader::with_capacity(
                IO_BUF_SIZE,
                chained,
            ))?;
            // Accept files written with `zstd --long` (windows up to 2 GiB), like `zstd -d --long=31`.
            dec.window_log_max(31)?;
            Box::new(dec)
        }
    };
    Ok((compression, stream))
}

/// A look-ahead window over the decompressed stream. `buf[start..end]` holds unread bytes, the
/// first of which is at offset `pos` in the stream. The buffer only grows as far as the largest
/// record asked for (the parsers bound that), and only as data actually arrives.
pub(crate) struct Window {
    src: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    pos: u64,
}

impl Window {
    pub(crate) fn new(src: Box<dyn Read + Send>) -> Self {
        Window {
            src,
            buf: vec![0; IO_BUF_SIZE],
            start: 0,
            end: 0,
            eof: false,
            pos: 0,
        }
    }

    /// Offset in the stream of the first unread byte.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// The unread bytes that are in memory.
    pub(crate) fn data(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or(&[])
    }

    /// Bytes `range` of the whole buffer (absolute indexes, as returned by [`Self::abs`]).
    pub(crate) fn slice(&self, from: usize, to: usize) -> &[u8] {
        self.buf.get(from..to).unwrap_or(&[])
    }

    /// Absolute buffer index of unread byte `rel`; valid until the next [`Self::fill`].
    pub(crate) fn abs(&self, rel: usize) -> usize {
        self.start.saturating_add(rel)
    }

    fn available(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Makes at least `n` unread bytes available. Returns `Ok(false)` if the input ends first
    /// (then [`Self::data`] holds whatever was left).
    pub(crate) fn fill(&mut self, n: usize) -> io::Result<bool> {
        if self.available() >= n {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        if self.buf.len().saturating_sub(self.start) < n && self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end = self.available();
            self.start = 0;
        }
        while self.available() < n {
            if self.end >= self.buf.len() {
                // Full: grow, doubling, so that a truncated file announcing a huge record does
                // not make us allocate more than twice what it actually contains.
                let new_len = self.buf.len().saturating_mul(2).clamp(1, n.max(1));
                let new_len = new_len.max(self.end.saturating_add(1));
                self.buf.resize(new_len, 0);
            }
            let Some(space) = self.buf.get_mut(self.end..) else {
                return Ok(false);
            };
            match self.src.read(space) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(k) => self.end = self.end.saturating_add(k).min(self.buf.len()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// Marks `n` bytes as read. Their contents stay in place until the next [`Self::fill`].
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.available());
        self.start += n;
        self.pos = self.pos.saturating_add(n as u64);
    }
}
