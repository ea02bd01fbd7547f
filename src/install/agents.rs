//! The other coding agents' hook files (feature `agents`): flowhook's entries merged in,
//! taken out, or checked, with the rules Claude Code's settings follow (other entries kept as
//! they are, idempotent). Values only: `cmd/install.rs` finds, locks and writes the file.
//!
//! Where each agent reads its hooks, and in which shape (see `event::agent` for the payloads):
//! - Codex CLI: `<repo>/.codex/hooks.json` (read only once the project is trusted) or
//!   `$CODEX_HOME/hooks.json` (`~/.codex`); Claude Code's shape, `timeout` in seconds. Codex
//!   runs a new hook only once the user has reviewed and trusted it (`/hooks`).
//! - Gemini CLI: `.gemini/settings.json` or `~/.gemini/settings.json`, key `hooks`, Claude
//!   Code's shape, `timeout` in milliseconds.
//! - Cursor: `.cursor/hooks.json` or `~/.cursor/hooks.json`: `{"version": 1, "hooks":
//!   {"<event>": [{"command": "…"}]}}`.
//! - Copilot CLI: `.github/hooks/*.json` of the repository (no user file is documented):
//!   `{"version": 1, "hooks": {"<event>": [{"type": "command", "bash": "…", "timeoutSec": 5}]}}`.

use super::check::{Finding, Level};
use super::file::Place;
use super::{Changes, Shape, ShapeError, drop_emptied, handlers, hooks_of, is_flowhook};
use crate::event::Agent;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// One agent's hook file and what flowhook wires in it.
pub struct Target {
    pub agent: Agent,
    /// The file below a project's root.
    pub project: &'static [&'static str],
    /// The user's own file: its directory's environment variable, and the directory under
    /// HOME used without it. `None`: the agent reads no user file.
    pub user: Option<(Option<&'static str>, &'static str, &'static str)>,
    /// The events wired, each with its matcher (`None`: every occurrence).
    pub events: &'static [(&'static str, Option<&'static str>)],
    shape: Shape,
}

const CODEX: Target = Target {
    agent: Agent::Codex,
    project: &[".codex", "hooks.json"],
    user: Some((Some("CODEX_HOME"), ".codex", "hooks.json")),
    events: &[
        ("SessionStart", None),
        ("UserPromptSubmit", None),
        ("PostToolUse", Some("apply_patch")),
        ("Stop", None),
    ],
    shape: Shape::Grouped,
};

const GEMINI: Target = Target {
    agent: Agent::Gemini,
    project: &[".gemini", "settings.json"],
    user: Some((None, ".gemini", "settings.json")),
    events: &[
        ("SessionStart", None),
        ("BeforeAgent", None),
        ("AfterTool", Some("write_file|replace")),
        ("AfterAgent", None),
        ("SessionEnd", None),
    ],
    shape: Shape::Grouped,
};

const CURSOR: Target = Target {
    agent: Agent::Cursor,
    project: &[".cursor", "hooks.json"],
    user: Some((None, ".cursor", "hooks.json")),
    events: &[
        ("beforeSubmitPrompt", None),
        ("afterFileEdit", None),
        ("stop", None),
    ],
    shape: Shape::Flat,
};

const COPILOT: Target = Target {
    agent: Agent::Copilot,
    project: &[".github", "hooks", "flowhook.json"],
    user: None,
    events: &[
        ("sessionStart", None),
        ("userPromptSubmitted", None),
        ("postToolUse", None),
        // The end of each turn (`stopReason`), read as Claude Code's Stop: the session's
        // summary is recomputed then, not only when the session ends.
        ("agentStop", None),
        ("sessionEnd", None),
    ],
    shape: Shape::Flat,
};

/// The hook file of `agent` (Claude Code's is `install/mod.rs`'s).
pub fn target(agent: Agent) -> Option<&'static Target> {
    [&CODEX, &GEMINI, &CURSOR, &COPILOT]
        .into_iter()
        .find(|t| t.agent == agent)
}

