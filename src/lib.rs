//! flowhook: the hook command an AI coding agent runs on every event, and the commands a
//! person uses to look at what it remembered.
//!
//! This is the only place that chooses exit codes. Hook calls are routed before any
//! command-line parsing (see `cli`): they must start fast and must never fail the agent.
//!
//! The crate is a library only so that the fuzzer and property tests can reach the parser;
//! [`run`] is the program, and [`understand`] the one thing they exercise ([`redact`] the
//! benchmark).

mod answer;
mod cli;
mod cmd;
mod config;
mod detach;
mod event;
mod gather;
mod input;
mod install;
mod log;
#[cfg(feature = "mcp")]
mod mcp;
mod now;
mod paths;
mod project;
mod recall;
mod record;
mod redact;
mod resolve;
mod setup;
mod show;
mod spool;
mod store;
mod summary;
#[cfg(feature = "team")]
mod sync;
/// Built without team memory (the `team` feature): which projects are shared (so that
/// retention keeps, exactly as a team build does, what a sync would still send), and no sync.
#[cfg(not(feature = "team"))]
mod sync {
    pub mod share;

    /// Nothing to start: hook calls record locally, as in local mode.
    pub fn spawn_if_due(_: &crate::resolve::Resolved, _session_end: bool) {}
}
mod text;
mod time;
mod transcript;
mod trust;
#[cfg(feature = "ui")]
mod ui;
mod watchdog;

use clap::Parser;
pub use event::Refusal;
use event::flags::Invocation;
use std::io::IsTerminal;
use std::process::ExitCode;

static LAST_PANIC: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);

/// What a panic said, from its payload (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// The message of the last panic, if there was one.
fn last_panic() -> Option<String> {
    LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Parses and normalises one hook input exactly as a hook call does, without storing it: the
/// entry point of the fuzz target and the property tests. Never panics, whatever the bytes.
pub fn understand(stdin: &[u8], args: &[String]) -> Result<bool, Refusal> {
    let inv = Invocation::from_args(args).unwrap_or_else(Invocation::stdin_only);
    record::understand_only(stdin, &inv)
}

/// `text` with its secrets removed, as every text flowhook keeps is: for the benchmark's
/// cost per KB.
pub fn redact(text: &str) -> String {
    redact::redact(text, &[]).into_owned()
}

/// The whole program: what `main` runs.
pub fn run() -> ExitCode {
    // Past a file-size limit (ulimit -f) a write must fail, so that the event is spooled, not
    // kill the process with SIGXFSZ.
    // SAFETY: setting a signal's disposition to ignore has no preconditions.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    log::init();
    // One line in the log instead of a backtrace on the agent's screen; the hook spools the
    // event with it as the reason.
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string();
        tracing::debug!("panic: {message}");
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some(message);
    }));

    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    // A person typing `flowhook` alone, or `flowhook pre-task --help`, gets the help, not a
    // hook waiting on the terminal. A hook call (stdin is not a terminal) never does: there
    // `--help` is a flag's value, and the agent must not get help text as an answer.
    let person = std::io::stdin().is_terminal();
    let help_for_person =
        person && (args.is_empty() || args.iter().any(|a| event::flags::asks_for_help(a)));
    if !help_for_person && let Some(inv) = Invocation::from_args(&args) {
        return cmd::hook::run(inv);
    }

    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if help_for_person => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => e.exit(),
    };
    if matches!(
        cli.command,
        cli::Command::Hook
            | cli::Command::PreTask(_)
            | cli::Command::PostEdit(_)
            | cli::Command::SessionEnd(_)
    ) {
        // Hook words without --help were routed above; with it, clap printed the help.
        return cmd::hook::run(Invocation::stdin_only());
    }
    // A person's command piped into `head` ends quietly when the pipe closes, as other
    // tools do. (Hook calls keep ignoring SIGPIPE: they exit 0 whatever their reader does.)
    // SAFETY: setting a signal's disposition to the default has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // A debugging command that panics says so on stderr (the hook above only logs it) and
    // fails, instead of exiting 101 with nothing said.
    match std::panic::catch_unwind(move || command(cli.command)) {
        Ok(code) => code,
        Err(payload) => {
            let why = last_panic().unwrap_or_else(|| panic_message(payload.as_ref()));
            eprintln!("{}", internal_error(&why));
            ExitCode::from(101)
        }
    }
}

