-- agent_memory travels with the team (see store/sync.rs): a value's version is when it was
-- last written (milliseconds), the newest wins on every machine; `origin` is the machine a
-- pulled value came from, `pushed_version` what the server has of this machine's.
ALTER TABLE agent_memory ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent_memory ADD COLUMN pushed_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agent_memory ADD COLUMN origin TEXT;
