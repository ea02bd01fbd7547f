//! A session's summary: exact metrics and a short factual text, written by code from the
//! stored rows. Pure: the same rows always give the same summary, so recomputing it at every
//! Stop, and again when a resumed session ends, never drifts.

use crate::event::{Name, Swarm};
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
    /// task_log rows by source event and subagent type.
    pub tasks: Vec<TaskCount>,
    /// Every subagent launch seen as a PreToolUse(Agent|Task), with its tool_use_id.
    pub launches: Vec<Launch>,
    /// Edits grouped by file, tool and kind.
    pub edits: Vec<EditGroup>,
    /// Edits made inside subagents, by agent.
    pub agent_edits: Vec<AgentEdits>,
    /// The swarm rows, in the order they happened.
    pub swarm: Vec<Swarm>,
    pub usage: Option<Usage>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TaskCount {
    pub source_event: String,
    pub n: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Launch {
    pub tool_use_id: Option<String>,
    pub subagent_type: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct EditGroup {
    pub file: String,
    pub tool: String,
    pub kind: String,
    pub n: u64,
    pub added: u64,
    pub removed: u64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AgentEdits {
    pub agent_id: String,
    pub agent_type: Option<String>,
    pub n: u64,
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
    /// None for a subagent whose client did not say which (a SubagentStop of clients before
    /// 2.0, linked to its launch).
    pub agent_id: Option<String>,
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
    for t in &f.tasks {
        match Name::parse(&t.source_event) {
            Name::UserPromptSubmit => m.prompts += t.n,
            Name::PreToolUse => {}
            _ => m.cli_tasks += t.n,
        }
    }
    m.subagent_launches = launches(f);
    let mut files: BTreeMap<&str, (FileChurn, bool)> = BTreeMap::new();
    for e in &f.edits {
        // Counts saturate: pulled rows carry whatever another machine sent.
        m.edits = m.edits.saturating_add(e.n);
        m.lines_added = m.lines_added.saturating_add(e.added);
        m.lines_removed = m.lines_removed.saturating_add(e.removed);
        *m.edits_by_tool.entry(e.tool.clone()).or_default() += e.n;
        let (churn, created) = files.entry(&e.file).or_insert_with(|| {
            (
                FileChurn {
                    file: e.file.clone(),
                    ..FileChurn::default()
                },
                false,
            )
        });
        churn.edits = churn.edits.saturating_add(e.n);
        churn.lines_added = churn.lines_added.saturating_add(e.added);
        churn.lines_removed = churn.lines_removed.saturating_add(e.removed);
        *created |= e.kind == "create";
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

/// Subagent launches by type, each counted once whichever of its signals arrived: its
/// PreToolUse, or its PostToolUse (the result carries the launch's tool_use_id; hooks wired
/// without PreToolUse see only that). A SubagentStart names its agent, not its launch: it
/// adds no launch of its own (subagents also start without an Agent tool call of this
/// session's, and a start is often delivered twice).
fn launches(f: &Facts) -> BTreeMap<String, u64> {
    let general = || "general-purpose".to_owned();
    let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
    let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for l in &f.launches {
        if l.tool_use_id.as_deref().is_some_and(|id| !seen.insert(id)) {
            continue;
        }
        *by_type
            .entry(l.subagent_type.clone().unwrap_or_else(general))
            .or_default() += 1;
    }
    for r in f.swarm.iter().filter(|r| r.kind == "result") {
        if let Some(id) = r.tool_use_id.as_deref()
            && seen.insert(id)
        {
            *by_type
                .entry(r.agent_type.clone().unwrap_or_else(general))
                .or_default() += 1;
        }
    }
    by_type
}

/// Subagents: what their edits, starts, stops and results say, by agent_id (or, for a stop
/// that names no agent, by the launch it was linked to). The compaction agent (a stop with
/// no type and no start) is not a subagent.
fn agents(f: &Facts) -> Vec<Agent> {
    // Which key each swarm row and edit belongs to: the agent, else its launch.
    let key_of = |agent: &Option<String>, launch: &Option<String>| {
        agent
            .clone()
            .or_else(|| launch.as_ref().map(|l| format!("launch:{l}")))
    };
    let mut by_key: BTreeMap<String, Agent> = BTreeMap::new();
    let mut entry = |key: String, agent: &Option<String>, t: &Option<String>| {
        let a = by_key.entry(key).or_insert_with(|| Agent {
            agent_id: agent.clone(),
            ..Agent::default()
        });
        if a.agent_type.is_none() {
            a.agent_type = t.clone();
        }
    };
    for e in &f.agent_edits {
        let id = Some(e.agent_id.clone());
        entry(e.agent_id.clone(), &id, &e.agent_type);
    }
    for r in &f.swarm {
        if let Some(key) = key_of(&r.agent_id, &r.tool_use_id) {
            entry(key, &r.agent_id, &r.agent_type);
        }
    }
    for e in &f.agent_edits {
        by_key.get_mut(&e.agent_id).expect("entered above").edits += e.n;
    }
    for r in &f.swarm {
        let Some(a) = key_of(&r.agent_id, &r.tool_use_id).and_then(|k| by_key.get_mut(&k)) else {
            continue;
        };
        a.tool_use_id = r.tool_use_id.clone().or(a.tool_use_id.take());
        if r.kind == "result" {
            a.status = r.status.clone().or(a.status.take());
            a.duration_ms = r.duration_ms.or(a.duration_ms);
            a.tokens = r.tokens.or(a.tokens);
        } else if r.kind == "stop" && r.agent_id.is_none() {
            // An old client's stop, linked to its launch: it finished.
            a.status = a.status.take().or_else(|| Some("completed".to_owned()));
        }
    }
    by_key
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
    let span = span(&m.started_at, &m.ended_at);
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
            ", {} to {} (+{} -{})",
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
        out.push_str(&format!(
            "\n- First prompt: \"{}\"",
            crate::text::one_line(user_words(p), 200)
        ));
    }
    if !m.top_files.is_empty() {
        let files: Vec<String> = m
            .top_files
            .iter()
            .map(|c| {
                format!(
                    "{} ({}, +{} -{})",
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
        let statuses = match statuses.is_empty() {
            true => String::new(),
            false => format!(" ({})", statuses.join(", ")),
        };
        out.push_str(&format!("\n- Subagents: {}{statuses}", kinds.join(", ")));
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
        out.push_str(&format!(
            "\n- Last reply: \"{}\"",
            crate::text::one_line(last, 200)
        ));
    }
    out
}

/// `2026-11-22 09:14–09:47 UTC`, or across days; times that do not parse are shown as they
/// are (a row from elsewhere may hold anything).
fn span(start: &str, end: &str) -> String {
    let parse =
        |t: &str| chrono::DateTime::parse_from_rfc3339(t).map(|t| t.with_timezone(&chrono::Utc));
    match (parse(start), parse(end)) {
        (Ok(s), Ok(e)) if s.date_naive() == e.date_naive() => format!(
            "{} {}–{} UTC",
            s.format("%Y-%m-%d"),
            s.format("%H:%M"),
            e.format("%H:%M")
        ),
        (Ok(s), Ok(e)) => format!(
            "{} – {} UTC",
            s.format("%Y-%m-%d %H:%M"),
            e.format("%Y-%m-%d %H:%M")
        ),
        (Ok(s), Err(_)) => format!("{} UTC", s.format("%Y-%m-%d %H:%M")),
        _ => start.to_owned(),
    }
}

/// A prompt without what the client put before the user's own words: `<ide_opened_file>`,
/// `<ide_selection>` and `<system-reminder>` blocks. All of it when nothing else is left.
pub fn user_words(prompt: &str) -> &str {
    let mut rest = prompt.trim_start();
    while let Some(name) = rest
        .strip_prefix('<')
        .and_then(|r| r.split_once('>'))
        .map(|(n, _)| n)
        .filter(|n| n.starts_with("ide_") || *n == "system-reminder")
    {
        let close = format!("</{name}>");
        match rest.find(&close) {
            Some(i) => rest = rest[i + close.len()..].trim_start(),
            None => break,
        }
    }
    if rest.is_empty() { prompt } else { rest }
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
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
                TaskCount {
                    source_event: "UserPromptSubmit".into(),
                    n: 2,
                },
                TaskCount {
                    source_event: "PreToolUse".into(),
                    n: 1,
                },
            ],
            launches: vec![Launch {
                tool_use_id: Some("t1".into()),
                subagent_type: Some("researcher".into()),
            }],
            edits: vec![
                edit_group("notes.md", "Write", "create", 1, 3, 0),
                edit_group("notes.md", "Edit", "edit", 1, 1, 1),
                edit_group("src/lib.rs", "Edit", "edit", 2, 10, 4),
            ],
            agent_edits: vec![AgentEdits {
                agent_id: "a1".into(),
                agent_type: Some("researcher".into()),
                n: 2,
            }],
            swarm: vec![Swarm {
                kind: "result".into(),
                agent_id: Some("a1".into()),
                tool_use_id: Some("t1".into()),
                status: Some("completed".into()),
                tokens: Some(900),
                ..Swarm::default()
            }],
            usage: None,
        }
    }

    fn edit_group(
        file: &str,
        tool: &str,
        kind: &str,
        n: u64,
        added: u64,
        removed: u64,
    ) -> EditGroup {
        EditGroup {
            file: file.into(),
            tool: tool.into(),
            kind: kind.into(),
            n,
            added,
            removed,
        }
    }

    fn swarm(kind: &str, agent: Option<&str>, launch: Option<&str>, t: Option<&str>) -> Swarm {
        Swarm {
            kind: kind.into(),
            agent_id: agent.map(Into::into),
            tool_use_id: launch.map(Into::into),
            agent_type: t.map(Into::into),
            ..Swarm::default()
        }
    }

    #[test]
    fn a_launch_counts_once_whichever_of_its_signals_arrived() {
        let launch = |id: &str| Launch {
            tool_use_id: Some(id.into()),
            subagent_type: Some("Explore".into()),
        };
        // Every signal of one launch: PreToolUse, SubagentStart, PostToolUse.
        let all = Facts {
            launches: vec![launch("t1")],
            swarm: vec![
                swarm("start", Some("a1"), None, Some("Explore")),
                swarm("result", Some("a1"), Some("t1"), Some("Explore")),
            ],
            ..Facts::default()
        };
        assert_eq!(launches(&all), BTreeMap::from([("Explore".into(), 1)]));
        // No PreToolUse: 27 PostToolUse(Task) results of distinct launches.
        let posts = Facts {
            swarm: (0..27)
                .map(|i| swarm("result", None, Some(&format!("t{i}")), Some("researcher")))
                .collect(),
            ..Facts::default()
        };
        assert_eq!(
            launches(&posts),
            BTreeMap::from([("researcher".into(), 27)])
        );
        // Starts alone (a subagent's own subagents, duplicated deliveries) add no launch.
        let starts = Facts {
            launches: vec![launch("t1")],
            swarm: vec![
                swarm("start", Some("a1"), None, Some("Explore")),
                swarm("start", Some("a1"), None, Some("Explore")),
                swarm("start", Some("a2"), None, Some("Plan")),
            ],
            ..Facts::default()
        };
        assert_eq!(launches(&starts), BTreeMap::from([("Explore".into(), 1)]));
    }

    #[test]
    fn an_old_clients_stop_linked_to_its_launch_finishes_that_agent() {
        let f = Facts {
            launches: vec![Launch {
                tool_use_id: Some("t1".into()),
                subagent_type: Some("researcher".into()),
            }],
            swarm: vec![swarm("stop", None, Some("t1"), Some("researcher"))],
            ..Facts::default()
        };
        let m = metrics(&f);
        assert_eq!(m.agents.len(), 1);
        assert_eq!(
            (
                m.agents[0].agent_id.as_deref(),
                m.agents[0].status.as_deref()
            ),
            (None, Some("completed"))
        );
    }

    #[test]
    fn the_first_prompt_is_the_users_words() {
        let p = "<ide_opened_file>The user opened the file /a/SKILL.md in the IDE.</ide_opened_file>\nlet's do all changes";
        assert_eq!(user_words(p), "let's do all changes");
        assert_eq!(
            user_words("<ide_selection>x</ide_selection>"),
            "<ide_selection>x</ide_selection>"
        );
        assert_eq!(user_words("plain"), "plain");
    }

    #[test]
    fn odd_times_never_panic() {
        assert_eq!(
            span("2026-11-22T09:14:00.000Z", "é"),
            "2026-11-22 09:14 UTC"
        );
        assert_eq!(span("ééééééééééééééééé", "x"), "ééééééééééééééééé");
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
             4 edits to 2 files (+14 -5), 1 created.\n\
             - First prompt: \"Create notes.md with three lines\"\n\
             - Files: src/lib.rs (2 edits, +10 -4), notes.md (2 edits, +4 -1)\n\
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
            launches: vec![],
            ..facts()
        };
        let t = text(&f, &metrics(&f));
        assert!(t.contains("0 prompts, no edits."), "{t}");
    }
}