/// The line a person reads when a debugging command panicked.
fn internal_error(why: &str) -> String {
    format!(
        "flowhook: internal error: {} (please report)",
        text::Shown::line(text::one_line(why, 1000))
    )
}

/// Runs one debugging command; its failure is one line on stderr and exit code 2.
fn command(command: cli::Command) -> ExitCode {
    #[cfg(debug_assertions)]
    if std::env::var_os("FLOWHOOK_TEST_PANIC").is_some_and(|v| v == "command") {
        panic!("injected by FLOWHOOK_TEST_PANIC");
    }
    let result = match command {
        cli::Command::Replay(a) => cmd::replay::run(a),
        cli::Command::Context(a) => cmd::context::run(a),
        cli::Command::Sessions(a) => cmd::sessions::list(a),
        cli::Command::Show(a) => cmd::sessions::show(a),
        cli::Command::Export(a) => cmd::sessions::export(a),
        cli::Command::Prune(a) => cmd::prune::run(a),
        cli::Command::Schema(a) => cmd::schema::run(a),
        cli::Command::Spool(a) => cmd::spool::run(a),
        cli::Command::Trust(a) => cmd::trust::run(a),
        cli::Command::Rebuild(a) => cmd::rebuild::run(a),
        #[cfg(feature = "team")]
        cli::Command::Sync(a) => match cmd::sync::run(a) {
            // Done, or another sync was running: the command's own exit status.
            Ok(code) => return code,
            Err(e) => Err(e),
        },
        #[cfg(not(feature = "team"))]
        cli::Command::Sync(_) => Err(cmd::without("team memory", "team")),
        #[cfg(feature = "team")]
        cli::Command::Team(a) => cmd::team::run(a),
        #[cfg(not(feature = "team"))]
        cli::Command::Team(_) => Err(cmd::without("team memory", "team")),
        cli::Command::Install(a) => cmd::install::install(a),
        cli::Command::Uninstall(a) => cmd::install::uninstall(a),
        cli::Command::Doctor(a) => return cmd::doctor::run(a),
        #[cfg(feature = "mcp")]
        cli::Command::Mcp(a) => cmd::memory::mcp(a),
        #[cfg(not(feature = "mcp"))]
        cli::Command::Mcp(_) => Err(cmd::without("the MCP server", "mcp")),
        cli::Command::Memory(c) => cmd::memory::run(c),
        #[cfg(feature = "ui")]
        cli::Command::Ui(a) => ui::run(a),
        #[cfg(not(feature = "ui"))]
        cli::Command::Ui(_) => Err(cmd::without("the web viewer", "ui")),
        cli::Command::Bench(cli::BenchCommand::Seed(a)) => cmd::bench::seed(a),
        cli::Command::Hook
        | cli::Command::PreTask(_)
        | cli::Command::PostEdit(_)
        | cli::Command::SessionEnd(_) => unreachable!("hook calls are routed before"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("flowhook: error: {}", text::Shown::text(message));
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_internal_error_is_one_line_that_says_what_happened() {
        let line = super::internal_error("panicked at src/x.rs:1:2:\nattempt to add with overflow");
        assert_eq!(
            line,
            "flowhook: internal error: panicked at src/x.rs:1:2: attempt to add with overflow \
             (please report)"
        );
        assert_eq!(
            super::internal_error("a \x1b]52;c;eA==\x07 b"),
            "flowhook: internal error: a \\x1b]52;c;eA==\\x07 b (please report)"
        );
    }
}
