//! `--format parquet`: the results as Parquet tables (crates/parquet) instead of a report, so
//! that DuckDB or Spark can query many captures, sensors and shards together.

use std::path::Path;

use tcpsleuth_analyze::Retention;
use tcpsleuth_parquet::{AnalysisTables, FileRow, Written};

use crate::frames::FrameNames;
use crate::pipeline::{self, Input, Stages};

/// The name a capture has in the tables' `capture` column: the path as given (the directory,
/// for a ring buffer), so that the N shards of one capture, run anywhere, name it alike.
pub fn capture_name(path: &Path) -> String {
    path.display().to_string()
}

/// Diagnoses each capture into the tables under `dir` (docs/parquet.md). Returns whether some
/// input could not be analysed (the exit code's business), after writing what could be.
pub fn analyze(
    inputs: &[Input],
    dir: &Path,
    stages: Stages,
    retention: Retention,
) -> anyhow::Result<bool> {
    let mut tables = AnalysisTables::create(dir, stages.shard)?;
    let mut failed = false;
    // Several captures of the same traffic: their connections are matched afterwards.
    let stages = Stages {
        correlate: inputs.len() > 1,
        ..stages
    };
    let mut recordings = Vec::new();
    for input in inputs {
        let name = capture_name(&input.name);
        let names = FrameNames::of(input);
        let locate = |frame| names.place(frame);
        let mut sink = |summary, diagnosis| -> anyhow::Result<()> {
            tables.add(&name, &summary, &diagnosis, &locate)?;
            Ok(())
        };
        match pipeline::diagnose(input, stages, retention, &mut sink)? {
            Ok(mut outcome) => {
                failed |= crate::report_damage(&outcome);
                // The files are the capture's, not a shard's: shard 0 lists them, so that the
                // N shards together still hold each row once.
                if stages.shard.is_none_or(|s| s.index == 0) {
                    add_files(&mut tables, &name, &outcome)?;
                }
                recordings.push((name, outcome.recorder.take().map(|r| r.finish())));
            }
            // As in the reports: the captures that could be read are matched with each other.
            Err(unreadable) => failed |= crate::report_unreadable(&unreadable),
        }
    }
    let names: Vec<String> = recordings.iter().map(|(name, _)| name.clone()).collect();
    for path in crate::report::correlate(recordings) {
        tables.add_path(&path, &names)?;
    }
    for written in tables.finish()? {
        report_written(&written);
    }
    Ok(failed)
}

/// The `files` rows of one capture: its files, or the one file it is.
fn add_files(
    tables: &mut AnalysisTables,
    name: &str,
    outcome: &pipeline::Outcome,
) -> anyhow::Result<()> {
    match &outcome.files {
        Some(table) => {
            for span in table.files() {
                tables.add_file(&FileRow {
                    capture: name,
                    path: &span.path.display().to_string(),
                    first_frame: span.first_frame,
                    frames: span.frames,
                })?;
            }
        }
        None => tables.add_file(&FileRow {
            capture: name,
            path: name,
            first_frame: 1,
            frames: outcome.counts.frames,
        })?,
    }
    Ok(())
}

/// Says on stderr where the rows went: the command prints nothing else.
pub fn report_written(written: &Written) {
    crate::output::note(format_args!(
        "{}: {} row{}",
        tcpsleuth_capture::printable(&written.path.display().to_string()),
        written.rows,
        if written.rows == 1 { "" } else { "s" }
    ));
}
