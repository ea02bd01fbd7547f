//! `flowhook prune`: retention by hand. A dry run unless `--yes`.

use super::Setup;
use crate::cli::PruneArgs;

pub fn run(args: PruneArgs) -> super::Result {
    let age = parse_age(&args.older_than)?;
    let setup = Setup::resolve(&args.common)?;
    let cutoff = crate::hook::stamp(chrono::Utc::now() - age);
    let pruned = super::runtime().block_on(async {
        let store = setup.open_existing().await?;
        let err = |e: crate::store::StoreError| e.to_string();
        let shared = crate::sync::share::shared_in(setup.config(), &store, None)
            .await
            .map_err(err)?
            .map(|s| serde_json::to_string(&s).expect("strings"));
        let p = store
            .prune(&cutoff, u32::MAX, !args.yes, true, shared.as_deref())
            .await
            .map_err(err)?;
        if args.yes && p.sessions > 0 {
            store.optimize_indexes().await.map_err(|e| e.to_string())?;
        }
        Ok::<_, String>(p)
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&pruned).expect("plain struct"));
        return Ok(());
    }
    let what = format!(
        "{} sessions ended before {cutoff}: {} tasks, {} edits, {} subagent rows; {} rejected payloads",
        pruned.sessions, pruned.tasks, pruned.edits, pruned.swarm, pruned.rejected
    );
    if args.yes {
        println!(
            "Deleted {what}. Reclaimed {} KiB.",
            pruned.reclaimed_bytes / 1024
        );
    } else {
        println!("Would delete {what}.\nNothing was deleted: run again with --yes to delete.");
    }
    Ok(())
}

/// `90d`, `12w`, `36h`: an age.
fn parse_age(s: &str) -> Result<chrono::Duration, String> {
    let bad = || format!("--older-than {s:?}: expected a number and a unit, like 90d, 12w or 36h");
    let (n, unit) = s.trim().split_at(s.trim().len().saturating_sub(1));
    let n: i64 = n.parse().map_err(|_| bad())?;
    match unit {
        "d" => Ok(chrono::Duration::days(n)),
        "w" => Ok(chrono::Duration::weeks(n)),
        "h" => Ok(chrono::Duration::hours(n)),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages() {
        assert_eq!(parse_age("90d").unwrap(), chrono::Duration::days(90));
        assert_eq!(parse_age("2w").unwrap(), chrono::Duration::days(14));
        assert_eq!(parse_age("36h").unwrap(), chrono::Duration::hours(36));
        assert!(parse_age("90").is_err() && parse_age("d").is_err() && parse_age("1y").is_err());
    }
}
