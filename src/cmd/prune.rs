//! `flowhook prune`: retention by hand, of the current directory's project unless
//! `--all-projects`. A dry run unless `--yes`.

use super::{Setup, say};
use crate::cli::PruneArgs;
use crate::config::MAX_AGE_DAYS;
use chrono::TimeDelta;

pub fn run(args: PruneArgs) -> super::Result {
    let age = parse_age(&args.older_than)?;
    let setup = Setup::resolve(&args.common)?;
    let cutoff = crate::time::Time::before(chrono::Utc::now(), Some(age))
        .ok_or_else(|| format!("--older-than {:?}: out of range", args.older_than))?;
    let project = (!args.all_projects).then(|| setup.project().to_owned());
    let pruned = super::runtime().block_on(async {
        let store = setup.open_existing().await?;
        let err = |e: crate::store::StoreError| e.to_string();
        let shared = crate::sync::share::shared_in(setup.config(), &store, None)
            .await
            .map_err(err)?
            .map(|s| serde_json::to_string(&s).expect("strings"));
        let p = store
            .prune(
                &cutoff,
                project.as_deref(),
                u32::MAX,
                !args.yes,
                true,
                shared.as_deref(),
            )
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
    let whose = match &project {
        Some(p) => format!("of project {p}"),
        None => "of every project".to_owned(),
    };
    let what = format!(
        "{} sessions {whose} ended before {cutoff}: {} tasks, {} edits, {} subagent rows; {} \
         rejected payloads",
        pruned.sessions, pruned.tasks, pruned.edits, pruned.swarm, pruned.rejected
    );
    if args.yes {
        say!(
            "Deleted {what}. Reclaimed {} KiB.",
            pruned.reclaimed_bytes / 1024
        );
    } else {
        say!("Would delete {what}.\nNothing was deleted: run again with --yes to delete.");
    }
    Ok(())
}

/// `90d`, `12w`, `36h`: an age, at most [`MAX_AGE_DAYS`].
fn parse_age(s: &str) -> Result<TimeDelta, String> {
    let bad = || format!("--older-than {s:?}: expected a number and a unit, like 90d, 12w or 36h");
    let trimmed = s.trim();
    let (n, unit) = trimmed.split_at(trimmed.len().saturating_sub(1));
    let n = match n.parse::<u64>() {
        Ok(n) => Some(n),
        Err(e) if *e.kind() == std::num::IntErrorKind::PosOverflow => None,
        Err(_) => return Err(bad()),
    };
    let hours_per = match unit {
        "d" => 24,
        "w" => 24 * 7,
        "h" => 1,
        _ => return Err(bad()),
    };
    let max = u64::from(MAX_AGE_DAYS) * 24;
    match n
        .and_then(|n| n.checked_mul(hours_per))
        .filter(|h| *h <= max)
    {
        Some(h) => Ok(TimeDelta::hours(h as i64)),
        None => Err(format!(
            "--older-than {s:?} is out of range: at most {MAX_AGE_DAYS}d (a century)"
        )),
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
        assert!(parse_age("-5d").is_err());
        assert!(parse_age("36525d").is_ok());
        for far in [
            "36526d",
            "99999999d",
            "18446744073709551615w",
            "99999999999999999999h",
        ] {
            assert!(
                parse_age(far).unwrap_err().contains("out of range"),
                "{far}"
            );
        }
    }
}
