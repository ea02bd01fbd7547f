//! Small text helpers shared by storage and answers: bounded copies that never split a
//! UTF-8 character, hex, and text made safe to show on a terminal.

use std::fmt;

/// The longest prefix of `s` that fits in `max` bytes without splitting a character, and
/// whether anything was cut.
pub fn truncate(s: &str, max: usize) -> (&str, bool) {
    if s.len() <= max {
        return (s, false);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], true)
}

/// `s` on one line (whitespace runs become one space), at most `max` bytes, `…` where cut.
pub fn one_line(s: &str, max: usize) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (head, cut) = truncate(&flat, max);
    format!("{head}{}", if cut { "…" } else { "" })
}

/// `s` kept on its line: each character that a reader takes for a line break (those of
/// `str::lines`, `\r`, vertical tab, form feed, the information separators, NEL, the line and
/// paragraph separators) becomes a space. A line of context is built from stored text (a
/// teammate's file name, a pulled row): none of it may start a line of its own there. Other
/// control characters stay, for a terminal to show as escapes (`Shown`).
pub fn flat(s: &str) -> std::borrow::Cow<'_, str> {
    let breaks = |c: char| {
        matches!(
            c,
            '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{1c}'
                ..='\u{1e}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        )
    };
    match s.contains(breaks) {
        true => s.replace(breaks, " ").into(),
        false => s.into(),
    }
}

/// Text for a person's terminal, as stored but for the characters that would act instead of
/// being read: control characters (C0, DEL, C1: ESC starts a CSI or OSC sequence that clears
/// the screen or writes the clipboard, U+009B is a CSI on its own) and the invisible ones
/// that reorder or hide what follows (bidi controls such as U+202E, zero-width and tag
/// characters, line separators). Each is shown as an escape, `\x1b` or `\u{202e}`.
///
/// Every human renderer prints through this (the `say!` family in `cmd`); JSON output does
/// not: serde escapes what JSON must, and a program reads it.
pub struct Shown<T> {
    inner: T,
    /// Keep `\n` and `\t` (a block of text), or escape them too (a field on one line).
    layout: bool,
}

impl<T: fmt::Display> Shown<T> {
    /// A block of text: its line breaks and tabs stay.
    pub fn text(inner: T) -> Shown<T> {
        Shown {
            inner,
            layout: true,
        }
    }

    /// A field that must stay on its line: line breaks and tabs are escaped as well.
    pub fn line(inner: T) -> Shown<T> {
        Shown {
            inner,
            layout: false,
        }
    }
}

/// Whether `c` must be escaped before it reaches a terminal.
fn acts(c: char, layout: bool) -> bool {
    match c {
        '\n' | '\t' => !layout,
        // Zero-width joiners hold emoji sequences and some scripts together: shown as is.
        '\u{200c}' | '\u{200d}' => false,
        _ => {
            c.is_control()
                || matches!(c,
                    '\u{061c}' | '\u{180e}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
                    | '\u{2060}'..='\u{206f}' | '\u{feff}' | '\u{fff9}'..='\u{fffb}'
                    | '\u{e0000}'..='\u{e007f}')
        }
    }
}

/// Writes through to `out`, escaping what [`acts`].
struct Escaping<'a, 'b> {
    out: &'a mut fmt::Formatter<'b>,
    layout: bool,
}

impl fmt::Write for Escaping<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let mut rest = s;
        while let Some((i, c)) = rest.char_indices().find(|&(_, c)| acts(c, self.layout)) {
            self.out.write_str(&rest[..i])?;
            match u32::from(c) {
                n @ 0..=0x7f => write!(self.out, "\\x{n:02x}")?,
                n => write!(self.out, "\\u{{{n:x}}}")?,
            }
            rest = &rest[i + c.len_utf8()..];
        }
        self.out.write_str(rest)
    }
}

impl<T: fmt::Display> fmt::Display for Shown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use fmt::Write;
        let layout = self.layout;
        write!(Escaping { out: f, layout }, "{}", self.inner)
    }
}

/// Lower-case hex of some bytes (hashes).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_never_splits_a_character() {
        assert_eq!(truncate("héllo", 2), ("h", true));
        assert_eq!(truncate("héllo", 3), ("hé", true));
        assert_eq!(truncate("héllo", 99), ("héllo", false));
        assert_eq!(truncate("", 0), ("", false));
    }

    #[test]
    fn shown_escapes_what_would_drive_a_terminal_and_keeps_the_rest() {
        let stored = "a\x1b[2Jb\x1b]52;c;SGVsbG8=\x07 \u{9b}31m \u{202e}evil\u{2066} \x7f\r\0";
        assert_eq!(
            Shown::text(stored).to_string(),
            "a\\x1b[2Jb\\x1b]52;c;SGVsbG8=\\x07 \\u{9b}31m \\u{202e}evil\\u{2066} \\x7f\\x0d\\x00"
        );
        let ordinary = "héllo wörld 👨\u{200d}👩\u{200d}👧 \"quoted\" \\path 日本語\n\tnext";
        assert_eq!(Shown::text(ordinary).to_string(), ordinary);
        assert_eq!(Shown::line("a\nb\tc").to_string(), "a\\x0ab\\x09c");
        // Through format_args!, split across arguments.
        let s = format!(
            "{}",
            Shown::text(format_args!("{}{}", "x\u{1b}", "\u{e0041}y"))
        );
        assert_eq!(s, "x\\x1b\\u{e0041}y");
        // Nothing that acts is left, whatever the character.
        for n in (0..=0x10ffffu32).filter_map(char::from_u32) {
            let shown = Shown::line(n).to_string();
            assert!(
                shown.chars().all(|c| !acts(c, false)),
                "{:x} -> {shown:?}",
                u32::from(n)
            );
        }
    }

    #[test]
    fn hex_is_lower_case_and_padded() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }
}
