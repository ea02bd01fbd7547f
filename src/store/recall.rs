//! The reads behind recall: candidate items from the full-text indexes and the file index,
//! and the details of the items chosen. Every query is bounded by an index (project, session,
//! basename, or an FTS5 MATCH) and a LIMIT (enough to rank, few enough to stay in
//! milliseconds); none scans a base table, which a test checks with EXPLAIN QUERY PLAN.
//!
//! A recall is a handful of statements whatever the task: the words of the task are counted
//! in one statement, the files it names looked up in one, the chosen items' details read in
//! two. Each statement costs its preparation, and a hook call has only milliseconds.

use super::{Result, Store};
use crate::recall::{Candidates, Evidence, Fact, Item, ItemKey, Query, Scope};
use libsql::{Value, named_params};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

/// An FTS5 expression matching any of `terms`: each quoted, so that `-`, `:`, `NEAR`, `*`
/// and quotes in the task text are words, never syntax.
pub fn any_of<S: AsRef<str>>(terms: &[S]) -> String {
    let quoted: Vec<String> = terms
        .iter()
        .map(|t| format!("\"{}\"", t.as_ref().replace('"', "\"\"")))
        .collect();
    quoted.join(" OR ")
}

/// A resumed or compacted session's own work, newest first.
const OWN_TASKS: &str = "SELECT session_id, task_ref, created_at FROM task_log
     WHERE session_id = :session ORDER BY id DESC LIMIT 200";
const OWN_EDITS: &str = "SELECT session_id, task_ref, created_at FROM edit_history
     WHERE session_id = :session ORDER BY id DESC LIMIT 200";
/// The items whose prompts match best, each with its best (lowest) bm25: the best 60 rows of
/// the project, more than a budget of items needs. Sorted by `score`, not FTS5's `rank`:
/// `ORDER BY rank` has FTS5 score every row holding a word, in every project, in a statement
/// of its own, and the score is then computed again for the rows kept; sorted by `score`,
/// only the project's rows are scored, once each (a third less work per statement).
const MATCHING_TASKS: &str = "SELECT session_id, task_ref, max(created_at) AS created_at,
         min(score) AS score FROM (
         SELECT t.session_id, t.task_ref, t.created_at, bm25(task_fts) AS score
         FROM task_fts JOIN task_log t ON t.rowid = task_fts.rowid
         WHERE task_fts MATCH :words AND t.project = :project AND t.session_id <> :session
         ORDER BY score LIMIT 60)
     GROUP BY session_id, task_ref";
/// The same over edits. Paths weigh three times the diff: naming a file is a strong signal
/// (in the sort too: `rank` weighed both alike).
const MATCHING_EDITS: &str = "SELECT session_id, task_ref, max(created_at) AS created_at,
         min(score) AS score FROM (
         SELECT e.session_id, e.task_ref, e.created_at, bm25(edit_fts, 3.0, 1.0) AS score
         FROM edit_fts JOIN edit_history e ON e.rowid = edit_fts.rowid
         WHERE edit_fts MATCH :words AND e.project = :project AND e.session_id <> :session
         ORDER BY score LIMIT 60)
     GROUP BY session_id, task_ref";
/// Items given to the session since its last compaction.
const GIVEN: &str = "SELECT item FROM recall_log
     WHERE session_id = :session AND given_at >= coalesce(
         (SELECT recall_since FROM session_summaries WHERE session_id = :session), '')";

/// A word in this many rows or more is common: ranking by bm25 reads every row holding a
/// query word, about a microsecond each, so only rare words are ranked, which keeps a recall
/// at a few milliseconds whatever the size of the history. A common word is no evidence
/// either: it shares little with any one item.
const COMMON: i64 = 200;
/// Rows ranked per query at most, over all its rare words.
const RANK_BUDGET: i64 = 600;

/// One statement counting, for each word and each index, the rows holding it (up to
/// `COMMON`: an index walk of at most that many entries), and how many rows each index holds
/// (its largest rowid: near enough, and read off the index). Rows: [`WordCount`], word 0
/// for the size; word `w` is the `w`th of `:words`, a JSON array of FTS5 expressions. One
/// correlated subquery per index, whatever the number of words: a subquery per word and
/// index cost more to prepare than to run.
const WORD_COUNTS: &str = "WITH words(word, w) AS (SELECT key + 1, value FROM json_each(:words))
     SELECT 0 AS idx, 0 AS word, coalesce(max(rowid), 0) AS n FROM task_log
     UNION ALL SELECT 1, 0, coalesce(max(rowid), 0) FROM edit_history
     UNION ALL SELECT 0, word, (SELECT count(*) FROM (SELECT rowid FROM task_fts
         WHERE task_fts MATCH w LIMIT :common)) FROM words
     UNION ALL SELECT 1, word, (SELECT count(*) FROM (SELECT rowid FROM edit_fts
         WHERE edit_fts MATCH w LIMIT :common)) FROM words";

