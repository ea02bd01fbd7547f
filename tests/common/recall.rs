//! What recall handed out, read off a hook's answer: shared by the recall evaluations.

use std::collections::BTreeSet;
use std::process::Output;

/// The context a prompt's hook answer hands the agent (`None`: it printed nothing), the
/// hook's contract checked first and the answer checked to be the prompt's.
pub fn context_of(out: &Output) -> Option<String> {
    super::assert_hook_contract(out, "a prompt");
    if out.stdout.is_empty() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["hookSpecificOutput"]["hookEventName"], "UserPromptSubmit");
    let context = v["hookSpecificOutput"]["additionalContext"].as_str();
    Some(context.unwrap().to_owned())
}

/// Every session a context names: each line's `session 3f2a1b2c`, and the sessions folded
/// into it (`(the same in session 1a2b3c4d, 5e6f7a8b)`).
pub fn sessions_in(context: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in context.lines() {
        for part in line.split("session ").skip(1) {
            for id in part.split(", ") {
                let id: String = id.chars().take(8).collect();
                if id.len() == 8 && id.chars().all(|c| c.is_ascii_hexdigit()) {
                    out.insert(id);
                }
                if !part.starts_with(|c: char| c.is_ascii_hexdigit()) {
                    break;
                }
            }
        }
    }
    out
}

/// What an evaluation measured, task by task: the sessions wanted and found, those handed
/// out, and those of another project than the task's (leaks).
#[derive(Default)]
pub struct Scores {
    pub tasks: usize,
    pub found: usize,
    pub relevant: usize,
    pub injected: usize,
    pub leaks: usize,
    /// Tasks handed at least one session they do not refer to.
    pub misled: usize,
    pub report: String,
}

impl Scores {
    /// Scores one task (`label`) that wanted `wanted` and was handed `got`; `project_of` maps
    /// a session's 8 characters to its project, and only `home`'s may be handed.
    pub fn add<'a>(
        &mut self,
        label: &str,
        wanted: impl IntoIterator<Item = &'a String>,
        got: &BTreeSet<String>,
        project_of: &std::collections::BTreeMap<String, String>,
        home: &str,
    ) {
        let wanted: BTreeSet<&String> = wanted.into_iter().collect();
        let hits = wanted.iter().filter(|s| got.contains(**s)).count();
        let leaked = got.iter().filter(|s| project_of[*s] != home).count();
        self.tasks += 1;
        self.found += hits;
        self.relevant += wanted.len();
        self.injected += got.len();
        self.leaks += leaked;
        self.misled += usize::from(got.len() > hits);
        self.report.push_str(&format!(
            "  {hits}/{} found, {} injected, {leaked} leaked: {label}\n",
            wanted.len(),
            got.len()
        ));
    }

    pub fn recall(&self) -> f64 {
        self.found as f64 / self.relevant as f64
    }

    pub fn precision(&self) -> f64 {
        self.found as f64 / self.injected.max(1) as f64
    }

    /// Every task's line, then the totals under `name`.
    pub fn summary(&self, name: &str) -> String {
        format!(
            "{}{name}: recall {:.2} ({}/{}), precision {:.2} ({}/{}), {} of {} tasks \
             given a session they do not refer to, leaks {}",
            self.report,
            self.recall(),
            self.found,
            self.relevant,
            self.precision(),
            self.found,
            self.injected,
            self.misled,
            self.tasks,
            self.leaks
        )
    }
}
