//! Every recorded session in ../shared/corpus, one hook process per event: nothing rejected,
//! one edit row per distinct edit event, a summary for every session that ended.

mod common;

use common::*;
use std::collections::{BTreeMap, BTreeSet};

const EDIT_TOOLS: &[&str] = &["Write", "Edit", "MultiEdit", "NotebookEdit"];

#[test]
fn the_whole_corpus_replays_without_a_rejection() {
    let w = World::new();
    let mut files: Vec<_> = std::fs::read_dir(corpus())
        .expect("../shared/corpus is checked out beside the repository")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(files.len() >= 21, "{} sessions", files.len());

    let mut edits = BTreeSet::new();
    let mut ended: BTreeMap<String, String> = BTreeMap::new();
    // Per session: prompts, edits, lines added, lines removed.
    let mut per_session: BTreeMap<String, [i64; 4]> = BTreeMap::new();
    for file in &files {
        w.hook_lines(file);
        for line in std::fs::read_to_string(file).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let event = v["hook_event_name"].as_str().unwrap_or_default();
            let session = v["session_id"].as_str().unwrap().to_owned();
            let tool = v["tool_name"].as_str().unwrap_or_default();
            let counts = per_session.entry(session.clone()).or_default();
            let prompt = v["prompt"].as_str().unwrap_or_default();
            if event == "UserPromptSubmit" && !prompt.starts_with("<task-notification>") {
                counts[0] += 1;
            }
            if event == "PostToolUse" && EDIT_TOOLS.contains(&tool) {
                let id = v["tool_use_id"]
                    .as_str()
                    .map_or_else(|| line.to_owned(), str::to_owned);
                if edits.insert((session.clone(), id)) {
                    counts[1] += 1;
                    let patch = v["tool_response"]["structuredPatch"].as_array().unwrap();
                    for l in patch.iter().flat_map(|h| h["lines"].as_array().unwrap()) {
                        match l.as_str().unwrap().chars().next() {
                            Some('+') => counts[2] += 1,
                            Some('-') => counts[3] += 1,
                            _ => {}
                        }
                    }
                    if patch.is_empty() {
                        let c = v["tool_response"]["content"].as_str().unwrap();
                        counts[2] += (c.matches('\n').count()
                            + usize::from(!c.is_empty() && !c.ends_with('\n')))
                            as i64;
                    }
                }
            }
            if event == "SessionEnd" {
                ended.insert(session, v["reason"].as_str().unwrap().to_owned());
            }
        }
    }

    let added: i64 = per_session.values().map(|c| c[2]).sum();
    let removed: i64 = per_session.values().map(|c| c[3]).sum();
    assert_eq!(w.count("SELECT count(*) FROM rejected_events"), 0);
    assert_eq!(
        w.count("SELECT count(*) FROM edit_history") as usize,
        edits.len()
    );
    assert_eq!(edits.len(), 165, "the corpus README's total");
    assert_eq!(
        w.query("SELECT sum(lines_added), sum(lines_removed) FROM edit_history"),
        rows![[added, removed]]
    );
    assert_eq!((added, removed), (4960, 1324), "the corpus README's totals");
    let summaries: BTreeMap<String, String> = w
        .query("SELECT session_id, end_reason FROM session_summaries WHERE end_reason IS NOT NULL")
        .into_iter()
        .map(|r| (r[0].clone(), r[1].clone()))
        .collect();
    assert_eq!(summaries, ended);
    assert_eq!(ended.len(), 14);
    // One summary per ended session, with exactly the prompts, edits and lines its payloads
    // hold.
    for session in ended.keys() {
        let c = per_session[session];
        assert_eq!(
            w.query(&format!(
                "SELECT prompts, edits, lines_added, lines_removed, summary IS NOT NULL
                 FROM session_summaries WHERE session_id = '{session}'"
            )),
            rows![[c[0], c[1], c[2], c[3], 1]],
            "{session}"
        );
    }
}

#[test]
fn replay_takes_the_same_path_as_the_hook() {
    let hook = World::new();
    let replay = World::new();
    let demo = fixture("demo-session.jsonl");
    hook.hook_lines(&demo);
    let out = succeeded(&mut replay.cmd(&["replay", "--json", demo.to_str().unwrap()]));
    let totals: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(totals["events"], 10);
    assert_eq!(totals["stored"], 7);
    assert_eq!(totals["ignored"], 3);
    assert_eq!(totals["rejected"], 0);
    let q = "SELECT session_id, file, kind, lines_added, lines_removed, diff, content_hash
             FROM edit_history ORDER BY id";
    assert_eq!(hook.query(q), replay.query(q));
    let q = "SELECT prompts, edits, lines_added, lines_removed, end_reason FROM session_summaries";
    assert_eq!(hook.query(q), replay.query(q));
}
