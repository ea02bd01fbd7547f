//! A line diff for `--dry-run`: what a settings file would become, as `-` and `+` lines with
//! two lines of context (`similar`'s diff and grouping), hunks apart separated by `@@`.

use similar::{Algorithm, ChangeTag, capture_diff_slices, group_diff_ops};

/// The diff of `old` against `new`, unified style without hunk headers; empty when equal.
pub fn unified(old: &str, new: &str, name: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    if a == b {
        return String::new();
    }
    let mut out = format!("--- {name}\n+++ {name} (after)\n");
    for hunk in group_diff_ops(capture_diff_slices(Algorithm::Myers, &a, &b), 2) {
        // Lines were left out before this hunk.
        if hunk.first().is_some_and(|op| op.old_range().start > 0) {
            out.push_str("@@\n");
        }
        for change in hunk.iter().flat_map(|op| op.iter_changes(&a, &b)) {
            let sign = match change.tag() {
                ChangeTag::Equal => ' ',
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
            };
            out.push_str(&format!("{sign}{}\n", change.value()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn changed_lines_with_context() {
        let d = super::unified("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\n", "s.json");
        assert_eq!(
            d,
            "--- s.json\n+++ s.json (after)\n@@\n b\n c\n-d\n+D\n e\n f\n"
        );
        assert_eq!(super::unified("x\n", "x\n", "s"), "");
        // Two hunks far apart; the first at the top, so nothing left out before it.
        let old: String = (0..12).map(|i| format!("{i}\n")).collect();
        let new: String = (0..12)
            .map(|i| match i {
                0 => "zero\n".to_owned(),
                11 => "eleven\n".to_owned(),
                i => format!("{i}\n"),
            })
            .collect();
        assert_eq!(
            super::unified(&old, &new, "s"),
            "--- s\n+++ s (after)\n-0\n+zero\n 1\n 2\n@@\n 9\n 10\n-11\n+eleven\n"
        );
        // An insertion into an empty file.
        assert_eq!(super::unified("", "a\n", "s"), "--- s\n+++ s (after)\n+a\n");
    }
}
