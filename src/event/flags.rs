//! The command line of a hook call: which event word was given, and claude-flow's flags.
//!
//! Four invocation styles exist in the wild (hook contract §1): the bare binary with JSON on
//! stdin, `flowhook <event>` with JSON on stdin, claude-flow v2 flags and claude-flow v3 flags,
//! optionally behind claude-flow's `hooks` word. This parser is deliberately lenient: an unknown
//! flag is skipped, never an error, because a settings line written for claude-flow must keep
//! working when `npx claude-flow@alpha` is replaced by `flowhook`.

/// What a claude-flow hook word asks flowhook to record when no payload comes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Word {
    PreTask,
    PostEdit,
    SessionEnd,
    SessionStart,
}

impl Word {
    /// The event's name in `cli:<name>`.
    pub fn name(self) -> &'static str {
        match self {
            Word::PreTask => "pre-task",
            Word::PostEdit => "post-edit",
            Word::SessionEnd => "session-end",
            Word::SessionStart => "session-start",
        }
    }
}

/// The event word of a hook call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// No word, or `hook`: the event comes from `hook_event_name` on stdin.
    FromStdin,
    /// A word flowhook records from its flags when stdin brings no payload.
    Hook(Word),
    /// Any other word in a hook line (claude-flow's `pre-bash`, `notify`, a word of a newer
    /// claude-flow): a hook call all the same, which records what its payload says, if any.
    Other(String),
}

/// The claude-flow flags we use. Everything else on the command line is ignored.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Flags {
    /// v2 `--description`, v3 `-d`, v3 route's `--task`.
    pub description: Option<String>,
    /// v2 `--task-id`, v3 `-i`.
    pub task_id: Option<String>,
    /// v2 `--agent-id`.
    pub agent_id: Option<String>,
    /// v2 `--file`, v3 `-f`.
    pub file: Option<String>,
    /// `--session-id`, when a wrapper passes one.
    pub session_id: Option<String>,
    /// `--agent codex|gemini|cursor|copilot|claude-code`: the coding agent whose hook line
    /// this is (what `install --agent` writes). Any other `--agent` value is claude-flow's
    /// agent id.
    pub client: Option<super::Agent>,
}

/// A parsed hook call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub command: Command,
    pub flags: Flags,
    /// The arguments as given, kept for the quarantine of payloads we cannot understand.
    pub args: Vec<String>,
}

/// The words claude-flow v2 (`npx claude-flow@alpha hooks <word>`) and v3
/// (`.claude/helpers/hook-handler.cjs <word>`, `npx @claude-flow/cli hooks <word>`) put in
/// hook lines, and what each records without a payload. With a payload on stdin the payload
/// says what happened, whatever the word.
const WORDS: &[(&str, Option<Word>)] = &[
    ("pre-task", Some(Word::PreTask)),
    // v3's UserPromptSubmit hook: the prompt (`--task` without a payload).
    ("route", Some(Word::PreTask)),
    ("route-task", Some(Word::PreTask)),
    ("post-edit", Some(Word::PostEdit)),
    ("session-end", Some(Word::SessionEnd)),
    // v3's SessionStart hook (and its older name).
    ("session-restore", Some(Word::SessionStart)),
    ("session-start", Some(Word::SessionStart)),
];

/// The debugging commands (`cli.rs`): the only first words that are not hook calls, so
/// exactly clap's subcommands other than the hook words (`hook`, `pre-task`, `post-edit`,
/// `session-end`, which run as hook calls), and clap's own `help` (`flowhook help sync`). A
/// command left out would run as a silent hook call: a test holds the two lists together.
pub const COMMANDS: &[&str] = &[
    "replay",
    "context",
    "sessions",
    "show",
    "export",
    "prune",
    "schema",
    "bench",
    "spool",
    "trust",
    "rebuild",
    "sync",
    "team",
    "install",
    "uninstall",
    "doctor",
    "mcp",
    "memory",
    "ui",
    "help",
];

