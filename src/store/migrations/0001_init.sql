-- 0001: the core tables.
--
-- Row ids are UUIDv7 text (time-ordered, globally unique) so that databases from several
-- machines can later be merged without renumbering. Every table that receives hook events has
-- a natural key, UNIQUE per session, so that a payload delivered twice (a plugin copy and a
-- settings copy of the same hook) is stored once: tool_use_id or prompt_id when Claude Code
-- gives one, else a hash of the event's content. Times are RFC 3339 UTC text with milliseconds,
-- which sort as text and which SQLite's date functions read.

-- pre-task: user prompts, subagent launches (Agent / legacy Task), claude-flow pre-task.
CREATE TABLE task_log (
    id             TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL,
    task_key       TEXT NOT NULL,
    task_id        TEXT,              -- tool_use_id, prompt_id or --task-id, when given
    source_event   TEXT NOT NULL,     -- UserPromptSubmit, PreToolUse, cli:pre-task
    agent_id       TEXT,              -- set when a subagent issued it
    agent_type     TEXT,
    subagent_type  TEXT,              -- the launched subagent's type (Agent tool)
    task           TEXT NOT NULL,     -- bounded by limits.task_chars
    project        TEXT NOT NULL,
    cwd            TEXT,
    created_at     TEXT NOT NULL,
    UNIQUE (session_id, task_key)
) STRICT;
CREATE INDEX task_log_project_time ON task_log (project, created_at);

-- post-edit: one row per Write / Edit / MultiEdit / NotebookEdit. Never whole files.
CREATE TABLE edit_history (
    id             TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL,
    edit_key       TEXT NOT NULL,
    tool_use_id    TEXT,
    agent_id       TEXT,
    agent_type     TEXT,
    file           TEXT NOT NULL,     -- absolute, as the tool named it
    rel_path       TEXT,              -- relative to the project, when inside it
    tool           TEXT NOT NULL,     -- Write, Edit, MultiEdit, NotebookEdit, cli
    kind           TEXT NOT NULL,     -- create, update, edit
    lines_added    INTEGER NOT NULL,
    lines_removed  INTEGER NOT NULL,
    diff           TEXT NOT NULL,     -- unified hunks, bounded by limits.diff_bytes
    diff_truncated INTEGER NOT NULL,
    content_hash   TEXT NOT NULL,     -- Write: of the content; others: of the change
    duration_ms    INTEGER,
    project        TEXT NOT NULL,
    cwd            TEXT,
    created_at     TEXT NOT NULL,
    UNIQUE (session_id, edit_key)
) STRICT;
CREATE INDEX edit_history_project_time ON edit_history (project, created_at);

-- One row per Claude Code session_id, opened by its first event and brought up to date by
-- every session-end (SessionEnd, Stop, PreCompact): counts are recomputed from the rows above,
-- so a resumed session that ends twice still has one exact row.
CREATE TABLE session_summaries (
    session_id      TEXT PRIMARY KEY,
    project         TEXT NOT NULL,
    cwd             TEXT,
    transcript_path TEXT,
    start_source    TEXT,             -- SessionStart source of the first start seen
    model           TEXT,             -- as SessionStart reported it, when it did
    started_at      TEXT NOT NULL,    -- first event seen
    ended_at        TEXT,             -- last session-end seen
    end_reason      TEXT,             -- reason of the last SessionEnd (NULL: none yet)
    last_event      TEXT,             -- SessionEnd, Stop, PreCompact, cli:session-end
    prompts         INTEGER NOT NULL DEFAULT 0,
    tasks           INTEGER NOT NULL DEFAULT 0,   -- subagent launches
    edits           INTEGER NOT NULL DEFAULT 0,
    files_touched   INTEGER NOT NULL DEFAULT 0,
    lines_added     INTEGER NOT NULL DEFAULT 0,
    lines_removed   INTEGER NOT NULL DEFAULT 0,
    updated_at      TEXT NOT NULL
) STRICT;
CREATE INDEX session_summaries_project_time ON session_summaries (project, started_at);

-- Subagents: launches, starts, stops and results, linked by agent_id / task id.
CREATE TABLE swarm_coordination (
    id          TEXT PRIMARY KEY,
    session_id  TEXT NOT NULL,
    event_key   TEXT NOT NULL,
    event       TEXT NOT NULL,        -- result (a <task-notification>), ...
    agent_id    TEXT,
    agent_type  TEXT,
    task_id     TEXT,
    status      TEXT,
    detail      TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (session_id, event_key)
) STRICT;

-- Payloads that could not be understood, kept (bounded) with the reason instead of dropped.
CREATE TABLE rejected_events (
    id            TEXT PRIMARY KEY,
    received_at   TEXT NOT NULL,
    reason        TEXT NOT NULL,
    args          TEXT NOT NULL,      -- the command line, as a JSON array
    payload       TEXT NOT NULL,      -- the raw bytes, lossy UTF-8, bounded
    payload_bytes INTEGER NOT NULL,   -- the size that arrived
    truncated     INTEGER NOT NULL
) STRICT;
