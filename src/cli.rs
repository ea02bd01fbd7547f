//! The command line, as data. Behaviour lives in `cmd/`, one file per command.
//!
//! Hook calls (`flowhook`, `flowhook hook`, `flowhook pre-task|post-edit|session-end ...`,
//! optionally behind `hooks`) never reach clap: `main` routes them to the lenient parser in
//! `event::flags` first, because claude-flow settings lines carry flags we must ignore rather
//! than reject. Their clap definitions below exist for `--help`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const ENVIRONMENT: &str = "\
Environment:
  FLOWHOOK_DB        database file (overrides hooks.toml; --db overrides it)
  FLOWHOOK_CONFIG    configuration file (instead of the discovered hooks.toml)
  FLOWHOOK_LOG       log level for the log file and stderr: error|warn|info|debug|trace
  FLOWHOOK_STATE_DIR where the spool and fallback log live (default ~/.local/state/flowhook)
  CLAUDE_PROJECT_DIR project root (set by Claude Code for hooks)";

#[derive(Debug, Parser)]
#[command(
    name = "flowhook",
    version,
    about = "Memory for AI coding agents: a fast, lossless hook over libSQL",
    long_about = "flowhook is the hook command Claude Code (and claude-flow) runs on every prompt, \
subagent launch, file edit and session end. It reads one event as JSON on stdin, stores it in a \
local libSQL database, and exits 0 within milliseconds, whatever arrives.\n\n\
Run without a command (or as `flowhook hook`) it is the hook. The other commands help a person \
look at what it stored.",
    after_help = "Examples:
  # as a Claude Code hook (settings.json, exec form):
  {\"type\": \"command\", \"command\": \"flowhook\", \"args\": [\"hook\"], \"timeout\": 5}
  # feed a recorded session through the hook and see what is stored:
  flowhook replay fixtures/demo-session.jsonl --db /tmp/demo.db",
    after_long_help = ENVIRONMENT,
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Handle one hook event from stdin (what Claude Code runs; the default)
    #[command(after_help = "Reads one JSON payload from stdin, stores it, exits 0. \
The event is taken from its hook_event_name.\n\nExample:\n  echo '{\"session_id\":\"s1\",\
\"hook_event_name\":\"UserPromptSubmit\",\"prompt\":\"fix the login bug\"}' | flowhook hook")]
    Hook,

    /// claude-flow compatible pre-task hook (a prompt or subagent launch)
    #[command(
        after_help = "JSON on stdin wins over flags. Unknown flags are ignored.\n\n\
Examples:\n  flowhook pre-task --description \"fix the login bug\" --task-id T1\n  \
flowhook hooks pre-task -i T1 -d \"fix the login bug\""
    )]
    PreTask(PreTaskFlags),

    /// claude-flow compatible post-edit hook (a file was written or edited)
    #[command(
        after_help = "With a PostToolUse payload on stdin, lines added and removed come \
from its diff hunks; with only --file they are unknown (0).\n\nExamples:\n  \
flowhook post-edit --file src/auth.rs\n  \
cat payload.json | flowhook hooks post-edit --file '{}' --format true"
    )]
    PostEdit(PostEditFlags),

    /// claude-flow compatible session-end hook (updates the session's summary row)
    #[command(after_help = "Example:\n  flowhook session-end --generate-summary true")]
    SessionEnd(SessionEndFlags),

    /// Feed recorded hook events through the hook's own code path
    #[command(
        after_help = "Each line of a .jsonl file is one payload, exactly as Claude Code \
sent it. A directory is read recursively (*.jsonl, sorted). One line per event, then a total.\n\n\
Examples:\n  flowhook replay fixtures/demo-session.jsonl\n  \
flowhook replay ../shared/corpus --db /tmp/corpus.db --quiet"
    )]
    Replay(ReplayArgs),

    /// List recorded sessions, newest first
    #[command(
        after_help = "One line per session: when it started, how long it ran, its \
prompts, subagent launches, edits and lines changed, and how it ended ((no SessionEnd): \
summarised from its Stops only).\n\nExamples:\n  flowhook sessions --limit 10\n  \
flowhook sessions --project /home/me/app --json"
    )]
    Sessions(SessionsArgs),

    /// Show one session: its summary and timeline, subagents drawn as a tree
    #[command(after_help = "SESSION is a session id or a unique prefix of one.\n\n\
