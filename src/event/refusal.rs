//! Why a hook input is not an event flowhook can understand: the reason a quarantined
//! payload is kept with (`rejected_events.reason`). A message never quotes a value of the
//! payload (it could hold a secret): names, paths and sizes only. "Not for us" is not here:
//! it is `Ok(None)`.

use crate::input::describe_error;

#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("payload larger than limits.max_payload_bytes ({0} bytes read)")]
    TooLarge(usize),
    /// What stdin is instead (`a JSON array`, `not JSON`, ...).
    #[error("stdin is {0}, not a hook payload object")]
    NotAnObject(&'static str),
    /// Not valid JSON, or not a payload's shape, at `path` (`.` for the whole).
    #[error("invalid JSON payload{}: {}", at(.path), describe_error(.source))]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error(
        "the payload has no hook_event_name and no event was named on the command line \
         (flowhook pre-task|post-edit|session-end)"
    )]
    NoEventName,
    #[error("empty stdin and no event named")]
    Empty,
    /// The name, cut at 80 characters.
    #[error("hook_event_name {0:?} is not a hook event name")]
    NotAnEventName(String),
    #[error("{0} payload has no session_id")]
    NoSessionId(String),
    #[error("{0} payload has no tool_name")]
    NoToolName(String),
    /// A field or flag an event of its kind cannot do without.
    #[error("{0}")]
    Missing(&'static str),
    /// A tool field (`tool_input`, `tool_response`) that is not the tool's shape, at `path`.
    #[error("{field}{}: {}", dotted(.path), describe_error(.source))]
    ToolField {
        field: &'static str,
        path: String,
        source: serde_json::Error,
    },
}

/// ` at <path>`, or nothing for the whole payload.
fn at(path: &str) -> String {
    match path {
        "." => String::new(),
        path => format!(" at {path}"),
    }
}

/// `.<path>`, or nothing for the whole field.
fn dotted(path: &str) -> String {
    match path {
        "." => String::new(),
        path => format!(".{path}"),
    }
}
