//! `flowhook replay`: recorded payloads through the hook's own code path ([`Recorder`]),
//! one event after the other, as a session's hook calls would arrive.
//!
//! Time: a recorded payload has no time of its own, but some recordings add one
//! (`logged_at`). An event takes that time; the events after it in its session take that
//! time plus a millisecond each (each stored event: what is ignored or rejected takes none),
//! so that they keep their order and a session's duration is what the recording says. A
//! session without any recorded time runs on the replay's clock, or, when the database
//! already holds it, from its start there: a second replay of a recording gives each event
//! the time the first one did, so that an event without an id of its own is known again
//! (a replay is a re-delivery: it stores nothing twice).

use super::{Setup, say};
use crate::cli::ReplayArgs;
use crate::event::flags::Invocation;
use crate::input::Received;
use crate::record::{Origin, Outcome, Recorder};
use crate::store::Written;
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Default, serde::Serialize)]
struct Totals {
    events: usize,
    stored: usize,
    duplicates: usize,
    ignored: usize,
    rejected: usize,
    spooled: usize,
    lost: usize,
    db: PathBuf,
}

/// The fields of a line that say when and in which session it happened.
#[derive(serde::Deserialize)]
struct When {
    session_id: Option<String>,
    logged_at: Option<String>,
}

pub fn run(args: ReplayArgs) -> super::Result {
    let setup = Setup::resolve(&args.common)?;
    let db = setup.db().to_path_buf();
    let files = collect(&args.paths)?;
    let mut recorder = Recorder::new(args.common.config.clone());
    recorder.replay = true;
    let origin = Origin::here(Some(db.clone()));
    let mut totals = Totals {
        db,
        ..Totals::default()
    };
    let verbose = !args.quiet && !args.json;
    let mut clock: HashMap<String, DateTime<Utc>> = HashMap::new();
    // When each session began in the database as it was before the replay (a second replay
    // of a recording finds its sessions there).
    let mut began: HashMap<String, Option<DateTime<Utc>>> = HashMap::new();
    super::runtime().block_on(async {
        let known = match totals.db.exists() {
            true => setup.open().await.ok(),
            false => None,
        };
        for file in &files {
            let bytes =
                std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let (session, recorded) = recorded(line);
                if !began.contains_key(&session) {
                    let start = match &known {
                        Some(store) if !session.is_empty() => {
                            store.session_started(&session).await.ok().flatten()
                        }
                        _ => None,
                    };
                    began.insert(session.clone(), start.and_then(|t| recorded_time(&t)));
                }
                let start = began[&session];
                let at = time_of(recorded, clock.get(&session).copied(), start);
                // An answer counts as given, as it was in the session recorded; replayed
                // again, it was counted the first time.
                let outcome = recorder
                    .handle(
                        &Received::complete(line.to_vec()),
                        &Invocation::stdin_only(),
                        &origin,
                        at,
                        &crate::watchdog::NoDeadline,
                        &mut |_| start.is_none(),
                    )
                    .await;
                recorder.settle().await;
                if matches!(outcome, Outcome::Stored { .. }) {
                    clock.insert(session, at);
                }
                let text = tally(&mut totals, &outcome);
                if verbose {
                    say!("{name}:{:<5} {text}", i + 1);
                }
            }
        }
        recorder.settle_derived().await.map_err(|e| e.to_string())?;
        recorder.finish_without_closing().await;
        Ok::<(), String>(())
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&totals).expect("plain struct"));
    } else {
        say!(
            "{} events: {} stored, {} duplicates, {} ignored, {} rejected, {} spooled -> {}",
            totals.events,
            totals.stored,
            totals.duplicates,
            totals.ignored,
            totals.rejected,
            totals.spooled,
            totals.db.display()
        );
    }
    if totals.lost > 0 {
        return Err(format!(
            "{} events could be neither stored nor spooled",
            totals.lost
        ));
    }
    Ok(())
}

/// The session of a recorded line, and its recorded time if it has one.
fn recorded(line: &[u8]) -> (String, Option<DateTime<Utc>>) {
    let when: Option<When> = serde_json::from_slice(line).ok();
    let session = when
        .as_ref()
        .and_then(|w| w.session_id.clone())
        .unwrap_or_default();
    let recorded = when
        .and_then(|w| w.logged_at)
        .and_then(|t| recorded_time(&t));
    (session, recorded)
}

/// When a line happened (see the module doc), from its recorded time, its session's last
/// stored event, and when the database had the session begin.
fn time_of(
    recorded: Option<DateTime<Utc>>,
    previous: Option<DateTime<Utc>>,
    began: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    match (recorded, previous) {
        (Some(t), Some(p)) => t.max(p + chrono::Duration::milliseconds(1)),
        (Some(t), None) => t,
        (None, Some(p)) => p + chrono::Duration::milliseconds(1),
        (None, None) => began.unwrap_or_else(Utc::now),
    }
}

/// A recording's time (`2026-02-12T05:17:06.893706`, with or without an offset).
fn recorded_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").map(|t| t.and_utc())
        })
        .ok()
}

/// Counts an outcome and describes it in one line.
fn tally(t: &mut Totals, outcome: &Outcome) -> String {
    t.events += 1;
    match outcome {
        Outcome::Stored {
            label,
            written,
            detail,
            answer,
        } => {
            let word = match written {
                Written::Inserted => {
                    t.stored += 1;
                    "stored   "
                }
                Written::Duplicate => {
                    t.duplicates += 1;
                    "duplicate"
                }
            };
            match answer {
                Some(a) => {
                    let chars = a.text().chars().count();
                    format!("{word} {label}  {detail}  -> context: {chars} chars")
                }
                None => format!("{word} {label}  {detail}"),
            }
        }
        Outcome::Ignored { what } => {
            t.ignored += 1;
            format!("ignored   {what}")
        }
        Outcome::Rejected { reason, kept } => {
            t.rejected += 1;
            format!("REJECTED  {reason}; kept in {kept}")
        }
        Outcome::Spooled { label, reason, .. } => {
            t.spooled += 1;
            format!("SPOOLED   {label}: {reason}")
        }
        Outcome::Lost { reason } => {
            t.lost += 1;
            format!("LOST      {reason}")
        }
    }
}

/// The .jsonl files named, directories read recursively, each directory's files sorted.
fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            walk(p, &mut out).map_err(|e| format!("{}: {e}", p.display()))?;
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        return Err("no .jsonl files found".to_owned());
    }
    Ok(out)
}

pub(super) fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for e in entries {
        if e.is_dir() {
            walk(&e, out)?;
        } else if e.extension().is_some_and(|x| x == "jsonl") {
            out.push(e);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recordings_times_are_kept_and_later_events_follow_them() {
        let mut clock = HashMap::new();
        let mut time = |line: &[u8]| {
            let (s, t) = recorded(line);
            let at = time_of(t, clock.get(&s).copied(), None);
            clock.insert(s, at);
            at
        };
        let a = time(br#"{"session_id":"s","logged_at":"2026-02-12T05:17:06.893706"}"#);
        let b = time(br#"{"session_id":"s"}"#);
        let c = time(br#"{"session_id":"s","logged_at":"2026-02-12T05:36:29.646640"}"#);
        assert_eq!(
            crate::time::Time::at(a).as_str(),
            "2026-02-12T05:17:06.893Z"
        );
        assert_eq!(
            crate::time::Time::at(b).as_str(),
            "2026-02-12T05:17:06.894Z"
        );
        assert_eq!(
            crate::time::Time::at(c).as_str(),
            "2026-02-12T05:36:29.646Z"
        );
    }
}
