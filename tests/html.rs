//! The HTML report: one self-contained file, checked as a file and, in a real headless
//! Chromium, for script errors and rendered graphs. CI sets TCPSLEUTH_REQUIRE_BROWSER=1 (and
//! installs chromium); elsewhere the browser test says it was skipped when none is installed.

use std::path::{Path, PathBuf};
use std::process::Command;

const SEED_CASE: &str = "fixtures/captures/lab/receiver-drops-then-resets.pcap";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tcpsleuth-html-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Writes the report of `captures` and returns its path and text.
fn report(name: &str, captures: &[&str]) -> (PathBuf, String) {
    let path = out_dir(name).join("report.html");
    let out = Command::new(env!("CARGO_BIN_EXE_tcpsleuth"))
        .args(["analyze", "--format", "html", "-o"])
        .arg(&path)
        .args(captures)
        .current_dir(root())
        .output()
        .expect("run tcpsleuth");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "the report goes to the file, not stdout"
    );
    let text = std::fs::read_to_string(&path).expect("report written");
    (path, text)
}

#[test]
fn the_report_is_one_self_contained_file() {
    let (_, html) = report("self-contained", &[SEED_CASE]);
    assert!(html.starts_with("<!DOCTYPE html>"));
    for remote in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "@import",
        "url(http",
    ] {
        assert!(!html.contains(remote), "fetches {remote}");
    }
    assert!(!html.contains("<script src"), "scripts are inline");
    // The seed's scenario: the verdict, and the retransmission ladder and RST in the
    // time-sequence graph.
    assert!(html.contains("stall.retransmission_loop"));
    assert!(html.contains("Time-sequence"));
    let ladder = html
        .split("class=\"series retransmission\" d=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("retransmissions plotted");
    assert_eq!(
        ladder.matches('M').count(),
        5,
        "frames 52 and 55-58: {ladder}"
    );
    assert!(html.contains("<line class=\"reset\""), "the RST is marked");
    assert_eq!(html.matches("<figure class=\"graph\"").count(), 4);
}

#[test]
fn healthy_connections_are_a_table_and_big_captures_are_thinned() {
    let (_, html) = report(
        "healthy",
        &[
            "fixtures/captures/lab/healthy-bulk/client.pcap",
            "fixtures/captures/lab/loss-random/server.pcap",
        ],
    );
    assert!(
        html.contains("Healthy connections (1)"),
        "healthy-bulk's connection"
    );
    assert!(html.contains("class=\"sortable\""));
    // loss-random has about a thousand segments: under the cap, so nothing is thinned.
    assert!(!html.contains("thinned"));
}

/// Two captures of one connection: the report carries the cross-capture section.
#[test]
fn two_captures_show_what_happened_between_the_points() {
    let (_, html) = report(
        "paths",
        &[
            "fixtures/captures/lab/reset-injected/client.pcap",
            "fixtures/captures/lab/reset-injected/server.pcap",
        ],
    );
    assert!(html.contains("Across captures"));
    assert!(html.contains("reset.injected · actor middlebox"));
    assert!(html.contains("fixtures/captures/lab/reset-injected/server.pcap frame 64"));
}

fn chromium() -> Option<PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join(name))
                    .find(|p| p.is_file())
            })
        })
}

fn headless(browser: &Path, args: &[&str], page: &Path) -> (String, String) {
    let profile = out_dir("profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_report_renders_in_a_real_browser() {
    let Some(browser) = chromium() else {
        assert!(
            std::env::var_os("TCPSLEUTH_REQUIRE_BROWSER").is_none(),
            "TCPSLEUTH_REQUIRE_BROWSER is set but no chromium is installed"
        );
        eprintln!("skipped: no chromium on PATH (apt-get install chromium)");
        return;
    };
    let (page, _) = report("browser", &[SEED_CASE]);
    let (dom, stderr) = headless(
        &browser,
        &["--virtual-time-budget=5000", "--dump-dom"],
        &page,
    );
    assert!(
        dom.contains("data-ready=\"1\""),
        "the script ran to the end:\n{stderr}"
    );
    assert!(
        dom.contains("data-errors=\"0\""),
        "no script error:\n{stderr}"
    );
    assert!(!stderr.contains("Uncaught"), "{stderr}");
    let figures = dom.matches("<figure class=\"graph\"").count();
    assert_eq!(figures, 4);
    let rendered: Vec<&str> = dom
        .split("data-rendered=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    assert_eq!(rendered.len(), figures, "every graph rendered");
    assert!(
        rendered
            .iter()
            .all(|n| n.parse::<u32>().is_ok_and(|n| n >= 1)),
        "{rendered:?}"
    );
    assert!(dom.contains("class=\"xticks\"><span"), "axis ticks drawn");

    let shot = page.with_file_name("report.png");
    let _ = headless(
        &browser,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000",
        ],
        &page,
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}
