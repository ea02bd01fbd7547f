//! Reading one hook payload from stdin without waiting for EOF.
//!
//! Some platforms never close a hook's stdin (hook contract §4), so we stop as soon as the
//! first JSON value is complete. A small scanner tracks strings, escapes and nesting depth (a
//! counter, not recursion: 100,000 levels cost nothing here) to find where that value ends;
//! the bytes are then parsed in one go with `from_slice`, which borrows instead of copying.

use std::io::{self, Read};
use std::sync::{Arc, Mutex, MutexGuard};

/// What arrived on stdin.
#[derive(Debug)]
pub struct Received {
    /// The bytes read (at most the limit; the first value, when complete). Shared with the
    /// watchdog, which spools them if time runs out.
    pub bytes: Arc<Vec<u8>>,
    /// More arrived than the limit allows.
    pub too_large: bool,
    /// Bytes that arrived (exact up to the limit, a lower bound past it).
    pub total: usize,
}

/// Reads until the first JSON value is complete, EOF, or `max` bytes, calling `progress` for
/// each piece that arrives (the watchdog moves its deadline). The bytes gather in `into` (the
/// watchdog's, which keeps what arrived if stdin stalls halfway; locked only between two
/// reads) and are taken out of it at the end.
pub fn read_payload(
    mut r: impl Read,
    max: usize,
    into: &Mutex<Vec<u8>>,
    progress: &dyn Fn(),
) -> io::Result<Received> {
    let lock = || into.lock().unwrap_or_else(|e| e.into_inner());
    let take = |mut b: MutexGuard<Vec<u8>>| std::mem::take(&mut *b);
    lock().reserve(64 * 1024);
    let mut scan = Scanner::default();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                progress();
                n
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                take(lock());
                return Err(e);
            }
        };
        let mut bytes = lock();
        let room = max.saturating_sub(bytes.len());
        if n > room {
            bytes.extend_from_slice(&chunk[..room]);
            let bytes = take(bytes);
            return Ok(Received {
                total: bytes.len() + (n - room),
                bytes: Arc::new(bytes),
                too_large: true,
            });
        }
        let start = bytes.len();
        bytes.extend_from_slice(&chunk[..n]);
        if let Some(end) = scan.feed(&bytes[start..]) {
            bytes.truncate(start + end);
            break;
        }
    }
    Ok(Received::complete(take(lock())))
}

impl Received {
    /// Bytes that arrived whole (a replayed line, a spooled event).
    pub fn complete(bytes: Vec<u8>) -> Received {
        Received {
            total: bytes.len(),
            bytes: Arc::new(bytes),
            too_large: false,
        }
    }
}

/// Valid JSON that serde's typed parsing refuses, as JavaScript (which wrote it) reads it:
/// a lone surrogate escape (`"\ud83d"`, half of an emoji a cut left behind) becomes U+FFFD,
/// and of duplicate keys the last wins, at every depth. `None` when the bytes are not JSON.
/// Only for a payload the typed parse refused: it costs a parse and a write of the whole.
pub fn repaired(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut fixed = bytes.to_vec();
    replace_lone_surrogates(&mut fixed);
    let value: serde_json::Value = serde_json::from_slice(&fixed).ok()?;
    serde_json::to_vec(&value).ok()
}

/// Rewrites each `\uXXXX` escape of a surrogate that is not half of a pair as `\uFFFD`
/// (same length, in place). A backslash only occurs in strings in valid JSON, so escapes
/// are found without tracking strings.
fn replace_lone_surrogates(b: &mut [u8]) {
    let unit = |b: &[u8], at: usize| -> Option<u16> {
        let hex = b.get(at..at + 6)?.strip_prefix(b"\\u")?;
        u16::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()
    };
    let high = |u: u16| (0xD800..0xDC00).contains(&u);
    let low = |u: u16| (0xDC00..0xE000).contains(&u);
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] != b'\\' {
            i += 1;
            continue;
        }
        match unit(b, i) {
            Some(u) if high(u) && unit(b, i + 6).is_some_and(low) => i += 12,
            Some(u) if high(u) || low(u) => {
                b[i + 2..i + 6].copy_from_slice(b"FFFD");
                i += 6;
            }
            Some(_) => i += 6,
            None => i += 2,
        }
    }
}

/// What can be read of a payload cut at `max_payload_bytes`: its whole top-level members
/// and, when the cut fell in `tool_response`, that object's whole members (closed as JSON).
/// A Write of many megabytes carries its content twice (`tool_input` and `tool_response`):
/// cut in the second copy, what came before still says what was done. A member cut anywhere
/// else is left out whole (a `tool_input` without its strings must not read as an edit of
/// nothing).
pub fn complete_prefix(bytes: &[u8]) -> Option<Vec<u8>> {
    let (mut open, mut in_string, mut escaped) = (Vec::new(), false, false);
    let (mut key_start, mut key, mut member) = (0, &b""[..], &b""[..]);
    let (mut top, mut deep): (Option<usize>, Option<(usize, Vec<u8>)>) = (None, None);
    for (i, &b) in bytes.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => {
                    in_string = false;
                    if open.len() == 1 {
                        key = &bytes[key_start..i];
                    }
                }
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                key_start = i + 1;
            }
            b'{' | b'[' => {
                if open.len() == 1 {
                    member = key;
                }
                open.push(if b == b'{' { b'}' } else { b']' });
            }
            b'}' | b']' => {
                open.pop();
            }
            b',' if open.len() == 1 => (top, deep) = (Some(i), None),
            b',' => deep = Some((i, open.clone())),
            _ => {}
        }
    }
    let (at, open) = match deep {
        Some(cut) if member == b"tool_response" => cut,
        _ => (top?, b"}".to_vec()),
    };
    let mut whole = bytes[..at].to_vec();
    whole.extend(open.iter().rev());
    Some(whole)
}

