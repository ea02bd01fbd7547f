//! One session shown as text, the same for a person (`flowhook show`, `export`) and for an
//! agent (the MCP server's `get_session`): finding it by id or prefix, and drawing its
//! timeline with each subagent's events under the launch that started it.
//!
//! Owns the drawing only: it reads through the store and writes nothing; the commands and
//! the MCP server decide where the text goes.

use crate::store::{Store, StoreError, Timeline, TimelineEvent};
use crate::summary::user_words;
use crate::text::Shown;
use std::fmt::Write;

/// Why no one session was found.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// `among`: ` in <project>`, or nothing.
    #[error("no session starts with {id:?}{among} (list them with `flowhook sessions`)")]
    None { id: String, among: String },
    /// `shown`: the first five, shortened; `more`: whether there are others.
    #[error(
        "{id:?} matches {}{}; give more characters",
        .shown.join(" and "),
        if *.more { " and more" } else { "" }
    )]
    Many {
        id: String,
        shown: Vec<String>,
        more: bool,
    },
    #[error("session {0} vanished while reading it")]
    Vanished(String),
}

/// The session a full id or unique prefix names, among one project's when given.
pub async fn find(store: &Store, id: &str, project: Option<&str>) -> Result<Timeline, FindError> {
    let matches = store.sessions_matching(id, project).await?;
    let sid = match matches.as_slice() {
        [one] => one,
        [] => {
            return Err(FindError::None {
                id: id.to_owned(),
                among: project.map(|p| format!(" in {p}")).unwrap_or_default(),
            });
        }
        many if many.iter().any(|m| m == id) => id,
        many => {
            return Err(FindError::Many {
                id: id.to_owned(),
                shown: many.iter().take(5).map(|m| short(m)).collect(),
                more: many.len() > 5,
            });
        }
    };
    store
        .timeline(sid)
        .await?
        .ok_or_else(|| FindError::Vanished(sid.to_owned()))
}

/// The first eight characters of a session or agent id, as lists show it.
pub fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

/// The session as text: header, summary, and the timeline drawn as a tree in which each
/// subagent's own events hang under the launch that started it. `markdown` wraps it for a
/// document.
pub fn render(t: &Timeline, markdown: bool) -> String {
    let s = &t.session;
    let mut out = String::new();
    if markdown {
        let _ = writeln!(
            out,
            "# Session {}\n\nProject: `{}`  \nAgent: {}\n",
            Shown::line(&s.session_id),
            Shown::line(&s.project),
            Shown::line(s.agent.as_deref().unwrap_or("not recorded"))
        );
    } else {
        let _ = writeln!(
            out,
            "Session {}  ({})",
            Shown::line(&s.session_id),
            Shown::line(&s.project)
        );
        let _ = writeln!(
            out,
            "Recorded on {}, agent {}\n",
            Shown::line(s.machine.as_deref().unwrap_or("this machine")),
            Shown::line(s.agent.as_deref().unwrap_or("not recorded"))
        );
    }
    if let Some(summary) = &t.summary {
        let _ = writeln!(out, "{summary}\n");
    }
    let _ = writeln!(
        out,
        "{}",
        if markdown {
            "## Timeline\n\n```"
        } else {
            "Timeline (UTC):"
        }
    );
    for (i, under) in tree(t) {
        let branch = match under {
            None => "",
            Some(false) => "  ├─ ",
            Some(true) => "  └─ ",
        };
        let _ = writeln!(out, "{}", event_line(&t.events[i], branch));
    }
    if markdown {
        out.push_str("```\n");
    }
    out
}

/// The timeline as drawn, as indices into `t.events`: each subagent's own events follow the
/// launch that started it, with `Some(last)` (whether it is the launch's last); the rest
/// `None`, in the order they happened. Stops that say nothing are left out.
pub fn tree(t: &Timeline) -> Vec<(usize, Option<bool>)> {
    // Which agent each launch started: results carry both ids.
    let agent_of_launch = |tool_use_id: &str| {
        t.events
            .iter()
            .find(|e| e.kind == "result" && e.tool_use_id.as_deref() == Some(tool_use_id))
            .and_then(|e| e.agent_id.clone())
    };
    let launched: Vec<String> = t
        .events
        .iter()
        .filter(|e| e.kind == "launch")
        .filter_map(|e| e.tool_use_id.as_deref().and_then(agent_of_launch))
        .collect();
    let shown = t.events.iter().enumerate().filter(|(_, e)| !is_noise(e));
    let mut out = Vec::new();
    for (i, e) in shown.clone().filter(|(_, e)| {
        e.agent_id.is_none() || !launched.contains(e.agent_id.as_ref().expect("checked"))
    }) {
        // A result that belongs to a launch is drawn under it.
        if e.kind == "result" && e.agent_id.as_ref().is_some_and(|a| launched.contains(a)) {
            continue;
        }
        out.push((i, None));
        if e.kind == "launch"
            && let Some(agent) = e.tool_use_id.as_deref().and_then(agent_of_launch)
        {
            let own: Vec<usize> = shown
                .clone()
                .filter(|(_, x)| x.agent_id.as_deref() == Some(agent.as_str()))
                .map(|(j, _)| j)
                .collect();
            let n = own.len();
            out.extend(
                own.into_iter()
                    .enumerate()
                    .map(|(k, j)| (j, Some(k + 1 == n))),
            );
        }
    }
    out
}

/// A stop of an agent nobody named or typed (the compaction's), saying nothing.
fn is_noise(e: &TimelineEvent) -> bool {
    e.kind == "stop" && e.agent_type.is_none() && e.tool_use_id.is_none() && e.text.is_empty()
}

fn event_line(e: &TimelineEvent, branch: &str) -> String {
    let time = chrono::DateTime::parse_from_rfc3339(&e.at)
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_else(|_| e.at.clone());
    let who = match (&e.agent_type, &e.agent_id) {
        (Some(t), Some(id)) if e.kind != "launch" => format!(" [{t} {}]", short(id)),
        (None, Some(id)) => format!(" [{}]", short(id)),
        (Some(t), _) => format!(" [{t}]"),
        _ => String::new(),
    };
    let lines = match (e.lines_added, e.lines_removed) {
        (Some(a), Some(r)) => format!("  +{a} -{r}"),
        _ => String::new(),
    };
    let words = match e.kind.as_str() {
        "prompt" => user_words(&e.text),
        _ => &e.text,
    };
    let words: String = words.split_whitespace().collect::<Vec<_>>().join(" ");
    let (words, cut) = crate::text::truncate(&words, 100);
    let text = match e.kind.as_str() {
        "prompt" | "launch" | "cli-task" => format!("\"{words}{}\"", if cut { "…" } else { "" }),
        "edit" => format!("{} {words}", e.tool.as_deref().unwrap_or("")),
        _ => words.to_owned(),
    };
    format!("{time}  {branch}{:<7}{who}  {text}{lines}", e.kind)
        .trim_end()
        .to_owned()
}
