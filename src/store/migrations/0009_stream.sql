-- 0009: the stream of what is recorded here. Every row recorded in this file (not pulled) and
-- every new version of a summary or memory value gets the next `seq`, never reused (unlike a
-- rowid of the tables: the largest entry is never deleted, so a number once given stays
-- below the next; no AUTOINCREMENT or index, to keep the hook's insert cheap). Push sends
-- by it; which part of the stream is this machine's is kept in the state directory, bound to
-- the file (see store/stream.rs), so a copied or committed file pushes nothing it did not
-- record where it is now. A new version adds an entry (push sends a row once per batch, at its
-- latest); entries whose row is gone or superseded are dropped by prune, not on the hot path.
CREATE TABLE stream (
    seq  INTEGER PRIMARY KEY,
    tbl  TEXT NOT NULL,
    id   TEXT NOT NULL
) STRICT;

-- What is here already, oldest first, parents first.
INSERT INTO stream (tbl, id)
    SELECT 'session_summaries', session_id FROM session_summaries WHERE origin IS NULL ORDER BY rowid;
INSERT INTO stream (tbl, id) SELECT 'task_log', id FROM task_log WHERE origin IS NULL ORDER BY rowid;
INSERT INTO stream (tbl, id) SELECT 'edit_history', id FROM edit_history WHERE origin IS NULL ORDER BY rowid;
INSERT INTO stream (tbl, id)
    SELECT 'swarm_coordination', id FROM swarm_coordination WHERE origin IS NULL ORDER BY rowid;
INSERT INTO stream (tbl, id) SELECT 'agent_memory', id FROM agent_memory WHERE origin IS NULL ORDER BY rowid;

CREATE TRIGGER task_log_stream AFTER INSERT ON task_log WHEN new.origin IS NULL BEGIN
    INSERT INTO stream (tbl, id) VALUES ('task_log', new.id);
END;
CREATE TRIGGER edit_history_stream AFTER INSERT ON edit_history WHEN new.origin IS NULL BEGIN
    INSERT INTO stream (tbl, id) VALUES ('edit_history', new.id);
END;
CREATE TRIGGER swarm_coordination_stream AFTER INSERT ON swarm_coordination
WHEN new.origin IS NULL BEGIN
    INSERT INTO stream (tbl, id) VALUES ('swarm_coordination', new.id);
END;
CREATE TRIGGER session_summaries_stream AFTER INSERT ON session_summaries
WHEN new.origin IS NULL BEGIN
    INSERT INTO stream (tbl, id) VALUES ('session_summaries', new.session_id);
END;
CREATE TRIGGER session_summaries_stream_version AFTER UPDATE OF version ON session_summaries
WHEN new.origin IS NULL BEGIN
    INSERT INTO stream (tbl, id) VALUES ('session_summaries', new.session_id);
END;
CREATE TRIGGER agent_memory_stream AFTER INSERT ON agent_memory WHEN new.origin IS NULL BEGIN
    INSERT INTO stream (tbl, id) VALUES ('agent_memory', new.id);
END;
CREATE TRIGGER agent_memory_stream_version AFTER UPDATE OF version ON agent_memory
WHEN new.origin IS NULL BEGIN
    INSERT INTO stream (tbl, id) VALUES ('agent_memory', new.id);
END;

-- Pulled rows the local schema refuses (a wrong type, a NULL where a value is required, a
-- number out of range): kept with the reason instead of blocking every later pull.
CREATE TABLE sync_quarantine (
    tbl         TEXT NOT NULL,
    server_seq  INTEGER NOT NULL,
    origin      TEXT,
    reason      TEXT NOT NULL,
    row         TEXT NOT NULL,        -- the row as pulled, a JSON object, bounded
    received_at TEXT NOT NULL,
    PRIMARY KEY (tbl, server_seq)
) STRICT;

-- A deleted memory value is a tombstone: its value blanked, `deleted_at` set and its version
-- raised, so that the delete travels to the team like a write and wins over older values
-- everywhere; tombstones themselves go after a while (store/memory.rs).
ALTER TABLE agent_memory ADD COLUMN deleted_at TEXT;
