//! Recall: which prior work to hand the agent when a task starts, ranked and budgeted.
//! [`gather`] is recall's only call into the store; parsing the task text (`query`) and
//! ranking and rendering (`rank`) are pure.
//!
//! An item is one unit of earlier work: a prompt of an earlier session with the edits made for
//! it (grouped by `task_ref`). Its score is the sum of three terms, each shown by
//! `flowhook context --explain`:
//! - **text**: how well the task text matches the item (FTS5 bm25 over prompts, and over
//!   edited paths and diffs), normalised to 0..1 against the best match of each kind for this
//!   query, an edit match counting 0.8 of a prompt match; words too common to rank cheaply
//!   give the newest rows holding them a flat 0.15;
//! - **files**: a boost when the task text names a file the item edited (full path 1.0,
//!   basename 0.7, stem 0.5);
//! - **recency**: `0.3 × 0.5^(age / 14 days)`, so that among equals the newer work wins.
//!
//! An item whose text + files score is under 0.4 only shares a word or two with the task and
//! is left out; one matched by its diffs alone needs 0.6 (a README shares words with every
//! task). Items that repeat an earlier one's task on the same files are folded into it. Each
//! item lists first the files the task names. Text with no searchable word (a new session, only
//! stopwords or punctuation) gets nothing, and so does text whose words match nothing: no
//! stdout at all. A resumed or compacted session is given its own summary and work so far.

mod query;
mod rank;

pub use query::Query;
pub use rank::{Evidence, Fact, HARD_CEILING, Item, ItemKey, Score, fact_line, line, rank, render};

use crate::store::Store;
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// Whose work recall looks at.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub project: &'a str,
    /// The session asking (its rows are left out), if any.
    pub session_id: Option<&'a str>,
    /// Look at the asking session's own work instead (a resumed or compacted session).
    pub own_session: bool,
}

/// Items looked at in detail per recall: more than a budget of 9,500 characters can hold.
const MAX_ITEMS: usize = 40;
/// Below this text + files score an item only shares a word or two with the task: left out
/// (0.4 keeps recall at 1.0 on the evaluation set while halving what is injected for nothing).
const MIN_RELEVANCE: f64 = 0.4;
/// The same for an item matched by its diffs alone (not its prompt, not a file named).
const MIN_EDIT_RELEVANCE: f64 = 0.6;

/// Facts handed out per recall at most (for the files the task names).
const MAX_FACTS: usize = 3;

/// What recall found for one task.
#[derive(Debug, Default)]
pub struct Recalled {
    /// The context to inject; empty when nothing is relevant.
    pub text: String,
    /// Facts about the files the task names, and whether each was injected.
    pub facts: Vec<(Fact, bool)>,
    /// Every item considered, best first, with its score and whether it was injected.
    pub items: Vec<(Item, Score, bool)>,
    /// A resumed or compacted session's own summary so far, when injected.
    pub own_summary: Option<String>,
}

impl Recalled {
    /// The `recall_log` ids of what was injected (items folded into an injected one count).
    pub fn given(&self) -> Vec<String> {
        let facts = self.facts.iter().filter(|f| f.1).map(|f| f.0.id());
        let items = self
            .items
            .iter()
            .filter(|i| i.2)
            .flat_map(|i| std::iter::once(&i.0.key).chain(&i.0.also))
            .map(ItemKey::id);
        facts.chain(items).collect()
    }
}

/// The prior work relevant to `text`, within `budget` characters. Items the session was
/// already given are left out (except when it looks at its own work after a resume).
pub async fn gather(
    store: &Store,
    text: &str,
    scope: Scope<'_>,
    budget: usize,
    now: DateTime<Utc>,
) -> crate::store::Result<Recalled> {
    let started = std::time::Instant::now();
    let query = Query::parse(text);
    // Nothing to match (a session start, "continue", "yes"): nothing to say, but to a
    // resumed or compacted session, which is given its own work so far.
    if query.terms.is_empty() && !scope.own_session {
        return Ok(Recalled::default());
    }
    let candidates = store.recall_candidates(&query, scope).await?;
    let given = match scope.session_id {
        Some(s) if !scope.own_session => store.recall_given(s).await?,
        _ => HashSet::new(),
    };
    let mut items = Vec::new();
    // Items are fetched best first until twice the budget is filled: enough to choose from
    // when some do not fit, without reading forty items for a budget that holds fifteen.
    let mut fetched_chars = 0;
    for (key, score) in rank(&candidates, now) {
        if items.len() == MAX_ITEMS || fetched_chars > 2 * budget.min(HARD_CEILING) {
            break;
        }
        // Only its diff matched: a file that documents everything (a README) shares words
        // with every task, so that evidence must be strong on its own.
        let edit_only = score.task_bm25.is_none() && score.files == 0.0;
        let floor = if edit_only {
            MIN_EDIT_RELEVANCE
        } else {
            MIN_RELEVANCE
        };
        let weak = !scope.own_session && score.text + score.files < floor;
        if weak || given.contains(&key.id()) {
            continue;
        }
        if let Some(item) = store.recall_item(&key).await? {
            fetched_chars += line(&item, now, &query).chars().count();
            items.push((item, score));
        }
    }
    let items = rank::collapse(items);
    // Facts about the files the task names come first: short, and about exactly what it
    // asks. A resumed session's own summary comes before everything.
    let mut facts = Vec::new();
    for file in &query.files {
        for fact in store.knowledge_for(scope.project, &file.basename).await? {
            if facts.len() < MAX_FACTS
                && !given.contains(&fact.id())
                && !facts.iter().any(|f: &Fact| f.file == fact.file)
            {
                facts.push(fact);
            }
        }
    }
    let own_summary = match (scope.own_session, scope.session_id) {
        (true, Some(sid)) => store.session_summary(sid).await?,
        _ => None,
    };
    let mut lines: Vec<String> = own_summary
        .iter()
        .map(|s| format!("This session so far: {}", s.replace('\n', " ")))
        .collect();
    lines.extend(facts.iter().map(|f| fact_line(f, now)));
    lines.extend(items.iter().map(|(i, _)| line(i, now, &query)));
    let (text, kept) = render(&lines, budget);
    let offset = usize::from(own_summary.is_some());
    tracing::debug!(
        candidates = candidates.len(),
        injected = kept.len(),
        "recall took {:?}",
        started.elapsed()
    );
    let injected = |i: usize| kept.contains(&i);
    let n_facts = facts.len();
    Ok(Recalled {
        own_summary: own_summary.filter(|_| injected(0)),
        facts: facts
            .into_iter()
            .enumerate()
            .map(|(i, f)| (f, injected(offset + i)))
            .collect(),
        items: items
            .into_iter()
            .enumerate()
            .map(|(i, (item, score))| (item, score, injected(offset + n_facts + i)))
            .collect(),
        text,
    })
}
