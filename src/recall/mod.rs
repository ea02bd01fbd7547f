//! Recall: which prior work to hand the agent when a task starts, ranked and budgeted.
//! Parsing the task text (`query`) and ranking and rendering (`rank`) are pure: this module
//! never touches the store (whose recall queries take its types); `gather` joins the two.
//!
//! An item is one unit of earlier work: a prompt of an earlier session with the edits made for
//! it (grouped by `task_ref`). Its score is the sum of three terms, each shown by
//! `flowhook context --explain`:
//! - **text**: how much of the task the item's prompt matches, plus half of how much its edits
//!   (paths and diffs) match: each is FTS5's bm25 over what a row holding every searchable word
//!   of the task once would score (0..1), so it says how much of the task an item holds, not
//!   how it compares with the others. Words in too many rows to rank cheaply are left out;
//!   words no row holds count against the match, so a task sharing one chance word with an
//!   old prompt is not a match;
//! - **files**: a boost when the task text names a file the item edited (full path 1.0,
//!   basename 0.7, stem 0.5), shared out when more than three items edited it;
//! - **recency**: `0.3 × 0.5^(age / 14 days)`, so that among equals the newer work wins.
//!
//! An item whose text + files score is under 0.3 only shares a word or two with the task and
//! is left out: an item matched by its diffs alone needs them to hold most of the task (a
//! README's diff shares words with every task). Items that repeat an earlier one's task on the
//! same files are folded into it. Each item lists first the files the task names. Text with no
//! searchable word (a new session, only stopwords or punctuation) gets nothing, and so does
//! text whose words match nothing: no stdout at all. A resumed or compacted session is given
//! its own summary and work so far.

mod query;
mod rank;

pub use query::Query;
pub use rank::{
    Candidates, Evidence, Fact, HARD_CEILING, Item, ItemKey, Score, TASK_CHARS, collapse,
    fact_line, line, rank, render,
};

/// Whose work recall looks at.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub project: &'a str,
    /// The session asking (its rows are left out), if any.
    pub session_id: Option<&'a str>,
    /// Look at the asking session's own work instead (a resumed or compacted session).
    pub own_session: bool,
}
