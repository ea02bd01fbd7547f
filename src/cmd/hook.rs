//! `flowhook` as a hook: read stdin, record, exit 0 (hook contract §3).
//!
//! Everything that can go wrong (bad input, a locked or broken database, a panic, a stdin
//! that never closes) ends in exit 0 with an empty stdout; the reason goes to stderr and the
//! log. A person running a hook command by hand (stdin is a terminal) gets errors instead.

use crate::config::Config;
use crate::event::flags::Invocation;
use crate::hook::{Outcome, Recorder};
use crate::input::{self, Received};
use std::io::IsTerminal;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;

pub fn run(inv: Invocation) -> ExitCode {
    let manual = std::io::stdin().is_terminal();
    if let (true, crate::event::flags::Command::Other(word)) =
        (manual && !inv.known(), &inv.command)
    {
        // A hook line never fails on a word it does not know; a person is told.
        eprintln!("flowhook: error: unrecognized command {word:?} (see `flowhook --help`)");
        return ExitCode::from(2);
    }
    if manual && std::env::var_os("CLAUDE_CODE_SESSION_ID").is_none() {
        eprintln!(
            "flowhook: error: `flowhook {}` is a hook: Claude Code runs it with the event's JSON \
             on stdin (claude-flow: with its flags, inside a session).\n\
             To record by hand, pipe a payload: echo '{{\"session_id\":\"s1\",\
             \"hook_event_name\":\"UserPromptSubmit\",\"prompt\":\"...\"}}' | flowhook hook\n\
             To look at what was recorded: flowhook sessions, flowhook show <session>.",
            inv.args.join(" ")
        );
        return ExitCode::from(2);
    }
    // Configuration of the directory Claude Code runs us in (the project): it sets the
    // watchdog and the payload size limit before the payload, which may name another cwd.
    let here = std::env::current_dir().unwrap_or_else(|_| ".".into());
    let project = crate::paths::project_root(&here);
    // An invalid file is left for the Recorder to find again and report.
    let discovered = Config::discover(None, &project).ok().map(|(c, _)| c);
    let config = discovered.clone().unwrap_or_default();
    if !manual {
        crate::watchdog::start(config.hook.timeout_ms);
    }
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        let received = if manual {
            Received::complete(Vec::new())
        } else {
            input::read_payload(std::io::stdin().lock(), config.limits.max_payload_bytes)
                .unwrap_or_else(|e| {
                    tracing::warn!("cannot read stdin: {e}");
                    Received::complete(Vec::new())
                })
        };
        let mut recorder = Recorder::new(None, None);
        recorder.quarantine = !manual;
        if let Some(c) = discovered {
            recorder.remember_config(&project, c);
        }
        super::runtime().block_on(async {
            let outcome = recorder.handle(&received, &inv).await;
            recorder.finish_without_closing().await;
            outcome
        })
    }));
    match (manual, outcome) {
        (
            false,
            Ok(Outcome::Stored {
                answer: Some(answer),
                ..
            }),
        ) => {
            crate::answer::print(&answer);
            ExitCode::SUCCESS
        }
        (false, _) => ExitCode::SUCCESS,
        (true, Ok(outcome)) => report(&outcome),
        (true, Err(_)) => ExitCode::from(101),
    }
}

/// A hook command typed by a person: say what happened, fail on errors.
fn report(outcome: &Outcome) -> ExitCode {
    match outcome {
        Outcome::Stored {
            label,
            written,
            detail,
            ..
        } => {
            eprintln!("flowhook: {label}: {detail} ({written:?})");
            ExitCode::SUCCESS
        }
        Outcome::Ignored { what } => {
            eprintln!("flowhook: {what} is not an event flowhook records; nothing stored");
            ExitCode::SUCCESS
        }
        Outcome::Rejected { reason, .. } => {
            eprintln!(
                "flowhook: error: {reason}\n(see `flowhook --help`; hooks get their payload on stdin)"
            );
            ExitCode::from(2)
        }
        Outcome::Spooled { reason, file, .. } => {
            eprintln!(
                "flowhook: warning: {reason}; the event waits in {}",
                file.display()
            );
            ExitCode::SUCCESS
        }
        Outcome::Lost { reason } => {
            eprintln!("flowhook: error: {reason}");
            ExitCode::from(1)
        }
    }
}
