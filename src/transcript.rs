//! Model and token usage from Claude Code's transcript (`transcript_path`), read
//! incrementally and within bounds.
//!
//! The transcript is a JSONL file the client appends to; assistant entries carry
//! `message.{id, model, usage}`. One message streamed in several content blocks appears on
//! several lines with the same id: it is counted once. Each call reads only what was appended
//! since the last one (the offset is kept in the session's row), at most `MAX_BYTES` and
//! `MAX_TIME`, and stops at the last complete line: the client may be writing the next one.
//! A missing, unreadable or shrunken file is not an error: usage is simply what could be read.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Bytes read per call at most; the rest waits for the next session-end event.
pub const MAX_BYTES: u64 = 8 * 1024 * 1024;
/// Time spent parsing per call at most.
pub const MAX_TIME: Duration = Duration::from_millis(100);

/// Token usage of a session's main conversation, as far as its transcript was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Usage {
    /// Distinct assistant messages counted.
    pub messages: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_input_tokens: u64,
    pub cache_read_input_tokens: u64,
    /// Messages per model.
    pub models: BTreeMap<String, u64>,
    /// Bytes of the transcript read so far.
    pub offset: u64,
    /// Whether the last read stopped early (size or time bound): the rest comes next time.
    pub partial: bool,
    /// The last message id counted, so that its repeats in the next read are not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_id: Option<String>,
}

impl Usage {
    /// The model most messages came from.
    pub fn main_model(&self) -> Option<&str> {
        self.models
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))
            .map(|(m, _)| m.as_str())
    }
}

#[derive(Deserialize)]
struct Line {
    #[serde(rename = "type")]
    kind: Option<String>,
    message: Option<Message>,
}

#[derive(Deserialize)]
struct Message {
    id: Option<String>,
    model: Option<String>,
    usage: Option<Tokens>,
}

#[derive(Deserialize, Default)]
struct Tokens {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
}

/// `so_far` brought up to date with what the transcript gained since.
pub fn read(path: &Path, so_far: &Usage) -> Usage {
    let started = Instant::now();
    // Never a FIFO or a device (`transcript_path` is whatever the payload says): opened
    // without blocking, and read only if it is a regular file.
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path);
    let Some(mut file) = opened
        .ok()
        .filter(|f| f.metadata().is_ok_and(|m| m.is_file()))
    else {
        return so_far.clone();
    };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    // A file shorter than what was read was replaced: start over.
    let mut usage = if len < so_far.offset {
        Usage::default()
    } else {
        so_far.clone()
    };
    if file.seek(SeekFrom::Start(usage.offset)).is_err() {
        return so_far.clone();
    }
    let mut buf = Vec::new();
    if file.take(MAX_BYTES).read_to_end(&mut buf).is_err() {
        return so_far.clone();
    }
    // Only complete lines: the client may be in the middle of writing the last one.
    let complete = buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut consumed = 0;
    usage.partial = usage.offset + (buf.len() as u64) < len;
    for line in buf[..complete].split_inclusive(|&b| b == b'\n') {
        if started.elapsed() > MAX_TIME {
            usage.partial = true;
            break;
        }
        consumed += line.len();
        let Ok(Line {
            kind,
            message: Some(m),
        }) = serde_json::from_slice::<Line>(line)
        else {
            continue;
        };
        if kind.as_deref() != Some("assistant") {
            continue;
        }
        if m.id.is_some() && m.id == usage.last_id {
            continue;
        }
        // Totals saturate: a transcript is whatever the file says, and a count that wrapped
        // would read as small.
        let t = m.usage.unwrap_or_default();
        usage.messages = usage.messages.saturating_add(1);
        usage.input_tokens = usage.input_tokens.saturating_add(t.input_tokens);
        usage.output_tokens = usage.output_tokens.saturating_add(t.output_tokens);
        usage.cache_creation_input_tokens = usage
            .cache_creation_input_tokens
            .saturating_add(t.cache_creation_input_tokens);
        usage.cache_read_input_tokens = usage
            .cache_read_input_tokens
            .saturating_add(t.cache_read_input_tokens);
        if let Some(model) = m.model.filter(|m| !m.is_empty()) {
            *usage.models.entry(model).or_default() += 1;
        }
        usage.last_id = m.id;
    }
    usage.offset += consumed as u64;
    usage
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn line(id: &str, model: &str, input: u64, output: u64) -> String {
        format!(
            r#"{{"type":"assistant","message":{{"id":"{id}","model":"{model}","content":[{{"type":"text","text":"x"}}],"usage":{{"input_tokens":{input},"output_tokens":{output},"cache_read_input_tokens":7}}}}}}"#
        ) + "\n"
    }

    #[test]
    fn counts_each_message_once_and_reads_incrementally() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let mut f = std::fs::File::create(&path).unwrap();
        write!(
            f,
            "{}",
            r#"{"type":"user","message":{"role":"user","content":"hi"}}"#.to_owned() + "\n"
        )
        .unwrap();
        write!(
            f,
            "{}{}",
            line("m1", "opus", 10, 2),
            line("m1", "opus", 10, 2)
        )
        .unwrap();
        write!(f, "{}", line("m2", "opus", 20, 3)).unwrap();
        // A half-written line is left for the next read.
        write!(f, "{}", &line("m3", "haiku", 1, 1)[..30]).unwrap();
        f.flush().unwrap();
        let u = read(&path, &Usage::default());
        assert_eq!(
            (
                u.messages,
                u.input_tokens,
                u.output_tokens,
                u.cache_read_input_tokens
            ),
            (2, 30, 5, 14)
        );
        assert_eq!(u.main_model(), Some("opus"));
        let before = u.offset;

        write!(f, "{}", &line("m3", "haiku", 1, 1)[30..]).unwrap();
        write!(f, "{}", line("m3", "haiku", 1, 1)).unwrap();
        f.flush().unwrap();
        let u = read(&path, &u);
        assert!(u.offset > before);
        assert_eq!((u.messages, u.input_tokens), (3, 31));
        assert_eq!(u.models.get("haiku"), Some(&1));
        // Nothing new: nothing changes.
        assert_eq!(read(&path, &u), u);
    }

    #[test]
    fn a_missing_or_shrunken_transcript_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = read(&dir.path().join("nope.jsonl"), &Usage::default());
        assert_eq!(missing, Usage::default());
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, line("a", "m", 5, 5)).unwrap();
        let big = Usage {
            offset: 1_000_000,
            messages: 9,
            ..Usage::default()
        };
        let u = read(&path, &big);
        assert_eq!((u.messages, u.input_tokens), (1, 5));
    }

    #[test]
    fn garbage_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(
            &path,
            format!(
                "not json\n{{\"type\":\"assistant\"}}\n\n{}",
                line("a", "m", 1, 1)
            ),
        )
        .unwrap();
        assert_eq!(read(&path, &Usage::default()).messages, 1);
    }
}
