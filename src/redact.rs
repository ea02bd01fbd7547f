//! Secrets, removed before anything is stored (and so before anything could ever be synced).
//!
//! Recognised by shape, with hand-written scanners rather than regular expressions: a hook
//! call must not pay for compiling a regex set. A redacted secret keeps a short prefix so a
//! person can tell what was there (`sk-ant-…[REDACTED]`, `password=[REDACTED]`);
//! `<private>…</private>` spans are dropped whole. Patterns added in hooks.toml
//! (`redact.extra_patterns`) are regular expressions, compiled only when there are some.
//!
//! Three kinds of text come here, and each is scanned as thoroughly as the others:
//! - decoded text (a prompt, a diff): [`redact`];
//! - raw JSON (a quarantined payload, a log line: [`redact_raw`]): the scanners read the
//!   escapes `\n`, `\t`, `\"`, `\\`, `\uXXXX` as the characters they stand for, and the
//!   spans they find are mapped back onto the raw bytes;
//! - the head of a longer text (a payload cut at its bound): a secret cut by the bound is
//!   still a secret, so whatever secret-like text touches the cut is removed even when it is
//!   shorter than a whole one. Texts flowhook bounds itself are redacted before they are
//!   cut ([`redact_bounded`]).
//!
//! The scanners err on the side of ordinary code staying intact: an assignment whose value
//! looks like code (`token = tokenize(input)`, `secret: Option<String>`) is left alone; a
//! quoted or plain literal is redacted.
//!
//! Besides the hand-written scanners, a table of 216 service-specific shapes (GitLab, npm,
//! Hugging Face, SendGrid, Slack webhooks, ...), derived from gitleaks' default rule set
//! (`redact/rules.rs`). One scan of a text finds the words every scanner searches for and
//! the table's keywords, from an index the compiler builds (nothing to set up per process);
//! only the scanners and rules whose words are in the text then run, a rule's regex compiled
//! the first time. A text without any of those words costs that one scan.

use std::borrow::Cow;
use std::sync::OnceLock;

mod rules;

/// What replaces a secret.
pub const MARK: &str = "[REDACTED]";

/// A token secret recognised by its prefix: the prefix kept, at least `min` token characters
/// after it.
struct Prefix {
    prefix: &'static str,
    min: usize,
    /// Characters the token may contain besides ASCII letters and digits.
    extra: &'static str,
}

const PREFIXES: &[Prefix] = &[
    Prefix {
        prefix: "sk-ant-",
        min: 20,
        extra: "-_",
    },
    Prefix {
        prefix: "sk-proj-",
        min: 20,
        extra: "-_",
    },
    Prefix {
        prefix: "sk-",
        min: 20,
        extra: "-_",
    },
    Prefix {
        prefix: "github_pat_",
        min: 20,
        extra: "_",
    },
    Prefix {
        prefix: "ghp_",
        min: 30,
        extra: "",
    },
    Prefix {
        prefix: "gho_",
        min: 30,
        extra: "",
    },
    Prefix {
        prefix: "ghs_",
        min: 30,
        extra: "",
    },
    Prefix {
        prefix: "ghu_",
        min: 30,
        extra: "",
    },
    Prefix {
        prefix: "ghr_",
        min: 30,
        extra: "",
    },
    Prefix {
        prefix: "AKIA",
        min: 16,
        extra: "",
    },
    Prefix {
        prefix: "ASIA",
        min: 16,
        extra: "",
    },
    Prefix {
        prefix: "xoxb-",
        min: 10,
        extra: "-",
    },
    Prefix {
        prefix: "xoxa-",
        min: 10,
        extra: "-",
    },
    Prefix {
        prefix: "xoxp-",
        min: 10,
        extra: "-",
    },
    Prefix {
        prefix: "xoxr-",
        min: 10,
        extra: "-",
    },
    Prefix {
        prefix: "xoxs-",
        min: 10,
        extra: "-",
    },
    Prefix {
        prefix: "sk_live_",
        min: 16,
        extra: "",
    },
    Prefix {
        prefix: "rk_live_",
        min: 16,
        extra: "",
    },
    Prefix {
        prefix: "AIza",
        min: 30,
        extra: "-_",
    },
];

/// Keys whose values are secrets in `key=value`, `key: value` and `"key": "value"`.
const SECRET_KEYS: &[&str] = &[
    "password",
    "passwd",
    "pwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "api-key",
    "access_key",
    "private_key",
    "client_secret",
    "auth",
    "credentials",
    // A word of its own only (`DB_PASS`, `smtpPass`; not `bypass`, `compass`).
    "pass",
    // Azure connection strings.
    "accountkey",
    "sharedaccesskey",
];

/// How a name that holds a secret key may go on after it (`DB_PASSWORD_KEY`,
/// `SECRET_KEY_BASE`, `SSH_PASSPHRASE`); any other ending names something else
/// (`token_count`, `password_hint`).
const NAME_ENDINGS: &[&str] = &["key", "token", "key_base", "phrase"];

/// The secrets removed from decoded `text`; borrowed when there were none.
pub fn redact<'a>(text: &'a str, extra: &[regex_lite::Regex]) -> Cow<'a, str> {
    scrub(
        text,
        extra,
        Kind {
            cut: false,
            raw: false,
        },
    )
}

/// The same for raw JSON text (escapes read as what they stand for), `cut` when it is the
/// head of a longer payload.
pub fn redact_raw<'a>(text: &'a str, extra: &[regex_lite::Regex], cut: bool) -> Cow<'a, str> {
    scrub(text, extra, Kind { cut, raw: true })
}

/// In place, for the owned strings of an event.
pub fn redact_in_place(text: &mut String, extra: &[regex_lite::Regex]) {
    if let Cow::Owned(changed) = redact(text, extra) {
        *text = changed;
    }
}

/// At most `max` bytes of `text` with its secrets removed first, so that a bound never
/// leaves part of a secret behind; `…` marks a cut.
pub fn redact_bounded(text: &str, max: usize, extra: &[regex_lite::Regex]) -> String {
    let clean = redact(text, extra);
    let (head, cut) = crate::text::truncate(&clean, max);
    if cut {
        format!("{head}…")
    } else {
        head.to_owned()
    }
}

#[derive(Clone, Copy)]
struct Kind {
    /// The text is the head of a longer one.
    cut: bool,
    /// Raw JSON: scan the text its escapes stand for.
    raw: bool,
}

/// A secret found: its byte span and what replaces it.
struct Found {
    start: usize,
    end: usize,
    with: String,
}

impl Found {
    fn mark(start: usize, end: usize) -> Found {
        Found {
            start,
            end,
            with: MARK.to_owned(),
        }
    }
}

/// A scanner: the secrets of one shape in a text (sorted, not overlapping). `cut`: the text
/// was cut at its end; `seen`: the words of [`WORDS`] in the text.
type Pass = fn(&str, bool, &Seen) -> Vec<Found>;

/// The scanners, each with the words it searches for: a text without one of them cannot
/// hold its shape, and is not searched by it (see [`Seen`]). The table's words are its
/// rules' keywords.
const PASSES: &[(Pass, &[&str])] = &[
    (private_spans, &["<private>"]),
    (pem_blocks, &["-----BEGIN "]),
    (prefixed_tokens, &PREFIX_WORDS),
    (jwts, &["eyJ"]),
    (bearer, &["bearer ", "authorization"]),
    (url_credentials, &["://"]),
    (assignments, SECRET_KEYS),
    (netrc, &["password"]),
    (table, &[]),
];

