//! agent_memory: values agents store on purpose, by project, namespace, key and agent. An
//! expired value is never read; session end deletes what expired.
//!
//! Which value of a slot wins, here and on every machine of a team, is decided by its
//! version, a hybrid logical clock reading (migration 0010): the larger of the wall clock in
//! milliseconds and one past the largest version this file has seen, written here or pulled;
//! of two equal versions, the one of the greater machine id. A write made after another was
//! pulled always wins over it, however fast the other machine's clock was; only writes that
//! knew nothing of each other are ordered by their clocks. A delete is a write too: a
//! tombstone with its own version, which travels like a value.
//!
//! Expiry is a time, compared as one (`julianday`), not as text: a stamp past the year 9999
//! (`+33715-…`, written by older versions) or in another format (a pulled row) never sorts
//! as already past. One flowhook cannot read ends nothing: the value stays until forgotten.

use super::{Result, Store};
use crate::time::Time;
use libsql::named_params;
use serde::{Deserialize, Serialize};

/// One stored value.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Memory {
    pub namespace: String,
    pub key: String,
    pub agent_id: String,
    pub value: String,
    pub updated_at: String,
    pub expires_at: Option<String>,
}

impl Memory {
    /// The id kept in `recall_log` when recall hands it out.
    pub fn id(&self) -> String {
        format!("memory:{}/{}/{}", self.namespace, self.key, self.agent_id)
    }
}

/// Where a value lives.
#[derive(Debug, Clone, Copy)]
pub struct Slot<'a> {
    pub project: &'a str,
    pub namespace: &'a str,
    pub key: &'a str,
    pub agent_id: &'a str,
}

/// A value alive at `:now`.
const LIVE: &str = "(julianday(expires_at) IS NULL OR julianday(expires_at) > julianday(:now))
     AND deleted_at IS NULL";

/// The longest time-to-live, a century: every expiry stays a four-digit year, which SQLite's
/// date functions read.
pub const MAX_TTL_SECONDS: u64 = 3_155_760_000; // 100 × 365.25 days

/// When a value stored at `now` with a time-to-live of `ttl_seconds` (at most
/// [`MAX_TTL_SECONDS`]; callers refuse more) ends.
pub fn expiry(now: chrono::DateTime<chrono::Utc>, ttl_seconds: u64) -> Time {
    let ttl = chrono::TimeDelta::seconds(ttl_seconds.min(MAX_TTL_SECONDS) as i64);
    Time::at(now + ttl)
}

/// The latest version a pulled value may have: the end of the year 9999, in milliseconds
/// (migration 0010 refuses later ones, and the server lets any value replace one).
#[cfg(feature = "team")]
pub const LATEST_VERSION: i64 = 253_402_300_799_999;

/// The clock's next reading, the parameter `:wall` being the wall clock in milliseconds (see
/// the module's doc).
const NEXT_VERSION: &str = "max(:wall, (SELECT last FROM memory_clock) + 1)";

/// How long a deleted value's tombstone is kept: long enough for every machine of the team to
/// have synced it, so that none hands the value out again or pushes it back.
const TOMBSTONE_DAYS: i64 = 90;

