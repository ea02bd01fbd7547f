//! Issue 26: recall of tasks phrased in other words. The history is fixtures/recall's earlier
//! work (22 sessions in /home/dev/proj, eight decoys in two other projects reusing its topics
//! and file names) and six decoy sessions in proj itself (fixtures/meaning/decoys.jsonl)
//! sharing incidental words with the paraphrases ("screen", "hour", "visitors", "label",
//! "bundle", "cluster", "trail"). Then each task is asked as a new session's first prompt:
//! - **paraphrased** (fixtures/meaning/tasks.json): 22 tasks, one for each earlier piece of
//!   work in proj, that share no content word, after stemming, with the session they refer
//!   to: its prompt, the paths and everything it wrote (checked here, not assumed);
//! - **literal**: the 22 later tasks of fixtures/recall (q01-q22), labelled in its
//!   labels.json.
//!
//! Recall and precision of each kind are printed (`-- --nocapture`) for the README and
//! asserted as floors at what recall by words reaches today, so a change that loses ground on
//! either kind fails here; 0 leaks from another project for both.

mod common;

use common::recall::{Scores, context_of, sessions_in};
use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Words that carry no content in a task.
const STOPWORDS: &[&str] = &[
    "a", "an", "the", "to", "of", "in", "on", "for", "and", "or", "but", "is", "are", "was",
    "were", "be", "been", "by", "with", "at", "from", "as", "it", "its", "this", "that", "these",
    "those", "our", "we", "us", "you", "your", "they", "them", "their", "not", "no", "can",
    "cannot", "should", "must", "need", "needs", "do", "does", "did", "how", "what", "when",
    "where", "which", "who", "why", "after", "before", "into", "out", "over", "under", "up",
    "down", "off", "again", "than", "then", "so", "too", "very", "just", "one", "two", "every",
    "each", "all", "any", "some", "other", "another", "new", "between", "whenever", "without",
    "about", "across", "able", "let", "make", "sure", "keep", "get", "gets", "until",
];

/// A word's stem, crudely and on the strict side: a common suffix off, then at most five
/// letters ("rotation" and "rotate" are one, so are "limit" and "limiting").
fn stem(word: &str) -> String {
    let mut w = word;
    for suffix in [
        "ations", "ation", "ings", "ing", "ers", "er", "edly", "ed", "ies", "es", "s", "ly",
    ] {
        if w.len() >= suffix.len() + 3 && w.ends_with(suffix) {
            w = &w[..w.len() - suffix.len()];
            break;
        }
    }
    w.chars().take(5).collect()
}

/// The content stems of a text: identifiers split (snake and camel case), lower case, three
/// letters or more, stopwords and numbers out.
fn stems(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for token in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        let chars: Vec<char> = token.chars().collect();
        let mut word = String::new();
        for (i, c) in chars.iter().enumerate() {
            let starts = i > 0
                && (c.is_ascii_uppercase() && chars[i - 1].is_ascii_lowercase()
                    || c.is_ascii_digit() != chars[i - 1].is_ascii_digit());
            if starts {
                out.extend(content(&word));
                word.clear();
            }
            word.push(c.to_ascii_lowercase());
        }
        out.extend(content(&word));
    }
    out
}

fn content(word: &str) -> Option<String> {
    let keep =
        word.len() >= 3 && !STOPWORDS.contains(&word) && !word.chars().all(|c| c.is_ascii_digit());
    keep.then(|| stem(word))
}

/// A session's own words: its prompt, and every path and text its writes and edits sent.
fn session_text(file: &Path) -> String {
    let mut parts = Vec::new();
    for line in std::fs::read_to_string(file).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        match v["hook_event_name"].as_str() {
            Some("UserPromptSubmit") => parts.push(v["prompt"].as_str().unwrap().to_owned()),
            Some("PostToolUse") if v["tool_name"] != "Read" => parts.extend(
                v["tool_input"]
                    .as_object()
                    .unwrap()
                    .values()
                    .filter_map(|x| x.as_str().map(str::to_owned)),
            ),
            _ => {}
        }
    }
    parts.join(" ")
}

/// fixtures/recall's name of a session file: `claude-code-2.1.328__03-a3-rate-limit.jsonl`
/// is `03-a3-rate-limit`.
fn name_of(file: &Path) -> String {
    let name = file.file_name().unwrap().to_string_lossy();
    let name = name.split("__").nth(1).unwrap_or(&name);
    name.trim_end_matches(".jsonl").to_owned()
}

/// The history replayed: each session's project, by the first 8 characters of its id (what a
/// context names), and each fixtures/recall session's id by its name.
struct History {
    world: World,
    project_of: BTreeMap<String, String>,
    session_of: BTreeMap<String, String>,
}

