//! Claude Code's hook event names, one list: parsing dispatches on it, `install` wires the
//! events flowhook records and doctor says what a missing one costs.

/// A hook event's name (`hook_event_name`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    SessionStart,
    UserPromptSubmit,
    PreToolUse,
    PostToolUse,
    PostToolUseFailure,
    SubagentStart,
    SubagentStop,
    Stop,
    PreCompact,
    SessionEnd,
    /// An event of Claude Code 2.1.x that flowhook does not record (`Notification`, ...):
    /// ignored quietly.
    Ignored(&'static str),
    /// Not an event of Claude Code 2.1.x: a newer client's (ignored, and logged so that a
    /// maintainer notices), or a flag call's `cli:` word.
    Unknown,
}

/// Every event flowhook records.
const RECORDED: &[Name] = &[
    Name::SessionStart,
    Name::UserPromptSubmit,
    Name::PreToolUse,
    Name::PostToolUse,
    Name::PostToolUseFailure,
    Name::SubagentStart,
    Name::SubagentStop,
    Name::Stop,
    Name::PreCompact,
    Name::SessionEnd,
];

/// The other hook events of Claude Code 2.1.x.
const IGNORED: &[&str] = &[
    "Setup",
    "UserPromptExpansion",
    "PermissionRequest",
    "PermissionDenied",
    "PostToolBatch",
    "Notification",
    "StopFailure",
    "PostCompact",
    "Elicitation",
    "ElicitationResult",
    "TeammateIdle",
    "TaskCreated",
    "TaskCompleted",
    "InstructionsLoaded",
    "CwdChanged",
    "FileChanged",
    "ConfigChange",
    "WorktreeCreate",
    "WorktreeRemove",
    "PreModelSwitch",
    "PostModelSwitch",
    "MessageDisplay",
    "DirectoryAdded",
];

impl Name {
    pub fn parse(name: &str) -> Name {
        if let Some(n) = RECORDED.iter().find(|n| n.as_str() == name) {
            return *n;
        }
        match IGNORED.iter().find(|n| **n == name) {
            Some(n) => Name::Ignored(n),
            None => Name::Unknown,
        }
    }

    /// The name as Claude Code sends it (`Unknown` has none of its own: `?`).
    pub fn as_str(self) -> &'static str {
        match self {
            Name::SessionStart => "SessionStart",
            Name::UserPromptSubmit => "UserPromptSubmit",
            Name::PreToolUse => "PreToolUse",
            Name::PostToolUse => "PostToolUse",
            Name::PostToolUseFailure => "PostToolUseFailure",
            Name::SubagentStart => "SubagentStart",
            Name::SubagentStop => "SubagentStop",
            Name::Stop => "Stop",
            Name::PreCompact => "PreCompact",
            Name::SessionEnd => "SessionEnd",
            Name::Ignored(n) => n,
            Name::Unknown => "?",
        }
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_as_itself_and_no_other() {
        let ignored = IGNORED.iter().map(|n| Name::Ignored(n));
        for n in RECORDED.iter().copied().chain(ignored) {
            assert_eq!(Name::parse(n.as_str()), n);
        }
        assert!(
            !IGNORED
                .iter()
                .any(|n| RECORDED.iter().any(|r| r.as_str() == *n))
        );
        for other in [
            "sessionend",
            "SessionEnd ",
            "cli:pre-task",
            "NewerEvent",
            "?",
            "",
        ] {
            assert_eq!(Name::parse(other), Name::Unknown, "{other}");
        }
    }
}
