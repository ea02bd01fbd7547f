//! Which of recall's sources hold anything for a task, in one read, so that a pre-task
//! prepares no statement whose answer is known to be empty: a hook call has a few
//! milliseconds, and each statement costs its preparation whatever it finds.

use super::{Result, Store};
use libsql::named_params;
use serde::Deserialize;

/// Each flag is a superset of what its reader looks for: when it is false, so is the
/// reader's answer (empty), and the reader is skipped.
#[derive(Debug, Default, Deserialize)]
pub struct Presence {
    /// A pull stored rows here: only a pull writes teammates' rows, and it moves its cursor in
    /// `sync_state` in the same transaction. Without one (local mode, a machine that never
    /// synced) there is no "now" of the team to read.
    pub pulled: bool,
    /// The project has values stored on purpose (live or not).
    pub memory: bool,
    /// The session was handed something before (since its last compaction or not).
    pub given: bool,
}

/// Its plan is checked with recall's statements (`store::recall`'s tests).
pub(super) const PRESENCE: &str =
    "SELECT EXISTS (SELECT 1 FROM sync_state WHERE key GLOB '*/pull.*') AS pulled,
            EXISTS (SELECT 1 FROM agent_memory WHERE project = :project) AS memory,
            EXISTS (SELECT 1 FROM recall_log WHERE session_id = :session) AS given";

impl Store {
    /// What recall's sources hold for `session` (`""`: none) of `project`.
    pub async fn presence(&self, project: &str, session: &str) -> Result<Presence> {
        let found = self
            .first(
                PRESENCE,
                named_params! {":project": project, ":session": session},
            )
            .await?;
        Ok(found.unwrap_or_default())
    }
}
