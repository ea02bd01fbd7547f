//! Which coding agent ran a session (migration 0011): set once, by the session's first event
//! that reaches this point, inside that event's write transaction.

use super::{Result, Store};
use crate::event::Context;
use libsql::named_params;

impl Store {
    /// Records `ctx.agent` as its session's agent unless one is recorded already: a session
    /// is one agent's. Claude Code is what a payload without any other agent's mark is taken
    /// for (a Codex `SessionStart` has no `turn_id`): another agent's event overrides it.
    pub async fn record_agent(&self, ctx: &Context) -> Result<()> {
        self.run(
            "UPDATE session_summaries SET agent = :agent
             WHERE session_id = :session
               AND (agent IS NULL OR (agent = :claude AND :agent <> :claude))",
            named_params! {
                ":agent": ctx.agent.as_str(),
                ":session": ctx.session_id.as_str(),
                ":claude": crate::event::Agent::ClaudeCode.as_str(),
            },
        )
        .await?;
        Ok(())
    }
}
