//! Secrets, removed before anything is stored (and so before anything could ever be synced).
//!
//! Recognised by shape, with hand-written scanners rather than regular expressions: a hook
//! call must not pay for compiling a regex set. A redacted secret keeps a short prefix so a
//! person can tell what was there (`sk-ant-…[REDACTED]`, `password=[REDACTED]`);
//! `<private>…</private>` spans are dropped whole. Patterns added in hooks.toml
//! (`redact.extra_patterns`) are regular expressions, compiled only when there are some.
//!
//! The scanners err on the side of ordinary code staying intact: an assignment whose value
//! looks like code (`token = tokenize(input)`, `secret: Option<String>`) is left alone; a
//! quoted or plain literal is redacted.

use std::borrow::Cow;

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
];

/// The secrets removed from `text`; borrowed when there were none.
pub fn redact<'a>(text: &'a str, extra: &[regex_lite::Regex]) -> Cow<'a, str> {
    if text.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = Cow::Borrowed(text);
    for pass in [
        private_spans,
        pem_blocks,
        prefixed_tokens,
        jwts,
        bearer,
        url_credentials,
        assignments,
    ] {
        if let Some(changed) = pass(&out) {
            out = Cow::Owned(changed);
        }
    }
    for re in extra {
        if let Cow::Owned(changed) = re.replace_all(&out, MARK) {
            out = Cow::Owned(changed);
        }
    }
    out
}

/// In place, for the owned strings of an event.
pub fn redact_in_place(text: &mut String, extra: &[regex_lite::Regex]) {
    if let Cow::Owned(changed) = redact(text, extra) {
        *text = changed;
    }
}

fn is_token_char(c: char, extra: &str) -> bool {
    c.is_ascii_alphanumeric() || extra.contains(c)
}

/// Replaces each (start, end) span of `text` by what `with` makes of it.
fn splice(text: &str, spans: &[(usize, usize)], with: impl Fn(&str) -> String) -> Option<String> {
    if spans.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for &(s, e) in spans {
        out.push_str(&text[at..s]);
        out.push_str(&with(&text[s..e]));
        at = e;
    }
    out.push_str(&text[at..]);
    Some(out)
}

/// Whether the character before `i` can start a token (not the middle of a word).
fn boundary_before(text: &str, i: usize) -> bool {
    text[..i]
        .chars()
        .next_back()
        .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_' && c != '-')
}

fn private_spans(text: &str) -> Option<String> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(s) = text[from..].find("<private>").map(|i| i + from) {
        let end = text[s..]
            .find("</private>")
            .map_or(text.len(), |i| s + i + "</private>".len());
        spans.push((s, end));
        from = end;
    }
    splice(text, &spans, |_| String::new())
}

fn pem_blocks(text: &str) -> Option<String> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(s) = text[from..].find("-----BEGIN ").map(|i| i + from) {
        let header_end = text[s..]
            .find("-----\n")
            .or_else(|| text[s..].find("-----\\n"))
            .map(|i| s + i);
        let Some(h) = header_end.filter(|h| text[s..*h].ends_with("PRIVATE KEY")) else {
            from = s + 11;
            continue;
        };
        let end = text[h..]
            .find("-----END ")
            .and_then(|i| text[h + i + 9..].find("-----").map(|j| h + i + 9 + j + 5))
            .unwrap_or(text.len());
        spans.push((s, end));
        from = end;
    }
    splice(text, &spans, |_| {
        format!("-----BEGIN PRIVATE KEY-----{MARK}")
    })
}

fn prefixed_tokens(text: &str) -> Option<String> {
    let mut spans: Vec<(usize, usize, usize)> = Vec::new();
    for p in PREFIXES {
        let mut from = 0;
        while let Some(s) = text[from..].find(p.prefix).map(|i| i + from) {
            let tail: usize = text[s + p.prefix.len()..]
                .chars()
                .take_while(|c| is_token_char(*c, p.extra))
                .map(char::len_utf8)
                .sum();
            let end = s + p.prefix.len() + tail;
            let covered = spans.iter().any(|&(a, b, _)| s < b && end > a);
            if tail >= p.min && boundary_before(text, s) && !covered {
                spans.push((s, end, p.prefix.len()));
            }
            from = end.max(s + 1);
        }
    }
    spans.sort_unstable();
    let keep: Vec<(usize, usize)> = spans.iter().map(|&(s, e, _)| (s, e)).collect();
    splice(text, &keep, |secret| {
        let prefix = spans
            .iter()
            .find(|&&(s, e, _)| e - s == secret.len())
            .map_or(0, |x| x.2);
        format!("{}…{MARK}", &secret[..prefix.min(secret.len())])
    })
}

fn jwts(text: &str) -> Option<String> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(s) = text[from..].find("eyJ").map(|i| i + from) {
        let len: usize = text[s..]
            .chars()
            .take_while(|c| is_token_char(*c, "-_.="))
            .map(char::len_utf8)
            .sum();
        let token = &text[s..s + len];
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() == 3 && parts.iter().all(|p| p.len() >= 8) && boundary_before(text, s) {
            spans.push((s, s + len));
        }
        from = s + len.max(3);
    }
    splice(text, &spans, |_| format!("eyJ…{MARK}"))
}

fn bearer(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(s) = lower[from..].find("bearer ").map(|i| i + from) {
        let start = s + "bearer ".len();
        let len: usize = text[start..]
            .chars()
            .take_while(|c| is_token_char(*c, "-_.=+/~"))
            .map(char::len_utf8)
            .sum();
        if len >= 8 && !text[start..start + len].contains(MARK) {
            spans.push((start, start + len));
        }
        from = start + len.max(1);
    }
    splice(text, &spans, |_| MARK.to_owned())
}

