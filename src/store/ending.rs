//! A session's summary: when and how it ended (recorded), and its counts, metrics and text
//! (derived), recomputed from the stored rows so that repeated ends (every Stop, a resumed
//! session ending again) and late rows never make it drift.

use super::{Result, Stamp, Store};
use crate::event::Context;
use crate::event::Swarm;
use crate::summary::{self, AgentEdits, EditGroup, Facts, Launch, TaskCount};
use crate::time::Time;
use crate::transcript::Usage;
use libsql::named_params;

/// How many rows (tasks, edits, subagent events) the session `:session` has: a summary
/// computed from fewer is stale.
pub(super) const ROWS_OF: &str = "(SELECT count(*) FROM task_log WHERE session_id = :session)
     + (SELECT count(*) FROM edit_history WHERE session_id = :session)
     + (SELECT count(*) FROM swarm_coordination WHERE session_id = :session)";

#[derive(serde::Deserialize)]
struct Ending {
    started_at: String,
    ended_at: Option<String>,
    end_reason: Option<String>,
    last_message: Option<String>,
    transcript: Option<String>,
    origin: Option<String>,
    metrics: Option<String>,
}

impl Store {
    /// Where the session's transcript is and how far it was read, so that the caller can
    /// read what the last turn appended before taking the write lock.
    pub async fn transcript_state(&self, ctx: &Context) -> Result<Option<(String, Usage)>> {
        #[derive(serde::Deserialize)]
        struct Transcript {
            transcript: Option<String>,
            transcript_path: Option<String>,
        }
        let row: Option<Transcript> = self
            .first(
                "SELECT transcript, transcript_path FROM session_summaries
                 WHERE session_id = :session",
                named_params! {":session": ctx.session_id.as_str()},
            )
            .await?;
        let (transcript, stored_path) =
            row.map_or((None, None), |r| (r.transcript, r.transcript_path));
        let Some(path) = ctx.transcript_path.clone().or(stored_path) else {
            return Ok(None);
        };
        let so_far: Usage = transcript
            .and_then(|j| serde_json::from_str(&j).ok())
            .unwrap_or_default();
        Ok(Some((path, so_far)))
    }

    /// Records how the session ended (a late end never moves `ended_at` back, nor replaces
    /// the reason of a later one), then brings its summary and knowledge up to date.
    pub(super) async fn end_session(
        &self,
        ctx: &Context,
        reason: Option<&str>,
        last_message: Option<&str>,
        usage: Option<&Usage>,
        at: &Stamp<'_>,
    ) -> Result<u64> {
        let sid = ctx.session_id.as_str();
        let changed = self
            .run(
                // Every expression reads the row as it was: `latest` is whether this end is
                // the newest seen.
                "UPDATE session_summaries SET
                     ended_at = CASE WHEN ended_at IS NULL OR :now >= ended_at
                                     THEN :now ELSE ended_at END,
                     end_reason = CASE WHEN :reason IS NOT NULL
                                            AND (ended_at IS NULL OR :now >= ended_at)
                                       THEN :reason ELSE end_reason END,
                     last_event = CASE WHEN ended_at IS NULL OR :now >= ended_at
                                       THEN :event ELSE last_event END,
                     transcript_path = coalesce(transcript_path, :transcript_path),
                     last_message = CASE WHEN :last_message IS NOT NULL
                                              AND (ended_at IS NULL OR :now >= ended_at)
                                         THEN :last_message ELSE last_message END,
                     transcript = coalesce(:transcript, transcript),
                     updated_at = :updated_at, version = version + 1
                 WHERE session_id = :session AND origin IS NULL",
                named_params! {
                    ":session": sid,
                    ":now": at.now,
                    ":reason": reason,
                    ":event": ctx.hook_event.as_str(),
                    ":transcript_path": ctx.transcript_path.as_deref(),
                    ":last_message": last_message,
                    ":transcript": usage.map(|u| serde_json::to_string(u).expect("plain struct")),
                    ":updated_at": &Time::now(),
                },
            )
            .await?;
        // A session pulled from the machine that recorded it (resumed here) keeps how it
        // ended there, so that every machine shows the same summary; only where its
        // transcript is, a local matter, is kept.
        let changed = match changed {
            0 => {
                self.run(
                    "UPDATE session_summaries
                     SET transcript_path = coalesce(transcript_path, :transcript_path),
                         transcript = coalesce(:transcript, transcript)
                     WHERE session_id = :session AND origin IS NOT NULL",
                    named_params! {
                        ":session": sid,
                        ":transcript_path": ctx.transcript_path.as_deref(),
                        ":transcript": usage.map(|u| serde_json::to_string(u).expect("plain struct")),
                    },
                )
                .await?
            }
            n => n,
        };
        self.resummarise(sid, at.now).await?;
        // One indexed delete: expired agent memory goes when any session ends.
        self.prune_expired_memory(at.now).await?;
        Ok(changed)
    }