#[derive(Deserialize)]
struct WordCount {
    /// 0: prompts, 1: edits.
    idx: usize,
    word: usize,
    n: i64,
}

/// One statement finding the items that edited the files the task names, with the boost of
/// each mention's best match: the path itself (1.0: `:path{i}` is a suffix of the path, or
/// the project-relative path), its basename (0.7, newest edits first), or its stem (0.5:
/// `auth` finds `auth.rs` and `auth.ts`, a range on the same index). Rows: [`Mentioned`].
fn named_files_sql(files: usize) -> String {
    let parts: Vec<String> = (0..files)
        .map(|i| {
            format!(
                "SELECT * FROM (SELECT {i} AS mention, session_id, task_ref, created_at,
                        CASE WHEN :path{i} <> '' AND (rel_path = :path{i}
                                  OR substr(file, -length(:path{i})) = :path{i})
                             THEN 1.0 ELSE 0.7 END AS boost
                 FROM edit_history
                 WHERE project = :project AND basename = :name{i} AND session_id <> :session
                 ORDER BY created_at DESC LIMIT 100)
                 UNION ALL
                 SELECT * FROM (SELECT {i}, session_id, task_ref, created_at, 0.5
                 FROM edit_history
                 WHERE project = :project AND basename >= :lo{i} AND basename < :hi{i}
                   AND basename <> :name{i} AND session_id <> :session
                 ORDER BY created_at DESC LIMIT 100)"
            )
        })
        .collect();
    format!(
        "SELECT mention, session_id, task_ref, max(created_at) AS created_at, max(boost) AS boost
         FROM ({}) GROUP BY 1, 2, 3",
        parts.join(" UNION ALL ")
    )
}

/// The chosen items as a table to join on: `:keys` is a JSON array of `[session_id,
/// task_ref]` pairs, numbered `k` from 0. One parameter whatever their number: the statement's
/// text, and so its preparation, stays the same (a VALUES list of two parameters per item
/// cost half as much again to prepare).
const CHOSEN: &str =
    "WITH chosen(k, s, r) AS (SELECT key, value ->> 0, value ->> 1 FROM json_each(:keys))";

/// Each chosen item's prompt (its group's first, but a subagent launch's), and its session's
/// agent. Rows: [`ItemTask`].
const ITEM_TASKS: &str = "SELECT k, t.task AS task, t.created_at AS created_at,
            (SELECT agent FROM session_summaries WHERE session_id = s) AS agent
     FROM chosen LEFT JOIN task_log t ON t.rowid = (SELECT rowid FROM task_log
         WHERE session_id = s AND task_ref IS r AND source_event <> 'PreToolUse'
         ORDER BY id LIMIT 1)";

/// Each chosen item's edits per file, most churn first. Rows: [`ItemFile`].
const ITEM_FILES: &str = "SELECT k, coalesce(e.rel_path, e.file) AS file,
            CAST(total(e.lines_added) AS INTEGER) AS lines_added,
            CAST(total(e.lines_removed) AS INTEGER) AS lines_removed,
            max(e.created_at) AS newest
     FROM chosen JOIN edit_history e ON e.session_id = s AND e.task_ref IS r
     GROUP BY k, 2 ORDER BY k, total(e.lines_added) + total(e.lines_removed) DESC, 2";

/// What knowledge_base knows about the files of these basenames (`:b0`, `:b1`, ...), the
/// most edited first.
fn facts_sql(basenames: usize) -> String {
    let list: Vec<String> = (0..basenames).map(|i| format!(":b{i}")).collect();
    format!(
        "SELECT file, sessions, edits, lines_added, lines_removed, last_edited_at, co_edited,
                task_words
         FROM knowledge_base WHERE project = :project AND basename IN ({})
         ORDER BY sessions DESC, file LIMIT 6",
        list.join(", ")
    )
}

/// Values for the parameters of a statement made for the task.
type Values = Vec<(String, Value)>;

fn named(name: impl Into<String>, value: impl Into<Value>) -> (String, Value) {
    (name.into(), value.into())
}

/// A row of an item's work: a prompt or an edit.
#[derive(Deserialize)]
struct Hit {
    session_id: String,
    task_ref: Option<String>,
    created_at: String,
}

