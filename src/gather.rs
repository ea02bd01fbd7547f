//! Recall's one call into the store: the prior work relevant to a task, read from the store
//! and ranked, rendered and budgeted by `recall` (whose module doc says how). Shared by the
//! hook's pre-task answer, `flowhook context` and the MCP server.
//!
//! Owns only the joining; the queries are the store's, the scoring recall's. It sits above
//! both, so that the store can take recall's types without a cycle.

use crate::recall::{
    Fact, HARD_CEILING, Item, ItemKey, Query, Scope, Score, TASK_CHARS, collapse, fact_line, line,
    rank, render,
};
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::collections::HashSet;

/// Items looked at in detail per recall at most: more than a budget of 9,500 characters can
/// hold.
const MAX_ITEMS: usize = 40;
/// Below this text + files score an item only shares a word or two with the task: left out
/// (on the evaluation set, 0.3 keeps recall above 0.9 at a precision of 0.75, and gives no
/// off-topic task context; see `UNSEEN_WEIGHT` in the store).
const MIN_RELEVANCE: f64 = 0.3;

/// Facts handed out per recall at most (for the files the task names).
const MAX_FACTS: usize = 3;

/// Values agents stored on purpose handed out per recall at most: those sharing at least two
/// of the task's words (one, for a one-word task).
const MAX_MEMORIES: u32 = 2;

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
    /// Values agents stored on purpose that the task's words match, and whether each was
    /// injected.
    pub memories: Vec<(crate::store::Memory, bool)>,
}

/// Why each candidate was or was not injected: `flowhook context --explain --json` and the
/// viewer's "why" table.
#[derive(Debug, serde::Serialize)]
pub struct Explained {
    pub facts: Vec<ExplainedFact>,
    pub items: Vec<ExplainedItem>,
    /// The context a pre-task would print.
    pub text: String,
}

#[derive(Debug, serde::Serialize)]
pub struct ExplainedFact {
    pub fact: Fact,
    pub injected: bool,
    pub line: String,
}

#[derive(Debug, serde::Serialize)]
pub struct ExplainedItem {
    pub rank: usize,
    pub injected: bool,
    pub item: String,
    pub score: Score,
    pub line: String,
}

impl Recalled {
    /// Every candidate for `text` with its score and the line it is (or would be) given as.
    pub fn explained(&self, text: &str, now: DateTime<Utc>) -> Explained {
        let query = Query::parse(text);
        Explained {
            facts: self
                .facts
                .iter()
                .map(|(f, injected)| ExplainedFact {
                    fact: f.clone(),
                    injected: *injected,
                    line: fact_line(f, now),
                })
                .collect(),
            items: self
                .items
                .iter()
                .enumerate()
                .map(|(i, (item, score, injected))| ExplainedItem {
                    rank: i + 1,
                    injected: *injected,
                    item: item.key.id(),
                    score: score.clone(),
                    line: line(item, now, &query),
                })
                .collect(),
            text: self.text.clone(),
        }
    }

