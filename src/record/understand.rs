//! Understanding a payload: bytes to an event, a refusal, or "not ours", before anything is
//! written and without opening a database (an ignored event never opens one).
//!
//! Owns parsing and the lenient second reading; it resolves the project the payload names
//! (through the `Recorder`'s cache) but must not touch a store, the spool or the watchdog.

use super::{Origin, Outcome, Recorder};
use crate::event::flags::Invocation;
use crate::event::wire::Payload;
use crate::event::{self, Normalised, Refusal};
use crate::input::Received;
use crate::resolve::Resolved;
use std::rc::Rc;

/// What a payload means, before anything is written.
pub(super) enum Understood {
    /// Not an event flowhook records, described.
    Ignored(String),
    /// Not recorded either, but an edit about to be made, which a teammate's may concern
    /// (record/warn.rs).
    BeforeEdit(BeforeEdit),
    Bound(Bound),
}

/// A PreToolUse of an edit tool: the file, the session, and the project it is in.
pub(super) struct BeforeEdit {
    pub file: String,
    pub to: Rc<Resolved>,
    pub what: String,
}

/// What goes to a database: an event to store, or a payload to quarantine.
pub(super) enum Bound {
    Event(Heard),
    Rejected(Refused),
}

/// An event understood, and the project it is filed under.
pub(super) struct Heard {
    pub n: Box<Normalised>,
    pub to: Rc<Resolved>,
    /// Whether the payload named its directory (else the session's project counts).
    pub cwd_given: bool,
}

/// A payload that cannot be understood, and why.
pub(super) struct Refused {
    pub reason: String,
    pub to: Rc<Resolved>,
}

impl Understood {
    fn refused(reason: String, to: Rc<Resolved>) -> Understood {
        Understood::Bound(Bound::Rejected(Refused { reason, to }))
    }
}

impl Bound {
    /// Where it goes.
    pub fn to(&self) -> &Rc<Resolved> {
        match self {
            Bound::Event(h) => &h.to,
            Bound::Rejected(r) => &r.to,
        }
    }

    /// What it is, for messages.
    pub fn label(&self) -> String {
        match self {
            Bound::Event(h) => h.n.label(),
            Bound::Rejected(r) => format!("rejected payload ({})", r.reason),
        }
    }
}

/// The outcome of an event that is not ours.
pub(super) fn ignored(what: &str) -> Outcome {
    tracing::debug!("ignored: {what}");
    Outcome::Ignored {
        what: what.to_owned(),
    }
}

impl Recorder {
    /// What the payload means. A payload refused as it is gets one more reading, as its
    /// sender meant it: cut at the size limit, its whole members (see
    /// `input::complete_prefix`); else as JavaScript reads it (`input::repaired`). The
    /// refusal stands when that reading is refused too.
    pub(super) fn understand(
        &mut self,
        received: &Received,
        inv: &Invocation,
        origin: &Origin,
    ) -> Understood {
        let first = self.understand_bytes(&received.bytes, received.too_large, inv, origin);
        let Understood::Bound(Bound::Rejected(Refused { reason, .. })) = &first else {
            return first;
        };
        let again = match received.too_large {
            true => crate::input::complete_prefix(&received.bytes),
            false => crate::input::repaired(&received.bytes),
        };
        match again.map(|bytes| self.understand_bytes(&bytes, false, inv, origin)) {
            Some(Understood::Bound(Bound::Rejected(_))) | None => first,
            Some(u) => {
                tracing::info!("read leniently, after: {reason}");
                u
            }
        }
    }