    /// The session's summary and its files' facts, brought up to date.
    async fn resummarise(&self, sid: &str, now: &Time) -> Result<()> {
        if self.refresh_summary(sid).await? {
            // New rows (new prompts, say) change what the session's files' facts say.
            self.dirty_files_of(sid).await?;
        }
        self.fold_knowledge(sid, now).await
    }

    /// Recomputes the session's counts, metrics and summary from its rows; whether it has
    /// rows its last summary had not seen.
    /// Rows are counted before they are read: a row stored in between (outside a
    /// transaction: a sync) leaves the summary stale, to be made again, never marked whole.
    pub async fn refresh_summary(&self, sid: &str) -> Result<bool> {
        #[derive(serde::Deserialize)]
        struct Before {
            summarised_rows: i64,
            rows: i64,
        }
        let before: Option<Before> = self
            .first(
                &format!(
                    "SELECT summarised_rows, {ROWS_OF} AS rows FROM session_summaries
                     WHERE session_id = :session"
                ),
                named_params! {":session": sid},
            )
            .await?;
        let Some(Before {
            summarised_rows: summarised,
            rows,
        }) = before
        else {
            return Ok(false);
        };
        let Some(facts) = self.session_facts(sid, rows).await? else {
            return Ok(false);
        };
        let metrics = summary::metrics(&facts);
        let text = summary::text(&facts, &metrics);
        // A new version (pushed again) only for a session of this machine's whose summary
        // changed: a pulled one's version is its machine's.
        self.run(
            "UPDATE session_summaries SET
                 prompts = :prompts, tasks = :tasks, edits = :edits,
                 files_touched = :files_touched, lines_added = :lines_added,
                 lines_removed = :lines_removed, summary = :summary, metrics = :metrics,
                 summarised_rows = :rows,
                 version = version + (origin IS NULL
                                      AND (summary IS NOT :summary OR metrics IS NOT :metrics))
             WHERE session_id = :session",
            named_params! {
                ":session": sid,
                ":prompts": metrics.prompts as i64,
                ":tasks": metrics.subagent_launches.values().sum::<u64>() as i64,
                ":edits": metrics.edits as i64,
                ":files_touched": metrics.files_touched as i64,
                ":lines_added": metrics.lines_added as i64,
                ":lines_removed": metrics.lines_removed as i64,
                ":summary": text,
                ":metrics": serde_json::to_string(&metrics).expect("plain struct"),
                ":rows": rows,
            },
        )
        .await?;
        Ok(summarised != rows)
    }

    /// A row stored late (drained from the spool) in a session that has ended: its summary
    /// and its files' facts are brought up to date as its end would have.
    pub async fn catch_up(&self, sid: &str, now: &Time) -> Result<()> {
        let ended = self
            .exists(
                "SELECT 1 FROM session_summaries
                 WHERE session_id = :session AND ended_at IS NOT NULL",
                named_params! {":session": sid},
            )
            .await?;
        if !ended {
            return Ok(());
        }
        let tx = self.begin().await?;
        self.resummarise(sid, now).await?;
        self.commit(tx).await
    }