impl Store {
    /// Stores `value` (replacing the slot's old one); `expires_at` ends it.
    pub async fn remember(
        &self,
        at: Slot<'_>,
        value: &str,
        session_id: Option<&str>,
        expires_at: Option<&Time>,
        now: &Time,
    ) -> Result<()> {
        // One id per slot, the same on every machine, so that the team server holds one row
        // per slot; the version is the clock's next reading (see the module's doc), and the
        // greatest wins everywhere.
        let id = {
            use sha2::Digest;
            let slot = [at.project, at.namespace, at.key, at.agent_id].join("\0");
            crate::text::hex(&sha2::Sha256::digest(slot.as_bytes())[..16])
        };
        self.run(
            &format!(
                "INSERT INTO agent_memory (id, project, namespace, key, agent_id, value,
                     session_id, created_at, updated_at, expires_at, version)
                 VALUES (:id, :project, :namespace, :key, :agent_id, :value, :session, :now,
                     :now, :expires_at, {NEXT_VERSION})
                 ON CONFLICT (id) DO UPDATE SET
                     value = excluded.value, session_id = excluded.session_id,
                     updated_at = excluded.updated_at, expires_at = excluded.expires_at,
                     version = excluded.version, origin = NULL, deleted_at = NULL"
            ),
            named_params! {
                ":id": id,
                ":project": at.project,
                ":namespace": at.namespace,
                ":key": at.key,
                ":agent_id": at.agent_id,
                ":value": value,
                ":session": session_id,
                ":now": now,
                ":expires_at": expires_at.map(Time::as_str),
                ":wall": now.millis(),
            },
        )
        .await
        .map(drop)
    }

    /// The live values of a key in a namespace, the given agent's first, then the newest (by
    /// version: the clock that decides between writes, not the writer's wall clock).
    pub async fn memory_get(
        &self,
        project: &str,
        namespace: &str,
        key: &str,
        agent_id: Option<&str>,
        now: &Time,
    ) -> Result<Vec<Memory>> {
        self.typed(
            &format!(
                "SELECT namespace, key, agent_id, value, updated_at, expires_at FROM agent_memory
                 WHERE project = :project AND {LIVE} AND namespace = :namespace AND key = :key
                 ORDER BY agent_id = coalesce(:agent_id, 'system') DESC, version DESC"
            ),
            named_params! {
                ":project": project,
                ":now": now,
                ":namespace": namespace,
                ":key": key,
                ":agent_id": agent_id,
            },
        )
        .await
    }

    /// The live values of a project (of one namespace, when given), newest first.
    pub async fn memory_list(
        &self,
        project: &str,
        namespace: Option<&str>,
        limit: u32,
        now: &Time,
    ) -> Result<Vec<Memory>> {
        self.typed(
            &format!(
                "SELECT namespace, key, agent_id, value, updated_at, expires_at FROM agent_memory
                 WHERE project = :project AND {LIVE}
                   AND (:namespace IS NULL OR namespace = :namespace)
                 ORDER BY version DESC, key LIMIT :limit"
            ),
            named_params! {
                ":project": project,
                ":now": now,
                ":namespace": namespace,
                ":limit": limit,
            },
        )
        .await
    }

    /// Deletes a key (every agent's value of it when `agent_id` is `None`); how many went.
    /// Each value becomes a tombstone with the clock's next reading (see migration 0009),
    /// which sync carries to the other machines like a write.
    pub async fn forget(
        &self,
        project: &str,
        namespace: &str,
        key: &str,
        agent_id: Option<&str>,
    ) -> Result<u64> {
        let now = Time::now();
        self.run(
            &format!(
                "UPDATE agent_memory SET value = '', deleted_at = :now, updated_at = :now,
                     version = {NEXT_VERSION}, origin = NULL
                 WHERE project = :project AND namespace = :namespace AND key = :key
                     AND (:agent_id IS NULL OR agent_id = :agent_id) AND deleted_at IS NULL"
            ),
            named_params! {
                ":project": project,
                ":namespace": namespace,
                ":key": key,
                ":agent_id": agent_id,
                ":now": &now,
                ":wall": now.millis(),
            },
        )
        .await
    }

    /// Deletes what expired before `now`, and tombstones older than [`TOMBSTONE_DAYS`].
    pub async fn prune_expired_memory(&self, now: &Time) -> Result<u64> {
        let tombstones = Time::before(now.instant(), chrono::TimeDelta::try_days(TOMBSTONE_DAYS));
        self.run(
            "DELETE FROM agent_memory
             WHERE expires_at IS NOT NULL AND julianday(expires_at) <= julianday(:now)
                OR deleted_at IS NOT NULL AND julianday(deleted_at) <= julianday(:tombstones)",
            named_params! {
                ":now": now,
                ":tombstones": tombstones.as_ref().map(Time::as_str),
            },
        )
        .await
    }

    /// The live values whose namespace, key or value holds at least `min_hits` of `words`:
    /// those holding the most first, then the newest. Agent memory is small (values stored on
    /// purpose): its newest 500 are read and matched here.
    pub async fn memory_matching(
        &self,
        project: &str,
        words: &[String],
        min_hits: usize,
        limit: u32,
        now: &Time,
    ) -> Result<Vec<Memory>> {
        let rows = self.memory_list(project, None, 500, now).await?;
        let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
        let mut hits: Vec<(usize, Memory)> = rows
            .into_iter()
            .map(|m| {
                let hay = format!("{} {} {}", m.namespace, m.key, m.value).to_lowercase();
                (lower.iter().filter(|w| hay.contains(w.as_str())).count(), m)
            })
            .filter(|(n, _)| *n >= min_hits.max(1))
            .collect();
        // Stable: equal hits keep the newest-first order of the list.
        hits.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
        Ok(hits
            .into_iter()
            .take(limit as usize)
            .map(|(_, m)| m)
            .collect())
    }
}