    fn understand_bytes(
        &mut self,
        bytes: &[u8],
        too_large: bool,
        inv: &Invocation,
        origin: &Origin,
    ) -> Understood {
        let mut translated = None;
        let (agent, parsed) = read(bytes, &mut translated, too_large, inv);
        let payload_cwd = match &parsed {
            Ok(Some(p)) => p.cwd.clone().filter(|c| !c.is_empty()),
            _ => None,
        };
        let dir = payload_cwd
            .clone()
            .or_else(|| origin.cwd.clone())
            .unwrap_or_else(|| ".".to_owned());
        let to = self.resolved(&dir, origin);
        let mut env = event::Env::new(
            &to.config().limits,
            origin.session.clone(),
            origin.cwd.clone(),
            to.patterns.clone(),
        );
        env.agent = agent;
        let payload = match parsed {
            Ok(p) => p,
            Err(reason) => return Understood::refused(reason.to_string(), to),
        };
        match event::normalise(payload.as_ref(), inv, &env) {
            Ok(Some(n)) => Understood::Bound(Bound::Event(Heard {
                n: Box::new(n),
                to,
                cwd_given: payload_cwd.is_some(),
            })),
            Ok(None) => {
                let what = describe(payload.as_ref(), inv);
                match payload.as_ref().and_then(event::about_to_edit) {
                    Some(file) => Understood::BeforeEdit(BeforeEdit { file, to, what }),
                    None => Understood::Ignored(what),
                }
            }
            Err(reason) => Understood::refused(reason.to_string(), to),
        }
    }
}

/// What a hook call would make of `stdin` and `inv`, without configuration, database or
/// side effects: `Ok(true)` an event to store, `Ok(false)` not one of ours, `Err` the reason
/// it would be quarantined. For the fuzzer and the property tests.
pub fn understand_only(stdin: &[u8], inv: &Invocation) -> Result<bool, Refusal> {
    let env = event::Env::new(
        &crate::config::Limits::default(),
        None,
        Some("/".to_owned()),
        Vec::new(),
    );
    let once = |bytes: &[u8]| -> Result<bool, Refusal> {
        let mut translated = None;
        let (agent, payload) = read(bytes, &mut translated, false, inv);
        let env = event::Env {
            agent,
            ..env.clone()
        };
        Ok(event::normalise(payload?.as_ref(), inv, &env)?.is_some())
    };
    once(stdin).or_else(|e| match crate::input::repaired(stdin) {
        Some(bytes) => once(&bytes).map_err(|_| e),
        None => Err(e),
    })
}

/// The agent that sent `bytes` and its payload in Claude Code's words: another agent's is
/// rewritten into `translated` and read from there (see `event::agent`). A Claude Code
/// payload is parsed once, as before.
fn read<'a>(
    bytes: &'a [u8],
    translated: &'a mut Option<Vec<u8>>,
    too_large: bool,
    inv: &Invocation,
) -> (event::Agent, Result<Option<Payload<'a>>, Refusal>) {
    let first = parse(bytes, too_large);
    let agent = match &first {
        Ok(Some(p)) => event::agent::detect(inv.flags.client, p),
        _ => inv.flags.client.unwrap_or_default(),
    };
    #[cfg(feature = "agents")]
    if first.as_ref().is_ok_and(Option::is_some) {
        *translated = event::agent::translate(agent, bytes);
    }
    let translated: &'a Option<Vec<u8>> = translated;
    match translated {
        Some(own) => (agent, parse(own, false)),
        None => (agent, first),
    }
}

/// The payload, `None` for an empty stdin, or what is wrong with it.
fn parse(bytes: &[u8], too_large: bool) -> Result<Option<Payload<'_>>, Refusal> {
    if too_large {
        return Err(Refusal::TooLarge(bytes.len()));
    }
    let start = bytes.trim_ascii_start();
    let Some(first) = start.first() else {
        return Ok(None);
    };
    let kind = match first {
        b'{' => None,
        b'[' => Some("a JSON array"),
        b'"' => Some("a JSON string"),
        b'-' | b'0'..=b'9' => Some("a JSON number"),
        _ if [&b"true"[..], b"false", b"null"]
            .iter()
            .any(|l| start.starts_with(l)) =>
        {
            Some("a JSON literal")
        }
        _ => Some("not JSON"),
    };
    if let Some(kind) = kind {
        return Err(Refusal::NotAnObject(kind));
    }
    let mut de = serde_json::Deserializer::from_slice(start);
    serde_path_to_error::deserialize(&mut de)
        .map(Some)
        .map_err(|e| Refusal::Json {
            path: e.path().to_string(),
            source: e.into_inner(),
        })
}

/// A one-line description of an ignored event.
fn describe(p: Option<&Payload>, inv: &Invocation) -> String {
    match p.and_then(|p| p.hook_event_name.as_deref()) {
        Some(name) => match p.and_then(|p| p.tool_name.as_deref()) {
            Some(tool) => format!("{name}({tool})"),
            None => name.to_owned(),
        },
        None => format!("{:?}", inv.command),
    }
}
