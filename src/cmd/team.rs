//! `flowhook team`: who of the team works in this project now and lately, on which machine,
//! on what, with their last edits. It reads this machine's database only, through the same
//! queries as the "now" part of a prompt (store/live.rs: other machines' rows, which sync
//! brought), over a longer window; so it shows what an agent here can know, and never waits
//! on the server.
//!
//! Every label, task and path came from another machine: the table shows them through
//! [`Shown`] (via `say!`), as `flowhook sessions` does, one bounded line each.

use super::{Setup, say, say_part, tell};
use crate::cli::TeamArgs;
use crate::config::Mode;
use crate::now::{WINDOW_MINUTES, ago, first_line, parse, shown};
use crate::store::{Store, TeamEdit, TeamTask};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use std::fmt::Write;
use std::io::IsTerminal;

/// At most this many edits and sessions are read: a week of a busy team, bounded.
const EDITS_READ: u32 = 5000;
const SESSIONS_READ: u32 = 500;
/// Files a session's line lists (newest first), and the width of its task.
const FILES_SHOWN: usize = 3;
const TASK_CHARS: usize = 48;
const LABEL_CHARS: usize = 40;
const PATH_CHARS: usize = 60;
const REFRESH: std::time::Duration = std::time::Duration::from_secs(2);

/// What `--json` prints.
#[derive(Debug, Serialize)]
struct Team {
    project: String,
    at: String,
    since: String,
    /// Sessions seen since `now_since` are active now.
    now_since: String,
    sessions: Vec<Session>,
}

/// One teammate session, as its rows say.
#[derive(Debug, Serialize)]
struct Session {
    machine: String,
    session_id: String,
    active_now: bool,
    last_seen: String,
    /// The first line of its last prompt in the window.
    task: Option<String>,
    edits: usize,
    /// Distinct files, newest edit first.
    last_edits: Vec<Edit>,
}

#[derive(Debug, Serialize)]
struct Edit {
    file: String,
    at: String,
}

pub fn run(args: TeamArgs) -> super::Result {
    let setup = Setup::resolve(&args.common)?;
    let project = match args.project.as_deref() {
        Some(p) => super::project_named(p),
        None => setup.project().to_owned(),
    };
    let watch = args.watch && std::io::stdout().is_terminal();
    if args.watch && !watch {
        tell!("flowhook team: stdout is not a terminal, so --watch prints once");
    }
    if setup.config().database.mode != Mode::Sync {
        tell!(
            "flowhook team: this machine is in local mode: no teammate's rows arrive here \
             (database.mode = \"sync\" in hooks.toml; `flowhook sync --help`)"
        );
    }
    let rt = super::runtime();
    let store = rt.block_on(setup.open_existing())?;
    loop {
        let now = Utc::now();
        let team = rt
            .block_on(read(&store, &project, now, args.since))
            .map_err(|e| format!("cannot read {}: {e}", setup.db().display()))?;
        if args.json {
            println!("{}", serde_json::to_string(&team).expect("plain struct"));
            return Ok(());
        }
        let text = table(&team, now);
        if !watch {
            say_part!("{text}");
            return Ok(());
        }
        // Home and clear, then the table: a redraw in place, not a scrolling log.
        print!("\x1b[H\x1b[2J");
        say_part!("{text}");
        say!(
            "\n{} · refreshed every 2 s · Ctrl-C ends",
            now.format("%H:%M:%S UTC")
        );
        std::io::Write::flush(&mut std::io::stdout()).map_err(|e| e.to_string())?;
        std::thread::sleep(REFRESH);
    }
}

async fn read(
    store: &Store,
    project: &str,
    now: DateTime<Utc>,
    since: TimeDelta,
) -> crate::store::Result<Team> {
    let since = crate::time::Time::at(now - since);
    let edits = store.team_edits(project, &since, EDITS_READ).await?;
    let tasks = store.team_tasks(project, &since, SESSIONS_READ).await?;
    let now_since = now - TimeDelta::minutes(WINDOW_MINUTES);
    Ok(Team {
        project: project.to_owned(),
        at: crate::time::Time::at(now).into_string(),
        since: since.into_string(),
        now_since: crate::time::Time::at(now_since).into_string(),
        sessions: sessions(&edits, &tasks, now_since),
    })
}

