-- What agents store on purpose (MCP `remember`, `flowhook memory set`): one value per
-- namespace, key and agent, with an optional expiry. `agent_id` is the subagent's id, else
-- 'system'. Values are redacted before they get here.
CREATE TABLE agent_memory (
    id          TEXT PRIMARY KEY,
    project     TEXT NOT NULL,
    namespace   TEXT NOT NULL DEFAULT 'default',
    key         TEXT NOT NULL,
    agent_id    TEXT NOT NULL DEFAULT 'system',
    value       TEXT NOT NULL,
    session_id  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    expires_at  TEXT,
    UNIQUE (project, namespace, key, agent_id)
);
CREATE INDEX agent_memory_expiry ON agent_memory (expires_at) WHERE expires_at IS NOT NULL;