/// Why an agent has no hook file of the user's own.
#[derive(Debug, thiserror::Error)]
pub enum NoUserFile {
    #[error("{0} reads hooks from the repository only (.github/hooks/): use --project")]
    RepositoryOnly(Agent),
    #[error("HOME is not set: cannot find ~/{0}")]
    NoHome(&'static str),
}

impl Target {
    /// The user's own file, from the environment; `Err` when the agent reads none or HOME
    /// is not set.
    pub fn user_file(&self) -> Result<PathBuf, NoUserFile> {
        let Some((var, dir, file)) = self.user else {
            return Err(NoUserFile::RepositoryOnly(self.agent));
        };
        if let Some(d) = var.and_then(std::env::var_os).filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(d).join(file));
        }
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(dir).join(file))
            .ok_or(NoUserFile::NoHome(dir))
    }

    /// The handler flowhook writes: a shell line (every one of these agents runs its hook
    /// commands through a shell) naming the agent, so that no payload is guessed.
    fn handler(&self, bin: &Path) -> Value {
        let line = format!(
            "{} hook --agent {}",
            super::shell_quote(&bin.to_string_lossy()),
            self.agent
        );
        match self.agent {
            Agent::Gemini => json!({"type": "command", "command": line, "name": "flowhook",
                "timeout": 5000}),
            Agent::Cursor => json!({"command": line}),
            Agent::Copilot => json!({"type": "command", "bash": line, "timeoutSec": 5}),
            _ => json!({"type": "command", "command": line, "timeout": 5}),
        }
    }

    /// The entry for one event: the handler itself (flat) or a group holding it.
    fn entry(&self, bin: &Path, matcher: Option<&str>) -> Value {
        let h = self.handler(bin);
        match (self.shape, matcher) {
            (Shape::Flat, _) => h,
            (Shape::Grouped, None) => json!({"hooks": [h]}),
            (Shape::Grouped, Some(m)) => json!({"matcher": m, "hooks": [h]}),
        }
    }

    /// flowhook's handlers in one event's list.
    fn ours_in(&self, list: &[Value]) -> usize {
        list.iter()
            .flat_map(|e| self.shape.handlers(e))
            .filter(runs_flowhook)
            .count()
    }

    /// Takes flowhook's handlers out of one event's list; whether that emptied it.
    fn take_ours(&self, list: &mut Vec<Value>) -> bool {
        self.shape.take(list, runs_flowhook)
    }

    /// The file with flowhook's entries in place: an entry already exactly as wanted stays
    /// where it is; any other flowhook handler goes and the wanted one is appended. Running
    /// it on its own output changes nothing.
    pub fn install(&self, config: &Value, bin: &Path) -> Result<(Value, Changes), ShapeError> {
        let mut out = config.clone();
        let mut changes = Changes::default();
        if self.shape == Shape::Flat
            && let Value::Object(top) = &mut out
            && !top.contains_key("version")
        {
            top.insert("version".into(), json!(1));
        }
        let hooks = hooks_of(&mut out)?;
        // flowhook's handlers on events it no longer wires (an older install) go.
        let mut emptied = Vec::new();
        for (event, list) in hooks.iter_mut() {
            if self.events.iter().any(|(e, _)| e == event) {
                continue;
            }
            if let Value::Array(list) = list
                && self.ours_in(list) > 0
                && self.take_ours(list)
            {
                emptied.push(event.clone());
            }
        }
        drop_emptied(hooks, &emptied);
        for (event, matcher) in self.events {
            let wanted = self.entry(bin, *matcher);
            let list = hooks
                .entry(event.to_string())
                .or_insert_with(|| Value::Array(Vec::new()));
            let Value::Array(list) = list else {
                return Err(ShapeError::NotAList(event));
            };
            if self.ours_in(list) == 1 && list.contains(&wanted) {
                continue;
            }
            self.take_ours(list);
            list.push(wanted);
            changes.wired.push(event.to_string());
        }
        Ok((out, changes))
    }

    /// The file without flowhook's handlers; events (and `hooks`) left empty by that go.
    pub fn uninstall(&self, config: &Value) -> Result<(Value, Changes), ShapeError> {
        super::take_out(config, self.shape, runs_flowhook)
    }

    /// What is missing from a file for flowhook to record this agent: the events it wires
    /// that hold no flowhook handler naming this agent. Empty: fully wired.
    pub fn missing(&self, config: &Value) -> Vec<&'static str> {
        let mut missing = Vec::new();
        for (event, _) in self.events {
            let list = config
                .get("hooks")
                .and_then(|h| h.get(*event))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let handlers: Vec<Value> = match self.shape {
                Shape::Flat => list,
                Shape::Grouped => list.iter().flat_map(handlers).collect(),
            };
            let wired = handlers.iter().any(|h| {
                runs_flowhook(h) && line_of(h).contains(&format!("--agent {}", self.agent))
            });
            if !wired {
                missing.push(*event);
            }
        }
        missing
    }

    /// Whether the file holds any flowhook handler at all.
    pub fn configured(&self, config: &Value) -> bool {
        config
            .get("hooks")
            .and_then(Value::as_object)
            .is_some_and(|h| {
                h.values()
                    .filter_map(Value::as_array)
                    .any(|l| self.ours_in(l) > 0)
            })
    }
}