/// A row matching the task's words, with its best bm25.
#[derive(Deserialize)]
struct Ranked {
    session_id: String,
    task_ref: Option<String>,
    created_at: String,
    score: f64,
}

/// An edit of a file the task names.
#[derive(Deserialize)]
struct Mentioned {
    mention: usize,
    session_id: String,
    task_ref: Option<String>,
    created_at: String,
    boost: f64,
}

#[derive(Deserialize)]
struct ItemTask {
    k: usize,
    task: Option<String>,
    created_at: Option<String>,
    agent: Option<String>,
}

#[derive(Deserialize)]
struct ItemFile {
    k: usize,
    file: String,
    lines_added: i64,
    lines_removed: i64,
    newest: String,
}

#[derive(Deserialize)]
struct FactRow {
    file: String,
    sessions: i64,
    edits: i64,
    lines_added: i64,
    lines_removed: i64,
    last_edited_at: String,
    co_edited: String,
    task_words: String,
}

impl Store {
    /// Evidence for every candidate item, keyed by item.
    pub async fn recall_candidates(&self, q: &Query, scope: Scope<'_>) -> Result<Candidates> {
        let mut found = Candidates::default();
        let session = scope.session_id.unwrap_or("");
        if scope.own_session {
            // A resumed or compacted session: its own work so far, newest first.
            for sql in [OWN_TASKS, OWN_EDITS] {
                let hits: Vec<Hit> = self.typed(sql, named_params! {":session": session}).await?;
                for h in hits {
                    note(&mut found.items, h.session_id, h.task_ref, h.created_at);
                }
            }
            return Ok(found);
        }
        if q.terms.is_empty() {
            return Ok(found);
        }
        let (mut counts, sizes) = self.word_counts(&q.terms).await?;
        // A named file's stem would match that file's path in every edit of it: the file is
        // counted once, by its boost, not again as a word of the edit index.
        let named_stem = |t: &str| q.files.iter().any(|f| f.stem.eq_ignore_ascii_case(t));
        counts[1].retain(|(_, t)| !named_stem(t));
        let split = [rare_words(&counts[0]), rare_words(&counts[1])];
        let unseen = q
            .terms
            .iter()
            .filter(|t| !named_stem(t) && counts.iter().flatten().all(|(_, w)| w != *t))
            .count();
        for (index, matching) in [MATCHING_TASKS, MATCHING_EDITS].into_iter().enumerate() {
            let rare = &split[index];
            // What a row holding every rare word of the task once would score: the scale of
            // this index's bm25 for this task (see `recall::Candidates`). A word that only the
            // other index holds counts too, at the weight of a word no row holds here: a prompt
            // that shares one word of a task whose other words are all in diffs matches a
            // small part of it, not all. A word neither index has ever seen counts against the
            // match too (`UNSEEN_WEIGHT`): a task sharing one chance word ("another", "keep")
            // with an old prompt matches little of it, and that little is noise.
            let absent = idf(0, sizes[index]);
            let elsewhere = split[1 - index]
                .iter()
                .filter(|t| !counts[index].iter().any(|(_, w)| w == *t) && !named_stem(t))
                .count() as f64
                + UNSEEN_WEIGHT * unseen as f64;
            let scale: f64 = counts[index]
                .iter()
                .filter(|(_, t)| rare.contains(t))
                .map(|(n, _)| idf(*n, sizes[index]))
                .sum::<f64>()
                + absent * elsewhere;
            if index == 0 {
                found.task_scale = scale;
            } else {
                found.edit_scale = scale;
            }
            if !rare.is_empty() {
                let values = named_params! {
                    ":words": any_of(rare),
                    ":project": scope.project,
                    ":session": session,
                };
                let ranked: Vec<Ranked> = self.typed(matching, values).await?;
                for r in ranked {
                    let bm25 = r.score;
                    let e = note(&mut found.items, r.session_id, r.task_ref, r.created_at);
                    let slot = if index == 0 {
                        &mut e.task_bm25
                    } else {
                        &mut e.edit_bm25
                    };
                    *slot = Some(slot.map_or(bm25, |b| b.min(bm25)));
                }
            }
        }
        if !q.files.is_empty() {
            let mut values: Values =
                vec![named(":project", scope.project), named(":session", session)];
            for (i, f) in q.files.iter().enumerate() {
                values.push(named(format!(":name{i}"), f.basename.as_str()));
                values.push(named(format!(":lo{i}"), format!("{}.", f.stem)));
                values.push(named(format!(":hi{i}"), format!("{}/", f.stem)));
                let path = if f.has_dir { f.text.as_str() } else { "" };
                values.push(named(format!(":path{i}"), path));
            }
            let rows: Vec<Mentioned> = self.typed(&named_files_sql(q.files.len()), values).await?;
            // A file that many items edited (README.md, Cargo.toml) tells little about which
            // of them the task means: its boost is shared out, the more steeply the more items
            // share it (3 of 8 items keep a seventh of it).
            let mut items_per_mention = vec![0usize; q.files.len()];
            for m in &rows {
                items_per_mention[m.mention] += 1;
            }
            for m in rows {
                let many = items_per_mention[m.mention];
                let share = (FILE_ITEMS as f64 / many.max(1) as f64).min(1.0);
                let boost = m.boost * share * share;
                let e = note(&mut found.items, m.session_id, m.task_ref, m.created_at);
                e.file_boost = e.file_boost.max(boost);
            }
        }
        Ok(found)
    }

