//! Codex's `apply_patch` text, one edit per file: which file, created, changed or deleted,
//! and its `+`/`-` lines. Pure, and lenient: a line it does not understand is skipped, a
//! patch with no file in it is no edit at all.
//!
//! The format (codex-rs `apply-patch`): `*** Begin Patch`, then per file `*** Add File: P`
//! (every line `+`), `*** Delete File: P`, or `*** Update File: P` with an optional
//! `*** Move to: Q` and `@@` hunks of ` `/`-`/`+` lines; `*** End of File` may close a hunk;
//! `*** End Patch`.

use super::edit::{self, EditFacts};

/// One file's section of a patch.
struct Section<'a> {
    file: &'a str,
    kind: &'static str,
    lines: Vec<&'a str>,
}

/// The edits `patch` makes, in order, each with a diff bounded by `diff_limit`.
pub fn edits(patch: &str, diff_limit: usize) -> Vec<EditFacts> {
    let mut sections: Vec<Section> = Vec::new();
    for line in patch.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let header = [
            ("*** Add File: ", "create"),
            ("*** Update File: ", "edit"),
            ("*** Delete File: ", "delete"),
        ]
        .into_iter()
        .find_map(|(tag, kind)| Some((line.strip_prefix(tag)?.trim(), kind)));
        if let Some((file, kind)) = header {
            sections.push(Section {
                file,
                kind,
                lines: Vec::new(),
            });
            continue;
        }
        let Some(current) = sections.last_mut() else {
            continue;
        };
        if let Some(to) = line.strip_prefix("*** Move to: ") {
            // The edit is filed under the name the file has now.
            current.file = to.trim();
        } else if !line.starts_with("***") {
            current.lines.push(line);
        }
    }
    sections
        .into_iter()
        .filter(|s| !s.file.is_empty())
        .map(|s| edit::from_lines(s.file.to_owned(), s.kind, &s.lines, diff_limit))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_file_gets_its_own_counts() {
        let patch = "*** Begin Patch\n*** Add File: a/new.py\n+one\n+two\n\
                     *** Update File: src/lib.rs\n*** Move to: src/core.rs\n@@ fn main\n ctx\n-old\n+new\n+more\n\
                     *** Delete File: gone.txt\n*** End Patch\n";
        let got: Vec<_> = edits(patch, 4096)
            .into_iter()
            .map(|e| (e.file, e.kind, e.lines_added, e.lines_removed))
            .collect();
        assert_eq!(
            got,
            [
                ("a/new.py".to_owned(), "create", 2, 0),
                ("src/core.rs".to_owned(), "edit", 2, 1),
                ("gone.txt".to_owned(), "delete", 0, 0),
            ]
        );
    }

    #[test]
    fn not_a_patch_is_no_edit() {
        assert!(edits("", 100).is_empty());
        assert!(edits("+just\n-lines\n", 100).is_empty());
        assert!(edits("*** Update File: \n+x\n", 100).is_empty());
    }

    #[test]
    fn the_diff_is_bounded() {
        let body: String = (0..1000).map(|i| format!("+line {i}\n")).collect();
        let e = &edits(&format!("*** Add File: big\n{body}"), 200)[0];
        assert_eq!(e.lines_added, 1000);
        assert!(e.diff.len() <= 200 && e.diff_truncated);
    }
}
