-- 0011 (agents25: every coding agent, one memory): which coding agent ran a session
-- (`claude-code`, `codex`, `gemini`, `cursor`, `copilot`; see event/agent.rs), set by the
-- session's first event that names it. NULL: recorded before 0011 (Claude Code or
-- claude-flow), or pulled from a team server, which does not carry it.
ALTER TABLE session_summaries ADD COLUMN agent TEXT;