/// Whether every scanner runs on every text, whatever [`Seen`] says: what the tests compare
/// the skipping with.
fn ungated() -> bool {
    #[cfg(test)]
    return tests::UNGATED.with(std::cell::Cell::get);
    #[cfg(not(test))]
    false
}

/// The index of the table in [`PASSES`].
const TABLE: usize = PASSES.len() - 1;

/// The prefixes of [`PREFIXES`].
const PREFIX_WORDS: [&str; PREFIXES.len()] = {
    let mut words = [""; PREFIXES.len()];
    let mut i = 0;
    while i < PREFIXES.len() {
        words[i] = PREFIXES[i].prefix;
        i += 1;
    }
    words
};

/// One of the built-in scanners, or a pattern from hooks.toml.
enum Scanner<'a> {
    Shape(usize),
    Pattern(&'a regex_lite::Regex),
}

impl Scanner<'_> {
    fn find(&self, text: &str, cut: bool, seen: &Seen) -> Vec<Found> {
        match self {
            // The table's cut rule looks at the end of the text, keyword or not.
            Scanner::Shape(p)
                if seen.passes & (1 << p) == 0 && !(*p == TABLE && cut) && !ungated() =>
            {
                Vec::new()
            }
            Scanner::Shape(p) => PASSES[*p].0(text, cut, seen),
            Scanner::Pattern(re) => re
                .find_iter(text)
                .filter(|m| !m.is_empty())
                .map(|m| Found::mark(m.start(), m.end()))
                .collect(),
        }
    }
}

fn scrub<'a>(text: &'a str, extra: &[regex_lite::Regex], kind: Kind) -> Cow<'a, str> {
    let mut out = Cow::Borrowed(text);
    if text.is_empty() {
        return out;
    }
    // Decoded text is scanned as it is, and, when it holds backslashes, once more as if its
    // escapes were read (a JSON string inside source code); raw JSON only the second way.
    let views: &[bool] = if kind.raw { &[true] } else { &[false, true] };
    for &unescape in views {
        let mut view: Option<Unescaped> = None;
        // The words in the text scanned now, found once and again only when it changes.
        let mut seen: Option<Seen> = None;
        let scanners = (0..PASSES.len())
            .map(Scanner::Shape)
            .chain(extra.iter().map(Scanner::Pattern));
        for scan in scanners {
            let escaped = out.contains('\\');
            if unescape && !escaped && !kind.raw {
                break; // no escapes: the plain scan saw everything
            }
            let found = if !(unescape && escaped) {
                let seen = seen.get_or_insert_with(|| Seen::of(&out));
                scan.find(&out, kind.cut, seen)
            } else {
                // The view is decoded once and reused until a scanner changes the text.
                let v = view.get_or_insert_with(|| Unescaped::of(&out));
                let seen = seen.get_or_insert_with(|| Seen::of(&v.text));
                scan.find(&v.text, kind.cut, seen)
                    .into_iter()
                    .map(|f| Found {
                        start: v.raw_offset(f.start),
                        end: v.raw_offset(f.end),
                        with: f.with,
                    })
                    .collect()
            };
            if let Some(changed) = splice(&out, &found) {
                out = Cow::Owned(changed);
                view = None;
                seen = None;
            }
        }
    }
    out
}

/// What raw JSON text says once its escapes are read, with the raw offset of every byte.
struct Unescaped {
    text: String,
    /// `starts[i]`: where the character holding byte `i` of `text` begins in the raw text;
    /// one more entry for the end.
    starts: Vec<u32>,
}

impl Unescaped {
    fn of(raw: &str) -> Unescaped {
        let mut text = String::with_capacity(raw.len());
        let mut starts = Vec::with_capacity(raw.len() + 1);
        let mut push = |text: &mut String, c: char, at: usize| {
            text.push(c);
            starts.extend(std::iter::repeat_n(at as u32, c.len_utf8()));
        };
        let bytes = raw.as_bytes();
        let mut i = 0;
        while i < raw.len() {
            let c = raw[i..].chars().next().expect("in bounds");
            let simple = match (c, bytes.get(i + 1)) {
                ('\\', Some(b'n')) => Some('\n'),
                ('\\', Some(b't')) => Some('\t'),
                ('\\', Some(b'r')) => Some('\r'),
                ('\\', Some(b'"')) => Some('"'),
                ('\\', Some(b'\\')) => Some('\\'),
                ('\\', Some(b'/')) => Some('/'),
                ('\\', Some(b'b')) => Some('\u{8}'),
                ('\\', Some(b'f')) => Some('\u{c}'),
                _ => None,
            };
            if let Some(s) = simple {
                push(&mut text, s, i);
                i += 2;
            } else if let Some((u, len)) = (c == '\\').then(|| unicode_escape(&raw[i..])).flatten()
            {
                push(&mut text, u, i);
                i += len;
            } else {
                push(&mut text, c, i);
                i += c.len_utf8();
            }
        }
        starts.push(raw.len() as u32);
        Unescaped { text, starts }
    }

    fn raw_offset(&self, i: usize) -> usize {
        self.starts[i] as usize
    }
}

/// `\uXXXX` (or a surrogate pair of them) at the start of `s`: the character and the bytes
/// it took.
fn unicode_escape(s: &str) -> Option<(char, usize)> {
    let hex = |at: usize| {
        s.get(at..at + 6)
            .filter(|e| e.starts_with("\\u"))
            .and_then(|e| u32::from_str_radix(&e[2..], 16).ok())
    };
    let first = hex(0)?;
    if (0xD800..0xDC00).contains(&first)
        && let Some(low) = hex(6).filter(|l| (0xDC00..0xE000).contains(l))
    {
        let c = char::from_u32(0x10000 + ((first - 0xD800) << 10) + (low - 0xDC00))?;
        return Some((c, 12));
    }
    char::from_u32(first).map(|c| (c, 6))
}

fn is_token_char(c: char, extra: &str) -> bool {
    c.is_ascii_alphanumeric() || extra.contains(c)
}

/// The length of the run of token characters at the start of `s`.
fn token_len(s: &str, extra: &str) -> usize {
    s.chars()
        .take_while(|c| is_token_char(*c, extra))
        .map(char::len_utf8)
        .sum()
}

