//! Where `analyze` keeps each connection's result between its diagnosis and the report.
//!
//! Connections are diagnosed as they end, in no useful order, while the report lists them by
//! stream (JSON) or by severity (text). Holding every summary and diagnosis until the end
//! would make memory grow with the file, so the JSON and text reports render each connection
//! as soon as it is diagnosed and spill the bytes to an unnamed temporary file; memory keeps
//! only a small index entry per connection. The HTML report needs the structures themselves
//! for its graphs and is kept in memory: it is meant for reading, not for millions of
//! connections.

use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};

use tcpsleuth_analyze::ConnectionSummary;
use tcpsleuth_diagnose::{ConnectionDiagnosis, Severity};

use crate::frames::FrameNames;
use crate::report::TextOptions;

/// What the store keeps of each connection, chosen by the report it will feed.
pub enum Keep {
    /// The JSON document's entry for each connection.
    Json,
    /// The text report's pieces: verdict and details of the problem connections, and the
    /// healthy connections' rows with `--verbose`.
    Text(TextOptions),
    /// Summaries and diagnoses themselves (the HTML report).
    Memory,
}

/// One connection in the index.
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    pub stream: u32,
    pub severity: Option<Severity>,
    offset: u64,
    /// Length of the first piece (the JSON entry, the verdict, or the healthy row).
    first_len: u32,
    /// Length of the second piece (the text report's details).
    second_len: u32,
}

pub struct Store {
    keep: Keep,
    /// Index of the capture in the report.
    capture: usize,
    entries: Vec<Entry>,
    spill: Option<BufWriter<File>>,
    spilled: u64,
    memory: Vec<(ConnectionSummary, ConnectionDiagnosis)>,
    connections: u64,
    problems: u64,
    scratch: Vec<u8>,
    /// How the text report names frames.
    names: FrameNames,
}

impl Store {
    pub fn new(keep: Keep, capture: usize) -> Store {
        Store {
            keep,
            capture,
            entries: Vec::new(),
            spill: None,
            spilled: 0,
            memory: Vec::new(),
            connections: 0,
            problems: 0,
            scratch: Vec::new(),
            names: FrameNames::default(),
        }
    }

    /// Names frames this way in the text report (a capture read from several files).
    pub fn name_frames(&mut self, names: FrameNames) {
        self.names = names;
    }

    /// Adds one diagnosed connection.
    pub fn add(
        &mut self,
        summary: ConnectionSummary,
        diagnosis: ConnectionDiagnosis,
    ) -> anyhow::Result<()> {
        self.connections += 1;
        let severity = diagnosis.severity();
        if severity.is_some() {
            self.problems += 1;
        }
        self.scratch.clear();
        let split = match &self.keep {
            Keep::Memory => {
                self.memory.push((summary, diagnosis));
                return Ok(());
            }
            Keep::Json => {
                crate::report::json_entry(&mut self.scratch, self.capture, &summary, &diagnosis)?;
                self.scratch.len()
            }
            Keep::Text(opts) => {
                if severity.is_some() {
                    crate::report::verdict(
                        &mut self.scratch,
                        &summary,
                        &diagnosis,
                        opts,
                        &self.names,
                    )?;
                    let split = self.scratch.len();
                    if !opts.brief {
                        crate::report::connection_detail(
                            &mut self.scratch,
                            &summary,
                            &diagnosis,
                            opts,
                            &self.names,
                        )?;
                    }
                    split
                } else if opts.verbose {
                    crate::report::healthy_row(
                        &mut self.scratch,
                        &summary,
                        &diagnosis,
                        &self.names,
                    )?;
                    self.scratch.len()
                } else {
                    return Ok(());
                }
            }
        };
        let spill = match &mut self.spill {
            Some(spill) => spill,
            None => self.spill.insert(BufWriter::with_capacity(
                1 << 16,
                tempfile::tempfile().map_err(|e| {
                    anyhow::anyhow!("cannot create a temporary file for the report: {e}")
                })?,
            )),
        };
        spill
            .write_all(&self.scratch)
            .map_err(|e| anyhow::anyhow!("cannot write the report's temporary file: {e}"))?;
        let len = |n: usize| {
            u32::try_from(n).map_err(|_| anyhow::anyhow!("one connection's report is over 4 GiB"))
        };
        self.entries.push(Entry {
            stream: summary.stream,
            severity,
            offset: self.spilled,
            first_len: len(split)?,
            second_len: len(self.scratch.len() - split)?,
        });
        self.spilled += self.scratch.len() as u64;
        Ok(())
    }

    /// Ready to be read: everything in stream order.
    pub fn into_report(mut self) -> anyhow::Result<Kept> {
        self.entries.sort_unstable_by_key(|e| e.stream);
        self.memory.sort_unstable_by_key(|(s, _)| s.stream);
        let file = match self.spill.take() {
            Some(spill) => Some(spill.into_inner().map_err(|e| {
                anyhow::anyhow!("cannot write the report's temporary file: {}", e.error())
            })?),
            None => None,
        };
        Ok(Kept {
            entries: self.entries,
            file,
            memory: self.memory,
            connections: self.connections,
            problems: self.problems,
        })
    }
}

/// A store's connections, in stream order, ready for the report.
pub struct Kept {
    pub entries: Vec<Entry>,
    file: Option<File>,
    /// With [`Keep::Memory`].
    pub memory: Vec<(ConnectionSummary, ConnectionDiagnosis)>,
    pub connections: u64,
    pub problems: u64,
}

impl Kept {
    /// Copies an entry's first piece to `out`.
    pub fn copy_first(&mut self, entry: &Entry, out: &mut dyn Write) -> io::Result<()> {
        self.copy(entry.offset, entry.first_len, out)
    }

    /// Copies an entry's second piece to `out`.
    pub fn copy_second(&mut self, entry: &Entry, out: &mut dyn Write) -> io::Result<()> {
        self.copy(
            entry.offset + u64::from(entry.first_len),
            entry.second_len,
            out,
        )
    }

    fn copy(&mut self, offset: u64, len: u32, out: &mut dyn Write) -> io::Result<()> {
        if len == 0 {
            return Ok(());
        }
        let Some(file) = self.file.as_mut() else {
            return Err(io::Error::other("the report's temporary file is missing"));
        };
        file.seek(SeekFrom::Start(offset))?;
        io::copy(&mut file.take(u64::from(len)), out)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spilled_pieces_come_back_by_stream() {
        let mut store = Store::new(Keep::Json, 0);
        let mut spill = BufWriter::new(tempfile::tempfile().expect("temporary file"));
        // Two entries written out of stream order, as connections end.
        for (stream, text) in [(7u32, "seven"), (2, "two")] {
            let offset = store.spilled;
            spill.write_all(text.as_bytes()).expect("write");
            store.entries.push(Entry {
                stream,
                severity: None,
                offset,
                first_len: text.len() as u32,
                second_len: 0,
            });
            store.spilled += text.len() as u64;
        }
        store.spill = Some(spill);
        let mut kept = store.into_report().expect("report");
        let mut out = Vec::new();
        let entries = kept.entries.clone();
        for e in &entries {
            kept.copy_first(e, &mut out).expect("copy");
        }
        assert_eq!(out, b"twoseven");
    }
}
