//! Upkeep: retention, merging the full-text indexes' segments, keeping the WAL small, and
//! rebuilding what is derived from the recorded rows.

use super::{Result, Store};
use crate::time::Time;
use libsql::named_params;
use serde::Serialize;
use std::time::Duration;

/// What `flowhook prune` removes (or would).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Pruned {
    pub sessions: i64,
    pub tasks: i64,
    pub edits: i64,
    pub swarm: i64,
    pub rejected: i64,
    /// Bytes the file shrank by (0 on a dry run).
    pub reclaimed_bytes: i64,
}

/// What `flowhook rebuild` recreated.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Rebuilt {
    pub sessions: usize,
    pub files: usize,
}

impl Store {
    /// Checkpoints the WAL into the database file, and truncates it, once it has grown past
    /// `limit` bytes. A hook call leaves its connection open at exit (see
    /// `Recorder::finish_without_closing`), so nothing else does, and the next process reads
    /// the whole WAL on open: it must stay small. Only a TRUNCATE does that (after a PASSIVE one, the next opener's recovery
    /// forgets what was copied and the WAL grows without end), and it must not wait: with no
    /// busy timeout it gives up at once when another process is busy, and a later call does
    /// it instead.
    pub async fn checkpoint_if_larger(&self, limit: u64) -> Result<()> {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > limit) {
            self.conn
                .busy_timeout(Duration::ZERO)
                .map_err(|e| self.error(e))?;
            self.exec("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        }
        Ok(())
    }

    /// Merges the full-text indexes' segments into one. Each hook call adds a small segment;
    /// queries slow down with their number, so maintenance (and a seeded history) ends here.
    pub async fn optimize_indexes(&self) -> Result<()> {
        self.exec(
            "INSERT INTO task_fts (task_fts) VALUES ('optimize');
             INSERT INTO edit_fts (edit_fts) VALUES ('optimize');",
        )
        .await
    }

    /// For a bulk load (a seeded benchmark history): no segment merging while rows go in and
    /// no sync per commit, a large page cache; `false` restores the defaults. Ends with
    /// [`Store::optimize_indexes`]. The connection's own settings, but for the merging.
    pub async fn bulk_loading(&self, on: bool) -> Result<()> {
        let (merge, sync, cache) = if on {
            (0, "OFF", -262_144)
        } else {
            (4, "NORMAL", -2000)
        };
        self.exec(&format!(
            "INSERT INTO task_fts (task_fts, rank) VALUES ('automerge', {merge});
             INSERT INTO edit_fts (edit_fts, rank) VALUES ('automerge', {merge});
             PRAGMA synchronous = {sync}; PRAGMA cache_size = {cache};"
        ))
        .await
    }

    /// A bounded step of the same merging (about `pages` pages of work), cheap enough for a
    /// SessionEnd hook. FTS5 merges a level only once it holds four segments (`automerge`);
    /// a negative page count merges whatever there is, so that steady use converges on few
    /// segments: every query opens each of them (on a history of the corpus ten times over,
    /// a merged index makes a pre-task about a millisecond faster).
    pub async fn merge_indexes(&self, pages: u32) -> Result<()> {
        self.exec(&format!(
            "INSERT INTO task_fts (task_fts, rank) VALUES ('merge', -{pages});
             INSERT INTO edit_fts (edit_fts, rank) VALUES ('merge', -{pages});"
        ))
        .await
    }

    /// Recreates every derived table from the recorded rows: the full-text indexes,
    /// file_sessions, knowledge_base (keeping how often recall handed each fact out) and the
    /// sessions' counts, metrics and summaries (but those pulled from another machine, which
    /// keep the summary made there).
    pub async fn rebuild(&self, now: &Time) -> Result<Rebuilt> {
        let tx = self.begin().await?;
        self.exec(
            "INSERT INTO task_fts (task_fts) VALUES ('rebuild');
             INSERT INTO edit_fts (edit_fts) VALUES ('rebuild');
             DELETE FROM file_sessions;",
        )
        .await?;
        self.all_file_rows().await?;
        let files = self.fold_dirty(now, None).await?;
        self.run(
            "DELETE FROM knowledge_base WHERE NOT EXISTS (SELECT 1 FROM file_sessions f
                 WHERE f.project = knowledge_base.project AND f.file = knowledge_base.file)",
            (),
        )
        .await?;
        self.run(
            &format!(
                "UPDATE knowledge_base SET usage_count = {}",
                super::knowledge::USAGE
                    .replace(":project", "knowledge_base.project")
                    .replace(":file", "knowledge_base.file")
            ),
            (),
        )
        .await?;
        let sessions: Vec<String> = self
            .column(
                "SELECT session_id FROM session_summaries ORDER BY 1",
                (),
                "session_id",
            )
            .await?;
        for sid in &sessions {
            self.refresh_summary(sid).await?;
        }
        self.commit(tx).await?;
        Ok(Rebuilt {
            sessions: sessions.len(),
            files,
        })
    }

