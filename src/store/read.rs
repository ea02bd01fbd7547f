//! What the debugging commands (and the MCP server) read: sessions and their timelines, as typed
//! rows. Reads summarise again the sessions that gained rows since their summary, so that a
//! session's counts and its timeline never disagree.

use super::{Result, Store};
use crate::summary::Metrics;
use libsql::named_params;
use serde::{Deserialize, Serialize};

/// One line of `flowhook sessions`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRow {
    pub session_id: String,
    pub project: String,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub end_reason: Option<String>,
    pub prompts: i64,
    pub subagents: i64,
    pub edits: i64,
    pub files_touched: i64,
    pub lines_added: i64,
    pub lines_removed: i64,
    /// The machine that recorded it (its label), when it was pulled from the team server;
    /// `None`: this one.
    pub machine: Option<String>,
    /// The coding agent that ran it (`codex`, ...; migration 0011); `None`: recorded before,
    /// or pulled from the team server.
    pub agent: Option<String>,
}

pub(super) const SESSION_ROW: &str = "SELECT session_id, project, started_at, ended_at, end_reason,
     prompts, tasks AS subagents, edits, files_touched, lines_added, lines_removed,
     (SELECT coalesce(max(m.label), session_summaries.origin) FROM machines m
      WHERE m.id = session_summaries.origin) AS machine, agent
     FROM session_summaries";

/// Everything `flowhook show` draws.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub session: SessionRow,
    pub summary: Option<String>,
    pub metrics: Option<Metrics>,
    /// Tasks, edits and subagent events in the order they happened.
    pub events: Vec<TimelineEvent>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimelineEvent {
    pub at: String,
    /// prompt, launch, cli-task, edit, start, stop, result
    pub kind: String,
    /// The subagent it happened in (or that it concerns), if any.
    pub agent_id: Option<String>,
    pub agent_type: Option<String>,
    /// The Agent tool call it belongs to (launches and results).
    pub tool_use_id: Option<String>,
    /// Edits: the tool that made it, and `create` / `update` for a Write.
    pub tool: Option<String>,
    pub text: String,
    pub lines_added: Option<i64>,
    pub lines_removed: Option<i64>,
}

#[derive(Deserialize)]
struct Written {
    summary: Option<String>,
    metrics: Option<String>,
}

impl Store {
    /// Sessions, newest first, at most `limit`, and how many there are in all.
    pub async fn sessions(
        &self,
        project: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<SessionRow>, u64)> {
        let (filter, count) = match project {
            Some(_) => (
                "WHERE project = :project ORDER BY started_at DESC, session_id LIMIT :limit",
                "SELECT count(*) AS n FROM session_summaries WHERE project = :project",
            ),
            None => (
                "WHERE :project IS NULL ORDER BY started_at DESC, session_id LIMIT :limit",
                "SELECT count(*) AS n FROM session_summaries WHERE :project IS NULL",
            ),
        };
        let values = || named_params! {":project": project, ":limit": limit};
        let ids: Vec<String> = self
            .column(
                &format!("SELECT session_id FROM session_summaries {filter}"),
                values(),
                "session_id",
            )
            .await?;
        self.refresh_stale(&ids).await?;
        let rows = self
            .typed(&format!("{SESSION_ROW} {filter}"), values())
            .await?;
        let total: Option<u64> = self
            .value(count, named_params! {":project": project}, "n")
            .await?;
        Ok((rows, total.unwrap_or(0)))
    }

    /// The session ids that start with `prefix` (at most a few), of one project when given.
    pub async fn sessions_matching(
        &self,
        prefix: &str,
        project: Option<&str>,
    ) -> Result<Vec<String>> {
        // A range on the primary key: no LIKE, so `%` and `_` in the prefix are plain text.
        self.column(
            "SELECT session_id FROM session_summaries
             WHERE session_id >= :prefix AND session_id < :prefix || char(1114111)
               AND (:project IS NULL OR project = :project)
             ORDER BY session_id LIMIT 10",
            named_params! {":prefix": prefix, ":project": project},
            "session_id",
        )
        .await
    }

    /// A session's summary, metrics and every event, summarised again first if it gained
    /// rows since.
    pub async fn timeline(&self, sid: &str) -> Result<Option<Timeline>> {
        self.refresh_stale(&[sid.to_owned()]).await?;
        let Some(session) = self
            .typed::<SessionRow>(
                &format!("{SESSION_ROW} WHERE session_id = :session"),
                named_params! {":session": sid},
            )
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let written: Option<Written> = self
            .first(
                "SELECT summary, metrics FROM session_summaries WHERE session_id = :session",
                named_params! {":session": sid},
            )
            .await?;
        let events = self
            .typed(
                "SELECT at, kind, agent_id, agent_type, tool_use_id, tool, text, lines_added,
                        lines_removed FROM (
                     SELECT id, created_at AS at,
                            CASE source_event WHEN 'UserPromptSubmit' THEN 'prompt'
                                 WHEN 'PreToolUse' THEN 'launch' ELSE 'cli-task' END AS kind,
                            agent_id, coalesce(subagent_type, agent_type) AS agent_type,
                            task_id AS tool_use_id, NULL AS tool, task AS text,
                            NULL AS lines_added, NULL AS lines_removed
                     FROM task_log WHERE session_id = :session
                     UNION ALL
                     SELECT id, created_at, 'edit', agent_id, agent_type, tool_use_id,
                            tool || CASE kind WHEN 'edit' THEN '' ELSE ' ' || kind END,
                            coalesce(rel_path, file), lines_added, lines_removed
                     FROM edit_history WHERE session_id = :session
                     UNION ALL
                     SELECT id, created_at, event, agent_id, agent_type, tool_use_id, NULL,
                            trim(coalesce(status, '') || ' ' || coalesce(detail, '')), NULL, NULL
                     FROM swarm_coordination WHERE session_id = :session)
                 ORDER BY id",
                named_params! {":session": sid},
            )
            .await?;
        Ok(Some(Timeline {
            session,
            summary: written.as_ref().and_then(|w| w.summary.clone()),
            metrics: written
                .and_then(|w| w.metrics)
                .and_then(|j| serde_json::from_str(&j).ok()),
            events,
        }))
    }

