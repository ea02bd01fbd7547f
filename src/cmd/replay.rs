//! `flowhook replay`: recorded payloads through the hook's own code path ([`Recorder`]).

use super::Setup;
use crate::cli::ReplayArgs;
use crate::event::flags::Invocation;
use crate::hook::{Outcome, Recorder};
use crate::input::Received;
use crate::store::Written;
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

pub fn run(args: ReplayArgs) -> super::Result {
    let Setup { db, .. } = Setup::resolve(&args.common)?;
    let files = collect(&args.paths)?;
    let mut recorder = Recorder::new(Some(db.clone()), args.common.config.clone());
    let mut totals = Totals {
        db,
        ..Totals::default()
    };
    let verbose = !args.quiet && !args.json;
    super::runtime().block_on(async {
        for file in &files {
            let bytes =
                std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let name = file.file_name().unwrap_or_default().to_string_lossy();
            for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                let outcome = recorder
                    .handle(
                        &Received::complete(line.to_vec()),
                        &Invocation::stdin_only(),
                    )
                    .await;
                let text = tally(&mut totals, &outcome);
                if verbose {
                    println!("{name}:{:<5} {text}", i + 1);
                }
            }
        }
        Ok::<(), String>(())
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&totals).expect("plain struct"));
    } else {
        println!(
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
                    let chars = a.hook_specific_output.additional_context.chars().count();
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
