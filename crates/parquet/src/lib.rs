//! tcpsleuth's results as Parquet tables, so that DuckDB, Spark or Trino can query the results
//! of many captures, sensors and shards at once.
//!
//! A run writes one *part* of each table: `DIR/connections/part-I-of-N.parquet`,
//! `DIR/findings/...` (from `analyze`) and `DIR/packets/...` (from `packets`), where I of N is
//! the run's shard (0 of 1 without sharding). Each table directory is a Parquet dataset as
//! Spark and DuckDB read it (`spark.read.parquet("DIR/findings")`,
//! `read_parquet('DIR/findings/*.parquet')`), and the N shards of one capture, written into the
//! same DIR, are together exactly the tables of one whole run.
//!
//! A part is written under a hidden temporary name and renamed into place when complete, so a
//! reader never sees half a file and a retried task (Spark re-runs failed ones) replaces its
//! earlier attempt. The columns are documented in `docs/parquet.md`; [`SCHEMA_VERSION`] is in
//! every file's key-value metadata and changes whenever a column is renamed, retyped or
//! removed (adding columns keeps it).

mod columns;
mod connections;
mod files;
mod findings;
mod packets;
mod paths;

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use tcpsleuth_analyze::Shard;

pub use packets::PacketRow;

use columns::Rows;
use connections::ConnectionRows;
use files::FileRows;
use findings::FindingRows;
use packets::PacketRows;
use paths::{PathFindingRows, PathRows};

/// Where a frame is in a capture read from several files: the file's name and the frame's
/// number within it; `None` for a capture of one file.
pub type Locate<'a> = dyn Fn(u64) -> Option<(String, u64)> + 'a;

/// One file of a capture, for the `files` table.
#[derive(Debug, Clone, Copy)]
pub struct FileRow<'a> {
    pub capture: &'a str,
    pub path: &'a str,
    /// The frame number, in the whole capture, of the file's first frame.
    pub first_frame: u64,
    pub frames: u64,
}

/// The version of the tables' layout, in each file's metadata as `tcpsleuth.schema_version`.
pub const SCHEMA_VERSION: u32 = 1;

/// Rows gathered before they are handed to the Parquet writer as one batch.
const BATCH_ROWS: usize = 8192;

/// Rows per row group. The writer holds a row group's encoded pages in memory until it is
/// complete; a bounded group keeps a run's memory flat whatever the number of connections.
const ROW_GROUP_ROWS: usize = 16_384;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Parquet {
        path: PathBuf,
        source: parquet::errors::ParquetError,
    },
    #[error("{}: {source}", path.display())]
    Arrow {
        path: PathBuf,
        source: arrow_schema::ArrowError,
    },
}

/// The name of a run's part of a table: its shard, I of N (0 of 1 without sharding),
/// zero-padded so that a directory listing sorts the parts in shard order.
fn part_name(shard: Option<Shard>) -> String {
    let (index, count) = shard.map_or((0, 1), |s| (s.index, s.count));
    format!("part-{index:05}-of-{count:05}.parquet")
}

/// One written part of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub rows: u64,
}

/// The tables of `analyze`: one row per connection, one row per finding, one row per file
/// read, and for several captures of the same traffic, the connections matched across them.
pub struct AnalysisTables {
    connections: TableFile<ConnectionRows>,
    findings: TableFile<FindingRows>,
    files: TableFile<FileRows>,
    paths: TableFile<PathRows>,
    path_findings: TableFile<PathFindingRows>,
}

impl AnalysisTables {
    /// Creates `dir/connections/` and `dir/findings/` if needed and starts this run's part of
    /// each.
    pub fn create(dir: &Path, shard: Option<Shard>) -> Result<AnalysisTables, Error> {
        Ok(AnalysisTables {
            connections: TableFile::create(dir, "connections", shard)?,
            findings: TableFile::create(dir, "findings", shard)?,
            files: TableFile::create(dir, "files", shard)?,
            paths: TableFile::create(dir, "paths", shard)?,
            path_findings: TableFile::create(dir, "path_findings", shard)?,
        })
    }

    /// Adds one diagnosed connection of the capture named `capture`; `locate` places frames
    /// in the files of a capture read from several.
    pub fn add(
        &mut self,
        capture: &str,
        summary: &tcpsleuth_analyze::ConnectionSummary,
        diagnosis: &tcpsleuth_diagnose::ConnectionDiagnosis,
        locate: &Locate<'_>,
    ) -> Result<(), Error> {
        self.connections.rows.push(capture, summary, diagnosis);
        self.connections.flush_if_full()?;
        for (rank, finding) in diagnosis.findings.iter().enumerate() {
            self.findings
                .rows
                .push(capture, summary, rank, finding, locate);
            self.findings.flush_if_full()?;
        }
        Ok(())
    }

    /// Adds one file a capture was read from (every capture has at least one).
    pub fn add_file(&mut self, file: &FileRow<'_>) -> Result<(), Error> {
        self.files.rows.push(file);
        self.files.flush_if_full()
    }

