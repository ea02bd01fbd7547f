//! A session's summary: exact metrics and a short factual text, written by code from the
//! stored rows. Pure: the same rows always give the same summary, so recomputing it at every
//! Stop, and again when a resumed session ends, never drifts.

use crate::transcript::Usage;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the store knows about a session, gathered for the summary.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub session_id: String,
    pub started_at: String,
    pub ended_at: String,
    pub end_reason: Option<String>,
    pub first_prompt: Option<String>,
    pub last_message: Option<String>,
    /// (source_event, subagent_type, count) of task_log.
    pub tasks: Vec<(String, Option<String>, u64)>,
    /// One row per file and tool and kind: (file, tool, kind, edits, added, removed).
    pub edits: Vec<(String, String, String, u64, u64, u64)>,
    /// (agent_id, agent_type, edits) of edits made inside subagents.
    pub agent_edits: Vec<(String, Option<String>, u64)>,
    /// The swarm rows: (kind, agent_id, agent_type, tool_use_id, status, duration_ms, tokens).
    pub swarm: Vec<SwarmRow>,
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, Default)]
pub struct SwarmRow {
    pub kind: String,
    pub agent_id: Option<String>,
    pub agent_type: Option<String>,
    pub tool_use_id: Option<String>,
    pub status: Option<String>,
    pub duration_ms: Option<u64>,
    pub tokens: Option<u64>,
}