    /// A session's summary as last computed, if it has one.
    pub async fn session_summary(&self, sid: &str) -> Result<Option<String>> {
        let summary: Option<Option<String>> = self
            .value(
                "SELECT summary FROM session_summaries WHERE session_id = :session",
                named_params! {":session": sid},
                "summary",
            )
            .await?;
        Ok(summary.flatten())
    }

    /// The project (and its root here) a known session belongs to: an event that names no
    /// directory of its own (older clients, claude-flow flag calls, a replay run from
    /// elsewhere) is that session's.
    pub async fn session_project(&self, sid: &str) -> Result<Option<(String, Option<String>)>> {
        #[derive(Deserialize)]
        struct Place {
            project: String,
            root: Option<String>,
        }
        let place: Option<Place> = self
            .first(
                "SELECT project, root FROM session_summaries WHERE session_id = :session",
                named_params! {":session": sid},
            )
            .await?;
        Ok(place.map(|p| (p.project, p.root)))
    }

    /// When a known session began (its earliest event stored).
    pub async fn session_started(&self, sid: &str) -> Result<Option<String>> {
        self.value(
            "SELECT started_at FROM session_summaries WHERE session_id = :session",
            named_params! {":session": sid},
            "started_at",
        )
        .await
    }

    /// The schema version and the rows of each recorded table, for doctor.
    pub async fn overview(&self) -> Result<(i64, Vec<(&'static str, i64)>)> {
        const TABLES: [&str; 6] = [
            "task_log",
            "edit_history",
            "session_summaries",
            "swarm_coordination",
            "knowledge_base",
            "rejected_events",
        ];
        let counts = TABLES
            .iter()
            .map(|t| format!("(SELECT count(*) FROM {t}) AS {t}"))
            .collect::<Vec<_>>()
            .join(", ");
        let row: Option<std::collections::HashMap<String, i64>> = self
            .first(
                &format!(
                    "SELECT (SELECT user_version FROM pragma_user_version) AS version, {counts}"
                ),
                (),
            )
            .await?;
        let row = row.unwrap_or_default();
        let of = |column: &str| row.get(column).copied().unwrap_or(0);
        Ok((of("version"), TABLES.iter().map(|t| (*t, of(t))).collect()))
    }

    /// The text of the project's latest prompt.
    #[cfg(feature = "mcp")]
    pub async fn latest_task(&self, project: &str) -> Result<Option<String>> {
        self.value(
            "SELECT task FROM task_log
             WHERE project = :project AND source_event = 'UserPromptSubmit'
             ORDER BY id DESC LIMIT 1",
            named_params! {":project": project},
            "task",
        )
        .await
    }
    /// Every change recorded to one file (by project-relative path, path or basename), newest
    /// first, with the task each belonged to.
    #[cfg(any(feature = "mcp", feature = "ui"))]
    pub async fn file_history(
        &self,
        project: Option<&str>,
        file: &str,
        limit: u32,
    ) -> Result<Vec<FileChange>> {
        let base = super::basename(file);
        self.typed(
            "SELECT e.created_at, e.session_id, e.project, coalesce(e.rel_path, e.file) AS file,
                 e.tool, e.kind, e.lines_added, e.lines_removed, e.diff, e.agent_type,
                 t.task, m.label AS machine
             FROM edit_history e
             LEFT JOIN task_log t ON t.id = e.task_ref
             LEFT JOIN machines m ON m.id = e.origin
             WHERE e.basename = :basename AND (:project IS NULL OR e.project = :project)
               AND (:file = e.basename OR e.rel_path = :file OR e.file = :file
                    OR substr(e.file, -length(:file) - 1) = '/' || :file)
             ORDER BY e.id DESC LIMIT :limit",
            named_params! {":basename": base, ":project": project, ":file": file, ":limit": limit},
        )
        .await
    }
}

/// One row of `file_history`.
#[cfg(any(feature = "mcp", feature = "ui"))]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileChange {
    pub created_at: String,
    pub session_id: String,
    pub project: String,
    pub file: String,
    pub tool: String,
    pub kind: String,
    pub lines_added: i64,
    pub lines_removed: i64,
    pub diff: Option<String>,
    pub agent_type: Option<String>,
    pub task: Option<String>,
    pub machine: Option<String>,
}
