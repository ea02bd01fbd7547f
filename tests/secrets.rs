//! Secrets through the built binary: the classes issue 19 found leaking and fresh shapes of
//! gitleaks' rule set, each with several instances made up here, planted in every field
//! flowhook keeps (a prompt, an edit's diff, a file path, a cwd that is a project root, flag
//! values, agent-memory keys and values, a payload it rejects, a spooled and a held event,
//! the log, stderr). Then no file under the world, database, WAL, spool, held entries and
//! log included, holds a byte of any of them, while every event is stored.

mod common;

use common::*;
use serde_json::json;
use std::path::{Path, PathBuf};

/// Made-up values (xorshift from a fixed seed): instances no issue lists.
struct Fresh(u64);

impl Fresh {
    fn pick(&mut self, alphabet: &str, n: usize) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                chars[(self.0 % chars.len() as u64) as usize]
            })
            .collect()
    }
}

const HEX: &str = "0123456789abcdef";
const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz0123456789";
const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// One planted secret: the text, and the part of it that must never be kept.
struct Secret {
    text: String,
    secret: String,
}

impl Secret {
    fn new(text: String, secret: &str) -> Secret {
        Secret {
            text,
            secret: secret.to_owned(),
        }
    }

    /// One word: it can also be a path's component, a flag's value or a memory key.
    fn is_token(&self) -> bool {
        !self.text.contains([' ', '\n', '/'])
    }

    /// What no file may contain: the secret's runs of letters and digits long enough not to
    /// occur by chance (a URL password with `/` and `@` leaks by parts too).
    fn fragments(&self) -> Vec<&str> {
        self.secret
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|f| f.len() >= 6)
            .collect()
    }
}

