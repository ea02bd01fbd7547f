//! `flowhook sessions`, `show` and `export`: what the hook stored, for people and scripts.

use super::{Setup, say, say_part};
use crate::cli::{ExportArgs, ExportFormat, SessionsArgs, ShowArgs};
use crate::show::{find, render, short};
use crate::store::SessionRow;
use crate::summary::human_duration;
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
        "{:<16}  {:>8}  {:>7}  {:>9}  {:>5}  {:>5}  {:>13}  {:<17}  {:<8}  {:<11}  {:<width$}  PROJECT\n",
        "STARTED (UTC)",
        "DURATION",
        "PROMPTS",
        "SUBAGENTS",
        "EDITS",
        "FILES",
        "+/-",
        "END",
        "SESSION",
        "AGENT",
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
            "{:<16}  {:>8}  {:>7}  {:>9}  {:>5}  {:>5}  {:>13}  {:<17}  {:<8}  {:<11}  {:<width$}  {}",
            minute(&r.started_at),
            duration,
            r.prompts,
            r.subagents,
            r.edits,
            r.files_touched,
            format!("+{} -{}", r.lines_added, r.lines_removed),
            Shown::line(end_of(r)).to_string(),
            Shown::line(short(&r.session_id)).to_string(),
            agent(r),
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

/// The agent that ran a session, as the table shows it (`-`: not recorded).
fn agent(r: &SessionRow) -> String {
    Shown::line(r.agent.as_deref().unwrap_or("-")).to_string()
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

pub fn show(args: ShowArgs) -> super::Result {
    let setup = Setup::resolve(&args.common)?;
    let t = super::runtime().block_on(async {
        let store = setup.open_existing().await?;
        Ok::<_, String>(find(&store, &args.session, None).await?)
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
        Ok::<_, String>(find(&store, &args.session, None).await?)
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