    /// Adds a connection seen in two of the run's captures; `captures` names them by their
    /// index on the command line.
    pub fn add_path(
        &mut self,
        path: &tcpsleuth_correlate::Correlation,
        captures: &[String],
    ) -> Result<(), Error> {
        for direction in &path.directions {
            self.paths.rows.push(path, direction, captures);
            self.paths.flush_if_full()?;
        }
        self.path_findings.rows.push(path, captures);
        self.path_findings.flush_if_full()
    }

    /// Completes the parts and moves them into place.
    pub fn finish(self) -> Result<Vec<Written>, Error> {
        Ok(vec![
            self.connections.finish()?,
            self.findings.finish()?,
            self.files.finish()?,
            self.paths.finish()?,
            self.path_findings.finish()?,
        ])
    }
}

/// The table of `packets`: one row per TCP frame.
pub struct PacketTable {
    packets: TableFile<PacketRows>,
}

impl PacketTable {
    pub fn create(dir: &Path, shard: Option<Shard>) -> Result<PacketTable, Error> {
        Ok(PacketTable {
            packets: TableFile::create(dir, "packets", shard)?,
        })
    }

    pub fn add(&mut self, row: &PacketRow<'_>) -> Result<(), Error> {
        self.packets.rows.push(row);
        self.packets.flush_if_full()
    }

    pub fn finish(self) -> Result<Written, Error> {
        self.packets.finish()
    }
}

/// One part of one table being written: rows gathered into Arrow builders, handed to the
/// Parquet writer a batch at a time, into a hidden file renamed into place at the end.
struct TableFile<R: Rows> {
    rows: R,
    writer: Option<ArrowWriter<File>>,
    schema: SchemaRef,
    temporary: PathBuf,
    path: PathBuf,
    written: u64,
}

impl<R: Rows> TableFile<R> {
    fn create(dir: &Path, table: &str, shard: Option<Shard>) -> Result<TableFile<R>, Error> {
        let table_dir = dir.join(table);
        std::fs::create_dir_all(&table_dir).map_err(|source| Error::Io {
            path: table_dir.clone(),
            source,
        })?;
        let name = part_name(shard);
        let path = table_dir.join(&name);
        // Spark and DuckDB skip names starting with a dot, and the process id keeps two
        // attempts at the same part (a retried task) from sharing one.
        let temporary = table_dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let file = File::create(&temporary).map_err(|source| Error::Io {
            path: temporary.clone(),
            source,
        })?;
        let schema = R::schema();
        let properties = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_key_value_metadata(Some(vec![
                KeyValue::new(
                    "tcpsleuth.schema_version".to_owned(),
                    SCHEMA_VERSION.to_string(),
                ),
                KeyValue::new(
                    "tcpsleuth.version".to_owned(),
                    env!("CARGO_PKG_VERSION").to_owned(),
                ),
                KeyValue::new("tcpsleuth.table".to_owned(), table.to_owned()),
            ]))
            .build();
        let writer = ArrowWriter::try_new(file, Arc::clone(&schema), Some(properties)).map_err(
            |source| Error::Parquet {
                path: temporary.clone(),
                source,
            },
        )?;
        Ok(TableFile {
            rows: R::default(),
            writer: Some(writer),
            schema,
            temporary,
            path,
            written: 0,
        })
    }

    fn flush_if_full(&mut self) -> Result<(), Error> {
        if self.rows.len() >= BATCH_ROWS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), Error> {
        let rows = self.rows.len();
        if rows == 0 {
            return Ok(());
        }
        let batch =
            RecordBatch::try_new(Arc::clone(&self.schema), self.rows.take()).map_err(|source| {
                Error::Arrow {
                    path: self.temporary.clone(),
                    source,
                }
            })?;
        if let Some(writer) = self.writer.as_mut() {
            writer.write(&batch).map_err(|source| Error::Parquet {
                path: self.temporary.clone(),
                source,
            })?;
        }
        self.written += rows as u64;
        Ok(())
    }

    fn finish(mut self) -> Result<Written, Error> {
        self.flush()?;
        if let Some(writer) = self.writer.take() {
            let file = writer.into_inner().map_err(|source| Error::Parquet {
                path: self.temporary.clone(),
                source,
            })?;
            file.sync_all().map_err(|source| Error::Io {
                path: self.temporary.clone(),
                source,
            })?;
        }
        std::fs::rename(&self.temporary, &self.path).map_err(|source| Error::Io {
            path: self.path.clone(),
            source,
        })?;
        Ok(Written {
            path: self.path.clone(),
            rows: self.written,
        })
    }
}

impl<R: Rows> Drop for TableFile<R> {
    /// A run that stops early (an error, a closed pipe) leaves no half-written file behind;
    /// after `finish` the temporary name no longer exists and this does nothing.
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.temporary);
        }
    }
}
