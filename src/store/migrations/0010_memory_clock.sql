-- 0010 (hlc20: agent memory clock): an agent memory value's version is a hybrid logical clock
-- reading (see store/memory.rs): a write or delete here takes the larger of the wall clock
-- (milliseconds) and one past the largest version this file has seen, its own or pulled. The
-- clock is that largest version; every value stored, written here or pulled, moves it on, so
-- that a write made after another was seen always wins over it, whatever the clocks say.
CREATE TABLE memory_clock (
    one  INTEGER PRIMARY KEY CHECK (one = 1),
    last INTEGER NOT NULL
) STRICT;
INSERT INTO memory_clock (one, last) SELECT 1, coalesce(max(version), 0) FROM agent_memory;

CREATE TRIGGER agent_memory_clock AFTER INSERT ON agent_memory BEGIN
    UPDATE memory_clock SET last = max(last, new.version);
END;
CREATE TRIGGER agent_memory_clock_version AFTER UPDATE OF version ON agent_memory BEGIN
    UPDATE memory_clock SET last = max(last, new.version);
END;

-- A version is an integer; a pulled one is no later than the end of the year 9999 in
-- milliseconds. A text version would sort above every number, and one near the largest
-- integer would stop the clock: either would win its slot, or every slot, forever. A row
-- refused here goes to sync_quarantine with this reason.
CREATE TRIGGER agent_memory_version_insert BEFORE INSERT ON agent_memory
WHEN typeof(new.version) <> 'integer' OR new.version < 0
    OR new.origin IS NOT NULL AND new.version > 253402300799999 BEGIN
    SELECT RAISE(ABORT, 'agent_memory.version is not a clock reading');
END;
CREATE TRIGGER agent_memory_version_update BEFORE UPDATE OF version ON agent_memory
WHEN typeof(new.version) <> 'integer' OR new.version < 0
    OR new.origin IS NOT NULL AND new.version > 253402300799999 BEGIN
    SELECT RAISE(ABORT, 'agent_memory.version is not a clock reading');
END;
