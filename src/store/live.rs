//! The team's present: other machines' rows (pulled: `origin` set) of one project in a recent
//! window, for the pre-task "now" part (now.rs) and the warning before an edit. Reads
//! only, each a range of the `(project, created_at)` indexes or of a session's key, and only
//! in a database a pull wrote to (`Presence::pulled`).
//!
//! Times are the recording machine's: a teammate's clock that is off moves its rows in or out
//! of the window by as much.

use super::{Result, Store};
use crate::time::Time;
use libsql::named_params;
use serde::Deserialize;

/// A teammate's edit: who (the machine's label as the server gave it, else its id), in which
/// session, which file (relative to the project when it was inside it), when.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TeamEdit {
    pub who: String,
    pub session_id: String,
    pub file: String,
    pub created_at: String,
}

/// A teammate session's latest prompt (of the main agent, not a subagent's task).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct TeamTask {
    pub who: String,
    pub session_id: String,
    pub task: String,
    pub created_at: String,
}

/// Other machines' edits of `:project` since `:since`.
const TEAM_EDITS: &str = "SELECT coalesce(m.label, e.origin) AS who, e.session_id AS session_id,
            coalesce(e.rel_path, e.file) AS file, e.created_at AS created_at
     FROM edit_history AS e LEFT JOIN machines AS m ON m.id = e.origin
     WHERE e.project = :project AND e.created_at >= :since AND e.origin IS NOT NULL";

impl Store {
    /// Other machines' edits of `project` since `since`, newest first, at most `limit`.
    pub async fn team_edits(
        &self,
        project: &str,
        since: &Time,
        limit: u32,
    ) -> Result<Vec<TeamEdit>> {
        self.typed(
            &format!("{TEAM_EDITS} ORDER BY e.created_at DESC LIMIT :limit"),
            named_params! {":project": project, ":since": since, ":limit": limit},
        )
        .await
    }

    /// Other machines' sessions of `project` that gave a prompt since `since`: the latest
    /// prompt of each, newest first, at most `limit`.
    pub async fn team_tasks(
        &self,
        project: &str,
        since: &Time,
        limit: u32,
    ) -> Result<Vec<TeamTask>> {
        // SQLite takes the bare columns from the row of max(created_at).
        self.typed(
            "SELECT coalesce(m.label, t.origin) AS who, t.session_id AS session_id,
                    t.task AS task, max(t.created_at) AS created_at
             FROM task_log AS t LEFT JOIN machines AS m ON m.id = t.origin
             WHERE t.project = :project AND t.created_at >= :since AND t.origin IS NOT NULL
               AND t.agent_id IS NULL
             GROUP BY t.session_id ORDER BY created_at DESC LIMIT :limit",
            named_params! {":project": project, ":since": since, ":limit": limit},
        )
        .await
    }

    /// The files a session edited (relative to its project when inside it).
    pub async fn session_files(&self, session_id: &str) -> Result<Vec<String>> {
        #[derive(Deserialize)]
        struct File {
            file: String,
        }
        let files: Vec<File> = self
            .typed(
                "SELECT DISTINCT coalesce(rel_path, file) AS file FROM edit_history
                 WHERE session_id = :session",
                named_params! {":session": session_id},
            )
            .await?;
        Ok(files.into_iter().map(|f| f.file).collect())
    }

    /// Another machine's latest edit of `file` (as recorded: relative to the project, or
    /// absolute) in `project` since `since`.
    pub async fn team_edit_of(
        &self,
        project: &str,
        file: &str,
        since: &Time,
    ) -> Result<Option<TeamEdit>> {
        let mut found: Vec<TeamEdit> = self
            .typed(
                &format!(
                    "{TEAM_EDITS} AND coalesce(e.rel_path, e.file) = :file
                     ORDER BY e.created_at DESC LIMIT 1"
                ),
                named_params! {":project": project, ":since": since, ":file": file},
            )
            .await?;
        Ok(found.pop())
    }
}