/// A serde_json error without the value it quotes (`invalid type: string "…", expected
/// u64` names the type, not the string, which may be a secret).
pub fn describe_error(e: &serde_json::Error) -> String {
    let message = e.to_string();
    let unquoted = match (message.find(" \""), message.rfind("\", ")) {
        (Some(open), Some(close)) if close > open => {
            format!("{}{}", &message[..open], &message[close + 1..])
        }
        _ => message,
    };
    crate::redact::redact(&unquoted, &[]).into_owned()
}

/// Finds the end of the first JSON object or array in a byte stream fed in pieces.
#[derive(Default)]
struct Scanner {
    depth: u64,
    in_string: bool,
    escaped: bool,
    started: bool,
}

impl Scanner {
    /// Feeds the next piece; returns the offset just past the value's end within `piece`
    /// once the first object or array closes. A scalar value (not ours to read) is left to
    /// EOF and the parser.
    fn feed(&mut self, piece: &[u8]) -> Option<usize> {
        for (i, &b) in piece.iter().enumerate() {
            if self.in_string {
                match (self.escaped, b) {
                    (true, _) => self.escaped = false,
                    (false, b'\\') => self.escaped = true,
                    (false, b'"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' if self.started => self.in_string = true,
                b'{' | b'[' => {
                    self.started = true;
                    self.depth += 1;
                }
                b'}' | b']' if self.started => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Some(i + 1);
                    }
                }
                // Anything else (before a bracket: a scalar or garbage, read to EOF).
                _ => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its data in small pieces and then blocks forever (panics
    /// here, to prove we never ask for more).
    struct NeverClosed<'a>(&'a [u8]);
    impl Read for NeverClosed<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            assert!(!self.0.is_empty(), "read past the end of the value");
            let n = buf.len().min(self.0.len()).min(7);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn stops_at_the_end_of_the_first_object_without_eof() {
        let data = br#" {"a":"x}\"{","b":[1,{"c":2}]}"#;
        let r = read_payload(NeverClosed(data), 1 << 20, &Mutex::default(), &|| {}).unwrap();
        assert_eq!(*r.bytes, data.to_vec());
    }

    #[test]
    fn deep_nesting_is_just_a_counter() {
        let data = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let r = read_payload(data.as_bytes(), 1 << 20, &Mutex::default(), &|| {}).unwrap();
        assert_eq!(r.bytes.len(), 200_000);
    }

    #[test]
    fn scalars_and_garbage_are_read_to_eof() {
        assert_eq!(
            *read_payload(&b"42 "[..], 100, &Mutex::default(), &|| {})
                .unwrap()
                .bytes,
            b"42 "
        );
        assert_eq!(
            *read_payload(&b"not json"[..], 100, &Mutex::default(), &|| {})
                .unwrap()
                .bytes,
            b"not json"
        );
    }

    #[test]
    fn errors_name_the_type_not_the_value() {
        let e = serde_json::from_str::<u64>(r#""sk-ant-api03-secret""#).unwrap_err();
        assert_eq!(
            describe_error(&e),
            "invalid type: string, expected u64 at line 1 column 21"
        );
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let fixed = |s: &str| {
            let v: serde_json::Value =
                serde_json::from_slice(&repaired(s.as_bytes()).unwrap()).unwrap();
            v["a"].as_str().unwrap().to_owned()
        };
        assert_eq!(fixed(r#"{"a":"cut \ud83d"}"#), "cut \u{fffd}");
        assert_eq!(
            fixed(r#"{"a":"\ude00 x \ud83d\ude00"}"#),
            "\u{fffd} x \u{1f600}"
        );
        assert_eq!(fixed(r#"{"a":"\\ud83d"}"#), "\\ud83d");
        assert_eq!(fixed(r#"{"a":"\uD83D\u0041"}"#), "\u{fffd}A");
    }

    #[test]
    fn duplicate_keys_keep_the_last_at_every_depth() {
        let v: serde_json::Value =
            serde_json::from_slice(&repaired(br#"{"a":1,"b":{"c":1,"c":2},"a":3}"#).unwrap())
                .unwrap();
        assert_eq!(v, serde_json::json!({"a": 3, "b": {"c": 2}}));
        assert_eq!(repaired(b"{\"a\":"), None);
    }

    #[test]
    fn a_cut_payload_keeps_its_whole_members() {
        let read = |cut: &[u8]| -> serde_json::Value {
            serde_json::from_slice(&complete_prefix(cut).unwrap()).unwrap()
        };
        let cut = br#"{"a":"x,y","tool_response":{"c":[1,2],"d":"long text th"#;
        assert_eq!(
            read(cut),
            serde_json::json!({"a": "x,y", "tool_response": {"c": [1, 2]}})
        );
        // Cut elsewhere, the member goes whole.
        let cut = br#"{"a":"x,y","tool_input":{"file_path":"f","old_string":"long te"#;
        assert_eq!(read(cut), serde_json::json!({"a": "x,y"}));
        let cut = br#"{"a":1,"b":[{"c":1},{"c":"#;
        assert_eq!(read(cut), serde_json::json!({"a": 1}));
        assert_eq!(complete_prefix(br#"{"a":"no comma"#), None);
    }

    #[test]
    fn the_limit_is_enforced() {
        let r = read_payload(&[b' '; 1000][..], 10, &Mutex::default(), &|| {}).unwrap();
        assert!(r.too_large);
        assert_eq!(r.bytes.len(), 10);
    }
}
