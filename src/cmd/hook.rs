//! `flowhook` as a hook: read stdin, record, exit 0 (hook contract §3).
//!
//! Everything that can go wrong (bad input, a locked or broken database, a panic, a stdin
//! that never closes) ends in exit 0 with an empty stdout or one JSON object; the reason goes
//! to stderr and the log, and the event to the database, or else the spool. A person running
//! a hook command by hand (stdin is a terminal) gets errors instead.

use super::tell;
use crate::event::flags::{Command, Invocation};
use crate::input::{self, Received};
use crate::record::{Origin, Outcome, Recorder};
use crate::watchdog::{Armed, Deadline, NoDeadline, Watchdog};
use std::io::IsTerminal;
use std::panic::AssertUnwindSafe;
use std::process::ExitCode;

pub fn run(inv: Invocation) -> ExitCode {
    let manual = std::io::stdin().is_terminal();
    if let (true, Command::Other(word)) = (manual && !inv.known(), &inv.command) {
        // A hook line never fails on a word it does not know; a person is told.
        tell!("flowhook: error: unrecognized command {word:?} (see `flowhook --help`)");
        return ExitCode::from(2);
    }
    if manual && std::env::var_os("CLAUDE_CODE_SESSION_ID").is_none() {
        tell!(
            "flowhook: error: `flowhook {}` is a hook: Claude Code runs it with the event's JSON \
             on stdin (claude-flow: with its flags, inside a session).\n\
             To record by hand, pipe a payload: echo '{{\"session_id\":\"s1\",\
             \"hook_event_name\":\"UserPromptSubmit\",\"prompt\":\"...\"}}' | flowhook hook\n\
             To look at what was recorded: flowhook sessions, flowhook show <session>.",
            inv.args.join(" ")
        );
        return ExitCode::from(2);
    }
    let origin = Origin::here(None);
    let mut recorder = Recorder::new(None);
    recorder.quarantine = !manual;
    // The configuration of the directory Claude Code runs us in (the project) sets the
    // watchdog, the payload bound and where the event is spooled before the payload is read.
    // It is a repository's file: the watchdog runs (on the default limit) while it is read.
    let watchdog = (!manual).then(|| Watchdog::start(crate::config::Hook::default().timeout_ms));
    let deadline: &dyn Deadline = match &watchdog {
        Some(w) => w,
        None => &NoDeadline,
    };
    let here = origin.cwd.clone().unwrap_or_else(|| ".".to_owned());
    let base = recorder.resolved(&here, &origin);
    deadline.set_limit(base.config().hook.timeout_ms);
    let received_at = chrono::Utc::now();
    // The database is only a guess when nothing names it (the payload's cwd may point at
    // another project).
    let entry = origin.entry(&base.db, origin.db.is_none(), &inv.args, received_at);
    let received = match &watchdog {
        None => Received::complete(Vec::new()),
        Some(w) => read_armed(w, entry, base.config().limits.max_payload_bytes),
    };
    let runtime = super::runtime();
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(async {
            #[cfg(debug_assertions)]
            if std::env::var_os("FLOWHOOK_TEST_PANIC").is_some_and(|v| v == "hook") {
                panic!("injected by FLOWHOOK_TEST_PANIC");
            }
            #[cfg(debug_assertions)]
            if let Some(ms) = std::env::var("FLOWHOOK_TEST_SLOW_MS")
                .ok()
                .and_then(|v| v.parse().ok())
            {
                // A test's stand-in for a payload whose handling outlasts the watchdog.
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            #[cfg(debug_assertions)]
            let stall = std::env::var("FLOWHOOK_TEST_STALL_MS")
                .ok()
                .and_then(|v| v.parse().ok());
            let mut print = |answer: &crate::answer::Answer| {
                #[cfg(debug_assertions)]
                if let Some(ms) = stall {
                    // A test's stand-in for a call that runs out of time before it answers.
                    std::thread::sleep(std::time::Duration::from_millis(ms));
                }
                if manual {
                    return false;
                }
                crate::answer::print(answer);
                true
            };
            recorder
                .handle(&received, &inv, &origin, received_at, deadline, &mut print)
                .await
        })
    }));
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(_) => return after_panic(watchdog.as_ref(), manual),
    };
    // The event is stored or spooled; what follows (marking what was shown, the spool's
    // backlog) may fail without losing anything.
    let settled = std::panic::catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(async {
            #[cfg(debug_assertions)]
            if std::env::var_os("FLOWHOOK_TEST_PANIC").is_some_and(|v| v == "settle") {
                panic!("injected by FLOWHOOK_TEST_PANIC");
            }
            recorder.settle().await;
            recorder.sync_if_due();
            recorder.finish_without_closing().await;
        })
    }));
    if settled.is_err() {
        tracing::error!("internal error after the event was stored; nothing was lost");
    }
    deadline.await_exit();
    match manual {
        false => ExitCode::SUCCESS,
        true => report(&outcome),
    }
}

/// Reads the payload under the watchdog (what arrived is kept if stdin stalls halfway as
/// `entry`), and arms it with the bytes before any work on them: whatever takes too long,
/// the event is kept.
fn read_armed(w: &Watchdog, entry: crate::spool::Entry, max: usize) -> Received {
    w.reading(entry.clone());
    let received =
        input::read_payload(std::io::stdin().lock(), max, w.arriving(), &|| w.progress())
            .unwrap_or_else(|e| {
                tracing::warn!("cannot read stdin: {e}");
                Received::complete(Vec::new())
            });
    w.arm(Armed {
        entry,
        payload: received.bytes.clone(),
    });
    received
}

/// A panic while the event was being stored: the event is spooled with the panic as its
/// reason, and stored by a later call.
fn after_panic(watchdog: Option<&Watchdog>, manual: bool) -> ExitCode {
    let why = crate::last_panic().unwrap_or_else(|| "unknown".to_owned());
    if let Some((w, armed)) = watchdog.and_then(|w| Some((w, w.take()?))) {
        let kept = |file: &std::path::Path| {
            tracing::error!(
                "internal error (a flowhook bug, please report it): {why}; the event waits in {}",
                file.display()
            )
        };
        match armed.spool(format!("internal error (a flowhook bug): {why}"), kept) {
            Ok(_) => {}
            Err(e) => tracing::error!(
                "internal error (a flowhook bug, please report it): {why}; the event could not \
                 be spooled either ({e}) and is lost"
            ),
        }
        w.end_spool();
    }
    if manual {
        ExitCode::from(101)
    } else {
        ExitCode::SUCCESS
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
            tell!("flowhook: {label}: {detail} ({written:?})");
            ExitCode::SUCCESS
        }
        Outcome::Ignored { what } => {
            tell!("flowhook: {what} is not an event flowhook records; nothing stored");
            ExitCode::SUCCESS
        }
        Outcome::Rejected { reason, .. } => {
            tell!(
                "flowhook: error: {reason}\n(see `flowhook --help`; hooks get their payload on stdin)"
            );
            ExitCode::from(2)
        }
        Outcome::Spooled { reason, file, .. } => {
            tell!(
                "flowhook: warning: {reason}; the event waits in {}",
                file.display()
            );
            ExitCode::SUCCESS
        }
        Outcome::Lost { reason } => {
            tell!("flowhook: error: {reason}");
            ExitCode::from(1)
        }
    }
}
