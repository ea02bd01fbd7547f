//! What is wrong with the hook entries of the settings files and plugins found: the mistakes
//! installers of the tools we replace make (timeouts in milliseconds, matchers that catch
//! `TaskCreate`, jq pipelines), a command that runs no flowhook or another one, the same hook
//! twice, an event flowhook needs left out, the exec form on a client too old for it.

use super::{EVENTS, describe, handlers, is_claude_flow, is_flowhook};
use crate::event::Name;
use serde::Serialize;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A file of hook entries: a settings file or a plugin's `hooks/hooks.json`.
pub struct Source {
    pub path: PathBuf,
    pub json: Value,
}

/// What the checks need to know about this machine.
pub struct Machine<'a> {
    /// The flowhook running the check.
    pub this_bin: &'a Path,
    /// `claude --version`, when Claude Code is on PATH.
    pub client: Option<(u32, u32, u32)>,
    /// Finds a bare command name on PATH.
    pub which: &'a dyn Fn(&str) -> Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Events are lost or the agent is slowed.
    Error,
    /// Works, but not as meant.
    Warning,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub level: Level,
    /// The file and the entry, or what is missing.
    pub at: String,
    pub problem: String,
    pub fix: String,
}

/// Every finding over `sources`.
pub fn check(sources: &[Source], m: &Machine) -> Vec<Finding> {
    let mut out = Vec::new();
    // (event, matcher) of every flowhook handler, with where it is.
    let mut ours: Vec<(String, String, String)> = Vec::new();
    for s in sources {
        let Some(hooks) = s.json.get("hooks").and_then(Value::as_object) else {
            continue;
        };
        for (event, groups) in hooks {
            for g in groups.as_array().into_iter().flatten() {
                let matcher = g.get("matcher").and_then(Value::as_str).unwrap_or("");
                for h in handlers(g) {
                    let at = format!("{}: {}", s.path.display(), describe(event, g, &h));
                    let mine = is_flowhook(&h);
                    entry(&mut out, &at, event, matcher, &h, mine, m);
                    if mine {
                        ours.push((event.clone(), matcher.to_owned(), at));
                    }
                }
            }
        }
    }
    for (i, (event, matcher, at)) in ours.iter().enumerate() {
        if let Some((_, _, first)) = ours[..i]
            .iter()
            .find(|(e, mm, _)| e == event && mm == matcher)
        {
            out.push(Finding {
                level: Level::Warning,
                at: at.clone(),
                problem: format!("the same flowhook hook is also at {first}: every event runs twice (stored once, but twice the work)"),
                fix: "keep one: `flowhook uninstall --user` or `--project DIR` removes a copy".into(),
            });
        }
    }
    for (event, matcher) in EVENTS {
        let wired = ours
            .iter()
            .any(|(e, mm, _)| e == event.as_str() && matcher.is_none_or(|want| covers(mm, want)));
        if !wired {
            let needed = matches!(
                event,
                Name::UserPromptSubmit | Name::PostToolUse | Name::SessionEnd
            );
            out.push(Finding {
                level: if needed { Level::Error } else { Level::Warning },
                at: format!(
                    "{event}{}",
                    matcher.map(|m| format!(" [{m}]")).unwrap_or_default()
                ),
                problem: format!("no flowhook hook for {event}: {}", what_is_lost(*event)),
                fix: "run `flowhook install --project .` (or `--user`)".into(),
            });
        }
    }
    out
}

fn what_is_lost(event: Name) -> &'static str {
    match event {
        Name::UserPromptSubmit => "prompts are not recorded and no context is handed out",
        Name::PostToolUse => "edits (Write, Edit, MultiEdit, NotebookEdit) are not recorded",
        Name::SessionEnd => "sessions get no final summary",
        Name::PreToolUse | Name::SubagentStart | Name::SubagentStop => {
            "subagents are missing from `show`"
        }
        Name::SessionStart => "a resumed session is not handed where it left off",
        _ => "session counts are refreshed less often",
    }
}

/// Whether a matcher covers every tool of `want` (an exact list).
fn covers(matcher: &str, want: &str) -> bool {
    if matcher.is_empty() || matcher == "*" {
        return true;
    }
    want.split('|').all(|tool| matches(matcher, tool))
}

/// Claude Code's rule: a matcher of letters, digits and `|` is an exact list; anything else
/// is an unanchored regex.
fn matches(matcher: &str, tool: &str) -> bool {
    if matcher
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '|' || c == '_')
    {
        matcher.split('|').any(|m| m == tool)
    } else {
        regex_lite::Regex::new(matcher).is_ok_and(|r| r.is_match(tool))
    }
}

