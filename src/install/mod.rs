//! Claude Code settings files: flowhook's hook entries merged in, taken out, or checked.
//!
//! Everything here works on a settings file's JSON as a value: no file is read or written
//! (that is `cmd/install.rs` and `cmd/doctor.rs`), so every rule can be tested on real
//! templates. Other keys and other tools' hooks are kept as they are, in their order, empty
//! lists and groups included: only a list or group flowhook itself emptied is taken out.
//! `file` is how the file itself is found, locked and replaced.

#[cfg(feature = "agents")]
pub mod agents;
pub mod check;
pub mod diff;
pub mod file;

use crate::event::Name;
use serde_json::{Map, Value, json};
use std::path::Path;

/// The events flowhook records, with the matcher each needs (`None`: every occurrence).
/// `Agent|Task` is an exact list (letters and `|`), so it does not also match `TaskCreate`;
/// Claude Code renamed Task to Agent in 2.1.63 and older clients still send Task.
pub const EVENTS: &[(Name, Option<&str>)] = &[
    (Name::SessionStart, None),
    (Name::UserPromptSubmit, None),
    (Name::PreToolUse, Some(PRE_TOOL_USE)),
    (
        Name::PostToolUse,
        Some("Write|Edit|MultiEdit|NotebookEdit|Agent|Task"),
    ),
    (Name::SubagentStart, None),
    (Name::SubagentStop, None),
    (Name::Stop, None),
    (Name::PreCompact, None),
    (Name::SessionEnd, None),
];

/// PreToolUse: a subagent's launch, and with team memory an edit about to be made (the
/// warning when a teammate edited the file lately, record/warn.rs).
#[cfg(feature = "team")]
const PRE_TOOL_USE: &str = "Agent|Task|Write|Edit|MultiEdit|NotebookEdit";
#[cfg(not(feature = "team"))]
const PRE_TOOL_USE: &str = "Agent|Task";

/// Seconds Claude Code gives a call before it gives up on it. flowhook's own watchdog ends a
/// call at 800 ms, so this only bounds a stuck machine. SessionEnd hooks share a 1.5 s budget
/// that a settings file's timeout raises: 2 s raises it little, and cuts no other tool short.
fn timeout(event: Name) -> u64 {
    if event == Name::SessionEnd { 2 } else { 5 }
}

/// The first Claude Code version that runs the exec form (`command` plus `args`, no shell).
pub const EXEC_FORM_SINCE: (u32, u32, u32) = (2, 1, 139);

/// How the hook command is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `command` is the binary, `args` its arguments: no shell in between.
    Exec,
    /// One shell line, the binary's path quoted.
    Shell,
}

