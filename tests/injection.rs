//! Script and terminal-escape injection: strings an attacker controls (pcapng comments,
//! interface names and descriptions, payload bytes, the capture's file name) must reach an
//! HTML report only escaped and a terminal only with their control characters made visible.

mod crafted;

use crafted::*;

/// Opens a script and an image with an onerror handler, in element and attribute context.
const HTML_ATTACK: &str = "\"'><script>alert(1)</script><img src=x onerror=alert(2)>";
/// Retitles the window, clears the screen, moves the cursor home, rings the bell, and a C1
/// control sequence introducer.
const TERMINAL_ATTACK: &str = "\u{1b}]0;pwned\u{7}\u{1b}[2J\u{1b}[H\u{9b}31m";

/// Control characters that do something on a terminal (a newline is the only one tcpsleuth
/// writes itself; colour is off in these runs).
fn assert_inert_on_a_terminal(what: &str, text: &str) {
    let bad: Vec<char> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' || matches!(c, '\u{202a}'..='\u{202e}'))
        .collect();
    assert!(bad.is_empty(), "{what} carries {bad:?}:\n{text}");
}

fn assert_inert_html(html: &str) {
    // The report's own two scripts and nothing else.
    assert_eq!(html.matches("<script").count(), 2, "injected script");
    assert!(!html.contains("<img"), "injected element");
    assert!(!html.contains("\u{1b}"), "raw escape in HTML");
}

/// The lab example as a pcapng whose every free-text field, and one packet's payload, carry
/// both attacks.
fn hostile_pcapng() -> Vec<u8> {
    let both = format!("{HTML_ATTACK}{TERMINAL_ATTACK}evil\u{202e}gnp.exe");
    let b = both.as_bytes();
    let mut c = Pcapng::new();
    c.shb(&[(1, b), (2, b), (3, b), (4, b)]);
    c.idb(1, 0, &[(1, b), (2, b), (3, b)]);
    for (i, (sec, usec, data)) in example_frames().into_iter().enumerate() {
        let mut data = data;
        if i == 5 {
            // Frame 6 carries 1448 bytes of data: overwrite its start (the checksum goes bad,
            // which is reported, as it should be).
            data[66..66 + b.len()].copy_from_slice(b);
        }
        let n = data.len() as u32;
        let ts = u64::from(sec) * 1_000_000 + u64::from(usec);
        c.epb_raw(0, ts, n, n, &data, &[(1, b)]);
    }
    c.bytes
}

#[test]
fn strings_inside_a_capture_stay_inert() {
    let f = TempFile::new("hostile.pcapng", &hostile_pcapng());
    let p = f.path();
    for args in [
        &["analyze", "--color", "never", "--verbose", p][..],
        &["analyze", "--color", "never", "--brief", p],
        &["packets", "--color", "never", p],
        &["connections", "--color", "never", p],
    ] {
        let r = run(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert_inert_on_a_terminal(&format!("{args:?} stdout"), &r.stdout);
        assert_inert_on_a_terminal(&format!("{args:?} stderr"), &r.stderr);
        assert!(r.stdout.contains("10.77.0.1"), "{args:?} analysed nothing");
    }
    let r = run(&["analyze", "--format", "html", p]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("10.77.0.1"));
    assert_inert_html(&r.stdout);
    let r = run(&["analyze", "--format", "json", p]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let doc = r.json();
    assert_eq!(connection_count(&doc), 1);
}

/// A file name is as hostile as the archive it came from.
#[test]
fn hostile_file_names_are_escaped() {
    let name = format!(
        "{}{}x.pcap",
        TERMINAL_ATTACK.replace('/', ""),
        HTML_ATTACK.replace('/', "")
    );
    // The example, cut inside its last record: the truncation warning names the file too.
    let mut bytes = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE))
        .expect("example");
    bytes.truncate(bytes.len() - 10);
    let f = TempFile::new(&name, &bytes);
    let g = TempFile::new(&format!("second{name}"), &bytes);
    let (p, q) = (f.path(), g.path());

    // Two captures of the same traffic: the report also lists them in its "across captures"
    // legend.
    for args in [
        &["analyze", "--color", "never", "--verbose", p, q][..],
        &["connections", "--color", "never", p],
    ] {
        let r = run(args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
        assert_inert_on_a_terminal(&format!("{args:?} stdout"), &r.stdout);
        assert_inert_on_a_terminal(&format!("{args:?} stderr"), &r.stderr);
        assert!(r.stderr.contains("truncated"), "{}", r.stderr);
        // What was there is shown, made visible.
        assert!(r.stderr.contains("\\u{1b}]0;pwned\\u{7}"), "{}", r.stderr);
    }
    // JSON is for programs: the name exactly as it is, its C0 controls JSON-escaped.
    let r = run(&["analyze", "--format", "json", p]);
    assert!(!r.stdout.contains('\u{1b}'), "{}", r.stdout);
    assert_eq!(r.json()["captures"][0]["path"], p);
    assert!(r.stderr.contains("\\u{1b}]0;pwned\\u{7}"), "{}", r.stderr);

    let r = run(&["analyze", "--color", "never", "--verbose", p, q]);
    assert!(r.stdout.contains("\\u{1b}[2J"), "{}", r.stdout);
    assert!(
        r.stdout.contains("capture 1 = "),
        "the legend is exercised: {}",
        r.stdout
    );

    let r = run(&["analyze", "--format", "html", p, q]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_inert_html(&r.stdout);
    assert!(
        r.stdout.contains("&lt;script&gt;alert(1)&lt;script&gt;"),
        "the name is shown escaped"
    );
}

/// `packets` with several captures heads each one's table with its name, inert.
#[test]
fn packets_headings_escape_file_names() {
    let bytes = std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(EXAMPLE))
        .expect("example");
    let f = TempFile::new(&format!("{TERMINAL_ATTACK}a.pcap"), &bytes);
    let g = TempFile::new(&format!("{TERMINAL_ATTACK}b.pcap"), &bytes);
    let r = run(&["packets", "--color", "never", f.path(), g.path()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("== "), "{}", r.stdout);
    assert_inert_on_a_terminal("packets stdout", &r.stdout);
}