    /// For each index (prompts, edits), the words of `terms` that occur in it, with the rows
    /// holding them (counted up to `COMMON`), and the rows the index holds. Words that occur
    /// nowhere are left out here: they match nothing (the scale counts them).
    async fn word_counts<'q>(
        &self,
        terms: &'q [String],
    ) -> Result<([Vec<(i64, &'q str)>; 2], [i64; 2])> {
        let words: Vec<String> = terms.iter().map(|t| any_of(&[t])).collect();
        let words = serde_json::to_string(&words).expect("strings");
        let mut counts: [Vec<(i64, &str)>; 2] = [Vec::new(), Vec::new()];
        let mut sizes = [0i64; 2];
        let rows: Vec<WordCount> = self
            .typed(
                WORD_COUNTS,
                named_params! {":words": words, ":common": COMMON},
            )
            .await?;
        for WordCount {
            idx: index,
            word,
            n,
        } in rows
        {
            match word {
                0 => sizes[index] = n,
                _ if n > 0 => counts[index].push((n, terms[word - 1].as_str())),
                _ => {}
            }
        }
        Ok((counts, sizes))
    }

    /// What the chosen items look like: their prompts and their edits per file, and their
    /// session's agent when it is not Claude Code (a Codex session's work recalled in Claude
    /// Code says it was Codex's; a pulled session's agent is a teammate's word, and any text
    /// this build does not know is no agent). An item with neither prompt nor edits (nothing
    /// of it left) is left out.
    pub async fn recall_items(&self, keys: &[ItemKey]) -> Result<Vec<Item>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let pairs: Vec<(&str, Option<&str>)> = keys
            .iter()
            .map(|k| (k.session_id.as_str(), k.task_ref.as_deref()))
            .collect();
        let pairs = serde_json::to_string(&pairs).expect("strings");
        let tasks: Vec<ItemTask> = self
            .typed(
                &format!("{CHOSEN} {ITEM_TASKS}"),
                named_params! {":keys": pairs.as_str()},
            )
            .await?;
        let files: Vec<ItemFile> = self
            .typed(
                &format!("{CHOSEN} {ITEM_FILES}"),
                named_params! {":keys": pairs.as_str()},
            )
            .await?;
        let mut items: Vec<Item> = keys
            .iter()
            .map(|k| Item {
                key: k.clone(),
                when: String::new(),
                task: None,
                files: Vec::new(),
                also: Vec::new(),
                agent: None,
            })
            .collect();
        for t in tasks {
            let item = &mut items[t.k];
            item.task = t.task;
            item.when = t.created_at.unwrap_or_default();
            item.agent = t
                .agent
                .as_deref()
                .and_then(crate::event::Agent::parse)
                .filter(|a| *a != crate::event::Agent::ClaudeCode);
        }
        for f in files {
            let item = &mut items[f.k];
            if item.task.is_none() && f.newest > item.when {
                item.when = f.newest;
            }
            item.files.push((f.file, f.lines_added, f.lines_removed));
        }
        items.retain(|i| !i.when.is_empty());
        Ok(items)
    }

    /// Items this session has already been given.
    pub async fn recall_given(&self, session_id: &str) -> Result<HashSet<String>> {
        let given: Vec<String> = self
            .column(GIVEN, named_params! {":session": session_id}, "item")
            .await?;
        Ok(given.into_iter().collect())
    }

    /// What knowledge_base knows about the files of these basenames in a project, the most
    /// edited first.
    pub async fn knowledge_for(&self, project: &str, basenames: &[&str]) -> Result<Vec<Fact>> {
        if basenames.is_empty() {
            return Ok(Vec::new());
        }
        let mut values: Values = vec![named(":project", project)];
        values.extend(
            (0..)
                .zip(basenames)
                .map(|(i, b)| named(format!(":b{i}"), *b)),
        );
        let rows: Vec<FactRow> = self.typed(&facts_sql(basenames.len()), values).await?;
        Ok(rows
            .into_iter()
            .map(|r| Fact {
                file: r.file,
                sessions: r.sessions,
                edits: r.edits,
                lines_added: r.lines_added,
                lines_removed: r.lines_removed,
                last_edited_at: r.last_edited_at,
                co_edited: serde_json::from_str(&r.co_edited).unwrap_or_default(),
                task_words: serde_json::from_str(&r.task_words).unwrap_or_default(),
            })
            .collect())
    }
}