impl Invocation {
    /// A hook call, or `None` when the arguments name a debugging command or are a question
    /// (`--help` or `--version` alone, or after an event word alone: `pre-task --help`).
    /// Every other word is a hook call: a hook line must never fail on a word it does not
    /// know, and `--help` among its flags is a flag's value (`pre-task --description
    /// --help`) or a flag flowhook skips, never a question.
    pub fn from_args(args: &[String]) -> Option<Invocation> {
        let rest = match args.first().map(String::as_str) {
            None => return Some(Invocation::stdin_only()),
            Some(first) if asks_for_help(first) => return None,
            Some("hooks") => &args[1..],
            Some(w) if COMMANDS.contains(&w) => return None,
            Some(_) => args,
        };
        if let [_, question] = rest
            && asks_for_help(question)
        {
            return None;
        }
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

    /// Whether the word is one flowhook knows (its own or claude-flow's): a person who typed
    /// another is told so.
    pub fn known(&self) -> bool {
        match &self.command {
            Command::Other(w) => is_claude_flow_word(w),
            _ => true,
        }
    }
}

/// `--help`, `-h`, `--version` or `-V`.
pub fn asks_for_help(arg: &str) -> bool {
    matches!(arg, "--help" | "-h" | "--version" | "-V")
}

fn command_of(word: &str) -> Command {
    if word == "hook" {
        return Command::FromStdin;
    }
    let folded = fold(word);
    match WORDS.iter().find(|(w, _)| fold(w) == folded) {
        Some((_, Some(w))) => Command::Hook(*w),
        _ => Command::Other(word.to_owned()),
    }
}

/// claude-flow's hook words flowhook does not record from flags (it still reads their
/// payload): kept so that a person is told "not recorded" rather than "unknown".
const OTHER_WORDS: &[&str] = &[
    // v2 (`hooks.js`, its init templates and plugin)
    "pre-edit",
    "pre-command",
    "pre-bash",
    "post-command",
    "post-bash",
    "post-task",
    "notify",
    "post-search",
    "mcp-initialized",
    "agent-spawned",
    "task-orchestrated",
    "neural-trained",
    "modify-bash",
    "modify-file",
    "modify-git-commit",
    "pre-write",
    "notification",
    "agent-stop",
    // v3 (`hooks.ts`, `hook-handler.cjs`, its templates and plugin)
    "pre-search",
    "compact-manual",
    "compact-auto",
    "status",
    "stats",
    "teammate-idle",
    "task-completed",
    "model-route",
    "model-outcome",
    "model-stats",
    "mcp-pre",
    "mcp-post",
    "daemon-start",
    "stop-check",
    "memory-import",
    "memory-sync",
    "explain",
    "pretrain",
    "build-agents",
    "metrics",
    "transfer",
    "list",
    "intelligence",
    "worker",
    "progress",
    "statusline",
    "coverage-route",
    "coverage-suggest",
    "coverage-gaps",
    "token-optimize",
    "refresh-funnel",
    "refresh-advisor",
];

fn is_claude_flow_word(word: &str) -> bool {
    let folded = fold(word);
    WORDS
        .iter()
        .map(|(w, _)| *w)
        .chain(OTHER_WORDS.iter().copied())
        .any(|w| fold(w) == folded)
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
            // v3's `route --task` (`-t`) carries the prompt.
            "description" | "d" | "task" | "t" => &mut flags.description,
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
            match super::Agent::parse(&v).filter(|_| name == "agent") {
                Some(agent) => flags.client = Some(agent),
                None => *slot = Some(v),
            }
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
        assert_eq!(i.command, Command::Hook(Word::PostEdit));
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
        assert_eq!(i.command, Command::Hook(Word::SessionEnd));
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
        assert!(inv(&["--help"]).is_none() && inv(&["-V"]).is_none());
        assert!(inv(&["post-edit", "--help"]).is_none());
        assert!(inv(&["hooks", "hook", "-h"]).is_none());
    }

    /// A debugging command's name is never one of claude-flow's hook words (the other half,
    /// that COMMANDS is exactly clap's subcommands, is tested in cli.rs: this module does not
    /// import the CLI).
    #[test]
    fn no_command_is_a_claude_flow_hook_word() {
        for c in COMMANDS {
            assert!(!is_claude_flow_word(c), "{c} is a claude-flow hook word");
            assert_eq!(command_of(c), Command::Other((*c).to_owned()), "{c}");
        }
    }

    #[test]
    fn help_after_the_first_word_is_a_value_or_a_skipped_flag() {
        for asks in ["--help", "-h", "--version", "-V"] {
            let i = inv(&["hooks", "pre-task", "--description", asks]).unwrap();
            assert_eq!(i.flags.description.as_deref(), Some(asks));
            let i = inv(&["post-edit", asks, "--file", "a.rs"]).unwrap();
            assert_eq!(i.flags.file.as_deref(), Some("a.rs"));
            assert!(inv(&["hooks", "session-end", asks, "--save-state"]).is_some());
        }
    }
}
