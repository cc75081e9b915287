//! Strings from captures (and file names) on their way to a terminal.

use std::borrow::Cow;

/// `text` safe to print on a terminal: control characters (C0 including tab and newline, DEL,
/// C1) and the bidirectional-text controls are replaced by their `\u{..}` escapes.
///
/// Capture files carry strings their author chose (pcapng comments, interface names and
/// descriptions), and file names are as hostile as their origin. Printed raw, `ESC ] 0 ; … BEL`
/// retitles the window, `ESC [ 2 J` clears the screen, CSI sequences move the cursor to
/// forge or hide lines, a newline forges a whole message, and a right-to-left override makes
/// `evil\u{202e}pacp.exe` read as `evilexe.pcap`. Escaping (rather than dropping) keeps what
/// was there visible to the person reading.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if needs_escape(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Arabic letter mark, LRM/RLM, embeddings and overrides, isolates.
            '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let s = "capture ünïcode 東京.pcap";
        assert!(matches!(printable(s), std::borrow::Cow::Borrowed(x) if x == s));
    }

    #[test]
    fn escapes_and_controls_become_visible() {
        assert_eq!(
            printable("a\u{1b}]0;pwned\u{7}b\u{1b}[2Jc"),
            "a\\u{1b}]0;pwned\\u{7}b\\u{1b}[2Jc"
        );
        assert_eq!(printable("x\ny\tz\r"), "x\\u{a}y\\u{9}z\\u{d}");
        // C1 CSI (0x9b) and DEL.
        assert_eq!(printable("\u{9b}31m\u{7f}"), "\\u{9b}31m\\u{7f}");
        assert_eq!(printable("evil\u{202e}pacp.exe"), "evil\\u{202e}pacp.exe");
    }
}