/// The metrics of one session (`session_summaries.metrics`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Session metrics")]
pub struct Metrics {
    /// First event seen (RFC 3339 UTC).
    pub started_at: String,
    /// Last session-end event seen.
    pub ended_at: String,
    pub duration_ms: u64,
    /// Reason of the last SessionEnd (clear, resume, logout, prompt_input_exit, other); none
    /// when the session was only summarised from its Stops.
    pub end_reason: Option<String>,
    /// User prompts (not counting background agents' notifications).
    pub prompts: u64,
    /// Subagent launches (Agent / Task tool), by subagent type.
    pub subagent_launches: BTreeMap<String, u64>,
    /// claude-flow `pre-task` calls.
    pub cli_tasks: u64,
    pub edits: u64,
    /// Edits by tool (Write, Edit, MultiEdit, NotebookEdit, cli).
    pub edits_by_tool: BTreeMap<String, u64>,
    pub files_touched: u64,
    /// Files this session created (a Write of type create).
    pub files_created: u64,
    /// Files it changed without creating them.
    pub files_updated: u64,
    pub lines_added: u64,
    pub lines_removed: u64,
    /// The five files with the most lines changed.
    pub top_files: Vec<FileChurn>,
    /// Subagents seen, by agent_id.
    pub agents: Vec<Agent>,
    /// The main conversation's model and tokens, from the transcript when it was readable.
    pub model: Option<String>,
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FileChurn {
    pub file: String,
    pub edits: u64,
    pub lines_added: u64,
    pub lines_removed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Agent {
    pub agent_id: String,
    pub agent_type: Option<String>,
    /// The Agent tool call that launched it, when its result linked the two.
    pub tool_use_id: Option<String>,
    /// The last status reported (completed, async_launched, killed, failed, ...).
    pub status: Option<String>,
    pub edits: u64,
    pub duration_ms: Option<u64>,
    pub tokens: Option<u64>,
}

/// Files listed by name in the summary text.
const TOP_FILES: usize = 5;

pub fn metrics(f: &Facts) -> Metrics {
    let mut m = Metrics {
        started_at: f.started_at.clone(),
        ended_at: f.ended_at.clone(),
        duration_ms: duration_ms(&f.started_at, &f.ended_at),
        end_reason: f.end_reason.clone(),
        model: f
            .usage
            .as_ref()
            .and_then(|u| u.main_model())
            .map(str::to_owned),
        usage: f.usage.clone().filter(|u| u.messages > 0),
        ..Metrics::default()
    };
    for (source, subagent_type, n) in &f.tasks {
        match source.as_str() {
            "UserPromptSubmit" => m.prompts += n,
            "PreToolUse" => {
                let t = subagent_type
                    .clone()
                    .unwrap_or_else(|| "general-purpose".to_owned());
                *m.subagent_launches.entry(t).or_default() += n;
            }
            _ => m.cli_tasks += n,
        }
    }
    let mut files: BTreeMap<&str, (FileChurn, bool)> = BTreeMap::new();
    for (file, tool, kind, n, added, removed) in &f.edits {
        m.edits += n;
        m.lines_added += added;
        m.lines_removed += removed;
        *m.edits_by_tool.entry(tool.clone()).or_default() += n;
        let (churn, created) = files.entry(file).or_insert_with(|| {
            (
                FileChurn {
                    file: file.clone(),
                    ..FileChurn::default()
                },
                false,
            )
        });
        churn.edits += n;
        churn.lines_added += added;
        churn.lines_removed += removed;
        *created |= kind == "create";
    }
    m.files_touched = files.len() as u64;
    m.files_created = files.values().filter(|(_, c)| *c).count() as u64;
    m.files_updated = m.files_touched - m.files_created;
    let mut churn: Vec<FileChurn> = files.into_values().map(|(c, _)| c).collect();
    churn.sort_by(|a, b| {
        (b.lines_added + b.lines_removed)
            .cmp(&(a.lines_added + a.lines_removed))
            .then_with(|| a.file.cmp(&b.file))
    });
    churn.truncate(TOP_FILES);
    m.top_files = churn;
    m.agents = agents(f);
    m
}

/// Subagents by agent_id: what their edits, starts, stops and results say. The compaction
/// agent (a stop with no type and no start) is not a subagent.
fn agents(f: &Facts) -> Vec<Agent> {
    let mut by_id: BTreeMap<String, Agent> = BTreeMap::new();
    let mut entry = |id: &str, t: &Option<String>| {
        let a = by_id.entry(id.to_owned()).or_insert_with(|| Agent {
            agent_id: id.to_owned(),
            ..Agent::default()
        });
        if a.agent_type.is_none() {
            a.agent_type = t.clone();
        }
    };
    for (id, t, _) in &f.agent_edits {
        entry(id, t);
    }
    for r in &f.swarm {
        if let Some(id) = &r.agent_id {
            entry(id, &r.agent_type);
        }
    }
    for (id, _, n) in &f.agent_edits {
        by_id.get_mut(id).expect("entered above").edits += n;
    }
    for r in f.swarm.iter().filter(|r| r.kind == "result") {
        let Some(a) = r.agent_id.as_ref().and_then(|id| by_id.get_mut(id)) else {
            continue;
        };
        a.tool_use_id = r.tool_use_id.clone().or(a.tool_use_id.take());
        a.status = r.status.clone().or(a.status.take());
        a.duration_ms = r.duration_ms.or(a.duration_ms);
        a.tokens = r.tokens.or(a.tokens);
    }
    by_id
        .into_values()
        .filter(|a| a.agent_type.is_some() || a.edits > 0 || a.status.is_some())
        .collect()
}

fn duration_ms(start: &str, end: &str) -> u64 {
    match (
        chrono::DateTime::parse_from_rfc3339(start),
        chrono::DateTime::parse_from_rfc3339(end),
    ) {
        (Ok(s), Ok(e)) => (e - s).num_milliseconds().max(0) as u64,
        _ => 0,
    }
}

/// A short factual paragraph and bullets. Numbers and names only: no judgement, no advice.
pub fn text(f: &Facts, m: &Metrics) -> String {
    let sid: String = f.session_id.chars().take(8).collect();
    let span = match (&m.started_at.get(..16), &m.ended_at.get(..16)) {
        (Some(s), Some(e)) if s[..10] == e[..10] => {
            format!("{} {}–{} UTC", &s[..10], &s[11..], &e[11..])
        }
        (Some(s), Some(e)) => format!("{} {} – {} {} UTC", &s[..10], &s[11..], &e[..10], &e[11..]),
        _ => m.started_at.clone(),
    };
    let mut out = format!("Session {sid}, {span} ({})", human_duration(m.duration_ms));
    if let Some(r) = &m.end_reason {
        out.push_str(&format!(", ended: {r}"));
    }
    out.push_str(&format!(". {}", plural(m.prompts, "prompt")));
    let launches: u64 = m.subagent_launches.values().sum();
    if launches > 0 {
        out.push_str(&format!(", {}", plural(launches, "subagent")));
    }
    if m.edits > 0 {
        out.push_str(&format!(
            ", {} to {} (+{} −{})",
            plural(m.edits, "edit"),
            plural(m.files_touched, "file"),
            m.lines_added,
            m.lines_removed
        ));
        if m.files_created > 0 {
            out.push_str(&format!(", {} created", m.files_created));
        }
    } else {
        out.push_str(", no edits");
    }
    out.push('.');
    if let Some(p) = &f.first_prompt {
        out.push_str(&format!("\n- First prompt: \"{}\"", one_line(p, 200)));
    }
    if !m.top_files.is_empty() {
        let files: Vec<String> = m
            .top_files
            .iter()
            .map(|c| {
                format!(
                    "{} ({}, +{} −{})",
                    c.file,
                    plural(c.edits, "edit"),
                    c.lines_added,
                    c.lines_removed
                )
            })
            .collect();
        let more = m.files_touched.saturating_sub(m.top_files.len() as u64);
        let more = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        out.push_str(&format!("\n- Files: {}{more}", files.join(", ")));
    }
    if launches > 0 {
        let kinds: Vec<String> = m
            .subagent_launches
            .iter()
            .map(|(t, n)| format!("{n} {t}"))
            .collect();
        let mut statuses: BTreeMap<&str, u64> = BTreeMap::new();
        for a in &m.agents {
            *statuses
                .entry(a.status.as_deref().unwrap_or("unknown"))
                .or_default() += 1;
        }
        let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{s} {n}")).collect();
        out.push_str(&format!(
            "\n- Subagents: {} ({})",
            kinds.join(", "),
            statuses.join(", ")
        ));
    }
    if let (Some(model), Some(u)) = (&m.model, &m.usage) {
        out.push_str(&format!(
            "\n- Model: {model}; tokens: {} in, {} out, {} cache read, {} cache written",
            u.input_tokens,
            u.output_tokens,
            u.cache_read_input_tokens,
            u.cache_creation_input_tokens
        ));
    }
    if let Some(last) = &f.last_message {
        out.push_str(&format!("\n- Last reply: \"{}\"", one_line(last, 200)));
    }
    out
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn one_line(s: &str, max: usize) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let (head, cut) = crate::text::truncate(&flat, max);
    if cut {
        format!("{head}…")
    } else {
        head.to_owned()
    }
}

pub fn human_duration(ms: u64) -> String {
    let s = ms / 1000;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        _ => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> Facts {
        Facts {
            session_id: "2c52ce67-4d3d".into(),
            started_at: "2026-11-22T09:14:00.000Z".into(),
            ended_at: "2026-11-22T09:47:30.000Z".into(),
            end_reason: Some("other".into()),
            first_prompt: Some("Create notes.md\nwith three lines".into()),
            last_message: Some("Done.".into()),
            tasks: vec![
                ("UserPromptSubmit".into(), None, 2),
                ("PreToolUse".into(), Some("researcher".into()), 1),
            ],
            edits: vec![
                ("notes.md".into(), "Write".into(), "create".into(), 1, 3, 0),
                ("notes.md".into(), "Edit".into(), "edit".into(), 1, 1, 1),
                ("src/lib.rs".into(), "Edit".into(), "edit".into(), 2, 10, 4),
            ],
            agent_edits: vec![("a1".into(), Some("researcher".into()), 2)],
            swarm: vec![SwarmRow {
                kind: "result".into(),
                agent_id: Some("a1".into()),
                status: Some("completed".into()),
                tokens: Some(900),
                ..SwarmRow::default()
            }],
            usage: None,
        }
    }

    #[test]
    fn metrics_are_exact() {
        let m = metrics(&facts());
        assert_eq!(
            (
                m.prompts,
                m.edits,
                m.files_touched,
                m.files_created,
                m.files_updated
            ),
            (2, 4, 2, 1, 1)
        );
        assert_eq!(
            (m.lines_added, m.lines_removed, m.duration_ms),
            (14, 5, 2_010_000)
        );
        assert_eq!(m.subagent_launches["researcher"], 1);
        assert_eq!(m.edits_by_tool["Edit"], 3);
        assert_eq!(m.top_files[0].file, "src/lib.rs");
        assert_eq!(m.agents.len(), 1);
        assert_eq!(
            (
                m.agents[0].edits,
                m.agents[0].status.as_deref(),
                m.agents[0].tokens
            ),
            (2, Some("completed"), Some(900))
        );
    }

    #[test]
    fn the_text_is_factual_and_deterministic() {
        let f = facts();
        let t = text(&f, &metrics(&f));
        assert_eq!(t, text(&f, &metrics(&f)));
        assert_eq!(
            t,
            "Session 2c52ce67, 2026-11-22 09:14–09:47 UTC (33 min), ended: other. 2 prompts, 1 subagent, \
             4 edits to 2 files (+14 −5), 1 created.\n\
             - First prompt: \"Create notes.md with three lines\"\n\
             - Files: src/lib.rs (2 edits, +10 −4), notes.md (2 edits, +4 −1)\n\
             - Subagents: 1 researcher (completed 1)\n\
             - Last reply: \"Done.\""
        );
    }

    #[test]
    fn a_session_without_edits() {
        let f = Facts {
            edits: vec![],
            agent_edits: vec![],
            swarm: vec![],
            tasks: vec![],
            ..facts()
        };
        let t = text(&f, &metrics(&f));
        assert!(t.contains("0 prompts, no edits."), "{t}");
    }
}
