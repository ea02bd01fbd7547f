//! Live team memory: while a session on this machine is active, one follower per database
//! pushes what hook calls record within a second or two and pulls what teammates pushed
//! within seconds, so that the next prompt's context sees it.
//!
//! A hook call's whole share is [`nudge`]: it sets the time of a marker file (the session's
//! activity, and "new rows to push") and, when no follower holds the follower lock, starts
//! one detached. It never waits on the follower nor on the network. The follower ([`follow`])
//! watches the marker (a local stat every `TICK`): a newer time means rows to push, and a
//! sync runs at once; otherwise it asks the server, in one cheap request, whether another
//! machine pushed since the last sync, at most every `sync.live_poll_ms` while nothing changes,
//! within a second after a change, and backs off to minutes while the server fails. It ends
//! after `sync.live_idle_secs` without a hook call, and at once when its database is gone:
//! nothing polls when no session is active.

use super::{Lock, Ran, SyncError, What, remote::Server};
use crate::resolve::Resolved;
use crate::store::{SHARED, Store};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// How often the follower looks at its marker and its database (a stat each, no request).
const TICK: Duration = Duration::from_millis(150);
/// The pause before the next look at the server right after something changed.
const FAST: Duration = Duration::from_secs(1);
/// The longest pause while the server fails.
const FAILING: Duration = Duration::from_secs(5 * 60);
/// A follower is started at most this often: one that ends at once (a project not shared,
/// a broken configuration) is not started again by every hook call.
const RESTART: Duration = Duration::from_secs(5);
/// Beyond its idle limit, how long a follower may live at all: its deadline (see
/// `detach`); a session that lasts longer gets a new one from its next hook call.
const LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The marker a hook call touches: its time is the last hook call's.
fn marker(db: &Path) -> PathBuf {
    crate::paths::sync_lock(db).with_extension("live")
}

/// The follower's lock: held while one runs; its time is when the last one was started.
fn follower_lock(db: &Path) -> PathBuf {
    crate::paths::sync_lock(db).with_extension("follow")
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn age(t: SystemTime) -> Duration {
    SystemTime::now().duration_since(t).unwrap_or_default()
}

/// A hook call's part, in sync mode with `sync.live`: the marker's time set to now, and a
/// follower started when none runs (and none was started in the last `RESTART`).
pub fn nudge(to: &Resolved) {
    if !to.config().sync.live {
        return;
    }
    Lock::touch(&marker(&to.db));
    let lock = follower_lock(&to.db);
    if modified(&lock).is_some_and(|t| age(t) < RESTART) || Lock::held_at(&lock) {
        return;
    }
    // Marked before the start: the calls that follow do not start another.
    Lock::touch(&lock);
    if !super::share::sharing(to).shared {
        return;
    }
    let db = to.db.to_string_lossy().into_owned();
    let idle = Duration::from_secs(to.config().sync.live_idle_secs);
    if let Err(e) = crate::detach::spawn(
        &["sync", "--follow", "--db", &db],
        Some(&to.project.root),
        idle.saturating_add(LIFETIME),
    ) {
        tracing::warn!("cannot start the live follower: {e}");
    }
}

/// Why a follower ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// Another follower holds the lock.
    Running,
    /// No hook call for `sync.live_idle_secs`.
    Idle,
    /// Its database is gone.
    Gone,
    /// The database's projects are not shared, or `sync.live` is off.
    NothingToFollow,
}

