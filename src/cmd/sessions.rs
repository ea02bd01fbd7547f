//! `flowhook sessions`, `show` and `export`: what the hook stored, for people and scripts.

use super::{Setup, say, say_part};
use crate::cli::{ExportArgs, ExportFormat, SessionsArgs, ShowArgs};
use crate::store::{SessionRow, Store, Timeline, TimelineEvent};
use crate::summary::{human_duration, user_words};
use crate::text::Shown;
use std::fmt::Write;

pub fn list(args: SessionsArgs) -> super::Result {
    let setup = Setup::resolve(&args.common)?;
    let project = args.project.as_deref().map(super::project_named);
    let limit = if args.all { u32::MAX } else { args.limit };
    let (rows, total) = super::runtime().block_on(async {
        let store = setup.open_existing().await?;
        store
            .sessions(project.as_deref(), limit)
            .await
            .map_err(|e| e.to_string())
    })?;
    if args.json {
        for r in &rows {
            println!("{}", serde_json::to_string(r).expect("plain struct"));
        }
        return Ok(());
    }
    if rows.is_empty() {
        match &project {
            Some(p) => say!("No sessions of {p} in {}.", setup.db().display()),
            None => say!("No sessions recorded in {} yet.", setup.db().display()),
        }
        return Ok(());
    }
    // Sessions pulled from the team server name the machine that recorded them.
    let width = rows
        .iter()
        .map(|r| machine(r).chars().count())
        .max()
        .unwrap_or(0)
        .max("MACHINE".len());
    let mut out = format!(
        "{:<16}  {:>8}  {:>7}  {:>9}  {:>5}  {:>5}  {:>13}  {:<17}  {:<8}  {:<width$}  PROJECT\n",
        "STARTED (UTC)",
        "DURATION",
        "PROMPTS",
        "SUBAGENTS",
        "EDITS",
        "FILES",
        "+/-",
        "END",
        "SESSION",
        "MACHINE"
    );
    for r in &rows {
        let duration = r
            .ended_at
            .as_deref()
            .map(|e| human_duration(ms_between(&r.started_at, e)))
            .unwrap_or_else(|| "-".to_owned());
        let _ = writeln!(
            out,
            "{:<16}  {:>8}  {:>7}  {:>9}  {:>5}  {:>5}  {:>13}  {:<17}  {:<8}  {:<width$}  {}",
            minute(&r.started_at),
            duration,
            r.prompts,
            r.subagents,
            r.edits,
            r.files_touched,
            format!("+{} -{}", r.lines_added, r.lines_removed),
            Shown::line(end_of(r)).to_string(),
            Shown::line(short(&r.session_id)).to_string(),
            machine(r),
            Shown::line(&r.project)
        );
    }
    say_part!("{out}");
    if (rows.len() as u64) < total {
        say!(
            "{} of {total} sessions; --limit N or --all to see more",
            rows.len()
        );
    }
    Ok(())
}

/// `2026-11-22 09:14` of a stored time, or the time as it is when it does not parse.
fn minute(t: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(t)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| t.chars().take(16).collect())
}

/// The machine that recorded a session, as the table shows it.
fn machine(r: &SessionRow) -> String {
    Shown::line(r.machine.as_deref().unwrap_or(HERE)).to_string()
}

/// How a session ended, as the table shows it.
fn end_of(r: &SessionRow) -> String {
    match (&r.end_reason, &r.ended_at) {
        (Some(reason), _) => reason.clone(),
        (None, Some(_)) => "(no SessionEnd)".to_owned(),
        (None, None) => "(open)".to_owned(),
    }
}

fn ms_between(start: &str, end: &str) -> u64 {
    match (
        chrono::DateTime::parse_from_rfc3339(start),
        chrono::DateTime::parse_from_rfc3339(end),
    ) {
        (Ok(s), Ok(e)) => (e - s).num_milliseconds().max(0) as u64,
        _ => 0,
    }
}

/// The session a full id or unique prefix names, among one project's when given.
pub async fn find(store: &Store, id: &str, project: Option<&str>) -> Result<Timeline, String> {
    let matches = store
        .sessions_matching(id, project)
        .await
        .map_err(|e| e.to_string())?;
    let sid = match matches.as_slice() {
        [one] => one,
        [] => {
            let among = project.map(|p| format!(" in {p}")).unwrap_or_default();
            return Err(format!(
                "no session starts with {id:?}{among} (list them with `flowhook sessions`)"
            ));
        }
        many if many.iter().any(|m| m == id) => id,
        many => {
            let shown: Vec<String> = many.iter().take(5).map(|m| short(m)).collect();
            return Err(format!(
                "{id:?} matches {}{}; give more characters",
                shown.join(" and "),
                if many.len() > 5 { " and more" } else { "" }
            ));
        }
    };
    let timeline = store.timeline(sid).await.map_err(|e| e.to_string())?;
    timeline.ok_or_else(|| format!("session {sid} vanished while reading it"))
}

fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

pub fn show(args: ShowArgs) -> super::Result {
    let setup = Setup::resolve(&args.common)?;
    let t = super::runtime().block_on(async {
        let store = setup.open_existing().await?;
        find(&store, &args.session, None).await
    })?;
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&t).expect("plain struct")
        );
    } else {
        say_part!("{}", render(&t, false));
    }
    Ok(())
}

pub fn export(args: ExportArgs) -> super::Result {
    let setup = Setup::resolve(&args.common)?;
    let t = super::runtime().block_on(async {
        let store = setup.open_existing().await?;
        find(&store, &args.session, None).await
    })?;
    match args.format {
        ExportFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&t).expect("plain struct")
        ),
        ExportFormat::Md => say_part!("{}", render(&t, true)),
    }
    Ok(())
}

/// What the MACHINE column says of a session recorded here.
const HERE: &str = "here";

/// The session as text: header, summary, and the timeline drawn as a tree in which each
/// subagent's own events hang under the launch that started it. `markdown` wraps it for a
/// document.
pub fn render(t: &Timeline, markdown: bool) -> String {
    let s = &t.session;
    let mut out = String::new();
    if markdown {
        let _ = writeln!(
            out,
            "# Session {}\n\nProject: `{}`\n",
            Shown::line(&s.session_id),
            Shown::line(&s.project)
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
            "Recorded on {}\n",
            Shown::line(s.machine.as_deref().unwrap_or("this machine"))
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
    let shown = t.events.iter().filter(|e| !is_noise(e));
    for e in shown.clone().filter(|e| {
        e.agent_id.is_none() || !launched.contains(e.agent_id.as_ref().expect("checked"))
    }) {
        // A result that belongs to a launch is drawn under it.
        if e.kind == "result" && e.agent_id.as_ref().is_some_and(|a| launched.contains(a)) {
            continue;
        }
        let _ = writeln!(out, "{}", event_line(e, ""));
        if e.kind == "launch"
            && let Some(agent) = e.tool_use_id.as_deref().and_then(agent_of_launch)
        {
            let own: Vec<_> = shown
                .clone()
                .filter(|x| x.agent_id.as_deref() == Some(agent.as_str()))
                .collect();
            for (i, x) in own.iter().enumerate() {
                let branch = if i + 1 == own.len() {
                    "  └─ "
                } else {
                    "  ├─ "
                };
                let _ = writeln!(out, "{}", event_line(x, branch));
            }
        }
    }
    if markdown {
        out.push_str("```\n");
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