/// One handler as flowhook writes it for `event`.
pub fn handler(bin: &Path, form: Form, event: Name) -> Value {
    let bin = bin.to_string_lossy();
    match form {
        Form::Exec => json!({"type": "command", "command": bin, "args": ["hook"],
            "timeout": timeout(event)}),
        Form::Shell => json!({"type": "command", "command": format!("{} hook", shell_quote(&bin)),
            "timeout": timeout(event)}),
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Whether a handler runs flowhook: its program (the exec form's `command`, or a shell line's
/// first word) is a file named `flowhook`.
pub fn is_flowhook(handler: &Value) -> bool {
    let command = handler.get("command").and_then(Value::as_str).unwrap_or("");
    let program = if handler.get("args").is_some() {
        command.to_owned()
    } else {
        first_word(command)
    };
    Path::new(&program)
        .file_name()
        .is_some_and(|n| n == "flowhook")
}

/// The first word of a shell line, its quotes taken off.
pub fn first_word(line: &str) -> String {
    let line = line.trim_start();
    match line.chars().next() {
        Some(q @ ('\'' | '"')) => line[1..].split(q).next().unwrap_or("").to_owned(),
        _ => line.split_whitespace().next().unwrap_or("").to_owned(),
    }
}

/// Whether a handler is one of claude-flow's (v2's `npx claude-flow@alpha hooks ...`
/// pipelines, v3's `hook-handler.cjs` or `@claude-flow/cli hooks ...`).
pub fn is_claude_flow(handler: &Value) -> bool {
    let command = handler.get("command").and_then(Value::as_str).unwrap_or("");
    let args = handler
        .get("args")
        .map(Value::to_string)
        .unwrap_or_default();
    [command, &args].iter().any(|t| {
        [
            "claude-flow",
            "hook-handler.cjs",
            "auto-memory-hook.mjs",
            "ruflo",
        ]
        .iter()
        .any(|w| t.contains(w))
    })
}

/// What a merge did to the file.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// Events whose flowhook entry was added or rewritten.
    pub wired: Vec<String>,
    /// claude-flow handlers taken out, as `Event [matcher]: command`.
    pub replaced: Vec<String>,
    /// claude-flow handlers left in place (no `--replace-claude-flow`).
    pub claude_flow_left: Vec<String>,
    /// flowhook handlers taken out (uninstall).
    pub removed: Vec<String>,
}

/// Why a settings or MCP file's JSON cannot be edited: it is not the shape Claude Code reads.
#[derive(Debug, thiserror::Error)]
pub enum ShapeError {
    #[error("the settings file is not a JSON object")]
    SettingsNotAnObject,
    #[error("its \"hooks\" key is not an object")]
    HooksNotAnObject,
    #[error("hooks.{0} is not a list")]
    NotAList(&'static str),
    #[cfg(feature = "mcp")]
    #[error("the file is not a JSON object")]
    NotAnObject,
    #[cfg(feature = "mcp")]
    #[error("its \"mcpServers\" key is not an object")]
    ServersNotAnObject,
}

/// Settings with flowhook's entries in place: an entry already exactly as wanted is left
/// where it is; any other flowhook handler is taken out and the wanted one appended. With
/// `replace_claude_flow`, claude-flow's handlers go too, each reported. Running it on its own
/// output changes nothing.
pub fn install(
    settings: &Value,
    bin: &Path,
    form: Form,
    replace_claude_flow: bool,
) -> Result<(Value, Changes), ShapeError> {
    let mut out = settings.clone();
    let mut changes = Changes::default();
    let hooks = hooks_of(&mut out)?;
    // claude-flow's handlers, on every event: reported, and taken out when asked.
    let cf = |h: &Value| is_claude_flow(h) && !is_flowhook(h);
    let mut emptied = Vec::new();
    for (event, list) in hooks.iter_mut() {
        let Value::Array(groups) = list else { continue };
        for g in groups.iter() {
            for h in handlers(g).iter().filter(|h| cf(h)) {
                let line = describe(event, g, h);
                if replace_claude_flow {
                    changes.replaced.push(line);
                } else {
                    changes.claude_flow_left.push(line);
                }
            }
        }
        if replace_claude_flow && retain_handlers(groups, |h| !cf(h)) {
            emptied.push(event.clone());
        }
    }
    for (event, matcher) in EVENTS {
        let mut group = json!({"hooks": [handler(bin, form, *event)]});
        if let Some(m) = matcher {
            group = json!({"matcher": m, "hooks": group["hooks"].clone()});
        }
        let list = hooks
            .entry(event.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(groups) = list else {
            return Err(ShapeError::NotAList(event.as_str()));
        };
        let ours = groups.iter().flat_map(handlers).filter(is_flowhook).count();
        if ours == 1 && groups.contains(&group) {
            continue;
        }
        retain_handlers(groups, |h| !is_flowhook(h));
        groups.push(group);
        changes.wired.push(event.to_string());
    }
    drop_emptied(hooks, &emptied);
    Ok((out, changes))
}

/// Takes out the events whose lists flowhook emptied (an event it wires is never empty).
fn drop_emptied(hooks: &mut Map<String, Value>, emptied: &[String]) {
    hooks.retain(|event, list| {
        !emptied.contains(event) || list.as_array().is_none_or(|g| !g.is_empty())
    });
}

/// An MCP configuration (`.mcp.json`, or `~/.claude.json` for the user) with the `flowhook`
/// server registered: `bin mcp`, over stdio. Other servers and keys are kept.
#[cfg(feature = "mcp")]
pub fn register_mcp(config: &Value, bin: &Path) -> Result<(Value, Changes), ShapeError> {
    let mut out = config.clone();
    let Value::Object(top) = &mut out else {
        return Err(ShapeError::NotAnObject);
    };
    let servers = top
        .entry("mcpServers")
        .or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(servers) = servers else {
        return Err(ShapeError::ServersNotAnObject);
    };
    let wanted = json!({"type": "stdio", "command": bin.to_string_lossy(), "args": ["mcp"]});
    let mut changes = Changes::default();
    if servers.get("flowhook") != Some(&wanted) {
        servers.insert("flowhook".into(), wanted);
        changes.wired.push("mcpServers.flowhook".into());
    }
    Ok((out, changes))
}

/// An MCP configuration without the `flowhook` server.
pub fn unregister_mcp(config: &Value) -> Result<(Value, Changes), ShapeError> {
    let mut out = config.clone();
    let mut changes = Changes::default();
    if let Some(Value::Object(servers)) = out.get_mut("mcpServers")
        && servers.shift_remove("flowhook").is_some()
    {
        changes.removed.push("mcpServers.flowhook".into());
        if servers.is_empty() {
            // `shift_remove`: `remove` would move the last key into its place.
            out.as_object_mut()
                .expect("has a key")
                .shift_remove("mcpServers");
        }
    }
    Ok((out, changes))
}

/// Settings without flowhook's handlers; events (and `hooks`) left empty by that are dropped.
pub fn uninstall(settings: &Value) -> Result<(Value, Changes), ShapeError> {
    take_out(settings, Shape::Grouped, is_flowhook)
}

/// How a hook file lists an event's handlers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `hooks.<Event>: [{"matcher"?, "hooks": [handler]}]`: Claude Code's (Codex's, Gemini's).
    Grouped,
    /// `hooks.<event>: [handler]`, beside `"version": 1` (Cursor's, Copilot's).
    #[cfg(feature = "agents")]
    Flat,
}

impl Shape {
    /// The handlers of one entry of an event's list.
    fn handlers(self, entry: &Value) -> Vec<Value> {
        match self {
            Shape::Grouped => handlers(entry),
            #[cfg(feature = "agents")]
            Shape::Flat => vec![entry.clone()],
        }
    }

    /// Takes the handlers `ours` accepts out of one event's list; whether that emptied it.
    fn take(self, list: &mut Vec<Value>, ours: impl Fn(&Value) -> bool) -> bool {
        match self {
            Shape::Grouped => retain_handlers(list, |h| !ours(h)),
            #[cfg(feature = "agents")]
            Shape::Flat => {
                let before = list.len();
                list.retain(|h| !ours(h));
                before > 0 && list.is_empty()
            }
        }
    }
}

/// A hook file without the handlers `ours` accepts, each reported as removed; events (and
/// `hooks`) left empty by that go. Uninstall, of Claude Code's settings and of the other
/// agents' files.
fn take_out(
    config: &Value,
    shape: Shape,
    ours: impl Fn(&Value) -> bool,
) -> Result<(Value, Changes), ShapeError> {
    let mut out = config.clone();
    let mut changes = Changes::default();
    if out.get("hooks").is_none() {
        return Ok((out, changes));
    }
    let hooks = hooks_of(&mut out)?;
    let mut emptied = Vec::new();
    for (event, list) in hooks.iter_mut() {
        let Value::Array(list) = list else { continue };
        for entry in list.iter() {
            for h in shape.handlers(entry).iter().filter(|h| ours(h)) {
                changes.removed.push(describe(event, entry, h));
            }
        }
        if shape.take(list, &ours) {
            emptied.push(event.clone());
        }
    }
    drop_emptied(hooks, &emptied);
    if !changes.removed.is_empty() && hooks.is_empty() {
        out.as_object_mut().expect("checked").shift_remove("hooks");
    }
    Ok((out, changes))
}

/// The `hooks` object of a settings file, created when missing.
fn hooks_of(settings: &mut Value) -> Result<&mut Map<String, Value>, ShapeError> {
    let Value::Object(top) = settings else {
        return Err(ShapeError::SettingsNotAnObject);
    };
    match top
        .entry("hooks")
        .or_insert_with(|| Value::Object(Map::new()))
    {
        Value::Object(h) => Ok(h),
        _ => Err(ShapeError::HooksNotAnObject),
    }
}

/// The handlers of one matcher group.
pub fn handlers(group: &Value) -> Vec<Value> {
    group
        .get("hooks")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Keeps the handlers `keep` accepts; a group this leaves with none goes (one that had none
/// to begin with is another tool's, and stays). Whether it emptied the list.
fn retain_handlers(groups: &mut Vec<Value>, keep: impl Fn(&Value) -> bool) -> bool {
    let before = groups.len();
    groups.retain_mut(|g| match g.get_mut("hooks") {
        Some(Value::Array(hs)) if !hs.is_empty() => {
            hs.retain(&keep);
            !hs.is_empty()
        }
        _ => true,
    });
    before > 0 && groups.is_empty()
}

/// `value` as JSON text laid out like `like`, the text it replaces: the same indentation
/// (two spaces, four, a tab) and the same final newline. A new file, or one with no indented
/// line, gets two spaces and a newline, as Claude Code writes it.
pub fn render(value: &Value, like: Option<&str>) -> String {
    let like = like.filter(|t| !t.trim().is_empty()).unwrap_or("\n");
    let indent = like
        .lines()
        .skip(1)
        .find_map(|l| {
            let rest = l.trim_start_matches([' ', '\t']);
            (rest.len() < l.len() && !rest.is_empty()).then(|| &l[..l.len() - rest.len()])
        })
        .unwrap_or("  ");
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent.as_bytes());
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(value, &mut ser).expect("JSON values serialise");
    let mut text = String::from_utf8(out).expect("serde_json writes UTF-8");
    if like.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// `Event [matcher]: command args`, for reports.
pub fn describe(event: &str, group: &Value, handler: &Value) -> String {
    let matcher = match group.get("matcher").and_then(Value::as_str) {
        Some(m) if !m.is_empty() => format!(" [{m}]"),
        _ => String::new(),
    };
    let mut line = handler
        .get("command")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    if let Some(args) = handler.get("args").and_then(Value::as_array) {
        for a in args {
            line.push(' ');
            line.push_str(a.as_str().unwrap_or(""));
        }
    }
    format!("{event}{matcher}: {line}")
}

/// A `claude --version` line's version (`2.1.328 (Claude Code)`).
pub fn parse_version(line: &str) -> Option<(u32, u32, u32)> {
    let v = line.split_whitespace().next()?;
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bin() -> &'static Path {
        Path::new("/opt/fh/flowhook")
    }

    #[test]
    fn installing_twice_changes_nothing_and_keeps_other_keys() {
        let before = json!({"model": "opus", "hooks": {"Notification": [{"hooks": [
            {"type": "command", "command": "notify-send done"}]}]}});
        let (once, c) = install(&before, bin(), Form::Exec, false).unwrap();
        assert_eq!(c.wired.len(), EVENTS.len());
        assert_eq!(once["model"], "opus");
        assert_eq!(
            once["hooks"]["Notification"],
            before["hooks"]["Notification"]
        );
        let (twice, c) = install(&once, bin(), Form::Exec, false).unwrap();
        assert_eq!(twice, once);
        assert!(c.wired.is_empty());
        let (back, c) = uninstall(&twice).unwrap();
        assert_eq!(back, before);
        assert_eq!(c.removed.len(), EVENTS.len());
    }

    #[test]
    fn a_flowhook_entry_of_another_form_or_path_is_rewritten() {
        let (shell, _) =
            install(&json!({}), Path::new("/old/flowhook"), Form::Shell, false).unwrap();
        assert_eq!(
            shell["hooks"]["Stop"][0]["hooks"][0]["command"],
            "'/old/flowhook' hook"
        );
        let (exec, c) = install(&shell, bin(), Form::Exec, false).unwrap();
        assert_eq!(c.wired.len(), EVENTS.len());
        assert_eq!(exec["hooks"]["Stop"].as_array().unwrap().len(), 1);
        assert_eq!(
            exec["hooks"]["Stop"][0]["hooks"][0]["args"],
            json!(["hook"])
        );
    }

    #[test]
    fn empty_lists_and_groups_of_other_tools_stay_and_key_order_holds() {
        let before = json!({"hooks": {
            "Notification": [],
            "PreToolUse": [{"matcher": "Bash", "hooks": []}],
            "PostToolUseFailure": [{"hooks": [{"type": "command", "command": "npx claude-flow@alpha x"}]}],
        }, "env": {}, "z": 1, "a": 2});
        let (on, _) = install(&before, bin(), Form::Exec, true).unwrap();
        assert_eq!(on["hooks"]["Notification"], json!([]));
        assert_eq!(
            on["hooks"]["PreToolUse"][0],
            json!({"matcher": "Bash", "hooks": []})
        );
        // The list flowhook emptied (claude-flow's only handler, replaced) goes.
        assert!(on["hooks"].get("PostToolUseFailure").is_none());
        let (off, _) = uninstall(&on).unwrap();
        let mut expected = before.clone();
        expected["hooks"]
            .as_object_mut()
            .unwrap()
            .shift_remove("PostToolUseFailure");
        assert_eq!(off, expected);
        // `hooks` emptied by uninstall goes without moving the keys after it.
        let (on, _) = install(
            &json!({"a": 1, "hooks": {}, "b": 2, "c": 3}),
            bin(),
            Form::Exec,
            false,
        )
        .unwrap();
        let (off, _) = uninstall(&on).unwrap();
        let keys: Vec<_> = off.as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }

    #[test]
    fn rendering_keeps_the_files_indentation_and_final_newline() {
        let v = json!({"a": [1], "b": {}});
        assert_eq!(
            render(&v, None),
            "{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}\n"
        );
        assert_eq!(
            render(&v, Some("{\n    \"x\": 1\n}")),
            "{\n    \"a\": [\n        1\n    ],\n    \"b\": {}\n}"
        );
        assert_eq!(
            render(&v, Some("{\n\t\"x\": 1\n}\n")),
            "{\n\t\"a\": [\n\t\t1\n\t],\n\t\"b\": {}\n}\n"
        );
        assert_eq!(
            render(&v, Some("{}")),
            "{\n  \"a\": [\n    1\n  ],\n  \"b\": {}\n}"
        );
    }

    #[test]
    fn words_and_versions() {
        assert_eq!(first_word("'/a b/flowhook' hook"), "/a b/flowhook");
        assert_eq!(first_word("  flowhook hooks post-edit"), "flowhook");
        assert_eq!(parse_version("2.1.328 (Claude Code)"), Some((2, 1, 328)));
        assert_eq!(parse_version("garbage"), None);
        assert!(is_claude_flow(
            &json!({"command": "node .claude/helpers/hook-handler.cjs route"})
        ));
        assert!(!is_flowhook(
            &json!({"command": "cat | jq -r . | xargs flowhook"})
        ));
    }
}