/// `scheme://user:password@host` keeps the user.
fn url_credentials(text: &str) -> Option<String> {
    let mut spans = Vec::new();
    let mut from = 0;
    while let Some(s) = text[from..].find("://").map(|i| i + from + 3) {
        let authority_end = text[s..]
            .find(|c: char| c == '/' || c == '@' || c.is_whitespace() || c == '"' || c == '\'')
            .map_or(text.len(), |i| s + i);
        if text[authority_end..].starts_with('@')
            && let Some(colon) = text[s..authority_end].find(':')
        {
            let pass_start = s + colon + 1;
            if authority_end > pass_start {
                spans.push((pass_start, authority_end));
            }
        }
        from = s;
    }
    splice(text, &spans, |_| MARK.to_owned())
}

/// `password=…`, `DB_PASSWORD: …`, `"api_key": "…"`, `export TOKEN='…'`,
/// `aws_secret_access_key = …`: the key kept, a literal value replaced.
fn assignments(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for key in SECRET_KEYS {
        let mut from = 0;
        while let Some(k) = lower[from..].find(key).map(|i| i + from) {
            from = k + key.len();
            // The key may be part of a longer name (DB_PASSWORD, aws_secret_access_key,
            // clientSecret) but must end here: what follows is quotes, spaces and = or :.
            let mut i = k + key.len();
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let name_tail = &lower[k + key.len()..i];
            if !(name_tail.is_empty() || name_tail.ends_with("key") || name_tail.ends_with("token"))
            {
                continue;
            }
            while i < bytes.len() && matches!(bytes[i], b'"' | b'\'' | b' ' | b'\t') {
                i += 1;
            }
            let Some(&sep) = bytes.get(i).filter(|b| **b == b'=' || **b == b':') else {
                continue;
            };
            if sep == b'=' && bytes.get(i + 1) == Some(&b'=') {
                continue; // a comparison
            }
            i += 1;
            while i < bytes.len() && matches!(bytes[i], b' ' | b'\t') {
                i += 1;
            }
            if let Some((s, e)) = literal_value(text, i, sep == b':')
                && !spans.iter().any(|&(a, b)| s < b && e > a)
            {
                spans.push((s, e));
            }
        }
    }
    spans.sort_unstable();
    splice(text, &spans, |_| MARK.to_owned())
}

/// The span of a literal value starting at `i`, or `None` when the value looks like code
/// (a call, an index, a type, a variable reference) or is empty.
fn literal_value(text: &str, i: usize, colon: bool) -> Option<(usize, usize)> {
    let rest = &text[i..];
    let quote = rest.chars().next()?;
    if matches!(quote, '"' | '\'' | '`') || rest.starts_with("\\\"") {
        let (open, close) = if rest.starts_with("\\\"") {
            (2, "\\\"")
        } else {
            (1, &rest[..1])
        };
        let len = rest[open..].find(close)?;
        let value = &rest[open..open + len];
        if value.len() < 3 || value.starts_with('$') || value.contains(MARK) {
            return None;
        }
        return Some((i + open, i + open + len));
    }
    let len: usize = rest
        .chars()
        .take_while(|c| {
            !c.is_whitespace() && !matches!(c, ',' | ';' | '"' | '\'' | '`' | ')' | '}' | ']')
        })
        .map(char::len_utf8)
        .sum();
    let value = &rest[..len];
    let after = rest[len..].trim_start_matches([' ', '\t']);
    let looks_like_code = value.len() < 4
        || value.starts_with('$')
        || value.starts_with('&')
        || value.contains(['(', '[', '{', '<', '>', '*'])
        || value.contains(MARK)
        || matches!(value, "true" | "false" | "null" | "None" | "nil" | "undefined")
        // `token: String,` and `secret: bytes)` are declarations, not YAML values: a type is
        // followed by `,` `)` `=`, or is a capitalised word without digits.
        || (colon
            && (after.starts_with([',', ')', '='])
                || (value.chars().next().is_some_and(char::is_uppercase)
                    && value.chars().all(|c| c.is_ascii_alphabetic()))))
        || value.contains("::")
        || is_dotted_path(value);
    (!looks_like_code).then_some((i, i + len))
}

/// `settings.api_key`, `os.environ`: a reference, not a literal.
fn is_dotted_path(value: &str) -> bool {
    value.contains('.')
        && value.split('.').all(|p| {
            p.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_')
                && p.chars().all(|c| c.is_alphanumeric() || c == '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// tests/data: 23 secret shapes must vanish, 59 lines of ordinary code must not change.
    #[test]
    fn secrets_vanish_and_ordinary_code_stays() {
        let mut failures = Vec::new();
        for line in include_str!("../tests/data/secrets.tsv")
            .lines()
            .filter(|l| !l.starts_with('#'))
        {
            let (text, secret) = line.split_once('\t').unwrap();
            let out = r(text);
            // A <private> span goes without a mark; everything else leaves one.
            if out.contains(secret) || !(out.contains(MARK) || text.contains("<private>")) {
                failures.push(format!("kept: {text} -> {out}"));
            }
        }
        for line in include_str!("../tests/data/ordinary.txt").lines() {
            let out = r(line);
            if out != line {
                failures.push(format!("changed: {line} -> {out}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
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

    #[test]
    fn nothing_to_do_borrows() {
        assert!(matches!(redact("fn main() {}", &[]), Cow::Borrowed(_)));
    }
}