Examples:\n  flowhook show 2c52ce67\n  flowhook show 2c52ce67 --json")]
    Show(ShowArgs),

    /// Export one session as Markdown or JSON
    #[command(
        after_help = "Examples:\n  flowhook export 2c52ce67 --format md > session.md\n  \
flowhook export 2c52ce67 --format json"
    )]
    Export(ExportArgs),

    /// Delete old sessions and give the space back (a dry run unless --yes)
    #[command(
        after_help = "Deletes the current directory's project's sessions that ended before \
the age given (at most 36525d), with their tasks, edits, subagent rows, full-text entries and \
recall log, and rejected payloads as old when the database holds no other project's sessions; \
then merges the indexes and vacuums. --all-projects prunes every project's sessions in the \
database. Without --yes it only says what it would delete. hooks.toml's [retention] does the \
same for the ending project at every SessionEnd.\n\n\
Examples:\n  flowhook prune --older-than 90d\n  flowhook prune --older-than 12w --yes\n  \
flowhook prune --older-than 1w --all-projects --yes"
    )]
    Prune(PruneArgs),

    /// Print what a pre-task would inject now for a task text, and why
    #[command(
        after_help = "Runs the hook's own recall for TEXT in the current project (or \
--project, given exactly as stored) and prints the context a pre-task would inject. With --json \
it prints the hook's stdout byte for byte; with --explain, every candidate's score: text (bm25, \
normalised), files (named in the text) and recency. Nothing is marked as given.\n\n\
Examples:\n  flowhook context \"fix the token refresh in src/auth.rs\"\n  \
flowhook context \"flaky webhook tests\" --explain --session 3f2a1b2c-..."
    )]
    Context(ContextArgs),

    /// Print the JSON Schema of the payloads flowhook accepts and the answers it gives
    #[command(
        after_help = "Names: payload, edit-input, edit-response, agent-input, answer, \
config. Without a name, all of them as one object.\n\nExample:\n  flowhook schema answer"
    )]
    Schema(SchemaArgs),

    /// Benchmark helpers (see bench/README.md and benches/hook.rs)
    #[command(subcommand)]
    Bench(BenchCommand),

    /// List events waiting in the spool, held aside or lost, and store them by hand
    #[command(
        after_help = "Events wait here when their database could not take them \
(locked too long, disk full, a path flowhook refuses); the next successful hook call for \
their database stores them, a few at a time. An event that failed three times in hook calls \
is held aside (too big for the hook's time limit, say) and stored by `--drain`, which hook \
calls also start on their own, detached, every ten minutes while some are held. `lost` lists \
events that even the spool had no room for (a full disk), as much of each as could be kept.\n\n\
Examples:\n  flowhook spool\n  flowhook spool --json\n  flowhook spool --drain"
    )]
    Spool(SpoolArgs),

    /// Trust a project's .claude/flowhook.toml, so that its settings of where data goes count
    #[command(
        after_help = "A repository can carry .claude/flowhook.toml, and a repository \
can come from anywhere: its keys that decide where data is written or sent, what is deleted, \
or how long a call may take (database.path outside the project, database.mode, url and token \
settings, log.file, project.id, retention, hook.timeout_ms above 2000) are ignored until you \
trust the file. \
Trust records the file's path and a hash of its content in your state directory; a file \
changed since is untrusted again. Your own ~/.config/flowhook/hooks.toml and FLOWHOOK_CONFIG \
are always trusted.\n\n\
Examples:\n  flowhook trust                       # this project's .claude/flowhook.toml\n  \
flowhook trust path/to/flowhook.toml\n  flowhook trust --list\n  \
flowhook trust --remove .claude/flowhook.toml"
    )]
    Trust(TrustArgs),

    /// Recreate what is derived from the recorded rows (indexes, knowledge, summaries)
    #[command(
        after_help = "Recorded rows (tasks, edits, subagent events, how sessions \
started and ended) are kept; the full-text indexes, per-file knowledge and every session's \
counts, metrics and summary are computed again from them. Run it after restoring a backup \
or when in doubt (rows pulled from the team server are folded as they arrive).\n\n\
Example:\n  flowhook rebuild --db ~/.swarm/flowhook.db"
    )]
    Rebuild(RebuildArgs),

    /// Share memory with your team: push this machine's rows to the server, pull the others'
    #[command(
        after_help = "With database.mode = \"sync\" and database.url in hooks.toml (a \
Turso database, libsql://..., or any libSQL server), this sends the server what this machine \
recorded and it lacks, then takes what the other machines sent, so that recall, sessions and \
show see the whole team's work. Hook calls never wait on the network: they only write the \
local file, and start this in the background after each SessionEnd and every \
sync.interval_minutes.\n\n\
Sync mode says where; which projects are shared is your choice, per project: run \
`flowhook sync --enable` in one (kept in your state directory, by the project's identity), or \
list identity patterns in your own hooks.toml ([sync] share = [\"github.com/acme/*\"]; a \
project's file never decides this). Nothing of another project is pushed or pulled; a project \
known only by its path never leaves the machine. Without a git remote, give a directory an \
identity in your own hooks.toml: [project.ids] \"/home/me/notes\" = \"notes\" (project.id \
counts only in that project's own .claude/flowhook.toml).\n\n\
With [sync] encrypt = true, rows are sealed with the team key (XChaCha20-Poly1305) before they \
leave: the server keeps ids, order, times, the machine and a keyed hash of the project, and \
cannot read the rest. `flowhook sync --init-key` makes a key; every teammate needs the same one \
(FLOWHOOK_TEAM_KEY, or sync.key_file readable by its owner alone). A wrong or missing key is \
an error: nothing is sent, nothing stored. One sync per database runs at a time: a second one \
(yours, a hook's background sync, the live follower's) does nothing and exits at once. A sync \
stopped at any moment loses and repeats nothing, and the next one goes on.\n\n\
Exit status: 0 when the sync ran, or found nothing of this database shared; 75 (EX_TEMPFAIL: \
try again later) when another sync of the same database was running and this one did nothing; \
2 on an error (said on stderr). With --json, a sync that ran or did nothing prints one JSON \
object: \"status\" is \"synced\", \"not_shared\" or \"busy\", and \"why\" says why \
nothing was synced.\n\n\
The token comes from FLOWHOOK_AUTH_TOKEN (or the variable database.token_env names), then \
TURSO_AUTH_TOKEN, then database.token_file; it is never printed or logged.\n\n\
Examples:\n  flowhook sync --enable\n  flowhook sync\n  flowhook sync --status\n  \
flowhook sync --pull --json\n  flowhook sync --init-key"
    )]
    Sync(SyncArgs),

    /// Who of the team works in this project now and lately, where, on what
    #[command(
        after_help = "Reads this machine's database only: the teammates are the other \
machines whose rows sync brought (database.mode = \"sync\"; while a session is active the \
live follower keeps them seconds old, else the last `flowhook sync`). One line per teammate \
session: its machine, when it was last seen, its task (the first line of its last prompt) and \
the files it edited last. NOW lists the sessions seen in the last 15 minutes, the ones an \
agent's prompt is told about; RECENTLY the rest of --since. This machine's own sessions are \
in `flowhook sessions`.\n\n\
Times are the recording machine's clock. Text from other machines is shown escaped (no \
terminal control sequences, no bidirectional overrides); --json gives it as stored.\n\n\
Examples:\n  flowhook team\n  flowhook team --watch\n  flowhook team --since 2h --json\n  \
flowhook team --project ~/src/shop"
    )]
    Team(TeamArgs),

    /// Wire flowhook into Claude Code: merge its hooks into a settings file
    #[command(
        after_help = "Merges flowhook's hook entries into .claude/settings.json (or \
settings.local.json with --local, or ~/.claude/settings.json with --user), keeping every other \
key and every other tool's hooks as they are. The command is the absolute path of this binary; \
the exec form (no shell) when the Claude Code on PATH is 2.1.139 or later, else a shell line \
with the path quoted. Timeouts are in seconds. Running it twice changes nothing; a file it \
changes is first copied to settings.json.flowhook-<time>.bak.\n\n\
With --replace-claude-flow, claude-flow's entries (v2 `npx claude-flow@alpha hooks ...` \
pipelines, v3 `hook-handler.cjs` and `@claude-flow/cli hooks ...`) are taken out and each one \
reported: flowhook records what they did.\n\n\
Examples:\n  flowhook install --project .\n  flowhook install --user --dry-run\n  \
flowhook install --project . --replace-claude-flow"
    )]
    Install(InstallArgs),

    /// Take flowhook's hooks out of a settings file (nothing else is touched)
    #[command(
        after_help = "Removes only the entries that run flowhook; events left \
without any hook are dropped. Your memory (the database) stays.\n\n\
Examples:\n  flowhook uninstall --project .\n  flowhook uninstall --user --dry-run"
    )]
    Uninstall(InstallArgs),

    /// Check the whole set-up and say what is wrong and what to do about it
    #[command(
        after_help = "Reports this binary, the configuration in effect and where it \
came from, the database (mode, schema, size, rows), every hook entry in the user's and the \
project's settings files and in installed plugins with what is wrong with each (timeouts in \
milliseconds, matchers that catch TaskCreate, jq pipelines, a missing or other binary, the same \
hook twice, an event not wired, the exec form on a client too old for it), spooled events, \
recent warnings from the log, the project's identity (and how to pin it), whether it is shared \
with the team and why, and in sync mode what waits to be sent and whether the server answers \
(the token is never shown). Exits 1 when something is broken.\n\n\
Examples:\n  flowhook doctor\n  flowhook doctor --json"
    )]
    Doctor(DoctorArgs),

    /// Serve this memory to an agent over MCP (stdio), for questions in the middle of a task
    #[command(
        after_help = "A Model Context Protocol server on stdin/stdout, over the same \
database and configuration as the hooks (in sync mode, the local file sync keeps current: \
never a network call while answering). Tools: search_memory, list_sessions, get_session, \
file_history, recent_context, remember, recall_key, forget; --read-only leaves out the two \
that write.\n\n\
Register it with Claude Code:\n  claude mcp add flowhook -- flowhook mcp\n  \
flowhook install --project . --mcp     (writes .mcp.json)\n\n\
Example:\n  flowhook mcp --read-only"
    )]
    Mcp(McpArgs),

    /// Read and write agent memory: values stored on purpose, by namespace and key
    #[command(subcommand)]
    Memory(MemoryCommand),

    /// Browse the memory in a web browser: sessions, files, subagents, agent memory, the team
    #[command(
        after_help = "Serves a local web viewer on 127.0.0.1 (nothing else can reach it) and \
prints its address with a secret token, as Jupyter does: only a browser given that address \
gets in. Pages: projects, a project's overview, sessions (filter, sort, page), a session \
(timeline, diffs, subagent tree, what recall injected and why), a file, agent memory, the team, \
search; each also as JSON under /api/. Read-only unless --allow-edit, which permits deleting a \
memory key or a session. Stops on Ctrl-C.\n\n\
Examples:\n  flowhook ui\n  flowhook ui --project . --port 8765 --no-open"
    )]
    Ui(UiArgs),
}

