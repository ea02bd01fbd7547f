//! `flowhook sync`: push and pull with the team server, or say where that stands.

use super::{Setup, say, say_part, tell};
use crate::cli::SyncArgs;
use crate::sync::Ran;
use std::process::ExitCode;

/// The exit status of a sync that did nothing because another sync of the same database was
/// running: EX_TEMPFAIL of sysexits.h, "try again later" (documented in `sync --help`).
pub const BUSY: u8 = 75;

/// The command; its exit status when it did what it was asked, or found another sync
/// running ([`BUSY`]).
pub fn run(args: SyncArgs) -> Result<ExitCode, String> {
    let setup = Setup::resolve(&args.common)?;
    if args.enable || args.disable {
        return choose(&setup, args.enable, args.json).map(|()| ExitCode::SUCCESS);
    }
    if args.init_key {
        let file = crate::sync::seal::key_file(&setup.config().sync)
            .ok_or("no place for the key: set sync.key_file")?;
        crate::sync::seal::init_key(&file)?;
        println!(
            "Made a team key in {} (readable by you alone). Give the same file to each \
             teammate over a channel you trust (not the team server, not the repository), \
             or set FLOWHOOK_TEAM_KEY to its content; then set [sync] encrypt = true. Anyone \
             without it cannot read what the server keeps, nor add to it.",
            file.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    super::network_runtime()?.block_on(async {
        if args.status {
            // Whether the project is shared is said before anything is recorded too.
            let store = match setup.db().exists() || setup.resolved.db_refused.is_some() {
                true => Some(setup.open_existing().await?),
                false => None,
            };
            let s = crate::sync::status(&setup.resolved, store.as_ref()).await?;
            if args.json {
                println!("{}", serde_json::to_string(&s).expect("plain struct"));
            } else {
                say_part!("{}", status_text(&s));
            }
            return Ok(ExitCode::SUCCESS);
        }
        if args.follow {
            // Its database is the one a hook call wrote: gone, there is nothing to follow.
            let store = setup.open_existing().await?;
            let end = crate::sync::live::follow(&setup.resolved, &store).await?;
            tracing::debug!("live follower: {end:?}");
            return Ok(ExitCode::SUCCESS);
        }
        // A new teammate's first sync makes the database the others' memory lands in.
        let store = setup.open().await?;
        let what = crate::sync::What {
            push: !args.pull,
            pull: !args.push,
        };
        let progress = super::Progress::new(!args.auto && !args.json);
        let outcome =
            crate::sync::run(&setup.resolved, &store, what, &mut |l| progress.show(l)).await;
        progress.done();
        let report = match outcome {
            Ok(r) => r,
            Err(e) if args.auto => {
                // In the background: the log says it, the next sync goes on.
                tracing::warn!("background sync failed: {e}");
                return Ok(ExitCode::SUCCESS);
            }
            Err(e) => return Err(format!("sync failed: {e}")),
        };
        let busy = report.status == Ran::Busy;
        if args.auto {
            // In the background, another sync running is the sync that was due.
            if busy {
                return Ok(ExitCode::SUCCESS);
            }
            tracing::info!(
                pushed = report.pushed.values().sum::<u64>(),
                pulled = report.pulled.values().sum::<u64>(),
                "background sync with {} took {} ms",
                report.server,
                report.elapsed_ms
            );
        } else if args.json {
            println!("{}", serde_json::to_string(&report).expect("plain struct"));
        } else if busy {
            tell!(
                "flowhook: {}: nothing done",
                report.why.as_deref().unwrap_or("busy")
            );
        } else {
            say!("{}", report_text(&report));
        }
        Ok(match busy {
            true => ExitCode::from(BUSY),
            false => ExitCode::SUCCESS,
        })
    })
}

/// `--enable` / `--disable`: the user's choice for this project, by its identity.
fn choose(setup: &Setup, shared: bool, json: bool) -> super::Result {
    let p = &setup.resolved.project;
    if shared && crate::sync::share::is_path(&p.id) {
        return Err(format!(
            "{} has no identity but its path, which means nothing on another machine: give it \
             a git remote `origin`, or pin one in your own hooks.toml with [project.ids] \
             \"{}\" = \"its-name\"",
            p.root.display(),
            p.root.display()
        ));
    }
    crate::sync::share::choose(&p.id, shared)
        .map_err(|e| format!("cannot record the choice in the state directory: {e}"))?;
    let now = crate::sync::share::sharing(&setup.resolved);
    if json {
        println!("{}", serde_json::to_string(&now).expect("plain struct"));
    } else {
        println!(
            "{}: {}{}",
            super::identity_text(&now),
            if shared { "shared" } else { "not shared" },
            match (&now.shared, crate::sync::shown_server(&setup.resolved)) {
                (true, Some(url)) => format!(" with {url}"),
                (false, _) if shared => format!(" yet ({})", now.why),
                _ => String::new(),
            }
        );
    }
    Ok(())
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
    if let Some(why) = &r.not_shared {
        return format!("Nothing synced: this project is not shared ({why}).");
    }
    let mut s = format!("Synced {} with {}", r.projects.join(", "), r.server);
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
    if !r.refused.is_empty() {
        s.push_str(&format!(
            "; refused {} (not of a project shared here)",
            counts(&r.refused)
        ));
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
        "project:   {}\n",
        super::identity_text(&s.sharing)
    ));
    out.push_str(&format!("shared:    {}\n", super::shared_text(&s.sharing)));
    out.push_str(&format!(
        "server:    {}\n",
        s.server.as_deref().unwrap_or("(database.url not set)")
    ));
    out.push_str(&format!(
        "machine:   {} ({})\n",
        s.label,
        s.machine.as_deref().unwrap_or("no database yet")
    ));
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
    if !s.refused.is_empty() {
        let refused: Vec<String> = s.refused.iter().map(|(t, n)| format!("{t} {n}")).collect();
        out.push_str(&format!(
            "refused:   {} (pulled rows not of a project shared here)\n",
            refused.join(", ")
        ));
    }
    if s.running {
        out.push_str("a sync is running now\n");
    }
    out
}
