-- 0003: session summaries with metrics, the swarm view, and per-file knowledge.

-- What session-end computes (see summary.rs): the deterministic text, the metrics JSON (its
-- schema: `flowhook schema metrics`), and how far the transcript has been read, so that each
-- Stop reads only what the last turn appended.
ALTER TABLE session_summaries ADD COLUMN summary TEXT;
ALTER TABLE session_summaries ADD COLUMN metrics TEXT;
ALTER TABLE session_summaries ADD COLUMN last_message TEXT;
ALTER TABLE session_summaries ADD COLUMN transcript TEXT;          -- JSON: offset and usage so far
ALTER TABLE session_summaries ADD COLUMN knowledge_rowid INTEGER NOT NULL DEFAULT 0;  -- edits folded into knowledge_base

-- Subagent results carry their launch's tool_use_id and their cost.
ALTER TABLE swarm_coordination ADD COLUMN tool_use_id TEXT;
ALTER TABLE swarm_coordination ADD COLUMN duration_ms INTEGER;
ALTER TABLE swarm_coordination ADD COLUMN tokens INTEGER;
ALTER TABLE swarm_coordination ADD COLUMN tool_count INTEGER;

CREATE INDEX session_summaries_time ON session_summaries (started_at);

-- Per file and session, what the session did to the file: the roll-up knowledge_base is
-- recomputed from, so that a session ending twice (resume) or every turn (Stop) is counted
-- once.
CREATE TABLE file_sessions (
    project        TEXT NOT NULL,
    file           TEXT NOT NULL,     -- rel_path when inside the project, else absolute
    session_id     TEXT NOT NULL,
    edits          INTEGER NOT NULL,
    lines_added    INTEGER NOT NULL,
    lines_removed  INTEGER NOT NULL,
    last_at        TEXT NOT NULL,
    PRIMARY KEY (project, file, session_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX file_sessions_session ON file_sessions (session_id);

-- Facts about each file that recall can hand out: how often and how recently it was edited,
-- what it is usually edited with, and the words of the tasks that touched it.
CREATE TABLE knowledge_base (
    id             TEXT PRIMARY KEY,
    project        TEXT NOT NULL,
    file           TEXT NOT NULL,
    basename       TEXT NOT NULL,     -- so that "fix auth.rs" finds src/auth.rs
    sessions       INTEGER NOT NULL,  -- sessions that edited it
    edits          INTEGER NOT NULL,
    lines_added    INTEGER NOT NULL,
    lines_removed  INTEGER NOT NULL,
    last_session   TEXT NOT NULL,
    last_edited_at TEXT NOT NULL,
    co_edited      TEXT NOT NULL,     -- JSON [[file, sessions together], ...], most first
    task_words     TEXT NOT NULL,     -- JSON [[word, count], ...], most first
    usage_count    INTEGER NOT NULL DEFAULT 0,  -- times recall handed this fact out
    confidence     REAL NOT NULL,     -- 1 - 0.5^sessions: a file seen once is a weak fact
    updated_at     TEXT NOT NULL,
    UNIQUE (project, file)
) STRICT;
CREATE INDEX knowledge_base_basename ON knowledge_base (project, basename);