fn secrets() -> Vec<Secret> {
    let mut f = Fresh(0x2545_f491_4f6c_dd1d);
    let mut out = Vec::new();
    for _ in 0..3 {
        // The classes issue 19 named.
        let b = f.pick(ALNUM, 20);
        out.push(Secret::new(format!("glpat-{b}"), &b));
        let b = f.pick(LOWER, 36);
        out.push(Secret::new(format!("npm_{b}"), &b));
        let b = f.pick(LETTERS, 34);
        out.push(Secret::new(format!("hf_{b}"), &b));
        let b = format!("{}.{}", f.pick(ALNUM, 22), f.pick(ALNUM, 43));
        out.push(Secret::new(format!("SG.{b}"), &b));
        let b = f.pick(HEX, 64);
        out.push(Secret::new(format!("dop_v1_{b}"), &b));
        let b = format!(
            "A{}-{}-{}",
            f.pick("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10),
            f.pick("0123456789", 13),
            f.pick(HEX, 64)
        );
        out.push(Secret::new(format!("xapp-1-{b}"), &b));
        let b = f.pick(ALNUM, 24);
        out.push(Secret::new(format!("sk_test_{b}"), &b));
        let b = format!(
            "T{}/B{}/{}",
            f.pick(ALNUM, 8),
            f.pick(ALNUM, 8),
            f.pick(ALNUM, 24)
        );
        out.push(Secret::new(
            format!("https://hooks.slack.com/services/{b}"),
            &b,
        ));
        let b = format!("{}==", f.pick(BASE64, 86));
        out.push(Secret::new(
            format!(
                "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={b};EndpointSuffix=core.windows.net"
            ),
            &b,
        ));
        let b = f.pick(ALNUM, 16);
        out.push(Secret::new(
            format!("machine api.example.com login deploy password {b}"),
            &b,
        ));
        let b = f.pick(ALNUM, 18);
        out.push(Secret::new(
            format!("machine git.example.com\n  login ci\n  password {b}\n"),
            &b,
        ));
        let b = f.pick(HEX, 64);
        out.push(Secret::new(format!("SECRET_KEY_BASE={b}"), &b));
        let b = f.pick(ALNUM, 14);
        out.push(Secret::new(format!("DB_PASS={b}"), &b));
        let b = f.pick(BASE64, 32);
        out.push(Secret::new(format!("Authorization: Basic {b}"), &b));
        let (u, p, q) = (f.pick(ALNUM, 8), f.pick(ALNUM, 8), f.pick(ALNUM, 8));
        out.push(Secret::new(
            format!("postgres://app:{u}/{p}@{q}@db.internal:5432/app"),
            &format!("{u}/{p}@{q}"),
        ));
        let word = ["Marigold", "Tangerine", "Bluebells"][out.len() % 3];
        out.push(Secret::new(format!("smtp:\n  password: {word}\n"), word));
        // Glued to a dash, a letter, an underscore.
        let b = f.pick(ALNUM, 36);
        out.push(Secret::new(format!("x-ghp_{b}"), &b));
        let b = f.pick(ALNUM, 20);
        out.push(Secret::new(format!("TOKENglpat-{b}"), &b));
        let b = f.pick(ALNUM, 36);
        out.push(Secret::new(
            format!("MY_npm_{}", b.to_lowercase()),
            &b.to_lowercase(),
        ));
        let body = f.pick(BASE64, 64);
        out.push(Secret::new(
            format!(
                "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBG{body}\n=Ab1c\n-----END PGP PRIVATE KEY BLOCK-----\n"
            ),
            &body,
        ));
        // Fresh shapes of the table.
        let b = f.pick(HEX, 32);
        out.push(Secret::new(format!("shpat_{b}"), &b));
        let b = f.pick(HEX, 32);
        out.push(Secret::new(format!("dapi{b}"), &b));
        let b = format!("{}-{}", f.pick(HEX, 24), f.pick(HEX, 34));
        out.push(Secret::new(format!("PMAK-{b}"), &b));
        let b = format!("{}_{}", f.pick(ALNUM, 32), f.pick(HEX, 8));
        out.push(Secret::new(format!("glsa_{b}"), &b));
        let b = f.pick(HEX, 40);
        out.push(Secret::new(format!("pul-{b}"), &b));
        let b = f.pick("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58);
        out.push(Secret::new(format!("AGE-SECRET-KEY-1{b}"), &b));
        let b = f.pick(HEX, 48);
        out.push(Secret::new(format!("rubygems_{b}"), &b));
        let b = f.pick(ALNUM, 58);
        out.push(Secret::new(format!("HRKU-AA{b}"), &b));
    }
    out
}

/// Every regular file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let path = e.path();
        let kind = e.file_type().unwrap();
        if kind.is_dir() {
            out.extend(files(&path));
        } else if kind.is_file() {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

/// Fails naming the file and the secret when any file under the world holds a fragment of
/// one; returns how many files were searched.
fn assert_no_secret_under(w: &World, secrets: &[Secret], also: &[(&str, &[u8])]) -> usize {
    let found = files(w.path());
    let mut leaks = Vec::new();
    let named = found
        .iter()
        .map(|(p, b)| (p.display().to_string(), b.as_slice()))
        .chain(also.iter().map(|(n, b)| (n.to_string(), *b)));
    for (name, bytes) in named {
        for s in secrets {
            for frag in s.fragments() {
                if bytes.windows(frag.len()).any(|w| w == frag.as_bytes()) {
                    leaks.push(format!("{name}: {frag} of {:?}", s.text));
                }
            }
        }
    }
    assert!(leaks.is_empty(), "{}", leaks.join("\n"));
    found.len()
}

fn edit_of(session: &str, id: &str, cwd: &Path, file: &str, text: &str) -> Vec<u8> {
    let mut e = edit_template();
    e["session_id"] = session.into();
    e["tool_use_id"] = id.into();
    e["cwd"] = json!(cwd);
    e["tool_input"]["file_path"] = file.into();
    e["tool_input"]["new_string"] = text.into();
    e["tool_response"]["filePath"] = file.into();
    e["tool_response"]["structuredPatch"][0]["lines"] = json!([format!("+{text}"), " }"]);
    e.to_string().into_bytes()
}

#[test]
fn no_secret_reaches_any_file_from_any_field() {
    let w = World::new();
    let secrets = secrets();
    assert!(secrets.len() >= 80);
    let mut stderr = Vec::new();
    let mut run = |mut c: std::process::Command, stdin: &[u8], what: &str| {
        c.env("FLOWHOOK_LOG", "debug");
        let out = run_with_stdin(c, stdin);
        assert_hook_contract(&out, what);
        stderr.extend_from_slice(&out.stderr);
    };
    let (mut tokens, mut edits) = (0, 0);
    for (i, s) in secrets.iter().enumerate() {
        let text = &s.text;
        run(
            w.cmd(&[]),
            &prompt_with_id(
                "sec",
                &format!("p{i}"),
                w.project(),
                &format!("use {text} now"),
            ),
            "prompt",
        );
        // A payload it cannot read keeps the raw head of the bytes.
        run(
            w.cmd(&[]),
            format!("{{\"session_id\": \"sec\", \"prompt\": {}", json!(text)).as_bytes(),
            "rejected",
        );
        let mut cwd = w.project();
        let mut file = w.project().join("src/lib.rs").display().to_string();
        if s.is_token() {
            tokens += 1;
            // A project of its own whose directory's name holds the secret: it is the cwd
            // and the session's root, and the file path holds it too.
            cwd = w.path().join(format!("work-{text}"));
            std::fs::create_dir_all(cwd.join(".claude")).unwrap();
            file = cwd.join(format!("src/{text}/lib.rs")).display().to_string();
            // claude-flow's flags: the description, --task-id and --agent-id.
            let mut c = w.cmd(&[
                "pre-task",
                "--description",
                &format!("deploy with {text}"),
                "--task-id",
                text,
                "--agent-id",
                text,
            ]);
            c.env("CLAUDE_CODE_SESSION_ID", "flags");
            run(c, b"", "flags");
            // Agent memory: a key and a value.
            succeeded(&mut w.cmd(&["memory", "set", "--", text, &format!("value {text}")]));
        }
        succeeded(&mut w.cmd(&["memory", "set", "--", &format!("k{i}"), text]));
        run(
            w.cmd(&[]),
            &edit_of(&format!("sec-{i}"), &format!("e{i}"), &cwd, &file, text),
            "edit",
        );
        edits += 1;
        let end = json!({"session_id": format!("sec-{i}"), "cwd": cwd,
            "hook_event_name": "SessionEnd", "reason": "other"});
        run(w.cmd(&[]), end.to_string().as_bytes(), "end");
    }
    assert!(tokens >= 40, "{tokens} one-word secrets");

    // Spooled and held: a database that cannot be opened (a directory where its file should
    // be), one whose path itself holds a secret.
    let ghp = Fresh(7).pick(ALNUM, 36);
    let blocked = [
        w.path().join("db2/flowhook.db"),
        w.path().join(format!("token=ghp_{ghp}/flowhook.db")),
    ];
    let mut spooled = Vec::new();
    for (n, db) in blocked.iter().enumerate() {
        std::fs::create_dir_all(db).unwrap();
        for (i, s) in secrets.iter().enumerate().filter(|(i, _)| i % 9 == n) {
            let mut c = w.cmd(&[]);
            c.env("FLOWHOOK_DB", db);
            let id = format!("spool-{n}-{i}");
            run(
                c,
                &prompt_with_id("spooled", &id, w.project(), &s.text),
                "spooled",
            );
            spooled.push((db.clone(), id));
        }
    }
    let spool = w.state().join("spool");
    let waiting = std::fs::read_dir(&spool)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .count();
    assert_eq!(waiting, spooled.len());
    let mut all = secrets;
    all.push(Secret::new(format!("ghp_{ghp}"), &ghp));
    assert_no_secret_under(&w, &all, &[]);

    // The databases can be opened again. One entry has been tried too often: the next hook
    // call holds it aside (with the others stored), `spool --drain` stores it.
    let first = std::fs::read_dir(&spool)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let tried = first.with_file_name(
        first
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".json", "~3.json"),
    );
    std::fs::rename(&first, &tried).unwrap();
    for db in &blocked {
        std::fs::remove_dir(db).unwrap();
    }
    // A hook call drains at most 8 entries (or 150 ms) of its database: calls go on until
    // none waits, so that the entry tried too often is reached, and held aside, whatever
    // its place in the queue.
    let waiting = || {
        std::fs::read_dir(&spool)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
            .count()
    };
    for round in 0..20 {
        if waiting() == 0 {
            break;
        }
        for db in &blocked {
            let mut c = w.cmd(&[]);
            c.env("FLOWHOOK_DB", db);
            let id = format!("next-{round}");
            run(
                c,
                &prompt_with_id("next", &id, w.project(), "go on"),
                "drain",
            );
        }
    }
    let held = spool.join("held");
    assert_eq!(std::fs::read_dir(&held).unwrap().count(), 1);
    assert_no_secret_under(&w, &all, &[]);
    for db in &blocked {
        let mut c = w.cmd(&["spool", "--drain"]);
        c.env("FLOWHOOK_DB", db);
        succeeded(&mut c);
    }
    assert!(w.spool().is_empty(), "{:?}", w.spool());

    // Everything was stored, redacted.
    for (db, id) in &spooled {
        let n = query(
            db,
            &format!("SELECT count(*) FROM task_log WHERE task_id = '{id}'"),
        );
        assert_eq!(n, rows![["1"]], "{id} in {}", db.display());
    }
    assert_eq!(
        w.count("SELECT count(*) FROM task_log WHERE session_id = 'sec'"),
        all.len() as i64 - 1
    );
    assert_eq!(
        w.count("SELECT count(*) FROM edit_history WHERE session_id LIKE 'sec-%'"),
        edits
    );
    assert_eq!(
        w.count("SELECT count(*) FROM task_log WHERE session_id = 'flags'"),
        tokens
    );
    assert!(w.count("SELECT count(*) FROM rejected_events") >= all.len() as i64 - 1);
    assert!(w.count("SELECT count(*) FROM agent_memory") > all.len() as i64 - 1);
    let roots = w.query("SELECT group_concat(root, ' ') FROM session_summaries");
    assert!(roots[0][0].contains("work-"), "{roots:?}");
    let log = w.db().with_file_name("flowhook.log");
    assert!(std::fs::metadata(&log).unwrap().len() > 10_000);
    let searched = assert_no_secret_under(&w, &all, &[("stderr", &stderr)]);
    assert!(searched >= 5, "{searched} files");
}
