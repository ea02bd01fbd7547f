//! What an edit tool did, from its `tool_input` and `tool_response`: the file, the kind, lines
//! added and removed, a bounded diff and a hash. Pure: no I/O.

use super::wire::{EditInput, EditResponse, Hunk, TextDigest};
use sha2::{Digest, Sha256};

/// The facts of one edit, ready to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditFacts {
    pub file: String,
    /// `create`, `update` (a Write over an existing file), `edit` or `delete` (Codex).
    pub kind: &'static str,
    pub lines_added: u64,
    pub lines_removed: u64,
    /// Unified-diff hunks (a create: the head of the new content as `+` lines), bounded.
    pub diff: String,
    pub diff_truncated: bool,
    /// Write: SHA-256 of the written content. Other tools: SHA-256 of the change itself
    /// (the whole file after an Edit is not in the payload, and we do not rebuild it).
    pub content_hash: String,
}

/// The edit made by `tool` (Write, Edit, MultiEdit or NotebookEdit), or why it cannot be read.
pub fn facts(
    tool: &str,
    input: &EditInput,
    response: Option<&EditResponse>,
    diff_limit: usize,
) -> Result<EditFacts, super::Refusal> {
    let file = input
        .file_path
        .as_deref()
        .or(input.notebook_path.as_deref())
        .or(response.and_then(|r| r.file_path.as_deref()))
        .filter(|f| !f.is_empty())
        .ok_or(super::Refusal::Missing("tool_input has no file_path"))?
        .to_owned();
    let patch = response.and_then(|r| r.structured_patch.as_deref());
    let mut diff = Diff::new(diff_limit);

    if tool == "NotebookEdit" {
        let new = response
            .and_then(|r| r.new_source.as_ref())
            .or(input.new_source.as_ref());
        let old = response.and_then(|r| r.old_source.as_ref());
        let mode = response
            .and_then(|r| r.edit_mode.as_deref())
            .or(input.edit_mode.as_deref());
        let (added, removed) = match mode {
            Some("delete") => (0, lines(old)),
            Some("insert") => (lines(new), 0),
            _ => (lines(new), lines(old)),
        };
        if let Some(old) = old.filter(|_| mode != Some("insert")) {
            diff.text('-', old);
        }
        if let Some(new) = new.filter(|_| mode != Some("delete")) {
            diff.text('+', new);
        }
        return Ok(diff.finish(file, "edit", added, removed, None));
    }

    if let Some(hunks) = patch.filter(|h| !h.is_empty()) {
        let (added, removed) = count_hunks(hunks);
        for h in hunks {
            diff.hunk(h);
        }
        let kind = match tool {
            "Write" => "update",
            _ => "edit",
        };
        let content = response
            .and_then(|r| r.content.as_ref())
            .or(input.content.as_ref());
        return Ok(diff.finish(file, kind, added, removed, content));
    }

    match tool {
        "Write" => {
            // A create has an empty patch: every line of the content is new. A Write whose
            // response is missing (an old client) is counted the same way.
            let content = response
                .and_then(|r| r.content.as_ref())
                .or(input.content.as_ref());
            let is_update = response.and_then(|r| r.kind.as_deref()) == Some("update");
            if let Some(c) = content {
                diff.text('+', c);
            }
            let kind = if is_update { "update" } else { "create" };
            let added = if is_update { 0 } else { lines(content) };
            Ok(diff.finish(file, kind, added, 0, content))
        }
        // No patch (old clients): the strings themselves tell what changed.
        _ => {
            let ops: Vec<(Option<&TextDigest>, Option<&TextDigest>)> = match &input.edits {
                Some(edits) => edits
                    .iter()
                    .map(|e| (e.old_string.as_ref(), e.new_string.as_ref()))
                    .collect(),
                None => vec![(input.old_string.as_ref(), input.new_string.as_ref())],
            };
            let (mut added, mut removed) = (0, 0);
            for (old, new) in ops {
                removed += lines(old);
                added += lines(new);
                if let Some(old) = old {
                    diff.text('-', old);
                }
                if let Some(new) = new {
                    diff.text('+', new);
                }
            }
            Ok(diff.finish(file, "edit", added, removed, None))
        }
    }
}

/// The facts of an edit given as diff lines (`@@` headers, ` `, `-` and `+` lines), as
/// Codex's `apply_patch` gives them: counted, and kept as the bounded diff.
#[cfg(feature = "agents")]
pub fn from_lines(
    file: String,
    kind: &'static str,
    lines: &[&str],
    diff_limit: usize,
) -> EditFacts {
    let mut diff = Diff::new(diff_limit);
    let (mut added, mut removed) = (0, 0);
    for l in lines {
        match l.as_bytes().first() {
            Some(b'+') => added += 1,
            Some(b'-') => removed += 1,
            _ => {}
        }
        diff.line(l);
    }
    diff.finish(file, kind, added, removed, None)
}

fn lines(d: Option<&TextDigest>) -> u64 {
    d.map_or(0, |d| d.lines)
}

/// Lines added and removed by some hunks: their `+` and `-` lines.
pub fn count_hunks(hunks: &[Hunk]) -> (u64, u64) {
    hunks
        .iter()
        .flat_map(|h| &h.lines)
        .fold((0, 0), |(a, r), l| match l.as_bytes().first() {
            Some(b'+') => (a + 1, r),
            Some(b'-') => (a, r + 1),
            _ => (a, r),
        })
}

/// A unified diff that stops growing at its limit (on a line boundary).
struct Diff {
    out: String,
    limit: usize,
    truncated: bool,
}

impl Diff {
    fn new(limit: usize) -> Self {
        Diff {
            out: String::new(),
            limit,
            truncated: false,
        }
    }

