//! Session summaries, recounted by an independent reader: for every session of
//! ../shared/corpus, the numbers are computed here from the payloads themselves (not with
//! flowhook's code), then compared with what `flowhook sessions --json`, `show --json` and
//! session_summaries say. The corpus holds sessions without PreToolUse (launches seen only
//! by their PostToolUse), with events after their last Stop, without any Stop, and with
//! background-command notifications.

mod common;

use common::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const EDIT_TOOLS: &[&str] = &["Write", "Edit", "MultiEdit", "NotebookEdit"];

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Expected {
    prompts: u64,
    launches: u64,
    edits: u64,
    files: u64,
    added: u64,
    removed: u64,
    end_reason: Option<String>,
    /// PreToolUse launches, as the timeline shows them.
    launch_lines: u64,
}

/// The numbers of each session, from its payloads.
fn recount(lines: &[Value]) -> BTreeMap<String, Expected> {
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    let mut launches: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for v in lines {
        let sid = v["session_id"].as_str().unwrap().to_owned();
        let event = v["hook_event_name"].as_str().unwrap_or_default();
        let tool = v["tool_name"].as_str().unwrap_or_default();
        let recorded = matches!(
            event,
            "UserPromptSubmit"
                | "SessionStart"
                | "SessionEnd"
                | "Stop"
                | "PreCompact"
                | "SubagentStart"
                | "SubagentStop"
        ) || (matches!(event, "PreToolUse" | "PostToolUse" | "PostToolUseFailure")
            && matches!(tool, "Agent" | "Task"))
            || (event == "PostToolUse" && EDIT_TOOLS.contains(&tool));
        if !recorded {
            continue;
        }
        let e = out.entry(sid.clone()).or_default();
        match event {
            "UserPromptSubmit"
                if !v["prompt"]
                    .as_str()
                    .unwrap()
                    .trim_start()
                    .starts_with("<task-notification>") =>
            {
                e.prompts += 1;
            }
            "SessionEnd" => e.end_reason = v["reason"].as_str().map(str::to_owned),
            "PreToolUse" | "PostToolUse" | "PostToolUseFailure"
                if matches!(tool, "Agent" | "Task") =>
            {
                if event == "PreToolUse" {
                    e.launch_lines += 1;
                }
                let id = v["tool_use_id"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string());
                launches.entry(sid.clone()).or_default().insert(id);
            }
            "PostToolUse" => {
                e.edits += 1;
                let input = &v["tool_input"];
                let file = input["file_path"]
                    .as_str()
                    .or(input["notebook_path"].as_str())
                    .unwrap();
                files
                    .entry(sid.clone())
                    .or_default()
                    .insert(file.to_owned());
                let response = &v["tool_response"];
                let patch = response["structuredPatch"].as_array();
                match patch.filter(|p| !p.is_empty()) {
                    Some(hunks) => {
                        for l in hunks.iter().flat_map(|h| h["lines"].as_array().unwrap()) {
                            match l.as_str().unwrap().chars().next() {
                                Some('+') => e.added += 1,
                                Some('-') => e.removed += 1,
                                _ => {}
                            }
                        }
                    }
                    None if tool == "Write" && response["type"] != "update" => {
                        let c = response["content"]
                            .as_str()
                            .or(input["content"].as_str())
                            .unwrap_or("");
                        e.added += (c.matches('\n').count()
                            + usize::from(!c.is_empty() && !c.ends_with('\n')))
                            as u64;
                    }
                    None => {}
                }
            }
            _ => {}
        }
    }
    for (sid, e) in out.iter_mut() {
        e.launches = launches.get(sid).map_or(0, |l| l.len() as u64);
        e.files = files.get(sid).map_or(0, |f| f.len() as u64);
    }
    out
}

fn flowhook_numbers(row: &Value) -> Expected {
    Expected {
        prompts: row["prompts"].as_u64().unwrap(),
        launches: row["subagents"].as_u64().unwrap(),
        edits: row["edits"].as_u64().unwrap(),
        files: row["files_touched"].as_u64().unwrap(),
        added: row["lines_added"].as_u64().unwrap(),
        removed: row["lines_removed"].as_u64().unwrap(),
        end_reason: row["end_reason"].as_str().map(str::to_owned),
        launch_lines: 0,
    }
}