/// What is wrong with one hook entry `h` of `event` (`mine`: it runs flowhook): each check
/// below looks at one thing.
fn entry(
    out: &mut Vec<Finding>,
    at: &str,
    event: &str,
    matcher: &str,
    h: &Value,
    mine: bool,
    m: &Machine,
) {
    let mut push = |level, problem: String, fix: &str| {
        out.push(Finding {
            level,
            at: at.to_owned(),
            problem,
            fix: fix.to_owned(),
        })
    };
    let command = h.get("command").and_then(Value::as_str).unwrap_or("");
    let shell = h.get("args").is_none();
    timeout(h, &mut push);
    if mine || is_claude_flow(h) {
        tool_matcher(event, matcher, &mut push);
    }
    if shell {
        pipeline(command, mine, m, &mut push);
    }
    if is_claude_flow(h) && !mine {
        push(
            Level::Warning,
            "a claude-flow hook: beside flowhook's it records every event twice, slowly".into(),
            "`flowhook install --replace-claude-flow --project .` replaces it and reports each change",
        );
    }
    if mine {
        program(command, shell, m, &mut push);
    }
}

/// Where a check says what it found: level, problem, fix.
type Push<'a> = dyn FnMut(Level, String, &str) + 'a;

/// A timeout written as milliseconds (Claude Code reads seconds).
fn timeout(h: &Value, push: &mut Push) {
    if let Some(t) = h.get("timeout").and_then(Value::as_f64)
        && t >= 1000.0
    {
        push(
            Level::Error,
            format!(
                "timeout {t} is in seconds ({:.1} hours): it was written as milliseconds",
                t / 3600.0
            ),
            "write seconds: 5 is plenty for flowhook",
        );
    }
}

/// A tool event's matcher that catches too much (a regex) or misses the Agent tool.
fn tool_matcher(event: &str, matcher: &str, push: &mut Push) {
    let tool_event = matches!(Name::parse(event), Name::PreToolUse | Name::PostToolUse);
    if tool_event && !matcher.is_empty() && matches(matcher, "TaskCreate") {
        push(
            Level::Warning,
            format!(
                "matcher {matcher:?} also catches TaskCreate, TaskUpdate and the like (it is a regex)"
            ),
            "use the exact list \"Agent|Task\" (letters and | only)",
        );
    }
    if tool_event && matches(matcher, "Task") && !matches(matcher, "Agent") {
        push(
            Level::Warning,
            format!(
                "matcher {matcher:?} has Task but not Agent: Claude Code 2.1.63 and later call the tool Agent, so subagent launches are missed"
            ),
            "use \"Agent|Task\"",
        );
    }
}

/// A shell command piping through jq or xargs: silent when a step fails, dead when one is
/// missing.
fn pipeline(command: &str, mine: bool, m: &Machine, push: &mut Push) {
    if !(command.contains("jq ") || command.contains("xargs")) {
        return;
    }
    let missing = ["jq", "xargs"]
        .into_iter()
        .filter(|t| command.contains(t) && (m.which)(t).is_none())
        .collect::<Vec<_>>();
    push(
        if missing.is_empty() {
            Level::Warning
        } else {
            Level::Error
        },
        if missing.is_empty() {
            "a jq/xargs pipeline: when a step fails the event is dropped without a word".into()
        } else {
            format!(
                "a pipeline needing {}, which is not installed: this hook never records anything",
                missing.join(" and ")
            )
        },
        if mine {
            "flowhook reads the payload itself: `flowhook install --project .` rewrites the line"
        } else {
            "`flowhook install --replace-claude-flow` replaces it by flowhook"
        },
    );
}

/// The flowhook a hook of ours runs: missing, another one, or in a form this client cannot
/// run.
fn program(command: &str, shell: bool, m: &Machine, push: &mut Push) {
    let program = if shell {
        super::first_word(command)
    } else {
        command.to_owned()
    };
    let found = if program.contains('/') {
        Some(PathBuf::from(&program)).filter(|p| p.exists())
    } else {
        (m.which)(&program)
    };
    match found {
        None => push(
            Level::Error,
            format!("{program} does not exist: the hook fails on every event"),
            "`flowhook install` writes the path of the installed binary",
        ),
        Some(p) if !same_file(&p, m.this_bin) => push(
            Level::Warning,
            format!(
                "runs {}, not this flowhook ({})",
                p.display(),
                m.this_bin.display()
            ),
            "run `flowhook install` from the flowhook you mean to use",
        ),
        Some(_) => {}
    }
    if !shell
        && let Some(v) = m.client
        && v < super::EXEC_FORM_SINCE
    {
        push(
            Level::Error,
            format!(
                "exec form (args) on Claude Code {}.{}.{}, which runs it only from 2.1.139",
                v.0, v.1, v.2
            ),
            "update Claude Code, or `flowhook install --form shell`",
        );
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_follow_claude_codes_rule() {
        assert!(matches("Agent|Task", "Task"));
        assert!(!matches("Agent|Task", "TaskCreate"));
        assert!(matches("Task.*", "TaskCreate"));
        assert!(matches("^(Write|Edit)", "Edit"));
        assert!(covers("", "Write|Edit"));
        assert!(!covers("Write", "Write|Edit"));
    }
}