fn replay() -> History {
    let world = World::new();
    let (mut project_of, mut session_of) = (BTreeMap::new(), BTreeMap::new());
    let mut files: Vec<_> = std::fs::read_dir(fixture("recall"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl") && !name_of(p).contains("-q"))
        .collect();
    files.sort();
    files.push(fixture("meaning").join("decoys.jsonl"));
    for file in &files {
        for line in std::fs::read_to_string(file).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            let sid: String = v["session_id"].as_str().unwrap().chars().take(8).collect();
            session_of.insert(name_of(file), sid.clone());
            project_of.insert(sid, v["cwd"].as_str().unwrap().to_owned());
        }
        world.hook_lines(file);
    }
    // Six decoys, each its own session, told apart by what a context names.
    assert_eq!(project_of.len(), 30 + 6, "{project_of:?}");
    History {
        world,
        project_of,
        session_of,
    }
}

/// Asks each task as a new session's first prompt in proj and scores what it was handed.
fn ask(h: &History, kind: &str, tasks: &[(String, Vec<String>)]) -> Scores {
    let mut scores = Scores::default();
    for (i, (task, wanted)) in tasks.iter().enumerate() {
        let line = prompt_in(&format!("{kind}-{i}"), Path::new("/home/dev/proj"), task);
        let context = context_of(&h.world.hook(&[], &line));
        let got = context.as_deref().map(sessions_in).unwrap_or_default();
        let wanted = wanted.iter().map(|w| &h.session_of[w]);
        scores.add(task, wanted, &got, &h.project_of, "/home/dev/proj");
    }
    scores
}

/// The paraphrased tasks and the sessions each refers to (fixtures/recall names).
fn paraphrased() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(fixture("meaning").join("tasks.json")).unwrap();
    let tasks: BTreeMap<String, Vec<String>> = serde_json::from_str(&text).unwrap();
    tasks.into_iter().collect()
}

/// fixtures/recall's later tasks (their prompts) and their labels.
fn literal() -> Vec<(String, Vec<String>)> {
    let dir = fixture("recall");
    let labels: BTreeMap<String, Vec<String>> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("labels.json")).unwrap()).unwrap();
    labels
        .iter()
        .map(|(query, wanted)| {
            let text = std::fs::read_to_string(dir.join(query)).unwrap();
            let prompt = text
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap())
                .find(|v| v["hook_event_name"] == "UserPromptSubmit")
                .unwrap()["prompt"]
                .as_str()
                .unwrap()
                .to_owned();
            let wanted = wanted.iter().map(|w| name_of(Path::new(w))).collect();
            (prompt, wanted)
        })
        .collect()
}

#[test]
fn paraphrased_tasks_share_no_content_word_with_the_work_they_mean() {
    let tasks = paraphrased();
    assert!(tasks.len() >= 20, "{} tasks", tasks.len());
    for (task, wanted) in &tasks {
        for w in wanted {
            let file = fixture("recall").join(format!("claude-code-2.1.328__{w}.jsonl"));
            let shared: Vec<String> = stems(task)
                .intersection(&stems(&session_text(&file)))
                .cloned()
                .collect();
            assert!(shared.is_empty(), "{task:?} shares {shared:?} with {w}");
        }
    }
    // The check itself can fail: a literal task shares words with its session.
    let file = fixture("recall").join("claude-code-2.1.328__03-a3-rate-limit-middleware.jsonl");
    let task = "Add rate limiting for the public API";
    assert!(
        stems(task).is_subset(&stems(&session_text(&file))),
        "{task}"
    );
}

#[test]
fn tasks_in_other_words_are_scored_and_literal_recall_holds() {
    let h = replay();
    let [literal, para] = [
        ask(&h, "literal", &literal()),
        ask(&h, "paraphrased", &paraphrased()),
    ];
    let report = format!(
        "{}\n{}",
        literal.summary("literal"),
        para.summary("paraphrased")
    );
    // Printed for the README (cargo test --test meaning_eval -- --nocapture).
    println!("{report}");
    assert_eq!(literal.leaks + para.leaks, 0, "{report}");
    // Floors at what recall by words measures here (with the six decoys in proj, literal
    // precision is lower than tests/recall_eval.rs's).
    assert!(literal.recall() >= LITERAL.0, "{report}");
    assert!(literal.precision() >= LITERAL.1, "{report}");
    // In other words, a task mostly gets nothing rather than the wrong session.
    assert!(para.misled <= MISLED, "{report}");
}

/// Recall and precision of literal tasks by words alone on this set.
const LITERAL: (f64, f64) = (0.84, 0.55);
/// Paraphrased tasks handed a session they do not mean (by words alone, none is given the one
/// it means; the issue asks recall 0.8 at precision 0.7, see the README): each shares an incidental word or two
/// with a decoy ("screen" and "hour"), which is what matching by words sees.
const MISLED: usize = 5;
