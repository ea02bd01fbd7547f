//! `flowhook spool`: events waiting to be stored, held aside or lost, and why; `--drain`
//! stores them without a hook's time limit.

use super::say;
use crate::cli::SpoolArgs;
use crate::record::Recorder;

pub fn run(args: SpoolArgs) -> super::Result {
    if args.drain {
        return drain(args.json);
    }
    if args.forget_lost {
        crate::spool::forget_lost();
        say!("The records of lost events are forgotten.");
        return Ok(());
    }
    let entries = crate::spool::all();
    let lost = crate::spool::lost();
    if args.json {
        for e in &entries {
            println!("{}", serde_json::to_string(e).expect("plain struct"));
        }
        for l in &lost {
            println!("{}", serde_json::json!({"state": "lost", "lost": l}));
        }
        return Ok(());
    }
    if entries.is_empty() && lost.is_empty() {
        say!("The spool is empty: every event reached its database.");
        return Ok(());
    }
    let count = |state: &str| entries.iter().filter(|e| e.state == state).count();
    say!(
        "{} events wait in the spool, {} are held aside, {} are ignored, {} were lost:",
        count("waiting"),
        count("held"),
        count("ignored") + count("unreadable"),
        lost.len()
    );
    for e in &entries {
        match &e.entry {
            Some(entry) => {
                say!(
                    "  {:<8} {}  {} bytes for {} (tried {} times)\n      because: {}",
                    e.state,
                    entry.received_at,
                    e.payload_bytes,
                    entry.db.display(),
                    e.attempts,
                    e.problem.as_deref().unwrap_or(&entry.reason)
                );
            }
            None => say!(
                "  {:<8} {}: {}",
                e.state,
                e.file.display(),
                e.problem.as_deref().unwrap_or("")
            ),
        }
    }
    for l in &lost {
        let lines = l
            .lines
            .map(|(a, r)| format!(" (+{a} -{r})"))
            .unwrap_or_default();
        say!(
            "  lost     {}  {} of session {} {}{lines} for {}\n      because: {}",
            l.at,
            l.what,
            l.session.as_deref().unwrap_or("?"),
            l.file.as_deref().unwrap_or(""),
            l.db.display(),
            l.reason
        );
    }
    if count("held") > 0 {
        say!("Held events are stored by `flowhook spool --drain`.");
    }
    Ok(())
}

/// Every waiting and held event, stored now.
fn drain(json: bool) -> super::Result {
    crate::spool::release_held();
    let (mut stored, mut left) = (0, 0);
    super::runtime().block_on(async {
        let mut recorder = Recorder::new(None);
        // The database of the directory it runs in (a hook call's, when detached by one):
        // the one an entry whose database path was redacted may belong to.
        let here = crate::record::Origin::here(None);
        let db = here
            .cwd
            .as_deref()
            .map(|cwd| recorder.resolved(cwd, &here).db.clone());
        for listed in crate::spool::all() {
            if listed.state != "waiting" {
                continue;
            }
            if recorder.drain_one(&listed.file, false, db.as_deref()).await {
                stored += 1;
            } else {
                left += 1;
            }
        }
        recorder.finish_without_closing().await;
    });
    if json {
        println!("{}", serde_json::json!({"stored": stored, "left": left}));
    } else {
        say!("{stored} events stored, {left} left in the spool.");
    }
    Ok(())
}