    /// Summarises again those of `sids` that gained rows since their summary (events after
    /// the last Stop, a session that never stopped): what a person reads is never stale.
    pub async fn refresh_stale(&self, sids: &[String]) -> Result<usize> {
        let mut refreshed = 0;
        for sid in sids {
            let stale = self
                .value(
                    &format!(
                        "SELECT summarised_rows <> {ROWS_OF} AS stale FROM session_summaries
                         WHERE session_id = :session"
                    ),
                    named_params! {":session": sid.as_str()},
                    "stale",
                )
                .await?;
            if stale == Some(true) {
                self.refresh_summary(sid).await?;
                refreshed += 1;
            }
        }
        Ok(refreshed)
    }

    /// What the summary is computed from: the session's row (how it started and ended) and
    /// every row of it here, whichever machine recorded them (`rows` of them), so that every
    /// machine holding them shows the same summary. `None` for a session without a row, or
    /// pulled without any of its rows here (they went with retention, or are yet to come):
    /// it keeps the summary its machine made.
    async fn session_facts(&self, sid: &str, rows: i64) -> Result<Option<Facts>> {
        let ending: Vec<Ending> = self
            .typed(
                "SELECT started_at, ended_at, end_reason, last_message, transcript, origin,
                        metrics
                 FROM session_summaries WHERE session_id = :session",
                named_params! {":session": sid},
            )
            .await?;
        let Some(ending) = ending.into_iter().next() else {
            return Ok(None);
        };
        if ending.origin.is_some() && rows == 0 {
            return Ok(None);
        }
        // The tokens are read from a transcript, on the machine that recorded the session:
        // elsewhere, as its summary said them.
        let usage: Option<Usage> = match &ending.origin {
            None => ending
                .transcript
                .and_then(|j| serde_json::from_str(&j).ok()),
            Some(_) => ending
                .metrics
                .and_then(|j| serde_json::from_str::<summary::Metrics>(&j).ok())
                .and_then(|m| m.usage),
        };
        let tasks: Vec<TaskCount> = self
            .typed(
                "SELECT source_event, count(*) AS n FROM task_log
                 WHERE session_id = :session GROUP BY 1 ORDER BY 1",
                named_params! {":session": sid},
            )
            .await?;
        let launches: Vec<Launch> = self
            .typed(
                "SELECT task_id AS tool_use_id, subagent_type FROM task_log
                 WHERE session_id = :session AND source_event = 'PreToolUse' ORDER BY id",
                named_params! {":session": sid},
            )
            .await?;
        let first_prompt = self
            .value(
                "SELECT task FROM task_log
                 WHERE session_id = :session AND source_event = 'UserPromptSubmit'
                 ORDER BY id LIMIT 1",
                named_params! {":session": sid},
                "task",
            )
            .await?;
        // total(), not sum(), wherever counts add up: sum() fails on overflow and rows pulled
        // from the team server hold what another machine sent; the cast saturates.
        let edits: Vec<EditGroup> = self
            .typed(
                "SELECT coalesce(rel_path, file) AS file, tool, kind, count(*) AS n,
                        CAST(total(lines_added) AS INTEGER) AS added,
                        CAST(total(lines_removed) AS INTEGER) AS removed
                 FROM edit_history WHERE session_id = :session GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                named_params! {":session": sid},
            )
            .await?;
        let agent_edits: Vec<AgentEdits> = self
            .typed(
                "SELECT agent_id, max(agent_type) AS agent_type, count(*) AS n FROM edit_history
                 WHERE session_id = :session AND agent_id IS NOT NULL GROUP BY 1 ORDER BY 1",
                named_params! {":session": sid},
            )
            .await?;
        let swarm: Vec<Swarm> = self
            .typed(
                "SELECT event AS kind, agent_id, agent_type, tool_use_id, status, duration_ms,
                        tokens
                 FROM swarm_coordination WHERE session_id = :session ORDER BY id",
                named_params! {":session": sid},
            )
            .await?;
        Ok(Some(Facts {
            session_id: sid.to_owned(),
            ended_at: ending.ended_at.unwrap_or_default(),
            started_at: ending.started_at,
            end_reason: ending.end_reason,
            last_message: ending.last_message,
            usage,
            first_prompt,
            tasks,
            launches,
            edits,
            agent_edits,
            swarm,
        }))
    }
}