/// Follows the team while a session here is active (see the module's doc). Failures of the
/// server are logged and waited out; only a local failure ends it with an error.
pub async fn follow(to: &Resolved, store: &Store) -> Result<End, SyncError> {
    let Some(_lock) = Lock::take_at(&follower_lock(&to.db))? else {
        return Ok(End::Running);
    };
    let c = &to.config().sync;
    if !c.live {
        return Ok(End::NothingToFollow);
    }
    let idle = Duration::from_secs(c.live_idle_secs);
    let slow = Duration::from_millis(c.live_poll_ms).max(FAST);
    let machine = store.machine()?.machine.clone();
    let marker = marker(&to.db);
    tracing::info!("live follower of {} started", to.db.display());
    // The marker's time already synced, the server's sequences the last sync saw.
    let mut synced: Option<SystemTime> = None;
    let mut heads: Option<Vec<(crate::store::Shared, i64)>> = None;
    let (mut pause, mut failing) = (FAST, false);
    let mut server = None;
    let mut next = Instant::now();
    loop {
        if !to.db.exists() {
            tracing::info!("live follower ends: {} is gone", to.db.display());
            return Ok(End::Gone);
        }
        let Some(active) = modified(&marker).filter(|t| age(*t) <= idle) else {
            tracing::info!("live follower ends: no hook call for {} s", idle.as_secs());
            return Ok(End::Idle);
        };
        // New local rows go at once, unless the server is failing: then they wait like the
        // rest.
        let local = synced != Some(active) && !failing;
        if local || Instant::now() >= next {
            let round = match (&heads, local) {
                (Some(h), false) => match look(to, &mut server, h, &machine).await {
                    Ok(true) => sync(to, store).await,
                    Ok(false) => Ok(Outcome::Unchanged),
                    Err(e) => Err(e),
                },
                _ => sync(to, store).await,
            };
            tracing::debug!(local, "live follower: {round:?}");
            pause = match round {
                Err(e) => {
                    tracing::warn!("live follower: {e}");
                    // A first failure (two machines making the server's tables at once)
                    // is tried again soon; a server that keeps failing, ever more rarely.
                    let after = if failing { pause * 2 } else { 2 * FAST };
                    failing = true;
                    after.min(FAILING)
                }
                Ok(Outcome::NotShared) => return Ok(End::NothingToFollow),
                Ok(Outcome::Busy) => Duration::ZERO,
                Ok(Outcome::Done { changed, seen }) => {
                    failing = false;
                    synced = Some(active);
                    heads = (!seen.is_empty()).then(|| SHARED.iter().copied().zip(seen).collect());
                    if changed { FAST } else { (pause * 2).min(slow) }
                }
                Ok(Outcome::Unchanged) => {
                    failing = false;
                    (pause * 2).min(slow)
                }
            };
            next = Instant::now() + pause;
        }
        tokio::time::sleep(TICK).await;
    }
}

/// What a round with the server did.
#[derive(Debug)]
enum Outcome {
    /// A sync ran: whether it moved rows either way, and the server's sequences it began at.
    Done {
        changed: bool,
        seen: Vec<i64>,
    },
    /// The look found nothing new.
    Unchanged,
    /// Another sync holds the sync lock: the next tick tries again.
    Busy,
    NotShared,
}

/// One request: whether the team pushed since `heads`. The server's handle is made once.
async fn look(
    to: &Resolved,
    server: &mut Option<Server>,
    heads: &[(crate::store::Shared, i64)],
    machine: &str,
) -> Result<bool, SyncError> {
    let server = match server {
        Some(s) => s,
        None => {
            let (url, token) = super::server_of(to)?;
            let deadline = Duration::from_millis(to.config().sync.request_timeout_ms);
            server.insert(
                Server::new(&url, &token, deadline)
                    .await
                    .map_err(SyncError::Server)?,
            )
        }
    };
    server
        .changed_since(heads, machine)
        .await
        .map_err(SyncError::Server)
}

async fn sync(to: &Resolved, store: &Store) -> Result<Outcome, SyncError> {
    let both = What {
        push: true,
        pull: true,
    };
    let r = super::run(to, store, both, &mut |_| {}).await?;
    Ok(match r.status {
        Ran::Busy => Outcome::Busy,
        Ran::NotShared => Outcome::NotShared,
        Ran::Synced => Outcome::Done {
            changed: r.pushed.values().chain(r.pulled.values()).any(|n| *n > 0),
            seen: r.heads,
        },
    })
}
