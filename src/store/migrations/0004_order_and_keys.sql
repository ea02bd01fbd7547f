-- 0004: order by time, not by insertion; rows without an id of their own; derived state per
-- row instead of watermarks.
--
-- Row ids are UUIDv7 made from the event's own time (a spooled event keeps the time it
-- arrived), so `ORDER BY id` is the order things happened, also for rows stored late: the
-- latest prompt before an edit is found by id.
DROP INDEX task_log_session;
CREATE INDEX task_log_session_id ON task_log (session_id, id);
-- "fix README.md" on a history that edited README.md in hundreds of sessions: the newest
-- edits of a basename come straight off the index.
DROP INDEX edit_history_project_basename;
CREATE INDEX edit_history_project_basename ON edit_history (project, basename, created_at);

-- A quarantined payload's key (a hash of its bytes): the same payload stored twice within
-- moments (two processes draining one spool, a hook installed twice) is kept once.
ALTER TABLE rejected_events ADD COLUMN payload_key TEXT;
CREATE INDEX rejected_events_key ON rejected_events (payload_key, received_at);

-- Which file_sessions rows changed since knowledge_base was last folded from them: derived
-- state per row, so that rows arriving late (drained from the spool, pulled from another
-- machine) are folded too. It replaces the per-session rowid watermark.
ALTER TABLE file_sessions ADD COLUMN dirty INTEGER NOT NULL DEFAULT 0;
CREATE INDEX file_sessions_dirty ON file_sessions (session_id) WHERE dirty = 1;
ALTER TABLE session_summaries DROP COLUMN knowledge_rowid;

-- The project's root on this machine when the session began: an event of the session that
-- names no directory (an older client, a claude-flow flag call) is the session's, and its
-- paths are relative to that root.
ALTER TABLE session_summaries ADD COLUMN root TEXT;

-- recall_log becomes a complete record of what recall handed out: how many times each item
-- was given to a session (knowledge_base.usage_count is derived from it), and a compaction
-- no longer deletes rows: items given before a session's `recall_since` may be given again.
ALTER TABLE recall_log ADD COLUMN times INTEGER NOT NULL DEFAULT 1;
ALTER TABLE session_summaries ADD COLUMN recall_since TEXT;

-- How many rows of the session (tasks, edits, subagent events) its summary was computed
-- from: a session whose rows outnumber it (events after its last Stop, or a session that
-- never stopped) is summarised again when it is read.
ALTER TABLE session_summaries ADD COLUMN summarised_rows INTEGER NOT NULL DEFAULT 0;
