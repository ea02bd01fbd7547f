//! The payloads exactly as Claude Code writes them on a hook's stdin.
//!
//! Two layers, so that the common case stays cheap: [`Payload`] is the envelope every event
//! shares, with `tool_input` / `tool_response` kept as borrowed raw JSON; only when the event
//! is one we record is that raw JSON parsed into the tool's own type ([`EditInput`],
//! [`WriteResponse`], ...). A `PostToolUse` of `Read` or `Bash` therefore costs one scan.
//!
//! Whole-file fields (`originalFile`, `originalFileContents`, Write `content`) are never
//! materialised: they are skipped, or folded into a [`TextDigest`] while being parsed.
//!
//! Parsing is lenient where the contract changes (unknown fields are ignored, every field is
//! optional) and strict where a wrong type means we would store something false: a
//! `structuredPatch` that is not a list of hunks is an error naming that field.

use schemars::JsonSchema;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use std::fmt;

/// The envelope of every hook event (Claude Code 1.x to 2.1.3xx).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(
    title = "Hook payload",
    description = "What Claude Code writes on a hook's stdin."
)]
pub struct Payload<'a> {
    pub session_id: Option<String>,
    pub transcript_path: Option<String>,
    /// Absent on old clients.
    pub cwd: Option<String>,
    /// `UserPromptSubmit`, `PreToolUse`, `PostToolUse`, `SessionStart`, `Stop`, `PreCompact`,
    /// `SessionEnd`, ... (absent when the event comes from claude-flow flags only).
    pub hook_event_name: Option<String>,
    pub prompt_id: Option<String>,
    /// Set when the event comes from inside a subagent (17 hex characters since 2.1.3xx).
    pub agent_id: Option<String>,
    pub agent_type: Option<String>,
    pub tool_name: Option<String>,
    /// Absent on old clients.
    pub tool_use_id: Option<String>,
    /// Tool-specific; parsed only for the tools we record.
    #[serde(borrow)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub tool_input: Option<&'a RawValue>,
    #[serde(borrow)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub tool_response: Option<&'a RawValue>,
    /// `UserPromptSubmit`.
    pub prompt: Option<String>,
    /// `SessionStart`: startup, resume, clear, compact, fork.
    pub source: Option<String>,
    /// `SessionEnd`: clear, resume, logout, prompt_input_exit, other.
    pub reason: Option<String>,
    /// `PostToolUse` / `PostToolUseFailure` (2.1.3xx).
    pub duration_ms: Option<u64>,
    /// `SessionStart` on some versions.
    pub model: Option<String>,
    /// `Stop` / `SubagentStop` (2.1.3xx).
    pub last_assistant_message: Option<String>,
    /// `PostToolUseFailure`.
    pub error: Option<String>,
    #[cfg(feature = "agents")]
    /// Codex CLI's, on every event: tells a Codex payload without `--agent` apart.
    pub turn_id: Option<String>,
    #[cfg(feature = "agents")]
    /// Cursor's session.
    pub conversation_id: Option<String>,
    #[cfg(feature = "agents")]
    /// GitHub Copilot CLI's session, in its camelCase payloads.
    #[serde(rename = "sessionId")]
    pub session_id_camel: Option<String>,
}

/// `tool_input` of Write, Edit, MultiEdit and NotebookEdit: one lenient struct, since they
/// share their field names. Fields flowhook does not use are not listed (they are accepted
/// and skipped, like every unknown field).
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct EditInput {
    pub file_path: Option<String>,
    /// NotebookEdit names its file here.
    pub notebook_path: Option<String>,
    /// Write: the whole new file. Digested, never kept.
    pub content: Option<TextDigest>,
    /// Edit.
    pub old_string: Option<TextDigest>,
    pub new_string: Option<TextDigest>,
    /// MultiEdit (legacy).
    pub edits: Option<Vec<MultiEditOp>>,
    /// NotebookEdit.
    pub new_source: Option<TextDigest>,
    /// replace (default), insert, delete.
    pub edit_mode: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
pub struct MultiEditOp {
    pub old_string: Option<TextDigest>,
    pub new_string: Option<TextDigest>,
}

/// `tool_response` of the edit tools (Write, Edit, MultiEdit, NotebookEdit).
///
/// `originalFile`, `originalFileContents` (MultiEdit) and `original_file` / `updated_file`
/// (NotebookEdit) are deliberately not fields: serde skips them without allocating.
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct EditResponse {
    /// Write: `create` or `update`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    #[serde(rename = "filePath")]
    pub file_path: Option<String>,
    /// Write: the whole new file. Digested, never kept.
    pub content: Option<TextDigest>,
    #[serde(rename = "structuredPatch")]
    pub structured_patch: Option<Vec<Hunk>>,
    /// NotebookEdit echoes its input here, with the cell's previous source.
    pub new_source: Option<TextDigest>,
    pub old_source: Option<TextDigest>,
    pub edit_mode: Option<String>,
}

/// One unified-diff hunk of `structuredPatch`. Some clients omit `oldLines` / `newLines`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Hunk {
    pub old_start: Option<u64>,
    pub old_lines: Option<u64>,
    pub new_start: Option<u64>,
    pub new_lines: Option<u64>,
    /// `" context"`, `"-removed"`, `"+added"`.
    #[serde(default)]
    pub lines: Vec<String>,
}

