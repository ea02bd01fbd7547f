//! Small text helpers shared by storage and answers: bounded copies that never split a
//! UTF-8 character, and hex.

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
    fn hex_is_lower_case_and_padded() {
        assert_eq!(hex(&[0, 15, 255]), "000fff");
    }
}