    fn line(&mut self, line: &str) {
        if self.truncated {
            return;
        }
        if self.out.len() + line.len() + 1 > self.limit {
            self.truncated = true;
            return;
        }
        self.out.push_str(line);
        self.out.push('\n');
    }

    fn hunk(&mut self, h: &Hunk) {
        let n = |v: Option<u64>| v.map_or_else(|| "?".to_owned(), |v| v.to_string());
        self.line(&format!(
            "@@ -{},{} +{},{} @@",
            n(h.old_start),
            n(h.old_lines),
            n(h.new_start),
            n(h.new_lines)
        ));
        for l in &h.lines {
            self.line(l);
        }
    }

    /// The head of a digested text as diff lines, each prefixed by `sign`. When the head is
    /// only part of the text, its last line is only part of a line: it is left out, so that
    /// no half line (half a secret, say) is ever stored.
    fn text(&mut self, sign: char, text: &TextDigest) {
        let cut = text.bytes as usize > text.head.len();
        let whole = if cut {
            text.head.rfind('\n').map_or("", |i| &text.head[..i])
        } else {
            &text.head
        };
        for l in whole.lines() {
            self.line(&format!("{sign}{l}"));
        }
        self.truncated |= cut;
    }

    fn finish(
        self,
        file: String,
        kind: &'static str,
        lines_added: u64,
        lines_removed: u64,
        content: Option<&TextDigest>,
    ) -> EditFacts {
        let content_hash = match content {
            Some(c) => c.sha256_hex(),
            None => crate::text::hex(&Sha256::digest(self.out.as_bytes())),
        };
        EditFacts {
            file,
            kind,
            lines_added,
            lines_removed,
            diff: self.out,
            diff_truncated: self.truncated,
            content_hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tool: &str, input: &str, response: Option<&str>) -> EditFacts {
        let input: EditInput = serde_json::from_str(input).unwrap();
        let response: Option<EditResponse> = response.map(|r| serde_json::from_str(r).unwrap());
        facts(tool, &input, response.as_ref(), 4096).unwrap()
    }

    #[test]
    fn write_create_counts_the_content() {
        let f = run(
            "Write",
            r#"{"file_path":"/p/a.md","content":"one\ntwo\n"}"#,
            Some(r#"{"type":"create","content":"one\ntwo\n","structuredPatch":[]}"#),
        );
        assert_eq!((f.kind, f.lines_added, f.lines_removed), ("create", 2, 0));
        assert_eq!(f.diff, "+one\n+two\n");
    }

    #[test]
    fn edit_counts_its_hunks_and_ignores_context_lines() {
        let f = run(
            "Edit",
            r#"{"file_path":"/p/a.md","old_string":"two","new_string":"TWO"}"#,
            Some(
                r#"{"structuredPatch":[{"oldStart":1,"oldLines":2,"newStart":1,"newLines":2,
                "lines":[" one","-two","+TWO"]}],"originalFile":"one\ntwo\n"}"#,
            ),
        );
        assert_eq!((f.kind, f.lines_added, f.lines_removed), ("edit", 1, 1));
        assert_eq!(f.diff, "@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n");
    }

    #[test]
    fn multiedit_without_patch_sums_its_operations() {
        let f = run(
            "MultiEdit",
            r#"{"file_path":"/p/a","edits":[{"old_string":"a","new_string":"b\nc"},
               {"old_string":"d\ne\nf","new_string":""}]}"#,
            None,
        );
        assert_eq!((f.lines_added, f.lines_removed), (2, 4));
    }

    #[test]
    fn notebook_modes() {
        let r = |mode: &str| {
            run(
                "NotebookEdit",
                r#"{"notebook_path":"/p/n.ipynb","new_source":"x\ny"}"#,
                Some(&format!(
                    r#"{{"new_source":"x\ny","old_source":"z","edit_mode":"{mode}"}}"#
                )),
            )
        };
        assert_eq!(
            (r("replace").lines_added, r("replace").lines_removed),
            (2, 1)
        );
        assert_eq!((r("insert").lines_added, r("insert").lines_removed), (2, 0));
        assert_eq!((r("delete").lines_added, r("delete").lines_removed), (0, 1));
    }

    #[test]
    fn the_stored_diff_is_bounded_on_a_line() {
        let content = "x".repeat(100) + "\n";
        let input = format!(
            r#"{{"file_path":"/p/a","content":"{}"}}"#,
            content.repeat(100).replace('\n', "\\n")
        );
        let input: EditInput = serde_json::from_str(&input).unwrap();
        let f = facts("Write", &input, None, 1000).unwrap();
        assert_eq!(f.lines_added, 100);
        assert!(f.diff_truncated);
        assert!(f.diff.len() <= 1000 && f.diff.ends_with('\n'));
    }

    #[test]
    fn the_head_of_a_long_write_keeps_whole_lines_only() {
        let content = format!("a = 1\nkey = AKIAIOSFODNN7EXAMPLE\n{}", "x".repeat(3000));
        let input = format!(
            r#"{{"file_path":"/p/a","content":{}}}"#,
            serde_json::json!(content)
        );
        // Cut the head inside the key: its line must not be kept.
        let mut input: EditInput = serde_json::from_str(&input).unwrap();
        input.content.as_mut().unwrap().head.truncate(16);
        let f = facts("Write", &input, None, 4096).unwrap();
        assert_eq!(f.diff, "+a = 1\n");
        assert!(f.diff_truncated);
    }

    #[test]
    fn an_edit_needs_a_file() {
        let input: EditInput = serde_json::from_str(r#"{"content":"x"}"#).unwrap();
        assert!(facts("Write", &input, None, 100).is_err());
    }
}
