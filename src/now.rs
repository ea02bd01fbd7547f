//! The "now" part of a pre-task answer: teammates (rows of other machines) active in this
//! project in the last `WINDOW_MINUTES`, their current task and the files they edited, and
//! first a file this session touches (its task names it, or it edited it) that one of them
//! edited in that window. Pure: the store's rows in (store/live.rs), lines out, which recall
//! renders first, within the same budget as the rest.
//!
//! Everything here came from another machine: labels, tasks and paths are made one line,
//! bounded and escaped before they reach the model.

use crate::store::{TeamEdit, TeamTask};
use crate::text::{Shown, one_line};
use chrono::{DateTime, Utc};

/// How far back a teammate's rows make them active now.
pub const WINDOW_MINUTES: i64 = 15;
/// How far back a teammate's last prompt is their current task.
pub const TASK_MINUTES: i64 = 120;
const MAX_CONFLICTS: usize = 3;
const MAX_TEAMMATES: usize = 3;
const FILES_PER_TEAMMATE: usize = 4;
const TASK_CHARS: usize = 100;
const LABEL_CHARS: usize = 60;
const PATH_CHARS: usize = 120;

/// Why a file is this session's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mine {
    Named,
    Edited,
}

/// The "now" lines, most important first: each file of this session's (`mine`) a teammate
/// edited (`edits`, newest first, already of the window), then each teammate session active
/// in the window with its task (`tasks`: the latest prompt of each, newest first) and edits.
/// Nothing when no teammate is active.
pub fn lines(
    edits: &[TeamEdit],
    tasks: &[TeamTask],
    mine: &dyn Fn(&str) -> Option<Mine>,
    now: DateTime<Utc>,
) -> Vec<String> {
    let since = now - chrono::TimeDelta::minutes(WINDOW_MINUTES);
    let task_of = |session: &str| {
        tasks
            .iter()
            .find(|t| t.session_id == session)
            .map(|t| format!(", task: \"{}\"", shown(first_line(&t.task), TASK_CHARS)))
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    for e in edits {
        if out.len() == MAX_CONFLICTS || seen.contains(&e.file.as_str()) {
            continue;
        }
        let Some(why) = mine(&e.file) else { continue };
        seen.push(&e.file);
        out.push(format!(
            "now: {} edited {} {}{} ({})",
            shown(&e.who, LABEL_CHARS),
            shown(&e.file, PATH_CHARS),
            ago(&e.created_at, now),
            task_of(&e.session_id),
            match why {
                Mine::Named => "your task names it",
                Mine::Edited => "you edited it in this session",
            }
        ));
    }
    // Each active session, by its latest row in the window.
    let mut sessions: Vec<(&str, &str, &str)> = Vec::new();
    let recent = |at: &str| parse(at).is_some_and(|t| t >= since);
    let rows = edits
        .iter()
        .map(|e| (e.session_id.as_str(), e.who.as_str(), e.created_at.as_str()))
        .chain(
            tasks
                .iter()
                .filter(|t| recent(&t.created_at))
                .map(|t| (t.session_id.as_str(), t.who.as_str(), t.created_at.as_str())),
        );
    for (session, who, at) in rows {
        match sessions.iter_mut().find(|s| s.0 == session) {
            Some(s) if at > s.2 => s.2 = at,
            Some(_) => {}
            None => sessions.push((session, who, at)),
        }
    }
    sessions.sort_by(|a, b| b.2.cmp(a.2));
    for (session, who, at) in sessions.into_iter().take(MAX_TEAMMATES) {
        let mut files: Vec<&str> = Vec::new();
        for e in edits.iter().filter(|e| e.session_id == session) {
            if !files.contains(&e.file.as_str()) {
                files.push(&e.file);
            }
        }
        let mut line = format!(
            "now: {} active {}{}",
            shown(who, LABEL_CHARS),
            ago(at, now),
            task_of(session)
        );
        if !files.is_empty() {
            let listed: Vec<String> = files
                .iter()
                .take(FILES_PER_TEAMMATE)
                .map(|f| shown(f, PATH_CHARS))
                .collect();
            line.push_str(&format!("; edited {}", listed.join(", ")));
            if files.len() > FILES_PER_TEAMMATE {
                line.push_str(&format!(" and {} more", files.len() - FILES_PER_TEAMMATE));
            }
        }
        out.push(line);
    }
    out
}

/// How recent a teammate's edit of a file must be for the warning before an edit of it.
pub const WARN_MINUTES: i64 = 10;

/// The warning before an edit of a file a teammate edited lately (`e`), with their task.
pub fn before_edit(e: &TeamEdit, task: Option<&TeamTask>, now: DateTime<Utc>) -> String {
    let task = task
        .map(|t| format!(", task: \"{}\"", shown(first_line(&t.task), TASK_CHARS)))
        .unwrap_or_default();
    format!(
        "Team memory (flowhook): {} edited {} on another machine {}{task}. Their change may \
         not be in this copy of the file yet.",
        shown(&e.who, LABEL_CHARS),
        shown(&e.file, PATH_CHARS),
        ago(&e.created_at, now),
    )
}

/// Another machine's text as it may reach the model: one line, bounded, with the
/// characters that act instead of being read escaped.
pub(crate) fn shown(s: &str, max: usize) -> String {
    Shown::line(one_line(s, max)).to_string()
}

pub(crate) fn first_line(s: &str) -> &str {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or("")
}

pub(crate) fn parse(at: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(at)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `40 s ago`, `12 min ago`, `2 h ago`; a time ahead of this clock is `just now`.
pub(crate) fn ago(at: &str, now: DateTime<Utc>) -> String {
    let Some(t) = parse(at) else {
        return "recently".to_owned();
    };
    let s = (now - t).num_seconds();
    match s {
        ..5 => "just now".to_owned(),
        5..90 => format!("{s} s ago"),
        90..5400 => format!("{} min ago", (s + 30) / 60),
        _ => format!("{} h ago", (s + 1800) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(who: &str, session: &str, file: &str, at: &str) -> TeamEdit {
        TeamEdit {
            who: who.into(),
            session_id: session.into(),
            file: file.into(),
            created_at: at.into(),
        }
    }

    fn now() -> DateTime<Utc> {
        parse("2026-12-06T10:00:00.000Z").unwrap()
    }

    #[test]
    fn a_file_of_mine_a_teammate_edited_comes_first_with_their_task() {
        let edits = [
            edit("bo@desk", "s2", "README.md", "2026-12-06T09:59:30.000Z"),
            edit("ana@desk", "s1", "src/x.py", "2026-12-06T09:59:20.000Z"),
        ];
        let tasks = [TeamTask {
            who: "ana@desk".into(),
            session_id: "s1".into(),
            task: "Add per-customer rate limiting\nwith details".into(),
            created_at: "2026-12-06T09:30:00.000Z".into(),
        }];
        let mine = |f: &str| (f == "src/x.py").then_some(Mine::Edited);
        let got = lines(&edits, &tasks, &mine, now());
        assert_eq!(
            got[0],
            "now: ana@desk edited src/x.py 40 s ago, task: \"Add per-customer rate limiting\" \
             (you edited it in this session)"
        );
        assert_eq!(got[1], "now: bo@desk active 30 s ago; edited README.md");
        assert_eq!(
            got[2],
            "now: ana@desk active 40 s ago, task: \"Add per-customer rate limiting\"; edited src/x.py"
        );
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn nobody_active_in_the_window_says_nothing() {
        let tasks = [TeamTask {
            who: "ana@desk".into(),
            session_id: "s1".into(),
            task: "old".into(),
            created_at: "2026-12-06T09:00:00.000Z".into(),
        }];
        assert!(lines(&[], &tasks, &|_| Some(Mine::Named), now()).is_empty());
    }

    #[test]
    fn hostile_text_stays_one_bounded_escaped_line() {
        let task = format!("ok\u{1b}]52;c;evil\u{7}\u{202e} {}", "x".repeat(5000));
        let tasks = [TeamTask {
            who: "m\nallory".into(),
            session_id: "s1".into(),
            task,
            created_at: "2026-12-06T09:59:00.000Z".into(),
        }];
        let got = lines(&[], &tasks, &|_| None, now());
        assert_eq!(got.len(), 1);
        assert!(
            !got[0].contains('\n') && !got[0].contains('\u{1b}') && !got[0].contains('\u{202e}')
        );
        assert!(got[0].chars().count() < 300, "{}", got[0]);
    }
}
