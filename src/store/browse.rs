//! What `flowhook ui` reads (feature `ui`): projects, activity per day, the files most worked
//! on, machines, filtered and sorted pages of sessions, full-text search, and the two
//! deletions `--allow-edit` permits. Named parameters, rows read by column name.
//!
//! Every list has a LIMIT: a page must stay fast at 100k edit rows (benches/hook.rs `ui`).

use super::{Result, SessionRow, Store};
use libsql::named_params;
use serde::{Deserialize, Serialize};

/// One project in the picker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProjectRow {
    pub project: String,
    pub sessions: i64,
    pub edits: i64,
    pub last_at: String,
}

/// Sessions and edits begun on one day (UTC).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DayRow {
    pub day: String,
    pub sessions: i64,
    pub edits: i64,
}

/// A file and how much it was worked on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileRow {
    pub file: String,
    pub sessions: i64,
    pub edits: i64,
    pub lines_added: i64,
    pub lines_removed: i64,
    pub last_at: String,
}

/// A machine that recorded sessions: `origin` is `None` for this one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MachineRow {
    pub origin: Option<String>,
    pub label: Option<String>,
    pub sessions: i64,
    pub edits: i64,
    pub last_at: String,
}

/// What the file's knowledge says: its totals and the files changed with it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileFacts {
    pub sessions: i64,
    pub edits: i64,
    pub lines_added: i64,
    pub lines_removed: i64,
    pub last_edited_at: String,
    /// JSON `[[file, sessions together], ...]`, most first.
    pub co_edited: String,
}

/// A prompt or an edit that matched a search.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hit {
    pub session_id: String,
    pub project: String,
    pub created_at: String,
    /// The prompt's text, or the edited file (project-relative when inside it).
    pub text: String,
    /// `prompt` or `edit`.
    pub kind: String,
}

/// One edit's diff, in the order of the session's timeline.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EditDiff {
    pub diff: String,
    pub diff_truncated: i64,
}

/// An item recall handed to a session, and how many times.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Given {
    pub item: String,
    pub given_at: String,
    pub times: i64,
}

/// The columns the sessions page sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SortBy {
    #[default]
    StartedAt,
    EndedAt,
    Project,
    Machine,
    Prompts,
    Subagents,
    Edits,
    FilesTouched,
    LinesAdded,
    LinesRemoved,
}

impl SortBy {
    /// The column it names: SQL from this closed list only, never from the request.
    fn column(self) -> &'static str {
        match self {
            SortBy::StartedAt => "started_at",
            SortBy::EndedAt => "ended_at",
            SortBy::Project => "project",
            SortBy::Machine => "machine",
            SortBy::Prompts => "prompts",
            SortBy::Subagents => "subagents",
            SortBy::Edits => "edits",
            SortBy::FilesTouched => "files_touched",
            SortBy::LinesAdded => "lines_added",
            SortBy::LinesRemoved => "lines_removed",
        }
    }
}

/// Which sessions a page lists. `machine` is a machine's id, or `""` for this one.
#[derive(Debug, Clone, Default)]
pub struct SessionFilter<'a> {
    pub project: Option<&'a str>,
    pub machine: Option<&'a str>,
    /// Started at or after (a stored time's prefix, `2026-11-01`).
    pub from: Option<&'a str>,
    /// Started before.
    pub to: Option<&'a str>,
    /// Words that one of the session's prompts holds (the full-text index).
    pub text: Option<&'a str>,
}

const FILTER: &str = "(:project IS NULL OR project = :project)
     AND (:machine IS NULL OR coalesce(origin, '') = :machine)
     AND (:from IS NULL OR started_at >= :from)
     AND (:to IS NULL OR started_at < :to)
     AND (:text IS NULL OR session_id IN (SELECT t.session_id FROM task_fts f
          JOIN task_log t ON t.rowid = f.rowid WHERE task_fts MATCH :text))";

