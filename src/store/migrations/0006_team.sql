-- 0006: team memory. Rows pulled from a team server keep the machine that recorded them;
-- rows recorded here have none, and only those are pushed.
ALTER TABLE task_log ADD COLUMN origin TEXT;
ALTER TABLE edit_history ADD COLUMN origin TEXT;
ALTER TABLE swarm_coordination ADD COLUMN origin TEXT;
ALTER TABLE session_summaries ADD COLUMN origin TEXT;

-- A session's summary changes after it was pushed (a resumed session ends again): `version`
-- counts its writes, `pushed_version` is the one the server has. Only the machine that
-- recorded a session pushes it, so a higher version is a newer summary, whatever the clocks.
ALTER TABLE session_summaries ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE session_summaries ADD COLUMN pushed_version INTEGER NOT NULL DEFAULT 0;

-- The machines whose rows were pulled: what `sessions` and `show` call them.
CREATE TABLE machines (
    id    TEXT PRIMARY KEY,
    label TEXT NOT NULL,          -- user@host, or sync.label
    seen_at TEXT NOT NULL
) STRICT;

-- Sync's own state: this machine's id, how far each table was pushed (the largest local rowid
-- sent) and pulled (the server's sequence), the last push, pull and error. Written in the same
-- transaction as the rows it describes.
CREATE TABLE sync_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