/// Replaces each span found by its replacement; `None` when there is none.
fn splice(text: &str, found: &[Found]) -> Option<String> {
    if found.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in found {
        out.push_str(&text[at..f.start]);
        out.push_str(&f.with);
        at = f.end;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// Sorts spans found by several searches and drops those overlapping an earlier one.
fn disjoint(mut found: Vec<Found>) -> Vec<Found> {
    found.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    let mut out: Vec<Found> = Vec::with_capacity(found.len());
    for f in found {
        if out.last().is_none_or(|l| f.start >= l.end) {
            out.push(f);
        }
    }
    out
}

/// Whether the character before `i` can start a token (not the middle of a word).
fn boundary_before(text: &str, i: usize) -> bool {
    text[..i]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_' && c != '-')
}

/// Mixed case and digits: a generated token, not words joined by dashes.
fn looks_random(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
}

/// `your_key_here`, `sk-ant-api03-your-key-here`, `<token>`, `xxxxxxxx`: the place of a
/// secret in documentation, not one.
fn is_placeholder(value: &str) -> bool {
    let v = value.to_ascii_lowercase();
    [
        "your_",
        "your-",
        "_here",
        "-here",
        "xxxx",
        "changeme",
        "placeholder",
        "<",
    ]
    .iter()
    .any(|p| v.contains(p))
}

/// Every start of `needle` in `text`.
fn starts_of<'a>(text: &'a str, needle: &'a str) -> impl Iterator<Item = usize> + 'a {
    text.match_indices(needle).map(|(i, _)| i)
}

fn private_spans(text: &str, _cut: bool, _: &Seen) -> Vec<Found> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(s) = text[from..].find("<private>").map(|i| i + from) {
        let end = text[s..]
            .find("</private>")
            .map_or(text.len(), |i| s + i + "</private>".len());
        found.push(Found {
            start: s,
            end,
            with: String::new(),
        });
        from = end;
    }
    found
}

fn pem_blocks(text: &str, cut: bool, _: &Seen) -> Vec<Found> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(s) = text[from..].find("-----BEGIN ").map(|i| i + from) {
        let label = s + "-----BEGIN ".len();
        let header_end = text[label..].find("-----").map(|i| label + i);
        let is_key = match header_end {
            // `RSA PRIVATE KEY`, `OPENSSH PRIVATE KEY`, `PGP PRIVATE KEY BLOCK`.
            Some(h) => text[label..h].contains("PRIVATE KEY"),
            // The head of a longer text, cut inside the header: it may be a key's.
            None => {
                cut && "PRIVATE KEY BLOCK".contains(text[label..].rsplit(' ').next().unwrap_or(""))
            }
        };
        let body = header_end.unwrap_or(text.len());
        // A block already redacted (by the other view of the text) stays as it is.
        if !is_key || text[body..].trim_start_matches('-').starts_with(MARK) {
            from = label;
            continue;
        }
        let end = text[body..]
            .find("-----END ")
            .and_then(|i| {
                let tail = body + i + "-----END ".len();
                text[tail..].find("-----").map(|j| tail + j + 5)
            })
            .unwrap_or(text.len());
        found.push(Found {
            start: s,
            end,
            with: format!("-----BEGIN PRIVATE KEY-----{MARK}"),
        });
        from = end;
    }
    found
}

fn prefixed_tokens(text: &str, cut: bool, _: &Seen) -> Vec<Found> {
    let mut found = Vec::new();
    for p in PREFIXES {
        for s in starts_of(text, p.prefix) {
            let tail = token_len(&text[s + p.prefix.len()..], p.extra);
            let end = s + p.prefix.len() + tail;
            let whole = tail >= p.min || (cut && end == text.len());
            let token = &text[s + p.prefix.len()..end];
            // Glued to what precedes it (`x_ghp_…`, `KEY-sk-ant-…`) a token is still one;
            // only the short `sk-` then asks for a random-looking tail (`task-…` is a word).
            let bound = boundary_before(text, s) || p.prefix != "sk-" || looks_random(token);
            if whole && bound && !is_placeholder(token) {
                found.push(Found {
                    start: s,
                    end,
                    with: format!("{}…{MARK}", p.prefix),
                });
            }
        }
    }
    // Where two prefixes find the same token (`sk-ant-` and `sk-`), the first in PREFIXES
    // (the longer prefix) wins: the sort is stable.
    disjoint(found)
}

fn jwts(text: &str, cut: bool, _: &Seen) -> Vec<Found> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(s) = text[from..].find("eyJ").map(|i| i + from) {
        let len = token_len(&text[s..], "-_.=");
        let parts: Vec<&str> = text[s..s + len].split('.').collect();
        let whole = parts.len() == 3 && parts.iter().all(|p| p.len() >= 8);
        let cut_short = cut && s + len == text.len() && parts[0].len() >= 8;
        if (whole || cut_short) && boundary_before(text, s) {
            found.push(Found {
                start: s,
                end: s + len,
                with: format!("eyJ…{MARK}"),
            });
        }
        from = s + len.max(3);
    }
    found
}

/// `Bearer <token>` anywhere; `Authorization: <scheme> <credentials>` (Basic, Token, ...)
/// and `Authorization: <credentials>` in a header.
fn bearer(text: &str, cut: bool, _: &Seen) -> Vec<Found> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut credentials = |start: usize| {
        let len = token_len(&text[start..], "-_.=+/~");
        let long_enough = len >= 8 || (cut && len > 0 && start + len == text.len());
        if long_enough && !text[start..start + len].contains(MARK) {
            found.push(Found::mark(start, start + len));
        }
    };
    for s in starts_of(&lower, "bearer ") {
        credentials(s + "bearer ".len());
    }
    for s in starts_of(&lower, "authorization") {
        let rest = &lower[s + "authorization".len()..];
        let value = rest.trim_start_matches(['"', '\'', ' ']);
        let Some(value) = value.strip_prefix([':', '=']) else {
            continue;
        };
        let value = value.trim_start_matches([' ', '\t', '"', '\'']);
        let at = text.len() - value.len();
        let scheme = token_len(value, "");
        match value[scheme..].strip_prefix(' ') {
            Some(_) if &value[..scheme] != "bearer" => credentials(at + scheme + 1),
            Some(_) => {} // found above
            None => credentials(at),
        }
    }
    disjoint(found)
}

