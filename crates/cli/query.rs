//! `query`: SQL over the Parquet tables, by DuckDB's command-line shell.
//!
//! Why DuckDB outside the binary rather than DataFusion inside it: DataFusion's dependency
//! tree is 241 crates against 38 for the Parquet writer (docs/parquet.md), paid by every build
//! for a feature most runs never use; DuckDB is one 62 MB executable (`pip install duckdb-cli`),
//! reads Parquet directories natively, and is what data teams already run. tcpsleuth's part
//! is to know where its tables are: it finds every part under DIR and defines one view per
//! table, so that a question is just SQL.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::Context;

use crate::args::QueryFormat;

/// The tables `--format parquet` writes, as the views are named.
const TABLES: [&str; 6] = [
    "connections",
    "findings",
    "files",
    "paths",
    "path_findings",
    "packets",
];

/// How deep under DIR parts are looked for: deep enough for sensor/day/shard layouts, and a
/// bound on the walk should DIR be a large tree.
const MAX_DEPTH: usize = 6;

pub fn query(
    dir: &Path,
    sql: &str,
    format: QueryFormat,
    print_sql: bool,
) -> anyhow::Result<ExitCode> {
    let script = script(dir, sql)?;
    if print_sql {
        println!("{script}");
        return Ok(ExitCode::SUCCESS);
    }
    let duckdb =
        std::env::var_os("TCPSLEUTH_DUCKDB").map_or_else(|| PathBuf::from("duckdb"), PathBuf::from);
    let mode = match format {
        QueryFormat::Table => "-box",
        QueryFormat::Csv => "-csv",
        QueryFormat::Json => "-json",
        QueryFormat::Markdown => "-markdown",
    };
    // An in-memory database: the views are rebuilt from the files each time, nothing is left
    // behind. DuckDB's own errors (a typo in the SQL) go straight to stderr.
    let status = Command::new(&duckdb)
        .args([":memory:", mode, "-bail", "-c", &script])
        .status()
        .with_context(|| {
            format!(
                "cannot run {}: query needs DuckDB's shell (pip install duckdb-cli, or set \
                 TCPSLEUTH_DUCKDB to its path)",
                duckdb.display()
            )
        })?;
    Ok(if status.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The views over every part found under `dir`, then the user's SQL.
fn script(dir: &Path, sql: &str) -> anyhow::Result<String> {
    let mut found = [false; TABLES.len()];
    find_tables(dir, 0, &mut found)
        .with_context(|| format!("{}: cannot read the results directory", dir.display()))?;
    if !found.iter().any(|&f| f) {
        anyhow::bail!(
            "{}: no tcpsleuth Parquet tables here (write them with analyze --format parquet -o DIR)",
            dir.display()
        );
    }
    let root = dir
        .to_str()
        .with_context(|| format!("{}: DuckDB needs a UTF-8 path", dir.display()))?;
    let mut script = String::new();
    for (table, _) in TABLES.iter().zip(found).filter(|(_, f)| *f) {
        // `**` also matches no directory at all: DIR/findings/ and DIR/a/b/findings/ alike.
        // union_by_name: parts written by different versions may differ in added columns.
        let glob = format!("{}/**/{table}/*.parquet", root.trim_end_matches('/'));
        script.push_str(&format!(
            "CREATE VIEW {table} AS SELECT * FROM read_parquet({}, union_by_name = true);\n",
            sql_string(&glob)
        ));
    }
    script.push_str(sql);
    Ok(script)
}

/// A SQL string literal: single quotes doubled.
fn sql_string(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn find_tables(dir: &Path, depth: usize, found: &mut [bool; TABLES.len()]) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_dir() {
            continue;
        }
        let name = entry.file_name();
        if let Some(i) = TABLES.iter().position(|t| name == *t) {
            let has_part = std::fs::read_dir(entry.path())?.flatten().any(|part| {
                let name = part.file_name();
                let name = name.to_string_lossy();
                name.starts_with("part-") && name.ends_with(".parquet")
            });
            found[i] |= has_part;
        } else if depth + 1 < MAX_DEPTH {
            find_tables(&entry.path(), depth + 1, found)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_cover_parts_at_any_depth_and_quote_the_path() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let root = dir.path().join("it's");
        std::fs::create_dir_all(root.join("sensor-a/day1/findings")).expect("mkdir");
        std::fs::write(
            root.join("sensor-a/day1/findings/part-00000-of-00001.parquet"),
            b"",
        )
        .expect("write");
        std::fs::create_dir_all(root.join("connections")).expect("mkdir");
        // A table directory with no part yet (a run still writing) makes no view.
        std::fs::write(
            root.join("connections/.part-00000-of-00001.parquet.1.tmp"),
            b"",
        )
        .expect("write");
        let made = script(&root, "SELECT 1").expect("script");
        let quoted = root.display().to_string().replace('\'', "''");
        assert_eq!(
            made,
            format!(
                "CREATE VIEW findings AS SELECT * FROM read_parquet('{quoted}/**/findings/*.parquet', union_by_name = true);\nSELECT 1"
            )
        );
        assert!(script(&dir.path().join("nothing"), "SELECT 1").is_err());
    }
}
