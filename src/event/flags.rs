//! The command line of a hook call: which event word was given, and claude-flow's flags.
//!
//! Four invocation styles exist in the wild (hook contract §1): the bare binary with JSON on
//! stdin, `flowhook <event>` with JSON on stdin, claude-flow v2 flags and claude-flow v3 flags,
//! optionally behind claude-flow's `hooks` word. This parser is deliberately lenient: an unknown
//! flag is skipped, never an error, because a settings line written for claude-flow must keep
//! working when `npx claude-flow@alpha` is replaced by `flowhook`.

/// The event word of a hook call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// No word, or `hook`: the event comes from `hook_event_name` on stdin.
    FromStdin,
    PreTask,
    PostEdit,
    SessionEnd,
    /// Another claude-flow hook (`pre-edit`, `post-command`, `notify`, ...): not ours to record.
    Other(String),
}

/// The claude-flow flags we use. Everything else on the command line is ignored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flags {
    /// v2 `--description`, v3 `-d`.
    pub description: Option<String>,
    /// v2 `--task-id`, v3 `-i`.
    pub task_id: Option<String>,
    /// v2 `--agent-id`.
    pub agent_id: Option<String>,
    /// v2 `--file`, v3 `-f`.
    pub file: Option<String>,
    /// `--session-id`, when a wrapper passes one.
    pub session_id: Option<String>,
}

/// A parsed hook call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub command: Command,
    pub flags: Flags,
    /// The arguments as given, kept for the quarantine of payloads we cannot understand.
    pub args: Vec<String>,
}

/// The words that make a call a hook call (anything else is a debugging command for clap).
const HOOK_WORDS: &[&str] = &["hook", "pre-task", "post-edit", "session-end"];

impl Invocation {
    /// A hook call, or `None` when the arguments name a debugging command or ask for help.
    pub fn from_args(args: &[String]) -> Option<Invocation> {
        if args.iter().any(|a| a == "--help" || a == "-h") {
            return None;
        }
        let rest = match args.first().map(String::as_str) {
            None => return Some(Invocation::stdin_only()),
            Some("hooks") => &args[1..],
            Some(w) if HOOK_WORDS.contains(&w) => args,
            Some(_) => return None,
        };
        let (command, flags) = match rest.split_first() {
            None => (Command::FromStdin, &[][..]),
            Some((word, flags)) => (command_of(word), flags),
        };
        Some(Invocation {
            command,
            flags: parse_flags(flags),
            args: args.to_vec(),
        })
    }

    /// The bare binary (and replay): everything comes from the JSON payload.
    pub fn stdin_only() -> Invocation {
        Invocation {
            command: Command::FromStdin,
            flags: Flags::default(),
            args: Vec::new(),
        }
    }
}

fn command_of(word: &str) -> Command {
    match word {
        "hook" => Command::FromStdin,
        "pre-task" | "preTask" => Command::PreTask,
        "post-edit" | "postEdit" => Command::PostEdit,
        "session-end" | "sessionEnd" => Command::SessionEnd,
        other => Command::Other(other.to_owned()),
    }
}

/// The flag's name folded so that `--task-id`, `--taskId` and `--task_id` are one key.
fn fold(name: &str) -> String {
    name.trim_start_matches('-')
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

fn parse_flags(args: &[String]) -> Flags {
    let mut flags = Flags::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if !arg.starts_with('-') || arg == "-" {
            continue; // a stray word: claude-flow ignores those too
        }
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) => (fold(n), Some(v.to_owned())),
            None => (fold(arg), None),
        };
        let slot = match name.as_str() {
            "description" | "d" | "task" => &mut flags.description,
            "taskid" | "i" | "id" => &mut flags.task_id,
            "agentid" | "agent" => &mut flags.agent_id,
            "file" | "f" | "filepath" => &mut flags.file,
            "sessionid" => &mut flags.session_id,
            _ => {
                // Unknown flag: skip its value when it visibly has one.
                if inline.is_none() && args.get(i).is_some_and(|v| !v.starts_with('-')) {
                    i += 1;
                }
                continue;
            }
        };
        // A flag we know always takes a value, even one that starts with '-'.
        let value = inline.or_else(|| {
            let v = args.get(i).cloned();
            i += 1;
            v
        });
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            *slot = Some(v);
        }
    }
    flags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(args: &[&str]) -> Option<Invocation> {
        Invocation::from_args(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn bare_binary_and_hook_word_read_stdin() {
        assert_eq!(inv(&[]).unwrap().command, Command::FromStdin);
        assert_eq!(inv(&["hook"]).unwrap().command, Command::FromStdin);
        assert_eq!(inv(&["hooks"]).unwrap().command, Command::FromStdin);
    }

    #[test]
    fn claude_flow_v2_flags() {
        let i = inv(&[
            "hooks",
            "post-edit",
            "--file",
            "src/a.rs",
            "--format",
            "true",
        ])
        .unwrap();
        assert_eq!(i.command, Command::PostEdit);
        assert_eq!(i.flags.file.as_deref(), Some("src/a.rs"));
        let i = inv(&[
            "pre-task",
            "--description",
            "- fix it",
            "--taskId=T1",
            "--agent-id",
            "a",
        ])
        .unwrap();
        assert_eq!(i.flags.description.as_deref(), Some("- fix it"));
        assert_eq!(i.flags.task_id.as_deref(), Some("T1"));
        assert_eq!(i.flags.agent_id.as_deref(), Some("a"));
    }

    #[test]
    fn claude_flow_v3_flags_and_unknown_ones() {
        let i = inv(&[
            "pre-task", "-i", "T2", "-d", "refactor", "--weird", "x", "--flag",
        ])
        .unwrap();
        assert_eq!(i.flags.task_id.as_deref(), Some("T2"));
        assert_eq!(i.flags.description.as_deref(), Some("refactor"));
        let i = inv(&["post-edit", "-f", "b.rs", "-s", "true", "-m", "k:v,k2:v2"]).unwrap();
        assert_eq!(i.flags.file.as_deref(), Some("b.rs"));
        let i = inv(&["session-end", "--save-state", "--format", "json"]).unwrap();
        assert_eq!(i.command, Command::SessionEnd);
    }

    #[test]
    fn other_claude_flow_hooks_and_debug_commands() {
        assert_eq!(
            inv(&["hooks", "post-command", "--command", "ls"])
                .unwrap()
                .command,
            Command::Other("post-command".into())
        );
        assert!(inv(&["replay", "x.jsonl"]).is_none());
        assert!(inv(&["post-edit", "--help"]).is_none());
    }
}
