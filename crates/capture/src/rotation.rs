//! Rotating captures: the files of one sensor's ring buffer (dumpcap `-b`, tcpdump `-C`/`-G`)
//! read as one continuous capture.
//!
//! Frames are numbered 1.. across the files, as `mergecap -a -w joined.pcap f1 f2 ...` numbers
//! them, and a [`FileTable`] maps each of these numbers back to (file, frame within the file),
//! which is what a person opens in Wireshark. One file is open at a time: memory does not grow
//! with the number of files, besides the table (one small entry per file).
//!
//! Damage in one file is reported (as an error of [`FileSequence::next_frame`]) and reading goes
//! on with the next file: a ring buffer is usually cut by a sensor restart or a full disk, and
//! the files after it are as good as the ones before.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use crate::{CaptureError, CaptureErrorKind, CaptureReader, Frame};

/// One file of a multi-file capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSpan {
    pub path: PathBuf,
    /// The global number of its first frame (the number its first frame would have, for a file
    /// without frames).
    pub first_frame: u64,
    /// Frames read from it (final once the next file is opened or reading has ended).
    pub frames: u64,
}

/// Where a global frame number is: the file (index in the table, and its path) and the frame
/// number within that file, as Wireshark numbers it when the file is opened alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilePlace {
    pub index: usize,
    pub path: PathBuf,
    pub frame: u64,
}

impl FilePlace {
    /// `FILE#FRAME`, the file named without its directory (as typed in Wireshark's "Go to
    /// packet" after opening that file). As the file system has it: pass it through
    /// [`crate::printable`] before printing it on a terminal, escape it for HTML.
    pub fn label(&self) -> String {
        let name = self
            .path
            .file_name()
            .map_or_else(|| self.path.to_string_lossy(), |n| n.to_string_lossy());
        format!("{name}#{}", self.frame)
    }
}

/// The files of a capture in reading order, filled in by the [`FileSequence`] reading them and
/// shared (cloning shares) with whoever names frames meanwhile: a frame's file is in the table
/// before the frame is returned.
#[derive(Debug, Clone, Default)]
pub struct FileTable {
    spans: Arc<RwLock<Vec<FileSpan>>>,
}

impl FileTable {
    pub fn new() -> FileTable {
        FileTable::default()
    }

