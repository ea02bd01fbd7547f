//! What a hook may print (hook contract §3): nothing, or exactly one JSON object.
//!
//! Recall (pre-task context) is the only answer flowhook gives; every other event answers
//! with an empty stdout.

use schemars::JsonSchema;
use serde::Serialize;

/// Context handed back to the agent. `hookEventName` is mandatory (without it Claude Code
/// reports a hook error) and `additionalContext` must sit inside `hookSpecificOutput`
/// (at the top level it is silently ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(title = "Hook answer")]
pub struct Answer {
    #[serde(rename = "hookSpecificOutput")]
    pub hook_specific_output: HookSpecificOutput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookSpecificOutput {
    /// The event being answered: `UserPromptSubmit`, `SessionStart` or `PreToolUse`.
    pub hook_event_name: String,
    /// Facts for the model; under 10,000 characters (Claude Code cuts longer ones).
    pub additional_context: String,
}
