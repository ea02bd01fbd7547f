//! Which coding agent ran a session (migration 0011): set once, by the session's first event
//! that reaches this point, inside that event's write transaction.

use super::{Result, Store};
use crate::event::{Agent, Context};
use libsql::named_params;
use std::collections::HashMap;

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

    /// The agent recorded for each of `sessions` that has one this build knows: a pulled
    /// session's is a teammate's word, and any other text is no agent.
    pub async fn agents_of(&self, sessions: &[&str]) -> Result<HashMap<String, Agent>> {
        #[derive(serde::Deserialize)]
        struct Row {
            session_id: String,
            agent: String,
        }
        if sessions.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<Row> = self
            .typed(
                "SELECT session_id, agent FROM session_summaries
                 WHERE session_id IN (SELECT value FROM json_each(:sessions))
                   AND agent IS NOT NULL",
                named_params! { ":sessions": serde_json::to_string(sessions).expect("strings") },
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| Some((r.session_id, Agent::parse(&r.agent)?)))
            .collect())
    }
}