/// `words` as an FTS5 query every one of whose words must match, each quoted: what a
/// person types is never FTS5 syntax (`NEAR`, `*`, `:` and quotes are plain text).
pub fn fts_words(words: &str) -> Option<String> {
    let quoted: Vec<String> = words
        .split_whitespace()
        .take(16)
        .map(|w| format!("\"{}\"", w.replace('"', "\"\"")))
        .collect();
    (!quoted.is_empty()).then(|| quoted.join(" "))
}

impl Store {
    /// Every project with sessions, the most recently active first.
    pub async fn projects(&self, limit: u32) -> Result<Vec<ProjectRow>> {
        self.typed(
            "SELECT project, count(*) AS sessions, coalesce(sum(edits), 0) AS edits,
                 max(started_at) AS last_at
             FROM session_summaries GROUP BY project ORDER BY last_at DESC LIMIT :limit",
            named_params! {":limit": limit},
        )
        .await
    }

    /// Sessions and edits per day, the latest `days` days that had any, newest first.
    pub async fn activity(&self, project: Option<&str>, days: u32) -> Result<Vec<DayRow>> {
        self.typed(
            "SELECT substr(started_at, 1, 10) AS day, count(*) AS sessions,
                 coalesce(sum(edits), 0) AS edits
             FROM session_summaries WHERE (:project IS NULL OR project = :project)
             GROUP BY day ORDER BY day DESC LIMIT :days",
            named_params! {":project": project, ":days": days},
        )
        .await
    }

    /// The files most edited in a project (as of each session's last session-end).
    pub async fn top_files(&self, project: &str, limit: u32) -> Result<Vec<FileRow>> {
        self.typed(
            "SELECT file, count(*) AS sessions, sum(edits) AS edits,
                 sum(lines_added) AS lines_added, sum(lines_removed) AS lines_removed,
                 max(last_at) AS last_at
             FROM file_sessions WHERE project = :project
             GROUP BY file ORDER BY edits DESC, file LIMIT :limit",
            named_params! {":project": project, ":limit": limit},
        )
        .await
    }

    /// The machines that recorded sessions (of one project, when given), the most recently
    /// active first: this one, and those whose rows were pulled from the team server.
    pub async fn machines_active(&self, project: Option<&str>) -> Result<Vec<MachineRow>> {
        self.typed(
            "SELECT s.origin AS origin, max(m.label) AS label, count(*) AS sessions,
                 coalesce(sum(s.edits), 0) AS edits,
                 max(coalesce(s.ended_at, s.started_at)) AS last_at
             FROM session_summaries s LEFT JOIN machines m ON m.id = s.origin
             WHERE (:project IS NULL OR s.project = :project)
             GROUP BY s.origin ORDER BY last_at DESC LIMIT 200",
            named_params! {":project": project},
        )
        .await
    }

    /// One page of the sessions `filter` selects, sorted, and how many it selects in all.
    pub async fn sessions_page(
        &self,
        filter: &SessionFilter<'_>,
        sort: SortBy,
        descending: bool,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<SessionRow>, i64)> {
        let text = filter.text.and_then(fts_words);
        let dir = if descending { "DESC" } else { "ASC" };
        let rows = self
            .typed(
                &format!(
                    "SELECT * FROM ({} WHERE {FILTER})
                     ORDER BY {} {dir} NULLS LAST, session_id LIMIT :limit OFFSET :offset",
                    super::read::SESSION_ROW,
                    sort.column()
                ),
                named_params! {
                    ":project": filter.project, ":machine": filter.machine,
                    ":from": filter.from, ":to": filter.to, ":text": text.as_deref(),
                    ":limit": limit, ":offset": offset as i64,
                },
            )
            .await?;
        #[derive(Deserialize)]
        struct Count {
            n: i64,
        }
        let total: Vec<Count> = self
            .typed(
                &format!("SELECT count(*) AS n FROM session_summaries WHERE {FILTER}"),
                named_params! {
                    ":project": filter.project, ":machine": filter.machine,
                    ":from": filter.from, ":to": filter.to, ":text": text.as_deref(),
                },
            )
            .await?;
        Ok((rows, total.first().map_or(0, |c| c.n)))
    }

