//! Reading ahead on a thread of its own: the copy out of the page cache (or the
//! decompression) overlaps with the parsing and analysis of the bytes already read.

use std::io::{self, Read};
use std::sync::mpsc;

/// Bytes per chunk handed over.
const CHUNK: usize = 256 << 10;
/// Chunks read ahead of the consumer: bounds the memory to CHUNK × (AHEAD + 2).
const AHEAD: usize = 4;

/// A reader whose source is read by a background thread.
pub(crate) struct ReadAhead {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    /// Emptied chunks go back to the reading thread for reuse.
    spent: mpsc::Sender<Vec<u8>>,
    current: Vec<u8>,
    offset: usize,
    /// Set when no thread could be started: the first read reports it.
    spawn_error: Option<io::Error>,
}

impl ReadAhead {
    pub(crate) fn new(mut source: Box<dyn Read + Send>) -> ReadAhead {
        let (to_reader, chunks) = mpsc::sync_channel(AHEAD);
        let (spent, recycled) = mpsc::channel::<Vec<u8>>();
        // Detached: it ends at the end of input, after an error, or at its next hand-over once
        // the ReadAhead is dropped.
        let spawned = std::thread::Builder::new()
            .name("read-ahead".into())
            .spawn(move || loop {
                let mut chunk = recycled.try_recv().unwrap_or_default();
                chunk.resize(CHUNK, 0);
                let result = fill(&mut source, &mut chunk).map(|n| {
                    chunk.truncate(n);
                    chunk
                });
                let last = !matches!(&result, Ok(chunk) if !chunk.is_empty());
                if to_reader.send(result).is_err() || last {
                    break;
                }
            });
        ReadAhead {
            chunks,
            spent,
            current: Vec::new(),
            offset: 0,
            spawn_error: spawned.err(),
        }
    }
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn fill(source: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while let Some(space) = buf.get_mut(n..).filter(|s| !s.is_empty()) {
        match source.read(space) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // What was read before the error is handed over first; the error comes next time.
            Err(e) if n == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(n)
}

impl Read for ReadAhead {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(e) = self.spawn_error.take() {
            return Err(e);
        }
        if self.offset >= self.current.len() {
            let next = match self.chunks.recv() {
                Ok(Ok(chunk)) => chunk,
                Ok(Err(e)) => return Err(e),
                // The thread is gone: after the end of input (or an error already reported).
                Err(_) => return Ok(0),
            };
            let spent = std::mem::replace(&mut self.current, next);
            // The thread may have finished; then the buffer is simply freed.
            let _ = self.spent.send(spent);
            self.offset = 0;
        }
        let available = self.current.get(self.offset..).unwrap_or(&[]);
        let n = available.len().min(buf.len());
        if let (Some(to), Some(from)) = (buf.get_mut(..n), available.get(..n)) {
            to.copy_from_slice(from);
        }
        self.offset += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Yields its bytes a few at a time, then fails.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.at >= self.data.len() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(7).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    #[test]
    fn hands_over_every_byte_in_order_then_the_error() {
        let data: Vec<u8> = (0..(3 * CHUNK + 12_345)).map(|i| (i % 251) as u8).collect();
        let mut reader = ReadAhead::new(Box::new(Trickle {
            data: data.clone(),
            at: 0,
        }));
        let mut got = Vec::new();
        let mut buf = vec![0u8; 10_000];
        let err = loop {
            match reader.read(&mut buf) {
                Ok(0) => panic!("end of input before the error"),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) => break e,
            }
        };
        assert_eq!(got, data);
        assert_eq!(err.to_string(), "disk on fire");
    }

    #[test]
    fn a_clean_end_reads_as_zero() {
        let mut reader = ReadAhead::new(Box::new(io::Cursor::new(vec![1u8, 2, 3])));
        let mut all = Vec::new();
        reader.read_to_end(&mut all).expect("read");
        assert_eq!(all, [1, 2, 3]);
        assert_eq!(reader.read(&mut [0u8; 4]).expect("read"), 0);
    }
}