    /// The files opened so far, in order.
    pub fn files(&self) -> Vec<FileSpan> {
        self.spans
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The file and file-local number of global frame `frame` (a frame already read); None for
    /// frame 0 or an empty table. Takes a lock: to name many frames, take [`Self::files`] once
    /// and use [`locate_frame`].
    pub fn locate(&self, frame: u64) -> Option<FilePlace> {
        let spans = self.spans.read().unwrap_or_else(PoisonError::into_inner);
        locate_frame(&spans, frame)
    }

    fn push(&self, span: FileSpan) {
        self.spans
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(span);
    }

    fn set_last_frames(&self, frames: u64) {
        let mut spans = self.spans.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(last) = spans.last_mut() {
            last.frames = frames;
        }
    }
}

/// The file and file-local number of global frame `frame` in `spans` (as [`FileTable::files`]
/// returns them); None for frame 0 or no files.
pub fn locate_frame(spans: &[FileSpan], frame: u64) -> Option<FilePlace> {
    // The last file starting at or before the frame; files without frames share their first
    // number with the next file and come before it, so they are never picked.
    let index = spans
        .partition_point(|s| s.first_frame <= frame)
        .checked_sub(1)?;
    let span = spans.get(index)?;
    Some(FilePlace {
        index,
        path: span.path.clone(),
        frame: frame - span.first_frame + 1,
    })
}

/// A reader over an ordered list of capture files, yielding their frames as one capture.
/// Each file may have its own format, compression and link types.
pub struct FileSequence {
    files: Vec<PathBuf>,
    /// Index in `files` of the next file to open.
    next: usize,
    current: Option<CaptureReader>,
    table: FileTable,
    /// Frames returned so far, over all files.
    frames: u64,
    /// Raw bytes read from the files already closed.
    bytes_done: u64,
    input_len: Option<u64>,
}

impl std::fmt::Debug for FileSequence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSequence")
            .field("files", &self.files.len())
            .field("next", &self.next)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl FileSequence {
    /// Reads `files` in this order, recording them in `table`. A single file is opened at once,
    /// so that a file that is no capture at all fails here as [`CaptureReader::open`] does
    /// ("-" is standard input); with several, a file that cannot be opened is an error of
    /// [`Self::next_frame`] and the others are still read.
    pub fn open(files: Vec<PathBuf>, table: FileTable) -> Result<FileSequence, CaptureError> {
        let input_len = files.iter().try_fold(0u64, |sum, f| {
            let meta = std::fs::metadata(f).ok().filter(|m| m.is_file())?;
            sum.checked_add(meta.len())
        });
        let mut seq = FileSequence {
            files,
            next: 0,
            current: None,
            table,
            frames: 0,
            bytes_done: 0,
            input_len,
        };
        if seq.files.len() == 1 {
            seq.open_next()?;
        }
        Ok(seq)
    }

    /// Opens the next file; Ok(false) when there is none. An error still counts the file as
    /// read (it is in the table, without frames).
    fn open_next(&mut self) -> Result<bool, CaptureError> {
        if let Some(done) = self.current.take() {
            self.bytes_done = self.bytes_done.saturating_add(done.input_bytes_read());
            self.table.set_last_frames(done.frames_read());
        }
        let Some(path) = self.files.get(self.next) else {
            return Ok(false);
        };
        self.next += 1;
        self.table.push(FileSpan {
            path: path.clone(),
            first_frame: self.frames + 1,
            frames: 0,
        });
        self.current = Some(CaptureReader::open(path)?);
        Ok(true)
    }

    /// The next frame, numbered across files; `Ok(None)` once every file has been read. An
    /// error names the damaged file, the byte offset and the last good frame within it; the
    /// next call goes on with the following file.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, CaptureError> {
        // Each turn either returns or moves on to the next file.
        for _ in 0..=self.files.len() {
            let rec = match self.current.as_mut() {
                None => Ok(None),
                Some(reader) => reader.advance(),
            };
            match rec {
                Ok(Some(rec)) => {
                    self.frames += 1;
                    let number = self.frames;
                    return Ok(self.current.as_ref().map(|r| r.lend(&rec, number)));
                }
                Ok(None) => {
                    if !self.open_next()? {
                        return Ok(None);
                    }
                }
                Err(e) => {
                    // The damaged reader stays current (it only returns Ok(None) now), so that
                    // its frames are counted when the next file is opened.
                    return Err(e);
                }
            }
        }
        Ok(None)
    }

    /// Total size of the files if all are regular files, for progress bars.
    pub fn input_len(&self) -> Option<u64> {
        self.input_len
    }

    /// Bytes read so far from the (compressed, if compressed) files, for progress bars.
    pub fn input_bytes_read(&self) -> u64 {
        self.bytes_done
            .saturating_add(self.current.as_ref().map_or(0, |r| r.input_bytes_read()))
    }

    /// The table this sequence fills in.
    pub fn table(&self) -> &FileTable {
        &self.table
    }
}

/// Compares file names as people number them: runs of digits by value, so that tcpdump's
/// `file`, `file1`, `file2`, ..., `file10` and dumpcap's `name_00009_...`, `name_00010_...`
/// come out in order.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a, b);
    loop {
        match (a.is_empty(), b.is_empty()) {
            (true, true) => return Ordering::Equal,
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (ra, rest_a) = split_run(a);
        let (rb, rest_b) = split_run(b);
        let digits = |s: &str| s.starts_with(|c: char| c.is_ascii_digit());
        let order = if digits(ra) && digits(rb) {
            let (za, zb) = (ra.trim_start_matches('0'), rb.trim_start_matches('0'));
            za.len()
                .cmp(&zb.len())
                .then_with(|| za.cmp(zb))
                .then_with(|| ra.len().cmp(&rb.len()))
        } else {
            ra.cmp(rb)
        };
        if order != Ordering::Equal {
            return order;
        }
        (a, b) = (rest_a, rest_b);
    }
}