/// What doctor finds of the other agents: every hook file of theirs that runs flowhook (the
/// project's below `root`, and the user's), and what is wrong in each: events not wired, or
/// a flowhook binary that is not there. Files are read through `file::Place`'s kernel checks.
pub fn doctor(root: &Path) -> (Vec<PathBuf>, Vec<Finding>) {
    let (mut found, mut problems) = (Vec::new(), Vec::new());
    for t in [&CODEX, &GEMINI, &CURSOR, &COPILOT] {
        let project = Place::project(root, t.project).map(|p| (p, root.join(t.project.join("/"))));
        let user = t.user_file().ok().map(|f| Place::user(&f).map(|p| (p, f)));
        for (place, path) in [Some(project), user].into_iter().flatten().flatten() {
            let Some(json) = place
                .contents()
                .ok()
                .flatten()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            else {
                continue;
            };
            if !t.configured(&json) {
                continue;
            }
            let at = path.display().to_string();
            let scope = if path.starts_with(root) {
                ""
            } else {
                " --user"
            };
            let missing = t.missing(&json);
            if !missing.is_empty() {
                problems.push(Finding {
                    level: Level::Warning,
                    at: at.clone(),
                    problem: format!(
                        "{}'s {} not wired: not recorded",
                        t.agent,
                        missing.join(", ")
                    ),
                    fix: format!("flowhook install --agent {}{scope}", t.agent),
                });
            }
            let lines = json["hooks"]
                .as_object()
                .into_iter()
                .flat_map(|h| h.values())
                .filter_map(Value::as_array)
                .flatten()
                .flat_map(|e| match e.get("hooks") {
                    Some(_) => handlers(e),
                    None => vec![e.clone()],
                })
                .filter(runs_flowhook)
                .map(|h| super::first_word(line_of(&h)))
                .collect::<std::collections::BTreeSet<_>>();
            for bin in lines.iter().filter(|b| !Path::new(b).is_file()) {
                problems.push(Finding {
                    level: Level::Error,
                    at: at.clone(),
                    problem: format!(
                        "{} runs {bin}, which is not there: nothing is recorded",
                        t.agent
                    ),
                    fix: format!("flowhook install --agent {}{scope}", t.agent),
                });
            }
            found.push(path);
        }
    }
    (found, problems)
}

/// A handler's command line: `command`, or Copilot's `bash`.
fn line_of(h: &Value) -> &str {
    h.get("command")
        .or_else(|| h.get("bash"))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// Whether a handler runs flowhook, in any agent's shape.
fn runs_flowhook(h: &Value) -> bool {
    is_flowhook(h) || is_flowhook(&json!({"command": line_of(h)}))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIN: &str = "/opt/bin/flowhook";

    #[test]
    fn each_agents_file_is_wired_once_and_kept_otherwise() {
        for agent in Agent::OTHERS {
            let t = target(agent).unwrap();
            let theirs = json!({"other": {"k": [1, 2]}, "hooks": {
                t.events[0].0: [
                    match t.shape {
                        Shape::Flat => json!({"command": "./mine.sh"}),
                        Shape::Grouped => json!({"hooks": [{"type": "command", "command": "./mine.sh"}]}),
                    }
                ]
            }});
            let (once, changes) = t.install(&theirs, Path::new(BIN)).unwrap();
            assert_eq!(changes.wired.len(), t.events.len(), "{agent}");
            assert!(t.missing(&once).is_empty(), "{agent}: {once}");
            let (twice, changes) = t.install(&once, Path::new(BIN)).unwrap();
            assert_eq!(twice, once, "{agent}");
            assert!(changes.wired.is_empty(), "{agent}");
            let (removed, changes) = t.uninstall(&once).unwrap();
            assert_eq!(changes.removed.len(), t.events.len(), "{agent}");
            let mut expected = theirs.clone();
            if t.shape == Shape::Flat {
                expected["version"] = json!(1);
            }
            assert_eq!(removed, expected, "{agent}");
            assert!(!t.configured(&removed));
        }
    }

    #[test]
    fn copilot_and_cursor_files_have_their_own_shape() {
        let (c, _) = COPILOT.install(&json!({}), Path::new(BIN)).unwrap();
        assert_eq!(c["version"], 1);
        assert_eq!(
            c["hooks"]["userPromptSubmitted"][0]["bash"],
            "'/opt/bin/flowhook' hook --agent copilot"
        );
        let (c, _) = CURSOR.install(&json!({}), Path::new(BIN)).unwrap();
        assert_eq!(
            c["hooks"]["afterFileEdit"],
            json!([{"command": "'/opt/bin/flowhook' hook --agent cursor"}])
        );
        assert!(COPILOT.user_file().is_err());
    }
}