    /// The diffs of a session's edits in timeline order (by id), from the `from`-th (0: the
    /// first), at most `limit`.
    pub async fn session_diffs(&self, sid: &str, from: usize, limit: u32) -> Result<Vec<EditDiff>> {
        self.typed(
            "SELECT diff, diff_truncated FROM edit_history WHERE session_id = :sid
             ORDER BY id LIMIT :limit OFFSET :from",
            named_params! {":sid": sid, ":limit": limit, ":from": from as i64},
        )
        .await
    }

    /// What recall handed to a session, in the order it was first given.
    pub async fn given_to(&self, sid: &str) -> Result<Vec<Given>> {
        self.typed(
            "SELECT item, given_at, times FROM recall_log WHERE session_id = :sid
             ORDER BY given_at, item LIMIT 500",
            named_params! {":sid": sid},
        )
        .await
    }

    /// A file's totals and the files usually changed with it, once a session-end folded it.
    pub async fn file_facts(&self, project: &str, file: &str) -> Result<Option<FileFacts>> {
        let rows: Vec<FileFacts> = self
            .typed(
                "SELECT sessions, edits, lines_added, lines_removed, last_edited_at, co_edited
                 FROM knowledge_base WHERE project = :project AND file = :file",
                named_params! {":project": project, ":file": file},
            )
            .await?;
        Ok(rows.into_iter().next())
    }

    /// Prompts and edited files that hold every word of `words`, best first.
    pub async fn search(&self, words: &str, project: Option<&str>, limit: u32) -> Result<Vec<Hit>> {
        let Some(query) = fts_words(words) else {
            return Ok(Vec::new());
        };
        let mut hits: Vec<Hit> = self
            .typed(
                "SELECT t.session_id, t.project, t.created_at, t.task AS text, 'prompt' AS kind
                 FROM task_fts f JOIN task_log t ON t.rowid = f.rowid
                 WHERE task_fts MATCH :q AND (:project IS NULL OR t.project = :project)
                 ORDER BY f.rank LIMIT :limit",
                named_params! {":q": query.as_str(), ":project": project, ":limit": limit},
            )
            .await?;
        // A file edited in many sessions is one hit per session (its latest edit there).
        hits.extend(
            self.typed::<Hit>(
                "SELECT e.session_id, e.project, max(e.created_at) AS created_at,
                     coalesce(e.rel_path, e.file) AS text, 'edit' AS kind
                 FROM edit_fts f JOIN edit_history e ON e.rowid = f.rowid
                 WHERE edit_fts MATCH :q AND (:project IS NULL OR e.project = :project)
                 GROUP BY e.session_id, text ORDER BY min(f.rank) LIMIT :limit",
                named_params! {":q": query.as_str(), ":project": project, ":limit": limit},
            )
            .await?,
        );
        Ok(hits)
    }

    /// Deletes one session and everything recorded in it (`flowhook ui --allow-edit`); whether
    /// it existed. Facts about files no remaining session touched go too, as in `prune`.
    pub async fn delete_session(&self, sid: &str) -> Result<bool> {
        let tx = self.begin().await?;
        let mut found = 0;
        for table in [
            "task_log",
            "edit_history",
            "swarm_coordination",
            "recall_log",
            "file_sessions",
            "session_summaries",
        ] {
            found = self
                .run(
                    &format!("DELETE FROM {table} WHERE session_id = :sid"),
                    named_params! {":sid": sid},
                )
                .await?;
        }
        self.run(
            "DELETE FROM knowledge_base WHERE NOT EXISTS (SELECT 1 FROM file_sessions f
                 WHERE f.project = knowledge_base.project AND f.file = knowledge_base.file)",
            (),
        )
        .await?;
        self.commit(tx).await?;
        Ok(found > 0)
    }
}