/// The teammate sessions of `edits` and `tasks` (both newest first), by when each was last
/// seen, newest first. Pure.
fn sessions(edits: &[TeamEdit], tasks: &[TeamTask], now_since: DateTime<Utc>) -> Vec<Session> {
    let mut out: Vec<Session> = Vec::new();
    for t in tasks {
        let i = slot(&mut out, &t.who, &t.session_id, &t.created_at);
        out[i].task = Some(first_line(&t.task).to_owned());
    }
    for e in edits {
        let i = slot(&mut out, &e.who, &e.session_id, &e.created_at);
        let s = &mut out[i];
        s.edits += 1;
        if !s.last_edits.iter().any(|f| f.file == e.file) {
            s.last_edits.push(Edit {
                file: e.file.clone(),
                at: e.created_at.clone(),
            });
        }
    }
    for s in &mut out {
        s.active_now = parse(&s.last_seen).is_some_and(|t| t >= now_since);
    }
    out.sort_by(|a, b| b.last_seen.cmp(&a.last_seen));
    out
}

/// The index of session `id` in `out`, added when new; `at` moves its last sight forward.
fn slot(out: &mut Vec<Session>, who: &str, id: &str, at: &str) -> usize {
    if let Some(i) = out.iter().position(|s| s.session_id == id) {
        if at > out[i].last_seen.as_str() {
            out[i].last_seen = at.to_owned();
        }
        return i;
    }
    out.push(Session {
        machine: who.to_owned(),
        session_id: id.to_owned(),
        active_now: false,
        last_seen: at.to_owned(),
        task: None,
        edits: 0,
        last_edits: Vec::new(),
    });
    out.len() - 1
}

/// The two sections, NOW and RECENTLY, as aligned columns; each cell one bounded line.
fn table(team: &Team, now: DateTime<Utc>) -> String {
    let mut out = String::new();
    if team.sessions.is_empty() {
        let _ = writeln!(
            out,
            "No teammate has worked in {} since {} (as far as this machine's database \
             knows; `flowhook sync --status` says when it last heard from the server).",
            shown(&team.project, PATH_CHARS * 2),
            minute(&team.since)
        );
        return out;
    }
    let rows: Vec<[String; 5]> = team
        .sessions
        .iter()
        .map(|s| {
            let mut files: Vec<String> = s
                .last_edits
                .iter()
                .take(FILES_SHOWN)
                .map(|e| format!("{} ({})", shown(&e.file, PATH_CHARS), ago(&e.at, now)))
                .collect();
            if s.last_edits.len() > FILES_SHOWN {
                files.push(format!("+{} more", s.last_edits.len() - FILES_SHOWN));
            }
            [
                shown(&s.machine, LABEL_CHARS),
                ago(&s.last_seen, now),
                shown(&crate::show::short(&s.session_id), 8),
                s.task
                    .as_deref()
                    .map(|t| shown(t, TASK_CHARS))
                    .unwrap_or_else(|| "-".to_owned()),
                if files.is_empty() {
                    "-".to_owned()
                } else {
                    files.join(", ")
                },
            ]
        })
        .collect();
    const HEAD: [&str; 4] = ["MACHINE", "SEEN", "SESSION", "TASK"];
    let width: Vec<usize> = (0..4)
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([HEAD[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |out: &mut String, cells: [&str; 5]| {
        let _ = writeln!(
            out,
            "  {:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  {}",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3],
        );
    };
    let _ = writeln!(out, "Team in {}", shown(&team.project, PATH_CHARS * 2));
    for (active, title) in [
        (true, format!("NOW (last {WINDOW_MINUTES} min)")),
        (false, format!("RECENTLY (since {})", minute(&team.since))),
    ] {
        let _ = writeln!(out, "\n{title}");
        let mut any = false;
        for (s, r) in team.sessions.iter().zip(&rows) {
            if s.active_now != active {
                continue;
            }
            if !any {
                line(&mut out, [HEAD[0], HEAD[1], HEAD[2], HEAD[3], "LAST EDITS"]);
                any = true;
            }
            line(&mut out, [&r[0], &r[1], &r[2], &r[3], &r[4]]);
        }
        if !any {
            let _ = writeln!(out, "  nobody");
        }
    }
    out
}

/// `2026-11-22 09:14 UTC` of a stored time.
fn minute(t: &str) -> String {
    parse(t)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| shown(t, 30))
}
