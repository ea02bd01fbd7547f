-- 0002: what recall needs.
--
-- task_ref groups a user's prompt with what followed it in the same session: the subagents it
-- launched and the edits made for it. It is the prompt_id when Claude Code gives one, else the
-- task_key of the session's latest prompt at the time the row was stored.
ALTER TABLE task_log ADD COLUMN task_ref TEXT;
ALTER TABLE edit_history ADD COLUMN task_ref TEXT;
-- The file's last path component, so that "fix auth.rs" finds src/auth.rs through an index.
ALTER TABLE edit_history ADD COLUMN basename TEXT;

CREATE INDEX task_log_session ON task_log (session_id);
CREATE INDEX task_log_session_ref ON task_log (session_id, task_ref);
CREATE INDEX edit_history_session_ref ON edit_history (session_id, task_ref);
CREATE INDEX edit_history_project_basename ON edit_history (project, basename);

-- Full-text indexes over the base tables (external content: the text is not stored twice),
-- kept in step by triggers, so a row and its index entry commit in the same transaction.
-- Porter stemming, applied to queries too: "refreshing the tokens" finds "refresh token".
CREATE VIRTUAL TABLE task_fts USING fts5 (
    task, content = 'task_log', content_rowid = 'rowid', tokenize = 'porter unicode61'
);
CREATE TRIGGER task_log_fts_insert AFTER INSERT ON task_log BEGIN
    INSERT INTO task_fts (rowid, task) VALUES (new.rowid, new.task);
END;
CREATE TRIGGER task_log_fts_delete AFTER DELETE ON task_log BEGIN
    INSERT INTO task_fts (task_fts, rowid, task) VALUES ('delete', old.rowid, old.task);
END;

-- Paths tokenise into their components (src, auth, rs) and the diff into its identifiers.
CREATE VIRTUAL TABLE edit_fts USING fts5 (
    file, diff, content = 'edit_history', content_rowid = 'rowid', tokenize = 'porter unicode61'
);
CREATE TRIGGER edit_history_fts_insert AFTER INSERT ON edit_history BEGIN
    INSERT INTO edit_fts (rowid, file, diff) VALUES (new.rowid, new.file, new.diff);
END;
CREATE TRIGGER edit_history_fts_delete AFTER DELETE ON edit_history BEGIN
    INSERT INTO edit_fts (edit_fts, rowid, file, diff) VALUES ('delete', old.rowid, old.file, old.diff);
END;

-- What each session has already been given, so that recall does not repeat itself on every
-- prompt.
CREATE TABLE recall_log (
    session_id  TEXT NOT NULL,
    item        TEXT NOT NULL,        -- "<session_id>/<task_ref>" of the item given
    given_at    TEXT NOT NULL,
    PRIMARY KEY (session_id, item)
) STRICT, WITHOUT ROWID;
