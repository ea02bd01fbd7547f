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
use libsql::params;
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

const LIVE: &str = "(julianday(expires_at) IS NULL OR julianday(expires_at) > julianday(?2))
     AND deleted_at IS NULL";

/// The longest time-to-live, a century: every expiry stays a four-digit year, which SQLite's
/// date functions read.
pub const MAX_TTL_SECONDS: u64 = 3_155_760_000; // 100 × 365.25 days

/// When a value stored at `now` with a time-to-live of `ttl_seconds` (at most
/// [`MAX_TTL_SECONDS`]; callers refuse more) ends, as a stamp.
pub fn expiry(now: chrono::DateTime<chrono::Utc>, ttl_seconds: u64) -> String {
    let ttl = chrono::TimeDelta::seconds(ttl_seconds.min(MAX_TTL_SECONDS) as i64);
    crate::time::Time::at(now + ttl).into_string()
}

/// The latest version a pulled value may have: the end of the year 9999, in milliseconds
/// (migration 0010 refuses later ones, and the server lets any value replace one).
#[cfg(feature = "team")]
pub const LATEST_VERSION: i64 = 253_402_300_799_999;

/// The clock's next reading, `now` being the parameter of the wall clock in milliseconds
/// (see the module's doc).
fn next_version(now: &str) -> String {
    format!("max({now}, (SELECT last FROM memory_clock) + 1)")
}

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
        expires_at: Option<&str>,
        now: &str,
    ) -> Result<()> {
        // One id per slot, the same on every machine, so that the team server holds one row
        // per slot; the version is the clock's next reading (see the module's doc), and the
        // greatest wins everywhere.
        let id = {
            use sha2::Digest;
            let slot = [at.project, at.namespace, at.key, at.agent_id].join("\0");
            crate::text::hex(&sha2::Sha256::digest(slot.as_bytes())[..16])
        };
        let wall = chrono::DateTime::parse_from_rfc3339(now)
            .map(|t| t.timestamp_millis())
            .unwrap_or_default();
        self.run(
            &format!("INSERT INTO agent_memory (id, project, namespace, key, agent_id, value, session_id,
                 created_at, updated_at, expires_at, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, ?9, {})
             ON CONFLICT (id) DO UPDATE SET
                 value = excluded.value, session_id = excluded.session_id,
                 updated_at = excluded.updated_at, expires_at = excluded.expires_at,
                 version = excluded.version, origin = NULL, deleted_at = NULL",
                next_version("?10")
            ),
            params![
                id,
                at.project,
                at.namespace,
                at.key,
                at.agent_id,
                value,
                session_id,
                now,
                expires_at,
                wall
            ],
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
        now: &str,
    ) -> Result<Vec<Memory>> {
        self.typed(
            &format!(
                "SELECT namespace, key, agent_id, value, updated_at, expires_at FROM agent_memory
                 WHERE project = ?1 AND {LIVE} AND namespace = ?3 AND key = ?4
                 ORDER BY agent_id = coalesce(?5, 'system') DESC, version DESC"
            ),
            params![project, now, namespace, key, agent_id],
        )
        .await
    }

    /// The live values of a project (of one namespace, when given), newest first.
    pub async fn memory_list(
        &self,
        project: &str,
        namespace: Option<&str>,
        limit: u32,
        now: &str,
    ) -> Result<Vec<Memory>> {
        self.typed(
            &format!(
                "SELECT namespace, key, agent_id, value, updated_at, expires_at FROM agent_memory
                 WHERE project = ?1 AND {LIVE} AND (?3 IS NULL OR namespace = ?3)
                 ORDER BY version DESC, key LIMIT ?4"
            ),
            params![project, now, namespace, limit],
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
        let now = chrono::Utc::now();
        self.run(
            &format!(
                "UPDATE agent_memory SET value = '', deleted_at = ?5, updated_at = ?5,
                     version = {}, origin = NULL
                 WHERE project = ?1 AND namespace = ?2 AND key = ?3
                     AND (?4 IS NULL OR agent_id = ?4) AND deleted_at IS NULL",
                next_version("?6")
            ),
            params![
                project,
                namespace,
                key,
                agent_id,
                crate::time::Time::at(now).into_string(),
                now.timestamp_millis()
            ],
        )
        .await
    }

    /// Deletes what expired before `now`, and tombstones older than [`TOMBSTONE_DAYS`].
    pub async fn prune_expired_memory(&self, now: &str) -> Result<u64> {
        let tombstones = chrono::DateTime::parse_from_rfc3339(now)
            .map(|t| {
                crate::time::Time::at((t - chrono::Duration::days(TOMBSTONE_DAYS)).to_utc())
                    .into_string()
            })
            .unwrap_or_default();
        self.run(
            "DELETE FROM agent_memory
             WHERE expires_at IS NOT NULL AND julianday(expires_at) <= julianday(?1)
                OR deleted_at IS NOT NULL AND julianday(deleted_at) <= julianday(?2)",
            params![now, tombstones],
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
        now: &str,
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