    /// Brings derived state up to date where the hooks' time budgets left it behind: the
    /// summaries of sessions that gained rows since theirs, the file rows of sessions that
    /// have not ended (yet), and the dirty files. What replay does at its end, when no hook
    /// is waiting. Returns (sessions, files).
    pub async fn settle(&self, now: &Time) -> Result<(usize, usize)> {
        let stale: Vec<String> = self
            .column(
                "SELECT session_id FROM session_summaries WHERE summarised_rows <>
                     (SELECT count(*) FROM task_log t WHERE t.session_id = session_summaries.session_id)
                   + (SELECT count(*) FROM edit_history e WHERE e.session_id = session_summaries.session_id)
                   + (SELECT count(*) FROM swarm_coordination s WHERE s.session_id = session_summaries.session_id)
                 ORDER BY session_id",
                (),
                "session_id",
            )
            .await?;
        let tx = self.begin().await?;
        self.all_file_rows().await?;
        for sid in &stale {
            self.refresh_summary(sid).await?;
        }
        let files = self.fold_dirty(now, None).await?;
        self.commit(tx).await?;
        Ok((stale.len(), files))
    }

    /// Removes the sessions of `project` (`None`: of every project) that ended (or, never
    /// having ended, started) before `cutoff`, oldest first and at most `limit` of them, with
    /// their tasks, edits (and their full-text entries, through the delete triggers), swarm
    /// rows and recall log, and the rejected payloads received before it (which name no
    /// project: only where no other project's session is kept); then gives the space back
    /// (`full_vacuum`: rewrite the file if it was not created for incremental vacuum). With
    /// `dry_run`, only counts.
    /// `keep_unsent`: the projects shared with a team (a JSON array), whose sessions the
    /// server lacks are kept.
    pub async fn prune(
        &self,
        cutoff: &Time,
        project: Option<&str>,
        limit: u32,
        dry_run: bool,
        full_vacuum: bool,
        keep_unsent: Option<&str>,
    ) -> Result<Pruned> {
        let unsent = match keep_unsent {
            Some(projects) => format!(
                "AND session_id NOT IN ({})",
                self.unsent_sessions(projects).await?
            ),
            None => String::new(),
        };
        let old = format!(
            "SELECT session_id FROM session_summaries
             WHERE coalesce(ended_at, started_at) < :cutoff
               AND (:project IS NULL OR project = :project)
             {unsent} ORDER BY coalesce(ended_at, started_at) LIMIT {limit}"
        );
        let old = old.as_str();
        let rejected = "FROM rejected_events WHERE received_at < :cutoff AND (:project IS NULL
             OR NOT EXISTS (SELECT 1 FROM session_summaries WHERE project <> :project))";
        let values = || named_params! {":cutoff": cutoff, ":project": project};
        let count = |sql: String| async move {
            let n = self.value(&sql, values(), "n").await?;
            Ok::<i64, super::StoreError>(n.unwrap_or(0))
        };
        let mut p = Pruned {
            sessions: count(format!("SELECT count(*) AS n FROM ({old})")).await?,
            tasks: count(format!(
                "SELECT count(*) AS n FROM task_log WHERE session_id IN ({old})"
            ))
            .await?,
            edits: count(format!(
                "SELECT count(*) AS n FROM edit_history WHERE session_id IN ({old})"
            ))
            .await?,
            swarm: count(format!(
                "SELECT count(*) AS n FROM swarm_coordination WHERE session_id IN ({old})"
            ))
            .await?,
            rejected: count(format!("SELECT count(*) AS n {rejected}")).await?,
            reclaimed_bytes: 0,
        };
        if dry_run || p.sessions + p.rejected == 0 {
            return Ok(p);
        }
        let before = self.file_bytes().await?;
        let tx = self
            .conn
            .transaction_with_behavior(libsql::TransactionBehavior::Immediate)
            .await
            .map_err(|e| self.error(e))?;
        // The sessions are fixed first: deleting their rows must not change which they are.
        self.exec("CREATE TEMP TABLE IF NOT EXISTS pruned (session_id TEXT PRIMARY KEY); DELETE FROM pruned")
            .await?;
        self.run(&format!("INSERT INTO pruned {old}"), values())
            .await?;
        for table in [
            "task_log",
            "edit_history",
            "swarm_coordination",
            "recall_log",
            "file_sessions",
            "session_summaries",
        ] {
            self.run(
                &format!("DELETE FROM {table} WHERE session_id IN (SELECT session_id FROM pruned)"),
                (),
            )
            .await?;
        }
        self.run(&format!("DELETE {rejected}"), values()).await?;
        self.trim_stream().await?;
        // Facts about files no remaining session touched go too; the others are recomputed
        // at their next session-end.
        self.run(
            "DELETE FROM knowledge_base WHERE NOT EXISTS (SELECT 1 FROM file_sessions f
                 WHERE f.project = knowledge_base.project AND f.file = knowledge_base.file)",
            (),
        )
        .await?;
        tx.commit().await.map_err(|e| self.error(e))?;
        // Give the pages back: incrementally when the file allows it, else a full VACUUM.
        let auto: Option<i64> = self.value("PRAGMA auto_vacuum", (), "auto_vacuum").await?;
        if auto == Some(2) {
            self.exec("PRAGMA incremental_vacuum").await?;
        } else if full_vacuum {
            self.exec("VACUUM").await?;
        }
        self.exec("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        p.reclaimed_bytes = before - self.file_bytes().await?;
        Ok(p)
    }

    async fn file_bytes(&self) -> Result<i64> {
        let bytes = self
            .value(
                "SELECT page_count * page_size AS bytes
                 FROM pragma_page_count(), pragma_page_size()",
                (),
                "bytes",
            )
            .await?;
        Ok(bytes.unwrap_or(0))
    }
}