/// `tool_input` of Agent (and of `Task`, its name before 2.1.63).
#[derive(Debug, Default, Deserialize, JsonSchema)]
pub struct AgentInput {
    pub description: Option<String>,
    pub prompt: Option<String>,
    pub subagent_type: Option<String>,
}

/// `tool_response` of Agent (and `Task`): the subagent's outcome. Its `content` and `usage`
/// are not kept.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AgentResponse {
    /// completed, async_launched, ...
    pub status: Option<String>,
    pub agent_id: Option<String>,
    pub agent_type: Option<String>,
    pub total_duration_ms: Option<u64>,
    pub total_tokens: Option<u64>,
    pub total_tool_use_count: Option<u64>,
}

/// A string we need facts about but must not keep: its size, line count and SHA-256.
/// Deserialising one streams over the text once; the text itself is dropped.
#[derive(Debug, Clone, PartialEq, Eq, JsonSchema)]
#[schemars(with = "String")]
pub struct TextDigest {
    pub bytes: u64,
    /// Lines as an editor counts them: `"a\nb"` and `"a\nb\n"` are both 2.
    pub lines: u64,
    pub sha256: [u8; 32],
    /// The first few hundred bytes, for a bounded preview (cut on a character boundary).
    pub head: String,
}

/// Bytes of a digested text kept as its preview.
const DIGEST_HEAD_BYTES: usize = 2048;

impl TextDigest {
    pub fn of(text: &str) -> Self {
        TextDigest {
            bytes: text.len() as u64,
            lines: count_lines(text),
            sha256: Sha256::digest(text.as_bytes()).into(),
            head: crate::text::truncate(text, DIGEST_HEAD_BYTES).0.to_owned(),
        }
    }

    pub fn sha256_hex(&self) -> String {
        crate::text::hex(&self.sha256)
    }
}

/// Lines as an editor counts them: a trailing newline does not start a new line.
pub fn count_lines(text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    let newlines = text.bytes().filter(|&b| b == b'\n').count() as u64;
    newlines + u64::from(!text.ends_with('\n'))
}

impl<'de> Deserialize<'de> for TextDigest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TextDigest;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<TextDigest, E> {
                Ok(TextDigest::of(s))
            }
        }
        d.deserialize_str(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_like_an_editor() {
        assert_eq!(count_lines(""), 0);
        assert_eq!(count_lines("a"), 1);
        assert_eq!(count_lines("a\n"), 1);
        assert_eq!(count_lines("a\nb"), 2);
        assert_eq!(count_lines("a\nb\n"), 2);
        assert_eq!(count_lines("\n\n"), 2);
    }

    #[test]
    fn envelope_borrows_tool_fields_and_ignores_unknown_ones() {
        let raw = r#"{"session_id":"s","hook_event_name":"PostToolUse","tool_name":"Read",
            "tool_input":{"file_path":"/a"},"tool_response":{"file":{"content":"x"}},
            "logged_at":"2026-01-01","agent_id":"unknown"}"#;
        let p: Payload = serde_json::from_str(raw).unwrap();
        assert_eq!(p.tool_name.as_deref(), Some("Read"));
        assert_eq!(p.tool_input.unwrap().get(), r#"{"file_path":"/a"}"#);
    }

    #[test]
    fn edit_response_digests_content_and_skips_the_original_file() {
        let raw = r#"{"type":"create","filePath":"/p/a.rs","content":"a\nb\n",
            "structuredPatch":[],"originalFile":null}"#;
        let r: EditResponse = serde_json::from_str(raw).unwrap();
        let c = r.content.unwrap();
        assert_eq!((c.bytes, c.lines), (4, 2));
        assert_eq!(c.head, "a\nb\n");
        assert!(r.structured_patch.unwrap().is_empty());
    }
}
