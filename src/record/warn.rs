//! The warning before an edit: a PreToolUse of Write, Edit, MultiEdit or NotebookEdit is
//! answered with context (never a block: hook contract §3, PreToolUse context reaches the
//! model beside the tool's result) when another machine of the team edited that file in the
//! last `WARN_MINUTES`. Nothing is recorded for it. In local mode, and without the `team`
//! feature, it opens nothing; in sync mode it costs one indexed read when nobody else edited
//! the file, and prints nothing.

use super::Recorder;
use super::understand::BeforeEdit;
use crate::answer::Answer;
use crate::config::Mode;
use crate::now::{TASK_MINUTES, WARN_MINUTES, before_edit};
use chrono::{DateTime, TimeDelta, Utc};

impl Recorder {
    /// Hands `on_answer` the warning about `b`'s file, when there is one. Failures are only
    /// logged: the edit goes on either way.
    pub(super) async fn warn_before_edit(
        &mut self,
        b: &BeforeEdit,
        at: DateTime<Utc>,
        on_answer: &mut dyn FnMut(&Answer) -> bool,
    ) {
        let to = b.to.clone();
        if !cfg!(feature = "team") || to.config().database.mode != Mode::Sync || !to.db.exists() {
            return;
        }
        // As the edit would be recorded: relative to the project when inside it.
        let file = crate::paths::relative_to(&b.file, &to.project.base).unwrap_or(b.file.clone());
        let project = to.project.id.clone();
        let since = |minutes| crate::time::Time::at(at - TimeDelta::minutes(minutes));
        let found = async {
            let store = self.store(&to).await?;
            let Some(edit) = store
                .team_edit_of(&project, &file, &since(WARN_MINUTES))
                .await?
            else {
                return Ok(None);
            };
            let tasks = store.team_tasks(&project, &since(TASK_MINUTES), 20).await?;
            let task = tasks.into_iter().find(|t| t.session_id == edit.session_id);
            Ok::<_, crate::store::StoreError>(Some(before_edit(&edit, task.as_ref(), at)))
        };
        match found.await {
            Ok(Some(text)) => {
                on_answer(&Answer::context("PreToolUse", text, None));
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("the warning before an edit is skipped: {e}"),
        }
    }
}
