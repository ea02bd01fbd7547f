//! What a hook may print (hook contract §3): nothing, or exactly one JSON object.
//!
//! Recall (pre-task context) is the only answer flowhook gives; every other event answers
//! with an empty stdout. [`print`] is the only writer to stdout in hook mode.

use schemars::JsonSchema;
use serde::Serialize;
use std::io::Write;

/// Context handed back to the agent. For Claude Code (and Codex, Gemini) `hookEventName` is
/// mandatory (without it Claude Code reports a hook error) and `additionalContext` must sit
/// inside `hookSpecificOutput` (at the top level it is silently ignored). Copilot CLI reads
/// `additionalContext` at the top level only.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[schemars(title = "Hook answer")]
#[serde(untagged)]
pub enum Answer {
    Nested {
        #[serde(rename = "hookSpecificOutput")]
        hook_specific_output: HookSpecificOutput,
    },
    /// Copilot CLI's (1.0.102) `sessionStart` and `userPromptSubmitted`.
    Flat {
        #[serde(rename = "additionalContext")]
        additional_context: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HookSpecificOutput {
    /// The event being answered: `UserPromptSubmit`, `SessionStart` or `PreToolUse`.
    pub hook_event_name: String,
    /// Facts for the model; under 10,000 characters (Claude Code cuts longer ones).
    pub additional_context: String,
    /// PreToolUse(Agent) with `recall.subagent_prompt` on: the tool's input with the context
    /// prepended to the subagent's prompt. No permission decision comes with it: flowhook never
    /// approves or blocks a tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_input: Option<serde_json::Value>,
}

impl Answer {
    /// Context for the agent, in the shape Claude Code reads for `event`.
    pub fn context(
        event: &str,
        context: String,
        updated_input: Option<serde_json::Value>,
    ) -> Answer {
        Answer::Nested {
            hook_specific_output: HookSpecificOutput {
                hook_event_name: event.to_owned(),
                additional_context: context,
                updated_input,
            },
        }
    }

    /// The context handed over.
    pub fn text(&self) -> &str {
        match self {
            Answer::Nested {
                hook_specific_output: h,
            } => &h.additional_context,
            Answer::Flat { additional_context } => additional_context,
        }
    }

    /// The same context as another agent reads it (see `event::agent`), or `None` when it
    /// reads none for this event. Only the keys its schema allows: Codex rejects any other.
    pub fn for_agent(self, agent: crate::event::Agent) -> Option<Answer> {
        let Answer::Nested {
            hook_specific_output: h,
        } = self
        else {
            return Some(self);
        };
        let event = agent.answers(&h.hook_event_name)?;
        Some(match agent {
            crate::event::Agent::Copilot => Answer::Flat {
                additional_context: h.additional_context,
            },
            _ => Answer::context(event, h.additional_context, None),
        })
    }

    /// The exact bytes a hook prints: one JSON object, no newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("an answer always serialises")
    }
}

/// Writes the answer on stdout, the only thing a hook ever writes there. A closed pipe is
/// ignored: the agent has gone, and the event is stored either way.
pub fn print(answer: &Answer) {
    let mut out = std::io::stdout().lock();
    let _ = out
        .write_all(answer.to_json().as_bytes())
        .and_then(|_| out.flush());
}
