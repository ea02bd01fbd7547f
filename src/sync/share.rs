//! Whether the current project's memory is shared with the team, and why (or why not): what
//! `flowhook sync --status` and `doctor` say.

use crate::config::Mode;
use crate::project::IdKind;
use crate::resolve::Resolved;
use serde::Serialize;

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

/// Whether the project of `to` is shared.
pub fn sharing(to: &Resolved) -> Sharing {
    let p = &to.project;
    let (shared, why) = if to.config().database.mode != Mode::Sync {
        (false, "database.mode is \"local\"".to_owned())
    } else if p.kind == IdKind::Path {
        (
            false,
            "the project has no git remote or project.id: its identity is its path, which \
             means nothing on another machine"
                .to_owned(),
        )
    } else {
        (
            true,
            "sync mode, and the project has an identity".to_owned(),
        )
    };
    Sharing {
        project: p.id.clone(),
        identity: p.kind,
        shared,
        why,
    }
}