#[derive(Debug, Args)]
pub struct UiArgs {
    /// Port on 127.0.0.1 (0: any free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Print the address only; do not open a browser
    #[arg(long)]
    pub no_open: bool,
    /// Open on this project: a directory (resolved as the hook does) or an identity as stored
    #[arg(long, value_name = "DIR|ID")]
    pub project: Option<String>,
    /// Allow deleting a memory key or a session (each confirmed)
    #[arg(long)]
    pub allow_edit: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Subcommand)]
pub enum MemoryCommand {
    /// Store a value (secrets are removed first)
    #[command(
        after_help = "Examples:\n  flowhook memory set deploy \"run make release, never cargo publish\"\n  \
flowhook memory set --namespace api --ttl 86400 token-rotation \"rotates on Mondays\""
    )]
    Set(MemorySetArgs),
    /// Print a value
    #[command(after_help = "Example:\n  flowhook memory get deploy")]
    Get(MemoryKeyArgs),
    /// List the live values, newest first
    #[command(after_help = "Example:\n  flowhook memory list --namespace api --json")]
    List(MemoryListArgs),
    /// Delete a value
    #[command(after_help = "Example:\n  flowhook memory delete deploy")]
    Delete(MemoryKeyArgs),
}

/// Options every debugging command shares.
#[derive(Debug, Args)]
pub struct Common {
    /// Database file (default: FLOWHOOK_DB, hooks.toml, then <project>/.swarm/flowhook.db)
    #[arg(long, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Configuration file (default: FLOWHOOK_CONFIG, then the discovered hooks.toml)
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PreTaskFlags {
    /// The task's text (v3: -d)
    #[arg(long, short = 'd')]
    pub description: Option<String>,
    /// The task's id (v3: -i)
    #[arg(long = "task-id", short = 'i')]
    pub task_id: Option<String>,
    /// The agent issuing it
    #[arg(long = "agent-id")]
    pub agent_id: Option<String>,
}

#[derive(Debug, Args)]
pub struct PostEditFlags {
    /// The edited file (v3: -f)
    #[arg(long, short = 'f')]
    pub file: Option<String>,
    /// Accepted for claude-flow compatibility; ignored
    #[arg(long = "memory-key")]
    pub memory_key: Option<String>,
    /// Accepted for claude-flow compatibility; ignored
    #[arg(long)]
    pub format: Option<String>,
}

#[derive(Debug, Args)]
pub struct SessionEndFlags {
    /// Accepted for claude-flow compatibility; the summary is always written
    #[arg(long = "generate-summary")]
    pub generate_summary: Option<String>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// .jsonl files or directories of them
    #[arg(required = true, value_name = "FILE|DIR")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub common: Common,
    /// Print only the total
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the total as one JSON object
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Only this project: a directory (its git remote, else its path) or an identity as
    /// stored (github.com/acme/shop)
    #[arg(long, value_name = "DIR|ID")]
    pub project: Option<String>,
    /// At most this many sessions
    #[arg(long, default_value_t = 20)]
    pub limit: u32,
    /// Every session
    #[arg(long, conflicts_with = "limit")]
    pub all: bool,
    /// One JSON object per session
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct TeamArgs {
    /// Only this project: a directory (its git remote, else its path) or an identity as
    /// stored (github.com/acme/shop); the current directory's by default
    #[arg(long, value_name = "DIR|ID")]
    pub project: Option<String>,
    /// How far back RECENTLY reaches: seconds, minutes, hours or days (90s, 30m, 12h, 7d)
    #[arg(long, value_name = "AGE", default_value = "7d", value_parser = age)]
    pub since: chrono::TimeDelta,
    /// The whole picture as one JSON object
    #[arg(long, conflicts_with = "watch")]
    pub json: bool,
    /// Redraw every 2 s until Ctrl-C (on a terminal; elsewhere it prints once)
    #[arg(long)]
    pub watch: bool,
    #[command(flatten)]
    pub common: Common,
}

/// `90s`, `30m`, `12h`, `7d`: an age, for a person to type.
fn age(s: &str) -> Result<chrono::TimeDelta, String> {
    let bad = || format!("`{s}` is not an age: a number and s, m, h or d (30m, 7d)");
    let (n, unit) = s.split_at(s.len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| bad())?;
    match unit {
        "s" => chrono::TimeDelta::try_seconds(n),
        "m" => chrono::TimeDelta::try_minutes(n),
        "h" => chrono::TimeDelta::try_hours(n),
        "d" => chrono::TimeDelta::try_days(n),
        _ => None,
    }
    .filter(|d| *d > chrono::TimeDelta::zero())
    .ok_or_else(bad)
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A session id, or a unique prefix of one
    pub session: String,
    /// The session, its metrics and timeline as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormat {
    Md,
    Json,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// A session id, or a unique prefix of one
    pub session: String,
    #[arg(long, value_enum, default_value = "md")]
    pub format: ExportFormat,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Age of the sessions to delete: 90d, 12w, 36h
    #[arg(long, value_name = "AGE")]
    pub older_than: String,
    /// Delete (without it, only say what would be deleted)
    #[arg(long)]
    pub yes: bool,
    /// Every project's sessions in the database, not only the current directory's project's
    #[arg(long)]
    pub all_projects: bool,
    /// Print the counts as one JSON object
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct ContextArgs {
    /// The task text, as a prompt would carry it
    pub text: String,
    /// The project, exactly as stored (default: the current directory's project)
    #[arg(long, value_name = "PATH")]
    pub project: Option<String>,
    /// Answer as this session would: leave out its own rows and what it was already given
    #[arg(long, value_name = "SESSION_ID")]
    pub session: Option<String>,
    /// hookEventName of the --json answer
    #[arg(long, default_value = "UserPromptSubmit")]
    pub event: String,
    /// Print the hook's JSON answer (with --explain: the scores as JSON)
    #[arg(long)]
    pub json: bool,
    /// Show every candidate with its score terms
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// payload, edit-input, edit-response, agent-input, answer or config
    pub name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Fill a database with a history of N rows made from the recorded fixtures
    #[command(
        after_help = "Prompts and edits of the recorded payloads under --from go through \
the hook's own normalisation and are stored again under 50 sessions of 2 projects \
(/bench/alpha, /bench/beta), spread over 90 days.\n\nExample:\n  \
flowhook bench seed --rows 100000 --long-session 5000 --db /tmp/bench.db"
    )]
    Seed(BenchSeedArgs),
}

#[derive(Debug, Args)]
pub struct BenchSeedArgs {
    /// Rows to add (task_log + edit_history)
    #[arg(long)]
    pub rows: usize,
    /// Also add one session, seed-long in /bench/alpha, of this many events
    #[arg(long, default_value_t = 0)]
    pub long_session: usize,
    /// The database to fill (created if missing)
    #[arg(long, value_name = "PATH")]
    pub db: PathBuf,
    /// Where the recorded payloads are
    #[arg(long, value_name = "DIR", default_value = "fixtures")]
    pub from: PathBuf,
    /// File every session under this project identity (one a team server shares, such as
    /// github.com/acme/app) instead of the two path-named projects
    #[arg(long, value_name = "ID")]
    pub project: Option<String>,
}

#[derive(Debug, Args)]
pub struct SpoolArgs {
    /// One JSON object per spooled event
    #[arg(long)]
    pub json: bool,
    /// Store every waiting and held event now, with no time limit
    #[arg(long)]
    pub drain: bool,
    /// Forget the records of lost events (after reading them)
    #[arg(long)]
    pub forget_lost: bool,
}

#[derive(Debug, Args)]
pub struct TrustArgs {
    /// The file to trust (default: the current project's .claude/flowhook.toml)
    pub file: Option<PathBuf>,
    /// List the trusted files and whether each changed since
    #[arg(long, conflicts_with = "remove")]
    pub list: bool,
    /// Stop trusting the file
    #[arg(long)]
    pub remove: bool,
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only send this machine's rows
    #[arg(long, conflicts_with_all = ["pull", "status"])]
    pub push: bool,
    /// Only take the other machines' rows
    #[arg(long, conflicts_with = "status")]
    pub pull: bool,
    /// Say whether this project is shared and why, what is waiting to be sent, when the last
    /// push and pull ran, and the last error
    #[arg(long)]
    pub status: bool,
    /// Share this project (its identity) with the team from now on
    #[arg(long, conflicts_with_all = ["push", "pull", "status", "disable"])]
    pub enable: bool,
    /// Stop sharing this project (over any sync.share pattern); what the server has stays
    #[arg(long, conflicts_with_all = ["push", "pull", "status"])]
    pub disable: bool,
    /// Make a new team key for [sync] encrypt (in sync.key_file, never over an existing one)
    #[arg(long, conflicts_with_all = ["push", "pull", "status", "enable", "disable"])]
    pub init_key: bool,
    /// Print the outcome as one JSON object
    #[arg(long)]
    pub json: bool,
    /// Started by a hook: quiet, and nothing to do is not an error
    #[arg(long, hide = true)]
    pub auto: bool,
    /// Started by a hook: the live follower, which syncs while a session is active
    #[arg(long, hide = true, conflicts_with_all = ["push", "pull", "status"])]
    pub follow: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct RebuildArgs {
    /// Print the counts as one JSON object
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The project whose .claude/settings.json to change (default: the project the current
    /// directory is in: the nearest ancestor holding .git, .claude or .swarm)
    #[arg(long, value_name = "DIR", conflicts_with = "user")]
    pub project: Option<PathBuf>,
    /// Change ~/.claude/settings.json (every project of this user) instead
    #[arg(long)]
    pub user: bool,
    /// Use the project's settings.local.json (not committed) instead of settings.json
    #[arg(long, conflicts_with = "user")]
    pub local: bool,
    /// Print the change as a diff and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Replace claude-flow's hook entries by flowhook's, reporting each (install only)
    #[arg(long)]
    pub replace_claude_flow: bool,
    /// Also register `flowhook mcp` as an MCP server: in the project's .mcp.json, or with
    /// --user in ~/.claude.json (uninstall: take it out again)
    #[arg(long)]
    pub mcp: bool,
    /// How to write the command: exec (no shell), shell, or auto (exec when Claude Code on
    /// PATH is 2.1.139 or later)
    #[arg(long, value_enum, default_value_t = FormArg::Auto)]
    pub form: FormArg,
    /// Another coding agent's hook file instead of Claude Code's: codex (.codex/hooks.json),
    /// gemini (.gemini/settings.json), cursor (.cursor/hooks.json) or copilot
    /// (.github/hooks/flowhook.json); with --user, the one in your home directory
    #[cfg(feature = "agents")]
    #[arg(long, value_enum, conflicts_with_all = ["local", "mcp", "replace_claude_flow"])]
    pub agent: Option<AgentArg>,
}

/// The agents `install --agent` wires.
#[cfg(feature = "agents")]
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AgentArg {
    Codex,
    Gemini,
    Cursor,
    Copilot,
}

#[cfg(feature = "agents")]
impl From<AgentArg> for crate::event::Agent {
    fn from(a: AgentArg) -> Self {
        match a {
            AgentArg::Codex => crate::event::Agent::Codex,
            AgentArg::Gemini => crate::event::Agent::Gemini,
            AgentArg::Cursor => crate::event::Agent::Cursor,
            AgentArg::Copilot => crate::event::Agent::Copilot,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormArg {
    Auto,
    Exec,
    Shell,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print the report as one JSON object
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct McpArgs {
    /// Leave out the tools that write (remember, forget)
    #[arg(long)]
    pub read_only: bool,
    /// Let tools read the other projects of the database when their arguments name one
    /// (`project`) or ask for all (`all_projects`). Off by default: the agent may be
    /// following instructions planted in a repository, and could copy another project's
    /// memory into this one
    #[arg(long)]
    pub any_project: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct MemorySetArgs {
    pub key: String,
    pub value: String,
    /// Group of keys
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// Forget it after this many seconds (1 to 3155760000, a century; default: never)
    #[arg(long, value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..=crate::store::MAX_TTL_SECONDS))]
    pub ttl: Option<u64>,
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct MemoryKeyArgs {
    pub key: String,
    /// Group of keys
    #[arg(long, default_value = "default")]
    pub namespace: String,
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct MemoryListArgs {
    /// Only this group of keys
    #[arg(long)]
    pub namespace: Option<String>,
    /// Print as JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub common: Common,
}

#[cfg(test)]
mod tests {
    /// Every first word clap takes (each subcommand's name and aliases, hidden ones and
    /// clap's `help` included) is either in `event::flags::COMMANDS`, and reaches clap with
    /// its flags, or a hook word, and runs as a hook call; COMMANDS names nothing else. A
    /// subcommand left out of COMMANDS would run as a silent hook call.
    #[test]
    fn commands_are_clap_s_subcommands_other_than_the_hook_words() {
        use crate::event::flags::{COMMANDS, Invocation};
        use clap::CommandFactory;
        let mut cli = super::Cli::command();
        cli.build(); // adds clap's `help`
        let words: Vec<&str> = cli
            .get_subcommands()
            .flat_map(|s| std::iter::once(s.get_name()).chain(s.get_all_aliases()))
            .collect();
        assert!(
            words.contains(&"help") && words.contains(&"sync"),
            "{words:?}"
        );
        for w in &words {
            let args: Vec<String> = [w, "--db", "x.db"].map(|a| a.to_string()).to_vec();
            let hook = Invocation::from_args(&args).is_some();
            assert_eq!(COMMANDS.contains(w), !hook, "{w}");
        }
        for c in COMMANDS {
            assert!(words.contains(c), "{c} is in COMMANDS but no subcommand");
        }
    }
}
