//! `--format parquet`: the results as Parquet tables (crates/parquet) instead of a report, so
//! that DuckDB or Spark can query many captures, sensors and shards together.

use std::path::{Path, PathBuf};

use tcpsleuth_analyze::{Retention, Shard};
use tcpsleuth_parquet::{AnalysisTables, Part, Written};

use crate::pipeline::{self, Stages};

pub fn part(shard: Option<Shard>) -> Part {
    shard.map_or(Part::WHOLE, |s| Part {
        index: s.index,
        count: s.count,
    })
}

/// The name a capture has in the tables' `capture` column: the path as given, so that the N
/// shards of one capture, run anywhere, name it alike.
pub fn capture_name(path: &Path) -> String {
    path.display().to_string()
}

/// Diagnoses each capture into the `connections` and `findings` tables under `dir`. Returns
/// whether some input could not be analysed (the exit code's business), after writing what
/// could be.
pub fn analyze(
    captures: &[PathBuf],
    dir: &Path,
    stages: Stages,
    retention: Retention,
) -> anyhow::Result<bool> {
    let mut tables = AnalysisTables::create(dir, part(stages.shard))?;
    let mut failed = false;
    for path in captures {
        let name = capture_name(path);
        let mut sink = |summary, diagnosis| -> anyhow::Result<()> {
            tables.add(&name, &summary, &diagnosis)?;
            Ok(())
        };
        match pipeline::diagnose(path, stages, retention, &mut sink)? {
            Ok(outcome) => failed |= crate::report_damage(&outcome),
            Err(unreadable) => failed |= crate::report_unreadable(&unreadable),
        }
    }
    for written in tables.finish()? {
        report_written(&written);
    }
    Ok(failed)
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
