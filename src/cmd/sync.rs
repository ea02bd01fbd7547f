//! `flowhook sync`: push and pull with the team server, or say where that stands.

use super::Setup;
use crate::cli::SyncArgs;

pub fn run(args: SyncArgs) -> super::Result {
    let setup = Setup::resolve(&args.common)?;
    // The network needs a runtime with its drivers (the hook's has none).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(async {
        // A new teammate's first sync makes the database the others' memory lands in.
        let store = if args.status {
            setup.open_existing().await?
        } else {
            setup.open().await?
        };
        if args.status {
            let s = crate::sync::status(&setup.resolved, &store).await?;
            if args.json {
                println!("{}", serde_json::to_string(&s).expect("plain struct"));
            } else {
                print!("{}", status_text(&s));
            }
            return Ok(());
        }
        let what = crate::sync::What {
            push: !args.pull,
            pull: !args.push,
        };
        let progress = super::Progress::new(!args.auto && !args.json);
        let outcome =
            crate::sync::run(&setup.resolved, &store, what, &mut |l| progress.show(l)).await;
        progress.done();
        let report = match outcome {
            Ok(Some(r)) => r,
            Ok(None) => {
                if !args.auto {
                    eprintln!(
                        "flowhook: another sync of {} is running",
                        setup.db().display()
                    );
                }
                return Ok(());
            }
            Err(e) if args.auto => {
                // In the background: the log says it, the next sync goes on.
                tracing::warn!("background sync failed: {e}");
                return Ok(());
            }
            Err(e) => return Err(format!("sync failed: {e}")),
        };
        if args.auto {
            tracing::info!(
                pushed = report.pushed.values().sum::<u64>(),
                pulled = report.pulled.values().sum::<u64>(),
                "background sync with {} took {} ms",
                report.server,
                report.elapsed_ms
            );
        } else if args.json {
            println!("{}", serde_json::to_string(&report).expect("plain struct"));
        } else {
            println!("{}", report_text(&report));
        }
        Ok(())
    })
}

fn counts(by_table: &std::collections::BTreeMap<&str, u64>) -> String {
    let total: u64 = by_table.values().sum();
    let parts: Vec<String> = by_table
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    if parts.is_empty() {
        format!("{total} rows")
    } else {
        format!("{total} rows ({})", parts.join(", "))
    }
}

fn report_text(r: &crate::sync::Report) -> String {
    let mut s = format!("Synced with {}", r.server);
    if !r.pushed.is_empty() {
        s.push_str(&format!(": pushed {}", counts(&r.pushed)));
    }
    if !r.pulled.is_empty() {
        s.push_str(&format!(
            "{} pulled {}",
            if r.pushed.is_empty() { ":" } else { ";" },
            counts(&r.pulled)
        ));
        if !r.machines.is_empty() {
            s.push_str(&format!(" (team: {})", r.machines.join(", ")));
        }
    }
    s.push_str(&format!(" in {:.1} s.", r.elapsed_ms as f64 / 1000.0));
    s
}

fn status_text(s: &crate::sync::Status) -> String {
    let mode = match s.mode {
        crate::config::Mode::Local => "local (memory stays in this file)",
        crate::config::Mode::Sync => "sync",
    };
    let mut out = format!("mode:      {mode}\n");
    out.push_str(&format!(
        "server:    {}\n",
        s.server.as_deref().unwrap_or("(database.url not set)")
    ));
    out.push_str(&format!("machine:   {} ({})\n", s.label, s.machine));
    let pending: Vec<String> = s.pending.iter().map(|(t, n)| format!("{t} {n}")).collect();
    out.push_str(&format!("to push:   {}\n", pending.join(", ")));
    if s.quarantined > 0 {
        out.push_str(&format!(
            "set aside: {} pulled rows this database refused (table sync_quarantine; newest: {})\n",
            s.quarantined,
            s.quarantine_reason.as_deref().unwrap_or("?")
        ));
    }
    let when = |v: &Option<String>| v.clone().unwrap_or_else(|| "never".to_owned());
    out.push_str(&format!("last push: {}\n", when(&s.last_push)));
    out.push_str(&format!("last pull: {}\n", when(&s.last_pull)));
    out.push_str(&format!(
        "last error: {}\n",
        s.last_error.as_deref().unwrap_or("none")
    ));
    if s.running {
        out.push_str("a sync is running now\n");
    }
    out
}