/// The leading run of ASCII digits, or of anything else, and the rest.
fn split_run(s: &str) -> (&str, &str) {
    let digits = s.starts_with(|c: char| c.is_ascii_digit());
    let end = s
        .find(|c: char| c.is_ascii_digit() != digits)
        .unwrap_or(s.len());
    s.split_at(end)
}

/// The capture files of a directory, in reading order, and what was left out.
#[derive(Debug)]
pub struct OrderedFiles {
    pub files: Vec<PathBuf>,
    /// Regular files that are not captures (neither pcap nor pcapng, even after decompression).
    pub skipped: Vec<CaptureError>,
}

/// Lists the capture files of `dir` (regular files, hidden ones left out, each opened to check
/// its magic: extensions are not trusted) in the order of their first frame's timestamp; ties,
/// and files without frames (which come last), in natural name order ([`natural_cmp`]).
/// Only the first frame of each file is read.
pub fn order_directory(dir: &Path) -> std::io::Result<OrderedFiles> {
    let mut found: Vec<(Option<i64>, String, PathBuf)> = Vec::new();
    let mut skipped = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        // Follows symbolic links: a link to a capture is a capture.
        if !std::fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let first_ts = match CaptureReader::open(&path) {
            Ok(mut reader) => reader.next_frame().ok().flatten().map(|f| f.timestamp_ns),
            Err(e) if matches!(e.kind, CaptureErrorKind::UnknownFormat { .. }) => {
                skipped.push(e);
                continue;
            }
            // A capture damaged from its start: kept, so that reading it reports the damage.
            Err(_) => None,
        };
        found.push((first_ts, name, path));
    }
    found.sort_by(|(ta, na, _), (tb, nb, _)| {
        ta.is_none()
            .cmp(&tb.is_none())
            .then_with(|| ta.cmp(tb))
            .then_with(|| natural_cmp(na, nb))
    });
    Ok(OrderedFiles {
        files: found.into_iter().map(|(_, _, p)| p).collect(),
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order_of_ring_buffer_names() {
        let mut names = vec![
            "file10", "file2", "file", "file1", "file11", "file9", "file3",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            ["file", "file1", "file2", "file3", "file9", "file10", "file11"]
        );
        let mut dumpcap = vec![
            "ring_00010_20260101120010.pcapng",
            "ring_00002_20260101120002.pcapng",
            "ring_00009_20260101120009.pcapng",
        ];
        dumpcap.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            dumpcap,
            [
                "ring_00002_20260101120002.pcapng",
                "ring_00009_20260101120009.pcapng",
                "ring_00010_20260101120010.pcapng"
            ]
        );
        assert_eq!(natural_cmp("a01", "a1"), Ordering::Greater);
        assert_eq!(natural_cmp("a1b", "a1b"), Ordering::Equal);
    }

    /// A little-endian microsecond pcap with one 14-byte Ethernet frame at each of the seconds.
    fn pcap(times: &[u32]) -> Vec<u8> {
        let mut v = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&1u32.to_le_bytes());
        for &t in times {
            v.extend_from_slice(&t.to_le_bytes());
            v.extend_from_slice(&0u32.to_le_bytes());
            v.extend_from_slice(&14u32.to_le_bytes());
            v.extend_from_slice(&14u32.to_le_bytes());
            v.extend_from_slice(&[0xab; 14]);
        }
        v
    }

    /// A fresh directory for one test, removed when dropped (without a dev-dependency for it).
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(test: &str) -> TempDir {
            let dir = std::env::temp_dir()
                .join(format!("tcpsleuth-rotation-{}-{test}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("the temporary directory is writable");
            TempDir(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).expect("the temporary directory is writable");
        path
    }

    fn read_all(seq: &mut FileSequence) -> (Vec<(u64, i64)>, Vec<CaptureError>) {
        let mut frames = Vec::new();
        let mut errors = Vec::new();
        for _ in 0..1000 {
            match seq.next_frame() {
                Ok(Some(f)) => frames.push((f.number, f.timestamp_ns / 1_000_000_000)),
                Ok(None) => break,
                Err(e) => errors.push(e),
            }
        }
        (frames, errors)
    }

    #[test]
    fn frames_are_numbered_across_files_and_located_back() {
        let dir = TempDir::new("frames_are_n");
        let a = write(dir.path(), "a", &pcap(&[1, 2, 3]));
        let empty = write(dir.path(), "empty", &pcap(&[]));
        let b = write(dir.path(), "b", &pcap(&[4, 5]));
        let table = FileTable::new();
        let mut seq = FileSequence::open(vec![a.clone(), empty.clone(), b.clone()], table.clone())
            .expect("several files open lazily");
        let (frames, errors) = read_all(&mut seq);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(frames, [(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]);
        let spans = table.files();
        assert_eq!(
            spans,
            [
                FileSpan {
                    path: a.clone(),
                    first_frame: 1,
                    frames: 3
                },
                FileSpan {
                    path: empty,
                    first_frame: 4,
                    frames: 0
                },
                FileSpan {
                    path: b.clone(),
                    first_frame: 4,
                    frames: 2
                },
            ]
        );
        let at = |n| table.locate(n).map(|p| (p.index, p.frame));
        assert_eq!(at(1), Some((0, 1)));
        assert_eq!(at(3), Some((0, 3)));
        assert_eq!(at(4), Some((2, 1)));
        assert_eq!(at(5), Some((2, 2)));
        assert_eq!(at(0), None);
        assert_eq!(table.locate(4).map(|p| p.label()), Some("b#1".to_owned()));
    }

    #[test]
    fn damage_names_the_file_and_reading_goes_on() {
        let dir = TempDir::new("damage_names");
        let a = write(dir.path(), "a", &pcap(&[1, 2]));
        let mut cut = pcap(&[3, 4]);
        // The second record's header claims more than any record may hold.
        let second = 24 + 16 + 14;
        cut[second + 8..second + 12].copy_from_slice(&u32::MAX.to_le_bytes());
        let bad = write(dir.path(), "bad", &cut);
        let c = write(dir.path(), "c", &pcap(&[5]));
        let table = FileTable::new();
        let mut seq = FileSequence::open(vec![a, bad.clone(), c], table.clone())
            .expect("several files open lazily");
        let (frames, errors) = read_all(&mut seq);
        assert_eq!(frames, [(1, 1), (2, 2), (3, 3), (4, 5)]);
        assert_eq!(errors.len(), 1);
        let e = &errors[0];
        assert_eq!(e.file, bad.display().to_string());
        assert_eq!((e.offset, e.last_good_frame), (second as u64, 1));
        assert_eq!(table.locate(4).map(|p| (p.index, p.frame)), Some((2, 1)));
    }

    #[test]
    fn directory_order_is_by_first_timestamp_then_name() {
        let dir = TempDir::new("directory_or");
        // By name "a_second" would come first; by time it is second.
        write(dir.path(), "b_first", &pcap(&[10]));
        write(dir.path(), "a_second", &pcap(&[20]));
        write(dir.path(), "x2", &pcap(&[30]));
        write(dir.path(), "x10", &pcap(&[30]));
        write(dir.path(), "empty", &pcap(&[]));
        write(dir.path(), "notes.txt", b"not a capture");
        write(dir.path(), ".hidden", &pcap(&[1]));
        std::fs::create_dir(dir.path().join("sub")).expect("a subdirectory");
        let ordered = order_directory(dir.path()).expect("the directory is readable");
        let names: Vec<String> = ordered
            .files
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(names, ["b_first", "a_second", "x2", "x10", "empty"]);
        assert_eq!(ordered.skipped.len(), 1);
        assert!(ordered.skipped[0].file.ends_with("notes.txt"));
    }
}
