//! `flowhook rebuild`: what is derived, computed again from what was recorded.

use super::{Setup, say};
use crate::cli::RebuildArgs;

pub fn run(args: RebuildArgs) -> super::Result {
    let setup = Setup::resolve(&args.common)?;
    let started = std::time::Instant::now();
    let rebuilt = super::runtime().block_on(async {
        let store = setup.open_existing().await?;
        let r = store
            .rebuild(&crate::time::Time::now())
            .await
            .map_err(|e| e.to_string())?;
        store.optimize_indexes().await.map_err(|e| e.to_string())?;
        Ok::<_, String>(r)
    })?;
    if args.json {
        println!("{}", serde_json::to_string(&rebuilt).expect("plain struct"));
    } else {
        say!(
            "Rebuilt {}: full-text indexes, facts of {} files, summaries of {} sessions ({:.1} s).",
            setup.db().display(),
            rebuilt.files,
            rebuilt.sessions,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}
