//! Reading one hook payload from stdin without waiting for EOF.
//!
//! Some platforms never close a hook's stdin (hook contract §4), so we stop as soon as the
//! first JSON value is complete. A small scanner tracks strings, escapes and nesting depth (a
//! counter, not recursion: 100,000 levels cost nothing here) to find where that value ends;
//! the bytes are then parsed in one go with `from_slice`, which borrows instead of copying.

use std::io::{self, Read};
use std::sync::Arc;

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

/// Reads until the first JSON value is complete, EOF, or `max` bytes, telling the watchdog
/// of each piece that arrives.
pub fn read_payload(mut r: impl Read, max: usize) -> io::Result<Received> {
    let mut bytes = Vec::with_capacity(64 * 1024);
    let mut scan = Scanner::default();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let n = match r.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => {
                crate::watchdog::progress();
                n
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let room = max.saturating_sub(bytes.len());
        if n > room {
            bytes.extend_from_slice(&chunk[..room]);
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
    Ok(Received::complete(bytes))
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
        let r = read_payload(NeverClosed(data), 1 << 20).unwrap();
        assert_eq!(*r.bytes, data.to_vec());
    }

    #[test]
    fn deep_nesting_is_just_a_counter() {
        let data = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let r = read_payload(data.as_bytes(), 1 << 20).unwrap();
        assert_eq!(r.bytes.len(), 200_000);
    }

    #[test]
    fn scalars_and_garbage_are_read_to_eof() {
        assert_eq!(*read_payload(&b"42 "[..], 100).unwrap().bytes, b"42 ");
        assert_eq!(
            *read_payload(&b"not json"[..], 100).unwrap().bytes,
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
    fn the_limit_is_enforced() {
        let r = read_payload(&[b' '; 1000][..], 10).unwrap();
        assert!(r.too_large);
        assert_eq!(r.bytes.len(), 10);
    }
}