#[test]
fn every_corpus_session_is_summarised_exactly() {
    let w = World::new();
    let mut all = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    for f in &files {
        w.hook_lines(f);
        all.extend(
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str::<Value>(l).unwrap()),
        );
    }
    let expected = recount(&all);
    assert!(expected.len() >= 20, "{}", expected.len());
    // The shapes the numbers must hold for.
    assert!(
        expected
            .values()
            .any(|e| e.launches > 0 && e.launch_lines == 0),
        "launches seen only after"
    );
    assert!(
        expected.values().any(|e| e.end_reason.is_none()),
        "a session without SessionEnd"
    );

    let out = succeeded(&mut w.cmd(&["sessions", "--all", "--json"]));
    let listed: BTreeMap<String, Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| (v["session_id"].as_str().unwrap().to_owned(), v))
        .collect();
    assert_eq!(
        listed.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    let mut mismatches = Vec::new();
    for (sid, want) in &expected {
        let want = Expected {
            launch_lines: 0,
            ..want.clone()
        };
        let got = flowhook_numbers(&listed[sid]);
        if got != want {
            mismatches.push(format!("sessions --json {sid}: {got:?} != {want:?}"));
        }
        let row = w.query(&format!(
            "SELECT prompts, tasks, edits, files_touched, lines_added, lines_removed FROM session_summaries WHERE session_id = '{sid}'"
        ));
        let row: Vec<u64> = row[0].iter().map(|c| c.parse().unwrap()).collect();
        let want_row = vec![
            want.prompts,
            want.launches,
            want.edits,
            want.files,
            want.added,
            want.removed,
        ];
        if row != want_row {
            mismatches.push(format!("session_summaries {sid}: {row:?} != {want_row:?}"));
        }
        let show = w.cmd(&["show", sid, "--json"]).output().unwrap();
        assert!(
            show.status.success(),
            "{}",
            String::from_utf8_lossy(&show.stderr)
        );
        let t: Value = serde_json::from_slice(&show.stdout).unwrap();
        let got = flowhook_numbers(&t["session"]);
        if got != want {
            mismatches.push(format!("show --json {sid}: {got:?} != {want:?}"));
        }
        let m = &t["metrics"];
        let launches: u64 = m["subagent_launches"]
            .as_object()
            .map_or(0, |o| o.values().map(|n| n.as_u64().unwrap()).sum());
        let metrics = (m["prompts"].as_u64(), launches, m["edits"].as_u64());
        if metrics != (Some(want.prompts), want.launches, Some(want.edits)) {
            mismatches.push(format!("show metrics {sid}: {metrics:?}"));
        }
        // The summary and the timeline never disagree.
        let events = t["events"].as_array().unwrap();
        let kind = |k: &str| events.iter().filter(|e| e["kind"] == k).count() as u64;
        if (kind("prompt"), kind("edit"), kind("launch"))
            != (want.prompts, want.edits, expected[sid].launch_lines)
        {
            mismatches.push(format!(
                "show timeline {sid}: {} prompts, {} edits, {} launches",
                kind("prompt"),
                kind("edit"),
                kind("launch")
            ));
        }
        // Background commands are not subagents.
        for a in m["agents"].as_array().into_iter().flatten() {
            if a["agent_id"].as_str().is_some_and(|id| id.starts_with('b')) {
                mismatches.push(format!("show agents {sid}: a background command {a}"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

/// What is derived, as rows to compare: everything but generated ids and timestamps.
fn derived(db: &std::path::Path) -> Vec<Vec<Vec<String>>> {
    [
        "SELECT project, file, session_id, edits, lines_added, lines_removed, last_at, dirty
         FROM file_sessions ORDER BY 1, 2, 3",
        "SELECT project, file, basename, sessions, edits, lines_added, lines_removed, last_session,
                last_edited_at, co_edited, task_words, usage_count, confidence
         FROM knowledge_base ORDER BY 1, 2",
        "SELECT session_id, prompts, tasks, edits, files_touched, lines_added, lines_removed,
                summary, metrics, summarised_rows
         FROM session_summaries ORDER BY 1",
        "SELECT count(*) FROM task_fts",
        "SELECT rowid FROM task_fts WHERE task_fts MATCH 'session OR hook OR file' ORDER BY rowid",
        "SELECT rowid FROM edit_fts WHERE edit_fts MATCH 'readme OR md OR skill' ORDER BY rowid",
    ]
    .iter()
    .map(|sql| query(db, sql))
    .collect()
}

#[test]
fn rebuild_recreates_what_incremental_folding_made() {
    let w = World::new();
    succeeded(w.cmd(&["replay", "--quiet"]).arg(corpus()));
    let incremental = derived(&w.db());
    assert!(
        incremental[1].len() > 50,
        "knowledge of {} files",
        incremental[1].len()
    );
    // Derived rows removed by hand: rebuild brings them back.
    sqlite(
        &w.db(),
        "DELETE FROM knowledge_base WHERE rowid % 2 = 0; UPDATE session_summaries SET summary = NULL, prompts = 0;
         DELETE FROM file_sessions WHERE edits % 2 = 1",
    );
    succeeded(&mut w.cmd(&["rebuild", "--json"]));
    let rebuilt = derived(&w.db());
    for (i, (a, b)) in incremental.iter().zip(&rebuilt).enumerate() {
        assert_eq!(a, b, "derived query {i}");
    }
}
