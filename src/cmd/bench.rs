//! `flowhook bench seed`: a history of N rows for the benchmark, made from recorded shapes.
//!
//! The prompts and edits of the fixtures (real recorded payloads) go through the hook's own
//! `normalise`, then are stored again and again under new sessions, files and times: 50
//! sessions over 2 projects, spread over the last 90 days, in transactions of 5,000 rows.
//! `--long-session` adds one session of that many events (the session-end benchmark).

use crate::cli::BenchSeedArgs;
use crate::event::flags::Invocation;
use crate::event::{self, Event, Normalised};
use crate::store::{Stamp, Store};
use std::path::Path;
use std::time::Duration;

/// The projects seeded; the first also holds the long session.
pub const PROJECTS: [&str; 2] = ["/bench/alpha", "/bench/beta"];
const SESSIONS: usize = 50;
const BATCH: usize = 5_000;

pub fn seed(args: BenchSeedArgs) -> super::Result {
    let templates = templates(&args.from)?;
    if templates.is_empty() {
        return Err(format!(
            "no prompts or edits found in {}",
            args.from.display()
        ));
    }
    let started = std::time::Instant::now();
    let progress = super::Progress::new(true);
    let now = chrono::Utc::now();
    super::runtime().block_on(async {
        let store = Store::open(&args.db, Duration::from_secs(5))
            .await
            .map_err(|e| e.to_string())?;
        let total = args.rows + args.long_session;
        store.bulk_loading(true).await.map_err(|e| e.to_string())?;
        let mut done = 0;
        while done < total {
            let end = (done + BATCH).min(total);
            // Stamps borrow their strings and times: build them first, then the batch.
            let rows: Vec<(Normalised, String, crate::time::Time)> = (done..end)
                .map(|i| {
                    let long = i >= args.rows;
                    let session = if long { SESSIONS } else { i % SESSIONS };
                    let project = PROJECTS[usize::from(session >= SESSIONS / 2 && !long)];
                    let age = chrono::Duration::seconds(
                        ((total - i) as i64 * 90 * 86_400) / total as i64,
                    );
                    let at = crate::time::Time::at(now - age);
                    (
                        variant(&templates[i % templates.len()], i, session, project),
                        project.to_owned(),
                        at,
                    )
                })
                .collect();
            let batch: Vec<(Normalised, Stamp)> = rows
                .iter()
                .map(|(n, project, at)| {
                    let root = Path::new(project.as_str());
                    (
                        n.clone(),
                        Stamp {
                            // Filed under an identity other machines share, when asked.
                            project: args.project.as_deref().unwrap_or(project),
                            root,
                            now: at,
                        },
                    )
                })
                .collect();
            store.record_many(&batch).await.map_err(|e| e.to_string())?;
            done = end;
            progress.show(&format!("seeded {done} of {total} rows"));
        }
        progress.done();
        store.optimize_indexes().await.map_err(|e| e.to_string())?;
        store.bulk_loading(false).await.map_err(|e| e.to_string())?;
        Ok::<(), String>(())
    })?;
    eprintln!(
        "flowhook: seeded {} rows ({} sessions over {} projects{}) into {} in {:.1} s",
        args.rows + args.long_session,
        SESSIONS,
        PROJECTS.len(),
        if args.long_session > 0 {
            format!(", plus session seed-long of {} events", args.long_session)
        } else {
            String::new()
        },
        args.db.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The prompts and edits of every recorded payload under `dir`, normalised.
fn templates(dir: &Path) -> Result<Vec<Normalised>, String> {
    let env = event::Env::new(&crate::config::Limits::default(), None, None, Vec::new());
    let mut out = Vec::new();
    let mut files = Vec::new();
    super::replay::walk(dir, &mut files).map_err(|e| format!("{}: {e}", dir.display()))?;
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        for line in text.lines() {
            let Ok(p) = serde_json::from_str(line) else {
                continue;
            };
            if let Ok(Some(n)) = event::normalise(Some(&p), &Invocation::stdin_only(), &env)
                && matches!(n.event, Event::Task(_) | Event::Edit(_))
            {
                out.push(n);
            }
        }
    }
    Ok(out)
}

/// Template `t` as the `i`-th row: its own session, key, file and a word that varies.
fn variant(t: &Normalised, i: usize, session: usize, project: &str) -> Normalised {
    let mut n = t.clone();
    n.ctx.session_id = if session == SESSIONS {
        "seed-long".to_owned()
    } else {
        format!("seed-{session:02}")
    };
    // No prompt ids: each edit joins its session's latest prompt, as for old clients.
    n.ctx.prompt_id = None;
    n.ctx.cwd = Some(project.to_owned());
    match &mut n.event {
        Event::Task(task) => {
            task.key = event::Key::Natural(format!("seed-{i}"));
            task.text = format!("{} (variant {})", task.text, i % 997);
        }
        Event::Edit(edit) => {
            edit.key = event::Key::Natural(format!("seed-{i}"));
            edit.tool_use_id = Some(format!("seed-{i}"));
            let ext = edit
                .facts
                .file
                .rsplit('.')
                .next()
                .unwrap_or("rs")
                .to_owned();
            edit.facts.file = format!("{project}/src/m{}/f{}.{ext}", i % 40, i % 2000);
        }
        _ => {}
    }
    n
}
