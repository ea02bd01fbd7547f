//! Which projects are shared with the team. Sync mode says *where* memory goes; which
//! projects go is a choice of its own, made per project: `flowhook sync --enable` (or
//! `--disable`) in it, kept in the user's state directory like the trust ledger, or an
//! identity pattern in the user's own hooks.toml (`[sync] share = ["github.com/acme/*"]`,
//! never from a project's file: see `config::USER_ONLY`). A project chosen by neither is not
//! pushed, nor pulled; one identified by its path never is.

use crate::config::{Config, Mode};
use crate::project::IdKind;
use crate::resolve::Resolved;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The current project as sync sees it.
#[derive(Debug, Clone, Serialize)]
pub struct Sharing {
    /// The identity its rows are filed under, and where that comes from.
    pub project: String,
    pub identity: IdKind,
    pub shared: bool,
    /// Why it is shared, or why not and what would change that.
    pub why: String,
}

const LEDGER: &str = "shared.json";

/// The user's `--enable` / `--disable` choices, by identity.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Ledger {
    projects: BTreeMap<String, Choice>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Choice {
    shared: bool,
    at: String,
}

fn read() -> Ledger {
    crate::paths::open_own(&crate::paths::state_dir().join(LEDGER))
        .ok()
        .and_then(|f| serde_json::from_reader(std::io::BufReader::new(f)).ok())
        .unwrap_or_default()
}

/// Whether an identity is a path (`/home/ana/x`, `C:\x`): it means nothing on another machine.
pub fn is_path(id: &str) -> bool {
    let b = id.as_bytes();
    matches!(b.first(), Some(b'/' | b'\\'))
        || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

/// Everything that decides which projects are shared, read once.
pub struct Choices {
    ledger: Ledger,
    patterns: Vec<(String, Option<regex_lite::Regex>)>,
    /// Why nothing is shared at all (local mode, no server).
    off: Option<String>,
}

impl Choices {
    pub fn load(config: &Config) -> Choices {
        let off = if config.database.mode != Mode::Sync {
            Some("database.mode is \"local\"".to_owned())
        } else if config
            .database
            .url
            .as_deref()
            .is_none_or(|u| u.trim().is_empty())
        {
            Some("database.url is not set".to_owned())
        } else {
            None
        };
        let patterns = config
            .sync
            .share
            .iter()
            .map(|p| (p.clone(), pattern(p)))
            .collect();
        Choices {
            ledger: read(),
            patterns,
            off,
        }
    }

    /// Whether the project `id` is shared, and why (or why not).
    pub fn decide(&self, id: &str) -> (bool, String) {
        if let Some(off) = &self.off {
            return (false, off.clone());
        }
        if is_path(id) {
            return (
                false,
                "its identity is its path (no git remote, no project.id), which means nothing \
                 on another machine: give it one (see `flowhook doctor`)"
                    .to_owned(),
            );
        }
        if let Some(c) = self.ledger.projects.get(id) {
            let how = if c.shared { "--enable" } else { "--disable" };
            return (c.shared, format!("`flowhook sync {how}` on {}", c.at));
        }
        for (text, re) in &self.patterns {
            if re.as_ref().is_some_and(|re| re.is_match(id)) {
                return (true, format!("sync.share has \"{text}\""));
            }
        }
        (
            false,
            "not chosen: run `flowhook sync --enable` in it, or add a pattern to \
             sync.share in your own hooks.toml"
                .to_owned(),
        )
    }
}

/// A `share` pattern as a regular expression: `*` is any text, case is ignored. `None` for
/// one that cannot be one (it then matches nothing).
fn pattern(p: &str) -> Option<regex_lite::Regex> {
    let body = regex_lite::escape(p.trim()).replace("\\*", ".*");
    regex_lite::Regex::new(&format!("(?i)^{body}$")).ok()
}

/// The projects of `store` that are shared (with `current`, the project of this call, held
/// before anything is recorded), as a JSON array; `None` outside sync mode.
pub async fn shared_in(
    config: &Config,
    store: &crate::store::Store,
    current: Option<&str>,
) -> Result<Option<Vec<String>>, crate::store::StoreError> {
    if config.database.mode != Mode::Sync {
        return Ok(None);
    }
    let mut held = store.held_projects().await?;
    held.extend(current.map(str::to_owned));
    held.sort();
    held.dedup();
    let choices = Choices::load(config);
    held.retain(|p| choices.decide(p).0);
    Ok(Some(held))
}

/// Whether the project of `to` is shared.
pub fn sharing(to: &Resolved) -> Sharing {
    let (shared, why) = Choices::load(to.config()).decide(&to.project.id);
    Sharing {
        project: to.project.id.clone(),
        identity: to.project.kind,
        shared,
        why,
    }
}

/// Records the user's choice for the project `id`, over any pattern.
#[cfg(feature = "team")]
pub fn choose(id: &str, shared: bool) -> std::io::Result<()> {
    let mut ledger = read();
    ledger.projects.insert(
        id.to_owned(),
        Choice {
            shared,
            at: crate::time::Time::now().into_string(),
        },
    );
    let bytes = serde_json::to_vec_pretty(&ledger).map_err(std::io::Error::other)?;
    crate::paths::replace_state_file(LEDGER, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_whole_identities_ignoring_case() {
        let re = pattern("github.com/acme/*").unwrap();
        assert!(re.is_match("github.com/acme/shop"));
        assert!(re.is_match("github.com/Acme/Shop"));
        assert!(!re.is_match("github.com/acme-evil/shop"));
        assert!(!re.is_match("evil.org/github.com/acme/shop"));
        let exact = pattern("gitlab.com/a.b/c").unwrap();
        assert!(exact.is_match("gitlab.com/a.b/c") && !exact.is_match("gitlab.com/aXb/c"));
    }

    #[test]
    fn a_path_is_never_an_identity_to_share() {
        for p in ["/home/ana/notes", "\\\\server\\x", "C:\\x", "c:/x"] {
            assert!(is_path(p), "{p}");
        }
        for p in ["github.com/acme/shop", "notes", "gitlab.example:8443/a/b"] {
            assert!(!is_path(p), "{p}");
        }
    }
}
