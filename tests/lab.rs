//! The lab: real captures of the real Linux TCP stack (lab/run.sh, namespaces and a router),
//! each with the findings an expert can prove from it (fixtures/lab-expected/SCENARIO.json).
//!
//! For every capture, each expected finding must be reported with its actor, and no finding
//! outside the expected and allowed ones may appear. All mismatches are reported at once.
//!
//! `LAB_CAPTURES_DIR=DIR` checks a lab regenerated elsewhere (`lab/run.sh --out DIR`, with
//! other sizes, loss rates and timings) against the same expectations; scenarios missing
//! there are skipped.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (id, actor) pairs found in one capture, over all its connections.
fn diagnose(capture: &PathBuf) -> Result<BTreeSet<(String, String)>, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_tcpsleuth"))
        .args(["analyze", "--format", "json"])
        .arg(capture)
        .output()
        .map_err(|e| e.to_string())?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() || stderr.contains("panicked") {
        return Err(format!("exit {:?}: {stderr}", out.status.code()));
    }
    let doc: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let mut found = BTreeSet::new();
    for conn in doc["connections"].as_array().into_iter().flatten() {
        for f in conn["findings"].as_array().into_iter().flatten() {
            found.insert((
                f["id"].as_str().unwrap_or_default().to_string(),
                f["actor"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    Ok(found)
}

fn expectations() -> Vec<(String, Value)> {
    let dir = root().join("fixtures/lab-expected");
    let mut out: Vec<(String, Value)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .map(|e| {
            let text = std::fs::read_to_string(e.path()).expect("read expectation");
            let value: Value = serde_json::from_str(&text)
                .unwrap_or_else(|err| panic!("{}: {err}", e.path().display()));
            (e.file_name().to_string_lossy().replace(".json", ""), value)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn lab_captures_give_the_expected_findings() {
    let scenarios = expectations();
    assert!(scenarios.len() >= 20, "lab expectations missing");
    let other_dir = std::env::var_os("LAB_CAPTURES_DIR").map(PathBuf::from);
    let captures_dir = other_dir
        .clone()
        .unwrap_or_else(|| root().join("fixtures/captures/lab"));
    let mut problems = Vec::new();
    let mut checked = 0;
    for (scenario, spec) in &scenarios {
        let Some(captures) = spec["captures"].as_object() else {
            problems.push(format!("{scenario}: no captures"));
            continue;
        };
        for (name, want) in captures {
            let path = captures_dir.join(scenario).join(name);
            if other_dir.is_some() && !path.exists() {
                continue;
            }
            let found = match diagnose(&path) {
                Ok(found) => found,
                Err(e) => {
                    problems.push(format!("{scenario}/{name}: {e}"));
                    continue;
                }
            };
            checked += 1;
            let expect: BTreeSet<(String, String)> = want["expect"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| {
                    (
                        e["id"].as_str().unwrap_or_default().to_string(),
                        e["actor"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect();
            let allow: BTreeSet<String> = want["allow"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_string))
                .collect();
            for e in expect.difference(&found) {
                problems.push(format!("{scenario}/{name}: missing {} ({})", e.0, e.1));
            }
            for f in &found {
                let expected_id = expect.iter().any(|e| e.0 == f.0);
                if !expect.contains(f) && !allow.contains(&f.0) && !expected_id {
                    problems.push(format!("{scenario}/{name}: unexpected {} ({})", f.0, f.1));
                }
            }
        }
    }
    let at_least = if other_dir.is_some() { 1 } else { 40 };
    assert!(checked >= at_least, "only {checked} lab captures checked");
    assert!(
        problems.is_empty(),
        "{} lab mismatches:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