/// `scheme://user:password@host` keeps the user. The password may hold `/` and `@` (not
/// escaped, as people type them): it ends at the last `@` of the URL.
fn url_credentials(text: &str, cut: bool, _: &Seen) -> Vec<Found> {
    let mut found = Vec::new();
    for s in starts_of(text, "://").map(|i| i + 3) {
        let url_end = text[s..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>'))
            .map_or(text.len(), |i| s + i);
        let url = &text[s..url_end];
        let Some(colon) = url.find(':') else {
            continue;
        };
        if url[..colon].contains(['/', '@']) {
            continue; // no user: the colon is in the path (or it is `user@host:port`)
        }
        let pass_end = match url.rfind('@') {
            Some(at) if at > colon => s + at,
            _ if cut && url_end == text.len() => url_end,
            _ => continue,
        };
        let pass = &text[s + colon + 1..pass_end];
        // `host:8080/path/@me`: a port and a path, not a password.
        let port = pass.split('/').next().unwrap_or("");
        let is_port =
            pass.contains('/') && !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
        if !pass.is_empty() && !is_port && !pass.contains(MARK) {
            found.push(Found::mark(s + colon + 1, pass_end));
        }
    }
    found
}

/// `password=…`, `DB_PASSWORD: …`, `"api_key": "…"`, `export TOKEN='…'`,
/// `aws_secret_access_key = …`: the key kept, a literal value replaced.
fn assignments(text: &str, cut: bool, _: &Seen) -> Vec<Found> {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut found = Vec::new();
    let is_name = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    for key in SECRET_KEYS {
        for k in starts_of(&lower, key) {
            let word_start = k == 0
                || !text.as_bytes()[k - 1].is_ascii_alphabetic()
                || (text.as_bytes()[k].is_ascii_uppercase()
                    && text.as_bytes()[k - 1].is_ascii_lowercase());
            if *key == "pass" && !word_start {
                continue;
            }
            // The key may be part of a longer name (DB_PASSWORD, aws_secret_access_key,
            // clientSecret) but must end here: what follows is quotes, spaces and = or :.
            let mut i = k + key.len();
            while i < bytes.len() && is_name(bytes[i]) {
                i += 1;
            }
            let name_tail = &lower[k + key.len()..i];
            if !(name_tail.is_empty() || NAME_ENDINGS.iter().any(|e| name_tail.ends_with(e))) {
                continue;
            }
            let name_start = lower[..k]
                .bytes()
                .rposition(|b| !is_name(b))
                .map_or(0, |p| p + 1);
            let name = &lower[name_start..i];
            while i < bytes.len() && matches!(bytes[i], b'"' | b'\'' | b' ' | b'\t') {
                i += 1;
            }
            let Some(&sep) = bytes.get(i).filter(|b| **b == b'=' || **b == b':') else {
                continue;
            };
            if sep == b'=' && bytes.get(i + 1) == Some(&b'=') {
                continue; // a comparison
            }
            if *key == "pass" && name == "pass" && sep == b':' {
                continue; // `PASS: 12 tests`: a result
            }
            i += 1;
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            if let Some((s, e)) = literal_value(text, i, sep == b':', cut)
                && !text[s..e].eq_ignore_ascii_case(name)
            {
                found.push(Found::mark(s, e));
            }
        }
    }
    disjoint(found)
}

/// `.netrc`: `machine h login u password p` on a line (or quoted in a sentence), or
/// `password p` on a line of its own after `machine` or `login` lines.
fn netrc(text: &str, cut: bool, _: &Seen) -> Vec<Found> {
    let mut found = Vec::new();
    if !text.contains("password") {
        return found;
    }
    let mut context = false;
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let words: Vec<(usize, &str)> = line
            .split_ascii_whitespace()
            .map(|w| (w.as_ptr() as usize - line.as_ptr() as usize, w))
            .collect();
        let on_line = words
            .first()
            .is_some_and(|(_, w)| matches!(*w, "machine" | "default"));
        context = on_line || (context && !words.is_empty() && words.len() <= 2);
        for (n, pair) in words.windows(2).enumerate() {
            let [(_, key), (v, value)] = pair else {
                continue;
            };
            let end = at + v + value.len();
            // `login <user> password <value>`
            let after_login = n >= 2 && words[n - 2].1 == "login";
            if *key == "password"
                && (context || after_login)
                && !value.contains(MARK)
                && (value.len() >= 3 || (cut && end == text.len()))
            {
                found.push(Found::mark(at + v, end));
            }
        }
        context |= words.first().is_some_and(|(_, w)| *w == "login");
        at += line.len();
    }
    found
}