/// The inverse document frequency FTS5's bm25 gives a word in `n` of `total` rows.
fn idf(n: i64, total: i64) -> f64 {
    let (n, total) = (n as f64, total.max(n) as f64);
    ((total - n + 0.5) / (n + 0.5)).ln().max(1e-6)
}

/// What a word of the task that no row holds weighs in the scale, as a share of a word absent
/// from one index only: less than a whole one, as it may be a form or a spelling the index
/// holds otherwise. On the evaluation set (README), 0.75 with `MIN_RELEVANCE` 0.3 keeps recall
/// and silences off-topic tasks that share one chance word (6 of 10 were given context at 0).
const UNSEEN_WEIGHT: f64 = 0.75;

/// A named file edited by this many items keeps its whole boost; by more, a share of it.
const FILE_ITEMS: usize = 3;

/// The rare words of an index: rarest first, as many as `RANK_BUDGET` rows allow.
fn rare_words<'q>(counted: &[(i64, &'q str)]) -> Vec<&'q str> {
    let mut counted = counted.to_vec();
    counted.sort_by_key(|(n, _)| *n);
    let mut ranked = 0;
    let mut rare = Vec::new();
    for (n, t) in counted {
        if n < COMMON && ranked + n <= RANK_BUDGET {
            ranked += n;
            rare.push(t);
        }
    }
    rare
}

/// The evidence of the item a row of its work belongs to, its newest time brought up to
/// date.
fn note(
    found: &mut BTreeMap<ItemKey, Evidence>,
    session_id: String,
    task_ref: Option<String>,
    when: String,
) -> &mut Evidence {
    let e = found
        .entry(ItemKey {
            session_id,
            task_ref,
        })
        .or_default();
    if when > e.newest {
        e.newest = when;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fts_syntax_in_a_word_is_quoted() {
        assert_eq!(any_of(&["say\"hi", "x"]), r#""say""hi" OR "x""#);
    }

    /// The plan of every recall query uses an index or the full-text index: a `SCAN` of a base
    /// table would grow with the history. The statements made for a task are checked as made
    /// for two files and two facts.
    #[test]
    fn no_recall_query_scans_a_base_table() {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = Store::open(&dir.path().join("t.db"), std::time::Duration::from_secs(1))
                .await
                .unwrap();
            let queries = [
                OWN_TASKS.to_owned(),
                OWN_EDITS.to_owned(),
                MATCHING_TASKS.to_owned(),
                MATCHING_EDITS.to_owned(),
                GIVEN.to_owned(),
                WORD_COUNTS.to_owned(),
                named_files_sql(2),
                format!("{CHOSEN} {ITEM_TASKS}"),
                format!("{CHOSEN} {ITEM_FILES}"),
                facts_sql(2),
                crate::store::presence::PRESENCE.to_owned(),
            ];
            for sql in &queries {
                // A value for each parameter, whatever its name.
                let explain = format!("EXPLAIN QUERY PLAN {sql}");
                let stmt = store.conn.prepare(&explain).await.unwrap();
                let values: Values = (1..=stmt.parameter_count() as i32)
                    .filter_map(|i| stmt.parameter_name(i))
                    .map(|n| named(n, "x"))
                    .collect();
                let steps: Vec<String> = store.column(&explain, values, "detail").await.unwrap();
                for step in &steps {
                    // A SCAN of a table, even through an index, reads the whole table or
                    // project (scanning a subquery's few rows, the chosen items, the FTS
                    // index, or sync_state's few cursors, is fine).
                    let scans_base = step.starts_with("SCAN")
                        && !step.starts_with("SCAN sync_state")
                        && !step.contains("VIRTUAL TABLE")
                        && !step.starts_with("SCAN (")
                        && !step.starts_with("SCAN chosen")
                        && !step.ends_with("CONSTANT ROWS")
                        && step != "SCAN CONSTANT ROW";
                    assert!(!scans_base, "{sql}\n{steps:#?}");
                }
            }
        });
    }
}
