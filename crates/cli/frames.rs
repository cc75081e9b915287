//! How a person finds a frame in the report: its number, or `FILE#FRAME` in a capture read
//! from several files (a ring buffer, docs/rotating.md).

use tcpsleuth_capture::{printable, FileTable};

use crate::pipeline::Input;

/// How a person finds a frame: its number, or for a capture read from several files
/// `FILE#FRAME` (the file without its directory, the frame within that file), which is what
/// Wireshark shows after opening that file.
#[derive(Debug, Clone, Default)]
pub struct FrameNames(Option<FileTable>);

impl FrameNames {
    /// Names frames through `table` when there is one (a capture of several files).
    pub fn new(table: Option<FileTable>) -> FrameNames {
        FrameNames(table)
    }

    pub fn of(input: &Input) -> FrameNames {
        FrameNames(input.multi_file_table())
    }

    /// For a capture of several files: the file holding a frame (its name, as [`Self::label`]
    /// gives it) and the frame's number within it.
    pub fn place(&self, frame: u64) -> Option<(String, u64)> {
        let place = self.0.as_ref()?.locate(frame)?;
        let name = place.path.file_name().map_or_else(
            || place.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        Some((name, place.frame))
    }

    /// As the file system has the name: see [`Self::text`] for a terminal.
    pub fn label(&self, frame: u64) -> String {
        self.0
            .as_ref()
            .and_then(|t| t.locate(frame))
            .map_or_else(|| frame.to_string(), |place| place.label())
    }

    /// For the text report: control characters in a file name shown inert.
    pub fn text(&self, frame: u64) -> String {
        match &self.0 {
            None => frame.to_string(),
            Some(_) => printable(&self.label(frame)).into_owned(),
        }
    }

    pub fn is_multi_file(&self) -> bool {
        self.0.is_some()
    }

    /// A sentence of the diagnosis with each "frame N" in it named as [`Self::text`] names
    /// frames (the diagnosis writes global numbers; JSON keeps them).
    pub fn prose(&self, text: &str) -> String {
        if !self.is_multi_file() {
            return text.to_owned();
        }
        frames_in_prose(text, |_, n| self.text(n))
    }
}

/// Rewrites each "frame N" of a sentence as `name(capture, N)`, `capture` being K when the
/// sentence reads "capture K frame N" (the findings across captures name frames that way).
pub fn frames_in_prose(text: &str, name: impl Fn(Option<usize>, u64) -> String) -> String {
    const WORD: &str = "frame ";
    let mut out = String::with_capacity(text.len() + 32);
    let mut rest = text;
    while let Some(i) = rest.find(WORD) {
        let (before, after) = rest.split_at(i + WORD.len());
        out.push_str(before);
        rest = after;
        let head = &before[..i];
        let starts_word = head
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let digits = after
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(after.len());
        let Ok(n) = after[..digits].parse::<u64>() else {
            continue;
        };
        if !starts_word || after[digits..].starts_with(|c: char| c.is_alphanumeric()) {
            continue;
        }
        // "capture K " just before: the frame is capture K's.
        let capture = head
            .strip_suffix(' ')
            .and_then(|h| {
                let k = h.trim_end_matches(|c: char| c.is_ascii_digit());
                let number = &h[k.len()..];
                k.strip_suffix("capture ").map(|_| number)
            })
            .and_then(|k| k.parse().ok());
        out.push_str(&name(capture, n));
        rest = &after[digits..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::frames_in_prose;

    fn named(text: &str) -> String {
        frames_in_prose(text, |capture, n| match capture {
            Some(c) => format!("c{c}:f{n}"),
            None => format!("f{n}"),
        })
    }

    #[test]
    fn frame_numbers_in_sentences_are_renamed() {
        assert_eq!(
            named("The server answered with RST (frame 338): it no longer had this connection"),
            "The server answered with RST (frame f338): it no longer had this connection"
        );
        assert_eq!(
            named("SYN (frame 1) answered by a RST (frame 2)"),
            "SYN (frame f1) answered by a RST (frame f2)"
        );
        assert_eq!(
            named("The RST at capture 1 frame 64 claims"),
            "The RST at capture 1 frame c1:f64 claims"
        );
        // Not a frame number: another word, no number, a number glued to letters.
        for same in [
            "keyframe 12",
            "frames 12 and 13",
            "frame size",
            "frame 12a",
            "frame ",
        ] {
            assert_eq!(named(same), same);
        }
    }
}