/// The span of a literal value starting at `i`, or `None` when the value looks like code
/// (a call, an index, a type, a variable reference) or is empty. A value that runs to the
/// end of a cut text is taken for a secret whatever it looks like.
fn literal_value(text: &str, i: usize, colon: bool, cut: bool) -> Option<(usize, usize)> {
    let rest = &text[i..];
    let quote = rest.chars().next()?;
    if matches!(quote, '"' | '\'' | '`') {
        let value = &rest[1..];
        return match value.find(quote) {
            Some(len) => {
                let v = &value[..len];
                let is_literal =
                    v.len() >= 3 && !v.starts_with('$') && !v.contains(MARK) && !is_placeholder(v);
                is_literal.then_some((i + 1, i + 1 + len))
            }
            None if cut && !value.is_empty() => Some((i + 1, text.len())),
            None => None,
        };
    }
    let len: usize = rest
        .chars()
        .take_while(|c| {
            !c.is_whitespace() && !matches!(c, ',' | ';' | '"' | '\'' | '`' | ')' | '}' | ']')
        })
        .map(char::len_utf8)
        .sum();
    if len == 0 {
        return None;
    }
    if cut && i + len == text.len() {
        return Some((i, i + len));
    }
    let value = &rest[..len];
    let after = rest[len..].trim_start_matches([' ', '\t']);
    let looks_like_code = value.len() < 4
        || value.starts_with('$')
        || value.starts_with('&')
        || value.contains(['(', '[', '{', '<', '>', '*'])
        || value.contains(MARK)
        || is_placeholder(value)
        || matches!(value, "true" | "false" | "null" | "None" | "nil" | "undefined")
        // `token: String,` and `secret: bytes)` are declarations, not YAML values: a type is
        // followed by `,` `)` `=`, or is a capitalised word naming a type (`secret: Secret`,
        // `password: SecretStr`; not `password: Swordfish`).
        || (colon && (after.starts_with([',', ')', '=']) || is_type_name(value)))
        // `client(api_key=api_key, ...)`: a variable passed on.
        || (after.starts_with([',', ')']) && value.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        || value.contains("::")
        || is_dotted_path(value);
    (!looks_like_code).then_some((i, i + len))
}

/// A capitalised word that names a type: one made of a secret word (`Secret`, `ApiKey`,
/// `PasswordHash`) or ending as types do (`SecretStr`, `Bytes`, `Option`).
fn is_type_name(value: &str) -> bool {
    const TYPE_ENDINGS: &[&str] = &[
        "String", "Str", "Bytes", "Type", "Value", "Option", "Buffer", "Text", "Data", "Any",
        "Object", "Number", "Bool", "Boolean", "Int", "Integer", "Uuid",
    ];
    let lower = value.to_ascii_lowercase();
    value.chars().next().is_some_and(char::is_uppercase)
        && value.chars().all(|c| c.is_ascii_alphabetic())
        && (SECRET_KEYS.iter().any(|k| lower.contains(k))
            || lower.contains("key")
            || TYPE_ENDINGS.iter().any(|e| value.ends_with(e)))
}

/// `settings.api_key`, `os.environ`, `process.env...`: a reference, not a literal.
fn is_dotted_path(value: &str) -> bool {
    let value = value.trim_end_matches('.');
    value.contains('.')
        && value.split('.').all(|p| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

/// A secret shape of the table (`redact/rules.rs`): its regex runs only on a text that holds
/// one of its keywords.
struct Rule {
    id: &'static str,
    /// Lowercase, found in any case.
    keywords: &'static [&'static str],
    regex: &'static str,
    /// The capture group that is the secret; 0: the first that took part, else the match.
    group: usize,
    /// Below this Shannon entropy (bits per byte) a match is not a secret.
    entropy: f64,
    /// A secret these match is ordinary text.
    allow: &'static [&'static str],
}

/// Every word a scanner searches for (see [`PASSES`]), each with what it is for: a scanner
/// (`< TABLE`) or the rule `TABLE + i` of the table. Indexed by the compiler, so that a hook
/// call pays nothing to set it up: grouped by their first byte, lower-case ([`BY_BYTE`]), with
/// a bit for the first two bytes of each ([`PAIRS`]).
static WORDS: [(&str, u16); WORD_COUNT] = words_by_first_byte();

/// Where the words of each first byte (lower-case) are in [`WORDS`].
static BY_BYTE: [(u16, u16); 256] = byte_ranges();

/// Whether some word starts with these two bytes, lower-case (bit `a << 8 | b`).
static PAIRS: [u64; 1024] = pairs();

const WORD_COUNT: usize = {
    let mut n = 0;
    let mut p = 0;
    while p < PASSES.len() {
        n += PASSES[p].1.len();
        p += 1;
    }
    let mut r = 0;
    while r < rules::RULES.len() {
        n += rules::RULES[r].keywords.len();
        r += 1;
    }
    n
};

/// Each word and its target, in the order of [`PASSES`] and then of the rules.
const fn all_words() -> [(&'static str, u16); WORD_COUNT] {
    let mut out = [("", 0u16); WORD_COUNT];
    let mut n = 0;
    let mut p = 0;
    while p < PASSES.len() {
        let mut w = 0;
        while w < PASSES[p].1.len() {
            out[n] = (PASSES[p].1[w], p as u16);
            n += 1;
            w += 1;
        }
        p += 1;
    }
    let mut r = 0;
    while r < rules::RULES.len() {
        let mut k = 0;
        while k < rules::RULES[r].keywords.len() {
            out[n] = (rules::RULES[r].keywords[k], (TABLE + r) as u16);
            n += 1;
            k += 1;
        }
        r += 1;
    }
    out
}

const fn first(word: &str) -> u8 {
    word.as_bytes()[0].to_ascii_lowercase()
}

/// [`all_words`], grouped by first byte (a counting sort).
const fn words_by_first_byte() -> [(&'static str, u16); WORD_COUNT] {
    let all = all_words();
    let mut out = all;
    let mut n = 0;
    let mut b = 0;
    while b < 256 {
        let mut i = 0;
        while i < WORD_COUNT {
            if first(all[i].0) as usize == b {
                out[n] = all[i];
                n += 1;
            }
            i += 1;
        }
        b += 1;
    }
    out
}

const fn byte_ranges() -> [(u16, u16); 256] {
    let words = words_by_first_byte();
    let mut out = [(0u16, 0u16); 256];
    let mut i = 0;
    while i < WORD_COUNT {
        let b = first(words[i].0) as usize;
        if out[b].1 == 0 {
            out[b].0 = i as u16;
        }
        out[b].1 = i as u16 + 1;
        i += 1;
    }
    out
}

const fn pairs() -> [u64; 1024] {
    let words = all_words();
    let mut out = [0u64; 1024];
    let mut i = 0;
    while i < WORD_COUNT {
        let w = words[i].0.as_bytes();
        assert!(w.len() >= 2, "a word of two bytes at least");
        let p = pair(w[0].to_ascii_lowercase(), w[1].to_ascii_lowercase());
        out[p / 64] |= 1 << (p % 64);
        i += 1;
    }
    out
}

const fn pair(a: u8, b: u8) -> usize {
    (a as usize) << 8 | b as usize
}

/// The words of [`WORDS`] found in a text (in any case): which scanners may find something
/// there, which rules of the table, and where the last of its keywords starts. A scanner
/// finds nothing in a text without one of its words (each searches for them first), so
/// skipping it there changes nothing; a text is read once for all of them.
struct Seen {
    /// Bit `p`: a word of `PASSES[p]` is in the text (the table's: a keyword of a rule).
    passes: u32,
    rules: [u64; rules::RULES.len().div_ceil(64)],
    last_keyword: Option<usize>,
}

impl Seen {
    fn of(text: &str) -> Seen {
        let mut seen = Seen {
            passes: 0,
            rules: [0; rules::RULES.len().div_ceil(64)],
            last_keyword: None,
        };
        let bytes = text.as_bytes();
        for (i, two) in bytes.windows(2).enumerate() {
            let (a, b) = (two[0].to_ascii_lowercase(), two[1].to_ascii_lowercase());
            let p = pair(a, b);
            if PAIRS[p / 64] & (1 << (p % 64)) == 0 {
                continue;
            }
            let (from, to) = BY_BYTE[usize::from(a)];
            for &(word, target) in &WORDS[usize::from(from)..usize::from(to)] {
                let w = word.as_bytes();
                if bytes.len() - i >= w.len() && bytes[i..i + w.len()].eq_ignore_ascii_case(w) {
                    let target = usize::from(target);
                    if target < TABLE {
                        seen.passes |= 1 << target;
                    } else {
                        let r = target - TABLE;
                        seen.rules[r / 64] |= 1 << (r % 64);
                        seen.passes |= 1 << TABLE;
                        seen.last_keyword = Some(i);
                    }
                }
            }
        }
        seen
    }

    fn rule(&self, r: usize) -> bool {
        self.rules[r / 64] & (1 << (r % 64)) != 0
    }
}

/// A cheaper test than a rule's regex, for rules whose keyword is in much ordinary text
/// (`s.` in `notes.md`, `ey` in `key`, `sk` in `task`): every match of the regex starts
/// with one of `leads` (as written, case and all) followed by at least `min` bytes that
/// `class` accepts. A text without such a run cannot match, and the regex is neither
/// compiled nor run on it. (The unit test `gates_never_skip_a_match` holds each to it.)
struct Gate {
    rule: &'static str,
    leads: &'static [&'static str],
    min: usize,
    class: fn(u8) -> bool,
}

fn alnum(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn word_or_dash(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

const GATES: &[Gate] = &[
    // `hvs\.[\w-]{90,120}` or `s\.(?i:[a-z0-9]{24})`: `s.` and 24 of `[\w-]` either way.
    Gate {
        rule: "vault-service-token",
        leads: &["s."],
        min: 24,
        class: word_or_dash,
    },
    // `ey[a-zA-Z0-9]{17,}\.ey...`
    Gate {
        rule: "jwt",
        leads: &["ey"],
        min: 17,
        class: alnum,
    },
    // `SK[0-9a-fA-F]{32}`
    Gate {
        rule: "twilio-api-key",
        leads: &["SK"],
        min: 32,
        class: |b| b.is_ascii_hexdigit(),
    },
    // `(API-[A-Z0-9]{26})`
    Gate {
        rule: "octopus-deploy-api-key",
        leads: &["API-"],
        min: 26,
        class: |b| b.is_ascii_uppercase() || b.is_ascii_digit(),
    },
    // `(SG\.(?i)[a-z0-9=_\-\.]{66})`
    Gate {
        rule: "sendgrid-api-token",
        leads: &["SG."],
        min: 66,
        class: |b| word_or_dash(b) || b == b'=' || b == b'.',
    },
    // `(?:pat|sat)\.[a-zA-Z0-9_-]{22}\.`
    Gate {
        rule: "harness-api-key",
        leads: &["pat.", "sat."],
        min: 22,
        class: word_or_dash,
    },
    // `(hf_(?i:[a-z]{34}))`
    Gate {
        rule: "huggingface-access-token",
        leads: &["hf_"],
        min: 34,
        class: |b| b.is_ascii_alphabetic(),
    },
    // `((?:sc|ext|scauth|authress)_(?i)[a-z0-9]{5,30}\.`
    Gate {
        rule: "authress-service-client-access-key",
        leads: &["sc_", "ext_", "scauth_", "authress_"],
        min: 5,
        class: alnum,
    },
    // `[a-zA-Z0-9_~.]{3}\dQ~[a-zA-Z0-9_~.-]{31,34}`
    Gate {
        rule: "azure-ad-client-secret",
        leads: &["Q~"],
        min: 31,
        class: |b| word_or_dash(b) || b == b'~' || b == b'.',
    },
];

/// Whether rule `i`'s regex may match in `text` (see [`Gate`]).
fn may_match(i: usize, text: &str) -> bool {
    let Some(gate) = GATES.iter().find(|g| g.rule == rules::RULES[i].id) else {
        return true;
    };
    ungated()
        || gate.leads.iter().any(|lead| {
            text.match_indices(lead).any(|(at, _)| {
                let run = &text.as_bytes()[at + lead.len()..];
                run.len() >= gate.min && run[..gate.min].iter().all(|b| (gate.class)(*b))
            })
        })
}

struct Compiled {
    regex: regex::bytes::Regex,
    allow: Vec<regex::bytes::Regex>,
}

/// The rules' regexes read bytes, ASCII only (`\w`, `\s` and `(?i)` as gitleaks' RE2 reads
/// them for ASCII text): no Unicode tables to build or carry.
fn compile(pattern: &str) -> Option<regex::bytes::Regex> {
    regex::bytes::RegexBuilder::new(pattern)
        .unicode(false)
        .build()
        .map_err(|e| tracing::warn!("redaction pattern {pattern:?} skipped: {e}"))
        .ok()
}

/// Rule `i`'s regexes, compiled when its keywords are first met.
fn compiled(i: usize) -> Option<&'static Compiled> {
    static COMPILED: [OnceLock<Option<Compiled>>; rules::RULES.len()] =
        [const { OnceLock::new() }; rules::RULES.len()];
    COMPILED[i]
        .get_or_init(|| {
            let rule = &rules::RULES[i];
            let Some(regex) = compile(rule.regex) else {
                tracing::warn!("redaction rule {} skipped", rule.id);
                return None;
            };
            Some(Compiled {
                regex,
                allow: rule.allow.iter().filter_map(|p| compile(p)).collect(),
            })
        })
        .as_ref()
}

/// Whether `secret`, found by rule `i`, is ordinary text after all.
fn allowed(i: usize, c: &Compiled, secret: &[u8]) -> bool {
    static GLOBAL: OnceLock<Vec<regex::bytes::Regex>> = OnceLock::new();
    let rule = &rules::RULES[i];
    let global = GLOBAL.get_or_init(|| rules::ALLOW.iter().filter_map(|p| compile(p)).collect());
    let lower = String::from_utf8_lossy(secret).to_ascii_lowercase();
    (rule.entropy > 0.0 && entropy(secret) <= rule.entropy)
        || global.iter().any(|re| re.is_match(secret))
        || c.allow.iter().any(|re| re.is_match(secret))
        || rules::STOPWORDS.iter().any(|w| lower.contains(w))
}

/// Shannon entropy in bits per byte.
fn entropy(s: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for b in s {
        counts[usize::from(*b)] += 1;
    }
    let len = s.len() as f64;
    counts
        .iter()
        .filter(|c| **c > 0)
        .map(|c| {
            let p = f64::from(*c) / len;
            -p * p.log2()
        })
        .sum()
}

/// The shapes of the table. In the head of a longer text, the token that touches the cut is
/// taken for a secret when a keyword is on its line, or when it ends with the start of a
/// keyword (`pypi-AgEI`): a secret cut short no longer matches.
fn table(text: &str, cut: bool, seen: &Seen) -> Vec<Found> {
    let last_keyword = seen.last_keyword;
    let mut found = Vec::new();
    if cut {
        let tail = text
            .rfind(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '=' | ':'))
            .map_or(0, |i| i + 1);
        let token = text[tail..].to_ascii_lowercase();
        let keyword_on_line = last_keyword.is_some_and(|k| !text[k..].contains('\n'));
        let keyword_cut = rules::RULES
            .iter()
            .flat_map(|r| r.keywords)
            .any(|k| (4..k.len()).any(|j| k.is_char_boundary(j) && token.ends_with(&k[..j])));
        if !token.is_empty() && !text[tail..].contains(MARK) && (keyword_on_line || keyword_cut) {
            found.push(Found::mark(tail, text.len()));
        }
    }
    if last_keyword.is_none() {
        return found;
    }
    let bytes = text.as_bytes();
    for i in (0..rules::RULES.len()).filter(|i| seen.rule(*i) && may_match(*i, text)) {
        let Some(c) = compiled(i) else {
            continue;
        };
        for caps in c.regex.captures_iter(bytes) {
            let whole = caps.get(0).expect("group 0 is the match");
            let secret = match rules::RULES[i].group {
                0 => (1..caps.len()).find_map(|g| caps.get(g)),
                g => caps.get(g),
            }
            .unwrap_or(whole);
            let (start, end) = (floor(text, secret.start()), ceil(text, secret.end()));
            if start == end || text[start..end].contains(MARK) || allowed(i, c, secret.as_bytes()) {
                continue;
            }
            found.push(Found::mark(start, end));
        }
    }
    disjoint(found)
}

/// The char boundary at or before `i`.
fn floor(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The char boundary at or after `i`.
fn ceil(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        /// See [`ungated`].
        pub(super) static UNGATED: Cell<bool> = const { Cell::new(false) };
    }

    fn r(s: &str) -> String {
        redact(s, &[]).into_owned()
    }

    #[test]
    fn tokens_keep_their_prefix() {
        assert_eq!(
            r("key sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345 end"),
            "key sk-ant-…[REDACTED] end"
        );
        assert_eq!(r("AKIAIOSFODNN7EXAMPLE"), "AKIA…[REDACTED]");
        assert_eq!(
            r("x=ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
            "x=ghp_…[REDACTED]"
        );
    }

    #[test]
    fn private_spans_vanish() {
        assert_eq!(r("a <private>my secret plan</private> b"), "a  b");
        assert_eq!(r("a <private>unclosed"), "a ");
    }

    #[test]
    fn assignments_keep_the_key() {
        assert_eq!(r("password=hunter22"), "password=[REDACTED]");
        assert_eq!(r("DB_PASSWORD: s3cr3tpw"), "DB_PASSWORD: [REDACTED]");
        assert_eq!(
            r(r#"{"api_key": "abcd1234efgh"}"#),
            r#"{"api_key": "[REDACTED]"}"#
        );
        assert_eq!(
            r("let token = tokenize(input);"),
            "let token = tokenize(input);"
        );
        assert_eq!(r("    token: String,"), "    token: String,");
        assert_eq!(r("secret: Secret"), "secret: Secret");
        assert_eq!(r("password: Hunter22"), "password: [REDACTED]");
        assert_eq!(r("if password == other {"), "if password == other {");
    }

    /// The secret shapes of tests/data: (text, the part that must not be kept).
    fn shapes() -> Vec<(&'static str, &'static str)> {
        include_str!("../tests/data/secrets.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split_once('\t').expect("text TAB secret"))
            .collect()
    }

    /// tests/data: every secret shape must vanish, ordinary code must not change.
    #[test]
    fn secrets_vanish_and_ordinary_code_stays() {
        let mut failures = Vec::new();
        for (text, secret) in shapes() {
            let out = r(text);
            // A <private> span goes without a mark; everything else leaves one.
            if out.contains(secret) || !(out.contains(MARK) || text.contains("<private>")) {
                failures.push(format!("kept: {text} -> {out}"));
            }
        }
        for line in include_str!("../tests/data/ordinary.txt").lines() {
            for out in [r(line), redact_raw(line, &[], false).into_owned()] {
                if out != line {
                    failures.push(format!("changed: {line} -> {out}"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// A payload as Claude Code sends it: a Write of a file holding `text` between two
    /// ordinary lines, JSON-escaped.
    fn write_payload(text: &str) -> String {
        let content = format!("[default]\nregion = eu-west-1\n{text}\nretries = 3\n");
        serde_json::json!({"session_id": "s", "hook_event_name": "PostToolUse", "tool_name": "Write",
            "tool_input": {"file_path": "/p/.aws/credentials", "content": content}})
        .to_string()
    }

    /// Every shape again, JSON-escaped inside a payload (the scanner must read `\n` as a
    /// newline, not as part of a word), and in the raw head of a payload cut at every
    /// place inside the secret: no part of it that is kept may survive.
    #[test]
    fn secrets_vanish_from_escaped_and_truncated_payloads() {
        let mut failures = Vec::new();
        for (text, secret) in shapes() {
            let raw = write_payload(text);
            let out = redact_raw(&raw, &[], false);
            if out.contains(secret) {
                failures.push(format!("escaped, kept: {text} -> {out}"));
            }
            let at = raw
                .find(secret)
                .expect("the secret is in the payload as it is");
            for kept in 1..=secret.len() {
                let head = &raw[..at + kept];
                let out = redact_raw(head, &[], true);
                if kept >= 4 && out.contains(&secret[..kept]) {
                    failures.push(format!("cut after {kept}, kept: {text} -> {out}"));
                }
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn a_bound_never_keeps_part_of_a_secret() {
        let key = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let text = format!("{}{key} and more", "x ".repeat(10));
        for max in 20..text.len() {
            let out = redact_bounded(&text, max, &[]);
            assert!(!out.contains("AbCd"), "{max}: {out}");
        }
        // The head of a payload cut in the middle of a key.
        assert_eq!(
            redact_raw("aws_key = AKIAIOS", &[], true),
            "aws_key = AKIA…[REDACTED]"
        );
        assert_eq!(
            redact_raw("aws_secret_access_key = \"wJalrX", &[], true),
            "aws_secret_access_key = \"[REDACTED]"
        );
        assert_eq!(redact_raw("id AKIAIOS", &[], true), "id AKIA…[REDACTED]");
        assert_eq!(redact_raw("pass hunter2", &[], true), "pass hunter2");
    }

    #[test]
    fn each_token_keeps_its_own_prefix() {
        // Two tokens of the same length, of different kinds.
        let pat = "github_pat_11ABCDEFG0123456789_abcdefghij";
        let ghp = format!("ghp_{}", "a".repeat(pat.len() - 4));
        assert_eq!(
            r(&format!("{pat} then {ghp}")),
            "github_pat_…[REDACTED] then ghp_…[REDACTED]"
        );
    }

    #[test]
    fn pem_blocks_go_whole() {
        let pem = "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA1234\nabcd\n-----END RSA PRIVATE KEY-----\nafter";
        assert_eq!(r(pem), "key:\n-----BEGIN PRIVATE KEY-----[REDACTED]\nafter");
        // The same inside a JSON string, where newlines are escaped.
        let json = r#"{"content":"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----\n"}"#;
        assert_eq!(
            r(json),
            r#"{"content":"-----BEGIN PRIVATE KEY-----[REDACTED]\n"}"#
        );
        let pgp = "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGZ0q1sBCAC7\n=AbCd\n-----END PGP PRIVATE KEY BLOCK-----\n";
        assert_eq!(r(pgp), "-----BEGIN PRIVATE KEY-----[REDACTED]\n");
        assert_eq!(
            redact_raw("-----BEGIN PGP PRIVATE KEY BL", &[], true),
            "-----BEGIN PRIVATE KEY-----[REDACTED]"
        );
        assert_eq!(
            r("-----BEGIN CERTIFICATE-----\nMIIB\n"),
            "-----BEGIN CERTIFICATE-----\nMIIB\n"
        );
    }

    #[test]
    fn extra_patterns_from_the_configuration() {
        let re = regex_lite::Regex::new("ACME-[0-9A-F]{8}").unwrap();
        assert_eq!(redact("id ACME-DEADBEEF ok", &[re]), "id [REDACTED] ok");
    }

    /// The secret rule `i` finds in its sample.
    fn sample_secret(i: usize) -> Result<&'static str, String> {
        let rule = &rules::RULES[i];
        let sample = rules::SAMPLES[i];
        let c = compiled(i).ok_or_else(|| format!("{}: does not compile", rule.id))?;
        let caps = c
            .regex
            .captures(sample.as_bytes())
            .ok_or_else(|| format!("{}: no match in {sample}", rule.id))?;
        let m = match rule.group {
            0 => (1..caps.len()).find_map(|g| caps.get(g)),
            g => caps.get(g),
        }
        .or_else(|| caps.get(0))
        .expect("a match");
        Ok(&sample[m.start()..m.end()])
    }

    /// Every rule of the table compiles and finds its sample, which is redacted alone, glued
    /// to a word, on a line of a file, and JSON-escaped in a payload.
    #[test]
    fn every_rule_redacts_its_sample() {
        assert_eq!(rules::RULES.len(), rules::SAMPLES.len());
        assert!(rules::RULES.len() >= 200);
        let mut failures = Vec::new();
        for (i, sample) in rules::SAMPLES.iter().enumerate() {
            let id = rules::RULES[i].id;
            let secret = match sample_secret(i) {
                Ok(s) => s,
                Err(e) => {
                    failures.push(e);
                    continue;
                }
            };
            // Glued to a word: a boundary only where the rule asks for one (the bare 40 hex
            // digits of a Sourcegraph token would be any git commit).
            let glued = format!("x_{sample}");
            let regex = &compiled(i).expect("compiled").regex;
            let texts = [
                sample.to_string(),
                format!("see {sample} here"),
                format!("a = 1\n{sample}\nb = 2"),
            ]
            .into_iter()
            .chain(regex.is_match(glued.as_bytes()).then_some(glued));
            for text in texts {
                let out = r(&text);
                if out.contains(secret) {
                    failures.push(format!("{id}: kept in {text:?} -> {out:?}"));
                }
            }
            let raw = write_payload(sample);
            let out = redact_raw(&raw, &[], false);
            if out.contains(secret) {
                failures.push(format!("{id}: kept, escaped: {out}"));
            }
        }
        assert!(
            failures.is_empty(),
            "{}\n{} failures",
            failures.join("\n"),
            failures.len()
        );
    }

    /// Real hook sessions (../shared/corpus): every string of every payload, and every raw
    /// line, comes out as it went in.
    #[test]
    fn the_corpus_is_left_as_it_is() {
        fn strings<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
            match v {
                serde_json::Value::String(s) => out.push(s),
                serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
                serde_json::Value::Object(o) => o.iter().for_each(|(k, v)| {
                    out.push(k);
                    strings(v, out);
                }),
                _ => {}
            }
        }
        fn changed(from: &str, to: &str) -> String {
            let head = from
                .bytes()
                .zip(to.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            let start = floor(from, head.saturating_sub(40));
            let end = ceil(from, (head + 80).min(from.len()));
            format!(
                "{:?} -> {:?}",
                &from[start..end],
                &to[floor(to, start)..ceil(to, (head + 80).min(to.len()))]
            )
        }
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("../shared/corpus beside the repository")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        assert!(files.len() >= 21);
        // Credentials typed into a session (test ones, but flowhook cannot tell): redacted on
        // purpose. Anything else that changes is a false redaction.
        let expected = [
            r#""password":"[REDACTED]""#,
            "ANTHROPIC_API_KEY=[REDACTED]\nOPENAI_API_KEY=[REDACTED]",
        ];
        let (mut failures, mut seen) = (Vec::new(), 0usize);
        for file in files {
            for line in std::fs::read_to_string(&file).unwrap().lines() {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                let mut all = Vec::new();
                strings(&v, &mut all);
                let mut credentials = false;
                for s in all {
                    seen += s.len();
                    let out = r(s);
                    if expected.iter().any(|e| out.contains(e) && !s.contains(e)) {
                        credentials = true;
                    } else if out != s {
                        failures.push(format!("{}: {}", file.display(), changed(s, &out)));
                    }
                }
                let out = redact_raw(line, &[], false);
                if out != line && !credentials {
                    failures.push(format!("{} raw: {}", file.display(), changed(line, &out)));
                }
            }
        }
        assert!(seen > 1_000_000, "{seen} bytes");
        assert!(
            failures.is_empty(),
            "{}\n{} changed",
            failures.join("\n"),
            failures.len()
        );
    }

    /// Skipping the scanners whose words a text lacks ([`Seen`]) changes no output: every
    /// rule's sample, alone, glued, in a file and JSON-escaped; every shape and ordinary line
    /// of tests/data; every string and raw line of ../shared/corpus; and the raw head of each
    /// cut at every byte (the cut rules look at the end of a text). Compared with every
    /// scanner run on every text.
    #[test]
    fn skipping_scanners_changes_nothing() {
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        let mut texts: Vec<String> = Vec::new();
        for sample in rules::SAMPLES {
            texts.extend([
                sample.to_string(),
                format!("x_{sample}"),
                format!("a = 1\n{sample}\nb = 2"),
                write_payload(sample),
            ]);
        }
        for (text, _) in shapes() {
            texts.extend([text.to_owned(), write_payload(text)]);
        }
        texts.extend(
            include_str!("../tests/data/ordinary.txt")
                .lines()
                .map(str::to_owned),
        );
        let mut files: Vec<_> = std::fs::read_dir(&corpus)
            .expect("../shared/corpus beside the repository")
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        files.sort();
        assert!(files.len() >= 21);
        for file in files {
            texts.extend(
                std::fs::read_to_string(&file)
                    .unwrap()
                    .lines()
                    .map(str::to_owned),
            );
        }
        let both = |f: &dyn Fn() -> String| {
            let gated = f();
            UNGATED.with(|u| u.set(true));
            let all = f();
            UNGATED.with(|u| u.set(false));
            (gated, all)
        };
        let mut failures = Vec::new();
        let mut compare = |what: &str, text: &str, f: &dyn Fn() -> String| {
            let (gated, all) = both(f);
            if gated != all {
                failures.push(format!("{what} {text:?}: {gated:?} != {all:?}"));
            }
        };
        for text in &texts {
            compare("decoded", text, &|| r(text));
            compare("raw", text, &|| redact_raw(text, &[], false).into_owned());
            // Heads of the shorter texts, cut at every character.
            if text.len() <= 400 {
                for (at, _) in text.char_indices().skip(1) {
                    let head = &text[..at];
                    compare("cut", head, &|| redact_raw(head, &[], true).into_owned());
                }
            }
        }
        assert!(texts.len() > 1000, "{} texts", texts.len());
        assert!(
            failures.is_empty(),
            "{}\n{} differ",
            failures[..failures.len().min(20)].join("\n"),
            failures.len()
        );
    }

    /// Each gate lets through every text its rule's regex matches: the rules' own samples,
    /// alone and among other text, tests/data, the corpus, and each sample with every byte of
    /// it changed to one its regex may read there or not.
    #[test]
    fn gates_never_skip_a_match() {
        let mut texts: Vec<String> = include_str!("../tests/data/ordinary.txt")
            .lines()
            .chain(shapes().into_iter().map(|(t, _)| t))
            .map(str::to_owned)
            .collect();
        let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
        for f in std::fs::read_dir(&corpus)
            .expect("../shared/corpus")
            .map(|e| e.unwrap().path())
        {
            texts.extend(
                std::fs::read_to_string(&f)
                    .unwrap()
                    .lines()
                    .map(str::to_owned),
            );
        }
        for gate in GATES {
            let i = rules::RULES
                .iter()
                .position(|r| r.id == gate.rule)
                .unwrap_or_else(|| panic!("no rule {}", gate.rule));
            let regex = &compiled(i).expect("compiled").regex;
            let sample = rules::SAMPLES[i];
            let mut own = vec![
                sample.to_owned(),
                format!("a {sample} b"),
                write_payload(sample),
            ];
            for at in 0..sample.len() {
                for b in [b'a', b'Z', b'0', b'.', b'-', b'_', b' ', b'~', b'='] {
                    let mut bytes = sample.as_bytes().to_vec();
                    bytes[at] = b;
                    own.push(String::from_utf8(bytes).expect("ASCII samples"));
                }
                own.push(format!("{}{}", &sample[..at], &sample[at + 1..]));
            }
            assert!(regex.is_match(sample.as_bytes()), "{}", gate.rule);
            for text in texts.iter().chain(&own) {
                if regex.is_match(text.as_bytes()) {
                    assert!(
                        may_match(i, text),
                        "{} skipped a match in {text:?}",
                        gate.rule
                    );
                }
            }
        }
    }

    /// The index the compiler builds holds every word of every scanner and rule, and finds
    /// each in any case, at the start, middle and end of a text.
    #[test]
    fn every_word_is_indexed_and_found() {
        for (p, (_, words)) in PASSES.iter().enumerate().take(TABLE) {
            for w in *words {
                for text in [
                    w.to_string(),
                    format!("ab {} cd", w.to_ascii_uppercase()),
                    format!("x{w}"),
                ] {
                    assert!(Seen::of(&text).passes & (1 << p) != 0, "{w:?} in {text:?}");
                }
            }
        }
        for (i, rule) in rules::RULES.iter().enumerate() {
            for k in rule.keywords {
                let text = format!("x {}", k.to_ascii_uppercase());
                let seen = Seen::of(&text);
                assert!(
                    seen.rule(i) && seen.last_keyword >= Some(2),
                    "{} {k:?}",
                    rule.id
                );
            }
        }
        assert_eq!(Seen::of("fn main() {}").passes, 0);
    }

    #[test]
    fn nothing_to_do_borrows() {
        assert!(matches!(redact("fn main() {}", &[]), Cow::Borrowed(_)));
    }
}
