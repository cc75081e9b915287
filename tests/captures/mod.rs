//! The captures under a directory, as the integration tests walk the public corpus and the
//! lab: every file at any depth but the corpus MANIFEST, in path order.

use std::path::{Path, PathBuf};

pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if !entry.file_name().to_string_lossy().starts_with("MANIFEST.") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}