    /// The `recall_log` ids of what was injected (items folded into an injected one count).
    pub fn given(&self) -> Vec<String> {
        let facts = self.facts.iter().filter(|f| f.1).map(|f| f.0.id());
        let items = self
            .items
            .iter()
            .filter(|i| i.2)
            .flat_map(|i| std::iter::once(&i.0.key).chain(&i.0.also))
            .map(ItemKey::id);
        let memories = self.memories.iter().filter(|m| m.1).map(|m| m.0.id());
        facts.chain(items).chain(memories).collect()
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
    let present = store
        .presence(scope.project, scope.session_id.unwrap_or(""))
        .await?;
    // What teammates do now comes first, whatever the task's words.
    let team = match scope.session_id {
        Some(session) if present.pulled => {
            team_now(store, &query, scope.project, session, now).await?
        }
        _ => Vec::new(),
    };
    // Nothing to match (a session start, "continue", "yes"): nothing to say (but what the
    // team does now), but to a resumed or compacted session, which is given its own work so
    // far.
    if query.terms.is_empty() && !scope.own_session {
        return Ok(Recalled {
            text: render(&team, budget).0,
            ..Recalled::default()
        });
    }
    let candidates = store.recall_candidates(&query, scope).await?;
    let given = match scope.session_id {
        Some(s) if !scope.own_session && present.given => store.recall_given(s).await?,
        _ => HashSet::new(),
    };
    let items = best_items(store, &candidates, &given, scope, budget, now).await?;
    // Facts about the files the task names come first: short, and about exactly what it
    // asks. A resumed session's own summary comes before everything.
    let basenames: Vec<&str> = query.files.iter().map(|f| f.basename.as_str()).collect();
    let mut facts: Vec<Fact> = Vec::new();
    for fact in store.knowledge_for(scope.project, &basenames).await? {
        if facts.len() < MAX_FACTS
            && !given.contains(&fact.id())
            && !facts.iter().any(|f| f.file == fact.file)
        {
            facts.push(fact);
        }
    }
    let own_summary = match (scope.own_session, scope.session_id) {
        (true, Some(sid)) => store.session_summary(sid).await?,
        _ => None,
    };
    let memories: Vec<crate::store::Memory> = if scope.own_session || !present.memory {
        Vec::new()
    } else {
        let hits = query.terms.len().min(2);
        store
            .memory_matching(
                scope.project,
                &query.terms,
                hits,
                MAX_MEMORIES,
                &crate::time::Time::at(now),
            )
            .await?
            .into_iter()
            .filter(|m| !given.contains(&m.id()))
            .collect()
    };
    let mut lines: Vec<String> = own_summary
        .iter()
        .map(|s| format!("This session so far: {}", s.replace('\n', " ")))
        .collect();
    lines.splice(0..0, team.iter().cloned());
    lines.extend(facts.iter().map(|f| fact_line(f, now)));
    lines.extend(items.iter().map(|(i, _)| line(i, now, &query)));
    lines.extend(memories.iter().map(|m| {
        format!(
            "stored on purpose, {}/{}: {}",
            m.namespace,
            m.key,
            crate::text::one_line(&m.value, TASK_CHARS * 2)
        )
    }));
    let (text, kept) = render(&lines, budget);
    let offset = team.len() + usize::from(own_summary.is_some());
    tracing::debug!(
        candidates = candidates.items.len(),
        injected = kept.len(),
        "recall took {:?}",
        started.elapsed()
    );
    let injected = |i: usize| kept.contains(&i);
    let n_facts = facts.len();
    let n_items = items.len();
    Ok(Recalled {
        memories: memories
            .into_iter()
            .enumerate()
            .map(|(i, m)| (m, injected(offset + n_facts + n_items + i)))
            .collect(),
        own_summary: own_summary.filter(|_| injected(team.len())),
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

/// The best candidates that pass the floor and were not given before, as many as the budget
/// could hold, read in one go, each with its session's agent.
async fn best_items(
    store: &Store,
    candidates: &crate::recall::Candidates,
    given: &HashSet<String>,
    scope: Scope<'_>,
    budget: usize,
    now: DateTime<Utc>,
) -> crate::store::Result<Vec<(Item, Score)>> {
    let limit = (budget.min(HARD_CEILING) / 400).clamp(6, MAX_ITEMS);
    let mut chosen: Vec<(ItemKey, Score)> = Vec::new();
    for (key, score) in rank(candidates, now) {
        if chosen.len() == limit {
            break;
        }
        let weak = !scope.own_session && score.text + score.files < MIN_RELEVANCE;
        if !weak && !given.contains(&key.id()) {
            chosen.push((key, score));
        }
    }
    let keys: Vec<ItemKey> = chosen.iter().map(|(k, _)| k.clone()).collect();
    let mut scores: std::collections::BTreeMap<ItemKey, Score> = chosen.into_iter().collect();
    let items: Vec<(Item, Score)> = store
        .recall_items(&keys)
        .await?
        .into_iter()
        .filter_map(|item| scores.remove(&item.key).map(|s| (item, s)))
        .collect();
    Ok(collapse(items))
}

/// The "now" lines (now.rs) for `session` of `project`, in a database a pull stored rows in:
/// nothing further to read when no other machine wrote a row of it lately.
async fn team_now(
    store: &Store,
    query: &Query,
    project: &str,
    session: &str,
    now: DateTime<Utc>,
) -> crate::store::Result<Vec<String>> {
    use crate::now::{Mine, TASK_MINUTES, WINDOW_MINUTES, lines};
    let since = |minutes| crate::time::Time::at(now - chrono::TimeDelta::minutes(minutes));
    let edits = store
        .team_edits(project, &since(WINDOW_MINUTES), 200)
        .await?;
    let tasks = store.team_tasks(project, &since(TASK_MINUTES), 20).await?;
    if edits.is_empty() && tasks.is_empty() {
        return Ok(Vec::new());
    }
    let edited = store.session_files(session).await?;
    let mine = |file: &str| {
        if query.mentions_file(file) {
            Some(Mine::Named)
        } else {
            edited.iter().any(|f| f == file).then_some(Mine::Edited)
        }
    };
    Ok(lines(&edits, &tasks, &mine, now))
}
